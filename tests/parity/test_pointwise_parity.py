"""Pointwise ops against PyTorch: values, dtypes and gradients (bfloat16 by hand)."""

import numpy as np
import pytest
from op_cases.pointwise import CASES

import taimatsu as tm
from taimatsu.testing import assert_close, generate_parity_tests

globals().update(generate_parity_tests(CASES))

BF16_UNARY = ["exp", "sigmoid", "tanh", "erf", "erfinv", "lgamma", "digamma", "sqrt", "log",
              "sign", "round", "floor", "abs", "reciprocal", "nan_to_num", "angle", "frac"]


@pytest.mark.parametrize("name", BF16_UNARY)
def test_bfloat16_unary_matches_torch(name, torch):
    values = np.random.default_rng(0).uniform(0.05, 0.95, 24).astype(np.float32)
    ours = getattr(tm, name)(tm.tensor(values).bfloat16())
    theirs = getattr(torch, name)(torch.from_numpy(values).bfloat16())
    assert ours.dtype is tm.bfloat16
    assert_close(ours, theirs)


def test_bfloat16_binary_matches_torch(torch):
    rng = np.random.default_rng(1)
    a, b = (rng.uniform(-1, 1, (3, 4)).astype(np.float32) for _ in range(2))
    ta, tb = tm.tensor(a).bfloat16(), tm.tensor(b).bfloat16()
    xa, xb = torch.from_numpy(a).bfloat16(), torch.from_numpy(b).bfloat16()
    for ours, theirs in [(tm.maximum(ta, tb), torch.maximum(xa, xb)),
                         (tm.clamp(ta, -0.5, 0.25), torch.clamp(xa, -0.5, 0.25)),
                         (tm.lerp(ta, tb, 0.3), torch.lerp(xa, xb, 0.3)),
                         (tm.where(ta > 0, ta, 0.1), torch.where(xa > 0, xa, 0.1)),
                         (tm.atan2(ta, tb), torch.atan2(xa, xb)),
                         (ta == 0.1, xa == 0.1), (ta < tb, xa < xb)]:
        assert ours.dtype.name == str(theirs.dtype).replace("torch.", "")
        assert_close(ours, theirs)
