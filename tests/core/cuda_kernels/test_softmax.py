"""Fused softmax / log_softmax kernels (backend/cuda/softmax.py): against NumPy references,
and F.softmax / F.log_softmax on their kernel path against the CPU path."""

import ml_dtypes
import numpy as np
import pytest

import taimatsu
import taimatsu.nn.functional as F
from taimatsu.backend.cuda import softmax as cuda_softmax
from taimatsu.testing import cuda_emulator

from .conftest import host, record_calls

DTYPES = [np.float32, np.float64, np.float16, ml_dtypes.bfloat16]
TOL = {np.float32: 1e-5, np.float64: 1e-12, np.float16: 2e-3, ml_dtypes.bfloat16: 2e-2}

# (id, shape, dim, launch options): each row picks one kernel and one geometry.
CASES = [
    ("warp-2", (5, 37), 1, {}),
    ("warp-1-size1", (3, 1), 1, {}),
    ("warp-32", (2, 1000), 1, {}),
    ("warp-many-rows", (20, 9), -1, {"block": 64}),
    ("block-long", (3, 1500), 1, {"block": 64}),
    ("block-short", (4, 50), 1, {"block": 64, "warp_max_dim": 0}),
    ("strided", (3, 7, 5), 1, {}),
    ("strided-dim0", (33, 2), 0, {"block": 64}),
    ("strided-partial-tile", (2, 5, 40), 1, {"block": 64}),
    ("strided-4d", (2, 3, 4, 5), 2, {"block": 32}),
]


def _ref(x, dim, log):
    x = np.asarray(x, np.float64)
    with np.errstate(all="ignore"):
        z = x - x.max(axis=dim, keepdims=True)
        if log:
            return z - np.log(np.exp(z).sum(axis=dim, keepdims=True))
        e = np.exp(z)
        return e / e.sum(axis=dim, keepdims=True)


def _ref_backward(g, y, dim, log):
    g, y = np.asarray(g, np.float64), np.asarray(y, np.float64)
    if log:
        return g - np.exp(y) * g.sum(axis=dim, keepdims=True)
    return y * (g - (g * y).sum(axis=dim, keepdims=True))


@pytest.mark.parametrize("log", [False, True], ids=["softmax", "log_softmax"])
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_kernels_match_numpy(xp, case, dtype, log):
    _, shape, dim, options = case
    if dtype is ml_dtypes.bfloat16 and xp is not np:
        pytest.skip("CuPy arrays have no bfloat16 dtype")
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(shape) * 3).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    y = cuda_softmax.forward(xp.asarray(x), dim, log, **options)
    assert y.dtype == x.dtype and y.shape == x.shape
    tol = TOL[dtype]
    np.testing.assert_allclose(host(y).astype(np.float64), _ref(x, dim, log), rtol=tol, atol=tol)
    dx = cuda_softmax.backward(xp.asarray(g), y, dim, log, **options)
    expected = _ref_backward(g, host(y), dim, log)
    np.testing.assert_allclose(host(dx).astype(np.float64), expected, rtol=tol, atol=4 * tol)


@pytest.mark.parametrize("log", [False, True], ids=["softmax", "log_softmax"])
@pytest.mark.parametrize("options", [{}, {"block": 32, "warp_max_dim": 0}],
                         ids=["warp", "block"])
def test_special_values_follow_the_reference_formula(xp, options, log):
    inf, nan = np.inf, np.nan
    x = np.array([[1.0, 2.0, 3.0, 0.5, -1.0, 4.0, 0.0],
                  [1.0, nan, 3.0, 0.5, -1.0, 4.0, 0.0],   # a NaN: the whole row NaN
                  [-inf] * 7,                               # all -inf: NaN, as torch
                  [-inf, 2.0, -inf, 0.5, -inf, -inf, 1.0],  # some -inf: those are 0 / -inf
                  [1.0, inf, 3.0, 0.5, -1.0, 4.0, 0.0],     # +inf: inf - inf is NaN
                  [-inf, -inf, 5.0, -inf, -inf, -inf, -inf]], np.float32)
    for dim, data in ((1, x), (0, np.ascontiguousarray(x.T))):  # row and strided kernels
        y = host(cuda_softmax.forward(xp.asarray(data), dim, log, **options))
        expected = _ref(data, dim, log)
        np.testing.assert_allclose(y, expected, rtol=1e-6, atol=1e-6, equal_nan=True)
        assert np.isnan(expected).any() and np.isinf(expected).any() == log


@pytest.mark.parametrize("shape,dim,options", [((9, 40), 1, {"block": 32}),
                                                ((3, 100), 1, {"block": 32, "warp_max_dim": 0}),
                                                ((5, 6, 3), 1, {"block": 32})],
                         ids=["warp", "block", "strided"])
def test_grid_stride_loops_cover_rows_beyond_the_grid(xp, monkeypatch, shape, dim, options):
    monkeypatch.setattr(cuda_softmax, "_MAX_GRID", 2)
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape)
    g = rng.standard_normal(shape)
    y = cuda_softmax.forward(xp.asarray(x), dim, **options)
    np.testing.assert_allclose(host(y), _ref(x, dim, False), rtol=1e-12)
    dx = cuda_softmax.backward(xp.asarray(g), y, dim, **options)
    np.testing.assert_allclose(host(dx), _ref_backward(g, host(y), dim, False), atol=1e-12)


def test_supported_refuses_what_the_kernels_do_not_take():
    assert cuda_softmax.supported(np.zeros((2, 3), np.float16))
    assert not cuda_softmax.supported(np.zeros((2, 0), np.float32))
    assert not cuda_softmax.supported(np.zeros((), np.float32))
    assert not cuda_softmax.supported(np.zeros((2, 3), np.complex64))


# -- op level: F.softmax / F.log_softmax take the kernels under the emulator -------------------

def _run(fn, x, g, create_graph=False):
    t = taimatsu.tensor(x, requires_grad=True)
    y = fn(t)
    (grad,) = taimatsu.autograd.grad(y, t, taimatsu.tensor(g), create_graph=create_graph)
    return y, grad


@pytest.fixture
def kernel_calls(monkeypatch):
    return record_calls(monkeypatch, cuda_softmax, ("forward", "backward"))


OP_CASES = [((4, 10), -1), ((3, 5, 7), 1), ((3, 5, 7), 0), ((2, 1100), -1), ((9,), 0),
            ((4, 1, 3), 1)]


@pytest.mark.parametrize("op", [F.softmax, F.log_softmax], ids=["softmax", "log_softmax"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("shape,dim", OP_CASES, ids=[f"{s}-{d}" for s, d in OP_CASES])
def test_op_on_kernels_equals_cpu_path(kernel_calls, op, dtype, shape, dim):
    if not cuda_emulator.available():
        pytest.skip("no C++ compiler for the CUDA emulator")
    rng = np.random.default_rng(2)
    x = rng.standard_normal(shape).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    y_cpu, gx_cpu = _run(lambda t: op(t, dim), x, g)
    assert kernel_calls == []
    with cuda_emulator.emulate():
        y, gx = _run(lambda t: op(t, dim), x, g)
    assert kernel_calls == ["forward", "backward"]
    tol = 1e-6 if dtype == np.float32 else 1e-13
    assert y.dtype == y_cpu.dtype and gx.dtype == gx_cpu.dtype
    np.testing.assert_allclose(y.detach().numpy(), y_cpu.detach().numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(gx.numpy(), gx_cpu.numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("op", [F.softmax, F.log_softmax], ids=["softmax", "log_softmax"])
def test_op_half_precision_and_noncontiguous_input(kernel_calls, op):
    if not cuda_emulator.available():
        pytest.skip("no C++ compiler for the CUDA emulator")
    rng = np.random.default_rng(3)
    x = taimatsu.tensor(rng.standard_normal((6, 5)).astype(np.float16)).t()  # non-contiguous
    with cuda_emulator.emulate():
        y = op(x, 1)
    assert kernel_calls == ["forward"] and y.dtype == taimatsu.float16
    np.testing.assert_allclose(y.numpy().astype(np.float32), op(x, 1).numpy().astype(np.float32),
                               rtol=2e-3, atol=2e-3)


@pytest.mark.parametrize("op", [F.softmax, F.log_softmax], ids=["softmax", "log_softmax"])
def test_double_backward_still_builds_a_graph(op):
    if not cuda_emulator.available():
        pytest.skip("no C++ compiler for the CUDA emulator")
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 6))
    g = rng.standard_normal((3, 6))
    _, gx_cpu = _run(lambda t: op(t, 1), x, g, create_graph=True)
    with cuda_emulator.emulate():
        _, gx = _run(lambda t: op(t, 1), x, g, create_graph=True)
    assert gx.requires_grad
    np.testing.assert_allclose(gx.detach().numpy(), gx_cpu.detach().numpy(), atol=1e-13)
