"""Image grids and annotations: make_grid, save_image, draw_bounding_boxes,
draw_segmentation_masks and draw_keypoints (torchvision.utils' API)."""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageColor, ImageDraw, ImageFont

import taimatsu as tm
from taimatsu import Tensor

__all__ = ["make_grid", "save_image", "draw_bounding_boxes", "draw_segmentation_masks",
           "draw_keypoints"]


def _to_numpy(t: Tensor) -> np.ndarray:
    return t.detach().cpu().numpy()


def _as_batch(tensor) -> np.ndarray:
    """(B, C, H, W) array from a tensor (2-D, 3-D or 4-D) or a list of (C, H, W) tensors;
    single-channel images become three identical channels."""
    if isinstance(tensor, (list, tuple)):
        if not all(isinstance(t, Tensor) for t in tensor):
            raise TypeError(f"tensor or list of tensors expected, got {type(tensor)}")
        arr = np.stack([_to_numpy(t) for t in tensor])
    elif isinstance(tensor, Tensor):
        arr = _to_numpy(tensor)
    else:
        raise TypeError(f"tensor or list of tensors expected, got {type(tensor)}")
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim == 3:
        if arr.shape[0] == 1:
            arr = np.concatenate([arr] * 3, axis=0)
        arr = arr[None]
    if arr.ndim == 4 and arr.shape[1] == 1:
        arr = np.concatenate([arr] * 3, axis=1)
    return arr


def _normalize_range(img: np.ndarray, low: float, high: float) -> np.ndarray:
    img = np.clip(img, low, high)
    return (img - low) / max(high - low, 1e-5)


def make_grid(tensor, nrow: int = 8, padding: int = 2, normalize: bool = False,
              value_range=None, scale_each: bool = False, pad_value: float = 0.0) -> Tensor:
    """Tiles a batch (B, C, H, W) or a list of images into one (C, H', W') image.

    Args:
        nrow: images per row (the grid is (ceil(B / nrow), nrow))
        padding: pixels between images and around the border
        normalize: shift to [0, 1] using value_range (default: the min and max)
        value_range: (min, max) for normalize
        scale_each: normalize each image on its own range
        pad_value: the padding's value
    """
    arr = _as_batch(tensor)
    dtype = tensor.dtype if isinstance(tensor, Tensor) else tensor[0].dtype
    if value_range is not None and not isinstance(value_range, tuple):
        raise TypeError("value_range has to be a tuple (min, max) if specified. min and max "
                        "are numbers")
    if normalize:
        arr = arr.astype(np.float64 if arr.dtype == np.float64 else np.float32)
        if scale_each:
            arr = np.stack([_normalize_range(img, *(value_range or (img.min(), img.max())))
                            for img in arr])
        else:
            arr = _normalize_range(arr, *(value_range or (arr.min(), arr.max())))
        arr = arr.astype(dtype.np) if dtype.is_floating_point else arr
    if arr.shape[0] == 1:
        return tm.from_numpy(np.ascontiguousarray(arr[0]))
    nmaps, channels, h, w = arr.shape
    xmaps = min(nrow, nmaps)
    ymaps = int(math.ceil(float(nmaps) / xmaps))
    height, width = h + padding, w + padding
    grid = np.full((channels, height * ymaps + padding, width * xmaps + padding), pad_value,
                   dtype=arr.dtype)
    for k in range(nmaps):
        y, x = divmod(k, xmaps)
        top, left = y * height + padding, x * width + padding
        grid[:, top:top + h, left:left + w] = arr[k]
    return tm.from_numpy(grid)


def save_image(tensor, fp, format: str | None = None, **kwargs) -> None:
    """Saves a tensor (or a batch, as a make_grid grid) with values in [0, 1] as an image.

    `fp` is a path or a file object; `format` overrides the format the name implies;
    other keyword arguments go to make_grid.
    """
    grid = _to_numpy(make_grid(tensor, **kwargs))
    # scale to [0, 255] and round half up, like torchvision
    ndarr = np.clip(grid * 255 + 0.5, 0, 255).astype(np.uint8).transpose(1, 2, 0)
    Image.fromarray(np.ascontiguousarray(ndarr)).save(fp, format=format)


def _generate_color_palette(num_objects: int) -> list[tuple[int, int, int]]:
    palette = np.array([2**25 - 1, 2**15 - 1, 2**21 - 1])
    return [tuple(int(c) for c in (i * palette) % 255) for i in range(num_objects)]


def _parse_colors(colors, num_objects: int) -> list[tuple[int, ...]]:
    """One RGB tuple per object from None (a palette), a colour, or a list of colours."""
    if colors is None:
        colors = _generate_color_palette(num_objects)
    elif isinstance(colors, list):
        if len(colors) < num_objects:
            raise ValueError(f"Number of colors must be equal or larger than the number of "
                             f"objects, but got {len(colors)} < {num_objects}.")
    elif not isinstance(colors, (tuple, str)):
        raise ValueError(f"colors must be a tuple or a string, or a list thereof, but got "
                         f"{colors}.")
    elif isinstance(colors, tuple) and len(colors) != 3:
        raise ValueError(f"If passed as tuple, colors should be an RGB triplet, but got "
                         f"{colors}.")
    else:
        colors = [colors] * num_objects
    return [ImageColor.getrgb(c) if isinstance(c, str) else tuple(int(v) for v in c)
            for c in colors[:num_objects]]


def _check_image(image) -> None:
    if not isinstance(image, Tensor):
        raise TypeError(f"Tensor expected, got {type(image)}")
    if image.dtype != tm.uint8 and not image.is_floating_point():
        raise ValueError(f"The image dtype must be uint8 or float, got {image.dtype}")
    if image.ndim != 3:
        raise ValueError("Pass individual images, not batches")
    if image.shape[0] not in {1, 3}:
        raise ValueError("Only grayscale and RGB images are supported")


def _to_uint8_hwc(image: Tensor) -> np.ndarray:
    """(H, W, 3) uint8 copy of a (1 or 3, H, W) uint8 or [0, 1] float image."""
    arr = _to_numpy(image)
    if image.is_floating_point():
        arr = (arr * 255).astype(np.uint8)
    if arr.shape[0] == 1:
        arr = np.repeat(arr, 3, axis=0)
    return np.ascontiguousarray(arr.transpose(1, 2, 0))


def _from_uint8_hwc(arr: np.ndarray, like: Tensor) -> Tensor:
    out = np.ascontiguousarray(arr.transpose(2, 0, 1))
    if like.is_floating_point():
        return tm.from_numpy(out.astype(like.dtype.np) / 255)
    return tm.from_numpy(out)


def draw_bounding_boxes(image: Tensor, boxes: Tensor, labels=None, colors=None,
                        fill: bool = False, width: int = 1, font: str | None = None,
                        font_size: int | None = None, label_colors=None) -> Tensor:
    """Draws (xmin, ymin, xmax, ymax) boxes, and optional labels, on a (C, H, W) image.

    Returns an RGB image of the input's dtype (uint8, or float in [0, 1]).
    """
    _check_image(image)
    num_boxes = boxes.shape[0]
    if num_boxes == 0:
        return image
    box_arr = _to_numpy(boxes)
    if (box_arr[:, 0] > box_arr[:, 2]).any() or (box_arr[:, 1] > box_arr[:, 3]).any():
        raise ValueError("Boxes need to be in (xmin, ymin, xmax, ymax) format. Use "
                         "torchvision.ops.box_convert to convert them")
    if labels is not None and len(labels) != num_boxes:
        raise ValueError(f"Number of boxes ({num_boxes}) and labels ({len(labels)}) mismatch. "
                         "Please specify labels for each box.")
    colors = _parse_colors(colors, num_boxes)
    label_colors = _parse_colors(label_colors, num_boxes) if label_colors else colors
    if font is None:
        txt_font = ImageFont.load_default() if font_size is None else \
            ImageFont.load_default(size=font_size)
    else:
        txt_font = ImageFont.truetype(font=font, size=font_size or 10)

    pil = Image.fromarray(_to_uint8_hwc(image))
    draw = ImageDraw.Draw(pil, "RGBA" if fill else None)
    for i, bbox in enumerate(box_arr.astype(np.int64).tolist()):
        color = colors[i]
        if fill:
            draw.rectangle(bbox, width=width, outline=color, fill=color + (100,))
        else:
            draw.rectangle(bbox, width=width, outline=color)
        if labels is not None and labels[i] is not None:
            margin = width + 1
            draw.text((bbox[0] + margin, bbox[1] + margin), str(labels[i]),
                      fill=label_colors[i], font=txt_font)
    return _from_uint8_hwc(np.asarray(pil), image)


def draw_segmentation_masks(image: Tensor, masks: Tensor, alpha: float = 0.8,
                            colors=None) -> Tensor:
    """Overlays boolean masks ((N, H, W) or (H, W)) on an image, blended with `alpha`."""
    _check_image(image)
    if masks.ndim == 2:
        masks = masks.unsqueeze(0)
    if masks.ndim != 3:
        raise ValueError("masks must be of shape (H, W) or (batch_size, H, W)")
    if masks.dtype != tm.bool:
        raise ValueError(f"The masks must be of dtype bool. Got {masks.dtype}")
    if tuple(masks.shape[-2:]) != tuple(image.shape[-2:]):
        raise ValueError("The image and the masks must have the same height and width")
    num_masks = masks.shape[0]
    if num_masks == 0:
        return image
    colors = _parse_colors(colors, num_masks)
    img = _to_numpy(image)
    if img.shape[0] == 1:
        img = np.repeat(img, 3, axis=0)
    work = img.astype(np.float64)
    scale = 1.0 if image.is_floating_point() else 255.0
    drawn = work.copy()
    for mask, color in zip(_to_numpy(masks), colors):
        drawn[:, mask] = (np.asarray(color, dtype=np.float64) / 255.0 * scale)[:, None]
    out = work * (1 - alpha) + drawn * alpha
    return tm.from_numpy(out.astype(img.dtype))


def draw_keypoints(image: Tensor, keypoints: Tensor, connectivity=None, colors=None,
                   radius: int = 2, width: int = 3, visibility: Tensor | None = None
                   ) -> Tensor:
    """Draws (num_instances, K, 2) keypoints as dots, joined by the `connectivity` pairs.

    colors: one colour for all instances, a list with one per instance, or None (a palette).
    """
    _check_image(image)
    if keypoints.ndim != 3:
        raise ValueError("keypoints must be of shape (num_instances, K, 2)")
    kpts = _to_numpy(keypoints)
    vis = (np.ones(kpts.shape[:2], dtype=bool) if visibility is None
           else _to_numpy(visibility).astype(bool).reshape(kpts.shape[:2]))
    instance_colors = _parse_colors(colors, len(kpts))
    pil = Image.fromarray(_to_uint8_hwc(image))
    draw = ImageDraw.Draw(pil)
    for points, shown, c in zip(kpts, vis, instance_colors):
        for (x, y), ok in zip(points.tolist(), shown):
            if ok:
                draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=c,
                             outline=None, width=0)
        for start, end in connectivity or ():
            if shown[start] and shown[end]:
                draw.line([tuple(points[start]), tuple(points[end])], width=width, fill=c)
    return _from_uint8_hwc(np.asarray(pil), image)
