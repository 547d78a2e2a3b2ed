"""nn_conv op cases against PyTorch."""

from op_cases.nn_conv import CASES

from taimatsu.testing import generate_parity_tests

globals().update(generate_parity_tests(CASES))


import math  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import taimatsu as tm  # noqa: E402
from taimatsu import nn  # noqa: E402
from taimatsu.testing import check_module_parity  # noqa: E402

# float32 weight gradients sum ~100 products: where they cancel, rounding alone leaves
# ~1e-6 absolute differences between two correct orders of summation
DTYPES = [(np.float32, 1e-5, 1e-5), (np.float64, 1e-10, 1e-12)]

CONV_CONFIGS = [
    (1, dict(in_channels=3, out_channels=4, kernel_size=3)),
    (1, dict(in_channels=4, out_channels=6, kernel_size=4, stride=2, padding=3, dilation=2,
             groups=2, padding_mode="reflect")),
    (1, dict(in_channels=3, out_channels=3, kernel_size=4, padding="same",
             padding_mode="circular", bias=False)),
    (2, dict(in_channels=3, out_channels=5, kernel_size=3, padding=1)),
    (2, dict(in_channels=3, out_channels=4, kernel_size=(3, 2), stride=(2, 1),
             padding=(1, 0), dilation=(1, 2))),
    (2, dict(in_channels=4, out_channels=4, kernel_size=3, padding=1, groups=4)),
    (2, dict(in_channels=4, out_channels=8, kernel_size=3, padding="same", groups=2,
             padding_mode="replicate")),
    (2, dict(in_channels=2, out_channels=3, kernel_size=2, padding="valid", bias=False)),
    (2, dict(in_channels=2, out_channels=4, kernel_size=3, stride=2, padding=2,
             padding_mode="reflect")),
    (2, dict(in_channels=2, out_channels=2, kernel_size=5, padding=2,
             padding_mode="circular", dilation=1)),
    (3, dict(in_channels=2, out_channels=3, kernel_size=(2, 3, 2), stride=(1, 2, 1),
             padding=1)),
    (3, dict(in_channels=2, out_channels=4, kernel_size=3, padding="same", groups=2,
             padding_mode="replicate")),
]


def _x(shape, dtype, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _pair(torch, cls_name, dtype, **kwargs):
    tdt = torch.float32 if dtype == np.float32 else torch.float64
    mdt = tm.float32 if dtype == np.float32 else tm.float64
    return getattr(nn, cls_name)(dtype=mdt, **kwargs), getattr(torch.nn, cls_name)(dtype=tdt,
                                                                                   **kwargs)


@pytest.mark.parametrize("dtype,rtol,atol", DTYPES)
@pytest.mark.parametrize("nd,kwargs", CONV_CONFIGS)
def test_conv_module(torch, nd, kwargs, dtype, rtol, atol):
    ours, theirs = _pair(torch, f"Conv{nd}d", dtype, **kwargs)
    shape = (2, kwargs["in_channels"]) + (7, 8, 6)[:nd]
    check_module_parity(ours, theirs, _x(shape, dtype), rtol=rtol, atol=atol)
    check_module_parity(ours, theirs, _x(shape[1:], dtype, 1), rtol=rtol, atol=atol)
    assert repr(ours) == repr(theirs)


TRANSPOSE_CONFIGS = [
    (1, dict(in_channels=3, out_channels=4, kernel_size=3, stride=2, padding=1,
             output_padding=1)),
    (2, dict(in_channels=3, out_channels=4, kernel_size=3)),
    (2, dict(in_channels=4, out_channels=6, kernel_size=(3, 2), stride=(2, 3),
             padding=(1, 0), output_padding=(1, 2), groups=2, bias=False)),
    (2, dict(in_channels=2, out_channels=3, kernel_size=3, dilation=2, output_padding=1,
             padding=2)),
    (2, dict(in_channels=4, out_channels=4, kernel_size=4, stride=2, padding=1, groups=4)),
    (3, dict(in_channels=2, out_channels=3, kernel_size=2, stride=2, padding=(0, 1, 0))),
]


@pytest.mark.parametrize("dtype,rtol,atol", DTYPES)
@pytest.mark.parametrize("nd,kwargs", TRANSPOSE_CONFIGS)
def test_conv_transpose_module(torch, nd, kwargs, dtype, rtol, atol):
    ours, theirs = _pair(torch, f"ConvTranspose{nd}d", dtype, **kwargs)
    shape = (2, kwargs["in_channels"]) + (5, 4, 3)[:nd]
    check_module_parity(ours, theirs, _x(shape, dtype), rtol=rtol, atol=atol)
    assert repr(ours) == repr(theirs)


def test_conv_transpose_output_size(torch):
    ours, theirs = _pair(torch, "ConvTranspose2d", np.float64, in_channels=3, out_channels=2,
                         kernel_size=3, stride=2, padding=1)
    check_module_parity(ours, theirs, _x((2, 3, 4, 5), np.float64),
                        forward_kwargs={"output_size": (8, 9)}, rtol=1e-10, atol=1e-12)


def test_benchmark_sized_conv(torch):
    """The benchmark's layer (64 -> 64, 3x3, 32x32) at batch 3 (several im2col chunks), in
    float64: its weight gradients sum 3000 products, too many for a tight float32 check."""
    ours, theirs = _pair(torch, "Conv2d", np.float64, in_channels=64, out_channels=64,
                         kernel_size=3, padding=1)
    check_module_parity(ours, theirs, _x((3, 64, 32, 32), np.float64), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("cls,args", [("Conv2d", (16, 32, 3)), ("Conv1d", (8, 4, 5)),
                                      ("Conv3d", (4, 8, 2)), ("ConvTranspose2d", (16, 8, 3)),
                                      ("Conv2d", (16, 32, 3, 1, 0, 1, 4))])
def test_default_init_matches_torch_distribution(torch, cls, args):
    ours, theirs = getattr(nn, cls)(*args), getattr(torch.nn, cls)(*args)
    fan_in, _ = torch.nn.init._calculate_fan_in_and_fan_out(theirs.weight)
    bound = 1 / math.sqrt(fan_in)  # both weight and bias are U(-bound, bound)
    for name in ("weight", "bias"):
        a = getattr(ours, name).detach().numpy()
        b = getattr(theirs, name).detach().numpy()
        assert a.shape == b.shape
        assert np.abs(a).max() <= bound and np.abs(b).max() <= bound
        if a.size > 500:  # uniform: std = bound / sqrt(3)
            assert abs(a.std() - b.std()) < 0.1 * b.std()
            assert np.abs(a).max() > 0.95 * bound


def test_lazy_reprs_and_shapes(torch):
    ours, theirs = nn.LazyConv2d(8, 3, stride=2), torch.nn.LazyConv2d(8, 3, stride=2)
    assert repr(ours) == repr(theirs)
    x = _x((2, 5, 9, 9), np.float32)
    ours(tm.tensor(x))
    theirs(torch.from_numpy(x))
    assert repr(ours) == repr(theirs)
    assert tuple(ours.weight.shape) == tuple(theirs.weight.shape)
    bound = 1 / math.sqrt(5 * 9)
    assert np.abs(ours.weight.detach().numpy()).max() <= bound
    check_module_parity(ours, theirs, x)
