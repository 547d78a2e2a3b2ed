"""Scans along one dim: cumsum, cumprod, cummax, cummin, logcumsumexp."""

from __future__ import annotations

import math

import numpy as np

from .. import _dtype as D
from .. import backend
from .._tensor import Tensor
from ..amp._state import hook as _autocast
from ..autograd.node import Function
from ._util import finish, method, wrap_dim
from .inplace import apply_inplace, kernel_missing
from .reduction import (
    _LOW_PRECISION,
    _acc_dtype,
    _cast_grad,
    _conj,
    _no_complex,
    _raw,
    return_types,
    scatter_grad,
)

__all__ = ["cumsum", "cumprod", "cummax", "cummin", "logcumsumexp"]


def _scan_axis(a, axis):
    """(array, axis) to scan: a 0-dim array scans as shape (1,)."""
    if a.ndim == 0:
        return a.reshape(1), 0
    return a, axis


def _rev_cumsum(xp, g, axis):
    """out_i = sum_{j >= i} g_j along axis: the backward of cumsum."""
    return xp.flip(xp.cumsum(xp.flip(g, axis), axis), axis)


class Cumsum(Function):
    @staticmethod
    def forward(ctx, a, axis=0, np_dtype=None):
        ctx.axis = axis
        ctx.in_dtype = a.dtype if np_dtype is not None and np_dtype != a.dtype else None
        arr, ax = _scan_axis(a, axis)
        acc = _acc_dtype(a, np_dtype)
        out = backend.of(a).cumsum(arr, axis=ax, dtype=acc)
        out = out.astype(a.dtype) if acc is not np_dtype else out
        return out.reshape(a.shape)

    @staticmethod
    def backward(ctx, grad):
        if grad.ndim == 0:
            return _cast_grad(ctx.xp, grad, ctx.in_dtype)
        return _cast_grad(ctx.xp, _rev_cumsum(ctx.xp, grad, ctx.axis), ctx.in_dtype)


class Cumprod(Function):
    @staticmethod
    def forward(ctx, a, axis=0, np_dtype=None):
        ctx.axis = axis
        ctx.in_dtype = a.dtype if np_dtype is not None and np_dtype != a.dtype else None
        arr, ax = _scan_axis(a, axis)
        acc = _acc_dtype(a, np_dtype)
        out = backend.of(a).cumprod(arr, axis=ax, dtype=acc)
        out = (out.astype(a.dtype) if acc is not np_dtype else out).reshape(a.shape)
        if ctx.needs_input_grad:
            ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, out = ctx.saved_arrays
        xp, axis = ctx.xp, ctx.axis
        raw = _raw(a)
        if grad.ndim == 0:
            g = grad
        elif raw.size == 0:
            g = grad
        elif not bool((raw == 0).any()):
            # d out_j / d a_i = out_j / a_i for j >= i
            g = _rev_cumsum(xp, grad * _conj(out), axis) / _conj(a)
        elif isinstance(grad, Tensor):
            g = _cumprod_grad_differentiable(xp, a, grad, axis)
        else:
            g = _cumprod_grad_with_zeros(xp, a, out, grad, axis)
        return _cast_grad(xp, g, ctx.in_dtype)


def _cumprod_grad_with_zeros(xp, a, out, grad, axis):
    """cumprod's gradient where a slice may hold zeros (out / a would divide by zero).

    Along a slice with its first zero at z: before z the usual formula holds (out_j is 0
    from z on, so those terms drop out); at z the gradient is
    sum_{j >= z} grad_j * prod_{k <= j, k != z} a_k; after z it is 0.
    """
    raw = _raw(a)
    bx = backend.of(raw)
    is_zero = raw == 0
    seen = bx.cumsum(is_zero, axis=axis)
    before = seen == 0
    first = is_zero & (seen == 1)
    before_part = _rev_cumsum(xp, grad * _conj(out), axis) / _conj(xp.where(before, a, 1))
    skip_zero = xp.cumprod(xp.where(first, 1, a), axis)
    at_zero = xp.sum(xp.where(seen >= 1, grad * _conj(skip_zero), 0), axis=axis, keepdims=True)
    return xp.where(before, before_part, xp.where(first, at_zero, 0))


def _cumprod_grad_differentiable(xp, a, grad, axis):
    """cumprod's gradient as a polynomial in `a`, for create_graph with zeros in `a`.

    The O(n) formula above is exact but flat in the elements after a zero, whose second
    derivatives are not zero; this O(n^2) one builds every prod_{k <= j, k != i} a_k.
    """
    x = xp.moveaxis(a, axis, -1)
    g = xp.moveaxis(grad, axis, -1)
    n = x.shape[-1]
    bx = backend.of(_raw(a))
    eye = bx.eye(n, dtype=bool)
    upper = bx.triu(bx.ones((n, n), dtype=bool))  # row i keeps the terms j >= i
    skip_own = xp.cumprod(xp.where(eye, 1, xp.expand_dims(x, -2)), -1)
    terms = xp.where(upper, xp.expand_dims(g, -2) * _conj(skip_own), 0)
    return xp.moveaxis(xp.sum(terms, axis=-1), -1, axis)


def _scan_dtype(input: Tensor, dtype):
    """cumsum/cumprod of integers and bools accumulate in int64, as torch."""
    if dtype is not None:
        return D.to_dtype(dtype).np
    if input.dtype._kind < 2:
        return np.dtype(np.int64)
    return None


@method()
def cumsum(input: Tensor, dim: int, *, dtype=None, out=None) -> Tensor:
    """Running sum along `dim`."""
    if _autocast.on and (policy := _autocast.policy("cumsum", input)):
        return policy(cumsum, input, dim, dtype=dtype, out=out)
    axis = wrap_dim(dim, input.ndim)
    return finish(Cumsum.apply(input, axis=axis, np_dtype=_scan_dtype(input, dtype)), out)


@method()
def cumprod(input: Tensor, dim: int, *, dtype=None, out=None) -> Tensor:
    """Running product along `dim` (gradient exact with zeros in the input)."""
    if _autocast.on and (policy := _autocast.policy("cumprod", input)):
        return policy(cumprod, input, dim, dtype=dtype, out=out)
    axis = wrap_dim(dim, input.ndim)
    return finish(Cumprod.apply(input, axis=axis, np_dtype=_scan_dtype(input, dtype)), out)


def _cumsum_(self, dim, *, dtype=None):
    return apply_inplace(self, cumsum(self, dim, dtype=dtype))


def _cumprod_(self, dim, *, dtype=None):
    return apply_inplace(self, cumprod(self, dim, dtype=dtype))


Tensor.cumsum_ = _cumsum_
Tensor.cumprod_ = _cumprod_


# -- cummax / cummin ---------------------------------------------------------------------------

def _running_extremum(a, axis, ufunc):
    """(running values, index where each was attained; the latest among ties, NaN sticks)."""
    xp = backend.of(a)
    if a.ndim == 0:
        return a.copy(), xp.zeros((), dtype=np.int64)
    values = _accumulate(xp, ufunc, a, axis)
    hit = a == values  # a new (or tied) running extremum is attained here
    if a.dtype.kind in "fc" or a.dtype == D.bfloat16.np:
        hit |= xp.isnan(a) & xp.isnan(values)
    shape = [1] * a.ndim
    shape[axis] = a.shape[axis]
    pos = xp.arange(a.shape[axis], dtype=np.int64).reshape(shape)
    idx = _accumulate(xp, np.maximum, xp.where(hit, pos, 0), axis)
    return values, idx


def _accumulate(xp, ufunc, a, axis):
    """ufunc.accumulate along axis for an associative ufunc. CuPy lacks it for maximum,
    minimum and logaddexp, so there a doubling scan: after the step with offset s every
    entry holds the combination of its last 2s entries."""
    if xp is np:
        return ufunc.accumulate(a, axis=axis)
    op = getattr(xp, ufunc.__name__)
    values = a.copy()
    axis %= a.ndim
    head = (slice(None),) * axis
    n, step = a.shape[axis], 1
    while step < n:
        shifted = values.copy()
        shifted[head + (slice(step, None),)] = op(values[head + (slice(step, None),)],
                                                  values[head + (slice(None, n - step),)])
        values, step = shifted, step * 2
    return values


class _RunningExtremum(Function):
    @staticmethod
    def _run(ctx, a, axis, ufunc):
        values, idx = _running_extremum(a, axis, ufunc)
        if ctx.needs_input_grad:
            ctx.axis, ctx.shape = axis, a.shape
            ctx.save_for_backward(idx)
        return values, idx

    @staticmethod
    def backward(ctx, grad, grad_idx=None):
        (idx,) = ctx.saved_arrays
        if grad.ndim == 0:
            return grad
        return scatter_grad(grad, _raw(idx), ctx.axis, ctx.shape)


class Cummax(_RunningExtremum):
    @staticmethod
    def forward(ctx, a, axis=0):
        return _RunningExtremum._run(ctx, a, axis, np.maximum)


class Cummin(_RunningExtremum):
    @staticmethod
    def forward(ctx, a, axis=0):
        return _RunningExtremum._run(ctx, a, axis, np.minimum)


def _cum_extremum(name, op, result_type, input, dim, out):
    _no_complex(name, input, f"{name}_cpu")
    values, indices = op.apply(input, axis=wrap_dim(dim, input.ndim))
    if out is not None:
        values, indices = finish(values, out[0]), finish(indices, out[1])
    return result_type(values, indices)


@method()
def cummax(input: Tensor, dim: int, *, out=None):
    """(running maximum, index where it was attained) along `dim`."""
    return _cum_extremum("cummax", Cummax, return_types.cummax, input, dim, out)


@method()
def cummin(input: Tensor, dim: int, *, out=None):
    """(running minimum, index where it was attained) along `dim`."""
    return _cum_extremum("cummin", Cummin, return_types.cummin, input, dim, out)


# -- logcumsumexp ------------------------------------------------------------------------------

class Logcumsumexp(Function):
    @staticmethod
    def forward(ctx, a, axis=0):
        ctx.axis = axis
        arr, ax = _scan_axis(a, axis)
        acc = arr.astype(np.float32) if arr.dtype in _LOW_PRECISION else arr
        out = _accumulate(backend.of(a), np.logaddexp, acc, ax)  # stable pairwise log-add
        out = out.astype(a.dtype, copy=False).reshape(a.shape)
        if ctx.needs_input_grad:
            ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, out = ctx.saved_arrays
        if grad.ndim == 0:
            return grad
        xp, axis = ctx.xp, ctx.axis
        # grad_i = sum_{j >= i} grad_j exp(a_i - out_j), summed in log space separately for
        # the positive and negative parts of grad so nothing overflows.
        out = xp.where(_raw(out) == -math.inf, 0, out)  # only where every a_k is -inf
        return (_log_space_part(xp, a, out, grad, axis)
                - _log_space_part(xp, a, out, -grad, axis))


def _log_space_part(xp, a, out, g, axis):
    """exp(a_i + log sum_{j >= i, g_j > 0} g_j exp(-out_j))."""
    positive = _raw(g) > 0
    log_g = xp.where(positive, xp.log(xp.where(positive, g, 1)), -math.inf)
    rev = xp.flip(_logcumsumexp_any(xp.flip(log_g - out, axis), axis), axis)
    return xp.exp(a + rev)


def _logcumsumexp_any(x, axis):
    if isinstance(x, Tensor):  # create_graph: stay differentiable
        return logcumsumexp(x, axis)
    return _accumulate(backend.of(x), np.logaddexp, x, axis)


@method()
def logcumsumexp(input: Tensor, dim: int, *, out=None) -> Tensor:
    """log(cumsum(exp(input))) along `dim`, computed without overflow."""
    if input.dtype._kind != 2:
        raise kernel_missing("logcumsumexp", input.dtype)
    return finish(Logcumsumexp.apply(input, axis=wrap_dim(dim, input.ndim)), out)
