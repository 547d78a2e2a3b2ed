"""Parity of ops/scan.py against PyTorch: generated cases plus gradients through zeros."""

import numpy as np
import pytest
from op_cases.scan import CASES

import taimatsu as tm
from taimatsu.testing import assert_close, generate_parity_tests

globals().update(generate_parity_tests(CASES))


@pytest.mark.parametrize("row", [[2.0, 0.0, 3.0, 0.5], [0.0, 0.0, 2.0, 1.0],
                                 [1.5, 2.0, -1.0, 0.0]])
def test_cumprod_double_backward_with_zeros(torch, row):
    data = np.array([row, [1.0, 2.0, 3.0, 4.0]])
    ours = tm.tensor(data, requires_grad=True)
    theirs = torch.tensor(data, requires_grad=True)
    seed = np.random.default_rng(0).standard_normal(data.shape)
    (g_ours,) = tm.autograd.grad(ours.cumprod(1), ours, tm.tensor(seed), create_graph=True)
    (g_theirs,) = torch.autograd.grad(theirs.cumprod(1), theirs, torch.tensor(seed),
                                      create_graph=True)
    assert_close(g_ours, g_theirs)
    weights = np.random.default_rng(1).standard_normal(data.shape)
    (h_ours,) = tm.autograd.grad((g_ours * tm.tensor(weights)).sum(), ours)
    (h_theirs,) = torch.autograd.grad((g_theirs * torch.tensor(weights)).sum(), theirs)
    assert_close(h_ours, h_theirs)


def test_cummax_gradient_with_ties(torch):
    data = np.array([[1.0, 3.0, 3.0, 2.0, 3.0], [0.0, 0.0, -1.0, 0.0, 4.0]])
    ours = tm.tensor(data, requires_grad=True)
    theirs = torch.tensor(data, requires_grad=True)
    seed = np.arange(10.0).reshape(2, 5)
    ours.cummax(1).values.backward(tm.tensor(seed))
    theirs.cummax(1).values.backward(torch.tensor(seed))
    assert_close(ours.grad, theirs.grad)


def test_logcumsumexp_gradient_with_negative_seed(torch):
    data = np.array([3.0, -1.0, 700.0, 2.0])
    ours = tm.tensor(data, requires_grad=True)
    theirs = torch.tensor(data, requires_grad=True)
    seed = np.array([1.0, -2.0, 0.5, -0.25])
    ours.logcumsumexp(0).backward(tm.tensor(seed))
    theirs.logcumsumexp(0).backward(torch.tensor(seed))
    assert_close(ours.grad, theirs.grad)
