"""Op-test descriptions for ops/reduction.py (shared by core and parity tests).

Ops that pick elements (max, amax, norm inf...) take inputs with distinct values in their
gradchecks: at a tie the function has no derivative for finite differences to find.
"""

import math

import numpy as np

import taimatsu
from taimatsu.testing import Arg, OpCase


def distinct(rng, shape, dtype):
    """Values in [-1, 1) at least 2/n apart (no ties)."""
    n = max(math.prod(shape), 1)
    # the 0.3 offset keeps |x| distinct too (no x and -x pairs)
    return ((rng.permutation(n) + 0.3) / n * 2 - 1).reshape(shape).astype(dtype)


def ties(rng, shape, dtype):
    """Small integers: many equal values."""
    return rng.integers(-2, 3, shape).astype(dtype)


def with_zeros(count):
    """Random values with `count` zeros in every row (last dim)."""
    def make(rng, shape, dtype):
        x = rng.uniform(0.5, 1.5, shape) * rng.choice([-1.0, 1.0], shape)
        rows = x.reshape(-1, shape[-1])
        for row in rows:
            row[rng.choice(shape[-1], count, replace=False)] = 0.0
        return rows.reshape(shape).astype(dtype)
    return make


def with_nans(rng, shape, dtype):
    x = rng.uniform(-1, 1, shape)
    x[rng.random(shape) < 0.3] = np.nan
    return x.astype(dtype)


def positive(rng, shape, dtype):
    return rng.uniform(0.5, 2.0, shape).astype(dtype)


def _np_keep(fn):
    """numpy reference taking torch's dim/keepdim names."""
    def ref(a, dim=None, keepdim=False, **kw):
        axis = tuple(dim) if isinstance(dim, (list, tuple)) else dim
        return np.asarray(fn(a, axis=axis, keepdims=keepdim, **kw))
    return ref


DISTINCT = Arg((3, 4), fn=distinct)
INT = Arg((3, 4), dtype=taimatsu.int64, low=-5, high=5)

CASES = [
    # sum / nansum / mean / nanmean
    OpCase("sum", inputs=[(3, 4)], numpy_op=_np_keep(np.sum)),
    OpCase("sum[dim]", inputs=[(3, 4, 2)], kwargs={"dim": 1}, numpy_op=_np_keep(np.sum)),
    OpCase("sum[dims-keepdim]", inputs=[(3, 4, 2)], kwargs={"dim": (0, -1), "keepdim": True},
           numpy_op=_np_keep(np.sum)),
    OpCase("sum[dtype]", inputs=[(3, 4)], kwargs={"dtype": taimatsu.float64},
           dtypes=(taimatsu.float32,), numpy_op=lambda a, dtype: a.sum(dtype=np.float64)),
    OpCase("sum[int]", inputs=[INT], kwargs={"dim": 0}, numpy_op=lambda a, dim: a.sum(dim),
           grad=False),
    OpCase("sum[bool]", inputs=[Arg((5,), dtype=taimatsu.bool)],
           numpy_op=lambda a: a.sum(dtype=np.int64), grad=False),
    OpCase("sum[0-dim]", inputs=[()], numpy_op=np.sum),
    OpCase("sum[0-dim-dim]", inputs=[()], kwargs={"dim": 0}, numpy_op=lambda a, dim: a.copy()),
    OpCase("sum[empty]", inputs=[(0, 3)], kwargs={"dim": 0}, numpy_op=lambda a, dim: a.sum(0)),
    OpCase("nansum", inputs=[Arg((3, 4), fn=with_nans)], kwargs={"dim": 1},
           numpy_op=lambda a, dim: np.nansum(a, dim)),
    OpCase("mean", inputs=[(3, 4)], numpy_op=_np_keep(np.mean)),
    OpCase("mean[dim-keepdim]", inputs=[(3, 4, 2)], kwargs={"dim": (1, 2), "keepdim": True},
           numpy_op=_np_keep(np.mean)),
    OpCase("mean[dtype]", inputs=[(4,)], kwargs={"dtype": taimatsu.float64},
           dtypes=(taimatsu.float32,), numpy_op=lambda a, dtype: a.mean(dtype=np.float64)),
    OpCase("nanmean", inputs=[Arg((4, 5), fn=with_nans)], kwargs={"dim": 1},
           numpy_op=lambda a, dim: np.nanmean(a, dim)),
    # prod: plain, and with one or two zeros per row (gradient through the zeros)
    OpCase("prod", inputs=[Arg((2, 3), fn=positive)], numpy_op=np.prod),
    OpCase("prod[dim]", inputs=[(3, 4)], kwargs={"dim": 1, "keepdim": True},
           numpy_op=lambda a, dim, keepdim: a.prod(dim, keepdims=keepdim)),
    OpCase("prod[one-zero]", inputs=[Arg((3, 4), fn=with_zeros(1))], kwargs={"dim": 1},
           numpy_op=lambda a, dim: a.prod(dim)),
    OpCase("prod[two-zeros]", inputs=[Arg((3, 4), fn=with_zeros(2))], kwargs={"dim": -1},
           numpy_op=lambda a, dim: a.prod(dim)),
    OpCase("prod[all-one-zero]", inputs=[Arg((1, 5), fn=with_zeros(1))], numpy_op=np.prod),
    OpCase("prod[int]", inputs=[Arg((4,), dtype=taimatsu.int32, low=1, high=4)],
           numpy_op=lambda a: a.prod(dtype=np.int64), grad=False),
    # max / min / amax / amin / aminmax / argmax / argmin
    OpCase("max", inputs=[DISTINCT], numpy_op=np.max, gradgrad=False),
    OpCase("max[dim]", inputs=[DISTINCT], kwargs={"dim": 1},
           numpy_op=lambda a, dim: (a.max(dim), a.argmax(dim))),
    OpCase("max[keepdim]", inputs=[Arg((3, 4, 2), fn=distinct)], kwargs={"dim": 0,
           "keepdim": True}, gradgrad=False),
    OpCase("max[ties]", inputs=[Arg((3, 5), fn=ties)], kwargs={"dim": 1}, grad=False),
    OpCase("max[binary]", inputs=[DISTINCT, Arg((4,), fn=distinct)], numpy_op=np.maximum,
           gradgrad=False),
    OpCase("min", inputs=[DISTINCT], numpy_op=np.min, gradgrad=False),
    OpCase("min[dim]", inputs=[DISTINCT], kwargs={"dim": -1, "keepdim": True},
           gradgrad=False),
    OpCase("amax", inputs=[Arg((3, 4, 2), fn=distinct)], kwargs={"dim": (0, 2)},
           numpy_op=_np_keep(np.max), gradgrad=False),
    OpCase("amin", inputs=[DISTINCT], kwargs={"dim": 0, "keepdim": True},
           numpy_op=_np_keep(np.min), gradgrad=False),
    # ties: no derivative for gradcheck; the even split of the gradient is compared with
    # torch's in tests/parity/test_reduction_parity.py
    OpCase("amax[ties]", inputs=[Arg((3, 6), fn=ties)], kwargs={"dim": 1},
           numpy_op=_np_keep(np.max), grad=False),
    OpCase("max[all-ties]", op=taimatsu.max, torch_op="max", inputs=[Arg((3, 6), fn=ties)],
           numpy_op=np.max, grad=False),
    OpCase("aminmax", inputs=[DISTINCT], kwargs={"dim": 1}, gradgrad=False,
           numpy_op=lambda a, dim: (a.min(dim), a.max(dim))),
    OpCase("aminmax[all]", op=taimatsu.aminmax, torch_op="aminmax", inputs=[DISTINCT],
           gradgrad=False, numpy_op=lambda a: (a.min(), a.max())),
    OpCase("argmax", inputs=[Arg((3, 5), fn=ties)], grad=False, numpy_op=np.argmax),
    OpCase("argmax[dim]", inputs=[Arg((3, 5), fn=ties)], kwargs={"dim": 1, "keepdim": True},
           grad=False),
    OpCase("argmin[dim]", inputs=[Arg((3, 5), fn=ties)], kwargs={"dim": 0}, grad=False,
           numpy_op=lambda a, dim: a.argmin(dim)),
    # var / std and their mean pairs
    OpCase("var", inputs=[(3, 4)], numpy_op=lambda a: a.var(ddof=1)),
    OpCase("var[dim-correction]", inputs=[(3, 4)], kwargs={"dim": 1, "correction": 0},
           numpy_op=lambda a, dim, correction: a.var(dim, ddof=correction)),
    OpCase("var[unbiased-keepdim]", op=lambda a: taimatsu.var(a, (0, 1), False, True),
           torch_op=lambda torch, a: torch.var(a, (0, 1), False, True), inputs=[(2, 3, 2)],
           numpy_op=lambda a: a.var((0, 1), keepdims=True)),
    OpCase("std", inputs=[(3, 4)], numpy_op=lambda a: a.std(ddof=1)),
    OpCase("std[dim]", inputs=[(3, 4, 2)], kwargs={"dim": (0, 2), "correction": 2},
           numpy_op=lambda a, dim, correction: a.std(dim, ddof=correction)),
    OpCase("std_mean", inputs=[(3, 4)], kwargs={"dim": 1},
           numpy_op=lambda a, dim: (a.std(dim, ddof=1), a.mean(dim))),
    OpCase("var_mean", inputs=[(3, 4)], kwargs={"dim": 0, "keepdim": True}),
    # norm
    OpCase("norm", inputs=[(3, 4)], numpy_op=lambda a: np.linalg.norm(a)),
    OpCase("norm[p1-dim]", inputs=[Arg((3, 4), fn=distinct)], kwargs={"p": 1, "dim": 1},
           numpy_op=lambda a, p, dim: np.abs(a).sum(dim), gradgrad=False),
    OpCase("norm[p3-keepdim]", inputs=[(3, 4)], kwargs={"p": 3, "dim": 0, "keepdim": True},
           numpy_op=lambda a, p, dim, keepdim: (np.abs(a) ** 3).sum(0, keepdims=True) ** (1 / 3)),
    OpCase("norm[p0.5]", inputs=[Arg((5,), fn=distinct)], kwargs={"p": 0.5}),
    OpCase("norm[inf]", inputs=[DISTINCT], kwargs={"p": math.inf, "dim": 1},
           numpy_op=lambda a, p, dim: np.abs(a).max(dim), gradgrad=False),
    OpCase("norm[-inf]", inputs=[DISTINCT], kwargs={"p": -math.inf}, gradgrad=False),
    OpCase("norm[p0]", inputs=[Arg((3, 4), fn=with_zeros(1))], kwargs={"p": 0},
           numpy_op=lambda a, p: np.count_nonzero(a), grad=False),
    OpCase("norm[p0-grad]", inputs=[Arg((3, 4), fn=positive)], kwargs={"p": 0}),
    OpCase("norm[fro-dims]", inputs=[(2, 3, 4)], kwargs={"p": "fro", "dim": (0, 2)}),
    OpCase("norm[nuc]", inputs=[(3, 4)], kwargs={"p": "nuc"}, gradgrad=False,
           numpy_op=lambda a, p: np.linalg.norm(a, "nuc")),
    OpCase("norm[nuc-dims]", inputs=[(2, 3, 4)], kwargs={"p": "nuc", "dim": (2, 0),
           "keepdim": True}, gradgrad=False),
    OpCase("norm[dtype]", inputs=[(3,)], kwargs={"dtype": taimatsu.float64},
           dtypes=(taimatsu.float32,)),
    # logsumexp
    OpCase("logsumexp", inputs=[(3, 4)], kwargs={"dim": 1},
           numpy_op=lambda a, dim: np.log(np.exp(a).sum(dim))),
    OpCase("logsumexp[large]", inputs=[Arg((3, 4), low=500, high=600)],
           kwargs={"dim": (0, 1), "keepdim": True}, rtol=1e-6),
    OpCase("logsumexp[int]", inputs=[INT], kwargs={"dim": 0}, grad=False),
    # all / any / count_nonzero
    OpCase("all", inputs=[Arg((3, 4), fn=with_zeros(1))], grad=False, numpy_op=np.all),
    OpCase("all[dim]", inputs=[Arg((3, 4), dtype=taimatsu.bool)], kwargs={"dim": 1},
           grad=False, numpy_op=lambda a, dim: a.all(dim)),
    OpCase("all[uint8]", inputs=[Arg((4,), dtype=taimatsu.uint8, low=0, high=2)], grad=False),
    OpCase("any", inputs=[Arg((3, 4), dtype=taimatsu.bool)], kwargs={"dim": (0, 1),
           "keepdim": True}, grad=False),
    OpCase("any[int]", inputs=[Arg((3, 4), dtype=taimatsu.int64, low=0, high=2)],
           kwargs={"dim": 0}, grad=False, numpy_op=lambda a, dim: a.any(dim)),
    OpCase("count_nonzero", inputs=[Arg((3, 4), fn=with_zeros(2))], kwargs={"dim": 1},
           grad=False, numpy_op=lambda a, dim: np.count_nonzero(a, dim)),
    OpCase("count_nonzero[all]", op=taimatsu.count_nonzero, torch_op="count_nonzero",
           inputs=[Arg((3, 4), dtype=taimatsu.int64, low=0, high=2)], grad=False),
]
