"""Op-test descriptions for nn.functional.linear and bilinear (core and parity tests)."""

import numpy as np

from taimatsu.nn import functional as F
from taimatsu.testing import OpCase


def case(name, inputs, **kw):
    base = name.split("[")[0]
    return OpCase(name, op=getattr(F, base), inputs=inputs,
                  torch_op=f"nn.functional.{base}", **kw)


def _linear_ref(x, w, b=None):
    out = x @ w.T
    return out if b is None else out + b


CASES = [
    case("linear", [(5, 4), (3, 4), (3,)], numpy_op=_linear_ref),
    case("linear[no_bias]", [(5, 4), (3, 4)], numpy_op=_linear_ref),
    case("linear[none_bias]", [(5, 4), (3, 4), None], numpy_op=_linear_ref),
    case("linear[3d]", [(2, 5, 4), (3, 4), (3,)], numpy_op=_linear_ref),
    case("linear[4d]", [(2, 2, 3, 4), (6, 4), (6,)], numpy_op=_linear_ref),
    case("linear[1d_input]", [(4,), (3, 4), (3,)], numpy_op=_linear_ref),
    case("linear[scalar_bias]", [(5, 4), (3, 4), (1,)], numpy_op=_linear_ref),
    case("linear[empty_batch]", [(0, 4), (3, 4), (3,)], numpy_op=_linear_ref, grad=False,
         gradgrad=False),
    case("bilinear", [(5, 3), (5, 4), (2, 3, 4), (2,)],
         numpy_op=lambda a, b, w, bias: np.einsum("ni,oij,nj->no", a, w, b) + bias),
    case("bilinear[no_bias]", [(5, 3), (5, 4), (2, 3, 4)]),
    case("bilinear[3d]", [(2, 5, 3), (2, 5, 4), (2, 3, 4), (2,)]),
]
