"""The per-device spellings torch.cuda.amp.* / torch.cpu.amp.*, deprecated in favour of amp.*.

Each warns (FutureWarning, torch's text) and then behaves as the amp.* form for its
device; taimatsu.cuda.amp and taimatsu.cpu.amp re-export them.
"""

from __future__ import annotations

import functools
import warnings

from .. import _dtype as D
from .autocast_mode import autocast as _autocast
from .autocast_mode import custom_bwd as _custom_bwd
from .autocast_mode import custom_fwd as _custom_fwd
from .grad_scaler import GradScaler as _GradScaler


def _warn(old: str, new: str) -> None:
    warnings.warn(f"`{old}` is deprecated. Please use `{new}` instead.", FutureWarning,
                  stacklevel=3)


class CudaAutocast(_autocast):
    """torch.cuda.amp.autocast(enabled, dtype, cache_enabled): autocast("cuda", ...)."""

    def __init__(self, enabled: bool = True, dtype=D.float16, cache_enabled: bool = True):
        _warn("torch.cuda.amp.autocast(args...)", "torch.amp.autocast('cuda', args...)")
        super().__init__("cuda", enabled=enabled, dtype=dtype, cache_enabled=cache_enabled)


class CpuAutocast(_autocast):
    """torch.cpu.amp.autocast(enabled, dtype, cache_enabled): autocast("cpu", ...)."""

    def __init__(self, enabled: bool = True, dtype=D.bfloat16, cache_enabled: bool = True):
        _warn("torch.cpu.amp.autocast(args...)", "torch.amp.autocast('cpu', args...)")
        super().__init__("cpu", enabled=enabled, dtype=dtype, cache_enabled=cache_enabled)


class _DeviceGradScaler(_GradScaler):
    _device_type = ""

    def __init__(self, init_scale: float = 2.0**16, growth_factor: float = 2.0,
                 backoff_factor: float = 0.5, growth_interval: int = 2000,
                 enabled: bool = True) -> None:
        dev = self._device_type
        _warn(f"torch.{dev}.amp.GradScaler(args...)", f"torch.amp.GradScaler('{dev}', args...)")
        super().__init__(dev, init_scale=init_scale, growth_factor=growth_factor,
                         backoff_factor=backoff_factor, growth_interval=growth_interval,
                         enabled=enabled)


class CudaGradScaler(_DeviceGradScaler):
    """torch.cuda.amp.GradScaler(...): amp.GradScaler("cuda", ...)."""
    _device_type = "cuda"


class CpuGradScaler(_DeviceGradScaler):
    """torch.cpu.amp.GradScaler(...): amp.GradScaler("cpu", ...)."""
    _device_type = "cpu"


for _cls, _name in ((CudaAutocast, "autocast"), (CpuAutocast, "autocast"),
                    (CudaGradScaler, "GradScaler"), (CpuGradScaler, "GradScaler")):
    _cls.__name__ = _cls.__qualname__ = _name
del _cls, _name


def cuda_custom_fwd(fwd=None, *, cast_inputs=None):
    """torch.cuda.amp.custom_fwd: amp.custom_fwd(device_type="cuda")."""
    _warn("torch.cuda.amp.custom_fwd(args...)",
          "torch.amp.custom_fwd(args..., device_type='cuda')")
    return functools.partial(_custom_fwd, device_type="cuda")(fwd=fwd, cast_inputs=cast_inputs)


def cuda_custom_bwd(bwd):
    """torch.cuda.amp.custom_bwd: amp.custom_bwd(device_type="cuda")."""
    _warn("torch.cuda.amp.custom_bwd(args...)",
          "torch.amp.custom_bwd(args..., device_type='cuda')")
    return functools.partial(_custom_bwd, device_type="cuda")(bwd)
