"""Fused softmax / log_softmax over one dimension, forward and backward (kernels/softmax.cu).

The input is viewed as (outer, dim, inner). Reductions over the last dimension (inner == 1)
take a row kernel: one warp per row with the row in registers up to WARP_MAX_DIM elements,
one block per row beyond. Other dimensions take the strided kernel, whose threads run along
the contiguous inner index.
"""

from __future__ import annotations

import math

import numpy as np

from ... import backend
from ._module import Module, dtype_suffix

_MODULE = Module("softmax.cu")
_WARP_WIDTHS = (1, 2, 4, 8, 16, 32)  # values per lane the warp kernels are built for
WARP_MAX_DIM = 32 * _WARP_WIDTHS[-1]
_WARPS_PER_BLOCK = 4
_MAX_GRID = 65535  # every kernel loops over its work, so a capped grid still covers it all


def supported(x) -> bool:
    """Whether the kernels take this array: a floating dtype with a suffix, ndim >= 1, not empty."""
    return x.ndim > 0 and x.size > 0 and dtype_suffix(x.dtype) is not None


def forward(x, dim: int, log: bool = False, *, block: int | None = None,
            warp_max_dim: int = WARP_MAX_DIM):
    """softmax (or log_softmax) of `x` along `dim`, in x's dtype.

    block: threads per block (a power of two >= 32; tests use small ones); warp_max_dim: the
    longest row the one-warp-per-row kernel takes.
    """
    xp = backend.of(x)
    x = xp.ascontiguousarray(x)
    y = xp.empty_like(x)
    _launch("fwd", (x, y), x.shape, dim, log, block, warp_max_dim)
    return y


def backward(grad, y, dim: int, log: bool = False, *, block: int | None = None,
             warp_max_dim: int = WARP_MAX_DIM):
    """The input gradient of softmax (log_softmax) from its output `y` and output grad."""
    xp = backend.of(y)
    grad = xp.ascontiguousarray(grad)
    y = xp.ascontiguousarray(y)
    dx = xp.empty_like(y)
    _launch("bwd", (grad, y, dx), y.shape, dim, log, block, warp_max_dim)
    return dx


def _launch(direction: str, arrays: tuple, shape: tuple, dim: int, log: bool,
            block: int | None, warp_max_dim: int) -> None:
    suffix = dtype_suffix(arrays[0].dtype)
    dim %= len(shape)
    outer, n, inner = math.prod(shape[:dim]), shape[dim], math.prod(shape[dim + 1:])
    log_mode = np.int32(log)
    if inner == 1 and n <= warp_max_dim:
        width = next(w for w in _WARP_WIDTHS if 32 * w >= n)
        threads = block or 32 * _WARPS_PER_BLOCK
        grid = min(-(-outer // (threads // 32)), _MAX_GRID)
        _MODULE[f"softmax_warp_{direction}_{suffix}_{width}"](
            grid, threads, (*arrays, np.int64(outer), np.int32(n), log_mode))
    elif inner == 1:
        threads = block or (1024 if n >= 16384 else 512 if n >= 4096 else 256)
        _MODULE[f"softmax_block_{direction}_{suffix}"](
            min(outer, _MAX_GRID), threads, (*arrays, np.int64(outer), np.int64(n), log_mode))
    else:
        threads = block or 256
        bx = min(32, _pow2_at_least(inner), threads)
        by = min(threads // bx, _pow2_at_least(n))
        tiles = outer * -(-inner // bx)
        acc = 8 if arrays[0].dtype == np.float64 else 4
        shared = (2 if direction == "fwd" else 1) * bx * by * acc
        _MODULE[f"softmax_strided_{direction}_{suffix}"](
            min(tiles, _MAX_GRID), (bx, by),
            (*arrays, np.int64(outer), np.int64(n), np.int64(inner), log_mode),
            shared_mem=shared)


def _pow2_at_least(n: int) -> int:
    return 1 << max(0, int(n) - 1).bit_length()
