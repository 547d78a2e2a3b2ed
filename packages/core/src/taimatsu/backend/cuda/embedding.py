"""Launches of the embedding-gradient kernels (kernels/embedding.cu)."""

from __future__ import annotations

import numpy as np

from ... import _runtime, backend
from ._module import Module, dtype_suffix, grid_1d

_MODULE = Module("embedding.cu")
_BLOCK = 256


def supports(grad) -> bool:
    """Whether the kernels cover this gradient's dtype."""
    return dtype_suffix(grad.dtype) is not None


def embedding_backward(grad, indices, num_weights: int, padding_idx: int = -1,
                       scale_grad_by_freq: bool = False, deterministic: bool | None = None,
                       block: int = _BLOCK):
    """The (num_weights, dim) gradient of weight[indices] given grad (*indices.shape, dim).

    padding_idx (non-negative, or -1 for none) gets a zero row. `deterministic` (default:
    torch.are_deterministic_algorithms_enabled()) picks the sorted segment-sum kernel over
    the atomic one.
    """
    xp = backend.of(grad)
    idx = xp.ascontiguousarray(indices.reshape(-1), dtype=np.int64)
    n = idx.shape[0]
    dim = grad.shape[-1]
    g = xp.ascontiguousarray(grad.reshape(n, dim))
    if deterministic is None:
        deterministic = _runtime.are_deterministic_algorithms_enabled()
    if n == 0 or dim == 0:
        return xp.zeros((num_weights, dim), dtype=g.dtype)
    if deterministic:
        return _sorted(g, idx, num_weights, padding_idx, scale_grad_by_freq, block)
    return _atomic(g, idx, num_weights, padding_idx, scale_grad_by_freq, block)


def _atomic(g, idx, num_weights, padding_idx, by_freq, block):
    xp = backend.of(g)
    n, dim = g.shape
    # 16-bit gradients are summed in float32 (atomics on halves lose too much), then cast
    acc = g.dtype if g.dtype in (np.float32, np.float64) else np.float32
    gw = xp.zeros((num_weights, dim), dtype=acc)
    # without scale_grad_by_freq the kernel never reads `counts`; idx stands in for it
    counts = xp.bincount(idx, minlength=num_weights) if by_freq else idx
    total = n * dim
    _MODULE[f"embedding_bwd_atomic_{dtype_suffix(g.dtype)}"](
        grid_1d(total, block), block,
        [g, idx, counts, gw, np.int64(n), np.int64(dim), np.int64(padding_idx),
         np.int32(bool(by_freq))])
    return gw if gw.dtype == g.dtype else gw.astype(g.dtype)


def _sorted(g, idx, num_weights, padding_idx, by_freq, block):
    """Segments of equal indices (a stable sort keeps each one's entries in their order),
    each column of each summed by one thread, written once: no atomics."""
    xp = backend.of(g)
    n, dim = g.shape
    order = xp.argsort(idx, kind="stable")
    rows = idx[order]
    first = xp.empty(n, dtype=bool)
    first[0] = True
    xp.not_equal(rows[1:], rows[:-1], out=first[1:])
    starts = xp.flatnonzero(first)
    segments = starts.shape[0]
    start = xp.concatenate([starts, xp.full(1, n, dtype=starts.dtype)]).astype(np.int64)
    gw = xp.zeros((num_weights, dim), dtype=g.dtype)
    total = segments * dim
    _MODULE[f"embedding_bwd_sorted_{dtype_suffix(g.dtype)}"](
        grid_1d(total, block), block,
        [g, xp.ascontiguousarray(order, dtype=np.int64), start,
         xp.ascontiguousarray(rows[starts]), gw, np.int64(segments), np.int64(dim),
         np.int64(padding_idx), np.int32(bool(by_freq))])
    return gw
