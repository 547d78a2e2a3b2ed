"""Adam (and the AMSGrad variant), with L2 or decoupled weight decay."""

from __future__ import annotations

from .. import backend
from .._tensor import Tensor
from ..backend.cuda import optimizers as fused_kernels
from ..backend.cuda import use_kernels
from .optimizer import (
    Optimizer,
    _advance,
    _bump,
    _check_betas,
    _check_fused,
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

__all__ = ["Adam"]


class Adam(Optimizer):
    """Adam, as torch.optim.Adam.

    Args:
        params: parameters or parameter groups to optimize
        lr: learning rate, a float or a 1-element tensor (default 1e-3)
        betas: decay rates of the running averages of the gradient and its square
            (default (0.9, 0.999))
        eps: term added to the denominator for numerical stability (default 1e-8)
        weight_decay: weight decay (default 0), an L2 penalty unless
            decoupled_weight_decay (then as AdamW)
        amsgrad: use the maximum of past squared-gradient averages (default False)
        maximize: maximize the objective instead of minimizing (default False)
        foreach, fused: on CUDA, None/True update a group's parameters with one fused kernel
            launch (foreach=False keeps the per-parameter array path)
        capturable, differentiable: accepted for compatibility with PyTorch
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False,
                 capturable: bool = False, differentiable: bool = False,
                 fused: bool | None = None, decoupled_weight_decay: bool = False) -> None:
        if isinstance(lr, Tensor):
            if foreach and not capturable:
                raise ValueError("lr as a Tensor is not supported for capturable=False and "
                                 "foreach=True")
        _check_lr(lr)
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        _check_betas(betas)
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not (isinstance(betas[0], float) and isinstance(betas[1], float)
                or isinstance(betas[0], Tensor) and isinstance(betas[1], Tensor)):
            raise ValueError("betas must be either both floats or both Tensors")
        for i, beta in enumerate(betas):
            if isinstance(beta, Tensor):
                if not capturable and foreach:
                    raise ValueError(f"betas[{i}] as a Tensor is not supported for "
                                     "capturable=False and foreach=True")
                if beta.numel() != 1:
                    raise ValueError(f"Tensor betas[{i}] must be 1-element")
        betas = tuple(b.squeeze() if isinstance(b, Tensor) and b.dim() != 0 else b
                      for b in betas)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize, foreach=foreach,
                        capturable=capturable, differentiable=differentiable, fused=fused,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)
        _check_fused(defaults)

    def __setstate__(self, state) -> None:
        super().__setstate__(state)
        self._fill_group_defaults(amsgrad=False, maximize=False, foreach=None,
                                  capturable=False, differentiable=False,
                                  decoupled_weight_decay=False, fused=None)

    @_use_grad
    def step(self, closure=None):
        """Performs a single optimization step; `closure` re-evaluates the loss."""
        loss = self._closure_loss(closure)
        scratch = self._scratch
        for group in self.param_groups:
            beta1, beta2 = (_value(b) for b in group["betas"])
            amsgrad = group["amsgrad"]
            options = dict(lr=_value(group["lr"]), beta1=beta1, beta2=beta2,
                           eps=group["eps"], weight_decay=_value(group["weight_decay"]),
                           maximize=group["maximize"],
                           decoupled=group["decoupled_weight_decay"])
            run = _Foreach(_adam, scratch, group["foreach"], **options)
            # CUDA parameters take the fused kernel unless foreach=False asks for the loop
            launches = {} if group["fused"] or group["foreach"] is not False else None
            on_device = group["capturable"] or group["fused"]
            for p, g in self._with_grad(group):
                state = self.state[p]
                if len(state) == 0:
                    if group["fused"]:
                        _check_fused_param(p)
                    # 'step' lives on the CPU unless capturable/fused, as in torch.
                    state["step"] = _scalar_state(0.0, p if on_device else None,
                                                  fused=bool(group["fused"]))
                    state["exp_avg"] = _zeros_state(p)
                    state["exp_avg_sq"] = _zeros_state(p)
                    if amsgrad:
                        state["max_exp_avg_sq"] = _zeros_state(p)
                arrays = (p._data, g, state["exp_avg"]._data, state["exp_avg_sq"]._data,
                          state["max_exp_avg_sq"]._data if amsgrad else None)
                ready = (launches is not None and use_kernels(p._data)
                         and fused_kernels.kernel_arrays(arrays))
                if ready:
                    step = state["step"]
                    if on_device and fused_kernels.is_device_step(step._data, p._data):
                        row, count = ready + (step._data,), None  # the kernels advance it
                    else:
                        row, count = ready + (None,), _advance(step)
                    launches.setdefault(fused_kernels.launch_key(ready[0], count), []).append(row)
                else:
                    run.add(arrays, _advance(state["step"]))
                _bump(p)
            run.flush()
            if launches:
                for (_, _, step), rows in launches.items():
                    fused_kernels.adam_(rows, step, **options)
        return loss


def _check_fused_param(p: Tensor) -> None:
    """torch's check that fused=True is given floating point parameters."""
    if not p.is_floating_point():
        raise RuntimeError("`fused=True` requires all the params to be floating point Tensors "
                           f"of supported devices: {_FUSED_DEVICES} but {p.dtype} and "
                           f"{p.device.type}")


_FUSED_DEVICES = ["mps", "cuda", "xpu", "hpu", "cpu", "mtia", "privateuseone"]


def _adam(p, g, exp_avg, exp_avg_sq, max_exp_avg_sq, step, scratch, *, lr, beta1, beta2,
          eps, weight_decay, maximize, decoupled):
    """One Adam update of the array `p` and its moment arrays, in place."""
    xp = backend.of(p)
    if p.dtype.kind == "c":  # moments are taken per real/imaginary part, as in torch
        p, g, exp_avg, exp_avg_sq = _real(p), _real(g), _real(exp_avg), _real(exp_avg_sq)
        if max_exp_avg_sq is not None:
            max_exp_avg_sq = _real(max_exp_avg_sq)
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
    bias_correction2_sqrt = (1 - beta2 ** step) ** 0.5
    step_size = lr / bias_correction1
    second = exp_avg_sq
    if max_exp_avg_sq is not None:
        xp.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
        second = max_exp_avg_sq
    denom = xp.sqrt(second, out=u)
    denom /= bias_correction2_sqrt
    denom += eps
    xp.multiply(exp_avg, -step_size, out=t)
    t /= denom
    p += t
