"""nn_pooling op cases against PyTorch."""

from op_cases.nn_pooling import CASES

from taimatsu.testing import generate_parity_tests

globals().update(generate_parity_tests(CASES))


import numpy as np  # noqa: E402
import pytest  # noqa: E402

import taimatsu as tm  # noqa: E402
from taimatsu import nn  # noqa: E402
from taimatsu.testing import check_module_parity  # noqa: E402

LAYERS = [
    ("MaxPool1d", (3,), dict(stride=2, padding=1), (2, 3, 11)),
    ("MaxPool2d", (2,), {}, (2, 3, 8, 8)),
    ("MaxPool2d", (3,), dict(stride=2, padding=1, ceil_mode=True), (2, 3, 9, 8)),
    ("MaxPool2d", ((2, 3),), dict(dilation=(2, 1), return_indices=True), (3, 7, 8)),
    ("MaxPool3d", (2,), dict(stride=(1, 2, 2), padding=1), (1, 2, 5, 6, 5)),
    ("AvgPool1d", (4,), dict(stride=3, padding=2, ceil_mode=True,
                             count_include_pad=False), (2, 3, 13)),
    ("AvgPool2d", (3,), dict(stride=2, padding=1), (2, 3, 9, 8)),
    ("AvgPool2d", ((2, 3),), dict(ceil_mode=True, divisor_override=4), (2, 2, 7, 8)),
    ("AvgPool3d", (3,), dict(stride=2, padding=1, count_include_pad=False), (1, 2, 6, 5, 6)),
    ("AdaptiveAvgPool1d", (5,), {}, (2, 3, 12)),
    ("AdaptiveAvgPool2d", ((3, None),), {}, (2, 3, 8, 7)),
    ("AdaptiveAvgPool2d", (1,), {}, (2, 3, 8, 7)),
    ("AdaptiveAvgPool3d", ((2, 3, 4),), {}, (1, 2, 5, 7, 9)),
    ("AdaptiveMaxPool1d", (5,), dict(return_indices=True), (2, 3, 12)),
    ("AdaptiveMaxPool2d", ((3, 4),), {}, (2, 3, 8, 7)),
    ("AdaptiveMaxPool3d", (2,), {}, (1, 2, 5, 6, 5)),
    ("LPPool1d", (2, 3), dict(stride=2), (2, 3, 10)),
    ("LPPool2d", (3, 2), dict(ceil_mode=True), (2, 3, 7, 6)),
]


@pytest.mark.parametrize("dtype,rtol,atol", [(np.float32, 1e-5, 1e-6),
                                             (np.float64, 1e-10, 1e-12)])
@pytest.mark.parametrize("name,args,kwargs,shape", LAYERS)
def test_pooling_layer(torch, name, args, kwargs, shape, dtype, rtol, atol):
    x = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    if name.startswith("LP"):
        x = np.abs(x) + 0.5
    ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    check_module_parity(ours, theirs, x, rtol=rtol, atol=atol)
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_max_unpool_layer(torch, nd):
    x = np.random.default_rng(nd).standard_normal((2, 3) + (6, 4, 4)[:nd])
    out, idx = getattr(torch.nn.functional, f"max_pool{nd}d")(torch.from_numpy(x), 2,
                                                              return_indices=True)
    ours, theirs = getattr(nn, f"MaxUnpool{nd}d")(2), getattr(torch.nn, f"MaxUnpool{nd}d")(2)
    check_module_parity(ours, theirs, [out.numpy(), idx.numpy()], rtol=1e-10, atol=1e-12)
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("nd", [2, 3])
def test_fractional_max_pool_layer(torch, nd):
    rng = np.random.default_rng(nd)
    x = rng.standard_normal((2, 3) + (9, 8, 7)[:nd])
    samples = rng.random((2, 3, nd))
    name = f"FractionalMaxPool{nd}d"
    ours = getattr(nn, name)(2, output_ratio=0.6, return_indices=True,
                             _random_samples=tm.tensor(samples))
    theirs = getattr(torch.nn, name)(2, output_ratio=0.6, return_indices=True,
                                     _random_samples=torch.from_numpy(samples))
    check_module_parity(ours, theirs, x, rtol=1e-10, atol=1e-12)
    assert repr(ours) == repr(theirs)
