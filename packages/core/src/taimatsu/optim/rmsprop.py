"""RMSprop: gradients scaled by a running root mean square (Hinton), optionally centered."""

from __future__ import annotations

from .. import backend
from .optimizer import (
    Optimizer,
    _advance,
    _bump,
    _check_lr,
    _Foreach,
    _grad_for_update,
    _lerp_,
    _real,
    _scalar_state,
    _use_grad,
    _value,
    _zeros_state,
)

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """RMSprop, as torch.optim.RMSprop.

    Args:
        params: parameters or parameter groups to optimize
        lr: learning rate (default 1e-2)
        alpha: smoothing constant of the squared-gradient average (default 0.99)
        eps: term added to the denominator for numerical stability (default 1e-8)
        weight_decay: L2 penalty (default 0)
        momentum: momentum factor (default 0)
        centered: normalize by the estimated variance of the gradient (default False)
        maximize: maximize the objective instead of minimizing (default False)
        capturable, foreach, differentiable: accepted for compatibility with PyTorch
    """

    def __init__(self, params, lr=1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False,
                 capturable: bool = False, foreach: bool | None = None,
                 maximize: bool = False, differentiable: bool = False) -> None:
        _check_lr(lr)
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, capturable=capturable, foreach=foreach,
                        maximize=maximize, differentiable=differentiable)
        super().__init__(params, defaults)

    def __setstate__(self, state) -> None:
        super().__setstate__(state)
        self._fill_group_defaults(momentum=0, centered=False, foreach=None, maximize=False,
                                  differentiable=False, capturable=False)

    @_use_grad
    def step(self, closure=None):
        """Performs a single optimization step; `closure` re-evaluates the loss."""
        loss = self._closure_loss(closure)
        scratch = self._scratch
        for group in self.param_groups:
            momentum, centered = group["momentum"], group["centered"]
            options = dict(lr=_value(group["lr"]), alpha=group["alpha"], eps=group["eps"],
                           weight_decay=group["weight_decay"], momentum=momentum,
                           maximize=group["maximize"])
            run = _Foreach(_rmsprop, scratch, group["foreach"], **options)
            for p, g in self._with_grad(group):
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _scalar_state(0.0, p if group["capturable"] else None)
                    state["square_avg"] = _zeros_state(p)
                    if momentum > 0:
                        state["momentum_buffer"] = _zeros_state(p)
                    if centered:
                        state["grad_avg"] = _zeros_state(p)
                _advance(state["step"])
                run.add((p._data, g, state["square_avg"]._data,
                         state["grad_avg"]._data if centered else None,
                         state["momentum_buffer"]._data if momentum > 0 else None))
                _bump(p)
            run.flush()
        return loss


def _rmsprop(p, g, square_avg, grad_avg, momentum_buffer, scratch, *, lr, alpha, eps,
             weight_decay, momentum, maximize):
    """One RMSprop update of the array `p` and its state arrays, in place."""
    xp = backend.of(p)
    if p.dtype.kind == "c":
        p, g, square_avg = _real(p), _real(g), _real(square_avg)
        grad_avg = None if grad_avg is None else _real(grad_avg)
        momentum_buffer = None if momentum_buffer is None else _real(momentum_buffer)
    t, u = scratch.get(p, 2)
    g = _grad_for_update(p, g, weight_decay, maximize, out=t)
    square_avg *= alpha
    xp.multiply(g, 1 - alpha, out=u)
    u *= g
    square_avg += u
    if grad_avg is not None:
        _lerp_(grad_avg, g, 1 - alpha, tmp=u)
        avg = xp.multiply(grad_avg, grad_avg, out=u)
        xp.subtract(square_avg, avg, out=avg)
        xp.sqrt(avg, out=avg)
    else:
        avg = xp.sqrt(square_avg, out=u)
    avg += eps
    if momentum > 0:
        xp.divide(g, avg, out=avg)
        momentum_buffer *= momentum
        momentum_buffer += avg
        xp.multiply(momentum_buffer, -lr, out=avg)
        p += avg
    else:
        xp.multiply(g, -lr, out=t)
        t /= avg
        p += t
