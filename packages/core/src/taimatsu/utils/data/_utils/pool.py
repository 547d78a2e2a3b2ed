"""The worker processes of one DataLoader iterator: start, feed, receive, shut down.

Each worker has an index queue (multiprocessing.Queue: the main process never blocks
putting tasks) and a result pipe of its own (see transport.py). The main process polls
every result pipe together with every worker's process sentinel, so a worker that dies
is noticed as soon as it dies, never by a timeout. Shutdown (on exhaustion, `break`,
garbage collection, Ctrl-C, a dead worker, or interpreter exit through the atexit hook
below) asks each worker to stop, closes the result pipes so that a worker blocked on a
full pipe fails instead of hanging, then terminates and finally kills stragglers.
"""

from __future__ import annotations

import atexit
import multiprocessing.util  # noqa: F401  (its atexit hook must be registered before ours)
import os
import pickle
import select
import time
import warnings
import weakref

from . import MP_STATUS_CHECK_INTERVAL
from .signal_handling import describe_exit
from .transport import ResultReader, enlarge_pipe
from .worker import _worker_loop


class WorkersDied(Exception):
    """Raised by `WorkerPool.receive` when workers exited without being asked to."""

    def __init__(self, workers: list[tuple[int, int, int | None]]):
        self.workers = workers  # (worker id, pid, exit code)
        pids = ", ".join(str(pid) for _, pid, _ in workers)
        how = "; ".join(f"worker {wid}: {describe_exit(code)}" for wid, _, code in workers)
        super().__init__(f"DataLoader worker (pid(s) {pids}) exited unexpectedly ({how})")


class ReceiveTimeout(Exception):
    """Raised by `WorkerPool.receive` when no message came within its timeout."""


_live_pools: weakref.WeakSet[WorkerPool] = weakref.WeakSet()


@atexit.register
def _shutdown_live_pools() -> None:
    # Registered after multiprocessing's own exit hook, so it runs before it (atexit is
    # last-in first-out): workers get a clean stop before multiprocessing terminates
    # daemonic children.
    for pool in list(_live_pools):
        pool.shutdown()


class WorkerPool:
    """`num_workers` processes running `_worker_loop(*args_for(i, queue, conn, event))`."""

    def __init__(self, ctx, num_workers: int, args_for):
        self._owner = os.getpid()
        self.closed = False
        self.done_event = ctx.Event()
        self.workers = []
        self.index_queues = []
        self.readers: list[ResultReader] = []
        self._stopping: set[int] = set()  # told to exit: their exit is no error
        self._gone: set[int] = set()  # exited and no longer polled
        self._poll = select.poll()
        self._fd_owner: dict[int, tuple[str, int]] = {}
        _live_pools.add(self)
        try:
            for i in range(num_workers):
                self._start(ctx, i, args_for)
        except BaseException:
            self.shutdown()
            raise

    def _start(self, ctx, i: int, args_for) -> None:
        index_queue = ctx.Queue()
        # Never wait at exit for the queue's feeder thread: its worker may be dead.
        index_queue.cancel_join_thread()
        reader, writer = ctx.Pipe(duplex=False)
        enlarge_pipe(reader.fileno())
        proc = ctx.Process(target=_worker_loop,
                           args=args_for(i, index_queue, writer, self.done_event),
                           daemon=True)
        self.index_queues.append(index_queue)
        self.readers.append(ResultReader(reader, MP_STATUS_CHECK_INTERVAL))
        try:
            proc.start()
        except (TypeError, AttributeError, pickle.PicklingError):
            # 'spawn' and 'forkserver' pickle the dataset, collate_fn and worker_init_fn.
            warnings.warn("Got pickle error when attempting to start a worker Process. This "
                          "might be because the worker Process arguments are not picklable "
                          f"(the '{ctx.get_start_method()}' start method pickles the dataset, "
                          "collate_fn and worker_init_fn: lambdas and local classes cannot "
                          "be). The 'fork' start method does not need that.", stacklevel=5)
            raise
        finally:
            # Only the worker may hold the write end, so that its death reads as EOF.
            writer.close()
        self.workers.append(proc)
        for kind, fd in (("data", reader.fileno()), ("exit", proc.sentinel)):
            self._poll.register(fd, select.POLLIN)
            self._fd_owner[fd] = (kind, i)

    @property
    def pids(self) -> list[int]:
        return [w.pid for w in self.workers]

    def put(self, worker_id: int, message) -> None:
        self.index_queues[worker_id].put(message)

    def stop_worker(self, worker_id: int) -> None:
        """Asks one worker to exit (its IterableDataset copy is exhausted)."""
        self._stopping.add(worker_id)
        self.index_queues[worker_id].put(None)

    def receive(self, timeout: float | None):
        """(worker id, message) of the next message from any worker.

        Raises ReceiveTimeout after `timeout` seconds (None: wait as long as workers
        live) and WorkersDied when a worker not asked to stop has exited.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            wait_ms = None if deadline is None else max(0, (deadline - time.monotonic()) * 1000)
            events = self._poll.poll(wait_ms)
            if not events and deadline is not None and time.monotonic() >= deadline:
                raise ReceiveTimeout
            exited = []
            for fd, _ in events:
                kind, wid = self._fd_owner[fd]
                if kind == "exit":
                    exited.append(wid)
                    continue
                try:
                    return wid, self.readers[wid].recv(self.workers[wid].is_alive)
                except EOFError:
                    exited.append(wid)
            self._handle_exits(exited)

    def _handle_exits(self, exited: list[int]) -> None:
        dead = []
        for wid in dict.fromkeys(exited):
            if wid in self._gone:
                continue
            proc = self.workers[wid]
            proc.join(MP_STATUS_CHECK_INTERVAL)  # EOF may come just before the exit
            if wid not in self._stopping and self._has_data(wid):
                continue  # it wrote its last answers before dying: read them first
            self._forget(wid)
            if wid not in self._stopping:
                dead.append((wid, proc.pid, proc.exitcode))
        if dead:
            raise WorkersDied(dead)

    def _has_data(self, wid: int) -> bool:
        probe = select.poll()
        probe.register(self.readers[wid].fileno(), select.POLLIN)
        return any(ev & select.POLLIN for _, ev in probe.poll(0))

    def _forget(self, wid: int) -> None:
        self._gone.add(wid)
        for fd in (self.readers[wid].fileno(), self.workers[wid].sentinel):
            self._poll.unregister(fd)
            del self._fd_owner[fd]

    def shutdown(self) -> None:
        """Stops every worker; safe to call repeatedly, and from any state."""
        if self.closed or os.getpid() != self._owner:  # never from a forked copy
            return
        self.closed = True
        _live_pools.discard(self)
        try:
            self.done_event.set()
            for q in self.index_queues:
                _quietly(q.put, None)
            for r in self.readers:
                _quietly(r.close)  # a worker blocked writing a batch gets EPIPE and exits
            deadline = time.monotonic() + MP_STATUS_CHECK_INTERVAL
            for w in self.workers:
                w.join(max(0.0, deadline - time.monotonic()))
        finally:
            for w in self.workers:
                if w.is_alive():
                    w.terminate()
            for w in self.workers:
                w.join(MP_STATUS_CHECK_INTERVAL)
                if w.is_alive():
                    w.kill()
                    w.join()
            for q in self.index_queues:
                _quietly(q.close)


def _quietly(fn, *args) -> None:
    try:
        fn(*args)
    except (OSError, ValueError):  # already closed, or the other end is gone
        pass
