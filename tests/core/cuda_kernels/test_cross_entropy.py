"""Fused cross-entropy kernels against NumPy, and F.cross_entropy's kernel path against its CPU
path."""

import ml_dtypes
import numpy as np
import pytest

import taimatsu
import taimatsu.nn.functional as F
from taimatsu.backend.cuda import cross_entropy as K
from taimatsu.testing import cuda_emulator

from .conftest import host

BF16 = np.dtype(ml_dtypes.bfloat16)
TOL = {"float64": 1e-10, "float32": 1e-5, "float16": 1e-2, "bfloat16": 3e-2}
needs_emulator = pytest.mark.skipif(not cuda_emulator.available(), reason="no C++ compiler")


def _logits(shape, dtype, seed=0):
    return (np.random.default_rng(seed).standard_normal(shape) * 3).astype(dtype)


def _targets(shape, classes, ignore_index=None, seed=1):
    t = np.random.default_rng(seed).integers(0, classes, shape)
    if ignore_index is not None:
        t.reshape(-1)[::3] = ignore_index
    return t


def _reference(x, t, w, ignore_index, s, g):
    """Per-entry losses and the gradient of sum(g * loss), in float64, classes moved last."""
    classes = x.shape[1]
    xl = np.moveaxis(x.astype(np.float64), 1, -1).reshape(-1, classes)
    t = t.reshape(-1)
    valid = t != ignore_index
    tc = np.where(valid, t, 0)
    wc = np.ones(classes) if w is None else w.astype(np.float64)
    wt = np.where(valid, wc[tc], 0.0)
    m = xl.max(axis=1, keepdims=True)
    lse = (m + np.log(np.exp(xl - m).sum(axis=1, keepdims=True)))[:, 0]
    nll = lse - xl[np.arange(len(t)), tc]
    smooth = ((lse[:, None] - xl) * wc).sum(axis=1) * valid
    loss = (1 - s) * wt * nll + s / classes * smooth
    p = np.exp(xl - lse[:, None])
    onehot = np.eye(classes)[tc]
    g = np.broadcast_to(np.asarray(g, dtype=np.float64).reshape(-1), t.shape)[:, None]
    grad = g * (p * ((1 - s) * wt + s / classes * wc.sum() * valid)[:, None]
                - s / classes * wc * valid[:, None] - (1 - s) * wt[:, None] * onehot)
    grad = np.moveaxis(grad.reshape(np.moveaxis(x, 1, -1).shape), -1, 1)
    return loss, lse, wt, grad


def _close(actual, expected, tol):
    np.testing.assert_allclose(host(actual).astype(np.float64).reshape(expected.shape), expected,
                               rtol=tol, atol=tol)


DTYPES = [np.float32, np.float64, np.float16, BF16]
# (shape, block): classes below a warp, more classes than the block, a single class, and
# spatial dims after the classes (the strided kernels)
CASES = ([(d, (5, 70), 32) for d in DTYPES]
         + [(d, s, b) for d in (np.float32, np.float64)
            for s, b in (((3, 7), 32), ((2, 1), 32), ((2, 5, 3, 2), 32), ((3, 4, 5), 64))])
CASE_IDS = [f"{np.dtype(d).name}-{'x'.join(map(str, s))}" for d, s, _ in CASES]
OPTIONS = [(False, -100, 0.0), (True, -100, 0.0), (False, 2, 0.2), (True, 0, 0.1)]
OPTION_IDS = ["plain", "weight", "ignore_smooth", "weight_ignore_smooth"]


@pytest.mark.parametrize("dtype,shape,block", CASES, ids=CASE_IDS)
@pytest.mark.parametrize("weighted,ignore_index,smoothing", OPTIONS, ids=OPTION_IDS)
def test_kernels_match_numpy(xp, dtype, shape, block, weighted, ignore_index, smoothing):
    classes = shape[1]
    x = _logits(shape, dtype)
    t = _targets((shape[0],) + shape[2:], classes,
                 ignore_index if ignore_index < classes else None)
    w = (np.random.default_rng(2).random(classes) + 0.5).astype(dtype) if weighted else None
    dw = None if w is None else xp.asarray(w)
    loss, lse, wt = K.forward(xp.asarray(x), xp.asarray(t), dw, ignore_index, smoothing,
                              block=block)
    assert loss.shape == t.shape and loss.dtype == K.acc_dtype(dtype)
    for g in (np.float64(0.7), np.random.default_rng(3).standard_normal(t.size)):
        rloss, rlse, rwt, rgrad = _reference(x, t, w, ignore_index, smoothing, g)
        tol = TOL[np.dtype(dtype).name]
        _close(loss, rloss, tol * 10)
        _close(lse, rlse, tol * 10)
        _close(wt, rwt, tol)
        gx = K.backward(xp.asarray(x), xp.asarray(t), dw, lse,
                        xp.asarray(g, dtype=K.acc_dtype(dtype)), ignore_index, smoothing,
                        block=block)
        assert gx.dtype == dtype and gx.shape == x.shape
        _close(gx, rgrad, tol)


def test_nan_and_inf_logits(xp):
    x = _logits((3, 40), np.float32)
    x[0, 5] = np.nan
    x[1, 2] = np.inf
    t = np.array([1, 2, 3])
    loss, lse, _ = K.forward(xp.asarray(x), xp.asarray(t), None, -100, 0.0, block=32)
    loss = host(loss)
    assert np.isnan(loss[:2]).all() and np.isfinite(loss[2])


def test_target_check():
    with pytest.raises(IndexError, match="Target 5 is out of bounds."):
        K.check_targets(np.array([0, 5, -100]), 5, -100)
    with pytest.raises(IndexError, match="Target -1 is out of bounds."):
        K.check_targets(np.array([0, -1]), 5, -100)
    K.check_targets(np.array([0, 4, 7]), 5, 7)


# -- F.cross_entropy: kernel path (emulated) against the CPU path --------------------------------

def _run(x, t, grad_seed=7, **kwargs):
    xt = taimatsu.tensor(x, requires_grad=True)
    w = kwargs.pop("weight", None)
    out = F.cross_entropy(xt, taimatsu.tensor(t),
                          weight=None if w is None else taimatsu.tensor(w), **kwargs)
    g = np.random.default_rng(grad_seed).standard_normal(out.shape).astype(x.dtype)
    out.backward(taimatsu.tensor(g))
    return out.detach().numpy(), xt.grad.numpy()


def _both_paths(x, t, monkeypatch, **kwargs):
    cpu = _run(x, t, **dict(kwargs))
    launched = []
    launch = cuda_emulator.launch
    monkeypatch.setattr(cuda_emulator, "launch",
                        lambda lib, name, *a, **k: (launched.append(name),
                                                    launch(lib, name, *a, **k)))
    with cuda_emulator.emulate():
        kernel = _run(x, t, **dict(kwargs))
    monkeypatch.setattr(cuda_emulator, "launch", launch)
    assert any(n.startswith("ce_fwd") for n in launched)
    assert any(n.startswith("ce_bwd") for n in launched)
    return cpu, kernel


def _assert_same(cpu, kernel, dtype):
    tol = TOL[np.dtype(dtype).name] * 10
    for a, b in zip(cpu, kernel):
        # (the CPU path returns float32 for bfloat16 with label smoothing; the kernels keep
        # the input dtype, as torch does)
        assert b.dtype == dtype and a.shape == b.shape
        np.testing.assert_allclose(b.astype(np.float64), a.astype(np.float64), rtol=tol,
                                   atol=tol)


@needs_emulator
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted,ignore_index,smoothing", OPTIONS, ids=OPTION_IDS)
def test_op_matches_cpu(dtype, reduction, weighted, ignore_index, smoothing, monkeypatch):
    x = _logits((6, 10), dtype)
    t = _targets(6, 10, ignore_index if ignore_index >= 0 else None)
    kwargs = dict(reduction=reduction, ignore_index=ignore_index, label_smoothing=smoothing)
    if weighted:
        kwargs["weight"] = (np.random.default_rng(2).random(10) + 0.5).astype(dtype)
    _assert_same(*_both_paths(x, t, monkeypatch, **kwargs), dtype)


@needs_emulator
@pytest.mark.parametrize("shape", [(3, 4, 5), (2, 3, 2, 2), (7,), (2, 40)])
@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_op_shapes_match_cpu(shape, reduction, monkeypatch):
    x = _logits(shape, np.float64)
    t = (_targets((), shape[0]) if len(shape) == 1
         else _targets((shape[0],) + shape[2:], shape[1], 1))
    kwargs = dict(reduction=reduction, ignore_index=1, label_smoothing=0.05,
                  weight=np.linspace(0.5, 2, shape[0] if len(shape) == 1 else shape[1]))
    _assert_same(*_both_paths(x, t, monkeypatch, **kwargs), np.float64)


@needs_emulator
def test_op_uint8_targets_errors_and_double_backward():
    x = taimatsu.tensor(_logits((3, 5), np.float64), requires_grad=True)
    w = taimatsu.tensor(np.linspace(0.5, 2, 5))
    with cuda_emulator.emulate():
        a = F.cross_entropy(x, taimatsu.tensor(np.array([0, 4, 2], dtype=np.uint8)))
        b = F.cross_entropy(x, taimatsu.tensor(np.array([0, 4, 2])))
        assert a.item() == b.item()
        with pytest.raises(IndexError, match="Target 5 is out of bounds."):
            F.cross_entropy(x, taimatsu.tensor(np.array([0, 5, 2])))
        t = taimatsu.tensor(np.array([0, 4, 1]))
        assert taimatsu.autograd.gradgradcheck(
            lambda a: F.cross_entropy(a, t, weight=w, ignore_index=1, label_smoothing=0.1), (x,))
        assert taimatsu.autograd.gradcheck(
            lambda a: F.cross_entropy(a, t, weight=w, ignore_index=1, label_smoothing=0.1), (x,))


def test_row_kernels_loop_over_entries_beyond_the_grid(xp, monkeypatch):
    monkeypatch.setattr(K, "_MAX_ROW_BLOCKS", 2)
    x, t = _logits((5, 9), np.float64), _targets(5, 9, 4)
    loss, lse, _ = K.forward(xp.asarray(x), xp.asarray(t), None, 4, 0.1)
    gx = K.backward(xp.asarray(x), xp.asarray(t), None, lse, xp.asarray([0.5]), 4, 0.1)
    rloss, _, _, rgrad = _reference(x, t, None, 4, 0.1, 0.5)
    _close(loss, rloss, 1e-10)
    _close(gx, rgrad, 1e-10)
