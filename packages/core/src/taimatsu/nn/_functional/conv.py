"""Convolutions: conv1d/2d/3d and conv_transpose1d/2d/3d.

Every convolution is three bilinear kernels over one geometry (a `_Plan`):

    forward  y  = conv(x, w)           im2col, then one GEMM per chunk of images
    data     gx = conv^T(gy, w)        GEMM, then col2im by one strided add per kernel offset
    weight   gw = corr(x, gy)          im2col, then one GEMM per chunk

conv's gradients are (data, weight), conv_transpose is `data` with gradients (forward,
weight), and the weight kernel's gradients are (data, forward); so three Functions whose
backward calls the other two cover every order of differentiation.

Layout: the input is copied once into a zero-padded flat buffer (N, C, *padded). The
window of kernel offset k over all output positions is then a strided *view* of that
buffer. With unit strides the views walk the padded row pitch: each window is one
contiguous run per channel (outputs in the pitch columns past the valid width are
computed and dropped when the result is cropped), so im2col is a memcpy and col2im adds
whole runs, never pixels.

On CUDA the same three kernels run through taimatsu.backend.cuda.conv instead: our own
im2col/col2im kernels around cuBLAS GEMMs, in the input's dtype (the Winograd path and
the half-to-float32 casts are for NumPy only).
"""

from __future__ import annotations

import functools
import math

import numpy as np

from ... import backend
from ..._tensor import Tensor
from ...amp._state import hook as _autocast
from ...autograd.node import Function
from ...backend.cuda import conv as _cuda
from ...backend.cuda import use_kernels
from ...ops.inplace import _legacy
from . import _winograd

__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
           "conv_transpose3d"]

# Bytes of im2col columns built per GEMM: big enough for efficient GEMMs, small enough to
# stay in cache while they are consumed.
_CHUNK_BYTES = 3 << 20


class _Plan:
    """The geometry of one convolution (see the module docstring); hashable and cached."""

    def __init__(self, batch, in_ch, spatial, out_ch, kernel, stride, lo, hi, dilation,
                 groups, out=None):
        self.batch, self.in_ch, self.out_ch, self.groups = batch, in_ch, out_ch, groups
        self.spatial, self.kernel, self.stride = spatial, kernel, stride
        self.lo, self.hi, self.dilation = lo, hi, dilation
        self.padded = tuple(s + a + b for s, a, b in zip(spatial, lo, hi))
        if out is None:
            out = tuple((p - d * (k - 1) - 1) // s + 1
                        for p, k, s, d in zip(self.padded, kernel, stride, dilation))
        self.out = out
        pitch = [1] * len(spatial)  # element strides of the padded grid
        for i in range(len(spatial) - 2, -1, -1):
            pitch[i] = pitch[i + 1] * self.padded[i + 1]
        self.plane = pitch[0] * self.padded[0]
        self.kstrides = tuple(d * p for d, p in zip(dilation, pitch))
        # Unit strides: outputs on the padded pitch (contiguous windows, cropped later).
        self.unit_stride = all(s == 1 for s in stride)
        self.pitched = self.unit_stride and len(spatial) > 1
        if self.pitched:
            self.grid = (out[0],) + self.padded[1:]
            self.gstrides = tuple(pitch)
        else:
            self.grid = out
            self.gstrides = tuple(s * p for s, p in zip(stride, pitch))
        self.glen = math.prod(self.grid)
        last = sum((k - 1) * ks for k, ks in zip(kernel, self.kstrides)) + sum(
            (g - 1) * gs for g, gs in zip(self.grid, self.gstrides))
        self.slack = max(0, last + 1 - self.plane)  # read past the last plane
        self.offsets = [sum(i * ks for i, ks in zip(idx, self.kstrides))
                        for idx in np.ndindex(*kernel)]
        self.ksize = math.prod(kernel)
        self.cg, self.og = in_ch // groups, out_ch // groups
        self.width = self.cg * self.ksize  # GEMM depth per group

    def chunk(self, itemsize: int) -> int:
        """Images per im2col chunk."""
        per_image = self.in_ch * self.ksize * self.glen * itemsize
        return max(1, min(self.batch, _CHUNK_BYTES // max(per_image, 1)))

    def interior(self):
        """Index of the unpadded input inside (N, C, *padded)."""
        return (slice(None), slice(None)) + tuple(
            slice(a, a + s) for a, s in zip(self.lo, self.spatial))

    def valid(self):
        """Index of the valid outputs inside (N, O, *grid)."""
        return (slice(None), slice(None)) + tuple(slice(0, o) for o in self.out)


@functools.lru_cache(maxsize=512)
def _plan(*args) -> _Plan:
    return _Plan(*args)


# -- the three kernels on arrays ---------------------------------------------------------

def _padded_flat(x, plan: _Plan):
    """x (N, C, *spatial) in a flat zero-padded buffer with the slack windows read past."""
    xp = backend.of(x)
    n, c = x.shape[:2]
    size = n * c * plan.plane
    if (plan.slack == 0 and plan.padded == plan.spatial and x.flags.c_contiguous):
        return x.reshape(-1)
    flat = xp.zeros(size + plan.slack, dtype=x.dtype)
    flat[:size].reshape((n, c) + plan.padded)[plan.interior()] = x
    return flat


def _strided(xp, flat, start, shape, strides):
    item = flat.itemsize
    return xp.lib.stride_tricks.as_strided(flat[start:], shape=shape,
                                           strides=tuple(s * item for s in strides))


def _windows(xp, flat, plan: _Plan, n0: int, m: int):
    """View (C, *kernel, m, *grid) of the windows of images n0..n0+m: the im2col columns
    in the order a chunk's GEMM reads them."""
    c = plan.in_ch
    shape = (c,) + plan.kernel + (m,) + plan.grid
    strides = (plan.plane,) + plan.kstrides + (c * plan.plane,) + plan.gstrides
    return _strided(xp, flat, n0 * c * plan.plane, shape, strides)


def _im2col(xp, flat, plan: _Plan, cols, n0: int, m: int):
    """Fills cols (groups, width, m * glen) with the windows of images n0..n0+m."""
    cols.reshape((plan.in_ch,) + plan.kernel + (m,) + plan.grid)[...] = _windows(
        xp, flat, plan, n0, m)


def _to_grid(g, plan: _Plan):
    """An output-shaped array (N, O, *out) in the GEMMs' layout (O, N * glen): channels
    first, images side by side, zeros in the pitch columns."""
    xp = backend.of(g)
    n, o = g.shape[:2]
    buf = (xp.empty if plan.grid == plan.out else xp.zeros)((o, n) + plan.grid, dtype=g.dtype)
    buf[(slice(None), slice(None)) + plan.valid()[2:]] = g.swapaxes(0, 1)
    return buf.reshape(o, n * plan.glen)


def _from_grid(y, plan: _Plan, bias):
    """(O, N * glen) back to (N, O, *out), cropped, plus the bias, in one copy."""
    xp = backend.of(y)
    o = y.shape[0]
    n = y.shape[1] // plan.glen
    y = y.reshape((o, n) + plan.grid)[(slice(None), slice(None)) + plan.valid()[2:]]
    out = xp.empty((n, o) + plan.out, dtype=y.dtype)
    if bias is None:
        out[...] = y.swapaxes(0, 1)
    else:
        xp.add(y.swapaxes(0, 1), bias.reshape((o,) + (1,) * len(plan.out)), out=out)
    return out


def _chunks(plan: _Plan, xp, dtype):
    """(n0, m, cols buffer for m images) per chunk of images."""
    nb = plan.chunk(np.dtype(dtype).itemsize)
    buf = xp.empty(plan.groups * plan.width * nb * plan.glen, dtype=dtype)
    for n0 in range(0, plan.batch, nb):
        m = min(nb, plan.batch - n0)
        yield n0, m, buf[:plan.groups * plan.width * m * plan.glen].reshape(
            plan.groups, plan.width, m * plan.glen)


def _columns(a, plan: _Plan, n0: int, m: int):
    """Images n0..n0+m of a (channels, N * glen) array, as (groups, channels/group, m*glen)."""
    part = a[:, n0 * plan.glen:(n0 + m) * plan.glen]
    return part.reshape(plan.groups, a.shape[0] // plan.groups, m * plan.glen)


def _forward_kernel(flat, w, plan: _Plan, dtype, g_grid=None):
    """y = conv(x, w) as (O, N * glen); with g_grid also returns corr(x, g_grid)."""
    xp = backend.of(flat)
    w2 = w.reshape(plan.groups, plan.og, plan.width)
    y = xp.empty((plan.out_ch, plan.batch * plan.glen), dtype=dtype)
    gw = None if g_grid is None else xp.zeros((plan.groups, plan.og, plan.width), dtype=dtype)
    for n0, m, cols in _chunks(plan, xp, dtype):
        _im2col(xp, flat, plan, cols, n0, m)
        xp.matmul(w2, cols, out=_columns(y, plan, n0, m))
        if gw is not None:
            gw += xp.matmul(_columns(g_grid, plan, n0, m), cols.swapaxes(1, 2))
    return y if gw is None else (y, gw)


def _weight_kernel(flat, g_grid, plan: _Plan, dtype):
    """gw = corr(x, g) as (groups, og, width)."""
    xp = backend.of(flat)
    gw = xp.zeros((plan.groups, plan.og, plan.width), dtype=dtype)
    for n0, m, cols in _chunks(plan, xp, dtype):
        _im2col(xp, flat, plan, cols, n0, m)
        gw += xp.matmul(_columns(g_grid, plan, n0, m), cols.swapaxes(1, 2))
    return gw


def _data_kernel(g, w, plan: _Plan, dtype):
    """gx = conv^T(g, w): (N, O, *out) -> (N, C, *spatial)."""
    if plan.unit_stride:
        return _gather_data(g, w, plan, dtype)
    return _scatter_data(_to_grid(g, plan), w, plan, dtype)


def _gather_data(g, w, plan: _Plan, dtype):
    """Unit strides: conv^T is a conv of g with the flipped, transposed kernel (the gather
    form: one GEMM of depth og * ksize, no scatter)."""
    xp = backend.of(g)
    tplan, crop = _transposed_plan(plan)
    if crop is not None:
        if tplan is None:  # every output lies in the padding: nothing reaches the input
            return xp.zeros((plan.batch, plan.in_ch) + plan.spatial, dtype=dtype)
        g = g[crop]
    kernel = (slice(None, None, -1),) * len(plan.kernel)
    wt = w.reshape((plan.groups, plan.og, plan.cg) + plan.kernel)[
        (slice(None),) * 3 + kernel].swapaxes(1, 2)
    wt = xp.ascontiguousarray(wt).reshape((plan.in_ch, plan.og) + plan.kernel)
    if _winograd.applies(tplan, g):
        return _winograd.conv3x3(g, wt, None, tplan.lo, tplan.out)
    return _from_grid(_forward_kernel(_padded_flat(g, tplan), wt, tplan, dtype), tplan, None)


@functools.lru_cache(maxsize=512)
def _transposed_plan(plan: _Plan):
    """The unit-stride conv that computes conv^T for `plan`, and the crop of g it needs
    (padding wider than the kernel's reach shows up as negative padding here)."""
    lo, hi, crop = [], [], []
    for s, o, k, d, a in zip(plan.spatial, plan.out, plan.kernel, plan.dilation, plan.lo):
        reach = d * (k - 1)
        left = reach - a
        right = s - o - left + reach
        cut_lo, cut_hi = max(0, -left), max(0, -right)
        lo.append(max(0, left))
        hi.append(max(0, right))
        crop.append(slice(cut_lo, o - cut_hi))
    spatial = tuple(c.stop - c.start for c in crop)
    has_crop = any(c.start or c.stop != o for c, o in zip(crop, plan.out))
    index = (slice(None), slice(None)) + tuple(crop) if has_crop else None
    if any(s <= 0 for s in spatial):
        return None, index
    tplan = _plan(plan.batch, plan.out_ch, spatial, plan.in_ch, plan.kernel, plan.stride,
                  tuple(lo), tuple(hi), plan.dilation, plan.groups)
    return tplan, index


def _scatter_data(g_grid, w, plan: _Plan, dtype):
    """Strided conv^T: GEMM into columns, then col2im by one strided add per kernel
    offset (whole chunks at a time, never per pixel)."""
    xp = backend.of(g_grid)
    w2t = w.reshape(plan.groups, plan.og, plan.width).swapaxes(1, 2)
    size = plan.batch * plan.in_ch * plan.plane
    gflat = xp.zeros(size + plan.slack, dtype=dtype)
    c = plan.in_ch
    head = (slice(None),)
    for n0, m, cols in _chunks(plan, xp, dtype):
        xp.matmul(w2t, _columns(g_grid, plan, n0, m), out=cols)
        cols_nd = cols.reshape((c,) + plan.kernel + (m,) + plan.grid)
        shape = (c, m) + plan.grid
        strides = (plan.plane, c * plan.plane) + plan.gstrides
        base = n0 * c * plan.plane
        for idx, off in zip(np.ndindex(*plan.kernel), plan.offsets):
            target = _strided(xp, gflat, base + off, shape, strides)
            target += cols_nd[head + idx]
    gx = gflat[:size].reshape((plan.batch, c) + plan.padded)
    return xp.ascontiguousarray(gx[plan.interior()])


def _compute_dtype(dtype):
    """Half-precision types compute in float32 (NumPy has no fast GEMM for them)."""
    return np.dtype(np.float32) if dtype.itemsize < 4 else dtype


def _weight_shape(gw, plan: _Plan):
    return gw.reshape((plan.out_ch, plan.cg) + plan.kernel)


def _bias_grad(xp, g, nd):
    return xp.sum(g, axis=(0,) + tuple(range(2, 2 + nd)))


def _on_kernels(a) -> bool:
    """Whether `a` takes the CUDA im2col/col2im path (CuPy arrays, or NumPy ones while the
    kernel emulator runs) instead of the padded-buffer path above."""
    return use_kernels(a) and _cuda.supports(a)


def _geometry(plan: _Plan):
    return _cuda.geometry(plan.spatial, plan.out, plan.kernel, plan.stride, plan.lo,
                          plan.dilation)


# -- Functions ---------------------------------------------------------------------------

class _Conv(Function):
    """y = conv(x, w) + b."""

    _backward_name = "ConvolutionBackward0"

    @staticmethod
    def forward(ctx, x, w, b, plan):
        need = ctx.needs_input_grad
        if _on_kernels(x):  # CUDA: im2col + cuBLAS in x's own dtype; backward follows
            y = _cuda.conv_forward(x, w, b, _geometry(plan), plan.groups)
            if need:
                ctx.plan = plan
                ctx.save_for_backward(x if need[1] else None, w if need[0] else None, None)
            return y
        dtype = x.dtype
        cd = _compute_dtype(dtype)
        xc, wc = x.astype(cd, copy=False), w.astype(cd, copy=False)
        bc = None if b is None else b.astype(cd, copy=False)
        if _winograd.applies(plan, xc):
            y = _winograd.conv3x3(xc, wc, bc, plan.lo, plan.out)
            flat = None  # the weight gradient takes the Winograd path too, from x
        else:
            flat = _padded_flat(xc, plan)
            y = _from_grid(_forward_kernel(flat, wc, plan, cd), plan, bc)
        if need:
            ctx.plan = plan
            ctx.save_for_backward(x if need[1] else None, w if need[0] else None,
                                  flat if need[1] else None)
        return y.astype(dtype, copy=False)

    @staticmethod
    def backward(ctx, gy):
        x, w, flat = ctx.saved_arrays
        plan = ctx.plan
        need = ctx.needs_input_grad
        gb = _bias_grad(ctx.xp, gy, len(plan.out)) if need[2] else None
        if isinstance(gy, Tensor):  # create_graph: differentiable kernels
            gx = _ConvTranspose.apply(gy, w, None, plan) if need[0] else None
            gw = _ConvWeight.apply(x, gy, plan) if need[1] else None
            return gx, gw, gb
        if _on_kernels(gy):
            geom = _geometry(plan)
            gx = _cuda.conv_data(gy, w, geom, plan.groups) if need[0] else None
            gw = _cuda.conv_weight(x, gy, geom, plan.groups) if need[1] else None
            return gx, gw, gb
        dtype = gy.dtype
        cd = _compute_dtype(dtype)
        gyc = gy.astype(cd, copy=False)
        gx = gw = None
        if need[0]:
            gx = _data_kernel(gyc, w.astype(cd, copy=False), plan, cd).astype(dtype, copy=False)
        if need[1] and flat is None:
            gw = _winograd.weight_grad(x.astype(cd, copy=False), gyc, plan.lo)
            gw = gw.astype(dtype, copy=False)
        elif need[1]:
            gw = _weight_kernel(flat, _to_grid(gyc, plan), plan, cd)
            gw = _weight_shape(gw, plan).astype(dtype, copy=False)
        return gx, gw, gb


class _ConvTranspose(Function):
    """z = conv^T(g, w) + b: the adjoint of conv in its input."""

    _backward_name = "ConvolutionBackward0"

    @staticmethod
    def forward(ctx, g, w, b, plan):
        dtype = g.dtype
        if _on_kernels(g):  # CUDA: cuBLAS + col2im in g's own dtype
            cd = dtype
            z = _cuda.conv_data(g, w, _geometry(plan), plan.groups)
        else:
            cd = _compute_dtype(dtype)
            z = _data_kernel(g.astype(cd, copy=False), w.astype(cd, copy=False), plan, cd)
        if b is not None:
            z += b.astype(cd, copy=False).reshape((-1,) + (1,) * len(plan.spatial))
        need = ctx.needs_input_grad
        if need:
            ctx.plan = plan
            ctx.save_for_backward(g if need[1] else None, w if need[0] else None)
        return z.astype(dtype, copy=False)

    @staticmethod
    def backward(ctx, gz):
        g, w = ctx.saved_arrays
        plan = ctx.plan
        need = ctx.needs_input_grad
        gb = _bias_grad(ctx.xp, gz, len(plan.spatial)) if need[2] else None
        if isinstance(gz, Tensor):
            gg = _Conv.apply(gz, w, None, plan) if need[0] else None
            gw = _ConvWeight.apply(gz, g, plan) if need[1] else None
            return gg, gw, gb
        if _on_kernels(gz):
            geom = _geometry(plan)
            gg = _cuda.conv_forward(gz, w, None, geom, plan.groups) if need[0] else None
            gw = _cuda.conv_weight(gz, g, geom, plan.groups) if need[1] else None
            return gg, gw, gb
        dtype = gz.dtype
        cd = _compute_dtype(dtype)
        flat = _padded_flat(gz.astype(cd, copy=False), plan)
        gg = gw = None
        if need[0]:
            wc = w.astype(cd, copy=False)
            g_grid = _to_grid(g.astype(cd, copy=False), plan) if need[1] else None
            out = _forward_kernel(flat, wc, plan, cd, g_grid)
            y, gw = out if need[1] else (out, None)
            gg = _from_grid(y, plan, None).astype(dtype, copy=False)
        elif need[1]:
            gw = _weight_kernel(flat, _to_grid(g.astype(cd, copy=False), plan), plan, cd)
        if gw is not None:
            gw = _weight_shape(gw, plan).astype(dtype, copy=False)
        return gg, gw, gb


class _ConvWeight(Function):
    """v = corr(x, g): conv's weight gradient as a differentiable op (double backward)."""

    _backward_name = "ConvolutionBackwardBackward0"

    @staticmethod
    def forward(ctx, x, g, plan):
        if ctx.needs_input_grad:
            ctx.plan = plan
            ctx.save_for_backward(x, g)
        if _on_kernels(x):
            return _cuda.conv_weight(x, g, _geometry(plan), plan.groups)
        dtype = x.dtype
        cd = _compute_dtype(dtype)
        flat = _padded_flat(x.astype(cd, copy=False), plan)
        gw = _weight_kernel(flat, _to_grid(g.astype(cd, copy=False), plan), plan, cd)
        return _weight_shape(gw, plan).astype(dtype, copy=False)

    @staticmethod
    def backward(ctx, gv):
        x, g = ctx.saved_arrays
        plan = ctx.plan
        need = ctx.needs_input_grad
        if isinstance(gv, Tensor):
            gx = _ConvTranspose.apply(g, gv, None, plan) if need[0] else None
            gg = _Conv.apply(x, gv, None, plan) if need[1] else None
            return gx, gg
        if _on_kernels(gv):
            geom = _geometry(plan)
            gx = _cuda.conv_data(g, gv, geom, plan.groups) if need[0] else None
            gg = _cuda.conv_forward(x, gv, None, geom, plan.groups) if need[1] else None
            return gx, gg
        dtype = gv.dtype
        cd = _compute_dtype(dtype)
        gvc = gv.astype(cd, copy=False)
        gx = gg = None
        if need[0]:
            gx = _data_kernel(g.astype(cd, copy=False), gvc, plan, cd).astype(dtype,
                                                                              copy=False)
        if need[1]:
            flat = _padded_flat(x.astype(cd, copy=False), plan)
            gg = _from_grid(_forward_kernel(flat, gvc, plan, cd), plan,
                            None).astype(dtype, copy=False)
        return gx, gg


# -- argument checks (PyTorch's messages) --------------------------------------------------

def _tuple(value, n: int, name: str) -> tuple:
    if isinstance(value, (int, np.integer)):
        return (int(value),) * n
    value = tuple(int(v) for v in value)
    if len(value) == 1:
        return value * n
    if len(value) != n:
        raise RuntimeError(f"expected {name} to be a single integer value or a list of {n} "
                           f"values to match the convolution dimensions, but got "
                           f"{name}={list(value)}")
    return value


def _dims(shape) -> str:
    return "[" + ", ".join(str(s) for s in shape) + "]"


def _check_rank(input, nd: int, name: str):
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}() received an invalid combination of arguments - got "
                        f"({type(input).__name__}, ...)")
    if input.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to "
                           f"{name}, but got input of size: {_dims(input.shape)}")


def _check_common(input, weight, bias, nd: int, stride, dilation):
    if weight.ndim != nd + 2:
        # torch infers the dimensionality from the weight and then rejects the stride
        raise RuntimeError(f"expected stride to be a single integer value or a list of "
                           f"{weight.ndim - 2} values to match the convolution dimensions, "
                           f"but got stride={list(stride)}")
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if any(d <= 0 for d in dilation):
        raise RuntimeError("non-positive dilation is not supported")
    for t in (weight, bias):
        if t is not None and t.dtype is not input.dtype:
            raise RuntimeError(f"expected scalar type {_legacy(input.dtype)} but found "
                               f"{_legacy(t.dtype)}")
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"\"slow_conv{nd}d_cpu\" not implemented for "
                           f"'{_legacy(input.dtype)}'")
    from ...ops._util import check_device
    check_device(input, weight, bias)


def _resolve_padding(padding, nd, weight, stride, dilation):
    """(lo, hi) per spatial dim; 'same' pads the extra element on the high side."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0,) * nd, (0,) * nd
        if padding != "same":
            raise RuntimeError(f"Invalid padding string: '{padding}'")
        if any(s != 1 for s in stride):
            raise RuntimeError("padding='same' is not supported for strided convolutions")
        total = [d * (k - 1) for d, k in zip(dilation, weight.shape[2:])]
        lo = tuple(t // 2 for t in total)
        return lo, tuple(t - a for t, a in zip(total, lo))
    pad = _tuple(padding, nd, "padding")
    if any(p < 0 for p in pad):
        raise RuntimeError("negative padding is not supported")
    return pad, pad


def _batched(input, nd: int):
    """The input with a batch dim, and whether one was added (unbatched input)."""
    if input.ndim == nd + 1:
        return input.unsqueeze(0), True
    return input, False


def _conv(input, weight, bias, stride, padding, dilation, groups, nd: int):
    name = f"conv{nd}d"
    _check_rank(input, nd, name)
    stride = _tuple(stride, nd, "stride")
    dilation = _tuple(dilation, nd, "dilation")
    _check_common(input, weight, bias, nd, stride, dilation)
    lo, hi = _resolve_padding(padding, nd, weight, stride, dilation)
    x, unbatched = _batched(input, nd)
    out_ch = weight.shape[0]
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    if out_ch % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by "
                           f"{groups} at dimension 0, but got weight of size "
                           f"[{_dims(weight.shape)}] instead")
    if x.shape[1] != weight.shape[1] * groups:
        raise RuntimeError(f"Given groups={groups}, weight of size {_dims(weight.shape)}, "
                           f"expected input{_dims(x.shape)} to have "
                           f"{weight.shape[1] * groups} channels, but got {x.shape[1]} "
                           "channels instead")
    _check_bias(bias, weight, out_ch)
    spatial = tuple(x.shape[2:])
    kernel = tuple(weight.shape[2:])
    padded = [s + a + b for s, a, b in zip(spatial, lo, hi)]
    eff = [d * (k - 1) + 1 for d, k in zip(dilation, kernel)]
    if any(p < e for p, e in zip(padded, eff)):
        raise RuntimeError(f"Calculated padded input size per channel: "
                           f"({' x '.join(map(str, padded))}). Kernel size: "
                           f"({' x '.join(map(str, eff))}). Kernel size can't be greater than "
                           "actual input size")
    plan = _plan(x.shape[0], x.shape[1], spatial, out_ch, kernel, stride, lo, hi, dilation,
                 groups)
    out = _Conv.apply(x, weight, bias, plan)
    return out.squeeze(0) if unbatched else out


def _check_bias(bias, weight, channels):
    if bias is not None and (bias.ndim != 1 or bias.shape[0] != channels):
        raise RuntimeError(f"Given weight of size {_dims(weight.shape)}, expected bias to be "
                           f"1-dimensional with {channels} elements, but got bias of size "
                           f"{_dims(bias.shape)} instead")


def _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation,
                    nd: int):
    name = f"conv_transpose{nd}d"
    _check_rank(input, nd, name)
    stride = _tuple(stride, nd, "stride")
    dilation = _tuple(dilation, nd, "dilation")
    _check_common(input, weight, bias, nd, stride, dilation)
    if isinstance(padding, str):
        raise TypeError(f"{name}(): argument 'padding' must be tuple of ints, not str")
    pad = _tuple(padding, nd, "padding")
    if any(p < 0 for p in pad):
        raise RuntimeError("negative padding is not supported")
    opad = _tuple(output_padding, nd, "output_padding")
    if any(o >= s and o >= d for o, s, d in zip(opad, stride, dilation)) or any(
            o < 0 for o in opad):
        axes = ["depth", "height", "width"][3 - nd:] if nd > 1 else [""]
        suffix = [f"_{a}" if a else "" for a in axes]
        parts = ([f"output_padding{s}: {o}" for s, o in zip(suffix, opad)]
                 + [f"stride{s}: {v}" for s, v in zip(suffix, stride)]
                 + [f"dilation{s}: {v}" for s, v in zip(suffix, dilation)])
        raise RuntimeError("output padding must be smaller than either stride or dilation, "
                           "but got " + " ".join(parts))
    x, unbatched = _batched(input, nd)
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    in_ch = weight.shape[0]
    if in_ch % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by "
                           f"{groups} at dimension 0, but got weight of size "
                           f"[{_dims(weight.shape)}] instead")
    if x.shape[1] != in_ch:
        raise RuntimeError(f"Given transposed=1, weight of size {_dims(weight.shape)}, "
                           f"expected input{_dims(x.shape)} to have {in_ch} channels, but got "
                           f"{x.shape[1]} channels instead")
    out_ch = weight.shape[1] * groups
    _check_bias(bias, weight, out_ch)
    kernel = tuple(weight.shape[2:])
    spatial_in = tuple(x.shape[2:])
    spatial = tuple((i - 1) * s - 2 * p + d * (k - 1) + o + 1 for i, s, p, d, k, o in zip(
        spatial_in, stride, pad, dilation, kernel, opad))
    if any(s <= 0 for s in spatial):
        raise RuntimeError(f"Given input size per channel: ({' x '.join(map(str, spatial_in))}"
                           f"). Calculated output size per channel: "
                           f"({' x '.join(map(str, spatial))}). Output size is too small")
    # The transposed conv is the adjoint of a conv from (out_ch, spatial) to
    # (in_ch, spatial_in); the plan describes that conv.
    plan = _plan(x.shape[0], out_ch, spatial, in_ch, kernel, stride, pad, pad, dilation,
                 groups, spatial_in)
    out = _ConvTranspose.apply(x, weight, bias, plan)
    return out.squeeze(0) if unbatched else out


# -- public functions --------------------------------------------------------------------

def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """1-D convolution over (N, C, L) or (C, L) input."""
    if _autocast.on and (policy := _autocast.policy("conv1d", input)):
        return policy(conv1d, input, weight, bias, stride, padding, dilation, groups)
    return _conv(input, weight, bias, stride, padding, dilation, groups, 1)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """2-D convolution over (N, C, H, W) or (C, H, W) input."""
    if _autocast.on and (policy := _autocast.policy("conv2d", input)):
        return policy(conv2d, input, weight, bias, stride, padding, dilation, groups)
    return _conv(input, weight, bias, stride, padding, dilation, groups, 2)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """3-D convolution over (N, C, D, H, W) or (C, D, H, W) input."""
    if _autocast.on and (policy := _autocast.policy("conv3d", input)):
        return policy(conv3d, input, weight, bias, stride, padding, dilation, groups)
    return _conv(input, weight, bias, stride, padding, dilation, groups, 3)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1) -> Tensor:
    """1-D transposed convolution (the gradient of conv1d with respect to its input)."""
    if _autocast.on and (policy := _autocast.policy("conv_transpose1d", input)):
        return policy(conv_transpose1d, input, weight, bias, stride, padding, output_padding,
                      groups, dilation)
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups,
                           dilation, 1)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1) -> Tensor:
    """2-D transposed convolution (the gradient of conv2d with respect to its input)."""
    if _autocast.on and (policy := _autocast.policy("conv_transpose2d", input)):
        return policy(conv_transpose2d, input, weight, bias, stride, padding, output_padding,
                      groups, dilation)
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups,
                           dilation, 2)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1) -> Tensor:
    """3-D transposed convolution (the gradient of conv3d with respect to its input)."""
    if _autocast.on and (policy := _autocast.policy("conv_transpose3d", input)):
        return policy(conv_transpose3d, input, weight, bias, stride, padding, output_padding,
                      groups, dilation)
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups,
                           dilation, 3)
