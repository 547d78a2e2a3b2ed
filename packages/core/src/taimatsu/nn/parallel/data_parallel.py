"""DataParallel: torch's single-process multi-GPU wrapper, here on at most one device.

Without an accelerator it is PyTorch's plain pass-through (device_ids ignored and
emptied). With CUDA it runs the module on device_ids[0], moving the inputs there first.
taimatsu runs one device per process; for several devices (or CPU processes) use
DistributedDataParallel. The model is the submodule `module`, so state_dict keys start
with `module.` as in PyTorch's checkpoints.
"""

from __future__ import annotations

from itertools import chain

from ... import cuda
from ..._device import device as _device
from ..modules.module import Module

__all__ = ["DataParallel", "data_parallel"]

_ONE_DEVICE = ("taimatsu's {} runs on one device; for several use "
               "DistributedDataParallel with one process per device")


def _cuda_index(d) -> int:
    if isinstance(d, int):
        return d
    d = _device(d)
    return d.index if d.index is not None else cuda.current_device()


def _move(obj, dev):
    """Tensors inside `obj` (nested tuples, lists, dicts) moved to `dev`; the scatter step."""
    from ..._tensor import Tensor
    if isinstance(obj, Tensor):
        return obj.to(dev)
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):  # namedtuple
        return type(obj)(*(_move(o, dev) for o in obj))
    if isinstance(obj, (tuple, list)):
        return type(obj)(_move(o, dev) for o in obj)
    if isinstance(obj, dict):
        return type(obj)((k, _move(v, dev)) for k, v in obj.items())
    return obj


def _check_placement(module: Module, dev) -> None:
    for t in chain(module.parameters(), module.buffers()):
        if t.device != dev:
            raise RuntimeError("module must have its parameters and buffers on device "
                               f"{dev} (device_ids[0]) but found one of them on device: "
                               f"{t.device}")


def _device_ids(device_ids, name: str) -> list[int]:
    ids = [cuda.current_device()] if device_ids is None else [_cuda_index(d) for d in device_ids]
    if len(ids) > 1:
        raise ValueError(_ONE_DEVICE.format(name))
    return ids


class DataParallel(Module):
    """Runs `module` on device_ids[0] (a pass-through without an accelerator).

    Args:
        module: the model
        device_ids: the CUDA device to use (at most one); default the current device
        output_device: recorded (with one device the output stays where it was computed,
            as in PyTorch)
        dim: recorded (a single device needs no split along it)
    """

    def __init__(self, module: Module, device_ids=None, output_device=None,
                 dim: int = 0) -> None:
        super().__init__()
        self.module = module
        if not cuda.is_available():
            self.device_ids = []
            return
        self.device_ids = _device_ids(device_ids, "DataParallel")
        self.output_device = _cuda_index(output_device if output_device is not None
                                         else self.device_ids[0])
        self.dim = dim
        self.src_device_obj = _device("cuda", self.device_ids[0])

    def forward(self, *inputs, **kwargs):
        from ...profiler import record_function
        with record_function("DataParallel.forward"):
            if not self.device_ids:
                return self.module(*inputs, **kwargs)
            _check_placement(self.module, self.src_device_obj)
            inputs, kwargs = _move(inputs, self.src_device_obj), _move(kwargs, self.src_device_obj)
            return self.module(*inputs, **kwargs)


def data_parallel(module: Module, inputs, device_ids=None, output_device=None, dim: int = 0,
                  module_kwargs=None):
    """The functional DataParallel: `module(*inputs, **module_kwargs)` on device_ids[0].

    Without an accelerator the module simply runs where it is (PyTorch raises
    "device type could not be determined" there instead).
    """
    if not isinstance(inputs, tuple):
        inputs = (inputs,) if inputs is not None else ()
    if not cuda.is_available():
        return module(*inputs, **(module_kwargs or {}))
    ids = _device_ids(device_ids, "data_parallel")
    dev = _device("cuda", ids[0])
    _check_placement(module, dev)
    return module(*_move(inputs, dev), **_move(module_kwargs or {}, dev))
