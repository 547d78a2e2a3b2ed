"""Functional transforms: torchvision.transforms.functional's API on PIL images and tensors.

Each function takes a PIL image or a tensor of shape (..., C, H, W) (a batch where
torchvision allows it) and dispatches to the PIL or the tensor implementation.
"""

from __future__ import annotations

import math
import numbers
import sys
import warnings
from enum import Enum

import numpy as np
from PIL import Image

import taimatsu as tm
from taimatsu import Tensor

from . import _functional_pil as F_pil
from . import _functional_tensor as F_t

__all__ = ["InterpolationMode", "get_dimensions", "get_image_size", "get_image_num_channels",
           "to_tensor", "pil_to_tensor", "convert_image_dtype", "to_pil_image", "normalize",
           "resize", "pad", "crop", "center_crop", "resized_crop", "hflip", "vflip",
           "perspective", "five_crop", "ten_crop", "adjust_brightness", "adjust_contrast",
           "adjust_saturation", "adjust_hue", "adjust_gamma", "rotate", "affine",
           "to_grayscale", "rgb_to_grayscale", "erase", "gaussian_blur", "invert",
           "posterize", "solarize", "adjust_sharpness", "autocontrast", "equalize"]


class InterpolationMode(Enum):
    """Interpolation modes; tensors support NEAREST, NEAREST_EXACT, BILINEAR and BICUBIC."""

    NEAREST = "nearest"
    NEAREST_EXACT = "nearest-exact"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    # PIL only
    BOX = "box"
    HAMMING = "hamming"
    LANCZOS = "lanczos"


pil_modes_mapping = {
    InterpolationMode.NEAREST: Image.Resampling.NEAREST,
    InterpolationMode.NEAREST_EXACT: Image.Resampling.NEAREST,
    InterpolationMode.BILINEAR: Image.Resampling.BILINEAR,
    InterpolationMode.BICUBIC: Image.Resampling.BICUBIC,
    InterpolationMode.BOX: Image.Resampling.BOX,
    InterpolationMode.HAMMING: Image.Resampling.HAMMING,
    InterpolationMode.LANCZOS: Image.Resampling.LANCZOS,
}

_FROM_PIL_INT = {0: InterpolationMode.NEAREST, 2: InterpolationMode.BILINEAR,
                 3: InterpolationMode.BICUBIC, 4: InterpolationMode.BOX,
                 5: InterpolationMode.HAMMING, 1: InterpolationMode.LANCZOS}


def _interpolation_mode(interpolation) -> InterpolationMode:
    """An InterpolationMode from the enum, its value ("bilinear") or a PIL integer constant."""
    if isinstance(interpolation, InterpolationMode):
        return interpolation
    if isinstance(interpolation, str):
        return InterpolationMode(interpolation)
    if isinstance(interpolation, int) and interpolation in _FROM_PIL_INT:
        return _FROM_PIL_INT[interpolation]
    raise TypeError("Argument interpolation should be of type InterpolationMode instead of "
                    f"{type(interpolation).__name__}")


def _is_pil_image(img) -> bool:
    return isinstance(img, Image.Image)


def _check_image(img) -> None:
    if not isinstance(img, Tensor) and not _is_pil_image(img):
        raise TypeError(f"img should be PIL Image or Tensor. Got {type(img)}")


def get_dimensions(img) -> list[int]:
    """[channels, height, width] of an image."""
    if isinstance(img, Tensor):
        return F_t.get_dimensions(img)
    return F_pil.get_dimensions(img)


def get_image_size(img) -> list[int]:
    """[width, height] of an image."""
    if isinstance(img, Tensor):
        _, h, w = F_t.get_dimensions(img)
        return [w, h]
    return F_pil.get_image_size(img)


def get_image_num_channels(img) -> int:
    if isinstance(img, Tensor):
        return F_t.get_dimensions(img)[0]
    return F_pil.get_image_num_channels(img)


# -- conversions ---------------------------------------------------------------------------------

def _is_numpy_image(img) -> bool:
    return img.ndim in (2, 3)


def to_tensor(pic) -> Tensor:
    """PIL image or (H, W, C) ndarray -> (C, H, W) tensor; uint8 data scales to [0, 1]."""
    if not (_is_pil_image(pic) or isinstance(pic, np.ndarray)):
        raise TypeError(f"pic should be PIL Image or ndarray. Got {type(pic)}")
    if isinstance(pic, np.ndarray):
        if not _is_numpy_image(pic):
            raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
        arr = pic[:, :, None] if pic.ndim == 2 else pic
    else:
        wide = {"I": np.int32, "F": np.float32,
                ("I;16" if sys.byteorder == "little" else "I;16B"): np.int16}
        arr = np.array(pic, wide.get(pic.mode, np.uint8), copy=True)
        if pic.mode == "1":
            arr = arr * np.uint8(255)
        arr = arr.reshape(pic.size[1], pic.size[0], len(pic.getbands()))
    arr = np.ascontiguousarray(arr.transpose(2, 0, 1))
    if arr.dtype == np.uint8:
        default = tm.get_default_dtype().np
        return tm.from_numpy(arr.astype(default) / default.type(255))
    return tm.from_numpy(arr)


def pil_to_tensor(pic) -> Tensor:
    """PIL image -> (C, H, W) tensor of the image's own dtype (no scaling)."""
    if not _is_pil_image(pic):
        raise TypeError(f"pic should be PIL Image. Got {type(pic)}")
    arr = np.array(pic, copy=True)
    if arr.dtype == np.uint16:  # taimatsu has no uint16: widen losslessly
        arr = arr.astype(np.int32)
    elif arr.dtype.byteorder == ">":
        arr = arr.astype(arr.dtype.newbyteorder("="))
    arr = arr.reshape(pic.size[1], pic.size[0], len(pic.getbands()))
    return tm.from_numpy(np.ascontiguousarray(arr.transpose(2, 0, 1)))


def convert_image_dtype(image: Tensor, dtype=tm.float32) -> Tensor:
    """Converts an image tensor's dtype, rescaling values to the new type's range."""
    if not isinstance(image, Tensor):
        raise TypeError("Input img should be Tensor Image")
    return F_t.convert_image_dtype(image, dtype)


_MODES_BY_CHANNELS = {2: ["LA"], 3: ["RGB", "YCbCr", "HSV"], 4: ["RGBA", "CMYK", "RGBX"]}
_DEFAULT_MODE = {2: "LA", 3: "RGB", 4: "RGBA"}
_SINGLE_CHANNEL_MODE = {np.dtype(np.uint8): "L", np.dtype(np.int16): "I;16",
                        np.dtype(np.int32): "I", np.dtype(np.float32): "F"}


def to_pil_image(pic, mode: str | None = None):
    """(C, H, W) tensor or (H, W, C) ndarray -> PIL image; floats are scaled by 255."""
    if isinstance(pic, Tensor):
        if pic.ndim == 3:
            pic = pic.permute(1, 2, 0)
        pic = pic.detach().cpu().numpy()
    elif not isinstance(pic, np.ndarray):
        raise TypeError(f"pic should be Tensor or ndarray. Got {type(pic)}.")
    if pic.ndim == 2:
        pic = np.expand_dims(pic, 2)
    if pic.ndim != 3:
        raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
    if pic.shape[-1] > 4:
        raise ValueError(f"pic should not have > 4 channels. Got {pic.shape[-1]} channels.")
    npimg = pic
    if np.issubdtype(npimg.dtype, np.floating) and mode != "F":
        npimg = (npimg * 255).astype(np.uint8)
    channels = npimg.shape[2]
    if channels == 1:
        npimg = npimg[:, :, 0]
        expected = _SINGLE_CHANNEL_MODE.get(npimg.dtype)
        if mode is not None and mode != expected:
            raise ValueError(f"Incorrect mode ({mode}) supplied for input type {npimg.dtype}. "
                             f"Should be {expected}")
        mode = expected
    else:
        permitted = _MODES_BY_CHANNELS[channels]
        if mode is not None and mode not in permitted:
            raise ValueError(f"Only modes {permitted} are supported for {channels}D inputs")
        if mode is None and npimg.dtype == np.uint8:
            mode = _DEFAULT_MODE[channels]
    if mode is None:
        raise TypeError(f"Input type {npimg.dtype} is not supported")
    return Image.fromarray(np.ascontiguousarray(npimg), mode=mode)


def normalize(tensor: Tensor, mean, std, inplace: bool = False) -> Tensor:
    """(tensor - mean) / std per channel of a float (..., C, H, W) tensor."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"img should be Tensor Image. Got {type(tensor)}")
    return F_t.normalize(tensor, mean=mean, std=std, inplace=inplace)


# -- geometry ------------------------------------------------------------------------------------

def _compute_resized_output_size(image_size: tuple[int, int], size, max_size=None
                                 ) -> list[int]:
    """[new_h, new_w]; an int size (or [s]) sets the shorter edge, keeping the aspect."""
    h, w = image_size
    short, long = (w, h) if w <= h else (h, w)
    if size is None:  # only max_size: the longer edge becomes max_size
        new_short, new_long = int(max_size * short / long), max_size
    elif len(size) == 1:
        requested_new_short = size[0]
        new_short, new_long = requested_new_short, int(requested_new_short * long / short)
        if max_size is not None:
            if max_size <= requested_new_short:
                raise ValueError(f"max_size = {max_size} must be strictly greater than the "
                                 f"requested size for the smaller edge size = {size}")
            if new_long > max_size:
                new_short, new_long = int(max_size * new_short / new_long), max_size
    else:
        return [size[0], size[1]]
    new_w, new_h = (new_short, new_long) if w <= h else (new_long, new_short)
    return [new_h, new_w]


def resize(img, size, interpolation=InterpolationMode.BILINEAR, max_size=None,
           antialias: bool | None = True):
    """Resizes to `size` ((h, w), or the shorter edge when an int / [int])."""
    _check_image(img)
    interpolation = _interpolation_mode(interpolation)
    if isinstance(size, (list, tuple)):
        if len(size) not in (1, 2):
            raise ValueError("If size is a sequence, it should have 1 or 2 values")
        if max_size is not None and len(size) != 1:
            raise ValueError("max_size should only be passed if size specifies the length of "
                             "the smaller edge, i.e. size should be an int or a sequence of "
                             "length 1 in torchscript mode.")
        size = list(size)
    elif isinstance(size, int):
        size = [size]
    elif size is None:
        if max_size is None:
            raise ValueError("size can only be None if max_size is also given")
    else:
        raise TypeError(f"Size should be int or sequence. Got {type(size)}")
    _, image_height, image_width = get_dimensions(img)
    output_size = _compute_resized_output_size((image_height, image_width), size, max_size)
    if [image_height, image_width] == output_size:
        return img
    if not isinstance(img, Tensor):
        if antialias is False:
            warnings.warn("Anti-alias option is always applied for PIL Image input. Argument "
                          "antialias is ignored.")
        return F_pil.resize(img, output_size, pil_modes_mapping[interpolation])
    return F_t.resize(img, output_size, interpolation.value, antialias)


def pad(img, padding, fill=0, padding_mode: str = "constant"):
    """Pads every side (int), left/right and top/bottom (2), or left, top, right, bottom (4)."""
    _check_image(img)
    if isinstance(img, Tensor):
        return F_t.pad(img, padding, fill, padding_mode)
    return F_pil.pad(img, padding, fill, padding_mode)


def crop(img, top: int, left: int, height: int, width: int):
    """Crops the box at (top, left) of the given size; outside the image reads as zeros."""
    _check_image(img)
    if isinstance(img, Tensor):
        return F_t.crop(img, top, left, height, width)
    return F_pil.crop(img, top, left, height, width)


def _crop_size(output_size) -> tuple[int, int]:
    if isinstance(output_size, numbers.Number):
        return int(output_size), int(output_size)
    if isinstance(output_size, (tuple, list)) and len(output_size) == 1:
        return output_size[0], output_size[0]
    return tuple(output_size)


def center_crop(img, output_size):
    """Crops the centre; pads with zeros when the crop is larger than the image."""
    _check_image(img)
    crop_height, crop_width = _crop_size(output_size)
    _, image_height, image_width = get_dimensions(img)
    if crop_width > image_width or crop_height > image_height:
        padding_ltrb = [
            (crop_width - image_width) // 2 if crop_width > image_width else 0,
            (crop_height - image_height) // 2 if crop_height > image_height else 0,
            (crop_width - image_width + 1) // 2 if crop_width > image_width else 0,
            (crop_height - image_height + 1) // 2 if crop_height > image_height else 0,
        ]
        img = pad(img, padding_ltrb, fill=0)
        _, image_height, image_width = get_dimensions(img)
        if crop_width == image_width and crop_height == image_height:
            return img
    crop_top = int(round((image_height - crop_height) / 2.0))
    crop_left = int(round((image_width - crop_width) / 2.0))
    return crop(img, crop_top, crop_left, crop_height, crop_width)


def resized_crop(img, top: int, left: int, height: int, width: int, size,
                 interpolation=InterpolationMode.BILINEAR, antialias: bool | None = True):
    """crop, then resize to `size`."""
    img = crop(img, top, left, height, width)
    return resize(img, size, interpolation, antialias=antialias)


def hflip(img):
    _check_image(img)
    if isinstance(img, Tensor):
        return F_t.hflip(img)
    return F_pil.hflip(img)


def vflip(img):
    _check_image(img)
    if isinstance(img, Tensor):
        return F_t.vflip(img)
    return F_pil.vflip(img)


def _get_perspective_coeffs(startpoints, endpoints) -> list[float]:
    """The 8 coefficients of the homography taking endpoints to startpoints (least squares)."""
    if len(startpoints) != 4 or len(endpoints) != 4:
        raise ValueError(f"Please provide exactly four corners, got {len(startpoints)} "
                         f"startpoints and {len(endpoints)} endpoints.")
    a = np.zeros((8, 8), dtype=np.float64)
    for i, (p1, p2) in enumerate(zip(endpoints, startpoints)):
        a[2 * i] = [p1[0], p1[1], 1, 0, 0, 0, -p2[0] * p1[0], -p2[0] * p1[1]]
        a[2 * i + 1] = [0, 0, 0, p1[0], p1[1], 1, -p2[1] * p1[0], -p2[1] * p1[1]]
    b = np.asarray(startpoints, dtype=np.float64).reshape(8)
    res = np.linalg.lstsq(a, b, rcond=None)[0].astype(np.float32)
    return [float(v) for v in res]


def perspective(img, startpoints, endpoints, interpolation=InterpolationMode.BILINEAR,
                fill=None):
    """Warps so that the four `startpoints` corners land on `endpoints` ([x, y] each)."""
    _check_image(img)
    coeffs = _get_perspective_coeffs(startpoints, endpoints)
    interpolation = _interpolation_mode(interpolation)
    if not isinstance(img, Tensor):
        return F_pil.perspective(img, coeffs, pil_modes_mapping[interpolation], fill)
    return F_t.perspective(img, coeffs, interpolation.value, fill)


def five_crop(img, size):
    """The four corner crops and the centre crop: (tl, tr, bl, br, center)."""
    if isinstance(size, numbers.Number):
        size = (int(size), int(size))
    elif isinstance(size, (tuple, list)) and len(size) == 1:
        size = (size[0], size[0])
    if len(size) != 2:
        raise ValueError("Please provide only two dimensions (h, w) for size.")
    _, image_height, image_width = get_dimensions(img)
    crop_height, crop_width = size
    if crop_width > image_width or crop_height > image_height:
        raise ValueError(f"Requested crop size {size} is bigger than input size "
                         f"{(image_height, image_width)}")
    tl = crop(img, 0, 0, crop_height, crop_width)
    tr = crop(img, 0, image_width - crop_width, crop_height, crop_width)
    bl = crop(img, image_height - crop_height, 0, crop_height, crop_width)
    br = crop(img, image_height - crop_height, image_width - crop_width, crop_height,
              crop_width)
    center = center_crop(img, [crop_height, crop_width])
    return tl, tr, bl, br, center


def ten_crop(img, size, vertical_flip: bool = False):
    """five_crop of the image and of its (horizontally, or vertically) flipped copy."""
    if isinstance(size, numbers.Number):
        size = (int(size), int(size))
    elif isinstance(size, (tuple, list)) and len(size) == 1:
        size = (size[0], size[0])
    if len(size) != 2:
        raise ValueError("Please provide only two dimensions (h, w) for size.")
    first_five = five_crop(img, size)
    flipped = vflip(img) if vertical_flip else hflip(img)
    return first_five + five_crop(flipped, size)


def _get_inverse_affine_matrix(center, angle: float, translate, scale: float, shear,
                               inverted: bool = True) -> list[float]:
    """The (inverse) affine matrix of rotation, scale, shear and translation about a centre.

    The forward map is M = T * C * RotateScaleShear * C^-1 (T translation, C centre),
    RotateScaleShear = Rotate(a) * Shear(sx, sy) * Scale(s) with a shear that leaves the
    rotation axis direction unchanged; grid-based warps need its inverse.
    """
    rot = math.radians(angle)
    sx, sy = math.radians(shear[0]), math.radians(shear[1])
    cx, cy = center
    tx, ty = translate
    a = math.cos(rot - sy) / math.cos(sy)
    b = -math.cos(rot - sy) * math.tan(sx) / math.cos(sy) - math.sin(rot)
    c = math.sin(rot - sy) / math.cos(sy)
    d = -math.sin(rot - sy) * math.tan(sx) / math.cos(sy) + math.cos(rot)
    if inverted:
        matrix = [d, -b, 0.0, -c, a, 0.0]
        matrix = [x / scale for x in matrix]
        matrix[2] += matrix[0] * (-cx - tx) + matrix[1] * (-cy - ty)
        matrix[5] += matrix[3] * (-cx - tx) + matrix[4] * (-cy - ty)
        matrix[2] += cx
        matrix[5] += cy
    else:
        matrix = [a, b, 0.0, c, d, 0.0]
        matrix = [x * scale for x in matrix]
        matrix[2] += matrix[0] * (-cx) + matrix[1] * (-cy)
        matrix[5] += matrix[3] * (-cx) + matrix[4] * (-cy)
        matrix[2] += cx + tx
        matrix[5] += cy + ty
    return matrix


def _fill_for_tensor(fill):
    if isinstance(fill, (int, float)):
        return [float(fill)]
    if fill is None:
        return None
    return [float(f) for f in fill]


def rotate(img, angle: float, interpolation=InterpolationMode.NEAREST, expand: bool = False,
           center=None, fill=None):
    """Rotates counter-clockwise by `angle` degrees about `center` (default: the centre)."""
    _check_image(img)
    if not isinstance(angle, (int, float)):
        raise TypeError("Argument angle should be int or float")
    if center is not None and not isinstance(center, (list, tuple)):
        raise TypeError("Argument center should be a sequence")
    interpolation = _interpolation_mode(interpolation)
    if not isinstance(img, Tensor):
        return F_pil.rotate(img, angle, pil_modes_mapping[interpolation], expand, center,
                            fill)
    center_f = [0.0, 0.0]
    if center is not None:
        _, height, width = get_dimensions(img)
        # centre relative to the image centre, in pixels
        center_f = [1.0 * (c - s * 0.5) for c, s in zip(center, [width, height])]
    # the grid maps output to input pixels, hence the inverse rotation (-angle)
    matrix = _get_inverse_affine_matrix(center_f, -angle, [0.0, 0.0], 1.0, [0.0, 0.0])
    return F_t.rotate(img, matrix, interpolation.value, expand, _fill_for_tensor(fill))


def _parse_shear(shear) -> list[float]:
    if isinstance(shear, numbers.Number):
        return [float(shear), 0.0]
    if not isinstance(shear, (list, tuple)):
        raise TypeError(f"Shear should be either a single value or a sequence of two values. "
                        f"Got {type(shear)}")
    if len(shear) == 1:
        return [float(shear[0]), float(shear[0])]
    if len(shear) != 2:
        raise ValueError(f"Shear should be a sequence containing two values. Got {shear}")
    return [float(s) for s in shear]


def affine(img, angle: float, translate, scale: float, shear,
           interpolation=InterpolationMode.NEAREST, fill=None, center=None):
    """Rotation by `angle`, translation, scale and shear (degrees) about `center`."""
    _check_image(img)
    if not isinstance(angle, (int, float)):
        raise TypeError("Argument angle should be int or float")
    if not isinstance(translate, (list, tuple)):
        raise TypeError("Argument translate should be a sequence")
    if len(translate) != 2:
        raise ValueError("Argument translate should be a sequence of length 2")
    if scale <= 0.0:
        raise ValueError("Argument scale should be positive")
    shear = _parse_shear(shear)
    if center is not None and not isinstance(center, (list, tuple)):
        raise TypeError("Argument center should be a sequence")
    interpolation = _interpolation_mode(interpolation)
    _, height, width = get_dimensions(img)
    if not isinstance(img, Tensor):
        # PIL's centre without the half-pixel offset, so 90 degrees matches a tensor rot90
        if center is None:
            center = [width * 0.5, height * 0.5]
        matrix = _get_inverse_affine_matrix(center, angle, translate, scale, shear)
        return F_pil.affine(img, matrix, pil_modes_mapping[interpolation], fill)
    center_f = [0.0, 0.0]
    if center is not None:
        center_f = [1.0 * (c - s * 0.5) for c, s in zip(center, [width, height])]
    translate_f = [1.0 * t for t in translate]
    matrix = _get_inverse_affine_matrix(center_f, angle, translate_f, scale, shear)
    return F_t.affine(img, matrix, interpolation.value, _fill_for_tensor(fill))


# -- colour --------------------------------------------------------------------------------------

def _check_factor(value: float, name: str) -> None:
    if value < 0:
        raise ValueError(f"{name} ({value}) is not non-negative.")


def adjust_brightness(img, brightness_factor: float):
    """Blends with black: 0 gives black, 1 the original, 2 twice as bright."""
    _check_image(img)
    _check_factor(brightness_factor, "brightness_factor")
    if isinstance(img, Tensor):
        return F_t.adjust_brightness(img, brightness_factor)
    return F_pil.adjust_brightness(img, brightness_factor)


def adjust_contrast(img, contrast_factor: float):
    """Blends with the mean grey level: 0 gives flat grey, 1 the original."""
    _check_image(img)
    _check_factor(contrast_factor, "contrast_factor")
    if isinstance(img, Tensor):
        return F_t.adjust_contrast(img, contrast_factor)
    return F_pil.adjust_contrast(img, contrast_factor)


def adjust_saturation(img, saturation_factor: float):
    """Blends with the grayscale image: 0 gives black and white, 1 the original."""
    _check_image(img)
    _check_factor(saturation_factor, "saturation_factor")
    if isinstance(img, Tensor):
        return F_t.adjust_saturation(img, saturation_factor)
    return F_pil.adjust_saturation(img, saturation_factor)


def adjust_hue(img, hue_factor: float):
    """Rotates the hue by `hue_factor` turns, in [-0.5, 0.5]."""
    _check_image(img)
    if isinstance(img, Tensor):
        return F_t.adjust_hue(img, hue_factor)
    return F_pil.adjust_hue(img, hue_factor)


def adjust_gamma(img, gamma: float, gain: float = 1):
    """gain * I ** gamma on intensities in [0, 1]."""
    _check_image(img)
    if isinstance(img, Tensor):
        return F_t.adjust_gamma(img, gamma, gain)
    return F_pil.adjust_gamma(img, gamma, gain)


def adjust_sharpness(img, sharpness_factor: float):
    """Blends with a smoothed copy: 0 blurs, 1 is the original, 2 sharpens."""
    _check_image(img)
    _check_factor(sharpness_factor, "sharpness_factor")
    if isinstance(img, Tensor):
        return F_t.adjust_sharpness(img, sharpness_factor)
    return F_pil.adjust_sharpness(img, sharpness_factor)


def to_grayscale(img, num_output_channels: int = 1):
    """PIL image to grayscale (1 or 3 identical channels)."""
    if isinstance(img, Image.Image):
        return F_pil.to_grayscale(img, num_output_channels)
    raise TypeError("Input should be PIL Image")


def rgb_to_grayscale(img, num_output_channels: int = 1):
    """RGB to grayscale with the ITU-R 601-2 luma weights."""
    _check_image(img)
    if isinstance(img, Tensor):
        return F_t.rgb_to_grayscale(img, num_output_channels)
    return F_pil.to_grayscale(img, num_output_channels)


def erase(img: Tensor, i: int, j: int, h: int, w: int, v, inplace: bool = False) -> Tensor:
    """Sets the (h, w) box at row i, column j of a tensor image to v."""
    if not isinstance(img, Tensor):
        raise TypeError(f"img should be Tensor Image. Got {type(img)}")
    return F_t.erase(img, i, j, h, w, v, inplace)


def gaussian_blur(img, kernel_size, sigma=None):
    """Gaussian blur with an odd (kx, ky) kernel and (sx, sy) sigma, reflect padding."""
    _check_image(img)
    if not isinstance(kernel_size, (int, list, tuple)):
        raise TypeError(f"kernel_size should be int or a sequence of integers. Got "
                        f"{type(kernel_size)}")
    if isinstance(kernel_size, int):
        kernel_size = [kernel_size, kernel_size]
    if len(kernel_size) == 1:
        kernel_size = [kernel_size[0], kernel_size[0]]
    if len(kernel_size) != 2:
        raise ValueError(f"If kernel_size is a sequence its length should be 2. Got "
                         f"{len(kernel_size)}")
    for ksize in kernel_size:
        if ksize % 2 == 0 or ksize < 0:
            raise ValueError(f"kernel_size should have odd and positive integers. Got "
                             f"{kernel_size}")
    if sigma is None:
        sigma = [ksize * 0.15 + 0.35 for ksize in kernel_size]
    if not isinstance(sigma, (int, float, list, tuple)):
        raise TypeError(f"sigma should be either float or sequence of floats. Got {type(sigma)}")
    if isinstance(sigma, (int, float)):
        sigma = [float(sigma), float(sigma)]
    if len(sigma) == 1:
        sigma = [sigma[0], sigma[0]]
    if len(sigma) != 2:
        raise ValueError(f"If sigma is a sequence, its length should be 2. Got {len(sigma)}")
    for s in sigma:
        if s <= 0.0:
            raise ValueError(f"sigma should have positive values. Got {sigma}")
    if isinstance(img, Tensor):
        return F_t.gaussian_blur(img, list(kernel_size), [float(s) for s in sigma])
    # PIL images are blurred through the tensor path, as torchvision does
    out = F_t.gaussian_blur(pil_to_tensor(img), list(kernel_size), [float(s) for s in sigma])
    return to_pil_image(out, mode=img.mode)


def invert(img):
    """max - img (1 - img for floats)."""
    _check_image(img)
    if isinstance(img, Tensor):
        return F_t.invert(img)
    return F_pil.invert(img)


def posterize(img, bits: int):
    """Keeps the `bits` most significant bits of each uint8 channel."""
    _check_image(img)
    if not 0 <= bits <= 8:
        raise ValueError(f"The number if bits should be between 0 and 8. Got {bits}")
    if isinstance(img, Tensor):
        return F_t.posterize(img, bits)
    return F_pil.posterize(img, bits)


def solarize(img, threshold: float):
    """Inverts the pixels at or above `threshold`."""
    _check_image(img)
    if isinstance(img, Tensor):
        return F_t.solarize(img, threshold)
    return F_pil.solarize(img, threshold)


def autocontrast(img):
    """Stretches each channel so its darkest pixel is black and its lightest white."""
    _check_image(img)
    if isinstance(img, Tensor):
        return F_t.autocontrast(img)
    return F_pil.autocontrast(img)


def equalize(img):
    """Histogram equalization of each channel (uint8 tensors or PIL images)."""
    _check_image(img)
    if isinstance(img, Tensor):
        return F_t.equalize(img)
    return F_pil.equalize(img)
