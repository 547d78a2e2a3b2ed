"""The Winograd F(2x2, 3x3) path of conv2d against the im2col path it replaces."""

import numpy as np
import pytest

import taimatsu as tm
from taimatsu.nn import functional as F
from taimatsu.nn._functional import _winograd, conv


def _both_paths(monkeypatch, fn):
    """fn() once on the Winograd path and once with it switched off."""
    fast = fn()
    monkeypatch.setattr(_winograd, "applies", lambda plan, x: False)
    slow = fn()
    monkeypatch.undo()
    return fast, slow


@pytest.mark.parametrize("shape, out_ch, padding", [
    ((2, 16, 9, 7), 32, 1),      # odd output sizes: the last tile is cropped
    ((3, 32, 8, 8), 16, 0),
    ((1, 16, 5, 6), 20, 2),      # padding wider than the kernel's reach
    ((2, 17, 3, 3), 16, "same"),
    ((0, 16, 6, 6), 16, 1),      # empty batch
])
@pytest.mark.parametrize("dtype", [tm.float32, tm.float64])
def test_forward_and_gradients_match_im2col(monkeypatch, shape, out_ch, padding, dtype):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape)
    w = rng.standard_normal((out_ch, shape[1], 3, 3)) / np.sqrt(9 * shape[1])
    b = rng.standard_normal(out_ch)

    def run():
        tx, tw, tb = (tm.tensor(a, dtype=dtype, requires_grad=True) for a in (x, w, b))
        y = F.conv2d(tx, tw, tb, padding=padding)
        y.backward(tm.ones_like(y) * 0.5 + y.detach() * 0.1)
        return [t.numpy() for t in (y.detach(), tx.grad, tw.grad, tb.grad)]

    fast, slow = _both_paths(monkeypatch, run)
    tol = 1e-5 if dtype is tm.float32 else 1e-12
    for a, b_ in zip(fast, slow):
        np.testing.assert_allclose(a, b_, rtol=tol, atol=tol)


def test_takes_the_path_only_where_it_applies():
    x32 = np.zeros((1, 16, 8, 8), np.float32)
    assert _winograd.applies(conv._plan(1, 16, (8, 8), 16, (3, 3), (1, 1), (1, 1), (1, 1),
                                        (1, 1), 1), x32)
    for args in [
        (1, 16, (8, 8), 16, (3, 3), (2, 2), (1, 1), (1, 1), (1, 1), 1),   # strided
        (1, 16, (8, 8), 16, (3, 3), (1, 1), (2, 2), (2, 2), (2, 2), 1),   # dilated
        (1, 16, (8, 8), 16, (3, 3), (1, 1), (1, 1), (1, 1), (1, 1), 2),   # grouped
        (1, 16, (8, 8), 16, (5, 5), (1, 1), (1, 1), (1, 1), (1, 1), 1),   # 5x5
        (1, 3, (8, 8), 16, (3, 3), (1, 1), (1, 1), (1, 1), (1, 1), 1),    # few channels
    ]:
        assert not _winograd.applies(conv._plan(*args), x32)
    plan = conv._plan(1, 16, (8, 8), 16, (3, 3), (1, 1), (1, 1), (1, 1), (1, 1), 1)
    assert not _winograd.applies(plan, x32.astype(np.float16))


def test_batch_chunks(monkeypatch):
    """Several batch chunks give the result of one."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((5, 16, 6, 6))
    w = rng.standard_normal((16, 16, 3, 3))
    one = _winograd.conv3x3(x, w, None, (1, 1), (6, 6))
    monkeypatch.setattr(_winograd, "_CHUNK_BYTES", 1)
    np.testing.assert_allclose(_winograd.conv3x3(x, w, None, (1, 1), (6, 6)), one, rtol=1e-13)


def test_gradcheck_float64():
    x = tm.randn(2, 16, 5, 4, dtype=tm.float64, requires_grad=True)
    w = tm.randn(16, 16, 3, 3, dtype=tm.float64, requires_grad=True)
    assert tm.autograd.gradcheck(lambda a, b: F.conv2d(a, b, padding=1), (x, w))


def test_weight_gradient_in_batch_chunks(monkeypatch):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((5, 16, 7, 6))
    gy = rng.standard_normal((5, 24, 7, 6))
    one = _winograd.weight_grad(x, gy, (1, 1))
    monkeypatch.setattr(_winograd, "_CHUNK_BYTES", 1)
    np.testing.assert_allclose(_winograd.weight_grad(x, gy, (1, 1)), one, rtol=1e-12, atol=1e-12)
    # against the im2col weight kernel
    plan = conv._plan(5, 16, (7, 6), 24, (3, 3), (1, 1), (1, 1), (1, 1), (1, 1), 1)
    ref = conv._weight_kernel(conv._padded_flat(x, plan), conv._to_grid(gy, plan), plan,
                              np.dtype(np.float64))
    np.testing.assert_allclose(one, ref.reshape(24, 16, 3, 3), rtol=1e-10, atol=1e-10)
