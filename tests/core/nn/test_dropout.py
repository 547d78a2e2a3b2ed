"""Dropout: masks, scaling, channel structure, reproducibility, errors and the layers."""

import re
import warnings

import numpy as np
import pytest

import taimatsu as tm
from taimatsu import nn
from taimatsu.nn import functional as F
from taimatsu.testing import assert_close


@pytest.fixture(autouse=True)
def _seeded():
    """Masks are random: seed so that every test sees the same draws."""
    tm.manual_seed(2024)


ALL = [F.dropout, F.dropout1d, F.dropout2d, F.dropout3d, F.alpha_dropout,
       F.feature_alpha_dropout]


@pytest.mark.parametrize("fn", ALL, ids=lambda f: f.__name__)
def test_probability_is_validated(fn):
    with pytest.raises(ValueError, match=re.escape(
            "dropout probability has to be between 0 and 1, but got 1.5")):
        fn(tm.ones(2, 3, 4, 4), 1.5)


@pytest.mark.parametrize("cls, shape", [
    (nn.Dropout, (2, 3)), (nn.Dropout1d, (2, 3, 4)), (nn.Dropout2d, (2, 3, 4, 4)),
    (nn.Dropout3d, (2, 3, 2, 2, 2)), (nn.AlphaDropout, (2, 3)),
    (nn.FeatureAlphaDropout, (2, 3, 4))])
def test_layers_validate_and_pass_through_in_eval(cls, shape):
    with pytest.raises(ValueError, match="but got -0.1"):
        cls(-0.1)
    m = cls(0.3).eval()
    x = tm.ones(*shape)
    assert m(x) is x
    assert repr(cls(0.3, inplace=True)) == f"{cls.__name__}(p=0.3, inplace=True)"
    y = m.train()(x)
    assert y.shape == x.shape and not np.array_equal(y.numpy(), x.numpy())


def test_identity_cases_return_the_input():
    x = tm.ones(3, 4, requires_grad=True)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    assert F.alpha_dropout(x, 0.5) is x  # alpha variants default to training=False
    assert F.dropout(tm.ones(0, 3), 0.5).shape == (0, 3)


def test_p_one_zeroes_everything_with_zero_gradient():
    x = tm.ones(3, 4, requires_grad=True)
    y = F.dropout(x, 1.0)
    assert not y.detach().numpy().any()
    y.sum().backward()
    assert not x.grad.numpy().any()


def test_mask_rate_scaling_and_gradient():
    x = tm.ones(200, 500, dtype=tm.float64, requires_grad=True)
    y = F.dropout(x, 0.3)
    values = y.detach().numpy()
    kept = values != 0
    assert abs(kept.mean() - 0.7) < 0.01
    assert_close(values[kept], np.full(kept.sum(), 1 / 0.7))
    assert y.grad_fn.name() == "MulBackward0" and y.dtype is tm.float64
    y.backward(tm.full((200, 500), 2.0, dtype=tm.float64))
    # gradient flows only through kept elements, with the same scale
    assert_close(x.grad, 2.0 * values)


def test_manual_seed_makes_masks_reproducible():
    x = tm.ones(50, 40)
    tm.manual_seed(123)
    a = F.dropout(x, 0.5)
    tm.manual_seed(123)
    b = F.dropout(x, 0.5)
    c = F.dropout(x, 0.5)
    assert_close(a, b)
    assert not np.array_equal(b.numpy(), c.numpy())


@pytest.mark.parametrize("fn, shape, lead", [
    (F.dropout1d, (8, 6, 10), 2), (F.dropout2d, (8, 6, 4, 5), 2),
    (F.dropout3d, (8, 6, 2, 3, 4), 2), (F.dropout1d, (6, 10), 1), (F.dropout3d, (6, 2, 3, 4), 1)])
def test_feature_dropout_zeroes_whole_channels(fn, shape, lead):
    y = fn(tm.ones(*shape), 0.5).numpy()
    channels = y.reshape(int(np.prod(shape[:lead])), -1)
    assert (channels.min(1) == channels.max(1)).all()
    assert set(np.unique(y)) == {0.0, 2.0}


def test_feature_dropout_errors_and_warnings():
    with pytest.raises(RuntimeError, match=re.escape(
            "dropout1d: Expected 2D or 3D input, but received a 4D input.")):
        F.dropout1d(tm.ones(2, 3, 4, 5))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        F.dropout2d(tm.ones(2, 3, 4))
        F.dropout3d(tm.ones(2, 3, 4))
    messages = [str(w.message) for w in caught]
    assert any("Received a 3D input to dropout2d" in m for m in messages)
    assert any("Received a 3-D input to dropout3d" in m for m in messages)
    with pytest.raises(RuntimeError, match="Feature dropout requires at least 2 dimensions"):
        F.feature_alpha_dropout(tm.ones(5), 0.5, training=True)


def test_alpha_dropout_keeps_mean_and_variance():
    tm.manual_seed(0)
    x = tm.randn(400, 500, dtype=tm.float64)
    for p in (0.2, 0.5):
        y = F.alpha_dropout(x, p, training=True).numpy()
        assert abs(y.mean()) < 0.02 and abs(y.std() - 1) < 0.02
    y = F.feature_alpha_dropout(tm.randn(64, 100, 30, dtype=tm.float64), 0.5, training=True)
    assert y.grad_fn is None
    channels = y.numpy().reshape(6400, 30)
    dropped = np.ptp(channels, axis=1) == 0  # a dropped channel is one constant value
    assert 0.4 < dropped.mean() < 0.6


def test_alpha_dropout_gradient_is_the_scale_of_kept_elements():
    x = tm.zeros(100, 100, dtype=tm.float64, requires_grad=True)
    y = F.alpha_dropout(x, 0.5, training=True)
    y.sum().backward()
    grads = np.unique(x.grad.numpy())
    a = 1 / np.sqrt((1.7580993408473766 ** 2 * 0.5 + 1) * 0.5)
    assert_close(grads, np.array([0.0, a]))
    assert y.grad_fn.name() == "AddBackward0"


def test_inplace_writes_into_the_input():
    x = tm.ones(30, 30)
    y = F.dropout(x, 0.5, inplace=True)
    assert y is x and (x.numpy() == 0).any()
    z = tm.ones(4, 3, 5)
    out = F.dropout1d(z[0], 0.5, inplace=True)
    assert out.shape == (3, 5)
    leaf = tm.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        F.dropout(leaf, 0.5, inplace=True)


def test_half_precision_dropout():
    y = F.dropout(tm.ones(100, dtype=tm.float16), 0.5)
    assert y.dtype is tm.float16 and set(np.unique(y.numpy())) <= {0.0, 2.0}
