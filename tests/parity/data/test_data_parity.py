"""taimatsu.utils.data against torch.utils.data: collation, samplers' partitions,
random_split's rounding, DataLoader batches, len and argument errors.

Random streams differ by design (different RNGs), so only deterministic behaviour is
compared exactly; shuffled orders are compared by their properties.
"""

import collections
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import torch.utils.data as tud  # noqa: E402

import taimatsu  # noqa: E402
import taimatsu.utils.data as tmd  # noqa: E402

pytestmark = pytest.mark.parity

Point = collections.namedtuple("Point", ["x", "y"])


def _plain(obj):
    """A framework-neutral form of a (nested) batch: tensors -> (dtype name, shape, values)."""
    if isinstance(obj, (torch.Tensor, taimatsu.Tensor)):
        return ("tensor", str(obj.dtype).split(".")[-1], tuple(obj.shape), obj.tolist())
    if isinstance(obj, dict):
        return (type(obj).__name__, {k: _plain(v) for k, v in obj.items()})
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return (type(obj).__name__, [_plain(v) for v in obj])
    if isinstance(obj, (list, tuple)):
        return (type(obj).__name__, [_plain(v) for v in obj])
    return obj


def _outcome(fn, lib):
    try:
        return "ok", _plain(fn(lib))
    except Exception as exc:  # noqa: BLE001 - the exception itself is compared
        return type(exc).__name__, str(exc)


def _both(fn):
    return _outcome(fn, tmd), _outcome(fn, tud)


# -- collation ----------------------------------------------------------------------------------

def _t(lib, *args, **kw):
    m = taimatsu if lib is tmd else torch
    return m.tensor(*args, **kw)


COLLATE_CASES = {
    "ints": lambda lib: lib.default_collate([1, 2, 3]),
    "floats": lambda lib: lib.default_collate([1.5, 2.0]),
    "int_then_float": lambda lib: lib.default_collate([1, 2.5]),
    "bools": lambda lib: lib.default_collate([True, False]),
    "np_scalars": lambda lib: lib.default_collate([np.float32(1), np.float32(2)]),
    "np_int16": lambda lib: lib.default_collate([np.int16(1), np.int16(-2)]),
    "np_arrays": lambda lib: lib.default_collate([np.arange(4, dtype=np.uint8).reshape(2, 2)] * 3),
    "np_0d": lambda lib: lib.default_collate([np.array(3.0), np.array(4.0)]),
    "tensors": lambda lib: lib.default_collate([_t(lib, [1.0, 2.0]), _t(lib, [3.0, 4.0])]),
    "mixed_tensors": lambda lib: lib.default_collate([_t(lib, 1), _t(lib, 2.0)]),
    "strings": lambda lib: lib.default_collate(["a", "b"]),
    "bytes": lambda lib: lib.default_collate([b"a", b"b"]),
    "dicts": lambda lib: lib.default_collate([{"a": 1, "b": "x", "c": np.zeros(2)}] * 2),
    "ordered": lambda lib: lib.default_collate([collections.OrderedDict(z=1.0, a=2)] * 2),
    "namedtuple": lambda lib: lib.default_collate([Point(1, 2.0), Point(3, 4.0)]),
    "tuples": lambda lib: lib.default_collate([(1, "a", 2.0), (2, "b", 3.0)]),
    "lists": lambda lib: lib.default_collate([[1, [2, 3]], [4, [5, 6]]]),
    "unequal_lists": lambda lib: lib.default_collate([[1, 2], [1]]),
    "object": lambda lib: lib.default_collate([object(), object()]),
    "str_array": lambda lib: lib.default_collate([np.array(["a"]), np.array(["b"])]),
    "unequal_arrays": lambda lib: lib.default_collate([np.zeros(2), np.zeros(3)]),
    "unequal_tensors": lambda lib: lib.default_collate([_t(lib, [1.0]), _t(lib, [1.0, 2.0])]),
    "convert_array": lambda lib: lib.default_convert(np.arange(3)),
    "convert_nested": lambda lib: lib.default_convert({"a": (np.zeros(1), 2), "s": "x"}),
    "convert_namedtuple": lambda lib: lib.default_convert(Point(np.array(0), 1)),
    "convert_np_scalar": lambda lib: lib.default_convert(np.float64(3)),
    "convert_str_array": lambda lib: lib.default_convert(np.array(["a"])).tolist(),
}


@pytest.mark.parametrize("name", COLLATE_CASES)
def test_collate_matches_torch(name):
    ours, theirs = _both(COLLATE_CASES[name])
    assert ours == theirs


# -- samplers -----------------------------------------------------------------------------------

@pytest.mark.parametrize("n,replicas,drop_last", [
    (10, 4, False), (10, 4, True), (2, 5, False), (2, 5, True), (12, 3, False), (13, 3, True),
    (1, 1, False), (7, 8, False),
])
def test_distributed_sampler_partitions_like_torch(n, replicas, drop_last):
    for rank in range(replicas):
        ours = tmd.DistributedSampler(range(n), replicas, rank, shuffle=False, drop_last=drop_last)
        theirs = tud.DistributedSampler(range(n), replicas, rank, shuffle=False, drop_last=drop_last)
        assert list(ours) == list(theirs)
        assert (len(ours), ours.num_samples, ours.total_size) == \
            (len(theirs), theirs.num_samples, theirs.total_size)


def test_distributed_sampler_shuffled_partition_has_torchs_properties():
    n, replicas = 23, 4
    ours = [list(tmd.DistributedSampler(range(n), replicas, r, seed=3)) for r in range(replicas)]
    theirs = [list(tud.DistributedSampler(range(n), replicas, r, seed=3)) for r in range(replicas)]
    assert [len(s) for s in ours] == [len(s) for s in theirs]
    flat_ours = [i for s in ours for i in s]
    assert set(flat_ours) == set(range(n))
    # Padding repeats exactly as many indices as torch's does.
    assert len(flat_ours) - n == sum(len(s) for s in theirs) - n


@pytest.mark.parametrize("n,batch,drop_last", [(10, 3, False), (10, 3, True), (9, 3, True), (2, 5, False)])
def test_batch_and_sequential_samplers_match(n, batch, drop_last):
    ours = tmd.BatchSampler(tmd.SequentialSampler(range(n)), batch, drop_last)
    theirs = tud.BatchSampler(tud.SequentialSampler(range(n)), batch, drop_last)
    assert list(ours) == list(theirs) and len(ours) == len(theirs)


SAMPLER_ERRORS = {
    "random_replacement": lambda lib: lib.RandomSampler(range(3), replacement=1),
    "random_num_samples": lambda lib: lib.RandomSampler(range(3), num_samples=-2),
    "random_empty": lambda lib: lib.RandomSampler([]),
    "weighted_num_samples": lambda lib: lib.WeightedRandomSampler([1.0], 0),
    "weighted_replacement": lambda lib: lib.WeightedRandomSampler([1.0], 1, replacement="x"),
    "weighted_shape": lambda lib: lib.WeightedRandomSampler([[1.0, 2.0]], 1),
    "batch_size": lambda lib: lib.BatchSampler(range(3), 0, False),
    "batch_drop_last": lambda lib: lib.BatchSampler(range(3), 2, None),
    "distributed_rank": lambda lib: lib.DistributedSampler(range(3), 2, 2),
}


@pytest.mark.parametrize("name", SAMPLER_ERRORS)
def test_sampler_errors_match(name):
    ours, theirs = _both(SAMPLER_ERRORS[name])
    assert ours[0] != "ok" and ours == theirs


def test_random_sampler_lengths_match():
    for kw in ({}, {"num_samples": 7}, {"replacement": True, "num_samples": 70}):
        ours = list(tmd.RandomSampler(range(5), **kw))
        theirs = list(tud.RandomSampler(range(5), **kw))
        assert len(ours) == len(theirs)
        assert collections.Counter(ours).keys() <= set(range(5))


# -- random_split -------------------------------------------------------------------------------

@pytest.mark.parametrize("n,lengths", [
    (10, [0.3, 0.7]), (11, [0.5, 0.5]), (10, [0.33, 0.33, 0.34]), (7, [0.25] * 4),
    (100, [0.1] * 10), (5, [3, 2]), (5, [2, 2]), (5, [0.5, 1.5, -1.0]), (3, [0.9, 0.1]),
])
def test_random_split_lengths_and_errors_match(n, lengths):
    def split(lib):
        gen = taimatsu.Generator() if lib is tmd else torch.Generator()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            sizes = [len(s) for s in lib.random_split(range(n), lengths, generator=gen)]
        return sizes, [str(w.message) for w in caught]

    ours, theirs = _both(split)
    assert ours == theirs


# -- DataLoader ---------------------------------------------------------------------------------

class Samples:
    """A framework-neutral map-style dataset (subclassed per framework below)."""

    def __len__(self):
        return 11

    def __getitem__(self, i):
        return {"i": i, "f": i / 2, "a": np.full((2,), i, dtype=np.int32), "p": Point(i, "s")}


class TmSamples(Samples, tmd.Dataset):
    pass


class TorchSamples(Samples, tud.Dataset):
    pass


def _dataset(lib):
    return TmSamples() if lib is tmd else TorchSamples()


@pytest.mark.parametrize("kwargs", [
    {}, {"batch_size": 4}, {"batch_size": 4, "drop_last": True}, {"batch_size": None},
    {"sampler": [3, 1, 4, 1, 5], "batch_size": 2},
])
def test_dataloader_batches_and_len_match(kwargs):
    def run(lib):
        loader = lib.DataLoader(_dataset(lib), **kwargs)
        return len(loader), list(loader)

    ours, theirs = _both(run)
    assert ours[0] == "ok" and ours == theirs


def test_dataloader_with_workers_matches():
    def run(lib):
        return list(lib.DataLoader(_dataset(lib), batch_size=3, num_workers=2))

    ours, theirs = _both(run)
    assert ours[0] == "ok" and ours == theirs


class Count:
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        return self.n


class TmCount(Count, tmd.IterableDataset):
    pass


class TorchCount(Count, tud.IterableDataset):
    pass


@pytest.mark.parametrize("kwargs", [{"batch_size": 3}, {"batch_size": 3, "drop_last": True},
                                    {"batch_size": None}])
def test_iterable_dataset_batches_and_len_match(kwargs):
    def run(lib):
        loader = lib.DataLoader(TmCount(7) if lib is tmd else TorchCount(7), **kwargs)
        return len(loader), list(loader)

    ours, theirs = _both(run)
    assert ours[0] == "ok" and ours == theirs


LOADER_ERRORS = {
    "num_workers": {"num_workers": -1},
    "timeout": {"timeout": -1},
    "prefetch_no_workers": {"prefetch_factor": 2},
    "prefetch_negative": {"num_workers": 1, "prefetch_factor": -1},
    "persistent": {"persistent_workers": True},
    "sampler_shuffle": {"sampler": [0], "shuffle": True},
    "batch_sampler": {"batch_sampler": [[0]], "batch_size": 2},
    "batch_sampler_drop_last": {"batch_sampler": [[0]], "drop_last": True},
    "batch_none_drop_last": {"batch_size": None, "drop_last": True},
    "context_no_workers": {"multiprocessing_context": "spawn"},
    "context_name": {"num_workers": 1, "multiprocessing_context": "nope"},
    "context_type": {"num_workers": 1, "multiprocessing_context": 3},
    "batch_size_zero": {"batch_size": 0},
}


@pytest.mark.parametrize("name", LOADER_ERRORS)
def test_dataloader_argument_errors_match(name):
    ours, theirs = _both(lambda lib: lib.DataLoader(_dataset(lib), **LOADER_ERRORS[name]))
    assert ours[0] != "ok" and ours == theirs


@pytest.mark.parametrize("kwargs", [{"shuffle": True}, {"sampler": [0]}, {"batch_sampler": [[0]]}])
def test_iterable_dataset_argument_errors_match(kwargs):
    ours, theirs = _both(lambda lib: lib.DataLoader(TmCount(3) if lib is tmd else TorchCount(3), **kwargs))
    assert ours[0] != "ok" and ours == theirs


def test_frozen_attribute_error_matches():
    def run(lib):
        lib.DataLoader(_dataset(lib)).batch_size = 3

    ours, theirs = _both(run)
    assert ours[0] == "ValueError" and ours == theirs


class Failing:
    def __len__(self):
        return 4

    def __getitem__(self, i):
        if i == 1:
            raise ValueError("bad sample")
        return i


class TmFailing(Failing, tmd.Dataset):
    pass


class TorchFailing(Failing, tud.Dataset):
    pass


def test_worker_error_message_has_torchs_form():
    def first_line(lib):
        ds = TmFailing() if lib is tmd else TorchFailing()
        it = iter(lib.DataLoader(ds, num_workers=2))
        next(it)
        with pytest.raises(ValueError) as err:
            next(it)
        lines = str(err.value).splitlines()
        return lines[0], lines[1], lines[-1]

    assert first_line(tmd) == first_line(tud) == (
        "Caught ValueError in DataLoader worker process 1.",
        "Original Traceback (most recent call last):", "ValueError: bad sample")


def test_worker_seeds_follow_torchs_rule():
    """base_seed drawn per iterator, worker seed = base_seed + worker id, in both."""
    class Seeds:
        def __len__(self):
            return 2

        def __getitem__(self, i):
            info = (tmd if isinstance(self, tmd.Dataset) else tud).get_worker_info()
            return info.seed - info.id

    class TmSeeds(Seeds, tmd.Dataset):
        pass

    class TorchSeeds(Seeds, tud.Dataset):
        pass

    for lib, ds in ((tmd, TmSeeds()), (tud, TorchSeeds())):
        bases = [int(b) for b in lib.DataLoader(ds, batch_size=None, num_workers=2)]
        assert bases[0] == bases[1] and bases[0] >= 0
