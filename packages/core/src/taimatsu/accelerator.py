"""taimatsu.accelerator: the device-agnostic view of the accelerator (CUDA, when present).

Scripts write `device = taimatsu.accelerator.current_accelerator() if
taimatsu.accelerator.is_available() else "cpu"`. taimatsu's only accelerator is CUDA
through CuPy: with CuPy installed the current accelerator is `device("cuda")` (as a
CUDA build of PyTorch reports it even without a GPU); without CuPy there is none.
"""

from __future__ import annotations

import importlib.util
from contextlib import contextmanager

from . import cuda
from ._device import device as _device

__all__ = ["current_accelerator", "current_device_idx", "current_device_index",
           "device_count", "device_index", "empty_cache", "is_available",
           "max_memory_allocated", "memory_allocated", "memory_reserved",
           "reset_peak_memory_stats", "set_device_idx", "set_device_index", "synchronize"]

_NONE_AVAILABLE = "Cannot access accelerator device when none is available."


def _built() -> bool:
    return importlib.util.find_spec("cupy") is not None


def is_available() -> bool:
    """Whether an accelerator is usable now (a CUDA GPU through CuPy)."""
    return cuda.is_available()


def current_accelerator(check_available: bool = False):
    """`device("cuda")` when taimatsu has CUDA support, else None.

    Args:
        check_available: also require that a device is usable now
    """
    if not _built() or (check_available and not is_available()):
        return None
    return _device("cuda")


def device_count() -> int:
    """How many accelerator devices are usable (0 without one)."""
    return cuda.device_count() if is_available() else 0


def _require() -> None:
    if not is_available():
        raise RuntimeError(_NONE_AVAILABLE)


def _index(device) -> int | None:
    """The CUDA index `device` names (None: the current one); rejects non-accelerators."""
    if device is None:
        return None
    if isinstance(device, int) and not isinstance(device, bool):
        return device
    dev = _device(device)
    if dev.type != "cuda":
        raise RuntimeError("Accelerator expected")
    return dev.index


def current_device_index() -> int:
    """The index of the current accelerator device."""
    _require()
    return cuda.current_device()


current_device_idx = current_device_index


def set_device_index(device, /) -> None:
    """Makes `device` (an index, "cuda:n" or a device) the current accelerator device."""
    index = _index(device)
    _require()
    if index is not None:
        cuda.set_device(index)


set_device_idx = set_device_index


@contextmanager
def device_index(device, /):
    """Makes `device` current inside the block; None leaves the device as it is."""
    if device is None:
        yield
        return
    _require()
    previous = cuda.current_device()
    cuda.set_device(device)
    try:
        yield
    finally:
        cuda.set_device(previous)


def synchronize(device=None, /) -> None:
    """Waits for all work queued on the accelerator device to finish."""
    index = _index(device)
    _require()
    cuda.synchronize(index)


def empty_cache() -> None:
    """Returns unused cached accelerator memory to the driver."""
    _require()
    cuda.empty_cache()


def memory_allocated(device_index=None, /) -> int:
    """Bytes held by tensors on the accelerator device."""
    _require()
    return cuda.memory_allocated(_index(device_index))


def max_memory_allocated(device_index=None, /) -> int:
    """The peak of memory_allocated since the start or the last reset."""
    _require()
    return cuda.max_memory_allocated(_index(device_index))


def memory_reserved(device_index=None, /) -> int:
    """Bytes the caching allocator holds on the accelerator device."""
    _require()
    return cuda.memory_reserved(_index(device_index))


def reset_peak_memory_stats(device_index=None, /) -> None:
    """Starts the peak memory statistics afresh."""
    _require()
    cuda.reset_peak_memory_stats(_index(device_index))
