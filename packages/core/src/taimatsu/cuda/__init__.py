"""taimatsu.cuda: CUDA availability, devices, synchronization and memory statistics.

Everything here goes through CuPy; on a machine without CuPy or without a GPU the
queries answer (False, 0) instead of raising, as torch.cuda does.
"""

from __future__ import annotations

from .. import backend


def is_available() -> bool:
    """True when CuPy imports and at least one CUDA device is visible; never raises."""
    return backend.cuda_available()


def device_count() -> int:
    if not is_available():
        return 0
    return backend.cupy().cuda.runtime.getDeviceCount()


def _cp():
    return backend.cupy()  # raises the clear "CUDA not available" error


def current_device() -> int:
    return _cp().cuda.runtime.getDevice()


def set_device(device) -> None:
    from .._device import device as make_device
    index = device if isinstance(device, int) else make_device(device).index or 0
    _cp().cuda.runtime.setDevice(index)


def get_device_name(device=None) -> str:
    cp = _cp()
    index = current_device() if device is None else _index(device)
    name = cp.cuda.runtime.getDeviceProperties(index)["name"]
    return name.decode() if isinstance(name, bytes) else name


def get_device_capability(device=None) -> tuple[int, int]:
    props = _cp().cuda.runtime.getDeviceProperties(
        current_device() if device is None else _index(device))
    return props["major"], props["minor"]


def _index(device) -> int:
    if isinstance(device, int):
        return device
    from .._device import device as make_device
    return make_device(device).index or 0


def synchronize(device=None) -> None:
    """Waits for every kernel on the device to finish."""
    _cp().cuda.Device(current_device() if device is None else _index(device)).synchronize()


def memory_allocated(device=None) -> int:
    """Bytes held by tensors (CuPy's memory pool, used blocks)."""
    return _cp().get_default_memory_pool().used_bytes()


def memory_reserved(device=None) -> int:
    """Bytes the caching allocator holds from the driver."""
    return _cp().get_default_memory_pool().total_bytes()


_peak = [0]


def max_memory_allocated(device=None) -> int:
    _peak[0] = max(_peak[0], memory_allocated(device))
    return _peak[0]


def reset_peak_memory_stats(device=None) -> None:
    _peak[0] = memory_allocated(device)


def empty_cache() -> None:
    """Returns cached, unused blocks to the driver (no-op without CUDA)."""
    if is_available():
        backend.cupy().get_default_memory_pool().free_all_blocks()


def manual_seed(seed: int) -> None:
    """Seeds every GPU's generator (CuPy's), as manual_seed_all: there is one stream each."""
    manual_seed_all(seed)


def manual_seed_all(seed: int) -> None:
    from ..ops.random import _seed_cuda
    _seed_cuda(int(seed) & (2**64 - 1))


def is_bf16_supported() -> bool:
    return is_available() and get_device_capability()[0] >= 8
