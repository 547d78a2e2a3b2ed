"""F.pad: constant, reflect, replicate and circular padding (negative pads crop).

Constant padding is one slice copy into a filled array. The other modes map every output
position of a padded dim to an input position (an index array per dim): the forward is
one `take` per dim and the backward adds gradient runs back, one slice per run of
consecutive indices (a handful per dim), never per element.
"""

from __future__ import annotations

import functools

import numpy as np

from ... import backend
from ..._tensor import Tensor
from ...autograd.node import Function

__all__ = ["pad"]

_MODES = ("constant", "reflect", "replicate", "circular")
_BACKWARD_NAMES = {"reflect": "ReflectionPad{}DBackward0",
                   "replicate": "ReplicationPad{}DBackward0", "circular": "CopySlices"}


# -- constant -------------------------------------------------------------------------------

def _constant_slices(shape, pads):
    """(output shape, output slice, input slice) for per-dim (lo, hi) pads, any sign."""
    out_shape, dst, src = [], [], []
    for n, (lo, hi) in zip(shape, pads):
        out_shape.append(n + lo + hi)
        dst.append(slice(max(lo, 0), max(lo, 0) + max(0, n + min(lo, 0) + min(hi, 0))))
        src.append(slice(max(-lo, 0), max(-lo, 0) + max(0, n + min(lo, 0) + min(hi, 0))))
    return tuple(out_shape), tuple(dst), tuple(src)


def _constant_pad(x, pads, value):
    xp = backend.of(x)
    out_shape, dst, src = _constant_slices(x.shape, pads)
    out = xp.full(out_shape, value, dtype=x.dtype) if value != 0 else xp.zeros(
        out_shape, dtype=x.dtype)
    out[dst] = x[src]
    return out


class _ConstantPad(Function):
    _backward_name = "ConstantPadNdBackward0"

    @staticmethod
    def forward(ctx, x, pads, value):
        ctx.pads = pads
        return _constant_pad(x, pads, value)

    @staticmethod
    def backward(ctx, g):
        # The adjoint of padding is cropping: pad by the negated amounts.
        neg = tuple((-lo, -hi) for lo, hi in ctx.pads)
        if isinstance(g, Tensor):
            return _ConstantPad.apply(g, neg, 0)
        return _constant_pad(g, neg, 0)


# -- reflect / replicate / circular --------------------------------------------------------

@functools.lru_cache(maxsize=1024)
def _index_map(n: int, lo: int, hi: int, mode: str):
    """Input position of every output position along one dim, and its runs
    (out_start, out_stop, in_start, step) with step in {-1, 0, 1}."""
    j = np.arange(n + lo + hi)
    if mode == "circular":
        # torch crops negative pads first, then wraps around the cropped range
        start, stop = max(0, -lo), n - max(0, -hi)
        idx = start + (j - max(lo, 0)) % (stop - start)
    else:
        i = j - lo
        if mode == "reflect":
            i = np.abs(i)
            i = np.where(i >= n, 2 * (n - 1) - i, i)
        idx = np.clip(i, 0, n - 1)
    runs = []
    begin = 0
    while begin < len(idx):
        step = int(idx[begin + 1] - idx[begin]) if begin + 1 < len(idx) else 1
        if step not in (-1, 0, 1):
            step = 1
        end = begin + 1
        while end < len(idx) and idx[end] - idx[end - 1] == step:
            end += 1
        runs.append((begin, end, int(idx[begin]), step))
        begin = end
    return idx, tuple(runs)


def _take_pad(x, plan):
    xp = backend.of(x)
    for axis, n, lo, hi, mode in plan:
        idx, _ = _index_map(n, lo, hi, mode)
        x = xp.take(x, xp.asarray(idx), axis=axis)
    return x


def _take_pad_adjoint(g, plan):
    """Sums each output gradient into the input position it was read from."""
    xp = backend.of(g)
    for axis, n, lo, hi, mode in reversed(plan):
        _, runs = _index_map(n, lo, hi, mode)
        shape = list(g.shape)
        shape[axis] = n
        out = xp.zeros(shape, dtype=g.dtype)
        head = (slice(None),) * axis
        for begin, end, first, step in runs:
            part = g[head + (slice(begin, end),)]
            if step == 0:
                out[head + (slice(first, first + 1),)] += part.sum(axis=axis, keepdims=True)
            elif step == 1:
                out[head + (slice(first, first + end - begin),)] += part
            else:
                last = first - (end - begin)
                out[head + (slice(first, last if last >= 0 else None, -1),)] += part
        g = out
    return g


class _TakePad(Function):
    @staticmethod
    def forward(ctx, x, plan, name):
        ctx.plan = plan
        ctx.mark_name(name)
        return _take_pad(x, plan)

    @staticmethod
    def backward(ctx, g):
        if isinstance(g, Tensor):
            return _TakePadAdjoint.apply(g, ctx.plan)
        return _take_pad_adjoint(g, ctx.plan)


class _TakePadAdjoint(Function):
    @staticmethod
    def forward(ctx, g, plan):
        ctx.plan = plan
        return _take_pad_adjoint(g, plan)

    @staticmethod
    def backward(ctx, gg):
        if isinstance(gg, Tensor):
            return _TakePad.apply(gg, ctx.plan, "ReflectionPadBackwardBackward0")
        return _take_pad(gg, ctx.plan)


# -- the public function ---------------------------------------------------------------------

def _dims_str(shape) -> str:
    return "[" + ", ".join(str(s) for s in shape) + "]"


def _check_nonconstant(input, npad: int, mode: str):
    nd = input.ndim
    dims = npad // 2
    if npad not in (2, 4, 6) or nd not in (dims + 1, dims + 2):
        raise NotImplementedError(
            f"Padding size {npad} is not supported for {nd}D input tensor.\n"
            "Supported combinations for non-constant padding:\n"
            "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
            "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
            "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")
    shape = tuple(input.shape)
    first = nd - dims
    if mode != "circular" and (any(s == 0 for s in shape[1:first]) or any(
            s == 0 for s in shape[first:])):
        raise RuntimeError(f"Expected {dims + 1}D or {dims + 2}D (batch mode) tensor with "
                           "possibly 0 batch size and other non-zero dimensions for input, "
                           f"but got: {_dims_str(shape)}")


def pad(input, pad, mode: str = "constant", value=None) -> Tensor:
    """Pads the last len(pad) // 2 dims of input; pad = (left, right, top, bottom, ...)
    from the last dim backwards. Negative pads crop."""
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pad) // 2 > input.ndim:
        raise RuntimeError("Padding length should be less than or equal to two times the "
                           f"input dimension but got padding length {len(pad)} and input of "
                           f"dimension {input.ndim}")
    if mode not in _MODES:
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    nd = input.ndim
    per_dim = [(pad[2 * i], pad[2 * i + 1]) for i in range(len(pad) // 2)]  # last dim first
    if mode == "constant":
        shape = tuple(input.shape)
        pads = [(0, 0)] * nd
        for i, (lo, hi) in enumerate(per_dim):
            d = nd - 1 - i
            if shape[d] + min(lo, 0) + min(hi, 0) < 0:  # PyTorch crops before padding
                raise RuntimeError("narrow(): length must be non-negative.")
            pads[d] = (lo, hi)
        return _ConstantPad.apply(input, tuple(pads), 0 if value is None else value)
    if value is not None and value != 0:
        raise RuntimeError(f"Padding mode \"{mode}\" doesn't take in value argument")
    _check_nonconstant(input, len(pad), mode)
    dims = len(pad) // 2
    if mode == "circular" and any(input.shape[input.ndim - 1 - i] + min(lo, 0) + min(hi, 0)
                                  <= 0 for i, (lo, hi) in enumerate(per_dim)):
        raise RuntimeError("Negative padding value is resulting in an empty dimension")
    plan = []
    for i, (lo, hi) in enumerate(per_dim):
        axis = nd - 1 - i
        n = input.shape[axis]
        _check_pad_size(input, axis, n, lo, hi, mode, i)
        if lo or hi:
            plan.append((axis, n, lo, hi, mode))
    _check_out_shape(input, per_dim)
    name = _BACKWARD_NAMES[mode].format(dims)
    return _TakePad.apply(input, tuple(plan), name)


def _check_pad_size(input, axis, n, lo, hi, mode, pair):
    if mode == "reflect" and (lo >= n or hi >= n):
        raise RuntimeError(f"Argument #{4 + 2 * pair}: Padding size should be less than the "
                           "corresponding input dimension, but got: padding "
                           f"({lo}, {hi}) at dimension {axis} of input "
                           f"{_dims_str(input.shape)}")
    if mode == "circular":
        kept = n + min(lo, 0) + min(hi, 0)
        if lo > kept or hi > kept:
            raise RuntimeError("Padding value causes wrapping around more than once.")


def _check_out_shape(input, per_dim):
    shape = list(input.shape)
    for i, (lo, hi) in enumerate(per_dim):
        shape[len(shape) - 1 - i] += lo + hi
    bad = [s for s in shape if s < 0]
    if bad:
        raise RuntimeError(f"Trying to create tensor with negative dimension {bad[0]}: "
                           f"{_dims_str(shape)}")
