"""Layers: linear and matrix products, convolutions, pooling, normalization, attention."""

from __future__ import annotations

import math

import numpy as np

from ..nn._functional import attention as att
from ..nn._functional import conv, dropout, linear, normalization, pooling
from ..ops import linalg
from . import _hooks as hk
from ._ops_reduce import arg
from ._ops_shape import reshape
from ._registry import emits
from ._symbolic import concrete, is_static, require_static
from .errors import UnsupportedOperatorError


def _transpose_last(g, x: str, ndim: int) -> str:
    perm = list(range(ndim))
    perm[-1], perm[-2] = perm[-2], perm[-1]
    return g.op("Transpose", x, perm=perm)


# -- linear and products -----------------------------------------------------------------------

@emits(linear.Linear)
def _linear(g, rec):
    x, w, b = rec.args[0], rec.args[1], rec.args[2]
    if len(x.shape) == 2:
        inputs = [g.value(x), g.value(w)] + ([g.value(b)] if b is not None else [])
        return g.op("Gemm", *inputs, transB=1)
    out = g.op("MatMul", g.value(x), g.transposed(w))
    return out if b is None else g.op("Add", out, g.value(b))


@emits(linalg.Matmul, linalg.Mm, linalg.Bmm, linalg.Mv, linalg.Dot)
def _matmul(g, rec):
    return g.op("MatMul", g.value(rec.args[0]), g.value(rec.args[1]))


@emits(linalg.AddProduct)
def _add_product(g, rec):
    inp, m1, m2 = rec.args[0], rec.args[1], rec.args[2]
    beta = arg(rec, "beta", 3, 1)
    alpha = arg(rec, "alpha", 4, 1)
    kind = arg(rec, "kind", 5, "mm")
    dt = rec.outputs[0].dtype
    a, b = g.value(m1), g.value(m2)
    if kind == "mm" and beta != 0:
        return g.op("Gemm", a, b, g.value(inp), alpha=float(alpha), beta=float(beta))
    if kind == "outer":
        prod = g.op("Mul", g.unsqueeze(a, [1]), g.unsqueeze(b, [0]))
    else:
        prod = g.op("MatMul", a, b)
        if kind == "addbmm":
            prod = g.reduce("Sum", prod, [0], False)
    if alpha != 1:
        prod = g.op("Mul", prod, g.scalar(alpha, dt))
    if beta == 0:  # input is ignored (its NaNs too), but it still broadcasts the result
        return g.op("Expand", prod, g.shape_vec(rec.outputs[0].shape))
    scaled = g.value(inp) if beta == 1 else g.op("Mul", g.value(inp), g.scalar(beta, dt))
    return g.op("Add", prod, scaled)


@emits(linalg.Einsum)
def _einsum(g, rec):
    subs, output = rec.args[0], rec.args[1]
    equation = ",".join(subs) + "->" + output
    g.require(12, "einsum")
    return g.op("Einsum", *[g.value(o) for o in rec.args[2:]], equation=equation)


# -- convolution -------------------------------------------------------------------------------

@emits(conv._Conv)
def _conv(g, rec):
    x, w, b, plan = rec.args
    inputs = [g.value(x), g.value(w)] + ([g.value(b)] if b is not None else [])
    return g.op("Conv", *inputs, kernel_shape=list(plan.kernel), strides=list(plan.stride),
                pads=list(plan.lo) + list(plan.hi), dilations=list(plan.dilation),
                group=plan.groups)


@emits(conv._ConvTranspose)
def _conv_transpose(g, rec):
    x, w, b, plan = rec.args
    # the plan describes the forward conv from (out_ch, plan.spatial) to plan.out
    base = [(i - 1) * s - a - c + d * (k - 1) + 1 for i, s, a, c, d, k in zip(
        plan.out, plan.stride, plan.lo, plan.hi, plan.dilation, plan.kernel)]
    extra = [o - e for o, e in zip(plan.spatial, base)]
    inputs = [g.value(x), g.value(w)] + ([g.value(b)] if b is not None else [])
    return g.op("ConvTranspose", *inputs, kernel_shape=list(plan.kernel),
                strides=list(plan.stride), pads=list(plan.lo) + list(plan.hi),
                dilations=list(plan.dilation), group=plan.groups,
                output_padding=extra if any(extra) else None)


# -- pooling ------------------------------------------------------------------------------------

def _window_attrs(win, shape) -> dict:
    """kernel/strides/explicit pads of a pooling window; ceil_mode's overhang is padding
    (which depends on the input size: refused when that size is dynamic)."""
    hi = [p_total - s - p for p_total, s, p in zip(win.padded, win.spatial, win.padding)]
    if hi != list(win.padding):
        require_static(shape[2:], "pooling with ceil_mode")
    return {"kernel_shape": list(win.kernel), "strides": list(win.stride),
            "pads": list(win.padding) + hi}


@emits(pooling._MaxPool)
def _max_pool(g, rec):
    x, win = rec.args[0], rec.args[1]
    attrs = _window_attrs(win, x.shape)
    if any(d != 1 for d in win.dilation):
        attrs["dilations"] = list(win.dilation)
    if not rec.multi:
        return g.op("MaxPool", g.value(x), **attrs)
    values, index = g.op("MaxPool", g.value(x), outputs=2, **attrs)
    # ONNX counts indices over the whole (N, C, *spatial) tensor; torch within each plane
    spatial = list(x.shape[2:])
    if all(is_static(s) for s in spatial):
        plane = g.const(np.asarray(math.prod(spatial), dtype=np.int64))
    else:
        plane = g.reduce("Prod", g.shape_vec(spatial), None, False)
    index = g.op("Mod", index, plane)
    return [values, g.cast(index, np.int64, rec.outputs[1].dtype)]


@emits(pooling._AvgPool)
def _avg_pool(g, rec):
    x, win, div = rec.args[0], rec.args[1], rec.args[2]
    dt = rec.outputs[0].dtype
    attrs = _window_attrs(win, x.shape)
    size = math.prod(win.kernel)
    mean = g.op("AveragePool", g.value(x), count_include_pad=1, **attrs)
    divisor = np.asarray(getattr(div, "array", div), dtype=np.float64)
    if np.all(divisor == size):
        return mean
    # the window sums over our own divisors (padding counted or not, ceil_mode's overhang
    # never, divisor_override)
    total = g.op("Mul", mean, g.scalar(size, dt))
    return g.op("Div", total, g.const(divisor.astype(dt)))


@emits(pooling._Resample)
def _resample(g, rec):
    """Adaptive average pooling and interpolation: per dim, a gather or a small matrix."""
    x = g.value(rec.args[0])
    ndim = len(rec.args[0].shape)
    dt = rec.outputs[0].dtype
    for axis, idx, a in rec.args[1]:
        if idx is not None:
            x = g.op("Gather", x, g.const(np.asarray(getattr(idx, "array", idx), np.int64)),
                     axis=axis)
            continue
        mat = np.asarray(getattr(a, "array", a)).T.astype(dt)  # (in, out)
        if axis == ndim - 1:
            x = g.op("MatMul", x, g.const(mat))
            continue
        perm = list(range(ndim))
        perm[axis], perm[-1] = perm[-1], perm[axis]
        x = g.op("Transpose", g.op("MatMul", g.op("Transpose", x, perm=perm), g.const(mat)),
                 perm=perm)
    return x


@emits(pooling._IndexGather)
def _index_gather(g, rec):
    """Adaptive max pooling (the window maxima were located on the traced data; the graph
    recomputes them): per spatial dim, gather each window's positions and take the max."""
    src = rec.args[0]
    name = rec.args[2] if len(rec.args) > 2 else rec.params.get("name", "")
    if not str(name).startswith("AdaptiveMaxPool"):
        raise UnsupportedOperatorError("gather by plane index", g.opset)
    x = g.value(src)
    spatial = require_static(src.shape[2:], "adaptive max pooling")
    out_size = [concrete(s) for s in rec.outputs[0].shape[2:]]
    for i, (n, o) in enumerate(zip(spatial, out_size)):
        axis = 2 + i
        if n == o:
            continue
        if n % o == 0:  # even windows: a strided max
            k = n // o
            kernel = [1] * len(spatial)
            kernel[i] = k
            x = g.op("MaxPool", x, kernel_shape=kernel, strides=kernel)
            continue
        table = pooling._adaptive_table(n, o)[0, 0]  # (o, width), short windows repeat
        gathered = g.op("Gather", x, g.const(table.astype(np.int64)), axis=axis)
        x = g.reduce("Max", gathered, [axis + 1], False)
    return x


# -- normalization ------------------------------------------------------------------------------

def _channel_view(g, ref, channels: int, ndim: int, dtype, fill) -> str:
    """A per-channel parameter shaped (C, 1, ..., 1) to broadcast over (N, C, *)."""
    if ref is None:
        return g.const(np.full([channels] + [1] * (ndim - 2), fill, dtype=dtype))
    return g.op("Reshape", g.typed(ref, dtype), g.ints([channels] + [1] * (ndim - 2)))


def _vector(g, ref, n: int, dtype, fill) -> str:
    if ref is None:
        return g.const(np.full([n], fill, dtype=dtype))
    return g.typed(ref, dtype)


@emits(normalization._BatchNorm)
def _batch_norm(g, rec):
    x, weight, bias, mean, var, training, _momentum, eps = rec.args
    dt = x.dtype
    c = concrete(x.shape[1])
    if training or mean is None:
        return _normalize(g, g.value(x), len(x.shape), [0] + list(range(2, len(x.shape))),
                          eps, dt, _channel_view(g, weight, c, len(x.shape), dt, 1),
                          _channel_view(g, bias, c, len(x.shape), dt, 0))
    return g.op("BatchNormalization", g.value(x), _vector(g, weight, c, dt, 1),
                _vector(g, bias, c, dt, 0), g.typed(mean, dt), g.typed(var, dt),
                epsilon=float(eps))


def _normalize(g, x: str, ndim: int, axes, eps, dt, scale=None, shift=None) -> str:
    """(x - mean) / sqrt(var + eps) over axes (biased variance), then * scale + shift."""
    mean = g.reduce("Mean", x, axes, True)
    d = g.op("Sub", x, mean)
    var = g.reduce("Mean", g.op("Mul", d, d), axes, True)
    y = g.op("Div", d, g.op("Sqrt", g.op("Add", var, g.scalar(eps, dt))))
    if scale is not None:
        y = g.op("Mul", y, scale)
    if shift is not None:
        y = g.op("Add", y, shift)
    return y


@emits(normalization._LayerNorm)
def _layer_norm(g, rec):
    x, weight, bias, k, eps = rec.args
    dt = x.dtype
    shape = [concrete(s) for s in x.shape[len(x.shape) - k:]]
    scale = g.typed(weight, dt) if weight is not None else g.const(np.ones(shape, dt))
    shift = g.typed(bias, dt) if bias is not None else None
    if g.opset >= 17:
        inputs = [g.value(x), scale] + ([shift] if shift is not None else [])
        return g.op("LayerNormalization", *inputs, axis=-k, epsilon=float(eps))
    axes = list(range(len(x.shape) - k, len(x.shape)))
    return _normalize(g, g.value(x), len(x.shape), axes, eps, dt, scale, shift)


@emits(normalization._GroupNorm)
def _group_norm(g, rec):
    x, weight, bias, groups, eps = rec.args
    dt = x.dtype
    ndim = len(x.shape)
    c = concrete(x.shape[1])
    grouped = g.op("Reshape", g.value(x), g.ints([0, groups, -1]))
    y = _normalize(g, grouped, 3, [2], eps, dt)
    y = g.op("Reshape", y, g.op("Shape", g.value(x)))
    if weight is not None:
        y = g.op("Mul", y, _channel_view(g, weight, c, ndim, dt, 1))
    if bias is not None:
        y = g.op("Add", y, _channel_view(g, bias, c, ndim, dt, 0))
    return y


@emits(dropout._Noise)
def _noise(g, rec):
    raise UnsupportedOperatorError("dropout (training mode)", g.opset)


# -- attention ----------------------------------------------------------------------------------

@emits(att._Attention)
def _attention(g, rec):
    q, k, v, bias, keep = rec.args[:5]
    scale = rec.params["scale"]
    weights = rec.params["weights"]
    if keep is not None:
        raise UnsupportedOperatorError("attention dropout (training mode)", g.opset)
    dt = q.dtype
    scores = g.op("MatMul", g.op("Mul", g.value(q), g.scalar(scale, dt)),
                  _transpose_last(g, g.value(k), len(k.shape)))
    if bias is not None:
        scores = g.op("Add", scores, g.typed(bias, dt))
    p = g.softmax("Softmax", scores, -1, len(q.shape))
    if bias is not None and not weights:  # rows with every key masked give zeros
        p = g.op("Where", g.op("IsNaN", p), g.scalar(0, dt), p)
    out = g.op("MatMul", p, g.value(v))
    return [out, p] if weights else out


@emits(att._SplitHeads)
def _split_heads(g, rec):
    x = rec.args[0]
    n, heads, batch_first = rec.params["n"], rec.params["heads"], rec.params["batch_first"]
    width = concrete(x.shape[2]) // (n * heads)
    parts = reshape(g, g.value(x), x.shape, [x.shape[0], x.shape[1], n, heads, width])
    perm = [0, 2, 1, 3] if batch_first else [1, 2, 0, 3]
    pieces = g.split(parts, [1] * n, 2) if n > 1 else [parts]
    outs = [g.op("Transpose", g.squeeze(p, [2]), perm=perm) for p in pieces]
    return outs if rec.multi else outs[0]


@emits(hk.FloatMask)
def _float_mask(g, rec):
    dt = rec.outputs[0].dtype
    return g.op("Where", g.typed(rec.args[0], np.bool_), g.scalar(0, dt),
                g.scalar(-np.inf, dt))
