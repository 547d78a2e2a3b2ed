"""Activation functions of `taimatsu.nn.functional`: relu and friends, softmax, log_softmax.

Each elementwise activation with a kernel of its own in PyTorch is one `Function` here (so
the printed node names are PyTorch's and forward/backward cost one pass each); the ones
PyTorch composes (softsign, tanhshrink, softmin) are composed. `Softmax` and `LogSoftmax`
are fused and numerically stable; their backward reads only their output, so it is written
once for arrays and, through `ctx.xp`, for double backward.
"""

from __future__ import annotations

import functools
import math
import warnings

import numpy as np

from ... import _dtype as D
from ... import backend
from ..._tensor import Tensor, _wrap_dim
from ...amp._state import hook as _autocast
from ...autograd import _graph_xp
from ...autograd.node import Function, as_array
from ...backend.cuda import activation as _cuda_act
from ...backend.cuda import softmax as _cuda_softmax
from ...backend.cuda import use_kernels
from ...ops._util import method, sum_to
from ...ops.inplace import _legacy, apply_inplace, kernel_missing
from ...ops.pointwise import _special, sigmoid, tanh

__all__ = [
    "threshold", "threshold_", "relu", "relu_", "relu6", "hardtanh", "hardtanh_", "elu", "elu_",
    "selu", "selu_", "celu", "celu_", "leaky_relu", "leaky_relu_", "prelu", "rrelu", "rrelu_",
    "glu", "gelu", "logsigmoid", "hardshrink", "tanhshrink", "softsign", "softplus", "softmin",
    "softmax", "softshrink", "gumbel_softmax", "log_softmax", "tanh", "sigmoid", "hardsigmoid",
    "silu", "mish", "hardswish",
]

_quiet = functools.partial(np.errstate, all="ignore")  # overflow in masked-off lanes is fine
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946
_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_GELU_BETA = math.sqrt(2.0 / math.pi)
_GELU_KAPPA = 0.044715


def _in_graph(ctx) -> bool:
    """True when backward runs on Tensors to build a graph (create_graph=True)."""
    return ctx.xp is _graph_xp


def _cast_like(out, like):
    """NumPy computes bfloat16 with Python floats in float32; results keep the input dtype."""
    if out.dtype == like.dtype:
        return out
    return out.to(like.dtype) if isinstance(out, Tensor) else out.astype(like.dtype)


def _pointwise(name: str, fn, grad_fn, saves: str = "x", doc: str = ""):
    """A Function class `name`: y = fn(xp, x, *params), dx = grad_fn(xp, g, x, y, *params).

    Only the input x and/or the output y (as `saves` says) are kept for backward, so the
    same grad_fn serves double backward: both are graph-connected Tensors there.
    """
    keep_x, keep_y = "x" in saves, "y" in saves

    def forward(ctx, x, *params):
        with _quiet():  # 16-bit inputs compute in float32, as torch's kernels do
            y = _cast_like(as_array(fn(backend.of(x), _upcast(x), *params)), x)
        if ctx.needs_input_grad:
            ctx.save_for_backward(x if keep_x else None, y if keep_y else None)
            ctx.params = params
        return y

    def backward(ctx, grad):
        x, y = ctx.saved_arrays
        if not isinstance(grad, Tensor):  # plain arrays (not double backward): upcast 16-bit
            x, y = (None if a is None else _upcast(a) for a in (x, y))
            grad_in = _upcast(grad)
        else:
            grad_in = grad
        with _quiet():
            return _cast_like(grad_fn(ctx.xp, grad_in, x, y, *ctx.params), grad)

    return type(name, (Function,), {
        "__doc__": doc, "__module__": __name__,
        "forward": staticmethod(forward), "backward": staticmethod(backward)})


def _sigmoid(xp, x):
    return 1 / (1 + xp.exp(-x))  # exp overflow gives inf, then exactly 0: no warning needed


def _softplus(xp, x):
    """log(1 + exp(x)) without overflow."""
    return xp.log1p(xp.exp(-xp.abs(x))) + xp.maximum(x, 0)


def _elu_value(xp, x, alpha, scale, input_scale):
    return xp.where(x > 0, x * scale, xp.expm1(x * input_scale) * (alpha * scale))


def _elu_grad(xp, g, x, y, alpha, scale, input_scale):
    neg = g * (input_scale * alpha * scale) * xp.exp(x * input_scale)
    return xp.where(x > 0, g * scale, neg)


def _gelu_value(xp, x, approximate):
    if approximate == "tanh":
        inner = _GELU_BETA * (x + _GELU_KAPPA * x * x * x)
        return 0.5 * x * (1 + xp.tanh(inner))
    return 0.5 * x * _one_plus_erf(x * _SQRT_HALF)


# erfc(a) = t * exp(p(t) - a^2) with t = 1 / (1 + 0.4 a), a >= 0, where p is a degree-8
# polynomial fitted here (Lawson-weighted Chebyshev fit to log(erfcx(a) / t) on [0, 9.3]);
# relative error < 1e-7 in exact arithmetic, ~4e-7 absolute on GELU after float32 rounding
# (torch's own float32 GELU is ~1e-6 off). These ~25 NumPy passes run 4x faster than
# scipy.special.erf, whose float32 loop computes in double one element at a time.
_ERFC_T_SCALE = np.float32(0.4)
_ERFC_POLY = tuple(np.float32(c) for c in (
    -0.20540527, 0.91384127, -1.46216914, 0.96992287, -0.42169928,
    0.29037103, 0.40254331, 1.00127988, -1.48868477))  # highest degree first
_CHUNK = 65536  # elements per block, so the temporaries stay in cache


def _erfc_of_abs_f32(z):
    a = np.abs(z)
    t = a * _ERFC_T_SCALE
    t += 1
    np.divide(1, t, out=t)
    acc = t * _ERFC_POLY[0]
    acc += _ERFC_POLY[1]
    for c in _ERFC_POLY[2:]:
        acc *= t
        acc += c
    a *= a
    acc -= a
    np.exp(acc, out=acc)
    acc *= t
    return acc


def _one_plus_erf_f32(z):
    """1 + erf(z) = erfc(-z) for a float32 CPU array, keeping relative accuracy for z < 0."""
    flat = np.ascontiguousarray(z).reshape(-1)
    out = np.empty_like(flat)
    with _quiet():
        for start in range(0, flat.size, _CHUNK):
            block = flat[start:start + _CHUNK]
            e = _erfc_of_abs_f32(block)
            r = 1 - e  # z >= 0: 2 - erfc(|z|); z < 0: erfc(|z|) exactly
            r *= 2
            r *= np.greater_equal(block, 0)
            r += e
            out[start:start + _CHUNK] = r
    return out.reshape(z.shape)


def _one_plus_erf(z):
    if type(z) is np.ndarray and z.dtype == np.float32:
        return _one_plus_erf_f32(z)
    return 1 + _special("erf", z)


def _gelu_grad(xp, g, x, y, approximate):
    if approximate == "tanh":
        x2 = x * x
        t = xp.tanh(_GELU_BETA * (x + _GELU_KAPPA * x2 * x))
        dinner = _GELU_BETA * (1 + 3 * _GELU_KAPPA * x2)
        return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * dinner)
    cdf = 0.5 * _one_plus_erf(x * _SQRT_HALF)
    pdf = xp.exp(-0.5 * x * x) * _INV_SQRT_2PI
    return g * (cdf + x * pdf)


def _silu_grad(xp, g, x, y):
    s = _sigmoid(xp, x)
    return g * (s * (1 + x * (1 - s)))


def _mish_grad(xp, g, x, y):
    t = xp.tanh(_softplus(xp, x))
    return g * (t + x * _sigmoid(xp, x) * (1 - t * t))


def _hardswish_grad(xp, g, x, y):
    # PyTorch's piecewise choice at the kinks: 0 below -3, the middle slope up to 3 inclusive.
    middle = xp.where(x <= 3, g * (x / 3 + 0.5), g)
    return xp.where(x < -3, 0, middle)


def _softplus_value(xp, x, beta, threshold):
    bx = x * beta
    return xp.where(bx > threshold, x, xp.log1p(xp.exp(bx)) / beta)


def _softplus_grad(xp, g, x, y, beta, threshold):
    bx = x * beta
    return xp.where(bx > threshold, g, g * _sigmoid(xp, bx))


def _outside(xp, x, lambd):
    return (x < -lambd) | (x > lambd)


# Backward passes multiply by masks rather than calling where(): NumPy's where on a random
# mask is ~15x slower than a multiply, and these run on every training step.
Threshold = _pointwise(
    "Threshold", lambda xp, x, th, value: xp.where(x > th, x, value),
    lambda xp, g, x, y, th, value: g * (x > th), doc="x if x > threshold else value")
Relu = _pointwise("Relu", lambda xp, x: xp.maximum(x, 0), lambda xp, g, x, y: g * (y > 0),
                  saves="y", doc="max(x, 0)")
Hardtanh = _pointwise(
    "Hardtanh", lambda xp, x, lo, hi: xp.minimum(xp.maximum(x, lo), hi),
    lambda xp, g, x, y, lo, hi: g * ((x > lo) & (x < hi)), doc="clamp(x, lo, hi)")


def _leaky_value(xp, x, slope):
    # max(x, slope x) is x for x > 0 and slope x below when slope <= 1 (min when above).
    return xp.maximum(x, x * slope) if slope <= 1 else xp.minimum(x, x * slope)


LeakyRelu = _pointwise(
    "LeakyRelu", _leaky_value, lambda xp, g, x, y, slope: g * (x > 0) + (g * slope) * (x <= 0),
    doc="x if x > 0 else slope * x")
Elu = _pointwise("Elu", _elu_value, _elu_grad, doc="scale * (x if x > 0 else alpha * expm1(x))")
Celu = _pointwise("Celu", _elu_value, _elu_grad, doc="ELU with input_scale = 1 / alpha")


def _with_kernel(base, grad_fn, kind):
    """`base`, a _pointwise class, with a CUDA kernel path (backend/cuda/activation.py) that
    keeps its node name and saved state; kind(*params) is the kernel's activation number."""

    def forward(ctx, x, *params):
        if not (use_kernels(x) and _cuda_act.supported(x)):
            return base.forward(ctx, x, *params)
        if ctx.needs_input_grad:
            ctx.save_for_backward(x, None)
            ctx.params = params
        return _cuda_act.forward(x, kind(*params))

    def backward(ctx, grad):
        if _in_graph(ctx) or not use_kernels(grad):
            return base.backward(ctx, grad)
        x, y = ctx.saved_arrays
        if _cuda_act.supported(x) and x.dtype == grad.dtype:
            return _cuda_act.backward(grad, x, kind(*ctx.params))
        with _quiet():
            return _cast_like(grad_fn(ctx.xp, grad, x, y, *ctx.params), grad)

    return type(base.__name__, (base,), {
        "__doc__": base.__doc__, "__module__": __name__,
        "forward": staticmethod(forward), "backward": staticmethod(backward)})


Gelu = _with_kernel(
    _pointwise("Gelu", _gelu_value, _gelu_grad, doc="x * Phi(x), exact or tanh-approximated"),
    _gelu_grad, lambda approximate: _cuda_act.kind_of("gelu", approximate))
Silu = _with_kernel(
    _pointwise("Silu", lambda xp, x: x * _sigmoid(xp, x), _silu_grad, doc="x * sigmoid(x)"),
    _silu_grad, lambda: _cuda_act.kind_of("silu"))
Mish = _pointwise("Mish", lambda xp, x: x * xp.tanh(_softplus(xp, x)), _mish_grad,
                  doc="x * tanh(softplus(x))")
Hardsigmoid = _pointwise(
    "Hardsigmoid", lambda xp, x: xp.minimum(xp.maximum(x + 3, 0), 6) / 6,
    lambda xp, g, x, y: (g / 6) * ((x > -3) & (x < 3)), doc="relu6(x + 3) / 6")
Hardswish = _pointwise("Hardswish", lambda xp, x: x * xp.minimum(xp.maximum(x + 3, 0), 6) / 6,
                       _hardswish_grad, doc="x * relu6(x + 3) / 6")
Softplus = _pointwise("Softplus", _softplus_value, _softplus_grad,
                      doc="log(1 + exp(beta x)) / beta, linear above the threshold")
Softshrink = _pointwise(
    "Softshrink", lambda xp, x, l: xp.where(x > l, x - l, xp.where(x < -l, x + l, 0)),
    lambda xp, g, x, y, l: g * _outside(xp, x, l), doc="shrink x towards 0 by l")
Hardshrink = _pointwise(
    "Hardshrink", lambda xp, x, l: xp.where(_outside(xp, x, l), x, 0),
    lambda xp, g, x, y, l: g * _outside(xp, x, l), doc="x where |x| > l, else 0")
LogSigmoid = _pointwise(
    "LogSigmoid", lambda xp, x: xp.minimum(x, 0) - xp.log1p(xp.exp(-xp.abs(x))),
    lambda xp, g, x, y: g * _sigmoid(xp, -x), doc="log(sigmoid(x)) without overflow")


class PreluKernel(Function):
    """x if x > 0 else w * x, with one weight per channel (dim 1) or one for all."""

    @staticmethod
    def forward(ctx, x, w):
        wb = _prelu_weight_view(w, x.ndim)
        if ctx.needs_input_grad:
            ctx.save_for_backward(x, w)
        return _cast_like(backend.of(x).where(x > 0, x, wb * x), x)

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_arrays
        xp = ctx.xp
        wb = _prelu_weight_view(w, x.ndim)
        pos = x > 0
        gx = xp.where(pos, grad, grad * wb) if ctx.needs_input_grad[0] else None
        gw = None
        if ctx.needs_input_grad[1]:
            gw = sum_to(xp.where(pos, 0, grad * x), wb.shape).reshape(w.shape)
        return gx, gw


def _prelu_weight_view(w, ndim: int):
    """The weight shaped to broadcast over the channel dimension (dim 1)."""
    n = w.numel() if isinstance(w, Tensor) else w.size
    if n == 1:
        return w.reshape(())
    return w.reshape((w.shape[0],) + (1,) * (ndim - 2))


class RreluWithNoise(Function):
    """x * noise (training: a random slope per negative element) or leaky_relu (eval)."""

    @staticmethod
    def forward(ctx, x, noise, slope):
        if noise is None:
            if ctx.needs_input_grad:
                ctx.save_for_backward(x, None)
                ctx.slope = slope
            return _cast_like(_leaky_value(backend.of(x), x, slope), x)
        if ctx.needs_input_grad:
            ctx.save_for_backward(None, noise)
        return x * noise

    @staticmethod
    def backward(ctx, grad):
        x, noise = ctx.saved_arrays
        if noise is not None:
            return grad * noise
        return _cast_like(grad * (x > 0) + (grad * ctx.slope) * (x <= 0), grad)


class Glu(Function):
    """a * sigmoid(b) for the two halves a, b of the input along `dim`."""

    @staticmethod
    def forward(ctx, x, dim):
        xp = backend.of(x)
        a, b = xp.split(x, 2, axis=dim)
        with _quiet():
            s = _sigmoid(xp, b)
        if ctx.needs_input_grad:
            ctx.save_for_backward(x)
            ctx.dim = dim
        return _cast_like(a * s, x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_arrays
        xp = ctx.xp
        half = x.shape[ctx.dim] // 2
        a = _narrow(x, ctx.dim, 0, half)
        b = _narrow(x, ctx.dim, half, half)
        with _quiet():
            s = _sigmoid(xp, b)
        ga = grad * s
        return _cast_like(xp.concatenate([ga, ga * a * (1 - s)], axis=ctx.dim), grad)


def _narrow(x, dim: int, start: int, length: int):
    if isinstance(x, Tensor):
        return x.narrow(dim, start, length)
    index = [slice(None)] * x.ndim
    index[dim] = slice(start, start + length)
    return x[tuple(index)]


class _BiasActivation(Function):
    """activation(x + bias) with a 1-d bias along the last dimension: the epilogue of a
    linear layer whose matmul ran without its bias. On CUDA it is one kernel pass each way
    (backend/cuda/activation.py, which also sums the bias gradient); elsewhere it computes
    what gelu(x + bias) / silu(x + bias) would. Only x and bias are kept for backward."""

    _backward_name = "GeluBackward0"  # the node PyTorch shows for gelu(linear(x))

    @staticmethod
    def forward(ctx, x, bias, activation, approximate):
        if use_kernels(x) and _cuda_act.supported(x):
            y = _cuda_act.bias_forward(x, bias, _cuda_act.kind_of(activation, approximate))
        else:
            value = _gelu_value if activation == "gelu" else (lambda xp, v: v * _sigmoid(xp, v))
            args = (approximate,) if activation == "gelu" else ()
            with _quiet():
                y = _cast_like(as_array(value(backend.of(x), x + bias, *args)), x)
        if ctx.needs_input_grad:
            ctx.save_for_backward(x, bias)
            ctx.activation, ctx.approximate = activation, approximate
            if activation == "silu":
                ctx.mark_name("SiluBackward0")
        return y

    @staticmethod
    def backward(ctx, grad):
        x, bias = ctx.saved_arrays
        need_x, need_bias = ctx.needs_input_grad[:2]
        if (not _in_graph(ctx) and use_kernels(grad) and grad.dtype == x.dtype
                and _cuda_act.supported(x)):
            kind = _cuda_act.kind_of(ctx.activation, ctx.approximate)
            gx, gbias = _cuda_act.bias_backward(grad, x, bias, kind)
        else:
            if ctx.activation == "gelu":
                grad_fn, args = _gelu_grad, (ctx.approximate,)
            else:
                grad_fn, args = _silu_grad, ()
            with _quiet():
                gx = _cast_like(grad_fn(ctx.xp, grad, x + bias, None, *args), grad)
            gbias = sum_to(gx, bias.shape) if need_bias else None
        return gx if need_x else None, gbias if need_bias else None, None, None


def _bias_activation(input: Tensor, bias: Tensor, activation: str = "gelu",
                     approximate: str = "none") -> Tensor:
    """gelu(input + bias) or silu(input + bias) for a 1-d bias over input's last dimension,
    fused into one pass each way on CUDA; same values and gradients as the composition.

    For a linear layer followed by the activation: _bias_activation(F.linear(x, W), b).
    """
    if activation not in ("gelu", "silu") or (activation == "silu" and approximate != "none"):
        raise ValueError(f"unsupported fused activation {activation!r} (approximate="
                         f"{approximate!r}); expected 'gelu' or 'silu'")
    _check_tensor(activation, input)
    if (bias is None or bias.ndim != 1 or input.ndim == 0 or input.shape[-1] != bias.shape[0]
            or bias.dtype is not input.dtype):
        pre = input if bias is None else input + bias
        return gelu(pre, approximate) if activation == "gelu" else silu(pre)
    if activation == "gelu":
        if approximate not in ("none", "tanh"):
            raise RuntimeError("approximate argument must be either none or tanh.")
        _require_float("GeluKernelImpl", input)
    else:
        _require_float("silu_cpu", input)
    return _BiasActivation.apply(input, bias, activation, approximate)


# -- softmax and log_softmax -------------------------------------------------------------------

def _upcast(x):
    """Half and bfloat16 reduce in float32 (as PyTorch accumulates them)."""
    return x.astype(np.float32) if x.dtype.itemsize == 2 else x


def _sum_keep(xp, a, dim: int):
    """a.sum(dim, keepdims=True); over the last dim as a matrix-vector product, which BLAS
    does several times faster than NumPy's reduction over many short rows."""
    if dim == a.ndim - 1 and a.dtype.kind == "f" and a.dtype.itemsize >= 4:
        return a @ xp.ones((a.shape[-1], 1), dtype=a.dtype)
    return a.sum(axis=dim, keepdims=True)


class Softmax(Function):
    """exp(x - max) / sum(exp(x - max)) along `dim`; backward reads only the output."""

    @staticmethod
    def forward(ctx, x, dim):
        if use_kernels(x) and _cuda_softmax.supported(x):
            y = _cuda_softmax.forward(x, dim)
        else:
            xp = backend.of(x)
            if x.size == 0:
                return x.copy()
            work = _upcast(x.reshape(1) if x.ndim == 0 else x)
            with _quiet():  # rows of -inf give nan, as in PyTorch
                y = work - work.max(axis=dim, keepdims=True)
                xp.exp(y, out=y)
                y /= _sum_keep(xp, y, dim)
            y = _cast_like(y.reshape(x.shape), x)
        if ctx.needs_input_grad:
            ctx.save_for_backward(y)
            ctx.dim = dim
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_arrays
        if y.ndim == 0:  # a single element: softmax is constant 1
            return ctx.xp.zeros_like(grad)
        if _in_graph(ctx):
            return y * (grad - ctx.xp.sum(grad * y, axis=ctx.dim, keepdims=True))
        if use_kernels(grad) and grad.dtype == y.dtype and _cuda_softmax.supported(y):
            return _cuda_softmax.backward(grad, y, ctx.dim)
        gx = grad * y
        gx -= y * _sum_keep(ctx.xp, gx, ctx.dim)
        return gx


class LogSoftmax(Function):
    """x - max - log(sum(exp(x - max))) along `dim`; backward reads only the output."""

    @staticmethod
    def forward(ctx, x, dim):
        if use_kernels(x) and _cuda_softmax.supported(x):
            y = _cuda_softmax.forward(x, dim, log=True)
        else:
            xp = backend.of(x)
            if x.size == 0:
                return x.copy()
            work = _upcast(x.reshape(1) if x.ndim == 0 else x)
            with _quiet():
                y = work - work.max(axis=dim, keepdims=True)
                y -= xp.log(_sum_keep(xp, xp.exp(y), dim))
            y = _cast_like(y.reshape(x.shape), x)
        if ctx.needs_input_grad:
            ctx.save_for_backward(y)
            ctx.dim = dim
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_arrays
        xp = ctx.xp
        if y.ndim == 0:  # a single element: log_softmax is constant 0
            return xp.zeros_like(grad)
        if _in_graph(ctx):
            return grad - xp.exp(y) * xp.sum(grad, axis=ctx.dim, keepdims=True)
        if use_kernels(grad) and grad.dtype == y.dtype and _cuda_softmax.supported(y):
            return _cuda_softmax.backward(grad, y, ctx.dim, log=True)
        p = xp.exp(y)
        p *= _sum_keep(xp, grad, ctx.dim)
        return xp.subtract(grad, p, out=p)


# -- argument checks ---------------------------------------------------------------------------

def _check_tensor(fname: str, x, arg: str = "input") -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{fname}(): argument '{arg}' (position 1) must be Tensor, not "
                        f"{type(x).__name__}")


def _require_float(kernel: str, x: Tensor) -> None:
    """PyTorch's kernels for these ops exist for floating dtypes only."""
    if not x.dtype.is_floating_point:
        raise NotImplementedError(f'"{kernel}" not implemented for \'{_legacy(x.dtype)}\'')


def _maybe_inplace(input: Tensor, result: Tensor, inplace: bool) -> Tensor:
    return apply_inplace(input, result) if inplace else result


# -- public functions --------------------------------------------------------------------------

def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """input where input > threshold, else value."""
    _check_tensor("threshold", input)
    return _maybe_inplace(input, Threshold.apply(input, threshold, value), inplace)


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    """In-place threshold."""
    return globals()["threshold"](input, threshold, value, inplace=True)


@method()
def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(input, 0), elementwise."""
    _check_tensor("relu", input)
    return _maybe_inplace(input, Relu.apply(input), inplace)


@method()
def relu_(input: Tensor) -> Tensor:
    """In-place relu."""
    return relu(input, inplace=True)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0,
             inplace: bool = False) -> Tensor:
    """input clamped to [min_val, max_val]; the gradient is 1 strictly inside."""
    _check_tensor("hardtanh", input)
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    return _maybe_inplace(input, Hardtanh.apply(input, min_val, max_val), inplace)


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """In-place hardtanh."""
    return hardtanh(input, min_val, max_val, inplace=True)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """min(max(input, 0), 6)."""
    return hardtanh(input, 0.0, 6.0, inplace)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """input if input > 0 else alpha * (exp(input) - 1)."""
    _check_tensor("elu", input)
    _require_float("elu_cpu", input)
    return _maybe_inplace(input, Elu.apply(input, alpha, 1.0, 1.0), inplace)


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """In-place elu."""
    return elu(input, alpha, inplace=True)


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """scale * elu(input, alpha) with the self-normalizing constants."""
    _check_tensor("selu", input)
    _require_float("elu_cpu", input)
    result = Elu.apply(input, _SELU_ALPHA, _SELU_SCALE, 1.0)
    return _maybe_inplace(input, result, inplace)


def selu_(input: Tensor) -> Tensor:
    """In-place selu."""
    return selu(input, inplace=True)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """max(0, input) + min(0, alpha * (exp(input / alpha) - 1))."""
    _check_tensor("celu", input)
    _require_float("elu_cpu", input)
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError")
    return _maybe_inplace(input, Celu.apply(input, alpha, 1.0, 1.0 / alpha), inplace)


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """In-place celu."""
    return celu(input, alpha, inplace=True)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """input if input > 0 else negative_slope * input."""
    _check_tensor("leaky_relu", input)
    _require_float("leaky_relu_cpu", input)
    return _maybe_inplace(input, LeakyRelu.apply(input, negative_slope), inplace)


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    """In-place leaky_relu."""
    return leaky_relu(input, negative_slope, inplace=True)


@method()
def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """leaky_relu with a learned slope: one for all channels or one per channel (dim 1)."""
    if _autocast.on and (policy := _autocast.policy("prelu", input)):
        return policy(prelu, input, weight)
    _check_tensor("prelu", input)
    if weight.ndim > 1:
        raise RuntimeError("prelu: Expected `weight` to be a scalar or 1D tensor, but got: "
                           f"ndim = {weight.ndim}")
    n = weight.numel()
    if n != 1:
        channels = input.shape[1] if input.ndim >= 2 else 1
        if n != channels:
            raise RuntimeError("Mismatch of parameter numbers and input channel size. Found "
                               f"parameter numbers = {n} and channel size = {channels}.")
    if weight.dtype is not input.dtype:
        raise RuntimeError("expected scalar type " + _legacy(input.dtype) + " but found "
                           + _legacy(weight.dtype))
    return PreluKernel.apply(input, weight)


def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,
          inplace: bool = False) -> Tensor:
    """Randomized leaky relu: a slope drawn from U(lower, upper) per negative element while
    training, the fixed slope (lower + upper) / 2 otherwise."""
    _check_tensor("rrelu", input)
    _require_float("rrelu_with_noise_out_cpu", input)
    noise = None
    if training:
        slopes = input.detach().new_empty(input.shape).uniform_(lower, upper)
        noise = backend.of(input._data).where(input._data <= 0, slopes._data, 1).astype(
            input._data.dtype, copy=False)
    result = RreluWithNoise.apply(input, noise, (lower + upper) / 2)
    return _maybe_inplace(input, result, inplace)


def rrelu_(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3,
           training: bool = False) -> Tensor:
    """In-place rrelu."""
    return rrelu(input, lower, upper, training, inplace=True)


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """The gated linear unit a * sigmoid(b), where a, b are the halves of input along dim."""
    _check_tensor("glu", input)
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    _require_float("glu", input)
    d = _wrap_dim(dim, input.ndim)
    if input.shape[d] % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {d} is size "
                           f"{input.shape[d]}")
    return Glu.apply(input, d)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """x * Phi(x) with the exact normal CDF, or its tanh approximation."""
    _check_tensor("gelu", input)
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    _require_float("GeluKernelImpl", input)
    return Gelu.apply(input, approximate)


def logsigmoid(input: Tensor) -> Tensor:
    """log(sigmoid(input)), stable for large |input|."""
    _check_tensor("logsigmoid", input)
    _require_float("log_sigmoid_cpu", input)
    return LogSigmoid.apply(input)


@method()
def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """input where |input| > lambd, else 0."""
    _check_tensor("hardshrink", input)
    return Hardshrink.apply(input, lambd)


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """input - lambd above lambd, input + lambd below -lambd, 0 in between."""
    _check_tensor("softshrink", input)
    if input.dtype.is_floating_point and not lambd >= 0:
        top = float(np.finfo(np.float32 if input.dtype.itemsize <= 4 else np.float64).max)
        raise RuntimeError(f"lambda must be in range [0, {top:g}] for input dtype "
                           f"{_legacy(input.dtype)}, but found {lambd}")
    _require_float("softshrink_cpu", input)
    return Softshrink.apply(input, lambd)


def tanhshrink(input: Tensor) -> Tensor:
    """input - tanh(input)."""
    return input - tanh(input)


def softsign(input: Tensor) -> Tensor:
    """input / (1 + |input|)."""
    return input / (input.abs() + 1)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + exp(beta * input)) / beta, and input itself where beta * input > threshold."""
    if _autocast.on and (policy := _autocast.policy("softplus", input)):
        return policy(softplus, input, beta, threshold)
    _check_tensor("softplus", input)
    _require_float("softplus_cpu", input)
    return Softplus.apply(input, beta, threshold)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """input * sigmoid(input) (swish)."""
    _check_tensor("silu", input)
    _require_float("silu_cpu", input)
    return _maybe_inplace(input, Silu.apply(input), inplace)


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """input * tanh(softplus(input))."""
    _check_tensor("mish", input)
    _require_float("mish_cpu", input)
    return _maybe_inplace(input, Mish.apply(input), inplace)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """relu6(input + 3) / 6."""
    _check_tensor("hardsigmoid", input)
    _require_float("hardsigmoid_cpu", input)
    return _maybe_inplace(input, Hardsigmoid.apply(input), inplace)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """input * relu6(input + 3) / 6."""
    _check_tensor("hardswish", input)
    _require_float("hardswish_cpu", input)
    return _maybe_inplace(input, Hardswish.apply(input), inplace)


def _softmax_dim(name: str, ndim: int, stacklevel: int) -> int:
    """The legacy implicit dim (0 for 0-, 1- and 3-d input, else 1), with PyTorch's warning."""
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call "
                  "to include dim=X as an argument.", stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def _softmax_call(op, kernel: str, input: Tensor, dim: int, dtype) -> Tensor:
    if dtype is not None:
        input = input.to(D.to_dtype(dtype))
    d = _wrap_dim(dim, max(input.ndim, 1))
    if not input.dtype.is_floating_point:
        last = "lastdim_" if d == max(input.ndim, 1) - 1 else ""
        raise kernel_missing(f"{kernel}_{last}kernel_impl", input.dtype)
    return op.apply(input, d if input.ndim else 0)


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
            dtype=None) -> Tensor:
    """exp(input) normalized to sum to 1 along dim (computed stably).

    dtype: cast the input to this dtype first (e.g. to avoid half-precision overflow).
    """
    if _autocast.on and (policy := _autocast.policy("softmax", input)):
        return policy(softmax, input, dim, _stacklevel, dtype=dtype)
    _check_tensor("softmax", input)
    if dim is None:
        dim = _softmax_dim("softmax", input.ndim, _stacklevel)
    return _softmax_call(Softmax, "softmax", input, dim, dtype)


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
            dtype=None) -> Tensor:
    """softmax(-input) along dim."""
    if _autocast.on and (policy := _autocast.policy("softmin", input)):
        return policy(softmin, input, dim, _stacklevel, dtype=dtype)
    _check_tensor("softmin", input)
    if dim is None:
        dim = _softmax_dim("softmin", input.ndim, _stacklevel)
    if dtype is not None:
        input = input.to(D.to_dtype(dtype))
    return _softmax_call(Softmax, "softmax", -input, dim, None)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
                dtype=None) -> Tensor:
    """log(softmax(input)) along dim, computed without forming softmax."""
    if _autocast.on and (policy := _autocast.policy("log_softmax", input)):
        return policy(log_softmax, input, dim, _stacklevel, dtype=dtype)
    _check_tensor("log_softmax", input)
    if dim is None:
        dim = _softmax_dim("log_softmax", input.ndim, _stacklevel)
    return _softmax_call(LogSoftmax, "log_softmax", input, dim, dtype)


def _softmax_method(self: Tensor, dim: int, dtype=None) -> Tensor:
    if _autocast.on and (policy := _autocast.policy("softmax", self)):
        return policy(_softmax_method, self, dim, dtype=dtype)
    return _softmax_call(Softmax, "softmax", self, dim, dtype)


def _log_softmax_method(self: Tensor, dim: int, dtype=None) -> Tensor:
    if _autocast.on and (policy := _autocast.policy("log_softmax", self)):
        return policy(_log_softmax_method, self, dim, dtype=dtype)
    return _softmax_call(LogSoftmax, "log_softmax", self, dim, dtype)


Tensor.softmax = _softmax_method
Tensor.log_softmax = _log_softmax_method


def gumbel_softmax(logits: Tensor, tau: float = 1, hard: bool = False, eps: float = 1e-10,
                   dim: int = -1) -> Tensor:
    """A sample from the Gumbel-softmax distribution (soft, or one-hot with hard=True whose
    gradient is the soft sample's: the straight-through estimator)."""
    _check_tensor("gumbel_softmax", logits, "logits")
    if eps != 1e-10:
        warnings.warn("`eps` parameter is deprecated and has no effect.", stacklevel=2)
    gumbels = -logits.detach().new_empty(logits.shape).exponential_().log()
    y_soft = softmax((logits + gumbels) / tau, dim)
    if not hard:
        return y_soft
    index = y_soft.argmax(dim, keepdim=True)
    y_hard = y_soft.detach().new_zeros(logits.shape).scatter_(dim, index, 1.0)
    return y_hard - y_soft.detach() + y_soft
