"""Multinomial distribution: category counts of `total_count` categorical draws."""

from __future__ import annotations

import math

import taimatsu
from taimatsu import Size
from taimatsu.nn import functional as F

from . import constraints
from .binomial import Binomial
from .categorical import Categorical
from .distribution import Distribution
from .utils import _as_size, broadcast_all

__all__ = ["Multinomial"]


class Multinomial(Distribution):
    """Multinomial(total_count, probs) or (total_count, logits=): counts over K categories.

    total_count must be one int for the whole batch (as in torch); it may be left at 1 when
    only log_prob is needed, which does not depend on it.
    """

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        if not isinstance(total_count, int):
            raise NotImplementedError("inhomogeneous total_count is not supported")
        self.total_count = total_count
        self._categorical = Categorical(probs=probs, logits=logits)
        self._binomial = Binomial(total_count=total_count, probs=self.probs)
        super().__init__(self._categorical.batch_shape, self._categorical.param_shape[-1:],
                         validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._expanded(Multinomial, batch_shape, _instance, "_categorical",
                             param_tail=Size())
        new.total_count = self.total_count
        new._binomial = Binomial(total_count=self.total_count, probs=new._categorical.probs,
                                 validate_args=False)
        return new

    @constraints.dependent_property(is_discrete=True, event_dim=1)
    def support(self):
        return constraints.multinomial(self.total_count)

    @property
    def logits(self):
        return self._categorical.logits

    @property
    def probs(self):
        return self._categorical.probs

    @property
    def param_shape(self) -> Size:
        return self._categorical.param_shape

    @property
    def mean(self):
        return self.probs * self.total_count

    @property
    def variance(self):
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape=Size()):
        sample_shape = _as_size(sample_shape)
        with taimatsu.no_grad():
            draws = self._categorical.sample(Size((self.total_count,)) + sample_shape)
            counts = F.one_hot(draws, self._categorical._num_events).sum(0)
            return counts.reshape(self._extended_shape(sample_shape)).type_as(self.probs)

    def entropy(self):
        n = taimatsu.tensor(float(self.total_count), dtype=self.probs.dtype)
        term1 = n * self._categorical.entropy() - taimatsu.lgamma(n + 1)
        # E[sum_k log x_k!] from the Binomial marginals of the counts.
        support = self._binomial.enumerate_support(expand=False)[1:]
        binomial_probs = taimatsu.exp(self._binomial.log_prob(support))
        term2 = (binomial_probs * taimatsu.lgamma(support + 1)).sum([0, -1])
        return term1 + term2

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        # 0 * log(0) counts as 0: an impossible category that was never drawn is fine.
        logits = taimatsu.where((value == 0) & (logits == -math.inf), 0.0, logits)
        log_factorial_n = taimatsu.lgamma(value.sum(-1) + 1)
        log_factorial_xs = taimatsu.lgamma(value + 1).sum(-1)
        return log_factorial_n - log_factorial_xs + (logits * value).sum(-1)
