"""Reductions and scans: sum/mean/prod, max/min (with indices), var/std, norms,
logsumexp, cumsum, argmax/argmin."""

from __future__ import annotations

import math

import numpy as np

from ..ops import reduction as red
from ..ops import scan, sorting
from . import _hooks as hk
from ._registry import emits
from ._symbolic import concrete, is_static
from .errors import SymbolicValueError


def arg(rec, name: str, position: int, default=None):
    """An op argument given by keyword (params) or by position (after the tensor)."""
    if name in rec.params:
        return rec.params[name]
    return rec.args[position] if len(rec.args) > position else default


def _axes(axes, ndim: int):
    """Reduction axes as a list (None: all dims)."""
    if axes is None:
        return list(range(ndim))
    if isinstance(axes, (int, np.integer)):
        return [int(axes) % max(ndim, 1)]
    return [int(a) % max(ndim, 1) for a in axes]


def _reduce(g, op: str, x: str, ndim: int, axes, keepdim: bool) -> str:
    if ndim == 0:
        return g.op("Identity", x)
    return g.reduce(op, x, _axes(axes, ndim), keepdim)


@emits(red.Sum, red.Mean, red.Prod, red.Amax, red.Amin)
def _simple(g, rec):
    src = rec.args[0]
    out = rec.outputs[0]
    op = {red.Sum: "Sum", red.Mean: "Mean", red.Prod: "Prod", red.Amax: "Max",
          red.Amin: "Min"}[rec.op]
    axes = arg(rec, "axis" if rec.op is red.Prod else "axes", 1)
    keepdim = bool(arg(rec, "keepdim", 2, False))
    x = g.typed(src, out.dtype)  # accumulate in the result's dtype (sum(dtype=...), bools)
    return _reduce(g, op, x, len(src.shape), axes, keepdim)


@emits(red.MaxAll, red.MinAll)
def _extreme_all(g, rec):
    src = rec.args[0]
    op = "Max" if rec.op is red.MaxAll else "Min"
    return _reduce(g, op, g.value(src), len(src.shape), None, False)


@emits(red.MaxDim, red.MinDim)
def _extreme_dim(g, rec):
    src = rec.args[0]
    x = g.value(src)
    if not src.shape:
        return [g.op("Identity", x), g.const(np.asarray(0, dtype=np.int64))]
    axis = int(arg(rec, "axis", 1, 0))
    keepdim = int(bool(arg(rec, "keepdim", 2, False)))
    is_max = rec.op is red.MaxDim
    values = g.reduce("Max" if is_max else "Min", x, [axis], keepdim)
    index = g.op("ArgMax" if is_max else "ArgMin", x, axis=axis, keepdims=keepdim)
    return [values, index]


def _count(shape, axes) -> int:
    sizes = [shape[a] for a in _axes(axes, len(shape))]
    if not all(is_static(s) for s in sizes):
        raise SymbolicValueError("var/std over a dynamic axis")
    return math.prod(sizes)


@emits(red.Var, red.Std)
def _var_std(g, rec):
    src = rec.args[0]
    dt = rec.outputs[0].dtype
    axes = arg(rec, "axes", 1)
    correction = arg(rec, "correction", 2, 1)
    keepdim = bool(arg(rec, "keepdim", 3, False))
    x = g.value(src)
    ndim = len(src.shape)
    mean = _reduce(g, "Mean", x, ndim, axes, True)
    d = g.op("Sub", x, mean)
    total = _reduce(g, "Sum", g.op("Mul", d, d), ndim, axes, keepdim)
    divisor = max(0, _count(src.shape, axes) - correction)
    var = g.op("Div", total, g.scalar(divisor, dt))
    return g.op("Sqrt", var) if rec.op is red.Std else var


@emits(red.Norm)
def _norm(g, rec):
    src = rec.args[0]
    dt = rec.outputs[0].dtype
    p = float(arg(rec, "p", 1, 2.0))
    axes = arg(rec, "axes", 2)
    keepdim = bool(arg(rec, "keepdim", 3, False))
    x = g.value(src)
    ndim = len(src.shape)
    if p == 2:
        return _reduce(g, "L2", x, ndim, axes, keepdim)
    if p == 1:
        return _reduce(g, "L1", x, ndim, axes, keepdim)
    mag = g.op("Abs", x)
    if math.isinf(p):
        return _reduce(g, "Max" if p > 0 else "Min", mag, ndim, axes, keepdim)
    if p == 0:
        nonzero = g.cast(g.op("Not", g.op("Equal", x, g.scalar(0, src.dtype))), np.bool_, dt)
        return _reduce(g, "Sum", nonzero, ndim, axes, keepdim)
    powered = g.op("Pow", mag, g.scalar(p, dt))
    return g.op("Pow", _reduce(g, "Sum", powered, ndim, axes, keepdim), g.scalar(1 / p, dt))


@emits(red.Logsumexp)
def _logsumexp(g, rec):
    src = rec.args[0]
    axes = arg(rec, "axes", 1)
    keepdim = bool(arg(rec, "keepdim", 2, False))
    x = g.value(src)
    ndim = len(src.shape)
    shift = _reduce(g, "Max", x, ndim, axes, True)
    shift = g.op("Where", g.op("IsInf", shift), g.scalar(0, src.dtype), shift)
    total = _reduce(g, "Sum", g.op("Exp", g.op("Sub", x, shift)), ndim, axes, True)
    out = g.op("Add", g.op("Log", total), shift)
    if not keepdim and ndim:
        out = g.squeeze(out, _axes(axes, ndim))
    return out


@emits(scan.Cumsum)
def _cumsum(g, rec):
    src = rec.args[0]
    out = rec.outputs[0]
    x = g.typed(src, out.dtype)
    if not src.shape:
        return g.op("Identity", x)
    axis = int(arg(rec, "axis", 1, 0))
    return g.op("CumSum", x, g.const(np.asarray(axis, dtype=np.int64)))


@emits(hk.ArgReduce)
def _arg_reduce(g, rec):
    src = rec.args[0]
    p = rec.params
    op = "ArgMax" if p["op"] == "argmax" else "ArgMin"
    x = g.value(src)
    ndim = len(src.shape)
    if p["dim"] is None or ndim == 0:
        flat = g.op("Reshape", x, g.ints([-1]))
        idx = g.op(op, flat, axis=0, keepdims=0)
        if p["keepdim"] and ndim:
            idx = g.op("Reshape", idx, g.ints([1] * ndim))
        return idx
    axis = int(p["dim"]) % ndim
    return g.op(op, x, axis=axis, keepdims=int(bool(p["keepdim"])))


def static_size(shape) -> int:
    return math.prod(concrete(s) for s in shape)


def _top_k(g, src, k, axis: int, largest: bool) -> list:
    """(values, indices) of the k largest (or smallest) along axis; ties keep the lower
    index first (ONNX TopK's rule, and a stable sort's)."""
    x = g.value(src)
    if not src.shape:
        return [g.op("Identity", x), g.const(np.asarray(0, dtype=np.int64))]
    return g.op("TopK", x, g.sym(k), axis=int(axis), largest=int(bool(largest)), sorted=1,
                outputs=2)


@emits(sorting.Topk)
def _topk(g, rec):
    src = rec.args[0]
    return _top_k(g, src, arg(rec, "k", 1, 1), arg(rec, "axis", 2, -1),
                  arg(rec, "largest", 3, True))


@emits(sorting.Sort)
def _sort(g, rec):
    src = rec.args[0]
    axis = int(arg(rec, "axis", 1, -1))
    size = src.shape[axis] if src.shape else 1
    return _top_k(g, src, size, axis, arg(rec, "descending", 2, False))
