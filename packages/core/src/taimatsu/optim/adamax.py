"""Adamax: Adam with the infinity norm in place of the second moment."""

from __future__ import annotations

from .. import backend
from .optimizer import (
    Optimizer,
    _advance,
    _bump,
    _check_betas,
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

__all__ = ["Adamax"]


class Adamax(Optimizer):
    """Adamax, as torch.optim.Adamax.

    Args:
        params: parameters or parameter groups to optimize
        lr: learning rate (default 2e-3)
        betas: decay rates of the gradient average and of the infinity norm
            (default (0.9, 0.999))
        eps: term added to the denominator for numerical stability (default 1e-8)
        weight_decay: L2 penalty (default 0)
        maximize: maximize the objective instead of minimizing (default False)
        foreach, differentiable, capturable: accepted for compatibility with PyTorch
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, foreach: bool | None = None, *,
                 maximize: bool = False, differentiable: bool = False,
                 capturable: bool = False) -> None:
        _check_lr(lr)
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        _check_betas(betas)
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        foreach=foreach, maximize=maximize, differentiable=differentiable,
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
            beta1, beta2 = group["betas"]
            options = dict(lr=_value(group["lr"]), beta1=beta1, beta2=beta2, eps=group["eps"],
                           weight_decay=group["weight_decay"], maximize=group["maximize"])
            run = _Foreach(_adamax, scratch, group["foreach"], **options)
            for p, g in self._with_grad(group):
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _scalar_state(0.0, p if group["capturable"] else None)
                    state["exp_avg"] = _zeros_state(p)
                    state["exp_inf"] = _zeros_state(p)
                run.add((p._data, g, state["exp_avg"]._data, state["exp_inf"]._data),
                        _advance(state["step"]))
                _bump(p)
            run.flush()
        return loss


def _adamax(p, g, exp_avg, exp_inf, step, scratch, *, lr, beta1, beta2, eps, weight_decay,
            maximize):
    """One Adamax update of the array `p` and its state arrays, in place."""
    xp = backend.of(p)
    if p.dtype.kind == "c":
        p, g, exp_avg, exp_inf = _real(p), _real(g), _real(exp_avg), _real(exp_inf)
    t, u = scratch.get(p, 2)
    g = _grad_for_update(p, g, weight_decay, maximize, out=t)
    _lerp_(exp_avg, g, 1 - beta1, tmp=u)
    exp_inf *= beta2
    xp.abs(g, out=u)
    u += eps
    xp.maximum(exp_inf, u, out=exp_inf)
    clr = lr / (1 - beta1 ** step)
    xp.multiply(exp_avg, -clr, out=t)
    t /= exp_inf
    p += t
