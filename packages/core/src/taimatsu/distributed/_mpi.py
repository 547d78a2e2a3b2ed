"""The MPI backend: collectives on contiguous NumPy buffers through mpi4py.

Tensors travel as raw buffers (never pickled). Every operation is MPI's non-blocking
form; waiting polls it under the watchdog. dtypes MPI has no type for (float16,
bfloat16) travel as same-sized unsigned integers and reduce with a small user-defined
operation that does the arithmetic in the real dtype.
"""

from __future__ import annotations

import numpy as np
from mpi4py import MPI

from ._common import ReduceOp

_NATIVE = {
    np.dtype(np.bool_): MPI.C_BOOL,
    np.dtype(np.int8): MPI.INT8_T,
    np.dtype(np.int16): MPI.INT16_T,
    np.dtype(np.int32): MPI.INT32_T,
    np.dtype(np.int64): MPI.INT64_T,
    np.dtype(np.uint8): MPI.UINT8_T,
    np.dtype(np.uint16): MPI.UINT16_T,
    np.dtype(np.uint32): MPI.UINT32_T,
    np.dtype(np.uint64): MPI.UINT64_T,
    np.dtype(np.float32): MPI.FLOAT,
    np.dtype(np.float64): MPI.DOUBLE,
    np.dtype(np.complex64): MPI.C_FLOAT_COMPLEX,
    np.dtype(np.complex128): MPI.C_DOUBLE_COMPLEX,
}
# Same-sized carriers for dtypes without an MPI type: whole elements stay together when
# MPI splits a message, which a user-defined reduction relies on.
_CARRIER = {1: (np.uint8, MPI.UINT8_T), 2: (np.uint16, MPI.UINT16_T),
            4: (np.uint32, MPI.UINT32_T), 8: (np.uint64, MPI.UINT64_T)}

_BUILTIN_OPS = {ReduceOp.SUM: MPI.SUM, ReduceOp.PRODUCT: MPI.PROD, ReduceOp.MIN: MPI.MIN,
                ReduceOp.MAX: MPI.MAX, ReduceOp.BAND: MPI.BAND, ReduceOp.BOR: MPI.BOR,
                ReduceOp.BXOR: MPI.BXOR}
_BOOL_OPS = {ReduceOp.SUM: MPI.LOR, ReduceOp.MAX: MPI.LOR, ReduceOp.BOR: MPI.LOR,
             ReduceOp.PRODUCT: MPI.LAND, ReduceOp.MIN: MPI.LAND, ReduceOp.BAND: MPI.LAND,
             ReduceOp.BXOR: MPI.LXOR}
_UFUNCS = {ReduceOp.SUM: np.add, ReduceOp.PRODUCT: np.multiply, ReduceOp.MIN: np.minimum,
           ReduceOp.MAX: np.maximum}
_user_ops: dict = {}


def message(buf: np.ndarray, parts: int = 1) -> list:
    """mpi4py's [buffer, count, datatype] for a C-contiguous array of any dtype; `parts`
    splits it in equal per-rank blocks (the "many" side of gather, scatter...)."""
    datatype = _NATIVE.get(buf.dtype)
    if datatype is not None:
        return [buf, buf.size // parts, datatype]
    carrier = _CARRIER.get(buf.dtype.itemsize)
    if carrier is not None:
        return [buf.view(carrier[0]), buf.size // parts, carrier[1]]
    return [buf.view(np.uint8), buf.nbytes // parts, MPI.BYTE]


def mpi_op(dtype: np.dtype, op: ReduceOp):
    """The MPI reduction for `op` on `dtype` (AVG is SUM here; the caller divides)."""
    if op is ReduceOp.AVG:
        op = ReduceOp.SUM
    if dtype == np.bool_:
        return _BOOL_OPS[op]
    if dtype in _NATIVE:
        return _BUILTIN_OPS[op]
    key = (dtype, op)
    if key not in _user_ops:
        _user_ops[key] = _make_user_op(dtype, _UFUNCS[op])
    return _user_ops[key]


def _make_user_op(dtype: np.dtype, ufunc):
    def reduce(inbuf, inoutbuf, datatype):
        result = np.frombuffer(inoutbuf, dtype=dtype)
        ufunc(np.frombuffer(inbuf, dtype=dtype), result, out=result)
    return MPI.Op.Create(reduce, commute=True)


class Requests:
    """Pending MPI requests (and the buffers they use), waited on under the watchdog."""

    __slots__ = ("requests", "statuses", "buffers", "watchdog", "what")

    def __init__(self, requests, watchdog, what, buffers=(), statuses=None):
        self.requests = requests
        self.statuses = statuses
        self.buffers = buffers  # MPI writes into these until completion: keep them alive
        self.watchdog = watchdog
        self.what = what

    def test(self) -> bool:
        if self.statuses is None:
            return MPI.Request.Testall(self.requests)
        return MPI.Request.Testall(self.requests, self.statuses)

    def wait(self, timeout: float) -> None:
        self.watchdog.wait(self.test, self.what, timeout)

    @property
    def source(self) -> int:
        return self.statuses[0].Get_source() if self.statuses else -1


class MPIEngine:
    """Collectives of one communicator on C-contiguous NumPy arrays."""

    def __init__(self, comm, watchdog):
        self.comm = comm
        self.size = comm.Get_size()
        self.watchdog = watchdog

    def _pending(self, request, what, *buffers, status=None) -> Requests:
        return Requests([request], self.watchdog, what, buffers,
                        None if status is None else [status])

    def all_reduce(self, buf, op):
        req = self.comm.Iallreduce(MPI.IN_PLACE, message(buf), mpi_op(buf.dtype, op))
        return self._pending(req, "all_reduce", buf)

    def broadcast(self, buf, root):
        return self._pending(self.comm.Ibcast(message(buf), root=root), "broadcast", buf)

    def reduce(self, buf, op, root):
        mop = mpi_op(buf.dtype, op)
        if self.comm.Get_rank() == root:
            req = self.comm.Ireduce(MPI.IN_PLACE, message(buf), mop, root=root)
        else:
            req = self.comm.Ireduce(message(buf), None, mop, root=root)
        return self._pending(req, "reduce", buf)

    def all_gather(self, send, recv):
        req = self.comm.Iallgather(message(send), message(recv, self.size))
        return self._pending(req, "all_gather", send, recv)

    def gather(self, send, recv, root):
        mine = self.comm.Get_rank() == root
        req = self.comm.Igather(message(send), message(recv, self.size) if mine else None,
                                root=root)
        return self._pending(req, "gather", send, recv)

    def scatter(self, send, recv, root):
        mine = self.comm.Get_rank() == root
        req = self.comm.Iscatter(message(send, self.size) if mine else None, message(recv),
                                 root=root)
        return self._pending(req, "scatter", send, recv)

    def reduce_scatter(self, send, recv, op):
        req = self.comm.Ireduce_scatter_block(message(send, self.size), message(recv),
                                              mpi_op(send.dtype, op))
        return self._pending(req, "reduce_scatter", send, recv)

    def barrier(self):
        return self._pending(self.comm.Ibarrier(), "barrier")

    def send(self, buf, dst, tag):
        return self._pending(self.comm.Isend(message(buf), dest=dst, tag=tag), "send", buf)

    def recv(self, buf, src, tag):
        src = MPI.ANY_SOURCE if src is None else src
        req = self.comm.Irecv(message(buf), source=src, tag=tag)
        return self._pending(req, "recv", buf, status=MPI.Status())

    # -- variable-sized byte messages (the object collectives) ---------------------------
    def all_gather_bytes(self, send: np.ndarray, counts: np.ndarray, recv: np.ndarray):
        spec = [recv, (counts.tolist(), _displacements(counts)), MPI.BYTE]
        req = self.comm.Iallgatherv([send, MPI.BYTE], spec)
        return self._pending(req, "all_gather_object", send, recv)

    def gather_bytes(self, send, counts, recv, root):
        mine = self.comm.Get_rank() == root
        spec = [recv, (counts.tolist(), _displacements(counts)), MPI.BYTE] if mine else None
        req = self.comm.Igatherv([send, MPI.BYTE], spec, root=root)
        return self._pending(req, "gather_object", send, recv)

    def scatter_bytes(self, send, counts, recv, root):
        mine = self.comm.Get_rank() == root
        spec = [send, (counts.tolist(), _displacements(counts)), MPI.BYTE] if mine else None
        req = self.comm.Iscatterv(spec, [recv, MPI.BYTE], root=root)
        return self._pending(req, "scatter_object_list", send, recv)


def _displacements(counts: np.ndarray) -> list:
    return np.concatenate([[0], np.cumsum(counts[:-1])]).astype(np.int64).tolist()
