"""Op-test descriptions for ops/scan.py (shared by core and parity tests)."""

import numpy as np
from op_cases.reduction import distinct, positive, ties, with_zeros

import taimatsu
from taimatsu.testing import Arg, OpCase


def _np_logcumsumexp(a, dim):
    return np.logaddexp.accumulate(a, axis=dim)


CASES = [
    OpCase("cumsum", inputs=[(3, 4)], kwargs={"dim": 1},
           numpy_op=lambda a, dim: np.cumsum(a, dim)),
    OpCase("cumsum[dim0]", inputs=[(3, 4, 2)], kwargs={"dim": 0},
           numpy_op=lambda a, dim: np.cumsum(a, dim)),
    OpCase("cumsum[neg-dim]", inputs=[(5,)], kwargs={"dim": -1},
           numpy_op=lambda a, dim: np.cumsum(a)),
    OpCase("cumsum[0-dim]", inputs=[()], kwargs={"dim": 0},
           numpy_op=lambda a, dim: a.copy()),
    OpCase("cumsum[dtype]", inputs=[(4,)], kwargs={"dim": 0, "dtype": taimatsu.float64},
           dtypes=(taimatsu.float32,)),
    OpCase("cumsum[int]", inputs=[Arg((4,), dtype=taimatsu.int32, low=-3, high=3)],
           kwargs={"dim": 0}, grad=False, numpy_op=lambda a, dim: np.cumsum(a, dtype=np.int64)),
    OpCase("cumsum[bool]", inputs=[Arg((5,), dtype=taimatsu.bool)], kwargs={"dim": 0},
           grad=False),
    OpCase("cumsum[empty]", inputs=[(0, 3)], kwargs={"dim": 0}),
    OpCase("cumprod", inputs=[Arg((3, 4), fn=positive)], kwargs={"dim": 1},
           numpy_op=lambda a, dim: np.cumprod(a, dim)),
    OpCase("cumprod[signed]", inputs=[(2, 5)], kwargs={"dim": -1},
           numpy_op=lambda a, dim: np.cumprod(a, dim)),
    OpCase("cumprod[one-zero]", inputs=[Arg((3, 5), fn=with_zeros(1))], kwargs={"dim": 1},
           numpy_op=lambda a, dim: np.cumprod(a, dim)),
    OpCase("cumprod[two-zeros]", inputs=[Arg((3, 5), fn=with_zeros(2))], kwargs={"dim": 1},
           numpy_op=lambda a, dim: np.cumprod(a, dim)),
    OpCase("cumprod[zeros-dim0]", op=lambda a: taimatsu.cumprod(a.T, 0),
           torch_op=lambda torch, a: torch.cumprod(a.T, 0),
           inputs=[Arg((2, 4), fn=with_zeros(1))],
           numpy_op=lambda a: np.cumprod(a.T, 0)),
    OpCase("cumprod[int]", inputs=[Arg((4,), dtype=taimatsu.int64, low=1, high=4)],
           kwargs={"dim": 0}, grad=False),
    OpCase("cummax", inputs=[Arg((3, 5), fn=distinct)], kwargs={"dim": 1}),
    OpCase("cummax[dim0]", inputs=[Arg((4, 3), fn=distinct)], kwargs={"dim": 0},
           gradgrad=False),
    OpCase("cummax[ties]", inputs=[Arg((3, 6), fn=ties)], kwargs={"dim": 1}, grad=False),
    OpCase("cummin", inputs=[Arg((3, 5), fn=distinct)], kwargs={"dim": -1}, gradgrad=False),
    OpCase("cummin[ties]", inputs=[Arg((3, 6), fn=ties)], kwargs={"dim": 1}, grad=False),
    OpCase("cummin[int]", inputs=[Arg((3, 6), dtype=taimatsu.int64, low=-3, high=3)],
           kwargs={"dim": 0}, grad=False),
    OpCase("logcumsumexp", inputs=[(3, 4)], kwargs={"dim": 1}, numpy_op=_np_logcumsumexp),
    OpCase("logcumsumexp[large]", inputs=[Arg((6,), low=-800, high=800)], kwargs={"dim": 0},
           numpy_op=_np_logcumsumexp, rtol=1e-6),
    OpCase("logcumsumexp[dim0]", inputs=[(4, 2)], kwargs={"dim": 0},
           numpy_op=_np_logcumsumexp),
]
