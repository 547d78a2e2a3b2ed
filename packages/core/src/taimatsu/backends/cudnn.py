"""taimatsu.backends.cudnn: cuDNN availability and the flags scripts set.

taimatsu's CUDA convolutions use CuPy's own kernels; the flags are kept for scripts
and libraries that set and read them (`cudnn.benchmark = True`, `deterministic`).
"""

from __future__ import annotations

import sys

from ._flags import Flag, FlagScope, install_flags

__all__ = ["is_available", "version", "is_acceptable", "flags"]


def _cudnn():
    """cupy's cudnn bindings, or None when CUDA or cuDNN is missing."""
    from .. import backend
    if not backend.cuda_available():
        return None
    try:
        from cupy.cuda import cudnn
    except ImportError:
        return None
    return cudnn


def is_available() -> bool:
    """Whether CUDA is usable and cuDNN's library is loadable."""
    return _cudnn() is not None


def version() -> int | None:
    """cuDNN's version number (e.g. 90100), or None when it is not available."""
    cudnn = _cudnn()
    return None if cudnn is None else int(cudnn.getVersion())


def is_acceptable(tensor) -> bool:
    """Whether cuDNN could run on `tensor` (enabled, CUDA, a floating dtype it supports)."""
    from .. import _dtype as D
    if not _this.enabled or not tensor.is_cuda:
        return False
    return tensor.dtype in (D.float16, D.bfloat16, D.float32, D.float64) and is_available()


def flags(enabled: bool = False, benchmark: bool = False, benchmark_limit: int = 10,
          deterministic: bool = False, allow_tf32: bool = True, fp32_precision: str = "none"):
    """Context manager setting the cuDNN flags for its block and restoring them after."""
    return FlagScope(_this, enabled=enabled, benchmark=benchmark,
                     benchmark_limit=benchmark_limit, deterministic=deterministic,
                     allow_tf32=allow_tf32, fp32_precision=fp32_precision)


class _BenchmarkLimit(Flag):
    # Until a script sets it, PyTorch reports no limit (None) where cuDNN is not available.
    def __get__(self, obj, owner=None):
        value = super().__get__(obj, owner)
        if obj is None or "benchmark_limit" in obj.__dict__.get("_flag_values", {}):
            return value
        return value if is_available() else None


install_flags(
    __name__,
    enabled=Flag(True, "set_enabled_cudnn"),
    benchmark=Flag(False, "set_benchmark_cudnn"),
    benchmark_limit=_BenchmarkLimit(10, "set_benchmark_limit_cudnn", int),
    deterministic=Flag(False, "set_deterministic_cudnn"),
    allow_tf32=Flag(True, "set_allow_tf32_cudnn"),
    fp32_precision=Flag("none", "set_fp32_precision_cudnn", str, ("none", "ieee", "tf32")),
)
_this = sys.modules[__name__]
