"""DataLoader: batches from a dataset, in the main process or in worker processes."""

from __future__ import annotations

import itertools
import math
import multiprocessing
import os
import sys
import warnings
import weakref
from collections.abc import Callable, Iterable
from typing import Any, Generic, TypeVar

from ._utils import collate as _collate
from ._utils import fetch as _fetch
from ._utils.pin_memory import pin_memory as _pin_memory
from ._utils.pool import ReceiveTimeout, WorkerPool, WorkersDied
from ._utils.worker import (
    ExceptionWrapper,
    _IterableDatasetStopIteration,
    _ResumeIteration,
    get_worker_info,
)
from .dataset import Dataset, IterableDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler, _random_seed

__all__ = ["DataLoader", "default_collate", "default_convert", "get_worker_info"]

T_co = TypeVar("T_co", covariant=True)

default_collate = _collate.default_collate
default_convert = _collate.default_convert


class _DatasetKind:
    Map = 0
    Iterable = 1

    @staticmethod
    def create_fetcher(kind, dataset, auto_collation, collate_fn, drop_last):
        return _fetch.create_fetcher(kind == _DatasetKind.Iterable, dataset, auto_collation,
                                     collate_fn, drop_last)


class _InfiniteConstantSampler(Sampler):
    """Yields None forever: the 'indices' of an IterableDataset."""

    def __iter__(self):
        return itertools.repeat(None)


def _cpu_count() -> int | None:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count()


class DataLoader(Generic[T_co]):
    """Combines a dataset and a sampler and iterates over batches, as torch's DataLoader.

    Args:
        dataset: a map-style Dataset (`__getitem__`, `__len__`) or an IterableDataset
        batch_size: samples per batch (default 1); None turns automatic batching off
        shuffle: reshuffle every epoch (map-style only)
        sampler: the order of indices (any iterable with `__len__`); excludes shuffle
        batch_sampler: yields lists of indices; excludes batch_size, shuffle, sampler,
            drop_last
        num_workers: worker processes (0: load in the main process)
        collate_fn: list of samples -> batch (default `default_collate`, or
            `default_convert` without automatic batching)
        pin_memory: copy batches into page-locked memory (needs CUDA)
        drop_last: drop the last incomplete batch
        timeout: seconds to wait for a batch from the workers (0: forever)
        worker_init_fn: called in each worker with its id, after seeding
        multiprocessing_context: start method name or context (default 'fork' on Linux
            unless a start method was set globally)
        generator: taimatsu.Generator for RandomSampler and the workers' base seed
        prefetch_factor: batches loaded in advance per worker (default 2 with workers)
        persistent_workers: keep the workers alive between epochs
        pin_memory_device: deprecated, as in torch
        in_order: yield batches in sampler order (default True); False yields each
            batch as soon as it is ready

    Batches are the same whatever num_workers is (with in_order=True). Worker w seeds
    taimatsu's default generator, `random` and NumPy's global RNG from base_seed + w,
    base_seed being drawn from `generator` (or the default generator) per iterator.
    """

    __initialized = False

    def __init__(self, dataset: Dataset[T_co], batch_size: int | None = 1,
                 shuffle: bool | None = None, sampler: Sampler | Iterable | None = None,
                 batch_sampler: Sampler | Iterable | None = None, num_workers: int = 0,
                 collate_fn: Callable[[list], Any] | None = None, pin_memory: bool = False,
                 drop_last: bool = False, timeout: float = 0,
                 worker_init_fn: Callable[[int], None] | None = None,
                 multiprocessing_context=None, generator=None, *,
                 prefetch_factor: int | None = None, persistent_workers: bool = False,
                 pin_memory_device: str = "", in_order: bool = True) -> None:
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 "
                             "to disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in "
                             "multiprocessing.let num_workers > 0 to enable multiprocessing, "
                             "otherwise set prefetch_factor to None.")
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")

        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.in_order = in_order

        # Dataset checks come before sampler checks, as in torch, so that users learn
        # first that an IterableDataset takes no sampler at all.
        if isinstance(dataset, IterableDataset):
            self._dataset_kind = _DatasetKind.Iterable
            if shuffle not in {False, None}:
                raise ValueError("DataLoader with IterableDataset: expected unspecified shuffle "
                                 f"option, but got shuffle={shuffle}")
            if sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified sampler "
                                 f"option, but got sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified "
                                 f"batch_sampler option, but got batch_sampler={batch_sampler}")
        else:
            shuffle = bool(shuffle)
            self._dataset_kind = _DatasetKind.Map

        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")

        if sampler is None:
            if self._dataset_kind == _DatasetKind.Iterable:
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self.persistent_workers = persistent_workers
        self.__initialized = True
        self._IterableDataset_len_called = None
        self._iterator = None
        self.check_worker_number_rationality()

    @property
    def multiprocessing_context(self):
        return self.__multiprocessing_context

    @multiprocessing_context.setter
    def multiprocessing_context(self, multiprocessing_context) -> None:
        if multiprocessing_context is not None:
            if self.num_workers <= 0:
                raise ValueError("multiprocessing_context can only be used with multi-process "
                                 f"loading (num_workers > 0), but got num_workers={self.num_workers}")
            if isinstance(multiprocessing_context, str):
                valid = multiprocessing.get_all_start_methods()
                if multiprocessing_context not in valid:
                    raise ValueError(
                        "multiprocessing_context option should specify a valid start method "
                        f"in {valid!r}, but got multiprocessing_context="
                        f"{multiprocessing_context!r}")
                multiprocessing_context = multiprocessing.get_context(multiprocessing_context)
            if not isinstance(multiprocessing_context, multiprocessing.context.BaseContext):
                raise TypeError("multiprocessing_context option should be a valid context "
                                "object or a string specifying the start method, but got "
                                f"multiprocessing_context={multiprocessing_context}")
        self.__multiprocessing_context = multiprocessing_context

    def __setattr__(self, attr, val) -> None:
        if self.__initialized and attr in ("batch_size", "batch_sampler", "sampler", "drop_last",
                                           "dataset", "persistent_workers"):
            raise ValueError(f"{attr} attribute should not be set after "
                             f"{type(self).__name__} is initialized")
        super().__setattr__(attr, val)

    def _get_iterator(self):
        if self.num_workers == 0:
            return _SingleProcessDataLoaderIter(self)
        self.check_worker_number_rationality()
        return _MultiProcessingDataLoaderIter(self)

    def __iter__(self):
        # Persistent workers live in one iterator that each epoch resets; otherwise
        # every epoch gets a fresh iterator (and fresh workers).
        if self.persistent_workers and self.num_workers > 0:
            if self._iterator is None or self._iterator._shutdown:
                self._iterator = self._get_iterator()
            else:
                self._iterator._reset(self)
            return self._iterator
        return self._get_iterator()

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    def __len__(self) -> int:
        if self._dataset_kind == _DatasetKind.Iterable:
            # Trust the dataset's own length (it is the user's job to shard correctly
            # across workers); remember it to warn if more batches come.
            length = self._IterableDataset_len_called = len(self.dataset)
            if self.batch_size is not None:
                length = (length // self.batch_size if self.drop_last
                          else math.ceil(length / self.batch_size))
            return length
        return len(self._index_sampler)

    def check_worker_number_rationality(self) -> None:
        """Warns when more workers are asked for than this process may use CPUs."""
        if not self.num_workers:
            return
        suggested = _cpu_count()
        if suggested is not None and self.num_workers <= suggested:
            return
        limit = (f"Our suggested max number of worker in current system is {suggested}, which "
                 "is smaller than what this DataLoader is going to create."
                 if suggested is not None else
                 "DataLoader is not able to compute a suggested max number of worker in "
                 "current system.")
        warnings.warn(f"This DataLoader will create {self.num_workers} worker processes in "
                      f"total. {limit} Please be aware that excessive worker creation might "
                      "get DataLoader running slow or even freeze, lower the worker number to "
                      "avoid potential slowness/freeze if necessary.", stacklevel=2)


class _BaseDataLoaderIter:
    def __init__(self, loader: DataLoader) -> None:
        self._dataset = loader.dataset
        self._dataset_kind = loader._dataset_kind
        self._IterableDataset_len_called = loader._IterableDataset_len_called
        self._auto_collation = loader._auto_collation
        self._drop_last = loader.drop_last
        self._index_sampler = loader._index_sampler
        self._num_workers = loader.num_workers
        self._pin_memory = loader.pin_memory and _pinning_available(loader)
        self._timeout = loader.timeout
        self._collate_fn = loader.collate_fn
        self._sampler_iter = iter(self._index_sampler)
        self._base_seed = _random_seed(loader.generator)
        self._persistent_workers = loader.persistent_workers
        self._num_yielded = 0

    def __iter__(self):
        return self

    def _reset(self, loader, first_iter: bool = False) -> None:
        self._sampler_iter = iter(self._index_sampler)
        self._num_yielded = 0
        self._IterableDataset_len_called = loader._IterableDataset_len_called

    def _next_index(self):
        return next(self._sampler_iter)  # may raise StopIteration

    def __next__(self):
        data = self._next_data()
        self._num_yielded += 1
        if (self._dataset_kind == _DatasetKind.Iterable
                and self._IterableDataset_len_called is not None
                and self._num_yielded > self._IterableDataset_len_called):
            msg = (f"Length of IterableDataset {self._dataset} was reported to be "
                   f"{self._IterableDataset_len_called} (when accessing len(dataloader)), but "
                   f"{self._num_yielded} samples have been fetched. ")
            if self._num_workers > 0:
                msg += ("For multiprocessing data-loading, this could be caused by not "
                        "properly configuring the IterableDataset replica at each worker.")
            warnings.warn(msg, stacklevel=2)
        return data

    def __len__(self) -> int:
        return len(self._index_sampler)

    def __getstate__(self):
        raise TypeError(f"cannot pickle '{type(self).__name__}' object")


def _pinning_available(loader) -> bool:
    from ... import cuda
    if loader.pin_memory_device:
        warnings.warn("pin_memory_device is deprecated, the current accelerator will be used "
                      f"as the device,ignore pin_memory_device='{loader.pin_memory_device}'.",
                      stacklevel=4)
    if not cuda.is_available():
        warnings.warn("'pin_memory' argument is set as true but no accelerator is found, then "
                      "device pinned memory won't be used.", stacklevel=4)
        return False
    return True


class _SingleProcessDataLoaderIter(_BaseDataLoaderIter):
    def __init__(self, loader: DataLoader) -> None:
        super().__init__(loader)
        if self._timeout != 0:
            raise AssertionError("_SingleProcessDataLoaderIter requires timeout == 0")
        self._dataset_fetcher = _DatasetKind.create_fetcher(
            self._dataset_kind, self._dataset, self._auto_collation, self._collate_fn,
            self._drop_last)

    def _next_data(self):
        index = self._next_index()  # may raise StopIteration
        data = self._dataset_fetcher.fetch(index)  # may raise StopIteration
        return _pin_memory(data) if self._pin_memory else data


def _default_context():
    # 'fork' on Linux (cheap, and the dataset is shared copy-on-write) unless the user
    # chose a start method for the whole program; elsewhere the platform's default.
    if sys.platform.startswith("linux") and multiprocessing.get_start_method(allow_none=True) is None:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context()


class _MultiProcessingDataLoaderIter(_BaseDataLoaderIter):
    """Feeds `prefetch_factor * num_workers` tasks to the workers round-robin and hands
    batches back in sampler order (in_order=True) or as they come."""

    def __init__(self, loader: DataLoader) -> None:
        super().__init__(loader)
        self._prefetch_factor = loader.prefetch_factor
        self._in_order = loader.in_order
        if self._prefetch_factor <= 0:
            raise AssertionError("prefetch_factor must be greater than 0 for "
                                 "MultiProcessingDataLoaderIter")
        ctx = loader.multiprocessing_context or _default_context()
        is_iterable = self._dataset_kind == _DatasetKind.Iterable

        def args_for(worker_id, index_queue, result_conn, done_event):
            return (is_iterable, self._dataset, index_queue, result_conn, done_event,
                    self._auto_collation, self._collate_fn, self._drop_last, self._base_seed,
                    loader.worker_init_fn, worker_id, self._num_workers)

        self._shutdown = False
        self._pool = WorkerPool(ctx, self._num_workers, args_for)
        # Runs pool.shutdown when this iterator is garbage-collected (the pool, not the
        # iterator, is referenced, so collection is not prevented).
        self._finalizer = weakref.finalize(self, self._pool.shutdown)
        self._finalizer.atexit = False  # the pool module's own atexit hook covers exit
        self._reset(loader, first_iter=True)

    def _reset(self, loader, first_iter: bool = False) -> None:
        super()._reset(loader, first_iter)
        n = self._num_workers
        self._send_idx = 0  # next task to send
        self._rcvd_idx = 0  # next task to yield
        self._task_info: dict[int, int] = {}  # task -> worker, until yielded
        self._stash: dict[int, Any] = {}  # tasks answered ahead of their turn
        self._workers_status = [True] * n  # False once a worker's IterableDataset ended
        self._workers_num_tasks = [0] * n  # sent and not yet yielded, per worker
        self._worker_cycle = itertools.cycle(range(n))
        if not first_iter:
            # Persistent workers: start a new epoch. Answers to tasks of the previous
            # epoch still on their way arrive before each worker's acknowledgement and
            # are dropped.
            for wid in range(n):
                self._pool.put(wid, _ResumeIteration())
            pending = n
            while pending:
                _, (idx, _) = self._get_data()
                pending -= isinstance(idx, _ResumeIteration)
        for _ in range(self._prefetch_factor * n):
            self._try_put_index()

    def _try_put_index(self) -> None:
        try:
            index = self._next_index()
        except StopIteration:
            return
        max_tasks = self._prefetch_factor * self._num_workers
        active = sum(self._workers_status)
        for _ in range(self._num_workers):  # the next active worker, if any
            wid = next(self._worker_cycle)
            if self._workers_status[wid] and (
                    self._in_order or self._workers_num_tasks[wid] < max_tasks // active):
                break
        else:
            return
        self._pool.put(wid, (self._send_idx, index))
        self._task_info[self._send_idx] = wid
        self._workers_num_tasks[wid] += 1
        self._send_idx += 1

    def _get_data(self):
        """(worker id, (task idx, data)) of the next message from any worker."""
        try:
            return self._pool.receive(self._timeout or None)
        except ReceiveTimeout:
            raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds") from None
        except WorkersDied as e:
            self._shutdown_workers()
            raise RuntimeError(str(e)) from None

    def _next_data(self):
        if self._shutdown:
            raise StopIteration
        try:
            return self._next_task()
        except KeyboardInterrupt:
            self._shutdown_workers()  # Ctrl-C: no worker outlives the loop
            raise

    def _next_task(self):
        while True:
            # Skip tasks that will never be answered: their worker's stream ended.
            while self._rcvd_idx < self._send_idx:
                if self._rcvd_idx in self._stash:
                    break
                wid = self._task_info.get(self._rcvd_idx)
                if wid is not None and self._workers_status[wid]:
                    break
                self._task_info.pop(self._rcvd_idx, None)
                self._rcvd_idx += 1
            else:
                if not self._persistent_workers:
                    self._shutdown_workers()
                raise StopIteration

            if self._rcvd_idx in self._stash:
                idx = self._rcvd_idx
                self._rcvd_idx += 1
                return self._process_data(self._stash.pop(idx), self._task_info.pop(idx))

            wid, (idx, data) = self._get_data()
            if isinstance(data, _IterableDatasetStopIteration):
                self._worker_ended(data.worker_id)
                self._try_put_index()
                continue
            if idx not in self._task_info:
                continue  # a late answer to a task of an earlier epoch
            if idx != self._rcvd_idx and self._in_order:
                self._stash[idx] = data
                continue
            if idx == self._rcvd_idx:
                self._rcvd_idx += 1
            return self._process_data(data, self._task_info.pop(idx))

    def _worker_ended(self, wid: int) -> None:
        self._workers_status[wid] = False
        if not self._persistent_workers:
            self._pool.stop_worker(wid)

    def _process_data(self, data, wid: int):
        self._workers_num_tasks[wid] -= 1
        self._try_put_index()
        if isinstance(data, ExceptionWrapper):
            data.reraise()
        return _pin_memory(data) if self._pin_memory else data

    def _shutdown_workers(self) -> None:
        self._shutdown = True
        self._finalizer()  # pool.shutdown(), once
