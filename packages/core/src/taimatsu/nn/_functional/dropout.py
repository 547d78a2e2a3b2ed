"""Dropout: dropout, dropout1d/2d/3d (whole channels), alpha_dropout, feature_alpha_dropout.

Masks come from taimatsu's default generator (ops/random.py), so taimatsu.manual_seed makes
them reproducible. As in torch on the CPU, the result is input * noise (plus a shift for
the alpha variants): the gradient is grad * noise, zero where an element was dropped.

On CUDA the mask comes from our Philox kernels (backend/cuda/random.py, kernels/dropout.cu)
and the device's Philox state, and plain dropout is one fused kernel, as torch's
native_dropout; the gradient is then grad * mask * scale in one kernel.
"""

from __future__ import annotations

import math
import warnings

from ..._dtype import float32
from ..._tensor import Tensor
from ...autograd.node import Function
from ...backend.cuda import dtype_suffix, use_kernels
from ...backend.cuda import random as _cuda_random
from ...ops.inplace import apply_inplace
from ...ops.random import rand

__all__ = ["dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout",
           "feature_alpha_dropout"]

# SELU's negative saturation value: dropped units of alpha dropout are set to -alpha*scale.
_SELU_ALPHA = 1.7580993408473766


class _Noise(Function):
    """input * scale (+ shift): scale and shift are arrays broadcasting to input (the
    noise), or scale is 0.0 (p == 1)."""

    _backward_name = "MulBackward0"

    @staticmethod
    def forward(ctx, x, scale, shift):
        if ctx.needs_input_grad:
            if isinstance(scale, float):
                ctx.zero = True
            else:
                ctx.save_for_backward(scale)
            if shift is not None:
                ctx.mark_name("AddBackward0")
        out = x * scale
        if shift is not None:
            out += shift
        return out

    @staticmethod
    def backward(ctx, grad):
        if getattr(ctx, "zero", False):
            return grad * 0.0
        (scale,) = ctx.saved_arrays
        return grad * scale


class _KernelNoise(Function):
    """The CUDA path of _Noise: the mask (bool, the noise's shape) is drawn by our Philox
    kernels and applied with scale (and shift, for alpha dropout) in float arithmetic."""

    @staticmethod
    def forward(ctx, x, *, p, shape, feature, alpha):
        keep = 1.0 - p
        if not (feature or alpha):
            scale = 1.0 / keep
            out, mask = _cuda_random.dropout(x, p)
        elif alpha:
            scale = 1.0 / math.sqrt((_SELU_ALPHA * _SELU_ALPHA * p + 1) * keep)
            mask = _cuda_random.bernoulli_mask(x, shape, keep)
            # kept: x * a + alpha * a * p; dropped: alpha * a * (p - 1), as _apply_noise's
            out = _cuda_random.masked_scale(x, mask, scale, _SELU_ALPHA * scale * p,
                                            _SELU_ALPHA * scale * (p - 1))
        else:
            scale = 1.0 / keep
            mask = _cuda_random.bernoulli_mask(x, shape, keep)
            out = _cuda_random.masked_scale(x, mask, scale)
        if ctx.needs_input_grad:
            ctx.scale = scale
            ctx.save_for_backward(mask)
            # torch's node names on CUDA: the fused op for dropout, composed math otherwise
            ctx.mark_name("AddBackward0" if alpha else
                          "MulBackward0" if feature else "NativeDropoutBackward0")
        return out

    @staticmethod
    def backward(ctx, grad):
        (mask,) = ctx.saved_arrays
        if isinstance(grad, Tensor):  # create_graph: differentiable ops, as _Noise
            if not isinstance(mask, Tensor):
                mask = Tensor._make(mask)
            return grad * (ctx.xp.astype(mask, grad.dtype) * ctx.scale)
        return _cuda_random.masked_scale(grad, mask, ctx.scale)


def _check_p(p: float) -> None:
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _noise_shape(input: Tensor, feature: bool, batched: bool) -> tuple:
    """One draw per element, or per channel of each sample for the feature variants
    ((N, C, *) batched, (C, *) unbatched)."""
    if not feature:
        return tuple(input.shape)
    if input.ndim < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    lead = 2 if batched else 1
    return tuple(input.shape[:lead]) + (1,) * (input.ndim - lead)


def _apply_noise(input: Tensor, p: float, training: bool, inplace: bool, *,
                 feature: bool = False, alpha: bool = False, batched: bool = True) -> Tensor:
    """torch's dropout kernel on the CPU: the noise is Bernoulli(1 - p) divided by 1 - p
    (dropout) or affinely mapped so that SELU's mean and variance survive (alpha)."""
    if p == 0 or not training or input.numel() == 0:
        return input
    scale, shift = 0.0, None
    if p < 1:
        shape = _noise_shape(input, feature, batched)
        if use_kernels(input._data) and dtype_suffix(input._data.dtype) is not None:
            result = _KernelNoise.apply(input, p=p, shape=shape, feature=feature, alpha=alpha)
            return apply_inplace(input, result) if inplace else result
        keep = rand(shape, dtype=float32, device=input.device)._data < (1.0 - p)
        scale = keep.astype(input._data.dtype)
        if alpha:
            a = 1.0 / math.sqrt((_SELU_ALPHA * _SELU_ALPHA * p + 1) * (1 - p))
            # dropped units land on -alpha * a; the constant alpha * a * p restores the mean
            shift = (scale - 1) * (_SELU_ALPHA * a) + _SELU_ALPHA * a * p
            scale *= a
        else:
            scale *= 1.0 / (1.0 - p)
    result = _Noise.apply(input, scale, shift)
    return apply_inplace(input, result) if inplace else result


def dropout(input: Tensor, p: float = 0.5, training: bool = True,
            inplace: bool = False) -> Tensor:
    """Zeroes each element with probability p and scales the rest by 1 / (1 - p)."""
    _check_p(p)
    return _apply_noise(input, p, training, inplace)


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                  inplace: bool = False) -> Tensor:
    """Dropout for SELU networks: keeps zero mean and unit variance."""
    _check_p(p)
    return _apply_noise(input, p, training, inplace, alpha=True)


def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                          inplace: bool = False) -> Tensor:
    """alpha_dropout of whole channels (dim 1 of (N, C, *))."""
    _check_p(p)
    return _apply_noise(input, p, training, inplace, feature=True, alpha=True)


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Zeroes whole channels of (N, C, L) or (C, L) inputs with probability p."""
    _check_p(p)
    if input.ndim not in (2, 3):
        raise RuntimeError(
            f"dropout1d: Expected 2D or 3D input, but received a {input.ndim}D input. Note "
            "that dropout1d exists to provide channel-wise dropout on inputs with 1 spatial "
            "dimension, a channel dimension, and an optional batch dimension (i.e. 2D or 3D "
            "inputs).")
    return _apply_noise(input, p, training, inplace, feature=True, batched=input.ndim == 3)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Zeroes whole channels of (N, C, H, W) inputs with probability p.

    As torch, a 3D input is taken as (N, C, L) (with a warning), not as unbatched.
    """
    _check_p(p)
    if input.ndim not in (3, 4):
        warnings.warn(
            f"dropout2d: Received a {input.ndim}-D input to dropout2d, which is deprecated and "
            "will result in an error in a future release. To retain the behavior and silence "
            "this warning, please use dropout instead. Note that dropout2d exists to provide "
            "channel-wise dropout on inputs with 2 spatial dimensions, a channel dimension, "
            "and an optional batch dimension (i.e. 3D or 4D inputs).", stacklevel=2)
    if input.ndim == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D "
            "dropout behavior is desired - input is interpreted as shape (N, C, L), where C "
            "is the channel dim. This behavior will change in a future release to interpret "
            "the input as one without a batch dimension, i.e. shape (C, H, W). To maintain "
            "the 1D channel-wise dropout behavior, please switch to using dropout1d instead.",
            stacklevel=2)
    return _apply_noise(input, p, training, inplace, feature=True)


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Zeroes whole channels of (N, C, D, H, W) or (C, D, H, W) inputs with probability p."""
    _check_p(p)
    if input.ndim not in (4, 5):
        warnings.warn(
            f"dropout3d: Received a {input.ndim}-D input to dropout3d, which is deprecated and "
            "will result in an error in a future release. To retain the behavior and silence "
            "this warning, please use dropout instead. Note that dropout3d exists to provide "
            "channel-wise dropout on inputs with 3 spatial dimensions, a channel dimension, "
            "and an optional batch dimension (i.e. 4D or 5D inputs).", stacklevel=2)
    return _apply_noise(input, p, training, inplace, feature=True, batched=input.ndim == 5)
