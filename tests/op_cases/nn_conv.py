"""Op-test descriptions for F.conv*/conv_transpose* and F.pad (shared by core and parity).

Shapes stay tiny so gradcheck and gradgradcheck run fast; the cases walk through what the
convolution kernels branch on: unit vs other strides (the pitched and the strided window
layouts), dilation, groups and depthwise, asymmetric 'same' padding, padding wider than
the kernel's reach, output_padding, and unbatched input.
"""

import itertools

import numpy as np

from taimatsu.nn import functional as F
from taimatsu.testing import OpCase


def _n(value, nd):
    return tuple(value) if isinstance(value, (list, tuple)) else (value,) * nd


def _batch(x, nd):
    return (x[None], True) if x.ndim == nd + 1 else (x, False)


def ref_conv(nd):
    """Plain NumPy convolution: one einsum per kernel offset over a zero-padded copy."""
    def conv(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
        x, unbatched = _batch(x, nd)
        k = w.shape[2:]
        s, d = _n(stride, nd), _n(dilation, nd)
        if padding == "valid":
            padding = 0
        if padding == "same":
            total = [dd * (kk - 1) for dd, kk in zip(d, k)]
            pads = [(t // 2, t - t // 2) for t in total]
        else:
            pads = [(p, p) for p in _n(padding, nd)]
        xp = np.pad(x, [(0, 0), (0, 0)] + pads)
        out = [(xp.shape[2 + i] - d[i] * (k[i] - 1) - 1) // s[i] + 1 for i in range(nd)]
        n, c = x.shape[:2]
        o = w.shape[0]
        xg = xp.reshape((n, groups, c // groups) + xp.shape[2:])
        wg = w.reshape((groups, o // groups, c // groups) + k)
        y = np.zeros((n, groups, o // groups) + tuple(out))
        for off in itertools.product(*(range(kk) for kk in k)):
            sl = tuple(slice(i * dd, i * dd + (oo - 1) * ss + 1, ss)
                       for i, dd, oo, ss in zip(off, d, out, s))
            y += np.einsum("ngc...,goc->ngo...", xg[(slice(None),) * 3 + sl],
                           wg[(slice(None),) * 3 + off])
        y = y.reshape((n, o) + tuple(out))
        if b is not None:
            y = y + b.reshape((o,) + (1,) * nd)
        return y[0] if unbatched else y
    return conv


def ref_conv_transpose(nd):
    """Plain NumPy transposed convolution: scatter one product per kernel offset."""
    def conv_t(x, w, b=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
        x, unbatched = _batch(x, nd)
        k = w.shape[2:]
        s, d = _n(stride, nd), _n(dilation, nd)
        p, op = _n(padding, nd), _n(output_padding, nd)
        n, c = x.shape[:2]
        o = w.shape[1] * groups
        size = [(x.shape[2 + i] - 1) * s[i] + d[i] * (k[i] - 1) + 1 + op[i] for i in range(nd)]
        full = np.zeros((n, groups, o // groups) + tuple(size))
        xg = x.reshape((n, groups, c // groups) + x.shape[2:])
        wg = w.reshape((groups, c // groups, o // groups) + k)
        for off in itertools.product(*(range(kk) for kk in k)):
            sl = tuple(slice(i * dd, i * dd + (xx - 1) * ss + 1, ss)
                       for i, dd, xx, ss in zip(off, d, x.shape[2:], s))
            full[(slice(None),) * 3 + sl] += np.einsum("ngc...,gco->ngo...", xg,
                                                       wg[(slice(None),) * 3 + off])
        crop = tuple(slice(pp, sz - pp) for pp, sz in zip(p, size))
        y = full.reshape((n, o) + tuple(size))[(slice(None),) * 2 + crop]
        if b is not None:
            y = y + b.reshape((o,) + (1,) * nd)
        return y[0] if unbatched else y
    return conv_t


_NP_MODES = {"constant": "constant", "reflect": "reflect", "replicate": "edge",
             "circular": "wrap"}


def ref_pad(x, pad, mode="constant", value=None):
    """np.pad for non-negative pads; negative pads crop afterwards (PyTorch's order for
    constant padding; the cases only crop in modes where the order does not matter)."""
    widths = [(0, 0)] * x.ndim
    before = [slice(None)] * x.ndim  # crops of the input (non-constant modes)
    after = [slice(None)] * x.ndim  # crops of the padded result (constant mode)
    for i in range(len(pad) // 2):
        lo, hi = pad[2 * i], pad[2 * i + 1]
        axis = x.ndim - 1 - i
        widths[axis] = (max(lo, 0), max(hi, 0))
        before[axis] = slice(max(-lo, 0), x.shape[axis] + min(hi, 0))
        after[axis] = slice(max(-lo, 0), x.shape[axis] + max(lo, 0) + max(hi, 0) + min(hi, 0))
    if mode != "constant":
        x = x[tuple(before)]
        after = [slice(None)] * x.ndim
    kw = {"constant_values": value or 0} if mode == "constant" else {}
    return np.pad(x, widths, mode=_NP_MODES[mode], **kw)[tuple(after)]


_REFS = {f"conv{n}d": ref_conv(n) for n in (1, 2, 3)}
_REFS.update({f"conv_transpose{n}d": ref_conv_transpose(n) for n in (1, 2, 3)})
_REFS["pad"] = ref_pad


def case(name, inputs, **kwargs):
    base = name.split("[")[0]
    return OpCase(name, op=getattr(F, base), inputs=inputs, kwargs=kwargs,
                  torch_op=f"nn.functional.{base}", numpy_op=_REFS[base])


CASES = [
    case("conv1d", [(2, 3, 9), (4, 3, 3), (4,)]),
    case("conv1d[stride_pad_dil]", [(2, 4, 11), (6, 2, 3), (6,)], stride=2, padding=2,
         dilation=2, groups=2),
    case("conv1d[same_even]", [(2, 3, 8), (4, 3, 4)], padding="same"),
    case("conv1d[unbatched]", [(3, 7), (2, 3, 3)], padding=1),
    case("conv2d", [(2, 3, 5, 6), (3, 3, 3, 3), (3,)]),
    case("conv2d[pad]", [(1, 3, 5, 6), (4, 3, 3, 2), (4,)], padding=(1, 2)),
    case("conv2d[same]", [(2, 3, 6, 5), (4, 3, 2, 3)], padding="same", dilation=(2, 1)),
    case("conv2d[valid]", [(1, 2, 5, 5), (3, 2, 3, 3)], padding="valid"),
    case("conv2d[stride]", [(1, 3, 6, 7), (3, 3, 3, 3), (3,)], stride=(2, 3), padding=1),
    case("conv2d[dilation]", [(2, 2, 7, 7), (3, 2, 2, 3)], dilation=(2, 1), padding=(2, 0)),
    case("conv2d[groups]", [(1, 4, 5, 5), (6, 2, 3, 3), (6,)], groups=2, padding=1),
    case("conv2d[depthwise]", [(2, 3, 6, 6), (6, 1, 3, 3)], groups=3, stride=2, padding=1),
    case("conv2d[wide_pad]", [(1, 2, 3, 3), (2, 2, 2, 2)], padding=3),
    case("conv2d[1x1]", [(2, 5, 4, 3), (3, 5, 1, 1), (3,)]),
    case("conv2d[unbatched]", [(3, 5, 5), (2, 3, 3, 3)], padding=1),
    case("conv3d", [(1, 2, 3, 4, 3), (2, 2, 2, 3, 2), (2,)], padding=1),
    case("conv3d[stride]", [(1, 2, 5, 5, 6), (2, 1, 3, 2, 2)], stride=(2, 1, 2),
         dilation=(1, 2, 1), groups=2),
    case("conv_transpose1d", [(2, 3, 5), (3, 4, 3), (4,)], stride=2, padding=1,
         output_padding=1),
    case("conv_transpose1d[dilation]", [(2, 4, 5), (4, 1, 3)], groups=2, dilation=2),
    case("conv_transpose2d", [(2, 3, 4, 3), (3, 2, 3, 3), (2,)]),
    case("conv_transpose2d[stride]", [(1, 4, 3, 3), (4, 3, 3, 2), (6,)], stride=(2, 3),
         padding=(1, 0), output_padding=(1, 2), groups=2),
    case("conv_transpose2d[dilation]", [(1, 2, 4, 4), (2, 3, 2, 3)], dilation=2,
         output_padding=1),
    case("conv_transpose2d[unbatched]", [(3, 3, 3), (3, 2, 2, 2)], stride=2),
    case("conv_transpose3d", [(1, 2, 3, 2, 3), (2, 3, 2, 2, 2), (3,)], stride=2, padding=1),
]

PAD_CASES = [
    case("pad", [(2, 3, 4)], pad=(1, 2)),
    case("pad[constant_value]", [(2, 3, 4)], pad=(1, 0, 2, 1), value=1.5),
    case("pad[negative]", [(2, 3, 4, 5)], pad=(-1, 2, 0, -2)),
    case("pad[all_dims]", [(2, 3, 2)], pad=(1, 1, 0, 2, 1, 0)),
    case("pad[reflect1d]", [(2, 3, 5)], pad=(2, 3), mode="reflect"),
    case("pad[reflect2d]", [(2, 3, 4, 5)], pad=(1, 3, 2, 0), mode="reflect"),
    case("pad[reflect3d]", [(1, 2, 3, 4, 3)], pad=(1, 2, 2, 1, 1, 0), mode="reflect"),
    case("pad[reflect_unbatched]", [(3, 4, 5)], pad=(2, 1, 1, 2), mode="reflect"),
    case("pad[replicate1d]", [(2, 3, 4)], pad=(3, 1), mode="replicate"),
    case("pad[replicate2d]", [(2, 2, 3, 4)], pad=(2, 1, -1, 3), mode="replicate"),
    case("pad[replicate3d]", [(1, 2, 2, 3, 2)], pad=(1, 1, 2, 0, 0, 2), mode="replicate"),
    case("pad[circular1d]", [(2, 3, 4)], pad=(2, 3), mode="circular"),
    case("pad[circular2d]", [(2, 2, 3, 4)], pad=(1, -1, 2, 1), mode="circular"),
    case("pad[circular3d]", [(1, 2, 3, 2, 3)], pad=(1, 2, 1, 0, 2, 1), mode="circular"),
]
