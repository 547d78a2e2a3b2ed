"""Dropout against PyTorch: the streams differ, so compare statistics and structure.

Both libraries draw their own masks; what must agree is the rate of dropped elements,
the scale of kept ones, which elements share a mask (whole channels for the feature
variants), the alpha variants' output moments, eval-mode identity and that gradients flow
only through kept elements, scaled like the output.
"""

import numpy as np
import pytest

import taimatsu as tm
from taimatsu import nn
from taimatsu.nn import functional as F


def _both(torch, name, shape, p, dtype="float32", **kwargs):
    """(ours, theirs) outputs and input gradients for ones(shape) and grad ones."""
    tm.manual_seed(0)
    torch.manual_seed(0)
    out = []
    for lib, fn in ((tm, getattr(F, name)), (torch, getattr(torch.nn.functional, name))):
        x = lib.ones(*shape, dtype=getattr(lib, dtype), requires_grad=True)
        y = fn(x, p, **kwargs)
        y.backward(lib.ones(*shape, dtype=getattr(lib, dtype)))
        out.append((y.detach().numpy(), x.grad.numpy()))
    return out


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_rate_scale_and_gradient_match_torch(torch, p):
    (ya, ga), (yb, gb) = _both(torch, "dropout", (300, 400), p)
    for y in (ya, yb):
        assert abs((y == 0).mean() - p) < 0.01
    assert np.unique(ya[ya != 0]).tolist() == np.unique(yb[yb != 0]).tolist()
    assert ya.dtype == yb.dtype
    for y, g in ((ya, ga), (yb, gb)):  # same rule on both sides: grad = output / input
        np.testing.assert_array_equal(g, y)


@pytest.mark.parametrize("name, shape, lead", [
    ("dropout1d", (40, 30, 8), 2), ("dropout1d", (30, 8), 1), ("dropout2d", (20, 30, 3, 4), 2),
    ("dropout3d", (20, 30, 2, 2, 3), 2), ("dropout3d", (30, 2, 2, 3), 1)])
def test_channel_dropout_structure_matches_torch(torch, name, shape, lead):
    (ya, ga), (yb, gb) = _both(torch, name, shape, 0.4)
    for y in (ya, yb):
        channels = y.reshape(int(np.prod(shape[:lead])), -1)
        assert (channels.min(1) == channels.max(1)).all()  # whole channels only
    n = int(np.prod(shape[:lead]))
    for y in (ya, yb):  # both drop channels at rate p (within 4 binomial deviations)
        assert abs((y.reshape(n, -1)[:, 0] == 0).mean() - 0.4) < 4 * np.sqrt(0.24 / n)
    np.testing.assert_array_equal(ga, ya)


@pytest.mark.parametrize("name", ["alpha_dropout", "feature_alpha_dropout"])
def test_alpha_dropout_moments_and_values_match_torch(torch, name):
    rng = np.random.default_rng(0)
    tm.manual_seed(0)
    torch.manual_seed(0)
    x = rng.standard_normal((200, 50, 20))
    ours = getattr(F, name)(tm.tensor(x), 0.3, training=True).numpy()
    theirs = getattr(torch.nn.functional, name)(torch.from_numpy(x), 0.3, training=True).numpy()
    assert abs(ours.mean() - theirs.mean()) < 0.02 and abs(ours.std() - theirs.std()) < 0.02
    # dropped units take the same constant value on both sides
    dropped = np.isin(np.round(ours, 12), np.round(theirs, 12)) & ~np.isclose(ours, 0)
    assert dropped.any()
    (ya, ga), (yb, gb) = _both(torch, name, (100, 40, 5), 0.3, training=True)
    assert sorted(np.unique(np.round(ga, 6))) == sorted(np.unique(np.round(gb, 6)))


@pytest.mark.parametrize("cls", ["Dropout", "Dropout2d", "AlphaDropout"])
def test_eval_mode_and_repr_match_torch(torch, cls):
    ours, theirs = getattr(nn, cls)(0.25), getattr(torch.nn, cls)(0.25)
    assert repr(ours) == repr(theirs)
    x = np.random.default_rng(1).standard_normal((4, 3, 2, 2)).astype(np.float32)
    np.testing.assert_array_equal(ours.eval()(tm.tensor(x)).numpy(),
                                  theirs.eval()(torch.from_numpy(x)).numpy())


def test_p_one_and_float64_match_torch(torch):
    (ya, ga), (yb, gb) = _both(torch, "dropout", (3, 4), 1.0, dtype="float64")
    np.testing.assert_array_equal(ya, yb)
    np.testing.assert_array_equal(ga, gb)
    assert ya.dtype == yb.dtype == np.float64
