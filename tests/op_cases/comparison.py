"""Op-test descriptions for ops/comparison.py (shared by core and parity tests).

None of these ops is differentiable, so every case checks values (and dtypes, against
PyTorch) only.
"""

import numpy as np

import taimatsu
from taimatsu.testing import Arg, OpCase


def _small_integers(rng, shape, dtype):
    """Whole numbers in [-2, 2]: operands drawn this way are often equal."""
    return rng.integers(-2, 3, shape).astype(dtype)


def _special(rng, shape, dtype):
    """A mix of ordinary values, zeros, infinities and nan."""
    pool = np.array([0.0, -0.0, 1.5, -2.0, np.inf, -np.inf, np.nan])
    return rng.choice(pool, shape).astype(dtype)


def _nearly(rng, shape, dtype):
    """Values close to _small_integers' at relative distances around isclose's rtol."""
    base = _small_integers(np.random.default_rng(7), shape, np.float64) + 3.0
    return (base * (1 + rng.choice([0.0, 5e-6, 2e-5, 1e-3], shape))).astype(dtype)


def _some_real(rng, shape, dtype):
    return (rng.uniform(-1, 1, shape) + 1j * rng.choice([0.0, 1.0], shape)).astype(dtype)


def _ints(rng, shape, dtype):
    return rng.integers(-50, 50, shape).astype(dtype)


def _shifts(rng, shape, dtype):
    """Shift amounts including negative ones and ones past the bit width."""
    return rng.integers(-3, 70, shape).astype(dtype)


EQ = Arg((3, 4), fn=_small_integers)
INT = Arg((3, 4), dtype=taimatsu.int64, fn=_ints)
INT_ROW = Arg((4,), dtype=taimatsu.int64, fn=_ints)
BOOL = Arg((3, 4), dtype=taimatsu.bool)
SPECIAL = Arg((3, 4), fn=_special)
ONCE = (taimatsu.float32,)  # integer and bool inputs: one dtype round is enough


def _case(name, inputs, numpy_op, **kw):
    return OpCase(name, inputs=inputs, numpy_op=numpy_op, grad=False, gradgrad=False, **kw)


def _ordered(name, numpy_op):
    return [
        _case(name, [EQ, EQ], numpy_op),
        _case(f"{name}[broadcast]", [Arg((2, 1, 4), fn=_small_integers),
                                     Arg((3, 1), fn=_small_integers)], numpy_op),
        _case(f"{name}[scalar]", [EQ, 1.0], numpy_op),
        _case(f"{name}[int-float]", [Arg((3, 4), dtype=taimatsu.int64, fn=_small_integers),
                                     0.5], numpy_op, dtypes=ONCE),
    ]


CASES = [
    *_ordered("eq", np.equal),
    *_ordered("ne", np.not_equal),
    *_ordered("lt", np.less),
    *_ordered("le", np.less_equal),
    *_ordered("gt", np.greater),
    *_ordered("ge", np.greater_equal),
    _case("not_equal", [EQ, EQ], np.not_equal),
    _case("less", [EQ, EQ], np.less),
    _case("less_equal", [EQ, EQ], np.less_equal),
    _case("greater", [EQ, EQ], np.greater),
    _case("greater_equal", [EQ, EQ], np.greater_equal),
    _case("eq[special]", [SPECIAL, SPECIAL], np.equal),
    _case("lt[special]", [SPECIAL, SPECIAL], np.less),
    _case("eq[complex]", [Arg((3, 4), fn=_some_real), 0.5 + 0j], np.equal,
          dtypes=(taimatsu.complex64, taimatsu.complex128)),
    _case("isnan", [SPECIAL], np.isnan),
    _case("isinf", [SPECIAL], np.isinf),
    _case("isposinf", [SPECIAL], np.isposinf),
    _case("isneginf", [SPECIAL], np.isneginf),
    _case("isfinite", [SPECIAL], np.isfinite),
    _case("isfinite[int]", [INT], np.isfinite, dtypes=ONCE),
    _case("isreal", [Arg((3, 4), fn=_some_real)], np.isreal,
          dtypes=(taimatsu.complex64, taimatsu.complex128)),
    _case("signbit", [SPECIAL], np.signbit),
    _case("signbit[int]", [INT], np.signbit, dtypes=ONCE),
    _case("isclose", [Arg((3, 4), fn=_nearly), Arg((3, 4), fn=lambda r, s, d: _nearly(
        np.random.default_rng(3), s, d))], np.isclose, dtypes=(taimatsu.float64,)),
    _case("isclose[tolerances]", [Arg((3, 4), fn=_nearly), Arg((4,), fn=_nearly)],
          np.isclose, kwargs={"rtol": 1e-4, "atol": 1e-3}, dtypes=(taimatsu.float64,)),
    _case("isclose[equal_nan]", [SPECIAL, SPECIAL], np.isclose, kwargs={"equal_nan": True}),
    _case("isclose[int]", [INT, INT_ROW], np.isclose, kwargs={"rtol": 0.1, "atol": 2},
          dtypes=ONCE),
    _case("allclose", [EQ, EQ], np.allclose),
    _case("allclose[same]", [EQ], lambda a: np.allclose(a, a),
          op=lambda a: taimatsu.allclose(a, a), torch_op=lambda torch, a: torch.allclose(a, a)),
    _case("equal", [EQ, EQ], np.array_equal),
    _case("equal[same]", [EQ], lambda a: True, op=lambda a: taimatsu.equal(a, a.clone()),
          torch_op=lambda torch, a: torch.equal(a, a.clone())),
    _case("logical_and", [EQ, EQ], np.logical_and),
    _case("logical_or", [EQ, Arg((4,), fn=_small_integers)], np.logical_or),
    _case("logical_xor", [EQ, EQ], np.logical_xor),
    _case("logical_not", [EQ], np.logical_not),
    _case("logical_and[bool]", [BOOL, BOOL], np.logical_and, dtypes=ONCE),
    _case("bitwise_and", [INT, INT_ROW], np.bitwise_and, dtypes=ONCE),
    _case("bitwise_or", [INT, INT_ROW], np.bitwise_or, dtypes=ONCE),
    _case("bitwise_xor", [INT, INT], np.bitwise_xor, dtypes=ONCE),
    _case("bitwise_xor[scalar]", [INT, 7], np.bitwise_xor, dtypes=ONCE),
    _case("bitwise_and[bool]", [BOOL, BOOL], np.bitwise_and, dtypes=ONCE),
    _case("bitwise_not", [INT], np.invert, dtypes=ONCE),
    _case("bitwise_not[bool]", [BOOL], np.invert, dtypes=ONCE),
    _case("bitwise_left_shift", [INT, Arg((3, 4), dtype=taimatsu.int64, low=0, high=8)],
          np.left_shift, dtypes=ONCE),
    _case("bitwise_right_shift", [INT, Arg((4,), dtype=taimatsu.int64, low=0, high=8)],
          np.right_shift, dtypes=ONCE),
    # out-of-range amounts: PyTorch defines them (0, or -1 for a negative right operand)
    _case("bitwise_left_shift[out-of-range]", [INT, Arg((3, 4), dtype=taimatsu.int64,
                                                        fn=_shifts)],
          None, dtypes=ONCE),
    _case("bitwise_right_shift[out-of-range]", [INT, Arg((3, 4), dtype=taimatsu.int64,
                                                         fn=_shifts)],
          None, dtypes=ONCE),
]
