"""Layer norm and RMS norm kernels against NumPy, and the ops' kernel path against their CPU path."""

import ml_dtypes
import numpy as np
import pytest

import taimatsu
import taimatsu.nn.functional as F
from taimatsu import nn
from taimatsu.backend.cuda import normalization as K
from taimatsu.testing import cuda_emulator

from .conftest import host

BF16 = np.dtype(ml_dtypes.bfloat16)
TOL = {np.float64: 1e-10, np.float32: 2e-5, np.float16: 2e-2, BF16: 3e-2}


def _tol(dtype):
    return TOL[np.dtype(dtype).type if np.dtype(dtype) != BF16 else BF16]


def _ref_stats(x, cols, centered):
    x = x.reshape(-1, cols).astype(np.float64)
    mean = x.mean(axis=1, keepdims=True) if centered else np.zeros((x.shape[0], 1))
    return x, mean, 1.0 / np.sqrt(((x - mean) ** 2).mean(axis=1, keepdims=True) + 1e-5)


def _ref_forward(x, w, b, cols, centered):
    x64, mean, rstd = _ref_stats(x, cols, centered)
    y = (x64 - mean) * rstd
    if w is not None:
        y = y * w.astype(np.float64)
    if b is not None:
        y = y + b.astype(np.float64)
    return y, mean[:, 0], rstd[:, 0]


def _ref_backward(g, x, w, cols, centered):
    x64, mean, rstd = _ref_stats(x, cols, centered)
    g = g.reshape(-1, cols).astype(np.float64)
    xhat = (x64 - mean) * rstd
    gh = g if w is None else g * w.astype(np.float64)
    m1 = gh.mean(axis=1, keepdims=True) if centered else 0.0
    gx = rstd * (gh - m1 - xhat * (gh * xhat).mean(axis=1, keepdims=True))
    return gx, (g * xhat).sum(axis=0), g.sum(axis=0)


def _data(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(shape) * 2 + 0.5).astype(dtype)


def _close(actual, expected, dtype, scale=1.0):
    tol = _tol(dtype)
    np.testing.assert_allclose(host(actual).astype(np.float64).reshape(expected.shape), expected,
                               rtol=tol, atol=tol * scale)


DTYPES = [np.float32, np.float64, np.float16, BF16]
# (shape, block): cols below a warp, not a multiple of 32, longer than the block, a single
# element; every dtype on the row longer than a warp, the others in float32/float64.
CASES = ([(d, (4, 70), 32) for d in DTYPES]
         + [(d, s, b) for d in (np.float32, np.float64)
            for s, b in (((3, 5), 32), ((2, 3, 100), 64), ((1, 1), 32))])
CASE_IDS = [f"{np.dtype(d).name}-{'x'.join(map(str, s))}" for d, s, _ in CASES]


@pytest.mark.parametrize("dtype,shape,block", CASES, ids=CASE_IDS)
@pytest.mark.parametrize("affine", [(True, True), (True, False), (False, False)],
                         ids=["weight_bias", "weight", "plain"])
def test_layer_norm_kernels(xp, dtype, shape, block, affine):
    cols = shape[-1]
    x, g = _data(shape, dtype), _data(shape, dtype, 1)
    w = _data(cols, dtype, 2) if affine[0] else None
    b = _data(cols, dtype, 3) if affine[1] else None
    dev = [None if a is None else xp.asarray(a) for a in (x, g, w, b)]
    y, mean, rstd = K.layer_norm_forward(dev[0], dev[2], dev[3], cols, 1e-5, block=block)
    ry, rmean, rrstd = _ref_forward(x, w, b, cols, True)
    _close(y, ry, dtype, 4)
    assert mean.dtype == rstd.dtype == K.acc_dtype(dtype)
    _close(mean, rmean, np.float64 if dtype == np.float64 else np.float32)
    _close(rstd, rrstd, np.float64 if dtype == np.float64 else np.float32, 10)
    gx, gw, gb = K.layer_norm_backward(dev[1], dev[0], dev[2], mean, rstd, cols,
                                       block=block, chunks=2)
    rgx, rgw, rgb = _ref_backward(g, x, w, cols, True)
    _close(gx, rgx, dtype, 8)
    _close(gw, rgw, dtype, 8)
    _close(gb, rgb, dtype, 8)


@pytest.mark.parametrize("dtype,shape,block", CASES, ids=CASE_IDS)
@pytest.mark.parametrize("weighted", [True, False], ids=["weight", "plain"])
def test_rms_norm_kernels(xp, dtype, shape, block, weighted):
    cols = shape[-1]
    x, g = _data(shape, dtype), _data(shape, dtype, 1)
    w = _data(cols, dtype, 2) if weighted else None
    dev = [None if a is None else xp.asarray(a) for a in (x, g, w)]
    y, rstd = K.rms_norm_forward(dev[0], dev[2], cols, 1e-5, block=block)
    ry, _, rrstd = _ref_forward(x, w, None, cols, False)
    _close(y, ry, dtype, 4)
    _close(rstd, rrstd, np.float64 if dtype == np.float64 else np.float32, 10)
    gx, gw = K.rms_norm_backward(dev[1], dev[0], dev[2], rstd, cols, block=block, chunks=3)
    rgx, rgw, _ = _ref_backward(g, x, w, cols, False)
    _close(gx, rgx, dtype, 8)
    _close(gw, rgw, dtype, 8)


def test_param_grads_chunking(xp):
    """Many rows over several chunks and column tiles, with a short last chunk."""
    x, g = _data((11, 40), np.float64), _data((11, 40), np.float64, 1)
    _, mean, rstd = K.layer_norm_forward(xp.asarray(x), None, None, 40, 1e-5, block=32)
    _, rgw, rgb = _ref_backward(g, x, None, 40, True)
    for chunks in (3, 11):
        gx, gw, gb = K.layer_norm_backward(xp.asarray(g), xp.asarray(x), None, mean, rstd, 40,
                                           needs=(False, True, True), chunks=chunks)
        assert gx is None
        _close(gw, rgw, np.float64)
        _close(gb, rgb, np.float64)


def test_nan_row_stays_in_its_row(xp):
    x = _data((3, 40), np.float32)
    x[1, 7] = np.nan
    y, _, _ = K.layer_norm_forward(xp.asarray(x), None, None, 40, 1e-5, block=32)
    y = host(y)
    assert np.isnan(y[1]).all() and np.isfinite(y[[0, 2]]).all()


# -- the ops' kernel path (emulated) against their CPU path --------------------------------------

def _run(fn, arrays, grad_seed=7):
    """fn(*tensors) -> (output, grads of every input)."""
    tensors = [taimatsu.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*tensors)
    out.backward(taimatsu.tensor(_data(out.shape, out.dtype.np, grad_seed)))
    return out.detach().numpy(), [t.grad.numpy() for t in tensors]


def _both_paths(fn, arrays, monkeypatch):
    """fn's results and gradients on the CPU path, then on the kernel path (which must run
    a forward and a backward kernel of normalization.cu)."""
    cpu = _run(fn, arrays)
    launched = []
    launch = cuda_emulator.launch
    monkeypatch.setattr(cuda_emulator, "launch",
                        lambda lib, name, *a, **k: (launched.append(name),
                                                    launch(lib, name, *a, **k)))
    with cuda_emulator.emulate():
        kernel = _run(fn, arrays)
    monkeypatch.setattr(cuda_emulator, "launch", launch)
    assert any("_fwd_" in n for n in launched) and any("_bwd_" in n for n in launched)
    return cpu, kernel


def _assert_same(cpu, kernel, dtype):
    tol = _tol(dtype) * 10
    for a, b in zip([cpu[0], *cpu[1]], [kernel[0], *kernel[1]]):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_allclose(b.astype(np.float64), a.astype(np.float64), rtol=tol,
                                   atol=tol)


needs_emulator = pytest.mark.skipif(not cuda_emulator.available(), reason="no C++ compiler")
OP_DTYPES = [np.float32, np.float64, np.float16, BF16]


@needs_emulator
@pytest.mark.parametrize("dtype", OP_DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("shape,normalized", [((4, 70), (70,)), ((2, 3, 4, 5), (4, 5)),
                                              ((3, 300), (300,))])
def test_layer_norm_op_matches_cpu(dtype, shape, normalized, monkeypatch):
    x = _data(shape, dtype)
    w, b = _data(normalized, dtype, 2), _data(normalized, dtype, 3)
    cpu, kernel = _both_paths(lambda x, w, b: F.layer_norm(x, normalized, w, b, 1e-5),
                              [x, w, b], monkeypatch)
    _assert_same(cpu, kernel, dtype)


@needs_emulator
def test_layer_norm_op_without_affine_and_module(monkeypatch):
    x = _data((5, 33), np.float32)
    cpu, kernel = _both_paths(lambda x: F.layer_norm(x, (33,)), [x], monkeypatch)
    _assert_same(cpu, kernel, np.float32)
    for kwargs in ({}, {"bias": False}, {"elementwise_affine": False}):
        taimatsu.manual_seed(0)
        layer = nn.LayerNorm(33, **kwargs)
        params = list(layer.parameters())
        with taimatsu.no_grad():
            for p in params:
                p.copy_(taimatsu.tensor(_data(p.shape, np.float32, 5)))
        results = []
        for emulated in (False, True):
            for p in params:
                p.grad = None
            xt = taimatsu.tensor(x, requires_grad=True)
            with cuda_emulator.emulate() if emulated else _nothing():
                out = layer(xt)
                out.backward(taimatsu.tensor(_data(out.shape, np.float32, 7)))
            results.append((out.detach().numpy(),
                            [xt.grad.numpy()] + [p.grad.numpy() for p in params]))
        _assert_same(*results, np.float32)


class _nothing:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


@needs_emulator
@pytest.mark.parametrize("dtype", OP_DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("shape,normalized", [((4, 70), (70,)), ((2, 3, 4, 5), (4, 5))])
@pytest.mark.parametrize("eps", [None, 1e-3])
def test_rms_norm_op_matches_cpu(dtype, shape, normalized, eps, monkeypatch):
    x, w = _data(shape, dtype), _data(normalized, dtype, 2)
    cpu, kernel = _both_paths(lambda x, w: F.rms_norm(x, normalized, w, eps), [x, w],
                              monkeypatch)
    _assert_same(cpu, kernel, dtype)
    cpu, kernel = _both_paths(lambda x: F.rms_norm(x, normalized, eps=eps), [x], monkeypatch)
    _assert_same(cpu, kernel, dtype)


@needs_emulator
def test_rms_norm_op_kernel_node_and_double_backward():
    x = taimatsu.tensor(_data((2, 4), np.float64), requires_grad=True)
    w = taimatsu.tensor(_data((4,), np.float64, 2), requires_grad=True)
    b = taimatsu.tensor(_data((4,), np.float64, 3), requires_grad=True)
    with cuda_emulator.emulate():
        out = F.rms_norm(x, (4,), w)
        assert out.grad_fn.name() == "FusedRmsNormBackward0"
        assert taimatsu.autograd.gradcheck(lambda a, b: F.rms_norm(a, (4,), b), (x, w))
        assert taimatsu.autograd.gradgradcheck(lambda a, b: F.rms_norm(a, (4,), b), (x, w))
        assert taimatsu.autograd.gradgradcheck(lambda a, b, c: F.layer_norm(a, (4,), b, c),
                                               (x, w, b))


def test_row_kernels_loop_over_rows_beyond_the_grid(xp, monkeypatch):
    monkeypatch.setattr(K, "_MAX_ROW_BLOCKS", 2)
    x, g, w = _data((5, 40), np.float32), _data((5, 40), np.float32, 1), _data(40, np.float32, 2)
    y, mean, rstd = K.layer_norm_forward(xp.asarray(x), xp.asarray(w), None, 40, 1e-5)
    _close(y, _ref_forward(x, w, None, 40, True)[0], np.float32, 4)
    gx, _ = K.rms_norm_backward(xp.asarray(g), xp.asarray(x), xp.asarray(w),
                                K.rms_norm_forward(xp.asarray(x), xp.asarray(w), 40, 1e-5)[1],
                                40, needs=(True, False))
    _close(gx, _ref_backward(g, x, w, 40, False)[0], np.float32, 8)
