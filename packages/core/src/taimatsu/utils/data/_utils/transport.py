"""The pipe that carries batches from one worker to the main process.

A multiprocessing.Queue would pickle every array into a bytes object (one copy), push
it through the pipe, gather the chunks into another bytes object (two more) and
unpickle it into a new array (and a Tensor rebuilt from pickle copies once more). Here a
message is pickled with protocol 5: arrays of at least `OUT_OF_BAND_MIN` bytes travel
out of band, written straight from the batch's memory into the pipe and read straight
into the memory of the array the main process hands out, so a batch crosses with the
pipe's own copy only. Tensors are sent as their arrays and rewrapped without a copy.

Frame: u64 length of the rest of the header, u32 buffer count, u64 size per buffer,
the pickle; then the raw bytes of each buffer.
"""

from __future__ import annotations

import io
import os
import pickle
import select
import struct
from multiprocessing.reduction import ForkingPickler

import numpy as np

from ...._tensor import Tensor

OUT_OF_BAND_MIN = 32 * 1024
_PIPE_SIZE = 1 << 20  # Linux's default maximum for unprivileged processes
_PREFIX = struct.Struct("<QI")


def enlarge_pipe(fd: int) -> None:
    """Asks for a 1 MiB pipe buffer (default 64 KiB): fewer context switches per batch."""
    try:
        import fcntl
        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, _PIPE_SIZE)
    except (ImportError, AttributeError, OSError):
        pass  # not Linux, or over the system limit: the default size works, only slower


def _tensor_from_array(array, requires_grad):
    return Tensor._make(array, requires_grad=requires_grad)


# What a view carries besides a plain tensor; a batch sends the data, not the view relation.
_VIEW_STATE = frozenset({"_base", "_view_ver", "_view_fn"})


class _BatchPickler(ForkingPickler):
    """ForkingPickler (so multiprocessing objects still pickle) that sends Tensors as
    their arrays, contiguous when large, so that protocol 5 can send them out of band."""

    def __init__(self, file, buffer_callback):
        # ForkingPickler.__init__ passes only positional arguments on, and the
        # protocol-5 options are keyword-only; so set up its dispatch table here.
        pickle.Pickler.__init__(self, file, 5, buffer_callback=buffer_callback)
        self.dispatch_table = self._copyreg_dispatch_table.copy()
        self.dispatch_table.update(self._extra_reducers)

    def reducer_override(self, obj):
        if (type(obj) is not Tensor or type(obj._data) is not np.ndarray
                or obj.__dict__.keys() - _VIEW_STATE):
            return NotImplemented
        if obj._grad_fn is not None and obj._rg:
            # torch's rule and message: a graph cannot cross a process boundary.
            raise RuntimeError(
                "Cowardly refusing to serialize non-leaf tensor which requires_grad, since "
                "autograd does not support crossing process boundaries.  If you just want "
                "to transfer the data, call detach() on the tensor before serializing "
                "(e.g., putting it on the queue).")
        array = obj._data
        if array.nbytes >= OUT_OF_BAND_MIN and not (
                array.flags.c_contiguous or array.flags.f_contiguous):
            array = np.ascontiguousarray(array)
        return _tensor_from_array, (array, obj._rg)


def dumps(obj) -> tuple[bytes, list[memoryview]]:
    """The header frame for `obj` and the raw buffers that follow it."""
    buffers: list[memoryview] = []

    def out_of_band(buf: pickle.PickleBuffer) -> bool:
        raw = buf.raw()
        if raw.nbytes < OUT_OF_BAND_MIN:
            return True  # small: cheaper inside the pickle than as a frame of its own
        buffers.append(raw)
        return False

    f = io.BytesIO()
    _BatchPickler(f, out_of_band).dump(obj)
    payload = f.getbuffer()
    sizes = struct.pack(f"<{len(buffers)}Q", *(b.nbytes for b in buffers))
    header = b"".join((_PREFIX.pack(len(sizes) + payload.nbytes, len(buffers)), sizes, payload))
    return header, buffers


class ResultWriter:
    """The worker's end: `send(obj)` writes one message (blocking while the pipe is full)."""

    def __init__(self, conn):
        self._conn = conn  # keeps the descriptor open
        self._fd = conn.fileno()

    def send(self, obj) -> None:
        header, buffers = dumps(obj)  # pickles completely first: a failure writes nothing
        self._write(memoryview(header))
        for buf in buffers:
            self._write(buf)

    def _write(self, view: memoryview) -> None:
        while view.nbytes:
            n = os.write(self._fd, view)
            view = view[n:]


class ResultReader:
    """The main process's end: `recv(is_alive)` reads one whole message.

    `is_alive()` is asked whenever the pipe stays empty for `poll_s` in the middle of a
    message, so that a stopped writer cannot hang the reader forever (a dead writer
    shows as end-of-file, unless a child process it forked still holds the pipe).
    """

    def __init__(self, conn, poll_s: float):
        self._conn = conn
        self._fd = conn.fileno()
        self._poll = select.poll()
        self._poll.register(self._fd, select.POLLIN)
        self._poll_ms = int(poll_s * 1000)

    def fileno(self) -> int:
        return self._fd

    def close(self) -> None:
        self._conn.close()

    def recv(self, is_alive):
        """The next object; EOFError when the writer is gone before a message starts."""
        prefix = self._read(_PREFIX.size, is_alive, at_start=True)
        header_len, nbuf = _PREFIX.unpack(prefix)
        header = self._read(header_len, is_alive)
        sizes = struct.unpack_from(f"<{nbuf}Q", header)
        buffers = [self._read_array(size, is_alive) for size in sizes]
        return pickle.loads(memoryview(header)[8 * nbuf:], buffers=buffers)

    def _read_array(self, size: int, is_alive) -> np.ndarray:
        out = np.empty(size, dtype=np.uint8)  # becomes the memory of the received array
        self._read_into(memoryview(out), is_alive)
        return out

    def _read(self, size: int, is_alive, at_start: bool = False) -> bytearray:
        out = bytearray(size)
        self._read_into(memoryview(out), is_alive, at_start)
        return out

    def _read_into(self, view: memoryview, is_alive, at_start: bool = False) -> None:
        total = view.nbytes
        while view.nbytes:
            if not self._poll.poll(self._poll_ms) and not is_alive():
                raise EOFError("the worker died in the middle of a message")
            n = os.readv(self._fd, [view])
            if n == 0:
                if at_start and view.nbytes == total:
                    raise EOFError("the worker closed its pipe")
                raise EOFError("the worker died in the middle of a message")
            view = view[n:]
