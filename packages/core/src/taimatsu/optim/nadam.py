"""NAdam: Adam with Nesterov momentum and a momentum-decay schedule (Dozat)."""

from __future__ import annotations

from .. import backend
from .optimizer import (
    Optimizer,
    _advance,
    _bump,
    _check_betas,
    _check_lr,
    _grad_for_update,
    _lerp_,
    _real,
    _scalar_state,
    _use_grad,
    _value,
    _zeros_state,
)

__all__ = ["NAdam"]


class NAdam(Optimizer):
    """NAdam, as torch.optim.NAdam.

    Args:
        params: parameters or parameter groups to optimize
        lr: learning rate (default 2e-3)
        betas: decay rates of the gradient average and its square (default (0.9, 0.999))
        eps: term added to the denominator for numerical stability (default 1e-8)
        weight_decay: weight decay (default 0)
        momentum_decay: the momentum schedule's decay psi (default 4e-3)
        decoupled_weight_decay: decay the parameters directly, as AdamW (default False)
        maximize: maximize the objective instead of minimizing (default False)
        foreach, capturable, differentiable: accepted for compatibility with PyTorch
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False) -> None:
        _check_lr(lr)
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        _check_betas(betas)
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= momentum_decay:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay}")
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize,
                        foreach=foreach, capturable=capturable, differentiable=differentiable)
        super().__init__(params, defaults)

    def __setstate__(self, state) -> None:
        super().__setstate__(state)
        self._fill_group_defaults(scalar_state=("step", "mu_product"), maximize=False,
                                  foreach=None, capturable=False, differentiable=False,
                                  decoupled_weight_decay=False)

    @_use_grad
    def step(self, closure=None):
        """Performs a single optimization step; `closure` re-evaluates the loss."""
        loss = self._closure_loss(closure)
        scratch = self._scratch
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            options = dict(lr=_value(group["lr"]), beta1=beta1, beta2=beta2, eps=group["eps"],
                           weight_decay=group["weight_decay"],
                           momentum_decay=group["momentum_decay"], maximize=group["maximize"],
                           decoupled=group["decoupled_weight_decay"])
            for p, g in self._with_grad(group):
                state = self.state[p]
                if len(state) == 0:
                    where = p if group["capturable"] else None
                    state["step"] = _scalar_state(0.0, where)
                    state["mu_product"] = _scalar_state(1.0, where)
                    state["exp_avg"] = _zeros_state(p)
                    state["exp_avg_sq"] = _zeros_state(p)
                _nadam(p._data, g, state["exp_avg"]._data, state["exp_avg_sq"]._data,
                       state["mu_product"]._data, _advance(state["step"]), scratch,
                       **options)
                _bump(p)
        return loss


def _nadam(p, g, exp_avg, exp_avg_sq, mu_product, step, scratch, *, lr, beta1, beta2, eps,
           weight_decay, momentum_decay, maximize, decoupled):
    """One NAdam update of the array `p` and its state arrays, in place.

    `mu_product` is the 0-dim state array: it is multiplied in its own precision (float32
    by default), as torch does, so the schedule rounds the same way.
    """
    xp = backend.of(p)
    if p.dtype.kind == "c":
        p, g, exp_avg, exp_avg_sq = _real(p), _real(g), _real(exp_avg), _real(exp_avg_sq)
    t, u = scratch.get(p, 2)
    bias_correction2 = 1 - beta2 ** step
    if decoupled and weight_decay != 0:
        p *= 1 - lr * weight_decay
        g = _grad_for_update(p, g, 0, maximize, out=t)
    else:
        g = _grad_for_update(p, g, weight_decay, maximize, out=t)
    mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
    mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
    mu_product *= mu
    _lerp_(exp_avg, g, 1 - beta1, tmp=u)
    exp_avg_sq *= beta2
    xp.multiply(g, 1 - beta2, out=u)
    u *= g
    exp_avg_sq += u

    denom = xp.divide(exp_avg_sq, bias_correction2, out=u)
    xp.sqrt(denom, out=denom)
    denom += eps
    mu_prod = float(mu_product)
    mu_product_next = mu_prod * mu_next
    xp.multiply(g, -lr * (1.0 - mu) / (1.0 - mu_prod), out=t)
    t /= denom
    p += t
    xp.multiply(exp_avg, (-lr * mu_next) / (1.0 - mu_product_next), out=t)
    t /= denom
    p += t
