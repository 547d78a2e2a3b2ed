"""Winograd F(2x2, 3x3): 3x3, stride-1 2-D convolutions with 2.25x fewer multiplies.

Each 2x2 block of outputs (a tile) is computed from the 4x4 input patch d around it as

    y = A^T [ (G g G^T) * (B^T d B) ] A

where g is the 3x3 kernel, `*` is elementwise over the 16 transformed positions, and A, B, G
are small constant matrices with entries 0, +-1 and 1/2. Summed over input channels, the
elementwise products become 16 GEMMs of (out_ch x in_ch) by (in_ch x tiles): 16 multiplies
per 4 outputs instead of 36. The transforms are additions only, written as whole-array
NumPy passes. Used for the 3x3 stride-1 convolutions that dominate ResNet-style networks:
forward, the data gradient (again such a convolution) and the weight gradient (the same
formula's adjoint in g). Float rounding stays within a few ulps of the direct product
because the transform entries are so small.
"""

from __future__ import annotations

import numpy as np

# G (4x3) maps a kernel row to its transformed row; kron(G, G) maps the flattened 3x3
# kernel to the 16 transformed entries, indexed (row a, column b) -> 4a + b.
_G = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0.0, 0.0, 1.0]])
_KRON_G = np.kron(_G, _G)

_MIN_CHANNELS = 16  # below this the transforms cost more than the multiplies they save
_CHUNK_BYTES = 4 << 20  # transformed input (V) per batch chunk: stays in the L3 cache


def applies(plan, x) -> bool:
    """Whether the convolution `plan` on array x takes the Winograd path."""
    return (type(x) is np.ndarray and x.dtype in (np.float32, np.float64)
            and plan.kernel == (3, 3) and plan.stride == (1, 1) and plan.dilation == (1, 1)
            and plan.groups == 1 and plan.in_ch >= _MIN_CHANNELS
            and plan.out_ch >= _MIN_CHANNELS)


def conv3x3(x, w, bias, lo, out_size):
    """y (N, O, *out_size) = conv2d(x, w) + bias for x zero-padded by lo before the start
    (padding after the end is implied by out_size)."""
    n, c = x.shape[:2]
    o = w.shape[0]
    th, tw = (out_size[0] + 1) // 2, (out_size[1] + 1) // 2
    u = _weight_transform(w)
    y = np.empty((n, o) + tuple(out_size), dtype=x.dtype)
    per_image = 16 * th * tw * c * x.itemsize
    step = max(1, min(n, _CHUNK_BYTES // per_image))
    for n0 in range(0, n, step):
        v = _input_transform(x[n0:n0 + step], lo, th, tw)
        m = np.matmul(u, v.swapaxes(1, 2))  # (16, O, images * tiles)
        _output_transform(m, th, tw, bias, y[n0:n0 + step])
    return y


def weight_grad(x, gy, lo):
    """The weight gradient of conv3x3: corr(x, gy) as (O, C, 3, 3).

    The adjoint of the forward formula in g: per tile, G^T [(A gy A^T) * (B^T d B)] G,
    summed over tiles and images, so the sum over tiles is again 16 GEMMs (with the
    long tile dimension as their depth)."""
    n, c = x.shape[:2]
    o, ho, wo = gy.shape[1:]
    th, tw = (ho + 1) // 2, (wo + 1) // 2
    m = np.zeros((16, o, c), dtype=x.dtype)
    per_image = 16 * th * tw * c * x.itemsize
    step = max(1, min(n, _CHUNK_BYTES // per_image))
    for n0 in range(0, n, step):
        v = _input_transform(x[n0:n0 + step], lo, th, tw)
        q = _grad_transform(gy[n0:n0 + step], th, tw)
        m += np.matmul(q, v)  # (16, O, C)
    gw = _KRON_G.T.astype(x.dtype) @ m.reshape(16, o * c)  # (9, O * C)
    return np.ascontiguousarray(gw.T).reshape(o, c, 3, 3)


def _grad_transform(gy, th, tw):
    """A gy A^T for each 2x2 tile of gy (N, O, ho, wo), as (16, O, N * th * tw)."""
    n, o, ho, wo = gy.shape
    t = np.zeros((o, n, 2 * th, 2 * tw), dtype=gy.dtype)  # odd sizes: zero-filled tiles
    t[:, :, :ho, :wo] = gy.swapaxes(0, 1)
    y = [[t[:, :, i::2, j::2] for j in range(2)] for i in range(2)]  # y[i][j]: (O, N, th, tw)
    # A = [[1, 0], [1, 1], [1, -1], [0, -1]] along the rows, then the columns
    rows = [(y[0][j], y[0][j] + y[1][j], y[0][j] - y[1][j], -y[1][j]) for j in range(2)]
    q = np.empty((16, o, n, th, tw), dtype=gy.dtype)
    for a in range(4):
        left, right = rows[0][a], rows[1][a]
        q[4 * a] = left
        np.add(left, right, out=q[4 * a + 1])
        np.subtract(left, right, out=q[4 * a + 2])
        np.negative(right, out=q[4 * a + 3])
    return q.reshape(16, o, -1)


def _weight_transform(w):
    """(O, C, 3, 3) -> G g G^T for every kernel, as (16, O, C)."""
    o, c = w.shape[:2]
    return (_KRON_G.astype(w.dtype) @ w.reshape(o * c, 9).T).reshape(16, o, c)


def _input_transform(x, lo, th, tw):
    """x (N, C, H, W) -> B^T d B for each tile's 4x4 patch d, as (16, N * th * tw, C).

    Channels go last so that every slice below walks contiguous runs of C (or longer)
    values; NumPy passes over short runs cost several times more per element."""
    n, c, h, wd = x.shape
    rows, cols = 2 * th + 2, 2 * tw + 2  # the padded extent the tiles read
    p = np.zeros((n, rows, cols, c), dtype=x.dtype)
    hh, ww = min(h, rows - lo[0]), min(wd, cols - lo[1])
    p[:, lo[0]:lo[0] + hh, lo[1]:lo[1] + ww] = x[:, :, :hh, :ww].transpose(0, 2, 3, 1)
    # B^T along the rows (patch row k of tile i is padded row 2i + k), then along columns
    r = [p[:, k:k + 2 * th:2] for k in range(4)]
    v = np.empty((16, n, th, tw, c), dtype=x.dtype)
    for a, ra in enumerate((r[0] - r[2], r[1] + r[2], r[2] - r[1], r[1] - r[3])):
        q = [ra[:, :, k:k + 2 * tw:2] for k in range(4)]
        np.subtract(q[0], q[2], out=v[4 * a])
        np.add(q[1], q[2], out=v[4 * a + 1])
        np.subtract(q[2], q[1], out=v[4 * a + 2])
        np.subtract(q[1], q[3], out=v[4 * a + 3])
    return v.reshape(16, n * th * tw, c)


def _output_transform(m, th, tw, bias, y):
    """A^T m A per tile, plus bias, written into y (N, O, ho, wo) (cropping odd sizes)."""
    n, o, ho, wo = y.shape
    m = m.reshape(4, 4, o, n, th, tw)
    s0 = m[0] + m[1]  # A^T along the rows: two output rows from four
    s0 += m[2]
    s1 = m[1] - m[2]
    s1 -= m[3]
    yt = y.swapaxes(0, 1)  # (O, N, ho, wo), the layout of m
    b = None if bias is None else bias.reshape(o, 1, 1, 1)
    for i, s in enumerate((s0, s1)):
        for j, part in enumerate(_columns_of(s)):  # ... then along the columns
            if b is not None:
                part += b
            rows_i, cols_j = len(range(i, ho, 2)), len(range(j, wo, 2))
            yt[:, :, i::2, j::2] = part[:, :, :rows_i, :cols_j]


def _columns_of(s):
    left = s[0] + s[1]
    left += s[2]
    right = s[1] - s[2]
    right -= s[3]
    return left, right
