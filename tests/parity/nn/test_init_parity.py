"""nn.init against torch.nn.init: gains, fans, bounds and spreads of every distribution."""

import math

import numpy as np
import pytest

import taimatsu as tm
from taimatsu.nn import init

SHAPE = (256, 64, 3, 3)  # a conv weight: fan_in 576, fan_out 2304

CASES = [
    ("uniform_", dict(a=-0.3, b=0.7)),
    ("normal_", dict(mean=0.2, std=0.4)),
    ("trunc_normal_", dict(mean=0.1, std=0.5, a=-0.4, b=0.8)),
    ("xavier_uniform_", dict(gain=1.5)),
    ("xavier_normal_", dict(gain=0.5)),
    ("kaiming_uniform_", dict(a=math.sqrt(5))),
    ("kaiming_uniform_", dict(mode="fan_out", nonlinearity="relu")),
    ("kaiming_normal_", dict(nonlinearity="leaky_relu", a=0.1)),
    ("kaiming_normal_", dict(mode="fan_out", nonlinearity="tanh")),
    ("orthogonal_", dict(gain=2.0)),
    ("sparse_", dict(sparsity=0.25, std=0.3)),
]


@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}{sorted(k.items())}" for n, k in CASES])
def test_distribution_matches_torch(torch, name, kwargs):
    # torch's orthogonal_ and trunc_normal_ are slow: smaller tensors keep the test quick
    shape = {"orthogonal_": (120, 80), "sparse_": (300, 200),
             "trunc_normal_": (64, 64, 3, 3)}.get(name, SHAPE)
    tm.manual_seed(0)
    torch.manual_seed(0)
    ours = getattr(init, name)(tm.empty(*shape), **kwargs).numpy()
    theirs = getattr(torch.nn.init, name)(torch.empty(*shape), **kwargs).numpy()
    n = ours.size
    # the std of a sample of n agrees within a few standard errors (<= ~0.5/sqrt(n) relative)
    assert abs(ours.std() / theirs.std() - 1) < 8 / math.sqrt(n)
    assert abs(ours.mean() - theirs.mean()) < 8 * theirs.std() / math.sqrt(n)
    if name.endswith("uniform_") or name == "trunc_normal_":
        assert ours.min() >= theirs.min() - 1e-3 * theirs.std()
        assert ours.max() <= theirs.max() + 1e-3 * theirs.std()
        span = theirs.max() - theirs.min()
        assert abs(ours.min() - theirs.min()) < 0.01 * span
        assert abs(ours.max() - theirs.max()) < 0.01 * span
    if name == "sparse_":
        assert np.array_equal((ours == 0).sum(axis=0), (theirs == 0).sum(axis=0))


@pytest.mark.parametrize("nonlinearity,param", [
    ("linear", None), ("conv1d", None), ("conv_transpose3d", None), ("sigmoid", None),
    ("tanh", None), ("relu", None), ("leaky_relu", None), ("leaky_relu", 0.3), ("selu", None)])
def test_gain_matches_torch(torch, nonlinearity, param):
    assert init.calculate_gain(nonlinearity, param) == \
        torch.nn.init.calculate_gain(nonlinearity, param)


@pytest.mark.parametrize("shape", [(5, 3), (8, 4, 3), (8, 4, 3, 3), (2, 3, 1, 4, 5)])
def test_fans_match_torch(torch, shape):
    assert init._calculate_fan_in_and_fan_out(tm.empty(*shape)) == \
        torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(*shape))


@pytest.mark.parametrize("fn,shape,kwargs", [
    ("eye_", (3, 5), {}), ("dirac_", (6, 3, 3, 3), {}), ("dirac_", (4, 2, 5), {"groups": 2}),
    ("dirac_", (4, 4, 3, 3, 3), {}), ("constant_", (2, 3), {"val": 0.25}), ("ones_", (4,), {}),
    ("zeros_", (2, 2), {}), ("orthogonal_", (0, 3), {})])
def test_deterministic_fills_equal_torch(torch, fn, shape, kwargs):
    ours = getattr(init, fn)(tm.empty(*shape), **kwargs).numpy()
    theirs = getattr(torch.nn.init, fn)(torch.empty(*shape), **kwargs).numpy()
    assert np.array_equal(ours, theirs)


def test_orthogonal_properties_match(torch):
    for shape in [(6, 4), (4, 6), (3, 2, 4)]:
        ours = init.orthogonal_(tm.empty(*shape)).numpy().reshape(shape[0], -1)
        theirs = torch.nn.init.orthogonal_(torch.empty(*shape)).numpy().reshape(shape[0], -1)
        for w in (ours, theirs):
            small = min(w.shape)
            gram = w @ w.T if w.shape[0] == small else w.T @ w
            assert np.allclose(gram, np.eye(small), atol=1e-5)


@pytest.mark.parametrize("call", [
    lambda lib: lib.nn.init.eye_(lib.empty(2, 2, 2)),
    lambda lib: lib.nn.init.dirac_(lib.empty(2, 2)),
    lambda lib: lib.nn.init.dirac_(lib.empty(3, 3, 3), groups=2),
    lambda lib: lib.nn.init.xavier_uniform_(lib.empty(3)),
    lambda lib: lib.nn.init.kaiming_uniform_(lib.empty(3, 3), mode="bad"),
    lambda lib: lib.nn.init.calculate_gain("swish"),
    lambda lib: lib.nn.init.calculate_gain("leaky_relu", "x"),
    lambda lib: lib.nn.init.orthogonal_(lib.empty(3)),
    lambda lib: lib.nn.init.sparse_(lib.empty(3, 3, 3), 0.1),
])
def test_errors_match_torch(torch, call):
    with pytest.raises(Exception) as ours:
        call(tm)
    with pytest.raises(Exception) as theirs:
        call(torch)
    assert type(ours.value) is type(theirs.value)
    assert str(ours.value) == str(theirs.value)
