"""interpolate, grid_sample, affine_grid, shuffles, fold/unfold: generated op cases."""

from op_cases.nn_vision import CASES

from taimatsu.testing import generate_tests

globals().update(generate_tests(CASES))


import warnings  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import taimatsu as tm  # noqa: E402
from taimatsu import nn  # noqa: E402
from taimatsu.nn import functional as F  # noqa: E402

RNG = np.random.default_rng(0)


def rand(*shape, requires_grad=False):
    return tm.tensor(RNG.standard_normal(shape), requires_grad=requires_grad)


# -- interpolate ----------------------------------------------------------------------------------

def test_nearest_integer_upscale_repeats():
    x = rand(2, 3, 4, 5)
    out = F.interpolate(x, scale_factor=2)
    np.testing.assert_array_equal(out.numpy(), x.numpy().repeat(2, 2).repeat(2, 3))
    assert out.grad_fn is None
    assert F.interpolate(rand(2, 3, 4, 5, requires_grad=True), size=(3, 7)).grad_fn.name() == \
        "UpsampleNearest2DBackward0"


def test_nearest_uses_pytorch_source_indices():
    x = tm.tensor(np.arange(4.0).reshape(1, 1, 4))
    assert F.interpolate(x, scale_factor=2.3).flatten().tolist() == [0, 0, 0, 1, 1, 2, 2, 3, 3]
    assert F.interpolate(x, size=6, mode="nearest-exact").flatten().tolist() == \
        [0, 1, 1, 2, 3, 3]


def test_linear_reproduces_a_ramp_with_align_corners():
    x = tm.tensor(np.linspace(0, 1, 5).reshape(1, 1, 5))
    out = F.interpolate(x, size=9, mode="linear", align_corners=True)
    np.testing.assert_allclose(out.numpy().ravel(), np.linspace(0, 1, 9), atol=1e-12)
    img = tm.tensor(np.add.outer(np.arange(4.0), 2 * np.arange(3.0)).reshape(1, 1, 4, 3))
    up = F.interpolate(img, size=(7, 5), mode="bilinear", align_corners=True)
    np.testing.assert_allclose(up.numpy()[0, 0], np.add.outer(np.linspace(0, 3, 7),
                                                              2 * np.linspace(0, 2, 5)),
                               atol=1e-12)


def test_area_is_adaptive_average_and_antialias_keeps_constants():
    x = rand(2, 3, 8, 6)
    np.testing.assert_allclose(F.interpolate(x, size=(3, 4), mode="area").numpy(),
                               F.adaptive_avg_pool2d(x, (3, 4)).numpy())
    const = tm.full((1, 2, 9, 7), 3.0, dtype=tm.float64)
    for mode in ("bilinear", "bicubic"):
        out = F.interpolate(const, size=(4, 3), mode=mode, antialias=True)
        np.testing.assert_allclose(out.numpy(), 3.0, rtol=1e-12)


def test_bicubic_keeps_constants_and_downsampling_averages():
    const = tm.full((1, 1, 4, 5), 2.0, dtype=tm.float64)
    out = F.interpolate(const, size=(7, 3), mode="bicubic")
    np.testing.assert_allclose(out.numpy(), 2.0, rtol=1e-12)


@pytest.mark.parametrize("exc, kwargs, message", [
    (ValueError, dict(size=4, scale_factor=2), "only one of size or scale_factor should be "
                                               "defined"),
    (ValueError, {}, "either size or scale_factor should be defined"),
    (NotImplementedError, dict(scale_factor=2, mode="linear"),
     "Got 4D input, but linear mode needs 3D input"),
    (ValueError, dict(size=(4, 4, 4)), "Input and output must have the same number of spatial "
                                       "dimensions, but got input with spatial dimensions of "
                                       "[8, 8] and output size of (4, 4, 4)."),
    (ValueError, dict(size=4, align_corners=True),
     "align_corners option can only be set with the interpolating modes"),
    (ValueError, dict(size=4, antialias=True), "Anti-alias option is restricted to bilinear, "
                                               "bicubic, and lanczos modes"),
    (NotImplementedError, dict(size=4, mode="foo"), "(got foo)"),
    (RuntimeError, dict(size=0), "Input and output sizes should be greater than 0, but got "
                                 "input (H: 8, W: 8) output (H: 0, W: 0)"),
    (ValueError, dict(size=4, recompute_scale_factor=True),
     "recompute_scale_factor is not meaningful with an explicit size."),
])
def test_interpolate_errors(exc, kwargs, message):
    with pytest.raises(exc) as info:
        F.interpolate(rand(2, 3, 8, 8), **kwargs)
    assert message in str(info.value)


def test_upsample_layers():
    x = rand(2, 3, 4, 5)
    up = nn.Upsample(scale_factor=2, mode="bilinear")
    assert repr(up) == "Upsample(scale_factor=2.0, mode='bilinear')"
    np.testing.assert_allclose(up(x).numpy(), F.interpolate(x, scale_factor=2.0,
                                                            mode="bilinear").numpy())
    assert repr(nn.Upsample(size=(3, 4))) == "Upsample(size=(3, 4), mode='nearest')"
    near = nn.UpsamplingNearest2d(scale_factor=2)
    np.testing.assert_allclose(near(x).numpy(), F.interpolate(x, scale_factor=2).numpy())
    bil = nn.UpsamplingBilinear2d(size=(6, 7))
    np.testing.assert_allclose(bil(x).numpy(), F.interpolate(x, size=(6, 7), mode="bilinear",
                                                             align_corners=True).numpy())


# -- grid_sample / affine_grid --------------------------------------------------------------------

@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("mode", ["bilinear", "nearest", "bicubic"])
def test_identity_grid_reproduces_the_input(mode, align_corners):
    x = rand(2, 3, 5, 4)
    theta = tm.tensor(np.tile(np.eye(2, 3), (2, 1, 1)))
    grid = F.affine_grid(theta, (2, 3, 5, 4), align_corners=align_corners)
    out = F.grid_sample(x, grid, mode=mode, align_corners=align_corners)
    np.testing.assert_allclose(out.numpy(), x.numpy(), atol=1e-12)


def test_affine_grid_coordinates():
    theta = tm.tensor(np.eye(2, 3)[None])
    grid = F.affine_grid(theta, (1, 1, 2, 4), align_corners=False)
    np.testing.assert_allclose(grid.numpy()[0, 0, :, 0], [-0.75, -0.25, 0.25, 0.75])
    np.testing.assert_allclose(grid.numpy()[0, :, 0, 1], [-0.5, 0.5])
    grid3 = F.affine_grid(tm.tensor(np.eye(3, 4)[None]), (1, 1, 2, 3, 2), align_corners=True)
    assert tuple(grid3.shape) == (1, 2, 3, 2, 3)
    np.testing.assert_allclose(grid3.numpy()[0, 1, 2, 0], [-1, 1, 1])


def test_grid_sample_padding_modes_outside_the_image():
    x = tm.tensor(np.arange(4.0).reshape(1, 1, 1, 4))
    grid = tm.tensor(np.array([[[[-2.0, 0.0], [2.0, 0.0]]]]))  # far left, far right
    zeros = F.grid_sample(x, grid, align_corners=True)
    border = F.grid_sample(x, grid, padding_mode="border", align_corners=True)
    reflect = F.grid_sample(x, grid, padding_mode="reflection", align_corners=True)
    assert zeros.flatten().tolist() == [0, 0]
    assert border.flatten().tolist() == [0, 3]
    assert reflect.flatten().tolist() == [1.5, 1.5]  # -1.5 and 4.5 reflect onto 1.5


def test_grid_sample_gradient_reaches_the_grid():
    x = rand(1, 2, 4, 4)
    grid = tm.tensor(RNG.uniform(-0.9, 0.9, (1, 3, 3, 2)), requires_grad=True)
    F.grid_sample(x, grid, align_corners=False).sum().backward()
    assert grid.grad is not None and np.abs(grid.grad.numpy()).sum() > 0


def test_grid_sample_and_affine_grid_errors():
    x = rand(2, 3, 8, 8)
    with pytest.raises(RuntimeError, match="expected grid to have size 2 in last dimension"):
        F.grid_sample(x, rand(2, 4, 4, 3), align_corners=False)
    with pytest.raises(RuntimeError, match="expected grid and input to have same batch size"):
        F.grid_sample(x, rand(3, 4, 4, 2), align_corners=False)
    with pytest.raises(ValueError, match="expected mode to be 'bilinear', 'nearest' or "
                                         "'bicubic', but got: 'foo'"):
        F.grid_sample(x, rand(2, 4, 4, 2), mode="foo")
    with pytest.raises(RuntimeError, match="bicubic interpolation only supports 4D input"):
        F.grid_sample(rand(2, 3, 4, 4, 4), rand(2, 4, 4, 4, 3), mode="bicubic",
                      align_corners=False)
    with pytest.raises(ValueError, match="Expected a batch of 2D affine matrices of shape "
                                         "Nx2x3 for size"):
        F.affine_grid(rand(2, 3, 3), (2, 3, 4, 4), align_corners=False)
    with pytest.raises(NotImplementedError, match="affine_grid only supports 4D and 5D sizes"):
        F.affine_grid(rand(2, 2, 3), (3, 3, 4), align_corners=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        F.grid_sample(x, rand(2, 4, 4, 2))
    assert any("align_corners=False since 1.3.0" in str(w.message) for w in caught)


# -- shuffles -------------------------------------------------------------------------------------

def test_pixel_shuffle_layout_and_inverse():
    x = tm.tensor(np.arange(8.0).reshape(1, 4, 1, 2))
    out = F.pixel_shuffle(x, 2)
    assert out.tolist() == [[[[0, 2, 1, 3], [4, 6, 5, 7]]]]
    y = rand(2, 3, 6, 4)
    np.testing.assert_array_equal(F.pixel_shuffle(F.pixel_unshuffle(y, 2), 2).numpy(),
                                  y.numpy())
    layer, inverse = nn.PixelShuffle(3), nn.PixelUnshuffle(3)
    assert repr(layer) == "PixelShuffle(upscale_factor=3)"
    assert repr(inverse) == "PixelUnshuffle(downscale_factor=3)"
    assert tuple(layer(rand(2, 18, 2, 2)).shape) == (2, 2, 6, 6)
    with pytest.raises(RuntimeError, match="pixel_shuffle expects its input's 'channel' "
                                           "dimension to be divisible by the square of "
                                           "upscale_factor, but input.size\\(-3\\)=5 is not "
                                           "divisible by 4"):
        F.pixel_shuffle(rand(2, 5, 4, 4), 2)
    with pytest.raises(RuntimeError, match="pixel_unshuffle expects height to be divisible"):
        F.pixel_unshuffle(rand(2, 4, 5, 4), 2)


def test_channel_shuffle():
    x = tm.tensor(np.arange(6.0).reshape(1, 6, 1))
    assert F.channel_shuffle(x, 2).flatten().tolist() == [0, 3, 1, 4, 2, 5]
    assert nn.ChannelShuffle(3)(x).flatten().tolist() == [0, 2, 4, 1, 3, 5]
    with pytest.raises(RuntimeError, match="Number of channels must be divisible by groups. "
                                           "Got 5 channels and 2 groups."):
        F.channel_shuffle(rand(2, 5, 4, 4), 2)


# -- unfold / fold --------------------------------------------------------------------------------

def test_unfold_columns_and_fold_counts():
    x = tm.tensor(np.arange(16.0).reshape(1, 1, 4, 4))
    cols = F.unfold(x, 2, stride=2)
    assert cols.tolist() == [[[0, 2, 8, 10], [1, 3, 9, 11], [4, 6, 12, 14], [5, 7, 13, 15]]]
    np.testing.assert_array_equal(F.fold(cols, (4, 4), 2, stride=2).numpy(), x.numpy())
    overlap = F.fold(F.unfold(tm.ones(1, 2, 4, 4), 3, padding=1), (4, 4), 3, padding=1)
    counts = np.array([[4, 6, 6, 4], [6, 9, 9, 6], [6, 9, 9, 6], [4, 6, 6, 4]])
    np.testing.assert_array_equal(overlap.numpy()[0, 0], counts)
    assert repr(nn.Unfold(2, stride=2)) == "Unfold(kernel_size=2, dilation=1, padding=0, " \
                                           "stride=2)"
    fold = nn.Fold((4, 4), 2)
    assert tuple(fold(rand(1, 8, 9)).shape) == (1, 2, 4, 4)
    assert F.unfold(rand(1, 2, 4, 4, requires_grad=True), 2).grad_fn.name() == "Im2ColBackward0"


def test_unfold_fold_errors():
    with pytest.raises(RuntimeError, match="Expected 3D or 4D \\(batch mode\\) tensor"):
        F.unfold(rand(2, 3, 4, 4, 4), 2)
    with pytest.raises(RuntimeError, match="calculated shape of the array of sliding blocks as "
                                           "\\(0, 0\\), but its components must be at least "
                                           "one."):
        F.unfold(rand(2, 3, 4, 4), 5)
    with pytest.raises(RuntimeError, match="Expected size of input's dimension 1 to be "
                                           "divisible by the product of kernel_size"):
        F.fold(rand(2, 5, 9), (4, 4), 2)
    with pytest.raises(RuntimeError, match="expected size of input's dimension 2 to match the "
                                           "calculated number of sliding blocks 3 \\* 3 = 9, "
                                           "but got input.size\\(2\\)=8."):
        F.fold(rand(2, 8, 8), (4, 4), 2)


@pytest.mark.parametrize("op", [
    lambda x: F.max_pool2d(x, 2, stride=1),
    lambda x: F.avg_pool2d(x, 3, padding=1),
    lambda x: F.adaptive_max_pool2d(x, 3),
    lambda x: F.adaptive_avg_pool2d(x, 3),
    lambda x: F.interpolate(x, size=3, mode="bilinear"),
    lambda x: F.grid_sample(x, tm.zeros(0, 2, 2, 2), mode="bicubic", align_corners=False),
    lambda x: F.pad(x, (1, 1, 1, 1), mode="reflect"),
    lambda x: F.unfold(x, 2),
    lambda x: F.conv_transpose2d(x, tm.zeros(3, 2, 3, 3, requires_grad=True), stride=2),
])
def test_empty_batch_runs_forward_and_backward(op):
    x = tm.zeros(0, 3, 4, 4, requires_grad=True)
    op(x).sum().backward()
    assert tuple(x.grad.shape) == (0, 3, 4, 4)
