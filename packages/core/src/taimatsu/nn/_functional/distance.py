"""Distances and similarities: cosine_similarity, pairwise_distance, pdist and cdist.

These compose taimatsu ops (vector norms, broadcasting arithmetic), except cdist's
matrix-product path for the Euclidean distance, which has its own backward: sqrt's
derivative is infinite at a zero distance, where torch takes the subgradient 0.

`cdist` is torch-level (torch.cdist); it is listed here and re-exported as taimatsu.cdist.
"""

from __future__ import annotations

import math

import numpy as np

from ... import backend
from ..._tensor import Tensor
from ...amp._state import hook as _autocast
from ...autograd.node import Function
from ...linalg import vector_norm
from ...ops._util import broadcast_shapes_or_raise, result_dtype, wrap_dim
from ...ops.arithmetic import promote
from ...ops.inplace import _legacy

__all__ = ["cosine_similarity", "pairwise_distance", "pdist", "cdist"]


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """<x1, x2> / (max(||x1||, eps) * max(||x2||, eps)) along dim (inputs broadcast).

    As torch, each input is divided by its clamped norm before the dot product: no
    product of two large norms to overflow, and no quotient far outside [-1, 1].
    """
    if _autocast.on and (policy := _autocast.policy("cosine_similarity", x1)):
        return policy(cosine_similarity, x1, x2, dim, eps)
    dt = result_dtype(x1, x2)
    if not dt.is_floating_point:
        raise RuntimeError("expected common dtype to be floating point, yet common dtype is "
                           f"{_legacy(dt)}")
    x1, x2 = promote(x1, x2)
    shape = broadcast_shapes_or_raise(x1.shape, x2.shape)
    dim = wrap_dim(dim, len(shape))
    x1, x2 = x1.expand(shape), x2.expand(shape)
    n1 = vector_norm(x1, 2, dim, keepdim=True).clamp_min(eps)
    n2 = vector_norm(x2, 2, dim, keepdim=True).clamp_min(eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """||x1 - x2 + eps||_p over the last dim (inputs broadcast)."""
    diff = x1 - x2 + eps
    last = max(x1.ndim, x2.ndim) - 1
    return diff.norm(p, last, keepdim=keepdim)


def pdist(input: Tensor, p: float = 2.0) -> Tensor:
    """The p-norm distance of every pair of rows i < j of a 2D input, row-major."""
    if _autocast.on and (policy := _autocast.policy("pdist", input)):
        return policy(pdist, input, p)
    if input.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.ndim}D")
    if not input.dtype.is_floating_point:
        raise RuntimeError("pdist only supports floating-point dtypes")
    if p < 0:
        raise RuntimeError("pdist only supports non-negative p values")
    n = input.shape[0]
    i, j = np.triu_indices(n, 1)
    if input.is_cuda:
        from ..._device import move
        i, j = move(i, input.device), move(j, input.device)
    diff = input[Tensor._make(i)] - input[Tensor._make(j)]
    return vector_norm(diff, p, 1)


class _EuclideanDist(Function):
    """sqrt(max(|a|^2 + |b|^2 - 2 a.b, 0)) for all row pairs, through one matmul."""

    _backward_name = "CdistBackward0"

    @staticmethod
    def forward(ctx, x1, x2):
        xp = backend.of(x1)
        sq1 = (x1 * x1).sum(-1)[..., :, None]
        sq2 = (x2 * x2).sum(-1)[..., None, :]
        d2 = xp.matmul(x1 * -2, xp.swapaxes(x2, -1, -2))
        d2 += sq1
        d2 += sq2
        out = xp.sqrt(xp.maximum(d2, 0, out=d2), out=d2)
        if ctx.needs_input_grad:
            ctx.save_for_backward(x1, x2, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        xp = ctx.xp
        x1, x2, dist = ctx.saved_arrays
        # d dist / d x1_i = (x1_i - x2_j) / dist_ij, taken as 0 where dist_ij == 0
        zero = dist == 0
        ratio = xp.where(zero, 0, grad / xp.where(zero, 1, dist))
        g1 = g2 = None
        if ctx.needs_input_grad[0]:
            g1 = x1 * xp.expand_dims(xp.sum(ratio, axis=-1), -1) - xp.matmul(ratio, x2)
        if ctx.needs_input_grad[1]:
            g2 = (x2 * xp.expand_dims(xp.sum(ratio, axis=-2), -1)
                  - xp.matmul(xp.swapaxes(ratio, -1, -2), x1))
        return g1, g2


_COMPUTE_MODES = {"use_mm_for_euclid_dist_if_necessary": None, "use_mm_for_euclid_dist": True,
                  "donot_use_mm_for_euclid_dist": False}


def cdist(x1: Tensor, x2: Tensor, p: float = 2.0,
          compute_mode: str = "use_mm_for_euclid_dist_if_necessary") -> Tensor:
    """p-norm distances between each row of x1 (B, P, M) and of x2 (B, R, M) -> (B, P, R).

    Batch dims broadcast. For p=2 the distances come from a matrix product (faster,
    slightly less exact for near points) when compute_mode asks for it, or by default
    when P or R exceeds 25, as torch.
    """
    if _autocast.on and (policy := _autocast.policy("cdist", x1)):
        return policy(cdist, x1, x2, p, compute_mode)
    if compute_mode not in _COMPUTE_MODES:
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    _check_cdist(x1, x2, p)
    batch = broadcast_shapes_or_raise(x1.shape[:-2], x2.shape[:-2])
    a = x1.expand(batch + tuple(x1.shape[-2:]))
    b = x2.expand(batch + tuple(x2.shape[-2:]))
    use_mm = _COMPUTE_MODES[compute_mode]
    if use_mm is None:
        use_mm = a.shape[-2] > 25 or b.shape[-2] > 25
    if p == 2 and use_mm:
        return _EuclideanDist.apply(a, b)
    diff = a.unsqueeze(-2) - b.unsqueeze(-3)
    return vector_norm(diff, p, -1)


def _check_cdist(x1: Tensor, x2: Tensor, p: float) -> None:
    for name, t in (("X1", x1), ("X2", x2)):
        if not t.dtype.is_floating_point:
            raise RuntimeError(f"cdist only supports floating-point dtypes, {name} got: "
                               f"{_legacy(t.dtype)}")
    for name, t in (("X1", x1), ("X2", x2)):
        if t.ndim < 2:
            raise RuntimeError(f"cdist only supports at least 2D tensors, {name} got: "
                               f"{t.ndim}D")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: "
                           f"{x1.shape[-1]} X2: {x2.shape[-1]}")
    if x1.dtype is not x2.dtype:
        raise RuntimeError(f"expected scalar type {_legacy(x1.dtype)} but found "
                           f"{_legacy(x2.dtype)}")
    if not p >= 0 or math.isnan(p):
        raise RuntimeError("cdist only supports non-negative p values")
