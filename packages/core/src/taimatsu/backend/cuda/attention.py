"""Fused scaled-dot-product attention (kernels/attention.cu): forward and backward.

Forward writes the output and the logsumexp of every query row; backward recomputes the
probabilities from q, k and that logsumexp (three launches: delta = rowsum(dO * O), dQ, then
dK and dV). Inputs are (..., H, L, E) arrays; key and value may have H / group heads
(grouped-query attention). Tile sizes are parameters so that tests can run small blocks:
`block_m` rows owned per block (queries in the forward and dQ kernels, keys in the dK/dV
kernel; a multiple of 4, four per warp) and `block_n` <= 32 rows per streamed tile; both
shrink to fit short sequences.
"""

from __future__ import annotations

import math

import numpy as np

from ... import backend
from . import Module, acc_dtype, dtype_suffix, grid_1d

_MODULE = Module("attention.cu")

MAX_HEAD_DIM = 128  # TM_ATT_MAX_D in the kernels
_ROWS_PER_WARP = 4  # TM_ATT_ROWS
_MASK_NONE, _MASK_BOOL, _MASK_ADD = 0, 1, 2
_MAX_GRID_Y = 65535
_DELTA_BLOCKS = 4096  # 8 rows (warps) a block; beyond this warps loop over rows


def mask_fits(mask_shape, batch, Lq: int, Lk: int) -> bool:
    """Whether a mask of `mask_shape` broadcasts to batch + (Lq, Lk) without growing it."""
    target = tuple(batch) + (Lq, Lk)
    if len(mask_shape) > len(target):
        return False
    return all(m in (1, t) for m, t in zip(mask_shape[::-1], target[::-1]))


def _mask_layout(xp, mask, batch, Lq: int, Lk: int):
    """(array, kind, element strides (outer batch, head, row, column)) of a broadcast mask.

    Batch dims are read as (outer, heads); when the mask broadcasts over some outer dims but
    not others those dims cannot share one stride, and are materialised.
    """
    if mask is None:
        return None, _MASK_NONE, (0, 0, 0, 0)
    kind = _MASK_BOOL if mask.dtype == np.bool_ else _MASK_ADD
    ndim = len(batch) + 2
    m = xp.ascontiguousarray(mask).reshape((1,) * (ndim - mask.ndim) + tuple(mask.shape))
    outer = tuple(batch[:-1])
    if any(s != 1 for s in m.shape[:len(outer)]) and m.shape[:len(outer)] != outer:
        m = xp.ascontiguousarray(xp.broadcast_to(m, outer + m.shape[len(outer):]))
    strides = [0] * ndim
    step = 1
    for d in range(ndim - 1, -1, -1):
        strides[d] = 0 if m.shape[d] == 1 else step
        step *= m.shape[d]
    sb = strides[len(outer) - 1] if outer else 0
    sh = strides[-3] if batch else 0
    return m, kind, (sb, sh, strides[-2], strides[-1])


class _Shape:
    """Sizes of one attention call, as the kernels take them."""

    def __init__(self, q, k, v, mask, causal: bool):
        self.batch = tuple(q.shape[:-2])
        self.N = math.prod(self.batch)
        self.heads = self.batch[-1] if self.batch else 1
        self.group = self.heads // (k.shape[-3] if k.ndim >= 3 else 1)
        self.Lq, self.D = q.shape[-2], q.shape[-1]
        self.Lk, self.Dv = k.shape[-2], v.shape[-1]
        self.mask, kind, strides = _mask_layout(backend.of(q), mask, self.batch, self.Lq,
                                                self.Lk)
        self.args = (np.int64(self.N), np.int32(self.heads), np.int32(self.group),
                     np.int32(self.Lq), np.int32(self.Lk), np.int32(self.D), np.int32(self.Dv),
                     *(np.int64(s) for s in strides), np.int32(kind), np.int32(bool(causal)))


def _check_tiles(block_m: int, block_n: int) -> None:
    if block_m % _ROWS_PER_WARP or not 0 < block_m <= 32 * _ROWS_PER_WARP:
        raise ValueError(f"block_m must be a multiple of {_ROWS_PER_WARP} in "
                         f"[{_ROWS_PER_WARP}, {32 * _ROWS_PER_WARP}], got {block_m}")
    if not 0 < block_n <= 32:
        raise ValueError(f"block_n must be in [1, 32], got {block_n}")


def _threads(block_m: int) -> int:
    return block_m // _ROWS_PER_WARP * 32


def _tiles(block_m: int, block_n: int, owned_rows: int, streamed_rows: int):
    """The tile sizes, shrunk for short sequences so that no warp is idle."""
    _check_tiles(block_m, block_n)
    rounded = -(-owned_rows // _ROWS_PER_WARP) * _ROWS_PER_WARP
    return min(block_m, rounded), min(block_n, streamed_rows)


def forward(q, k, v, mask=None, *, scale: float, causal: bool = False,
            block_m: int | None = None, block_n: int = 32):
    """softmax(scale q k^T + mask) v and the logsumexp per query row (+inf where a row may
    attend to no key).

    q (..., H, Lq, E), k (..., H / group, Lk, E), v (..., H / group, Lk, Ev) with E, Ev at
    most MAX_HEAD_DIM; mask: None, or bool (True = may attend) or additive in q's dtype,
    broadcastable to (..., H, Lq, Lk). Returns out (..., H, Lq, Ev) and lse (..., H, Lq) in
    float32 (float64 for float64 inputs).
    """
    xp = backend.of(q)
    q, k, v = (xp.ascontiguousarray(a) for a in (q, k, v))
    shape = _Shape(q, k, v, mask, causal)
    acc = acc_dtype(q.dtype)
    if block_m is None:
        block_m = 64 if acc.itemsize == 4 else 32
    block_m, block_n = _tiles(block_m, block_n, shape.Lq, shape.Lk)
    out = xp.empty(shape.batch + (shape.Lq, shape.Dv), dtype=q.dtype)
    lse = xp.empty(shape.batch + (shape.Lq,), dtype=acc)
    D, Dv = shape.D, shape.Dv
    # q rows, k and v tiles, then 32 p values per owned row
    shared = (block_m * D + block_n * (D + 1) + block_n * Dv + block_m * 32) * acc.itemsize
    grid = (-(-shape.Lq // block_m), min(shape.N, _MAX_GRID_Y))
    mask_arg = q if shape.mask is None else shape.mask
    _MODULE[f"attention_fwd_{dtype_suffix(q.dtype)}"](
        grid, _threads(block_m),
        (q, k, v, mask_arg, out, lse, *shape.args, acc.type(scale), np.int32(block_n)),
        shared_mem=shared)
    return out, lse


def backward(q, k, v, mask, out, lse, grad, *, scale: float, causal: bool = False,
             need_q: bool = True, need_kv: bool = True, block_m: int | None = None,
             block_n: int = 32):
    """Gradients (dq, dk, dv) of forward's output given its gradient `grad`; dq is None
    unless need_q, dk and dv are None unless need_kv."""
    xp = backend.of(q)
    q, k, v, out, grad = (xp.ascontiguousarray(a) for a in (q, k, v, out, grad))
    shape = _Shape(q, k, v, mask, causal)
    acc = acc_dtype(q.dtype)
    if block_m is None:
        block_m = 32 if acc.itemsize == 4 else 16
    suffix = dtype_suffix(q.dtype)
    D, Dv, Lq, Lk = shape.D, shape.Dv, shape.Lq, shape.Lk
    rows = shape.N * Lq
    delta = xp.empty(rows, dtype=acc)
    _MODULE[f"attention_bwd_delta_{suffix}"](
        grid_1d(rows, 8, _DELTA_BLOCKS), 256, (out, grad, delta, np.int64(rows), np.int32(Dv)))

    mask_arg = q if shape.mask is None else shape.mask
    dq = dk = dv = None
    if need_q:  # owns query rows, streams key/value tiles
        bm, bn = _tiles(block_m, block_n, Lq, Lk)
        dq = xp.empty_like(q)
        _MODULE[f"attention_bwd_dq_{suffix}"](
            (-(-Lq // bm), min(shape.N, _MAX_GRID_Y)), _threads(bm),
            (q, k, v, mask_arg, grad, lse, delta, dq, *shape.args, acc.type(scale),
             np.int32(bn)),
            shared_mem=(bm * (D + Dv + 32) + bn * (D + 1 + Dv + 1)) * acc.itemsize)
    if need_kv:  # owns key rows, streams query tiles with their lse and delta
        bm, bn = _tiles(block_m, block_n, Lk, Lq)
        dk, dv = xp.empty_like(k), xp.empty_like(v)
        _MODULE[f"attention_bwd_dkdv_{suffix}"](
            (-(-Lk // bm), min(shape.N // shape.group, _MAX_GRID_Y)), _threads(bm),
            (q, k, v, mask_arg, grad, lse, delta, dk, dv, *shape.args, acc.type(scale),
             np.int32(bn)),
            shared_mem=(bm * (D + Dv + 64) + bn * (D + 1 + Dv + 1 + 2)) * acc.itemsize)
    return dq, dk, dv
