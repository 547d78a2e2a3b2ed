"""Launches the batch norm kernels of kernels/batch_norm.cu.

x is (N, C, *spatial), seen as (N, C, L). Per-channel vectors (weight, bias, running
statistics) may be in x's dtype or in the accumulation dtype (float32 for float16/bfloat16,
as in mixed precision; x's own dtype otherwise); the kernels read them in the accumulation
dtype, so the others are cast here (C elements). The saved statistics (mean, invstd) and the
weight/bias gradients come back in the accumulation dtype.

Launches per call: training forward 3 (statistics partial sums, per-channel finalize,
normalize), eval forward 2, backward up to 3 (partial sums, finalize, input gradient).
"""

from __future__ import annotations

import math

import numpy as np

from ... import backend
from . import Module, acc_dtype, dtype_suffix, grid_1d

_MODULE = Module("batch_norm.cu")
_THREADS = 256            # elementwise and partial-sum blocks (a multiple of 32)
_FINALIZE_THREADS = 128   # 4 channels (one warp each) per finalize block
_ELEMS_PER_CHUNK = 4096   # elements of a channel one partial-sum block covers, at least
_TARGET_BLOCKS = 4096     # partial-sum blocks beyond which more chunks only add stage-2 work
_MAX_CHUNKS = 1024        # <= 65535 (gridDim.y)


def supported(x, *vectors) -> bool:
    """Whether the kernels take x with these per-channel arrays (None for absent ones)."""
    if dtype_suffix(x.dtype) is None or x.ndim < 2 or x.size == 0:
        return False
    own, acc = x.dtype, acc_dtype(x.dtype)
    return all(v is None or v.dtype == own or v.dtype == acc for v in vectors)


def chunks_for(channels: int, per_channel: int) -> int:
    """Slices per channel for the partial sums: enough blocks to fill the GPU, each with work."""
    by_size = -(-per_channel // _ELEMS_PER_CHUNK)
    return max(1, min(by_size, _TARGET_BLOCKS // channels, _MAX_CHUNKS))


def _dims(x):
    n, c = x.shape[0], x.shape[1]
    return n, c, math.prod(x.shape[2:])


def _acc_vector(xp, v, acc, fallback):
    """v as a contiguous accumulation-dtype vector; `fallback` (any valid array) when None."""
    if v is None:
        return fallback
    return v if v.dtype == acc and v.flags.c_contiguous else xp.ascontiguousarray(v, dtype=acc)


def training_forward(x, weight, bias, running_mean, running_var, momentum: float, eps: float,
                     block: int | None = None, chunks: int | None = None):
    """(y, mean, invstd) from the batch statistics (biased variance); running_mean/var, when
    given, are updated in place with the unbiased variance:
    running = (1 - momentum) * running + momentum * batch."""
    xp = backend.of(x)
    x = xp.ascontiguousarray(x)
    n, c, length = _dims(x)
    m = n * length
    acc = acc_dtype(x.dtype)
    suffix = dtype_suffix(x.dtype)
    threads = block or _THREADS
    chunks = max(1, min(chunks or chunks_for(c, m), m, _MAX_CHUNKS))
    partial = xp.empty((3, chunks, c), dtype=acc)
    _MODULE[f"batch_norm_stats_partial_{suffix}"](
        (c, chunks), threads, [x, partial, np.int64(n), np.int64(c), np.int64(length)])

    mean, invstd, scale, shift = xp.empty((4, c), dtype=acc)
    update = running_mean is not None
    rm = _acc_vector(xp, running_mean, acc, mean)
    rv = _acc_vector(xp, running_var, acc, mean)
    _MODULE[f"batch_norm_stats_finalize_{suffix}"](
        _finalize_grid(c), _FINALIZE_THREADS,
        [partial, _acc_vector(xp, weight, acc, mean), _acc_vector(xp, bias, acc, mean),
         mean, invstd, scale, shift, rm, rv, np.int64(c), np.int64(chunks), acc.type(eps),
         acc.type(momentum), acc.type(1.0 - momentum), acc.type(m / (m - 1) if m > 1 else 1.0),
         np.int32(weight is not None), np.int32(bias is not None), np.int32(update)])
    if update:  # running statistics kept in another dtype or layout: write the update back
        for running, updated in ((running_mean, rm), (running_var, rv)):
            if updated is not running:
                running[...] = updated
    return _normalize(x, mean, scale, shift, threads), mean, invstd


def eval_forward(x, weight, bias, running_mean, running_var, eps: float,
                 block: int | None = None):
    """(y, mean, invstd) from the running statistics."""
    xp = backend.of(x)
    x = xp.ascontiguousarray(x)
    c = x.shape[1]
    acc = acc_dtype(x.dtype)
    mean, invstd, scale, shift = xp.empty((4, c), dtype=acc)
    _MODULE[f"batch_norm_eval_finalize_{dtype_suffix(x.dtype)}"](
        grid_1d(c, _FINALIZE_THREADS), _FINALIZE_THREADS,
        [_acc_vector(xp, running_mean, acc, mean), _acc_vector(xp, running_var, acc, mean),
         _acc_vector(xp, weight, acc, mean), _acc_vector(xp, bias, acc, mean),
         mean, invstd, scale, shift, np.int64(c), acc.type(eps),
         np.int32(weight is not None), np.int32(bias is not None)])
    return _normalize(x, mean, scale, shift, block or _THREADS), mean, invstd


def _normalize(x, mean, scale, shift, threads):
    xp = backend.of(x)
    _, c, length = _dims(x)
    y = xp.empty_like(x)
    _MODULE[f"batch_norm_normalize_{dtype_suffix(x.dtype)}"](
        grid_1d(x.size, threads), threads,
        [x, mean, scale, shift, y, np.int64(x.size), np.int64(c), np.int64(length)])
    return y


def backward(grad, x, weight, mean, invstd, training: bool, needs=(True, True, True),
             block: int | None = None, chunks: int | None = None):
    """(grad_input, grad_weight, grad_bias) as flagged by needs, None for the others; mean and
    invstd are what the forward returned (batch statistics when training, else running ones).
    grad_weight/grad_bias are (C,) in the accumulation dtype."""
    xp = backend.of(x)
    x = xp.ascontiguousarray(x)
    grad = xp.ascontiguousarray(grad, dtype=x.dtype).reshape(x.shape)
    n, c, length = _dims(x)
    m = n * length
    acc = acc_dtype(x.dtype)
    suffix = dtype_suffix(x.dtype)
    mean = xp.ascontiguousarray(mean, dtype=acc).reshape(c)
    invstd = xp.ascontiguousarray(invstd, dtype=acc).reshape(c)
    threads = block or _THREADS
    # The sums are needed for the weight/bias gradients, and for the input gradient when
    # training; eval's input gradient is dy * invstd * weight alone.
    reduce = needs[1] or needs[2] or (needs[0] and training)
    chunks = max(1, min(chunks or chunks_for(c, m), m, _MAX_CHUNKS)) if reduce else 0
    partial = xp.empty((2, max(chunks, 1), c), dtype=acc)
    if reduce:
        _MODULE[f"batch_norm_bwd_partial_{suffix}"](
            (c, chunks), threads,
            [grad, x, mean, partial, np.int64(n), np.int64(c), np.int64(length)])
    gw, gb = xp.empty((2, c), dtype=acc)
    coef = xp.empty((3, c), dtype=acc)  # rows a, b, k of dx = a * (dy - b - (x - mean) * k)
    _MODULE[f"batch_norm_bwd_finalize_{suffix}"](
        _finalize_grid(c), _FINALIZE_THREADS,
        [partial, invstd, _acc_vector(xp, weight, acc, invstd), gw, gb, coef, np.int64(c),
         np.int64(chunks), np.int64(m), np.int32(weight is not None), np.int32(training),
         np.int32(needs[1]), np.int32(needs[2])])
    gx = None
    if needs[0]:
        gx = xp.empty_like(x)
        _MODULE[f"batch_norm_bwd_input_{suffix}"](
            grid_1d(x.size, threads), threads,
            [grad, x, mean, coef, gx, np.int64(x.size), np.int64(c), np.int64(length),
             np.int32(training)])
    return gx, gw if needs[1] else None, gb if needs[2] else None


def _finalize_grid(channels: int) -> int:
    return grid_1d(channels, _FINALIZE_THREADS // 32)
