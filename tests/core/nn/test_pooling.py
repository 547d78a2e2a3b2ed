"""Pooling functions and layers: generated op cases plus edge cases."""

from op_cases.nn_pooling import CASES

from taimatsu.testing import generate_tests

globals().update(generate_tests(CASES))


import math  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import taimatsu as tm  # noqa: E402
from taimatsu import nn  # noqa: E402
from taimatsu.nn import functional as F  # noqa: E402

RNG = np.random.default_rng(0)


def rand(*shape, dtype=tm.float64, requires_grad=False):
    return tm.tensor(RNG.standard_normal(shape), dtype=dtype, requires_grad=requires_grad)


# -- max pooling ----------------------------------------------------------------------------------

def test_max_pool_indices_are_flat_per_plane():
    x = tm.tensor(np.arange(16.0).reshape(1, 1, 4, 4))
    out, idx = F.max_pool2d(x, 2, return_indices=True)
    assert out.tolist() == [[[[5.0, 7.0], [13.0, 15.0]]]]
    assert idx.tolist() == [[[[5, 7], [13, 15]]]] and idx.dtype is tm.int64


def test_max_pool_ties_pick_the_first_and_nan_wins():
    x = tm.tensor([[[1.0, 3.0, 3.0, 2.0]]])
    out, idx = F.max_pool1d(x, 4, return_indices=True)
    assert idx.item() == 1
    y = tm.tensor([[[[1.0, float("nan")], [3.0, float("nan")]]]])
    out, idx = F.max_pool2d(y, 2, return_indices=True)
    assert math.isnan(out.item()) and idx.item() == 3  # PyTorch keeps the last NaN


def test_max_pool_gradient_goes_to_the_argmax():
    x = rand(2, 3, 6, 6, requires_grad=True)
    out, idx = F.max_pool2d(x, 3, stride=2, padding=1, return_indices=True)
    g = rand(*out.shape)
    out.backward(g)
    expected = np.zeros((6, 36))
    np.add.at(expected, (np.arange(6)[:, None], idx.numpy().reshape(6, -1)),
              g.numpy().reshape(6, -1))
    np.testing.assert_allclose(x.grad.numpy().reshape(6, 36), expected)
    assert out.grad_fn.name() == "MaxPool2DWithIndicesBackward0"


def test_max_pool_integers():
    x = tm.tensor(np.arange(24).reshape(1, 2, 3, 4))
    out = F.max_pool2d(x, 2, ceil_mode=True)
    assert out.dtype is tm.int64
    assert out.tolist() == [[[[5, 7], [9, 11]], [[17, 19], [21, 23]]]]


@pytest.mark.parametrize("call, message", [
    (lambda: F.max_pool2d(rand(3, 8), 2), "non-empty 3D or 4D (batch mode) tensor expected "
                                          "for input"),
    (lambda: F.max_pool2d(rand(2, 3, 8, 8), 3, padding=2),
     "pad should be at most half of effective kernel size, but got pad=2, kernel_size=3 and "
     "dilation=1"),
    (lambda: F.max_pool2d(rand(2, 3, 9, 9), 3, padding=2, dilation=2),
     "pad should be smaller than or equal to half of kernel size, but got padW = 2, padH = 2, "
     "kW = 3, kH = 3"),
    (lambda: F.max_pool2d(rand(2, 3, 8, 8), 2, stride=0), "stride should not be zero"),
    (lambda: F.max_pool2d(rand(2, 3, 8, 8), 2, dilation=0),
     "dilation should be greater than zero, but got dilationH: 0 dilationW: 0"),
    (lambda: F.max_pool2d(rand(2, 3, 1, 1), 2),
     "Given input size: (3x1x1). Calculated output size: (3x0x0). Output size is too small"),
    (lambda: F.max_pool2d(rand(2, 3, 8, 8), (2, 2, 2)),
     "max_pool2d: kernel_size must either be a single int, or a tuple of two ints"),
    (lambda: F.max_pool1d(rand(2, 3, 8, 8), 2),
     "max_pool1d: Expected 2D or 3D (batch mode) tensor with optional 0 dim batch size for "
     "input, but got:[2, 3, 8, 8]"),
    (lambda: F.max_pool3d(rand(3, 8, 8), 2), "non-empty 4D or 5D (batch mode) tensor "
                                             "expected for input"),
    (lambda: F.avg_pool2d(rand(2, 3, 8, 8), 2, divisor_override=0), "divisor must be not zero"),
    (lambda: F.avg_pool1d(rand(8), 2), "Expected 2 to 3 dimensions, but got 1-dimensional "
                                       "tensor for argument #1 'self' (while checking arguments "
                                       "for avg_pool1d)"),
    (lambda: F.adaptive_avg_pool2d(rand(2, 3, 8, 8), (2, 2, 2)),
     "adaptive_avg_pool2d: output_size must be 2"),
    (lambda: F.adaptive_avg_pool2d(rand(3, 8), 2),
     "adaptive_avg_pool2d(): Expected 3D or 4D tensor, but got [3, 8]"),
    (lambda: F.adaptive_max_pool2d(rand(3, 8), 2),
     "adaptive_max_pool2d(): Expected 3D or 4D tensor, but got: [3, 8]"),
])
def test_pooling_errors(call, message):
    with pytest.raises(RuntimeError) as info:
        call()
    assert message in str(info.value)


def test_max_unpool_round_trip_and_errors():
    x = rand(2, 3, 4, 6, requires_grad=True)
    out, idx = F.max_pool2d(x, 2, return_indices=True)
    back = F.max_unpool2d(out, idx, 2)
    kept = back.detach().numpy() != 0
    np.testing.assert_allclose(back.detach().numpy()[kept], x.detach().numpy()[kept])
    assert kept.sum() == out.numel()
    back.sum().backward()
    assert x.grad.numpy().sum() == out.numel()
    assert back.grad_fn.name() == "MaxUnpool2DBackward0"
    with pytest.raises(RuntimeError, match=r"Found an invalid max index: 99 \(output volumes "
                                           r"are of size 4x6\)"):
        F.max_unpool2d(out, tm.full(out.shape, 99, dtype=tm.int64), 2)
    with pytest.raises(ValueError, match=r"dim 0 must be between 2 and 6"):
        F.max_unpool2d(out, idx, 2, output_size=(7, 6))
    with pytest.raises(RuntimeError, match="elements in indices should be type int64 but got: "
                                           "Float"):
        F.max_unpool2d(out, idx.float(), 2)


# -- average / LP / adaptive pooling -------------------------------------------------------------

def test_avg_pool_divisors():
    ones = tm.ones(1, 1, 5, 5)
    out = F.avg_pool2d(ones, 3, stride=2, padding=1, ceil_mode=True)
    np.testing.assert_allclose(out.numpy()[0, 0], [[4 / 9, 6 / 9, 4 / 9], [6 / 9, 1, 6 / 9],
                                                   [4 / 9, 6 / 9, 4 / 9]], rtol=1e-6)
    excl = F.avg_pool2d(ones, 3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)
    np.testing.assert_allclose(excl.numpy(), 1.0, rtol=1e-6)
    fixed = F.avg_pool2d(ones, 2, divisor_override=2)
    np.testing.assert_allclose(fixed.numpy(), 2.0)
    ints = F.avg_pool2d(tm.tensor(np.arange(16).reshape(1, 1, 4, 4) - 5), 3, stride=1)
    assert ints.tolist() == [[[[0, 1], [4, 5]]]]  # integer division truncates


def test_adaptive_pools():
    x = rand(2, 3, 7, 5, requires_grad=True)
    np.testing.assert_allclose(F.adaptive_avg_pool2d(x, 1).detach().numpy(),
                               x.detach().numpy().mean((2, 3), keepdims=True), rtol=1e-12)
    assert F.adaptive_avg_pool2d(x, (3, 4)).grad_fn.name() == "AdaptiveAvgPool2DBackward0"
    same = F.adaptive_avg_pool2d(x, (7, 5))
    np.testing.assert_allclose(same.detach().numpy(), x.detach().numpy())
    assert same._data is not x._data
    out, idx = F.adaptive_max_pool2d(x, (2, 2), return_indices=True)
    flat = x.detach().numpy().reshape(6, 35)
    np.testing.assert_allclose(out.detach().numpy().reshape(6, 4),
                               np.take_along_axis(flat, idx.numpy().reshape(6, 4), 1))
    with pytest.raises(NotImplementedError, match="\"adaptive_avg_pool2d\" not implemented for "
                                                  "'Long'"):
        F.adaptive_avg_pool2d(x.long(), 2)


def test_lp_pool_is_a_p_norm_of_each_window():
    x = rand(1, 2, 4, 4).abs()
    out = F.lp_pool2d(x, 2, 2)
    w = x.numpy().reshape(1, 2, 2, 2, 2, 2)
    np.testing.assert_allclose(out.numpy(), np.sqrt((w ** 2).sum((3, 5))), rtol=1e-10)


# -- layers --------------------------------------------------------------------------------------

def test_pooling_layers_forward_their_arguments():
    x = rand(2, 3, 8, 8)
    pool = nn.MaxPool2d(3, 2, 1, return_indices=True, ceil_mode=True)
    out, idx = pool(x)
    ref, ref_idx = F.max_pool2d(x, 3, 2, 1, ceil_mode=True, return_indices=True)
    assert out.tolist() == ref.tolist() and idx.tolist() == ref_idx.tolist()
    unpool = nn.MaxUnpool2d(3, 2, 1)
    assert tuple(unpool(out, idx, output_size=(8, 8)).shape) == (2, 3, 8, 8)
    np.testing.assert_allclose(nn.AvgPool2d(2, divisor_override=3)(x).numpy(),
                               F.avg_pool2d(x, 2, divisor_override=3).numpy())
    np.testing.assert_allclose(nn.AvgPool1d(3, 1, 1, count_include_pad=False)(x[0]).numpy(),
                               F.avg_pool1d(x[0], 3, 1, 1, count_include_pad=False).numpy())
    assert tuple(nn.AdaptiveAvgPool2d((None, 3))(x).shape) == (2, 3, 8, 3)
    assert len(nn.AdaptiveMaxPool1d(4, return_indices=True)(x[0])) == 2
    assert tuple(nn.LPPool2d(2, 2)(x.abs()).shape) == (2, 3, 4, 4)
    assert tuple(nn.MaxPool3d(2)(rand(1, 2, 4, 4, 4)).shape) == (1, 2, 2, 2, 2)
    assert tuple(nn.AvgPool3d(2, stride=1)(rand(2, 4, 4, 4)).shape) == (2, 3, 3, 3)


def test_fractional_max_pool():
    x = rand(2, 3, 9, 8, requires_grad=True)
    out, idx = F.fractional_max_pool2d(x, 2, output_ratio=0.5, return_indices=True)
    assert tuple(out.shape) == (2, 3, 4, 4)
    flat = x.detach().numpy().reshape(6, 72)
    np.testing.assert_allclose(out.detach().numpy().reshape(6, 16),
                               np.take_along_axis(flat, idx.numpy().reshape(6, 16), 1))
    out.sum().backward()
    assert x.grad.numpy().sum() == 2 * 3 * 16
    layer = nn.FractionalMaxPool2d(3, output_size=4, _random_samples=tm.rand(2, 3, 2,
                                                                             dtype=tm.float64))
    assert repr(layer) == "FractionalMaxPool2d()" and "_random_samples" in layer.state_dict()
    np.testing.assert_array_equal(layer(x).detach().numpy(), layer(x).detach().numpy())
    assert tuple(nn.FractionalMaxPool3d(2, output_ratio=(0.5, 0.5, 0.5))(
        rand(1, 2, 6, 6, 6)).shape) == (1, 2, 3, 3, 3)
    with pytest.raises(ValueError, match="requires specifying either an output size, or a "
                                         "pooling ratio"):
        nn.FractionalMaxPool2d(3)
    with pytest.raises(ValueError, match=r"output_ratio must be between 0 and 1 \(got 1.5\)"):
        nn.FractionalMaxPool2d(3, output_ratio=1.5)
    with pytest.raises(RuntimeError, match="fractional_max_pool2d\\(\\): pool height 3 too large "
                                           "relative to input height 8"):
        F.fractional_max_pool2d(rand(2, 3, 8, 8), 3, output_size=7)


def test_max_pool_all_lowest_windows_point_inside_the_input():
    x = tm.full((1, 1, 4, 4), float("-inf"))
    _, idx = F.max_pool2d(x, 2, padding=1, return_indices=True)
    assert idx.tolist() == [[[[0, 1, 3], [4, 5, 7], [12, 13, 15]]]]
    low = tm.full((1, 1, 5, 5), np.iinfo(np.int64).min, dtype=tm.int64)
    _, idx = F.max_pool2d(low, 3, stride=2, padding=1, return_indices=True)
    assert idx.tolist() == [[[[0, 1, 3], [5, 6, 8], [15, 16, 18]]]]


def test_max_pool_without_graph_skips_indices_and_agrees():
    import taimatsu as tm
    x = tm.randn(2, 3, 9, 9)
    with tm.no_grad():
        fast = tm.nn.functional.max_pool2d(x, 3, stride=2, padding=1)
    slow = tm.nn.functional.max_pool2d(x.clone().requires_grad_(True), 3, stride=2, padding=1)
    assert fast.shape == slow.shape == (2, 3, 5, 5)
    assert (fast == slow.detach()).all()
