"""Indexing: tensor[...] reads and writes, gather/scatter, index_*, masked_*, take/put,
nonzero, searchsorted/bucketize, and the in-place fill_/zero_/copy_.

Two ops carry most of it, both keyed by a NumPy index tuple: `Index` reads a[key] (a copy;
its backward adds the gradient back at key, repeats accumulating) and `IndexPut` returns a
copy of a with values written or added at key. gather, index_select, take and the advanced
part of tensor[...] are Index with different keys; setitem, index_put, scatter, scatter_add,
index_add/copy/fill and put are IndexPut, made in-place by `apply_inplace`. Basic indexing
(ints, slices, None, Ellipsis) is the view op `BasicIndex`, keyed by plain Python values.
"""

from __future__ import annotations

import functools
import math
import warnings

import numpy as np

from .. import _dtype as D
from .. import backend
from .._tensor import Tensor, _type_name
from ..autograd import grad_mode
from ..autograd.node import Function
from ._util import broadcast_shapes_or_raise, cast, check_device, finish, method, sum_to, wrap_dim
from .inplace import _legacy, apply_inplace, inplace_variant

__all__ = ["gather", "scatter", "scatter_add", "scatter_reduce", "index_select", "index_add",
           "index_copy", "index_fill", "index_put", "index_put_", "masked_fill",
           "masked_select", "masked_scatter", "take", "take_along_dim", "put", "nonzero",
           "argwhere", "searchsorted", "bucketize", "fill", "fill_", "zero_"]

_enabled = grad_mode._enabled
_int64 = np.dtype(np.int64)


def _recording(*args) -> bool:
    """Whether an op on these arguments records a graph (else in-place ops write directly)."""
    return _enabled[0] and any(isinstance(a, Tensor) and a._rg for a in args)


def _rounds_on_device(xp, name: str, out) -> bool:
    """CuPy 14's float64 maximum/minimum.at (and cupyx.scatter_max/min) are not exact: on
    an H100 they came back up to 5e-8 off, which breaks the ties that amax/amin backward
    looks for. Those go through the host instead."""
    return xp is not np and name in ("maximum", "minimum") and out.dtype == np.float64


def _ufunc_at(xp, name: str, out, key, values) -> None:
    """out[key] <op>= values with repeated indices applied once each (np.add.at & co)."""
    at = getattr(getattr(xp, name), "at", None)
    if at is not None and not _rounds_on_device(xp, name, out):
        try:
            at(out, key, values)
            return
        except NotImplementedError:
            pass
    # CuPy has ufunc.at for add/max/min only: do the others on the host (rare ops).
    host = backend.to_numpy(out).copy()
    host_key = tuple(backend.to_numpy(k) if hasattr(k, "shape") else k for k in key)
    getattr(np, name).at(host, host_key, backend.to_numpy(values) if hasattr(values, "shape")
                         else values)
    out[...] = xp.asarray(host)


# -- array-or-Tensor pieces for backward formulas ---------------------------------------------
# With create_graph=True backward receives Tensors; these pick the differentiable op then.

def _take(x, key, unique: bool):
    """x[key]."""
    if isinstance(x, Tensor):
        return Index.apply(x, key, unique)
    return x[key]


def _scatter_zeros(g, key, shape, unique: bool):
    """zeros(shape) with g added at key (repeated places accumulate unless `unique`)."""
    if isinstance(g, Tensor):
        return IndexScatter.apply(g, key, shape, unique)
    return _scatter_zeros_array(g, key, shape, unique)


def _scatter_zeros_array(g, key, shape, unique: bool):
    xp = backend.of(g)
    out = xp.zeros(shape, dtype=g.dtype)
    if unique:
        out[key] = g
    elif out.size:
        # 1-D add.at is several times faster than add.at over rows of an N-D array
        flat = _flat_positions(xp, shape, key)
        _ufunc_at(xp, "add", out.reshape(-1), flat.reshape(-1),
                  xp.broadcast_to(g, flat.shape).reshape(-1))
    return out


def _flat_positions(xp, shape, key):
    """Row-major positions, in an array of `shape`, of the elements that array[key] reads.

    Sums per-dim offsets read through broadcast (zero-copy) views, so the work is of the
    size of the result, never of the whole array.
    """
    positions = 0
    stride = 1
    for d in range(len(shape) - 1, -1, -1):
        offsets = xp.arange(shape[d], dtype=np.int64) * stride
        grid = xp.broadcast_to(offsets.reshape((shape[d],) + (1,) * (len(shape) - d - 1)),
                               shape)
        positions = positions + grid[key]
        stride *= shape[d]
    return xp.asarray(positions)


def _zero_at(g, key):
    """g with the places at key zeroed: their old values were overwritten."""
    if isinstance(g, Tensor):
        return IndexPut.apply(g, 0, key, False, True)
    out = g.copy()
    out[key] = 0
    return out


def _arr(x):
    return x._data if isinstance(x, Tensor) else x


# -- the ops ----------------------------------------------------------------------------------

class BasicIndex(Function):
    """a[ints, slices, None]: a view; key holds ints, None and (start, stop, step) triples."""

    view = True

    @staticmethod
    def forward(ctx, a, key, name="AliasBackward0"):
        ctx.mark_name(name)
        ctx.key = key
        ctx.shape = a.shape
        return a[_np_key(key)]

    @staticmethod
    def backward(ctx, grad):
        return _scatter_zeros(grad, _np_key(ctx.key), ctx.shape, True)


def _np_key(key) -> tuple:
    # The trailing Ellipsis makes NumPy return a 0-dim view instead of a scalar copy.
    return tuple([slice(*k) if type(k) is tuple else k for k in key]) + (Ellipsis,)


class Index(Function):
    """a[key] for an advanced key (a copy); backward adds the gradient back at key."""

    @staticmethod
    def forward(ctx, a, key, unique, name=None):
        if name is not None:
            ctx.mark_name(name)
        ctx.key = key
        ctx.unique = unique
        ctx.shape = a.shape
        out = a[key]
        # A basic key (in double backward) gives a view: an op's output must own its memory.
        return out.copy() if backend.of(a).may_share_memory(out, a) else out

    @staticmethod
    def backward(ctx, grad):
        return _scatter_zeros(grad, ctx.key, ctx.shape, ctx.unique)


class IndexScatter(Function):
    """zeros(shape) with g added at key: Index's backward as an op (for double backward)."""

    _backward_name = "IndexPutBackward0"

    @staticmethod
    def forward(ctx, g, key, shape, unique):
        ctx.key = key
        ctx.unique = unique
        return _scatter_zeros_array(g, key, shape, unique)

    @staticmethod
    def backward(ctx, grad):
        return _take(grad, ctx.key, ctx.unique)


class IndexPut(Function):
    """A copy of `a` with `v` (array or number) written, or added if accumulate, at key."""

    @staticmethod
    def forward(ctx, a, v, key, accumulate, unique, name=None):
        if name is not None:
            ctx.mark_name(name)
        ctx.key = key
        ctx.accumulate = accumulate
        ctx.unique = unique
        ctx.v_shape = getattr(v, "shape", ())
        out = a.copy()
        if accumulate:
            _ufunc_at(backend.of(a), "add", out, key, v)
        else:
            out[key] = v
        return out

    @staticmethod
    def backward(ctx, grad):
        need = ctx.needs_input_grad
        ga = gv = None
        if need[0]:
            ga = grad if ctx.accumulate else _zero_at(grad, ctx.key)
        if need[1]:
            gv = sum_to(_take(grad, ctx.key, ctx.unique), ctx.v_shape)
        return ga, gv


class ScatterReduce(Function):
    """scatter_reduce on a grid key: sum / prod / mean / amax / amin, with or without self."""

    @staticmethod
    def forward(ctx, a, s, key, reduce, include_self):
        xp = backend.of(a)
        out = _scatter_reduce_array(xp, a, s, key, reduce, include_self)
        if ctx.needs_input_grad:
            ctx.key = key
            ctx.reduce = reduce
            ctx.include_self = include_self
            ctx.mod = xp
            if reduce in ("prod", "amax", "amin"):
                ctx.save_for_backward(a, s, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        reduce, key, inc = ctx.reduce, ctx.key, ctx.include_self
        if reduce == "sum":
            return grad if inc else _zero_at(grad, key), _take(grad, key, False)
        if reduce == "mean":
            g = grad / _scatter_counts(ctx.mod, key, grad.shape, inc, _arr(grad).dtype)
            return g if inc else _zero_at(g, key), _take(g, key, False)
        if reduce == "prod":
            return _prod_backward(ctx, grad)
        return _extreme_backward(ctx, grad)


_REDUCE_UFUNC = {"sum": "add", "mean": "add", "prod": "multiply", "amax": "maximum",
                 "amin": "minimum"}


def _scatter_reduce_array(xp, a, s, key, reduce, include_self):
    out = a.copy()
    if not include_self:
        out[key] = _reduce_identity(reduce, a.dtype)
    _ufunc_at(xp, _REDUCE_UFUNC[reduce], out, key, s)
    if reduce == "mean":
        count = _scatter_counts(xp, key, a.shape, include_self, a.dtype)
        out = out // count if a.dtype.kind in "iub" else out / count
    return out.astype(a.dtype, copy=False)


def _reduce_identity(reduce, np_dtype):
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    if np_dtype.kind in "iu":
        info = np.iinfo(np_dtype)
        return info.min if reduce == "amax" else info.max
    return -math.inf if reduce == "amax" else math.inf


def _scatter_counts(xp, key, shape, include_self, np_dtype):
    """How many values meet at each place (self included when asked); at least 1."""
    count = xp.zeros(shape, dtype=np_dtype)
    _ufunc_at(xp, "add", count, key, 1)
    if include_self:
        count += 1
    else:
        count[count == 0] = 1
    return count


def _prod_backward(ctx, grad):
    """torch's formula: the result over the element, except where the element is the only
    zero at its place (there: the product of the others, computed with it set to 1)."""
    a, s, out = ctx.saved_arrays
    xp, key, inc = ctx.xp, ctx.key, ctx.include_self
    ga = gs = None
    if ctx.needs_input_grad[0]:
        if inc:
            a_nz = xp.where(_arr(a) == 0, 1, a)
            ga = grad * _scatter_reduce_any(a_nz, s, key, "prod", True) / a_nz
        else:
            ga = _zero_at(grad, key)
    if ctx.needs_input_grad[1]:
        s_zero = _arr(s) == 0
        zeros_at = _scatter_zeros_array(s_zero.astype(np.int64), key, _arr(a).shape,
                                        False)[key]
        if isinstance(grad, Tensor) and bool((zeros_at > 1).any()):
            # d2/ds1 ds2 of s1 * s2 * rest is not 0 at s1 = s2 = 0; torch refuses too
            raise RuntimeError("scatter_reduce(): Double backward is unsupported for src when "
                               ">1 zeros in src are scattered to the same position in self")
        single = s_zero & (zeros_at == 1)
        with_one = _scatter_reduce_any(a, xp.where(single, 1, s), key, "prod", inc)
        gs = xp.where(single, _take(grad * with_one, key, False),
                      _take(grad * out, key, False) / xp.where(s_zero, 1, s))
    return ga, gs


def _scatter_reduce_any(a, s, key, reduce, include_self):
    if isinstance(a, Tensor) or isinstance(s, Tensor):
        return ScatterReduce.apply(a, s, key, reduce, include_self)
    return _scatter_reduce_array(backend.of(a), a, s, key, reduce, include_self)


def _extreme_backward(ctx, grad):
    """amax/amin: the gradient is shared evenly among the values equal to the result."""
    a, s, out = ctx.saved_arrays
    xp, mod, key, inc = ctx.xp, ctx.mod, ctx.key, ctx.include_self
    a_arr, s_arr, out_arr = _arr(a), _arr(s), _arr(out)
    s_hit = s_arr == out_arr[key]
    if inc:
        self_hit = a_arr == out_arr
    else:  # self counts only where nothing was scattered (there out is self)
        self_hit = _scatter_zeros_array(mod.ones(s_arr.shape, dtype=np.int64), key,
                                        a_arr.shape, False) == 0
    count = _scatter_zeros_array(s_hit.astype(np.int64), key, a_arr.shape, False) + self_hit
    g = grad / mod.maximum(count, 1).astype(out_arr.dtype)
    ga = xp.where(self_hit, g, 0) if ctx.needs_input_grad[0] else None
    gs = xp.where(s_hit, _take(g, key, False), 0) if ctx.needs_input_grad[1] else None
    return ga, gs


class MaskedFill(Function):
    """where(mask, value, a) with broadcasting; value a number or a 0-dim array."""

    @staticmethod
    def forward(ctx, a, mask, value):
        xp = backend.of(a)
        ctx.mask = mask
        ctx.a_shape = a.shape
        if hasattr(value, "shape"):
            ctx.mark_name("MaskedFillBackward1")
        return xp.where(mask, xp.asarray(value, dtype=a.dtype), a)

    @staticmethod
    def backward(ctx, grad):
        xp = ctx.xp
        ga = gv = None
        if ctx.needs_input_grad[0]:
            ga = sum_to(xp.where(ctx.mask, 0, grad), ctx.a_shape)
        if ctx.needs_input_grad[2]:
            gv = sum_to(xp.where(ctx.mask, grad, 0), ())
        return ga, None, gv


class MaskedSelect(Function):
    """The elements of a where mask is True (both broadcast), as a 1-D copy."""

    @staticmethod
    def forward(ctx, a, mask):
        xp = backend.of(a)
        shape = broadcast_shapes_or_raise(a.shape, mask.shape)
        ctx.key = (xp.broadcast_to(mask, shape),)
        ctx.shapes = (a.shape, shape)
        return xp.broadcast_to(a, shape)[ctx.key]

    @staticmethod
    def backward(ctx, grad):
        a_shape, shape = ctx.shapes
        return sum_to(_scatter_zeros(grad, ctx.key, shape, True), a_shape), None


class MaskedScatter(Function):
    """A copy of a with the first mask.sum() elements of src written where mask is True."""

    @staticmethod
    def forward(ctx, a, mask, src):
        xp = backend.of(a)
        shape = broadcast_shapes_or_raise(a.shape, mask.shape)
        mask = xp.broadcast_to(mask, shape)
        n = int(mask.sum())
        if n > src.size:
            raise RuntimeError("Number of elements of source < number of ones in mask")
        ctx.key = (mask,)
        ctx.meta = (a.shape, src.shape, src.size, n)
        out = xp.broadcast_to(a, shape).copy()
        out[mask] = src.reshape(-1)[:n]
        return out

    @staticmethod
    def backward(ctx, grad):
        a_shape, src_shape, src_size, n = ctx.meta
        ga = gs = None
        if ctx.needs_input_grad[0]:
            ga = sum_to(_zero_at(grad, ctx.key), a_shape)
        if ctx.needs_input_grad[2]:
            taken = _take(grad, ctx.key, True)
            gs = _scatter_zeros(taken, (slice(0, n),), (src_size,), True).reshape(src_shape)
        return ga, None, gs


class TakeAlongDim(Function):
    """take_along_dim: a and indices broadcast against each other except along dim."""

    _backward_name = "GatherBackward0"

    @staticmethod
    def forward(ctx, a, idx, dim):
        xp = backend.of(a)
        ctx.in_shape = a.shape
        if dim is None:
            a, idx, dim = a.reshape(-1), idx.reshape(-1), 0
        ctx.a_shape = a.shape
        shape = list(broadcast_shapes_or_raise(_without(a.shape, dim), _without(idx.shape, dim)))
        a = xp.broadcast_to(a, tuple(shape[:dim] + [a.shape[dim]] + shape[dim + 1:]))
        idx = xp.broadcast_to(idx, tuple(shape[:dim] + [idx.shape[dim]] + shape[dim + 1:]))
        ctx.key = _grid_key(xp, idx, dim)
        ctx.b_shape = a.shape
        return a[ctx.key]

    @staticmethod
    def backward(ctx, grad):
        g = sum_to(_scatter_zeros(grad, ctx.key, ctx.b_shape, False), ctx.a_shape)
        return (g if ctx.a_shape == ctx.in_shape else g.reshape(ctx.in_shape)), None


def _without(shape, dim):
    return shape[:dim] + (1,) + shape[dim + 1:]


def _grid_key(xp, index, dim: int) -> tuple:
    """The advanced key of gather/scatter: index along `dim`, position elsewhere."""
    n = index.ndim
    key = [xp.arange(s).reshape((1,) * i + (s,) + (1,) * (n - i - 1))
           for i, s in enumerate(index.shape)]
    key[dim] = index
    return tuple(key)


class Fill(Function):
    """A tensor like `a` filled with a number (fill_, zero_)."""

    _backward_name = "FillBackward0"

    @staticmethod
    def forward(ctx, a, value, name="FillBackward0"):
        ctx.mark_name(name)
        return backend.of(a).full_like(a, value)

    @staticmethod
    def backward(ctx, grad):
        return ctx.xp.zeros_like(grad)


class Copy(Function):
    """src broadcast into a tensor shaped like dst (copy_); dst's old values get no gradient."""

    _backward_name = "CopyBackwards"

    @staticmethod
    def forward(ctx, dst, src, name=None):
        if name is not None:
            ctx.mark_name(name)
        ctx.src_shape = src.shape
        out = backend.of(dst).empty(dst.shape, dtype=dst.dtype)
        out[...] = src
        return out

    @staticmethod
    def backward(ctx, grad):
        gd = ctx.xp.zeros_like(grad) if ctx.needs_input_grad[0] else None
        gs = sum_to(grad, ctx.src_shape) if ctx.needs_input_grad[1] else None
        return gd, gs


class _Diagonal(Function):
    """The main diagonal of an array whose dims are equal, as a writable strided view."""

    view = True
    once_differentiable = True  # only written through (fill_diagonal_), never read

    @staticmethod
    def forward(ctx, a, n):
        ctx.shape = a.shape
        ctx.n = n
        return _diagonal_view(a, n)

    @staticmethod
    def backward(ctx, grad):
        out = ctx.xp.zeros(ctx.shape, dtype=grad.dtype)
        _diagonal_view(out, ctx.n)[...] = grad
        return out


def _diagonal_view(a, n):
    return backend.of(a).lib.stride_tricks.as_strided(a, shape=(n,), strides=(sum(a.strides),))


# -- parsing tensor[index] -------------------------------------------------------------------

_INT, _SLICE, _NONE, _ELLIPSIS, _BOOL, _ARRAY, _MASK = range(7)
_DIM_USE = {_INT: 1, _SLICE: 1, _ARRAY: 1}
_INDEX_TYPES = ("only integers, slices (`:`), ellipsis (`...`), None and long or byte "
                "Variables are valid indices (got {})")


class _Parsed:
    """An index split into a basic part (a view) and an advanced part on that view."""

    __slots__ = ("basic", "name", "trivial", "adv", "unique")

    def __init__(self, basic, name, trivial, adv, unique):
        self.basic = basic      # key for BasicIndex
        self.name = name        # the view's node name
        self.trivial = trivial  # the view would be self itself
        self.adv = adv          # NumPy key on the view, or None
        self.unique = unique    # the advanced key names no place twice


def _entries(index):
    """The index as a list of entries (torch's rule for when a list means a tuple)."""
    if type(index) is tuple:
        return list(index), False
    if type(index) is list and _list_is_tuple(index):
        warnings.warn("Using a non-tuple sequence for multidimensional indexing is deprecated; "
                      "use x[tuple(seq)] instead of x[seq].", UserWarning, stacklevel=3)
        return list(index), False
    return [index], True


def _list_is_tuple(seq) -> bool:
    if len(seq) >= 32:
        return False
    return any(e is None or e is Ellipsis or isinstance(e, (Tensor, list, tuple, slice,
                                                            np.ndarray)) for e in seq)


def _classify(entry, xp):
    """(kind, value) of one index entry; arrays come back on `xp`'s device."""
    t = type(entry)
    if t is int:
        return _INT, entry
    if t is slice:
        return _SLICE, entry
    if entry is None:
        return _NONE, None
    if entry is Ellipsis:
        return _ELLIPSIS, None
    if t is bool or t is np.bool_:
        return _BOOL, bool(entry)
    if isinstance(entry, (int, np.integer)):
        return _INT, int(entry)
    if isinstance(entry, Tensor):
        arr = entry._data
    elif isinstance(entry, np.ndarray) or backend.is_cuda_array(entry):
        arr = entry
    elif isinstance(entry, (list, tuple)):
        arr = _sequence_array(entry)
    else:
        raise IndexError(_INDEX_TYPES.format(type(entry).__name__))
    return _classify_array(arr, xp)


def _sequence_array(seq):
    """torch turns a list index into a bool mask if all its items are bools, else int64."""
    from .creation import _array_from_data
    try:
        arr = _array_from_data(seq, D.float64, None)
    except (TypeError, ValueError):
        raise IndexError(_INDEX_TYPES.format(type(seq).__name__)) from None
    return arr if arr.dtype == np.bool_ else arr.astype(np.int64)


def _classify_array(arr, xp):
    kind = arr.dtype.kind
    if arr.ndim == 0 and kind in "iub":
        return (_BOOL, bool(arr)) if kind == "b" else (_INT, int(arr))
    if kind == "b":
        return _MASK, _on(xp, arr)
    if arr.dtype == np.uint8:
        warnings.warn("indexing with dtype torch.uint8 is now deprecated, please use a dtype "
                      "torch.bool instead.", UserWarning, stacklevel=4)
        return _MASK, _on(xp, arr).astype(bool)
    if arr.dtype not in (np.int64, np.int32):
        raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
    return _ARRAY, _on(xp, arr)


def _on(xp, arr):
    """An index array on the indexed tensor's device (torch accepts either device)."""
    return backend.to_numpy(arr) if xp is np else xp.asarray(arr)


def _slice_triple(s: slice, size: int) -> tuple:
    """(start, stop, step) clamped to `size`; a zero step is refused by indices() itself."""
    start, stop, step = s.indices(size)
    if step < 0:
        raise ValueError("step must be greater than zero")
    return start, max(start, stop), step


def _parse(t: Tensor, index) -> _Parsed:
    """Follows torch: ints select, slices slice, None unsqueezes, then one advanced index."""
    entries, single = _entries(index)
    shape = t._data.shape
    ndim = len(shape)
    xp = backend.of(t._data)
    items = [_classify(e, xp) for e in entries]
    used = sum(v.ndim if k == _MASK else _DIM_USE.get(k, 0) for k, v in items)
    if ndim == 0 and any(k == _INT for k, _ in items):
        raise IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` in Python or "
                         "`tensor.item<T>()` in C++ to convert a 0-dim tensor to a number")
    if used > ndim:
        raise IndexError(f"too many indices for tensor of dimension {ndim}")
    basic, adv = [], []
    name, trivial = "AliasBackward0", True
    dim = out = 0  # the dim of self an entry applies to, and its place in the view
    ellipsis_left = ndim - used
    for kind, v in items:
        if kind == _INT:
            size = shape[dim]
            if not -size <= v < size:
                raise IndexError(f"index {v} is out of bounds for dimension {dim} with size "
                                 f"{size}")
            basic.append(v)
            name, trivial = "SelectBackward0", False
            dim += 1
        elif kind == _SLICE:
            triple = _slice_triple(v, shape[dim])
            if single or triple != (0, shape[dim], 1):  # torch skips full slices in tuples
                name, trivial = "SliceBackward0", False
            basic.append(triple)
            dim, out = dim + 1, out + 1
        elif kind == _NONE or kind == _BOOL:
            basic.append(None)
            trivial = False
            if kind == _NONE:
                name = "UnsqueezeBackward0"
            else:  # True/False: a new dim of size 1, indexed by [0] or by []
                adv.append((out, _ARRAY, xp.zeros(1 if v else 0, dtype=np.int64)))
            out += 1
        elif kind == _ELLIPSIS:
            basic.extend((0, shape[d], 1) for d in range(dim, dim + ellipsis_left))
            dim, out = dim + ellipsis_left, out + ellipsis_left
            ellipsis_left = 0  # torch lets later ellipses cover nothing
        else:
            k = v.ndim if kind == _MASK else 1
            basic.extend((0, shape[d], 1) for d in range(dim, dim + k))
            adv.append((out, kind, v))
            dim, out = dim + k, out + k
    while basic and type(basic[-1]) is tuple and basic[-1] == (0, shape[dim - 1], 1) \
            and not (single and not adv):
        basic.pop()
        dim -= 1
    if not adv:
        return _Parsed(tuple(basic), name, trivial, None, True)
    view_shape = t._data[_np_key(basic)].shape if basic else shape
    key, unique = _advanced_key(adv, view_shape)
    return _Parsed(tuple(basic), name, trivial, key, unique)


def _advanced_key(adv, shape) -> tuple:
    """The NumPy key of the advanced entries [(dim, kind, array)] on an array of `shape`."""
    unique = all(kind == _MASK for _, kind, _ in adv)
    if len(adv) == 1 and unique:  # a lone mask: NumPy indexes by it directly
        dim, _, mask = adv[0]
        _check_mask(mask, shape, dim)
        return (slice(None),) * dim + (mask,), True
    placed = []  # (dim, int array), masks expanded to one array per masked dim
    for dim, kind, arr in adv:
        if kind == _MASK:
            _check_mask(arr, shape, dim)
            placed.extend((dim + j, a) for j, a in enumerate(backend.of(arr).nonzero(arr)))
        else:
            placed.append((dim, arr))
    for ordinal, (dim, arr) in enumerate(placed):
        _check_bounds(arr, shape[dim], ordinal)
    shapes = [a.shape for _, a in placed]
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        raise IndexError("shape mismatch: indexing tensors could not be broadcast together "
                         "with shapes " + ", ".join(str(list(s)) for s in shapes)) from None
    key = [slice(None)] * (placed[-1][0] + 1)
    for dim, arr in placed:
        key[dim] = arr
    return tuple(key), unique


def _check_mask(mask, shape, dim) -> None:
    for j, size in enumerate(mask.shape):
        if size != shape[dim + j]:
            raise IndexError(f"The shape of the mask {list(mask.shape)} at index {j} does not "
                             f"match the shape of the indexed tensor {list(shape)} at index "
                             f"{dim + j}")


def _check_bounds(idx, size: int, dim: int) -> None:
    if idx.size == 0:
        return
    if size == 0:
        raise IndexError("index is out of bounds for dimension with size 0")
    bad = _first_out_of_bounds(idx, -size, size)
    if bad is not None:
        raise IndexError(f"index {bad} is out of bounds for dimension {dim} with size {size}")


def _first_out_of_bounds(idx, low: int, high: int):
    """The first index outside [low, high), or None (one min/max pass when all are fine)."""
    if idx.size == 0 or (int(idx.min()) >= low and int(idx.max()) < high):
        return None
    flat = idx.reshape(-1)
    return int(flat[((flat < low) | (flat >= high)).argmax()])


def _advanced_shape(shape, key) -> tuple:
    """The shape of array[key] for an array of `shape`, without indexing (NumPy's rules)."""
    before, after, arrays = [], [], []
    dim, separated = 0, False
    for entry in key:
        if type(entry) is slice:
            (after if arrays else before).append(shape[dim])
            dim += 1
        else:
            if arrays and after:
                separated = True
            if entry.dtype == np.bool_:
                arrays.append((int(entry.sum()),))
                dim += entry.ndim
            else:
                arrays.append(entry.shape)
                dim += 1
    rest = list(shape[dim:])
    b = list(np.broadcast_shapes(*arrays))
    if separated:
        return tuple(b + before + after + rest)
    return tuple(before + b + after + rest)


# -- __getitem__ / __setitem__ ----------------------------------------------------------------

def _getitem(self: Tensor, index) -> Tensor:
    kind = type(index)
    if self._data.ndim:  # short paths for the most common reads
        if kind is int and -self._data.shape[0] <= index < self._data.shape[0]:
            return BasicIndex.apply(self, (index,), name="SelectBackward0")
        if kind is slice:
            triple = _slice_triple(index, self._data.shape[0])
            return BasicIndex.apply(self, (triple,), name="SliceBackward0")
    p = _parse(self, index)
    out = self
    if p.adv is None or not p.trivial:
        out = BasicIndex.apply(self, p.basic, name=p.name)
    if p.adv is not None:
        out = Index.apply(out, p.adv, p.unique)
    return out


def _setitem(self: Tensor, index, value) -> None:
    p = _parse(self, index)
    value = _assigned_value(self, value)
    if p.adv is None:
        _write_basic(self, p, value)
        return
    if isinstance(index, Tensor) and index.dtype is D.bool and isinstance(value, Tensor) \
            and value.ndim == 0:
        value = cast(value, self.dtype)  # torch fills by a lone mask like masked_fill_: casting
    target = self if p.trivial else BasicIndex.apply(self, p.basic, name=p.name)
    _put_(target, p.adv, p.unique, value, False)


def _write_basic(self: Tensor, p: _Parsed, value) -> None:
    """self[ints, slices, None] = value: straight into memory, or by copy_/fill_ on the view."""
    key = _np_key(p.basic)
    if isinstance(value, Tensor):
        value = _expand_value(value, self._data[key].shape)
    if not _recording(self, value):
        self._data[key] = _arr(value)
        self._vc[0] += 1
        return
    # torch writes x[:] = v and x[...] = v into x itself (no view, no CopySlices)
    whole = len(p.basic) <= self.ndim and all(
        type(k) is tuple and k == (0, n, 1) for k, n in zip(p.basic, self.shape))
    target = self if whole else BasicIndex.apply(self, p.basic, name=p.name)
    if isinstance(value, Tensor):
        copy_(target, value)
    else:
        fill_(target, value)


def _assigned_value(self: Tensor, value):
    if isinstance(value, Tensor):
        return value
    if isinstance(value, (bool, int, float, complex, np.generic)):
        return _scalar_for(self.dtype, value)
    kind = type(value)
    qual = kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__name__}"
    raise TypeError(f"can't assign a {qual} to a {_type_name(self)}")


def _strip_leading_ones(value: Tensor, ndim: int) -> Tensor:
    """torch drops a value's extra leading size-1 dims before broadcasting it."""
    k = 0
    while value.ndim - k > ndim and value.shape[k] == 1:
        k += 1
    return BasicIndex.apply(value, (0,) * k, name="SelectBackward0") if k else value


def _expand_value(value: Tensor, shape) -> Tensor:
    """`value` checked against torch's expand rules for being written into `shape`."""
    v = _strip_leading_ones(value, len(shape))
    if v.ndim > len(shape):
        raise RuntimeError(f"expand({_type_name(v)}{{{list(v.shape)}}}, size={list(shape)}): "
                           f"the number of sizes provided ({len(shape)}) must be greater or "
                           f"equal to the number of dimensions in the tensor ({v.ndim})")
    lead = len(shape) - v.ndim
    for i, s in enumerate(v.shape):
        if s != 1 and s != shape[lead + i]:
            raise RuntimeError(f"The expanded size of the tensor ({shape[lead + i]}) must match "
                               f"the existing size ({s}) at non-singleton dimension {lead + i}."
                               f"  Target sizes: {list(shape)}.  Tensor sizes: {list(v.shape)}")
    return v


def _put_(self: Tensor, key, unique, value, accumulate, name=None) -> Tensor:
    """self[key] = value (or += with accumulate) in place; key is an advanced NumPy key."""
    if isinstance(value, Tensor):
        if value.dtype is not self.dtype:
            raise RuntimeError(f"Index put requires the source and destination dtypes match, got "
                               f"{_legacy(self.dtype)} for the destination and "
                               f"{_legacy(value.dtype)} for the source.")
        shape = _advanced_shape(self._data.shape, key)
        v = _strip_leading_ones(value, len(shape))
        if not _broadcasts_to(v.shape, shape):
            raise RuntimeError(f"shape mismatch: value tensor of shape {list(value.shape)} cannot "
                               f"be broadcast to indexing result of shape {list(shape)}")
        value = v
    if not _recording(self, value):
        v = value._data if isinstance(value, Tensor) else value
        if accumulate:
            _ufunc_at(backend.of(self._data), "add", self._data, key, v)
        else:
            self._data[key] = v
        self._vc[0] += 1
        return self
    return apply_inplace(self, IndexPut.apply(self, value, key, accumulate, unique, name=name))


def _broadcasts_to(src, dst) -> bool:
    if len(src) > len(dst):
        return False
    return all(s == 1 or s == d for s, d in zip(src[::-1], dst[::-1]))


Tensor.__getitem__ = _getitem
Tensor.__setitem__ = _setitem


# -- scalar values ----------------------------------------------------------------------------

_C_TYPES = {"float32": "float", "float64": "double", "float16": "c10::Half",
            "bfloat16": "c10::BFloat16", "int64": "int64_t", "int32": "int", "int16": "int16_t",
            "int8": "int8_t", "uint8": "uint8_t", "complex64": "c10::complex<float>",
            "complex128": "c10::complex<double>", "bool": "bool"}
# masked_fill prints the C++ type's name, which for some dtypes differs from the above
_C_NAMES = dict(_C_TYPES, int64="long int", int16="short int", int8="signed char",
                uint8="unsigned char")


def _scalar_for(dt: D.dtype, value):
    """A Python number checked to fit `dt` as torch checks it (floats truncate into ints)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool) or dt._kind == 0:
        return value
    if isinstance(value, complex) and dt._kind < 3:
        fits = value.imag == 0
        value = value.real
    else:
        fits = True
    try:
        if dt._kind == 1:
            info = np.iinfo(dt.np)
            fits = fits and math.isfinite(value) and info.min <= int(value) <= info.max
        elif dt._kind >= 2 and not isinstance(value, complex):
            fits = fits and not (math.isfinite(value) and abs(value) > _float_max(dt))
    except OverflowError:  # a Python int too big for a float
        fits = False
    if not fits:
        raise RuntimeError(f"value cannot be converted to type {_C_TYPES[dt.name]} without "
                           "overflow")
    return value


@functools.cache
def _float_max(dt: D.dtype) -> float:
    import ml_dtypes
    return float(ml_dtypes.finfo(dt.np).max)


def _number_or_0dim(op: str, value, dt: D.dtype):
    """A fill value: a checked number, or a 0-dim Tensor (cast to dt)."""
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError(f"{op} only supports a 0-dimensional value tensor, but got tensor "
                               f"with {value.ndim} dimension(s).")
        return cast(value, dt)
    return _scalar_for(dt, value)


# -- index tensors ----------------------------------------------------------------------------

def _index_array(index, ok, exc, message: str):
    """index's array after a dtype check (ok: the accepted NumPy dtypes)."""
    if not isinstance(index, Tensor):
        raise TypeError(f"expected Tensor as index argument, but got {type(index).__name__}")
    arr = index._data
    if arr.dtype not in ok:
        raise exc(message.format(_legacy(index.dtype)))
    return arr


_LONG = (np.dtype(np.int64),)
_INTS = (np.dtype(np.int64), np.dtype(np.int32))


def _vector_index(op, index, exc=IndexError):
    arr = index._data
    if arr.ndim > 1:
        raise exc(f"{op}(): Index is supposed to be a vector, but got dim: {arr.ndim} with type: "
                  f"{_legacy(index.dtype)} and size: {list(arr.shape)}")
    return arr.reshape(-1)


def _dim_key(dim: int, idx) -> tuple:
    return (slice(None),) * dim + (idx,)


def _check_in(idx, size, low, fmt, exc) -> None:
    bad = _first_out_of_bounds(idx, low, size)
    if bad is not None:
        raise exc(fmt.format(bad))


# -- gather / scatter -------------------------------------------------------------------------

@method()
def gather(input: Tensor, dim: int, index: Tensor, *, sparse_grad: bool = False,
           out=None) -> Tensor:
    """out[i][j] = input[index[i][j]][j] (dim=0): values picked along `dim`."""
    idx = _index_array(index, _INTS, RuntimeError, "gather(): Expected dtype int32/int64 for index")
    dim = wrap_dim(dim, input.ndim)
    _check_grid_index(input, idx, dim, "Index tensor must have the same number of dimensions "
                      "as input tensor", None)
    key = _grid_key(backend.of(idx), idx, dim) if input.ndim else (idx,)
    return finish(Index.apply(_at_least_1d(input), key, False, name="GatherBackward0"), out)


def _check_grid_index(input, idx, dim, ndim_message, src):
    """gather/scatter's rules: same ndim, index no larger than self (and src), in bounds."""
    shape = input._data.shape
    if idx.ndim != len(shape) and not (idx.ndim <= 1 and len(shape) <= 1):
        raise RuntimeError(ndim_message)
    for d in range(idx.ndim):
        too_big = d != dim and d < len(shape) and idx.shape[d] > shape[d]
        if too_big or (src is not None and idx.shape[d] > src.shape[d]):
            if src is None:
                raise RuntimeError(f"Size does not match at dimension {d} expected index "
                                   f"{list(idx.shape)} to be no larger than self {list(shape)} "
                                   f"apart from dimension {dim}")
            raise RuntimeError(f"Expected index {list(idx.shape)} to be no larger than self "
                               f"{list(shape)} apart from dimension {dim} and to be no larger "
                               f"size than src {list(src.shape)}")
    size = shape[dim] if shape else 1
    _check_in(idx, size, 0, f"index {{}} is out of bounds for dimension {dim} with size {size}",
              RuntimeError)


def _scatter_src(input, dim, index, src, op):
    """The grid key and src cut to index's shape, after torch's checks."""
    idx = _index_array(index, _LONG, RuntimeError, op + "(): Expected dtype int64 for index")
    dim = wrap_dim(dim, input.ndim)
    if isinstance(src, Tensor):
        if src.dtype is not input.dtype:
            raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
        if src.ndim != idx.ndim:
            raise RuntimeError("Index tensor must have the same number of dimensions as src "
                               "tensor")
    _check_grid_index(input, idx, dim, "Index tensor must have the same number of dimensions "
                      "as self tensor", src if isinstance(src, Tensor) else None)
    if isinstance(src, Tensor) and src.shape != tuple(idx.shape):
        src = BasicIndex.apply(src, tuple((0, s, 1) for s in idx.shape), name="SliceBackward0")
    if input.ndim == 0:
        return (idx.reshape(-1),), _at_least_1d(src) if isinstance(src, Tensor) else src
    return _grid_key(backend.of(idx), idx, dim), src


def _scattered(op, input, *args, **params):
    """Runs a scatter op; 0-dim input runs as a 1-element vector (torch allows it)."""
    if input.ndim:
        return op.apply(input, *args, **params)
    out = op.apply(_at_least_1d(input), *args, **params)
    return BasicIndex.apply(out, (0,), name="SelectBackward0")


@method()
def scatter(input: Tensor, dim: int, index: Tensor, src=None, *, value=None, reduce=None,
            out=None) -> Tensor:
    """A copy of input with src (or a number) written at index along dim."""
    if src is None:
        src = value
    if reduce is not None:
        if reduce not in ("add", "multiply"):
            raise RuntimeError("reduce argument must be either add or multiply.")
        if isinstance(src, Tensor):
            warnings.warn("The reduce argument of torch.scatter with Tensor src is deprecated and "
                          "will be removed in a future PyTorch release. Use torch.scatter_reduce "
                          "instead for more reduction options.", UserWarning, stacklevel=2)
        else:
            src = input.new_full(tuple(index.shape), src)
        how = "sum" if reduce == "add" else "prod"
        return finish(scatter_reduce(input, dim, index, src, how), out)
    key, src = _scatter_src(input, dim, index, src, "scatter")
    if not isinstance(src, Tensor):
        src = _scalar_for(input.dtype, src)
    name = "ScatterBackward0" if isinstance(src, Tensor) else "ScatterBackward1"
    return finish(_scattered(IndexPut, input, src, key, False, False, name=name), out)


@method()
def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor, *, out=None) -> Tensor:
    """A copy of input with src added at index along dim (repeats accumulate)."""
    key, src = _scatter_src(input, dim, index, src, "scatter")
    return finish(_scattered(IndexPut, input, src, key, True, False, name="ScatterAddBackward0"),
                  out)


@method()
def scatter_reduce(input: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str, *,
                   include_self: bool = True, out=None) -> Tensor:
    """Reduces src into input at index along dim: 'sum', 'prod', 'mean', 'amax', 'amin'."""
    if reduce not in _REDUCE_UFUNC:
        raise RuntimeError("reduce argument must be either sum, prod, mean, amax or amin, got "
                           f"{reduce}")
    key, src = _scatter_src(input, dim, index, src, "scatter_reduce")
    return finish(_scattered(ScatterReduce, input, src, key, reduce, include_self), out)


# -- index_* along one dim --------------------------------------------------------------------

@method()
def index_select(input: Tensor, dim: int, index: Tensor, *, out=None) -> Tensor:
    """The slices of input at `index` along dim."""
    _index_array(index, _INTS, RuntimeError, "index_select(): Expected dtype int32 or int64 for "
                 "index")
    if index.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    dim = wrap_dim(dim, input.ndim)
    idx = index._data.reshape(-1)
    size = input.shape[dim] if input.ndim else 1
    _check_in(idx, size, -size, "index out of range in self", IndexError)
    if input.ndim == 0:
        input = BasicIndex.apply(input, (None,), name="UnsqueezeBackward0")
        return finish(Index.apply(input, (idx.reshape(()),), False,
                                  name="IndexSelectBackward0"), out)
    return finish(Index.apply(input, _dim_key(dim, idx), False, name="IndexSelectBackward0"),
                  out)


def _index_source(op, input, dim, index, source, *, negative_ok, exc, ok=_INTS,
                  dtype_msg=None):
    """index_add / index_copy's checks; returns the key."""
    _index_array(index, ok, RuntimeError, dtype_msg or (
        op + "(): Expected dtype int32/int64 for index but got: {}"))
    dim = wrap_dim(dim, input.ndim)
    idx = _vector_index(op, index)
    if source.dtype is not input.dtype:
        raise RuntimeError(f"{op}(): self ({_legacy(input.dtype)}) and source "
                           f"({_legacy(source.dtype)}) must have the same scalar type")
    n = source.shape[dim] if source.ndim else 1
    if n != idx.size:
        add = op == "index_add_"  # the two ops word it slightly differently
        raise exc(f"{op}(): Number of indices ({idx.size}) should be equal to source.size(dim)"
                  + (f": ({n}), for dim: {dim}" if add else f" ({n})"))
    for d in range(input.ndim):
        if d != dim and (source.ndim != input.ndim or source.shape[d] != input.shape[d]):
            raise RuntimeError("source tensor shape must match self tensor shape, excluding the "
                               f"specified dimension. Got self.shape = {list(input.shape)} "
                               f"source.shape = {list(source.shape)}")
    size = input.shape[dim] if input.ndim else 1
    prefix = "" if op == "index_add_" else op + "(): "
    _check_in(idx, size, -size if negative_ok else 0,
              prefix + f"index {{}} is out of bounds for dimension {dim} with size {size}", exc)
    return _dim_key(dim, idx) if input.ndim else ()


@method()
def index_add(input: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha=1,
              out=None) -> Tensor:
    """A copy of input with alpha * source added at index along dim (repeats accumulate)."""
    key = _index_source("index_add_", input, dim, index, source, negative_ok=False,
                        exc=RuntimeError)
    if alpha != 1:
        source = source * alpha
    return finish(IndexPut.apply(input, source, key, True, False, name="IndexAddBackward0"), out)


@method()
def index_copy(input: Tensor, dim: int, index: Tensor, source: Tensor, *, out=None) -> Tensor:
    """A copy of input with the slices of source written at index along dim."""
    key = _index_source("index_copy_", input, dim, index, source, negative_ok=False,
                        exc=IndexError, ok=_LONG,
                        dtype_msg="index_copy_(): Expected a long tensor for index, but got {}")
    return finish(IndexPut.apply(input, source, key, False, False, name="IndexCopyBackward0"),
                  out)


@method()
def index_fill(input: Tensor, dim: int, index: Tensor, value) -> Tensor:
    """A copy of input with value (a number or 0-dim tensor) at index along dim."""
    _index_array(index, _LONG, IndexError, "index_fill_(): Expected dtype int64 for index.")
    if index.ndim > 1:
        raise RuntimeError("Index has to be a vector/scalar")
    dim = wrap_dim(dim, input.ndim)
    idx = index._data.reshape(-1)
    size = input.shape[dim] if input.ndim else 1
    _check_in(idx, size, -size, f"index {{}} is out of bounds for dimension {dim} with size "
              f"{size}", IndexError)
    value = _number_or_0dim("index_fill_", value, input.dtype)
    name = "IndexFillBackward1" if isinstance(value, Tensor) else "IndexFillBackward0"
    key = _dim_key(dim, idx) if input.ndim else ()
    return IndexPut.apply(input, value, key, False, False, name=name)


def _indices_key(self: Tensor, indices) -> tuple:
    """index_put's tuple of index tensors as an advanced key on self."""
    if not isinstance(indices, (tuple, list)):
        raise TypeError(f"index_put(): argument 'indices' must be tuple of Tensors, not "
                        f"{type(indices).__name__}")
    xp = backend.of(self._data)
    adv, dim = [], 0
    for i, t in enumerate(indices):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 1, but got "
                            f"{type(t).__name__}")
        if t.ndim:
            kind, arr = _classify_array(t._data, xp)
        else:  # unlike in x[...], a 0-dim index here is an array broadcasting with the rest
            kind = _MASK if t.dtype is D.bool else _ARRAY
            if t._data.dtype not in _INTS + (np.dtype(bool),):
                raise IndexError("tensors used as indices must be long, int, byte or bool "
                                 "tensors")
            arr = _on(xp, t._data)
        adv.append((dim, kind, arr))
        dim += arr.ndim if kind == _MASK else 1
    if dim > self.ndim:
        raise IndexError(f"too many indices for tensor of dimension {self.ndim} (got {dim})")
    if not adv:
        raise RuntimeError("index_put(): expected at least one index tensor")
    return _advanced_key(adv, self._data.shape)


@method()
def index_put_(input: Tensor, indices, values: Tensor, accumulate: bool = False) -> Tensor:
    """input[indices] = values (or += with accumulate), in place."""
    key, unique = _indices_key(input, indices)
    if not isinstance(values, Tensor):
        raise TypeError(f"index_put_(): argument 'values' must be Tensor, not "
                        f"{type(values).__name__}")
    return _put_(input, key, unique, values, accumulate)


@method()
def index_put(input: Tensor, indices, values: Tensor, accumulate: bool = False) -> Tensor:
    """A copy of input with values written (or added) at indices."""
    key, unique = _indices_key(input, indices)
    if not isinstance(values, Tensor):
        raise TypeError(f"index_put(): argument 'values' must be Tensor, not "
                        f"{type(values).__name__}")
    if values.dtype is not input.dtype:
        raise RuntimeError(f"Index put requires the source and destination dtypes match, got "
                           f"{_legacy(input.dtype)} for the destination and "
                           f"{_legacy(values.dtype)} for the source.")
    shape = _advanced_shape(input._data.shape, key)
    v = _strip_leading_ones(values, len(shape))
    if not _broadcasts_to(v.shape, shape):
        raise RuntimeError(f"shape mismatch: value tensor of shape {list(values.shape)} cannot "
                           f"be broadcast to indexing result of shape {list(shape)}")
    return IndexPut.apply(input, v, key, accumulate, unique)


# -- masks ------------------------------------------------------------------------------------

def _bool_mask(op: str, mask: Tensor):
    if not isinstance(mask, Tensor) or mask.dtype is not D.bool:
        got = _C_NAMES[mask.dtype.name] if isinstance(mask, Tensor) else \
            type(mask).__name__
        if op == "masked_select":
            raise RuntimeError("masked_select: expected BoolTensor for mask")
        raise RuntimeError(f"{op} only supports boolean masks, but got mask with dtype {got}")
    return mask._data


@method()
def masked_fill(input: Tensor, mask: Tensor, value) -> Tensor:
    """value where mask is True, input elsewhere (mask broadcasts)."""
    m = _bool_mask("masked_fill_", mask)
    broadcast_shapes_or_raise(input.shape, m.shape)
    value = _number_or_0dim("masked_fill_", value, input.dtype)
    return MaskedFill.apply(input, m, value)


@method()
def masked_fill_(self: Tensor, mask: Tensor, value) -> Tensor:
    """In-place masked_fill; mask must broadcast to self's shape."""
    m = _bool_mask("masked_fill_", mask)
    shape = broadcast_shapes_or_raise(self.shape, m.shape)
    value = _number_or_0dim("masked_fill_", value, self.dtype)
    if shape == tuple(self.shape) and not _recording(self, value):
        xp = backend.of(self._data)
        xp.copyto(self._data, _arr(value), where=m, casting="unsafe")
        self._vc[0] += 1
        return self
    return apply_inplace(self, MaskedFill.apply(self, m, value))


@method()
def masked_select(input: Tensor, mask: Tensor, *, out=None) -> Tensor:
    """The elements of input where mask is True (both broadcast), as a 1-D tensor."""
    m = _bool_mask("masked_select", mask)
    return finish(MaskedSelect.apply(input, m), out)


@method()
def masked_scatter(input: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    """A copy of input with source's leading elements written, in order, where mask is True."""
    m = _bool_mask("masked_scatter_", mask)
    if source.dtype is not input.dtype:
        raise RuntimeError(f"masked_scatter: expected self and source to have same dtypes but "
                           f"got{_legacy(input.dtype)} and {_legacy(source.dtype)}")
    return MaskedScatter.apply(input, m, source)


# -- flat indices -----------------------------------------------------------------------------

def _flat_key(op: str, input: Tensor, index: Tensor):
    """A key addressing input's elements in row-major order; negatives count from the end."""
    idx = _index_array(index, _LONG, RuntimeError,
                       op + "(): Expected a long tensor for index, but got {}")
    n = input.numel()
    bad = _first_out_of_bounds(idx, -n, n)
    if bad is not None:
        raise IndexError(f"out of range: tried to access index {bad} on a tensor of {n} "
                         "elements.")
    xp = backend.of(idx)
    idx = xp.where(idx < 0, idx + n, idx)
    return xp.unravel_index(idx, input.shape) if input.ndim else (idx * 0,)


def _at_least_1d(t: Tensor) -> Tensor:
    return t if t.ndim else BasicIndex.apply(t, (None,), name="UnsqueezeBackward0")


@method()
def take(input: Tensor, index: Tensor) -> Tensor:
    """input treated as 1-D, read at index; the result has index's shape."""
    key = _flat_key("take", input, index)
    return Index.apply(_at_least_1d(input), key, False, name="TakeBackward0")


@method()
def put(input: Tensor, index: Tensor, source: Tensor, accumulate: bool = False) -> Tensor:
    """A copy of input (treated as 1-D) with source written (or added) at index."""
    key = _flat_key("put_", input, index)
    if source.numel() != index.numel():
        raise IndexError("put_(): Expected source and index to have the same number of "
                         f"elements, but got source.numel() = {source.numel()}, "
                         f"index.numel() = {index.numel()}")
    if source.shape != index.shape:
        source = source.reshape(index.shape)
    return _scattered(IndexPut, input, source, key, accumulate, False, name="PutBackward0")


@method()
def take_along_dim(input: Tensor, indices: Tensor, dim=None, *, out=None) -> Tensor:
    """Values of input at indices along dim (flattened when dim is None); they broadcast."""
    idx = _index_array(indices, _LONG, RuntimeError,
                       "torch.take_along_dim(): dtype of indices should be Long but got {}")
    if dim is not None:
        dim = wrap_dim(dim, input.ndim)
        if idx.ndim != input.ndim:
            raise RuntimeError("torch.take_along_dim(): input and indices should have the same "
                               f"number of dimensions, but got {input.ndim} dimensions for "
                               f"input, and {idx.ndim} dimensions for indices")
    size = input.shape[dim] if dim is not None and input.ndim else max(input.numel(), 1)
    _check_in(idx, size, 0, f"index {{}} is out of bounds for dimension {dim or 0} with size "
              f"{size}", RuntimeError)
    return finish(TakeAlongDim.apply(input, idx, dim), out)


# -- nonzero / searchsorted -------------------------------------------------------------------

@method()
def nonzero(input: Tensor, *, out=None, as_tuple: bool = False):
    """Indices of nonzero elements: an (n, ndim) int64 tensor, or a tuple of 1-D tensors."""
    arr = input._data
    xp = backend.of(arr)
    found = xp.nonzero(arr.reshape(1) if arr.ndim == 0 else arr)
    if as_tuple:
        return tuple(Tensor._make(i.astype(np.int64, copy=False)) for i in found)
    if arr.ndim == 0:
        result = xp.zeros((found[0].size, 0), dtype=np.int64)
    else:
        result = xp.stack(found, axis=1).astype(np.int64, copy=False)
    return finish(Tensor._make(result), out)


@method()
def argwhere(input: Tensor) -> Tensor:
    """nonzero(input): the (n, ndim) indices of nonzero elements."""
    return nonzero(input)


def _side(right: bool, side) -> str:
    if side is None:
        return "right" if right else "left"
    if side not in ("left", "right"):
        raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but got "
                           f"{side}")
    if right and side == "left":
        raise RuntimeError("torch.searchsorted(): side and right can't be set to opposites, got "
                           "side of left while right was True")
    return side


def searchsorted(sorted_sequence: Tensor, input, *, out_int32: bool = False,
                 right: bool = False, side=None, out=None, sorter=None) -> Tensor:
    """Where `input` values would go in the innermost dim of sorted_sequence to keep it sorted."""
    side = _side(right, side)
    check_device(sorted_sequence, input, sorter)
    seq = sorted_sequence._data
    xp = backend.of(seq)
    if seq.ndim == 0:
        raise RuntimeError("torch.searchsorted(): boundaries tensor should have positive "
                           "dimension, but got 0 dimension")
    if isinstance(input, Tensor):
        values = input._data
    else:
        if seq.ndim != 1:
            raise RuntimeError("torch.searchsorted(): input value can be a scalar only when "
                               f"boundaries tensor dimension is 1, but we got boundaries tensor "
                               f"dim({seq.ndim}) and input value's dim(0) numel(1)")
        values = xp.asarray(input)
    if seq.ndim > 1 and seq.shape[:-1] != values.shape[:-1]:
        raise RuntimeError("torch.searchsorted(): boundaries tensor should be 1 dimension or the "
                           "first N-1 dimensions of boundaries tensor and input value tensor "
                           f"must match, but we got boundaries tensor {list(seq.shape)} and "
                           f"input value tensor {list(values.shape)}")
    if sorter is not None:
        if tuple(sorter.shape) != seq.shape:
            raise RuntimeError("torch.searchsorted(): boundary and sorter must have the same "
                               f"size, but got boundary tensor {list(seq.shape)}and got sorter "
                               f"tensor {list(sorter.shape)}")
        seq = xp.take_along_axis(seq, sorter._data, axis=-1)
    if seq.ndim == 1:
        result = xp.searchsorted(seq, values, side=side)
    else:  # one search per row of boundaries
        rows = seq.reshape(-1, seq.shape[-1])
        vals = values.reshape(rows.shape[0], -1)
        result = xp.stack([xp.searchsorted(r, v, side=side) for r, v in zip(rows, vals)])
        result = result.reshape(values.shape)
    result = xp.asarray(result).astype(np.int32 if out_int32 else np.int64)
    return finish(Tensor._make(result), out)


def bucketize(input, boundaries: Tensor, *, out_int32: bool = False, right: bool = False,
              out=None) -> Tensor:
    """The bucket of each input value: boundaries[i-1] < x <= boundaries[i] (right=False)."""
    if boundaries.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({boundaries.ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right, out=out)


# -- fill / copy ------------------------------------------------------------------------------

@method()
def fill_(self: Tensor, value) -> Tensor:
    """Fills self with value (a number or a 0-dim tensor), in place."""
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError("fill_ only supports 0-dimension value tensor but got tensor with "
                               f"{value.ndim} dimensions.")
        return _copy_into(self, value, "FillBackward3")
    value = _scalar_for(self.dtype, value)
    if not _recording(self):
        self._data.fill(value)
        self._vc[0] += 1
        return self
    return apply_inplace(self, Fill.apply(self, value, name="FillBackward2"))


def fill(input: Tensor, value) -> Tensor:
    """A tensor like input filled with value (a number or a 0-dim tensor)."""
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError("fill only supports 0-dimension value tensor but got tensor with "
                               f"{value.ndim} dimensions.")
        return Copy.apply(input, cast(value, input.dtype), name="FillBackward1")
    return Fill.apply(input, _scalar_for(input.dtype, value), name="FillBackward0")


@method()
def zero_(self: Tensor) -> Tensor:
    """Fills self with zeros, in place."""
    if not _recording(self):
        self._data.fill(0)
        self._vc[0] += 1
        return self
    return apply_inplace(self, Fill.apply(self, 0, name="ZeroBackward0"))


@method()
def copy_(self: Tensor, src: Tensor, non_blocking: bool = False) -> Tensor:
    """Copies src into self (broadcasting, casting to self's dtype and device), in place."""
    if not isinstance(src, Tensor):
        raise TypeError(f"copy_(): argument 'src' (position 1) must be Tensor, not "
                        f"{type(src).__name__}")
    shape = broadcast_shapes_or_raise(self.shape, src.shape)
    if shape != tuple(self.shape):
        raise RuntimeError(f"output with shape {list(self.shape)} doesn't match the broadcast "
                           f"shape {list(shape)}")
    return _copy_into(self, src, None)


def _copy_into(self: Tensor, src: Tensor, name) -> Tensor:
    if src.device != self.device:
        src = src.to(self.device)
    if not _recording(self, src):
        xp = backend.of(self._data)
        xp.copyto(self._data, src._data, casting="unsafe")
        self._vc[0] += 1
        return self
    return apply_inplace(self, Copy.apply(self, cast(src, self.dtype), name=name))


@method()
def fill_diagonal_(self: Tensor, fill_value, wrap: bool = False) -> Tensor:
    """Fills the main diagonal (all dims equal, or a 2-D matrix) with fill_value, in place."""
    if self.ndim < 2:
        raise RuntimeError("dimensions must larger than 1")
    shape = self.shape
    if self.ndim > 2 and any(s != shape[0] for s in shape):
        raise RuntimeError("all dimensions of input must be of equal length")
    rows, cols = shape[0], shape[1]
    if self.ndim > 2 or rows <= cols or not wrap:
        fill_(_Diagonal.apply(self, min(shape)), fill_value)
        return self
    # wrap: a tall matrix restarts its diagonal every cols + 1 rows (NumPy's fill_diagonal)
    for start in range(0, rows, cols + 1):
        block = BasicIndex.apply(self, ((start, min(start + cols, rows), 1),),
                                 name="SliceBackward0")
        fill_(_Diagonal.apply(block, min(block.shape)), fill_value)
    return self


# -- in-place variants -------------------------------------------------------------------------

for _fn in (scatter, scatter_add, scatter_reduce, index_add, index_copy, index_fill,
            masked_scatter, put):
    setattr(Tensor, _fn.__name__ + "_", inplace_variant(_fn))
