"""Parity of ops/reduction.py against PyTorch: generated cases plus tie gradients."""

import math

import numpy as np
import pytest
from op_cases.reduction import CASES, ties

import taimatsu as tm
from taimatsu.testing import assert_close, generate_parity_tests

globals().update(generate_parity_tests(CASES))

# Reductions over ties: torch shares the gradient evenly among the tied elements (full
# max/min, amax/amin, aminmax, norm inf), or gives it all to the returned index (max(dim)).
TIE_REDUCTIONS = {
    "max": lambda m, x: m.max(x),
    "min": lambda m, x: m.min(x),
    "max-dim": lambda m, x: m.max(x, 1).values,
    "min-dim-keepdim": lambda m, x: m.min(x, 0, keepdim=True).values,
    "amax": lambda m, x: m.amax(x, 1),
    "amin-dims": lambda m, x: m.amin(x, (0, 1)),
    "aminmax": lambda m, x: sum(m.aminmax(x, dim=1)),
    "norm-inf": lambda m, x: m.norm(x, p=math.inf, dim=1),
    "norm-neg-inf": lambda m, x: m.norm(x, p=-math.inf),
}


@pytest.mark.parametrize("name", list(TIE_REDUCTIONS))
def test_gradient_with_ties(torch, name):
    fn = TIE_REDUCTIONS[name]
    data = ties(np.random.default_rng(0), (4, 6), np.float64)
    ours = tm.tensor(data, requires_grad=True)
    theirs = torch.tensor(data, requires_grad=True)
    out_ours, out_theirs = fn(tm, ours), fn(torch, theirs)
    assert_close(out_ours, out_theirs)
    seed = np.random.default_rng(1).standard_normal(tuple(out_theirs.shape))
    out_ours.backward(tm.tensor(seed))
    out_theirs.backward(torch.tensor(seed))
    assert_close(ours.grad, theirs.grad)


@pytest.mark.parametrize("expr", [
    "x.sum()", "x.sum(1)", "x.mean()", "x.mean(0)", "x.nansum()", "x.prod()", "x.prod(1)",
    "x.max()", "x.max(1).values", "x.min()", "x.amax(1)", "x.amin()",
    "x.aminmax().min", "x.std()", "x.var(1)", "x.norm()", "x.norm(p=1, dim=0)",
    "x.logsumexp(1)",
])
def test_node_names(torch, expr):
    data = np.arange(1.0, 7.0).reshape(2, 3)
    ours = eval(expr, {"x": tm.tensor(data, requires_grad=True)})
    theirs = eval(expr, {"x": torch.tensor(data, requires_grad=True)})
    assert ours.grad_fn.name() == theirs.grad_fn.name()


def test_prod_double_backward_with_zero(torch):
    data = np.array([[2.0, 0.0, 3.0], [0.0, 0.0, 5.0]])
    ours = tm.tensor(data, requires_grad=True)
    theirs = torch.tensor(data, requires_grad=True)
    (g_ours,) = tm.autograd.grad(ours.prod(1).sum(), ours, create_graph=True)
    (g_theirs,) = torch.autograd.grad(theirs.prod(1).sum(), theirs, create_graph=True)
    assert_close(g_ours, g_theirs)
    weights = np.random.default_rng(1).standard_normal(data.shape)
    (h_ours,) = tm.autograd.grad((g_ours * tm.tensor(weights)).sum(), ours)
    (h_theirs,) = torch.autograd.grad((g_theirs * torch.tensor(weights)).sum(), theirs)
    assert_close(h_ours, h_theirs)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_half_precision_sums(torch, dtype):
    data = np.random.default_rng(2).uniform(0, 1, (64, 8))
    ours = tm.tensor(data).to(getattr(tm, dtype))
    theirs = torch.tensor(data).to(getattr(torch, dtype))
    for fn in (lambda m, x: x.sum(0), lambda m, x: x.mean(), lambda m, x: x.std(1)):
        assert_close(fn(tm, ours), fn(torch, theirs), rtol=1e-2, atol=1e-2)


def test_integer_reduction_dtypes(torch):
    data = np.array([[1, 2], [3, 4]], dtype=np.int32)
    for expr in ("x.sum()", "x.prod(0)", "x.max()", "x.amin(1)", "x.all()",
                 "x.count_nonzero()", "x.argmax()", "x.sum(dtype=DT)"):
        env_t = {"x": tm.tensor(data), "DT": tm.int16}
        env_p = {"x": torch.tensor(data), "DT": torch.int16}
        assert_close(eval(expr, env_t), eval(expr, env_p))
