"""RAdam: Adam with a rectified adaptive learning rate (Liu et al.)."""

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

__all__ = ["RAdam"]


class RAdam(Optimizer):
    """RAdam, as torch.optim.RAdam.

    Args:
        params: parameters or parameter groups to optimize
        lr: learning rate (default 1e-3)
        betas: decay rates of the gradient average and its square (default (0.9, 0.999))
        eps: term added to the denominator for numerical stability (default 1e-8)
        weight_decay: weight decay (default 0)
        decoupled_weight_decay: decay the parameters directly, as AdamW (default False)
        maximize: maximize the objective instead of minimizing (default False)
        foreach, capturable, differentiable: accepted for compatibility with PyTorch
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, decoupled_weight_decay: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False,
                 capturable: bool = False, differentiable: bool = False) -> None:
        _check_lr(lr)
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        _check_betas(betas)
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        maximize=maximize, foreach=foreach, capturable=capturable,
                        decoupled_weight_decay=decoupled_weight_decay,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    def __setstate__(self, state) -> None:
        super().__setstate__(state)
        self._fill_group_defaults(foreach=None, maximize=False, differentiable=False,
                                  decoupled_weight_decay=False, capturable=False)

    @_use_grad
    def step(self, closure=None):
        """Performs a single optimization step; `closure` re-evaluates the loss."""
        loss = self._closure_loss(closure)
        scratch = self._scratch
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            options = dict(lr=_value(group["lr"]), beta1=beta1, beta2=beta2, eps=group["eps"],
                           weight_decay=group["weight_decay"], maximize=group["maximize"],
                           decoupled=group["decoupled_weight_decay"])
            run = _Foreach(_radam, scratch, group["foreach"], **options)
            for p, g in self._with_grad(group):
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _scalar_state(0.0, p if group["capturable"] else None)
                    state["exp_avg"] = _zeros_state(p)
                    state["exp_avg_sq"] = _zeros_state(p)
                run.add((p._data, g, state["exp_avg"]._data, state["exp_avg_sq"]._data),
                        _advance(state["step"]))
                _bump(p)
            run.flush()
        return loss


def _radam(p, g, exp_avg, exp_avg_sq, step, scratch, *, lr, beta1, beta2, eps, weight_decay,
           maximize, decoupled):
    """One RAdam update of the array `p` and its moment arrays, in place."""
    xp = backend.of(p)
    if p.dtype.kind == "c":
        p, g, exp_avg, exp_avg_sq = _real(p), _real(g), _real(exp_avg), _real(exp_avg_sq)
    t, u = scratch.get(p, 2)
    if decoupled and weight_decay != 0:
        p *= 1 - lr * weight_decay
        g = _grad_for_update(p, g, 0, maximize, out=t)
    else:
        g = _grad_for_update(p, g, weight_decay, maximize, out=t)
    _lerp_(exp_avg, g, 1 - beta1, tmp=u)
    exp_avg_sq *= beta2
    xp.multiply(g, 1 - beta2, out=u)
    u *= g
    exp_avg_sq += u

    bias_correction1 = 1 - beta1 ** step
    bias_correction2 = 1 - beta2 ** step
    # The length of the approximated simple moving average decides whether the variance
    # is tractable enough to rectify; early steps fall back to momentum SGD.
    rho_inf = 2 / (1 - beta2) - 1
    rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
    update = xp.divide(exp_avg, bias_correction1, out=t)
    update *= lr
    if rho_t > 5.0:
        rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
        adaptive = xp.sqrt(exp_avg_sq, out=u)
        adaptive += eps
        xp.divide(bias_correction2 ** 0.5, adaptive, out=adaptive)
        update *= adaptive
        update *= rect
    p -= update
