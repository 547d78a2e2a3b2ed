"""Resampling and rearranging images: interpolate, grid_sample, affine_grid,
pixel_shuffle/unshuffle, channel_shuffle and unfold/fold.

interpolate is separable: each spatial dim is resampled by a small (out, in) weight
matrix (or an index gather for nearest neighbours), computed once per geometry in float64
with PyTorch's source-coordinate rules. grid_sample gathers the 2**d (or 16 bicubic)
neighbours of every sample point by flat index and weights them with differentiable
expressions of the grid, so gradients reach both the input and the grid.
"""

from __future__ import annotations

import functools
import math
import warnings

import numpy as np

from ... import backend
from ..._tensor import Tensor
from ...autograd.node import Function
from .pooling import (
    _IndexGather,
    _Window,
    _window,
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_avg_pool3d,
    resample,
)

__all__ = ["interpolate", "upsample", "upsample_nearest", "upsample_bilinear", "grid_sample",
           "affine_grid", "pixel_shuffle", "pixel_unshuffle", "channel_shuffle",
           "native_channel_shuffle", "unfold", "fold"]

_MODES = ("nearest", "linear", "bilinear", "bicubic", "trilinear", "area", "nearest-exact")
_INTERPOLATING = ("linear", "bilinear", "bicubic", "trilinear")
_MODE_NAMES = {"nearest": "UpsampleNearest", "nearest-exact": "UpsampleNearestExact",
               "linear": "UpsampleLinear", "bilinear": "UpsampleBilinear",
               "trilinear": "UpsampleTrilinear", "bicubic": "UpsampleBicubic"}


# -- interpolate: per-dim weights ----------------------------------------------------------------

def _scale(n_in: int, n_out: int, align_corners: bool, scale_factor):
    """PyTorch's area_pixel_compute_scale."""
    if align_corners:
        return (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
    if scale_factor is not None and scale_factor > 0:
        return 1.0 / scale_factor
    return n_in / n_out


def _source(n_out: int, scale: float, align_corners: bool, cubic: bool):
    dst = np.arange(n_out, dtype=np.float64)
    if align_corners:
        return dst * scale
    src = (dst + 0.5) * scale - 0.5
    return src if cubic else np.maximum(src, 0.0)


def _cubic_weights(t, a):
    """The four cubic-convolution weights of taps -1, 0, 1, 2 at fraction t (arrays or
    Tensors)."""
    def near(x):  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


def _matrix(rows, cols, weights, n_in):
    """Dense (out, in) matrix from per-output taps (duplicates add up)."""
    out = np.zeros((rows.shape[0], n_in))
    np.add.at(out, (np.broadcast_to(rows[:, None], cols.shape), cols), weights)
    return out


@functools.lru_cache(maxsize=512)
def _nearest_map(n_in: int, n_out: int, scale_factor, exact: bool, shortcut: bool):
    # PyTorch computes nearest source indices in float32; so do we, to pick the same pixels
    scale = np.float32(1.0 / scale_factor if scale_factor else n_in / n_out)
    dst = np.arange(n_out, dtype=np.float32)
    if exact:
        dst = dst + np.float32(0.5)
    idx = np.minimum(np.floor(dst * scale).astype(np.int64), n_in - 1)
    if shortcut and not exact and n_out == 2 * n_in:
        # PyTorch's 2-d nearest kernel halves the index here, whatever the scale factor
        idx = np.arange(n_out) // 2
    onehot = np.zeros((n_out, n_in))
    onehot[np.arange(n_out), idx] = 1.0
    return idx, onehot


@functools.lru_cache(maxsize=512)
def _linear_matrix(n_in: int, n_out: int, align_corners: bool, scale_factor):
    src = _source(n_out, _scale(n_in, n_out, align_corners, scale_factor), align_corners,
                  False)
    i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    i1 = np.minimum(i0 + 1, n_in - 1)
    lam = src - i0
    rows = np.arange(n_out)
    return _matrix(rows, np.stack([i0, i1], 1), np.stack([1 - lam, lam], 1), n_in)


@functools.lru_cache(maxsize=512)
def _cubic_matrix(n_in: int, n_out: int, align_corners: bool, scale_factor):
    src = _source(n_out, _scale(n_in, n_out, align_corners, scale_factor), align_corners,
                  True)
    base = np.floor(src)
    taps = np.clip(base[:, None].astype(np.int64) + np.arange(-1, 3), 0, n_in - 1)
    return _matrix(np.arange(n_out), taps, np.stack(_cubic_weights(src - base, -0.75), 1),
                   n_in)


@functools.lru_cache(maxsize=512)
def _antialias_matrix(n_in: int, n_out: int, align_corners: bool, scale_factor, cubic: bool):
    """PyTorch's antialiased (PIL-style) filter: the kernel widens by the downscale."""
    scale = _scale(n_in, n_out, align_corners, scale_factor)
    size = 4 if cubic else 2
    support = size / 2 * scale if scale >= 1 else size / 2
    invscale = 1 / scale if scale >= 1 else 1.0
    if cubic:
        def kernel(x):
            x = np.abs(x)
            a = -0.5
            return np.where(x < 1, ((a + 2) * x - (a + 3)) * x * x + 1,
                            np.where(x < 2, (((x - 5) * x + 8) * x - 4) * a, 0.0))
    else:
        def kernel(x):
            return np.maximum(0.0, 1 - np.abs(x))
    out = np.zeros((n_out, n_in))
    for i in range(n_out):  # per output row: a handful of taps, built once and cached
        center = scale * (i + 0.5)
        lo = max(int(center - support + 0.5), 0)
        hi = min(int(center + support + 0.5), n_in)
        w = kernel((np.arange(lo, hi) - center + 0.5) * invscale)
        total = w.sum()
        out[i, lo:hi] = w / total if total != 0 else w
    return out


# -- interpolate ----------------------------------------------------------------------------------

def _as_tuple(value, n):
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return tuple(value)
    return (value,) * n


def _output_size(input, nd, size, scale_factor, recompute_scale_factor):
    spatial = tuple(input.shape[2:])
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        if recompute_scale_factor:
            raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
        if isinstance(size, (list, tuple)):
            if len(size) != nd:
                raise ValueError(
                    "Input and output must have the same number of spatial dimensions, but got "
                    f"input with spatial dimensions of {list(spatial)} and output size of "
                    f"{size}. Please provide input tensor in (N, C, d1, d2, ...,dK) format and "
                    "output size in (o1, o2, ...,oK) format.")
            out = tuple(int(s) for s in size)
        else:
            out = (int(size),) * nd
        return out, (None,) * nd
    if scale_factor is None:
        raise ValueError("either size or scale_factor should be defined")
    if isinstance(scale_factor, (list, tuple)):
        if len(scale_factor) != nd:
            raise ValueError(
                "Input and scale_factor must have the same number of spatial dimensions, but "
                f"got input with spatial dimensions of {list(spatial)} and scale_factor of "
                f"shape {scale_factor}. Please provide input tensor in (N, C, d1, d2, ...,dK) "
                "format and scale_factor in (s1, s2, ...,sK) format.")
        scales = tuple(float(s) for s in scale_factor)
    else:
        scales = (float(scale_factor),) * nd
    out = tuple(math.floor(float(s) * f) for s, f in zip(spatial, scales))
    return out, ((None,) * nd if recompute_scale_factor else scales)


def interpolate(input, size=None, scale_factor=None, mode: str = "nearest",
                align_corners=None, recompute_scale_factor=None, antialias: bool = False):
    """Resizes (N, C, *spatial) input to `size` or by `scale_factor` (PyTorch's modes)."""
    if mode in ("nearest", "area", "nearest-exact") and align_corners is not None:
        raise ValueError("align_corners option can only be set with the interpolating modes: "
                         "linear | bilinear | bicubic | trilinear")
    if align_corners is None:
        align_corners = False
    nd = input.ndim - 2
    if antialias and not (mode in ("bilinear", "bicubic") and input.ndim == 4):
        raise ValueError("Anti-alias option is restricted to bilinear, bicubic, and lanczos "
                         "modes and requires a 4-D tensor as input")
    if mode not in _MODES or nd not in (1, 2, 3):
        raise NotImplementedError(
            f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.ndim}D) for "
            "the modes: nearest | linear | bilinear | bicubic | trilinear | lanczos | area | "
            f"nearest-exact (got {mode})")
    needs = {"linear": 3, "bilinear": 4, "bicubic": 4, "trilinear": 5}.get(mode)
    if needs is not None and input.ndim != needs:
        raise NotImplementedError(f"Got {input.ndim}D input, but {mode} mode needs {needs}D "
                                  "input")
    out, scales = _output_size(input, nd, size, scale_factor, recompute_scale_factor)
    spatial = tuple(input.shape[2:])
    if any(o <= 0 for o in out) or any(s <= 0 for s in spatial):
        names = ("D", "H", "W")[3 - nd:]
        raise RuntimeError(
            "Input and output sizes should be greater than 0, but got input ("
            + ", ".join(f"{n}: {s}" for n, s in zip(names, spatial)) + ") output ("
            + ", ".join(f"{n}: {o}" for n, o in zip(names, out)) + ")")
    if mode == "area":
        return (adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d)[nd - 1](
            input, out)
    axes = []
    for i, (n_in, n_out, sf) in enumerate(zip(spatial, out, scales)):
        axis = 2 + i
        if mode in ("nearest", "nearest-exact"):
            if n_in != n_out:
                idx, onehot = _nearest_map(n_in, n_out, sf, mode == "nearest-exact", nd == 2)
                axes.append((axis, idx, onehot))
        elif antialias:  # PyTorch filters every dim, up- or downsampled
            axes.append((axis, None, _antialias_matrix(n_in, n_out, align_corners, sf,
                                                       mode == "bicubic")))
        elif mode == "bicubic":
            axes.append((axis, None, _cubic_matrix(n_in, n_out, align_corners, sf)))
        elif n_in != n_out or sf is not None or align_corners:
            axes.append((axis, None, _linear_matrix(n_in, n_out, align_corners, sf)))
    name = _MODE_NAMES[mode] + ("AA" if antialias else "") + f"{nd}DBackward0"
    return resample(input, axes, name)


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Deprecated alias of interpolate."""
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """Deprecated: interpolate(..., mode='nearest')."""
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """Deprecated: interpolate(..., mode='bilinear', align_corners=True)."""
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# -- grid_sample / affine_grid ------------------------------------------------------------------

_GRID_DEFAULT_WARNING = (
    "Default grid_sample and affine_grid behavior has changed to align_corners=False since "
    "1.3.0. Please specify align_corners=True if the old behavior is desired. See the "
    "documentation of grid_sample for details.")


def _unnormalize(coord, size: int, align_corners: bool):
    """[-1, 1] grid coordinates to pixel coordinates."""
    if align_corners:
        return (coord + 1) * ((size - 1) / 2)
    return ((coord + 1) * size - 1) / 2


def _reflect(coord, twice_low: int, twice_high: int):
    """Reflects coordinates into [twice_low/2, twice_high/2] (differentiably)."""
    if twice_low == twice_high:
        return coord * 0
    low = twice_low / 2
    span = (twice_high - twice_low) / 2
    dist = (coord - low).abs()
    extra = dist.fmod(span)
    flips = (dist / span).floor().detach()
    even = (flips.fmod(2) == 0)
    import taimatsu
    return taimatsu.where(even, extra + low, span - extra + low)


def _apply_padding(coord, size: int, padding_mode: str, align_corners: bool):
    if padding_mode == "border":
        return coord.clamp(0, size - 1)
    if padding_mode == "reflection":
        if align_corners:
            coord = _reflect(coord, 0, 2 * (size - 1))
        else:
            coord = _reflect(coord, -1, 2 * size - 1)
        return coord.clamp(0, size - 1)
    return coord


def _integer_tap(coord, size: int, padding_mode: str, align_corners: bool):
    """Integer tap coordinates (an array) with the padding mode applied, for bicubic."""
    taps = _apply_padding(Tensor._make(coord.astype(np.float64)), size, padding_mode,
                          align_corners)
    return taps._data.astype(np.int64)


def _gather_taps(input, taps, spatial):
    """input's values at integer taps (one array per spatial dim, (N, *out)); taps outside
    the input read zero. Returns (values (N, C, *out), in-bounds mask)."""
    xp = backend.of(taps[0])
    inside = None
    flat = 0
    for t, size, pitch in zip(taps, spatial, _pitches(spatial)):
        ok = (t >= 0) & (t < size)
        inside = ok if inside is None else inside & ok
        flat = flat + xp.clip(t, 0, size - 1) * pitch
    idx = xp.expand_dims(flat, 1)
    values = _IndexGather.apply(input, idx, "GridSampler2DBackward0")
    return values, inside


def _pitches(spatial):
    return [math.prod(spatial[i + 1:]) for i in range(len(spatial))]


def _mask_tensor(mask, dtype):
    return Tensor._make(mask.astype(dtype.np))


def grid_sample(input, grid, mode: str = "bilinear", padding_mode: str = "zeros",
                align_corners=None):
    """Samples input (N, C, H, W) [or (N, C, D, H, W)] at the normalized grid positions
    (N, H_out, W_out, 2) [or (N, D_out, H_out, W_out, 3)], grid[..., 0] being x."""
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError("nn.functional.grid_sample(): expected mode to be 'bilinear', "
                         f"'nearest' or 'bicubic', but got: '{mode}'")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError("nn.functional.grid_sample(): expected padding_mode to be 'zeros', "
                         f"'border', or 'reflection', but got: '{padding_mode}'")
    if align_corners is None:
        warnings.warn(_GRID_DEFAULT_WARNING, UserWarning, stacklevel=2)
        align_corners = False
    _check_grid_sample(input, grid, mode)
    nd = input.ndim - 2
    spatial = tuple(input.shape[2:])
    from ...ops.arithmetic import promote
    input, grid = promote(input, grid)
    # grid[..., 0] indexes the last spatial dim: reverse to (D,) H, W order
    coords = [_unnormalize(grid[..., nd - 1 - i], spatial[i], align_corners)
              for i in range(nd)]
    if mode == "bicubic":
        return _bicubic(input, coords, spatial, padding_mode, align_corners)
    coords = [_apply_padding(c, s, padding_mode, align_corners)
              for c, s in zip(coords, spatial)]
    if mode == "nearest":
        taps = [c.detach().round()._data.astype(np.int64) for c in coords]
        values, inside = _gather_taps(input, taps, spatial)
        return values * _mask_tensor(inside, input.dtype).unsqueeze(1)
    base = [c.detach().floor() for c in coords]
    frac = [c - b for c, b in zip(coords, base)]  # differentiable in the grid
    base = [b._data.astype(np.int64) for b in base]
    out = None
    for corner in np.ndindex(*(2,) * nd):
        weight = None
        for f, bit in zip(frac, corner):
            w = f if bit else 1 - f
            weight = w if weight is None else weight * w
        values, inside = _gather_taps(input, [b + bit for b, bit in zip(base, corner)],
                                      spatial)
        term = values * (weight * _mask_tensor(inside, input.dtype)).unsqueeze(1)
        out = term if out is None else out + term
    return out


def _bicubic(input, coords, spatial, padding_mode, align_corners):
    y, x = coords
    fy, fx = y.detach().floor(), x.detach().floor()
    wy, wx = _cubic_weights(y - fy, -0.75), _cubic_weights(x - fx, -0.75)
    fy, fx = fy._data.astype(np.int64), fx._data.astype(np.int64)
    out = None
    for i in range(4):
        ty_i = _integer_tap(fy - 1 + i, spatial[0], padding_mode, align_corners)
        for j in range(4):
            tx_j = _integer_tap(fx - 1 + j, spatial[1], padding_mode, align_corners)
            values, inside = _gather_taps(input, [ty_i, tx_j], spatial)
            w = wy[i] * wx[j] * _mask_tensor(inside, input.dtype)
            term = values * w.unsqueeze(1)
            out = term if out is None else out + term
    return out


def _check_grid_sample(input, grid, mode):
    nd = input.ndim - 2
    if input.ndim not in (4, 5) or grid.ndim != input.ndim:
        raise RuntimeError(f"grid_sampler(): expected {input.ndim}D input and grid with same "
                           "number of dimensions, but got input with sizes "
                           f"{list(input.shape)} and grid with sizes {list(grid.shape)}")
    if grid.shape[0] != input.shape[0]:
        raise RuntimeError("grid_sampler(): expected grid and input to have same batch size, "
                           f"but got input with sizes {list(input.shape)} and grid with sizes "
                           f"{list(grid.shape)}")
    if grid.shape[-1] != nd:
        raise RuntimeError(f"grid_sampler(): expected grid to have size {nd} in last "
                           f"dimension, but got grid with sizes {list(grid.shape)}")
    if mode == "bicubic" and nd != 2:
        raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")
    if any(s == 0 for s in input.shape[2:]):
        raise RuntimeError("grid_sampler(): expected input to have non-empty spatial "
                           f"dimensions, but input has sizes {list(input.shape)} with "
                           "dimension 2 being empty")


def _base_coords(steps: int, align_corners: bool, np_dtype):
    if steps <= 1:
        return np.zeros(1, dtype=np_dtype)
    lin = np.linspace(-1, 1, steps)
    if not align_corners:
        lin = lin * (steps - 1) / steps
    return lin.astype(np_dtype)


def affine_grid(theta, size, align_corners=None):
    """The sampling grid (N, H, W, 2) [or (N, D, H, W, 3)] of the affine maps theta
    (N, 2, 3) [or (N, 3, 4)] over an output of `size`."""
    if align_corners is None:
        warnings.warn(_GRID_DEFAULT_WARNING, UserWarning, stacklevel=2)
        align_corners = False
    size = tuple(int(s) for s in size)
    if not theta.dtype.is_floating_point:
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    if len(size) == 4:
        if theta.ndim != 3 or tuple(theta.shape[-2:]) != (2, 3):
            raise ValueError("Expected a batch of 2D affine matrices of shape Nx2x3 for size "
                             f"{size}. Got {theta.shape}.")
    elif len(size) == 5:
        if theta.ndim != 3 or tuple(theta.shape[-2:]) != (3, 4):
            raise ValueError("Expected a batch of 3D affine matrices of shape Nx3x4 for size "
                             f"{size}. Got {theta.shape}.")
    else:
        raise NotImplementedError("affine_grid only supports 4D and 5D sizes, for 2D and 3D "
                                  f"affine transforms, respectively. Got size {size}.")
    if align_corners and min(size[2:]) == 1:
        warnings.warn("Since version 1.3.0, affine_grid behavior has changed for unit-size "
                      "grids when align_corners=True. This is not an intended use case of "
                      "affine_grid. See the documentation of affine_grid for details.",
                      UserWarning, stacklevel=2)
    if min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")
    n, spatial = size[0], size[2:]
    nd = len(spatial)
    if theta.shape[0] != n:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{n}, {nd + 1}] but got: [{theta.shape[0]}, {theta.shape[2]}].")
    dt = theta.dtype.np
    axes = [_base_coords(s, align_corners, dt) for s in spatial]  # (D,) H, W
    mesh = np.meshgrid(*axes, indexing="ij")
    # columns x, y(, z), 1: x runs along the last dim
    base = np.stack([m for m in reversed(mesh)] + [np.ones(spatial, dtype=dt)], axis=-1)
    base_t = Tensor._make(backend.of(theta._data).asarray(base.reshape(1, -1, nd + 1)))
    from ...ops.linalg import matmul
    grid = matmul(base_t, theta.transpose(1, 2))
    return grid.reshape((n,) + tuple(spatial) + (nd,))


# -- pixel / channel shuffle ----------------------------------------------------------------------

def pixel_shuffle(input, upscale_factor: int):
    """(*, C*r*r, H, W) -> (*, C, H*r, W*r)."""
    r = int(upscale_factor)
    if input.ndim < 3:
        raise RuntimeError("pixel_shuffle expects input to have at least 3 dimensions, but got "
                           f"input with {input.ndim} dimension(s)")
    if r <= 0:
        raise RuntimeError(f"pixel_shuffle expects a positive upscale_factor, but got {r}")
    *lead, c, h, w = input.shape
    if c % (r * r):
        raise RuntimeError("pixel_shuffle expects its input's 'channel' dimension to be "
                           f"divisible by the square of upscale_factor, but input.size(-3)={c} "
                           f"is not divisible by {r * r}")
    nl = len(lead)
    x = input.reshape(tuple(lead) + (c // (r * r), r, r, h, w))
    perm = tuple(range(nl)) + tuple(nl + i for i in (0, 3, 1, 4, 2))
    return x.permute(*perm).reshape(tuple(lead) + (c // (r * r), h * r, w * r))


def pixel_unshuffle(input, downscale_factor: int):
    """(*, C, H*r, W*r) -> (*, C*r*r, H, W)."""
    r = int(downscale_factor)
    if input.ndim < 3:
        raise RuntimeError("pixel_unshuffle expects input to have at least 3 dimensions, but "
                           f"got input with {input.ndim} dimension(s)")
    if r <= 0:
        raise RuntimeError(f"pixel_unshuffle expects a positive downscale_factor, but got {r}")
    *lead, c, h, w = input.shape
    if h % r:
        raise RuntimeError("pixel_unshuffle expects height to be divisible by downscale_factor, "
                           f"but input.size(-2)={h} is not divisible by {r}")
    if w % r:
        raise RuntimeError("pixel_unshuffle expects width to be divisible by downscale_factor, "
                           f"but input.size(-1)={w} is not divisible by {r}")
    nl = len(lead)
    x = input.reshape(tuple(lead) + (c, h // r, r, w // r, r))
    perm = tuple(range(nl)) + tuple(nl + i for i in (0, 2, 4, 1, 3))
    return x.permute(*perm).reshape(tuple(lead) + (c * r * r, h // r, w // r))


def channel_shuffle(input, groups: int):
    """Interleaves the channels of `groups` groups: (N, g*k, *) -> channels k-major."""
    if input.ndim < 3:
        raise RuntimeError("channel_shuffle expects input with > 2 dims, but got input with "
                           f"sizes {list(input.shape)}")
    g = int(groups)
    if g <= 0:
        raise RuntimeError("Number of groups to divide channels in must be positive. Value of "
                           f"groups:{g}")
    n, c = input.shape[:2]
    if c % g:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {c} channels "
                           f"and {g} groups.")
    rest = tuple(input.shape[2:])
    return input.reshape((n, g, c // g) + rest).transpose(1, 2).reshape((n, c) + rest)


native_channel_shuffle = channel_shuffle


# -- unfold / fold (im2col / col2im) --------------------------------------------------------------

def _im2col(x, win: _Window):
    xp = backend.of(x)
    n, c = x.shape[:2]
    buf = win.padded_buffer(x, 0)
    cols = xp.empty((n, c, len(win.offsets)) + win.out, dtype=x.dtype)
    for k, off in enumerate(win.offsets):
        cols[:, :, k] = win.view(buf, off)
    return cols.reshape(n, c * len(win.offsets), math.prod(win.out))


def _col2im(cols, win: _Window):
    xp = backend.of(cols)
    n = cols.shape[0]
    k = len(win.offsets)
    c = cols.shape[1] // k
    cols = cols.reshape((n, c, k) + win.out)
    buf = xp.zeros((n, c) + win.padded, dtype=cols.dtype)
    for i, off in enumerate(win.offsets):
        win.view(buf, off)[...] += cols[:, :, i]
    return xp.ascontiguousarray(buf[win.interior()]) if win.needs_pad else buf


class _Im2Col(Function):
    _backward_name = "Im2ColBackward0"

    @staticmethod
    def forward(ctx, x, win):
        ctx.win = win
        return _im2col(x, win)

    @staticmethod
    def backward(ctx, g):
        if isinstance(g, Tensor):
            return _Col2Im.apply(g, ctx.win)
        return _col2im(g, ctx.win)


class _Col2Im(Function):
    _backward_name = "Col2ImBackward0"

    @staticmethod
    def forward(ctx, cols, win):
        ctx.win = win
        return _col2im(cols, win)

    @staticmethod
    def backward(ctx, g):
        if isinstance(g, Tensor):
            return _Im2Col.apply(g, ctx.win)
        return _im2col(g, ctx.win)


def _pair(v, name):
    if isinstance(v, (int, np.integer)):
        return (int(v),) * 2
    v = tuple(int(a) for a in v)
    if len(v) == 1:
        return v * 2
    if len(v) != 2:
        raise RuntimeError(f"{name} must be an int or a tuple of two ints")
    return v


def _fold_window(spatial, kernel_size, dilation, padding, stride):
    kernel, dilation = _pair(kernel_size, "kernel_size"), _pair(dilation, "dilation")
    padding, stride = _pair(padding, "padding"), _pair(stride, "stride")
    if any(k <= 0 for k in kernel):
        raise RuntimeError(f"kernel size should be greater than zero, but got kernel_height: "
                           f"{kernel[0]} kernel_width: {kernel[1]}")
    if any(s <= 0 for s in stride):
        raise RuntimeError(f"stride should be greater than zero, but got stride_height: "
                           f"{stride[0]} stride_width: {stride[1]}")
    if any(d <= 0 for d in dilation):
        raise RuntimeError(f"dilation should be greater than zero, but got dilation_height: "
                           f"{dilation[0]} dilation_width: {dilation[1]}")
    if any(p < 0 for p in padding):
        raise RuntimeError(f"padding should be non-negative, but got pad_height: {padding[0]} "
                           f"pad_width: {padding[1]}")
    win = _window(tuple(spatial), kernel, stride, padding, dilation, False)
    return win, kernel, dilation, padding, stride


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Extracts sliding blocks: (N, C, H, W) -> (N, C*kh*kw, L) (im2col)."""
    if input.ndim not in (3, 4) or any(s == 0 for s in input.shape[1:]):
        raise RuntimeError("Expected 3D or 4D (batch mode) tensor with possibly 0 batch size "
                           "and other non-zero dimensions for input, but got: "
                           f"{list(input.shape)}")
    x = input.unsqueeze(0) if input.ndim == 3 else input
    win, kernel, dilation, padding, stride = _fold_window(x.shape[2:], kernel_size, dilation,
                                                          padding, stride)
    if any(o <= 0 for o in win.out):
        raise RuntimeError(f"Given input with spatial size {tuple(x.shape[2:])}, "
                           f"kernel_size={kernel}, dilation={dilation}, padding={padding}, "
                           f"calculated shape of the array of sliding blocks as {win.out}, but "
                           "its components must be at least one.")
    out = _Im2Col.apply(x, win)
    return out.squeeze(0) if input.ndim == 3 else out


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Sums sliding blocks back into an image: (N, C*kh*kw, L) -> (N, C, *output_size)."""
    if input.ndim not in (2, 3) or any(s == 0 for s in input.shape[1:]):
        raise RuntimeError("Expected 2D or 3D (batch mode) tensor for input with possibly 0 "
                           "batch size and non-zero dimensions for input, but got: "
                           f"{list(input.shape)}")
    x = input.unsqueeze(0) if input.ndim == 2 else input
    out_size = _pair(output_size, "output_size")
    win, kernel, dilation, padding, stride = _fold_window(out_size, kernel_size, dilation,
                                                          padding, stride)
    k = kernel[0] * kernel[1]
    if x.shape[1] % k:
        raise RuntimeError("Expected size of input's dimension 1 to be divisible by the product "
                           f"of kernel_size, but got input.size(1)={x.shape[1]} and "
                           f"kernel_size={kernel}.")
    blocks = win.out[0] * win.out[1]
    if x.shape[2] != blocks or any(o <= 0 for o in win.out):
        raise RuntimeError(f"Given output_size={out_size}, kernel_size={kernel}, "
                           f"dilation={dilation}, padding={padding}, stride={stride}, expected "
                           "size of input's dimension 2 to match the calculated number of "
                           f"sliding blocks {win.out[0]} * {win.out[1]} = {blocks}, but got "
                           f"input.size(2)={x.shape[2]}.")
    out = _Col2Im.apply(x, win)
    return out.squeeze(0) if input.ndim == 2 else out
