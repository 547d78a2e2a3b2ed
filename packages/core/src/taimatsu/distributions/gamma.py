"""Gamma distribution (shape `concentration`, inverse scale `rate`)."""

from __future__ import annotations

import taimatsu
from taimatsu import Size

from . import constraints
from ._sampling import standard_gamma
from ._special import gammainc
from .exp_family import ExponentialFamily
from .utils import _broadcast_params

__all__ = ["Gamma"]


class Gamma(ExponentialFamily):
    """Gamma(concentration, rate): density rate^a x^(a-1) e^(-rate x) / Gamma(a).

    rsample is reparameterized in both parameters (implicit gradient in concentration).
    """

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    _mean_carrier_measure = 0

    def __init__(self, concentration, rate, validate_args=None):
        (self.concentration, self.rate), batch_shape = _broadcast_params(concentration, rate)
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._expanded(Gamma, batch_shape, _instance, "concentration", "rate")

    @property
    def mean(self):
        return self.concentration / self.rate

    @property
    def mode(self):
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self):
        return self.concentration / self.rate.pow(2)

    def rsample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        value = standard_gamma(self.concentration.expand(shape)) / self.rate.expand(shape)
        # Keep samples positive (a huge rate can underflow them) without touching the graph.
        value.detach().clamp_(min=taimatsu.finfo(value.dtype).tiny)
        return value

    def log_prob(self, value):
        value = taimatsu.as_tensor(value, dtype=self.rate.dtype, device=self.rate.device)
        if self._validate_args:
            self._validate_sample(value)
        return (taimatsu.xlogy(self.concentration, self.rate)
                + taimatsu.xlogy(self.concentration - 1, value)
                - self.rate * value - taimatsu.lgamma(self.concentration))

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return gammainc(self.concentration, self.rate * value)

    def entropy(self):
        a = self.concentration
        return (a - taimatsu.log(self.rate) + taimatsu.lgamma(a)
                + (1.0 - a) * taimatsu.digamma(a))

    @property
    def _natural_params(self):
        return (self.concentration - 1, -self.rate)

    def _log_normalizer(self, x, y):
        return taimatsu.lgamma(x + 1) + (x + 1) * taimatsu.log(-y.reciprocal())
