"""Draws that torch has as ops and taimatsu.ops.random does not (yet): standard Gamma samples
with an implicit reparameterization gradient, Dirichlet samples built on them, and binomial
counts. All come from the global generator's stream (`taimatsu.manual_seed` reproduces them).

The Gamma gradient. A sample x of Gamma(alpha, 1) is F^-1(u; alpha) for a uniform u, F the
regularized lower incomplete gamma function. Holding u fixed, dx/dalpha = -(dF/dalpha) / p(x),
the "implicit reparameterization" gradient (Figurnov et al. 2018) that torch uses as well;
_special.sample_grad evaluates it.
"""

from __future__ import annotations

import numpy as np

from taimatsu import Tensor, backend
from taimatsu.autograd.node import Function
from taimatsu.ops import random as _random

from ._special import sample_grad


def _generator_stream(draw):
    """The backend generator behind one of taimatsu.ops.random's draw sources.

    numpy's Generator and cupy's RandomState both offer standard_gamma and binomial.
    """
    return draw._rng if isinstance(draw, _random._NumpyDraw) else draw._rs


class _StandardGamma(Function):
    """Gamma(alpha, 1) samples, differentiable in alpha through the implicit gradient."""

    once_differentiable = True  # the gradient is a numerical procedure, not an op graph
    _backward_name = "StandardGammaBackward0"

    @staticmethod
    def forward(ctx, alpha, *, device):
        with _random._source(None, device, "_standard_gamma") as draw:
            x = _generator_stream(draw).standard_gamma(alpha.astype(np.float64))
        xp = backend.of(alpha)
        # Tiny concentrations underflow to 0, where log_prob is -inf; keep the smallest
        # positive number instead, as torch does.
        x = xp.maximum(xp.asarray(x, dtype=alpha.dtype), np.finfo(alpha.dtype).tiny)
        ctx.save_for_backward(alpha, x)
        return x

    @staticmethod
    def backward(ctx, grad):
        alpha, x = ctx.saved_arrays
        return grad * sample_grad(x, alpha)


def standard_gamma(concentration: Tensor) -> Tensor:
    """One Gamma(concentration, 1) draw per element, reparameterized (torch._standard_gamma)."""
    return _StandardGamma.apply(concentration, device=concentration.device)


def binomial(count: Tensor, prob: Tensor) -> Tensor:
    """Binomial(count, prob) draws (elementwise, same shapes), in prob's dtype; no gradient."""
    xp = backend.of(prob._data)
    n = xp.asarray(count._data).astype(np.int64)
    p = xp.clip(prob._data.astype(np.float64), 0.0, 1.0)
    with _random._source(None, prob.device, "binomial") as draw:
        k = _generator_stream(draw).binomial(n, p)
    return Tensor._make(xp.asarray(k).astype(prob._data.dtype))


def _sample_dirichlet(concentration: Tensor) -> Tensor:
    """Dirichlet draws (normalized Gamma draws over the last dim), reparameterized."""
    gammas = standard_gamma(concentration)
    return gammas / gammas.sum(-1, keepdim=True)

