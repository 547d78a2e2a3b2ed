"""Launches the layer norm and RMS norm kernels of kernels/normalization.cu.

Inputs are viewed as (rows, cols) with the normalized dims last. Row statistics (mean, rstd)
come back in the accumulation dtype: float32 for float16/bfloat16/float32, float64 for
float64. weight and bias are flat (cols,) arrays or None.
"""

from __future__ import annotations

import numpy as np

from ... import backend
from . import Module, acc_dtype, dtype_suffix, grid_1d

_MODULE = Module("normalization.cu")
_MAX_ROW_BLOCKS = 65535  # row kernels loop over rows beyond this many blocks
_TILE = (32, 8)          # block of the partial-sum kernel (TM_NORM_TILE_ROWS = 8)
_ROWS_PER_CHUNK = 64     # rows each partial-sum block covers, at least
_MAX_CHUNKS = 128


def supported(x, *params) -> bool:
    """Whether the kernels take x with these weight/bias arrays (None for absent ones)."""
    return (dtype_suffix(x.dtype) is not None and x.size > 0
            and all(p is None or p.dtype == x.dtype for p in params))


def row_threads(cols: int, block: int | None = None) -> int:
    """Threads per row block: a warp per 128 columns, 32 to 512 (a multiple of 32)."""
    if block is not None:
        return block
    return min(512, 32 * max(1, -(-cols // 128)))


def layer_norm_forward(x, weight, bias, cols: int, eps: float, block: int | None = None):
    """(y, mean, rstd): y shaped like x, mean and rstd per row."""
    return _forward("layer_norm", x, weight, bias, cols, eps, block)


def rms_norm_forward(x, weight, cols: int, eps: float, block: int | None = None):
    """(y, rstd): y = x * rstd * weight with rstd = 1 / sqrt(mean(x^2) + eps) per row."""
    y, _, rstd = _forward("rms_norm", x, weight, None, cols, eps, block)
    return y, rstd


def _forward(kind, x, weight, bias, cols, eps, block):
    xp = backend.of(x)
    x = xp.ascontiguousarray(x)
    rows = x.size // cols
    acc = acc_dtype(x.dtype)
    y = xp.empty_like(x)
    rstd = xp.empty(rows, dtype=acc)
    w = x if weight is None else xp.ascontiguousarray(weight)
    args = [x, w]
    mean = None
    if kind == "layer_norm":
        mean = xp.empty(rows, dtype=acc)
        args += [x if bias is None else xp.ascontiguousarray(bias), y, mean, rstd]
    else:
        args += [y, rstd]
    args += [np.int64(rows), np.int64(cols), acc.type(eps), np.int32(weight is not None)]
    if kind == "layer_norm":
        args.append(np.int32(bias is not None))
    _MODULE[f"{kind}_fwd_{dtype_suffix(x.dtype)}"](
        min(rows, _MAX_ROW_BLOCKS), row_threads(cols, block), args)
    return y, mean, rstd


def layer_norm_backward(grad, x, weight, mean, rstd, cols: int, needs=(True, True, True),
                        block: int | None = None, chunks: int | None = None):
    """(grad_input, grad_weight, grad_bias) as flagged by needs; None for the others.
    grad_weight/grad_bias are flat (cols,)."""
    return _backward("layer_norm", grad, x, weight, mean, rstd, cols, needs, block, chunks)


def rms_norm_backward(grad, x, weight, rstd, cols: int, needs=(True, True),
                      block: int | None = None, chunks: int | None = None):
    """(grad_input, grad_weight) as flagged by needs; None for the others."""
    gx, gw, _ = _backward("rms_norm", grad, x, weight, None, rstd, cols,
                          (needs[0], needs[1], False), block, chunks)
    return gx, gw


def _backward(kind, grad, x, weight, mean, rstd, cols, needs, block, chunks):
    xp = backend.of(x)
    x = xp.ascontiguousarray(x)
    grad = xp.ascontiguousarray(grad, dtype=x.dtype).reshape(x.shape)
    rows = x.size // cols
    suffix = dtype_suffix(x.dtype)
    stats = [mean, rstd] if kind == "layer_norm" else [rstd]
    gx = gw = gb = None
    if needs[0]:
        gx = xp.empty_like(x)
        w = x if weight is None else xp.ascontiguousarray(weight)
        _MODULE[f"{kind}_bwd_input_{suffix}"](
            min(rows, _MAX_ROW_BLOCKS), row_threads(cols, block),
            [grad, x, w, *stats, gx, np.int64(rows), np.int64(cols),
             np.int32(weight is not None)])
    if needs[1] or needs[2]:
        gw, gb = _param_grads(kind, grad, x, stats, rows, cols, chunks)
    return gx, gw if needs[1] else None, gb if needs[2] else None


def _param_grads(kind, grad, x, stats, rows, cols, chunks):
    """sum(grad * x_hat) and (layer norm) sum(grad) over rows, in two deterministic stages."""
    xp = backend.of(x)
    suffix = dtype_suffix(x.dtype)
    acc = acc_dtype(x.dtype)
    if chunks is None:
        chunks = min(_MAX_CHUNKS, -(-rows // _ROWS_PER_CHUNK))
    chunks = max(1, min(chunks, rows))
    partial_w = xp.empty((chunks, cols), dtype=acc)
    partials = [partial_w]
    if kind == "layer_norm":
        partials.append(xp.empty((chunks, cols), dtype=acc))
    _MODULE[f"{kind}_param_partial_{suffix}"](
        (-(-cols // _TILE[0]), chunks), _TILE,
        [grad, x, *stats, *partials, np.int64(rows), np.int64(cols)])
    sums = []
    for partial in partials:
        out = xp.empty(cols, dtype=x.dtype)
        _MODULE[f"norm_param_reduce_{suffix}"](
            grid_1d(cols), 256, [partial, out, np.int64(chunks), np.int64(cols)])
        sums.append(out)
    return sums[0], sums[1] if len(sums) > 1 else None
