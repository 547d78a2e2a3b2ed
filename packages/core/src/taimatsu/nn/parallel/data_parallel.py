"""DataParallel: torch's single-process multi-GPU wrapper, here a one-device pass-through.

taimatsu runs one device per process; for several devices (or CPU processes) use
DistributedDataParallel. The wrapper keeps torch's interface and checkpoint layout (the
model is the submodule `module`, so state_dict keys start with `module.`).
"""

from __future__ import annotations

from ..modules.module import Module

__all__ = ["DataParallel", "data_parallel"]


class DataParallel(Module):
    """Runs `module` on its own device: forward passes straight through.

    Args:
        module: the model
        device_ids: recorded for compatibility (at most one device is used)
        output_device: recorded for compatibility
        dim: recorded for compatibility (the batch is not split)
    """

    def __init__(self, module: Module, device_ids=None, output_device=None,
                 dim: int = 0) -> None:
        super().__init__()
        if device_ids is not None and len(device_ids) > 1:
            raise ValueError("taimatsu's DataParallel runs on one device; for several use "
                             "DistributedDataParallel with one process per device")
        self.module = module
        self.device_ids = [] if device_ids is None else list(device_ids)
        self.output_device = output_device
        self.dim = dim

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)


def data_parallel(module: Module, inputs, device_ids=None, output_device=None, dim: int = 0,
                  module_kwargs=None):
    """The functional DataParallel: `module(*inputs, **module_kwargs)` on its device."""
    if device_ids is not None and len(device_ids) > 1:
        raise ValueError("taimatsu's data_parallel runs on one device; for several use "
                         "DistributedDataParallel with one process per device")
    if not isinstance(inputs, tuple):
        inputs = (inputs,) if inputs is not None else ()
    return module(*inputs, **(module_kwargs or {}))
