"""Stochastic weight averaging and exponential moving averages of a model's weights.

AveragedModel keeps a running average of another model's parameters (SWA by default, or
an EMA through get_ema_multi_avg_fn); SWALR anneals the lr to a constant for the SWA phase;
update_bn recomputes BatchNorm statistics for the averaged weights.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Callable
from copy import deepcopy
from typing import Any

from .. import _dtype as D
from .. import backend
from .._tensor import Tensor
from ..autograd.grad_mode import no_grad
from ..nn.modules.module import Module
from ..ops.creation import tensor
from .lr_scheduler import LRScheduler, _format_param
from .optimizer import Optimizer, _bump, _lerp_

__all__ = ["AveragedModel", "update_bn", "SWALR", "get_ema_multi_avg_fn",
           "get_swa_multi_avg_fn", "get_ema_avg_fn", "get_swa_avg_fn"]


def _is_float(t: Tensor) -> bool:
    return t.dtype.is_floating_point or t.dtype.is_complex


def _lerp_all(averaged: list, current: list, weight: float) -> None:
    """averaged += weight * (current - averaged), in place, for each pair of tensors."""
    for avg, cur in zip(averaged, current):
        tmp = backend.of(avg._data).empty_like(avg._data)
        _lerp_(avg._data, cur._data, weight, tmp)
        _bump(avg)


def get_ema_multi_avg_fn(decay: float = 0.999) -> Callable:
    """An exponential-moving-average update over lists of tensors, for AveragedModel."""
    if decay < 0.0 or decay > 1.0:
        raise ValueError(f"Invalid decay value {decay} provided. Please provide a value in "
                         "[0,1] range.")

    @no_grad()
    def ema_update(ema_param_list, current_param_list, _num_averaged) -> None:
        if _is_float(ema_param_list[0]):
            _lerp_all(ema_param_list, current_param_list, 1 - decay)
        else:
            for p_ema, p_model in zip(ema_param_list, current_param_list):
                p_ema.copy_(p_ema * decay + p_model * (1 - decay))
    return ema_update


def get_swa_multi_avg_fn() -> Callable:
    """An equal-weight running-average update over lists of tensors, for AveragedModel."""

    @no_grad()
    def swa_update(averaged_param_list, current_param_list, num_averaged) -> None:
        n = num_averaged.item() if isinstance(num_averaged, Tensor) else num_averaged
        if _is_float(averaged_param_list[0]):
            _lerp_all(averaged_param_list, current_param_list, 1 / (n + 1))
        else:
            for avg, cur in zip(averaged_param_list, current_param_list):
                avg.add_(cur - avg, alpha=1.0 / (n + 1))
    return swa_update


def get_ema_avg_fn(decay: float = 0.999) -> Callable:
    """An exponential-moving-average update of one tensor, for AveragedModel's avg_fn."""
    if decay < 0.0 or decay > 1.0:
        raise ValueError(f"Invalid decay value {decay} provided. Please provide a value in "
                         "[0,1] range.")

    @no_grad()
    def ema_update(ema_param: Tensor, current_param: Tensor, num_averaged):
        return decay * ema_param + (1 - decay) * current_param
    return ema_update


def get_swa_avg_fn() -> Callable:
    """An equal-weight running-average update of one tensor, for AveragedModel's avg_fn."""

    @no_grad()
    def swa_update(averaged_param: Tensor, current_param: Tensor, num_averaged):
        return averaged_param + (current_param - averaged_param) / (num_averaged + 1)
    return swa_update


class AveragedModel(Module):
    """A copy of `model` whose parameters are a running average of the model's.

    Args:
        model: the model to average
        device: where to keep the averaged copy (default: where the model is)
        avg_fn: avg_fn(averaged, current, num_averaged) -> new average, per tensor
        multi_avg_fn: the same over lists of tensors, updating in place (default: the
            equal-weight SWA average)
        use_buffers: average the buffers too instead of copying them (default False)
    """

    def __init__(self, model: Module, device=None, avg_fn: Callable | None = None,
                 multi_avg_fn: Callable | None = None, use_buffers: bool = False) -> None:
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise AssertionError("Only one of avg_fn and multi_avg_fn should be provided")
        self.module = deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer("n_averaged", tensor(0, dtype=D.long, device=device))
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    @no_grad()
    def update_parameters(self, model: Module) -> None:
        """Folds the current weights of `model` into the average."""
        if self.use_buffers:
            self_param = itertools.chain(self.module.parameters(), self.module.buffers())
            model_param = itertools.chain(model.parameters(), model.buffers())
        else:
            self_param, model_param = self.parameters(), model.parameters()
        averaged, current = [], []
        first = int(self.n_averaged.item()) == 0
        for p_avg, p_model in zip(self_param, model_param):
            p_model = p_model.detach().to(p_avg.device)
            averaged.append(p_avg.detach())
            current.append(p_model)
            if first:
                p_avg.detach().copy_(p_model)
        if not first:
            if self.multi_avg_fn is not None:
                for group in _by_device_and_dtype(averaged, current):
                    self.multi_avg_fn(*group, self.n_averaged)
            elif self.avg_fn is not None:
                for p_avg, p_model in zip(averaged, current):
                    p_avg.copy_(self.avg_fn(p_avg, p_model, self.n_averaged))
            else:
                _swa_average_(averaged, current, int(self.n_averaged.item()))
        if not self.use_buffers:
            # Buffers (e.g. BatchNorm statistics) follow the model; update_bn can redo them.
            for b_swa, b_model in zip(self.module.buffers(), model.buffers()):
                b_swa.detach().copy_(b_model.detach().to(b_swa.device))
        self.n_averaged += 1


def _swa_average_(averaged: list, current: list, n: int) -> None:
    """averaged += (current - averaged) / (n + 1) in place: torch's default on the CPU."""
    for avg, cur in zip(averaged, current):
        xp = backend.of(avg._data)
        diff = xp.subtract(cur._data, avg._data)
        if diff.dtype.kind in "fc":
            diff /= n + 1
            avg._data += diff
        else:  # integer buffers (use_buffers=True): true division, then cast back
            avg._data[...] = avg._data + diff / (n + 1)
        _bump(avg)


def _by_device_and_dtype(averaged: list, current: list) -> list:
    """The (averaged, current) pairs split into lists sharing a device and dtype."""
    groups: dict[Any, tuple[list, list]] = {}
    for a, c in zip(averaged, current):
        lists = groups.setdefault((str(a.device), a.dtype), ([], []))
        lists[0].append(a)
        lists[1].append(c)
    return list(groups.values())


@no_grad()
def update_bn(loader, model: Module, device=None) -> None:
    """Recomputes the BatchNorm running statistics of `model` with one pass over `loader`.

    The statistics are reset and accumulated as a cumulative average (momentum None);
    for a loader yielding (input, target) pairs the first element is used.
    """
    from ..nn.modules.batchnorm import _BatchNorm

    momenta = {}
    for module in model.modules():
        if isinstance(module, _BatchNorm):
            module.reset_running_stats()
            momenta[module] = module.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for module in momenta:
        module.momentum = None
    for input in loader:
        if isinstance(input, (list, tuple)):
            input = input[0]
        if device is not None:
            input = input.to(device)
        model(input)
    for module, momentum in momenta.items():
        module.momentum = momentum
    model.train(was_training)


class SWALR(LRScheduler):
    """Anneals each group's lr to swa_lr over anneal_epochs epochs, then holds it.

    Args:
        optimizer: the optimizer whose learning rates are scheduled
        swa_lr: the lr of the SWA phase, one value or one per group
        anneal_epochs: epochs of the annealing (default 10)
        anneal_strategy: 'cos' (default) or 'linear'
        last_epoch: index of the last epoch (default -1)
    """

    def __init__(self, optimizer: Optimizer, swa_lr, anneal_epochs: int = 10,
                 anneal_strategy: str = "cos", last_epoch: int = -1) -> None:
        swa_lrs = _format_param("swa_lr", optimizer, swa_lr)
        for lr, group in zip(swa_lrs, optimizer.param_groups):
            group["swa_lr"] = lr
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError("anneal_strategy must be one of 'cos' or 'linear', instead got "
                             f"{anneal_strategy}")
        self._set_anneal_func(anneal_strategy)
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got "
                             f"{anneal_epochs}")
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _linear_anneal(t: float) -> float:
        return t

    @staticmethod
    def _cosine_anneal(t: float) -> float:
        return (1 - math.cos(math.pi * t)) / 2

    @staticmethod
    def _get_initial_lr(lr, swa_lr, alpha):
        if alpha == 1:
            return swa_lr
        return (lr - alpha * swa_lr) / (1 - alpha)

    def get_lr(self) -> list:
        if not self._get_lr_called_within_step:
            warnings.warn("To get the last learning rate computed by the scheduler, please use "
                          "`get_last_lr()`.", UserWarning, stacklevel=2)
        # The lr before this step is recovered from the current one, so SWALR chains with
        # changes made by others.
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        prev_t = max(0, min(1, (step - 1) / max(1, self.anneal_epochs)))
        prev_alpha = self.anneal_func(prev_t)
        groups = self.optimizer.param_groups
        prev_lrs = [self._get_initial_lr(g["lr"], g["swa_lr"], prev_alpha) for g in groups]
        t = max(0, min(1, step / max(1, self.anneal_epochs)))
        alpha = self.anneal_func(t)
        return [g["swa_lr"] * alpha + lr * (1 - alpha) for g, lr in zip(groups, prev_lrs)]

    def _set_anneal_func(self, anneal_strategy: str) -> None:
        self._anneal_strategy = anneal_strategy
        self.anneal_func = self._cosine_anneal if anneal_strategy == "cos" else \
            self._linear_anneal

    def state_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "anneal_func")}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.__dict__.update(state_dict)
        self._set_anneal_func(self._anneal_strategy)
