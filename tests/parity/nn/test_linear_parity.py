"""F.linear / F.bilinear and the Linear-family layers against PyTorch."""

import math

import numpy as np
import pytest
from op_cases.nn_linear import CASES

import taimatsu as tm
from taimatsu import nn
from taimatsu.testing import check_module_parity, generate_parity_tests

globals().update(generate_parity_tests(CASES))


def _inputs(shape, dtype, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("dtype,rtol,atol", [(np.float32, 1e-5, 1e-6),
                                             (np.float64, 1e-10, 1e-12)])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(7, 5), (2, 3, 5), (5,)])
def test_linear_module(torch, dtype, rtol, atol, bias, shape):
    tdt = torch.float32 if dtype == np.float32 else torch.float64
    ours = nn.Linear(5, 4, bias=bias, dtype=tm.float32 if dtype == np.float32 else tm.float64)
    theirs = torch.nn.Linear(5, 4, bias=bias, dtype=tdt)
    check_module_parity(ours, theirs, _inputs(shape, dtype), rtol=rtol, atol=atol)


@pytest.mark.parametrize("dtype,rtol,atol", [(np.float32, 1e-5, 1e-6),
                                             (np.float64, 1e-10, 1e-12)])
@pytest.mark.parametrize("bias", [True, False])
def test_bilinear_module(torch, dtype, rtol, atol, bias):
    tdt = torch.float32 if dtype == np.float32 else torch.float64
    ours = nn.Bilinear(3, 4, 2, bias=bias,
                       dtype=tm.float32 if dtype == np.float32 else tm.float64)
    theirs = torch.nn.Bilinear(3, 4, 2, bias=bias, dtype=tdt)
    check_module_parity(ours, theirs, [_inputs((6, 3), dtype), _inputs((6, 4), dtype, 1)],
                        rtol=rtol, atol=atol)


def test_identity_flatten_unflatten(torch):
    x = _inputs((2, 3, 4, 5), np.float32)
    check_module_parity(nn.Identity(), torch.nn.Identity(), x)
    check_module_parity(nn.Flatten(), torch.nn.Flatten(), x)
    check_module_parity(nn.Flatten(0, 2), torch.nn.Flatten(0, 2), x)
    check_module_parity(nn.Unflatten(1, (3, 1)), torch.nn.Unflatten(1, (3, 1)), x)


def test_reprs_match(torch):
    pairs = [(nn.Linear(4, 3), torch.nn.Linear(4, 3)),
             (nn.Linear(4, 3, bias=False), torch.nn.Linear(4, 3, bias=False)),
             (nn.Bilinear(2, 3, 4), torch.nn.Bilinear(2, 3, 4)),
             (nn.Identity(), torch.nn.Identity()),
             (nn.Flatten(), torch.nn.Flatten()),
             (nn.Unflatten(1, (2, 2)), torch.nn.Unflatten(1, (2, 2))),
             (nn.LazyLinear(3), torch.nn.LazyLinear(3))]
    for ours, theirs in pairs:
        assert repr(ours) == repr(theirs)


def test_state_dict_layout_matches(torch):
    for ours, theirs in [(nn.Linear(4, 3), torch.nn.Linear(4, 3)),
                         (nn.Bilinear(2, 3, 4), torch.nn.Bilinear(2, 3, 4))]:
        a, b = ours.state_dict(), theirs.state_dict()
        assert list(a) == list(b)
        assert [tuple(v.shape) for v in a.values()] == [tuple(v.shape) for v in b.values()]


def test_lazy_linear_matches_after_materializing(torch):
    ours, theirs = nn.LazyLinear(3), torch.nn.LazyLinear(3)
    x = _inputs((4, 6), np.float32)
    ours(tm.tensor(x))
    theirs(torch.from_numpy(x))
    assert type(ours).__name__ == type(theirs).__name__ == "Linear"
    check_module_parity(ours, theirs, x)


@pytest.mark.parametrize("fan_in,fan_out", [(1000, 300), (30, 2000)])
def test_linear_default_init_distribution(torch, fan_in, fan_out):
    tm.manual_seed(0)
    torch.manual_seed(0)
    ours, theirs = nn.Linear(fan_in, fan_out), torch.nn.Linear(fan_in, fan_out)
    bound = 1 / math.sqrt(fan_in)
    for a, b in [(ours.weight, theirs.weight), (ours.bias, theirs.bias)]:
        a = a.detach().numpy()
        b = b.detach().numpy()
        assert np.abs(a).max() <= bound and np.abs(b).max() <= bound
        # both are U(-bound, bound): std bound/sqrt(3), sample std within 5 standard errors
        tol = 5 * 0.45 / math.sqrt(a.size)
        for s in (a.std(), b.std()):
            assert abs(s / (bound / math.sqrt(3)) - 1) < tol
        assert abs(a.max() - b.max()) < 0.05 * bound


def test_bilinear_default_init_distribution(torch):
    ours, theirs = nn.Bilinear(20, 30, 40), torch.nn.Bilinear(20, 30, 40)
    a, b = ours.weight.detach().numpy(), theirs.weight.detach().numpy()
    assert abs(np.abs(a).max() - np.abs(b).max()) < 1e-3
    assert abs(a.std() - b.std()) < 0.03 * b.std()


def test_linear_error_messages_match(torch):
    def message(fn):
        with pytest.raises(Exception) as info:
            fn()
        return type(info.value), str(info.value)

    cases = [((7, 5), (3, 4)), ((2, 7, 5), (3, 4)), ((5,), (3, 4))]
    for xs, ws in cases:
        ours = message(lambda xs=xs, ws=ws: tm.nn.functional.linear(tm.randn(*xs),
                                                                      tm.randn(*ws)))
        theirs = message(lambda xs=xs, ws=ws: torch.nn.functional.linear(torch.randn(*xs),
                                                                           torch.randn(*ws)))
        assert ours == theirs
    ours = message(lambda: nn.Linear(4, 3).load_state_dict(nn.Linear(5, 3).state_dict()))
    theirs = message(lambda: torch.nn.Linear(4, 3).load_state_dict(
        torch.nn.Linear(5, 3).state_dict()))
    assert ours[0] is theirs[0]
    assert ours[1].replace("taimatsu", "torch") == theirs[1]
