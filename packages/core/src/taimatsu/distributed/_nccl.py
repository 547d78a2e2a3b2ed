"""The NCCL backend for CUDA tensors, through cupy.cuda.nccl (NCCL from nvidia-nccl-cu12).

Operations are enqueued on the current CUDA stream; a Work waits on a CUDA event
recorded after them, polled under the watchdog. The communicator's unique id travels
over MPI, so NCCL groups are launched with mpiexec like MPI ones. dtypes or reductions
NCCL lacks (int16, complex products, bitwise ops) go through MPI on a host copy; the
process group decides that with `supports`.
"""

from __future__ import annotations

import cupy
import numpy as np
from cupy.cuda import nccl

from ._common import ReduceOp

_BFLOAT16 = getattr(nccl, "NCCL_BFLOAT16", 9)  # ncclBfloat16 in nccl.h (NCCL >= 2.10)
_TYPES = {
    "bool": nccl.NCCL_UINT8, "int8": nccl.NCCL_INT8, "uint8": nccl.NCCL_UINT8,
    "int32": nccl.NCCL_INT32, "uint32": nccl.NCCL_UINT32, "int64": nccl.NCCL_INT64,
    "uint64": nccl.NCCL_UINT64, "float16": nccl.NCCL_FLOAT16, "bfloat16": _BFLOAT16,
    "float32": nccl.NCCL_FLOAT32, "float64": nccl.NCCL_FLOAT64,
}
_OPS = {ReduceOp.SUM: nccl.NCCL_SUM, ReduceOp.PRODUCT: nccl.NCCL_PROD,
        ReduceOp.MAX: nccl.NCCL_MAX, ReduceOp.MIN: nccl.NCCL_MIN}
# On bool (as uint8 0/1) "any" is MAX and "all" is MIN.
_BOOL_OPS = {ReduceOp.SUM: nccl.NCCL_MAX, ReduceOp.BOR: nccl.NCCL_MAX,
             ReduceOp.MAX: nccl.NCCL_MAX, ReduceOp.PRODUCT: nccl.NCCL_MIN,
             ReduceOp.BAND: nccl.NCCL_MIN, ReduceOp.MIN: nccl.NCCL_MIN}


def supports(dtype: np.dtype, op: ReduceOp | None) -> bool:
    """Whether NCCL can run `op` (None: a data movement) on `dtype`."""
    if op is None:
        return True
    if dtype.kind == "c":  # a complex sum is the sum of its (real, imag) pairs
        return op in (ReduceOp.SUM, ReduceOp.AVG)
    if dtype.name == "bool":
        return op in _BOOL_OPS
    return dtype.name in _TYPES and (op in _OPS or op is ReduceOp.AVG)


def _typed(buf):
    """(pointer, count, nccl type) of a contiguous array for a reduction."""
    if buf.dtype.kind == "c":
        buf = buf.view(buf.real.dtype)
    return buf.data.ptr, buf.size, _TYPES[buf.dtype.name]


def _raw(buf):
    """(pointer, count, nccl type) moving the array's bytes, for any dtype."""
    return buf.data.ptr, buf.nbytes, nccl.NCCL_UINT8


def _op(dtype, op):
    if dtype.name == "bool":
        return _BOOL_OPS[op]
    return _OPS[ReduceOp.SUM if op is ReduceOp.AVG else op]


class Event:
    """Pending NCCL work: a CUDA event after it on the stream, polled by the watchdog."""

    __slots__ = ("event", "buffers", "watchdog", "what", "source")

    def __init__(self, stream, watchdog, what, buffers, source=-1):
        self.source = source
        self.event = cupy.cuda.Event(disable_timing=True)
        self.event.record(stream)
        self.buffers = buffers
        self.watchdog = watchdog
        self.what = what

    def test(self) -> bool:
        return self.event.done

    def wait(self, timeout: float) -> None:
        self.watchdog.wait(self.test, self.what, timeout)


class NCCLEngine:
    """Collectives of one NCCL communicator on C-contiguous CuPy arrays."""

    def __init__(self, mpi_engine, rank: int, size: int, watchdog, timeout: float):
        uid = np.zeros(128, dtype=np.int64)  # ncclUniqueId: 128 bytes
        if rank == 0:
            uid[:] = nccl.get_unique_id()
        mpi_engine.broadcast(uid, 0).wait(timeout)
        self.comm = nccl.NcclCommunicator(size, tuple(int(v) for v in uid), rank)
        self.rank = rank
        self.size = size
        self.watchdog = watchdog

    def close(self) -> None:
        self.comm.destroy()

    def _done(self, what, *buffers, source=-1) -> Event:
        return Event(cupy.cuda.get_current_stream(), self.watchdog, what, buffers, source)

    @staticmethod
    def _stream() -> int:
        return cupy.cuda.get_current_stream().ptr

    def all_reduce(self, buf, op):
        ptr, count, dtype = _typed(buf)
        self.comm.allReduce(ptr, ptr, count, dtype, _op(buf.dtype, op), self._stream())
        return self._done("all_reduce", buf)

    def broadcast(self, buf, root):
        ptr, count, dtype = _raw(buf)
        self.comm.bcast(ptr, count, dtype, root, self._stream())
        return self._done("broadcast", buf)

    def reduce(self, buf, op, root):
        ptr, count, dtype = _typed(buf)
        self.comm.reduce(ptr, ptr, count, dtype, _op(buf.dtype, op), root, self._stream())
        return self._done("reduce", buf)

    def all_gather(self, send, recv):
        ptr, count, dtype = _raw(send)
        self.comm.allGather(ptr, recv.data.ptr, count, dtype, self._stream())
        return self._done("all_gather", send, recv)

    def reduce_scatter(self, send, recv, op):
        ptr, count, dtype = _typed(recv)
        self.comm.reduceScatter(send.data.ptr, ptr, count, dtype, _op(send.dtype, op),
                                self._stream())
        return self._done("reduce_scatter", send, recv)

    def gather(self, send, recv, root):
        # NCCL has no gather: the root receives one message from every other rank.
        nccl.groupStart()
        if self.rank == root:
            for r in range(self.size):
                if r != root:
                    self.comm.recv(*_raw(recv[r]), r, self._stream())
        else:
            self.comm.send(*_raw(send), root, self._stream())
        nccl.groupEnd()
        if self.rank == root:
            recv[root][...] = send
        return self._done("gather", send, recv)

    def scatter(self, send, recv, root):
        nccl.groupStart()
        if self.rank == root:
            for r in range(self.size):
                if r != root:
                    self.comm.send(*_raw(send[r]), r, self._stream())
        else:
            self.comm.recv(*_raw(recv), root, self._stream())
        nccl.groupEnd()
        if self.rank == root:
            recv[...] = send[root]
        return self._done("scatter", send, recv)

    def send(self, buf, dst, tag):
        self.comm.send(*_raw(buf), dst, self._stream())
        return self._done("send", buf)

    def recv(self, buf, src, tag):
        if src is None:
            raise ValueError("recv from any source is not supported by NCCL: pass src")
        self.comm.recv(*_raw(buf), src, self._stream())
        return self._done("recv", buf, source=src)
