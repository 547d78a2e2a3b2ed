"""Convolutions on CUDA: our im2col / col2im kernels (kernels/im2col.cu) around cuBLAS
GEMMs (through the array module's matmul).

With K the kernel volume, L the number of output positions and groups G, one image's
columns are (C*K, L) = (G, C/G*K, L) and the weight is (G, O/G, C/G*K):

    forward  y[n]  = W @ cols[n]             image-major cols: the batched GEMM writes NCHW
    data     gx    = col2im(W^T @ gy[n])     the adjoint of forward in x
    weight   gw^T  = cols @ gy^T             channel-major cols: one GEMM of depth m*L

Columns are built for a chunk of images at a time so that they never take more than
MAX_COLS_BYTES, whatever the batch. They are in the input dtype; cuBLAS accumulates
16-bit GEMMs in float32, and the weight gradient sums its chunks in float32 too.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from ... import backend
from ._module import Module, acc_dtype, dtype_suffix, grid_1d

_MODULE = Module("im2col.cu")

# Launch shape and the column buffer cap; read at call time, so tests can shrink them.
BLOCK = 256
MAX_BLOCKS = 65535
MAX_COLS_BYTES = 256 << 20


class Geometry:
    """The windows of one convolution: input size, output size, kernel, stride, padding
    before the start (the end's padding only shows in `out`) and dilation, 1 to 3 dims."""

    def __init__(self, spatial, out, kernel, stride, padding, dilation):
        self.spatial, self.out, self.kernel = tuple(spatial), tuple(out), tuple(kernel)
        self.positions = math.prod(self.out)
        self.taps = math.prod(self.kernel)
        _check_int32(self.positions, math.prod(self.spatial))
        lead = 3 - len(self.spatial)  # the kernels see (D, H, W), leading dims of size 1
        self.args = []
        for values, fill in ((spatial, 1), (out, 1), (kernel, 1), (stride, 1),
                             (padding, 0), (dilation, 1)):
            self.args += [np.int32(v) for v in (fill,) * lead + tuple(values)]


def _check_int32(*sizes):
    """The kernels index within one image's rows, positions and planes with 32-bit ints."""
    if max(sizes) >= 2 ** 31:
        raise RuntimeError("convolution too large for the CUDA im2col kernels: a plane, "
                           "the kernel rows or the output positions exceed 2^31 elements")


@functools.lru_cache(maxsize=512)
def geometry(spatial, out, kernel, stride, padding, dilation) -> Geometry:
    """The (cached) Geometry of these tuples."""
    return Geometry(spatial, out, kernel, stride, padding, dilation)


def supports(x) -> bool:
    """Whether the kernels cover this array's dtype."""
    return dtype_suffix(x.dtype) is not None


def _launch(name, array, total, args, block, max_blocks):
    _MODULE[f"{name}_{dtype_suffix(array.dtype)}"](grid_1d(total, block, max_blocks), block,
                                                   args)


def im2col(x, geom: Geometry, channel_major=False, out=None, block=None, max_blocks=None):
    """Columns of x (m, C, *spatial): (m, C*K, L), or (C*K, m, L) when channel_major."""
    xp = backend.of(x)
    x = xp.ascontiguousarray(x)
    m, c = x.shape[:2]
    _check_int32(c * geom.taps)
    shape = (c * geom.taps, m, geom.positions) if channel_major else (
        m, c * geom.taps, geom.positions)
    cols = xp.empty(shape, dtype=x.dtype) if out is None else out
    if cols.size:
        _launch("im2col", x, cols.size,
                [x, cols, np.int64(m), np.int32(c), np.int32(channel_major)] + geom.args,
                block or BLOCK, max_blocks or MAX_BLOCKS)
    return cols


def col2im(cols, geom: Geometry, images: int, channels: int, channel_major=False, out=None,
           block=None, max_blocks=None):
    """The adjoint of im2col: (images, channels, *spatial), each input element the sum of
    the column entries taken from it."""
    xp = backend.of(cols)
    _check_int32(channels * geom.taps)
    x = xp.empty((images, channels) + geom.spatial, dtype=cols.dtype) if out is None else out
    if x.size:
        _launch("col2im", cols, x.size,
                [cols, x, np.int64(images), np.int32(channels), np.int32(channel_major)]
                + geom.args, block or BLOCK, max_blocks or MAX_BLOCKS)
    return x


def _chunk(images: int, per_image: int, itemsize: int) -> int:
    """Images per column buffer of at most MAX_COLS_BYTES (at least one)."""
    return max(1, min(images, MAX_COLS_BYTES // max(1, per_image * itemsize)))


def conv_forward(x, w, bias, geom: Geometry, groups: int):
    """y (N, O, *out) = conv(x, w) + bias for x (N, C, *spatial), w (O, C/groups, *kernel)."""
    xp = backend.of(x)
    x, w = xp.ascontiguousarray(x), xp.ascontiguousarray(w)
    n, c = x.shape[:2]
    o = w.shape[0]
    rows, length = c * geom.taps, geom.positions
    y = xp.empty((n, o) + geom.out, dtype=x.dtype)
    if y.size and rows == 0:
        y[...] = 0
    elif y.size:
        wg = w.reshape(groups, o // groups, rows // groups)
        step = _chunk(n, rows * length, x.itemsize)
        buffer = xp.empty(step * rows * length, dtype=x.dtype)
        for n0 in range(0, n, step):
            m = min(step, n - n0)
            cols = im2col(x[n0:n0 + m], geom, out=buffer[:m * rows * length].reshape(
                m, rows, length))
            # (G, O/G, C/G*K) @ (m, G, C/G*K, L) -> (m, G, O/G, L): NCHW, no transpose
            xp.matmul(wg, cols.reshape(m, groups, rows // groups, length),
                      out=y[n0:n0 + m].reshape(m, groups, o // groups, length))
    if bias is not None:
        y += bias.reshape((o,) + (1,) * len(geom.out))
    return y


def conv_data(gy, w, geom: Geometry, groups: int):
    """gx (N, C, *spatial) = conv^T(gy, w): conv's input gradient, and conv_transpose."""
    xp = backend.of(gy)
    gy, w = xp.ascontiguousarray(gy), xp.ascontiguousarray(w)
    n, o = gy.shape[:2]
    c = w.shape[1] * groups
    rows, length = c * geom.taps, geom.positions
    gx = xp.empty((n, c) + geom.spatial, dtype=gy.dtype)
    if gx.size and gy.size == 0:
        gx[...] = 0
    elif gx.size:
        wt = xp.ascontiguousarray(w.reshape(groups, o // groups, rows // groups).swapaxes(1, 2))
        step = _chunk(n, rows * length, gy.itemsize)
        buffer = xp.empty(step * rows * length, dtype=gy.dtype)
        for n0 in range(0, n, step):
            m = min(step, n - n0)
            cols = buffer[:m * rows * length].reshape(m, rows, length)
            xp.matmul(wt, gy[n0:n0 + m].reshape(m, groups, o // groups, length),
                      out=cols.reshape(m, groups, rows // groups, length))
            col2im(cols, geom, m, c, out=gx[n0:n0 + m])
    return gx


def conv_weight(x, gy, geom: Geometry, groups: int):
    """gw (O, C/groups, *kernel) = corr(x, gy): conv's weight gradient."""
    xp = backend.of(x)
    x, gy = xp.ascontiguousarray(x), xp.ascontiguousarray(gy)
    n, c = x.shape[:2]
    o = gy.shape[1]
    rows, length = c * geom.taps, geom.positions
    og, width = o // groups, rows // groups
    # 16-bit chunks are summed in float32; a single chunk's GEMM already is
    acc = acc_dtype(x.dtype)
    total = None
    if rows and n:
        step = _chunk(n, rows * length, x.itemsize)
        buffer = xp.empty(step * rows * length, dtype=x.dtype)
        for n0 in range(0, n, step):
            m = min(step, n - n0)
            cols = im2col(x[n0:n0 + m], geom, channel_major=True,
                          out=buffer[:m * rows * length].reshape(rows, m, length))
            # gy's chunk as (G, m*L, O/G): a copy the size of the output, not of the columns
            gyt = xp.ascontiguousarray(gy[n0:n0 + m].reshape(m, groups, og, length)
                                       .transpose(1, 0, 3, 2)).reshape(groups, m * length, og)
            part = xp.matmul(cols.reshape(groups, width, m * length), gyt)  # (G, width, og)
            if total is None:
                total = part if step >= n else part.astype(acc)
            else:
                total += part
    if total is None:
        return xp.zeros((o, c // groups) + geom.kernel, dtype=x.dtype)
    gw = xp.ascontiguousarray(total.swapaxes(1, 2), dtype=x.dtype)
    return gw.reshape((o, c // groups) + geom.kernel)
