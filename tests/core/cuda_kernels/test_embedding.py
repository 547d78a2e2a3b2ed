"""Embedding-gradient kernels (kernels/embedding.cu) against NumPy, and F.embedding /
embedding_bag / nn.Embedding on their kernel path against the generic CPU path."""


import ml_dtypes
import numpy as np
import pytest

import taimatsu
import taimatsu.nn.functional as F
from taimatsu.backend.cuda import embedding as cuda_embedding

from .conftest import generic_path, host

FLOATS = [np.float32, np.float64]
ALL_FLOATS = FLOATS + [np.float16, ml_dtypes.bfloat16]


def embedding_grad_reference(grad, indices, num, padding_idx, by_freq):
    idx = indices.reshape(-1)
    g = grad.astype(np.float64).reshape(idx.size, -1)
    if by_freq:
        g = g / np.bincount(idx, minlength=num)[idx][:, None]
    out = np.zeros((num, g.shape[1]))
    np.add.at(out, idx, g)
    if padding_idx >= 0:
        out[padding_idx] = 0
    return out


def _tolerance(dtype):
    return {np.float64: 1e-12, np.float32: 1e-5}.get(dtype, 2e-2)


def _case(dtype, shape=(3, 7), num=6, dim=5, seed=0):
    rng = np.random.default_rng(seed)
    indices = rng.integers(0, num, shape)
    grad = rng.standard_normal(shape + (dim,)).astype(dtype)
    return grad, indices


@pytest.mark.parametrize("deterministic", [False, True])
@pytest.mark.parametrize("by_freq", [False, True])
@pytest.mark.parametrize("padding_idx", [-1, 3])
@pytest.mark.parametrize("dtype", ALL_FLOATS)
def test_embedding_backward_matches_reference(xp, dtype, padding_idx, by_freq, deterministic):
    # 21 lookups of 6 rows (repeats; row 3, the padding row, is looked up 8 times, row 2
    # never), 5 columns (not a multiple of the 32-thread block)
    grad, indices = _case(dtype)
    assert (indices == 3).sum() == 8 and not (indices == 2).any()
    gw = cuda_embedding.embedding_backward(xp.asarray(grad), xp.asarray(indices), 6,
                                           padding_idx, by_freq, deterministic, block=32)
    assert host(gw).dtype == dtype and host(gw).shape == (6, 5)
    tol = _tolerance(dtype)
    want = embedding_grad_reference(grad, indices, 6, padding_idx, by_freq)
    np.testing.assert_allclose(host(gw).astype(np.float64), want, rtol=tol, atol=tol)
    if padding_idx >= 0:
        assert not host(gw)[padding_idx].any()


@pytest.mark.parametrize("deterministic", [False, True])
def test_embedding_backward_int32_indices_unhit_rows_and_wide_rows(xp, deterministic):
    # 300 columns: longer than the block, and rows 5.. never looked up stay zero
    rng = np.random.default_rng(1)
    indices = rng.integers(0, 5, (9,)).astype(np.int32)
    grad = rng.standard_normal((9, 300)).astype(np.float32)
    gw = cuda_embedding.embedding_backward(xp.asarray(grad), xp.asarray(indices), 8, -1,
                                           False, deterministic, block=64)
    want = embedding_grad_reference(grad, indices.astype(np.int64), 8, -1, False)
    np.testing.assert_allclose(host(gw), want, rtol=1e-5, atol=1e-5)
    assert not host(gw)[5:].any()


def test_sorted_backward_sums_each_row_in_lookup_order(xp):
    # the deterministic kernel adds a row's gradients in their original order, in float32:
    # exactly what a sequential float32 loop gives, bit for bit
    rng = np.random.default_rng(2)
    indices = rng.integers(0, 4, (50,))
    grad = (rng.standard_normal((50, 3)) * 10.0 ** rng.integers(-4, 5, (50, 1))).astype(
        np.float32)
    want = np.zeros((4, 3), dtype=np.float32)
    for i, row in enumerate(indices):
        want[row] = want[row] + grad[i]
    gw = cuda_embedding.embedding_backward(xp.asarray(grad), xp.asarray(indices), 4, -1,
                                           False, True, block=32)
    np.testing.assert_array_equal(host(gw), want)


def test_empty_lookups_give_a_zero_table(xp):
    gw = cuda_embedding.embedding_backward(xp.zeros((0, 4), dtype=np.float32),
                                           xp.zeros((0,), dtype=np.int64), 3, -1, False)
    np.testing.assert_array_equal(host(gw), np.zeros((3, 4), dtype=np.float32))


# -- the ops, on their kernel path (emulated) against their generic CPU path -------------------

@pytest.fixture
def calls(monkeypatch):
    """Records the `deterministic` choice of every embedding-gradient kernel launch."""
    made = []
    original = cuda_embedding._sorted, cuda_embedding._atomic

    def sorted_(*args):
        made.append("sorted")
        return original[0](*args)

    def atomic(*args):
        made.append("atomic")
        return original[1](*args)
    monkeypatch.setattr(cuda_embedding, "_sorted", sorted_)
    monkeypatch.setattr(cuda_embedding, "_atomic", atomic)
    return made


def _device(xp):
    return "cpu" if xp is np else "cuda"


def _weight_grad(xp, fn, weight, seed=3):
    """fn(weight)'s value and the gradient of sum(fn(weight) * a random tensor)."""
    w = taimatsu.tensor(weight, device=_device(xp), requires_grad=True)
    out = fn(w)
    r = np.random.default_rng(seed).standard_normal(tuple(out.shape)).astype(weight.dtype)
    (out * taimatsu.tensor(r, device=_device(xp))).sum().backward()
    return host(out.detach()._data), host(w.grad._data)


def _compare(xp, fn, weight, tol):
    got = _weight_grad(xp, fn, weight)
    with generic_path():
        want = _weight_grad(np, fn, weight)
    for a, b in zip(got, want):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


@pytest.mark.parametrize("deterministic", [False, True])
@pytest.mark.parametrize("by_freq", [False, True])
@pytest.mark.parametrize("padding_idx", [None, 1, -2])
@pytest.mark.parametrize("dtype", FLOATS)
def test_embedding_op_matches_cpu_path(xp, calls, dtype, padding_idx, by_freq, deterministic):
    weight = np.random.default_rng(4).standard_normal((7, 5)).astype(dtype)
    indices = np.random.default_rng(5).integers(0, 7, (4, 3))
    idx = taimatsu.tensor(indices, device=_device(xp))
    previous = taimatsu.are_deterministic_algorithms_enabled()
    taimatsu.use_deterministic_algorithms(deterministic)
    try:
        _compare(xp, lambda w: F.embedding(idx, w, padding_idx, scale_grad_by_freq=by_freq),
                 weight, _tolerance(dtype))
    finally:
        taimatsu.use_deterministic_algorithms(previous)
    assert calls == ["sorted" if deterministic else "atomic"]


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_op_matches_cpu_path(xp, calls, mode):
    weight = np.random.default_rng(6).standard_normal((8, 4))
    indices = taimatsu.tensor(np.array([1, 3, 3, 0, 7, 1, 2, 3, 5]), device=_device(xp))
    offsets = taimatsu.tensor(np.array([0, 2, 2, 6]), device=_device(xp))
    _compare(xp, lambda w: F.embedding_bag(indices, w, offsets, mode=mode, padding_idx=3),
             weight, 1e-12)
    assert calls == ["atomic"]


def test_embedding_module_and_double_backward(xp, calls):
    emb = taimatsu.nn.Embedding(6, 3, padding_idx=0)
    idx = taimatsu.tensor(np.array([[0, 2, 2], [5, 0, 1]]), device=_device(xp))
    if xp is not np:
        emb = emb.to("cuda")
    out = emb(idx)
    (g,) = taimatsu.autograd.grad((out * out).sum(), emb.weight, create_graph=True)
    (gg,) = taimatsu.autograd.grad((g * g).sum(), emb.weight)
    weight = host(emb.weight.detach()._data)
    with generic_path():
        w = taimatsu.tensor(weight, requires_grad=True)
        out2 = F.embedding(taimatsu.tensor(host(idx._data)), w, padding_idx=0)
        (g2,) = taimatsu.autograd.grad((out2 * out2).sum(), w, create_graph=True)
        (gg2,) = taimatsu.autograd.grad((g2 * g2).sum(), w)
    np.testing.assert_allclose(host(g.detach()._data), g2.detach()._data, rtol=1e-6)
    np.testing.assert_allclose(host(gg._data), gg2._data, rtol=1e-6)
    # create_graph differentiates through the generic ops; the second backward reaches
    # EmbeddingBackward0 again with plain arrays and takes the kernel
    assert calls == ["atomic"]
