"""Shape ops: reshape, permute, squeeze, expand, slicing, split, cat/stack, padding, and
tensors made from sizes (zeros/ones/full/arange)."""

from __future__ import annotations

import numpy as np

from ..nn._functional import padding as pad
from ..ops import indexing as ix
from ..ops import join
from ..ops import shape as sh
from . import _hooks as hk
from ._graph import INT64_MAX, elem_type
from ._registry import emits
from ._symbolic import SymInt, concrete, is_static, require_static
from .errors import SymbolicValueError

# -- reshaping ----------------------------------------------------------------------------

def reshape(g, x: str, in_shape, target) -> str:
    """Reshape to `target` (ints and SymInts), keeping the sizes that follow dynamic axes
    symbolic: a dim equal to the input's at the same place is copied (0), a single
    remaining dynamic dim is inferred (-1), and only otherwise computed from shapes."""
    target = list(target)
    if any(t == 0 for t in target if is_static(t)):  # a literal 0 would copy a dim
        g.require(14, "reshape to an empty shape")
        return g.op("Reshape", x, g.shape_vec(target), allowzero=1)
    if all(is_static(t) for t in target):
        return g.op("Reshape", x, g.ints(target))
    dims = []
    for i, t in enumerate(target):
        same = i < len(in_shape) and isinstance(t, SymInt) and in_shape[i] == t
        dims.append(0 if same else t)
    dynamic = [i for i, d in enumerate(dims) if isinstance(d, SymInt)]
    if len(dynamic) == 1:
        dims[dynamic[0]] = -1
    return g.op("Reshape", x, g.shape_vec(dims))


@emits(sh.View, sh.UnsafeView)
def _view(g, rec):
    src = rec.args[0]
    return reshape(g, g.value(src), src.shape, rec.args[1])


@emits(sh.Permute)
def _permute(g, rec):
    return g.op("Transpose", g.value(rec.args[0]), perm=[int(d) for d in rec.args[1]])


@emits(sh.Transpose, sh.T)
def _transpose(g, rec):
    src = rec.args[0]
    n = len(src.shape)
    d0, d1 = rec.args[1], rec.args[2]
    if n < 2 or d0 == d1:
        return g.op("Identity", g.value(src))
    perm = list(range(n))
    perm[d0], perm[d1] = perm[d1], perm[d0]
    return g.op("Transpose", g.value(src), perm=perm)


@emits(sh.Squeeze)
def _squeeze(g, rec):
    dims = list(rec.args[1])
    x = g.value(rec.args[0])
    return g.squeeze(x, dims) if dims else g.op("Identity", x)


@emits(sh.Unsqueeze)
def _unsqueeze(g, rec):
    return g.unsqueeze(g.value(rec.args[0]), [int(rec.args[1])])


def expand(g, x: str, in_shape, target) -> str:
    """Expand to `target`; dims not being broadcast are given as 1 (Expand broadcasts both
    ways), so only a dynamic size that a size-1 dim grows to is computed."""
    lead = len(target) - len(in_shape)
    dims = []
    for i, t in enumerate(target):
        have = in_shape[i - lead] if i >= lead else 1
        dims.append(1 if have == t else t)
    return g.op("Expand", x, g.shape_vec(dims))


@emits(sh.Expand)
def _expand(g, rec):
    src = rec.args[0]
    return expand(g, g.value(src), src.shape, rec.args[1])


# -- slicing ------------------------------------------------------------------------------

def slice_axes(g, x: str, in_shape, cuts) -> str:
    """Slices x by cuts = [(axis, start, stop, step)], dropping no-op cuts."""
    cuts = [c for c in cuts if not (c[1] == 0 and c[3] == 1 and c[2] == in_shape[c[0]])]
    if not cuts:
        return x
    axes = [c[0] for c in cuts]
    starts = [c[1] for c in cuts]
    # a stop at the full (possibly dynamic) size reads to the end
    ends = [INT64_MAX if c[2] == in_shape[c[0]] else c[2] for c in cuts]
    steps = [c[3] for c in cuts]
    return g.op("Slice", x, g.shape_vec(starts), g.shape_vec(ends), g.ints(axes), g.ints(steps))


def select(g, x: str, axis: int, index) -> str:
    """x[..., index, ...] along axis (the dim removed)."""
    if isinstance(index, SymInt):
        idx = g.squeeze(g.sym(index), [0])
    else:
        idx = g.const(np.asarray(index, dtype=np.int64))
    return g.op("Gather", x, idx, axis=axis)


def _triple(s: slice, size):
    """A slice object's (start, stop, step) clamped to `size` (static slices only)."""
    if all(is_static(v) for v in (s.start, s.stop, s.step)) and is_static(size):
        return s.indices(size)
    start = 0 if s.start is None else s.start
    stop = size if s.stop is None else s.stop
    return start, stop, 1 if s.step is None else s.step


def index_basic(g, src, key) -> str:
    """x[key] for a key of ints, None, slice objects and (start, stop, step) triples."""
    x = x0 = g.value(src)
    shape = src.shape
    cuts, picks, news = [], [], []
    dim = out = 0
    for k in key:
        if k is None:
            news.append(out)
            out += 1
        elif isinstance(k, (tuple, slice)):
            start, stop, step = k if isinstance(k, tuple) else _triple(k, shape[dim])
            if isinstance(step, int) and step <= 0:
                raise SymbolicValueError("slicing with a non-positive step")
            cuts.append((dim, start, stop, step))
            dim, out = dim + 1, out + 1
        else:
            picks.append((dim, k))
            dim += 1
    x = slice_axes(g, x, shape, cuts)
    for axis, index in reversed(picks):
        x = select(g, x, axis, index)
    if news:
        x = g.unsqueeze(x, news)
    return x if x != x0 else g.op("Identity", x)


@emits(ix.BasicIndex)
def _basic_index(g, rec):
    return index_basic(g, rec.args[0], rec.args[1])


@emits(sh.Slice, sh.Select)
def _slice(g, rec):
    return index_basic(g, rec.args[0], rec.args[1])


@emits(sh.Split, sh.SplitWithSizes)
def _split(g, rec):
    src, dim, bounds = rec.args[0], rec.args[1], rec.args[2]
    x = g.value(src)
    static = all(is_static(v) for b in bounds for v in b) and is_static(src.shape[dim])
    tiles = static and bounds[0][0] == 0 and bounds[-1][1] == src.shape[dim] and all(
        a[1] == b[0] for a, b in zip(bounds, bounds[1:]))
    if tiles and len(bounds) > 1:
        return g.split(x, [hi - lo for lo, hi in bounds], dim)
    return [g.op("Identity", slice_axes(g, x, src.shape, [(dim, lo, hi, 1)]))
            for lo, hi in bounds]


@emits(sh.Unbind)
def _unbind(g, rec):
    src, dim = rec.args[0], rec.args[1]
    n = concrete(src.shape[dim])
    return [select(g, g.value(src), dim, i) for i in range(n)]


@emits(sh.Flip)
def _flip(g, rec):
    dims = [int(d) for d in rec.args[1]]
    if not dims:
        return g.op("Identity", g.value(rec.args[0]))
    return g.op("Slice", g.value(rec.args[0]), g.ints([-1] * len(dims)),
                g.ints([-INT64_MAX] * len(dims)), g.ints(dims), g.ints([-1] * len(dims)))


@emits(sh.Roll)
def _roll(g, rec):
    src, shifts, dims = rec.args[0], rec.args[1], rec.args[2]
    x = g.value(src)
    if dims is None:  # the flattened tensor rolls, then takes its shape back
        shape = require_static(src.shape, "roll")
        x = g.op("Reshape", x, g.ints([-1]))
        sizes, dims = [int(np.prod(shape))], (0,)
    else:
        sizes = require_static([src.shape[d] for d in dims], "roll")
    for shift, d, n in zip(shifts, dims, sizes):
        k = shift % n if n else 0
        if k:
            tail = g.op("Slice", x, g.ints([n - k]), g.ints([n]), g.ints([d]))
            head = g.op("Slice", x, g.ints([0]), g.ints([n - k]), g.ints([d]))
            x = g.op("Concat", tail, head, axis=d)
    if rec.args[2] is None:
        x = g.op("Reshape", x, g.ints(shape))
    return g.op("Identity", x)


@emits(sh.Repeat)
def _repeat(g, rec):
    src, reps = rec.args[0], list(rec.args[1])
    x = g.value(src)
    extra = len(reps) - len(src.shape)
    if extra > 0:
        x = g.unsqueeze(x, list(range(extra)))
    return g.op("Tile", x, g.shape_vec(reps))


def triangle(g, rows, cols, k: int, upper: bool) -> str:
    """The boolean (rows, cols) mask of tril (col - row <= k) or triu (col - row >= k);
    sizes may be SymInts."""
    if is_static(rows) and is_static(cols):
        return g.const((np.triu if upper else np.tril)(np.ones((rows, cols), dtype=bool), k))

    def positions(n):
        end = g.squeeze(g.sym(n), [0]) if isinstance(n, SymInt) else g.scalar(n, np.int64)
        return g.op("Range", g.scalar(0, np.int64), end, g.scalar(1, np.int64))
    diff = g.op("Sub", g.unsqueeze(positions(cols), [0]), g.unsqueeze(positions(rows), [1]))
    bound = g.scalar(k, np.int64)
    return g.op("Not", g.op("Less" if upper else "Greater", diff, bound))


@emits(sh.Tril, sh.Triu)
def _tri(g, rec):
    src, k = rec.args[0], rec.args[1]
    rows, cols = src.shape[-2:]
    keep = triangle(g, rows, cols, k, rec.op is sh.Triu)
    return g.op("Where", keep, g.value(src), g.scalar(0, src.dtype))


# -- joining --------------------------------------------------------------------------------

@emits(join.Cat)
def _cat(g, rec):
    dim = rec.params["dim"]
    parts = [g.value(a) for a in rec.args if not (len(a.shape) == 1 and a.shape[0] == 0)]
    if not parts:
        return g.op("Identity", g.value(rec.args[0]))
    return g.op("Concat", *parts, axis=int(dim))


@emits(join.Stack)
def _stack(g, rec):
    dim = int(rec.params["dim"])
    return g.op("Concat", *[g.unsqueeze(g.value(a), [dim]) for a in rec.args], axis=dim)


# -- padding ----------------------------------------------------------------------------------

@emits(pad._ConstantPad)
def _constant_pad(g, rec):
    src, pads, value = rec.args[0], rec.args[1], rec.args[2]
    onnx_pads = [lo for lo, _ in pads] + [hi for _, hi in pads]
    return g.op("Pad", g.value(src), g.shape_vec(onnx_pads),
                g.typed(value, src.dtype), mode="constant")


@emits(pad._TakePad)
def _take_pad(g, rec):
    """reflect / replicate / circular padding: a gather of the source positions along each
    padded dim (exact for any pad sizes, negative ones included)."""
    x = g.value(rec.args[0])
    for axis, n, lo, hi, mode in rec.args[1]:
        idx, _ = pad._index_map(n, lo, hi, mode)
        x = g.op("Gather", x, g.const(np.asarray(idx, dtype=np.int64)), axis=axis)
    return x


# -- tensors made from sizes ------------------------------------------------------------------

@emits(hk.Full)
def _full(g, rec):
    out = rec.outputs[0]
    from onnx import helper
    value = helper.make_tensor("value", elem_type(out.dtype), [1],
                               [np.asarray(rec.params["value"]).astype(out.dtype).item()])
    return g.op("ConstantOfShape", g.shape_vec(out.shape), value=value)


@emits(hk.Arange)
def _arange(g, rec):
    dt = rec.outputs[0].dtype
    p = rec.params

    def scalar(v):
        if isinstance(v, SymInt):
            return g.cast(g.squeeze(g.sym(v), [0]), np.int64, dt)
        return g.scalar(v, dt)
    return g.op("Range", scalar(p["start"]), scalar(p["end"]), scalar(p["step"]))


@emits(hk.CausalMask)
def _causal_mask(g, rec):
    return triangle(g, rec.params["L"], rec.params["S"], 0, False)
