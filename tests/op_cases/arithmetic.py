"""Op-test descriptions for ops/arithmetic.py (shared by core and parity tests)."""

import numpy as np

import taimatsu
from taimatsu.testing import Arg, OpCase


def _away_from_zero(rng, shape, dtype):
    x = rng.uniform(0.5, 2.0, shape) * rng.choice([-1.0, 1.0], shape)
    return x.astype(dtype)


def _positive(rng, shape, dtype):
    return rng.uniform(0.5, 2.0, shape).astype(dtype)


NONZERO = _away_from_zero

CASES = [
    OpCase("add", inputs=[(3, 4), (3, 4)], numpy_op=np.add),
    OpCase("add[broadcast]", inputs=[(3, 1, 4), (5, 1)], numpy_op=np.add),
    OpCase("add[alpha]", inputs=[(3, 4), (4,)], kwargs={"alpha": 2.5},
           numpy_op=lambda a, b, alpha: a + alpha * b),
    OpCase("add[scalar]", inputs=[(3, 4), 2.5], numpy_op=np.add),
    OpCase("add[0-dim]", inputs=[(), (2, 3)], numpy_op=np.add),
    OpCase("add[empty]", inputs=[(0, 3), (3,)], numpy_op=np.add),
    OpCase("sub", inputs=[(3, 4), (4,)], numpy_op=np.subtract),
    OpCase("sub[alpha]", inputs=[(2, 3), (2, 3)], kwargs={"alpha": -0.5},
           numpy_op=lambda a, b, alpha: a - alpha * b),
    OpCase("mul", inputs=[(3, 4), (3, 4)], numpy_op=np.multiply),
    OpCase("mul[broadcast]", inputs=[(2, 1, 3), (4, 1)], numpy_op=np.multiply),
    OpCase("mul[scalar]", inputs=[(5,), -3.0], numpy_op=np.multiply),
    OpCase("div", inputs=[(3, 4), Arg((3, 4), fn=NONZERO)], numpy_op=np.divide),
    OpCase("div[broadcast]", inputs=[(2, 3), Arg((3,), fn=NONZERO)], numpy_op=np.divide),
    OpCase("div[floor]", inputs=[Arg((6,), low=-5, high=5), Arg((6,), fn=NONZERO)],
           kwargs={"rounding_mode": "floor"}, grad=False,
           numpy_op=lambda a, b, rounding_mode: np.floor(a / b)),
    OpCase("div[trunc]", inputs=[Arg((6,), low=-5, high=5), Arg((6,), fn=NONZERO)],
           kwargs={"rounding_mode": "trunc"}, grad=False,
           numpy_op=lambda a, b, rounding_mode: np.trunc(a / b)),
    OpCase("remainder", inputs=[Arg((8,), low=-5, high=5), Arg((8,), fn=NONZERO)],
           numpy_op=np.remainder, gradgrad=False),
    OpCase("fmod", inputs=[Arg((8,), low=-5, high=5), Arg((8,), fn=NONZERO)],
           numpy_op=np.fmod, gradgrad=False),
    OpCase("pow", inputs=[Arg((3, 4), fn=_positive), Arg((3, 4), low=-2, high=2)],
           numpy_op=np.power),
    OpCase("pow[scalar-exponent]", inputs=[(3, 4), 3], numpy_op=np.power),
    OpCase("pow[fractional]", inputs=[Arg((5,), fn=_positive), 0.5], numpy_op=np.power),
    OpCase("pow[scalar-base]", op=lambda b: taimatsu.pow(2.0, b),
           torch_op=lambda torch, b: torch.pow(2.0, b), inputs=[(4,)],
           numpy_op=lambda b: np.power(2.0, b)),
    OpCase("neg", inputs=[(3, 4)], numpy_op=np.negative),
    OpCase("float_power", inputs=[Arg((4,), fn=_positive), 2.0], dtypes=(taimatsu.float64,),
           numpy_op=np.float_power),
    OpCase("rsub", inputs=[(3,), (3,)], numpy_op=lambda a, b: b - a),
]
