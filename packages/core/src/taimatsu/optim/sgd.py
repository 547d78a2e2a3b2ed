"""Stochastic gradient descent, with optional (Nesterov) momentum."""

from __future__ import annotations

from .. import backend
from .._tensor import Tensor
from ..backend.cuda import optimizers as fused_kernels
from ..backend.cuda import use_kernels
from .adam import _check_fused_param
from .optimizer import (
    Optimizer,
    _bump,
    _check_fused,
    _check_lr,
    _Foreach,
    _grad_for_update,
    _use_grad,
    _value,
)

__all__ = ["SGD"]


class SGD(Optimizer):
    """Stochastic gradient descent (optionally with momentum), as torch.optim.SGD.

    Args:
        params: parameters or parameter groups to optimize
        lr: learning rate, a float or a 1-element tensor (default 1e-3)
        momentum: momentum factor (default 0)
        dampening: dampening for momentum (default 0)
        weight_decay: L2 penalty (default 0)
        nesterov: use Nesterov momentum (default False)
        maximize: maximize the objective instead of minimizing (default False)
        foreach, fused: on CUDA, None/True update a group's parameters with one fused kernel
            launch (foreach=False keeps the per-parameter array path)
        differentiable: accepted for compatibility with PyTorch
    """

    def __init__(self, params, lr=1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay=0, nesterov: bool = False, *, maximize: bool = False,
                 foreach: bool | None = None, differentiable: bool = False,
                 fused: bool | None = None) -> None:
        _check_lr(lr)
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize,
                        foreach=foreach, differentiable=differentiable, fused=fused)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)
        _check_fused(defaults)

    def __setstate__(self, state) -> None:
        super().__setstate__(state)
        self._fill_group_defaults(scalar_state=(), nesterov=False, maximize=False,
                                  foreach=None, differentiable=False, fused=False)

    @_use_grad
    def step(self, closure=None):
        """Performs a single optimization step; `closure` re-evaluates the loss."""
        loss = self._closure_loss(closure)
        scratch = self._scratch
        for group in self.param_groups:
            options = dict(lr=_value(group["lr"]), momentum=group["momentum"],
                           dampening=group["dampening"], nesterov=group["nesterov"],
                           weight_decay=_value(group["weight_decay"]),
                           maximize=group["maximize"])
            run = _Foreach(_sgd, scratch, group["foreach"], **options)
            # CUDA parameters take the fused kernel unless foreach=False asks for the loop
            launches = {} if group["fused"] or group["foreach"] is not False else None
            for p, g in self._with_grad(group):
                if group["fused"] and getattr(self, "_need_device_dtype_check_for_fused", True):
                    _check_fused_param(p)  # torch checks the first parameter it steps
                    self._need_device_dtype_check_for_fused = False
                if launches is not None and use_kernels(p._data):
                    row = self._kernel_row(p, g, options["momentum"])
                    if row is not None:
                        launches.setdefault(fused_kernels.launch_key(row[0]), []).append(row)
                        _bump(p)
                        continue
                if options["momentum"] == 0:  # like torch, no state without momentum
                    run.add((p._data, g, None))
                else:
                    state = self.state[p]
                    buf = state.get("momentum_buffer")
                    if buf is None:  # the first step creates the buffer
                        state["momentum_buffer"] = Tensor._make(
                            _sgd(p._data, g, None, scratch, **options))
                    else:
                        run.add((p._data, g, buf._data))
                _bump(p)
            run.flush()
            if launches:
                for rows in launches.values():
                    fused_kernels.sgd_(rows, **options)
        return loss

    def _kernel_row(self, p: Tensor, g, momentum: float):
        """p's row for the fused SGD kernel, creating its momentum buffer on the first step;
        None when the kernel cannot take its arrays."""
        if momentum == 0:
            ready = fused_kernels.kernel_arrays((p._data, g, None))
            return None if ready is None else ready + (False,)
        state = self.state[p]
        buf = state.get("momentum_buffer")
        if buf is not None:
            ready = fused_kernels.kernel_arrays((p._data, g, buf._data))
            return None if ready is None else ready + (False,)
        buf = backend.of(p._data).empty_like(p._data)  # the kernel starts it as the gradient
        ready = fused_kernels.kernel_arrays((p._data, g, buf))
        if ready is not None:
            state["momentum_buffer"] = Tensor._make(buf)
            return ready + (True,)
        return None


def _sgd(p, g, buf, scratch, *, lr, momentum, dampening, nesterov, weight_decay, maximize):
    """One SGD update of the array `p` in place; returns the momentum buffer (new if None).

    Complex arrays need no special care: every operation here is linear.
    """
    xp = backend.of(p)
    t, u = scratch.get(p, 2)
    g = _grad_for_update(p, g, weight_decay, maximize, out=t)
    if momentum != 0:
        if buf is None:
            buf = g.copy()
        else:
            buf *= momentum
            if dampening != 0:
                xp.multiply(g, 1 - dampening, out=u)
                buf += u
            else:
                buf += g
        if nesterov:
            xp.multiply(buf, momentum, out=u)
            g = xp.add(g, u, out=t)
        else:
            g = buf
    xp.multiply(g, -lr, out=u)
    p += u
    return buf
