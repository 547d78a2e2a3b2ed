"""Geometric distribution: failures before the first success of Bernoulli(probs) trials."""

from __future__ import annotations

import taimatsu
from taimatsu import Size
from taimatsu.nn import functional as F

from . import constraints
from .distribution import Distribution
from .utils import (
    _broadcast_params,
    _probs_or_logits,
    _ProbsLogits,
    broadcast_all,
)

__all__ = ["Geometric"]


class Geometric(_ProbsLogits, Distribution):
    """Geometric(probs) or (logits=): P(k) = (1 - p)^k p for k = 0, 1, 2, ..."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, probs=None, logits=None, validate_args=None):
        name, given = _probs_or_logits(probs, logits)
        (param,), batch_shape = _broadcast_params(given)
        setattr(self, name, param)
        super().__init__(batch_shape, validate_args=validate_args)
        if self._validate_args and probs is not None:
            value = self.probs
            valid = value > 0
            if not bool(valid.all()):
                raise ValueError(f"Expected parameter probs ({type(value).__name__} of shape "
                                 f"{tuple(value.shape)}) of distribution {self!r} to be "
                                 f"positive but found invalid values:\n{value.detach()[~valid]}")

    def expand(self, batch_shape, _instance=None):
        return self._expanded(Geometric, batch_shape, _instance, "probs", "logits")

    @property
    def mean(self):
        return 1.0 / self.probs - 1.0

    @property
    def mode(self):
        return taimatsu.zeros_like(self.probs)

    @property
    def variance(self):
        return (1.0 / self.probs - 1.0) / self.probs

    def sample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        tiny = taimatsu.finfo(self.probs.dtype).tiny
        with taimatsu.no_grad():
            u = taimatsu.empty(tuple(shape), dtype=self.probs.dtype, device=self.probs.device)
            u = u.uniform_(tiny, 1)
            return (u.log() / (-self.probs).log1p()).floor()  # inverse CDF

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        value, probs = broadcast_all(value, self.probs)
        # p = 1 makes k = 0 certain: 0 * log(0) must be 0 there.
        probs = taimatsu.where((probs == 1) & (value == 0), 0.0, probs)
        return value * (-probs).log1p() + self.probs.log()

    def entropy(self):
        return F.binary_cross_entropy_with_logits(self.logits, self.probs,
                                                  reduction="none") / self.probs
