"""Reading and writing images as uint8 (C, H, W) tensors, torchvision.io's API over Pillow.

Encoded images travel as 1-D uint8 tensors of the file's bytes (`read_file`,
`encode_png`, `encode_jpeg`); decoded images are (C, H, W) uint8 tensors whose channel
count follows the `ImageReadMode`.
"""

from __future__ import annotations

import io as _io
import os
from enum import Enum

import numpy as np
from PIL import Image, ImageOps

import taimatsu as tm
from taimatsu import Tensor

__all__ = ["ImageReadMode", "read_file", "write_file", "decode_image", "read_image",
           "decode_png", "decode_jpeg", "encode_png", "encode_jpeg", "write_png",
           "write_jpeg"]


class ImageReadMode(Enum):
    """How many channels a decoded image gets (torchvision's values)."""

    UNCHANGED = 0
    GRAY = 1
    GRAY_ALPHA = 2
    RGB = 3
    RGB_ALPHA = 4
    RGBA = 4  # alias of RGB_ALPHA


# ImageReadMode -> the Pillow mode the decoded image is converted to
_PIL_MODE = {ImageReadMode.GRAY: "L", ImageReadMode.GRAY_ALPHA: "LA",
             ImageReadMode.RGB: "RGB", ImageReadMode.RGB_ALPHA: "RGBA"}


_WIDE_MODES = ("I;16", "I;16B", "I;16L", "I")
_EXPANDED = {"P": "RGB", "PA": "RGBA", "1": "L", "F": "L", "CMYK": "RGB", "YCbCr": "RGB",
             "HSV": "RGB", "LAB": "RGB"}


def read_file(path: str) -> Tensor:
    """The bytes of a file as a 1-D uint8 tensor."""
    with open(os.fspath(path), "rb") as f:
        data = f.read()
    return tm.from_numpy(np.frombuffer(data, dtype=np.uint8).copy())


def write_file(filename: str, data: Tensor) -> None:
    """Writes a 1-D uint8 tensor of bytes to a file."""
    _check_bytes(data, "data")
    with open(os.fspath(filename), "wb") as f:
        f.write(data.numpy().tobytes())


def _check_bytes(data, name: str) -> None:
    if not isinstance(data, Tensor):
        raise TypeError(f"Expected a Tensor for {name}, got {type(data).__name__}")
    if data.dtype != tm.uint8:
        raise RuntimeError(f"Expected a torch.uint8 tensor, got {data.dtype}")
    if data.ndim != 1:
        raise RuntimeError(f"Expected a one dimensional tensor, got {data.ndim} dims")


def _mode(mode) -> ImageReadMode:
    if isinstance(mode, str):  # torchvision also takes the names, e.g. "RGB"
        try:
            return ImageReadMode[mode.upper()]
        except KeyError:
            raise ValueError(f"Unknown image read mode {mode!r}; expected one of "
                             f"{[m.name for m in ImageReadMode]}") from None
    return ImageReadMode(mode)


def _open(data) -> Image.Image:
    if isinstance(data, (str, os.PathLike)):
        data = read_file(data)
    _check_bytes(data, "input")
    if data.numel() == 0:
        raise RuntimeError("Input tensor must contain at least one byte (empty file?)")
    try:
        img = Image.open(_io.BytesIO(data.numpy().tobytes()))
        img.load()
    except Exception as exc:  # Pillow raises several types for unreadable data
        raise RuntimeError(f"Unsupported image file or corrupt data: {exc}") from None
    return img


def _to_tensor(img: Image.Image, mode: ImageReadMode, apply_exif_orientation: bool) -> Tensor:
    if apply_exif_orientation:
        img = ImageOps.exif_transpose(img)
    if img.mode in _WIDE_MODES:
        # 16-bit PNGs: taimatsu has no uint16 dtype, so scale to 8 bits (65535 -> 255)
        img = Image.fromarray((np.asarray(img, dtype=np.float64) / 257.0 + 0.5)
                              .clip(0, 255).astype(np.uint8))
    if mode is not ImageReadMode.UNCHANGED:
        img = img.convert(_PIL_MODE[mode])
    elif img.mode in _EXPANDED:
        # palette, bilevel and non-RGB colour images decode to 8-bit L/RGB(A), as libpng
        # and libjpeg do
        target = _EXPANDED[img.mode]
        if img.mode == "P" and "transparency" in img.info:
            target = "RGBA"
        img = img.convert(target)
    arr = np.asarray(img, dtype=np.uint8)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    return tm.from_numpy(np.ascontiguousarray(arr.transpose(2, 0, 1)))


def decode_image(input, mode=ImageReadMode.UNCHANGED,
                 apply_exif_orientation: bool = False) -> Tensor:
    """Decodes a PNG, JPEG, GIF, BMP or WebP image into a uint8 (C, H, W) tensor.

    Args:
        input: a 1-D uint8 tensor of the encoded bytes, or a path
        mode: an ImageReadMode (or its name) choosing the output channels
        apply_exif_orientation: rotate/flip as the EXIF orientation tag says
    """
    return _to_tensor(_open(input), _mode(mode), apply_exif_orientation)


def read_image(path: str, mode=ImageReadMode.UNCHANGED,
               apply_exif_orientation: bool = False) -> Tensor:
    """Reads an image file into a uint8 (C, H, W) tensor."""
    return decode_image(read_file(path), mode, apply_exif_orientation)


def _decode_format(input, fmt: str, mode, apply_exif_orientation: bool) -> Tensor:
    img = _open(input)
    if img.format != fmt:
        raise RuntimeError(f"Content is not {fmt} (found {img.format})")
    return _to_tensor(img, _mode(mode), apply_exif_orientation)


def decode_png(input: Tensor, mode=ImageReadMode.UNCHANGED,
               apply_exif_orientation: bool = False) -> Tensor:
    """Decodes PNG bytes into a uint8 (C, H, W) tensor."""
    return _decode_format(input, "PNG", mode, apply_exif_orientation)


def decode_jpeg(input, mode=ImageReadMode.UNCHANGED, device="cpu",
                apply_exif_orientation: bool = False):
    """Decodes JPEG bytes (or a list of them) into uint8 (C, H, W) tensors."""
    if str(device) != "cpu":
        raise RuntimeError("decode_jpeg decodes on the CPU only; move the result with .to()")
    if isinstance(input, (list, tuple)):
        return [_decode_format(x, "JPEG", mode, apply_exif_orientation) for x in input]
    return _decode_format(input, "JPEG", mode, apply_exif_orientation)


def _to_pil(input: Tensor) -> Image.Image:
    if not isinstance(input, Tensor):
        raise TypeError(f"Expected a Tensor, got {type(input).__name__}")
    if input.dtype != tm.uint8:
        raise RuntimeError("Input tensor dtype should be uint8")
    if input.ndim != 3:
        raise RuntimeError("Input tensor dimension should be 3")
    channels = input.shape[0]
    if channels not in (1, 3):
        raise RuntimeError(f"The number of channels should be 1 or 3, got: {channels}")
    arr = np.ascontiguousarray(input.detach().cpu().numpy().transpose(1, 2, 0))
    return Image.fromarray(arr[:, :, 0] if channels == 1 else arr)


def _encoded(img: Image.Image, fmt: str, **options) -> Tensor:
    buf = _io.BytesIO()
    img.save(buf, format=fmt, **options)
    return tm.from_numpy(np.frombuffer(buf.getvalue(), dtype=np.uint8).copy())


def encode_png(input: Tensor, compression_level: int = 6) -> Tensor:
    """Encodes a uint8 (C, H, W) tensor (C = 1 or 3) as PNG bytes."""
    if not 0 <= compression_level <= 9:
        raise RuntimeError("Compression level should be between 0 and 9")
    return _encoded(_to_pil(input), "PNG", compress_level=int(compression_level))


def write_png(input: Tensor, filename: str, compression_level: int = 6) -> None:
    """Writes a uint8 (C, H, W) tensor to a PNG file."""
    write_file(filename, encode_png(input, compression_level))


def encode_jpeg(input, quality: int = 75):
    """Encodes a uint8 (C, H, W) tensor (or a list of them) as JPEG bytes."""
    if not 1 <= quality <= 100:
        raise ValueError("Image quality should be a positive number between 1 and 100")
    if isinstance(input, (list, tuple)):
        return [encode_jpeg(x, quality) for x in input]
    return _encoded(_to_pil(input), "JPEG", quality=int(quality))


def write_jpeg(input: Tensor, filename: str, quality: int = 75) -> None:
    """Writes a uint8 (C, H, W) tensor to a JPEG file."""
    write_file(filename, encode_jpeg(input, quality))
