"""Tests for utils/data/dataloader.py in the main process: batching, samplers, len,
argument validation. Worker processes are tested in test_data_workers.py."""

import multiprocessing
import warnings

import numpy as np
import pytest

import taimatsu
from taimatsu import Tensor
from taimatsu.utils.data import (
    BatchSampler,
    DataLoader,
    Dataset,
    IterableDataset,
    RandomSampler,
    SequentialSampler,
    TensorDataset,
    default_collate,
    default_convert,
    get_worker_info,
)


class Squares(Dataset):
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return {"i": i, "sq": np.array([i * i], dtype=np.float32)}


class Count(IterableDataset):
    def __init__(self, n, length=None):
        self.n = n
        self.length = length

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        return self.n if self.length is None else self.length


def test_batches_in_order_with_the_last_one_short():
    loader = DataLoader(Squares(10), batch_size=4)
    batches = list(loader)
    assert len(loader) == 3 and len(batches) == 3
    assert [b["i"].tolist() for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert isinstance(batches[0]["sq"], Tensor) and batches[0]["sq"].shape == (4, 1)
    assert batches[2]["sq"].tolist() == [[64.0], [81.0]]


def test_drop_last():
    loader = DataLoader(Squares(10), batch_size=4, drop_last=True)
    assert len(loader) == 2 and [b["i"].tolist() for b in loader] == [[0, 1, 2, 3], [4, 5, 6, 7]]


def test_tensor_dataset_batches():
    x, y = taimatsu.randn(7, 3), taimatsu.arange(7)
    xs, ys = zip(*DataLoader(TensorDataset(x, y), batch_size=3))
    assert np.array_equal(taimatsu.cat(xs).numpy(), x.numpy())
    assert taimatsu.cat(ys).tolist() == list(range(7))


def test_shuffle_is_a_permutation_and_follows_the_generator():
    def order(seed):
        loader = DataLoader(Squares(20), batch_size=5, shuffle=True,
                            generator=taimatsu.Generator().manual_seed(seed))
        return [i for b in loader for i in b["i"].tolist()]

    assert sorted(order(0)) == list(range(20)) and order(0) == order(0) != order(1)
    loader = DataLoader(Squares(5), shuffle=True)
    assert isinstance(loader.sampler, RandomSampler)


def test_batch_size_none_converts_without_batching():
    loader = DataLoader(Squares(3), batch_size=None)
    items = list(loader)
    assert loader.collate_fn is default_convert and len(loader) == 3
    assert items[1]["i"] == 1 and items[1]["sq"].tolist() == [1.0]


def test_custom_sampler_batch_sampler_and_collate_fn():
    loader = DataLoader(Squares(6), sampler=[5, 0, 3], batch_size=2, collate_fn=lambda b: [s["i"] for s in b])
    assert list(loader) == [[5, 0], [3]]
    bs = BatchSampler(SequentialSampler(range(6)), 3, drop_last=False)
    loader = DataLoader(Squares(6), batch_sampler=bs)
    assert loader.batch_size is None and loader.collate_fn is default_collate
    assert [b["i"].tolist() for b in loader] == [[0, 1, 2], [3, 4, 5]]


def test_getitems_is_used_for_a_batch():
    class Batched(Squares):
        def __getitems__(self, indices):
            return [{"i": -i, "sq": np.zeros(1)} for i in indices]

    assert next(iter(DataLoader(Batched(4), batch_size=2)))["i"].tolist() == [0, -1]


def test_iterable_dataset_batches_and_len():
    loader = DataLoader(Count(7), batch_size=3)
    assert [b.tolist() for b in loader] == [[0, 1, 2], [3, 4, 5], [6]]
    assert len(loader) == 3
    assert len(DataLoader(Count(7), batch_size=3, drop_last=True)) == 2
    assert [b.tolist() for b in DataLoader(Count(7), batch_size=3, drop_last=True)] == [[0, 1, 2], [3, 4, 5]]
    assert [x for x in DataLoader(Count(3), batch_size=None)] == [0, 1, 2]


def test_iterable_dataset_longer_than_reported_warns():
    loader = DataLoader(Count(4, length=2), batch_size=None)
    assert len(loader) == 2
    with pytest.warns(UserWarning, match="was reported to be 2"):
        list(loader)


def test_get_worker_info_is_none_in_the_main_process():
    assert get_worker_info() is None


def test_each_epoch_is_a_new_iterator():
    loader = DataLoader(Squares(3), batch_size=2)
    it1, it2 = iter(loader), iter(loader)
    assert it1 is not it2 and len(it1) == 2
    assert [b["i"].tolist() for b in it1] == [b["i"].tolist() for b in it2]


def test_pin_memory_without_cuda_warns_and_loads(monkeypatch):
    monkeypatch.setattr(taimatsu.cuda, "is_available", lambda: False)
    loader = DataLoader(Squares(2), batch_size=2, pin_memory=True)
    with pytest.warns(UserWarning, match="no accelerator is found"):
        batch = next(iter(loader))
    assert batch["i"].tolist() == [0, 1]


# -- argument validation (torch's errors) --------------------------------------------------------

@pytest.mark.parametrize("kwargs,match", [
    ({"num_workers": -1}, "num_workers option should be non-negative"),
    ({"timeout": -1}, "timeout option should be non-negative"),
    ({"prefetch_factor": 2}, "prefetch_factor option could only be specified in multiprocessing"),
    ({"num_workers": 1, "prefetch_factor": -1}, "prefetch_factor option should be non-negative"),
    ({"persistent_workers": True}, "persistent_workers option needs num_workers > 0"),
    ({"sampler": [0], "shuffle": True}, "sampler option is mutually exclusive with shuffle"),
    ({"batch_sampler": [[0]], "batch_size": 2}, "batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and drop_last"),
    ({"batch_sampler": [[0]], "drop_last": True}, "mutually exclusive"),
    ({"batch_size": None, "drop_last": True}, "batch_size=None option disables auto-batching and is mutually exclusive with drop_last"),
    ({"multiprocessing_context": "fork"}, r"multiprocessing_context can only be used with multi-process loading \(num_workers > 0\), but got num_workers=0"),
    ({"num_workers": 1, "multiprocessing_context": "nope"}, "multiprocessing_context option should specify a valid start method in"),
    ({"batch_size": 0}, "batch_size should be a positive integer value, but got batch_size=0"),
])
def test_argument_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DataLoader(Squares(4), **kwargs)


def test_multiprocessing_context_type_error_and_objects():
    with pytest.raises(TypeError, match="multiprocessing_context option should be a valid context object"):
        DataLoader(Squares(4), num_workers=1, multiprocessing_context=3)
    ctx = multiprocessing.get_context("spawn")
    assert DataLoader(Squares(4), num_workers=1, multiprocessing_context=ctx).multiprocessing_context is ctx
    named = DataLoader(Squares(4), num_workers=1, multiprocessing_context="spawn")
    assert named.multiprocessing_context.get_start_method() == "spawn"


@pytest.mark.parametrize("kwargs,match", [
    ({"shuffle": True}, "DataLoader with IterableDataset: expected unspecified shuffle option, but got shuffle=True"),
    ({"sampler": [0]}, r"DataLoader with IterableDataset: expected unspecified sampler option, but got sampler=\[0\]"),
    ({"batch_sampler": [[0]]}, "DataLoader with IterableDataset: expected unspecified batch_sampler option"),
])
def test_iterable_dataset_argument_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DataLoader(Count(3), **kwargs)


def test_attributes_are_frozen_after_init():
    loader = DataLoader(Squares(4))
    for attr in ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset", "persistent_workers"):
        with pytest.raises(ValueError, match=f"{attr} attribute should not be set after DataLoader is initialized"):
            setattr(loader, attr, None)
    loader.num_workers = 0  # others may change


def test_timeout_needs_workers():
    with pytest.raises(AssertionError, match="requires timeout == 0"):
        iter(DataLoader(Squares(4), timeout=1))


def test_too_many_workers_warns(monkeypatch):
    from taimatsu.utils.data import dataloader
    monkeypatch.setattr(dataloader, "_cpu_count", lambda: 2)
    with pytest.warns(UserWarning, match="This DataLoader will create 3 worker processes in total"):
        DataLoader(Squares(4), num_workers=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        DataLoader(Squares(4), num_workers=2)


def test_iterator_cannot_be_pickled():
    import pickle
    with pytest.raises(TypeError, match="cannot pickle"):
        pickle.dumps(iter(DataLoader(Squares(2))))
