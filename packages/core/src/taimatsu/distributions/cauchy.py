"""Cauchy (Lorentz) distribution."""

from __future__ import annotations

import math

import taimatsu
from taimatsu import Size

from . import constraints
from .distribution import Distribution
from .utils import _broadcast_params

__all__ = ["Cauchy"]


class Cauchy(Distribution):
    """Cauchy(loc, scale): density 1 / (pi scale (1 + ((x - loc) / scale)^2))."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        (self.loc, self.scale), batch_shape = _broadcast_params(loc, scale)
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._expanded(Cauchy, batch_shape, _instance, "loc", "scale")

    @property
    def mean(self):  # undefined
        return taimatsu.full(self._extended_shape(), math.nan, dtype=self.loc.dtype,
                             device=self.loc.device)

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        return taimatsu.full(self._extended_shape(), math.inf, dtype=self.loc.dtype,
                             device=self.loc.device)

    def rsample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        eps = taimatsu.empty(tuple(shape), dtype=self.loc.dtype, device=self.loc.device)
        return self.loc + eps.cauchy_() * self.scale

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return (-math.log(math.pi) - self.scale.log()
                - (((value - self.loc) / self.scale) ** 2).log1p())

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return taimatsu.atan((value - self.loc) / self.scale) / math.pi + 0.5

    def icdf(self, value):
        return taimatsu.tan(math.pi * (value - 0.5)) * self.scale + self.loc

    def entropy(self):
        return math.log(4 * math.pi) + self.scale.log()
