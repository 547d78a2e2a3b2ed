"""taimatsu_vision.transforms: behaviour, PIL/tensor agreement, batching, errors, RNG."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import taimatsu as tm
import taimatsu_vision.transforms as T
import taimatsu_vision.transforms.functional as F


@pytest.fixture
def arr():
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)


@pytest.fixture
def pil(arr):
    return Image.fromarray(arr)


@pytest.fixture
def img(arr):
    return tm.from_numpy(np.ascontiguousarray(arr.transpose(2, 0, 1)))


def hwc(x):
    """HWC uint8 array of a PIL image or a CHW tensor."""
    if isinstance(x, Image.Image):
        a = np.asarray(x)
        return a[..., None] if a.ndim == 2 else a
    return x.numpy().transpose(1, 2, 0)


# -- conversion ----------------------------------------------------------------------------------

def test_to_tensor_scales_uint8_to_unit_range_chw(pil, arr):
    t = F.to_tensor(pil)
    assert t.dtype == tm.float32 and tuple(t.shape) == (3, 20, 30)
    np.testing.assert_array_equal(t.numpy(), arr.transpose(2, 0, 1).astype(np.float32) / 255)


def test_to_tensor_ndarray_and_modes():
    gray = np.arange(12, dtype=np.uint8).reshape(3, 4)
    assert tuple(F.to_tensor(gray).shape) == (1, 3, 4)
    floats = np.ones((2, 2, 3), dtype=np.float32) * 7
    assert F.to_tensor(floats).max().item() == 7  # non-uint8 arrays are not scaled
    ints = Image.fromarray(np.full((2, 3), 70000, dtype=np.int32), mode="I")
    t = F.to_tensor(ints)
    assert t.dtype == tm.int32 and t.max().item() == 70000
    bilevel = Image.fromarray(np.array([[0, 255]], dtype=np.uint8)).convert("1")
    np.testing.assert_array_equal(F.to_tensor(bilevel).numpy(), [[[0.0, 1.0]]])


def test_to_tensor_errors():
    with pytest.raises(TypeError, match="pic should be PIL Image or ndarray"):
        F.to_tensor([1, 2])
    with pytest.raises(ValueError, match="pic should be 2/3 dimensional. Got 4 dimensions."):
        F.to_tensor(np.zeros((1, 2, 3, 4), np.uint8))


def test_pil_to_tensor_keeps_uint8(pil, img):
    t = F.pil_to_tensor(pil)
    assert t.dtype == tm.uint8
    np.testing.assert_array_equal(t.numpy(), img.numpy())


def test_to_pil_image_roundtrip_and_modes(pil, img):
    assert np.array_equal(np.asarray(F.to_pil_image(img)), np.asarray(pil))
    f = F.to_tensor(pil)
    # floats are scaled by 255 and truncated, as torchvision does
    np.testing.assert_array_equal(np.asarray(F.to_pil_image(f)),
                                  (f.numpy().transpose(1, 2, 0) * 255).astype(np.uint8))
    assert F.to_pil_image(tm.zeros(1, 4, 5)).mode == "L"
    assert F.to_pil_image(tm.zeros(2, 4, 5, dtype=tm.uint8)).mode == "LA"
    assert F.to_pil_image(tm.zeros(4, 4, 5, dtype=tm.uint8)).mode == "RGBA"
    assert F.to_pil_image(np.zeros((4, 5), np.float32), mode="F").mode == "F"
    assert F.to_pil_image(np.zeros((4, 5), np.int32)).mode == "I"


def test_to_pil_image_errors():
    with pytest.raises(TypeError, match="pic should be Tensor or ndarray"):
        F.to_pil_image([1])
    with pytest.raises(ValueError, match="pic should not have > 4 channels. Got 5 channels."):
        F.to_pil_image(tm.zeros(5, 2, 2))
    with pytest.raises(ValueError, match=r"Incorrect mode \(RGB\) supplied"):
        F.to_pil_image(tm.zeros(1, 2, 2), mode="RGB")
    with pytest.raises(ValueError, match=r"Only modes \['RGBA', 'CMYK', 'RGBX'\]"):
        F.to_pil_image(tm.zeros(4, 2, 2, dtype=tm.uint8), mode="RGB")


def test_convert_image_dtype_ranges():
    u8 = tm.tensor([0, 128, 255], dtype=tm.uint8)
    np.testing.assert_allclose(F.convert_image_dtype(u8, tm.float32).numpy(),
                               [0, 128 / 255, 1], rtol=1e-6)
    f = tm.tensor([0.0, 0.5, 1.0])
    assert F.convert_image_dtype(f, tm.uint8).tolist() == [0, 127, 255]
    assert F.convert_image_dtype(u8, tm.int16).tolist() == [0, 128 * 128, 255 * 128]
    assert F.convert_image_dtype(tm.tensor([32767], dtype=tm.int16), tm.uint8).tolist() == [255]
    with pytest.raises(RuntimeError, match="cannot be performed safely"):
        F.convert_image_dtype(f, tm.int32)
    assert F.convert_image_dtype(u8, tm.uint8) is u8


def test_normalize_per_channel_and_inplace():
    x = tm.rand(2, 3, 4, 5)
    out = F.normalize(x, [0.1, 0.2, 0.3], [0.5, 0.25, 2.0])
    expected = (x.numpy() - np.array([0.1, 0.2, 0.3], np.float32)[:, None, None]) / \
        np.array([0.5, 0.25, 2.0], np.float32)[:, None, None]
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6)
    assert not np.allclose(x.numpy(), out.numpy())
    y = x.clone()
    assert F.normalize(y, [0.5] * 3, [0.5] * 3, inplace=True) is y


def test_normalize_errors():
    with pytest.raises(TypeError, match="Input tensor should be a float tensor"):
        F.normalize(tm.zeros(3, 2, 2, dtype=tm.uint8), [0], [1])
    with pytest.raises(ValueError, match="Expected tensor to be a tensor image of size"):
        F.normalize(tm.zeros(2, 2), [0], [1])
    with pytest.raises(ValueError, match="std evaluated to zero"):
        F.normalize(tm.zeros(3, 2, 2), [0, 0, 0], [1, 0, 1])
    with pytest.raises(TypeError, match="img should be Tensor Image"):
        F.normalize(np.zeros((3, 2, 2)), [0], [1])


# -- geometry ------------------------------------------------------------------------------------

@pytest.mark.parametrize("size, expected", [(10, (10, 15)), ([10], (10, 15)), ((7, 9), (7, 9)),
                                            (20, (20, 30))])
def test_resize_output_size(pil, img, size, expected):
    assert F.resize(pil, size).size == expected[::-1]
    assert tuple(F.resize(img, size).shape[-2:]) == expected


def test_resize_max_size_and_size_none(img):
    assert tuple(F.resize(img, 10, max_size=12).shape[-2:]) == (8, 12)
    assert tuple(F.resize(img, None, max_size=15).shape[-2:]) == (10, 15)
    with pytest.raises(ValueError, match="must be strictly greater than the requested size"):
        F.resize(img, 10, max_size=10)
    with pytest.raises(ValueError, match="max_size should only be passed"):
        F.resize(img, [10, 12], max_size=20)


def test_resize_errors_and_warning(pil, img):
    with pytest.raises(ValueError, match="If size is a sequence, it should have 1 or 2 values"):
        T.Resize([1, 2, 3])
    with pytest.raises(TypeError, match="Size should be int or sequence"):
        F.resize(img, 2.5)
    with pytest.raises(ValueError, match="unsupported with Tensor input"):
        F.resize(img, 5, interpolation=T.InterpolationMode.LANCZOS)
    with pytest.warns(UserWarning, match="Anti-alias option is always applied for PIL"):
        F.resize(pil, 5, antialias=False)
    assert F.resize(pil, 5, interpolation=T.InterpolationMode.LANCZOS).size == (7, 5)


def test_resize_accepts_pil_int_and_string_modes(img):
    a = F.resize(img, 7, interpolation=Image.Resampling.BICUBIC)
    b = F.resize(img, 7, interpolation="bicubic")
    c = F.resize(img, 7, interpolation=T.InterpolationMode.BICUBIC)
    assert np.array_equal(a.numpy(), c.numpy()) and np.array_equal(b.numpy(), c.numpy())


def test_resize_same_size_returns_input(img):
    assert F.resize(img, [20, 30]) is img


@pytest.mark.parametrize("op", [
    lambda x: F.resize(x, [7, 11]),
    lambda x: F.resize(x, [7, 11], interpolation=T.InterpolationMode.BICUBIC),
    lambda x: F.center_crop(x, 9),
    lambda x: F.pad(x, [1, 2, 3, 4], padding_mode="symmetric"),
    lambda x: F.pad(x, 2, padding_mode="reflect"),
    lambda x: F.rotate(x, 25.0, interpolation=T.InterpolationMode.BILINEAR, fill=[10, 20, 30]),
    lambda x: F.rotate(x, 25.0, expand=True),
    lambda x: F.affine(x, 10, [2, 1], 1.1, [5, 3]),
    lambda x: F.perspective(x, [[0, 0], [29, 0], [29, 19], [0, 19]],
                            [[2, 1], [27, 0], [28, 18], [1, 17]]),
    lambda x: F.gaussian_blur(x, 5, 1.2),
    lambda x: F.adjust_contrast(x, 0.6),
    lambda x: F.adjust_hue(x, 0.2),
    lambda x: F.adjust_sharpness(x, 1.8),
    lambda x: F.autocontrast(x),
    lambda x: F.equalize(x),
    lambda x: F.rgb_to_grayscale(x, 3),
    lambda x: F.hflip(x),
])
def test_batched_tensor_equals_per_image(img, op):
    batch = tm.stack([img, img.flip(-1), 255 - img])
    out = op(batch)
    for k in range(3):
        np.testing.assert_array_equal(out[k].numpy(), op(batch[k]).numpy())


def test_leading_batch_dims(img):
    batch = tm.stack([img, img]).reshape(1, 2, 3, 20, 30)
    out = F.rotate(F.resize(batch, [10, 12]), 30)
    assert tuple(out.shape) == (1, 2, 3, 10, 12)


def test_crop_outside_pads_with_zeros(img):
    out = F.crop(img, -2, -3, 5, 6)
    assert tuple(out.shape) == (3, 5, 6)
    assert out[:, :2].sum().item() == 0 and out[:, :, :3].sum().item() == 0
    np.testing.assert_array_equal(out[:, 2:, 3:].numpy(), img[:, :3, :3].numpy())


def test_center_crop_rounding_and_padding(pil, img):
    # (20 - 7) / 2 = 6.5 rounds half to even: 6; (30 - 9) / 2 = 10.5 -> 10
    np.testing.assert_array_equal(F.center_crop(img, [7, 9]).numpy(), img[:, 6:13, 10:19].numpy())
    big = F.center_crop(img, [25, 33])
    assert tuple(big.shape) == (3, 25, 33)
    np.testing.assert_array_equal(big[:, 2:22, 1:31].numpy(), img.numpy())
    assert F.center_crop(pil, [25, 33]).size == (33, 25)


def test_five_and_ten_crop(pil, img):
    tl, tr, bl, br, c = F.five_crop(img, [4, 5])
    np.testing.assert_array_equal(tr.numpy(), img[:, :4, 25:].numpy())
    np.testing.assert_array_equal(bl.numpy(), img[:, 16:, :5].numpy())
    crops = F.ten_crop(pil, 4)
    assert len(crops) == 10 and all(c.size == (4, 4) for c in crops)
    np.testing.assert_array_equal(hwc(crops[5]), hwc(F.crop(F.hflip(pil), 0, 0, 4, 4)))
    vertical = F.ten_crop(img, 4, vertical_flip=True)
    np.testing.assert_array_equal(vertical[5].numpy(), img.flip(-2)[:, :4, :4].numpy())
    with pytest.raises(ValueError, match="is bigger than input size"):
        F.five_crop(img, 21)
    with pytest.raises(ValueError, match="Please provide only two dimensions"):
        F.five_crop(img, [1, 2, 3])


def test_flips_agree_between_pil_and_tensor(pil, img):
    assert np.array_equal(hwc(F.hflip(pil)), hwc(F.hflip(img)))
    assert np.array_equal(hwc(F.vflip(pil)), hwc(F.vflip(img)))


def test_pad_errors(img):
    with pytest.raises(ValueError, match="Padding must be an int or a 1, 2, or 4 element tuple"):
        F.pad(img, [1, 2, 3])
    with pytest.raises(ValueError, match="Padding mode should be either constant, edge"):
        F.pad(img, 1, padding_mode="wrap")
    with pytest.raises(TypeError, match="Got inappropriate padding arg"):
        T.Pad("1")
    with pytest.raises(TypeError, match="Got inappropriate fill arg"):
        F.pad(img, 1, fill=[1, 2])


def test_rotate_and_affine_checks(img):
    with pytest.raises(TypeError, match="Argument angle should be int or float"):
        F.rotate(img, "10")
    with pytest.raises(ValueError, match="Argument scale should be positive"):
        F.affine(img, 0, [0, 0], 0.0, 0)
    with pytest.raises(ValueError, match="Argument translate should be a sequence of length 2"):
        F.affine(img, 0, [0], 1.0, 0)
    with pytest.raises(ValueError, match="Shear should be a sequence containing two values"):
        F.affine(img, 0, [0, 0], 1.0, [1, 2, 3])
    with pytest.raises(ValueError, match="unsupported with Tensor input"):
        F.rotate(img, 10, interpolation=T.InterpolationMode.BICUBIC)
    with pytest.raises(ValueError, match="cannot broadcast to match the number of channels"):
        F.rotate(img, 10, fill=[1, 2])


def test_rotate_90_is_rot90(img):
    square = img[:, :, :20]
    np.testing.assert_array_equal(F.rotate(square, 90.0).numpy(),
                                  np.rot90(square.numpy(), 1, axes=(1, 2)))
    expanded = F.rotate(img, 90.0, expand=True)
    np.testing.assert_array_equal(expanded.numpy(), np.rot90(img.numpy(), 1, axes=(1, 2)))


def test_rotate_fill_marks_outside(img):
    out = F.rotate(img.float(), 45.0, fill=[7.0, 8.0, 9.0])
    assert out[:, 0, 0].tolist() == [7.0, 8.0, 9.0]


def test_gaussian_blur_checks(img):
    with pytest.raises(ValueError, match="kernel_size should have odd and positive integers"):
        F.gaussian_blur(img, 4)
    with pytest.raises(ValueError, match="sigma should have positive values"):
        F.gaussian_blur(img, 3, 0.0)
    with pytest.raises(ValueError, match="Kernel size value should be an odd and positive"):
        T.GaussianBlur(2)
    with pytest.raises(ValueError, match="sigma values should be positive and of the form"):
        T.GaussianBlur(3, (2.0, 1.0))


def test_gaussian_blur_preserves_constant_and_mean():
    x = tm.full((3, 9, 9), 0.25)
    np.testing.assert_allclose(F.gaussian_blur(x, 5, 2.0).numpy(), 0.25, rtol=1e-6)


def test_erase():
    x = tm.zeros(3, 6, 6)
    out = F.erase(x, 1, 2, 3, 2, 5.0)
    assert out.sum().item() == 5.0 * 3 * 3 * 2 and x.sum().item() == 0
    assert F.erase(x, 0, 0, 1, 1, 1.0, inplace=True) is x


# -- colour --------------------------------------------------------------------------------------

@pytest.mark.parametrize("fn, factor", [(F.adjust_brightness, "brightness_factor"),
                                        (F.adjust_contrast, "contrast_factor"),
                                        (F.adjust_saturation, "saturation_factor"),
                                        (F.adjust_sharpness, "sharpness_factor")])
def test_negative_factors_raise(img, fn, factor):
    with pytest.raises(ValueError, match=rf"{factor} \(-1\) is not non-negative."):
        fn(img, -1)


def test_color_ops_identity_at_one(img, pil):
    for fn in (F.adjust_brightness, F.adjust_contrast, F.adjust_saturation,
               F.adjust_sharpness):
        np.testing.assert_array_equal(fn(img, 1.0).numpy(), img.numpy())
        np.testing.assert_array_equal(np.asarray(fn(pil, 1.0)), np.asarray(pil))
    np.testing.assert_array_equal(F.adjust_hue(img, 0.0).numpy(), img.numpy())


def test_brightness_float_is_blend_with_black():
    x = tm.rand(3, 4, 4)
    np.testing.assert_allclose(F.adjust_brightness(x, 0.5).numpy(), x.numpy() * 0.5, rtol=1e-6)
    assert F.adjust_brightness(x, 3.0).max().item() <= 1.0


def test_hue_rotation_by_half_swaps_complements():
    red = tm.tensor([1.0, 0.0, 0.0]).view(3, 1, 1)
    np.testing.assert_allclose(F.adjust_hue(red, 0.5).flatten().numpy(), [0, 1, 1], atol=1e-6)
    np.testing.assert_allclose(F.adjust_hue(red, 1 / 3).flatten().numpy(), [0, 1, 0],
                               atol=1e-6)
    with pytest.raises(ValueError, match=r"hue_factor \(0.6\) is not in \[-0.5, 0.5\]."):
        F.adjust_hue(red, 0.6)


def test_grayscale_channels(img, pil):
    assert tuple(F.rgb_to_grayscale(img).shape) == (1, 20, 30)
    g3 = F.rgb_to_grayscale(img, 3)
    assert np.array_equal(g3[0].numpy(), g3[2].numpy())
    assert F.to_grayscale(pil, 3).mode == "RGB"
    with pytest.raises(ValueError, match="num_output_channels should be either 1 or 3"):
        F.rgb_to_grayscale(img, 2)
    with pytest.raises(TypeError, match="permitted channel values are \\[1, 3\\]"):
        F.rgb_to_grayscale(tm.zeros(2, 3, 3))


def test_uint8_only_ops_reject_floats():
    x = tm.rand(3, 4, 4)
    with pytest.raises(TypeError, match="Only torch.uint8 image tensors are supported"):
        F.posterize(x, 3)
    with pytest.raises(TypeError, match="Only torch.uint8 image tensors are supported"):
        F.equalize(x)
    with pytest.raises(TypeError, match="Threshold should be less than bound of img."):
        F.solarize(x, 2.0)


def test_invert_solarize_posterize_values():
    x = tm.tensor([[[0, 100, 200, 255]]], dtype=tm.uint8)
    assert F.invert(x).tolist() == [[[255, 155, 55, 0]]]
    assert F.solarize(x, 150).tolist() == [[[0, 100, 55, 0]]]
    assert F.posterize(x, 2).tolist() == [[[0, 64, 192, 192]]]
    assert F.invert(tm.tensor([[[0.25]]])).tolist() == [[[0.75]]]


def test_autocontrast_stretches_and_keeps_flat_channels():
    x = tm.tensor([[[50, 100, 150]], [[7, 7, 7]], [[0, 255, 10]]], dtype=tm.uint8)
    out = F.autocontrast(x)
    assert out[0].tolist() == [[0, 127, 255]] and out[1].tolist() == [[7, 7, 7]]
    assert out[2].tolist() == [[0, 255, 10]]


# -- random transforms ---------------------------------------------------------------------------

RANDOM_TRANSFORMS = [
    T.RandomCrop(8, padding=2), T.RandomResizedCrop(12), T.RandomHorizontalFlip(),
    T.RandomVerticalFlip(), T.RandomRotation(30), T.RandomAffine(20, (0.1, 0.2), (0.8, 1.2), 10),
    T.RandomPerspective(), T.ColorJitter(0.4, 0.4, 0.4, 0.2), T.RandomGrayscale(0.5),
    T.GaussianBlur(3), T.RandomInvert(), T.RandomPosterize(3), T.RandomSolarize(128),
    T.RandomAdjustSharpness(2), T.RandomAutocontrast(), T.RandomEqualize(),
    T.AutoAugment(), T.AutoAugment(T.AutoAugmentPolicy.CIFAR10),
    T.AutoAugment(T.AutoAugmentPolicy.SVHN), T.RandAugment(), T.TrivialAugmentWide(),
    T.RandomApply([T.ColorJitter(0.5)], p=0.5), T.RandomChoice([T.Resize(5), T.CenterCrop(4)]),
    T.RandomOrder([T.Resize(9), T.CenterCrop(7)]),
]


@pytest.mark.parametrize("transform", RANDOM_TRANSFORMS, ids=lambda t: type(t).__name__)
def test_manual_seed_reproduces_random_transforms(transform, img, pil):
    def run():
        tm.manual_seed(123)
        return [hwc(transform(img)) for _ in range(4)] + [hwc(transform(pil)) for _ in range(4)]
    first, second = run(), run()
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)


def test_random_transforms_vary_between_calls(img):
    tm.manual_seed(0)
    crop = T.RandomCrop(5)
    outs = {crop(img).numpy().tobytes() for _ in range(10)}
    assert len(outs) > 1


def test_random_flip_probability():
    tm.manual_seed(0)
    x = tm.arange(4.0).view(1, 1, 4)
    flips = sum(T.RandomHorizontalFlip(0.3)(x)[0, 0, 0].item() == 3.0 for _ in range(400))
    assert 80 < flips < 160
    assert T.RandomHorizontalFlip(0.0)(x) is x


def test_random_crop_pad_if_needed(img):
    out = T.RandomCrop((25, 40), pad_if_needed=True)(img)
    assert tuple(out.shape) == (3, 25, 40)
    with pytest.raises(ValueError, match=r"Required crop size \(25, 40\) is larger than input"):
        T.RandomCrop((25, 40))(img)


def test_random_resized_crop_params_within_bounds(img):
    tm.manual_seed(1)
    for _ in range(20):
        i, j, h, w = T.RandomResizedCrop.get_params(img, (0.08, 1.0), (3 / 4, 4 / 3))
        assert 0 <= i and 0 <= j and i + h <= 20 and j + w <= 30 and h > 0 and w > 0


def test_random_resized_crop_fallback_is_central(img):
    # an impossible scale makes every try fail: the fallback is a central crop
    i, j, h, w = T.RandomResizedCrop.get_params(img, (5.0, 6.0), (3 / 4, 4 / 3))
    assert (i, j, h, w) == (0, 1, 20, 27)  # the widest 4:3 box, centred


def test_random_erasing(img):
    x = tm.ones(3, 20, 30)
    tm.manual_seed(0)
    out = T.RandomErasing(p=1.0, value=0)(x)
    erased = (out == 0).all(dim=0)
    assert 0 < erased.sum().item() < 600 and x.min().item() == 1.0
    noisy = T.RandomErasing(p=1.0, value="random")(x)
    assert (noisy != 1).any().item()
    with pytest.raises(ValueError, match="If value is str, it should be 'random'"):
        T.RandomErasing(value="zeros")
    with pytest.raises(ValueError, match="Scale should be between 0 and 1"):
        T.RandomErasing(scale=(0.1, 2.0))
    with pytest.raises(ValueError, match="Random erasing probability should be between 0 and 1"):
        T.RandomErasing(p=1.5)
    with pytest.raises(ValueError, match="either a single value or 3"):
        T.RandomErasing(p=1.0, value=[1, 2])(x)


def test_color_jitter_argument_checks():
    cj = T.ColorJitter(brightness=0.5, hue=0.1)
    assert cj.brightness == (0.5, 1.5) and cj.hue == (-0.1, 0.1) and cj.contrast is None
    with pytest.raises(ValueError, match="If brightness is a single number, it must be non"):
        T.ColorJitter(brightness=-1)
    with pytest.raises(ValueError, match="hue values should be between"):
        T.ColorJitter(hue=0.7)
    with pytest.raises(TypeError, match="contrast should be a single number or a list/tuple"):
        T.ColorJitter(contrast=[1, 2, 3])


def test_affine_and_rotation_argument_checks():
    with pytest.raises(ValueError, match="If degrees is a single number, it must be positive."):
        T.RandomRotation(-3)
    with pytest.raises(ValueError, match="degrees should be a sequence of length 2."):
        T.RandomRotation([1, 2, 3])
    with pytest.raises(ValueError, match="translation values should be between 0 and 1"):
        T.RandomAffine(0, translate=(0.5, 1.5))
    with pytest.raises(ValueError, match="scale values should be positive"):
        T.RandomAffine(0, scale=(0.0, 1.0))
    assert T.RandomAffine(0, shear=5).shear == [-5, 5]
    assert T.RandomAffine(0, shear=(1, 2, 3, 4)).shear == [1.0, 2.0, 3.0, 4.0]


def test_random_affine_get_params_ranges():
    tm.manual_seed(0)
    for _ in range(20):
        angle, (tx, ty), scale, (sx, sy) = T.RandomAffine.get_params(
            [-10, 10], [0.1, 0.2], [0.5, 2.0], [-5, 5, 1, 2], [100, 50])
        assert -10 <= angle <= 10 and abs(tx) <= 10 and abs(ty) <= 10
        assert 0.5 <= scale <= 2.0 and -5 <= sx <= 5 and 1 <= sy <= 2


def test_random_perspective_get_params():
    tm.manual_seed(0)
    start, end = T.RandomPerspective.get_params(40, 20, 0.5)
    assert start == [[0, 0], [39, 0], [39, 19], [0, 19]]
    (tlx, tly), (trx, _), _, (_, bly) = end
    assert 0 <= tlx <= 10 and 0 <= tly <= 5 and 29 <= trx <= 39 and 14 <= bly <= 19


def test_random_choice_weights():
    tm.manual_seed(0)
    choice = T.RandomChoice([T.Lambda(lambda x: "a"), T.Lambda(lambda x: "b")], p=[0.0, 1.0])
    assert {choice(None) for _ in range(20)} == {"b"}
    with pytest.raises(ValueError, match="Length of p doesn't match"):
        T.RandomChoice([T.Lambda(lambda x: x)], p=[0.5, 0.5])


def test_random_order_applies_all():
    tm.manual_seed(0)
    seen = set()
    log = []
    order = T.RandomOrder([T.Lambda(lambda x: log.append(1) or x),
                           T.Lambda(lambda x: log.append(2) or x)])
    for _ in range(20):
        log.clear()
        order(0)
        seen.add(tuple(log))
    assert seen == {(1, 2), (2, 1)}


def test_lambda_and_compose():
    with pytest.raises(TypeError, match="Argument lambd should be callable, got 'int'"):
        T.Lambda(3)
    pipe = T.Compose([T.Lambda(lambda x: x + 1), T.Lambda(lambda x: x * 2)])
    assert pipe(1) == 4


def test_autoaugment_magnitude_tables():
    aa = T.AutoAugment()
    space = aa._augmentation_space(10, [331, 100])
    np.testing.assert_allclose(space["TranslateX"][0][-1], 150.0, rtol=1e-6)
    np.testing.assert_allclose(space["ShearX"][0][5], 0.3 * 5 / 9, rtol=1e-6)
    assert space["Posterize"][0] == [8, 8, 7, 7, 6, 6, 5, 5, 4, 4]
    assert space["Solarize"][0][0] == 255.0 and space["Solarize"][0][-1] == 0.0
    assert len(aa.policies) == 25
    wide = T.TrivialAugmentWide()._augmentation_space(31)
    assert wide["Rotate"][0][-1] == 135.0 and wide["Posterize"][0][-1] == 2
    assert T.RandAugment()._augmentation_space(31, [32, 32])["Rotate"][0][9] == pytest.approx(9.0)


def test_autoaugment_ops_keep_shape_and_dtype(img, pil):
    from taimatsu_vision.transforms.autoaugment import _apply_op
    ops = ["ShearX", "ShearY", "TranslateX", "TranslateY", "Rotate", "Brightness", "Color",
           "Contrast", "Sharpness", "Posterize", "Solarize", "AutoContrast", "Equalize",
           "Invert", "Identity"]
    for name in ops:
        magnitude = 4.0 if name == "Posterize" else (100.0 if name == "Solarize" else 0.3)
        out = _apply_op(img, name, magnitude, T.InterpolationMode.NEAREST, [0.0, 0.0, 0.0])
        assert out.dtype == tm.uint8 and tuple(out.shape) == (3, 20, 30), name
        assert _apply_op(pil, name, magnitude, T.InterpolationMode.NEAREST, None).size == (30, 20)
    with pytest.raises(ValueError, match="The provided operator Blur is not recognized."):
        _apply_op(img, "Blur", 1.0, T.InterpolationMode.NEAREST, None)


def test_shear_x_moves_rows_by_tan():
    # ShearX of magnitude m displaces row y by about -m * y pixels (about the top-left corner)
    from taimatsu_vision.transforms.autoaugment import _apply_op
    x = tm.zeros(1, 10, 10, dtype=tm.uint8)
    x[0, :, 8] = 255
    out = _apply_op(x, "ShearX", 0.5, T.InterpolationMode.NEAREST, None)
    cols = [int(np.argmax(out[0, y].numpy())) for y in range(10)]
    assert cols == [8, 7, 7, 6, 6, 5, 5, 4, 4, 3]
    pil_out = _apply_op(Image.fromarray(x[0].numpy()), "ShearX", 0.5,
                        T.InterpolationMode.NEAREST, None)
    assert [int(np.argmax(row)) for row in np.asarray(pil_out)] == cols


def test_reprs():
    assert repr(T.Resize(256)) == \
        "Resize(size=256, interpolation=bilinear, max_size=None, antialias=True)"
    assert repr(T.CenterCrop(224)) == "CenterCrop(size=(224, 224))"
    assert repr(T.Normalize([0.5], [0.5])) == "Normalize(mean=[0.5], std=[0.5])"
    assert repr(T.Compose([T.ToTensor()])) == "Compose(\n    ToTensor()\n)"
    assert repr(T.RandomHorizontalFlip()) == "RandomHorizontalFlip(p=0.5)"
    assert repr(T.ToPILImage()) == "ToPILImage()"


def test_transforms_are_modules():
    seq = tm.nn.Sequential(T.Resize(8), T.CenterCrop(6))
    assert tuple(seq(tm.zeros(3, 16, 20)).shape) == (3, 6, 6)
