"""GELU / SiLU kernels (kernels/activation.cu): elementwise forward and backward, and the
fused bias-add + activation epilogue of a linear layer.

`kind` numbers the activation as the kernels do: see KINDS and kind_of().
"""

from __future__ import annotations

import numpy as np

from ... import backend
from ._module import Module, dtype_suffix, grid_1d

_MODULE = Module("activation.cu")
KINDS = {("gelu", "none"): 0, ("gelu", "tanh"): 1, ("silu", "none"): 2}
_MAX_GRID = 65535
_ROWS_PER_THREAD = 16  # bias backward: rows each thread sums before the block reduction


def _contiguous(xp, a):
    # Not xp.ascontiguousarray alone: it turns a 0-d array into a 1-d one.
    return a if a.flags.c_contiguous else xp.ascontiguousarray(a)


def kind_of(activation: str, approximate: str = "none") -> int:
    """The kernels' number for an activation: ("gelu", "none"|"tanh") or ("silu", "none")."""
    return KINDS[activation, approximate]


def supported(x) -> bool:
    """Whether the kernels take this array: a floating dtype with a suffix, not empty."""
    return x.size > 0 and dtype_suffix(x.dtype) is not None


def forward(x, kind: int, *, block: int = 256):
    """act(x), elementwise, in x's dtype."""
    xp = backend.of(x)
    x = _contiguous(xp, x)
    y = xp.empty_like(x)
    _MODULE[f"act_fwd_{dtype_suffix(x.dtype)}"](
        grid_1d(x.size, block), block, (x, y, np.int64(x.size), np.int32(kind)))
    return y


def backward(grad, x, kind: int, *, block: int = 256):
    """grad * act'(x), elementwise; grad and x share a dtype."""
    xp = backend.of(x)
    grad = _contiguous(xp, grad)
    x = _contiguous(xp, x)
    dx = xp.empty_like(x)
    _MODULE[f"act_bwd_{dtype_suffix(x.dtype)}"](
        grid_1d(x.size, block), block, (grad, x, dx, np.int64(x.size), np.int32(kind)))
    return dx


def bias_forward(x, bias, kind: int, *, block: int = 256):
    """act(x + bias) with a 1-d bias along x's last dimension, in one pass."""
    xp = backend.of(x)
    x = _contiguous(xp, x)
    bias = _contiguous(xp, bias)
    y = xp.empty_like(x)
    features = bias.size
    rows = x.size // features
    threads = min(block, -(-features // 32) * 32)
    grid = (min(-(-features // threads), _MAX_GRID), min(-(-rows // 4), _MAX_GRID))
    _MODULE[f"bias_act_fwd_{dtype_suffix(x.dtype)}"](
        grid, threads, (x, bias, y, np.int64(rows), np.int64(features), np.int32(kind)))
    return y


def bias_backward(grad, x, bias, kind: int, *, block: tuple[int, int] = (32, 8)):
    """(grad_x, grad_bias) of act(x + bias): the input gradient is written in the same pass
    that sums the bias gradient's per-block partial columns; those are then summed here.

    block: (bx, by) threads, by a power of two.
    """
    xp = backend.of(x)
    grad = _contiguous(xp, grad)
    x = _contiguous(xp, x)
    bias = _contiguous(xp, bias)
    dx = xp.empty_like(x)
    features = bias.size
    rows = x.size // features
    bx, by = block
    splits = max(1, min(128, -(-rows // (by * _ROWS_PER_THREAD))))
    acc = np.float64 if x.dtype == np.float64 else np.float32
    partial = xp.empty((splits, features), dtype=acc)
    grid = (min(-(-features // bx), _MAX_GRID), splits)
    _MODULE[f"bias_act_bwd_{dtype_suffix(x.dtype)}"](
        grid, (bx, by),
        (grad, x, bias, dx, partial, np.int64(rows), np.int64(features), np.int32(kind)),
        shared_mem=bx * by * np.dtype(acc).itemsize)
    dbias = partial.sum(axis=0).astype(bias.dtype).reshape(bias.shape)
    return dx, dbias
