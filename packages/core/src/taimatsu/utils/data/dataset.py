"""Datasets: the map-style and iterable-style bases and the combinators torch has."""

from __future__ import annotations

import bisect
import itertools
import math
import warnings
from collections.abc import Iterable, Sequence
from typing import Generic, TypeVar

import numpy as np

from ..._tensor import Tensor

__all__ = ["ChainDataset", "ConcatDataset", "Dataset", "IterableDataset", "StackDataset",
           "Subset", "TensorDataset", "random_split"]

T_co = TypeVar("T_co", covariant=True)
T = TypeVar("T")


class Dataset(Generic[T_co]):
    """A map from keys (usually indices in [0, len)) to samples.

    Subclasses define `__getitem__`, usually `__len__` (which samplers and the
    DataLoader's defaults need), and may define `__getitems__(indices) -> list` to
    fetch a whole batch at once. Keep per-sample metadata in NumPy arrays, not in
    lists of Python objects (see the package docstring).
    """

    def __add__(self, other: Dataset[T_co]) -> ConcatDataset[T_co]:
        return ConcatDataset([self, other])


class IterableDataset(Dataset[T_co], Iterable[T_co]):
    """A stream of samples: subclasses define `__iter__` (abstract: a subclass without
    it cannot be instantiated).

    With `num_workers > 0` every worker iterates over its own copy; use
    `get_worker_info()` in `__iter__` (or in a `worker_init_fn`) to give each worker
    a different shard, or every sample will be seen `num_workers` times.
    """

    def __add__(self, other: Dataset[T_co]):
        return ChainDataset([self, other])


class TensorDataset(Dataset[tuple]):
    """Samples are `tuple(t[index] for t in tensors)`; all tensors share their first dim."""

    def __init__(self, *tensors: Tensor) -> None:
        if any(tensors[0].shape[0] != t.shape[0] for t in tensors):
            raise AssertionError("Size mismatch between tensors")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __getitems__(self, indices: list) -> list:
        """The samples at `indices` (what the DataLoader asks for a batch).

        Gathers each tensor's rows with one NumPy take instead of one indexing op per
        sample. The rows are fresh copies, as the stacked batch is in torch, so this
        applies only where no autograd graph is involved; otherwise (and for a subclass
        that overrides __getitem__, which must keep being called) sample by sample.
        """
        n = len(self)
        if type(self).__getitem__ is not TensorDataset.__getitem__ or not indices or any(
                type(t) is not Tensor or type(t._data) is not np.ndarray or t._rg
                for t in self.tensors):
            return [self[i] for i in indices]
        idx = np.asarray(indices)
        if idx.dtype.kind not in "iu" or idx.ndim != 1 or idx.min() < -n or idx.max() >= n:
            return [self[i] for i in indices]  # indexing's own errors for bad indices
        gathered = [t._data.take(idx, 0) for t in self.tensors]
        # g[j, ...] is a 0-dim array view where g[j] would be a NumPy scalar.
        return [tuple(Tensor._make(g[j, ...]) for g in gathered) for j in range(len(idx))]

    def __len__(self) -> int:
        return self.tensors[0].shape[0]


class StackDataset(Dataset[T_co]):
    """Zips equally long datasets: a tuple sample from `*args`, a dict from `**kwargs`."""

    def __init__(self, *args: Dataset, **kwargs: Dataset) -> None:
        if args and kwargs:
            raise ValueError("Supported either ``tuple``- (via ``args``) or"
                             "``dict``- (via ``kwargs``) like input/output, but both types "
                             "are given.")
        if not args and not kwargs:
            raise ValueError("At least one dataset should be passed")
        parts = list(args) if args else list(kwargs.values())
        self._length = len(parts[0])
        if any(self._length != len(d) for d in parts):
            raise ValueError("Size mismatch between datasets")
        self.datasets = args if args else kwargs

    def __getitem__(self, index):
        if isinstance(self.datasets, dict):
            return {k: d[index] for k, d in self.datasets.items()}
        return tuple(d[index] for d in self.datasets)

    def __getitems__(self, indices: list) -> list:
        named = isinstance(self.datasets, dict)
        parts = self.datasets.items() if named else enumerate(self.datasets)
        columns = {key: _fetch_many(d, indices) for key, d in parts}
        if named:
            return [{k: col[i] for k, col in columns.items()} for i in range(len(indices))]
        return [tuple(col[i] for col in columns.values()) for i in range(len(indices))]

    def __len__(self) -> int:
        return self._length


def _fetch_many(dataset, indices: list) -> list:
    """`dataset`'s samples at `indices`, through `__getitems__` when it has one."""
    getitems = getattr(dataset, "__getitems__", None)
    if not callable(getitems):
        return [dataset[i] for i in indices]
    items = getitems(indices)
    if len(items) != len(indices):
        raise ValueError(f"Nested dataset's output size mismatch. Expected {len(indices)}, "
                         f"got {len(items)}")
    return items


class ConcatDataset(Dataset[T_co]):
    """The datasets one after another; `cumulative_sizes[i]` is where dataset i ends."""

    @staticmethod
    def cumsum(sequence) -> list[int]:
        return list(itertools.accumulate(len(d) for d in sequence))

    def __init__(self, datasets: Iterable[Dataset]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise AssertionError("datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise AssertionError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = self.cumsum(self.datasets)

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx):
        if idx < 0:
            if -idx > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            idx = len(self) + idx
        which = bisect.bisect_right(self.cumulative_sizes, idx)
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][idx - start]


class ChainDataset(IterableDataset):
    """IterableDatasets one after another, chained lazily."""

    def __init__(self, datasets: Iterable[Dataset]) -> None:
        self.datasets = datasets

    def __iter__(self):
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise AssertionError("ChainDataset only supports IterableDataset")
            yield from d

    def __len__(self) -> int:
        total = 0
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise AssertionError("ChainDataset only supports IterableDataset")
            total += len(d)
        return total


def _index_array(indices):
    """Integer indices as an int64 NumPy array (one buffer that forked workers share
    without touching); anything else (e.g. string keys) is kept as given."""
    if isinstance(indices, np.ndarray) and indices.dtype.kind in "iu":
        return indices
    if isinstance(indices, Tensor):
        indices = indices.numpy()
    if isinstance(indices, (list, tuple, range, np.ndarray)):
        arr = np.asarray(indices)
        if arr.ndim == 1 and (arr.dtype.kind in "iu" or arr.size == 0):
            return arr.astype(np.int64, copy=False)
    return indices


class Subset(Dataset[T_co]):
    """The samples of `dataset` at `indices`.

    Integer indices are stored as an int64 NumPy array (see the package docstring:
    a list of Python ints would be copied page by page into every worker).
    """

    def __init__(self, dataset: Dataset[T_co], indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = _index_array(indices)
        cls = type(self)
        if cls.__getitem__ is not Subset.__getitem__ and cls.__getitems__ is Subset.__getitems__:
            raise TypeError(
                f"{cls.__name__} overrides __getitem__ but not __getitems__. When subclassing "
                "Subset and overriding __getitem__, you must also override __getitems__ to "
                "ensure DataLoader works correctly with your custom logic. A simple "
                "implementation:\n\ndef __getitems__(self, indices):\n"
                "    return [self.__getitem__(idx) for idx in indices]")

    def _key(self, i):
        key = self.indices[i]
        return int(key) if isinstance(key, np.integer) else key

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return self.dataset[[self._key(i) for i in idx]]
        return self.dataset[self._key(idx)]

    def __getitems__(self, indices: list) -> list:
        if isinstance(self.indices, np.ndarray):
            keys = self.indices[np.asarray(indices, dtype=np.int64)].tolist()
        else:
            keys = [self._key(i) for i in indices]
        getitems = getattr(self.dataset, "__getitems__", None)
        if callable(getitems):
            return getitems(keys)
        return [self.dataset[k] for k in keys]

    def __len__(self) -> int:
        return len(self.indices)


def random_split(dataset: Dataset[T], lengths: Sequence[int | float],
                 generator=None) -> list[Subset[T]]:
    """Splits `dataset` at random into non-overlapping Subsets of the given lengths.

    Fractions summing to 1 are turned into lengths as torch does: floor(frac * len)
    each, then the remainder handed out one at a time round-robin from the first.
    `generator` defaults to taimatsu's default generator.
    """
    from ... import default_generator, randperm
    if generator is None:
        generator = default_generator
    lengths = list(lengths)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        lengths = _lengths_from_fractions(len(dataset), lengths)
    if sum(lengths) != len(dataset):
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")
    indices = randperm(sum(lengths), generator=generator).numpy()
    ends = itertools.accumulate(lengths)
    return [Subset(dataset, indices[end - n:end]) for end, n in zip(ends, lengths)]


def _lengths_from_fractions(n: int, fractions: list[float]) -> list[int]:
    lengths = []
    for i, frac in enumerate(fractions):
        if frac < 0 or frac > 1:
            raise ValueError(f"Fraction at index {i} is not between 0 and 1")
        lengths.append(math.floor(n * frac))
    for i in range(n - sum(lengths)):
        lengths[i % len(lengths)] += 1
    for i, length in enumerate(lengths):
        if length == 0:
            warnings.warn(f"Length of split at index {i} is 0. This might result in an "
                          "empty dataset.", stacklevel=3)
    return lengths
