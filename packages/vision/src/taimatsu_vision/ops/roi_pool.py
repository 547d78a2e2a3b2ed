"""RoIPool (Girshick, Fast R-CNN, 2015): max-pooling of regions into a fixed grid.

Region corners are rounded to whole cells; bin (ph, pw) covers rows
[floor(ph * h / PH), ceil((ph + 1) * h / PH)) of the region (and the same for columns),
clipped to the map; an empty bin gives 0. Each region is reduced in two steps -- the
maximum over each bin's columns, then over its rows -- which keeps the first maximum in
row-major order, the element whose position backward routes the gradient to.
"""

from __future__ import annotations

import numpy as np

from taimatsu import Tensor, backend, nn
from taimatsu.autograd.node import Function

from .roi_align import _pair, _rois_array

__all__ = ["roi_pool", "RoIPool"]


def _round_half_away(a):
    return np.sign(a) * np.floor(np.abs(a) + 0.5)


def _bins(start, end, pooled: int, size: int):
    """Per region: (lo, hi) cell ranges of its `pooled` bins along one axis, clipped."""
    length = np.maximum(end - start + 1, 1)
    edges = np.arange(pooled + 1)[None, :] * (length[:, None] / pooled)
    lo = np.clip(np.floor(edges[:, :-1]) + start[:, None], 0, size).astype(np.int64)
    hi = np.clip(np.ceil(edges[:, 1:]) + start[:, None], 0, size).astype(np.int64)
    return lo, hi


def _pool(xp, a, lo, hi, axis: int, with_arg: bool):
    """Max of `a` over [lo[i], hi[i]) along `axis` (1 or 2) for every bin i, and the
    position of the first maximum (-1 for an empty bin, whose value is 0)."""
    shape = list(a.shape)
    shape[axis] = len(lo)
    vals = xp.zeros(shape, dtype=a.dtype)
    args = xp.full(shape, -1, dtype=xp.int64) if with_arg else None
    for i, (start, stop) in enumerate(zip(lo.tolist(), hi.tolist())):
        if stop <= start:
            continue
        seg = a[:, start:stop] if axis == 1 else a[:, :, start:stop]
        dst = (slice(None), i) if axis == 1 else (slice(None), slice(None), i)
        vals[dst] = seg.max(axis=axis)
        if with_arg:
            args[dst] = seg.argmax(axis=axis) + start
    return vals, args


class _RoIPool(Function):
    _backward_name = "RoiPoolBackward0"
    once_differentiable = True

    @staticmethod
    def forward(ctx, input, rois, output_size, spatial_scale):
        xp = backend.of(input)
        _, channels, height, width = input.shape
        r = backend.to_numpy(rois).astype(np.float64)
        corners = _round_half_away(r[:, 1:] * spatial_scale).astype(np.int64)
        rows = _bins(corners[:, 1], corners[:, 3], output_size[0], height)
        cols = _bins(corners[:, 0], corners[:, 2], output_size[1], width)
        out = xp.zeros((r.shape[0], channels) + tuple(output_size), dtype=input.dtype)
        need = bool(ctx.needs_input_grad and ctx.needs_input_grad[0])
        argmax = xp.full(out.shape, -1, dtype=xp.int64) if need else None
        for k, b in enumerate(r[:, 0].astype(np.int64).tolist()):
            r0, r1 = int(rows[0][k, 0]), int(rows[1][k, -1])
            if r1 <= r0:
                continue  # every bin is empty
            patch = input[b, :, r0:r1]  # only the rows this region's bins read
            by_col, col_arg = _pool(xp, patch, cols[0][k], cols[1][k], 2, need)
            out[k], row_arg = _pool(xp, by_col, rows[0][k] - r0, rows[1][k] - r0, 1, need)
            if need:
                col = xp.take_along_axis(col_arg, xp.maximum(row_arg, 0), axis=1)
                argmax[k] = xp.where((row_arg < 0) | (col < 0), -1,
                                     (row_arg + r0) * width + col)
        if need:
            ctx.save_for_backward(argmax)
            ctx.batch, ctx.input_shape = r[:, 0].astype(np.int64), input.shape
        return out

    @staticmethod
    def backward(ctx, grad):
        (argmax,) = ctx.saved_arrays
        xp = ctx.xp
        n, c, h, w = ctx.input_shape
        hit = argmax >= 0
        plane = (xp.asarray(ctx.batch)[:, None, None, None] * c
                 + xp.arange(c)[None, :, None, None]) * (h * w)
        flat = xp.broadcast_to(plane, argmax.shape) + argmax
        grad_input = xp.bincount(flat[hit], weights=grad[hit], minlength=n * c * h * w)
        return grad_input.astype(grad.dtype).reshape(ctx.input_shape), None


def roi_pool(input: Tensor, boxes, output_size, spatial_scale: float = 1.0) -> Tensor:
    """Max-pools each region of `input` into an output_size grid.

    Args:
        input: (N, C, H, W) feature map
        boxes: (K, 5) rows (batch index, x1, y1, x2, y2), or a list of (L, 4) xyxy boxes
        output_size: (height, width), or an int for a square
        spatial_scale: maps box coordinates to input cells (e.g. 1/16)
    Returns:
        (K, C, output_size[0], output_size[1])
    """
    if input.ndim != 4:
        raise RuntimeError(f"roi_pool: expected a 4D input (N, C, H, W), got {input.ndim}D")
    xp = backend.of(input._data)
    rois = _rois_array(boxes, xp, input._data.dtype)
    return _RoIPool.apply(input, Tensor._make(rois), _pair(output_size), float(spatial_scale))


class RoIPool(nn.Module):
    """The layer form of `roi_pool`."""

    def __init__(self, output_size, spatial_scale: float) -> None:
        super().__init__()
        self.output_size = output_size
        self.spatial_scale = spatial_scale

    def forward(self, input: Tensor, rois) -> Tensor:
        return roi_pool(input, rois, self.output_size, self.spatial_scale)

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}(output_size={self.output_size}, "
                f"spatial_scale={self.spatial_scale})")
