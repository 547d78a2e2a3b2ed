"""tril/triu_indices and nn.modules.utils against torch."""

import numpy as np
import pytest

import taimatsu as tm
from taimatsu.nn.modules import utils as nn_utils

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("name", ["tril_indices", "triu_indices"])
@pytest.mark.parametrize("row, col", [(0, 3), (3, 0), (1, 1), (4, 4), (3, 6), (6, 2)])
@pytest.mark.parametrize("offset", [-7, -2, 0, 1, 5])
def test_triangle_indices_match(name, row, col, offset):
    ours = getattr(tm, name)(row, col, offset)
    theirs = getattr(torch, name)(row, col, offset)
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_ntuple_helpers_match():
    import torch.nn.modules.utils as tu
    for name in ("_single", "_pair", "_triple", "_quadruple"):
        for value in (3, (1, 2), [4, 5, 6]):
            assert getattr(nn_utils, name)(value) == getattr(tu, name)(value)
    assert nn_utils._reverse_repeat_tuple((1, 2, 3), 2) == tu._reverse_repeat_tuple((1, 2, 3), 2)
