"""Adadelta: step sizes from running averages of squared gradients and updates (Zeiler)."""

from __future__ import annotations

from .. import backend
from .optimizer import (
    Optimizer,
    _advance,
    _bump,
    _check_lr,
    _Foreach,
    _grad_for_update,
    _real,
    _scalar_state,
    _use_grad,
    _value,
    _zeros_state,
)

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    """Adadelta, as torch.optim.Adadelta.

    Args:
        params: parameters or parameter groups to optimize
        lr: coefficient that scales delta before it is applied (default 1.0)
        rho: decay rate of the running averages (default 0.9)
        eps: term added inside the square roots for numerical stability (default 1e-6)
        weight_decay: L2 penalty (default 0)
        maximize: maximize the objective instead of minimizing (default False)
        foreach, capturable, differentiable: accepted for compatibility with PyTorch
    """

    def __init__(self, params, lr=1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0, foreach: bool | None = None, *,
                 capturable: bool = False, maximize: bool = False,
                 differentiable: bool = False) -> None:
        _check_lr(lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        capturable=capturable, foreach=foreach, differentiable=differentiable)
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
            options = dict(lr=_value(group["lr"]), rho=group["rho"], eps=group["eps"],
                           weight_decay=group["weight_decay"], maximize=group["maximize"])
            run = _Foreach(_adadelta, scratch, group["foreach"], **options)
            for p, g in self._with_grad(group):
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _scalar_state(0.0, p if group["capturable"] else None)
                    state["square_avg"] = _zeros_state(p)
                    state["acc_delta"] = _zeros_state(p)
                _advance(state["step"])
                run.add((p._data, g, state["square_avg"]._data, state["acc_delta"]._data))
                _bump(p)
            run.flush()
        return loss


def _adadelta(p, g, square_avg, acc_delta, scratch, *, lr, rho, eps, weight_decay, maximize):
    """One Adadelta update of the array `p` and its running averages, in place."""
    xp = backend.of(p)
    if p.dtype.kind == "c":
        p, g, square_avg, acc_delta = _real(p), _real(g), _real(square_avg), _real(acc_delta)
    t, u, w = scratch.get(p, 3)
    g = _grad_for_update(p, g, weight_decay, maximize, out=t)
    square_avg *= rho
    xp.multiply(g, 1 - rho, out=u)
    u *= g
    square_avg += u
    std = xp.add(square_avg, eps, out=u)
    xp.sqrt(std, out=std)
    delta = xp.add(acc_delta, eps, out=w)
    xp.sqrt(delta, out=delta)
    delta /= std
    delta *= g
    acc_delta *= rho
    xp.multiply(delta, 1 - rho, out=u)
    u *= delta
    acc_delta += u
    xp.multiply(delta, -lr, out=u)
    p += u
