"""im2col / col2im kernels against NumPy references, and the conv ops' CUDA path against
their CPU path (outputs and gradients)."""

import contextlib
import math

import ml_dtypes
import numpy as np
import pytest

import taimatsu as tm
from taimatsu.backend.cuda import conv as cuda_conv
from taimatsu.nn import functional as F

from .conftest import generic_path, host, record_calls

DTYPES = [np.float32, np.float64, np.float16, ml_dtypes.bfloat16]
SUM_TOL = {np.float32: 1e-5, np.float64: 1e-12, np.float16: 2e-3, ml_dtypes.bfloat16: 2e-2}

# (spatial, kernel, stride, padding before, dilation, padding after)
GEOMETRIES = [
    ((7,), (3,), (1,), (1,), (1,), (1,)),
    ((9,), (2,), (3,), (2,), (2,), (0,)),
    ((5, 6), (3, 3), (1, 1), (1, 1), (1, 1), (1, 1)),
    ((6, 7), (3, 2), (2, 3), (1, 0), (1, 2), (2, 1)),
    ((5, 5), (2, 3), (1, 2), (0, 2), (2, 1), (1, 0)),
    ((4, 3, 5), (2, 2, 3), (2, 1, 2), (1, 0, 1), (1, 1, 1), (0, 1, 1)),
]


def _out(spatial, kernel, stride, lo, dilation, hi):
    return tuple((s + a + b - d * (k - 1) - 1) // st + 1
                 for s, k, st, a, d, b in zip(spatial, kernel, stride, lo, dilation, hi))


def _taps(spatial, kernel, stride, lo, dilation, out):
    """(kernel offset index, output position index, input index or None) for every window tap."""
    for ki, k in enumerate(np.ndindex(*kernel)):
        for li, o in enumerate(np.ndindex(*out)):
            pos = tuple(oj * s - p + kj * d
                        for oj, kj, s, p, d in zip(o, k, stride, lo, dilation))
            inside = all(0 <= q < n for q, n in zip(pos, spatial))
            yield ki, li, (pos if inside else None)


def ref_im2col(x, kernel, stride, lo, dilation, out):
    """(m, C*K, L) columns, by definition."""
    m, c = x.shape[:2]
    cols = np.zeros((m, c, math.prod(kernel), math.prod(out)), dtype=np.float64)
    for ki, li, pos in _taps(x.shape[2:], kernel, stride, lo, dilation, out):
        if pos is not None:
            cols[:, :, ki, li] = x[(slice(None), slice(None)) + pos]
    return cols.reshape(m, -1, math.prod(out))


def ref_col2im(cols, channels, spatial, kernel, stride, lo, dilation, out):
    m = cols.shape[0]
    cols = cols.reshape(m, channels, math.prod(kernel), math.prod(out)).astype(np.float64)
    x = np.zeros((m, channels) + tuple(spatial))
    for ki, li, pos in _taps(spatial, kernel, stride, lo, dilation, out):
        if pos is not None:
            x[(slice(None), slice(None)) + pos] += cols[:, :, ki, li]
    return x


def _random(rng, shape, dtype):
    return rng.uniform(-1, 1, shape).astype(dtype)


def _skip_unsupported(xp, dtype):
    """bfloat16 needs a CuPy that holds ml_dtypes' bfloat16 arrays."""
    try:
        xp.zeros(1, dtype=dtype)
    except Exception:
        pytest.skip(f"{xp.__name__} has no {np.dtype(dtype).name} arrays")


# -- kernels ---------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", GEOMETRIES, ids=lambda g: f"{len(g[0])}d-{g[0]}-{g[1]}")
def test_im2col_matches_reference(xp, case, dtype):
    _skip_unsupported(xp, dtype)
    spatial, kernel, stride, lo, dilation, hi = case
    out = _out(*case)
    geom = cuda_conv.geometry(spatial, out, kernel, stride, lo, dilation)
    x = _random(np.random.default_rng(0), (2, 3) + spatial, dtype)
    expected = ref_im2col(x.astype(np.float64), kernel, stride, lo, dilation, out)
    # small blocks and a capped grid, so the grid-stride loop takes several turns
    cols = cuda_conv.im2col(xp.asarray(x), geom, block=64, max_blocks=3)
    np.testing.assert_array_equal(host(cols).astype(np.float64), expected)  # a pure copy
    cm = cuda_conv.im2col(xp.asarray(x), geom, channel_major=True, block=96, max_blocks=2)
    np.testing.assert_array_equal(host(cm).astype(np.float64), expected.transpose(1, 0, 2))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", GEOMETRIES, ids=lambda g: f"{len(g[0])}d-{g[0]}-{g[1]}")
def test_col2im_matches_reference(xp, case, dtype):
    _skip_unsupported(xp, dtype)
    spatial, kernel, stride, lo, dilation, hi = case
    out = _out(*case)
    geom = cuda_conv.geometry(spatial, out, kernel, stride, lo, dilation)
    m, c = 2, 3
    cols = _random(np.random.default_rng(1), (m, c * geom.taps, geom.positions), dtype)
    expected = ref_col2im(cols, c, spatial, kernel, stride, lo, dilation, out)
    tol = SUM_TOL[dtype]
    got = cuda_conv.col2im(xp.asarray(cols), geom, m, c, block=64, max_blocks=3)
    assert got.dtype == dtype
    np.testing.assert_allclose(host(got).astype(np.float64), expected, rtol=tol, atol=tol)
    cm = np.ascontiguousarray(cols.transpose(1, 0, 2))
    got = cuda_conv.col2im(xp.asarray(cm), geom, m, c, channel_major=True, block=32)
    np.testing.assert_allclose(host(got).astype(np.float64), expected, rtol=tol, atol=tol)


@pytest.mark.parametrize("channel_major", [False, True])
@pytest.mark.parametrize("case", GEOMETRIES, ids=lambda g: f"{len(g[0])}d-{g[0]}-{g[1]}")
def test_col2im_is_the_adjoint_of_im2col(xp, case, channel_major):
    spatial, kernel, stride, lo, dilation, hi = case
    geom = cuda_conv.geometry(spatial, _out(*case), kernel, stride, lo, dilation)
    rng = np.random.default_rng(2)
    m, c = 3, 2
    x = rng.standard_normal((m, c) + spatial)
    cols = cuda_conv.im2col(xp.asarray(x), geom, channel_major=channel_major)
    dual = rng.standard_normal(cols.shape)
    back = cuda_conv.col2im(xp.asarray(dual), geom, m, c, channel_major=channel_major)
    lhs = float(np.vdot(host(cols), dual))
    rhs = float(np.vdot(x, host(back)))
    assert lhs == pytest.approx(rhs, rel=1e-12, abs=1e-12)


def test_size_one_dims_and_a_kernel_covering_the_input(xp):
    # 1x1 output, one channel, one image: every tap of the single window is used once
    geom = cuda_conv.geometry((1, 4), (1, 1), (1, 4), (1, 1), (0, 0), (1, 1))
    x = np.arange(4, dtype=np.float32).reshape(1, 1, 1, 4)
    cols = cuda_conv.im2col(xp.asarray(x), geom)
    np.testing.assert_array_equal(host(cols).reshape(-1), x.reshape(-1))
    np.testing.assert_array_equal(host(cuda_conv.col2im(cols, geom, 1, 1)), x)


# -- the conv ops' CUDA path -----------------------------------------------------------------

@pytest.fixture
def calls(monkeypatch):
    return record_calls(monkeypatch, cuda_conv, ("conv_forward", "conv_data", "conv_weight"))


def _device(xp):
    return "cpu" if xp is np else "cuda"


def _run(op, arrays, kwargs, grad_out, device, create_graph=False):
    """Output and gradients of op(*arrays, **kwargs) for the given output gradient."""
    tensors = [None if a is None else tm.tensor(a, device=device, requires_grad=True)
               for a in arrays]
    y = op(*tensors, **kwargs)
    leaves = [t for t in tensors if t is not None]
    grads = tm.autograd.grad(y, leaves, tm.tensor(grad_out, device=device),
                             create_graph=create_graph)
    return y, grads, leaves


def _compare(xp, op, x_shape, w_shape, kwargs, dtype=np.float64, bias=True, tol=1e-10):
    rng = np.random.default_rng(3)
    arrays = [_random(rng, x_shape, dtype), _random(rng, w_shape, dtype),
              _random(rng, (w_shape[1] * kwargs.get("groups", 1)
                            if op.__name__.startswith("conv_transpose") else w_shape[0],),
                      dtype) if bias else None]
    with generic_path():
        y_cpu = op(*[None if a is None else tm.tensor(a) for a in arrays], **kwargs)
    grad_out = _random(rng, tuple(y_cpu.shape), dtype)
    with generic_path():
        y_cpu, g_cpu, _ = _run(op, arrays, kwargs, grad_out, "cpu")
    y, g, _ = _run(op, arrays, kwargs, grad_out, _device(xp))
    assert y.dtype == y_cpu.dtype and tuple(y.shape) == tuple(y_cpu.shape)
    for got, want in zip((y,) + tuple(g), (y_cpu,) + tuple(g_cpu)):
        assert got.dtype == want.dtype
        np.testing.assert_allclose(host(got._data).astype(np.float64),
                                   host(want._data).astype(np.float64), rtol=tol, atol=tol)


OPS = [
    (F.conv1d, (2, 3, 9), (4, 3, 3), {}),
    (F.conv1d, (2, 4, 10), (6, 2, 3), {"stride": 2, "padding": 2, "dilation": 2, "groups": 2}),
    (F.conv1d, (1, 2, 6), (3, 2, 4), {"padding": "same", "dilation": 1}),
    (F.conv2d, (2, 3, 5, 6), (4, 3, 3, 3), {"padding": 1}),
    (F.conv2d, (2, 4, 7, 6), (6, 2, 3, 2), {"stride": (2, 1), "padding": (1, 0),
                                            "dilation": (1, 2), "groups": 2}),
    (F.conv2d, (1, 3, 6, 5), (3, 1, 3, 3), {"stride": 2, "groups": 3}),  # depthwise
    (F.conv3d, (1, 2, 4, 3, 5), (3, 2, 2, 2, 3), {"stride": (2, 1, 2), "padding": 1}),
    (F.conv_transpose1d, (2, 4, 5), (4, 3, 3), {"stride": 2, "padding": 1,
                                                "output_padding": 1}),
    (F.conv_transpose2d, (2, 4, 3, 4), (4, 3, 3, 2), {"stride": (2, 3), "padding": (1, 0),
                                                      "output_padding": (1, 2),
                                                      "dilation": (1, 2)}),
    (F.conv_transpose2d, (1, 4, 4, 3), (4, 1, 2, 3), {"groups": 2, "padding": 1}),
    (F.conv_transpose3d, (1, 2, 2, 3, 2), (2, 2, 2, 1, 2), {"stride": (1, 2, 2),
                                                         "padding": (0, 1, 0)}),
]


@pytest.mark.parametrize("op, x_shape, w_shape, kwargs", OPS,
                         ids=[f"{o.__name__}-{i}" for i, (o, *_) in enumerate(OPS)])
def test_op_matches_cpu_path(xp, calls, op, x_shape, w_shape, kwargs):
    _compare(xp, op, x_shape, w_shape, kwargs)
    assert calls.counts() == {"conv_data": 1, "conv_forward": 1, "conv_weight": 1}


@pytest.mark.parametrize("dtype, tol", [(np.float32, 1e-5), (np.float16, 3e-2),
                                        (ml_dtypes.bfloat16, 0.15)])
def test_op_dtypes(xp, dtype, tol):
    _skip_unsupported(xp, dtype)
    _compare(xp, F.conv2d, (2, 3, 5, 4), (4, 3, 2, 3), {"stride": (1, 2), "padding": 1},
             dtype=dtype, tol=tol)
    _compare(xp, F.conv_transpose1d, (2, 3, 4), (3, 2, 3), {"stride": 2}, dtype=dtype,
             tol=tol)


def test_batch_chunks(xp, calls, monkeypatch):
    # a column buffer of one image: every GEMM and col2im runs per image
    monkeypatch.setattr(cuda_conv, "MAX_COLS_BYTES", 1)
    _compare(xp, F.conv2d, (3, 2, 4, 5), (3, 2, 3, 3), {"padding": 1, "stride": (1, 2)})
    _compare(xp, F.conv2d, (3, 2, 4, 5), (3, 2, 3, 3), {"padding": 1}, dtype=np.float16,
             tol=3e-2)
    assert calls.counts()["conv_weight"] == 2


def test_no_bias_and_only_weight_grad(xp, calls):
    _compare(xp, F.conv2d, (2, 2, 4, 4), (3, 2, 2, 2), {"stride": 2}, bias=False)
    rng = np.random.default_rng(4)
    x = tm.tensor(rng.standard_normal((2, 2, 4, 4)), device=_device(xp))
    w = tm.tensor(rng.standard_normal((3, 2, 2, 2)), device=_device(xp), requires_grad=True)
    F.conv2d(x, w).sum().backward()
    with generic_path():
        wc = tm.tensor(host(w._data), requires_grad=True)
        F.conv2d(tm.tensor(host(x._data)), wc).sum().backward()
    np.testing.assert_allclose(host(w.grad._data), wc.grad._data, rtol=1e-12, atol=1e-12)
    assert calls.counts() == {"conv_forward": 2, "conv_data": 1, "conv_weight": 2}


def test_double_backward(xp):
    rng = np.random.default_rng(5)
    arrays = [rng.standard_normal((2, 2, 4, 5)), rng.standard_normal((3, 2, 2, 3)),
              rng.standard_normal(3)]
    kwargs = {"stride": (2, 1), "padding": 1}
    grad_out = rng.standard_normal((2, 3, 3, 5))
    results = []
    for device, context in ((_device(xp), contextlib.nullcontext()), ("cpu", generic_path())):
        with context:
            _, grads, leaves = _run(F.conv2d, arrays, kwargs, grad_out, device,
                                    create_graph=True)
            (grads[0] * grads[0]).sum().backward(inputs=leaves[:2])
            (grads[1] ** 3).sum().backward(inputs=leaves[:2])
            results.append([host(t.grad._data) for t in leaves[:2]])
    for got, want in zip(*results):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)


def test_empty_batch(xp):
    x = tm.tensor(np.zeros((0, 2, 4, 4)), device=_device(xp), requires_grad=True)
    w = tm.tensor(np.ones((3, 2, 3, 3)), device=_device(xp), requires_grad=True)
    y = F.conv2d(x, w, padding=1)
    assert tuple(y.shape) == (0, 3, 4, 4)
    y.sum().backward()
    assert tuple(x.grad.shape) == (0, 2, 4, 4)
    np.testing.assert_array_equal(host(w.grad._data), np.zeros((3, 2, 3, 3)))
