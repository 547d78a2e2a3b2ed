"""RoIAlign (He et al., Mask R-CNN, 2017): bilinear crops of regions of a feature map.

Each output bin averages a grid of bilinearly interpolated samples. Bilinear sampling is
separable, so for one region the result is a product of three matrices:

    out[k, c] = Ay[k] @ input[b_k, c] @ Ax[k].T

where Ay (pooled_h x H) holds, per output row, the interpolation weights of its samples
over the input rows (divided by the sample count), and Ax the same over columns. Both are
built for all regions at once with bincount; the products are taken per region over only
the rows and columns its samples touch, so the work scales with the region's size, not
the image's. Backward is the transposed products.
"""

from __future__ import annotations

import numpy as np

from taimatsu import Tensor, backend, nn
from taimatsu.autograd.node import Function

__all__ = ["roi_align", "RoIAlign"]


def _pair(value) -> tuple[int, int]:
    if isinstance(value, (list, tuple)):
        return int(value[0]), int(value[1])
    return int(value), int(value)


def _rois_array(boxes, xp, dtype):
    """(K, 5) rows (batch index, x1, y1, x2, y2) from a (K, 5) tensor or a list of (L, 4)."""
    if isinstance(boxes, Tensor):
        if boxes.ndim != 2 or boxes.shape[1] != 5:
            raise ValueError("The boxes tensor shape is not correct as Tensor[K, 5]")
        return boxes._data
    if not isinstance(boxes, (list, tuple)) or not all(isinstance(b, Tensor) for b in boxes):
        raise ValueError("boxes is expected to be a Tensor[L, 5] or a List[Tensor[K, 4]]")
    if not all(b.ndim == 2 and b.shape[1] == 4 for b in boxes):
        raise ValueError("The shape of the tensor in the boxes list is not correct as "
                         "List[Tensor[L, 4]]")
    if not boxes:
        return xp.zeros((0, 5), dtype=dtype)
    coords = xp.concatenate([b._data for b in boxes])
    ids = xp.repeat(xp.arange(len(boxes)), [b.shape[0] for b in boxes])
    return xp.concatenate([ids[:, None].astype(coords.dtype), coords], axis=1)


def _axis_weights(start, length, pooled: int, size: int, sampling_ratio: int, xp):
    """(K, pooled, size) interpolation weights along one axis, and each region's span.

    start, length: (K,) region start and extent in input pixels. Sample positions, the
    validity rule (outside [-1, size] contributes nothing), the clamping to the last pixel
    and the sample count per bin follow torchvision's kernel.
    """
    k = start.shape[0]
    dtype = start.dtype
    bin_size = length / pooled
    if sampling_ratio > 0:
        grid = xp.full(k, sampling_ratio, dtype=xp.int64)
    else:
        grid = xp.maximum(xp.ceil(length / pooled), 0).astype(xp.int64)
    g_max = max(int(grid.max()) if k else 0, 1)
    g = xp.arange(g_max, dtype=dtype)[None, None, :]
    p = xp.arange(pooled, dtype=dtype)[None, :, None]
    n = xp.maximum(grid, 1).astype(dtype)[:, None, None]
    b = bin_size[:, None, None]
    pos = start[:, None, None] + p * b + (g + dtype.type(0.5)) * b / n
    valid = (g < grid[:, None, None]) & (pos >= -1.0) & (pos <= size)
    pos = xp.maximum(pos, 0)
    low = pos.astype(xp.int64)
    edge = low >= size - 1
    low = xp.where(edge, size - 1, low)
    high = xp.where(edge, size - 1, low + 1)
    frac = xp.where(edge, 0, pos - low).astype(dtype)
    scale = valid / n  # averaging over the bin's samples folded into the weights
    rows = (xp.arange(k)[:, None, None] * pooled + xp.arange(pooled)[None, :, None]) * size
    weights = xp.bincount((rows + low).ravel(), ((1 - frac) * scale).ravel(),
                          minlength=k * pooled * size)
    weights += xp.bincount((rows + high).ravel(), (frac * scale).ravel(),
                           minlength=k * pooled * size)
    weights = weights.astype(dtype).reshape(k, pooled, size)
    touched = (weights != 0).any(axis=1)
    first = touched.argmax(axis=1)
    last = size - touched[:, ::-1].argmax(axis=1)
    last = xp.where(touched.any(axis=1), last, first)  # untouched: an empty span
    return weights, first, last


def _plan(rois, output_size, spatial_scale, sampling_ratio, aligned, height, width, xp, dtype):
    rois = rois.astype(dtype, copy=False)
    offset = dtype.type(0.5 if aligned else 0.0)
    scale = dtype.type(spatial_scale)
    x0 = rois[:, 1] * scale - offset
    y0 = rois[:, 2] * scale - offset
    w = rois[:, 3] * scale - offset - x0
    h = rois[:, 4] * scale - offset - y0
    if not aligned:  # legacy behaviour: regions are at least one pixel
        w, h = xp.maximum(w, 1), xp.maximum(h, 1)
    ay, r0, r1 = _axis_weights(y0, h, output_size[0], height, sampling_ratio, xp)
    ax, c0, c1 = _axis_weights(x0, w, output_size[1], width, sampling_ratio, xp)
    spans = np.stack([backend.to_numpy(a) if xp is not np else a
                      for a in (r0, r1, c0, c1)], axis=1).tolist() if rois.shape[0] else []
    batch = rois[:, 0].astype(xp.int64)
    return ay, ax, batch, spans


def _sandwich(left, planes, right):
    """left @ planes[c] @ right for every channel c, as two plain GEMMs (a batched matmul
    would run one tiny GEMM per channel)."""
    c, h, _ = planes.shape
    t = planes.reshape(c * h, -1) @ right                     # (C*h, q)
    t = t.reshape(c, h, -1).swapaxes(0, 1).reshape(h, -1)     # (h, C*q)
    return (left @ t).reshape(left.shape[0], c, -1).swapaxes(0, 1)


class _RoIAlign(Function):
    """Forward and backward of roi_align on arrays; rois carry no gradient (as torchvision)."""

    _backward_name = "RoiAlignBackward0"
    once_differentiable = True

    @staticmethod
    def forward(ctx, input, rois, output_size, spatial_scale, sampling_ratio, aligned):
        xp = backend.of(input)
        _, channels, height, width = input.shape
        ay, ax, batch, spans = _plan(rois, output_size, spatial_scale, sampling_ratio, aligned,
                                     height, width, xp, input.dtype)
        out = xp.zeros((rois.shape[0], channels) + tuple(output_size), dtype=input.dtype)
        batch_host = batch.tolist()
        for k, (r0, r1, c0, c1) in enumerate(spans):
            if r0 == r1 or c0 == c1:
                continue
            patch = input[batch_host[k], :, r0:r1, c0:c1]
            out[k] = _sandwich(ay[k, :, r0:r1], patch, ax[k, :, c0:c1].T)
        if ctx.needs_input_grad and ctx.needs_input_grad[0]:
            ctx.save_for_backward(ay, ax)
            ctx.spans, ctx.batch, ctx.input_shape = spans, batch_host, input.shape
        return out

    @staticmethod
    def backward(ctx, grad):
        ay, ax = ctx.saved_arrays
        xp = ctx.xp
        grad_input = xp.zeros(ctx.input_shape, dtype=grad.dtype)
        for k, (r0, r1, c0, c1) in enumerate(ctx.spans):
            if r0 == r1 or c0 == c1:
                continue
            grad_input[ctx.batch[k], :, r0:r1, c0:c1] += _sandwich(
                ay[k, :, r0:r1].T, grad[k], ax[k, :, c0:c1])
        return grad_input, None


def roi_align(input: Tensor, boxes, output_size, spatial_scale: float = 1.0,
              sampling_ratio: int = -1, aligned: bool = False) -> Tensor:
    """Pools each region of `input` into an output_size grid by bilinear sampling.

    Args:
        input: (N, C, H, W) feature map
        boxes: (K, 5) rows (batch index, x1, y1, x2, y2), or a list of (L, 4) xyxy boxes
            per image
        output_size: (height, width) of each pooled region, or an int for a square
        spatial_scale: maps box coordinates to input coordinates (e.g. 1/16)
        sampling_ratio: samples per bin along each axis; <= 0 uses ceil(region / output)
        aligned: shift boxes by -0.5 pixel so that pixel centres line up (Detectron2)
    Returns:
        (K, C, output_size[0], output_size[1])
    """
    if input.ndim != 4:
        raise RuntimeError(f"roi_align: expected a 4D input (N, C, H, W), got {input.ndim}D")
    xp = backend.of(input._data)
    rois = _rois_array(boxes, xp, input._data.dtype)
    if rois.dtype != input._data.dtype:
        raise RuntimeError(
            "Expected tensor for argument #1 'input' to have the same type as tensor for "
            f"argument #2 'rois'; but type {input.dtype} does not equal "
            f"{_dtype_name(boxes)} (while checking arguments for roi_align_forward_kernel)")
    return _RoIAlign.apply(input, Tensor._make(rois), _pair(output_size), float(spatial_scale),
                           int(sampling_ratio), bool(aligned))


def _dtype_name(boxes) -> str:
    first = boxes if isinstance(boxes, Tensor) else boxes[0]
    return str(first.dtype)


class RoIAlign(nn.Module):
    """The layer form of `roi_align`."""

    def __init__(self, output_size, spatial_scale: float, sampling_ratio: int,
                 aligned: bool = False) -> None:
        super().__init__()
        self.output_size = output_size
        self.spatial_scale = spatial_scale
        self.sampling_ratio = sampling_ratio
        self.aligned = aligned

    def forward(self, input: Tensor, rois) -> Tensor:
        return roi_align(input, rois, self.output_size, self.spatial_scale,
                         self.sampling_ratio, self.aligned)

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}(output_size={self.output_size}, "
                f"spatial_scale={self.spatial_scale}, sampling_ratio={self.sampling_ratio}, "
                f"aligned={self.aligned})")
