"""Advanced indexing: tensor[index tensors / masks], gather, index_select, take_along_dim,
masked_fill, scatter and embedding lookups."""

from __future__ import annotations

import numpy as np

from ..nn._functional import sparse
from ..ops import indexing as ix
from . import _hooks as hk
from ._registry import emits
from ._symbolic import broadcast
from ._trace import Const
from .errors import UnsupportedOperatorError


def _is_full(entry) -> bool:
    return isinstance(entry, slice) and entry == slice(None)


def _grid_dim(key) -> int:
    """Which entry of a gather/scatter grid key holds the index (the others are aranges)."""
    for d, entry in enumerate(key):
        if not isinstance(entry, Const):
            return d
    for d, entry in enumerate(key):  # all constant: the one that is not an arange grid
        arr = np.asarray(entry.array)
        grid = np.arange(arr.shape[d]).reshape((1,) * d + (-1,) + (1,) * (arr.ndim - d - 1))
        if arr.shape[d] and not np.array_equal(np.broadcast_to(grid, arr.shape), arr):
            return d
    return 0


def _index_value(g, ref) -> str:
    """An index array as an int64 graph value."""
    if isinstance(ref, Const):
        return g.const(np.asarray(ref.array, dtype=np.int64))
    return g.typed(ref, np.int64)


@emits(ix.Index)
def _index(g, rec):
    src, key = rec.args[0], rec.args[1]
    name = rec.args[3] if len(rec.args) > 3 else rec.params.get("name")
    x = g.value(src)
    if name == "GatherBackward0" and len(key) == len(src.shape) and len(key) > 1:
        d = _grid_dim(key)
        return g.op("GatherElements", x, _index_value(g, key[d]), axis=d)
    return advanced_index(g, src, x, key)


def advanced_index(g, src, x: str, key) -> str:
    """NumPy advanced indexing by a key of full slices and index (or mask) arrays."""
    entries = [(d, e) for d, e in enumerate(key) if not _is_full(e)]
    if any(isinstance(e, slice) for _, e in entries):
        raise UnsupportedOperatorError("indexing with partial slices mixed with index tensors",
                                       g.opset)
    if len(entries) == 1 and np.dtype(entries[0][1].dtype) == np.bool_:
        return _mask_index(g, src, x, *entries[0])
    if any(np.dtype(e.dtype) == np.bool_ for _, e in entries):
        raise UnsupportedOperatorError("indexing with a boolean mask and index tensors together",
                                       g.opset)
    if len(entries) == 1:
        d, e = entries[0]
        return g.op("Gather", x, _index_value(g, e), axis=d)
    return _gather_nd(g, src, x, entries)


def _mask_index(g, src, x: str, d: int, mask) -> str:
    """x[..., mask] (mask over dims d..d+m-1): flatten those dims and compress by the mask."""
    m = len(mask.shape)
    shape = list(src.shape)
    flat = g.op("Reshape", x, g.shape_vec(shape[:d] + [-1] + shape[d + m:])) if m != 1 else x
    cond = g.op("Reshape", g.typed(mask, np.bool_), g.ints([-1]))
    return g.op("Compress", flat, cond, axis=d)


def _gather_nd(g, src, x: str, entries) -> str:
    """Several index arrays: broadcast and stack them, move their dims first, GatherND, and
    put the result dims where NumPy does (in place when the indexed dims are adjacent)."""
    ndim = len(src.shape)
    dims = [d for d, _ in entries]
    bshape = list(broadcast(*[tuple(e.shape) for _, e in entries]))
    index = []
    for _, e in entries:
        idx = _index_value(g, e)
        if list(e.shape) != bshape:
            idx = g.op("Expand", idx, g.shape_vec(bshape))
        index.append(g.unsqueeze(idx, [len(bshape)]))
    stacked = g.op("Concat", *index, axis=-1)
    rest = [d for d in range(ndim) if d not in dims]
    perm = dims + rest
    if perm != list(range(ndim)):
        x = g.op("Transpose", x, perm=perm)
    out = g.op("GatherND", x, stacked)
    adjacent = dims == list(range(dims[0], dims[0] + len(dims)))
    lead = dims[0]
    if adjacent and lead:
        b = len(bshape)
        n_out = b + len(rest)
        order = list(range(b, b + lead)) + list(range(b)) + list(range(b + lead, n_out))
        out = g.op("Transpose", out, perm=order)
    return out


@emits(ix.TakeAlongDim)
def _take_along_dim(g, rec):
    src, idx, dim = rec.args[0], rec.args[1], rec.args[2]
    x, i = g.value(src), _index_value(g, idx)
    if dim is None:
        x, i, dim = g.op("Reshape", x, g.ints([-1])), g.op("Reshape", i, g.ints([-1])), 0
        return g.op("GatherElements", x, i, axis=0)
    xs, ids = list(src.shape), list(idx.shape)
    common = list(broadcast(tuple(xs[:dim] + [1] + xs[dim + 1:]),
                            tuple(ids[:dim] + [1] + ids[dim + 1:])))
    want_x = common[:dim] + [xs[dim]] + common[dim + 1:]
    want_i = common[:dim] + [ids[dim]] + common[dim + 1:]
    if want_x != xs:
        x = g.op("Expand", x, g.shape_vec(want_x))
    if want_i != ids:
        i = g.op("Expand", i, g.shape_vec(want_i))
    return g.op("GatherElements", x, i, axis=dim)


@emits(ix.MaskedFill)
def _masked_fill(g, rec):
    src, mask, value = rec.args[0], rec.args[1], rec.args[2]
    return g.op("Where", g.typed(mask, np.bool_), g.typed(value, src.dtype), g.value(src))


@emits(ix.IndexPut)
def _index_put(g, rec):
    """scatter / scatter_add, and tensor[mask] = v or tensor[index] = v (index_put_)."""
    src, v, key, accumulate = rec.args[0], rec.args[1], rec.args[2], rec.args[3]
    name = rec.args[5] if len(rec.args) > 5 else rec.params.get("name")
    x = g.value(src)
    values = g.typed(v, src.dtype)
    if accumulate:
        g.require(16, "index_put with accumulate=True")
    if name in ("ScatterBackward0", "ScatterBackward1", "ScatterAddBackward0") and \
            len(key) == len(src.shape):
        d = _grid_dim(key)
        shape = list(key[d].shape)
        if not hasattr(v, "shape") or list(v.shape) != shape:
            values = g.op("Expand", values, g.shape_vec(shape))
        return g.op("ScatterElements", x, _index_value(g, key[d]), values, axis=d,
                    reduction="add" if accumulate else None)
    entries = [(d, e) for d, e in enumerate(key) if not _is_full(e)]
    if len(entries) == 1 and np.dtype(entries[0][1].dtype) == np.bool_:
        return _put_by_mask(g, src, x, values, *entries[0], accumulate)
    if len(entries) == 1 and entries[0][0] == 0:
        idx = entries[0][1]
        shape = list(idx.shape) + list(src.shape[1:])
        if not hasattr(v, "shape") or list(v.shape) != shape:
            values = g.op("Expand", values, g.shape_vec(shape))
        return g.op("ScatterND", x, g.unsqueeze(_index_value(g, idx), [len(idx.shape)]),
                    values, reduction="add" if accumulate else None)
    raise UnsupportedOperatorError("index_put (tensor[index] = value) with this index",
                                   g.opset)


def _put_by_mask(g, src, x: str, values: str, d: int, mask, accumulate) -> str:
    """x[..., mask] = v for a v that broadcasts over the dims after the mask's."""
    shape = [1] * d + list(mask.shape) + [1] * (len(src.shape) - d - len(mask.shape))
    cond = g.op("Reshape", g.typed(mask, np.bool_), g.shape_vec(shape))
    new = g.op("Add", x, values) if accumulate else values
    return g.op("Where", cond, new, x)


@emits(sparse._Embedding)
def _embedding(g, rec):
    weight, indices = rec.args[0], rec.args[1]
    return g.op("Gather", g.value(weight), _index_value(g, indices), axis=0)


@emits(hk.ViewWrite)
def _view_write(g, rec):
    """base with a view's elements replaced: a scatter at their flat positions."""
    base, update, positions = rec.args
    flat = g.op("Reshape", g.value(base), g.ints([-1]))
    index = g.const(np.asarray(positions.array, dtype=np.int64).reshape(-1, 1))
    values = g.op("Reshape", g.typed(update, base.dtype), g.ints([-1]))
    return g.op("Reshape", g.op("ScatterND", flat, index, values), g.shape_vec(base.shape))


@emits(ix.Fill)
def _fill(g, rec):
    """fill_/zero_ as an op: the value in the shape of the input."""
    src, value = rec.args[0], rec.args[1]
    return g.op("Expand", g.typed(value, src.dtype), g.op("Shape", g.value(src)))


@emits(ix.Copy)
def _copy(g, rec):
    """copy_ as an op: src cast to dst's dtype and broadcast to its shape."""
    dst, src = rec.args[0], rec.args[1]
    return g.op("Expand", g.typed(src, dst.dtype), g.op("Shape", g.value(dst)))
