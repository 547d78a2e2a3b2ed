"""Names shared by every backend: ReduceOp, Backend, the errors and Work."""

from __future__ import annotations

import enum
from datetime import timedelta

__all__ = ["ReduceOp", "Backend", "DistError", "DistBackendError", "Work"]


class ReduceOp(enum.Enum):
    """How all_reduce, reduce and reduce_scatter combine the ranks' values."""

    SUM = 0
    AVG = 1
    PRODUCT = 2
    MIN = 3
    MAX = 4
    BAND = 5
    BOR = 6
    BXOR = 7

    def __repr__(self) -> str:
        return f"<RedOpType.{self.name}: {self.value}>"


ReduceOp.RedOpType = ReduceOp  # torch spells the members ReduceOp.RedOpType.SUM too


class Backend(str):
    """A backend name: "mpi" (CPU tensors through MPI), "gloo" (taken as "mpi") or "nccl".

    "nccl" runs CUDA tensors through NCCL and everything else (CPU tensors, objects,
    barriers) through MPI, like torch's "cpu:gloo,cuda:nccl".
    """

    UNDEFINED = "undefined"
    MPI = "mpi"
    GLOO = "gloo"
    NCCL = "nccl"

    def __new__(cls, name: str):
        if not isinstance(name, str):
            raise ValueError(f"Backend constructor parameter must be string-ish, but got "
                             f"{type(name).__name__}")
        value = name.lower()
        parts = [p.split(":")[-1] for p in value.split(",")]
        if not parts or any(p not in (cls.MPI, cls.GLOO, cls.NCCL) for p in parts):
            raise ValueError(f"Invalid backend: '{name}'; taimatsu.distributed has "
                             "'mpi' (alias 'gloo') and 'nccl'")
        return super().__new__(cls, value)

    @property
    def uses_nccl(self) -> bool:
        return "nccl" in self


class DistError(RuntimeError):
    """A distributed operation failed."""


class DistBackendError(DistError):
    """The communication backend failed: a peer rank died or raised, or a timeout passed."""


def seconds(timeout) -> float:
    """A timeout given as timedelta or number of seconds, in seconds."""
    if isinstance(timeout, timedelta):
        return timeout.total_seconds()
    return float(timeout)


class Work:
    """Handle of an operation started with async_op=True (and of isend/irecv).

    `pending` is the backend's handle (test() polls, wait(seconds) blocks under the
    watchdog); `finish` runs once when it completes (copies results into the caller's
    tensors, divides for AVG).
    """

    __slots__ = ("_pending", "_finish", "_outputs", "_timeout", "_done")

    def __init__(self, pending, finish=None, outputs=(), timeout: float = 1800.0):
        self._pending = pending
        self._finish = finish
        self._outputs = list(outputs)
        self._timeout = timeout
        self._done = False

    def _complete(self) -> None:
        self._done = True
        if self._finish is not None:
            finish, self._finish = self._finish, None
            finish()

    def is_completed(self) -> bool:
        """True once the operation has finished (polls without blocking)."""
        if not self._done and self._pending.test():
            self._complete()
        return self._done

    def wait(self, timeout=None) -> bool:
        """Blocks until the operation finishes; raises DistBackendError on a peer's
        failure or after `timeout` (default: the process group's)."""
        if not self._done:
            self._pending.wait(self._timeout if timeout is None else seconds(timeout))
            self._complete()
        return True

    def is_success(self) -> bool:
        return self.is_completed()

    def exception(self):
        return None

    def result(self) -> list:
        """The output tensors (as torch's Work.result)."""
        self.wait()
        return self._outputs

    def _source_rank(self) -> int:
        """The sender's rank, for an irecv (from any source)."""
        self.wait()
        return self._pending.source

    def __repr__(self) -> str:
        return f"<Work completed={self._done}>"


class _Done:
    """The pending handle of an operation that finished when it started."""

    source = -1

    def test(self) -> bool:
        return True

    def wait(self, timeout: float) -> None:
        pass


DONE = _Done()
