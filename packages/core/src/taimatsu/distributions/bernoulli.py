"""Bernoulli distribution over {0, 1}, parameterized by probs or logits."""

from __future__ import annotations

import taimatsu
from taimatsu import Size
from taimatsu.nn import functional as F

from . import constraints
from .exp_family import ExponentialFamily
from .utils import (
    _broadcast_params,
    _probs_or_logits,
    _ProbsLogits,
    broadcast_all,
)

__all__ = ["Bernoulli"]


class Bernoulli(_ProbsLogits, ExponentialFamily):
    """Bernoulli(probs) or Bernoulli(logits=log-odds): 1 with probability probs, else 0."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.boolean
    has_enumerate_support = True
    _mean_carrier_measure = 0

    def __init__(self, probs=None, logits=None, validate_args=None):
        name, given = _probs_or_logits(probs, logits)
        (param,), batch_shape = _broadcast_params(given)
        setattr(self, name, param)
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._expanded(Bernoulli, batch_shape, _instance, "probs", "logits")

    @property
    def mean(self):
        return self.probs

    @property
    def mode(self):
        mode = (self.probs >= 0.5).to(self.probs.dtype)
        return taimatsu.where(self.probs == 0.5, float("nan"), mode)  # a tie has no mode

    @property
    def variance(self):
        return self.probs * (1 - self.probs)

    @property
    def param_shape(self) -> Size:
        return self._param.size()

    def sample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        with taimatsu.no_grad():
            return taimatsu.bernoulli(self.probs.expand(shape))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        return -F.binary_cross_entropy_with_logits(logits, value, reduction="none")

    def entropy(self):
        return F.binary_cross_entropy_with_logits(self.logits, self.probs, reduction="none")

    def enumerate_support(self, expand=True):
        values = taimatsu.arange(2, dtype=self._param.dtype, device=self._param.device)
        return self._support_over_batch(values, expand)

    @property
    def _natural_params(self):
        return (taimatsu.logit(self.probs),)

    def _log_normalizer(self, x):
        return taimatsu.log1p(taimatsu.exp(x))
