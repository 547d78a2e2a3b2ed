"""F.pad and the padding layers: generated op cases plus edge cases."""

from op_cases.nn_conv import PAD_CASES

from taimatsu.testing import generate_tests

globals().update(generate_tests(PAD_CASES))


import numpy as np  # noqa: E402
import pytest  # noqa: E402

import taimatsu as tm  # noqa: E402
from taimatsu import nn  # noqa: E402
from taimatsu.nn import functional as F  # noqa: E402

X = tm.tensor(np.arange(5.0).reshape(1, 1, 5))


@pytest.mark.parametrize("mode, pads, expected", [
    ("constant", (2, -1), [0, 0, 0, 1, 2, 3]),
    ("reflect", (2, 1), [2, 1, 0, 1, 2, 3, 4, 3]),
    ("replicate", (2, 1), [0, 0, 0, 1, 2, 3, 4, 4]),
    ("replicate", (-2, 2), [2, 3, 4, 4, 4]),
    ("circular", (2, 1), [3, 4, 0, 1, 2, 3, 4, 0]),
    ("circular", (-1, 3), [1, 2, 3, 4, 1, 2, 3]),  # crop first, then wrap
    ("circular", (3, -1), [1, 2, 3, 0, 1, 2, 3]),
])
def test_pad_values(mode, pads, expected):
    assert F.pad(X, pads, mode=mode).flatten().tolist() == expected


def test_constant_pad_value_casts_to_dtype():
    assert F.pad(tm.arange(4), (1, 1), value=2.7).tolist() == [2, 0, 1, 2, 3, 2]
    assert F.pad(tm.arange(4.0), (1, 1), value=2.5).tolist() == [2.5, 0, 1, 2, 3, 2.5]


def test_pad_backward_sums_reused_inputs():
    x = tm.tensor(np.arange(4.0).reshape(1, 1, 4), requires_grad=True)
    F.pad(x, (3, 2), mode="replicate").sum().backward()
    assert x.grad.flatten().tolist() == [4, 1, 1, 3]
    y = tm.tensor(np.arange(4.0).reshape(1, 1, 4), requires_grad=True)
    F.pad(y, (3, 2), mode="reflect").sum().backward()
    assert y.grad.flatten().tolist() == [1, 3, 3, 2]
    names = {m: F.pad(tm.zeros(1, 2, 3, 4, requires_grad=True), (1, 1, 1, 1),
                      mode=m).grad_fn.name() for m in ("constant", "reflect", "replicate")}
    assert names == {"constant": "ConstantPadNdBackward0",
                     "reflect": "ReflectionPad2DBackward0",
                     "replicate": "ReplicationPad2DBackward0"}


@pytest.mark.parametrize("exc, call, message", [
    (RuntimeError, lambda: F.pad(tm.zeros(2, 3), (1,)), "Padding length must be divisible by 2"),
    (RuntimeError, lambda: F.pad(tm.zeros(2, 3), (1, 1) * 3),
     "Padding length should be less than or equal to two times the input dimension but got "
     "padding length 6 and input of dimension 2"),
    (RuntimeError, lambda: F.pad(tm.zeros(2, 3), (1, 1), mode="reflect", value=2),
     'Padding mode "reflect" doesn\'t take in value argument'),
    (NotImplementedError, lambda: F.pad(tm.zeros(5), (1, 1), mode="reflect"),
     "Padding size 2 is not supported for 1D input tensor."),
    (NotImplementedError, lambda: F.pad(tm.zeros(2, 3, 4, 5), (1, 1), mode="replicate"),
     "Padding size 2 is not supported for 4D input tensor."),
    (NotImplementedError, lambda: F.pad(tm.zeros(2, 3), (1, 1), mode="foo"),
     "Unrecognised padding mode foo"),
    (RuntimeError, lambda: F.pad(tm.zeros(2, 3, 5), (5, 1), mode="reflect"),
     "Argument #4: Padding size should be less than the corresponding input dimension, but "
     "got: padding (5, 1) at dimension 2 of input [2, 3, 5]"),
    (RuntimeError, lambda: F.pad(tm.zeros(2, 3, 5), (6, 2), mode="circular"),
     "Padding value causes wrapping around more than once."),
    (RuntimeError, lambda: F.pad(tm.zeros(2, 3, 5), (-6, 2)),
     "narrow(): length must be non-negative."),
    (RuntimeError, lambda: F.pad(tm.zeros(2, 0, 5), (1, 1), mode="reflect"),
     "Expected 2D or 3D (batch mode) tensor with possibly 0 batch size and other non-zero "
     "dimensions for input, but got: [2, 0, 5]"),
])
def test_pad_errors(exc, call, message):
    with pytest.raises(exc) as info:
        call()
    assert message in str(info.value)


@pytest.mark.parametrize("cls, arg, mode, pads", [
    (nn.ZeroPad1d, 2, "constant", (2, 2)),
    (nn.ZeroPad2d, (1, 2, 0, 3), "constant", (1, 2, 0, 3)),
    (nn.ZeroPad3d, 1, "constant", (1,) * 6),
    (nn.ReflectionPad1d, (2, 1), "reflect", (2, 1)),
    (nn.ReflectionPad2d, 1, "reflect", (1,) * 4),
    (nn.ReflectionPad3d, 1, "reflect", (1,) * 6),
    (nn.ReplicationPad1d, 3, "replicate", (3, 3)),
    (nn.ReplicationPad2d, (1, 0, 2, 1), "replicate", (1, 0, 2, 1)),
    (nn.ReplicationPad3d, 2, "replicate", (2,) * 6),
    (nn.CircularPad1d, 2, "circular", (2, 2)),
    (nn.CircularPad2d, (1, 2, 2, 1), "circular", (1, 2, 2, 1)),
    (nn.CircularPad3d, 1, "circular", (1,) * 6),
])
def test_padding_layers(cls, arg, mode, pads):
    x = tm.randn(2, 3, 4, 5, 6)[:, :, :3]
    nd = len(pads) // 2
    x = x[(0,) * (3 - nd)] if nd < 3 else x
    layer = cls(arg)
    assert layer.padding == pads
    np.testing.assert_allclose(layer(x).numpy(), F.pad(x, pads, mode=mode).numpy())


def test_constant_pad_layers_and_circular_check():
    layer = nn.ConstantPad2d((1, 0, 2, 1), 3.5)
    assert repr(layer) == "ConstantPad2d(padding=(1, 0, 2, 1), value=3.5)"
    assert layer(tm.zeros(1, 2, 2)).sum().item() == 3.5 * (5 * 3 - 4)
    assert repr(nn.ZeroPad2d(1)) == "ZeroPad2d((1, 1, 1, 1))"
    with pytest.raises(ValueError, match=r"expected 3D or 4D input \(got 2D input\)"):
        nn.CircularPad2d(1)(tm.zeros(5, 5))
