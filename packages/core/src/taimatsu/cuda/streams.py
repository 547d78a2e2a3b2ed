"""CUDA streams and events (torch.cuda.Stream/Event) over CuPy's, pinned host memory, and
the asynchronous host<->device copies that `.to(..., non_blocking=True)` makes.

A Stream wraps a `cupy.cuda.Stream`; making it current (`set_stream`, `stream(s)`, `with s:`)
makes it CuPy's current stream, so every CuPy launch and copy, and so every taimatsu op, is
queued on it. Events are created lazily on the device of the first stream that records
them, as in PyTorch.

CuPy's memory pool keeps one free list per stream: a freed block is reused only by later
allocations on the stream that allocated it, which is safe for work on that stream alone.
`Tensor.record_stream(s)` covers the other streams: when the tensor dies, an event is
recorded on `s` and the memory is held until it completes (see `_hold_until_done`).
"""

from __future__ import annotations

import collections
import ctypes
import os
import threading
import weakref

import numpy as np

from .. import backend
from .. import cuda as _cuda
from .._device import device as _device
from .._tensor import Tensor
from ..autograd.node import Function
from ..ops._util import method

__all__ = ["Stream", "ExternalStream", "Event", "StreamContext", "stream", "set_stream",
           "current_stream", "default_stream"]


def _cp():
    return _cuda._cp()


def _device_index(device) -> int:
    """The CUDA device index that `device` names; None or a negative index: the current."""
    if device is None or (isinstance(device, int) and device < 0):
        return _cuda.current_device()
    return _cuda._index(device)


class Stream:
    """A CUDA stream: work queued on it runs in order, independently of other streams.

    Args:
        device (taimatsu.device or int, optional): the device to create the stream on
            (default: the current device; a negative index means the same).
        priority (int, optional): lower numbers run first; values outside the device's
            range are clamped to it by CUDA (default 0).

    Streams are created non-blocking (they do not synchronize with the legacy default
    stream), as PyTorch's are. `with s:` makes `s` the current stream inside the block.
    """

    def __new__(cls, device=None, priority: int = 0):
        from ..backends import cuda as _built
        if not _built.is_built():
            raise RuntimeError("torch.cuda.Stream requires CUDA support")
        cp = _cp()
        index = _device_index(device)
        with cp.cuda.Device(index):
            return cls._wrap(cp.cuda.Stream(non_blocking=True, priority=priority), index)

    @classmethod
    def _wrap(cls, cupy_stream, index: int) -> Stream:
        """A Stream over an existing CuPy stream of device `index` (no new CUDA stream)."""
        self = object.__new__(cls)
        self._stream = cupy_stream
        self.device = _device("cuda", index)
        self._contexts = []
        return self

    @property
    def device_index(self) -> int:
        return self.device.index

    @property
    def cuda_stream(self) -> int:
        """The cudaStream_t handle as an int (0 for the legacy default stream)."""
        return self._stream.ptr

    @property
    def priority(self) -> int:
        return self._stream.priority

    def query(self) -> bool:
        """Whether all work queued on this stream has completed."""
        return self._stream.done

    def synchronize(self) -> None:
        """Waits until all work queued on this stream has completed."""
        self._stream.synchronize()
        _release_finished()

    def wait_event(self, event: Event) -> None:
        """Makes work queued on this stream from now on wait for `event` (returns at once)."""
        event.wait(self)

    def wait_stream(self, stream: Stream) -> None:
        """Makes work queued on this stream from now on wait for the work queued on
        `stream` so far (returns at once)."""
        self.wait_event(stream.record_event())

    def record_event(self, event: Event | None = None) -> Event:
        """Records `event` (a new one if None) on this stream and returns it."""
        if event is None:
            event = Event()
        event.record(self)
        return event

    @property
    def _as_parameter_(self):
        return ctypes.c_void_p(self.cuda_stream)

    def __cuda_stream__(self):
        """The CUDA stream protocol: (version 0, the cudaStream_t handle)."""
        return (0, self.cuda_stream)

    def __enter__(self):
        ctx = StreamContext(self)
        self._contexts.append(ctx)
        ctx.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._contexts.pop().__exit__(*exc)

    def __eq__(self, other) -> bool:
        if isinstance(other, Stream):
            return self.cuda_stream == other.cuda_stream and self.device == other.device
        return False

    def __hash__(self) -> int:
        return hash((self.cuda_stream, self.device))

    def __repr__(self) -> str:
        return (f"<taimatsu.cuda.Stream device={self.device} "
                f"cuda_stream={self.cuda_stream:#x}>")


class _ForeignHandle:
    """A bare cudaStream_t handle offered through the CUDA stream protocol."""

    def __init__(self, ptr: int):
        self.ptr = ptr

    def __cuda_stream__(self):
        return (0, self.ptr)


class ExternalStream(Stream):
    """A stream created outside taimatsu (another library's cudaStream_t, as an int).

    taimatsu neither creates nor destroys it: keep it alive while this object is used.
    `device` is the device it was created on (default: the current device).
    """

    def __new__(cls, stream_ptr: int, device=None):
        from ..backends import cuda as _built
        if not _built.is_built():
            raise RuntimeError("PyTorch was compiled without CUDA support")
        cp = _cp()
        return cls._wrap(cp.cuda.Stream.from_external(_ForeignHandle(int(stream_ptr))),
                         _device_index(device))


def _cupy_default_stream(cp):
    """CuPy's default stream: the legacy one, or the per-thread one when CuPy runs with
    CUPY_CUDA_PER_THREAD_DEFAULT_STREAM=1."""
    if os.environ.get("CUPY_CUDA_PER_THREAD_DEFAULT_STREAM", "0") not in ("", "0"):
        return cp.cuda.Stream.ptds
    return cp.cuda.Stream.null


def current_stream(device=None) -> Stream:
    """The stream that work on `device` (default: the current device) is queued on."""
    cp = _cp()
    index = _device_index(device)
    return Stream._wrap(cp.cuda.get_current_stream(index), index)


def default_stream(device=None) -> Stream:
    """The default stream of `device` (default: the current device)."""
    cp = _cp()
    return Stream._wrap(_cupy_default_stream(cp), _device_index(device))


# CuPy keeps, per thread and device, a stack of streams entered with `with cupy_stream:`;
# leaving one makes the stack's new top current, whatever `cupy_stream.use()` set since.
# CuPy itself enters the current stream that way (ndarray.get of a non-contiguous array), so
# a stream made current by `use()` alone would silently revert to the top of the stack.
# Current streams are therefore pushed onto that stack: each device's entries that taimatsu
# pushed are listed here, as (cupy stream, owner): owner the StreamContext that pushed it, or
# None for `set_stream`, whose entry the next `set_stream` replaces instead of piling up.
_pushed = threading.local()


def _our_entries(index: int) -> list:
    entries = getattr(_pushed, "by_device", None)
    if entries is None:
        entries = _pushed.by_device = {}
    return entries.setdefault(index, [])


def _push(stream: Stream, owner) -> None:
    """Makes `stream` current (its device too) by entering it on CuPy's stack."""
    cp = _cp()
    if cp.cuda.runtime.getDevice() != stream.device_index:
        cp.cuda.runtime.setDevice(stream.device_index)
    ours = _our_entries(stream.device_index)
    if owner is None and ours and ours[-1][1] is None \
            and cp.cuda.get_current_stream() is ours[-1][0]:  # replace the last set_stream
        ours.pop()[0].__exit__(None, None, None)
    stream._stream.__enter__()
    ours.append((stream._stream, owner))


def _pop(index: int, owner) -> None:
    """Leaves the entries pushed on device `index` since (and including) `owner`'s."""
    ours = _our_entries(index)
    if not any(entry_owner is owner for _, entry_owner in ours):
        return
    while True:
        cupy_stream, entry_owner = ours.pop()
        cupy_stream.__exit__(None, None, None)
        if entry_owner is owner:
            return


def _restore(stream: Stream) -> None:
    """Makes `stream` current again on its device (and that device current)."""
    cp = _cp()
    if cp.cuda.runtime.getDevice() != stream.device_index:
        cp.cuda.runtime.setDevice(stream.device_index)
    stream._stream.use()


def set_stream(stream: Stream | None) -> None:
    """Makes `stream` the current stream (and its device the current device); None does
    nothing. Prefer the `stream(s)` context manager, which restores the previous one."""
    if stream is not None:
        _push(stream, None)


class StreamContext:
    """Context manager making `stream` current inside the block and restoring the previous
    current streams (of the current device and of the stream's device) after it.

    A no-op when `stream` is None or CUDA is not available, as in PyTorch.
    """

    def __init__(self, stream: Stream | None):
        self.stream = stream
        self.idx = _cuda.current_device() if stream is not None and _cuda.is_available() \
            else -1
        self.src_prev_stream = None
        self.dst_prev_stream = None

    def __enter__(self):
        cur = self.stream
        if cur is None or self.idx == -1:
            return
        self.src_prev_stream = current_stream()
        if self.src_prev_stream.device != cur.device:
            self.dst_prev_stream = current_stream(cur.device_index)
        _push(cur, self)

    def __exit__(self, *exc) -> None:
        cur = self.stream
        if cur is None or self.idx == -1:
            return
        _pop(cur.device_index, self)
        if self.src_prev_stream.device != cur.device:
            _restore(self.dst_prev_stream)
        _restore(self.src_prev_stream)


def stream(stream: Stream | None) -> StreamContext:
    """`with taimatsu.cuda.stream(s):` queues the block's work on `s` (None: unchanged)."""
    return StreamContext(stream)


class Event:
    """A CUDA event: a marker in a stream to wait for, query, or time.

    Args:
        enable_timing (bool): the event records time, for `elapsed_time` (default False)
        blocking (bool): `synchronize` blocks the thread instead of spinning (default False)
        interprocess (bool): the event can be shared between processes (default False)
        external (bool): accepted for PyTorch's signature; it only matters in CUDA graph
            capture, which taimatsu does not do

    The CUDA event is created when the event is first recorded, on that stream's device;
    before that it counts as complete.
    """

    def __new__(cls, enable_timing: bool = False, blocking: bool = False,
                interprocess: bool = False, external: bool = False):
        from ..backends import cuda as _built
        if not _built.is_built():
            raise RuntimeError("Tried to instantiate dummy base class Event")
        self = object.__new__(cls)
        self.enable_timing, self.blocking, self.interprocess = enable_timing, blocking, \
            interprocess
        self._event = None
        self.device = None
        return self

    @property
    def cuda_event(self) -> int:
        """The cudaEvent_t handle as an int (0 until first recorded)."""
        return 0 if self._event is None else self._event.ptr

    def record(self, stream: Stream | None = None) -> None:
        """Records the event on `stream` (default: the current stream)."""
        if stream is None:
            stream = current_stream()
        cp = _cp()
        with cp.cuda.Device(stream.device_index):
            if self._event is None:
                self._create(cp, stream.device_index)
            if self.device != stream.device:
                raise RuntimeError(f"Event device {self.device.index} does not match "
                                   f"recording stream's device {stream.device_index}.")
            self._event.record(stream._stream)

    def _create(self, cp, index: int) -> None:
        with cp.cuda.Device(index):
            self._event = cp.cuda.Event(block=self.blocking,
                                        disable_timing=not self.enable_timing,
                                        interprocess=self.interprocess)
        self.device = _device("cuda", index)

    def wait(self, stream: Stream | None = None) -> None:
        """Makes work queued on `stream` (default: the current stream) from now on wait for
        this event. Returns at once; does nothing if the event was never recorded."""
        if stream is None:
            stream = current_stream()
        if self._event is not None:
            with _cp().cuda.Device(stream.device_index):
                stream._stream.wait_event(self._event)

    def query(self) -> bool:
        """Whether the work recorded before this event has completed."""
        return self._event is None or self._event.done

    def synchronize(self) -> None:
        """Waits until the work recorded before this event has completed."""
        if self._event is not None:
            self._event.synchronize()
        _release_finished()

    def elapsed_time(self, end_event: Event) -> float:
        """Milliseconds between this event and `end_event` (both recorded and complete)."""
        if not (self.enable_timing and end_event.enable_timing):
            raise ValueError("Both events must be created with argument 'enable_timing=True'.")
        if self._event is None or end_event._event is None:
            raise ValueError("Both events must be recorded before calculating elapsed time.")
        if not (self.query() and end_event.query()):
            raise RuntimeError("Both events must be completed before calculating elapsed "
                               "time.")
        return float(_cp().cuda.get_elapsed_time(self._event, end_event._event))

    def ipc_handle(self) -> bytes:
        """A handle another process opens with `Event.from_ipc_handle` (needs
        interprocess=True); an event never recorded is created on the current device."""
        cp = _cp()
        if self._event is None:
            self._create(cp, _cuda.current_device())
        return cp.cuda.runtime.ipcGetEventHandle(self._event.ptr)

    @classmethod
    def from_ipc_handle(cls, device, handle: bytes) -> Event:
        """The event another process shared with `ipc_handle`, opened on `device`."""
        cp = _cp()
        index = _device_index(device)
        self = cls(interprocess=True)
        with cp.cuda.Device(index):
            event = cp.cuda.Event.__new__(cp.cuda.Event)  # adopts the handle: no new event
            event.ptr = cp.cuda.runtime.ipcOpenEventHandle(handle)
        self._event, self.device = event, _device("cuda", index)
        return self

    @property
    def _as_parameter_(self):
        return ctypes.c_void_p(self.cuda_event)

    def __repr__(self) -> str:
        if self.cuda_event:
            return f"<taimatsu.cuda.Event {self.cuda_event:#x}>"
        return "<taimatsu.cuda.Event uninitialized>"


# -- objects held until the GPU is done with them ------------------------------------------
# (event, object) pairs in the order they were recorded; the object is dropped once its event
# has completed. Checked from the front, so a pair waits for the ones recorded before it.
_pending: collections.deque = collections.deque()
_pending_lock = threading.RLock()  # re-entered when a collection frees a recorded tensor


def _release_finished() -> None:
    with _pending_lock:
        while _pending and _pending[0][0].done:
            _pending.popleft()


def _hold_until_done(cupy_stream, obj) -> None:
    """Keeps `obj` alive until the work queued on `cupy_stream` so far has completed."""
    _release_finished()
    event = cupy_stream.record()
    with _pending_lock:
        _pending.append((event, obj))


# -- Tensor.record_stream --------------------------------------------------------------------
_recorded: dict = {}  # (id(tensor), stream handle, device) -> its weakref.finalize


def _on_free(key, cupy_stream, device_index, array) -> None:
    """The tensor is gone: keep its memory until `cupy_stream` has done what it queued."""
    _recorded.pop(key, None)
    with backend.cupy().cuda.Device(device_index):
        _hold_until_done(cupy_stream, array)


@method()
def record_stream(self: Tensor, stream: Stream) -> None:
    """Marks this CUDA tensor as used by `stream`: when it is freed, its memory is not reused
    until the work queued on `stream` at that time has completed.

    Needed only for tensors used on a stream other than the one they were allocated on:
    CuPy's pool hands a freed block only to later allocations on the allocating stream.
    """
    if not isinstance(stream, Stream):
        raise RuntimeError(f"unknown parameter type: record_stream() expects a "
                           f"taimatsu.cuda.Stream, got {type(stream).__name__}")
    if not backend.is_cuda_array(self._data):
        raise NotImplementedError("Could not run 'aten::record_stream' with arguments from "
                                  f"the '{self.device.type.upper()}' backend.")
    key = (id(self), stream.cuda_stream, stream.device_index)
    done = _recorded.get(key)
    if done is not None and done.alive:
        return
    done = weakref.finalize(self, _on_free, key, stream._stream, stream.device_index,
                            self._data)
    done.atexit = False  # at exit the memory goes with the process
    _recorded[key] = done


# -- pinned host memory ----------------------------------------------------------------------

def _is_pinned_array(array) -> bool:
    """Whether a NumPy array's memory is page-locked (CUDA can DMA it asynchronously)."""
    if type(array) is not np.ndarray or array.size == 0 or not _cuda.is_available():
        return False
    runtime = backend.cupy().cuda.runtime
    attrs = runtime.pointerGetAttributes(array.ctypes.data)
    return attrs.type == runtime.memoryTypeHost


def _empty_pinned(shape, dtype) -> np.ndarray:
    import cupyx
    return cupyx.empty_pinned(shape, dtype=dtype)


class PinMemory(Function):
    """A copy in page-locked host memory; the gradient passes through."""

    @staticmethod
    def forward(ctx, a):
        out = _empty_pinned(a.shape, a.dtype)
        np.copyto(out, a)
        return out

    @staticmethod
    def backward(ctx, grad):
        return grad


@method()
def is_pinned(self: Tensor, device=None) -> bool:
    """Whether this CPU tensor lives in page-locked (pinned) memory."""
    return _is_pinned_array(self._data)


@method()
def pin_memory(self: Tensor, device=None) -> Tensor:
    """This CPU tensor in page-locked memory (itself if it already is there), from which
    `.to("cuda", non_blocking=True)` copies without blocking the host."""
    if not _cuda.is_available():
        raise RuntimeError("Cannot access accelerator device when none is available.")
    if type(self._data) is not np.ndarray:
        raise RuntimeError(f"cannot pin '{self.type()}' only dense CPU tensors can be pinned")
    if _is_pinned_array(self._data):
        return self
    return PinMemory.apply(self)


# -- host <-> device copies ------------------------------------------------------------------

def copy_to_device(array: np.ndarray, index: int | None, non_blocking: bool = False):
    """A host array copied to CUDA device `index` (None: the current device), on that
    device's current stream.

    From pinned memory with `non_blocking`, the copy is only queued and this returns at once
    (CuPy keeps the source alive until the copy is done). Any other copy has completed when
    this returns, so the result is safe to use on every stream, as PyTorch's is.
    """
    cp = backend.cupy()  # the RuntimeError every other CUDA allocation raises without one
    with cp.cuda.Device(index):
        return cp.asarray(array, blocking=not (non_blocking and _is_pinned_array(array)))


def copy_to_host(array, non_blocking: bool = False) -> np.ndarray:
    """A CuPy array copied to host memory. With `non_blocking`, into a new pinned buffer
    with the copy only queued on the current stream: synchronize before reading it."""
    if not non_blocking:
        return backend.to_numpy(array)
    cp = backend.cupy()
    with cp.cuda.Device(array.device.id):
        out = _empty_pinned(array.shape, array.dtype)
        cupy_stream = cp.cuda.get_current_stream()
        array.get(stream=cupy_stream, out=out, blocking=False)
        # freeing `out` before the copy lands would let the pinned pool hand it out again
        _hold_until_done(cupy_stream, out)
    return out
