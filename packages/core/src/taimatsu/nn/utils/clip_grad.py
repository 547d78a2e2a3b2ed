"""Gradient clipping: clip_grad_norm_, clip_grad_value_ and their building blocks.

Norms are computed per gradient on the arrays (one BLAS dot for the 2-norm) and combined
once; scaling multiplies each gradient in place. `foreach` is accepted for PyTorch's
signature: every path already works on whole arrays.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from ... import backend
from ..._tensor import Tensor
from ...autograd.grad_mode import no_grad

__all__ = ["clip_grad_norm_", "clip_grad_norm", "clip_grad_value_", "get_total_norm",
           "clip_grads_with_norm_"]


def _as_list(tensors) -> list:
    return [tensors] if isinstance(tensors, Tensor) else list(tensors)


def _array_norm(arr, p: float):
    """The p-norm of every element of `arr` as a 0-d array of arr's dtype."""
    xp = backend.of(arr)
    if arr.size == 0:
        return xp.zeros((), dtype=arr.dtype)
    flat = arr.reshape(-1)
    if p == 2.0:
        if flat.dtype.kind == "c":
            return xp.sqrt(xp.vdot(flat, flat).real).astype(flat.real.dtype)
        if flat.dtype.kind == "f" and flat.dtype.itemsize >= 4:
            return xp.sqrt(xp.dot(flat, flat))
    a = xp.abs(flat)
    if a.dtype.kind != "f" or a.dtype.itemsize < 4:  # half precision: reduce in float32
        a = a.astype(np.float32)
    if p == math.inf:
        out = a.max()
    elif p == -math.inf:
        out = a.min()
    elif p == 0:
        out = (a != 0).sum().astype(a.dtype)
    elif p == 1:
        out = a.sum()
    else:
        out = (a ** p).sum() ** (1.0 / p)
    return xp.asarray(out).astype(xp.abs(flat[:1]).dtype)


def get_total_norm(tensors, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                   foreach: bool | None = None) -> Tensor:
    """The norm of the norms of `tensors` (as if all were concatenated into one vector)."""
    tensors = [t for t in _as_list(tensors) if t is not None]
    norm_type = float(norm_type)
    if not tensors:
        from ...ops.creation import tensor
        return tensor(0.0)
    first = tensors[0]._data
    xp = backend.of(first)
    with np.errstate(invalid="ignore", over="ignore"):
        norms = [_array_norm(t._data, norm_type) for t in tensors]
    norms = xp.stack([xp.asarray(n) if backend.of(n) is xp else xp.asarray(backend.to_numpy(n))
                      for n in norms])
    with np.errstate(invalid="ignore", over="ignore"):
        total = _array_norm(norms, norm_type)
    total_t = Tensor._make(xp.asarray(total))
    if error_if_nonfinite and not bool(xp.isfinite(total)):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is "
            "non-finite, so it cannot be clipped. To disable this error and scale the gradients "
            "by the non-finite norm anyway, set `error_if_nonfinite=False`")
    return total_t


def clip_grads_with_norm_(parameters, max_norm: float, total_norm: Tensor,
                          foreach: bool | None = None) -> None:
    """Scales gradients in place by min(1, max_norm / (total_norm + 1e-6))."""
    grads = [p._grad for p in _as_list(parameters) if p._grad is not None]
    if not grads:
        return
    # computed in the norm's dtype, as PyTorch's tensor arithmetic does
    coef = float(min(float(max_norm) / (total_norm._data + 1e-6), 1.0))
    # inf * 0 gives nan quietly, as in PyTorch
    with no_grad(), np.errstate(invalid="ignore", over="ignore"):
        for g in grads:
            arr = g._data
            if arr.dtype in _FAST_DTYPES:
                arr *= arr.dtype.type(coef)
                g._vc[0] += 1
            else:
                g.mul_(coef)


_FAST_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:
    """Rescales the gradients of `parameters` so that their total norm is at most max_norm.

    Args:
        parameters: a Tensor or an iterable of Tensors whose .grad is clipped
        max_norm: the largest allowed total norm
        norm_type: p of the p-norm (float('inf') for the max norm)
        error_if_nonfinite: raise when the total norm is nan or inf
    Returns:
        the total norm of the gradients before clipping (a 0-d Tensor)
    """
    parameters = _as_list(parameters)
    grads = [p._grad for p in parameters if p._grad is not None]
    total = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(parameters, max_norm, total, foreach)
    return total


def clip_grad_norm(parameters, max_norm: float, norm_type: float = 2.0,
                   error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:
    """Deprecated alias of clip_grad_norm_."""
    warnings.warn("`torch.nn.utils.clip_grad_norm` is now deprecated in favor of "
                  "`torch.nn.utils.clip_grad_norm_`.", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters, clip_value: float, foreach: bool | None = None) -> None:
    """Clamps every gradient of `parameters` to [-clip_value, clip_value], in place."""
    clip_value = float(clip_value)
    with no_grad():
        for p in _as_list(parameters):
            if p._grad is not None:
                p._grad.clamp_(min=-clip_value, max=clip_value)
