"""Adagrad: per-coordinate step sizes from the accumulated squared gradients (Duchi et al.)."""

from __future__ import annotations

from .. import backend
from .optimizer import (
    Optimizer,
    _advance,
    _bump,
    _check_fused,
    _check_lr,
    _Foreach,
    _grad_for_update,
    _real,
    _scalar_state,
    _use_grad,
    _value,
    _zeros_state,
)

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """Adagrad, as torch.optim.Adagrad.

    Args:
        params: parameters or parameter groups to optimize
        lr: learning rate (default 1e-2)
        lr_decay: learning rate decay per step (default 0)
        weight_decay: L2 penalty (default 0)
        initial_accumulator_value: starting value of the squared-gradient sums (default 0)
        eps: term added to the denominator for numerical stability (default 1e-10)
        maximize: maximize the objective instead of minimizing (default False)
        foreach, differentiable, fused: accepted for compatibility with PyTorch
    """

    def __init__(self, params, lr=1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10,
                 foreach: bool | None = None, *, maximize: bool = False,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        _check_lr(lr)
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError("Invalid initial_accumulator_value value: "
                             f"{initial_accumulator_value}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        _check_fused(defaults)
        # Unlike the other optimizers, Adagrad creates its state up front (as torch does).
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(self.state[p], p, group)

    def _init_state(self, state: dict, p, group) -> None:
        init = self.defaults["initial_accumulator_value"]
        if p.is_complex():
            init = complex(init, init)
        fused = bool(group["fused"])
        state["step"] = _scalar_state(0.0, p if fused else None, fused=fused)
        state["sum"] = _zeros_state(p, fill=init)

    def __setstate__(self, state) -> None:
        super().__setstate__(state)
        self._fill_group_defaults(foreach=None, maximize=False, differentiable=False,
                                  fused=None)

    def share_memory(self) -> None:
        """Moves the per-parameter state into shared memory (Hogwild-style training)."""
        for group in self.param_groups:
            for p in group["params"]:
                state = self.state[p]
                for key in ("sum", "step"):
                    if hasattr(state.get(key), "share_memory_"):
                        state[key].share_memory_()

    @_use_grad
    def step(self, closure=None):
        """Performs a single optimization step; `closure` re-evaluates the loss."""
        loss = self._closure_loss(closure)
        scratch = self._scratch
        for group in self.param_groups:
            options = dict(lr=_value(group["lr"]), lr_decay=group["lr_decay"], eps=group["eps"],
                           weight_decay=group["weight_decay"], maximize=group["maximize"])
            run = _Foreach(_adagrad, scratch, group["foreach"], **options)
            for p, g in self._with_grad(group):
                state = self.state[p]
                if len(state) == 0:
                    self._init_state(state, p, group)
                run.add((p._data, g, state["sum"]._data), _advance(state["step"]))
                _bump(p)
            run.flush()
        return loss


def _adagrad(p, g, state_sum, step, scratch, *, lr, lr_decay, eps, weight_decay, maximize):
    """One Adagrad update of the array `p` and its sum of squares, in place."""
    xp = backend.of(p)
    if p.dtype.kind == "c":
        p, g, state_sum = _real(p), _real(g), _real(state_sum)
    t, u = scratch.get(p, 2)
    g = _grad_for_update(p, g, weight_decay, maximize, out=t)
    clr = lr / (1 + (step - 1) * lr_decay)
    xp.multiply(g, g, out=u)
    state_sum += u
    std = xp.sqrt(state_sum, out=u)
    std += eps
    xp.multiply(g, -clr, out=t)
    t /= std
    p += t
