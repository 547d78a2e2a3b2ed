"""nn.init: fills, fans, gains, distributions (bounds and spread), errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

import taimatsu as tm
from taimatsu import nn
from taimatsu.nn import init


def _np(t):
    return t.detach().numpy()


def test_calculate_gain():
    assert init.calculate_gain("linear") == 1 and init.calculate_gain("conv2d") == 1
    assert init.calculate_gain("sigmoid") == 1
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01**2)))
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    assert init.calculate_gain("selu") == 0.75
    with pytest.raises(ValueError, match="negative_slope True not a valid number"):
        init.calculate_gain("leaky_relu", True)
    with pytest.raises(ValueError, match="Unsupported nonlinearity gelu"):
        init.calculate_gain("gelu")


def test_fans():
    assert init._calculate_fan_in_and_fan_out(tm.empty(5, 3)) == (3, 5)
    assert init._calculate_fan_in_and_fan_out(tm.empty(8, 4, 3, 3)) == (36, 72)
    with pytest.raises(ValueError, match="Fan in and fan out can not be computed for tensor "
                                         "with fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(tm.empty(3))
    with pytest.raises(ValueError, match="Mode fan_avg not supported, please use one of "
                                         "\\['fan_in', 'fan_out'\\]"):
        init.kaiming_uniform_(tm.empty(3, 3), mode="fan_avg")


def test_fills_work_on_parameters_and_return_them():
    p = nn.Parameter(tm.empty(3, 3))
    assert init.constant_(p, 2.5) is p and np.all(_np(p) == 2.5)
    assert init.ones_(p) is p and np.all(_np(p) == 1)
    assert init.zeros_(p) is p and np.all(_np(p) == 0)
    assert init.eye_(p) is p and np.array_equal(_np(p), np.eye(3))
    assert p.is_leaf and p.grad_fn is None
    assert np.array_equal(_np(init.eye_(tm.empty(2, 4))), np.eye(2, 4))
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions are supported"):
        init.eye_(tm.empty(2, 2, 2))


def test_dirac():
    w = init.dirac_(tm.empty(4, 3, 3, 3))
    x = tm.randn(1, 3, 5, 5)
    arr = _np(w)
    assert arr.sum() == 3 and arr[1, 1, 1, 1] == 1 and arr[3].sum() == 0
    # as a convolution it copies the input channels
    cols = x.numpy()[0]
    out = np.einsum("oikl,ikl->o", arr, cols[:, 1:4, 1:4])
    assert np.allclose(out[:3], cols[:, 2, 2])
    g = _np(init.dirac_(tm.empty(4, 2, 3), groups=2))
    assert g[0, 0, 1] == 1 and g[1, 1, 1] == 1 and g[2, 0, 1] == 1 and g[3, 1, 1] == 1
    assert g.sum() == 4
    with pytest.raises(ValueError, match="Only tensors with 3, 4, or 5 dimensions"):
        init.dirac_(tm.empty(3, 3))
    with pytest.raises(ValueError, match="dim 0 must be divisible by groups"):
        init.dirac_(tm.empty(3, 3, 3), groups=2)


def _check_uniform(arr, bound):
    assert np.abs(arr).max() <= bound * (1 + 1e-6)
    assert np.abs(arr).max() > 0.95 * bound
    assert abs(arr.std() - bound / math.sqrt(3)) < 0.05 * bound


def test_uniform_and_normal():
    tm.manual_seed(0)
    a = _np(init.uniform_(tm.empty(200, 200), -2.0, 3.0))
    assert a.min() >= -2 and a.max() < 3 and abs(a.mean() - 0.5) < 0.05
    n = _np(init.normal_(tm.empty(200, 200), 1.0, 2.0))
    assert abs(n.mean() - 1) < 0.05 and abs(n.std() - 2) < 0.05


def test_xavier():
    tm.manual_seed(0)
    w = _np(init.xavier_uniform_(tm.empty(300, 200), gain=2.0))
    _check_uniform(w, 2.0 * math.sqrt(6 / 500))
    n = _np(init.xavier_normal_(tm.empty(300, 200)))
    assert abs(n.std() - math.sqrt(2 / 500)) < 0.02 * math.sqrt(2 / 500)


def test_kaiming():
    tm.manual_seed(0)
    w = _np(init.kaiming_uniform_(tm.empty(300, 200), a=math.sqrt(5)))
    _check_uniform(w, 1 / math.sqrt(200))
    w = _np(init.kaiming_uniform_(tm.empty(300, 200), mode="fan_out", nonlinearity="relu"))
    _check_uniform(w, math.sqrt(2) * math.sqrt(3 / 300))
    n = _np(init.kaiming_normal_(tm.empty(300, 200), nonlinearity="relu"))
    assert abs(n.std() - math.sqrt(2 / 200)) < 0.02 * math.sqrt(2 / 200)
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        init.kaiming_normal_(tm.empty(0, 3))


def test_trunc_normal():
    tm.manual_seed(0)
    t = _np(init.trunc_normal_(tm.empty(400, 100), mean=0.5, std=1.0, a=-1.0, b=1.5))
    assert t.min() >= -1.0 and t.max() <= 1.5
    assert t.min() < -0.95 and t.max() > 1.45
    # moments of N(0.5, 1) truncated to [-1, 1.5], in closed form
    alpha, beta = -1.5, 1.0
    pdf = lambda x: math.exp(-x * x / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    cdf = lambda x: (1 + math.erf(x / math.sqrt(2))) / 2  # noqa: E731
    z = cdf(beta) - cdf(alpha)
    mean = 0.5 + (pdf(alpha) - pdf(beta)) / z
    var = 1 + (alpha * pdf(alpha) - beta * pdf(beta)) / z - ((pdf(alpha) - pdf(beta)) / z) ** 2
    assert abs(t.mean() - mean) < 0.02
    assert abs(t.std() - math.sqrt(var)) < 0.02
    with pytest.warns(UserWarning, match="mean is more than 2 std from \\[a, b\\]"):
        init.trunc_normal_(tm.empty(3), mean=10.0)


def test_orthogonal():
    tm.manual_seed(0)
    for shape in [(5, 3), (3, 5), (4, 2, 3)]:
        w = _np(init.orthogonal_(tm.empty(*shape), gain=2.0)).reshape(shape[0], -1)
        small = min(w.shape)
        gram = w @ w.T if w.shape[0] == small else w.T @ w
        assert np.allclose(gram, 4.0 * np.eye(small), atol=1e-5)
    assert init.orthogonal_(tm.empty(0, 3)).shape == (0, 3)
    with pytest.raises(ValueError, match="Only tensors with 2 or more dimensions"):
        init.orthogonal_(tm.empty(3))


def test_sparse():
    tm.manual_seed(0)
    w = _np(init.sparse_(tm.empty(10, 40), sparsity=0.3, std=0.5))
    assert np.all((w == 0).sum(axis=0) == 3)
    assert abs(w[w != 0].std() - 0.5) < 0.1
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions are supported"):
        init.sparse_(tm.empty(3), 0.1)


def test_generator_makes_draws_reproducible():
    for fn in (init.uniform_, init.normal_, init.xavier_uniform_, init.kaiming_normal_,
               init.trunc_normal_, init.orthogonal_):
        a = _np(fn(tm.empty(6, 4), generator=tm.Generator().manual_seed(3)))
        b = _np(fn(tm.empty(6, 4), generator=tm.Generator().manual_seed(3)))
        assert np.array_equal(a, b), fn.__name__
    a = _np(init.sparse_(tm.empty(6, 4), 0.5, generator=tm.Generator().manual_seed(1)))
    b = _np(init.sparse_(tm.empty(6, 4), 0.5, generator=tm.Generator().manual_seed(1)))
    assert np.array_equal(a, b)


def test_dtype_is_kept():
    for dt in (tm.float64, tm.float16, tm.bfloat16):
        for fn in (init.xavier_uniform_, init.kaiming_normal_, init.orthogonal_, init.eye_):
            assert fn(tm.empty(4, 4, dtype=dt)).dtype == dt


def test_deprecated_aliases_warn():
    with pytest.warns(FutureWarning, match="nn.init.xavier_uniform` is now deprecated in favor "
                                           "of `nn.init.xavier_uniform_"):
        w = init.xavier_uniform(tm.empty(3, 3))
    assert w.shape == (3, 3)
