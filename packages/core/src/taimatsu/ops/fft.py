"""Discrete Fourier transforms as differentiable Functions (public API: `taimatsu.fft`).

Three kinds, as in torch: complex-to-complex (FftC2C), real-to-complex one-sided
(FftR2C) and complex-to-real from a one-sided spectrum (FftC2R). Each transforms over
`axes` after cropping or zero-padding them to the sizes `s`. The gradient of a transform
is its adjoint: the opposite-direction transform with the dual normalization, then the
crop/pad undone.
"""

from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd.node import Function

__all__: list[str] = []

_DUAL_NORM = {"backward": "forward", "forward": "backward", "ortho": "ortho"}


def _complex_of(np_dtype):
    return np.result_type(np_dtype, np.complex64)


def _real_of(np_dtype):
    return np.finfo(np_dtype).dtype


def _resize(xp, x, axes, sizes):
    """Crops or zero-pads each of `axes` of `x` to the given size (array or Tensor)."""
    for axis, n in zip(axes, sizes):
        have = x.shape[axis]
        if have == n:
            continue
        x = xp.moveaxis(x, axis, -1)
        if have > n:
            x = x[..., :n]
        else:
            pad = xp.zeros(tuple(x.shape[:-1]) + (n - have,), dtype=x.dtype)
            x = xp.concatenate([x, pad], axis=-1)
        x = xp.moveaxis(x, -1, axis)
    return x


def _input_sizes(shape, axes):
    return tuple(shape[a] for a in axes)


class FftC2C(Function):
    """fftn (inverse=False) or ifftn over `axes`, with output sizes `s`."""

    @staticmethod
    def forward(ctx, a, s, axes, norm, inverse=False, name=None):
        xp = backend.of(a)
        if ctx.needs_input_grad:
            ctx.meta = (_input_sizes(a.shape, axes), s, axes, norm, inverse, a.dtype.kind)
            if name:
                ctx.mark_name(name)
        fn = xp.fft.ifftn if inverse else xp.fft.fftn
        return fn(a, s, axes, norm).astype(_complex_of(a.dtype), copy=False)

    @staticmethod
    def backward(ctx, grad):
        xp = ctx.xp
        in_sizes, s, axes, norm, inverse, kind = ctx.meta
        fn = xp.fft.fftn if inverse else xp.fft.ifftn
        g = _resize(xp, fn(grad, s, axes, _DUAL_NORM[norm]), axes, in_sizes)
        return xp.real(g) if kind != "c" else g


class FftR2C(Function):
    """rfftn of a real input over `axes`: the last one keeps s[-1] // 2 + 1 bins."""

    @staticmethod
    def forward(ctx, a, s, axes, norm):
        xp = backend.of(a)
        if ctx.needs_input_grad:
            ctx.meta = (_input_sizes(a.shape, axes), s, axes, norm)
        return xp.fft.rfftn(a, s, axes, norm).astype(_complex_of(a.dtype), copy=False)

    @staticmethod
    def backward(ctx, grad):
        xp = ctx.xp
        in_sizes, s, axes, norm = ctx.meta
        # the dropped half of the spectrum had no gradient: pad it with zeros, then adjoint
        full = _resize(xp, grad, axes[-1:], s[-1:])
        g = xp.real(xp.fft.ifftn(full, s, axes, _DUAL_NORM[norm]))
        return _resize(xp, g, axes, in_sizes)


class FftC2R(Function):
    """irfftn of a one-sided spectrum over `axes` to a real output of sizes `s`."""

    @staticmethod
    def forward(ctx, a, s, axes, norm):
        xp = backend.of(a)
        if ctx.needs_input_grad:
            ctx.meta = (_input_sizes(a.shape, axes), s, axes, norm)
        return xp.fft.irfftn(a, s, axes, norm).astype(_real_of(a.dtype), copy=False)

    @staticmethod
    def backward(ctx, grad):
        xp = ctx.xp
        in_sizes, s, axes, norm = ctx.meta
        g = xp.fft.rfftn(grad, s, axes, _DUAL_NORM[norm])
        # Bins whose mirror image lies outside the one-sided half stood for two entries of
        # the full spectrum: their gradient counts twice (bins 1 .. n - (n // 2 + 1)).
        n = s[-1]
        last = xp.moveaxis(g, axes[-1], -1)
        doubled = n - (n // 2 + 1)
        if doubled > 0:
            last = xp.concatenate([last[..., :1], 2 * last[..., 1:doubled + 1],
                                   last[..., doubled + 1:]], axis=-1)
        g = xp.moveaxis(last, -1, axes[-1])
        return _resize(xp, g, axes, in_sizes)


class FftShift(Function):
    """fftshift (inverse=False) or ifftshift over `axes`; the gradient shifts back."""

    _backward_name = "RollBackward0"

    @staticmethod
    def forward(ctx, a, axes, inverse=False):
        ctx.meta = (axes, inverse)
        xp = backend.of(a)
        return (xp.fft.ifftshift if inverse else xp.fft.fftshift)(a, axes)

    @staticmethod
    def backward(ctx, grad):
        axes, inverse = ctx.meta
        xp = ctx.xp
        return (xp.fft.fftshift if inverse else xp.fft.ifftshift)(grad, axes)
