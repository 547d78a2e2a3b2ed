"""Rprop: resilient backpropagation, per-coordinate step sizes adapted from gradient signs."""

from __future__ import annotations

import numpy as np

from .. import backend
from .optimizer import (
    Optimizer,
    _advance,
    _bump,
    _check_lr,
    _Foreach,
    _real,
    _scalar_state,
    _use_grad,
    _value,
    _zeros_state,
)

__all__ = ["Rprop"]


class Rprop(Optimizer):
    """Rprop, as torch.optim.Rprop.

    Args:
        params: parameters or parameter groups to optimize
        lr: initial step size (default 1e-2)
        etas: (etaminus, etaplus), the factors by which a step size shrinks when the
            gradient changes sign and grows when it keeps it (default (0.5, 1.2))
        step_sizes: minimal and maximal step sizes (default (1e-6, 50))
        maximize: maximize the objective instead of minimizing (default False)
        capturable, foreach, differentiable: accepted for compatibility with PyTorch
    """

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *,
                 capturable: bool = False, foreach: bool | None = None,
                 maximize: bool = False, differentiable: bool = False) -> None:
        _check_lr(lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        defaults = dict(lr=lr, etas=etas, step_sizes=step_sizes, foreach=foreach,
                        maximize=maximize, differentiable=differentiable,
                        capturable=capturable)
        super().__init__(params, defaults)

    def __setstate__(self, state) -> None:
        super().__setstate__(state)
        self._fill_group_defaults(foreach=None, maximize=False, differentiable=False,
                                  capturable=False)

    @_use_grad
    def step(self, closure=None):
        """Performs a single optimization step; `closure` re-evaluates the loss."""
        loss = self._closure_loss(closure)
        scratch = self._scratch
        for group in self.param_groups:
            etaminus, etaplus = group["etas"]
            step_size_min, step_size_max = group["step_sizes"]
            run = _Foreach(_rprop, scratch, group["foreach"], etaminus=etaminus,
                           etaplus=etaplus, step_size_min=step_size_min,
                           step_size_max=step_size_max, maximize=group["maximize"])
            for p, g in self._with_grad(group):
                state = self.state[p]
                if len(state) == 0:
                    lr = _value(group["lr"])
                    state["step"] = _scalar_state(0.0, p if group["capturable"] else None)
                    state["prev"] = _zeros_state(p)
                    state["step_size"] = _zeros_state(p, fill=complex(lr, lr)
                                                      if p.is_complex() else lr)
                _advance(state["step"])
                run.add((p._data, g, state["prev"]._data, state["step_size"]._data))
                _bump(p)
            run.flush()
        return loss


def _rprop(p, g, prev, step_size, scratch, *, etaminus, etaplus, step_size_min,
           step_size_max, maximize):
    """One Rprop update of the array `p`, its step sizes and previous gradient, in place."""
    xp = backend.of(p)
    if p.dtype.kind == "c":
        p, g, prev, step_size = _real(p), _real(g), _real(prev), _real(step_size)
    t, factor = scratch.get(p, 2)
    grew, shrank = scratch.get(p, 2, dtype=np.bool_)
    if maximize:
        g = xp.negative(g, out=t)
    xp.multiply(g, prev, out=factor)
    xp.greater(factor, 0, out=grew)
    xp.less(factor, 0, out=shrank)
    factor.fill(1)
    xp.copyto(factor, etaplus, where=grew)
    xp.copyto(factor, etaminus, where=shrank)
    step_size *= factor
    xp.clip(step_size, step_size_min, step_size_max, out=step_size)
    # Where the sign flipped the step is skipped, and the gradient remembered as zero so
    # that the next step neither grows nor shrinks that coordinate.
    xp.copyto(prev, g)
    xp.copyto(prev, 0, where=shrank)
    xp.sign(prev, out=factor)
    factor *= step_size
    p -= factor
