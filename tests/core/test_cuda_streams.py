"""taimatsu.cuda streams, events, pinned memory and non_blocking copies.

Without a GPU the pure-Python logic runs against `FakeCupy`, a small stand-in for the parts
of CuPy that taimatsu.cuda.streams calls (streams, events, devices, pinned pointers, host
copies), installed as the backend's CuPy module; it records what was asked of it. The
`gpu` tests run the same paths on a real device.
"""

from __future__ import annotations

import gc
import itertools
import sys
import types
import weakref

import numpy as np
import pytest

import taimatsu
from taimatsu import backend
from taimatsu.cuda import streams

HAS_GPU = taimatsu.cuda.is_available()
gpu = pytest.mark.skipif(not HAS_GPU, reason="needs a CUDA GPU")
cpu_build = pytest.mark.skipif(taimatsu.backends.cuda.is_built(),
                               reason="checks the build without CuPy")


# -- a fake CuPy ------------------------------------------------------------------------------

class FakeCupy:
    """Streams, events, devices and host copies as CuPy offers them, with a log."""

    def __init__(self, devices: int = 2):
        fake = self
        self.device = 0
        self.current = {}  # device -> current stream
        self.pinned = []  # (start, stop) addresses of pinned host buffers
        self.device_syncs = []
        self.asarray_calls = []  # (blocking, device, current stream)
        self.get_calls = []  # (stream, blocking, out)
        clock = itertools.count(1)
        handles = itertools.count(0x1000)

        class Runtime:
            memoryTypeHost = 1

            @staticmethod
            def getDevice():
                return fake.device

            @staticmethod
            def setDevice(index):
                assert 0 <= index < devices
                fake.device = index

            @staticmethod
            def getDeviceCount():
                return devices

            @staticmethod
            def pointerGetAttributes(ptr):
                pinned = any(start <= ptr < stop for start, stop in fake.pinned)
                return types.SimpleNamespace(type=1 if pinned else 0)

            @staticmethod
            def ipcGetEventHandle(ptr):
                return b"ipc:%d" % ptr

            @staticmethod
            def ipcOpenEventHandle(handle):
                return int(handle[4:]) + 1

        class Device:
            def __init__(self, index=None):
                self.index = fake.device if index is None else index

            def __enter__(self):
                self.prev = fake.device
                Runtime.setDevice(self.index)

            def __exit__(self, *exc):
                fake.device = self.prev

            def synchronize(self):
                fake.device_syncs.append(self.index)

        class Event:
            done_default = False
            ptr = 0
            stream = None

            def __init__(self, block=False, disable_timing=False, interprocess=False):
                self.flags = dict(block=block, disable_timing=disable_timing,
                                  interprocess=interprocess)
                self.ptr = next(handles)
                self.device = fake.device
                self.done = self.done_default
                self.syncs = 0

            def record(self, stream=None):
                assert fake.device == self.device, "cudaEventRecord on another device"
                self.stream = stream if stream is not None else fake.cuda.get_current_stream()
                self.time = next(clock)

            def synchronize(self):
                self.syncs += 1

        class Stream:
            """CuPy's: `with` pushes on a per-device stack and leaving makes the new top
            current, even over a stream made current by `use()` since."""
            null = None
            ptds = None

            def __init__(self, null=False, non_blocking=False, ptds=False, priority=None,
                         *, ptr=None, device_id=None):
                self.ptr = 0 if null else next(handles) if ptr is None else ptr
                self.device_id = -1 if null else fake.device if device_id is None \
                    else device_id
                self.non_blocking, self.priority = non_blocking, priority or 0
                self.done, self.syncs, self.waited = True, 0, []

            @classmethod
            def from_external(cls, obj):
                version, ptr = obj.__cuda_stream__()
                assert version == 0
                return cls(ptr=ptr, device_id=-1)

            def use(self):
                assert self.device_id in (-1, fake.device), "stream of another device"
                fake.current[fake.device] = self
                return self

            def __enter__(self):
                assert self.device_id in (-1, fake.device), "stream of another device"
                fake.stack(fake.device).append(self)
                fake.entered.append(fake.device)
                fake.current[fake.device] = self
                return self

            def __exit__(self, *exc):
                device = fake.entered.pop()
                stack = fake.stack(device)
                stack.pop()
                fake.current[device] = stack[-1]

            def record(self, event=None):
                event = Event() if event is None else event
                event.record(self)
                return event

            def wait_event(self, event):
                self.waited.append(event)

            def synchronize(self):
                self.syncs += 1

        Stream.null = Stream(null=True)

        def get_current_stream(device_id=-1):
            return fake.current.get(fake.device if device_id == -1 else device_id,
                                    Stream.null)

        def get_elapsed_time(start, end):
            return (end.time - start.time) * 0.5

        class ndarray:
            """A device array: a NumPy array tagged with its device."""

            def __init__(self, host, device_id):
                self.host, self.device = host, types.SimpleNamespace(id=device_id)
                self.dtype, self.shape = host.dtype, host.shape

            def astype(self, dtype):
                return ndarray(self.host.astype(dtype), self.device.id)

            def copy(self):
                return ndarray(self.host.copy(), self.device.id)

            def get(self, stream=None, out=None, blocking=True):
                fake.get_calls.append((stream, blocking, out))
                if out is None:
                    return self.host.copy()
                out[...] = self.host
                return out

        def asarray(array, blocking=False):
            fake.asarray_calls.append((blocking, fake.device, get_current_stream()))
            host = array.host if isinstance(array, ndarray) else np.array(array)
            return ndarray(host.copy(), fake.device)

        self.ndarray, self.asarray = ndarray, asarray
        self.stacks, self.entered = {}, []
        self.stack = lambda device: self.stacks.setdefault(device, [Stream.null])
        self.cuda = types.SimpleNamespace(runtime=Runtime, Device=Device, Event=Event,
                                          Stream=Stream, get_current_stream=get_current_stream,
                                          get_elapsed_time=get_elapsed_time)

    def empty_pinned(self, shape, dtype):
        out = np.empty(shape, dtype)
        start = out.ctypes.data
        self.pinned.append((start, start + max(out.nbytes, 1)))
        return out


@pytest.fixture
def fake(monkeypatch):
    """A FakeCupy installed as the backend's CuPy (and cupyx.empty_pinned)."""
    cp = FakeCupy()
    monkeypatch.setattr(backend, "_cupy", cp)
    monkeypatch.setitem(sys.modules, "cupyx", types.SimpleNamespace(empty_pinned=cp.empty_pinned))
    monkeypatch.setattr(taimatsu.backends.cuda, "is_built", lambda: True)
    monkeypatch.setattr(streams, "_pending", type(streams._pending)())
    yield cp


def _on_device(array: np.ndarray, fake: FakeCupy, index: int = 0) -> taimatsu.Tensor:
    return taimatsu.Tensor._make(fake.ndarray(array, index))


# -- streams ----------------------------------------------------------------------------------

def test_stream_is_a_new_non_blocking_cupy_stream_on_its_device(fake):
    s = taimatsu.cuda.Stream(device=1, priority=-2)
    assert s._stream.non_blocking and s._stream.priority == -2 and s.priority == -2
    assert s._stream.device_id == 1 and fake.device == 0  # created on 1, device restored
    assert s.device == taimatsu.device("cuda", 1) and s.device_index == 1
    assert s.cuda_stream == s._stream.ptr and s.__cuda_stream__() == (0, s.cuda_stream)
    assert repr(s) == f"<taimatsu.cuda.Stream device=cuda:1 cuda_stream={s.cuda_stream:#x}>"
    for default in (None, -1, "cuda"):
        assert taimatsu.cuda.Stream(default).device_index == 0
    with pytest.raises(ValueError, match="Expected a cuda device, but got: cpu"):
        taimatsu.cuda.Stream("cpu")


def test_stream_equality_is_handle_and_device(fake):
    s, t = taimatsu.cuda.Stream(), taimatsu.cuda.Stream()
    again = streams.Stream._wrap(s._stream, 0)
    assert s == again and hash(s) == hash(again) and len({s, again, t}) == 2
    assert s != t and s != s._stream and s != "stream"
    assert streams.Stream._wrap(fake.cuda.Stream.null, 0) != \
        streams.Stream._wrap(fake.cuda.Stream.null, 1)


def test_query_and_synchronize_go_to_the_cupy_stream(fake):
    s = taimatsu.cuda.Stream()
    assert s.query() is True
    s._stream.done = False
    assert s.query() is False
    s.synchronize()
    assert s._stream.syncs == 1


def test_default_and_current_stream(fake):
    default = taimatsu.cuda.default_stream()
    assert default.cuda_stream == 0 and default.device_index == 0
    assert repr(default) == "<taimatsu.cuda.Stream device=cuda:0 cuda_stream=0x0>"
    assert taimatsu.cuda.current_stream() == default
    assert taimatsu.cuda.default_stream(1) == taimatsu.cuda.current_stream("cuda:1") != default
    s = taimatsu.cuda.Stream()
    taimatsu.cuda.set_stream(s)
    assert taimatsu.cuda.current_stream() == s and taimatsu.cuda.current_stream(1) != s
    taimatsu.cuda.set_stream(None)  # no-op
    assert taimatsu.cuda.current_stream() == s


def test_per_thread_default_stream(fake, monkeypatch):
    fake.cuda.Stream.ptds = fake.cuda.Stream(ptr=2, device_id=-1)
    monkeypatch.setenv("CUPY_CUDA_PER_THREAD_DEFAULT_STREAM", "1")
    assert taimatsu.cuda.default_stream().cuda_stream == 2


def test_stream_context_makes_the_stream_current_and_restores(fake):
    s, t = taimatsu.cuda.Stream(), taimatsu.cuda.Stream()
    with taimatsu.cuda.stream(s):
        assert taimatsu.cuda.current_stream() == s
        assert fake.cuda.get_current_stream() is s._stream  # CuPy launches go to s
        with taimatsu.cuda.stream(t):
            assert taimatsu.cuda.current_stream() == t
        assert taimatsu.cuda.current_stream() == s
    assert taimatsu.cuda.current_stream() == taimatsu.cuda.default_stream()
    with s:  # a stream is its own context manager, re-entrant
        with s:
            assert taimatsu.cuda.current_stream() == s
        assert taimatsu.cuda.current_stream() == s
    assert taimatsu.cuda.current_stream() == taimatsu.cuda.default_stream()


def test_stream_context_restores_on_error(fake):
    s = taimatsu.cuda.Stream()
    with pytest.raises(KeyError):
        with taimatsu.cuda.stream(s):
            raise KeyError
    assert taimatsu.cuda.current_stream() == taimatsu.cuda.default_stream()


def test_stream_context_on_another_device_switches_and_restores_both(fake):
    other = taimatsu.cuda.Stream(device=1)
    before1 = taimatsu.cuda.Stream(device=1)
    taimatsu.cuda.set_stream(before1)  # device 1's current stream, and device 1 current
    taimatsu.cuda.set_device(0)
    with taimatsu.cuda.stream(other):
        assert taimatsu.cuda.current_device() == 1
        assert taimatsu.cuda.current_stream() == other
    assert taimatsu.cuda.current_device() == 0
    assert taimatsu.cuda.current_stream(0) == taimatsu.cuda.default_stream(0)
    assert taimatsu.cuda.current_stream(1) == before1


def _cupy_enters_the_current_stream(fake):
    """What CuPy's ndarray.get does for a non-contiguous array: `with current_stream:`."""
    with fake.cuda.get_current_stream():
        pass


def test_current_stream_survives_cupy_entering_it(fake):
    s, t = taimatsu.cuda.Stream(), taimatsu.cuda.Stream()
    with taimatsu.cuda.stream(s):
        _cupy_enters_the_current_stream(fake)
        assert taimatsu.cuda.current_stream() == s
    taimatsu.cuda.set_stream(t)
    _cupy_enters_the_current_stream(fake)
    assert taimatsu.cuda.current_stream() == t


def test_set_stream_replaces_its_own_entry(fake):
    s, t = taimatsu.cuda.Stream(), taimatsu.cuda.Stream()
    for _ in range(5):
        taimatsu.cuda.set_stream(s)
        taimatsu.cuda.set_stream(t)
    assert fake.stack(0) == [fake.cuda.Stream.null, t._stream]
    with taimatsu.cuda.stream(s):
        taimatsu.cuda.set_stream(taimatsu.cuda.Stream())  # inside the block: undone at exit
        taimatsu.cuda.set_stream(s)
    assert taimatsu.cuda.current_stream() == t
    assert fake.stack(0) == [fake.cuda.Stream.null, t._stream]


def test_stream_context_of_none_is_a_no_op(fake):
    s = taimatsu.cuda.Stream()
    taimatsu.cuda.set_stream(s)
    with taimatsu.cuda.stream(None) as ctx:
        assert ctx is None and taimatsu.cuda.current_stream() == s
    assert taimatsu.cuda.current_stream() == s


def test_stream_context_without_cuda_is_a_no_op(monkeypatch):
    """As PyTorch's CPU build: entering with any stream object does nothing."""
    monkeypatch.setattr(taimatsu.cuda, "is_available", lambda: False)
    marker = object()
    ctx = taimatsu.cuda.StreamContext(marker)
    assert ctx.idx == -1
    with ctx:
        pass
    assert ctx.src_prev_stream is None


def test_wait_stream_waits_for_an_event_recorded_on_the_other(fake):
    s, t = taimatsu.cuda.Stream(), taimatsu.cuda.Stream()
    s.wait_stream(t)
    (event,) = s._stream.waited
    assert event.stream is t._stream and not t._stream.waited


def test_record_event_and_wait_event(fake):
    s, t = taimatsu.cuda.Stream(), taimatsu.cuda.Stream()
    e = s.record_event()
    assert isinstance(e, taimatsu.cuda.Event) and e._event.stream is s._stream
    mine = taimatsu.cuda.Event()
    assert s.record_event(mine) is mine and mine._event.stream is s._stream
    t.wait_event(mine)
    assert t._stream.waited == [mine._event]


def test_external_stream_wraps_a_foreign_handle(fake):
    s = taimatsu.cuda.ExternalStream(0xABC0, device=1)
    assert s.cuda_stream == 0xABC0 and s.device_index == 1
    assert isinstance(s, taimatsu.cuda.Stream)
    with taimatsu.cuda.stream(s):
        assert fake.cuda.get_current_stream(1) is s._stream


# -- events -----------------------------------------------------------------------------------

def test_event_is_created_when_first_recorded(fake):
    e = taimatsu.cuda.Event(enable_timing=True, blocking=True)
    assert e.cuda_event == 0 and e.device is None
    assert repr(e) == "<taimatsu.cuda.Event uninitialized>"
    assert e.query() is True  # nothing recorded: complete
    e.synchronize()
    s = taimatsu.cuda.Stream(device=1)
    e.wait(s)
    assert s._stream.waited == []  # never recorded: nothing to wait for
    e.record(s)
    assert e._event.flags == dict(block=True, disable_timing=False, interprocess=False)
    assert e._event.device == 1 and e.device == taimatsu.device("cuda", 1)
    assert repr(e) == f"<taimatsu.cuda.Event {e.cuda_event:#x}>" and e.cuda_event
    assert e.query() is False
    e._event.done = True
    assert e.query() is True
    e.synchronize()
    assert e._event.syncs == 1


def test_event_records_and_waits_on_the_current_stream_by_default(fake):
    s = taimatsu.cuda.Stream()
    e = taimatsu.cuda.Event()
    with taimatsu.cuda.stream(s):
        e.record()
        e.wait()
    assert e._event.stream is s._stream and s._stream.waited == [e._event]
    assert e._event.flags["disable_timing"] is True


def test_event_cannot_be_recorded_on_another_device(fake):
    e = taimatsu.cuda.Event()
    e.record(taimatsu.cuda.Stream(device=0))
    with pytest.raises(RuntimeError, match=r"^Event device 0 does not match recording "
                                           r"stream's device 1\.$"):
        e.record(taimatsu.cuda.Stream(device=1))


def test_elapsed_time(fake):
    start, end = taimatsu.cuda.Event(enable_timing=True), taimatsu.cuda.Event(enable_timing=True)
    with pytest.raises(ValueError, match="must be recorded before calculating elapsed time"):
        start.elapsed_time(end)
    s = taimatsu.cuda.Stream()
    start.record(s)
    with pytest.raises(ValueError, match="must be recorded before calculating elapsed time"):
        start.elapsed_time(end)
    end.record(s)
    with pytest.raises(RuntimeError, match="must be completed before calculating elapsed"):
        start.elapsed_time(end)
    start._event.done = end._event.done = True
    ms = start.elapsed_time(end)
    assert type(ms) is float and ms == (end._event.time - start._event.time) * 0.5
    untimed = taimatsu.cuda.Event()
    untimed.record(s)
    for a, b in ((untimed, end), (start, untimed)):
        with pytest.raises(ValueError, match=r"^Both events must be created with argument "
                                             r"'enable_timing=True'\.$"):
            a.elapsed_time(b)


def test_event_ipc_handle_round_trip(fake):
    e = taimatsu.cuda.Event(interprocess=True)
    handle = e.ipc_handle()  # creates the event on the current device without recording
    assert e._event.flags["interprocess"] and e._event.stream is None
    opened = taimatsu.cuda.Event.from_ipc_handle(1, handle)
    assert opened.cuda_event == e.cuda_event + 1 and opened.device.index == 1


def test_event_signature_is_pytorchs(fake):
    with pytest.raises(TypeError, match="unexpected keyword argument 'foo'"):
        taimatsu.cuda.Event(foo=1)
    assert taimatsu.cuda.Event(False, False, False, external=True).query()


# -- pinned memory and non_blocking copies ----------------------------------------------------

def test_pin_memory(fake):
    x = taimatsu.arange(6.0).reshape(2, 3).requires_grad_()
    assert not x.is_pinned()
    p = x.pin_memory()
    assert p.is_pinned() and p is not x and np.array_equal(p.numpy(force=True), x.detach().numpy())
    assert p.pin_memory() is p  # already pinned
    p.sum().backward()  # the copy is differentiable
    assert np.array_equal(x.grad.numpy(), np.ones((2, 3), np.float32))
    assert not taimatsu.zeros(0).is_pinned()
    with pytest.raises(RuntimeError, match=r"^cannot pin 'taimatsu.cuda.FloatTensor' only "
                                           r"dense CPU tensors can be pinned$"):
        _on_device(np.zeros(2, np.float32), fake).pin_memory()


def test_pinned_host_to_device_with_non_blocking_is_queued(fake):
    s = taimatsu.cuda.Stream()
    pinned = taimatsu.arange(4.0).pin_memory()
    with taimatsu.cuda.stream(s):
        out = pinned.to("cuda", non_blocking=True)
    assert fake.asarray_calls == [(False, 0, s._stream)]  # async, on the current stream
    assert out.is_cuda and np.array_equal(out._data.host, np.arange(4.0, dtype=np.float32))
    pinned.cuda(1, non_blocking=True)
    assert fake.asarray_calls[-1][:2] == (False, 1)


@pytest.mark.parametrize("pin, non_blocking", [(False, True), (True, False), (False, False)])
def test_other_host_to_device_copies_complete_before_returning(fake, pin, non_blocking):
    x = taimatsu.arange(4.0)
    if pin:
        x = x.pin_memory()
    out = x.to("cuda", taimatsu.float64, non_blocking)
    assert fake.asarray_calls == [(True, 0, fake.cuda.Stream.null)]
    assert out.dtype == taimatsu.float64 and np.array_equal(out._data.host, np.arange(4.0))


def test_device_to_host_with_non_blocking_lands_in_pinned_memory(fake):
    s = taimatsu.cuda.Stream()
    x = _on_device(np.arange(3, dtype=np.float32), fake)
    with taimatsu.cuda.stream(s):
        out = x.to("cpu", non_blocking=True)
    (stream, blocking, buffer), = fake.get_calls
    assert stream is s._stream and blocking is False and out._data is buffer
    assert out.is_pinned() and out.device.type == "cpu"
    assert np.array_equal(out.numpy(), [0, 1, 2])
    # the pinned buffer stays referenced until the copy's event completes
    (event, held), = streams._pending
    assert held is buffer and event.stream is s._stream
    event.done = True
    streams._release_finished()
    assert not streams._pending


def test_device_to_host_with_non_blocking_casts_on_the_device_first(fake):
    """The host buffer may still be filling when .to returns: no host-side cast of it."""
    x = _on_device(np.arange(3, dtype=np.float32), fake)
    out = x.to("cpu", taimatsu.float64, non_blocking=True)
    (_, _, buffer), = fake.get_calls
    assert out._data is buffer and buffer.dtype == np.float64 and out.is_pinned()
    assert out.tolist() == [0.0, 1.0, 2.0]


def test_synchronize_releases_what_finished_copies_held(fake):
    _on_device(np.arange(3, dtype=np.float32), fake).to("cpu", non_blocking=True)
    taimatsu.cuda.synchronize()
    assert fake.device_syncs == [0] and len(streams._pending) == 1  # event not complete
    streams._pending[0][0].done = True
    taimatsu.cuda.synchronize()
    assert not streams._pending


def test_device_to_host_without_non_blocking_is_a_blocking_copy(fake):
    out = _on_device(np.arange(3, dtype=np.float32), fake).cpu()
    assert fake.get_calls == [(None, True, None)] and not out.is_pinned()
    assert not streams._pending


def test_to_reads_positional_non_blocking_and_copy_as_pytorch():
    x = taimatsu.arange(3.0)
    assert x.to(taimatsu.float32, True) is x  # non_blocking=True, copy=False
    y = x.to(taimatsu.float32, False, True)  # copy=True
    assert y is not x and np.array_equal(y.numpy(), x.numpy())
    assert x.to("cpu", taimatsu.float32, True, True) is not x
    assert x.to(x, True) is x
    with pytest.raises(TypeError, match=r"to\(\) received an invalid combination"):
        x.to(taimatsu.float32, True, True, True)


# -- Tensor.record_stream ---------------------------------------------------------------------

def test_record_stream_keeps_memory_until_the_stream_is_done(fake):
    s = taimatsu.cuda.Stream()
    x = _on_device(np.zeros(4, np.float32), fake)
    memory = weakref.ref(x._data)
    x.record_stream(s)
    x.record_stream(s)  # once per stream
    assert len(streams._recorded) == 1
    del x
    gc.collect()
    (event, held), = streams._pending  # recorded on s when the tensor went away
    assert event.stream is s._stream and held is memory()
    del held
    streams._release_finished()
    assert memory() is not None  # s has not finished yet
    event.done = True
    streams._release_finished()
    gc.collect()
    assert memory() is None and not streams._recorded


def test_record_stream_checks_its_arguments(fake):
    with pytest.raises(RuntimeError, match="^unknown parameter type"):
        _on_device(np.zeros(2, np.float32), fake).record_stream(None)
    with pytest.raises(NotImplementedError, match="^Could not run 'aten::record_stream' with "
                                                  "arguments from the 'CPU' backend"):
        taimatsu.zeros(2).record_stream(taimatsu.cuda.Stream())


# -- without CuPy (as PyTorch's CPU build) ----------------------------------------------------

@cpu_build
def test_without_cupy_streams_and_events_cannot_be_made():
    with pytest.raises(RuntimeError, match=r"^torch.cuda.Stream requires CUDA support$"):
        taimatsu.cuda.Stream()
    with pytest.raises(RuntimeError, match=r"^Tried to instantiate dummy base class Event$"):
        taimatsu.cuda.Event(enable_timing=True)
    with pytest.raises(RuntimeError, match="compiled without CUDA support"):
        taimatsu.cuda.ExternalStream(0, device=0)
    for call in (taimatsu.cuda.current_stream, taimatsu.cuda.default_stream):
        with pytest.raises(AssertionError, match="Torch not compiled with CUDA enabled"):
            call()
    assert taimatsu.cuda.is_available() is False
    assert taimatsu.zeros(2).is_pinned() is False
    with pytest.raises(RuntimeError, match="Cannot access accelerator device when none"):
        taimatsu.zeros(2).pin_memory()
    with pytest.raises(RuntimeError, match="Torch not compiled with CUDA enabled"):
        taimatsu.zeros(2).to("cuda", non_blocking=True)  # as every CUDA allocation does
    assert taimatsu.zeros(2).to("cpu", non_blocking=True) is not None


# -- on a real GPU ----------------------------------------------------------------------------

def _busy(n: int = 1 << 22) -> taimatsu.Tensor:
    """Queues some real work on the current stream and returns its result."""
    x = taimatsu.ones(n, device="cuda")
    for _ in range(20):
        x = x * 1.0001 + 0.0
    return x


@gpu
def test_gpu_stream_and_event_basics():
    import cupy
    s = taimatsu.cuda.Stream(priority=-1)
    assert s.cuda_stream == s._stream.ptr != 0 and s._stream.is_non_blocking
    assert repr(s).startswith("<taimatsu.cuda.Stream device=cuda:0 cuda_stream=0x")
    start, end = taimatsu.cuda.Event(enable_timing=True), taimatsu.cuda.Event(enable_timing=True)
    with taimatsu.cuda.stream(s):
        assert cupy.cuda.get_current_stream().ptr == s.cuda_stream
        start.record()
        y = _busy()
        end.record()
    assert cupy.cuda.get_current_stream().ptr == taimatsu.cuda.default_stream().cuda_stream
    end.synchronize()
    assert start.query() and end.query() and s.query()
    assert start.elapsed_time(end) > 0
    assert float(y[0]) == pytest.approx(1.0001 ** 20, rel=1e-5)


@gpu
def test_gpu_current_stream_survives_copies_of_non_contiguous_arrays():
    """CuPy enters the current stream to copy a non-contiguous array to the host."""
    s, t = taimatsu.cuda.Stream(), taimatsu.cuda.Stream()
    x = taimatsu.arange(12.0, device="cuda").reshape(3, 4)
    expected = x.cpu().T.tolist()  # a blocking copy: x is complete for every stream now
    with taimatsu.cuda.stream(s):
        assert x.T.cpu().tolist() == expected
        assert taimatsu.cuda.current_stream() == s
    assert taimatsu.cuda.current_stream() == taimatsu.cuda.default_stream()
    taimatsu.cuda.set_stream(t)
    try:
        x.T.cpu()
        assert taimatsu.cuda.current_stream() == t
    finally:
        taimatsu.cuda.set_stream(taimatsu.cuda.default_stream())
    t.synchronize()


@gpu
def test_gpu_wait_stream_orders_work_across_streams():
    side = taimatsu.cuda.Stream()
    main = taimatsu.cuda.current_stream()
    with taimatsu.cuda.stream(side):
        x = _busy()
    main.wait_stream(side)
    x.record_stream(main)
    total = float(x.sum())  # on main, after side's work
    assert total == pytest.approx(x.numel() * 1.0001 ** 20, rel=1e-4)


@gpu
def test_gpu_non_blocking_round_trip_through_pinned_memory():
    host = taimatsu.randn(1 << 16).pin_memory()
    assert host.is_pinned()
    s = taimatsu.cuda.Stream()
    with taimatsu.cuda.stream(s):
        dev = host.to("cuda", non_blocking=True)
        back = (dev * 2).to("cpu", non_blocking=True)
        half = dev.to("cpu", taimatsu.float16, non_blocking=True)
    s.synchronize()
    assert back.is_pinned() and half.is_pinned() and half.dtype == taimatsu.float16
    np.testing.assert_array_equal(back.numpy(), host.numpy() * 2)
    np.testing.assert_array_equal(half.numpy(), host.numpy().astype(np.float16))
    pageable = taimatsu.randn(8)
    np.testing.assert_array_equal(pageable.to("cuda", non_blocking=True).cpu().numpy(),
                                  pageable.numpy())


@gpu
def test_gpu_record_stream_holds_memory_until_done():
    side = taimatsu.cuda.Stream()
    x = taimatsu.ones(1 << 20, device="cuda")
    side.wait_stream(taimatsu.cuda.current_stream())
    with taimatsu.cuda.stream(side):
        x.mul_(2)
    x.record_stream(side)
    del x
    gc.collect()
    assert len(streams._pending) >= 1
    side.synchronize()
    assert not streams._pending
