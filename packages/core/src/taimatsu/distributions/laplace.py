"""Laplace (double exponential) distribution."""

from __future__ import annotations

import taimatsu
from taimatsu import Size

from . import constraints
from .distribution import Distribution
from .utils import _broadcast_params

__all__ = ["Laplace"]


class Laplace(Distribution):
    """Laplace(loc, scale): density exp(-|x - loc| / scale) / (2 scale)."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        (self.loc, self.scale), batch_shape = _broadcast_params(loc, scale)
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._expanded(Laplace, batch_shape, _instance, "loc", "scale")

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        return 2 * self.scale.pow(2)

    @property
    def stddev(self):
        return 2 ** 0.5 * self.scale

    def rsample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        eps = taimatsu.finfo(self.loc.dtype).eps
        # u in (-1, 1) (open at -1, so log1p(-|u|) stays finite): inverse-CDF sampling.
        u = taimatsu.empty(tuple(shape), dtype=self.loc.dtype, device=self.loc.device)
        u = u.uniform_(eps - 1, 1)
        return self.loc - self.scale * u.sign() * taimatsu.log1p(-u.abs())

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return -taimatsu.log(2 * self.scale) - taimatsu.abs(value - self.loc) / self.scale

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        z = value - self.loc
        return 0.5 - 0.5 * z.sign() * taimatsu.expm1(-z.abs() / self.scale)

    def icdf(self, value):
        term = value - 0.5
        return self.loc - self.scale * term.sign() * taimatsu.log1p(-2 * term.abs())

    def entropy(self):
        return 1 + taimatsu.log(2 * self.scale)
