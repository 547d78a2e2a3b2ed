"""Reductions: sum, mean, prod, max/min, amax/amin, argmax, std/var, norm, logsumexp, all/any.

Also the pieces the scan and sorting families share: the named result tuples
(`return_types`), dim normalization and `scatter_grad`, the backward of every op that
selects input elements by index.
"""

from __future__ import annotations

import builtins
import math
import warnings
from collections import namedtuple

import numpy as np

from .. import _dtype as D
from .. import backend
from .._tensor import Tensor
from ..amp._state import hook as _autocast
from ..autograd.node import Function, as_array
from ._util import cast, finish, method, wrap_dim, wrap_dims
from .inplace import _legacy, kernel_missing

__all__ = ["sum", "nansum", "mean", "nanmean", "prod", "max", "min", "amax", "amin",
           "aminmax", "argmax", "argmin", "std", "var", "std_mean", "var_mean", "norm",
           "logsumexp", "all", "any", "count_nonzero", "return_types"]

_LOW_PRECISION = (D.float16.np, D.bfloat16.np)
_py_max = builtins.max


# -- named result tuples ---------------------------------------------------------------------

def _return_type(name: str, fields=("values", "indices")):
    """A namedtuple printed like torch.return_types.<name> and picklable by qualname."""
    class Result(namedtuple(name, fields)):
        __slots__ = ()

        def __repr__(self) -> str:
            body = ",\n".join(f"{f}={v!r}" for f, v in zip(self._fields, self))
            return f"taimatsu.return_types.{name}(\n{body})"

    Result.__name__ = name
    Result.__qualname__ = f"return_types.{name}"
    Result.__module__ = __name__
    return Result


class return_types:
    """The named tuples that value-and-index reductions return (torch.return_types)."""

    max = _return_type("max")
    min = _return_type("min")
    aminmax = _return_type("aminmax", ("min", "max"))
    cummax = _return_type("cummax")
    cummin = _return_type("cummin")
    sort = _return_type("sort")
    topk = _return_type("topk")
    kthvalue = _return_type("kthvalue")
    median = _return_type("median")
    nanmedian = _return_type("nanmedian")
    mode = _return_type("mode")


# -- shared helpers ----------------------------------------------------------------------------

def reduce_axes(dim, ndim: int) -> tuple | None:
    """Dims to reduce as non-negative axes; None means all (dim=None or an empty list)."""
    if dim is None:
        return None
    if not isinstance(dim, (int, np.integer)) and len(dim) == 0:
        return None
    axes = wrap_dims(dim, ndim)
    return () if ndim == 0 else axes  # a 0-dim tensor accepts dim 0/-1 and stays as is


def _all_axes(axes, ndim: int) -> tuple:
    return tuple(range(ndim)) if axes is None else axes


def unreduce(xp, g, shape, axes, keepdim):
    """Broadcasts a reduced gradient back over the reduced dims of `shape`."""
    axes = _all_axes(axes, len(shape))
    if not keepdim and axes:
        g = xp.expand_dims(g, axes)
    return xp.broadcast_to(g, shape)


def _keep(out, shape, axes, keepdim):
    """A reduced array reshaped to keepdim form (size-1 reduced dims)."""
    if keepdim:
        return out
    axes = _all_axes(axes, len(shape))
    return out.reshape(tuple(1 if i in axes else s for i, s in enumerate(shape)))


def _count(shape, axes) -> int:
    return math.prod(shape[a] for a in _all_axes(axes, len(shape)))


def _raw(x):
    """The backend array behind a Tensor: masks and indices carry no gradient."""
    return x._data if isinstance(x, Tensor) else x


def _conj(x):
    """Complex gradients are grad * conj(derivative), as in PyTorch."""
    kind = x.dtype.is_complex if isinstance(x, Tensor) else x.dtype.kind == "c"
    return x.conj() if kind else x


def _cast_grad(xp, g, np_dtype):
    """A gradient in the input's dtype (the op may have computed in another one)."""
    return g if np_dtype is None else xp.astype(g, np_dtype)


def _wrap(arr) -> Tensor:
    """A Tensor for a result that carries no gradient (indices, bools, counts)."""
    return Tensor._make(as_array(arr))


def _is_float(a) -> bool:
    return a.dtype.kind in "fc" or a.dtype == D.bfloat16.np


def _no_complex(name: str, input: Tensor, kernel: str | None = None) -> None:
    """Ordering ops refuse complex inputs, with torch's error (its kernel's name if given)."""
    if input.dtype.is_complex:
        if kernel is None:
            raise RuntimeError(f"{name}(): does not support complex input")
        raise kernel_missing(kernel, input.dtype)


def _acc_dtype(a, np_dtype=None):
    """Half precision accumulates in float32, as torch does."""
    if np_dtype is None and a.dtype in _LOW_PRECISION:
        return np.float32
    return np_dtype


def _nonempty_dim(name: str, a, axis: int) -> None:
    if a.ndim and a.shape[axis] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {axis} to have non-zero size.")


def _check_full_nonempty(name: str, input: Tensor) -> None:
    if input.numel() == 0:
        raise RuntimeError(f"{name}(): Expected reduction dim to be specified for "
                           "input.numel() == 0. Specify the reduction dim with the 'dim' "
                           "argument.")


def _scatter_add_array(g, idx, axis: int, shape: tuple):
    """zeros(shape) with g added at positions idx along axis (g and idx same shape)."""
    xp = backend.of(g)
    shape = tuple(shape)
    if len(shape) == 0:
        return g.reshape(()).copy()
    g_m = xp.moveaxis(g, axis, -1)
    idx_m = xp.moveaxis(idx, axis, -1)
    out_m_shape = tuple(s for i, s in enumerate(shape) if i != axis) + (shape[axis],)
    n = shape[axis]
    rows = math.prod(out_m_shape[:-1])
    k = g_m.shape[-1]
    flat = (idx_m.reshape(rows, k) + xp.arange(rows).reshape(rows, 1) * n).ravel()
    weights = g_m.reshape(rows, k).ravel()
    size = rows * n

    def add(w):
        return xp.bincount(flat, weights=w.astype(np.float64), minlength=size)

    if g.dtype.kind == "c":
        out = add(weights.real) + 1j * add(weights.imag)
    else:
        out = add(weights)
    out = out.astype(g.dtype).reshape(out_m_shape)
    return xp.moveaxis(out, -1, axis)


class _ScatterGrad(Function):
    """Adds a gradient into zeros at given indices; its own gradient gathers them back."""

    _backward_name = "ScatterAddBackward0"

    @staticmethod
    def forward(ctx, g, idx=None, axis=0, shape=()):
        ctx.save_for_backward(idx)
        ctx.axis = axis
        return _scatter_add_array(g, idx, axis, shape)

    @staticmethod
    def backward(ctx, grad):
        (idx,) = ctx.saved_arrays
        if grad.ndim == 0:
            return grad.reshape(idx.shape)
        return ctx.xp.take_along_axis(grad, idx, ctx.axis)


def scatter_grad(g, idx, axis: int, shape):
    """Backward of ops that pick input elements by index (max(dim), sort, topk...).

    g and idx have the same shape; returns zeros(shape) with g added at idx along axis.
    Works on arrays, and on Tensors (create_graph) through a differentiable node.
    """
    if isinstance(g, Tensor):
        return _ScatterGrad.apply(g, idx=_raw(idx), axis=axis, shape=tuple(shape))
    return _scatter_add_array(g, idx, axis, shape)


def _tie_scale(a, out_keep, axes):
    """mask(a == result) / count: the even split of a gradient among tied extrema."""
    xp = backend.of(a)
    mask = a == out_keep
    if _is_float(a):
        mask |= xp.isnan(a) & xp.isnan(out_keep)
    count = mask.sum(axis=axes, keepdims=True)
    return (mask / count).astype(a.dtype)


# -- sum / mean / nansum / nanmean --------------------------------------------------------------

class Sum(Function):
    """Sum over `axes` (None: all), optionally accumulating in another dtype."""

    @staticmethod
    def forward(ctx, a, axes=None, keepdim=False, np_dtype=None):
        if axes is not None:
            ctx.mark_name("SumBackward1")
        ctx.shape, ctx.axes, ctx.keepdim = a.shape, axes, keepdim
        ctx.in_dtype = a.dtype if np_dtype is not None and np_dtype != a.dtype else None
        acc = _acc_dtype(a, np_dtype)
        out = a.sum(axis=axes, keepdims=keepdim, dtype=acc)
        return out.astype(a.dtype) if acc is not np_dtype else out

    @staticmethod
    def backward(ctx, grad):
        g = unreduce(ctx.xp, grad, ctx.shape, ctx.axes, ctx.keepdim)
        return _cast_grad(ctx.xp, g, ctx.in_dtype)


class Nansum(Function):
    @staticmethod
    def forward(ctx, a, axes=None, keepdim=False, np_dtype=None):
        ctx.shape, ctx.axes, ctx.keepdim = a.shape, axes, keepdim
        ctx.in_dtype = a.dtype if np_dtype is not None and np_dtype != a.dtype else None
        if ctx.needs_input_grad:
            ctx.save_for_backward(a)
        xp = backend.of(a)
        acc = _acc_dtype(a, np_dtype)
        out = xp.nansum(a, axis=axes, keepdims=keepdim, dtype=acc)
        return out.astype(a.dtype) if acc is not np_dtype else out

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_arrays
        g = unreduce(ctx.xp, grad, ctx.shape, ctx.axes, ctx.keepdim)
        keep = ~backend.of(_raw(a)).isnan(_raw(a))
        return _cast_grad(ctx.xp, ctx.xp.where(keep, g, 0), ctx.in_dtype)


class Mean(Function):
    @staticmethod
    def forward(ctx, a, axes=None, keepdim=False, np_dtype=None):
        if axes is not None:
            ctx.mark_name("MeanBackward1")
        ctx.shape, ctx.axes, ctx.keepdim = a.shape, axes, keepdim
        ctx.in_dtype = a.dtype if np_dtype is not None and np_dtype != a.dtype else None
        acc = _acc_dtype(a, np_dtype)
        with warnings.catch_warnings():  # the mean of nothing is nan, silently as in torch
            warnings.simplefilter("ignore", RuntimeWarning)
            out = a.mean(axis=axes, keepdims=keepdim, dtype=acc)
        return out.astype(a.dtype) if acc is not np_dtype else out

    @staticmethod
    def backward(ctx, grad):
        n = _count(ctx.shape, ctx.axes)
        g = unreduce(ctx.xp, grad / n, ctx.shape, ctx.axes, ctx.keepdim)
        return _cast_grad(ctx.xp, g, ctx.in_dtype)


class Nanmean(Function):
    @staticmethod
    def forward(ctx, a, axes=None, keepdim=False):
        xp = backend.of(a)
        ctx.shape, ctx.axes, ctx.keepdim = a.shape, axes, keepdim
        keep = ~xp.isnan(a)
        count = keep.sum(axis=axes, keepdims=True)
        if ctx.needs_input_grad:
            ctx.save_for_backward((keep / count).astype(a.dtype))
        acc = _acc_dtype(a)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            out = xp.nansum(a, axis=axes, keepdims=True, dtype=acc) / count
        out = out.astype(a.dtype)
        return out if keepdim else out.reshape(_reduced_shape(a.shape, axes))

    @staticmethod
    def backward(ctx, grad):
        (scale,) = ctx.saved_arrays
        return unreduce(ctx.xp, grad, ctx.shape, ctx.axes, ctx.keepdim) * scale


def _reduced_shape(shape, axes) -> tuple:
    axes = _all_axes(axes, len(shape))
    return tuple(s for i, s in enumerate(shape) if i not in axes)


def _sum_dtype(input: Tensor, dtype):
    """torch.sum's result dtype: integers and bools accumulate in int64."""
    if dtype is not None:
        return D.to_dtype(dtype).np
    if input.dtype._kind < 2:
        return np.dtype(np.int64)
    return None


@method()
def sum(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None, out=None) -> Tensor:
    """Sum of the elements over `dim` (all when None); ints and bools give int64."""
    if _autocast.on and (policy := _autocast.policy("sum", input)):
        return policy(sum, input, dim, keepdim, dtype=dtype, out=out)
    axes = reduce_axes(dim, input.ndim)
    np_dtype = _sum_dtype(input, dtype)
    if np_dtype is None:
        return finish(Sum.apply(input, axes=axes, keepdim=keepdim), out)
    return finish(Sum.apply(input, axes=axes, keepdim=keepdim, np_dtype=np_dtype), out)


@method()
def nansum(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None, out=None) -> Tensor:
    """sum() treating NaN as zero."""
    if input.dtype.is_complex:
        raise RuntimeError("nansum on CPU does not support complex inputs")
    axes = reduce_axes(dim, input.ndim)
    np_dtype = _sum_dtype(input, dtype)
    return finish(Nansum.apply(input, axes=axes, keepdim=keepdim, np_dtype=np_dtype), out)


def _float_dtype_or_raise(name: str, input: Tensor, dtype) -> np.dtype | None:
    """mean-like ops need a floating/complex input or an explicit float dtype."""
    if dtype is not None:
        dt = D.to_dtype(dtype)
        if dt._kind < 2:
            raise RuntimeError(f"{name}(): could not infer output dtype. Optional dtype must "
                               f"be either a floating point or complex dtype. Got: "
                               f"{_legacy(dt)}")
        return dt.np
    if input.dtype._kind < 2:
        raise RuntimeError(f"{name}(): could not infer output dtype. Input dtype must be "
                           f"either a floating point or complex dtype. Got: "
                           f"{_legacy(input.dtype)}")
    return None


@method()
def mean(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None, out=None) -> Tensor:
    """Arithmetic mean over `dim` (all when None); nan for empty inputs."""
    np_dtype = _float_dtype_or_raise("mean", input, dtype)
    axes = reduce_axes(dim, input.ndim)
    return finish(Mean.apply(input, axes=axes, keepdim=keepdim, np_dtype=np_dtype), out)


@method()
def nanmean(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None, out=None) -> Tensor:
    """mean() over the non-NaN elements."""
    if dtype is not None:
        input = cast(input, D.to_dtype(dtype))
    if input.dtype.is_complex:
        raise RuntimeError("nansum on CPU does not support complex inputs")
    if input.dtype._kind < 2:
        raise RuntimeError("nanmean(): expected input to have floating point or complex dtype "
                           f"but got {_legacy(input.dtype)}")
    axes = reduce_axes(dim, input.ndim)
    return finish(Nanmean.apply(input, axes=axes, keepdim=keepdim), out)


# -- prod -----------------------------------------------------------------------------------------

class Prod(Function):
    @staticmethod
    def forward(ctx, a, axis=None, keepdim=False, np_dtype=None):
        if axis is not None:
            ctx.mark_name("ProdBackward1")
        ctx.shape, ctx.axis, ctx.keepdim = a.shape, axis, keepdim
        ctx.in_dtype = a.dtype if np_dtype is not None and np_dtype != a.dtype else None
        acc = _acc_dtype(a, np_dtype)
        out = a.prod(axis=axis, keepdims=keepdim, dtype=acc)
        # a full reduction gives a NumPy scalar: make it the array the output will wrap,
        # so create_graph finds it saved as an output
        out = as_array(out.astype(a.dtype) if acc is not np_dtype else out)
        if ctx.needs_input_grad:
            ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        xp = ctx.xp
        a, out = ctx.saved_arrays
        axes = None if ctx.axis is None else (ctx.axis,)
        g = unreduce(xp, grad, ctx.shape, axes, ctx.keepdim)
        raw = _raw(a)
        if raw.size and not bool((raw == 0).any()):
            full = unreduce(xp, out, ctx.shape, axes, ctx.keepdim)
            d = full / a
        elif ctx.axis is None:  # flatten, then as for one dim
            d = _products_of_others(xp, a.reshape((-1,))).reshape(ctx.shape)
        else:
            d = xp.moveaxis(_products_of_others(xp, xp.moveaxis(a, ctx.axis, -1)), -1, ctx.axis)
        return _cast_grad(xp, g * _conj(d), ctx.in_dtype)


def _products_of_others(xp, x):
    """Along the last axis, the product of all elements but each one (zeros allowed).

    Exclusive prefix and suffix products keep this exact (and differentiable) with zeros,
    where prod / x would divide by zero.
    """
    if x.ndim == 0 or x.shape[-1] == 0:
        return xp.ones_like(x)
    ones = xp.ones_like(x[..., :1])
    left = xp.cumprod(xp.concatenate([ones, x[..., :-1]], axis=-1), -1)
    right = xp.flip(xp.cumprod(xp.flip(xp.concatenate([x[..., 1:], ones], axis=-1), -1), -1),
                    -1)
    return left * right


@method()
def prod(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None, out=None) -> Tensor:
    """Product of the elements (over one `dim` when given); ints and bools give int64."""
    if _autocast.on and (policy := _autocast.policy("prod", input)):
        return policy(prod, input, dim, keepdim, dtype=dtype, out=out)
    if dim is not None and not isinstance(dim, (int, np.integer)):
        raise TypeError(f"prod(): argument 'dim' must be int, not {type(dim).__name__}")
    np_dtype = _sum_dtype(input, dtype)
    axis = None
    if dim is not None:
        axis = wrap_dim(int(dim), input.ndim)
        if input.ndim == 0:
            axis, dim = None, None
            keepdim = False
    if dim is None:
        return finish(Prod.apply(input, np_dtype=np_dtype), out)
    return finish(Prod.apply(input, axis=axis, keepdim=keepdim, np_dtype=np_dtype), out)


# -- max / min / amax / amin / aminmax / argmax / argmin -----------------------------------------

class _EvenSplit(Function):
    """Reductions whose gradient is shared evenly among the elements equal to the result."""

    @staticmethod
    def _run(ctx, a, axes, keepdim, reducer):
        ctx.shape, ctx.axes, ctx.keepdim = a.shape, axes, keepdim
        out = reducer(a, axis=axes, keepdims=keepdim)
        if ctx.needs_input_grad:
            ctx.save_for_backward(_tie_scale(a, _keep(out, a.shape, axes, keepdim), axes))
        return out

    @staticmethod
    def backward(ctx, grad):
        (scale,) = ctx.saved_arrays
        return unreduce(ctx.xp, grad, ctx.shape, ctx.axes, ctx.keepdim) * scale


def _np_max(a, axis=None, keepdims=False):
    return a.max(axis=axis, keepdims=keepdims)


def _np_min(a, axis=None, keepdims=False):
    return a.min(axis=axis, keepdims=keepdims)


class Amax(_EvenSplit):
    @staticmethod
    def forward(ctx, a, axes=None, keepdim=False):
        return _EvenSplit._run(ctx, a, axes, keepdim, _np_max)


class Amin(_EvenSplit):
    @staticmethod
    def forward(ctx, a, axes=None, keepdim=False):
        return _EvenSplit._run(ctx, a, axes, keepdim, _np_min)


class MaxAll(_EvenSplit):
    _backward_name = "MaxBackward1"

    @staticmethod
    def forward(ctx, a):
        return _EvenSplit._run(ctx, a, None, False, _np_max)


class MinAll(_EvenSplit):
    _backward_name = "MinBackward1"

    @staticmethod
    def forward(ctx, a):
        return _EvenSplit._run(ctx, a, None, False, _np_min)


def _select(a, axis, keepdim, arg):
    """(values, indices) of the element chosen by `arg` (argmax/argmin) along axis."""
    xp = backend.of(a)
    if a.ndim == 0:
        return a.copy(), xp.zeros((), dtype=np.int64)
    idx = arg(a, axis=axis, keepdims=True).astype(np.int64, copy=False)
    values = xp.take_along_axis(a, idx, axis)
    if not keepdim:
        values, idx = values.squeeze(axis), idx.squeeze(axis)
    return values, idx


class _SelectAlong(Function):
    """Ops returning (values, indices) of elements picked along one dim; the gradient
    flows back to the picked elements."""

    @staticmethod
    def _finish(ctx, a, axis, keepdim, values, idx):
        if ctx.needs_input_grad:
            ctx.shape, ctx.axis, ctx.keepdim = a.shape, axis, keepdim
            ctx.save_for_backward(idx)
        return values, idx

    @staticmethod
    def backward(ctx, grad, grad_idx=None):
        (idx,) = ctx.saved_arrays
        if len(ctx.shape) == 0:
            return grad
        idx = _raw(idx)
        if not ctx.keepdim and idx.ndim < len(ctx.shape):
            idx = backend.of(idx).expand_dims(idx, ctx.axis)
            grad = ctx.xp.expand_dims(grad, ctx.axis)
        return scatter_grad(grad, idx, ctx.axis, ctx.shape)


def _np_argmax(a, axis, keepdims):
    return a.argmax(axis=axis, keepdims=keepdims)


def _np_argmin(a, axis, keepdims):
    return a.argmin(axis=axis, keepdims=keepdims)


class MaxDim(_SelectAlong):
    _backward_name = "MaxBackward0"

    @staticmethod
    def forward(ctx, a, axis=0, keepdim=False):
        values, idx = _select(a, axis, keepdim, _np_argmax)
        return _SelectAlong._finish(ctx, a, axis, keepdim, values, idx)


class MinDim(_SelectAlong):
    _backward_name = "MinBackward0"

    @staticmethod
    def forward(ctx, a, axis=0, keepdim=False):
        values, idx = _select(a, axis, keepdim, _np_argmin)
        return _SelectAlong._finish(ctx, a, axis, keepdim, values, idx)


def _extremum(name, input, dim, keepdim, all_op, dim_op, binary, result_type, out):
    if isinstance(dim, Tensor):  # max(input, other): the elementwise maximum
        from . import pointwise
        return finish(getattr(pointwise, binary)(input, dim), out)
    _no_complex(name, input, None if dim is not None else f"{name}_all")
    if dim is None:
        _check_full_nonempty(name, input)
        return finish(all_op.apply(input), out)
    axis = wrap_dim(dim, input.ndim)
    _nonempty_dim(name, input._data, axis)
    values, indices = dim_op.apply(input, axis=axis, keepdim=keepdim)
    if out is not None:
        finish(values, out[0])
        finish(indices, out[1])
        return result_type(*out)
    return result_type(values, indices)


@method()
def max(input: Tensor, dim=None, keepdim: bool = False, *, out=None):
    """Largest element; with `dim`, (values, indices) along it; with a Tensor, maximum()."""
    return _extremum("max", input, dim, keepdim, MaxAll, MaxDim, "maximum", return_types.max,
                     out)


@method()
def min(input: Tensor, dim=None, keepdim: bool = False, *, out=None):
    """Smallest element; with `dim`, (values, indices) along it; with a Tensor, minimum()."""
    return _extremum("min", input, dim, keepdim, MinAll, MinDim, "minimum", return_types.min,
                     out)


def _amax_like(name, op, input, dim, keepdim, out):
    _no_complex(name, input, f"{name[1:]}_values_cpu")
    axes = reduce_axes(dim, input.ndim)
    if axes is None:
        _check_full_nonempty(name, input)
    else:
        for a in axes:
            _nonempty_dim(name, input._data, a)
    return finish(op.apply(input, axes=axes, keepdim=keepdim), out)


@method()
def amax(input: Tensor, dim=(), keepdim: bool = False, *, out=None) -> Tensor:
    """Maximum over `dim` (all when empty); the gradient is shared among ties."""
    return _amax_like("amax", Amax, input, dim, keepdim, out)


@method()
def amin(input: Tensor, dim=(), keepdim: bool = False, *, out=None) -> Tensor:
    """Minimum over `dim` (all when empty); the gradient is shared among ties."""
    return _amax_like("amin", Amin, input, dim, keepdim, out)


class Aminmax(Function):
    @staticmethod
    def forward(ctx, a, axes=None, keepdim=False):
        ctx.shape, ctx.axes, ctx.keepdim = a.shape, axes, keepdim
        lo = a.min(axis=axes, keepdims=keepdim)
        hi = a.max(axis=axes, keepdims=keepdim)
        if ctx.needs_input_grad:
            ctx.save_for_backward(_tie_scale(a, _keep(lo, a.shape, axes, keepdim), axes),
                                  _tie_scale(a, _keep(hi, a.shape, axes, keepdim), axes))
        return lo, hi

    @staticmethod
    def backward(ctx, grad_min, grad_max):
        s_lo, s_hi = ctx.saved_arrays
        xp = ctx.xp
        return (unreduce(xp, grad_min, ctx.shape, ctx.axes, ctx.keepdim) * s_lo
                + unreduce(xp, grad_max, ctx.shape, ctx.axes, ctx.keepdim) * s_hi)


@method()
def aminmax(input: Tensor, *, dim=None, keepdim: bool = False, out=None):
    """(min, max) over `dim` (all when None) in one call."""
    _no_complex("aminmax", input, "aminmax_cpu")
    axes = None if dim is None else reduce_axes(dim, input.ndim)
    n = input.numel() if axes is None else math.prod(input.shape[a] for a in axes)
    if n == 0:
        raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the "
                           "operation has no identity.")
    lo, hi = Aminmax.apply(input, axes=axes, keepdim=keepdim)
    if out is not None:
        lo, hi = finish(lo, out[0]), finish(hi, out[1])
    return return_types.aminmax(lo, hi)


def _arg_extremum(name, input, dim, keepdim, arg):
    _no_complex(name, input)
    if input.dtype is D.bool:
        raise RuntimeError(f"{name}(): does not support bool input")
    a = input._data
    if dim is None:
        if a.size == 0:
            raise IndexError(f"{name}(): Expected reduction dim to be specified for "
                             "input.numel() == 0.")
        idx = arg(a.reshape(-1), 0, False).astype(np.int64)
        return _wrap(idx.reshape((1,) * a.ndim) if keepdim else idx)
    axis = wrap_dim(dim, a.ndim)
    _nonempty_dim(name, a, axis)
    if a.ndim == 0:
        return _wrap(backend.of(a).zeros((), dtype=np.int64))
    return _wrap(arg(a, axis, keepdim).astype(np.int64, copy=False))


@method()
def argmax(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Index of the (first) largest element, over the flattened input when dim is None."""
    return _arg_extremum("argmax", input, dim, keepdim, _np_argmax)


@method()
def argmin(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Index of the (first) smallest element, over the flattened input when dim is None."""
    return _arg_extremum("argmin", input, dim, keepdim, _np_argmin)


# -- var / std -------------------------------------------------------------------------------------

class Var(Function):
    @staticmethod
    def forward(ctx, a, axes=None, correction=1, keepdim=False):
        ctx.shape, ctx.axes, ctx.keepdim = a.shape, axes, keepdim
        ctx.divisor = _py_max(0, _count(a.shape, axes) - correction)
        if ctx.needs_input_grad:
            ctx.save_for_backward(a)
        return _variance(a, axes, correction, keepdim)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_arrays
        xp = ctx.xp
        centered = a - xp.mean(a, axis=_all_axes(ctx.axes, a.ndim), keepdims=True)
        g = unreduce(xp, grad, ctx.shape, ctx.axes, ctx.keepdim)
        return g * centered * (2.0 / ctx.divisor if ctx.divisor else math.inf)


class Std(Function):
    @staticmethod
    def forward(ctx, a, axes=None, correction=1, keepdim=False):
        ctx.shape, ctx.axes, ctx.keepdim = a.shape, axes, keepdim
        ctx.divisor = _py_max(0, _count(a.shape, axes) - correction)
        out = as_array(backend.of(a).sqrt(_variance(a, axes, correction, keepdim)))
        if ctx.needs_input_grad:
            ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, out = ctx.saved_arrays
        xp = ctx.xp
        centered = a - xp.mean(a, axis=_all_axes(ctx.axes, a.ndim), keepdims=True)
        zero = _raw(out) == 0  # torch takes the gradient of std at 0 as 0
        safe = xp.where(zero, 1, out) * (ctx.divisor if ctx.divisor else 0.0)
        scale = xp.where(zero, 0, grad / safe)
        return unreduce(xp, scale, ctx.shape, ctx.axes, ctx.keepdim) * centered


def _variance(a, axes, correction, keepdim):
    acc = _acc_dtype(a)
    with warnings.catch_warnings():  # torch returns inf/nan for too few elements quietly
        warnings.simplefilter("ignore", RuntimeWarning)
        out = a.var(axis=axes, ddof=correction, keepdims=keepdim, dtype=acc)
    real = a.real.dtype if a.dtype.kind == "c" else a.dtype
    return out.astype(real, copy=False)


def _var_args(name, input, dim, unbiased, keepdim, correction):
    """Resolves torch's var/std overloads to (axes, correction, keepdim)."""
    if isinstance(dim, bool):  # var(input, unbiased)
        dim, unbiased = None, dim
    if input.dtype._kind < 2:
        raise RuntimeError("std and var only support floating point and complex dtypes")
    if unbiased is not None and correction is not None:
        raise RuntimeError(f"{name}(): cannot specify both 'unbiased' and 'correction'")
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    return reduce_axes(dim, input.ndim), correction, keepdim


@method()
def var(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None,
        out=None) -> Tensor:
    """Variance over `dim` with Bessel's `correction` (default 1; unbiased=False -> 0)."""
    axes, correction, keepdim = _var_args("var", input, dim, unbiased, keepdim, correction)
    return finish(Var.apply(input, axes=axes, correction=correction, keepdim=keepdim), out)


@method()
def std(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None,
        out=None) -> Tensor:
    """Standard deviation over `dim` with Bessel's `correction` (default 1)."""
    axes, correction, keepdim = _var_args("std", input, dim, unbiased, keepdim, correction)
    return finish(Std.apply(input, axes=axes, correction=correction, keepdim=keepdim), out)


def var_mean(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *,
             correction=None) -> tuple:
    """(var, mean) over `dim`."""
    v = var(input, dim, unbiased, keepdim, correction=correction)
    return v, mean(input, None if isinstance(dim, bool) else dim, keepdim)


def std_mean(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *,
             correction=None) -> tuple:
    """(std, mean) over `dim`."""
    s = std(input, dim, unbiased, keepdim, correction=correction)
    return s, mean(input, None if isinstance(dim, bool) else dim, keepdim)


# -- norm ------------------------------------------------------------------------------------------

class Norm(Function):
    """The vector p-norm over `axes` (p may be inf, -inf or 0)."""

    _backward_name = "LinalgVectorNormBackward0"

    @staticmethod
    def forward(ctx, a, p=2.0, axes=None, keepdim=False):
        xp = backend.of(a)
        ctx.shape, ctx.axes, ctx.keepdim, ctx.p = a.shape, axes, keepdim, p
        mag = xp.abs(a)
        if p == math.inf or p == -math.inf:
            out = (mag.max if p > 0 else mag.min)(axis=axes, keepdims=keepdim)
            if ctx.needs_input_grad:
                ctx.save_for_backward(a, _tie_scale(mag, _keep(out, a.shape, axes, keepdim),
                                                    axes))
            return out
        if p == 0:
            out = (mag != 0).sum(axis=axes, keepdims=keepdim).astype(mag.dtype)
        elif p == 1:
            out = mag.sum(axis=axes, keepdims=keepdim)
        elif p == 2:
            out = xp.sqrt((mag * mag).sum(axis=axes, keepdims=keepdim))
        else:
            out = ((mag ** p).sum(axis=axes, keepdims=keepdim)) ** (1.0 / p)
        out = as_array(out)
        if ctx.needs_input_grad:
            ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        xp = ctx.xp
        a, out = ctx.saved_arrays
        p = ctx.p
        g = unreduce(xp, grad, ctx.shape, ctx.axes, ctx.keepdim)
        if p == 0:
            return xp.zeros_like(a)
        if p == math.inf or p == -math.inf:  # `out` holds the tie split here
            return g * _unit(xp, a) * out
        norm = unreduce(xp, out, ctx.shape, ctx.axes, ctx.keepdim)
        if p == 1:
            return g * _unit(xp, a)
        # where the norm is 0 every element is 0 and so is the gradient (torch's choice)
        safe_norm = xp.where(_raw(norm) == 0, 1, norm)
        if p == 2:
            return g * a / safe_norm
        mag = xp.abs(a)
        safe_mag = xp.where(_raw(mag) == 0, 1, mag)
        return g * a * safe_mag ** (p - 2) / safe_norm ** (p - 1)


def _unit(xp, a):
    """a / |a| (sign, also for complex), 0 at 0."""
    mag = xp.abs(a)
    return a / xp.where(_raw(mag) == 0, 1, mag)


class NuclearNorm(Function):
    """Sum of singular values over the last two axes (after moving `dims` there)."""

    once_differentiable = True

    @staticmethod
    def forward(ctx, a, dims=(0, 1), keepdim=False):
        xp = backend.of(a)
        m = xp.moveaxis(a, dims, (-2, -1))
        u, s, vh = xp.linalg.svd(m, full_matrices=False)
        out = s.sum(axis=-1)
        ctx.dims, ctx.keepdim = dims, keepdim
        if ctx.needs_input_grad:
            ctx.save_for_backward(u, vh)
        if keepdim:
            out = xp.expand_dims(out, tuple(sorted(dims)))
        return out.astype(s.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        xp = ctx.xp
        u, vh = ctx.saved_arrays
        if ctx.keepdim:
            grad = grad.squeeze(tuple(sorted(ctx.dims)))
        d = u @ vh
        return xp.moveaxis(grad[..., None, None] * d, (-2, -1), ctx.dims)


@method()
def norm(input: Tensor, p="fro", dim=None, keepdim: bool = False, out=None,
         dtype=None) -> Tensor:
    """Vector p-norm over `dim` (all when None), Frobenius ('fro') or nuclear ('nuc')."""
    if _autocast.on and (policy := _autocast.policy("norm", input)):
        return policy(norm, input, p, dim, keepdim, out=out, dtype=dtype)
    if dtype is not None:
        input = cast(input, D.to_dtype(dtype))
    if input.dtype._kind < 2:
        raise RuntimeError("linalg.vector_norm: Expected a floating point or complex tensor "
                           f"as input. Got {_legacy(input.dtype)}")
    if isinstance(dim, (int, np.integer)):
        dim = (int(dim),)
    if p == "nuc":
        return finish(_nuclear(input, dim, keepdim), out)
    if p is None or p == "fro":
        if dim is not None and len(dim) > 2:
            raise RuntimeError("linalg.matrix_norm: dim must be a 2-tuple. Got "
                               + " ".join(str(d) for d in dim))
        p = 2.0
    if isinstance(p, str):
        raise RuntimeError(f"linalg.vector_norm: unsupported norm type {p!r}")
    return finish(_vector_norm(input, float(p), dim, keepdim), out)


def _vector_norm(input: Tensor, p: float, dim, keepdim: bool) -> Tensor:
    axes = reduce_axes(dim, input.ndim)
    if math.isinf(p):
        if axes is None and input.numel() == 0:
            raise RuntimeError("linalg.vector_norm cannot compute the inf norm on an empty "
                               "tensor because the operation does not have an identity")
        for a in axes or ():
            if input.shape[a] == 0:
                raise RuntimeError(f"linalg.vector_norm cannot compute the inf norm on the "
                                   f"dimension {a}because this dimension is empty and the "
                                   "operation does not have an identity")
    return Norm.apply(input, p=p, axes=axes, keepdim=keepdim)


def _nuclear(input: Tensor, dim, keepdim: bool) -> Tensor:
    if dim is None:
        if input.ndim != 2:
            raise RuntimeError("linalg.matrix_norm: The input tensor A must have exactly 2 "
                               "dimensions when dim is not given.")
        dim = (0, 1)
    if len(dim) != 2:
        raise RuntimeError("linalg.matrix_norm: dim must be a 2-tuple. Got "
                           + " ".join(str(d) for d in dim))
    dims = wrap_dims(dim, input.ndim)
    return NuclearNorm.apply(input, dims=dims, keepdim=keepdim)


# -- logsumexp ---------------------------------------------------------------------------------

class Logsumexp(Function):
    @staticmethod
    def forward(ctx, a, axes=None, keepdim=False):
        xp = backend.of(a)
        ctx.shape, ctx.axes, ctx.keepdim = a.shape, axes, keepdim
        acc = a.astype(np.float32) if a.dtype in _LOW_PRECISION else a
        # shift by the max for stability; an infinite max would give inf - inf = nan
        shift = acc.real.max(axis=axes, keepdims=True) if acc.size else \
            xp.zeros((1,) * acc.ndim, dtype=acc.real.dtype)
        shift = xp.where(xp.isfinite(shift), shift, 0)
        with np.errstate(divide="ignore"):
            out = xp.log(xp.exp(acc - shift).sum(axis=axes, keepdims=True)) + shift
        out = out.astype(a.dtype, copy=False)
        if not keepdim:
            out = out.reshape(_reduced_shape(a.shape, axes))
        if ctx.needs_input_grad:
            ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        xp = ctx.xp
        a, out = ctx.saved_arrays
        g = unreduce(xp, grad, ctx.shape, ctx.axes, ctx.keepdim)
        full = unreduce(xp, out, ctx.shape, ctx.axes, ctx.keepdim)
        return g * _conj(xp.exp(a - full))


@method()
def logsumexp(input: Tensor, dim, keepdim: bool = False, *, out=None) -> Tensor:
    """log(sum(exp(input))) over `dim`, computed without overflow."""
    if _autocast.on and (policy := _autocast.policy("logsumexp", input)):
        return policy(logsumexp, input, dim, keepdim, out=out)
    if input.dtype._kind < 2:
        input = cast(input, D.get_default_dtype())
    axes = reduce_axes(dim, input.ndim)
    return finish(Logsumexp.apply(input, axes=axes, keepdim=keepdim), out)


# -- all / any / count_nonzero ----------------------------------------------------------------

def _logical_reduce(name, input, dim, keepdim, out):
    a = input._data
    axes = reduce_axes(dim, a.ndim)
    xp = backend.of(a)
    result = getattr(xp, name)(a, axis=axes, keepdims=keepdim)
    # torch keeps uint8 for uint8 inputs (a legacy of byte masks)
    if a.dtype == np.uint8:
        result = result.astype(np.uint8)
    return finish(_wrap(result), out)


@method()
def all(input: Tensor, dim=None, keepdim: bool = False, *, out=None) -> Tensor:
    """True when every element (over `dim`) is nonzero."""
    return _logical_reduce("all", input, dim, keepdim, out)


@method()
def any(input: Tensor, dim=None, keepdim: bool = False, *, out=None) -> Tensor:
    """True when some element (over `dim`) is nonzero."""
    return _logical_reduce("any", input, dim, keepdim, out)


@method()
def count_nonzero(input: Tensor, dim=None) -> Tensor:
    """Number of nonzero elements over `dim` (all when None), as int64."""
    a = input._data
    axes = reduce_axes(dim, a.ndim)
    return _wrap((a != 0).sum(axis=axes).astype(np.int64, copy=False))
