"""Tests for utils/data/dataset.py: the dataset classes and random_split."""

import warnings

import numpy as np
import pytest

import taimatsu
from taimatsu.utils.data import (
    ChainDataset,
    ConcatDataset,
    Dataset,
    IterableDataset,
    StackDataset,
    Subset,
    TensorDataset,
    random_split,
)


class Squares(Dataset):
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if not -self.n <= i < self.n:
            raise IndexError(i)
        return i * i


class Stream(IterableDataset):
    def __init__(self, *items):
        self.items = items

    def __iter__(self):
        return iter(self.items)

    def __len__(self):
        return len(self.items)


# -- TensorDataset ------------------------------------------------------------------------------

def test_tensor_dataset_indexes_every_tensor_along_dim0():
    x, y = taimatsu.arange(12).reshape(4, 3), taimatsu.tensor([10, 11, 12, 13])
    ds = TensorDataset(x, y)
    assert len(ds) == 4
    a, b = ds[2]
    assert a.tolist() == [6, 7, 8] and b.item() == 12
    assert [t.tolist() for t in ds[1:3]] == [[[3, 4, 5], [6, 7, 8]], [11, 12]]


def test_tensor_dataset_size_mismatch():
    with pytest.raises(AssertionError, match="Size mismatch between tensors"):
        TensorDataset(taimatsu.zeros(3, 2), taimatsu.zeros(4))


def test_tensor_dataset_getitems_matches_getitem():
    x = taimatsu.randn(10, 2, 3)
    y = taimatsu.arange(10)
    ds = TensorDataset(x, y)
    idx = [7, 0, 3, -1, 7]
    fast = ds.__getitems__(idx)
    slow = [ds[i] for i in idx]
    assert len(fast) == len(slow)
    for (a, b), (c, d) in zip(fast, slow):
        assert a.shape == c.shape and b.shape == d.shape == ()
        assert np.array_equal(a.numpy(), c.numpy()) and b.item() == d.item()
        assert a.dtype is c.dtype and b.dtype is d.dtype


def test_tensor_dataset_getitems_keeps_autograd_and_errors_and_overrides():
    w = taimatsu.randn(4, 2, requires_grad=True)
    rows = TensorDataset(w).__getitems__([1, 2])
    assert rows[0][0].grad_fn is not None  # through the indexing op, not a copy
    with pytest.raises(IndexError, match="out of bounds"):
        TensorDataset(taimatsu.zeros(3)).__getitems__([0, 5])

    class Doubled(TensorDataset):
        def __getitem__(self, i):
            return (self.tensors[0][i] * 2,)

    # A subclass overriding __getitem__ is still called sample by sample.
    assert Doubled(taimatsu.arange(3)).__getitems__([2])[0][0].item() == 4


# -- StackDataset -------------------------------------------------------------------------------

def test_stack_dataset_tuple_and_dict():
    a, b = Squares(3), TensorDataset(taimatsu.arange(3))
    t = StackDataset(a, b)
    assert len(t) == 3
    assert t[2][0] == 4 and t[2][1][0].item() == 2
    d = StackDataset(sq=a, ts=b)
    assert d[1]["sq"] == 1 and d[1]["ts"][0].item() == 1
    batch = d.__getitems__([0, 2])
    assert [s["sq"] for s in batch] == [0, 4]
    assert [s["ts"][0].item() for s in batch] == [0, 2]
    assert [s[0] for s in t.__getitems__([2, 1])] == [4, 1]


def test_stack_dataset_errors():
    with pytest.raises(ValueError, match="At least one dataset should be passed"):
        StackDataset()
    with pytest.raises(ValueError, match="but both types are given"):
        StackDataset(Squares(2), b=Squares(2))
    with pytest.raises(ValueError, match="Size mismatch between datasets"):
        StackDataset(Squares(2), Squares(3))

    class Short(Squares):
        def __getitems__(self, idx):
            return [0]

    with pytest.raises(ValueError, match="Nested dataset's output size mismatch. Expected 2, got 1"):
        StackDataset(Short(3)).__getitems__([0, 1])


# -- ConcatDataset / ChainDataset -----------------------------------------------------------------

def test_concat_dataset_maps_indices_and_negative_indices():
    ds = ConcatDataset([Squares(2), Squares(3)])
    assert len(ds) == 5 and ds.cumulative_sizes == [2, 5]
    assert [ds[i] for i in range(5)] == [0, 1, 0, 1, 4]
    assert ds[-1] == 4 and ds[-5] == 0
    with pytest.raises(ValueError, match="absolute value of index should not exceed dataset length"):
        ds[-6]
    assert [(Squares(1) + Squares(2))[i] for i in range(3)] == [0, 0, 1]


def test_concat_dataset_errors():
    with pytest.raises(AssertionError, match="datasets should not be an empty iterable"):
        ConcatDataset([])
    with pytest.raises(AssertionError, match="ConcatDataset does not support IterableDataset"):
        ConcatDataset([Stream(1)])


def test_chain_dataset():
    ds = ChainDataset([Stream(1, 2), Stream(3)])
    assert list(ds) == [1, 2, 3] and len(ds) == 3
    assert list(Stream(1) + Stream(2)) == [1, 2]
    with pytest.raises(AssertionError, match="ChainDataset only supports IterableDataset"):
        list(ChainDataset([Squares(2)]))


def test_iterable_dataset_is_abstract():
    class NoIter(IterableDataset):
        pass

    with pytest.raises(TypeError, match="abstract"):
        NoIter()


# -- Subset and random_split --------------------------------------------------------------------

def test_subset_keeps_integer_indices_in_a_numpy_array():
    sub = Subset(Squares(10), [3, 1, 4])
    assert isinstance(sub.indices, np.ndarray) and sub.indices.dtype == np.int64
    assert len(sub) == 3 and [sub[i] for i in range(3)] == [9, 1, 16]
    assert sub.__getitems__([2, 0]) == [16, 9]
    # The wrapped dataset receives Python ints, as with a list of indices.
    seen = []

    class Recorder(Squares):
        def __getitem__(self, i):
            seen.append(type(i))
            return super().__getitem__(i)

    Subset(Recorder(5), [1, 2])[0]
    assert seen == [int]
    assert isinstance(Subset(Squares(5), taimatsu.tensor([1, 2])).indices, np.ndarray)


def test_subset_keeps_non_integer_keys_and_list_index():
    data = {"a": 1, "b": 2}
    sub = Subset(data, ["b", "a"])
    assert sub.indices == ["b", "a"] and sub[0] == 2 and sub.__getitems__([1]) == [1]

    class ListIndexed(Squares):
        def __getitem__(self, i):
            return list(i) if isinstance(i, list) else i

    assert Subset(ListIndexed(5), [4, 3])[[0, 1]] == [4, 3]


def test_subset_uses_the_datasets_getitems():
    class Batched(Squares):
        def __getitems__(self, idx):
            return [("batched", i) for i in idx]

    assert Subset(Batched(5), [4, 2]).__getitems__([1, 0]) == [("batched", 2), ("batched", 4)]


def test_subset_subclass_overriding_only_getitem_is_refused():
    class Bad(Subset):
        def __getitem__(self, i):
            return 0

    with pytest.raises(TypeError, match="overrides __getitem__ but not __getitems__"):
        Bad(Squares(3), [0])


def test_random_split_lengths_partition_the_dataset():
    parts = random_split(Squares(10), [3, 7], generator=taimatsu.Generator().manual_seed(1))
    assert [len(p) for p in parts] == [3, 7]
    idx = np.concatenate([p.indices for p in parts])
    assert sorted(idx.tolist()) == list(range(10))
    again = random_split(Squares(10), [3, 7], generator=taimatsu.Generator().manual_seed(1))
    assert all(np.array_equal(a.indices, b.indices) for a, b in zip(parts, again))


@pytest.mark.parametrize("n,fractions,expected", [
    (10, [0.3, 0.7], [3, 7]),
    (11, [0.5, 0.5], [6, 5]),            # remainder to the first split
    (10, [0.33, 0.33, 0.34], [4, 3, 3]),  # floors 3, 3, 3; remainder round-robin
    (7, [0.25, 0.25, 0.25, 0.25], [2, 2, 2, 1]),
])
def test_random_split_fractions_follow_torchs_rounding(n, fractions, expected):
    parts = random_split(Squares(n), fractions, generator=taimatsu.Generator().manual_seed(0))
    assert [len(p) for p in parts] == expected


def test_random_split_errors_and_warning():
    with pytest.raises(ValueError, match="Sum of input lengths does not equal"):
        random_split(Squares(5), [2, 2])
    with pytest.raises(ValueError, match="Fraction at index 1 is not between 0 and 1"):
        random_split(Squares(5), [0.5, 1.5, -1.0])
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        random_split(Squares(2), [0.9, 0.1])


def test_random_split_uses_the_default_generator():
    taimatsu.manual_seed(5)
    a = random_split(Squares(20), [10, 10])
    taimatsu.manual_seed(5)
    b = random_split(Squares(20), [10, 10])
    assert np.array_equal(a[0].indices, b[0].indices)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        random_split(Squares(4), [0.5, 0.5])  # no zero-length warning
