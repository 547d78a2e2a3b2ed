"""GELU / SiLU kernels and the fused bias-add epilogue (backend/cuda/activation.py): against
NumPy references, and F.gelu / F.silu / the fused helper on their kernel path against the CPU
path."""

import math

import ml_dtypes
import numpy as np
import pytest

import taimatsu
import taimatsu.nn.functional as F
from taimatsu.backend.cuda import activation as cuda_act
from taimatsu.nn._functional.activation import _bias_activation

from .conftest import host, record_calls

DTYPES = [np.float32, np.float64, np.float16, ml_dtypes.bfloat16]
TOL = {np.float32: 2e-6, np.float64: 1e-13, np.float16: 2e-3, ml_dtypes.bfloat16: 1.6e-2}
KINDS = {"gelu": 0, "gelu_tanh": 1, "silu": 2}
_erf = np.vectorize(math.erf)


def _value(x, kind):
    x = np.asarray(x, np.float64)
    if kind == 0:
        return 0.5 * x * (1 + _erf(x / math.sqrt(2)))
    if kind == 1:
        return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
    with np.errstate(over="ignore"):
        return x / (1 + np.exp(-x))


def _derivative(x, kind):
    x = np.asarray(x, np.float64)
    if kind == 0:
        return 0.5 * (1 + _erf(x / math.sqrt(2))) + x * np.exp(-x * x / 2) / math.sqrt(2 * math.pi)
    if kind == 1:
        beta = math.sqrt(2 / math.pi)
        t = np.tanh(beta * (x + 0.044715 * x ** 3))
        return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * beta * (1 + 3 * 0.044715 * x * x)
    with np.errstate(over="ignore"):
        s = 1 / (1 + np.exp(-x))
    return s * (1 + x * (1 - s))


def _inputs(rng, shape, dtype):
    x = rng.standard_normal(shape) * 3
    x.flat[:4] = [-30.0, 30.0, -8.5, 1e-4][: x.size]  # tails where erf / exp saturate
    return x.astype(dtype), rng.standard_normal(shape).astype(dtype)


def _skip_bfloat16_on_cupy(xp, dtype):
    if dtype is ml_dtypes.bfloat16 and xp is not np:
        pytest.skip("CuPy arrays have no bfloat16 dtype")


@pytest.mark.parametrize("kind", KINDS.values(), ids=KINDS.keys())
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_elementwise_kernels_match_numpy(xp, dtype, kind):
    _skip_bfloat16_on_cupy(xp, dtype)
    x, g = _inputs(np.random.default_rng(0), (7, 111), dtype)  # 777: a partial last block
    y = cuda_act.forward(xp.asarray(x), kind, block=64)
    dx = cuda_act.backward(xp.asarray(g), xp.asarray(x), kind, block=64)
    assert y.dtype == x.dtype and dx.shape == x.shape
    tol = TOL[dtype]
    np.testing.assert_allclose(host(y).astype(np.float64), _value(x, kind), rtol=tol, atol=tol)
    expected = np.asarray(g, np.float64) * _derivative(x, kind)
    np.testing.assert_allclose(host(dx).astype(np.float64), expected, rtol=tol, atol=tol)


@pytest.mark.parametrize("kind", KINDS.values(), ids=KINDS.keys())
def test_nan_propagates(xp, kind):
    x = np.array([np.nan, 1.0, -2.0], np.float32)
    y = host(cuda_act.forward(xp.asarray(x), kind))
    dx = host(cuda_act.backward(xp.ones(3, np.float32), xp.asarray(x), kind))
    assert np.isnan(y[0]) and np.isnan(dx[0]) and np.isfinite(y[1:]).all()


@pytest.mark.parametrize("kind", KINDS.values(), ids=KINDS.keys())
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("shape", [(37, 45), (2, 3, 5), (1, 1), (4, 70)],
                         ids=["odd", "3d", "one", "wide"])
def test_bias_kernels_match_numpy(xp, shape, dtype, kind):
    _skip_bfloat16_on_cupy(xp, dtype)
    rng = np.random.default_rng(1)
    x, g = _inputs(rng, shape, dtype)
    bias = rng.standard_normal(shape[-1]).astype(dtype)
    pre = np.asarray(x, np.float64) + np.asarray(bias, np.float64)
    y = cuda_act.bias_forward(xp.asarray(x), xp.asarray(bias), kind, block=64)
    # by = 2 makes several row splits, so the host sums more than one partial row.
    dx, db = cuda_act.bias_backward(xp.asarray(g), xp.asarray(x), xp.asarray(bias), kind,
                                    block=(32, 2))
    assert y.dtype == dx.dtype == db.dtype == x.dtype and db.shape == bias.shape
    tol = TOL[dtype]
    np.testing.assert_allclose(host(y).astype(np.float64), _value(pre, kind), rtol=tol, atol=tol)
    expected = np.asarray(g, np.float64) * _derivative(pre, kind)
    np.testing.assert_allclose(host(dx).astype(np.float64), expected, rtol=tol, atol=tol)
    bias_grad = expected.reshape(-1, shape[-1]).sum(0)
    np.testing.assert_allclose(host(db).astype(np.float64), bias_grad, rtol=tol,
                               atol=tol * math.sqrt(x.size))


def test_bias_kernels_loop_over_a_capped_grid(xp, monkeypatch):
    monkeypatch.setattr(cuda_act, "_MAX_GRID", 1)
    monkeypatch.setattr(cuda_act, "_ROWS_PER_THREAD", 4)
    rng = np.random.default_rng(2)
    x, g = _inputs(rng, (19, 70), np.float64)
    bias = rng.standard_normal(70)
    pre = x + bias
    y = cuda_act.bias_forward(xp.asarray(x), xp.asarray(bias), 0, block=32)
    # 3 row splits of 2 rows a step: each thread loops over 3 or 4 rows, each block over
    # 3 column tiles
    dx, db = cuda_act.bias_backward(xp.asarray(g), xp.asarray(x), xp.asarray(bias), 0,
                                    block=(32, 2))
    np.testing.assert_allclose(host(y), _value(pre, 0), rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(host(dx), g * _derivative(pre, 0), rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(host(db), (g * _derivative(pre, 0)).sum(0), atol=1e-12)


def test_kind_numbers():
    assert cuda_act.kind_of("gelu") == 0 and cuda_act.kind_of("gelu", "tanh") == 1
    assert cuda_act.kind_of("silu") == 2
    assert not cuda_act.supported(np.zeros(0, np.float32))
    assert not cuda_act.supported(np.zeros(3, np.int64))


# -- op level -----------------------------------------------------------------------------------

@pytest.fixture
def kernel_calls(monkeypatch):
    return record_calls(monkeypatch, cuda_act, ("forward", "backward", "bias_forward", "bias_backward"))


def _run(fn, arrays, g, create_graph=False):
    tensors = [taimatsu.tensor(a, requires_grad=True) for a in arrays]
    y = fn(*tensors)
    grads = taimatsu.autograd.grad(y, tensors, taimatsu.tensor(g), create_graph=create_graph)
    return y, grads


def _assert_same(a, b, tol):
    assert a.dtype == b.dtype and a.shape == b.shape
    np.testing.assert_allclose(a.detach().numpy().astype(np.float64),
                               b.detach().numpy().astype(np.float64), rtol=tol, atol=tol)


OPS = {
    "gelu": lambda t: F.gelu(t),
    "gelu_tanh": lambda t: F.gelu(t, approximate="tanh"),
    "silu": lambda t: F.silu(t),
}


@pytest.mark.parametrize("op", OPS.values(), ids=OPS.keys())
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16],
                         ids=["float32", "float64", "float16"])
@pytest.mark.parametrize("shape", [(3, 5, 7), (10,), ()], ids=["3d", "1d", "0d"])
def test_op_on_kernels_equals_cpu_path(emulator, kernel_calls, op, dtype, shape):
    rng = np.random.default_rng(3)
    x, g = _inputs(rng, shape, dtype) if shape else (np.array(0.7, dtype), np.array(1.5, dtype))
    y_cpu, (gx_cpu,) = _run(op, [x], g)
    with emulator():
        y, (gx,) = _run(op, [x], g)
    assert kernel_calls == ["forward", "backward"]
    assert y.grad_fn.name() == y_cpu.grad_fn.name()
    # The CPU path computes float16 in float16 steps; the kernel computes in float and rounds
    # once, so it is held to the exact value more tightly than to the CPU path.
    tol = {np.float32: 2e-6, np.float64: 1e-13, np.float16: 1e-2}[dtype]
    _assert_same(y, y_cpu, tol)
    _assert_same(gx, gx_cpu, tol)
    if dtype == np.float16:
        kind = list(OPS.values()).index(op)
        np.testing.assert_allclose(y.detach().numpy().astype(np.float64), _value(x, kind),
                                   rtol=1e-3, atol=1e-3)


def test_inplace_silu_and_noncontiguous_gelu(emulator, kernel_calls):
    x = np.random.default_rng(4).standard_normal((6, 4)).astype(np.float32)
    t = taimatsu.tensor(x)
    with emulator():
        F.silu(t, inplace=True)
        y = F.gelu(taimatsu.tensor(x).t())
    assert kernel_calls == ["forward", "forward"]
    _assert_same(t, F.silu(taimatsu.tensor(x)), 2e-6)
    _assert_same(y, F.gelu(taimatsu.tensor(x).t()), 2e-6)


@pytest.mark.parametrize("op", OPS.values(), ids=OPS.keys())
def test_double_backward_still_builds_a_graph(emulator, op):
    rng = np.random.default_rng(5)
    x, g = _inputs(rng, (3, 4), np.float64)
    _, (gx_cpu,) = _run(op, [x], g, create_graph=True)
    with emulator():
        _, (gx,) = _run(op, [x], g, create_graph=True)
    assert gx.requires_grad
    _assert_same(gx, gx_cpu, 1e-13)


FUSED = [("gelu", "none"), ("gelu", "tanh"), ("silu", "none")]


@pytest.mark.parametrize("activation,approximate", FUSED, ids=["gelu", "gelu_tanh", "silu"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_fused_bias_activation_equals_composition(emulator, kernel_calls, activation,
                                                  approximate, dtype):
    rng = np.random.default_rng(6)
    x, g = _inputs(rng, (2, 5, 9), dtype)
    bias = rng.standard_normal(9).astype(dtype)

    def fused(t, b):
        return _bias_activation(t, b, activation, approximate)

    def composed(t, b):
        return F.gelu(t + b, approximate) if activation == "gelu" else F.silu(t + b)

    y_ref, grads_ref = _run(composed, [x, bias], g)
    y_cpu, grads_cpu = _run(fused, [x, bias], g)
    assert kernel_calls == []
    with emulator():
        y, grads = _run(fused, [x, bias], g)
    assert kernel_calls == ["bias_forward", "bias_backward"]
    assert y.grad_fn.name() == y_ref.grad_fn.name()
    tol = 2e-6 if dtype == np.float32 else 1e-13
    for ours in ((y_cpu, *grads_cpu), (y, *grads)):
        for a, b in zip(ours, (y_ref, *grads_ref)):
            _assert_same(a, b, tol)


def test_fused_bias_activation_edge_cases(emulator):
    rng = np.random.default_rng(7)
    x = taimatsu.tensor(rng.standard_normal((4, 3)), requires_grad=True)
    bias = taimatsu.tensor(rng.standard_normal(3))  # no grad for the bias
    with emulator():
        y = _bias_activation(x, bias)
        (gx,) = taimatsu.autograd.grad(y.sum(), [x], create_graph=True)  # generic backward
    _assert_same(y, F.gelu(x + bias), 1e-13)
    assert gx.requires_grad
    _assert_same(gx, taimatsu.autograd.grad(F.gelu(x + bias).sum(), [x])[0], 1e-13)
    # a bias that does not fit the last dimension falls back to broadcasting addition
    wide = taimatsu.tensor(rng.standard_normal((4, 1)))
    _assert_same(_bias_activation(x, wide, "silu"), F.silu(x + wide), 1e-13)
    with pytest.raises(ValueError, match="unsupported fused activation"):
        _bias_activation(x, bias, "relu")
