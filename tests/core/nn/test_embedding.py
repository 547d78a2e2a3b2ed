"""nn.functional embedding ops and the Embedding layers: generated op cases plus edge cases."""

import re
import time

import numpy as np
import pytest
from op_cases.nn_norm import EMBEDDING_CASES

import taimatsu as tm
from taimatsu import nn
from taimatsu.nn import functional as F
from taimatsu.nn._functional.sparse import _index_add_rows
from taimatsu.testing import assert_close, generate_tests

globals().update(generate_tests(EMBEDDING_CASES))


RNG = np.random.default_rng(0)


def table(rows=10, dim=4, requires_grad=True):
    return tm.tensor(RNG.standard_normal((rows, dim)), requires_grad=requires_grad)


# -- the index-add behind the gradient --------------------------------------------------------

@pytest.mark.parametrize("kind", ["uniform", "skewed", "all-same", "empty"])
def test_index_add_rows_matches_add_at(kind):
    n = {"empty": 0}.get(kind, 3000)
    if kind == "uniform":
        idx = RNG.integers(0, 500, n)
    elif kind == "skewed":  # a few very frequent rows (long segments) and a long tail
        idx = np.minimum(RNG.zipf(1.5, n), 500) - 1
    else:
        idx = np.full(n, 7)
    src = RNG.standard_normal((n, 3))
    expected = np.zeros((500, 3))
    np.add.at(expected, idx, src)
    assert_close(_index_add_rows(500, idx, src), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.slow
def test_embedding_backward_is_fast_for_a_large_vocabulary():
    weight = tm.randn(30000, 384, requires_grad=True)
    idx = tm.randint(0, 30000, (32, 128))
    grad = tm.randn(32, 128, 384)
    F.embedding(idx, weight).backward(grad)
    start = time.perf_counter()
    for _ in range(5):
        weight.grad = None
        F.embedding(idx, weight).backward(grad)
    assert (time.perf_counter() - start) / 5 < 0.2  # about 10 ms here, like torch


# -- embedding --------------------------------------------------------------------------------

def test_embedding_looks_up_rows_and_accumulates_repeats():
    w = table()
    idx = tm.tensor([[1, 3, 1], [0, 1, 9]])
    y = F.embedding(idx, w)
    assert y.shape == (2, 3, 4) and y.grad_fn.name() == "EmbeddingBackward0"
    assert_close(y, w.detach().numpy()[idx.numpy()])
    y.sum().backward()
    counts = np.bincount(idx.numpy().ravel(), minlength=10)[:, None]
    assert_close(w.grad, np.broadcast_to(counts, (10, 4)).astype(np.float64))


def test_embedding_padding_row_gets_no_gradient():
    w = table()
    F.embedding(tm.tensor([2, 2, 5, -0 + 3]), w, padding_idx=-8).sum().backward()
    assert not w.grad.numpy()[2].any() and w.grad.numpy()[5].tolist() == [1.0] * 4


def test_embedding_scale_grad_by_freq_divides_by_counts():
    w = table()
    F.embedding(tm.tensor([4, 4, 4, 6]), w, scale_grad_by_freq=True).sum().backward()
    assert_close(w.grad.numpy()[[4, 6]], np.ones((2, 4)))


def test_embedding_int32_indices_and_errors():
    w = table()
    assert F.embedding(tm.tensor([1, 2], dtype=tm.int32), w).shape == (2, 4)
    with pytest.raises(IndexError, match="index out of range in self"):
        F.embedding(tm.tensor([1, 10]), w)
    with pytest.raises(IndexError, match="index out of range in self"):
        F.embedding(tm.tensor([-1]), w)
    with pytest.raises(RuntimeError, match=re.escape(
            "Expected tensor for argument #1 'indices' to have one of the following scalar "
            "types: Long, Int; but got taimatsu.FloatTensor instead (while checking arguments "
            "for embedding)")):
        F.embedding(tm.tensor([1.0]), w)
    with pytest.raises(RuntimeError, match="'weight' must be 2-D"):
        F.embedding(tm.tensor([1]), tm.ones(4))
    with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
        F.embedding(tm.tensor([1]), w, padding_idx=10)


def test_embedding_max_norm_renormalizes_looked_up_rows_in_place():
    w = tm.tensor(np.arange(1.0, 13.0).reshape(4, 3))
    untouched = w.numpy()[3].copy()
    y = F.embedding(tm.tensor([0, 1, 1, 2]), w, max_norm=2.0)
    norms = np.linalg.norm(w.numpy()[:3], axis=1)
    assert_close(norms, np.full(3, 2.0), rtol=1e-6, atol=0)
    assert_close(w.numpy()[3], untouched)
    assert_close(y, w.numpy()[[0, 1, 1, 2]])
    assert w._version > 0
    w1 = tm.tensor([[3.0, -4.0]])
    F.embedding(tm.tensor([0]), w1, max_norm=1.0, norm_type=1.0)
    assert_close(np.abs(w1.numpy()).sum(), np.array(1.0), rtol=1e-6, atol=0)


def test_embedding_layer_init_repr_and_from_pretrained():
    m = nn.Embedding(1000, 16, padding_idx=3)
    w = m.weight.detach().numpy()
    assert not w[3].any() and abs(w.std() - 1) < 0.05 and abs(w.mean()) < 0.05
    assert repr(m) == "Embedding(1000, 16, padding_idx=3)"
    assert repr(nn.Embedding(5, 2, max_norm=1.0, norm_type=1.0, scale_grad_by_freq=True,
                             sparse=True)) == ("Embedding(5, 2, max_norm=1.0, norm_type=1.0, "
                                               "scale_grad_by_freq=True, sparse=True)")
    pre = tm.tensor([[1.0, 2.0], [3.0, 4.0]])
    frozen = nn.Embedding.from_pretrained(pre, padding_idx=0)
    assert not frozen.weight.requires_grad and frozen.weight.tolist()[0] == [1.0, 2.0]
    assert nn.Embedding.from_pretrained(pre, freeze=False).weight.requires_grad
    with pytest.raises(AssertionError, match="Embeddings parameter is expected to be "
                                             "2-dimensional"):
        nn.Embedding.from_pretrained(tm.ones(3))
    with pytest.raises(AssertionError, match="Shape of weight does not match"):
        nn.Embedding(3, 2, _weight=tm.ones(2, 2))
    with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
        nn.Embedding(3, 2, padding_idx=-4)


def test_embedding_layer_trains_only_looked_up_rows():
    m = nn.Embedding(6, 3, padding_idx=0)
    m(tm.tensor([[0, 2], [2, 5]])).sum().backward()
    touched = np.flatnonzero(m.weight.grad.numpy().any(axis=1))
    assert touched.tolist() == [2, 5]


# -- embedding_bag ----------------------------------------------------------------------------

def test_embedding_bag_modes_on_explicit_bags():
    w = table(requires_grad=False)
    wn = w.numpy()
    idx = tm.tensor([1, 2, 4, 5, 4, 3, 2, 9])
    offsets = tm.tensor([0, 3, 3, 6])
    bags = [[1, 2, 4], [], [5, 4, 3], [2, 9]]
    for mode, reduce in (("sum", np.sum), ("mean", np.mean), ("max", np.max)):
        out = F.embedding_bag(idx, w, offsets, mode=mode).numpy()
        for b, rows in enumerate(bags):
            expected = reduce(wn[rows], axis=0) if rows else np.zeros(4)
            assert_close(out[b], expected)


def test_embedding_bag_padding_and_weights():
    w = table()
    idx = tm.tensor([[1, 0, 2], [0, 0, 0]])
    out = F.embedding_bag(idx, w, mode="mean", padding_idx=0)
    assert_close(out[0], (w.detach().numpy()[1] + w.detach().numpy()[2]) / 2)
    assert not out[1].detach().numpy().any()  # a bag of padding only is empty
    psw = tm.tensor([2.0, -1.0, 0.5], dtype=tm.float64, requires_grad=True)
    out = F.embedding_bag(tm.tensor([3, 4, 3]), w, tm.tensor([0]), mode="sum",
                          per_sample_weights=psw)
    wn = w.detach().numpy()
    assert_close(out[0], 2.5 * wn[3] - wn[4])
    out.sum().backward()
    assert_close(psw.grad, wn[[3, 4, 3]].sum(1))


def test_embedding_bag_errors_match_torch():
    w = table()
    with pytest.raises(ValueError, match="if input is 2D, then offsets has to be None"):
        F.embedding_bag(tm.tensor([[1]]), w, tm.tensor([0]))
    with pytest.raises(ValueError, match="offsets has to be a 1D Tensor but got None"):
        F.embedding_bag(tm.tensor([1]), w)
    with pytest.raises(ValueError, match="mode has to be one of sum, mean or max"):
        F.embedding_bag(tm.tensor([[1]]), w, mode="min")
    with pytest.raises(NotImplementedError, match="per_sample_weights is only supported for "
                                                  "mode='sum' \\(got mode='mean'\\)"):
        F.embedding_bag(tm.tensor([[1]]), w, per_sample_weights=tm.ones(1, 1))
    with pytest.raises(ValueError, match="max mode does not support scaling the gradient"):
        F.embedding_bag(tm.tensor([[1]]), w, mode="max", scale_grad_by_freq=True)
    with pytest.raises(RuntimeError, match="offsets\\[0\\] has to be 0"):
        F.embedding_bag(tm.tensor([1, 2]), w, tm.tensor([1]))
    with pytest.raises(ValueError, match="input has to be 1D or 2D Tensor, but got Tensor of "
                                         "dimension 3"):
        F.embedding_bag(tm.ones(1, 1, 1, dtype=tm.int64), w)


def test_embedding_bag_layer():
    m = nn.EmbeddingBag(10, 3, mode="max", padding_idx=-1)
    assert m.padding_idx == 9 and not m.weight.detach().numpy()[9].any()
    assert repr(m) == "EmbeddingBag(10, 3, mode='max', padding_idx=9)"
    assert m(tm.tensor([1, 2, 3]), tm.tensor([0, 1])).shape == (2, 3)
    bag = nn.EmbeddingBag.from_pretrained(tm.ones(4, 2), mode="sum")
    assert not bag.weight.requires_grad
    assert bag(tm.tensor([[0, 1, 2]])).tolist() == [[3.0, 3.0]]


# -- one_hot ----------------------------------------------------------------------------------

def test_one_hot_values_dtype_and_errors():
    out = F.one_hot(tm.tensor([[0, 2], [1, 0]]))
    assert out.dtype is tm.int64 and out.shape == (2, 2, 3)
    assert F.one_hot(tm.tensor([], dtype=tm.int64), 3).shape == (0, 3)
    for bad, n, message in (([-1, 2], -1, "Class values must be non-negative."),
                            ([1, 2], 2, "Class values must be smaller than num_classes.")):
        with pytest.raises(RuntimeError, match=re.escape(message)):
            F.one_hot(tm.tensor(bad), n)
    with pytest.raises(RuntimeError, match="Can not infer total number of classes from empty"):
        F.one_hot(tm.tensor([], dtype=tm.int64))
    with pytest.raises(RuntimeError, match="one_hot is only applicable to index tensor of type "
                                           "LongTensor."):
        F.one_hot(tm.tensor([1], dtype=tm.int32))
