"""F.conv* / F.conv_transpose* and the Conv layers: generated op cases plus edge cases."""

from op_cases.nn_conv import CASES

from taimatsu.testing import generate_tests

globals().update(generate_tests(CASES))


import math  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from op_cases.nn_conv import ref_conv, ref_conv_transpose  # noqa: E402

import taimatsu as tm  # noqa: E402
from taimatsu import nn  # noqa: E402
from taimatsu.nn import functional as F  # noqa: E402

RNG = np.random.default_rng(0)


def rand(*shape, dtype=tm.float64, requires_grad=False):
    return tm.tensor(RNG.standard_normal(shape), dtype=dtype, requires_grad=requires_grad)


# -- errors: PyTorch's messages ------------------------------------------------------------------

@pytest.mark.parametrize("x_shape, w_shape, kwargs, message", [
    ((2, 3), (8, 3, 3, 3), {}, "Expected 3D (unbatched) or 4D (batched) input to conv2d, but "
                               "got input of size: [2, 3]"),
    ((2, 7, 10, 10), (8, 3, 3, 3), {}, "Given groups=1, weight of size [8, 3, 3, 3], expected "
                                       "input[2, 7, 10, 10] to have 3 channels, but got 7 "
                                       "channels instead"),
    ((7, 10, 10), (8, 3, 3, 3), {}, "expected input[1, 7, 10, 10] to have 3 channels"),
    ((2, 3, 2, 2), (8, 3, 3, 3), {}, "Calculated padded input size per channel: (2 x 2). "
                                     "Kernel size: (3 x 3). Kernel size can't be greater than "
                                     "actual input size"),
    ((2, 3, 9, 9), (3, 3, 3, 3), {"groups": 2}, "Given groups=2, expected weight to be "
                                                "divisible by 2 at dimension 0"),
    ((2, 3, 9, 9), (8, 3, 3, 3), {"groups": 2}, "expected input[2, 3, 9, 9] to have 6 "
                                                "channels"),
    ((2, 3, 9, 9), (8, 3, 3, 3), {"stride": 0}, "non-positive stride is not supported"),
    ((2, 3, 9, 9), (8, 3, 3, 3), {"dilation": 0}, "non-positive dilation is not supported"),
    ((2, 3, 9, 9), (8, 3, 3, 3), {"padding": -1}, "negative padding is not supported"),
    ((2, 3, 9, 9), (8, 3, 3, 3), {"padding": "foo"}, "Invalid padding string: 'foo'"),
    ((2, 3, 9, 9), (8, 3, 3, 3), {"padding": "same", "stride": 2},
     "padding='same' is not supported for strided convolutions"),
    ((2, 3, 9, 9), (8, 3, 3, 3), {"stride": (1, 1, 1)},
     "expected stride to be a single integer value or a list of 2 values to match the "
     "convolution dimensions, but got stride=[1, 1, 1]"),
    ((2, 3, 9, 9), (8, 3, 3, 3), {"padding": (1, 2, 3)},
     "expected padding to be a single integer value or a list of 2 values"),
])
def test_conv2d_errors(x_shape, w_shape, kwargs, message):
    with pytest.raises(RuntimeError) as info:
        F.conv2d(rand(*x_shape), rand(*w_shape), **kwargs)
    assert message in str(info.value)


def test_conv_bias_dtype_and_rank_errors():
    x, w = rand(2, 3, 6, 6), rand(8, 3, 3, 3)
    with pytest.raises(RuntimeError, match=r"expected bias to be 1-dimensional with 8 "
                                           r"elements, but got bias of size \[3\] instead"):
        F.conv2d(x, w, rand(3))
    with pytest.raises(RuntimeError, match="expected scalar type Double but found Float"):
        F.conv2d(x, w.float())
    with pytest.raises(RuntimeError, match="not implemented for 'Long'"):
        F.conv2d(x.long(), w.long())
    with pytest.raises(RuntimeError, match=r"Expected 2D \(unbatched\) or 3D \(batched\) input "
                                           r"to conv1d, but got input of size: \[2, 3, 6, 6\]"):
        F.conv1d(x, rand(8, 3, 3))


def test_conv_transpose_errors():
    with pytest.raises(RuntimeError, match=r"output padding must be smaller than either "
                                           r"stride or dilation, but got output_padding_height: "
                                           r"2 output_padding_width: 2 stride_height: 2 "
                                           r"stride_width: 2 dilation_height: 1 "
                                           r"dilation_width: 1"):
        F.conv_transpose2d(rand(2, 3, 4, 4), rand(3, 4, 3, 3), stride=2, output_padding=2)
    with pytest.raises(RuntimeError, match=r"Given transposed=1, weight of size \[3, 4, 3, 3\], "
                                           r"expected input\[2, 5, 4, 4\] to have 3 channels, "
                                           r"but got 5 channels instead"):
        F.conv_transpose2d(rand(2, 5, 4, 4), rand(3, 4, 3, 3))
    with pytest.raises(RuntimeError, match=r"to conv_transpose2d, but got input of size: "
                                           r"\[2, 3\]"):
        F.conv_transpose2d(rand(2, 3), rand(3, 4, 3, 3))


# -- numerics beyond the op cases ----------------------------------------------------------------

@pytest.mark.parametrize("nd", [1, 2, 3])
def test_random_geometries_match_reference(nd):
    rng = np.random.default_rng(nd)
    for _ in range(6):
        k = tuple(int(v) for v in rng.integers(1, 4, nd))
        s = tuple(int(v) for v in rng.integers(1, 3, nd))
        d = tuple(int(v) for v in rng.integers(1, 3, nd))
        p = tuple(int(v) for v in rng.integers(0, 3, nd))
        g = int(rng.choice([1, 2]))
        size = tuple(int(dd * (kk - 1) + 1 + rng.integers(0, 4)) for kk, dd in zip(k, d))
        x = rng.standard_normal((2, 2 * g) + size)
        w = rng.standard_normal((2 * g, 2) + k)
        got = getattr(F, f"conv{nd}d")(tm.tensor(x), tm.tensor(w), None, s, p, d, g)
        np.testing.assert_allclose(got.numpy(), ref_conv(nd)(x, w, None, s, p, d, g),
                                   rtol=1e-10, atol=1e-12)
        op = tuple(int(rng.integers(0, max(ss, dd))) for ss, dd in zip(s, d))
        sizes = [(n - 1) * ss - 2 * pp + dd * (kk - 1) + oo + 1
                 for n, ss, pp, dd, kk, oo in zip(size, s, p, d, k, op)]
        if min(sizes) > 0:
            got_t = getattr(F, f"conv_transpose{nd}d")(tm.tensor(x), tm.tensor(w), None, s, p,
                                                       op, g, d)
            np.testing.assert_allclose(got_t.numpy(),
                                       ref_conv_transpose(nd)(x, w, None, s, p, op, g, d),
                                       rtol=1e-10, atol=1e-12)


def test_conv_transpose_is_the_input_gradient_of_conv():
    x, w = rand(2, 3, 7, 6, requires_grad=True), rand(4, 3, 3, 2)
    y = F.conv2d(x, w, stride=2, padding=1)
    g = rand(*y.shape)
    y.backward(g)
    back = F.conv_transpose2d(g, w, stride=2, padding=1)
    np.testing.assert_allclose(back.numpy(), x.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_large_channels_use_several_chunks():
    # more im2col bytes than one chunk: the chunked loop must cover every image
    x, w = rand(5, 16, 24, 24, dtype=tm.float32), rand(8, 16, 3, 3, dtype=tm.float32)
    got = F.conv2d(x, w, padding=1)
    np.testing.assert_allclose(got.numpy(), ref_conv(2)(x.numpy().astype(np.float64),
                                                       w.numpy().astype(np.float64), None, 1, 1),
                               rtol=1e-4, atol=1e-4)


def test_half_precision_computes_in_float32():
    x, w = rand(2, 3, 5, 5), rand(4, 3, 3, 3)
    for dt in (tm.float16, tm.bfloat16):
        out = F.conv2d(x.to(dt), w.to(dt), padding=1)
        assert out.dtype is dt
        ref = F.conv2d(x.to(dt).double(), w.to(dt).double(), padding=1)
        np.testing.assert_allclose(out.double().numpy(), ref.numpy(), rtol=0.05, atol=0.05)


def test_grad_fn_and_saved_input_check():
    x, w = rand(2, 3, 5, 5, requires_grad=True), rand(4, 3, 3, 3, requires_grad=True)
    assert F.conv2d(x, w).grad_fn.name() == "ConvolutionBackward0"
    assert F.conv_transpose2d(x, rand(3, 2, 2, 2, requires_grad=True)).grad_fn.name() == \
        "ConvolutionBackward0"
    h = x * 1
    y = F.conv2d(h, w)
    h.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_only_weight_requires_grad():
    x, w = rand(2, 3, 5, 5), rand(4, 3, 3, 3, requires_grad=True)
    F.conv2d(x, w, padding=1).sum().backward()
    assert w.grad.shape == w.shape and x.grad is None


def test_empty_batch():
    out = F.conv2d(rand(0, 3, 5, 5), rand(4, 3, 3, 3))
    assert tuple(out.shape) == (0, 4, 3, 3)


# -- layers --------------------------------------------------------------------------------------

@pytest.mark.parametrize("cls, args, weight, bias", [
    (nn.Conv1d, (4, 6, 3), (6, 4, 3), (6,)),
    (nn.Conv2d, (4, 6, (3, 2)), (6, 4, 3, 2), (6,)),
    (nn.Conv2d, (4, 6, 3, 1, 0, 1, 2), (6, 2, 3, 3), (6,)),
    (nn.Conv3d, (2, 4, 2), (4, 2, 2, 2, 2), (4,)),
    (nn.ConvTranspose1d, (4, 6, 3), (4, 6, 3), (6,)),
    (nn.ConvTranspose2d, (4, 6, 3, 1, 0, 0, 2), (4, 3, 3, 3), (6,)),
    (nn.ConvTranspose3d, (2, 4, 2), (2, 4, 2, 2, 2), (4,)),
])
def test_parameter_shapes(cls, args, weight, bias):
    m = cls(*args)
    assert tuple(m.weight.shape) == weight and tuple(m.bias.shape) == bias
    assert list(m.state_dict()) == ["weight", "bias"]


def test_default_init_bounds():
    m = nn.Conv2d(16, 32, 3)
    fan_in = 16 * 9
    bound = 1 / math.sqrt(fan_in)
    w, b = m.weight.detach().numpy(), m.bias.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.05 * bound
    assert np.abs(b).max() <= bound
    t = nn.ConvTranspose2d(16, 32, 3)  # fan_in of the transposed weight is 32 * 9
    assert np.abs(t.weight.detach().numpy()).max() <= 1 / math.sqrt(32 * 9)


def test_module_checks():
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        nn.Conv2d(3, 8, 3, groups=2)
    with pytest.raises(ValueError, match="out_channels must be divisible by groups"):
        nn.Conv2d(4, 6, 3, groups=4)
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        nn.Conv2d(4, 8, 3, padding_mode="foo")
    with pytest.raises(ValueError, match="padding='same' is not supported for strided"):
        nn.Conv2d(4, 8, 3, padding="same", stride=2)
    with pytest.raises(ValueError, match="Invalid padding string 'bar'"):
        nn.Conv2d(4, 8, 3, padding="bar")
    with pytest.raises(ValueError, match='Only "zeros" padding mode is supported for '
                                         'ConvTranspose2d'):
        nn.ConvTranspose2d(4, 8, 3, padding_mode="reflect")
    with pytest.raises(RuntimeError, match="Expected 3D \\(unbatched\\) or 4D \\(batched\\) "
                                           "input to conv2d, but got input of size: \\[2, 3\\]"):
        nn.Conv2d(3, 8, 3)(rand(2, 3, dtype=tm.float32))


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_padding_modes_pad_then_convolve(mode):
    m = nn.Conv2d(2, 3, 3, padding=(1, 2), padding_mode=mode).double()
    x = rand(2, 2, 5, 6)
    expected = F.conv2d(F.pad(x, (2, 2, 1, 1), mode=mode), m.weight, m.bias)
    np.testing.assert_allclose(m(x).detach().numpy(), expected.detach().numpy())
    same = nn.Conv1d(2, 3, 4, padding="same", padding_mode=mode).double()
    x1 = rand(2, 2, 7)
    expected = F.conv1d(F.pad(x1, (1, 2), mode=mode), same.weight, same.bias)
    np.testing.assert_allclose(same(x1).detach().numpy(), expected.detach().numpy())


def test_conv_transpose_output_size():
    m = nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1).double()
    x = rand(1, 3, 4, 4)
    assert tuple(m(x).shape) == (1, 2, 7, 7)
    assert tuple(m(x, output_size=(8, 8)).shape) == (1, 2, 8, 8)
    assert tuple(m(x, output_size=(1, 2, 8, 7)).shape) == (1, 2, 8, 7)
    with pytest.raises(ValueError, match=r"requested an output size of \[9, 9\], but valid "
                                         r"sizes range from \[7, 7\] to \[8, 8\]"):
        m(x, output_size=(9, 9))


def test_lazy_conv_materializes_on_first_call():
    m = nn.LazyConv2d(8, 3, padding=1)
    assert repr(m) == "LazyConv2d(0, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))"
    y = m(rand(2, 5, 6, 6, dtype=tm.float32))
    assert type(m) is nn.Conv2d and m.in_channels == 5
    assert tuple(m.weight.shape) == (8, 5, 3, 3) and tuple(y.shape) == (2, 8, 6, 6)
    assert np.abs(m.weight.detach().numpy()).max() <= 1 / math.sqrt(45)
    t = nn.LazyConvTranspose2d(4, 2, groups=2)
    t(rand(6, 3, 3, dtype=tm.float32))  # unbatched: channels are dim 0
    assert type(t) is nn.ConvTranspose2d and tuple(t.weight.shape) == (6, 2, 2, 2)
    one = nn.LazyConv1d(3, 2)
    one.load_state_dict({"weight": tm.ones(3, 4, 2), "bias": tm.zeros(3)})
    assert tuple(one.weight.shape) == (3, 4, 2)


def test_conv_layer_trains():
    m = nn.Conv2d(1, 2, 3, padding=1)
    x = rand(4, 1, 6, 6, dtype=tm.float32)
    target = rand(4, 2, 6, 6, dtype=tm.float32)
    opt = tm.optim.SGD(m.parameters(), lr=0.05)
    losses = []
    for _ in range(20):
        opt.zero_grad()
        loss = ((m(x) - target) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.9 * losses[0]
