"""Lookup tables: embedding, embedding_bag and one_hot.

The embedding gradient is an index-add of the output gradient's rows into a zero table.
NumPy's `add.at` is slow on rows, so `_index_add_rows` sorts the indices once and adds
in a few vectorized rounds (see there); on CUDA our kernels do it (atomics, or a sorted
segment sum under use_deterministic_algorithms), cupyx.scatter_add for other dtypes.
"""

from __future__ import annotations

import numpy as np

from ... import backend
from ..._tensor import Tensor
from ...autograd import _graph_xp
from ...autograd.node import Function
from ...backend.cuda import embedding as _cuda_embedding
from ...backend.cuda import use_kernels
from ...ops.indexing import _scatter_zeros, _take, _ufunc_at

__all__ = ["embedding", "embedding_bag", "one_hot"]

# Segments longer than this are summed with add.reduceat; shorter ones in rounds.
_LONG_SEGMENT = 32


def _index_add_rows(num_rows: int, idx, src):
    """zeros((num_rows,) + src.shape[1:]) with src[i] added to row idx[i] (repeats add up).

    The indices are sorted once; rows hit by many entries are summed with add.reduceat,
    the others in rounds -- round r adds every index's r-th occurrence, which are distinct
    rows, so a plain fancy-indexed += is exact. Uniform indices need only a few rounds.
    """
    xp = backend.of(src)
    out = xp.zeros((num_rows,) + src.shape[1:], dtype=src.dtype)
    n = idx.shape[0]
    if n == 0:
        return out
    if xp is not np:
        import cupyx
        cupyx.scatter_add(out, idx, src)
        return out
    order = np.argsort(idx, kind="stable")
    rows = idx[order]
    first = np.empty(n, dtype=bool)
    first[0] = True
    np.not_equal(rows[1:], rows[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    lengths = np.diff(starts, append=n)
    rank = np.arange(n) - np.repeat(starts, lengths)
    long = lengths > _LONG_SEGMENT
    if long.any():
        in_long = np.repeat(long, lengths)
        sizes = lengths[long]
        out[rows[starts[long]]] = np.add.reduceat(np.take(src, order[in_long], axis=0),
                                                  np.cumsum(sizes) - sizes, axis=0)
        rank[in_long] = -1
    short = lengths[~long]
    for r in range(int(short.max()) if short.size else 0):
        sel = np.flatnonzero(rank == r)
        if r == 0:
            out[rows[sel]] = np.take(src, order[sel], axis=0)
        else:
            out[rows[sel]] += np.take(src, order[sel], axis=0)
    return out


class _Embedding(Function):
    """weight[indices]; the weight's gradient is dense (padding row zero)."""

    _backward_name = "EmbeddingBackward0"

    @staticmethod
    def forward(ctx, weight, indices, padding_idx, scale_grad_by_freq):
        if ctx.needs_input_grad:
            ctx.save_for_backward(indices)
            ctx.params = (weight.shape[0], padding_idx, scale_grad_by_freq)
        return weight.take(indices, axis=0)

    @staticmethod
    def backward(ctx, grad):
        indices = _plain(ctx.saved_arrays[0])
        num, padding_idx, by_freq = ctx.params
        if ctx.xp is not _graph_xp and use_kernels(grad) and _cuda_embedding.supports(grad):
            return _cuda_embedding.embedding_backward(grad, indices, num, padding_idx,
                                                      by_freq), None
        idx = indices.reshape(-1)
        g = grad.reshape(idx.shape[0], grad.shape[-1])
        xp = backend.of(idx)
        np_dtype = grad._data.dtype if isinstance(grad, Tensor) else grad.dtype
        if by_freq:
            counts = xp.bincount(idx, minlength=num)[idx].astype(np_dtype)
            g = g / ctx.xp.asarray(counts.reshape(-1, 1))
        if ctx.xp is _graph_xp:
            out = _scatter_zeros(g, (idx,), (num, g.shape[1]), False)
            if padding_idx >= 0:
                keep = xp.ones((num, 1), dtype=np_dtype)
                keep[padding_idx] = 0
                out = out * ctx.xp.asarray(keep)
            return out, None
        out = _index_add_rows(num, idx, g)
        if padding_idx >= 0:
            out[padding_idx] = 0
        return out, None


def _plain(a):
    """The array of an index saved for backward (create_graph hands back Tensors)."""
    return a._data if isinstance(a, Tensor) else a


_INDEX_DTYPES = ("int64", "int32")


def _check_indices(input: Tensor, weight: Tensor, fname: str) -> None:
    if input.dtype.name not in _INDEX_DTYPES:
        raise RuntimeError(f"Expected tensor for argument #1 'indices' to have one of the "
                           f"following scalar types: Long, Int; but got {input.type()} instead "
                           f"(while checking arguments for {fname})")
    if weight.ndim != 2:
        raise RuntimeError("'weight' must be 2-D")
    data = input._data
    if data.size and (int(data.min()) < 0 or int(data.max()) >= weight.shape[0]):
        raise IndexError("index out of range in self")


def _padding_index(padding_idx, num: int) -> int:
    """padding_idx made non-negative (-1 when None), as torch checks it."""
    if padding_idx is None:
        return -1
    if padding_idx > 0 and padding_idx >= num:
        raise AssertionError("Padding_idx must be within num_embeddings")
    if padding_idx < 0:
        if padding_idx < -num:
            raise AssertionError("Padding_idx must be within num_embeddings")
        padding_idx += num
    return padding_idx


def _renorm_(weight: Tensor, indices, max_norm: float, norm_type: float) -> None:
    """Rescales, in place and outside autograd, the looked-up rows whose norm exceeds
    max_norm to norm max_norm (torch's embedding_renorm_, with its 1e-7 guard)."""
    xp = backend.of(weight._data)
    rows = xp.unique(indices.reshape(-1))
    table = weight._data
    sel = table[rows]
    if norm_type == float("inf"):
        norms = xp.abs(sel).max(axis=1)
    else:
        norms = (xp.abs(sel) ** norm_type).sum(axis=1) ** (1.0 / norm_type)
    big = norms > max_norm
    if bool(big.any()):
        scale = max_norm / (norms[big] + 1e-7)
        table[rows[big]] = sel[big] * scale[:, None].astype(table.dtype)
        weight._vc[0] += 1


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None,
              max_norm: float | None = None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Rows of `weight` at the integer `input` (output shape input.shape + (dim,)).

    The row at padding_idx gets no gradient. `sparse=True` is accepted; the gradient is
    dense all the same.
    """
    padding_idx = _padding_index(padding_idx, weight.shape[0])
    _check_indices(input, weight, "embedding")
    if max_norm is not None:
        _renorm_(weight, input._data, max_norm, norm_type)
    return _Embedding.apply(weight, input, padding_idx, bool(scale_grad_by_freq))


# -- embedding_bag ----------------------------------------------------------------------------

def _segment_reduce(name: str, values, bag, num_bags: int, fill):
    """out[b] = <name>-reduction of values[bag == b] over rows (`bag` sorted), `fill` for
    empty bags: add/maximum/minimum.reduceat on NumPy, the ufunc's scatter (`_ufunc_at`)
    elsewhere."""
    xp = backend.of(values)
    out = xp.full((num_bags,) + values.shape[1:], fill, dtype=values.dtype)
    if values.shape[0] == 0:
        return out
    if xp is np:
        starts = np.flatnonzero(np.concatenate([np.ones(1, bool), bag[1:] != bag[:-1]]))
        out[bag[starts]] = getattr(np, name).reduceat(values, starts, axis=0)
    else:
        _ufunc_at(xp, name, out, (bag,), values)
    return out


class _SegmentSum(Function):
    """out[b] = sum of the rows whose (sorted) `bag` is b; empty bags give zeros."""

    _backward_name = "EmbeddingBagBackward0"

    @staticmethod
    def forward(ctx, rows, bag, num_bags):
        if ctx.needs_input_grad:
            ctx.save_for_backward(bag)
        return _segment_reduce("add", rows, bag, num_bags, 0)

    @staticmethod
    def backward(ctx, grad):
        return _take(grad, (_plain(ctx.saved_arrays[0]),), False)


class _SegmentMax(Function):
    """out[b] = max of the rows whose (sorted) `bag` is b (empty bags give zeros); the
    gradient goes to the first maximal row of each column, as torch's max mode."""

    _backward_name = "EmbeddingBagBackward0"

    @staticmethod
    def forward(ctx, rows, bag, num_bags):
        xp = backend.of(rows)
        n = rows.shape[0]
        best = _segment_reduce("maximum", rows, bag, num_bags, -np.inf)
        filled = xp.bincount(bag, minlength=num_bags) > 0
        best[~filled] = 0
        if ctx.needs_input_grad:
            present = xp.flatnonzero(filled)
            # per column, the first row of its bag that reaches the bag's maximum
            at = xp.where(rows == best[bag], xp.arange(n)[:, None], n)
            first = _segment_reduce("minimum", at, bag, num_bags, n)[present]
            ctx.argmax = (present, first)
            ctx.rows_shape = rows.shape
        return best

    @staticmethod
    def backward(ctx, grad):
        present, first = ctx.argmax
        xp = backend.of(first)
        columns = xp.broadcast_to(xp.arange(first.shape[1]), first.shape)
        return _scatter_zeros(_take(grad, (present,), True), (first, columns), ctx.rows_shape,
                              True), None, None


def _bags(input: Tensor, offsets, include_last_offset: bool):
    """(flat indices, bag of each index, number of bags) for 1D input with offsets or 2D."""
    if input.ndim == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated "
                             "is a mini-batch of fixed length sequences. However, found "
                             f"offsets of type {type(offsets)}")
        b, length = input.shape
        xp = backend.of(input._data)
        return input.reshape(-1), xp.repeat(xp.arange(b), length), b
    if input.ndim != 1:
        raise ValueError("input has to be 1D or 2D Tensor, but got Tensor of dimension "
                         f"{input.ndim}")
    if offsets is None:
        raise ValueError("offsets has to be a 1D Tensor but got None")
    if offsets.ndim != 1:
        raise ValueError("offsets has to be a 1D Tensor")
    offs = offsets._data.astype(np.int64)
    n = input.shape[0]
    if offs.size and int(offs[0]) != 0:
        raise RuntimeError("offsets[0] has to be 0, i.e., the first sequence in the mini-batch "
                           f"has to start from position 0. However, got {int(offs[0])}")
    if offs.size and int(offs[-1]) > n:
        raise RuntimeError(f"offsets[-1] can not be greater than input's length {n}, but got "
                           f"{int(offs[-1])}")
    xp = backend.of(offs)
    num = offs.shape[0] - 1 if include_last_offset else offs.shape[0]
    end = int(offs[-1]) if include_last_offset and offs.size else n
    # bag of position i: the last offset <= i (offsets may repeat: empty bags)
    bag = xp.searchsorted(offs[:num], xp.arange(end), side="right") - 1
    return input[:end] if end != n else input, bag, max(num, 0)


def embedding_bag(input: Tensor, weight: Tensor, offsets: Tensor | None = None,
                  max_norm: float | None = None, norm_type: float = 2,
                  scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False,
                  per_sample_weights: Tensor | None = None, include_last_offset: bool = False,
                  padding_idx: int | None = None) -> Tensor:
    """Sums, means or maxes of bags of embeddings, without materializing per-bag lists.

    Bags are the rows of a 2D input, or the slices of a 1D input that start at `offsets`.
    Entries equal to padding_idx are left out (an empty bag gives zeros).
    """
    if per_sample_weights is not None and tuple(input.shape) != tuple(per_sample_weights.shape):
        raise ValueError(f"embedding_bag: If per_sample_weights ({per_sample_weights.shape}) is "
                         f"not None, then it must have the same shape as the input "
                         f"({input.shape})")
    if weight.ndim != 2:
        raise ValueError(f"weight has to be a 2D Tensor, but got Tensor of dimension "
                         f"{weight.ndim}")
    if mode not in ("sum", "mean", "max"):
        raise ValueError("mode has to be one of sum, mean or max")
    if mode == "max" and scale_grad_by_freq:
        raise ValueError("max mode does not support scaling the gradient by the frequency")
    if mode == "max" and sparse:
        raise ValueError("max mode does not support sparse weights")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(
            "embedding_bag: per_sample_weights was not None. per_sample_weights is only "
            f"supported for mode='sum' (got mode='{mode}'). Please open a feature request on "
            "GitHub.")
    pad = _padding_index(padding_idx, weight.shape[0])
    flat, bag, num_bags = _bags(input, offsets, include_last_offset)
    _check_indices(flat, weight, "embedding_bag")
    if max_norm is not None:
        _renorm_(weight, flat._data, max_norm, norm_type)
    psw = None
    if per_sample_weights is not None:  # entries past the last offset belong to no bag
        psw = per_sample_weights.reshape(-1)[:flat.shape[0]]
    if pad >= 0:
        # Entries at padding_idx do not take part: drop them (and their weights).
        keep = flat._data != pad
        if not bool(keep.all()):
            where = Tensor._make(backend.of(keep).flatnonzero(keep))
            flat, bag = flat[where], bag[where._data]
            psw = None if psw is None else psw[where]
    rows = _Embedding.apply(weight, flat, -1, bool(scale_grad_by_freq))
    if mode == "max":
        return _SegmentMax.apply(rows, bag, num_bags)
    if psw is not None:
        rows = rows * psw.reshape(-1, 1)
    out = _SegmentSum.apply(rows, bag, num_bags)
    if mode == "mean":
        xp = backend.of(bag)
        counts = xp.bincount(bag, minlength=num_bags)
        out = out / Tensor._make(xp.maximum(counts, 1).astype(out._data.dtype).reshape(-1, 1))
    return out


# -- one_hot ----------------------------------------------------------------------------------

def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """int64 one-hot vectors along a new last dim (num_classes=-1: max(tensor) + 1)."""
    if tensor.dtype.name != "int64":
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    data = tensor._data
    xp = backend.of(data)
    if num_classes == -1:
        if data.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(data.max()) + 1
    if data.size:
        if int(data.min()) < 0:
            raise RuntimeError("Class values must be non-negative.")
        if int(data.max()) >= num_classes:
            raise RuntimeError("Class values must be smaller than num_classes.")
    return Tensor._make((data[..., None] == xp.arange(num_classes)).astype(np.int64))
