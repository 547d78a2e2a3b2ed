"""Loss functions of `taimatsu.nn.functional`.

Most losses are compositions of differentiable taimatsu ops, as in PyTorch. Four have a
forward/backward of their own: `cross_entropy` with class-index targets (log_softmax and
nll fused: one pass over the logits forward, one backward, on every training step),
`nll_loss`, `binary_cross_entropy` (PyTorch's clamped gradient) and `ctc_loss` (the
forward-backward recursions in log space, vectorized over the batch).

Every loss takes `reduction` ('none' | 'mean' | 'sum'); the legacy `size_average` and
`reduce` arguments override it with PyTorch's mapping and warning.
"""

from __future__ import annotations

import functools
import math
import warnings

import numpy as np

from ... import _dtype as D
from ... import backend
from ..._tensor import Tensor
from ...amp._state import hook as _autocast
from ...autograd import grad_mode
from ...autograd.node import Function
from ...backend.cuda import cross_entropy as _ce_kernels
from ...backend.cuda import use_kernels
from ...ops.creation import ones_like
from ...ops.inplace import _legacy, kernel_missing
from ...ops.pointwise import minimum, where, xlogy
from ...ops.shape import broadcast_to
from .activation import (
    Softmax,
    _in_graph,
    _require_float,
    _sum_keep,
    log_softmax,
    logsigmoid,
)
from .activation import softplus as _softplus
from .distance import pairwise_distance

__all__ = [
    "l1_loss", "mse_loss", "cross_entropy", "nll_loss", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "kl_div", "huber_loss", "smooth_l1_loss",
    "soft_margin_loss", "multilabel_soft_margin_loss", "multi_margin_loss",
    "multilabel_margin_loss", "margin_ranking_loss", "hinge_embedding_loss",
    "cosine_embedding_loss", "triplet_margin_loss", "triplet_margin_with_distance_loss",
    "ctc_loss", "poisson_nll_loss", "gaussian_nll_loss",
]

_quiet = functools.partial(np.errstate, all="ignore")
_REDUCTIONS = ("none", "mean", "sum")


# -- reduction arguments -----------------------------------------------------------------------

def legacy_get_string(size_average, reduce, emit_warning: bool = True) -> str:
    """The reduction that the deprecated size_average / reduce pair stands for."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    ret = "mean" if size_average and reduce else ("sum" if reduce else "none")
    if emit_warning:
        warnings.warn(f"size_average and reduce args will be deprecated, please use "
                      f"reduction='{ret}' instead.", stacklevel=3)
    return ret


def _reduction(size_average, reduce, reduction: str) -> str:
    """Validates `reduction`, letting the legacy arguments override it."""
    if size_average is not None or reduce is not None:
        return legacy_get_string(size_average, reduce)
    if reduction == "elementwise_mean":
        warnings.warn("reduction='elementwise_mean' is deprecated. Please use reduction='mean' "
                      "instead.", stacklevel=3)
        return "mean"
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _check_tensor(fname: str, x, arg: str, pos: int) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{fname}(): argument '{arg}' (position {pos}) must be Tensor, not "
                        f"{type(x).__name__}")


def _warn_size_mismatch(input: Tensor, target: Tensor) -> None:
    if target.shape != input.shape:
        warnings.warn(f"Using a target size ({target.size()}) that is different to the input "
                      f"size ({input.size()}). This will likely lead to incorrect results due "
                      "to broadcasting. Please ensure they have the same size.", stacklevel=3)


def _weighted_elementwise(loss: Tensor, input: Tensor, weight, reduction: str) -> Tensor:
    """l1/mse with per-element weights: 'mean' divides by the sum of the weights."""
    if weight is None:
        return _reduce(loss, reduction)
    if weight.shape != input.shape:
        raise ValueError("Weights and input must have the same size.")
    loss = loss * weight
    if reduction == "mean":
        return loss.sum() / weight.sum()
    return _reduce(loss, reduction)


# -- regression losses -------------------------------------------------------------------------

def l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
            reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """|input - target|, reduced; with `weight`, a weighted sum (mean: over the weights)."""
    if _autocast.on and (policy := _autocast.policy("l1_loss", input)):
        return policy(l1_loss, input, target, size_average, reduce, reduction, weight)
    _warn_size_mismatch(input, target)
    reduction = _reduction(size_average, reduce, reduction)
    loss = (input - target).abs()
    if not loss.dtype.is_floating_point and reduction == "mean" and weight is None:
        raise RuntimeError("mean(): could not infer output dtype. Input dtype must be either a "
                           f"floating point or complex dtype. Got: {_legacy(loss.dtype)}")
    return _weighted_elementwise(loss, input, weight, reduction)


def mse_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
             reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """(input - target)^2, reduced; with `weight`, a weighted sum (mean: over the weights)."""
    if _autocast.on and (policy := _autocast.policy("mse_loss", input)):
        return policy(mse_loss, input, target, size_average, reduce, reduction, weight)
    _warn_size_mismatch(input, target)
    reduction = _reduction(size_average, reduce, reduction)
    diff = input - target
    _require_float("mse_cpu", diff)
    return _weighted_elementwise(diff * diff, input, weight, reduction)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
               weight: Tensor | None = None) -> Tensor:
    """0.5 d^2 where |d| < delta, delta (|d| - delta / 2) elsewhere (d = input - target)."""
    if _autocast.on and (policy := _autocast.policy("huber_loss", input)):
        return policy(huber_loss, input, target, reduction, delta, weight)
    _warn_size_mismatch(input, target)
    reduction = _reduction(None, None, reduction)
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    d = input - target
    ad = d.abs()
    loss = where(ad < delta, 0.5 * d * d, delta * (ad - 0.5 * delta))
    if weight is not None:
        if weight.shape != input.shape:
            raise ValueError("Weights and input must have the same size.")
        loss = loss * weight
    return _reduce(loss, reduction)


def smooth_l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                   reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """0.5 d^2 / beta where |d| < beta, |d| - beta / 2 elsewhere; beta = 0 is l1_loss."""
    if _autocast.on and (policy := _autocast.policy("smooth_l1_loss", input)):
        return policy(smooth_l1_loss, input, target, size_average, reduce, reduction, beta)
    _warn_size_mismatch(input, target)
    reduction = _reduction(size_average, reduce, reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    d = input - target
    ad = d.abs()
    if beta == 0:
        return _reduce(ad, reduction)
    return _reduce(where(ad < beta, (0.5 / beta) * d * d, ad - 0.5 * beta), reduction)


# -- class-index losses: nll_loss and the fused cross_entropy -----------------------------------

def _check_class_target(input: Tensor, target: Tensor, weight) -> None:
    """PyTorch's checks of a class-index target (dtype, batch size, spatial size) and the
    class weights."""
    if target.dtype not in (D.int64, D.uint8):
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got "
                           f"{_legacy(target.dtype)}")
    if input.ndim == 0:
        raise ValueError("Expected 1 or more dimensions (got 0)")
    if input.ndim >= 2:
        if target.ndim == 0 or target.shape[0] != input.shape[0]:
            n = target.shape[0] if target.ndim else 0
            raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target "
                             f"batch_size ({n}).")
        if input.ndim == 2 and target.ndim != 1:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        expected = (input.shape[0],) + tuple(input.shape[2:])
        if tuple(target.shape) != expected:
            if input.ndim == 4:
                raise RuntimeError(f"size mismatch (got input: {list(input.shape)} , target: "
                                   f"{list(target.shape)}")
            raise RuntimeError(f"Expected target size {list(expected)}, got "
                               f"{list(target.shape)}")
    elif target.ndim > 1 or (target.ndim == 1 and target.shape[0] != 1):
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    classes = input.shape[1] if input.ndim >= 2 else input.shape[0]
    if weight is not None:
        if weight.ndim != 1 or weight.shape[0] != classes:
            raise RuntimeError(f"weight tensor should be defined either for all {classes} "
                               f"classes or no classes but got weight tensor of shape: "
                               f"{list(weight.shape)}")
        if weight.dtype is not input.dtype:
            raise RuntimeError(f"expected scalar type {_legacy(input.dtype)} but found "
                               f"{_legacy(weight.dtype)}")


class _Targets:
    """Class-index targets of an (N, C, d1, ...) input.

    index: the targets (N, d1, ...), ignored entries pointing at class 0; valid: the mask of
    non-ignored entries, None when none is ignored; weight: w[target] per entry (0 where
    ignored), None when every entry weighs 1; total: the summed weight ('mean' divides by
    it, as PyTorch does). Raises PyTorch's IndexError for a target outside [0, C).
    """

    __slots__ = ("index", "valid", "weight", "total")

    def __init__(self, x, target, weight, ignore_index: int):
        xp = backend.of(x)
        classes = x.shape[1]
        target = target.astype(np.int64, copy=False)
        valid = None
        if target.size and (int(target.min()) < 0 or int(target.max()) >= classes
                            or 0 <= ignore_index < classes):
            mask = target != ignore_index
            bad = mask & ((target < 0) | (target >= classes))
            if bad.any():
                raise IndexError(f"Target {int(target[bad].ravel()[0])} is out of bounds.")
            if not mask.all():
                valid = mask
                target = xp.where(mask, target, 0)
        self.index, self.valid = target, valid
        if weight is None:
            self.weight = None if valid is None else valid.astype(x.dtype)
        else:
            self.weight = weight[target] if valid is None else weight[target] * valid
        self.total = float(target.size if self.weight is None else self.weight.sum())

    def pick(self, a):
        """a[n, target[n, ...], ...] for every entry: shape (N, d1, ...)."""
        if a.ndim == 2:
            return a[backend.of(a).arange(a.shape[0]), self.index]
        return backend.of(a).take_along_axis(a, self.index[:, None], axis=1)[:, 0]

    def weighted(self, losses):
        if self.weight is None:
            return losses
        if self.valid is None:
            return losses * self.weight
        # an ignored entry counts 0 even where its logits are nan, as in PyTorch
        return backend.of(losses).where(self.valid, losses * self.weight, 0)


def _as_batch(x, target):
    """Unbatched input (C,) with a 0-d target becomes a batch of one."""
    if x.ndim == 1:
        return x.reshape(1, -1), target.reshape(1)
    return x, target


def _reduce_rows(xp, losses, targets: _Targets, reduction: str):
    """'mean' divides by the total weight of the non-ignored targets."""
    if reduction == "none":
        return losses
    total = losses.sum()
    if reduction == "sum":
        return total
    with _quiet():  # an empty or all-ignored batch gives nan, as in PyTorch
        return xp.asarray(total / losses.dtype.type(targets.total), dtype=losses.dtype)


def _row_coef(ctx, grad, weight):
    """grad per target entry, times `weight` (an array or None for ones), divided by the
    total weight for 'mean'."""
    if ctx.reduction == "none":
        grad = grad.reshape(ctx.targets.index.shape)
    elif ctx.reduction == "mean":
        # every target ignored: the loss is nan (0/0) but each entry's gradient is 0, as in torch
        total = ctx.targets.total
        grad = grad / total if total else ctx.xp.zeros_like(grad)
    return grad if weight is None else grad * ctx.xp.asarray(weight)


def _subtract_at_target(ctx, gx, coef):
    """gx minus coef at each entry's target class (dim 1)."""
    index = ctx.targets.index
    if _in_graph(ctx):
        xp = ctx.xp
        classes = np.arange(gx.shape[1]).reshape((1, -1) + (1,) * (index.ndim - 1))
        onehot = backend.of(index).asarray(classes) == index[:, None]
        return gx - _expand_classes(xp, coef) * xp.asarray(onehot.astype(ctx.dtype))
    xp = backend.of(gx)
    if gx.ndim == 2:
        gx[xp.arange(gx.shape[0]), index] -= coef
        return gx
    coef = xp.broadcast_to(xp.asarray(coef), index.shape)[:, None]
    picked = xp.take_along_axis(gx, index[:, None], axis=1)
    xp.put_along_axis(gx, index[:, None], picked - coef, axis=1)
    return gx


def _expand_classes(xp, coef):
    """A per-entry coefficient (N, d1, ...) broadcast over dim 1; scalars stay scalars."""
    return coef if coef.ndim == 0 else xp.expand_dims(coef, 1)


class NllLoss(Function):
    """-w[t] * input[t] per entry, reduced; input holds log-probabilities along dim 1."""

    @staticmethod
    def forward(ctx, x, target, weight, reduction, ignore_index):
        xp = backend.of(x)
        x2, t2 = _as_batch(x, target)
        targets = _Targets(x2, t2, weight, ignore_index)
        losses = targets.weighted(-targets.pick(x2))
        if x.ndim == 1:
            losses = losses.reshape(())
        ctx.targets, ctx.reduction, ctx.shape, ctx.dtype = targets, reduction, x2.shape, x.dtype
        ctx.x_shape = x.shape
        return _reduce_rows(xp, losses, targets, reduction)

    @staticmethod
    def backward(ctx, grad):
        coef = _row_coef(ctx, grad, ctx.targets.weight)
        gx = ctx.xp.zeros(ctx.shape, dtype=ctx.dtype)
        return _subtract_at_target(ctx, gx, coef).reshape(ctx.x_shape)


class CrossEntropy(Function):
    """log_softmax over dim 1 and nll in one pass, with class weights, ignore_index and
    label smoothing. backward is (softmax - onehot) scaled per entry; it reads the softmax
    kept from forward, or recomputes it differentiably for double backward.

    On CUDA arrays the fused kernels of backend/cuda/cross_entropy.py run instead: forward
    keeps the per-entry log-sum-exp rather than the softmax, backward writes the gradient in
    one pass over the logits."""

    _backward_name = "NllLossBackward0"

    @staticmethod
    def forward(ctx, x, target, weight, reduction, ignore_index, smoothing):
        xp = backend.of(x)
        x2, t2 = _as_batch(x, target)
        if use_kernels(x) and _ce_kernels.supported(x2, weight):
            return CrossEntropy._kernel_forward(ctx, x, x2, t2, weight, reduction, ignore_index,
                                                smoothing)
        targets = _Targets(x2, t2, weight, ignore_index)
        with _quiet():  # inf logits give nan, as in PyTorch
            shifted = x2 - x2.max(axis=1, keepdims=True)
            p = xp.exp(shifted)
            total = _sum_keep(xp, p, 1)
            log_total = xp.log(total)
        losses = targets.weighted(log_total[:, 0] - targets.pick(shifted))
        if smoothing:  # (Python floats would promote bfloat16 to float32 in NumPy)
            losses = ((1 - smoothing) * losses + (smoothing / x2.shape[1]) * _smooth_term(
                xp, shifted, log_total, weight, targets.valid)).astype(x2.dtype, copy=False)
        if x.ndim == 1:
            losses = losses.reshape(())
        if ctx.needs_input_grad:
            p /= total
            ctx.save_for_backward(x, p)
            ctx.targets, ctx.reduction, ctx.dtype = targets, reduction, x.dtype
            ctx.weight, ctx.smoothing, ctx.kernel = weight, smoothing, False
        return _reduce_rows(xp, losses, targets, reduction)

    @staticmethod
    def backward(ctx, grad):
        x, p = ctx.saved_arrays
        xp = ctx.xp
        if ctx.kernel:  # p is the per-entry log-sum-exp
            if not _in_graph(ctx):
                return CrossEntropy._kernel_backward(ctx, grad, x, p)
            ctx.targets = _Targets(*_as_batch(x._data, ctx.target), ctx.weight,
                                   ctx.ignore_index)
        if _in_graph(ctx):
            p = Softmax.apply(x.reshape((1, -1) if x.ndim == 1 else x.shape), 1)
        coef = _row_coef(ctx, grad, ctx.targets.weight)
        if not ctx.smoothing:
            gx = p * _expand_classes(xp, coef)
            return _subtract_at_target(ctx, gx, coef).reshape(x.shape)
        # loss = (1 - s) nll + (s / C) sum_c w_c (-log p_c), and each -log p_c term
        # contributes (p - onehot(c)) per unit of its weight.
        s, w = ctx.smoothing, ctx.weight
        classes = p.shape[1]
        valid = ctx.targets.valid
        smooth = (s / classes) * _row_coef(ctx, grad, None if valid is None
                                           else valid.astype(ctx.dtype))
        w_sum = float(w.sum()) if w is not None else float(classes)
        gx = p * _expand_classes(xp, (1 - s) * coef + w_sum * smooth)
        smooth = _expand_classes(xp, smooth)
        if w is None:
            gx = gx - smooth
        else:
            gx = gx - smooth * xp.asarray(w.reshape((1, -1) + (1,) * (p.ndim - 2)))
        return _subtract_at_target(ctx, gx, (1 - s) * coef).reshape(x.shape)

    @staticmethod
    def _kernel_forward(ctx, x, x2, t2, weight, reduction, ignore_index, smoothing):
        xp = backend.of(x)
        _ce_kernels.check_targets(t2, x2.shape[1], ignore_index)
        losses, lse, target_weight = _ce_kernels.forward(x2, t2, weight, ignore_index,
                                                         smoothing)
        total = target_weight.sum() if reduction == "mean" else None
        if ctx.needs_input_grad:
            ctx.save_for_backward(x, lse)
            ctx.kernel, ctx.target, ctx.ignore_index, ctx.total = True, t2, ignore_index, total
            ctx.reduction, ctx.dtype, ctx.weight, ctx.smoothing = (reduction, x.dtype, weight,
                                                                   smoothing)
        if reduction == "none":
            return losses.reshape(() if x.ndim == 1 else t2.shape).astype(x.dtype)
        # reduced in the accumulation dtype, then rounded once
        with _quiet():  # an empty or all-ignored 'mean' gives nan, as in PyTorch
            out = losses.sum() if reduction == "sum" else losses.sum() / total
        return xp.asarray(out).astype(x.dtype)

    @staticmethod
    def _kernel_backward(ctx, grad, x, lse):
        grad = grad.astype(lse.dtype)
        if ctx.reduction == "mean":
            with _quiet():
                grad = grad / ctx.total
        gx = _ce_kernels.backward(x.reshape((1, -1)) if x.ndim == 1 else x, ctx.target,
                                  ctx.weight, lse, grad, ctx.ignore_index, ctx.smoothing)
        return gx.reshape(x.shape)


def _smooth_term(xp, shifted, log_total, weight, valid):
    """-sum_c w_c log p_c per entry (0 where the target is ignored)."""
    if weight is None:
        term = shifted.shape[1] * log_total[:, 0] - shifted.sum(axis=1)
    else:
        wb = weight.reshape((1, -1) + (1,) * (shifted.ndim - 2))
        term = weight.sum() * log_total[:, 0] - (shifted * wb).sum(axis=1)
    return term if valid is None else backend.of(term).where(valid, term, 0)


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
             ignore_index: int = -100, reduce=None, reduction: str = "mean") -> Tensor:
    """The negative log likelihood of the target classes under log-probabilities `input`
    (N, C) or (N, C, d1, ...) or (C,); 'mean' divides by the summed weight of the targets."""
    if _autocast.on and (policy := _autocast.policy("nll_loss", input)):
        return policy(nll_loss, input, target, weight, size_average, ignore_index, reduce,
                      reduction)
    _check_tensor("nll_loss", input, "input", 1)
    reduction = _reduction(size_average, reduce, reduction)
    _check_class_target(input, target, weight)
    if not input.dtype.is_floating_point:
        raise kernel_missing("nll_loss_out_frame", input.dtype)
    w = None if weight is None else weight._data
    return NllLoss.apply(input, target._data, w, reduction, ignore_index)


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                  size_average=None, ignore_index: int = -100, reduce=None,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Cross entropy between the logits `input` and class indices or class probabilities.

    input: (N, C), (N, C, d1, ...) or unbatched (C,). target: class indices (N,) /
    (N, d1, ...) / (), or probabilities shaped like input.
    """
    if _autocast.on and (policy := _autocast.policy("cross_entropy", input)):
        return policy(cross_entropy, input, target, weight, size_average, ignore_index, reduce,
                      reduction, label_smoothing)
    _check_tensor("cross_entropy", input, "input", 1)
    reduction = _reduction(size_average, reduce, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: "
                           f"{label_smoothing}")
    if target.shape == input.shape:
        return _cross_entropy_probs(input, target, weight, ignore_index, reduction,
                                    label_smoothing)
    _check_class_target(input, target, weight)
    if not input.dtype.is_floating_point:
        raise kernel_missing("log_softmax_lastdim_kernel_impl", input.dtype)
    w = None if weight is None else weight._data
    return CrossEntropy.apply(input, target._data, w, reduction, ignore_index,
                              float(label_smoothing))


def _cross_entropy_probs(input, target, weight, ignore_index, reduction, smoothing):
    """Cross entropy against class probabilities; 'mean' divides by the number of rows."""
    if not target.dtype.is_floating_point:
        raise RuntimeError(f"Expected floating point type for target with class "
                           f"probabilities, got {_legacy(target.dtype)}")
    if ignore_index >= 0:
        raise RuntimeError("ignore_index is not supported for floating point target")
    class_dim = 1 if input.ndim >= 2 else 0
    classes = input.shape[class_dim]
    if smoothing > 0:
        target = target * (1 - smoothing) + smoothing / classes
    logp = log_softmax(input, class_dim)
    if weight is not None:
        logp = logp * weight.reshape((classes,) + (1,) * (input.ndim - class_dim - 1))
    losses = -(logp * target).sum(class_dim)
    if reduction == "mean":
        rows = input.numel() // classes if classes else 0
        return losses.sum() / rows if rows else losses.sum() * float("nan")
    return _reduce(losses, reduction)


# -- binary losses -----------------------------------------------------------------------------

class BinaryCrossEntropy(Function):
    """-w (t log x + (1 - t) log(1 - x)) elementwise, each log clamped at -100 as in
    PyTorch; the input gradient w (x - t) / max(x (1 - x), 1e-12) is PyTorch's too."""

    @staticmethod
    def forward(ctx, x, t, w):
        xp = backend.of(x)
        with _quiet():
            loss = -(t * xp.maximum(xp.log(x), -100) + (1 - t) * xp.maximum(xp.log1p(-x), -100))
        if w is not None:
            loss = loss * w
        if ctx.needs_input_grad:
            ctx.save_for_backward(x, t, w)
        return loss.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        x, t, w = ctx.saved_arrays
        xp = ctx.xp
        if w is not None:
            grad = grad * w
        gx = gt = None
        with _quiet():
            if ctx.needs_input_grad[0]:
                gx = grad * (x - t) / xp.maximum((1 - x) * x, 1e-12)
            if ctx.needs_input_grad[1]:
                gt = grad * (xp.maximum(xp.log1p(-x), -100) - xp.maximum(xp.log(x), -100))
        return gx, gt, None


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                         size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """Binary cross entropy between probabilities `input` and `target` (same shape)."""
    if _autocast.on and (policy := _autocast.policy("binary_cross_entropy", input)):
        return policy(binary_cross_entropy, input, target, weight, size_average, reduce, reduction)
    reduction = _reduction(size_average, reduce, reduction)
    if target.shape != input.shape:
        raise ValueError(f"Using a target size ({target.size()}) that is different to the "
                         f"input size ({input.size()}) is deprecated. Please ensure they have "
                         "the same size.")
    x = input._data
    if ((x < 0) | (x > 1)).any():
        raise RuntimeError("all elements of input should be between 0 and 1")
    if weight is not None:
        weight = broadcast_to(weight, target.shape)
    target = target.to(input.dtype) if target.dtype is not input.dtype else target
    return _reduce(BinaryCrossEntropy.apply(input, target, weight), reduction)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor,
                                     weight: Tensor | None = None, size_average=None,
                                     reduce=None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """sigmoid + binary cross entropy, computed stably from the logits.

    pos_weight scales the positive term (broadcast along the last, class, dimension).
    """
    if _autocast.on and (policy := _autocast.policy("binary_cross_entropy_with_logits", input)):
        return policy(binary_cross_entropy_with_logits, input, target, weight, size_average,
                      reduce, reduction, pos_weight)
    reduction = _reduction(size_average, reduce, reduction)
    if target.shape != input.shape:
        raise ValueError(f"Target size ({target.size()}) must be the same as input size "
                         f"({input.size()})")
    # (1 - t) x - l log(sigmoid(x)), with l = 1 + (pos_weight - 1) t
    log_sig = logsigmoid(input)
    if pos_weight is not None:
        loss = (1 - target) * input - (1 + (pos_weight - 1) * target) * log_sig
    else:
        loss = (1 - target) * input - log_sig
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def kl_div(input: Tensor, target: Tensor, size_average=None, reduce=None,
           reduction: str = "mean", log_target: bool = False) -> Tensor:
    """KL(target || exp(input)) pointwise: target (log target - input); input holds
    log-probabilities, target probabilities (or log-probabilities with log_target)."""
    if _autocast.on and (policy := _autocast.policy("kl_div", input)):
        return policy(kl_div, input, target, size_average, reduce, reduction, log_target)
    if size_average is not None or reduce is not None:
        reduction = legacy_get_string(size_average, reduce)
    elif reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the "
                      "support size.'batchmean' divides only by the batch size, and aligns "
                      "with the KL div math definition.'mean' will be changed to behave the "
                      "same as 'batchmean' in the next major release.", stacklevel=2)
    elif reduction != "batchmean":
        reduction = _reduction(None, None, reduction)
    if log_target:
        loss = target.exp() * (target - input)
    else:
        loss = xlogy(target, target) - target * input
    if reduction == "batchmean":
        total = loss.sum()
        return total / input.shape[0] if input.ndim else total
    return _reduce(loss, reduction)


def soft_margin_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                     reduction: str = "mean") -> Tensor:
    """log(1 + exp(-target * input)) for targets in {1, -1}."""
    if _autocast.on and (policy := _autocast.policy("soft_margin_loss", input)):
        return policy(soft_margin_loss, input, target, size_average, reduce, reduction)
    reduction = _reduction(size_average, reduce, reduction)
    return _reduce(_softplus(-(input * target)), reduction)


def multilabel_soft_margin_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                size_average=None, reduce=None,
                                reduction: str = "mean") -> Tensor:
    """Per-class binary logistic losses, averaged over the classes (last dim)."""
    reduction = _reduction(size_average, reduce, reduction)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    class_dim = input.ndim - 1
    return _reduce(loss.sum(class_dim) / input.shape[class_dim], reduction)


# -- margin losses -----------------------------------------------------------------------------

def multi_margin_loss(input: Tensor, target: Tensor, p: int = 1, margin: float = 1.0,
                      weight: Tensor | None = None, size_average=None, reduce=None,
                      reduction: str = "mean") -> Tensor:
    """Multi-class hinge loss: sum over j != y of max(0, margin - x[y] + x[j])^p / C."""
    if _autocast.on and (policy := _autocast.policy("multi_margin_loss", input)):
        return policy(multi_margin_loss, input, target, p, margin, weight, size_average, reduce,
                      reduction)
    reduction = _reduction(size_average, reduce, reduction)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.ndim != 1:
        raise ValueError("weight must be one-dimensional")
    if input.ndim > 2 or input.numel() == 0 and input.ndim != 2:
        raise RuntimeError("Expected non-empty vector or matrix with optional 0-dim batch size, "
                           f"but got: {list(input.shape)}")
    if target.dtype is not D.int64:
        raise RuntimeError(f"expected scalar type Long but found {_legacy(target.dtype)}")
    x = input if input.ndim == 2 else input.reshape(1, -1)
    t = target.reshape(-1)
    if t.shape[0] != x.shape[0]:
        raise RuntimeError(f"inconsistent target size, expected {x.shape[0]} but got "
                           f"{list(target.shape)}")
    classes = x.shape[1]
    tdata = t._data
    if ((tdata < 0) | (tdata >= classes)).any():
        raise RuntimeError("target out of range")
    index = t.reshape(-1, 1)
    z = (margin - x.gather(1, index) + x).clamp_min(0)
    h = z if p == 1 else z * z
    not_target = backend.of(tdata).arange(classes)[None, :] != tdata[:, None]
    h = h * Tensor._make(not_target.astype(x._data.dtype))
    if weight is not None:
        h = h * weight[t].reshape(-1, 1)
    loss = h.sum(1) / classes
    if input.ndim < 2:
        loss = loss.reshape(target.shape if target.ndim == 0 else (1,))
    return _reduce(loss, reduction)


def multilabel_margin_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                           reduction: str = "mean") -> Tensor:
    """Hinge loss between every target class j (the indices before the first -1 in each row
    of target) and every other class k: sum max(0, 1 - (x[j] - x[k])) / C."""
    if _autocast.on and (policy := _autocast.policy("multilabel_margin_loss", input)):
        return policy(multilabel_margin_loss, input, target, size_average, reduce, reduction)
    reduction = _reduction(size_average, reduce, reduction)
    if input.ndim > 2 or (input.ndim in (0, 1)) and input.numel() == 0:
        raise RuntimeError("Expected non-empty vector or matrix with optional 0-dim batch size, "
                           f"but got: {list(input.shape)}")
    if target.shape != input.shape:
        raise RuntimeError(f"inconsistent target size: {list(target.shape)} for input of size: "
                           f"{list(input.shape)}")
    x = input.reshape(1, -1) if input.ndim < 2 else input
    tdata = target._data.reshape(x.shape).astype(np.int64, copy=False)
    classes = x.shape[1]
    counts, is_target = _multilabel_targets(tdata, classes)
    pair_weight = counts[:, :, None] * (~is_target)[:, None, :]  # (N, j, k)
    wt = Tensor._make(pair_weight.astype(x._data.dtype))
    hinge = (1 - x.unsqueeze(2) + x.unsqueeze(1)).clamp_min(0)  # [n, j, k] = 1 - x_j + x_k
    loss = (hinge * wt).sum((1, 2)) / classes
    if input.ndim < 2:
        loss = loss.reshape(())
    return _reduce(loss, reduction)


def _multilabel_targets(target, classes: int):
    """How often each class is listed before the first -1 of its row, and the listed set."""
    xp = backend.of(target)
    n = target.shape[0]
    if ((target < -1) | (target >= classes)).any():
        raise RuntimeError("argument #2 'target' is out of range")
    stopped = xp.cumsum(target == -1, axis=1) > 0
    listed = ~stopped
    rows = xp.broadcast_to(xp.arange(n)[:, None], target.shape)
    counts = xp.zeros((n, classes), dtype=np.int64)
    xp.add.at(counts, (rows[listed], target[listed]), 1)
    return counts, counts > 0


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0,
                        size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """max(0, -target * (input1 - input2) + margin) for targets in {1, -1}."""
    if _autocast.on and (policy := _autocast.policy("margin_ranking_loss", input1)):
        return policy(margin_ranking_loss, input1, input2, target, margin, size_average, reduce,
                      reduction)
    reduction = _reduction(size_average, reduce, reduction)
    if input1.ndim != input2.ndim or input1.ndim != target.ndim:
        raise RuntimeError(f"margin_ranking_loss : All input tensors should have same dimension "
                           f"but got sizes: input1: {input1.size()}, input2: {input2.size()}, "
                           f"target: {target.size()} ")
    return _reduce((-target * (input1 - input2) + margin).clamp_min(0), reduction)


def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0, size_average=None,
                         reduce=None, reduction: str = "mean") -> Tensor:
    """input where target is 1, max(0, margin - input) where target is -1."""
    if _autocast.on and (policy := _autocast.policy("hinge_embedding_loss", input)):
        return policy(hinge_embedding_loss, input, target, margin, size_average, reduce, reduction)
    reduction = _reduction(size_average, reduce, reduction)
    margin_part = where(target != 1, (margin - input).clamp_min(0), 0.0)
    self_part = where(target != -1, input, 0.0)
    return _reduce(margin_part + self_part, reduction)


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0,
                          size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """1 - cos(x1, x2) where target is 1, max(0, cos(x1, x2) - margin) where it is -1."""
    if _autocast.on and (policy := _autocast.policy("cosine_embedding_loss", input1)):
        return policy(cosine_embedding_loss, input1, input2, target, margin, size_average, reduce,
                      reduction)
    reduction = _reduction(size_average, reduce, reduction)
    if target.ndim > 1:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    want = target.ndim + 1
    if input1.ndim != want or input2.ndim != want:
        raise RuntimeError(f"{target.ndim}D target tensor expects {want}D input tensors, but "
                           f"found inputs with sizes {list(input1.shape)} and "
                           f"{list(input2.shape)}.")
    dim = target.ndim
    eps = 1e-12  # keeps zero vectors from dividing by zero, as in PyTorch
    dot = (input1 * input2).sum(dim)
    mag = ((input1 * input1).sum(dim) + eps) * ((input2 * input2).sum(dim) + eps)
    cos = dot / mag.sqrt()
    pos = where(target == 1, 1 - cos, 0.0)
    neg = where(target == -1, (cos - margin).clamp_min(0), 0.0)
    return _reduce(pos + neg, reduction)


def _check_triplet(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float) -> None:
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    a, p, n = anchor.ndim, positive.ndim, negative.ndim
    if not a == p == n:
        raise RuntimeError(f"The anchor, positive, and negative tensors are expected to have the "
                           f"same number of dimensions, but got: anchor {a}D, positive {p}D, "
                           f"and negative {n}D inputs")


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0,
                        p: float = 2, eps: float = 1e-6, swap: bool = False, size_average=None,
                        reduce=None, reduction: str = "mean") -> Tensor:
    """max(0, margin + d(a, p) - d(a, n)) with the p-norm distance (swap: d(a, n) becomes
    min(d(a, n), d(p, n)))."""
    if _autocast.on and (policy := _autocast.policy("triplet_margin_loss", anchor)):
        return policy(triplet_margin_loss, anchor, positive, negative, margin, p, eps, swap,
                      size_average, reduce, reduction)
    reduction = _reduction(size_average, reduce, reduction)
    _check_triplet(anchor, positive, negative, margin)
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = minimum(d_neg, pairwise_distance(positive, negative, p, eps))
    return _reduce((margin + d_pos - d_neg).clamp_min(0), reduction)


def triplet_margin_with_distance_loss(anchor: Tensor, positive: Tensor, negative: Tensor, *,
                                      distance_function=None, margin: float = 1.0,
                                      swap: bool = False, reduction: str = "mean") -> Tensor:
    """triplet_margin_loss with any distance function (default: pairwise_distance)."""
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    _check_triplet(anchor, positive, negative, margin)
    dist = distance_function if distance_function is not None else pairwise_distance
    d_pos = dist(anchor, positive)
    d_neg = dist(anchor, negative)
    if swap:
        d_neg = minimum(d_neg, dist(positive, negative))
    return _reduce((margin + d_pos - d_neg).clamp_min(0), reduction)


# -- likelihood losses -------------------------------------------------------------------------

def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool = True, full: bool = False,
                     size_average=None, eps: float = 1e-8, reduce=None,
                     reduction: str = "mean") -> Tensor:
    """Poisson negative log likelihood: exp(input) - target * input (log_input), or
    input - target * log(input + eps); full adds Stirling's term where target > 1."""
    if _autocast.on and (policy := _autocast.policy("poisson_nll_loss", input)):
        return policy(poisson_nll_loss, input, target, log_input, full, size_average, eps, reduce,
                      reduction)
    reduction = _reduction(size_average, reduce, reduction)
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        stirling = xlogy(target, target) - target + 0.5 * (2 * math.pi * target).log()
        loss = loss + where(target > 1, stirling, 0.0)
    return _reduce(loss, reduction)


def gaussian_nll_loss(input: Tensor, target: Tensor, var, full: bool = False, eps: float = 1e-6,
                      reduction: str = "mean") -> Tensor:
    """0.5 (log(var) + (input - target)^2 / var) (+ 0.5 log(2 pi) when full); var is
    clamped to eps for stability without blocking its gradient."""
    if isinstance(var, (int, float)):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = var * ones_like(input)
    elif bool((var._data < 0).any()):
        raise ValueError("var has negative entry/entries")
    if var.shape != input.shape:
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = var.unsqueeze(-1)
        elif not (input.ndim == var.ndim and sum(
                v for i, v in zip(input.shape, var.shape) if i != v) == 1):
            raise ValueError("var is of incorrect size")
    if reduction not in _REDUCTIONS:
        raise ValueError(reduction + " is not valid")
    var = var.clone()
    with grad_mode.no_grad():
        var.clamp_(min=eps)
    loss = 0.5 * (var.log() + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


# -- CTC ---------------------------------------------------------------------------------------

def _logsumexp3(xp, a, b, c):
    """log(exp(a) + exp(b) + exp(c)) elementwise; all -inf gives -inf."""
    m = xp.maximum(xp.maximum(a, b), c)
    m = xp.where(xp.isfinite(m), m, 0.0)
    return m + xp.log(xp.exp(a - m) + xp.exp(b - m) + xp.exp(c - m))


def _shift_right(xp, a, k: int):
    """a[:, s - k] at position s (-inf where s < k)."""
    out = xp.full(a.shape, -xp.inf, dtype=a.dtype)
    out[:, k:] = a[:, :-k]
    return out


def _shift_left(xp, a, k: int):
    """a[:, s + k] at position s (-inf past the end)."""
    out = xp.full(a.shape, -xp.inf, dtype=a.dtype)
    out[:, :-k] = a[:, k:]
    return out


class CtcLoss(Function):
    """Per-sample CTC negative log likelihood (T, N, C) -> (N,).

    The gradient is PyTorch's: exp(log_probs) - exp(log(alpha beta) + nll - log_probs), the
    gradient with respect to the logits when log_probs = log_softmax(logits); PyTorch
    defines CTC's gradient this way and gives no second derivative.
    """

    once_differentiable = True

    @staticmethod
    def forward(ctx, log_probs, ext, skip, input_lengths, target_lengths, zero_infinity):
        xp = backend.of(log_probs)
        lp = log_probs.astype(np.float64)
        steps, batch = lp.shape[:2]
        rows = xp.arange(batch)[:, None]
        emit = lp[:, rows, ext]  # (T, N, L): log p of each extended label
        ext_len = 2 * target_lengths + 1
        with _quiet():
            alpha = xp.full(emit.shape, -xp.inf)
            alpha[0, :, 0] = emit[0, :, 0]
            if emit.shape[2] > 1:  # not every target is empty
                alpha[0, :, 1] = xp.where(ext_len > 1, emit[0, :, 1], -xp.inf)
            for t in range(1, steps):
                prev = alpha[t - 1]
                two_back = xp.where(skip, _shift_right(xp, prev, 2), -xp.inf)
                alpha[t] = _logsumexp3(xp, prev, _shift_right(xp, prev, 1), two_back) + emit[t]
            last = alpha[xp.maximum(input_lengths - 1, 0), xp.arange(batch)]  # (N, L)
            end = xp.take_along_axis(last, (ext_len - 1)[:, None], axis=1)[:, 0]
            before = xp.take_along_axis(last, xp.maximum(ext_len - 2, 0)[:, None], axis=1)[:, 0]
            before = xp.where(ext_len > 1, before, -xp.inf)
            nll = -xp.logaddexp(end, before)
        nll = xp.where(input_lengths == 0, xp.where(target_lengths == 0, 0.0, xp.inf), nll)
        if ctx.needs_input_grad:
            ctx.save_for_backward(log_probs)
            ctx.alpha, ctx.emit, ctx.nll = alpha, emit, nll
            ctx.ext, ctx.skip, ctx.zero_infinity = ext, skip, zero_infinity
            ctx.lengths = (input_lengths, ext_len)
        out = xp.where(xp.isinf(nll), 0.0, nll) if zero_infinity else nll
        return out.astype(log_probs.dtype)

    @staticmethod
    def backward(ctx, grad):
        (log_probs,) = ctx.saved_arrays
        xp = ctx.xp
        input_lengths, ext_len = ctx.lengths
        beta = _ctc_beta(xp, ctx.emit, ctx.skip, input_lengths, ext_len)
        steps, batch, classes = log_probs.shape
        lp = log_probs.astype(np.float64)
        with _quiet():
            log_ab = _logsumexp_by_label(xp, ctx.alpha + beta, ctx.ext, classes)
            g = xp.exp(lp) - xp.exp(log_ab + ctx.nll[None, :, None] - lp)
        live = xp.arange(steps)[:, None] < input_lengths[None, :]  # (T, N)
        keep = live[:, :, None]
        if ctx.zero_infinity:
            keep = keep & ~xp.isinf(ctx.nll)[None, :, None]
        g = xp.where(keep, g, 0.0) * grad.astype(np.float64)[None, :, None]
        return g.astype(log_probs.dtype), None, None, None, None, None


def _ctc_beta(xp, emit, skip, input_lengths, ext_len):
    """The backward variables log beta[t, n, s] (emission at t included)."""
    steps, batch, width = emit.shape
    beta = xp.full(emit.shape, -xp.inf)
    cols = xp.arange(width)[None, :]
    start = (cols == (ext_len - 1)[:, None]) | ((cols == (ext_len - 2)[:, None]) &
                                                 (ext_len > 1)[:, None])
    skip_next = xp.zeros_like(skip)  # at s: may a path jump from s to s + 2?
    skip_next[:, :-2] = skip[:, 2:]
    nxt = xp.full((batch, width), -xp.inf)
    with _quiet():
        for t in range(steps - 1, -1, -1):
            two_on = xp.where(skip_next, _shift_left(xp, nxt, 2), -xp.inf)
            rec = _logsumexp3(xp, nxt, _shift_left(xp, nxt, 1), two_on) + emit[t]
            first = xp.where(start, emit[t], -xp.inf)
            is_last = (t == input_lengths - 1)[:, None]
            inside = (t < input_lengths - 1)[:, None]
            nxt = xp.where(is_last, first, xp.where(inside, rec, -xp.inf))
            beta[t] = nxt
    return beta


def _logsumexp_by_label(xp, values, ext, classes: int):
    """log of sum over positions s with ext[n, s] == c of exp(values[t, n, s]) -> (T, N, C)."""
    steps, batch, width = values.shape
    top = values.max(axis=2, keepdims=True)
    top = xp.where(xp.isfinite(top), top, 0.0)
    flat = ((xp.arange(steps)[:, None, None] * batch + xp.arange(batch)[None, :, None]) *
            classes + ext[None, :, :])
    sums = xp.bincount(flat.ravel(), weights=xp.exp(values - top).ravel(),
                       minlength=steps * batch * classes)
    return xp.log(sums.reshape(steps, batch, classes)) + top


def _lengths(values, name: str, batch: int, steps: int | None, xp):
    if isinstance(values, Tensor):
        if not (values.dtype._kind == 1):
            raise RuntimeError(f"{name} must be integral")
        arr = backend.to_numpy(values._data).reshape(-1)
    else:
        arr = np.asarray(values, dtype=np.int64).reshape(-1)
    if arr.shape[0] != batch:
        raise RuntimeError(f"{name} must be of size batch_size")
    arr = arr.astype(np.int64)
    what = "input_lengths" if name == "input_lengths" else "target_lengths"
    if arr.size and arr.min() < 0:
        raise RuntimeError(f"Expected {what} to have value at least 0, but got value "
                           f"{int(arr.min())} (while checking arguments for "
                           "ctc_loss_allocate_outputs)")
    if steps is not None and arr.size and arr.max() > steps:
        raise RuntimeError(f"Expected {what} to have value at most {steps}, but got value "
                           f"{int(arr.max())} (while checking arguments for "
                           "ctc_loss_allocate_outputs)")
    return xp.asarray(arr)


def _extended_labels(targets, target_lengths, blank: int, xp):
    """Targets interleaved with blanks ((N, 2S + 1) with S the longest target) and where a
    path may skip the blank before position s (a label differing from the one two back)."""
    batch = target_lengths.shape[0]
    longest = int(target_lengths.max()) if batch else 0
    tl = target_lengths
    cols = xp.arange(longest)[None, :]
    if targets.ndim == 1:
        starts = xp.cumsum(tl) - tl
        if int(tl.sum()) > targets.shape[0]:
            raise RuntimeError(f"Expected tensor to have size {int(tl.sum())} at dimension 0, but "
                               f"got size {targets.shape[0]} for argument #2 'targets' (while "
                               "checking arguments for ctc_loss_allocate_outputs)")
        idx = xp.minimum(starts[:, None] + cols, max(targets.shape[0] - 1, 0))
        labels = targets[idx] if targets.shape[0] else xp.zeros((batch, longest), np.int64)
    else:
        if targets.shape[1] < longest:
            raise RuntimeError(f"Expected tensor to have size at least {longest} at dimension "
                               f"1, but got size {targets.shape[1]} for argument #2 'targets' "
                               "(while checking arguments for ctc_loss_allocate_outputs)")
        labels = targets[:, :longest]
    labels = xp.where(cols < tl[:, None], labels, blank).astype(np.int64)
    ext = xp.full((batch, 2 * longest + 1), blank, dtype=np.int64)
    ext[:, 1::2] = labels
    skip = xp.zeros(ext.shape, dtype=bool)
    skip[:, 2:] = (ext[:, 2:] != blank) & (ext[:, 2:] != ext[:, :-2])
    return ext, skip


def ctc_loss(log_probs: Tensor, targets: Tensor, input_lengths, target_lengths, blank: int = 0,
             reduction: str = "mean", zero_infinity: bool = False) -> Tensor:
    """The Connectionist Temporal Classification loss.

    log_probs: (T, N, C) or unbatched (T, C) log-probabilities; targets: (N, S) padded or
    the concatenation of all targets (1-D); lengths: tensors or sequences of N ints.
    'mean' divides each loss by its target length, then averages over the batch.
    """
    if _autocast.on and (policy := _autocast.policy("ctc_loss", log_probs)):
        return policy(ctc_loss, log_probs, targets, input_lengths, target_lengths, blank,
                      reduction, zero_infinity)
    reduction = _reduction(None, None, reduction)
    batched = log_probs.ndim == 3
    if log_probs.ndim not in (2, 3):
        raise RuntimeError(f"Expected 3-dimensional tensor, but got {log_probs.ndim}-dimensional"
                           " tensor for argument #1 'log_probs' (while checking arguments for "
                           "ctc_loss_allocate_outputs)")
    _require_float("ctc_loss_cpu", log_probs)
    lp = log_probs if batched else log_probs.unsqueeze(1)
    steps, batch, classes = lp.shape
    if not 0 <= blank < classes:
        raise RuntimeError("blank must be in label range")
    xp = backend.of(lp._data)
    tdata = targets._data if isinstance(targets, Tensor) else xp.asarray(targets)
    tdata = tdata.astype(np.int64, copy=False)
    if not batched:
        tdata = tdata.reshape(1, -1)
    il = _lengths(input_lengths, "input_lengths", batch, steps, xp)
    tl = _lengths(target_lengths, "target_lengths", batch, None, xp)
    ext, skip = _extended_labels(tdata, tl, blank, xp)
    nll = CtcLoss.apply(lp, ext, skip, il, tl, zero_infinity)
    if not batched:
        nll = nll.reshape(())
    if reduction == "mean":
        denom = Tensor._make(xp.maximum(tl, 1).astype(nll._data.dtype).reshape(nll.shape))
        return (nll / denom).mean()
    return _reduce(nll, reduction)
