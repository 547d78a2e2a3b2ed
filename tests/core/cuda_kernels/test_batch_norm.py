"""Batch norm kernels against NumPy, and batch_norm's kernel path against its CPU path."""

import contextlib

import ml_dtypes
import numpy as np
import pytest

import taimatsu
import taimatsu.nn.functional as F
from taimatsu import nn
from taimatsu.backend.cuda import batch_norm as K
from taimatsu.testing import cuda_emulator

from .conftest import host

BF16 = np.dtype(ml_dtypes.bfloat16)
DTYPES = [np.float32, np.float64, np.float16, BF16]
TOL = {"float64": 1e-10, "float32": 2e-5, "float16": 2e-2, "bfloat16": 3e-2}
EPS = 1e-5


def _tol(dtype):
    return TOL[np.dtype(dtype).name]


def _acc_name(dtype):
    return "float64" if np.dtype(dtype) == np.float64 else "float32"


def _data(shape, dtype, seed=0, loc=0.5):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(shape) * 2 + loc).astype(dtype)


def _close(actual, expected, dtype, scale=1.0):
    tol = _tol(dtype)
    np.testing.assert_allclose(host(actual).astype(np.float64).reshape(np.shape(expected)),
                               expected, rtol=tol, atol=tol * scale)


def _ref_stats(x):
    """(x as float64 (N, C, L), mean (C,), biased var (C,))."""
    x64 = x.astype(np.float64).reshape(x.shape[0], x.shape[1], -1)
    return x64, x64.mean(axis=(0, 2)), x64.var(axis=(0, 2))


def _col(v):
    return np.asarray(v, dtype=np.float64).reshape(1, -1, 1)


def _ref_forward(x, w, b, mean, var):
    y = (x - _col(mean)) / np.sqrt(_col(var) + EPS)
    if w is not None:
        y = y * _col(w)
    return y + _col(b) if b is not None else y


def _ref_backward(g, x, w, mean, var, training):
    """(dx, dw, db) in float64 for statistics mean/var (batch ones when training)."""
    g = g.astype(np.float64).reshape(x.shape)
    invstd = 1.0 / np.sqrt(_col(var) + EPS)
    xhat = (x - _col(mean)) * invstd
    a = invstd if w is None else invstd * _col(w)
    if training:
        dx = a * (g - g.mean(axis=(0, 2), keepdims=True)
                  - xhat * (g * xhat).mean(axis=(0, 2), keepdims=True))
    else:
        dx = a * g
    return dx, (g * xhat).sum(axis=(0, 2)), g.sum(axis=(0, 2))


# (shape, block, chunks): spatial size below a warp and not dividing it, C=1 with rows longer
# than a block, spatial-less (N, C), 3-d spatial; chunks that leave a short or empty last slice.
SHAPES = [((3, 5, 7), 32, 2), ((4, 1, 70), 32, 3), ((6, 3), 32, 4), ((2, 3, 2, 3, 2), 64, 5)]
CASES = ([(d, *SHAPES[0]) for d in DTYPES]
         + [(d, *s) for d in (np.float32, np.float64) for s in SHAPES[1:]])
CASE_IDS = [f"{np.dtype(d).name}-{'x'.join(map(str, s))}" for d, s, _, _ in CASES]
AFFINE = pytest.mark.parametrize("affine", [(True, True), (True, False), (False, False)],
                                 ids=["weight_bias", "weight", "plain"])


def _vectors(c, dtype, affine, seed=2):
    w = _data(c, dtype, seed) if affine[0] else None
    b = _data(c, dtype, seed + 1) if affine[1] else None
    return w, b


@pytest.mark.parametrize("dtype,shape,block,chunks", CASES, ids=CASE_IDS)
@AFFINE
def test_training_forward(xp, dtype, shape, block, chunks, affine):
    x = _data(shape, dtype)
    c = shape[1]
    w, b = _vectors(c, dtype, affine)
    # 16-bit inputs keep float32 running statistics (mixed precision), the others their own
    acc = np.dtype(_acc_name(dtype))
    rm, rv = _data(c, acc, 4), np.abs(_data(c, acc, 5))
    dev_rm, dev_rv = xp.array(rm), xp.array(rv)  # copies: updated in place
    y, mean, invstd = K.training_forward(
        xp.asarray(x), None if w is None else xp.asarray(w), None if b is None else xp.asarray(b),
        dev_rm, dev_rv, 0.3, EPS, block=block, chunks=chunks)
    x64, rmean, rvar = _ref_stats(x)
    assert y.dtype == x.dtype and y.shape == x.shape
    assert mean.dtype == invstd.dtype == acc
    _close(y, _ref_forward(x64, w, b, rmean, rvar), dtype, 4)
    _close(mean, rmean, acc)
    _close(invstd, 1.0 / np.sqrt(rvar + EPS), acc, 10)
    m = x64.shape[0] * x64.shape[2]
    _close(dev_rm, 0.7 * rm + 0.3 * rmean, acc)
    _close(dev_rv, 0.7 * rv + 0.3 * rvar * m / (m - 1), acc)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_running_stats_in_input_dtype_and_without(xp, dtype):
    """Running statistics in x's own dtype are updated through an accumulation-dtype copy;
    without running statistics nothing is updated."""
    x = _data((5, 3, 6), dtype)
    rm, rv = _data(3, dtype, 4), np.abs(_data(3, dtype, 5))
    dev_rm, dev_rv = xp.array(rm), xp.array(rv)  # copies: updated in place
    K.training_forward(xp.asarray(x), None, None, dev_rm, dev_rv, 0.1, EPS, block=32)
    _, rmean, rvar = _ref_stats(x)
    assert dev_rm.dtype == dev_rv.dtype == np.dtype(dtype)
    _close(dev_rm, 0.9 * rm.astype(np.float64) + 0.1 * rmean, dtype)
    _close(dev_rv, 0.9 * rv.astype(np.float64) + 0.1 * rvar * 30 / 29, dtype)
    y, _, _ = K.training_forward(xp.asarray(x), None, None, None, None, 0.1, EPS, block=32)
    _close(y, _ref_forward(_ref_stats(x)[0], None, None, rmean, rvar), dtype, 4)


@pytest.mark.parametrize("dtype,shape,block,chunks", CASES, ids=CASE_IDS)
@AFFINE
def test_eval_forward(xp, dtype, shape, block, chunks, affine):
    x = _data(shape, dtype)
    c = shape[1]
    w, b = _vectors(c, dtype, affine)
    rm, rv = _data(c, dtype, 4), np.abs(_data(c, dtype, 5)) + 0.1
    y, mean, invstd = K.eval_forward(
        xp.asarray(x), None if w is None else xp.asarray(w), None if b is None else xp.asarray(b),
        xp.asarray(rm), xp.asarray(rv), EPS, block=block)
    x64 = _ref_stats(x)[0]
    _close(y, _ref_forward(x64, w, b, rm, rv.astype(np.float64)), dtype, 4)
    _close(mean, rm.astype(np.float64), _acc_name(dtype))
    _close(invstd, 1.0 / np.sqrt(rv.astype(np.float64) + EPS), _acc_name(dtype), 10)


@pytest.mark.parametrize("dtype,shape,block,chunks", CASES, ids=CASE_IDS)
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("weighted", [True, False], ids=["weight", "plain"])
def test_backward(xp, dtype, shape, block, chunks, training, weighted):
    x, g = _data(shape, dtype), _data(shape, dtype, 1)
    c = shape[1]
    w = _data(c, dtype, 2) if weighted else None
    x64, mean, var = _ref_stats(x)
    if not training:
        mean, var = _data(c, np.float64, 4), np.abs(_data(c, np.float64, 5)) + 0.1
    acc = np.dtype(_acc_name(dtype))
    gx, gw, gb = K.backward(xp.asarray(g), xp.asarray(x), None if w is None else xp.asarray(w),
                            xp.asarray(mean.astype(acc)),
                            xp.asarray((1.0 / np.sqrt(var + EPS)).astype(acc)), training,
                            block=block, chunks=chunks)
    rgx, rgw, rgb = _ref_backward(g, x64, w, mean, var, training)
    assert gx.dtype == x.dtype and gx.shape == x.shape and gw.dtype == gb.dtype == acc
    _close(gx, rgx, dtype, 8)
    _close(gw, rgw, acc, 8 if acc == np.float32 else 1)
    _close(gb, rgb, acc, 8 if acc == np.float32 else 1)


@pytest.mark.parametrize("needs", [(True, False, False), (False, True, False),
                                   (False, False, True)], ids=["input", "weight", "bias"])
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_backward_computes_only_what_is_needed(xp, needs, training):
    x, g, w = _data((3, 2, 9), np.float64), _data((3, 2, 9), np.float64, 1), _data(2, np.float64)
    x64, mean, var = _ref_stats(x)
    out = K.backward(xp.asarray(g), xp.asarray(x), xp.asarray(w), xp.asarray(mean),
                     xp.asarray(1.0 / np.sqrt(var + EPS)), training, needs, block=32)
    ref = _ref_backward(g, x64, w, mean, var, training)
    for need, got, expected in zip(needs, out, ref):
        if need:
            _close(got, expected, np.float64)
        else:
            assert got is None


@pytest.mark.parametrize("shape", [(3, 5, 7), (9, 5), (2, 3, 70)],
                         ids=["rows_and_part", "L1", "L_over_step"])
def test_elementwise_passes_loop_over_the_grid(xp, monkeypatch, shape):
    """Fewer threads than elements: the grid-stride loops (steps of 64) carry the channel
    across steps of several rows plus part of one, of whole rows, of part of a row."""
    monkeypatch.setattr(K, "grid_1d", lambda n, threads: 2)
    c = shape[1]
    x, g, w = _data(shape, np.float64), _data(shape, np.float64, 1), _data(c, np.float64)
    b = _data(c, np.float64, 3)
    y, mean, invstd = K.training_forward(xp.asarray(x), xp.asarray(w), xp.asarray(b), None, None,
                                         0.1, EPS, block=32)
    x64, rmean, rvar = _ref_stats(x)
    _close(y, _ref_forward(x64, w, b, rmean, rvar), np.float64)
    gx, _, _ = K.backward(xp.asarray(g), xp.asarray(x), xp.asarray(w), mean, invstd, True,
                          block=32)
    _close(gx, _ref_backward(g, x64, w, rmean, rvar, True)[0], np.float64)


def test_statistics_of_a_large_offset_do_not_cancel(xp):
    """Welford/Chan: var of 1000 + small noise in float32 stays accurate."""
    x = _data((8, 2, 50), np.float64, loc=0.0) * 0.01 + 1000.0
    _, mean, invstd = K.training_forward(xp.asarray(x.astype(np.float32)), None, None, None, None,
                                         0.1, 0.0, block=64, chunks=3)
    _, rmean, rvar = _ref_stats(x.astype(np.float32))
    np.testing.assert_allclose(host(mean), rmean, rtol=1e-6)
    np.testing.assert_allclose(1.0 / host(invstd) ** 2, rvar, rtol=1e-3)


def test_nan_stays_in_its_channel(xp):
    x = _data((4, 3, 5), np.float32)
    x[2, 1, 3] = np.nan
    y, _, _ = K.training_forward(xp.asarray(x), None, None, None, None, 0.1, EPS, block=32)
    y = host(y)
    assert np.isnan(y[:, 1]).all() and np.isfinite(y[:, [0, 2]]).all()


def test_chunks_for():
    assert K.chunks_for(64, 256 * 112 * 112) == 64      # capped by the block target
    assert K.chunks_for(512, 256 * 49) == 4             # by size
    assert K.chunks_for(4096, 10**6) == 1
    assert K.chunks_for(3, 10) == 1


def test_supported():
    x = np.zeros((2, 3, 4), np.float16)
    f32 = np.zeros(3, np.float32)
    assert K.supported(x, np.zeros(3, np.float16), f32, None)
    assert not K.supported(x, np.zeros(3, np.float64))
    assert not K.supported(np.zeros((2, 3), np.int64))
    assert not K.supported(np.zeros((0, 3), np.float32))
    assert not K.supported(np.zeros(3, np.float32))


# -- batch_norm's kernel path (emulated) against its CPU path ------------------------------------

needs_emulator = pytest.mark.skipif(not cuda_emulator.available(), reason="no C++ compiler")


@contextlib.contextmanager
def _launches(monkeypatch):
    """Records the names of the kernels launched through the emulator."""
    names = []
    launch = cuda_emulator.launch
    monkeypatch.setattr(cuda_emulator, "launch",
                        lambda lib, name, *a, **k: (names.append(name),
                                                    launch(lib, name, *a, **k)))
    try:
        yield names
    finally:
        monkeypatch.setattr(cuda_emulator, "launch", launch)


def _step(x, w, b, rm, rv, training, momentum, grad_seed=7):
    """One F.batch_norm call: (output, running stats after, grads of x, w, b)."""
    xt = taimatsu.tensor(x, requires_grad=True)
    wt = None if w is None else taimatsu.tensor(w, requires_grad=True)
    bt = None if b is None else taimatsu.tensor(b, requires_grad=True)
    rmt = None if rm is None else taimatsu.tensor(rm.copy())
    rvt = None if rv is None else taimatsu.tensor(rv.copy())
    out = F.batch_norm(xt, rmt, rvt, wt, bt, training, momentum, EPS)
    out.backward(taimatsu.tensor(_data(out.shape, out.dtype.np, grad_seed)))
    return ([out.detach().numpy()]
            + [None if t is None else t.numpy() for t in (rmt, rvt)]
            + [None if t is None else t.grad.numpy() for t in (xt, wt, bt)])


def _assert_same(cpu, kernel, dtype, scale=10):
    tol = _tol(dtype) * scale
    for a, b in zip(cpu, kernel):
        assert (a is None) == (b is None)
        if a is not None:
            assert a.dtype == b.dtype and a.shape == b.shape
            np.testing.assert_allclose(b.astype(np.float64), a.astype(np.float64), rtol=tol,
                                       atol=tol)


def _both_paths(monkeypatch, *args):
    cpu = _step(*args)
    with _launches(monkeypatch) as names, cuda_emulator.emulate():
        kernel = _step(*args)
    return cpu, kernel, names


OP_SHAPES = [(4, 3, 5, 6), (6, 3), (2, 1, 3, 4, 5)]


@needs_emulator
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("shape", OP_SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_op_matches_cpu(dtype, shape, training, monkeypatch):
    c = shape[1]
    x = _data(shape, dtype)
    w, b = _data(c, dtype, 2), _data(c, dtype, 3)
    rm, rv = _data(c, dtype, 4), np.abs(_data(c, dtype, 5)) + 0.1
    cpu, kernel, names = _both_paths(monkeypatch, x, w, b, rm, rv, training, 0.1)
    _assert_same(cpu, kernel, dtype)
    stage = "stats" if training else "eval"
    assert f"batch_norm_{stage}_finalize_{K.dtype_suffix(x.dtype)}" in names
    assert any(n.startswith("batch_norm_normalize_") for n in names)
    assert any(n.startswith("batch_norm_bwd_input_") for n in names)


@needs_emulator
@pytest.mark.parametrize("dtype", [np.float16, BF16], ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_op_mixed_precision_matches_cpu(dtype, training, monkeypatch):
    """16-bit input with float32 weight, bias and running statistics."""
    x = _data((3, 4, 10), dtype)
    w, b = _data(4, np.float32, 2), _data(4, np.float32, 3)
    rm, rv = _data(4, np.float32, 4), np.abs(_data(4, np.float32, 5)) + 0.1
    cpu, kernel, names = _both_paths(monkeypatch, x, w, b, rm, rv, training, 0.2)
    _assert_same(cpu, kernel, dtype)
    assert kernel[4].dtype == np.float32 and kernel[1].dtype == np.float32
    assert any(n.startswith("batch_norm_bwd_finalize_") for n in names)


@needs_emulator
@pytest.mark.parametrize("affine", [(True, False), (False, False)], ids=["weight", "plain"])
@pytest.mark.parametrize("running", [True, False], ids=["running", "no_running"])
def test_op_optional_arguments_match_cpu(affine, running, monkeypatch):
    x = _data((5, 2, 3), np.float32)
    w, b = _vectors(2, np.float32, affine)
    rm, rv = (_data(2, np.float32, 4), np.abs(_data(2, np.float32, 5))) if running else (None,
                                                                                         None)
    cpu, kernel, names = _both_paths(monkeypatch, x, w, b, rm, rv, True, 0.1)
    _assert_same(cpu, kernel, np.float32)
    assert "batch_norm_stats_partial_f32" in names


@needs_emulator
def test_op_inference_without_grad_and_unsupported_fallback(monkeypatch):
    x = _data((3, 4, 5), np.float32)
    w, b = _data(4, np.float32, 2), _data(4, np.float32, 3)
    rm, rv = _data(4, np.float32, 4), np.abs(_data(4, np.float32, 5)) + 0.1
    args = [taimatsu.tensor(a) for a in (x, rm, rv, w, b)]
    expected = F.batch_norm(*args, False, 0.1, EPS).numpy()
    with _launches(monkeypatch) as names, cuda_emulator.emulate():
        got = F.batch_norm(*args, False, 0.1, EPS).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)
    assert names == ["batch_norm_eval_finalize_f32", "batch_norm_normalize_f32"]
    # a float64 weight on float32 input takes the generic path (NumPy's promotion rules)
    args[3] = taimatsu.tensor(w.astype(np.float64))
    expected = F.batch_norm(*args, False, 0.1, EPS).numpy()
    with _launches(monkeypatch) as names, cuda_emulator.emulate():
        got = F.batch_norm(*args, False, 0.1, EPS).numpy()
    assert names == []
    np.testing.assert_array_equal(got, expected)


def _small_blocks(monkeypatch):
    """One-warp blocks: the emulator's cost is a thread per GPU thread (the default sizes run
    in the tests above)."""
    monkeypatch.setattr(K, "_THREADS", 32)
    monkeypatch.setattr(K, "_FINALIZE_THREADS", 32)


def _module_run(make, steps, emulated):
    taimatsu.manual_seed(0)
    layer = make()
    with taimatsu.no_grad():
        for i, p in enumerate(layer.parameters()):
            p.copy_(taimatsu.tensor(_data(p.shape, np.float32, 10 + i)))
    results = []
    with cuda_emulator.emulate() if emulated else contextlib.nullcontext():
        for step in range(steps):
            layer.train(step < steps - 1)
            layer.zero_grad()
            x = taimatsu.tensor(_data(make.shape, np.float32, step), requires_grad=True)
            out = layer(x)
            out.backward(taimatsu.tensor(_data(out.shape, np.float32, 20 + step)))
            results += [out.detach().numpy(), x.grad.numpy()]
            results += [p.grad.numpy() for p in layer.parameters()]
    results += [v.numpy().copy() for v in layer.state_dict().values()]
    return results


class _Make:
    def __init__(self, cls, shape, **kwargs):
        self.cls, self.shape, self.kwargs = cls, shape, kwargs

    def __call__(self):
        return self.cls(self.shape[1], **self.kwargs)


@needs_emulator
@pytest.mark.parametrize("make", [
    _Make(nn.BatchNorm1d, (5, 3)), _Make(nn.BatchNorm1d, (3, 2, 7), momentum=None),
    _Make(nn.BatchNorm2d, (2, 3, 4, 5), momentum=None),
    _Make(nn.BatchNorm3d, (2, 1, 2, 3, 3), affine=False),
    _Make(nn.BatchNorm2d, (3, 2, 3, 3), track_running_stats=False)],
    ids=["1d", "1d_spatial_cumulative", "2d_cumulative", "3d_no_affine", "2d_no_running"])
def test_modules_match_cpu(make, monkeypatch):
    """Three training steps then one in eval: outputs, every gradient and the state dict
    (running statistics, num_batches_tracked) equal the CPU path's."""
    _small_blocks(monkeypatch)
    cpu = _module_run(make, 4, emulated=False)
    with _launches(monkeypatch) as names:
        kernel = _module_run(make, 4, emulated=True)
    _assert_same(cpu, kernel, np.float32)
    assert "batch_norm_stats_finalize_f32" in names and "batch_norm_bwd_input_f32" in names


@needs_emulator
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_op_kernel_node_and_double_backward(training, monkeypatch):
    _small_blocks(monkeypatch)
    x = taimatsu.tensor(_data((3, 2, 2), np.float64), requires_grad=True)
    w = taimatsu.tensor(_data(2, np.float64, 2), requires_grad=True)
    b = taimatsu.tensor(_data(2, np.float64, 3), requires_grad=True)
    rm = taimatsu.tensor(_data(2, np.float64, 4))
    rv = taimatsu.tensor(np.abs(_data(2, np.float64, 5)) + 0.1)

    def fn(x, w, b):
        return F.batch_norm(x, None if training else rm, None if training else rv, w, b,
                            training, 0.1, EPS)

    with cuda_emulator.emulate():
        out = fn(x, w, b)
        assert out.grad_fn.name() == "NativeBatchNormBackward0"
        assert out.grad_fn.__dict__.get("kernels")
        assert taimatsu.autograd.gradcheck(fn, (x, w, b))
        assert taimatsu.autograd.gradgradcheck(fn, (x, w, b))


@needs_emulator
def test_instance_norm_and_frozen_eval_take_the_kernels(monkeypatch):
    """instance_norm runs as batch_norm over (1, N*C, *); an eval-mode layer whose parameters
    are frozen needs only dx = dy * invstd * weight (no reductions)."""
    x = _data((2, 3, 4, 5), np.float32)
    rm, rv = _data(3, np.float32, 4), np.abs(_data(3, np.float32, 5)) + 0.1

    def run(emulated, names=None):
        xt = taimatsu.tensor(x, requires_grad=True)
        rmt, rvt = taimatsu.tensor(rm.copy()), taimatsu.tensor(rv.copy())
        with cuda_emulator.emulate() if emulated else contextlib.nullcontext():
            out = F.instance_norm(xt, rmt, rvt, use_input_stats=True)
            frozen = F.batch_norm(xt, rmt, rvt, taimatsu.tensor(rm), None, False, 0.1, EPS)
            (out * out).sum().backward()
            frozen.backward(taimatsu.tensor(_data(x.shape, np.float32, 7)))
        return [out.detach().numpy(), frozen.detach().numpy(), rmt.numpy(), rvt.numpy(),
                xt.grad.numpy()]

    cpu = run(False)
    with _launches(monkeypatch) as names:
        kernel = run(True)
    _assert_same(cpu, kernel, np.float32)
    assert names.count("batch_norm_bwd_partial_f32") == 1  # the instance norm's only
    assert names.count("batch_norm_bwd_input_f32") == 2
