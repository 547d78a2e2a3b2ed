"""Elementwise ops: arithmetic, math functions, activations, comparisons, where, casts."""

from __future__ import annotations

import math

import numpy as np

from ..nn._functional import activation as act
from ..ops import arithmetic as ar
from ..ops import conversion as conv
from ..ops import pointwise as pw
from . import _hooks as hk
from ._registry import emits
from ._symbolic import require_static
from .errors import UnsupportedOperatorError


def _out(rec, i: int = 0):
    return rec.outputs[i]


def _operands(g, rec, n: int):
    """The first n arguments as graph values in the output's dtype (numbers included)."""
    dt = _out(rec).dtype
    return [g.typed(a, dt) for a in rec.args[:n]]


# -- arithmetic -----------------------------------------------------------------------------

def _scaled(g, x: str, alpha, dtype) -> str:
    return x if alpha == 1 else g.op("Mul", x, g.scalar(alpha, dtype))


@emits(ar.Add, ar.Sub)
def _add_sub(g, rec):
    a, b = _operands(g, rec, 2)
    alpha = rec.args[2] if len(rec.args) > 2 else rec.params.get("alpha", 1)
    b = _scaled(g, b, alpha, _out(rec).dtype)
    return g.op("Add" if rec.op is ar.Add else "Sub", a, b)


@emits(ar.Rsub)
def _rsub(g, rec):
    a, b = _operands(g, rec, 2)
    alpha = rec.args[2] if len(rec.args) > 2 else rec.params.get("alpha", 1)
    return g.op("Sub", b, _scaled(g, a, alpha, _out(rec).dtype))


@emits(ar.Mul)
def _mul(g, rec):
    return g.op("Mul", *_operands(g, rec, 2))


@emits(ar.Div)
def _div(g, rec):
    return g.op("Div", *_operands(g, rec, 2))


def _integral(dtype) -> bool:
    return np.dtype(dtype).kind in "iub"


def _trunc(g, x: str, dtype) -> str:
    if _integral(dtype):
        return x
    negative = g.op("Less", x, g.scalar(0, dtype))
    return g.op("Where", negative, g.op("Ceil", x), g.op("Floor", x))


@emits(ar.TruncDivide)
def _trunc_divide(g, rec):
    a, b = _operands(g, rec, 2)
    return _trunc(g, g.op("Div", a, b), _out(rec).dtype)  # integer Div truncates already


@emits(ar.FloorDivide)
def _floor_divide(g, rec):
    a, b = _operands(g, rec, 2)
    if _integral(_out(rec).dtype):  # Mod(fmod=0) has the divisor's sign: exact floor
        return g.op("Div", g.op("Sub", a, g.op("Mod", a, b, fmod=0)), b)
    return g.op("Floor", g.op("Div", a, b))


@emits(ar.Remainder)
def _remainder(g, rec):
    a, b = _operands(g, rec, 2)
    dt = _out(rec).dtype
    if _integral(dt):
        return g.op("Mod", a, b, fmod=0)
    r = g.op("Mod", a, b, fmod=1)  # C's fmod, then moved to the divisor's sign
    zero = g.scalar(0, dt)
    differ = g.op("Xor", g.op("Less", r, zero), g.op("Less", b, zero))
    fix = g.op("And", differ, g.op("Not", g.op("Equal", r, zero)))
    return g.op("Where", fix, g.op("Add", r, b), r)


@emits(ar.Fmod)
def _fmod(g, rec):
    return g.op("Mod", *_operands(g, rec, 2), fmod=1)


@emits(ar.Pow)
def _pow(g, rec):
    return g.op("Pow", *_operands(g, rec, 2))


@emits(ar.Neg)
def _neg(g, rec):
    return g.op("Neg", g.value(rec.args[0]))


# -- math functions ----------------------------------------------------------------------------

_UNARY = {pw.Exp: "Exp", pw.Log: "Log", pw.Sqrt: "Sqrt", pw.Tanh: "Tanh", pw.Sigmoid: "Sigmoid",
          pw.Sin: "Sin", pw.Cos: "Cos", pw.Tan: "Tan", pw.Asin: "Asin", pw.Acos: "Acos",
          pw.Atan: "Atan", pw.Sinh: "Sinh", pw.Cosh: "Cosh", pw.Asinh: "Asinh",
          pw.Acosh: "Acosh", pw.Atanh: "Atanh", pw.Erf: "Erf", pw.Reciprocal: "Reciprocal",
          pw.Abs: "Abs", pw.Sign: "Sign", act.Relu: "Relu"}


@emits(*_UNARY)
def _unary(g, rec):
    return g.op(_UNARY[rec.op], g.typed(rec.args[0], _out(rec).dtype))


@emits(pw.Floor, pw.Ceil)
def _floor_ceil(g, rec):
    x = g.value(rec.args[0])
    if _integral(_out(rec).dtype):
        return g.op("Identity", x)
    return g.op("Floor" if rec.op is pw.Floor else "Ceil", x)


@emits(pw.Trunc)
def _trunc_op(g, rec):
    return _trunc(g, g.value(rec.args[0]), _out(rec).dtype)


@emits(pw.Frac)
def _frac(g, rec):
    x = g.value(rec.args[0])
    return g.op("Sub", x, _trunc(g, x, _out(rec).dtype))


@emits(pw.Round)
def _round(g, rec):
    x = g.value(rec.args[0])
    dt = _out(rec).dtype
    if _integral(dt):
        return g.op("Identity", x)
    decimals = rec.args[1] if len(rec.args) > 1 else rec.params.get("decimals", 0)
    if not decimals:
        return g.op("Round", x)  # half to even, as torch
    scale = g.scalar(10.0 ** decimals, dt)
    return g.op("Div", g.op("Round", g.op("Mul", x, scale)), scale)


def _times(g, x: str, factor: float, dtype) -> str:
    return g.op("Mul", x, g.scalar(factor, dtype))


@emits(pw.Rsqrt, pw.Exp2, pw.Expm1, pw.Log2, pw.Log10, pw.Log1P, pw.Deg2Rad, pw.Rad2Deg)
def _composed_unary(g, rec):
    dt = _out(rec).dtype
    x = g.typed(rec.args[0], dt)
    one = g.scalar(1, dt)
    op = rec.op
    if op is pw.Rsqrt:
        return g.op("Reciprocal", g.op("Sqrt", x))
    if op is pw.Exp2:
        return g.op("Pow", g.scalar(2, dt), x)
    if op is pw.Expm1:
        return g.op("Sub", g.op("Exp", x), one)
    if op is pw.Log2:
        return _times(g, g.op("Log", x), 1 / math.log(2.0), dt)
    if op is pw.Log10:
        return _times(g, g.op("Log", x), 1 / math.log(10.0), dt)
    if op is pw.Log1P:
        return g.op("Log", g.op("Add", x, one))
    return _times(g, x, math.pi / 180 if op is pw.Deg2Rad else 180 / math.pi, dt)


@emits(pw.Maximum, pw.Minimum)
def _max_min(g, rec):
    return g.op("Max" if rec.op is pw.Maximum else "Min", *_operands(g, rec, 2))


@emits(pw.Fmax, pw.Fmin)
def _fmax_fmin(g, rec):
    a, b = _operands(g, rec, 2)
    best = g.op("Max" if rec.op is pw.Fmax else "Min", a, b)
    return g.op("Where", g.op("IsNaN", a), b, g.op("Where", g.op("IsNaN", b), a, best))


@emits(pw.Hypot)
def _hypot(g, rec):
    a, b = _operands(g, rec, 2)
    return g.op("Sqrt", g.op("Add", g.op("Mul", a, a), g.op("Mul", b, b)))


@emits(pw.Lerp)
def _lerp(g, rec):
    start, end, weight = _operands(g, rec, 3)
    return g.op("Add", start, g.op("Mul", weight, g.op("Sub", end, start)))


@emits(pw.Addcmul, pw.Addcdiv)
def _addc(g, rec):
    dt = _out(rec).dtype
    x, t1, t2 = _operands(g, rec, 3)
    value = rec.args[3] if len(rec.args) > 3 else rec.params.get("value", 1)
    prod = g.op("Mul" if rec.op is pw.Addcmul else "Div", t1, t2)
    return g.op("Add", x, _scaled(g, prod, value, dt))


@emits(pw.Clamp)
def _clamp(g, rec):
    dt = _out(rec).dtype
    out = g.value(rec.args[0])
    lo, hi = rec.args[1], rec.args[2]
    if lo is not None:
        out = g.op("Max", out, g.typed(lo, dt))
    if hi is not None:  # applied last: where lo > hi the result is hi, as torch
        out = g.op("Min", out, g.typed(hi, dt))
    return out


@emits(pw.Where)
def _where(g, rec):
    dt = _out(rec).dtype
    cond = g.typed(rec.args[0], np.bool_)
    return g.op("Where", cond, g.typed(rec.args[1], dt), g.typed(rec.args[2], dt))


# -- casts and copies -------------------------------------------------------------------------

@emits(conv.ToCopy)
def _to_copy(g, rec):
    src = rec.args[0]
    x = g.value(src)
    if np.dtype(src.dtype) == np.dtype(_out(rec).dtype):
        return g.op("Identity", x)
    return g.cast(x, src.dtype, _out(rec).dtype)


@emits(conv.Clone)
def _clone(g, rec):
    return g.op("Identity", g.value(rec.args[0]))


# -- activations ------------------------------------------------------------------------------

def _softplus(g, x: str, dt) -> str:
    """log(1 + exp(x)) without overflow: relu(x) + log(1 + exp(-|x|))."""
    tail = g.op("Log", g.op("Add", g.op("Exp", g.op("Neg", g.op("Abs", x))), g.scalar(1, dt)))
    return g.op("Add", g.op("Relu", x), tail)


@emits(act.Threshold)
def _threshold(g, rec):
    dt = _out(rec).dtype
    x = g.value(rec.args[0])
    above = g.op("Greater", x, g.scalar(rec.args[1], dt))
    return g.op("Where", above, x, g.scalar(rec.args[2], dt))


@emits(act.Hardtanh)
def _hardtanh(g, rec):
    dt = _out(rec).dtype
    return g.op("Clip", g.value(rec.args[0]), g.scalar(rec.args[1], dt),
                g.scalar(rec.args[2], dt))


@emits(act.LeakyRelu)
def _leaky_relu(g, rec):
    return g.op("LeakyRelu", g.value(rec.args[0]), alpha=float(rec.args[1]))


@emits(act.RreluWithNoise)
def _rrelu(g, rec):
    if rec.args[1] is not None:
        raise UnsupportedOperatorError("rrelu (training mode)", g.opset)
    return g.op("LeakyRelu", g.value(rec.args[0]), alpha=float(rec.args[2]))


@emits(act.Elu, act.Celu)
def _elu(g, rec):
    x = g.value(rec.args[0])
    alpha, scale, input_scale = (float(v) for v in rec.args[1:4])
    if input_scale == 1.0:  # elu and selu: gamma * (x if x > 0 else alpha * expm1(x))
        if scale == 1.0:
            return g.op("Elu", x, alpha=alpha)
        return g.op("Selu", x, alpha=alpha, gamma=scale)
    if scale == 1.0 and abs(input_scale * alpha - 1.0) < 1e-12 and g.opset >= 12:
        return g.op("Celu", x, alpha=alpha)
    dt = _out(rec).dtype
    neg = g.op("Mul", g.op("Sub", g.op("Exp", _times(g, x, input_scale, dt)), g.scalar(1, dt)),
               g.scalar(alpha * scale, dt))
    return g.op("Where", g.op("Greater", x, g.scalar(0, dt)), _times(g, x, scale, dt), neg)


@emits(act.Gelu)
def _gelu(g, rec):
    x = g.value(rec.args[0])
    approximate = rec.args[1] if len(rec.args) > 1 else "none"
    if g.opset >= 20:
        return g.op("Gelu", x, approximate=approximate)
    dt = _out(rec).dtype
    if approximate == "tanh":
        cube = g.op("Mul", g.op("Mul", x, x), x)
        inner = g.op("Add", x, _times(g, cube, 0.044715, dt))
        t = g.op("Tanh", _times(g, inner, math.sqrt(2.0 / math.pi), dt))
    else:
        t = g.op("Erf", _times(g, x, math.sqrt(0.5), dt))
    half_x = _times(g, x, 0.5, dt)
    return g.op("Mul", half_x, g.op("Add", t, g.scalar(1, dt)))


@emits(act.Silu)
def _silu(g, rec):
    x = g.value(rec.args[0])
    return g.op("Mul", x, g.op("Sigmoid", x))


@emits(act.Mish)
def _mish(g, rec):
    x = g.value(rec.args[0])
    return g.op("Mul", x, g.op("Tanh", _softplus(g, x, _out(rec).dtype)))


@emits(act.Hardsigmoid)
def _hardsigmoid(g, rec):
    return g.op("HardSigmoid", g.value(rec.args[0]), alpha=1.0 / 6, beta=0.5)


@emits(act.Hardswish)
def _hardswish(g, rec):
    x = g.value(rec.args[0])
    if g.opset >= 14:
        return g.op("HardSwish", x)
    return g.op("Mul", x, g.op("HardSigmoid", x, alpha=1.0 / 6, beta=0.5))


@emits(act.Softplus)
def _softplus_op(g, rec):
    dt = _out(rec).dtype
    x = g.value(rec.args[0])
    beta, threshold = float(rec.args[1]), float(rec.args[2])
    bx = _times(g, x, beta, dt) if beta != 1 else x
    soft = _softplus(g, bx, dt)
    if beta != 1:
        soft = g.op("Div", soft, g.scalar(beta, dt))
    return g.op("Where", g.op("Greater", bx, g.scalar(threshold, dt)), x, soft)


@emits(act.Softshrink, act.Hardshrink)
def _shrink(g, rec):
    lambd = float(rec.args[1])
    bias = lambd if rec.op is act.Softshrink else 0.0
    return g.op("Shrink", g.value(rec.args[0]), bias=bias, lambd=lambd)


@emits(act.LogSigmoid)
def _logsigmoid(g, rec):
    dt = _out(rec).dtype
    x = g.value(rec.args[0])
    tail = g.op("Log", g.op("Add", g.op("Exp", g.op("Neg", g.op("Abs", x))), g.scalar(1, dt)))
    return g.op("Sub", g.op("Min", x, g.scalar(0, dt)), tail)


@emits(act.PreluKernel)
def _prelu(g, rec):
    x, w = rec.args[0], rec.args[1]
    n = int(np.prod(w.shape)) if w.shape else 1
    shape = [1] if n == 1 else [n] + [1] * (len(x.shape) - 2)
    slope = g.op("Reshape", g.value(w), g.ints(shape))
    return g.op("PRelu", g.value(x), slope)


@emits(act.Glu)
def _glu(g, rec):
    x, dim = rec.args[0], rec.args[1]
    half = require_static([x.shape[dim]], "glu")[0] // 2
    a, b = g.split(g.value(x), [half, half], dim)
    return g.op("Mul", a, g.op("Sigmoid", b))


@emits(act.Softmax, act.LogSoftmax)
def _softmax(g, rec):
    x = g.value(rec.args[0])
    op = "Softmax" if rec.op is act.Softmax else "LogSoftmax"
    ndim = len(rec.args[0].shape)
    if not ndim:  # 0-dim: ONNX wants an axis to normalize along
        return g.squeeze(g.op(op, g.unsqueeze(x, [0]), axis=0), [0])
    return g.softmax(op, x, int(rec.args[1]), ndim)


# -- comparisons and logic (pseudo-ops recorded by _hooks) -----------------------------------

_COMPARE = {"eq": "Equal", "lt": "Less", "le": "LessOrEqual", "gt": "Greater",
            "ge": "GreaterOrEqual"}


@emits(hk.Comparison)
def _comparison(g, rec):
    dt = np.dtype(rec.params["dtype"])
    op = rec.params["op"]
    if dt == np.bool_ and op not in ("eq", "ne"):  # ONNX orders numbers only
        dt = np.dtype(np.int32)
    a, b = (g.typed(x, dt) for x in rec.args[:2])
    if op == "ne":
        return g.op("Not", g.op("Equal", a, b))
    if op in ("le", "ge") and g.opset < 12:  # LessOrEqual/GreaterOrEqual came in opset 12
        return g.op("Or", g.op("Less" if op == "le" else "Greater", a, b), g.op("Equal", a, b))
    return g.op(_COMPARE[op], a, b)


def _truth(g, ref) -> str:
    if isinstance(ref, (bool, int, float)):
        return g.value(bool(ref), np.bool_)
    x = g.value(ref)
    if np.dtype(ref.dtype) == np.bool_:
        return x
    return g.op("Not", g.op("Equal", x, g.scalar(0, ref.dtype)))


@emits(hk.Logical)
def _logical(g, rec):
    op = rec.params["op"]
    if op == "not":
        return g.op("Not", _truth(g, rec.args[0]))
    return g.op(op.capitalize(), _truth(g, rec.args[0]), _truth(g, rec.args[1]))


@emits(hk.Bitwise)
def _bitwise(g, rec):
    op = rec.params["op"]
    dt = np.dtype(rec.params["dtype"])
    args = [g.typed(a, dt) for a in rec.args]
    if dt == np.bool_:
        return g.op(op.capitalize(), *args)
    g.require(18, f"bitwise_{op}")
    return g.op(f"Bitwise{op.capitalize()}", *args)


@emits(hk.Predicate)
def _predicate(g, rec):
    op = rec.params["op"]
    ref = rec.args[0]
    x = g.value(ref)
    if np.dtype(ref.dtype).kind not in "fc":  # integers: never nan or infinite
        same = g.op("Equal", x, x)
        return same if op == "isfinite" else g.op("Not", same)
    if op == "isnan":
        return g.op("IsNaN", x)
    if op == "isinf":
        return g.op("IsInf", x)
    if op == "isposinf":
        return g.op("IsInf", x, detect_negative=0)
    if op == "isneginf":
        return g.op("IsInf", x, detect_positive=0)
    return g.op("Not", g.op("Or", g.op("IsNaN", x), g.op("IsInf", x)))
