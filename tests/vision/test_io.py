"""taimatsu_vision.io: PNG/JPEG encode and decode, read modes, EXIF, errors."""

from __future__ import annotations

import io as pyio

import numpy as np
import pytest
from PIL import Image

import taimatsu as tm
from taimatsu_vision import io
from taimatsu_vision.io import ImageReadMode


@pytest.fixture
def rgb():
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (3, 12, 17), dtype=np.uint8)


def _png_bytes(image: Image.Image, **kwargs) -> tm.Tensor:
    buf = pyio.BytesIO()
    image.save(buf, format="PNG", **kwargs)
    return tm.from_numpy(np.frombuffer(buf.getvalue(), dtype=np.uint8).copy())


def test_read_write_file_roundtrip(tmp_path):
    data = tm.from_numpy(np.arange(256, dtype=np.uint8))
    io.write_file(str(tmp_path / "x.bin"), data)
    back = io.read_file(str(tmp_path / "x.bin"))
    assert back.dtype == tm.uint8 and back.tolist() == list(range(256))
    assert (tmp_path / "x.bin").read_bytes() == bytes(range(256))


def test_png_roundtrip_is_lossless(tmp_path, rgb):
    t = tm.from_numpy(rgb)
    path = str(tmp_path / "a.png")
    io.write_png(t, path, compression_level=9)
    back = io.read_image(path)
    assert back.dtype == tm.uint8 and tuple(back.shape) == (3, 12, 17)
    np.testing.assert_array_equal(back.numpy(), rgb)
    # the file is a real PNG that Pillow reads back to the same pixels
    np.testing.assert_array_equal(np.asarray(Image.open(path)).transpose(2, 0, 1), rgb)
    gray = tm.from_numpy(rgb[:1].copy())
    np.testing.assert_array_equal(io.decode_png(io.encode_png(gray)).numpy(), rgb[:1])


def test_compression_level_changes_size_not_pixels(rgb):
    flat = tm.from_numpy(np.zeros((3, 64, 64), np.uint8))
    fast, small = io.encode_png(flat, 0), io.encode_png(flat, 9)
    assert fast.numel() > small.numel()
    np.testing.assert_array_equal(io.decode_png(fast).numpy(), io.decode_png(small).numpy())


def test_read_modes(rgb):
    rgba = np.concatenate([rgb, np.full((1, 12, 17), 200, np.uint8)])
    data = _png_bytes(Image.fromarray(rgba.transpose(1, 2, 0)))
    assert tuple(io.decode_image(data).shape) == (4, 12, 17)
    assert tuple(io.decode_image(data, ImageReadMode.RGB).shape) == (3, 12, 17)
    assert tuple(io.decode_image(data, ImageReadMode.GRAY_ALPHA).shape) == (2, 12, 17)
    assert tuple(io.decode_image(data, "RGBA").shape) == (4, 12, 17)
    gray = io.decode_image(data, ImageReadMode.GRAY)
    ref = np.asarray(Image.fromarray(rgb.transpose(1, 2, 0)).convert("L"))
    np.testing.assert_array_equal(gray.numpy()[0], ref)
    np.testing.assert_array_equal(io.decode_image(data)[3].numpy(), 200)
    with pytest.raises(ValueError, match="Unknown image read mode"):
        io.decode_image(data, "CMYK")


def test_palette_and_bilevel_images_expand():
    pal = Image.fromarray(np.arange(12, dtype=np.uint8).reshape(3, 4)).convert("P")
    assert io.decode_image(_png_bytes(pal)).shape[0] == 3
    bilevel = Image.fromarray(np.array([[0, 255]], dtype=np.uint8)).convert("1")
    out = io.decode_image(_png_bytes(bilevel))
    assert tuple(out.shape) == (1, 1, 2) and out.tolist() == [[[0, 255]]]


def test_sixteen_bit_png_scales_to_eight_bits():
    arr = np.array([[0, 257 * 100, 65535]], dtype=np.uint16)
    out = io.decode_png(_png_bytes(Image.fromarray(arr)))
    assert out.dtype == tm.uint8 and out.tolist() == [[[0, 100, 255]]]


def test_jpeg_quality(rgb):
    smooth = np.repeat(np.repeat(rgb[:, :4, :4], 8, axis=1), 8, axis=2)
    t = tm.from_numpy(np.ascontiguousarray(smooth))
    low, high = io.encode_jpeg(t, quality=10), io.encode_jpeg(t, quality=95)
    assert low.numel() < high.numel()
    err_low = np.abs(io.decode_jpeg(low).numpy().astype(int) - smooth).mean()
    err_high = np.abs(io.decode_jpeg(high).numpy().astype(int) - smooth).mean()
    assert err_high < err_low / 2  # (chroma subsampling keeps some error at any quality)
    outs = io.decode_jpeg(io.encode_jpeg([t, t], quality=90))
    assert len(outs) == 2 and tuple(outs[0].shape) == (3, 32, 32)


def test_write_jpeg_and_read_gray(tmp_path, rgb):
    path = str(tmp_path / "a.jpg")
    io.write_jpeg(tm.from_numpy(rgb), path, quality=90)
    assert Image.open(path).format == "JPEG"
    assert tuple(io.read_image(path, ImageReadMode.GRAY).shape) == (1, 12, 17)


def test_exif_orientation(tmp_path):
    arr = np.zeros((4, 6, 3), np.uint8)
    arr[0, 0] = 255
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    path = tmp_path / "o.jpg"
    Image.fromarray(arr).save(path, exif=exif, quality=100)
    assert tuple(io.read_image(str(path)).shape) == (3, 4, 6)
    turned = io.read_image(str(path), apply_exif_orientation=True)
    assert tuple(turned.shape) == (3, 6, 4)
    assert turned[0, 0, -1].item() > 200  # the top-left corner moved to the top-right


def test_encode_errors(rgb):
    with pytest.raises(RuntimeError, match="Input tensor dtype should be uint8"):
        io.encode_png(tm.zeros(3, 4, 4))
    with pytest.raises(RuntimeError, match="Input tensor dimension should be 3"):
        io.encode_png(tm.zeros(4, 4, dtype=tm.uint8))
    with pytest.raises(RuntimeError, match="The number of channels should be 1 or 3, got: 2"):
        io.encode_jpeg(tm.zeros(2, 4, 4, dtype=tm.uint8))
    with pytest.raises(ValueError, match="Image quality should be a positive number between 1"):
        io.encode_jpeg(tm.from_numpy(rgb), quality=0)
    with pytest.raises(RuntimeError, match="Compression level should be between 0 and 9"):
        io.encode_png(tm.from_numpy(rgb), compression_level=10)


def test_decode_errors(rgb):
    png = io.encode_png(tm.from_numpy(rgb))
    with pytest.raises(RuntimeError, match="Content is not JPEG"):
        io.decode_jpeg(png)
    with pytest.raises(RuntimeError, match="Unsupported image file or corrupt data"):
        io.decode_image(tm.from_numpy(np.frombuffer(b"not an image", np.uint8).copy()))
    with pytest.raises(RuntimeError, match="Expected a torch.uint8 tensor"):
        io.decode_image(tm.zeros(10))
    with pytest.raises(RuntimeError, match="at least one byte"):
        io.decode_image(tm.zeros(0, dtype=tm.uint8))
    truncated = png[: png.numel() // 2].clone()
    with pytest.raises(RuntimeError, match="Unsupported image file or corrupt data"):
        io.decode_png(truncated)
