"""Pooling kernels (kernels/pooling.cu) against NumPy loops, and the pooling ops that use them
against their generic CPU path."""

import itertools
import math

import ml_dtypes
import numpy as np
import pytest

import taimatsu
import taimatsu.nn.functional as F
from taimatsu.backend.cuda import pooling as cuda_pool
from taimatsu.nn._functional.pooling import _window

from .conftest import generic_path, host, record_calls

FLOATS = [np.float32, np.float64]
ALL_FLOATS = FLOATS + [np.float16, ml_dtypes.bfloat16]

# (input shape, kernel, stride, padding, dilation, ceil_mode): 1, 2 and 3 spatial dims, odd
# sizes, overlapping windows (stride < kernel), padding, dilation, ceil_mode's overhang
MAX_CASES = [
    ((2, 3, 11), (3,), (2,), (1,), (1,), False),
    ((1, 2, 10), (2,), (3,), (0,), (2,), True),
    ((2, 3, 7, 9), (3, 3), (2, 2), (1, 1), (1, 1), False),
    ((1, 2, 8, 7), (2, 3), (2, 1), (1, 0), (2, 2), True),
    ((1, 1, 5, 6), (2, 2), (2, 2), (0, 0), (1, 1), True),
    ((1, 1, 1, 4), (1, 2), (1, 1), (0, 1), (1, 1), False),
    ((1, 2, 5, 4, 6), (2, 3, 2), (2, 1, 2), (1, 1, 0), (1, 1, 2), True),
]
AVG_CASES = [
    ((2, 3, 11), (3,), (2,), (1,), False),
    ((2, 3, 7, 9), (3, 3), (2, 2), (1, 1), False),
    ((1, 2, 8, 7), (3, 2), (2, 3), (1, 1), True),
    ((1, 2, 5, 4, 6), (3, 2, 2), (2, 1, 2), (1, 1, 0), True),
]


def _geometry(shape, kernel, stride, padding, dilation, ceil_mode):
    return _window(tuple(shape[2:]), kernel, stride, padding, dilation, ceil_mode)


def _taps(win, out):
    """The input positions (inside the input) of output `out`'s window, row-major."""
    for off in itertools.product(*(range(k) for k in win.kernel)):
        pos = tuple(o * s - p + k * d for o, s, p, k, d in
                    zip(out, win.stride, win.padding, off, win.dilation))
        if all(0 <= q < n for q, n in zip(pos, win.spatial)):
            yield pos


def max_pool_reference(x, win):
    """Window maxima and flat plane indices: the first maximum; a NaN takes over (the last)."""
    x = x.astype(np.float64)
    n, c = x.shape[:2]
    out = np.empty((n, c) + win.out)
    index = np.empty((n, c) + win.out, dtype=np.int64)
    for b, ch in itertools.product(range(n), range(c)):
        for o in itertools.product(*(range(s) for s in win.out)):
            best, arg = None, None
            for pos in _taps(win, o):
                v = x[(b, ch) + pos]
                if best is None or v > best or np.isnan(v):
                    best, arg = v, np.ravel_multi_index(pos, win.spatial)
            out[(b, ch) + o], index[(b, ch) + o] = best, arg
    return out, index


def max_pool_grad_reference(g, index, shape):
    gx = np.zeros((shape[0] * shape[1], math.prod(shape[2:])))
    rows = np.repeat(np.arange(shape[0] * shape[1]), math.prod(g.shape[2:]))
    np.add.at(gx, (rows, index.reshape(-1)), g.astype(np.float64).reshape(-1))
    return gx.reshape(shape)


def _divisor(win, out, count_include_pad, divisor_override):
    if divisor_override:
        return divisor_override
    size = 1
    for o, s, p, k, n in zip(out, win.stride, win.padding, win.kernel, win.spatial):
        start = o * s - p
        end = min(start + k, n + p)
        size *= (end - start) if count_include_pad else (min(end, n) - max(start, 0))
    return size


def avg_pool_reference(x, win, count_include_pad, divisor_override):
    x = x.astype(np.float64)
    n, c = x.shape[:2]
    out = np.zeros((n, c) + win.out)
    for o in itertools.product(*(range(s) for s in win.out)):
        total = sum((x[(slice(None), slice(None)) + pos] for pos in _taps(win, o)),
                    np.zeros((n, c)))
        out[(slice(None), slice(None)) + o] = total / _divisor(win, o, count_include_pad,
                                                               divisor_override)
    return out


def avg_pool_grad_reference(g, win, shape, count_include_pad, divisor_override):
    g = g.astype(np.float64)
    gx = np.zeros(shape)
    for o in itertools.product(*(range(s) for s in win.out)):
        share = g[(slice(None), slice(None)) + o] / _divisor(win, o, count_include_pad,
                                                             divisor_override)
        for pos in _taps(win, o):
            gx[(slice(None), slice(None)) + pos] += share
    return gx


def _tolerance(dtype):
    return {np.float64: 1e-12, np.float32: 1e-5}.get(dtype, 2e-2)


def _random(shape, dtype, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


# -- the kernels -------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ALL_FLOATS)
@pytest.mark.parametrize("case", MAX_CASES)
def test_max_pool_forward_matches_reference(xp, case, dtype):
    shape, kernel, stride, padding, dilation, ceil_mode = case
    win = _geometry(shape, kernel, stride, padding, dilation, ceil_mode)
    x = _random(shape, dtype)
    y, index = cuda_pool.max_pool_forward(xp.asarray(x), win.out, kernel, stride, padding,
                                          dilation, block=64)
    want, want_index = max_pool_reference(x, win)
    assert host(y).dtype == dtype and host(index).dtype == np.int64
    np.testing.assert_array_equal(host(y).astype(np.float64), want)  # maxima are exact
    np.testing.assert_array_equal(host(index), want_index)
    y_only, none = cuda_pool.max_pool_forward(xp.asarray(x), win.out, kernel, stride, padding,
                                              dilation, with_indices=False, block=64)
    assert none is None
    np.testing.assert_array_equal(host(y_only), host(y))


@pytest.mark.parametrize("dtype", FLOATS)
def test_max_pool_nan_ties_and_infinities(xp, dtype):
    # window 0 has two NaNs (the last one is reported), window 1 ties (the first is),
    # window 2 is all -inf (its first element), window 3 mixes NaN and +inf
    x = np.array([[[1.0, np.nan, 5.0, np.nan, 2.0, 7.0, 7.0, 3.0,
                    -np.inf, -np.inf, -np.inf, -np.inf, np.inf, np.nan, 0.0, np.inf]]],
                 dtype=dtype)
    y, index = cuda_pool.max_pool_forward(xp.asarray(x), (4,), (4,), (4,), (0,), (1,),
                                          block=32)
    y = host(y)
    assert np.isnan(y[0, 0, 0]) and y[0, 0, 1] == 7 and y[0, 0, 2] == -np.inf
    assert np.isnan(y[0, 0, 3])
    np.testing.assert_array_equal(host(index)[0, 0], [3, 5, 8, 13])


@pytest.mark.parametrize("dtype", ALL_FLOATS)
@pytest.mark.parametrize("case", MAX_CASES)
def test_max_pool_backward_matches_reference(xp, case, dtype):
    shape, kernel, stride, padding, dilation, ceil_mode = case
    win = _geometry(shape, kernel, stride, padding, dilation, ceil_mode)
    # few distinct values: many windows pick the same element, whose gradients add up
    x = np.round(_random(shape, np.float64, seed=1)).astype(dtype)
    _, index = max_pool_reference(x, win)
    g = _random((shape[0], shape[1]) + win.out, dtype, seed=2)
    gx = cuda_pool.max_pool_backward(xp.asarray(g), xp.asarray(index), shape, kernel, stride,
                                     padding, dilation, block=64)
    assert host(gx).dtype == dtype
    tol = _tolerance(dtype)
    np.testing.assert_allclose(host(gx).astype(np.float64),
                               max_pool_grad_reference(g, index, shape), rtol=tol, atol=tol)


@pytest.mark.parametrize("divisor_override", [None, 3])
@pytest.mark.parametrize("count_include_pad", [True, False])
@pytest.mark.parametrize("dtype", ALL_FLOATS)
@pytest.mark.parametrize("case", AVG_CASES)
def test_avg_pool_forward_and_backward_match_reference(xp, case, dtype, count_include_pad,
                                                       divisor_override):
    shape, kernel, stride, padding, ceil_mode = case
    win = _geometry(shape, kernel, stride, padding, (1,) * len(kernel), ceil_mode)
    x = _random(shape, dtype)
    g = _random((shape[0], shape[1]) + win.out, dtype, seed=3)
    y = cuda_pool.avg_pool_forward(xp.asarray(x), win.out, kernel, stride, padding,
                                   count_include_pad, divisor_override, block=64)
    gx = cuda_pool.avg_pool_backward(xp.asarray(g), shape, kernel, stride, padding,
                                     count_include_pad, divisor_override, block=64)
    assert host(y).dtype == dtype and host(gx).dtype == dtype
    tol = _tolerance(dtype)
    np.testing.assert_allclose(host(y).astype(np.float64),
                               avg_pool_reference(x, win, count_include_pad, divisor_override),
                               rtol=tol, atol=tol)
    np.testing.assert_allclose(host(gx).astype(np.float64),
                               avg_pool_grad_reference(g, win, shape, count_include_pad,
                                                       divisor_override),
                               rtol=tol, atol=tol)


def test_grid_stride_covers_more_elements_than_threads(xp, monkeypatch):
    # a single block of 32 threads for 2*3*4*5 outputs, then for 2*3*7*9 inputs
    shape, kernel, stride, padding = (2, 3, 7, 9), (3, 3), (2, 2), (1, 1)
    win = _geometry(shape, kernel, stride, padding, (1, 1), False)
    x = _random(shape, np.float64)
    g = _random((2, 3) + win.out, np.float64, seed=1)
    launches = []
    monkeypatch.setattr(cuda_pool, "grid_1d", lambda n, threads: launches.append(n) or 1)
    y, index = cuda_pool.max_pool_forward(xp.asarray(x), win.out, kernel, stride, padding,
                                          (1, 1), block=32)
    gx = cuda_pool.max_pool_backward(xp.asarray(g), index, shape, kernel, stride, padding,
                                     (1, 1), block=32)
    assert launches == [120, 378]
    want, want_index = max_pool_reference(x, win)
    np.testing.assert_array_equal(host(y), want)
    np.testing.assert_array_equal(host(index), want_index)
    np.testing.assert_allclose(host(gx), max_pool_grad_reference(g, want_index, shape),
                               rtol=1e-12, atol=1e-12)


def adaptive_max_pool_reference(x, out_size):
    """Flat plane index of each adaptive window's first maximum (a NaN takes over)."""
    spatial = x.shape[2:]
    index = np.empty(x.shape[:2] + tuple(out_size), dtype=np.int64)
    for b, ch in itertools.product(range(x.shape[0]), range(x.shape[1])):
        for o in itertools.product(*(range(s) for s in out_size)):
            ranges = [range(q * n // m, -(-(q + 1) * n // m)) for q, n, m in
                      zip(o, spatial, out_size)]
            best, arg = None, None
            for pos in itertools.product(*ranges):
                v = float(x[(b, ch) + pos])
                if best is None or v > best or np.isnan(v):
                    best, arg = v, np.ravel_multi_index(pos, spatial)
            index[(b, ch) + o] = arg
    return index


@pytest.mark.parametrize("dtype", ALL_FLOATS)
@pytest.mark.parametrize("shape, out_size", [
    ((2, 3, 10), (4,)), ((1, 2, 3), (5,)), ((2, 2, 7, 9), (3, 4)), ((1, 1, 5, 4), (7, 2)),
    ((1, 1, 6, 6), (1, 1)), ((1, 2, 5, 4, 6), (2, 3, 4))])
def test_adaptive_max_pool_indices_match_reference(xp, shape, out_size, dtype):
    x = np.round(_random(shape, np.float64, seed=7)).astype(dtype)  # ties included
    x.reshape(-1)[::11] = np.nan
    index = cuda_pool.adaptive_max_pool_indices(xp.asarray(x), out_size, block=64)
    np.testing.assert_array_equal(host(index), adaptive_max_pool_reference(x, out_size))


# -- the ops, on their kernel path (emulated) against their generic CPU path -------------------

@pytest.fixture
def calls(monkeypatch):
    return record_calls(monkeypatch, cuda_pool, ("max_pool_forward", "max_pool_backward", "avg_pool_forward",
                 "avg_pool_backward", "adaptive_max_pool_indices"))


def _device(xp):
    return "cpu" if xp is np else "cuda"


def _run(xp, fn, x, seed=5):
    """fn's outputs and the input gradient of sum(outputs[0] * a random weight)."""
    t = taimatsu.tensor(x, device=_device(xp), requires_grad=True)
    outs = fn(t)
    outs = outs if isinstance(outs, tuple) else (outs,)
    weight = _random(tuple(outs[0].shape), x.dtype, seed)
    (outs[0] * taimatsu.tensor(weight, device=_device(xp))).sum().backward()
    return [host(o.detach()._data) for o in outs] + [host(t.grad._data)]


def _compare(xp, fn, x, tol):
    got = _run(xp, fn, x)
    with generic_path():
        want = _run(np, fn, x)
    for a, b in zip(got, want):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("case", MAX_CASES)
def test_max_pool_op_matches_cpu_path(xp, calls, case, dtype):
    shape, kernel, stride, padding, dilation, ceil_mode = case
    pool = (F.max_pool1d, F.max_pool2d, F.max_pool3d)[len(kernel) - 1]
    x = np.round(_random(shape, np.float64, seed=4) * 2).astype(dtype)  # ties included
    _compare(xp, lambda t: pool(t, kernel, stride, padding, dilation, ceil_mode,
                                return_indices=True), x, _tolerance(dtype))
    assert calls.counts() == {"max_pool_forward": 1, "max_pool_backward": 1}


def test_max_pool_op_unbatched_nan_and_no_indices(xp, calls):
    x = _random((3, 6, 5), np.float32)
    x[0, 1, 2] = x[2, 4, 4] = np.nan
    _compare(xp, lambda t: F.max_pool2d(t, 2, 1, 1, return_indices=True), x, 1e-6)
    with taimatsu.no_grad():  # inference skips the indices
        y = F.max_pool2d(taimatsu.tensor(x, device=_device(xp)), 3, 2, ceil_mode=True)
    with generic_path():
        want = F.max_pool2d(taimatsu.tensor(x), 3, 2, ceil_mode=True)
    np.testing.assert_array_equal(host(y._data), want._data)
    assert calls.counts() == {"max_pool_forward": 2, "max_pool_backward": 1}


def test_max_pool_op_double_backward_takes_the_generic_path(xp, calls):
    x = _random((1, 2, 5, 5), np.float64)
    t = taimatsu.tensor(x, device=_device(xp), requires_grad=True)
    y = F.max_pool2d(t, 3, 1, 1)
    (gx,) = taimatsu.autograd.grad(y.sum(), t, create_graph=True)
    (ggx,) = taimatsu.autograd.grad((gx * t).sum(), t)
    with generic_path():
        t2 = taimatsu.tensor(x, requires_grad=True)
        (gx2,) = taimatsu.autograd.grad(F.max_pool2d(t2, 3, 1, 1).sum(), t2, create_graph=True)
        (ggx2,) = taimatsu.autograd.grad((gx2 * t2).sum(), t2)
    np.testing.assert_allclose(host(gx.detach()._data), gx2.detach()._data)
    np.testing.assert_allclose(host(ggx._data), ggx2._data)
    assert calls.counts() == {"max_pool_forward": 1}


@pytest.mark.parametrize("divisor_override", [None, 2])
@pytest.mark.parametrize("count_include_pad", [True, False])
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("case", AVG_CASES)
def test_avg_pool_op_matches_cpu_path(xp, calls, case, dtype, count_include_pad,
                                      divisor_override):
    shape, kernel, stride, padding, ceil_mode = case
    nd = len(kernel)
    if nd == 1 and divisor_override:
        pytest.skip("avg_pool1d has no divisor_override")
    extra = {} if nd == 1 else {"divisor_override": divisor_override}
    pool = (F.avg_pool1d, F.avg_pool2d, F.avg_pool3d)[nd - 1]
    x = _random(shape, dtype, seed=6)
    _compare(xp, lambda t: pool(t, kernel, stride, padding, ceil_mode, count_include_pad,
                                **extra), x, _tolerance(dtype))
    assert calls.counts() == {"avg_pool_forward": 1, "avg_pool_backward": 1}


def test_avg_pool_op_double_backward(xp, calls):
    x = _random((1, 2, 6, 5), np.float64)

    def second(xp_):
        t = taimatsu.tensor(x, device=_device(xp_), requires_grad=True)
        y = F.avg_pool2d(t, 3, 2, 1, ceil_mode=True, count_include_pad=False)
        (gx,) = taimatsu.autograd.grad((y * y).sum(), t, create_graph=True)
        (ggx,) = taimatsu.autograd.grad((gx * gx).sum(), t)
        return host(gx.detach()._data), host(ggx._data)

    got = second(xp)
    with generic_path():
        want = second(np)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    # the adjoint and its adjoint run as kernels too, on arrays
    assert calls.counts()["avg_pool_forward"] >= 2 and calls.counts()["avg_pool_backward"] >= 1


def test_integer_pooling_keeps_the_generic_path(xp, calls):
    x = np.arange(2 * 3 * 5 * 4).reshape(2, 3, 5, 4) % 7
    y = F.max_pool2d(taimatsu.tensor(x, device=_device(xp)), 2, 1)
    z = F.avg_pool2d(taimatsu.tensor(x, device=_device(xp)), 2, 1)
    with generic_path():
        want_y = F.max_pool2d(taimatsu.tensor(x), 2, 1)
        want_z = F.avg_pool2d(taimatsu.tensor(x), 2, 1)
    np.testing.assert_array_equal(host(y._data), want_y._data)
    np.testing.assert_array_equal(host(z._data), want_z._data)
    assert calls.counts() == {}


@pytest.mark.parametrize("pool, shape, out_size", [
    (F.adaptive_max_pool1d, (2, 3, 10), 4),
    (F.adaptive_max_pool2d, (2, 2, 7, 9), (3, 4)),
    (F.adaptive_max_pool2d, (2, 5, 6), (8, None)),
    (F.adaptive_max_pool3d, (1, 2, 5, 4, 6), (2, 3, 4))])
def test_adaptive_max_pool_op_matches_cpu_path(xp, calls, pool, shape, out_size):
    x = np.round(_random(shape, np.float64, seed=8) * 2)  # ties included
    _compare(xp, lambda t: pool(t, out_size, return_indices=True), x, 1e-12)
    assert calls.counts() == {"adaptive_max_pool_indices": 1}
