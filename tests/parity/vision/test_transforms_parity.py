"""Transforms against torchvision's definitions, computed with Pillow and NumPy.

torchvision is not installable here, so each reference follows torchvision's documented
behaviour: its PIL backend is Pillow itself (ImageOps, ImageEnhance, Image.transform),
and its tensor backend must agree with that backend to the tolerances torchvision's own
tests use (exact for most ops, +-1 grey level for blends, a few pixels on sample-grid
boundaries for warps).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from PIL import Image, ImageEnhance, ImageOps

import taimatsu as tm
import taimatsu_vision.transforms as T
import taimatsu_vision.transforms.functional as F


def _image(h: int = 60, w: int = 80) -> np.ndarray:
    """A structured RGB image with noise (flat images hide resampling mistakes)."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.stack([(xx * 3 + yy) % 256, (yy * 4) % 256, ((xx * yy) // 7) % 256], -1)
    return np.clip(base + rng.integers(-10, 10, base.shape), 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def arr():
    return _image()


@pytest.fixture(scope="module")
def pil(arr):
    return Image.fromarray(arr)


@pytest.fixture(scope="module")
def img(arr):
    return tm.from_numpy(np.ascontiguousarray(arr.transpose(2, 0, 1)))


def _hwc(x) -> np.ndarray:
    if isinstance(x, Image.Image):
        a = np.asarray(x)
    else:
        a = x.numpy().transpose(1, 2, 0)
    return (a[..., None] if a.ndim == 2 else a).astype(np.int64)


def _diff(a, b) -> np.ndarray:
    a, b = _hwc(a), _hwc(b)
    assert a.shape == b.shape
    return np.abs(a - b)


# -- the classic evaluation preset -----------------------------------------------------------

def test_resize_256_center_crop_224_rounding():
    # 500x375 -> shorter edge 256: width int(256 * 500 / 375) = 341; crop offsets
    # round((341 - 224) / 2) = round(58.5) = 58 (half to even) and (256 - 224) / 2 = 16
    src = Image.fromarray(np.random.default_rng(1).integers(0, 256, (375, 500, 3), np.uint8))
    out = T.Compose([T.Resize(256), T.CenterCrop(224)])(src)
    ref = src.resize((341, 256), Image.Resampling.BILINEAR).crop((58, 16, 58 + 224, 16 + 224))
    assert out.size == (224, 224)
    np.testing.assert_array_equal(np.asarray(out), np.asarray(ref))


def test_imagenet_preset_on_tensors_matches_pil_within_one(arr):
    big = np.asarray(Image.fromarray(arr).resize((400, 300), Image.Resampling.BICUBIC))
    pil = Image.fromarray(big)
    t = tm.from_numpy(np.ascontiguousarray(big.transpose(2, 0, 1)))
    preset = T.Compose([T.Resize(256), T.CenterCrop(224)])
    # the tensor path's antialiased bilinear resize is PIL's filter, up to uint8 rounding
    assert _diff(preset(pil), preset(t)).max() <= 1


def test_to_tensor_normalize_definition(pil, arr):
    mean, std = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
    out = T.Compose([T.ToTensor(), T.Normalize(mean, std)])(pil)
    ref = (arr.astype(np.float32) / np.float32(255) - np.array(mean, np.float32)) / \
        np.array(std, np.float32)
    np.testing.assert_allclose(out.numpy(), ref.transpose(2, 0, 1), rtol=1e-6, atol=1e-6)


# -- resampling ------------------------------------------------------------------------------

@pytest.mark.parametrize("size", [(30, 40), (25, 33), (90, 120)])
def test_bilinear_antialias_resize_matches_pil(pil, img, size):
    d = _diff(F.resize(pil, list(size)), F.resize(img, list(size), antialias=True))
    assert d.max() <= 1


@pytest.mark.parametrize("size", [(30, 40), (25, 33), (90, 120)])
def test_bicubic_antialias_resize_matches_pil(pil, img, size):
    mode = T.InterpolationMode.BICUBIC
    d = _diff(F.resize(pil, list(size), mode), F.resize(img, list(size), mode))
    # PIL rounds to uint8 between its horizontal and vertical passes: rare larger deviations
    assert (d > 1).mean() < 0.01 and d.mean() < 0.3


@pytest.mark.parametrize("size", [(30, 40), (20, 20)])
def test_nearest_exact_matches_pil_nearest(pil, img, size):
    mode = T.InterpolationMode.NEAREST_EXACT
    np.testing.assert_array_equal(_hwc(F.resize(pil, list(size), T.InterpolationMode.NEAREST)),
                                  _hwc(F.resize(img, list(size), mode)))


def test_nearest_picks_floor_of_scaled_index(img):
    # torchvision's tensor NEAREST: source index floor(dst * in / out), not the centre
    out = F.resize(img, [25, 33], T.InterpolationMode.NEAREST)
    rows = np.floor(np.arange(25, dtype=np.float32) * np.float32(60 / 25)).astype(int)
    cols = np.floor(np.arange(33, dtype=np.float32) * np.float32(80 / 33)).astype(int)
    np.testing.assert_array_equal(out.numpy(), img.numpy()[:, rows][:, :, cols])


# -- geometry against Pillow ---------------------------------------------------------------------

@pytest.mark.parametrize("angle", [90, 30, -45, 170])
@pytest.mark.parametrize("expand", [False, True])
def test_rotate_nearest_matches_pil(pil, img, angle, expand):
    ref = pil.rotate(angle, Image.Resampling.NEAREST, expand)
    np.testing.assert_array_equal(_hwc(F.rotate(pil, angle, expand=expand)), _hwc(ref))
    d = _diff(ref, F.rotate(img, angle, expand=expand))
    assert (d > 0).mean() < 0.005


def test_rotate_about_center_matches_pil(pil, img):
    ref = pil.rotate(25, Image.Resampling.NEAREST, center=(10, 15))
    assert (_diff(ref, F.rotate(img, 25, center=[10, 15])) > 0).mean() < 0.005


def _pil_affine_matrix(angle, translate, scale, shear, center):
    """The inverse affine matrix from torchvision's documented decomposition
    M = T * C * R * S * Sh * C^-1, written out with NumPy."""
    rot, sx, sy = math.radians(angle), math.radians(shear[0]), math.radians(shear[1])
    cx, cy = center
    # rotation-scale-shear as torchvision defines it (shear keeps the rotated x axis)
    rss = np.array([[math.cos(rot - sy) / math.cos(sy),
                     -math.cos(rot - sy) * math.tan(sx) / math.cos(sy) - math.sin(rot)],
                    [math.sin(rot - sy) / math.cos(sy),
                     -math.sin(rot - sy) * math.tan(sx) / math.cos(sy) + math.cos(rot)]]) * scale
    forward = np.eye(3)
    forward[:2, :2] = rss
    c = np.array([[1, 0, cx], [0, 1, cy], [0, 0, 1.0]])
    t = np.array([[1, 0, translate[0]], [0, 1, translate[1]], [0, 0, 1.0]])
    m = t @ c @ forward @ np.linalg.inv(c)
    return np.linalg.inv(m)[:2].ravel().tolist()


@pytest.mark.parametrize("params", [(20, [3, -2], 0.9, [10, 5]), (0, [5, 0], 1.0, [0, 0]),
                                    (-30, [0, 0], 1.3, [-8, 0])])
def test_affine_matches_pil_transform(pil, img, params):
    angle, translate, scale, shear = params
    matrix = _pil_affine_matrix(angle, translate, scale, shear, (40.0, 30.0))
    ref = pil.transform(pil.size, Image.AFFINE, matrix, Image.Resampling.NEAREST)
    np.testing.assert_array_equal(_hwc(F.affine(pil, *params)), _hwc(ref))
    assert (_diff(ref, F.affine(img, *params)) > 0).mean() < 0.005


def test_perspective_matches_pil(pil, img):
    start = [[0, 0], [79, 0], [79, 59], [0, 59]]
    end = [[5, 3], [70, 1], [77, 55], [2, 50]]
    # the coefficients map output corners back to input corners
    coeffs = F._get_perspective_coeffs(start, end)
    for (x, y), (u, v) in zip(end, start):
        den = coeffs[6] * x + coeffs[7] * y + 1
        assert abs((coeffs[0] * x + coeffs[1] * y + coeffs[2]) / den - u) < 1e-3
        assert abs((coeffs[3] * x + coeffs[4] * y + coeffs[5]) / den - v) < 1e-3
    mode = T.InterpolationMode.NEAREST
    ref = pil.transform(pil.size, Image.PERSPECTIVE, coeffs, Image.Resampling.NEAREST)
    np.testing.assert_array_equal(_hwc(F.perspective(pil, start, end, mode)), _hwc(ref))
    assert (_diff(ref, F.perspective(img, start, end, mode)) > 0).mean() < 0.005


@pytest.mark.parametrize("mode", ["constant", "edge", "reflect", "symmetric"])
@pytest.mark.parametrize("padding", [[3, 1, 2, 4], [2, 5], 3, [-3, 1, 2, -4]])
def test_pad_matches_numpy(pil, img, arr, mode, padding):
    left, top, right, bottom = (padding if isinstance(padding, list) and len(padding) == 4 else
                                (padding[0], padding[1]) * 2 if isinstance(padding, list) else
                                (padding,) * 4)
    src = arr[max(-top, 0):arr.shape[0] - max(-bottom, 0), max(-left, 0):arr.shape[1] -
              max(-right, 0)]
    widths = ((max(top, 0), max(bottom, 0)), (max(left, 0), max(right, 0)), (0, 0))
    kwargs = {"constant_values": 5} if mode == "constant" else {}
    ref = np.pad(src, widths, mode=mode, **kwargs)
    np.testing.assert_array_equal(_hwc(F.pad(pil, padding, 5, mode)), ref)
    np.testing.assert_array_equal(_hwc(F.pad(img, padding, 5, mode)), ref)


# -- colour against Pillow -----------------------------------------------------------------------

@pytest.mark.parametrize("factor", [0.0, 0.3, 1.7])
@pytest.mark.parametrize("name, enhancer, tol", [
    ("adjust_brightness", ImageEnhance.Brightness, 0),
    ("adjust_sharpness", ImageEnhance.Sharpness, 0),
    ("adjust_saturation", ImageEnhance.Color, 1),
    ("adjust_contrast", ImageEnhance.Contrast, 1),  # PIL rounds the mean grey level
])
def test_enhance_ops_match_pil(pil, img, factor, name, enhancer, tol):
    ref = enhancer(pil).enhance(factor)
    np.testing.assert_array_equal(_hwc(getattr(F, name)(pil, factor)), _hwc(ref))
    assert _diff(ref, getattr(F, name)(img, factor)).max() <= tol


@pytest.mark.parametrize("name, pil_op", [
    ("invert", ImageOps.invert), ("autocontrast", ImageOps.autocontrast),
    ("equalize", ImageOps.equalize), ("posterize", lambda im: ImageOps.posterize(im, 3)),
    ("solarize", lambda im: ImageOps.solarize(im, 100)),
])
def test_imageops_match_pil_exactly(pil, img, name, pil_op):
    args = {"posterize": (3,), "solarize": (100,)}.get(name, ())
    ref = pil_op(pil)
    np.testing.assert_array_equal(_hwc(getattr(F, name)(img, *args)), _hwc(ref))
    np.testing.assert_array_equal(_hwc(getattr(F, name)(pil, *args)), _hwc(ref))


@pytest.mark.parametrize("hue", [-0.45, -0.25, 0.1, 0.45])
def test_adjust_hue_close_to_pil(pil, img, hue):
    # PIL works on 8-bit HSV, the tensor path in float: torchvision's test allows 16 levels
    d = _diff(F.adjust_hue(pil, hue), F.adjust_hue(img, hue))
    assert d.max() <= 16 and d.mean() < 2


def test_adjust_gamma_definition(pil, img, arr):
    ref = np.array([int((255 + 1 - 1e-3) * 1.1 * pow(v / 255.0, 0.7)) for v in range(256)])
    ref = np.clip(ref, 0, 255)[arr]
    np.testing.assert_array_equal(_hwc(F.adjust_gamma(pil, 0.7, 1.1)), ref)
    assert np.abs(_hwc(F.adjust_gamma(img, 0.7, 1.1)) - ref).max() <= 1


def test_grayscale_luma_weights(pil, img, arr):
    ref = np.asarray(pil.convert("L")).astype(np.int64)
    luma = arr.astype(np.float64) @ np.array([0.2989, 0.587, 0.114])
    np.testing.assert_array_equal(F.rgb_to_grayscale(img).numpy()[0], luma.astype(np.uint8))
    assert np.abs(F.rgb_to_grayscale(img).numpy()[0] - ref).max() <= 1


def test_gaussian_blur_is_separable_reflect_conv(pil, img, arr):
    def kernel(k, sigma):
        x = np.linspace(-(k - 1) / 2, (k - 1) / 2, k)
        p = np.exp(-0.5 * (x / sigma) ** 2)
        return p / p.sum()
    kx, ky = kernel(5, 1.5), kernel(3, 0.8)
    padded = np.pad(arr.astype(np.float64), ((1, 1), (2, 2), (0, 0)), mode="reflect")
    rows = sum(ky[i] * padded[i:i + 60] for i in range(3))
    ref = sum(kx[j] * rows[:, j:j + 80] for j in range(5))
    ref = np.round(ref).astype(np.int64)
    out = _hwc(F.gaussian_blur(img, [5, 3], [1.5, 0.8]))
    assert np.abs(out - ref).max() <= 1 and (out != ref).mean() < 0.01
    np.testing.assert_array_equal(_hwc(F.gaussian_blur(pil, [5, 3], [1.5, 0.8])), out)


def test_float_and_uint8_paths_agree(img):
    f = F.convert_image_dtype(img, tm.float32)
    for op in (lambda x: F.adjust_brightness(x, 0.6), lambda x: F.adjust_saturation(x, 1.4),
               lambda x: F.rotate(x, 33.0), lambda x: F.resize(x, [30, 41])):
        a = op(img).numpy().astype(np.float64) / 255
        b = op(f).numpy()
        assert np.abs(a - b).max() <= 1 / 255 + 1e-6
