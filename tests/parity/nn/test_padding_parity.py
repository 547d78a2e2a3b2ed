"""F.pad op cases against PyTorch."""

from op_cases.nn_conv import PAD_CASES

from taimatsu.testing import generate_parity_tests

globals().update(generate_parity_tests(PAD_CASES))


import numpy as np  # noqa: E402
import pytest  # noqa: E402

from taimatsu import nn  # noqa: E402
from taimatsu.testing import check_module_parity  # noqa: E402

LAYERS = [
    ("ZeroPad1d", (2,), (2, 3, 5)), ("ZeroPad2d", ((1, 2, -1, 3),), (2, 3, 4, 5)),
    ("ZeroPad3d", (1,), (1, 2, 3, 4, 3)), ("ConstantPad1d", ((1, 3), 2.5), (2, 3, 4)),
    ("ConstantPad2d", (2, -1.0), (2, 3, 4)), ("ConstantPad3d", ((1, 0, 2, 1, 0, 2), 0.5),
                                              (1, 2, 3, 3, 3)),
    ("ReflectionPad1d", ((3, 1),), (2, 3, 5)), ("ReflectionPad2d", (2,), (2, 3, 4, 5)),
    ("ReflectionPad3d", ((1, 2, 0, 1, 2, 1),), (1, 2, 3, 4, 3)),
    ("ReplicationPad1d", (3,), (3, 4)), ("ReplicationPad2d", ((0, 3, 2, 1),), (2, 3, 4, 5)),
    ("ReplicationPad3d", (2,), (1, 2, 3, 2, 3)),
    ("CircularPad1d", ((2, 1),), (2, 3, 5)), ("CircularPad2d", (2,), (3, 4, 5)),
    ("CircularPad3d", ((1, 0, 2, 1, 1, 2),), (1, 2, 3, 3, 3)),
]


@pytest.mark.parametrize("dtype,rtol,atol", [(np.float32, 1e-5, 1e-6),
                                             (np.float64, 1e-10, 1e-12)])
@pytest.mark.parametrize("name,args,shape", LAYERS)
def test_padding_layer(torch, name, args, shape, dtype, rtol, atol):
    x = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    check_module_parity(ours, theirs, x, rtol=rtol, atol=atol)
    assert repr(ours) == repr(theirs)


def test_random_pads_match_torch(torch):
    """Random pads (negative ones crop) in every mode and rank PyTorch accepts."""
    import taimatsu as tm
    from taimatsu.nn import functional as F
    rng = np.random.default_rng(1)
    checked = 0
    for mode in ("constant", "reflect", "replicate", "circular"):
        for shape, npad in [((2, 6), 2), ((2, 3, 6), 2), ((3, 5, 6), 4), ((2, 3, 5, 6), 4),
                            ((2, 5, 4, 6), 6), ((1, 2, 5, 4, 6), 6)]:
            for _ in range(6):
                pads = tuple(int(v) for v in rng.integers(-2, 4, npad))
                x = rng.standard_normal(shape)
                try:
                    expected = torch.nn.functional.pad(torch.from_numpy(x), pads, mode=mode)
                except RuntimeError:
                    continue
                got = F.pad(tm.tensor(x), pads, mode=mode)
                np.testing.assert_allclose(got.numpy(), expected.numpy())
                checked += 1
    assert checked > 100
