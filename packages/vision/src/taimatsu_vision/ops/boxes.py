"""Box utilities (torchvision.ops.boxes): areas, IoUs, format conversion, clipping and
non-maximum suppression.

Boxes are (N, 4) tensors. The geometric functions compose taimatsu ops, so they are
differentiable (box losses need that); nms and friends return int64 indices.
"""

from __future__ import annotations

import numpy as np

import taimatsu
from taimatsu import Tensor, backend

__all__ = ["nms", "batched_nms", "remove_small_boxes", "clip_boxes_to_image", "box_convert",
           "box_area", "box_iou", "generalized_box_iou"]

_FORMATS = ("xyxy", "xywh", "cxcywh")


def _upcast(t: Tensor) -> Tensor:
    """Widens low-precision dtypes so products of coordinates don't overflow or round."""
    if t.is_floating_point():
        return t if t.dtype in (taimatsu.float32, taimatsu.float64) else t.float()
    return t if t.dtype in (taimatsu.int32, taimatsu.int64) else t.int()


def box_area(boxes: Tensor) -> Tensor:
    """(x2 - x1) * (y2 - y1) of (N, 4) boxes in xyxy format."""
    boxes = _upcast(boxes)
    return (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])


def _box_inter_union(boxes1: Tensor, boxes2: Tensor) -> tuple[Tensor, Tensor]:
    area1 = box_area(boxes1)
    area2 = box_area(boxes2)
    lt = taimatsu.max(boxes1[:, None, :2], boxes2[:, :2])
    rb = taimatsu.min(boxes1[:, None, 2:], boxes2[:, 2:])
    wh = _upcast(rb - lt).clamp(min=0)
    inter = wh[:, :, 0] * wh[:, :, 1]
    union = area1[:, None] + area2 - inter
    return inter, union


def box_iou(boxes1: Tensor, boxes2: Tensor) -> Tensor:
    """(N, M) intersection over union of every pair of xyxy boxes."""
    inter, union = _box_inter_union(boxes1, boxes2)
    return inter / union


def generalized_box_iou(boxes1: Tensor, boxes2: Tensor) -> Tensor:
    """(N, M) generalized IoU (Rezatofighi et al., 2019): IoU - (hull - union) / hull."""
    inter, union = _box_inter_union(boxes1, boxes2)
    iou = inter / union
    lti = taimatsu.min(boxes1[:, None, :2], boxes2[:, :2])
    rbi = taimatsu.max(boxes1[:, None, 2:], boxes2[:, 2:])
    whi = _upcast(rbi - lti).clamp(min=0)
    hull = whi[:, :, 0] * whi[:, :, 1]
    return iou - (hull - union) / hull


def box_convert(boxes: Tensor, in_fmt: str, out_fmt: str) -> Tensor:
    """Converts (..., 4) boxes between "xyxy" (corners), "xywh" (corner and size) and
    "cxcywh" (centre and size)."""
    if in_fmt not in _FORMATS or out_fmt not in _FORMATS:
        raise ValueError("Unsupported Bounding Box Conversions for given in_fmt and out_fmt")
    if in_fmt == out_fmt:
        return boxes.clone()
    a, b, c, d = boxes.unbind(-1)
    if in_fmt == "xywh":
        a, b, c, d = a, b, a + c, b + d
    elif in_fmt == "cxcywh":
        a, b, c, d = a - 0.5 * c, b - 0.5 * d, a + 0.5 * c, b + 0.5 * d
    # (a, b, c, d) is now x1, y1, x2, y2
    if out_fmt == "xywh":
        a, b, c, d = a, b, c - a, d - b
    elif out_fmt == "cxcywh":
        a, b, c, d = (a + c) / 2, (b + d) / 2, c - a, d - b
    return taimatsu.stack((a, b, c, d), dim=-1)


def clip_boxes_to_image(boxes: Tensor, size: tuple[int, int]) -> Tensor:
    """Clamps xyxy boxes (..., 4) into an image of size (height, width)."""
    height, width = size
    xs = boxes[..., 0::2].clamp(min=0, max=width)
    ys = boxes[..., 1::2].clamp(min=0, max=height)
    return taimatsu.stack((xs, ys), dim=boxes.ndim).reshape(boxes.shape)


def remove_small_boxes(boxes: Tensor, min_size: float) -> Tensor:
    """Indices of the xyxy boxes whose width and height are both at least min_size."""
    ws = boxes[:, 2] - boxes[:, 0]
    hs = boxes[:, 3] - boxes[:, 1]
    keep = (ws >= min_size) & (hs >= min_size)
    return taimatsu.where(keep)[0]


def _check_nms_args(boxes: Tensor, scores: Tensor) -> None:
    if boxes.ndim != 2:
        raise RuntimeError(f"boxes should be a 2d tensor, got {boxes.ndim}D")
    if boxes.shape[1] != 4:
        raise RuntimeError(f"boxes should have 4 elements in dimension 1, got {boxes.shape[1]}")
    if scores.ndim != 1:
        raise RuntimeError(f"scores should be a 1d tensor, got {scores.ndim}D")
    if boxes.shape[0] != scores.shape[0]:
        raise RuntimeError("boxes and scores should have same number of elements in "
                           f"dimension 0, got {boxes.shape[0]} and {scores.shape[0]}")
    if boxes.dtype != scores.dtype:
        raise RuntimeError("dets should have the same type as scores")


def _nms_arrays(boxes, scores, iou_threshold: float):
    """Greedy NMS on arrays: indices kept, by decreasing score (ties: lower index first).

    One vectorized IoU row per kept box, against the boxes still alive: the Python loop
    runs once per kept box, not once per pair.
    """
    xp = backend.of(boxes)
    order = xp.argsort(-scores, kind="stable")
    x1, y1, x2, y2 = (boxes[order, i] for i in range(4))
    areas = (x2 - x1) * (y2 - y1)
    alive = xp.arange(order.shape[0])
    keep = []
    with np.errstate(invalid="ignore", divide="ignore"):  # 0/0 for empty boxes: kept, as torch
        while alive.shape[0]:
            i = int(alive[0])
            keep.append(i)
            rest = alive[1:]
            w = xp.maximum(xp.minimum(x2[i], x2[rest]) - xp.maximum(x1[i], x1[rest]), 0)
            h = xp.maximum(xp.minimum(y2[i], y2[rest]) - xp.maximum(y1[i], y1[rest]), 0)
            inter = w * h
            iou = inter / (areas[i] + areas[rest] - inter)
            alive = rest[~(iou > iou_threshold)]
    return order[xp.asarray(keep, dtype=xp.int64)]


def nms(boxes: Tensor, scores: Tensor, iou_threshold: float) -> Tensor:
    """Non-maximum suppression: indices (int64) of the boxes kept, by decreasing score.

    A box is dropped when its IoU with a higher-scoring kept box exceeds iou_threshold.

    Args:
        boxes: (N, 4) in xyxy format, 0 <= x1 < x2 and 0 <= y1 < y2
        scores: (N,) scores of the boxes
    """
    _check_nms_args(boxes, scores)
    return Tensor._make(_nms_arrays(boxes._data, scores._data, float(iou_threshold)))


def batched_nms(boxes: Tensor, scores: Tensor, idxs: Tensor, iou_threshold: float) -> Tensor:
    """NMS within each category: boxes of different idxs never suppress each other.

    Returns the kept indices (int64) sorted by decreasing score.
    """
    _check_nms_args(boxes, scores)
    b, s, cls = boxes._data, scores._data, idxs._data
    xp = backend.of(b)
    if b.shape[0] == 0:
        return Tensor._make(xp.zeros(0, dtype=xp.int64))
    kept = []
    for c in xp.unique(cls):
        members = xp.nonzero(cls == c)[0]
        kept.append(members[_nms_arrays(b[members], s[members], float(iou_threshold))])
    kept = xp.sort(xp.concatenate(kept))  # ties in score then keep index order, as nms
    return Tensor._make(kept[xp.argsort(-s[kept], kind="stable")])
