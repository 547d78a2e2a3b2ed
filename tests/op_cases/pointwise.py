"""Op-test descriptions for ops/pointwise.py (shared by core and parity tests).

Inputs keep away from the points where an op is not differentiable (kinks, jumps, poles),
so that finite differences in gradcheck are meaningful there.
"""

import numpy as np
import scipy.special as sp

import taimatsu
from taimatsu.testing import Arg, OpCase

COMPLEX = (taimatsu.complex64, taimatsu.complex128)
HALF = (taimatsu.float16,)  # bfloat16 parity is hand-written: torch.from_numpy refuses it


def _between(low, high):
    def make(rng, shape, dtype):
        return rng.uniform(low, high, shape).astype(dtype)
    return make


def _signed(low, high):
    """|x| in [low, high] with random signs: away from 0."""
    def make(rng, shape, dtype):
        return (rng.uniform(low, high, shape) * rng.choice([-1.0, 1.0], shape)).astype(dtype)
    return make


def _off_integers(rng, shape, dtype):
    """Values in k + [0.2, 0.8] for integers k: away from the jumps of floor/ceil/round."""
    return (rng.integers(-3, 3, shape) + rng.uniform(0.2, 0.8, shape)).astype(dtype)


def _distinct(rng, shape, dtype):
    """Values on a 0.1-spaced grid, shuffled: no two differ by less than 0.1. Shifting one
    operand by an odd multiple of 0.025 keeps it 0.025 away from every other operand."""
    n = int(np.prod(shape))
    return (rng.permutation(n) * 0.1 - n * 0.05).reshape(shape).astype(dtype)


def _shifted(offset):
    def make(rng, shape, dtype):
        return (_distinct(rng, shape, np.float64) + offset).astype(dtype)
    return make


def _nonfinite(rng, shape, dtype):
    return rng.choice(np.array([np.nan, np.inf, -np.inf, 0.5, -1.5]), shape).astype(dtype)


def _mask(rng, shape, dtype):
    return rng.random(shape) < 0.5


POS = Arg((3, 4), fn=_between(0.5, 2.0))
UNIT = Arg((3, 4), fn=_between(-0.9, 0.9))
NONZERO = Arg((3, 4), fn=_signed(0.3, 2.0))
COND = Arg((3, 4), dtype=taimatsu.bool, fn=_mask)


def _unary(name, numpy_op, inp=(3, 4), **kw):
    return OpCase(name, inputs=[inp], numpy_op=numpy_op, **kw)


def _right_half_plane(rng, shape, dtype):
    """Complex values with real part in [0.5, 2]: away from 0 and the negative-real cuts."""
    return (rng.uniform(0.5, 2.0, shape) + 1j * rng.uniform(-1.0, 1.0, shape)).astype(dtype)


def _complex(name, numpy_op, inp=Arg((2, 3), fn=_right_half_plane), torch_op=None, **kw):
    return OpCase(f"{name}[complex]", op=getattr(taimatsu, name), torch_op=torch_op or name,
                  inputs=[inp], numpy_op=numpy_op, dtypes=COMPLEX, **kw)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _round_decimals(x, decimals):
    return np.round(x, decimals)


CASES = [
    # exponentials and logarithms
    _unary("exp", np.exp),
    _unary("exp2", np.exp2),
    _unary("expm1", np.expm1),
    _unary("log", np.log, POS),
    _unary("log2", np.log2, POS),
    _unary("log10", np.log10, POS),
    _unary("log1p", np.log1p, Arg((3, 4), fn=_between(-0.5, 2.0))),
    _unary("sqrt", np.sqrt, POS),
    _unary("rsqrt", lambda x: 1 / np.sqrt(x), POS),
    _unary("reciprocal", np.reciprocal, NONZERO),
    _unary("square", np.square),
    # trigonometric and hyperbolic
    _unary("sin", np.sin),
    _unary("cos", np.cos),
    _unary("tan", np.tan),
    _unary("asin", np.arcsin, UNIT),
    _unary("arcsin", np.arcsin, UNIT),
    _unary("acos", np.arccos, UNIT),
    _unary("arccos", np.arccos, UNIT),
    _unary("atan", np.arctan),
    _unary("arctan", np.arctan),
    _unary("sinh", np.sinh),
    _unary("cosh", np.cosh),
    _unary("tanh", np.tanh),
    _unary("asinh", np.arcsinh),
    _unary("arcsinh", np.arcsinh),
    _unary("acosh", np.arccosh, Arg((3, 4), fn=_between(1.2, 3.0))),
    _unary("arccosh", np.arccosh, Arg((3, 4), fn=_between(1.2, 3.0))),
    _unary("atanh", np.arctanh, UNIT),
    _unary("arctanh", np.arctanh, UNIT),
    _unary("deg2rad", np.deg2rad),
    _unary("rad2deg", np.rad2deg),
    OpCase("atan2", inputs=[(3, 4), NONZERO], numpy_op=np.arctan2),
    OpCase("atan2[broadcast]", inputs=[(2, 1, 3), Arg((4, 1), fn=_signed(0.3, 2.0))],
           numpy_op=np.arctan2),
    OpCase("arctan2", inputs=[(4,), NONZERO], numpy_op=np.arctan2),
    OpCase("hypot", inputs=[NONZERO, (4,)], numpy_op=np.hypot),
    # sigmoid, logit and special functions
    _unary("sigmoid", _sigmoid, Arg((3, 4), low=-5, high=5)),
    _unary("logit", sp.logit, Arg((3, 4), fn=_between(0.1, 0.9))),
    OpCase("logit[eps]", inputs=[Arg((3, 4), fn=_between(0.3, 0.7))], kwargs={"eps": 0.2},
           numpy_op=lambda x, eps: sp.logit(np.clip(x, eps, 1 - eps))),
    _unary("erf", sp.erf, Arg((3, 4), low=-3, high=3)),
    _unary("erfc", sp.erfc, Arg((3, 4), low=-3, high=3)),
    _unary("erfinv", sp.erfinv, UNIT),
    _unary("lgamma", sp.gammaln, Arg((3, 4), fn=_between(0.2, 6.0))),
    OpCase("lgamma[negative]", inputs=[Arg((6,), fn=_off_integers)], numpy_op=sp.gammaln),
    _unary("digamma", sp.digamma, Arg((3, 4), fn=_between(0.2, 6.0))),
    OpCase("digamma[negative]", inputs=[Arg((6,), fn=_off_integers)], numpy_op=sp.digamma),
    OpCase("polygamma", op=lambda x: taimatsu.polygamma(1, x),
           torch_op=lambda torch, x: torch.polygamma(1, x), inputs=[POS],
           numpy_op=lambda x: sp.polygamma(1, x)),
    OpCase("polygamma[n=3]", op=lambda x: taimatsu.polygamma(3, x),
           torch_op=lambda torch, x: torch.polygamma(3, x),
           inputs=[Arg((5,), fn=_between(0.5, 4.0))], numpy_op=lambda x: sp.polygamma(3, x)),
    OpCase("polygamma[method]", op=lambda x: x.polygamma(2),
           torch_op=lambda torch, x: x.polygamma(2), inputs=[POS],
           numpy_op=lambda x: sp.polygamma(2, x)),
    # signs and rounding (flat gradients away from the kinks)
    _unary("abs", np.abs, NONZERO),
    _unary("absolute", np.abs, NONZERO),
    _unary("sign", np.sign, NONZERO),
    # torch's gradient of a real sgn is a ZeroTensor, which NumPy cannot read; + 0 * x
    # makes it a plain tensor with the same values.
    _unary("sgn", np.sign, NONZERO, torch_op=lambda torch, x: torch.sgn(x) + 0 * x),
    _unary("floor", np.floor, Arg((8,), fn=_off_integers)),
    _unary("ceil", np.ceil, Arg((8,), fn=_off_integers)),
    _unary("round", np.round, Arg((8,), fn=_off_integers)),
    OpCase("round[decimals]", inputs=[Arg((8,), fn=_off_integers)], kwargs={"decimals": 1},
           numpy_op=_round_decimals),
    OpCase("round[negative-decimals]", inputs=[Arg((8,), low=-200, high=200)],
           kwargs={"decimals": -1}, numpy_op=_round_decimals),
    _unary("trunc", np.trunc, Arg((8,), fn=_off_integers)),
    _unary("fix", np.trunc, Arg((8,), fn=_off_integers)),
    _unary("frac", lambda x: x - np.trunc(x), Arg((8,), fn=_off_integers)),
    # clamp
    OpCase("clamp", inputs=[Arg((4, 5), fn=_distinct)], kwargs={"min": -0.55, "max": 0.45},
           numpy_op=lambda x, min, max: np.clip(x, min, max)),
    OpCase("clamp[min-only]", inputs=[Arg((4, 5), fn=_distinct)], kwargs={"min": 0.05},
           numpy_op=lambda x, min: np.maximum(x, min)),
    OpCase("clamp[tensor-bounds]", inputs=[Arg((3, 4), fn=_distinct),
                                           Arg((4,), fn=_shifted(-0.525)),
                                           Arg((3, 1), fn=_shifted(0.475))],
           numpy_op=lambda x, lo, hi: np.minimum(np.maximum(x, lo), hi)),
    OpCase("clip", inputs=[Arg((4, 5), fn=_distinct), -0.55, 0.45],
           numpy_op=np.clip),
    OpCase("clamp_min", inputs=[Arg((4, 5), fn=_distinct), 0.05], numpy_op=np.maximum),
    OpCase("clamp_min[tensor]", inputs=[Arg((4, 5), fn=_distinct), Arg((5,), fn=_shifted(0.025))],
           numpy_op=np.maximum),
    OpCase("clamp_max", inputs=[Arg((4, 5), fn=_distinct), 0.05], numpy_op=np.minimum),
    OpCase("clamp_max[tensor]", inputs=[Arg((4, 5), fn=_distinct), Arg((5,), fn=_shifted(0.025))],
           numpy_op=np.minimum),
    # elementwise choice
    OpCase("maximum", inputs=[Arg((3, 4), fn=_distinct), Arg((3, 4), fn=_shifted(0.025))],
           numpy_op=np.maximum),
    OpCase("maximum[broadcast]", inputs=[Arg((2, 1, 3), fn=_distinct),
                                         Arg((4, 1), fn=_shifted(0.025))], numpy_op=np.maximum),
    OpCase("minimum", inputs=[Arg((3, 4), fn=_distinct), Arg((3, 4), fn=_shifted(0.025))],
           numpy_op=np.minimum),
    OpCase("fmax", inputs=[Arg((3, 4), fn=_distinct), Arg((4,), fn=_shifted(0.025))],
           numpy_op=np.fmax),
    OpCase("fmin", inputs=[Arg((3, 4), fn=_distinct), Arg((4,), fn=_shifted(0.025))],
           numpy_op=np.fmin),
    OpCase("where", op=taimatsu.where, inputs=[COND, (3, 4), (3, 4)], numpy_op=np.where),
    OpCase("where[broadcast]", op=taimatsu.where,
           inputs=[Arg((3, 1), dtype=taimatsu.bool, fn=_mask), (1, 4), (3, 4)],
           numpy_op=np.where),
    OpCase("where[scalar]", op=taimatsu.where, inputs=[COND, (3, 4), 0.5],
           numpy_op=np.where),
    OpCase("where[method]", op=lambda x, c, y: x.where(c, y),
           torch_op=lambda torch, x, c, y: x.where(c, y), inputs=[(3, 4), COND, (4,)],
           numpy_op=lambda x, c, y: np.where(c, x, y)),
    # blends
    OpCase("lerp", inputs=[(3, 4), (3, 4), 0.3], numpy_op=lambda a, b, w: a + w * (b - a)),
    OpCase("lerp[weight-above-half]", inputs=[(3, 4), (4,), 0.8],
           numpy_op=lambda a, b, w: a + w * (b - a)),
    OpCase("lerp[tensor-weight]", inputs=[(3, 4), (3, 1), Arg((4,), low=-0.5, high=1.5)],
           numpy_op=lambda a, b, w: a + w * (b - a)),
    OpCase("addcmul", inputs=[(3, 4), (3, 4), (4,)], kwargs={"value": 0.5},
           numpy_op=lambda x, a, b, value: x + value * a * b),
    OpCase("addcmul[broadcast]", inputs=[(4,), (3, 1), (1, 4)],
           numpy_op=lambda x, a, b: x + a * b),
    OpCase("addcdiv", inputs=[(3, 4), (3, 4), NONZERO], kwargs={"value": -2.0},
           numpy_op=lambda x, a, b, value: x + value * a / b),
    OpCase("addcdiv[broadcast]", inputs=[(3, 1), (4,), Arg((3, 4), fn=_signed(0.3, 2.0))],
           numpy_op=lambda x, a, b: x + a / b),
    OpCase("xlogy", inputs=[(3, 4), POS], numpy_op=sp.xlogy),
    OpCase("xlogy[scalar-other]", inputs=[(3, 4), 2.5], numpy_op=sp.xlogy),
    OpCase("xlogy[scalar-self]", op=lambda y: taimatsu.xlogy(1.5, y),
           torch_op=lambda torch, y: torch.xlogy(1.5, y), inputs=[POS],
           numpy_op=lambda y: sp.xlogy(1.5, y)),
    OpCase("nan_to_num", inputs=[(3, 4)], numpy_op=np.nan_to_num),
    OpCase("nan_to_num[special]", inputs=[Arg((3, 4), fn=_nonfinite)], grad=False,
           numpy_op=np.nan_to_num),
    OpCase("nan_to_num[replacements]", inputs=[Arg((3, 4), fn=_nonfinite)], grad=False,
           kwargs={"nan": 1.0, "posinf": 2.0, "neginf": -3.0}, numpy_op=np.nan_to_num),
    OpCase("angle", inputs=[NONZERO], numpy_op=lambda x: np.where(x < 0, np.pi, 0.0)),
    # half precision: values and dtypes against PyTorch
    *[OpCase(f"{name}[half]", op=getattr(taimatsu, name), torch_op=name, inputs=[inp],
             dtypes=HALF, grad=False)
      for name, inp in [("exp", (3, 4)), ("sigmoid", (3, 4)), ("tanh", (3, 4)),
                        ("erf", (3, 4)), ("log", POS), ("sqrt", POS), ("erfinv", UNIT),
                        ("lgamma", POS), ("sign", NONZERO), ("round", (3, 4)),
                        ("reciprocal", NONZERO)]],
    OpCase("clamp[half]", inputs=[(3, 4), -0.5, 0.5], dtypes=HALF, grad=False),
    OpCase("lerp[half]", inputs=[(3, 4), (3, 4), 0.3], dtypes=HALF, grad=False),
    OpCase("maximum[half]", inputs=[(3, 4), (4,)], dtypes=HALF, grad=False),
    OpCase("where[half]", inputs=[COND, (3, 4), 0.5], dtypes=HALF, grad=False),
    # complex inputs
    _complex("exp", np.exp),
    _complex("log", np.log),
    _complex("sqrt", np.sqrt),
    _complex("reciprocal", np.reciprocal),
    _complex("tanh", np.tanh),
    _complex("sigmoid", _sigmoid),
    _complex("abs", np.abs),
    _complex("sgn", lambda z: z / np.abs(z)),
    _complex("angle", np.angle),
    # torch.conj is lazy (a conj bit NumPy cannot read, also on its gradient); the
    # physical conjugate computes the same values and gradients
    _complex("conj", np.conj, torch_op="conj_physical"),
    _complex("conj_physical", np.conj),
    _complex("real", np.real),
    _complex("imag", np.imag),
]
