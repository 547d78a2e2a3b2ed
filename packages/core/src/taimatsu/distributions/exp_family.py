"""ExponentialFamily: distributions with density exp(<t(x), theta> - F(theta) + k(x))."""

from __future__ import annotations

import taimatsu

from .distribution import Distribution

__all__ = ["ExponentialFamily"]


class ExponentialFamily(Distribution):
    """Base of exponential-family distributions.

    Subclasses give their natural parameters theta, the log normalizer F and the expected
    carrier measure E[k(x)]; the entropy (and the KL divergence between two members of the
    same family) then follow from F and its gradient, the Bregman divergence of F
    (Nielsen & Nock, "Entropies and cross-entropies of exponential families").
    """

    @property
    def _natural_params(self) -> tuple:
        raise NotImplementedError

    def _log_normalizer(self, *natural_params):
        raise NotImplementedError

    @property
    def _mean_carrier_measure(self) -> float:
        raise NotImplementedError

    def entropy(self):
        """H = F(theta) - <theta, grad F(theta)> - E[k(x)], by autograd."""
        params = [p.detach().requires_grad_() for p in self._natural_params]
        log_norm = self._log_normalizer(*params)
        grads = taimatsu.autograd.grad(log_norm.sum(), params, create_graph=True)
        result = log_norm - self._mean_carrier_measure
        for p, g in zip(params, grads):
            result = result - (p * g).reshape(tuple(self._batch_shape) + (-1,)).sum(-1)
        return result
