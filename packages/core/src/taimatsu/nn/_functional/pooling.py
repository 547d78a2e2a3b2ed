"""Pooling: max, average, adaptive, power-average (LP) and max-unpooling, 1-3 spatial dims.

Windowed pools run one whole-array operation per kernel offset: the window of offset k
over every output position is a strided slice of the (padded) input, so a 2x2 max pool is
four compares and a 3x3 average pool nine adds, never a loop over pixels. Max pooling
records the flat index of each maximum within its (unpadded) input plane -- PyTorch's
convention for `return_indices` -- and its backward scatters the gradient there.

Adaptive pools reduce along one dim at a time: average pooling as a product with an
averaging matrix, max pooling by gathering the (unequal) windows into a padded table.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from ... import _dtype as D
from ... import backend
from ..._tensor import Tensor
from ...autograd.grad_mode import is_grad_enabled
from ...autograd.node import Function
from ...backend.cuda import pooling as _cuda_pool
from ...backend.cuda import use_kernels
from ...ops.inplace import _legacy, kernel_missing

__all__ = ["max_pool1d", "max_pool2d", "max_pool3d", "max_pool1d_with_indices",
           "max_pool2d_with_indices", "max_pool3d_with_indices", "avg_pool1d", "avg_pool2d",
           "avg_pool3d", "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d",
           "adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool3d",
           "adaptive_max_pool1d_with_indices", "adaptive_max_pool2d_with_indices",
           "adaptive_max_pool3d_with_indices", "lp_pool1d", "lp_pool2d", "lp_pool3d",
           "max_unpool1d", "max_unpool2d", "max_unpool3d", "fractional_max_pool2d",
           "fractional_max_pool3d", "fractional_max_pool2d_with_indices",
           "fractional_max_pool3d_with_indices"]


# -- geometry ----------------------------------------------------------------------------------

class _Window:
    """Kernel/stride/padding/dilation over the spatial dims of one input shape."""

    def __init__(self, spatial, kernel, stride, padding, dilation, ceil_mode):
        self.spatial, self.kernel, self.stride = spatial, kernel, stride
        self.padding, self.dilation = padding, dilation
        out = []
        for s, k, st, p, d in zip(spatial, kernel, stride, padding, dilation):
            span = s + 2 * p - d * (k - 1) - 1
            o = (span + (st - 1 if ceil_mode else 0)) // st + 1
            if ceil_mode and (o - 1) * st >= s + p:  # the last window must start inside
                o -= 1
            out.append(o)
        self.out = tuple(out)
        # padded extent: both pads, plus what ceil_mode's last window reads past them
        self.padded = tuple(max(s + 2 * p, (o - 1) * st + d * (k - 1) + 1) for s, o, k, st, p, d
                            in zip(spatial, out, kernel, stride, padding, dilation))
        self.needs_pad = self.padded != spatial
        self.offsets = list(np.ndindex(*kernel))
        # windows of different outputs share no input: the backward may assign, not add
        self.disjoint = all(st >= d * (k - 1) + 1 for st, k, d in zip(stride, kernel, dilation))

    def view(self, buf, offset):
        """The strided slice of `buf` (N, C, *padded) seen at kernel offset `offset`."""
        return buf[(slice(None), slice(None)) + tuple(
            slice(i * d, i * d + (o - 1) * st + 1, st)
            for i, d, o, st in zip(offset, self.dilation, self.out, self.stride))]

    def inside(self, offset):
        """Which output windows read a real (not padding) cell at kernel offset `offset`."""
        mask = np.ones((1,) * len(self.out), dtype=bool)
        for i, (o, st, p, d, s) in enumerate(zip(self.out, self.stride, self.padding,
                                                 self.dilation, self.spatial)):
            coord = np.arange(o) * st - p + offset[i] * d
            shape = [1] * len(self.out)
            shape[i] = o
            mask = mask & ((coord >= 0) & (coord < s)).reshape(shape)
        return mask

    def interior(self):
        return (slice(None), slice(None)) + tuple(
            slice(p, p + s) for p, s in zip(self.padding, self.spatial))

    def padded_buffer(self, x, fill):
        if not self.needs_pad:
            return x
        xp = backend.of(x)
        buf = xp.full(x.shape[:2] + self.padded, fill, dtype=x.dtype)
        buf[self.interior()] = x
        return buf

    def flat_index(self, xp, arg):
        """Flat index within the unpadded input plane of kernel offset number `arg` of
        every output position."""
        nd = len(self.spatial)
        pitch = [math.prod(self.spatial[i + 1:]) for i in range(nd)]
        base = 0
        for i in range(nd):
            coord = xp.arange(self.out[i]) * self.stride[i] - self.padding[i]
            base = base + (coord * pitch[i]).reshape((-1,) + (1,) * (nd - 1 - i))
        koff = xp.asarray([sum(o * d * p for o, d, p in zip(off, self.dilation, pitch))
                           for off in self.offsets], dtype=np.int64)
        return base + koff[arg]


@functools.lru_cache(maxsize=512)
def _window(*args) -> _Window:
    return _Window(*args)


# -- scatter / gather by flat plane index (max pooling's backward and unpooling) ----------

def _scatter(g, idx, shape, accumulate=True):
    """zeros(shape) with g put at the plane indices idx (summing duplicates); idx may
    broadcast over channels."""
    xp = backend.of(g)
    idx = xp.broadcast_to(idx, g.shape)
    n, c = shape[:2]
    plane = math.prod(shape[2:])
    flat = idx.reshape(n * c, math.prod(idx.shape[2:])) + (
        xp.arange(n * c, dtype=idx.dtype) * plane)[:, None]
    if accumulate:
        out = xp.bincount(flat.reshape(-1), weights=g.reshape(-1), minlength=n * c * plane)
        return out.astype(g.dtype, copy=False).reshape(shape)
    out = xp.zeros(n * c * plane, dtype=g.dtype)
    out[flat.reshape(-1)] = g.reshape(-1)
    return out.reshape(shape)


def _gather(x, idx):
    """x's values at plane indices idx (N, C or 1, *out)."""
    xp = backend.of(x)
    n, c = x.shape[:2]
    flat = x.reshape(n, c, math.prod(x.shape[2:]))
    out = xp.take_along_axis(flat, idx.reshape(n, idx.shape[1], math.prod(idx.shape[2:])),
                             axis=2)
    return out.reshape((n, c) + idx.shape[2:])


class _IndexScatter(Function):
    """zeros(shape) with the input put at flat plane indices (unpooling, max-pool grads)."""

    @staticmethod
    def forward(ctx, g, idx, shape, accumulate, name):
        ctx.idx = idx
        ctx.mark_name(name)
        return _scatter(g, idx, shape, accumulate)

    @staticmethod
    def backward(ctx, gg):
        if isinstance(gg, Tensor):
            return _IndexGather.apply(gg, ctx.idx)
        return _gather(gg, ctx.idx)


class _IndexGather(Function):
    """input's values at flat plane indices (adaptive max pooling, double backward)."""

    @staticmethod
    def forward(ctx, x, idx, name="GatherBackward0"):
        ctx.idx = idx
        ctx.shape = x.shape
        ctx.mark_name(name)
        return _gather(x, idx)

    @staticmethod
    def backward(ctx, g):
        if isinstance(g, Tensor):
            return _IndexScatter.apply(g, ctx.idx, ctx.shape, True, "ScatterAddBackward0")
        return _scatter(g, ctx.idx, ctx.shape)


# -- max pooling -------------------------------------------------------------------------------

def _lowest(dtype):
    if dtype.kind == "f" or dtype == D.bfloat16.np:
        return -np.inf
    if dtype.kind == "b":
        return False
    return np.iinfo(dtype).min


def _max_forward(x, win: _Window, indices: bool = True):
    """Window maxima and the flat plane index of each (the first one, as PyTorch); the
    index is None when not asked for (inference skips that work)."""
    xp = backend.of(x)
    buf = win.padded_buffer(x, _lowest(x.dtype))
    views = [win.view(buf, off) for off in win.offsets]
    best = views[0].copy()
    for v in views[1:]:  # NaN propagates through maximum, as in PyTorch
        xp.maximum(best, v, out=best)
    if not indices:
        return best, None
    arg = xp.zeros(best.shape, dtype=np.int16 if len(views) < 32768 else np.int32)
    for k in range(len(views) - 1, -1, -1):  # descending: the first maximum wins
        hit = views[k] == best
        if win.needs_pad:  # a padding cell may tie only with an all-lowest window
            hit &= xp.asarray(win.inside(win.offsets[k]))
        # arg = where(hit, k, arg), as arithmetic: ~10x faster than a masked assignment
        step = xp.subtract(arg.dtype.type(k), arg)
        step *= hit
        arg += step
    if x.dtype.kind == "f":
        nan = xp.isnan(best)
        if nan.any():  # PyTorch points at the last NaN of such windows
            for k, v in enumerate(views):
                arg[nan & xp.isnan(v)] = k
    return best, win.flat_index(xp, arg)


class _MaxPool(Function):
    @staticmethod
    def forward(ctx, x, win, name, want_indices=True):
        with_indices = want_indices or bool(ctx.needs_input_grad)
        if use_kernels(x) and _cuda_pool.supports(x):
            out, idx = _cuda_pool.max_pool_forward(x, win.out, win.kernel, win.stride,
                                                   win.padding, win.dilation, with_indices)
        else:
            out, idx = _max_forward(x, win, indices=with_indices)
        ctx.mark_name(name)
        if ctx.needs_input_grad:
            ctx.idx, ctx.shape, ctx.win, ctx.pool_name = idx, x.shape, win, name
        return out if idx is None else (out, idx)

    @staticmethod
    def backward(ctx, g, _):
        win = ctx.win
        if isinstance(g, Tensor):
            return _IndexScatter.apply(g, ctx.idx, ctx.shape, not win.disjoint,
                                       ctx.pool_name.replace("Backward0",
                                                             "BackwardBackward0"))
        if use_kernels(g) and _cuda_pool.supports(g):
            return _cuda_pool.max_pool_backward(g, ctx.idx, ctx.shape, win.kernel, win.stride,
                                                win.padding, win.dilation)
        return _scatter(g, ctx.idx, ctx.shape, accumulate=not win.disjoint)


# -- average pooling ----------------------------------------------------------------------------

@functools.lru_cache(maxsize=512)
def _divisor(win: _Window, count_include_pad: bool, divisor_override):
    """Per-output divisors (separable: a product of per-dim window lengths)."""
    if divisor_override:
        return float(divisor_override)
    nd = len(win.spatial)
    div = np.ones((1,) * nd)
    for i, (s, k, st, p) in enumerate(zip(win.spatial, win.kernel, win.stride, win.padding)):
        start = np.arange(win.out[i]) * st - p
        if count_include_pad:
            length = np.minimum(start + k, s + p) - start
        else:
            length = np.minimum(start + k, s) - np.maximum(start, 0)
        div = div * length.reshape((-1,) + (1,) * (nd - 1 - i))
    return div


def _avg_forward(x, win: _Window, div):
    xp = backend.of(x)
    integral = x.dtype.kind in "iub"
    buf = win.padded_buffer(x.astype(np.int64) if integral else x, 0)
    out = win.view(buf, win.offsets[0]).copy()
    for off in win.offsets[1:]:
        out += win.view(buf, off)
    div = div if isinstance(div, float) else xp.asarray(div)
    if integral:  # integer pooling truncates toward zero, as in PyTorch
        return (xp.sign(out) * (xp.abs(out) // div)).astype(x.dtype)
    out /= div if isinstance(div, float) else div.astype(out.dtype)
    return out


def _avg_adjoint(g, win: _Window, div):
    xp = backend.of(g)
    div = div if isinstance(div, float) else xp.asarray(div, dtype=g.dtype)
    gd = g / div
    buf = xp.zeros(g.shape[:2] + win.padded, dtype=g.dtype)
    for off in win.offsets:
        win.view(buf, off)[...] += gd
    return xp.ascontiguousarray(buf[win.interior()]) if win.needs_pad else buf


def _avg(x, win: _Window, div, rule):
    """Average pooling of an array: the CUDA kernel where it applies (`rule`, the
    (count_include_pad, divisor_override) that `div` was made from, is what it needs)."""
    if rule is not None and use_kernels(x) and _cuda_pool.supports(x):
        return _cuda_pool.avg_pool_forward(x, win.out, win.kernel, win.stride, win.padding,
                                           *rule)
    return _avg_forward(x, win, div)


def _avg_transposed(g, win: _Window, div, rule):
    """The adjoint of `_avg` (average pooling's input gradient) of an array."""
    if rule is not None and use_kernels(g) and _cuda_pool.supports(g):
        return _cuda_pool.avg_pool_backward(g, (g.shape[0], g.shape[1]) + win.spatial,
                                            win.kernel, win.stride, win.padding, *rule)
    return _avg_adjoint(g, win, div)


class _AvgPool(Function):
    @staticmethod
    def forward(ctx, x, win, div, name, rule=None):
        ctx.win, ctx.div, ctx.rule = win, div, rule
        ctx.mark_name(name)
        return _avg(x, win, div, rule)

    @staticmethod
    def backward(ctx, g):
        if isinstance(g, Tensor):
            return _AvgPoolAdjoint.apply(g, ctx.win, ctx.div, ctx.rule)
        return _avg_transposed(g, ctx.win, ctx.div, ctx.rule)


class _AvgPoolAdjoint(Function):
    _backward_name = "AvgPoolBackwardBackward0"

    @staticmethod
    def forward(ctx, g, win, div, rule=None):
        ctx.win, ctx.div, ctx.rule = win, div, rule
        return _avg_transposed(g, win, div, rule)

    @staticmethod
    def backward(ctx, gg):
        if isinstance(gg, Tensor):
            return _AvgPool.apply(gg, ctx.win, ctx.div, "AvgPoolBackward0", ctx.rule)
        return _avg(gg, ctx.win, ctx.div, ctx.rule)


# -- argument handling ---------------------------------------------------------------------------

def _ints(value, nd: int, fn: str, what: str) -> tuple:
    if isinstance(value, (int, np.integer)):
        return (int(value),) * nd
    value = tuple(int(v) for v in value)
    if len(value) == 1:
        return value * nd
    if len(value) != nd:
        plural = {1: "one int", 2: "a tuple of two ints", 3: "a tuple of three ints"}[nd]
        raise RuntimeError(f"{fn}: {what} must either be a single int, or {plural}")
    return value


def _dims_str(shape) -> str:
    return "[" + ", ".join(str(s) for s in shape) + "]"


def _batched(input, nd):
    if input.ndim == nd + 1:
        return input.unsqueeze(0), True
    return input, False


def _check_pool_input(input, nd: int, fn: str, empty_ok: bool = True):
    if not isinstance(input, Tensor):
        raise TypeError(f"{fn}(): argument 'input' must be Tensor, not {type(input).__name__}")
    shape = tuple(input.shape)
    if input.ndim not in (nd + 1, nd + 2):
        if nd == 1:
            raise RuntimeError(f"{fn}: Expected 2D or 3D (batch mode) tensor with optional 0 "
                               f"dim batch size for input, but got:{_dims_str(shape)}")
        raise RuntimeError(f"non-empty {nd + 1}D or {nd + 2}D (batch mode) tensor expected "
                           "for input")
    if any(s == 0 for s in shape[-nd - 1:]):
        raise RuntimeError(f"Expected {nd + 1}D or {nd + 2}D (batch mode) tensor with optional "
                           f"0 dim batch size for input, but got:{_dims_str(shape)}")


def _make_window(input, nd, fn, kernel_size, stride, padding, dilation, ceil_mode,
                 message_nd=None):
    kernel = _ints(kernel_size, nd, fn, "kernel_size")
    stride = kernel if stride is None or (not isinstance(stride, int) and len(stride) == 0) \
        else _ints(stride, nd, fn, "stride")
    padding = _ints(padding, nd, fn, "padding")
    dilation = _ints(dilation, nd, fn, "dilation")
    if any(k <= 0 for k in kernel):
        raise RuntimeError("kernel size should be greater than zero, but got "
                           + " ".join(f"k{a}: {k}" for a, k in zip("dHW"[3 - nd:], kernel)))
    if any(s <= 0 for s in stride):
        raise RuntimeError("stride should not be zero")
    if any(d <= 0 for d in dilation):
        raise RuntimeError("dilation should be greater than zero, but got "
                           + " ".join(f"dilation{a}: {d}" for a, d in zip("THW"[3 - nd:],
                                                                          dilation)))
    if message_nd == 2:  # PyTorch runs 1-d pooling with indices as 2-d
        _check_pool_padding(fn, 2, (1,) + kernel, (0,) + padding, (1,) + dilation)
    else:
        _check_pool_padding(fn, nd, kernel, padding, dilation)
    spatial = tuple(input.shape[-nd:])
    win = _window(spatial, kernel, stride, padding, dilation, bool(ceil_mode))
    if any(o <= 0 for o in win.out):
        c = input.shape[-nd - 1]
        raise RuntimeError(f"Given input size: ({'x'.join(map(str, (c,) + spatial))}). "
                           f"Calculated output size: ({'x'.join(map(str, (c,) + win.out))}). "
                           "Output size is too small")
    return win


def _check_pool_padding(fn, nd, kernel, padding, dilation):
    """PyTorch's two padding checks: against the dilated kernel, then the plain one."""
    if any(p < 0 for p in padding):
        raise RuntimeError(f"pad must be non-negative, but got pad: {min(padding)}")
    for p, k, d in zip(padding, kernel, dilation):
        if p > (d * (k - 1) + 1) // 2:
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got "
                               f"pad={p}, kernel_size={k} and dilation={d}")
    if all(p <= k // 2 for p, k in zip(padding, kernel)):
        return
    if nd == 1:
        raise RuntimeError(f"{fn}() padding should be at most half of kernel size, but got "
                           f"padding={padding[0]} and kernel_size={kernel[0]}")
    if nd == 2:
        raise RuntimeError("pad should be smaller than or equal to half of kernel size, but "
                           f"got padW = {padding[1]}, padH = {padding[0]}, kW = {kernel[1]}, "
                           f"kH = {kernel[0]}")
    raise RuntimeError("pad should be smaller than or equal to half of kernel size, but got "
                       f"kT: {kernel[0]} kW: {kernel[2]} kH: {kernel[1]} padT: {padding[0]} "
                       f"padW: {padding[2]} padH: {padding[1]}")


def _max_pool(input, nd, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    fn = f"max_pool{nd}d"
    _check_pool_input(input, nd, fn)
    win = _make_window(input, nd, fn, kernel_size, stride, padding, dilation, ceil_mode,
                       2 if nd == 1 and return_indices else None)
    x, unbatched = _batched(input, nd)
    name = f"MaxPool{nd}DWithIndicesBackward0"
    if not return_indices and not (input.requires_grad and is_grad_enabled()):
        out = _MaxPool.apply(x, win, name, False)  # no graph: the indices are not needed
        return out.squeeze(0) if unbatched else out
    out, idx = _MaxPool.apply(x, win, name)
    if unbatched:
        out, idx = out.squeeze(0), idx.squeeze(0)
    return (out, idx) if return_indices else out


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    return _max_pool(input, 1, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    return _max_pool(input, 2, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    return _max_pool(input, 3, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """1-D max pooling over (N, C, L) or (C, L)."""
    return _max_pool(input, 1, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """2-D max pooling over (N, C, H, W) or (C, H, W)."""
    return _max_pool(input, 2, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """3-D max pooling over (N, C, D, H, W) or (C, D, H, W)."""
    return _max_pool(input, 3, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


def _avg_pool(input, nd, kernel_size, stride, padding, ceil_mode, count_include_pad,
              divisor_override):
    fn = f"avg_pool{nd}d"
    if nd == 1 and input.ndim not in (2, 3):
        raise RuntimeError(f"Expected 2 to 3 dimensions, but got {input.ndim}-dimensional "
                           "tensor for argument #1 'self' (while checking arguments for "
                           "avg_pool1d)")
    _check_pool_input(input, nd, fn)
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    win = _make_window(input, nd, fn, kernel_size, stride, padding, 1, ceil_mode)
    x, unbatched = _batched(input, nd)
    div = _divisor(win, bool(count_include_pad), divisor_override)
    out = _AvgPool.apply(x, win, div, f"AvgPool{nd}DBackward0",
                         (bool(count_include_pad), divisor_override))
    return out.squeeze(0) if unbatched else out


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """1-D average pooling over (N, C, L) or (C, L)."""
    return _avg_pool(input, 1, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     None)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """2-D average pooling over (N, C, H, W) or (C, H, W)."""
    return _avg_pool(input, 2, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """3-D average pooling over (N, C, D, H, W) or (C, D, H, W)."""
    return _avg_pool(input, 3, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override)


# -- power-average pooling ----------------------------------------------------------------------

def _lp_pool(input, nd, norm_type, kernel_size, stride, ceil_mode):
    kernel = _ints(kernel_size, nd, f"lp_pool{nd}d", "kernel_size")
    pool = (avg_pool1d, avg_pool2d, avg_pool3d)[nd - 1]
    if stride is not None:
        out = pool(input.pow(norm_type), kernel, stride, 0, ceil_mode)
    else:
        out = pool(input.pow(norm_type), kernel, padding=0, ceil_mode=ceil_mode)
    # sum = mean * window size; sign(out) * relu(|out|) as PyTorch writes it (its gradient
    # at 0 is 0)
    return (out.sign() * out.abs().clamp(min=0)).mul(math.prod(kernel)).pow(1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling: (sum of x ** p over each window) ** (1 / p)."""
    return _lp_pool(input, 1, norm_type, kernel_size, stride, ceil_mode)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling: (sum of x ** p over each window) ** (1 / p)."""
    return _lp_pool(input, 2, norm_type, kernel_size, stride, ceil_mode)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling: (sum of x ** p over each window) ** (1 / p)."""
    return _lp_pool(input, 3, norm_type, kernel_size, stride, ceil_mode)


# -- separable linear resampling (adaptive average pooling, interpolate) -------------------

def _contract(x, axis: int, a):
    """x with dim `axis` (size n) replaced by a @ x along it, a: (m, n)."""
    xp = backend.of(x)
    shape = x.shape
    rest = math.prod(shape[axis + 1:])
    x = xp.ascontiguousarray(x)
    a = xp.asarray(a, dtype=x.dtype)
    if rest == 1:  # the last dim: one GEMM over all rows
        out = x.reshape(-1, shape[axis]) @ a.T
    else:
        out = xp.matmul(a, x.reshape(-1, shape[axis], rest))
    return out.reshape(shape[:axis] + (a.shape[0],) + shape[axis + 1:])


def _resample(x, axes):
    xp = backend.of(x)
    if not axes:  # identity map: still a new array, as PyTorch returns
        return x.copy()
    for axis, idx, a in axes:
        x = xp.take(x, xp.asarray(idx), axis=axis) if idx is not None else _contract(x, axis, a)
    return x


class _Resample(Function):
    """Applies, dim by dim, a linear map along that dim: a gather of indices (nearest
    neighbours) or a product with a small (out, in) weight matrix. Its adjoint is the same
    op with transposed matrices, which gives every order of gradient."""

    @staticmethod
    def forward(ctx, x, axes, name):
        ctx.axes = axes
        ctx.mark_name(name)
        return _resample(x, axes)

    @staticmethod
    def backward(ctx, g):
        adjoint = tuple((axis, None, a.T) for axis, idx, a in reversed(ctx.axes))
        if isinstance(g, Tensor):
            return _Resample.apply(g, adjoint, "ResampleBackward0")
        return _resample(g, adjoint)


def resample(input, axes, name):
    """Resamples input along each (axis, indices or None, matrix (out, in)) in `axes`; the
    matrix is the map's weights (also used, transposed, for the gradient)."""
    return _Resample.apply(input, tuple(axes), name)


# -- adaptive pooling --------------------------------------------------------------------------

def _adaptive_sizes(input, nd, output_size, fn):
    if isinstance(output_size, (int, np.integer)) or output_size is None:
        output_size = (output_size,) * nd
    output_size = tuple(output_size)
    if len(output_size) != nd:
        raise RuntimeError(f"{fn}: output_size must be {nd}")
    spatial = tuple(input.shape[-nd:])
    return tuple(s if o is None else int(o) for o, s in zip(output_size, spatial))


def _check_adaptive_input(input, nd, fn, colon):
    if nd == 1:
        if input.ndim not in (2, 3):
            raise RuntimeError(f"Expected 2 to 3 dimensions, but got {input.ndim}-dimensional "
                               f"tensor for argument #1 'self' (while checking arguments for "
                               f"{fn})")
        return
    if input.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"{fn}(): Expected {nd + 1}D or {nd + 2}D tensor, but got"
                           f"{':' if colon else ''} {_dims_str(input.shape)}")


@functools.lru_cache(maxsize=512)
def _adaptive_bounds(n: int, out: int):
    """Start and end of each adaptive window: floor(i*n/out), ceil((i+1)*n/out)."""
    i = np.arange(out)
    return (i * n) // out, -((-(i + 1) * n) // out)


@functools.lru_cache(maxsize=512)
def _averaging_matrix(n: int, out: int):
    start, end = _adaptive_bounds(n, out)
    j = np.arange(n)
    inside = (j >= start[:, None]) & (j < end[:, None])
    return inside / (end - start)[:, None]


def _adaptive_avg_pool(input, nd, output_size):
    fn = f"adaptive_avg_pool{nd}d"
    _check_adaptive_input(input, nd, fn, colon=False)
    if input.dtype._kind < 2:
        raise kernel_missing(fn, input.dtype)
    out_size = _adaptive_sizes(input, nd, output_size, fn)
    spatial = tuple(input.shape[-nd:])
    if all(o == 1 for o in out_size):  # global average pooling
        return input.mean(dim=tuple(range(-nd, 0)), keepdim=True)
    axes = tuple((input.ndim - nd + i, None, _averaging_matrix(s, o))
                 for i, (s, o) in enumerate(zip(spatial, out_size)) if s != o)
    return resample(input, axes, f"AdaptiveAvgPool{nd}DBackward0")


def adaptive_avg_pool1d(input, output_size):
    """Averages (N, C, L) over output_size adaptive windows."""
    return _adaptive_avg_pool(input, 1, output_size)


def adaptive_avg_pool2d(input, output_size):
    """Averages (N, C, H, W) over adaptive windows; None keeps a dim's size."""
    return _adaptive_avg_pool(input, 2, output_size)


def adaptive_avg_pool3d(input, output_size):
    """Averages (N, C, D, H, W) over adaptive windows; None keeps a dim's size."""
    return _adaptive_avg_pool(input, 3, output_size)


def _last_nan_or_first_max(xp, windows, axis):
    """argmax along `axis` (kept as size 1), except that a window holding NaN points at its
    last NaN, as PyTorch's scan does; taken one dim at a time, last dim first, this finds the
    last NaN in row-major order."""
    am = xp.argmax(windows, axis=axis)
    nan = xp.isnan(windows)
    has_nan = nan.any(axis=axis)
    if has_nan.any():
        last = windows.shape[axis] - 1 - xp.argmax(xp.flip(nan, axis=axis), axis=axis)
        am = xp.where(has_nan, last, am)
    return xp.expand_dims(am, axis)


def _window_max_indices(x, tables):
    """Flat plane index of the first maximum (row-major scan) of each window.

    Windows are rectangles, so their maxima are found one dim at a time, last dim first.
    tables[i] is a (N or 1, C or 1, out_i, width_i) integer array: the positions along
    spatial dim i read by each window (a short window repeats its first position, which
    changes neither its maximum nor which one comes first).
    """
    xp = backend.of(x)
    spatial = x.shape[2:]
    vals, index = x, None  # index: flat offset within the dims already reduced
    for i in range(len(tables) - 1, -1, -1):
        axis = 2 + i
        table = xp.asarray(tables[i])
        out, width = table.shape[-2:]
        flat_shape = [1] * vals.ndim
        flat_shape[:2] = table.shape[:2]
        flat_shape[axis] = out * width
        flat = table.reshape(flat_shape)
        split = vals.shape[:axis] + (out, width) + vals.shape[axis + 1:]
        windows = xp.take_along_axis(vals, flat, axis=axis).reshape(split)
        am = _last_nan_or_first_max(xp, windows, axis + 1)
        vals = xp.take_along_axis(windows, am, axis=axis + 1).squeeze(axis + 1)
        table_shape = flat_shape[:axis] + [out, width] + flat_shape[axis + 1:]
        coord = xp.take_along_axis(table.reshape(table_shape), am, axis=axis + 1)
        coord = coord.squeeze(axis + 1) * math.prod(spatial[i + 1:])
        if index is not None:  # carry the later dims' offsets of this dim's winners
            picked = xp.take_along_axis(index, flat, axis=axis).reshape(split)
            coord = coord + xp.take_along_axis(picked, am, axis=axis + 1).squeeze(axis + 1)
        index = coord
    return index.astype(np.int64, copy=False)


@functools.lru_cache(maxsize=512)
def _adaptive_table(n: int, out: int):
    start, end = _adaptive_bounds(n, out)
    width = int((end - start).max())
    table = start[:, None] + np.arange(width)
    return np.where(table < end[:, None], table, start[:, None])[None, None]


def _adaptive_max_indices(x, out_size):
    """Flat plane index of each adaptive window's first maximum."""
    return _window_max_indices(x, [_adaptive_table(n, o)
                                   for n, o in zip(x.shape[2:], out_size)])


def _adaptive_max_pool(input, nd, output_size, return_indices):
    fn = f"adaptive_max_pool{nd}d"
    _check_adaptive_input(input, nd, fn, colon=True)
    out_size = _adaptive_sizes(input, nd, output_size, fn)
    x, unbatched = _batched(input, nd)
    if any(o <= 0 for o in out_size):  # nothing to pool
        shape = tuple(x.shape[:2]) + out_size
        from ...ops.creation import zeros
        out = zeros(shape, dtype=x.dtype, device=x.device)
        idx = zeros(shape, dtype=D.int64, device=x.device)
    else:
        if use_kernels(x._data) and _cuda_pool.supports(x._data):
            idx = Tensor._make(_cuda_pool.adaptive_max_pool_indices(x._data, out_size))
        else:
            idx = Tensor._make(_adaptive_max_indices(x._data, out_size))
        out = _IndexGather.apply(x, idx._data, f"AdaptiveMaxPool{nd}DBackward0")
    if unbatched:
        out, idx = out.squeeze(0), idx.squeeze(0)
    return (out, idx) if return_indices else out


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Max over output_size adaptive windows of (N, C, L)."""
    return _adaptive_max_pool(input, 1, output_size, return_indices)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max over adaptive windows of (N, C, H, W); None keeps a dim's size."""
    return _adaptive_max_pool(input, 2, output_size, return_indices)


def adaptive_max_pool3d(input, output_size, return_indices=False):
    """Max over adaptive windows of (N, C, D, H, W); None keeps a dim's size."""
    return _adaptive_max_pool(input, 3, output_size, return_indices)


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=False):
    return _adaptive_max_pool(input, 1, output_size, True)


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=False):
    return _adaptive_max_pool(input, 2, output_size, True)


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=False):
    return _adaptive_max_pool(input, 3, output_size, True)


# -- fractional max pooling -------------------------------------------------------------------

def _fractional_starts(samples, n_in: int, n_out: int, pool: int):
    """PyTorch's pseudo-random window starts: one sequence per sample (computed in the
    samples' precision, as PyTorch does)."""
    dt = samples.dtype.type
    alpha = dt(n_in - pool) / dt(n_out - 1) if n_out > 1 else dt(0)
    i = np.arange(n_out, dtype=samples.dtype)
    starts = ((i + samples[..., None]) * alpha).astype(np.int64) - (
        samples[..., None] * alpha).astype(np.int64)
    starts[..., -1] = n_in - pool
    return starts


def _fractional_max_pool(input, nd, kernel_size, output_size, output_ratio, return_indices,
                         _random_samples):
    fn = f"fractional_max_pool{nd}d"
    if output_size is None and output_ratio is None:
        raise ValueError(f"{fn} requires specifying either an output_size or an output_ratio")
    if input.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"{fn}(): Expected {nd + 1}D or {nd + 2}D tensor, but got: "
                           f"{_dims_str(input.shape)}")
    kernel = _ints(kernel_size, nd, fn, "kernel_size")
    spatial = tuple(input.shape[-nd:])
    if output_size is None:
        ratio = output_ratio if isinstance(output_ratio, (list, tuple)) else (output_ratio,) * nd
        output_size = tuple(int(s * r) for s, r in zip(spatial, ratio))
    out_size = _ints(output_size, nd, fn, "output_size")
    names = ("time", "height", "width")[3 - nd:]
    for name, s, k, o in zip(names, spatial, kernel, out_size):
        # PyTorch's 3-d check is strict: a window may not end at the last element
        if o + k - 1 > s or (nd == 3 and o + k - 1 == s):
            prefix = f"{fn}()" if nd == 2 else f"{fn}_out()"
            raise RuntimeError(f"{prefix}: pool {name} {k} too large relative to input "
                               f"{name} {s}")
    x, unbatched = _batched(input, nd)
    n, c = x.shape[:2]
    if _random_samples is None:
        from ...ops.random import rand
        _random_samples = rand(n, c, nd, dtype=x.dtype, device=x.device)
    samples = _random_samples
    if samples.ndim != 3 or samples.shape[2] != nd:
        raise RuntimeError(f"Expect _random_samples.size(2) equals to {nd}; got "
                           f"{samples.shape[-1]}.")
    if samples.shape[0] < n:
        raise RuntimeError("Expect _random_samples.size(0) no less then input batch size.")
    if samples.dtype is not x.dtype:
        raise RuntimeError("Expect _random_samples to have the same dtype as input")
    drawn = backend.to_numpy(samples._data)[:n]
    # 2-d samples are (width, height); 3-d ones (time, height, width)
    order = (1, 0) if nd == 2 else (0, 1, 2)
    tables = []
    for i, (s, k, o) in enumerate(zip(spatial, kernel, out_size)):
        starts = _fractional_starts(drawn[:, :, order[i]], s, o, k)
        tables.append(starts[..., None] + np.arange(k))
    idx = _window_max_indices(x._data, tables)
    out = _IndexGather.apply(x, idx, f"FractionalMaxPool{nd}DBackward0")
    idx = Tensor._make(idx)
    if unbatched:
        out, idx = out.squeeze(0), idx.squeeze(0)
    return (out, idx) if return_indices else out


def fractional_max_pool2d(input, kernel_size, output_size=None, output_ratio=None,
                          return_indices=False, _random_samples=None):
    """Max over pseudo-randomly placed kh x kw windows of (N, C, H, W) (Graham, 2014)."""
    return _fractional_max_pool(input, 2, kernel_size, output_size, output_ratio,
                                return_indices, _random_samples)


def fractional_max_pool3d(input, kernel_size, output_size=None, output_ratio=None,
                          return_indices=False, _random_samples=None):
    """Max over pseudo-randomly placed windows of (N, C, D, H, W)."""
    return _fractional_max_pool(input, 3, kernel_size, output_size, output_ratio,
                                return_indices, _random_samples)


def fractional_max_pool2d_with_indices(input, kernel_size, output_size=None,
                                       output_ratio=None, return_indices=False,
                                       _random_samples=None):
    return _fractional_max_pool(input, 2, kernel_size, output_size, output_ratio, True,
                                _random_samples)


def fractional_max_pool3d_with_indices(input, kernel_size, output_size=None,
                                       output_ratio=None, return_indices=False,
                                       _random_samples=None):
    return _fractional_max_pool(input, 3, kernel_size, output_size, output_ratio, True,
                                _random_samples)


# -- max unpooling -----------------------------------------------------------------------------

def _max_unpool(input, indices, nd, kernel_size, stride, padding, output_size):
    fn = f"max_unpool{nd}d"
    if input.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"Input to max_unpooling{nd}d should be a {nd + 1}d or {nd + 2}d "
                           f"Tensor, but got a tensor with {input.ndim} dimensions.")
    if indices.dtype is not D.int64:
        raise RuntimeError("elements in indices should be type int64 but got: "
                           f"{_legacy(indices.dtype)}")
    if tuple(indices.shape) != tuple(input.shape):
        raise RuntimeError("Expected shape of indices to be same as that of the input tensor "
                           f"({_dims_str(input.shape)}) but got indices tensor with shape: "
                           f"{_dims_str(indices.shape)}")
    kernel = _ints(kernel_size, nd, fn, "kernel_size")
    stride = kernel if stride is None else _ints(stride, nd, fn, "stride")
    padding = _ints(padding, nd, fn, "padding")
    spatial = tuple(input.shape[-nd:])
    default = tuple((s - 1) * st - 2 * p + k for s, st, p, k in zip(spatial, stride, padding,
                                                                    kernel))
    if output_size is None:
        out_size = default
    else:
        given = tuple(int(v) for v in output_size)
        if len(given) == nd + 2 or (len(given) == nd + 1 and input.ndim == nd + 1):
            given = given[-nd:]
        if len(given) != nd:
            raise ValueError(f"output_size should be a sequence containing {nd} or {nd + 2} "
                             f"elements, but it has a length of '{len(given)}'")
        for i, (g, d, st) in enumerate(zip(given, default, stride)):
            if not d - st < g < d + st:
                raise ValueError(f"invalid output_size \"{tuple(output_size)}\" (dim {i} must "
                                 f"be between {d - st} and {d + st})")
        out_size = given
    x, unbatched = _batched(input, nd)
    idx = indices.unsqueeze(0) if unbatched else indices
    plane = math.prod(out_size)
    invalid = (idx._data < 0) | (idx._data >= plane)
    if invalid.any():
        first = int(idx._data.reshape(-1)[int(invalid.reshape(-1).argmax())])
        sizes = out_size + (1,) if nd == 1 else out_size  # 1-d unpooling runs as 2-d
        raise RuntimeError(f"Found an invalid max index: {first} (output volumes are of size "
                           f"{'x'.join(map(str, sizes))})")
    shape = tuple(x.shape[:2]) + out_size
    out = _IndexScatter.apply(x, idx._data, shape, False, f"MaxUnpool{nd}DBackward0")
    return out.squeeze(0) if unbatched else out


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Inverse of max_pool1d: puts each value back at its recorded index, zeros elsewhere."""
    return _max_unpool(input, indices, 1, kernel_size, stride, padding, output_size)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Inverse of max_pool2d: puts each value back at its recorded index, zeros elsewhere."""
    return _max_unpool(input, indices, 2, kernel_size, stride, padding, output_size)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Inverse of max_pool3d: puts each value back at its recorded index, zeros elsewhere."""
    return _max_unpool(input, indices, 3, kernel_size, stride, padding, output_size)
