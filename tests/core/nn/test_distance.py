"""nn.functional distances and the distance layers: generated op cases plus edge cases."""

import re

import numpy as np
import pytest
from op_cases.nn_norm import DISTANCE_CASES

import taimatsu as tm
from taimatsu import nn
from taimatsu.nn import functional as F
from taimatsu.testing import assert_close, generate_tests

globals().update(generate_tests(DISTANCE_CASES))


RNG = np.random.default_rng(0)


def randn(*shape, requires_grad=False):
    return tm.tensor(RNG.standard_normal(shape), requires_grad=requires_grad)


def test_cdist_matches_a_direct_computation_on_both_paths():
    a, b = randn(2, 30, 3), randn(2, 27, 3)
    expected = np.linalg.norm(a.numpy()[:, :, None] - b.numpy()[:, None], axis=-1)
    for mode in ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist",
                 "donot_use_mm_for_euclid_dist"):
        assert_close(F.cdist(a, b, compute_mode=mode), expected, rtol=1e-10, atol=1e-12)
    assert_close(F.cdist(a, b, p=1.0), np.abs(a.numpy()[:, :, None] - b.numpy()[:, None]).sum(-1))


def test_cdist_gradient_at_zero_distance_is_zero_not_nan():
    x = randn(30, 4, requires_grad=True)
    d = F.cdist(x, x)  # 30 rows: the matrix-product path
    assert d.grad_fn.name() == "CdistBackward0"
    d.sum().backward()
    assert np.isfinite(x.grad.numpy()).all()
    # the diagonal contributes nothing; each off-diagonal pair pulls both rows apart
    xs = x.detach().numpy()
    diff = xs[:, None] - xs[None]
    dist = np.linalg.norm(diff, axis=-1)
    np.fill_diagonal(dist, 1.0)
    assert_close(x.grad, 2 * (diff / dist[..., None]).sum(1))


def test_cdist_errors_match_torch():
    with pytest.raises(RuntimeError, match="cdist only supports at least 2D tensors, X1 got: 1D"):
        F.cdist(tm.ones(3), tm.ones(3, 3))
    with pytest.raises(RuntimeError, match="X1 and X2 must have the same number of columns. "
                                           "X1: 3 X2: 4"):
        F.cdist(tm.ones(3, 3), tm.ones(3, 4))
    with pytest.raises(RuntimeError, match="cdist only supports non-negative p values"):
        F.cdist(tm.ones(3, 3), tm.ones(3, 3), p=-1)
    with pytest.raises(ValueError, match="x is not a valid value for compute_mode"):
        F.cdist(tm.ones(3, 3), tm.ones(3, 3), compute_mode="x")
    with pytest.raises(RuntimeError, match="cdist only supports floating-point dtypes, X1 got: "
                                           "Int"):
        F.cdist(tm.ones(3, 3, dtype=tm.int32), tm.ones(3, 3, dtype=tm.int32))
    with pytest.raises(RuntimeError, match="The size of tensor a \\(2\\) must match the size of "
                                           "tensor b \\(4\\) at non-singleton dimension 0"):
        F.cdist(tm.ones(2, 3, 3), tm.ones(4, 3, 3))


def test_pdist_pairs_and_errors():
    x = randn(5, 3)
    i, j = np.triu_indices(5, 1)
    assert_close(F.pdist(x), np.linalg.norm(x.numpy()[i] - x.numpy()[j], axis=1))
    assert F.pdist(tm.ones(1, 3)).shape == (0,)
    with pytest.raises(RuntimeError, match="pdist only supports 2D tensors, got: 3D"):
        F.pdist(tm.ones(2, 3, 4))
    with pytest.raises(RuntimeError, match="pdist only supports non-negative p values"):
        F.pdist(tm.ones(2, 3), p=-1)
    with pytest.raises(RuntimeError, match="pdist only supports floating-point dtypes"):
        F.pdist(tm.ones(2, 3, dtype=tm.int64))


def test_cosine_similarity_bounds_broadcasting_and_errors():
    a = randn(3, 1, 5)
    b = randn(4, 5)
    out = F.cosine_similarity(a, b, dim=-1)
    assert out.shape == (3, 4)
    assert_close(out, F.cosine_similarity(a.expand(3, 4, 5), b.expand(3, 4, 5), dim=2))
    big = tm.tensor([[1e15, 3e15, 7e14]])
    assert abs(F.cosine_similarity(big, big).item() - 1.0) < 1e-6  # no overflow to inf
    assert F.cosine_similarity(tm.zeros(1, 3), tm.ones(1, 3)).item() == 0.0
    assert F.cosine_similarity(tm.ones(2, 3), tm.ones(2, 3, dtype=tm.float64)).dtype is tm.float64
    with pytest.raises(RuntimeError, match="expected common dtype to be floating point, yet "
                                           "common dtype is Int"):
        F.cosine_similarity(tm.ones(2, 3, dtype=tm.int32), tm.ones(2, 3, dtype=tm.int32))
    with pytest.raises(IndexError, match=re.escape(
            "Dimension out of range (expected to be in range of [-1, 0], but got 1)")):
        F.cosine_similarity(tm.ones(4), tm.ones(4))


def test_pairwise_distance_adds_eps_and_keeps_dims():
    a, b = randn(4, 3), randn(4, 3)
    expected = np.linalg.norm(a.numpy() - b.numpy() + 1e-6, axis=-1)
    assert_close(F.pairwise_distance(a, b), expected)
    assert F.pairwise_distance(a, b, keepdim=True).shape == (4, 1)
    assert F.pairwise_distance(tm.ones(3), tm.zeros(2, 3)).shape == (2,)


def test_distance_layers():
    a, b = randn(4, 3), randn(4, 3)
    assert_close(nn.CosineSimilarity(dim=0)(a, b), F.cosine_similarity(a, b, dim=0))
    assert_close(nn.PairwiseDistance(p=1.0, keepdim=True)(a, b),
                 F.pairwise_distance(a, b, p=1.0, keepdim=True))
    assert repr(nn.PairwiseDistance()) == "PairwiseDistance()"
    assert nn.PairwiseDistance(p=3.0).norm == 3.0
    from taimatsu.nn._functional import distance
    assert "cdist" in distance.__all__
