"""Sorting and order statistics: sort, argsort, topk, kthvalue, median, mode, quantile,
unique, bincount, histc."""

from __future__ import annotations

import math

import numpy as np

from .. import _dtype as D
from .. import backend
from .._tensor import Tensor
from ..autograd.node import Function
from ._util import finish, method, wrap_dim
from .inplace import kernel_missing
from .reduction import (
    _EvenSplit,
    _is_float,
    _raw,
    _SelectAlong,
    _wrap,
    return_types,
    scatter_grad,
)
from .scan import _accumulate

__all__ = ["sort", "argsort", "msort", "topk", "kthvalue", "median", "nanmedian", "mode",
           "quantile", "nanquantile", "unique", "unique_consecutive", "bincount", "histc"]


# -- picking elements by their rank --------------------------------------------------------------

def _argsort(a, axis: int, descending: bool = False):
    """Stable argsort; descending keeps equal elements in input order, NaN counts as largest."""
    xp = backend.of(a)
    kind = {"kind": "stable"} if xp is np else {}  # cupy's sort is always stable
    if not descending:
        return xp.argsort(a, axis=axis, **kind)
    # sort the reversed input ascending and read it backwards: ties come out in input order
    rev = xp.argsort(xp.flip(a, axis), axis=axis, **kind)
    return a.shape[axis] - 1 - xp.flip(rev, axis)


def _pick(a, axis: int, positions, descending: bool = False):
    """(values, indices) at the sorted positions `positions(a, order)` along axis (keepdims)."""
    xp = backend.of(a)
    flat = a.ndim == 0
    arr = a.reshape(1) if flat else a
    order = _argsort(arr, axis, descending)
    pos = positions(arr, order)
    idx = xp.take_along_axis(order, pos, axis).astype(np.int64, copy=False)
    values = xp.take_along_axis(arr, idx, axis)
    if flat:
        return values.reshape(()), idx.reshape(())
    return values, idx


class _Picked(_SelectAlong):
    """Base of the ops whose outputs are input elements chosen by rank along one dim."""

    @staticmethod
    def _run(ctx, a, axis, keepdim, positions, descending=False, squeeze=True):
        values, idx = _pick(a, axis, positions, descending)
        if squeeze and not keepdim and a.ndim:
            values, idx = values.squeeze(axis), idx.squeeze(axis)
        return _SelectAlong._finish(ctx, a, axis, keepdim or not squeeze, values, idx)


class Sort(_SelectAlong):
    @staticmethod
    def forward(ctx, a, axis=-1, descending=False):
        xp = backend.of(a)
        arr = a.reshape(1) if a.ndim == 0 else a
        idx = _argsort(arr, axis, descending).astype(np.int64, copy=False)
        values = xp.take_along_axis(arr, idx, axis)
        if a.ndim == 0:
            values, idx = values.reshape(()), idx.reshape(())
        return _SelectAlong._finish(ctx, a, axis, True, values, idx)


class Topk(_Picked):
    @staticmethod
    def forward(ctx, a, k=1, axis=-1, largest=True):
        def first_k(arr, order):
            shape = [1] * arr.ndim
            shape[axis] = k
            return backend.of(arr).arange(k).reshape(shape)
        return _Picked._run(ctx, a, axis, True, first_k, descending=largest, squeeze=False)


def _at(position):
    """A `positions` function picking one fixed sorted position."""
    def positions(arr, order):
        shape = [1] * arr.ndim
        return backend.of(arr).full(shape, position, dtype=np.int64)
    return positions


class Kthvalue(_Picked):
    @staticmethod
    def forward(ctx, a, k=1, axis=-1, keepdim=False):
        return _Picked._run(ctx, a, axis, keepdim, _at(k - 1))


def _median_positions(axis, ignore_nan):
    """Sorted position of the lower median; NaNs sort last and win unless ignored."""
    def positions(arr, order):
        xp = backend.of(arr)
        n = arr.shape[axis]
        if not _is_float(arr):
            return _at((n - 1) // 2)(arr, order)
        valid = (~xp.isnan(arr)).sum(axis=axis, keepdims=True)
        if ignore_nan:
            return xp.maximum((valid - 1) // 2, 0)
        return xp.where(valid < n, valid, (n - 1) // 2)  # first NaN, else the median
    return positions


class MedianDim(_Picked):
    _backward_name = "MedianBackward1"

    @staticmethod
    def forward(ctx, a, axis=-1, keepdim=False):
        return _Picked._run(ctx, a, axis, keepdim, _median_positions(axis, False))


class NanmedianDim(_Picked):
    _backward_name = "NanmedianBackward1"

    @staticmethod
    def forward(ctx, a, axis=-1, keepdim=False):
        return _Picked._run(ctx, a, axis, keepdim, _median_positions(axis, True))


class Median(_EvenSplit):
    _backward_name = "MedianBackward0"

    @staticmethod
    def forward(ctx, a):
        return _EvenSplit._run(ctx, a, None, False, _median_all(False))


class Nanmedian(_EvenSplit):
    _backward_name = "NanmedianBackward0"

    @staticmethod
    def forward(ctx, a):
        return _EvenSplit._run(ctx, a, None, False, _median_all(True))


def _median_all(ignore_nan):
    """A reducer (numpy signature) for the median of all elements."""
    def reducer(a, axis=None, keepdims=False):
        flat = a.reshape(-1)
        if flat.size == 0:
            return backend.of(a).full((), math.nan, dtype=a.dtype)
        values, _ = _pick(flat, 0, _median_positions(0, ignore_nan))
        return values.reshape(())
    return reducer


def _mode_positions(arr, order):
    """Sorted position of the end of the first longest run: the smallest most frequent
    value, at its last occurrence (torch's choice)."""
    xp = backend.of(arr)
    srt = xp.take_along_axis(arr, order, -1)
    n = arr.shape[-1]
    pos = xp.arange(n)
    starts = xp.concatenate([xp.ones(srt.shape[:-1] + (1,), dtype=bool),
                             srt[..., 1:] != srt[..., :-1]], axis=-1)
    run_start = _accumulate(xp, np.maximum, xp.where(starts, pos, 0), -1)
    return (pos - run_start + 1).argmax(axis=-1)[..., None]


class Mode(_Picked):
    @staticmethod
    def forward(ctx, a, axis=-1, keepdim=False):
        xp = backend.of(a)
        if a.ndim == 0:
            return _Picked._run(ctx, a, 0, keepdim, _mode_positions)
        moved = xp.moveaxis(a, axis, -1)
        values, idx = _pick(moved, moved.ndim - 1, _mode_positions)
        values, idx = xp.moveaxis(values, -1, axis), xp.moveaxis(idx, -1, axis)
        if not keepdim:
            values, idx = values.squeeze(axis), idx.squeeze(axis)
        return _SelectAlong._finish(ctx, a, axis, keepdim, values, idx)


# -- public: sort, argsort, msort, topk, kthvalue -------------------------------------------

def _check_sortable(input: Tensor, what: str = "Sort") -> None:
    if input.dtype.is_complex:
        raise RuntimeError(f"{what} does not support complex dtypes on CPU")


def _check_selectable(input: Tensor, kernel: str) -> None:
    """kthvalue/median/mode have no complex (nor, but mode, bool) kernels in torch."""
    if input.dtype.is_complex or (input.dtype is D.bool and kernel != "mode_cpu"):
        raise kernel_missing(kernel, input.dtype)


def _named(result_type, values, indices, out):
    if out is not None:
        values, indices = finish(values, out[0]), finish(indices, out[1])
    return result_type(values, indices)


@method()
def sort(input: Tensor, dim: int = -1, descending: bool = False, *, stable: bool = False,
         out=None):
    """(values, indices) sorted along `dim`; always stable (NaN sorts as largest)."""
    _check_sortable(input)
    axis = wrap_dim(dim, input.ndim)
    values, indices = Sort.apply(input, axis=axis, descending=bool(descending))
    return _named(return_types.sort, values, indices, out)


@method()
def argsort(input: Tensor, dim: int = -1, descending: bool = False, *,
            stable: bool = False) -> Tensor:
    """Indices that sort `input` along `dim`."""
    _check_sortable(input)
    a = input._data
    if a.ndim == 0:
        return _wrap(backend.of(a).zeros((), dtype=np.int64))
    return _wrap(_argsort(a, wrap_dim(dim, a.ndim), descending).astype(np.int64, copy=False))


@method()
def msort(input: Tensor, *, out=None) -> Tensor:
    """Sorted along the first dim."""
    return finish(sort(input, 0).values, out)


@method()
def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True, *,
         out=None):
    """The k largest (or smallest) elements along `dim`, in order, with their indices."""
    _check_sortable(input, "topk")
    if input.dtype is D.bool:
        raise RuntimeError("topk does not support bool dtypes on CPU")
    axis = wrap_dim(dim, input.ndim)
    n = input.shape[axis] if input.ndim else 1
    if not 0 <= k <= n:
        raise RuntimeError("selected index k out of range")
    values, indices = Topk.apply(input, k=int(k), axis=axis, largest=bool(largest))
    return _named(return_types.topk, values, indices, out)


@method()
def kthvalue(input: Tensor, k: int, dim: int = -1, keepdim: bool = False, *, out=None):
    """The k-th smallest element (1-based) along `dim`, with its index."""
    _check_selectable(input, "kthvalue_cpu")
    axis = wrap_dim(dim, input.ndim)
    n = input.shape[axis] if input.ndim else 1
    if not 1 <= k <= n:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {axis}")
    values, indices = Kthvalue.apply(input, k=int(k), axis=axis, keepdim=keepdim)
    return _named(return_types.kthvalue, values, indices, out)


# -- median, nanmedian, mode -----------------------------------------------------------------

def _median_like(name, all_op, dim_op, result_type, input, dim, keepdim, out):
    _check_selectable(input, "median_cpu" if dim is None else "median_out")
    if dim is None:
        return finish(all_op.apply(input), out)
    axis = wrap_dim(dim, input.ndim)
    if input.ndim and input.shape[axis] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {axis} to have non-zero size.")
    values, indices = dim_op.apply(input, axis=axis, keepdim=keepdim)
    return _named(result_type, values, indices, out)


@method()
def median(input: Tensor, dim=None, keepdim: bool = False, *, out=None):
    """The lower median (NaN if any); with `dim`, (values, indices) along it."""
    return _median_like("median", Median, MedianDim, return_types.median, input, dim,
                        keepdim, out)


@method()
def nanmedian(input: Tensor, dim=None, keepdim: bool = False, *, out=None):
    """median() ignoring NaNs (NaN only where everything is NaN)."""
    return _median_like("nanmedian", Nanmedian, NanmedianDim, return_types.nanmedian, input,
                        dim, keepdim, out)


@method()
def mode(input: Tensor, dim: int = -1, keepdim: bool = False, *, out=None):
    """The most frequent value along `dim` (the smallest among ties) and an index of it."""
    _check_selectable(input, "mode_cpu")
    axis = wrap_dim(dim, input.ndim)
    if input.ndim and input.shape[axis] == 0:
        raise IndexError(f"mode(): Expected reduction dim {axis} to have non-zero size.")
    values, indices = Mode.apply(input, axis=axis, keepdim=keepdim)
    return _named(return_types.mode, values, indices, out)


# -- quantile ------------------------------------------------------------------------------

_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile_ranks(xp, srt, q, ignore_nan, interpolation):
    """Sorted positions (lo, hi) and weight of hi for each row of `srt` (rows, n) and q."""
    n = srt.shape[-1]
    nan = xp.isnan(srt)
    valid = (~nan).sum(axis=-1, keepdims=True)
    if ignore_nan:
        rank = q * xp.maximum(valid - 1, 0)
    else:  # any NaN makes the result NaN: point at the last sorted element, a NaN
        rank = xp.where(valid < n, n - 1, q * (n - 1))
    lo = xp.floor(rank)
    hi = xp.ceil(rank)
    weight = rank - lo
    if interpolation == "lower":
        hi, weight = lo, xp.zeros_like(weight)
    elif interpolation == "higher":
        lo, weight = hi, xp.zeros_like(weight)
    elif interpolation == "midpoint":
        weight = xp.where(hi > lo, 0.5, 0.0)
    elif interpolation == "nearest":
        lo = hi = xp.round(rank)  # half to even, as torch
        weight = xp.zeros_like(weight)
    return lo.astype(np.int64), hi.astype(np.int64), weight.astype(srt.dtype)


class Quantile(Function):
    """Quantiles over `axis` (None: all elements) for each q in the 1-d array `q`."""

    @staticmethod
    def forward(ctx, a, q=None, axis=None, keepdim=False, scalar_q=True, ignore_nan=False,
                interpolation="linear"):
        xp = backend.of(a)
        rows = a.reshape(-1) if axis is None or a.ndim == 0 else xp.moveaxis(a, axis, -1)
        order = xp.argsort(rows, axis=-1, **({"kind": "stable"} if xp is np else {}))
        srt = xp.take_along_axis(rows, order, -1)
        lo, hi, w = _quantile_ranks(xp, srt, xp.asarray(q, dtype=a.dtype), ignore_nan,
                                    interpolation)
        v_lo = xp.take_along_axis(srt, lo, -1)
        v_hi = xp.take_along_axis(srt, hi, -1)
        out = v_lo + w * (v_hi - v_lo)  # (…, len(q))
        if ctx.needs_input_grad:
            ctx.a_shape, ctx.rows_shape, ctx.axis = a.shape, rows.shape, axis
            ctx.q_first = (len(q),) + rows.shape[:-1]
            ctx.save_for_backward(xp.take_along_axis(order, lo, -1),
                                  xp.take_along_axis(order, hi, -1), w)
        out = xp.moveaxis(out, -1, 0)
        return out.reshape(_quantile_shape(a.shape, axis, keepdim, scalar_q, len(q)))

    @staticmethod
    def backward(ctx, grad):
        xp = ctx.xp
        idx_lo, idx_hi, w = ctx.saved_arrays
        w = _raw(w)
        g = xp.moveaxis(grad.reshape(ctx.q_first), 0, -1)
        last = len(ctx.rows_shape) - 1
        rows = (scatter_grad(g * (1 - w), _raw(idx_lo), last, ctx.rows_shape)
                + scatter_grad(g * w, _raw(idx_hi), last, ctx.rows_shape))
        if ctx.axis is None or not ctx.a_shape:
            return rows.reshape(ctx.a_shape)
        return xp.moveaxis(rows, -1, ctx.axis)


def _quantile_shape(shape, axis, keepdim, scalar_q, nq) -> tuple:
    """torch's quantile result shape: q's dim first, reduced dims dropped or kept as 1."""
    if axis is None:
        kept = (1,) * len(shape) if keepdim else ()
    elif not shape:
        kept = ()
    else:
        kept = tuple(1 if i == axis else s for i, s in enumerate(shape) if keepdim or i != axis)
    return kept if scalar_q else (nq,) + kept


def _quantile(name, input, q, dim, keepdim, interpolation, ignore_nan, out):
    if input.dtype not in (D.float32, D.float64):
        raise RuntimeError(f"{name}() input tensor must be either float or double dtype")
    if input.numel() == 0:
        raise RuntimeError(f"{name}() input tensor must be non-empty")
    if interpolation not in _INTERPOLATIONS:
        raise RuntimeError(f"{name}() interpolation must be one of linear, lower, higher, "
                           f"midpoint or nearest, but got {interpolation}")
    if isinstance(q, Tensor):
        if q.ndim > 1:
            raise RuntimeError(f"{name}() q must be a scalar or 1D tensor")
        if q.dtype is not input.dtype:
            raise RuntimeError(f"{name}() q tensor must be same dtype as the input tensor")
        q_values = backend.to_numpy(q._data).astype(np.float64).reshape(-1)
        scalar_q = q.ndim == 0
    else:
        q_values = np.atleast_1d(np.asarray(q, dtype=np.float64))
        scalar_q = q_values.ndim == 1 and np.ndim(q) == 0
    bad = q_values[(q_values < 0) | (q_values > 1)]
    if bad.size:
        raise RuntimeError(f"{name}() q must be in the range [0, 1] but got {bad[0]:g}")
    axis = None if dim is None else wrap_dim(dim, input.ndim)
    return finish(Quantile.apply(input, q=q_values, axis=axis, keepdim=keepdim,
                                 scalar_q=scalar_q, ignore_nan=ignore_nan,
                                 interpolation=interpolation), out)


@method()
def quantile(input: Tensor, q, dim=None, keepdim: bool = False, *,
             interpolation: str = "linear", out=None) -> Tensor:
    """The q-th quantiles over `dim` (flattened when None); NaN if the input has NaN."""
    return _quantile("quantile", input, q, dim, keepdim, interpolation, False, out)


@method()
def nanquantile(input: Tensor, q, dim=None, keepdim: bool = False, *,
                interpolation: str = "linear", out=None) -> Tensor:
    """quantile() ignoring NaNs."""
    return _quantile("nanquantile", input, q, dim, keepdim, interpolation, True, out)


# -- unique, unique_consecutive ---------------------------------------------------------------

def _unique_result(values, inverse, counts, return_inverse, return_counts):
    out = [_wrap(values)]
    if return_inverse:
        out.append(_wrap(inverse.astype(np.int64, copy=False)))
    if return_counts:
        out.append(_wrap(counts.astype(np.int64, copy=False)))
    return out[0] if len(out) == 1 else tuple(out)


@method()
def unique(input: Tensor, sorted: bool = True, return_inverse: bool = False,
           return_counts: bool = False, dim=None):
    """The distinct elements (or slices along `dim`), sorted; NaNs stay distinct as in torch.

    Returns a Tensor, or a tuple with the inverse indices and/or counts when asked.
    """
    if input.dtype.is_complex:
        raise kernel_missing("unique", input.dtype)
    a = input._data
    xp = backend.of(a)
    if dim is None:
        values, inverse, counts = xp.unique(a.reshape(-1), return_inverse=True,
                                            return_counts=True, equal_nan=False)
        inverse = inverse.reshape(a.shape)
    else:
        axis = wrap_dim(dim, a.ndim)
        values, inverse, counts = xp.unique(a, return_inverse=True, return_counts=True,
                                            axis=axis, equal_nan=False)
        inverse = inverse.reshape(-1)
    return _unique_result(values, inverse, counts, return_inverse, return_counts)


@method()
def unique_consecutive(input: Tensor, return_inverse: bool = False,
                       return_counts: bool = False, dim=None):
    """Collapses runs of equal consecutive elements (or slices along `dim`)."""
    if input.dtype.is_complex:
        raise kernel_missing("unique", input.dtype)
    a = input._data
    xp = backend.of(a)
    if dim is None:
        moved = a.reshape(-1)
        rows = moved.reshape(-1, 1)
    else:
        axis = wrap_dim(dim, a.ndim)
        moved = xp.moveaxis(a, axis, 0)
        rows = moved.reshape(moved.shape[0], -1)
    n = rows.shape[0]
    change = xp.ones(n, dtype=bool)
    if n > 1:
        change[1:] = (rows[1:] != rows[:-1]).any(axis=1)
    values = moved[change]
    if dim is not None:
        values = xp.moveaxis(values, 0, axis)
    inverse = xp.cumsum(change) - 1
    starts = xp.flatnonzero(change)
    counts = xp.diff(xp.concatenate([starts, xp.asarray([n])]))
    if dim is None:
        inverse = inverse.reshape(a.shape)
    return _unique_result(values, inverse, counts, return_inverse, return_counts)


# -- bincount, histc ---------------------------------------------------------------------------

@method()
def bincount(input: Tensor, weights: Tensor | None = None, minlength: int = 0) -> Tensor:
    """Counts of each non-negative integer (weighted sums with `weights`)."""
    a = input._data
    if a.ndim != 1 or input.dtype._kind == 0 or (a.size and bool((a < 0).any())):
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if input.dtype._kind != 1:
        raise kernel_missing("bincount_cpu", input.dtype)
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    xp = backend.of(a)
    if weights is None:
        return _wrap(xp.bincount(a, minlength=minlength).astype(np.int64, copy=False))
    w = weights._data
    if w.shape != a.shape:
        raise RuntimeError("weights should be 1-d and have the same length as input")
    # float32 weights keep float32; every other weight dtype counts in float64 (torch)
    out_dtype = np.float32 if w.dtype == np.float32 else np.float64
    counts = xp.bincount(a, weights=w.astype(np.float64), minlength=minlength)
    return _wrap(counts.astype(out_dtype))


@method()
def histc(input: Tensor, bins: int = 100, min=0, max=0, *, out=None) -> Tensor:
    """Histogram of `bins` equal-width bins over [min, max] (the data's range if equal)."""
    a = input._data
    if input.dtype._kind != 2:
        raise kernel_missing("histogram_cpu", input.dtype)
    if bins <= 0:
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for "
                           "dimension 0")
    if min > max:
        raise RuntimeError("torch.histc: max must be larger than min")
    xp = backend.of(a)
    lo, hi = float(min), float(max)
    if lo == hi and a.size:
        lo, hi = float(a.min()), float(a.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise RuntimeError(f"torch.histogram(): range of [{lo}, {hi}] is not finite")
    flat = a.reshape(-1)
    lo, hi = a.dtype.type(lo), a.dtype.type(hi)
    inside = flat[(flat >= lo) & (flat <= hi)]
    # torch's arithmetic, in the input's dtype and order, so edge values land in the same
    # bin; the last bin is closed on the right
    which = xp.minimum(((inside - lo) * a.dtype.type(bins) / (hi - lo)).astype(np.int64),
                       bins - 1)
    counts = xp.bincount(which, minlength=bins)
    return finish(_wrap(counts.astype(a.dtype)), out)
