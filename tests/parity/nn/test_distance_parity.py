"""nn.functional distance ops against PyTorch."""

import numpy as np
import pytest
from op_cases.nn_norm import DISTANCE_CASES, check_grad_parity

import taimatsu as tm
from taimatsu import nn
from taimatsu.nn import functional as F
from taimatsu.testing import assert_close, check_module_parity, generate_parity_tests

globals().update(generate_parity_tests(DISTANCE_CASES))


@pytest.mark.parametrize("case", [c for c in DISTANCE_CASES if c.grad], ids=lambda c: c.name)
def test_float32_grads_match_torch(case, torch):
    check_grad_parity(case, torch, tm.float32)


TOL = {"float32": dict(rtol=1e-5, atol=1e-5), "float64": dict(rtol=1e-10, atol=1e-12)}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("p, mode", [(2.0, "use_mm_for_euclid_dist_if_necessary"),
                                     (2.0, "donot_use_mm_for_euclid_dist"),
                                     (1.0, "use_mm_for_euclid_dist_if_necessary")])
def test_cdist_on_many_points_matches_torch(torch, dtype, p, mode):
    """More than 25 rows: torch switches to the matrix-product path for p=2."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((2, 40, 6)).astype(dtype)
    b = rng.standard_normal((2, 33, 6)).astype(dtype)
    x1, x2 = tm.tensor(a, requires_grad=True), tm.tensor(b, requires_grad=True)
    t1, t2 = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    ya, yb = F.cdist(x1, x2, p, mode), torch.cdist(t1, t2, p, mode)
    # the matrix-product path cancels |a|^2 + |b|^2 - 2ab: float32 keeps ~1e-6 absolute
    tol = dict(rtol=1e-5, atol=3e-5) if dtype == "float32" else TOL[dtype]
    assert_close(ya, yb, **tol)
    g = rng.standard_normal(tuple(yb.shape)).astype(dtype)
    ya.backward(tm.tensor(g))
    yb.backward(torch.from_numpy(g))
    assert_close(x1.grad, t1.grad, **tol)
    assert_close(x2.grad, t2.grad, **tol)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name, kwargs, shapes", [
    ("CosineSimilarity", {}, [(4, 5), (4, 5)]),
    ("CosineSimilarity", {"dim": -1, "eps": 1e-6}, [(3, 1, 5), (4, 5)]),
    ("PairwiseDistance", {}, [(4, 5), (4, 5)]),
    ("PairwiseDistance", {"p": 1.0, "keepdim": True, "eps": 1e-3}, [(4, 5), (5,)]),
])
def test_distance_layers_match_torch(torch, dtype, name, kwargs, shapes):
    rng = np.random.default_rng(3)
    inputs = [rng.standard_normal(s).astype(dtype) for s in shapes]
    check_module_parity(getattr(nn, name)(**kwargs), getattr(torch.nn, name)(**kwargs), inputs,
                        **TOL[dtype])


def test_pdist_on_larger_input_matches_torch(torch):
    x = np.random.default_rng(4).standard_normal((40, 7)).astype(np.float32)
    ours, theirs = tm.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ya, yb = F.pdist(ours), torch.nn.functional.pdist(theirs)
    assert_close(ya, yb, **TOL["float32"])
    ya.sum().backward()
    yb.sum().backward()
    assert_close(ours.grad, theirs.grad, **TOL["float32"])
