"""What runs inside a DataLoader worker process: seeding, the fetch loop, error capture."""

from __future__ import annotations

import os
import pickle
import queue
import random
import sys
import traceback
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import MP_STATUS_CHECK_INTERVAL, signal_handling
from .fetch import create_fetcher
from .transport import ResultWriter

__all__ = ["WorkerInfo", "get_worker_info"]


@dataclass(frozen=True, slots=True)
class WorkerInfo:
    """What `get_worker_info()` returns inside a worker.

    Attributes:
        id: this worker's id, in [0, num_workers)
        num_workers: how many workers the DataLoader started
        seed: the seed of this worker's RNGs (base_seed + id)
        dataset: this process's copy of the dataset
    """

    id: int
    num_workers: int
    seed: int
    dataset: Any


_worker_info: WorkerInfo | None = None


def get_worker_info() -> WorkerInfo | None:
    """Information about the current DataLoader worker process; None in the main process.

    An IterableDataset uses it in `__iter__` (or a `worker_init_fn` uses it) to give
    each worker its own shard instead of every worker yielding the whole stream.
    """
    return _worker_info


@dataclass(frozen=True)
class _IterableDatasetStopIteration:
    """A worker's answer once its copy of an IterableDataset is exhausted."""

    worker_id: int


@dataclass(frozen=True)
class _ResumeIteration:
    """Sent to persistent workers at the start of each epoch after the first."""


class KeyErrorMessage(str):
    """A str whose repr is itself, so a re-raised KeyError's traceback prints readably."""

    def __repr__(self):
        return self


class ExceptionWrapper:
    """An exception caught in a worker: its type and its formatted traceback, picklable.

    `reraise()` raises the same type in the main process with the message
    "Caught ValueError in DataLoader worker process 1.\\nOriginal Traceback ..." .
    """

    def __init__(self, exc_info=None, where: str = "in background"):
        if exc_info is None:
            exc_info = sys.exc_info()
        self.exc_type = exc_info[0] if _picklable(exc_info[0]) else RuntimeError
        self.exc_name = exc_info[0].__name__
        self.exc_msg = "".join(traceback.format_exception(*exc_info))
        self.where = where

    def reraise(self):
        msg = f"Caught {self.exc_name} {self.where}.\nOriginal {self.exc_msg}"
        if self.exc_type is KeyError:
            msg = KeyErrorMessage(msg)  # KeyError shows repr(message); keep newlines
        try:
            exception = self.exc_type(msg)
        except Exception:
            # The type needs other constructor arguments: keep the text at least.
            raise RuntimeError(msg) from None
        raise exception


def _picklable(cls) -> bool:
    try:
        return pickle.loads(pickle.dumps(cls)) is cls
    except Exception:
        return False


def _seed_rngs(base_seed: int, worker_id: int) -> int:
    """Seeds taimatsu's default generator, `random` and NumPy's global RNG, as torch does
    (worker seed = base_seed + worker_id) so that random augmentation differs between
    workers and repeats with the same base seed."""
    from .... import default_generator
    seed = base_seed + worker_id
    random.seed(seed)
    # Only the CPU generator: taimatsu.manual_seed would also seed CUDA, which a
    # forked child of a process that used CUDA must not touch.
    default_generator.manual_seed(seed & ((1 << 64) - 1))
    # NumPy's legacy seed takes 32-bit words; mixing through SeedSequence keeps the
    # streams of different workers (and of neighbouring base seeds) apart.
    np.random.seed(np.random.SeedSequence([base_seed, worker_id]).generate_state(4))
    return seed


class _ParentWatchdog:
    """Tells whether the process that started this worker is still alive."""

    def __init__(self):
        self._ppid = os.getppid()

    def is_alive(self) -> bool:
        return os.getppid() == self._ppid  # re-parented once the parent died


def _worker_loop(is_iterable, dataset, index_queue, result_conn, done_event,
                 auto_collation, collate_fn, drop_last, base_seed, init_fn, worker_id,
                 num_workers):
    """The body of a worker process.

    Takes `(task_idx, index)` from `index_queue` and answers `(task_idx, batch)` (or an
    ExceptionWrapper, or _IterableDatasetStopIteration) on its own result pipe, until it
    receives None, the main process dies, or the pipe is closed.
    """
    global _worker_info
    signal_handling.set_worker_signal_handlers()
    try:
        writer = ResultWriter(result_conn)
        seed = _seed_rngs(base_seed, worker_id)
        _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed,
                                  dataset=dataset)
        where = f"in DataLoader worker process {worker_id}"
        init_error = None
        fetcher = None
        try:
            if init_fn is not None:
                init_fn(worker_id)
            fetcher = create_fetcher(is_iterable, dataset, auto_collation, collate_fn,
                                     drop_last)
        except Exception:
            init_error = ExceptionWrapper(where=where)  # reported with the first task

        iteration_end = False
        watchdog = _ParentWatchdog()
        while watchdog.is_alive():
            try:
                r = index_queue.get(timeout=MP_STATUS_CHECK_INTERVAL)
            except queue.Empty:
                continue
            if isinstance(r, _ResumeIteration):
                iteration_end = False
                if init_error is None:
                    try:
                        fetcher = create_fetcher(is_iterable, dataset, auto_collation,
                                                 collate_fn, drop_last)
                    except Exception:
                        init_error = ExceptionWrapper(where=where)
                writer.send((r, None))
                continue
            if r is None:
                break
            if done_event.is_set() or iteration_end:
                continue  # shutting down, or nothing left to give: drain quietly
            idx, index = r
            if init_error is not None:
                data, init_error = init_error, None
            else:
                try:
                    data = fetcher.fetch(index)
                except StopIteration:
                    if not is_iterable:
                        data = ExceptionWrapper(where=where)
                    else:
                        data = _IterableDatasetStopIteration(worker_id)
                        iteration_end = True
                except Exception:
                    data = ExceptionWrapper(where=where)
            _send(writer, idx, data, where)
            del data, idx, index, r  # free the batch before blocking on the next task
    except BrokenPipeError:
        pass  # the main process closed our pipe (shutdown) or died


def _send(writer: ResultWriter, idx, data, where: str) -> None:
    try:
        writer.send((idx, data))
    except BrokenPipeError:
        raise
    except Exception:
        # The batch (or the exception) could not be pickled: report that instead.
        writer.send((idx, ExceptionWrapper(where=where)))
