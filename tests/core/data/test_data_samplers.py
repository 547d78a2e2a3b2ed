"""Tests for utils/data/sampler.py and utils/data/distributed.py."""

import collections

import numpy as np
import pytest
from scipy import stats

import taimatsu
from taimatsu.utils.data import (
    BatchSampler,
    DistributedSampler,
    RandomSampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)


def _gen(seed=0):
    return taimatsu.Generator().manual_seed(seed)


def test_sequential_sampler():
    s = SequentialSampler(range(4))
    assert list(s) == [0, 1, 2, 3] and len(s) == 4


# -- RandomSampler ------------------------------------------------------------------------------

def test_random_sampler_is_a_permutation_per_pass():
    s = RandomSampler(range(50), generator=_gen(1))
    first, second = list(s), list(s)
    assert sorted(first) == sorted(second) == list(range(50))
    assert first != second  # the generator moves on between passes
    assert list(RandomSampler(range(50), generator=_gen(1))) == first
    assert all(type(i) is int for i in first)


def test_random_sampler_without_generator_follows_the_default_generator():
    taimatsu.manual_seed(3)
    a = list(RandomSampler(range(30)))
    taimatsu.manual_seed(3)
    assert list(RandomSampler(range(30))) == a


def test_random_sampler_num_samples_without_replacement_chains_permutations():
    out = list(RandomSampler(range(4), num_samples=10, generator=_gen()))
    assert len(out) == 10
    assert sorted(out[:4]) == sorted(out[4:8]) == [0, 1, 2, 3]
    assert set(out[8:]) <= {0, 1, 2, 3} and len(set(out[8:])) == 2


def test_random_sampler_with_replacement():
    s = RandomSampler(range(3), replacement=True, num_samples=70, generator=_gen())
    out = list(s)
    assert len(s) == len(out) == 70 and set(out) == {0, 1, 2}
    counts = collections.Counter(list(RandomSampler(range(3), True, 30_000, _gen(2))))
    assert stats.chisquare(list(counts.values())).pvalue > 1e-4


def test_random_sampler_errors():
    with pytest.raises(TypeError, match="replacement should be a boolean value, but got replacement=1"):
        RandomSampler(range(3), replacement=1)
    with pytest.raises(ValueError, match="num_samples should be a positive integer value, but got num_samples=0"):
        RandomSampler(range(3), num_samples=0)
    with pytest.raises(ValueError, match="num_samples=0"):
        RandomSampler([])


# -- SubsetRandomSampler / WeightedRandomSampler ------------------------------------------------

def test_subset_random_sampler():
    s = SubsetRandomSampler([10, 20, 30], generator=_gen())
    assert len(s) == 3 and sorted(s) == [10, 20, 30]


def test_weighted_random_sampler_follows_the_weights():
    w = [0.1, 0.0, 0.6, 0.3]
    out = list(WeightedRandomSampler(w, 20_000, generator=_gen()))
    counts = np.bincount(out, minlength=4)
    assert counts[1] == 0
    assert stats.chisquare(counts[[0, 2, 3]], 20_000 * np.array([0.1, 0.6, 0.3])).pvalue > 1e-4


def test_weighted_random_sampler_without_replacement():
    s = WeightedRandomSampler([1, 1, 1, 5], 4, replacement=False, generator=_gen())
    out = list(s)
    assert len(s) == 4 and sorted(out) == [0, 1, 2, 3]
    assert s.weights.dtype is taimatsu.float64


def test_weighted_random_sampler_errors():
    with pytest.raises(ValueError, match="num_samples should be a positive integer value, but got num_samples=True"):
        WeightedRandomSampler([1.0], True)
    with pytest.raises(ValueError, match="replacement should be a boolean value, but got replacement=0"):
        WeightedRandomSampler([1.0], 1, replacement=0)
    with pytest.raises(ValueError, match=r"weights should be a 1d sequence but given weights have shape \(1, 2\)"):
        WeightedRandomSampler([[1.0, 2.0]], 1)


# -- BatchSampler -------------------------------------------------------------------------------

@pytest.mark.parametrize("drop_last,expected", [
    (False, [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]),
    (True, [[0, 1, 2], [3, 4, 5], [6, 7, 8]]),
])
def test_batch_sampler(drop_last, expected):
    s = BatchSampler(SequentialSampler(range(10)), 3, drop_last)
    assert list(s) == expected and len(s) == len(expected)
    assert list(BatchSampler(range(6), 3, drop_last)) == [[0, 1, 2], [3, 4, 5]]


def test_batch_sampler_takes_any_iterable_lazily():
    def gen():
        yield from range(5)
        raise AssertionError("read past what was asked for")

    it = iter(BatchSampler(gen(), 2, False))
    assert next(it) == [0, 1] and next(it) == [2, 3]


@pytest.mark.parametrize("kwargs,match", [
    ({"batch_size": 0, "drop_last": False}, "batch_size should be a positive integer value, but got batch_size=0"),
    ({"batch_size": True, "drop_last": False}, "batch_size=True"),
    ({"batch_size": 2, "drop_last": 1}, "drop_last should be a boolean value, but got drop_last=1"),
])
def test_batch_sampler_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        BatchSampler(range(3), **kwargs)


# -- DistributedSampler -------------------------------------------------------------------------

def _shares(n, replicas, **kw):
    return [list(DistributedSampler(range(n), replicas, r, **kw)) for r in range(replicas)]


def test_distributed_sampler_pads_by_repeating_the_start():
    shares = _shares(10, 4, shuffle=False)
    assert shares == [[0, 4, 8], [1, 5, 9], [2, 6, 0], [3, 7, 1]]
    assert len(DistributedSampler(range(10), 4, 0)) == 3


def test_distributed_sampler_drop_last_cuts_the_tail():
    shares = _shares(10, 4, shuffle=False, drop_last=True)
    assert shares == [[0, 4], [1, 5], [2, 6], [3, 7]]
    assert DistributedSampler(range(10), 4, 0, drop_last=True).total_size == 8


def test_distributed_sampler_pads_tiny_datasets_several_times():
    assert _shares(2, 5, shuffle=False) == [[0], [1], [0], [1], [0]]


def test_distributed_sampler_shuffle_is_shared_and_changes_with_epoch():
    shares = _shares(23, 3, seed=7)
    flat = sorted(i for s in shares for i in s)
    assert len(flat) == 24 and set(flat) == set(range(23))  # one repeat of padding
    assert _shares(23, 3, seed=7) == shares  # same seed: same partition on every replica
    s = DistributedSampler(range(23), 3, 1, seed=7)
    s.set_epoch(1)
    assert list(s) != shares[1] and s.epoch == 1


def test_distributed_sampler_errors():
    with pytest.raises(ValueError, match=r"Invalid rank 4, rank should be in the interval \[0, 3\]"):
        DistributedSampler(range(4), num_replicas=4, rank=4)
    with pytest.raises(ValueError, match="Invalid rank -1"):
        DistributedSampler(range(4), num_replicas=4, rank=-1)
    # No process group to ask: RuntimeError without taimatsu.distributed, the process
    # group's own error (ValueError in torch) without init_process_group.
    with pytest.raises((RuntimeError, ValueError)):
        DistributedSampler(range(4))
