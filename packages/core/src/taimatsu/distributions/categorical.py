"""Categorical distribution over {0, ..., K-1}, parameterized by probs or logits."""

from __future__ import annotations

import taimatsu
from taimatsu import Size

from . import constraints
from .distribution import Distribution
from .utils import (
    _as_size,
    _probs_or_logits,
    _ProbsLogits,
)

__all__ = ["Categorical"]


class Categorical(_ProbsLogits, Distribution):
    """Categorical(probs) or Categorical(logits): draws an index along the last dimension.

    probs need not sum to one (they are normalized); logits are unnormalized
    log-probabilities. Batch dims are all dims but the last.
    """

    arg_constraints = {"probs": constraints.simplex,
                       "logits": constraints.independent(constraints.real, 1)}
    has_enumerate_support = True
    _is_binary = False

    def __init__(self, probs=None, logits=None, validate_args=None):
        name, given = _probs_or_logits(probs, logits)
        if given.dim() < 1:
            raise ValueError(f"`{name}` parameter must be at least one-dimensional.")
        if probs is not None:
            self.probs = probs / probs.sum(-1, keepdim=True)
        else:
            self.logits = logits - logits.logsumexp(dim=-1, keepdim=True)
        self._num_events = self._param.size()[-1]
        batch_shape = self._param.size()[:-1] if self._param.dim() > 1 else Size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._expanded(Categorical, batch_shape, _instance, "probs", "logits",
                             param_tail=Size((self._num_events,)))
        new._num_events = self._num_events
        return new

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self):
        return constraints.integer_interval(0, self._num_events - 1)

    @property
    def param_shape(self) -> Size:
        return self._param.size()

    @property
    def mean(self):
        return taimatsu.full(self._extended_shape(), float("nan"), dtype=self.probs.dtype,
                             device=self.probs.device)

    @property
    def mode(self):
        return self.probs.argmax(-1)

    @property
    def variance(self):
        return taimatsu.full(self._extended_shape(), float("nan"), dtype=self.probs.dtype,
                             device=self.probs.device)

    def sample(self, sample_shape=Size()):
        sample_shape = _as_size(sample_shape)
        n = sample_shape.numel()
        shape = self._extended_shape(sample_shape)
        if n == 0:
            return taimatsu.zeros(shape, dtype=taimatsu.int64, device=self._param.device)
        with taimatsu.no_grad():
            rows = self.probs.reshape(-1, self._num_events)
            draws = taimatsu.multinomial(rows, n, True).T
        return draws.reshape(shape)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        value = value.long().unsqueeze(-1)
        value, log_pmf = taimatsu.broadcast_tensors(value, self.logits)
        return log_pmf.gather(-1, value[..., :1]).squeeze(-1)

    def entropy(self):
        # -inf logits (zero probabilities) would give 0 * -inf; the dtype's min gives 0.
        logits = self.logits.clamp(min=taimatsu.finfo(self.logits.dtype).min)
        return -(logits * self.probs).sum(-1)

    def enumerate_support(self, expand=True):
        values = taimatsu.arange(self._num_events, dtype=taimatsu.int64,
                                 device=self._param.device)
        return self._support_over_batch(values, expand)
