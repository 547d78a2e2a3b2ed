"""Parity of ops/shape.py against PyTorch: generated cases, error messages, grad_fn names,
and autograd through in-place writes to views."""

import builtins

import numpy as np
import pytest
from op_cases.shape import CASES, ERRORS, GRAD_FN_NAMES

import taimatsu as tm
from taimatsu.testing import generate_parity_tests

globals().update(generate_parity_tests(CASES))

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("call, exc, message", [e[1:] for e in ERRORS],
                         ids=[e[0] for e in ERRORS])
def test_torch_raises_the_same_errors(call, exc, message):
    with pytest.raises(getattr(builtins, exc)) as info:
        call(torch)
    assert str(info.value).replace("torch.FloatTensor", "taimatsu.FloatTensor") == message


@pytest.mark.parametrize("call, name", [n[1:] for n in GRAD_FN_NAMES],
                         ids=[n[0] for n in GRAD_FN_NAMES])
def test_torch_grad_fn_names(call, name):
    x = torch.zeros(2, 3, requires_grad=True)
    assert type(call(torch, x).grad_fn).__name__ == name


# Each builds a view of a (3, 4) tensor in either library (same API). Outputs of split and
# unbind are left out: torch refuses in-place writes to views from multi-view functions.
VIEWS = {
    "transpose": lambda x: x.transpose(0, 1),
    "t": lambda x: x.t(),
    "view": lambda x: x.view(-1),
    "narrow": lambda x: x.narrow(1, 1, 2),
    "select": lambda x: x.select(0, 2),
    "diagonal": lambda x: x.diagonal(-1),
    "permute": lambda x: x.unsqueeze(1).permute(2, 1, 0),
    "chain": lambda x: x.view(2, 6).t().narrow(0, 2, 3).select(1, 1),
}


def _scenario(lib, make_view, variant):
    weights = lib.tensor(np.linspace(-1.0, 2.0, 12).reshape(3, 4))
    leaf = lib.tensor(np.arange(1.0, 13.0).reshape(3, 4), requires_grad=True)
    other = lib.tensor(np.linspace(0.5, 1.5, 12), requires_grad=True)
    x = leaf * 1
    v = make_view(x)
    if variant == "mul":
        v.mul_(2)
        loss = (x * weights).sum()
    elif variant == "add-other":  # a second tensor flows in through the view
        v.add_(other.narrow(0, 0, v.shape[-1]))
        loss = (x * x).sum()
    elif variant == "loss-on-view":
        v.mul_(3)
        loss = (v * v).sum()
    else:  # the base changes after the view was taken
        x.mul_(weights)
        loss = (v * v).sum()
    loss.backward()
    return [None if g is None else g.detach().numpy().copy() for g in (leaf.grad, other.grad)]


@pytest.mark.parametrize("variant", ["mul", "add-other", "loss-on-view", "base-changed"])
@pytest.mark.parametrize("name", list(VIEWS))
def test_inplace_through_views_matches_torch(name, variant):
    ours = _scenario(tm, VIEWS[name], variant)
    theirs = _scenario(torch, VIEWS[name], variant)
    for a, b in zip(ours, theirs):
        if b is None:
            assert a is None or not a.any()
        else:
            np.testing.assert_allclose(a, b, rtol=1e-12)
