"""The array backends: NumPy on the CPU, CuPy on NVIDIA GPUs.

Operations never branch on the device themselves: they ask `of(array)` for the array
module that owns their inputs and call it, so one definition serves both devices.
"""

from __future__ import annotations

import numpy as np

from ._memory import keep_freed_memory

MALLOC_TUNED = keep_freed_memory()

_cupy = None
_cupy_error: str | None = None


def cupy():
    """The cupy module, or raise a RuntimeError naming what is missing."""
    global _cupy, _cupy_error
    if _cupy is not None:
        return _cupy
    if _cupy_error is None:
        try:
            import cupy as cp
            if cp.cuda.runtime.getDeviceCount() < 1:
                raise RuntimeError("no CUDA GPU is visible")
            _cupy = cp
            from .. import _runtime
            _runtime.apply_cuda_matmul_precision()
            return cp
        except ImportError:
            _cupy_error = ("CuPy is not installed; install it with "
                           "`pip install \"taimatsu[cuda]\"` (cupy-cuda12x)")
        except Exception as exc:  # CUDA driver/runtime missing, no device...
            _cupy_error = f"CUDA is not usable: {exc}"
    raise RuntimeError(f"Torch not compiled with CUDA enabled: {_cupy_error}")


def cuda_available() -> bool:
    try:
        cupy()
        return True
    except RuntimeError:
        return False


def of(array):
    """The array module (numpy or cupy) that owns `array`."""
    if type(array) is np.ndarray or isinstance(array, np.generic):
        return np
    if _cupy is not None and isinstance(array, _cupy.ndarray):
        return _cupy
    return np


def is_cuda_array(array) -> bool:
    return _cupy is not None and isinstance(array, _cupy.ndarray)


def to_numpy(array) -> np.ndarray:
    """A host copy of a cupy array; numpy arrays pass through."""
    if type(array) is np.ndarray:
        return array
    if is_cuda_array(array):
        return array.get()
    return np.asarray(array)
