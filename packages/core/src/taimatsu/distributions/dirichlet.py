"""Dirichlet distribution over the probability simplex."""

from __future__ import annotations

import taimatsu
from taimatsu.nn import functional as F

from . import constraints
from ._sampling import _sample_dirichlet
from .exp_family import ExponentialFamily

__all__ = ["Dirichlet"]


class Dirichlet(ExponentialFamily):
    """Dirichlet(concentration): distributions over K categories (last dim of concentration).

    rsample is reparameterized: normalized Gamma draws, each with the implicit gradient.
    """

    arg_constraints = {"concentration": constraints.independent(constraints.positive, 1)}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, concentration, validate_args=None):
        if concentration.dim() < 1:
            raise ValueError("`concentration` parameter must be at least one-dimensional.")
        self.concentration = concentration
        super().__init__(concentration.shape[:-1], concentration.shape[-1:],
                         validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._expanded(Dirichlet, batch_shape, _instance, "concentration")

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        return _sample_dirichlet(self.concentration.expand(shape))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        a = self.concentration
        return (taimatsu.xlogy(a - 1.0, value).sum(-1) + taimatsu.lgamma(a.sum(-1))
                - taimatsu.lgamma(a).sum(-1))

    @property
    def mean(self):
        return self.concentration / self.concentration.sum(-1, True)

    @property
    def mode(self):
        shifted = (self.concentration - 1).clamp(min=0.0)
        mode = shifted / shifted.sum(-1, True)
        # With every concentration below 1 the density is unbounded at each vertex; torch
        # picks the argmax of the (all-NaN) ratio above, which is the first category.
        vertex = (self.concentration < 1).all(dim=-1, keepdim=True)
        corner = F.one_hot(mode.argmax(-1), shifted.shape[-1]).to(mode.dtype)
        return taimatsu.where(vertex, corner, mode)

    @property
    def variance(self):
        total = self.concentration.sum(-1, True)
        return self.concentration * (total - self.concentration) / (total.pow(2) * (total + 1))

    def entropy(self):
        a = self.concentration
        k = a.size(-1)
        a0 = a.sum(-1)
        return (taimatsu.lgamma(a).sum(-1) - taimatsu.lgamma(a0)
                - (k - a0) * taimatsu.digamma(a0)
                - ((a - 1.0) * taimatsu.digamma(a)).sum(-1))

    @property
    def _natural_params(self):
        return (self.concentration,)

    def _log_normalizer(self, x):
        return x.lgamma().sum(-1) - taimatsu.lgamma(x.sum(-1))
