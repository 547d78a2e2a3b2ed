"""Image operations on PIL images, as torchvision's PIL backend does them (mostly Pillow's own
ImageOps / ImageEnhance / Image.transform)."""

from __future__ import annotations

import numbers

import numpy as np
from PIL import Image, ImageEnhance, ImageOps

_FLIP_LEFT_RIGHT = Image.Transpose.FLIP_LEFT_RIGHT
_FLIP_TOP_BOTTOM = Image.Transpose.FLIP_TOP_BOTTOM


def _is_pil_image(img) -> bool:
    return isinstance(img, Image.Image)


def _assert_pil(img) -> None:
    if not _is_pil_image(img):
        raise TypeError(f"img should be PIL Image. Got {type(img)}")


def get_dimensions(img) -> list[int]:
    _assert_pil(img)
    channels = len(img.getbands())
    width, height = img.size
    return [channels, height, width]


def get_image_size(img) -> list[int]:
    _assert_pil(img)
    return list(img.size)


def get_image_num_channels(img) -> int:
    _assert_pil(img)
    return len(img.getbands())


def hflip(img):
    _assert_pil(img)
    return img.transpose(_FLIP_LEFT_RIGHT)


def vflip(img):
    _assert_pil(img)
    return img.transpose(_FLIP_TOP_BOTTOM)


def adjust_brightness(img, brightness_factor: float):
    _assert_pil(img)
    return ImageEnhance.Brightness(img).enhance(brightness_factor)


def adjust_contrast(img, contrast_factor: float):
    _assert_pil(img)
    return ImageEnhance.Contrast(img).enhance(contrast_factor)


def adjust_saturation(img, saturation_factor: float):
    _assert_pil(img)
    return ImageEnhance.Color(img).enhance(saturation_factor)


def adjust_sharpness(img, sharpness_factor: float):
    _assert_pil(img)
    return ImageEnhance.Sharpness(img).enhance(sharpness_factor)


def adjust_hue(img, hue_factor: float):
    if not -0.5 <= hue_factor <= 0.5:
        raise ValueError(f"hue_factor ({hue_factor}) is not in [-0.5, 0.5].")
    _assert_pil(img)
    input_mode = img.mode
    if input_mode in {"L", "1", "I", "F"}:
        return img
    h, s, v = img.convert("HSV").split()
    np_h = np.array(h, dtype=np.uint8)
    # the hue channel is an angle on 0..255: uint8 wrap-around is the rotation we want
    np_h += np.array(int(hue_factor * 255)).astype(np.uint8)
    h = Image.fromarray(np_h)
    return Image.merge("HSV", (h, s, v)).convert(input_mode)


def adjust_gamma(img, gamma: float, gain: float = 1.0):
    _assert_pil(img)
    if gamma < 0:
        raise ValueError("Gamma should be a non-negative real number")
    input_mode = img.mode
    img = img.convert("RGB")
    table = [int((255 + 1 - 1e-3) * gain * pow(v / 255.0, gamma)) for v in range(256)] * 3
    return img.point(table).convert(input_mode)


def invert(img):
    _assert_pil(img)
    return ImageOps.invert(img)


def posterize(img, bits: int):
    _assert_pil(img)
    return ImageOps.posterize(img, bits)


def solarize(img, threshold: float):
    _assert_pil(img)
    return ImageOps.solarize(img, threshold)


def autocontrast(img):
    _assert_pil(img)
    return ImageOps.autocontrast(img)


def equalize(img):
    _assert_pil(img)
    return ImageOps.equalize(img)


def to_grayscale(img, num_output_channels: int = 1):
    _assert_pil(img)
    if num_output_channels == 1:
        return img.convert("L")
    if num_output_channels == 3:
        gray = np.array(img.convert("L"), dtype=np.uint8)
        return Image.fromarray(np.dstack([gray, gray, gray]))
    raise ValueError("num_output_channels should be either 1 or 3")


def _parse_fill(fill, img, name: str = "fillcolor") -> dict:
    """Pillow's fill argument: one value per band, ints unless the image is float ("F")."""
    num_channels = get_image_num_channels(img)
    if fill is None:
        fill = 0
    if isinstance(fill, (int, float)) and num_channels > 1:
        fill = tuple([fill] * num_channels)
    if isinstance(fill, (list, tuple)):
        if len(fill) == 1:
            fill = fill * num_channels
        elif len(fill) != num_channels:
            raise ValueError("The number of elements in 'fill' does not match the number of "
                             f"channels of the image ({len(fill)} != {num_channels})")
        fill = tuple(fill)
    if img.mode != "F":
        fill = tuple(int(x) for x in fill) if isinstance(fill, tuple) else int(fill)
    return {name: fill}


def pad(img, padding, fill=0, padding_mode: str = "constant"):
    _assert_pil(img)
    if not isinstance(padding, (numbers.Number, tuple, list)):
        raise TypeError("Got inappropriate padding arg")
    if fill is not None and not isinstance(fill, (numbers.Number, tuple, list)):
        raise TypeError("Got inappropriate fill arg")
    if not isinstance(padding_mode, str):
        raise TypeError("Got inappropriate padding_mode arg")
    if isinstance(padding, list):
        padding = tuple(padding)
    if isinstance(padding, tuple) and len(padding) not in (1, 2, 4):
        raise ValueError("Padding must be an int or a 1, 2, or 4 element tuple, not a "
                         f"{len(padding)} element tuple")
    if isinstance(padding, tuple) and len(padding) == 1:
        padding = padding[0]
    if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
        raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")

    if isinstance(padding, int):
        left = right = top = bottom = padding
    elif len(padding) == 2:
        left = right = padding[0]
        top = bottom = padding[1]
    else:
        left, top, right, bottom = padding

    if padding_mode == "constant":
        opts = _parse_fill(fill, img, name="fill")
        if img.mode == "P":
            palette = img.getpalette()
            out = ImageOps.expand(img, border=(left, top, right, bottom), **opts)
            out.putpalette(palette)
            return out
        if min(left, top, right, bottom) >= 0:
            return ImageOps.expand(img, border=(left, top, right, bottom), **opts)
        # negative padding crops: pad what is positive, then crop
        out = ImageOps.expand(img, border=(max(left, 0), max(top, 0), max(right, 0),
                                           max(bottom, 0)), **opts)
        w, h = out.size
        return out.crop((-min(left, 0), -min(top, 0), w + min(right, 0), h + min(bottom, 0)))

    # other modes go through numpy.pad, after cropping away negative padding
    w, h = img.size
    if min(left, top, right, bottom) < 0:
        img = img.crop((-min(left, 0), -min(top, 0), w + min(right, 0), h + min(bottom, 0)))
        left, top, right, bottom = (max(v, 0) for v in (left, top, right, bottom))
    arr = np.asarray(img)
    widths = ((top, bottom), (left, right)) + (((0, 0),) if arr.ndim == 3 else ())
    padded = np.ascontiguousarray(np.pad(arr, widths, mode=padding_mode))
    if img.mode != "P":
        return Image.fromarray(padded)
    # palette indices were padded: rebuild a "P" image with the same palette
    out = Image.frombuffer("P", (padded.shape[1], padded.shape[0]), padded.tobytes(), "raw",
                           "P", 0, 1)
    out.putpalette(img.getpalette())
    return out


def crop(img, top: int, left: int, height: int, width: int):
    _assert_pil(img)
    return img.crop((left, top, left + width, top + height))


def resize(img, size: list[int], interpolation=Image.BILINEAR):
    _assert_pil(img)
    if not (isinstance(size, (list, tuple)) and len(size) == 2):
        raise TypeError(f"Got inappropriate size arg: {size}")
    return img.resize(tuple(size[::-1]), interpolation)


def affine(img, matrix: list[float], interpolation=Image.NEAREST, fill=None):
    _assert_pil(img)
    return img.transform(img.size, Image.AFFINE, matrix, interpolation, **_parse_fill(fill, img))


def rotate(img, angle: float, interpolation=Image.NEAREST, expand: bool = False, center=None,
           fill=None):
    _assert_pil(img)
    return img.rotate(angle, interpolation, expand, center, **_parse_fill(fill, img))


def perspective(img, perspective_coeffs: list[float], interpolation=Image.BICUBIC, fill=None):
    _assert_pil(img)
    return img.transform(img.size, Image.PERSPECTIVE, perspective_coeffs, interpolation,
                         **_parse_fill(fill, img))
