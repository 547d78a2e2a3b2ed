"""Launches the fused cross-entropy kernels of kernels/cross_entropy.cu.

Logits are (N, C, d1, ...) with class-index targets (N, d1, ...); an entry is one target.
Per-entry results (loss, lse, the target's class weight) come back in the accumulation dtype:
float32 for float16/bfloat16/float32, float64 for float64.
"""

from __future__ import annotations

import math

import numpy as np

from ... import backend
from . import Module, acc_dtype, dtype_suffix, grid_1d

_MODULE = Module("cross_entropy.cu")
_MAX_ROW_BLOCKS = 65535  # the row kernels loop over entries beyond this many blocks


def supported(x, weight) -> bool:
    """Whether the kernels take logits x (N, C, ...) with class weights `weight` (or None)."""
    return (dtype_suffix(x.dtype) is not None and x.ndim >= 2 and x.size > 0
            and (weight is None or weight.dtype == x.dtype))


def check_targets(target, classes: int, ignore_index: int) -> None:
    """PyTorch's IndexError for a target outside [0, C) that is not ignore_index."""
    bad = (target != ignore_index) & ((target < 0) | (target >= classes))
    if bad.any():
        raise IndexError(f"Target {int(target[bad].ravel()[0])} is out of bounds.")


def _row_threads(classes: int, block: int | None) -> int:
    """Threads per entry block: a warp per 128 classes, 32 to 512 (a multiple of 32)."""
    return block if block is not None else min(512, 32 * max(1, -(-classes // 128)))


def _common(x, target, weight, smoothing):
    """Contiguous operands, the entry layout and the scalar kernel arguments."""
    xp = backend.of(x)
    x = xp.ascontiguousarray(x)
    target = xp.ascontiguousarray(target, dtype=np.int64).reshape(-1)
    acc = acc_dtype(x.dtype)
    classes, inner = x.shape[1], math.prod(x.shape[2:])
    w = x if weight is None else xp.ascontiguousarray(weight)
    # W = sum of the class weights, read on the device only for label smoothing with weights
    total = (xp.asarray(weight.sum(dtype=acc)).reshape(1) if weight is not None and smoothing
             else xp.zeros(1, dtype=acc))
    return xp, x, target, acc, classes, inner, w, total


def forward(x, target, weight, ignore_index: int, smoothing: float, block: int | None = None):
    """(loss, lse, target_weight) per entry, shaped like target; target_weight is the target's
    class weight (1 without weights) and 0 where the target is ignored."""
    xp, x, t, acc, classes, inner, w, total = _common(x, target, weight, smoothing)
    entries = t.size
    loss, lse, target_weight = (xp.empty(entries, dtype=acc) for _ in range(3))
    head = [x, t, w, total, loss, lse, target_weight, np.int64(entries), np.int64(classes)]
    flags = [np.int64(ignore_index), acc.type(smoothing), np.int32(weight is not None)]
    suffix = dtype_suffix(x.dtype)
    if inner == 1:
        _MODULE[f"ce_fwd_rows_{suffix}"](min(entries, _MAX_ROW_BLOCKS),
                                         _row_threads(classes, block), head + flags)
    else:
        threads = block or 256
        _MODULE[f"ce_fwd_strided_{suffix}"](grid_1d(entries, threads), threads,
                                            head + [np.int64(inner)] + flags)
    shape = target.shape
    return loss.reshape(shape), lse.reshape(shape), target_weight.reshape(shape)


def backward(x, target, weight, lse, grad, ignore_index: int, smoothing: float,
             block: int | None = None):
    """d(sum of grad * loss)/dx, in x's dtype; grad (accumulation dtype) holds one value per
    entry or a single value for all."""
    xp, x, t, acc, classes, inner, w, total = _common(x, target, weight, smoothing)
    entries = t.size
    grad = xp.ascontiguousarray(grad, dtype=acc).reshape(-1)
    lse = xp.ascontiguousarray(lse, dtype=acc).reshape(-1)
    gx = xp.empty_like(x)
    head = [x, t, w, total, lse, grad, np.int64(1 if grad.size > 1 else 0), gx,
            np.int64(entries), np.int64(classes)]
    flags = [np.int64(ignore_index), acc.type(smoothing), np.int32(weight is not None)]
    suffix = dtype_suffix(x.dtype)
    if inner == 1:
        _MODULE[f"ce_bwd_rows_{suffix}"](min(entries, _MAX_ROW_BLOCKS),
                                         _row_threads(classes, block), head + flags)
    else:
        threads = block or 256
        _MODULE[f"ce_bwd_strided_{suffix}"](grid_1d(entries, threads), threads,
                                            head + [np.int64(inner)] + flags)
    return gx
