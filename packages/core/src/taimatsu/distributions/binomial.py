"""Binomial distribution: successes in `total_count` Bernoulli trials."""

from __future__ import annotations

import taimatsu
from taimatsu import Size

from . import constraints
from ._sampling import binomial
from .distribution import Distribution
from .utils import (
    _probs_or_logits,
    _ProbsLogits,
    broadcast_all,
)

__all__ = ["Binomial"]


def _clamp_by_zero(x):
    """max(x, 0) with gradient 1/2 at 0 (so log_prob is smooth in logits there)."""
    return (x.clamp(min=0) + x - x.clamp(max=0)) / 2


class Binomial(_ProbsLogits, Distribution):
    """Binomial(total_count, probs) or (total_count, logits=log-odds)."""

    arg_constraints = {"total_count": constraints.nonnegative_integer,
                       "probs": constraints.unit_interval, "logits": constraints.real}
    has_enumerate_support = True

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        name, given = _probs_or_logits(probs, logits)
        total_count, param = broadcast_all(total_count, given)
        self.total_count = total_count.type_as(param)
        setattr(self, name, param)
        super().__init__(param.size(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._expanded(Binomial, batch_shape, _instance, "total_count", "probs", "logits")

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self):
        return constraints.integer_interval(0, self.total_count)

    @property
    def mean(self):
        return self.total_count * self.probs

    @property
    def mode(self):
        return ((self.total_count + 1) * self.probs).floor().clamp(max=self.total_count)

    @property
    def variance(self):
        return self.total_count * self.probs * (1 - self.probs)

    @property
    def param_shape(self) -> Size:
        return self._param.size()

    def sample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        with taimatsu.no_grad():
            return binomial(self.total_count.expand(shape), self.probs.expand(shape))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        n, logits = self.total_count, self.logits
        log_factorial_n = taimatsu.lgamma(n + 1)
        log_factorial_k = taimatsu.lgamma(value + 1)
        log_factorial_nmk = taimatsu.lgamma(n - value + 1)
        # n * log(1 + e^logits), written to stay finite for large |logits|.
        normalizer = (n * _clamp_by_zero(logits)
                      + n * taimatsu.log1p(taimatsu.exp(-taimatsu.abs(logits)))
                      - log_factorial_n)
        return value * logits - log_factorial_k - log_factorial_nmk - normalizer

    def _homogeneous_count(self, what: str) -> int:
        total = int(self.total_count.max())
        if not self.total_count.min() == total:
            raise NotImplementedError(f"Inhomogeneous total count not supported by `{what}`.")
        return total

    def entropy(self):
        self._homogeneous_count("entropy")
        log_prob = self.log_prob(self.enumerate_support(False))
        return -(taimatsu.exp(log_prob) * log_prob).sum(0)

    def enumerate_support(self, expand=True):
        total = self._homogeneous_count("enumerate_support")
        values = taimatsu.arange(1 + total, dtype=self._param.dtype, device=self._param.device)
        return self._support_over_batch(values, expand)
