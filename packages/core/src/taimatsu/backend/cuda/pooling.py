"""Launches of the windowed pooling kernels (kernels/pooling.cu).

Inputs are (N, C, *spatial) with 1 to 3 spatial dims; the kernels see (N*C planes, D, H, W)
with the missing leading dims of size 1. Indices are flat positions in the input plane.
"""

from __future__ import annotations

import math

import numpy as np

from ... import backend
from ._module import Module, dtype_suffix, grid_1d

_MODULE = Module("pooling.cu")
_BLOCK = 256


def supports(x) -> bool:
    """Whether the kernels cover this input: a floating dtype with a kernel, 1-3 spatial dims."""
    return dtype_suffix(x.dtype) is not None and 1 <= x.ndim - 2 <= 3


def _geometry(spatial, out, kernel, stride, padding, dilation) -> list:
    """The 18 int32 geometry parameters, each dim list padded in front to 3 dims."""
    lead = 3 - len(spatial)
    args = []
    for values, fill in ((spatial, 1), (out, 1), (kernel, 1), (stride, 1), (padding, 0),
                         (dilation, 1)):
        args += [np.int32(v) for v in (fill,) * lead + tuple(values)]
    return args


def _launch(name, x, total, args, block):
    _MODULE[f"{name}_{dtype_suffix(x.dtype)}"](grid_1d(total, block), block, args)


def max_pool_forward(x, out_spatial, kernel, stride, padding, dilation,
                     with_indices=True, block=_BLOCK):
    """(window maxima, int64 flat plane index of each or None) of x (N, C, *spatial)."""
    xp = backend.of(x)
    x = xp.ascontiguousarray(x)
    n, c = x.shape[:2]
    shape = (n, c) + tuple(out_spatial)
    y = xp.empty(shape, dtype=x.dtype)
    geometry = _geometry(x.shape[2:], out_spatial, kernel, stride, padding, dilation)
    planes = np.int64(n * c)
    total = math.prod(shape)
    if total == 0:
        return y, (xp.empty(shape, dtype=np.int64) if with_indices else None)
    if not with_indices:
        _launch("max_pool_fwd_noindex", x, total, [x, y, planes] + geometry, block)
        return y, None
    index = xp.empty(shape, dtype=np.int64)
    _launch("max_pool_fwd", x, total, [x, y, index, planes] + geometry, block)
    return y, index


def max_pool_backward(grad, index, in_shape, kernel, stride, padding, dilation,
                      block=_BLOCK):
    """The input gradient of max pooling: each input element sums the output gradients
    whose index points at it (no atomics; deterministic)."""
    xp = backend.of(grad)
    grad = xp.ascontiguousarray(grad)
    index = xp.ascontiguousarray(index)
    gx = xp.empty(tuple(in_shape), dtype=grad.dtype)
    total = math.prod(in_shape)
    if total == 0:
        return gx
    if grad.size == 0:
        gx[...] = 0
        return gx
    geometry = _geometry(in_shape[2:], grad.shape[2:], kernel, stride, padding, dilation)
    planes = np.int64(in_shape[0] * in_shape[1])
    _launch("max_pool_bwd", grad, total, [grad, index, gx, planes] + geometry, block)
    return gx


def _divisor_args(count_include_pad, divisor_override):
    return [np.int32(bool(count_include_pad)), np.float64(divisor_override or 0)]


def avg_pool_forward(x, out_spatial, kernel, stride, padding, count_include_pad=True,
                     divisor_override=None, block=_BLOCK):
    """Window averages of x (N, C, *spatial), torch's divisor rules."""
    xp = backend.of(x)
    x = xp.ascontiguousarray(x)
    n, c = x.shape[:2]
    shape = (n, c) + tuple(out_spatial)
    y = xp.empty(shape, dtype=x.dtype)
    total = math.prod(shape)
    if total == 0:
        return y
    nd = x.ndim - 2
    geometry = _geometry(x.shape[2:], out_spatial, kernel, stride, padding, (1,) * nd)
    _launch("avg_pool_fwd", x, total, [x, y, np.int64(n * c)] + geometry
            + _divisor_args(count_include_pad, divisor_override), block)
    return y


def avg_pool_backward(grad, in_shape, kernel, stride, padding, count_include_pad=True,
                      divisor_override=None, block=_BLOCK):
    """The adjoint of avg_pool_forward: each input element gathers grad / divisor over the
    windows that cover it."""
    xp = backend.of(grad)
    grad = xp.ascontiguousarray(grad)
    gx = xp.empty(tuple(in_shape), dtype=grad.dtype)
    total = math.prod(in_shape)
    if total == 0:
        return gx
    if grad.size == 0:
        gx[...] = 0
        return gx
    nd = len(in_shape) - 2
    geometry = _geometry(in_shape[2:], grad.shape[2:], kernel, stride, padding, (1,) * nd)
    _launch("avg_pool_bwd", grad, total, [grad, gx, np.int64(in_shape[0] * in_shape[1])]
            + geometry + _divisor_args(count_include_pad, divisor_override), block)
    return gx


def adaptive_max_pool_indices(x, out_spatial, block=_BLOCK):
    """The int64 flat plane index of the first maximum of each adaptive window of
    x (N, C, *spatial) (a NaN wins: the last one)."""
    xp = backend.of(x)
    x = xp.ascontiguousarray(x)
    n, c = x.shape[:2]
    shape = (n, c) + tuple(out_spatial)
    index = xp.empty(shape, dtype=np.int64)
    total = math.prod(shape)
    if total == 0:
        return index
    lead = 3 - (x.ndim - 2)
    dims = [np.int32(v) for v in (1,) * lead + tuple(x.shape[2:])]
    dims += [np.int32(v) for v in (1,) * lead + tuple(out_spatial)]
    _launch("adaptive_max_pool_index", x, total, [x, index, np.int64(n * c)] + dims, block)
    return index
