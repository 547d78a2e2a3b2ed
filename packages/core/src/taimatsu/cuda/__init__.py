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


def is_initialized() -> bool:
    """Whether CUDA has been set up in this process (CuPy imported with a usable GPU)."""
    return backend._cupy is not None


def init() -> None:
    """Initializes CUDA now rather than on first use; raises when it is not usable."""
    _cp()


class OutOfMemoryError(RuntimeError):
    """Raised when the GPU has no memory left for an allocation."""


def _cp():
    """cupy, or PyTorch's error for a CUDA-less setup.

    Without CuPy taimatsu is what PyTorch calls "not compiled with CUDA", which PyTorch
    reports as an AssertionError; with CuPy but no usable GPU the RuntimeError stands.
    """
    try:
        return backend.cupy()
    except RuntimeError as exc:
        import importlib.util
        if importlib.util.find_spec("cupy") is None:
            raise AssertionError(str(exc)) from None
        raise


def current_device() -> int:
    return _cp().cuda.runtime.getDevice()


def set_device(device) -> None:
    """Makes `device` current; a negative index does nothing, as in PyTorch."""
    index = _index(device)
    if index >= 0:
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
    dev = make_device(device)
    if dev.type != "cuda":
        raise ValueError(f"Expected a cuda device, but got: {dev}")
    return dev.index if dev.index is not None else current_device()


def get_device_properties(device=None):
    """The device's properties: name, major, minor, total_memory, multi_processor_count."""
    cp = _cp()
    props = cp.cuda.runtime.getDeviceProperties(
        current_device() if device is None else _index(device))
    name = props["name"].decode() if isinstance(props["name"], bytes) else props["name"]
    return _DeviceProperties(name, props["major"], props["minor"], props["totalGlobalMem"],
                             props["multiProcessorCount"])


class _DeviceProperties:
    __slots__ = ("name", "major", "minor", "total_memory", "multi_processor_count")

    def __init__(self, name, major, minor, total_memory, multi_processor_count):
        self.name, self.major, self.minor = name, major, minor
        self.total_memory, self.multi_processor_count = total_memory, multi_processor_count

    def __repr__(self):
        return (f"_CudaDeviceProperties(name='{self.name}', major={self.major}, "
                f"minor={self.minor}, total_memory={self.total_memory // 2**20}MB, "
                f"multi_processor_count={self.multi_processor_count})")


class device:
    """Context manager making a CUDA device current; None or a negative index do nothing."""

    def __init__(self, device):
        self.idx = -1 if device is None else _index(device)
        self.prev_idx = -1

    def __enter__(self):
        if self.idx >= 0:
            self.prev_idx = current_device()
            if self.prev_idx != self.idx:
                set_device(self.idx)

    def __exit__(self, *exc):
        if self.idx >= 0 and self.prev_idx != self.idx:
            set_device(self.prev_idx)
        return False


class device_of(device):
    """Context manager making the device of tensor `obj` current (no-op for CPU tensors)."""

    def __init__(self, obj):
        super().__init__(obj.get_device() if obj.is_cuda else -1)


def synchronize(device=None) -> None:
    """Waits for every kernel on the device to finish."""
    _cp().cuda.Device(current_device() if device is None else _index(device)).synchronize()
    streams._release_finished()  # memory kept for finished asynchronous copies and streams


# Memory statistics read 0 until CUDA is usable, as PyTorch's do before CUDA starts.

def memory_allocated(device=None) -> int:
    """Bytes held by tensors (CuPy's memory pool, used blocks)."""
    if not is_available():
        return 0
    return _cp().get_default_memory_pool().used_bytes()


def memory_reserved(device=None) -> int:
    """Bytes the caching allocator holds from the driver."""
    if not is_available():
        return 0
    return _cp().get_default_memory_pool().total_bytes()


# Peaks as seen by the queries (CuPy's pool keeps no high-water mark of its own).
_peak = {"allocated": 0, "reserved": 0}


def max_memory_allocated(device=None) -> int:
    _peak["allocated"] = max(_peak["allocated"], memory_allocated(device))
    return _peak["allocated"]


def max_memory_reserved(device=None) -> int:
    _peak["reserved"] = max(_peak["reserved"], memory_reserved(device))
    return _peak["reserved"]


def reset_peak_memory_stats(device=None) -> None:
    _peak["allocated"] = memory_allocated(device)
    _peak["reserved"] = memory_reserved(device)


def memory_stats(device=None) -> dict:
    """The allocator's statistics under PyTorch's key names (empty before CUDA starts)."""
    if not is_available():
        return {}
    return {"allocated_bytes.all.current": memory_allocated(device),
            "allocated_bytes.all.peak": max_memory_allocated(device),
            "reserved_bytes.all.current": memory_reserved(device),
            "reserved_bytes.all.peak": max_memory_reserved(device)}


def mem_get_info(device=None) -> tuple[int, int]:
    """(free, total) bytes of the device's global memory, from the driver."""
    cp = _cp()
    with cp.cuda.Device(current_device() if device is None else _index(device)):
        return cp.cuda.runtime.memGetInfo()


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


def seed() -> None:
    """Seeds the GPUs' generators from OS entropy (no-op without CUDA)."""
    seed_all()


def seed_all() -> None:
    """Seeds every GPU's generator from OS entropy (no-op without CUDA)."""
    import secrets
    manual_seed_all(secrets.randbits(63))


def get_rng_state(device="cuda"):
    """The Philox generator state of one GPU (our kernels' dropout stream), as a uint8
    Tensor of 16 bytes: seed, then offset."""
    from .._tensor import Tensor
    from ..backend.cuda import random as cuda_random
    _cp()
    index = _index(device)
    return Tensor._make(cuda_random.state(current_device() if index < 0 else index).get_state())


def get_rng_state_all() -> list:
    return [get_rng_state(i) for i in range(device_count())]


def set_rng_state(new_state, device="cuda") -> None:
    """Restores a state from get_rng_state; without CUDA it does nothing, as in torch (whose
    call is queued until CUDA starts)."""
    if not is_available():
        return
    from ..backend.cuda import random as cuda_random
    index = _index(device)
    data = getattr(new_state, "_data", new_state)
    cuda_random.state(current_device() if index < 0 else index).set_state(data)


def set_rng_state_all(new_states) -> None:
    for index, new_state in enumerate(new_states):
        set_rng_state(new_state, index)


def is_bf16_supported() -> bool:
    return is_available() and get_device_capability()[0] >= 8


# Streams and events; the module also gives Tensor record_stream, pin_memory and is_pinned.
from . import streams  # noqa: E402
from .streams import (Event, ExternalStream, Stream, StreamContext,  # noqa: E402
                      current_stream, default_stream, set_stream, stream)

# Legacy tensor types (taimatsu.cuda.FloatTensor, ...), as old scripts spell them.
from .._legacy_tensors import cuda_tensor_types as _legacy_types  # noqa: E402

globals().update(_legacy_types)
