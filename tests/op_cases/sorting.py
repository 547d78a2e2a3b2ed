"""Op-test descriptions for ops/sorting.py (shared by core and parity tests).

Gradients of ops that pick elements are checked on inputs with distinct values; inputs
with ties check values and indices only (sort/argsort ask for stable=True there, the one
order torch guarantees). Their second derivatives are zero, so a few gradgradchecks are
enough to cover the create_graph path of the index scatter they share.
"""

import numpy as np
from op_cases.reduction import distinct, ties, with_nans

import taimatsu
from taimatsu.testing import Arg, OpCase

D34 = Arg((3, 4), fn=distinct)
TIES = Arg((3, 6), fn=ties)


def _q(*values):
    """A q tensor in the case's float dtype (torch wants q and input to match)."""
    return Arg((len(values),), fn=lambda rng, shape, dt: np.array(values, dt),
               requires_grad=False)


def _np_sort(a, dim=-1, descending=False, stable=False):
    idx = np.argsort(-a if descending else a, axis=dim, kind="stable")
    return np.take_along_axis(a, idx, dim), idx


CASES = [
    OpCase("sort", inputs=[D34], numpy_op=_np_sort),
    OpCase("sort[dim0-descending]", inputs=[Arg((4, 3, 2), fn=distinct)],
           kwargs={"dim": 0, "descending": True}, numpy_op=_np_sort, gradgrad=False),
    OpCase("sort[stable-ties]", inputs=[TIES], kwargs={"stable": True}, grad=False,
           numpy_op=_np_sort),
    OpCase("sort[stable-ties-descending]", inputs=[TIES],
           kwargs={"stable": True, "descending": True, "dim": 0}, grad=False),
    OpCase("sort[nan]", inputs=[Arg((2, 5), fn=with_nans)], kwargs={"stable": True},
           grad=False),
    OpCase("sort[nan-descending]", inputs=[Arg((2, 5), fn=with_nans)],
           kwargs={"stable": True, "descending": True}, grad=False),
    OpCase("sort[int]", inputs=[Arg((7,), dtype=taimatsu.int64, low=-3, high=3)],
           kwargs={"stable": True}, grad=False),
    OpCase("sort[0-dim]", inputs=[()], gradgrad=False),
    OpCase("argsort", inputs=[TIES], kwargs={"dim": 1, "stable": True}, grad=False,
           numpy_op=lambda a, dim, stable: np.argsort(a, dim, kind="stable")),
    OpCase("argsort[descending]", inputs=[TIES], kwargs={"descending": True, "stable": True},
           grad=False),
    OpCase("msort", inputs=[D34], numpy_op=lambda a: np.sort(a, 0), gradgrad=False),
    OpCase("topk", inputs=[D34], kwargs={"k": 2}),
    OpCase("topk[smallest-dim0]", inputs=[Arg((5, 3), fn=distinct)],
           kwargs={"k": 3, "dim": 0, "largest": False}, gradgrad=False),
    OpCase("kthvalue", inputs=[D34, 2], gradgrad=False,
           numpy_op=lambda a, k: (np.sort(a, -1)[:, k - 1], np.argsort(a, -1)[:, k - 1])),
    OpCase("kthvalue[dim0-keepdim]", inputs=[D34, 3, 0, True], gradgrad=False),
    OpCase("median", inputs=[Arg((3, 5), fn=distinct)], gradgrad=False,
           numpy_op=np.median),
    OpCase("median[even]", inputs=[D34], gradgrad=False),
    OpCase("median[dim]", inputs=[D34], kwargs={"dim": 1}),
    OpCase("median[dim-keepdim]", inputs=[Arg((4, 3, 2), fn=distinct)],
           kwargs={"dim": 0, "keepdim": True}, gradgrad=False),
    OpCase("median[nan]", inputs=[Arg((4, 5), fn=with_nans)], kwargs={"dim": 1}, grad=False),
    OpCase("median[int]", inputs=[Arg((7,), dtype=taimatsu.int64, low=-9, high=9)],
           grad=False),
    OpCase("nanmedian", inputs=[Arg((4, 5), fn=with_nans)], grad=False,
           numpy_op=lambda a: np.nanquantile(a, 0.5, method="lower")),
    OpCase("nanmedian[dim]", inputs=[Arg((4, 5), fn=with_nans)], kwargs={"dim": 1},
           grad=False),
    OpCase("nanmedian[grad]", op=lambda a: taimatsu.nanmedian(a, 0),
           torch_op=lambda torch, a: torch.nanmedian(a, 0), inputs=[D34], gradgrad=False),
    OpCase("mode", inputs=[TIES], grad=False),
    OpCase("mode[dim0-keepdim]", inputs=[Arg((6, 3), fn=ties)], kwargs={"dim": 0,
           "keepdim": True}, grad=False),
    OpCase("mode[int]", inputs=[Arg((3, 8), dtype=taimatsu.int64, low=0, high=3)],
           grad=False),
    OpCase("quantile", inputs=[Arg((3, 5), fn=distinct), 0.3], gradgrad=False,
           numpy_op=np.quantile),
    OpCase("quantile[q-tensor-dim]", inputs=[D34, _q(0.0, 0.25, 0.9, 1.0)],
           kwargs={"dim": 1}),
    OpCase("quantile[keepdim]", inputs=[Arg((3, 4, 2), fn=distinct), _q(0.4, 0.6)],
           kwargs={"dim": 1, "keepdim": True}, gradgrad=False),
    OpCase("quantile[all-keepdim]", inputs=[D34, 0.7], kwargs={"keepdim": True},
           gradgrad=False),
    OpCase("quantile[nan]", inputs=[Arg((4, 5), fn=with_nans), 0.5], kwargs={"dim": 1},
           grad=False),
    *[OpCase(f"quantile[{mode}]", inputs=[Arg((2, 5), fn=distinct),
                                          _q(0.1, 0.125, 0.375, 0.5, 0.875)],
             kwargs={"dim": 1, "interpolation": mode}, gradgrad=False)
      for mode in ("lower", "higher", "midpoint", "nearest")],
    OpCase("nanquantile", inputs=[Arg((4, 5), fn=with_nans), _q(0.2, 0.8)],
           kwargs={"dim": 1}, grad=False),
    OpCase("nanquantile[grad]", inputs=[D34, 0.45], gradgrad=False),
    OpCase("unique", inputs=[TIES], grad=False, numpy_op=np.unique),
    OpCase("unique[inverse-counts]", inputs=[TIES],
           kwargs={"return_inverse": True, "return_counts": True}, grad=False),
    OpCase("unique[dim]", inputs=[Arg((6, 2), dtype=taimatsu.int64, low=0, high=2)],
           kwargs={"dim": 0, "return_inverse": True, "return_counts": True}, grad=False),
    OpCase("unique_consecutive", inputs=[Arg((12,), dtype=taimatsu.int64, low=0, high=2)],
           kwargs={"return_inverse": True, "return_counts": True}, grad=False),
    OpCase("unique_consecutive[dim]",
           inputs=[Arg((2, 8), dtype=taimatsu.int64, low=0, high=2)],
           kwargs={"dim": 1, "return_counts": True}, grad=False),
    OpCase("unique_consecutive[float]", inputs=[Arg((3, 4), fn=ties)], grad=False),
    OpCase("bincount", inputs=[Arg((10,), dtype=taimatsu.int64, low=0, high=5)], grad=False,
           numpy_op=np.bincount),
    OpCase("bincount[weights-minlength]",
           inputs=[Arg((10,), dtype=taimatsu.int64, low=0, high=5), (10,)],
           kwargs={"minlength": 8}, grad=False),
    OpCase("histc", inputs=[(50,)], grad=False),
    OpCase("histc[range]", inputs=[(4, 5)], kwargs={"bins": 7, "min": -0.5, "max": 0.5},
           grad=False),
]
