"""Op-test descriptions for the pooling functions (shared by core and parity tests).

Random float inputs have distinct values, so max pooling's argmax (and its gradient) is
well defined; the cases cover overlapping and disjoint windows, padding, dilation,
ceil_mode, unbatched input and each pool's own options.
"""

import itertools
import math

import numpy as np

from taimatsu.nn import functional as F
from taimatsu.testing import Arg, OpCase


def _n(value, nd):
    return tuple(value) if isinstance(value, (list, tuple)) else (value,) * nd


def _windows(nd, shape, kernel_size, stride, padding, dilation, ceil_mode):
    """Per output position (a tuple), the list of input positions of its window (padding
    positions included as out-of-range coordinates), by PyTorch's size rules."""
    k, p, d = _n(kernel_size, nd), _n(padding, nd), _n(dilation, nd)
    s = _n(stride, nd) if stride is not None else k
    sizes = []
    for n, kk, ss, pp, dd in zip(shape, k, s, p, d):
        span = n + 2 * pp - dd * (kk - 1) - 1
        o = -(-span // ss) + 1 if ceil_mode else span // ss + 1
        if ceil_mode and (o - 1) * ss >= n + pp:
            o -= 1
        sizes.append(o)
    out = {}
    for pos in itertools.product(*(range(o) for o in sizes)):
        out[pos] = [tuple(oo * ss - pp + i * dd for oo, ss, pp, i, dd in
                          zip(pos, s, p, off, d))
                    for off in itertools.product(*(range(kk) for kk in k))]
    return sizes, out, s, p


def ref_max_pool(nd):
    def pool(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
             return_indices=False):
        batched = x if x.ndim == nd + 2 else x[None]
        spatial = batched.shape[2:]
        sizes, wins, _, _ = _windows(nd, spatial, kernel_size, stride, padding, dilation,
                                     ceil_mode)
        out = np.empty(batched.shape[:2] + tuple(sizes))
        idx = np.empty(out.shape, dtype=np.int64)
        for pos, cells in wins.items():
            inside = [c for c in cells if all(0 <= a < n for a, n in zip(c, spatial))]
            vals = np.stack([batched[(Ellipsis,) + c] for c in inside], -1)
            best = vals.argmax(-1)
            out[(Ellipsis,) + pos] = vals.max(-1)
            flat = [int(np.ravel_multi_index(c, spatial)) for c in inside]
            idx[(Ellipsis,) + pos] = np.asarray(flat)[best]
        if x.ndim == nd + 1:
            out, idx = out[0], idx[0]
        return (out, idx) if return_indices else out
    return pool


def ref_avg_pool(nd):
    def pool(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
             divisor_override=None):
        batched = x if x.ndim == nd + 2 else x[None]
        spatial = batched.shape[2:]
        sizes, wins, _, p = _windows(nd, spatial, kernel_size, stride, padding, 1, ceil_mode)
        out = np.empty(batched.shape[:2] + tuple(sizes))
        for pos, cells in wins.items():
            inside = [c for c in cells if all(0 <= a < n for a, n in zip(c, spatial))]
            padded = [c for c in cells if all(-pp <= a < n + pp
                                              for a, n, pp in zip(c, spatial, p))]
            total = sum(batched[(Ellipsis,) + c] for c in inside)
            div = divisor_override or (len(padded) if count_include_pad else len(inside))
            out[(Ellipsis,) + pos] = total / div
        return out if x.ndim == nd + 2 else out[0]
    return pool


def _adaptive_ranges(n, o):
    return [range(i * n // o, -(-(i + 1) * n // o)) for i in range(o)]


def ref_adaptive(nd, reduce):
    def pool(x, output_size, return_indices=False):
        batched = x if x.ndim == nd + 2 else x[None]
        spatial = batched.shape[2:]
        sizes = [s if o is None else o for o, s in zip(_n(output_size, nd), spatial)]
        out = np.empty(batched.shape[:2] + tuple(sizes))
        idx = np.empty(out.shape, dtype=np.int64)
        ranges = [_adaptive_ranges(s, o) for s, o in zip(spatial, sizes)]
        for pos in itertools.product(*(range(o) for o in sizes)):
            cells = list(itertools.product(*(r[i] for r, i in zip(ranges, pos))))
            vals = np.stack([batched[(Ellipsis,) + c] for c in cells], -1)
            out[(Ellipsis,) + pos] = vals.mean(-1) if reduce == "avg" else vals.max(-1)
            flat = np.asarray([int(np.ravel_multi_index(c, spatial)) for c in cells])
            idx[(Ellipsis,) + pos] = flat[vals.argmax(-1)]
        if x.ndim == nd + 1:
            out, idx = out[0], idx[0]
        return (out, idx) if return_indices else out
    return pool


def ref_lp_pool(nd):
    def pool(x, norm_type, kernel_size, stride=None, ceil_mode=False):
        avg = ref_avg_pool(nd)(x ** norm_type, kernel_size, stride, 0, ceil_mode)
        return (avg * math.prod(_n(kernel_size, nd))) ** (1 / norm_type)
    return pool


def ref_unpool(nd):
    def unpool(x, output_size=None):
        out, idx = ref_max_pool(nd)(x, 2, return_indices=True)
        size = output_size or tuple(2 * s for s in out.shape[2:])
        flat = np.zeros(out.shape[:2] + (math.prod(size),))
        np.put_along_axis(flat, idx.reshape(out.shape[:2] + (-1,)),
                          out.reshape(out.shape[:2] + (-1,)), axis=2)
        return flat.reshape(out.shape[:2] + tuple(size))
    return unpool


_REFS = {}
for _nd in (1, 2, 3):
    _REFS[f"max_pool{_nd}d"] = ref_max_pool(_nd)
    _REFS[f"avg_pool{_nd}d"] = ref_avg_pool(_nd)
    _REFS[f"adaptive_avg_pool{_nd}d"] = ref_adaptive(_nd, "avg")
    _REFS[f"adaptive_max_pool{_nd}d"] = ref_adaptive(_nd, "max")
    _REFS[f"lp_pool{_nd}d"] = ref_lp_pool(_nd)


def case(name, inputs, **kwargs):
    base = name.split("[")[0]
    return OpCase(name, op=getattr(F, base), inputs=inputs, kwargs=kwargs,
                  torch_op=f"nn.functional.{base}", numpy_op=_REFS[base])


def _positive(rng, shape, dtype):
    return rng.uniform(0.5, 1.5, shape).astype(dtype)


def _unpool(nd):
    """max_unpool{nd}d of max_pool's own output and indices: a (pool, unpool) round trip."""
    def op(x, **kw):
        import taimatsu.nn.functional as tf
        out, idx = getattr(tf, f"max_pool{nd}d")(x, 2, return_indices=True)
        return getattr(tf, f"max_unpool{nd}d")(out, idx, 2, **kw)

    def torch_op(torch, x, **kw):
        out, idx = getattr(torch.nn.functional, f"max_pool{nd}d")(x, 2, return_indices=True)
        return getattr(torch.nn.functional, f"max_unpool{nd}d")(out, idx, 2, **kw)
    return op, torch_op


def unpool_case(nd, shape, **kwargs):
    op, torch_op = _unpool(nd)
    return OpCase(f"max_unpool{nd}d", op=op, torch_op=torch_op, inputs=[shape], kwargs=kwargs,
                  numpy_op=ref_unpool(nd))


CASES = [
    case("max_pool1d", [(2, 3, 9)], kernel_size=3, stride=2, padding=1),
    case("max_pool1d[indices]", [(2, 3, 8)], kernel_size=2, return_indices=True),
    case("max_pool1d[dilation_ceil]", [(3, 10)], kernel_size=3, stride=2, dilation=2,
         ceil_mode=True),
    case("max_pool2d", [(2, 3, 6, 6)], kernel_size=2),
    case("max_pool2d[overlap]", [(2, 2, 7, 6)], kernel_size=3, stride=2, padding=1),
    case("max_pool2d[indices]", [(2, 2, 5, 7)], kernel_size=(2, 3), stride=(1, 2),
         return_indices=True),
    case("max_pool2d[ceil]", [(1, 2, 7, 7)], kernel_size=2, ceil_mode=True,
         return_indices=True),
    case("max_pool2d[dilation]", [(2, 2, 7, 8)], kernel_size=2, dilation=(2, 3), padding=1),
    case("max_pool2d[unbatched]", [(3, 5, 4)], kernel_size=2, stride=1),
    case("max_pool3d", [(1, 2, 4, 5, 4)], kernel_size=2, stride=(1, 2, 2), padding=1,
         return_indices=True),
    case("max_pool3d[ceil]", [(2, 5, 5, 4)], kernel_size=(2, 3, 2), ceil_mode=True),
    case("avg_pool1d", [(2, 3, 9)], kernel_size=3, stride=2, padding=1),
    case("avg_pool1d[exclude_pad]", [(2, 3, 8)], kernel_size=3, padding=1, ceil_mode=True,
         count_include_pad=False),
    case("avg_pool2d", [(2, 3, 6, 6)], kernel_size=2),
    case("avg_pool2d[pad]", [(2, 2, 7, 5)], kernel_size=3, stride=2, padding=1,
         ceil_mode=True),
    case("avg_pool2d[exclude_pad]", [(2, 2, 5, 6)], kernel_size=(3, 2), stride=(2, 1),
         padding=1, count_include_pad=False),
    case("avg_pool2d[divisor]", [(1, 2, 6, 5)], kernel_size=2, stride=1, divisor_override=3),
    case("avg_pool2d[unbatched]", [(3, 4, 4)], kernel_size=2),
    case("avg_pool3d", [(1, 2, 4, 5, 4)], kernel_size=2, stride=(1, 2, 1), padding=1,
         count_include_pad=False),
    case("avg_pool3d[ceil]", [(1, 2, 5, 4, 5)], kernel_size=3, stride=2, ceil_mode=True,
         divisor_override=5),
    case("adaptive_avg_pool1d", [(2, 3, 10)], output_size=4),
    case("adaptive_avg_pool2d", [(2, 3, 7, 9)], output_size=(3, 4)),
    case("adaptive_avg_pool2d[tiles]", [(2, 3, 8, 6)], output_size=(4, 2)),
    case("adaptive_avg_pool2d[global]", [(2, 3, 5, 4)], output_size=1),
    case("adaptive_avg_pool2d[none]", [(3, 5, 7)], output_size=(None, 3)),
    case("adaptive_avg_pool2d[upsample]", [(1, 2, 3, 2)], output_size=(5, 4)),
    case("adaptive_avg_pool3d", [(1, 2, 5, 4, 6)], output_size=(2, 3, 4)),
    case("adaptive_max_pool1d", [(2, 3, 10)], output_size=4, return_indices=True),
    case("adaptive_max_pool2d", [(2, 3, 7, 9)], output_size=(3, 4), return_indices=True),
    case("adaptive_max_pool2d[upsample]", [(3, 3, 2)], output_size=(5, 3)),
    case("adaptive_max_pool3d", [(1, 2, 5, 4, 6)], output_size=(2, 3, 4),
         return_indices=True),
    case("lp_pool1d", [Arg((2, 3, 9), fn=_positive), 2.0], kernel_size=3, stride=2),
    case("lp_pool2d", [Arg((2, 2, 6, 7), fn=_positive), 3.0], kernel_size=(2, 3),
         ceil_mode=True),
    case("lp_pool3d", [Arg((1, 2, 4, 4, 4), fn=_positive), 1.5], kernel_size=2),
    unpool_case(1, (2, 3, 8)),
    unpool_case(2, (2, 3, 6, 4), output_size=(7, 5)),
    unpool_case(3, (1, 2, 4, 4, 6)),
]



_SAMPLES = np.random.default_rng(7).random((2, 3, 3))


def fractional_case(nd, shape, **kwargs):
    """Fixed _random_samples (in the input's dtype) make the windows reproducible."""
    name = f"fractional_max_pool{nd}d"

    def op(x, **kw):
        import taimatsu
        samples = taimatsu.tensor(_SAMPLES[:shape[0], :shape[1], :nd], dtype=x.dtype)
        return getattr(F, name)(x, _random_samples=samples, **kw)

    def torch_op(torch, x, **kw):
        samples = torch.tensor(_SAMPLES[:shape[0], :shape[1], :nd], dtype=x.dtype)
        return getattr(torch.nn.functional, name)(x, _random_samples=samples, **kw)
    return OpCase(name, op=op, torch_op=torch_op, inputs=[shape], kwargs=kwargs)


CASES += [
    fractional_case(2, (2, 3, 9, 8), kernel_size=2, output_size=(5, 4), return_indices=True),
    fractional_case(2, (2, 3, 7, 7), kernel_size=(3, 2), output_size=(4, 6)),
    fractional_case(3, (1, 2, 5, 4, 5), kernel_size=2, output_size=(3, 2, 3),
                    return_indices=True),
]
