"""Parity of ops/sorting.py against PyTorch: generated cases plus order statistics on ties."""

import numpy as np
import pytest
from op_cases.sorting import CASES

import taimatsu as tm
from taimatsu.testing import assert_close, generate_parity_tests

globals().update(generate_parity_tests(CASES))


def _pair(torch, data):
    return tm.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)


@pytest.mark.parametrize("expr", [
    "x.median()", "x.nanmedian()", "x.median(1).values", "x.mode(1).values",
    "x.quantile(0.3)", "x.sort(dim=1, stable=True).values",
])
def test_gradient_with_ties(torch, expr):
    data = np.array([[1.0, 2.0, 2.0, 0.0, 2.0], [3.0, 3.0, 1.0, 1.0, 5.0]])
    ours, theirs = _pair(torch, data)
    out_ours, out_theirs = eval(expr, {"x": ours}), eval(expr, {"x": theirs})
    assert_close(out_ours, out_theirs)
    seed = np.random.default_rng(0).standard_normal(tuple(out_theirs.shape))
    out_ours.backward(tm.tensor(seed))
    out_theirs.backward(torch.tensor(seed))
    assert_close(ours.grad, theirs.grad)


@pytest.mark.parametrize("expr", [
    "x.sort().values", "x.topk(2).values", "x.kthvalue(2).values", "x.median()",
    "x.median(0).values", "x.nanmedian()", "x.nanmedian(1).values", "x.mode(0).values",
    "x.msort()",
])
def test_node_names(torch, expr):
    data = np.arange(6.0).reshape(2, 3)
    ours, theirs = _pair(torch, data)
    assert eval(expr, {"x": ours}).grad_fn.name() == eval(expr, {"x": theirs}).grad_fn.name()


def test_histc_edges_match(torch):
    data = np.linspace(-1, 1, 41, dtype=np.float32)
    for bins in (3, 7, 10):
        assert_close(tm.histc(tm.tensor(data), bins=bins, min=-1, max=1),
                     torch.histc(torch.tensor(data), bins=bins, min=-1, max=1))
