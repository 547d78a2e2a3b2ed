"""Comparisons, predicates (isnan, isclose, ...), logical and bitwise ops, and operators.

None of these is differentiable: results are bool (or integer, for bitwise ops), so they
compute on the arrays directly and never record a graph.
"""

from __future__ import annotations

import numpy as np

from .. import _dtype as D
from .. import backend
from .._tensor import Tensor
from ..autograd.node import as_array
from ._util import broadcast_shapes_or_raise, check_device, finish, method, result_dtype
from .arithmetic import _forward_op, _reflected
from .inplace import _legacy, inplace_variant
from .pointwise import _check_tensor, _unsupported

__all__ = [
    "eq", "ne", "not_equal", "lt", "less", "le", "less_equal", "gt", "greater", "ge",
    "greater_equal", "isnan", "isinf", "isposinf", "isneginf", "isfinite", "isreal",
    "isclose", "allclose", "equal", "logical_and", "logical_or", "logical_xor", "logical_not",
    "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "bitwise_left_shift",
    "bitwise_right_shift", "signbit",
]

_OPERAND_TYPES = (Tensor, int, float, bool, complex, np.generic)
_BF16 = D.bfloat16.np


def _check_operand(fname: str, other) -> None:
    if not isinstance(other, _OPERAND_TYPES):
        raise TypeError(f"{fname}(): argument 'other' (position 2) must be Tensor or Number, "
                        f"not {type(other).__name__}")


def _kernel_error(kernel: str, t, dt: D.dtype) -> NotImplementedError:
    """PyTorch names the missing kernel with its device: "lt_cpu", "bitwise_and_cuda"."""
    return _unsupported(f"{kernel}_{'cuda' if t.is_cuda else 'cpu'}", dt)


def _wrap(array) -> Tensor:
    return Tensor._make(as_array(array))


def _as_dtype(x, dt: D.dtype):
    """An operand as an array (or NumPy scalar) of dtype `dt`.

    Python numbers go through a 0-dim array's astype, which wraps out-of-range integers
    as PyTorch's conversion does (uint8 255 == -1 is True there).
    """
    if isinstance(x, Tensor):
        a = x._data
        return a if a.dtype == dt.np else a.astype(dt.np)
    if isinstance(x, np.generic):
        x = x.item()
    return np.array(x).astype(dt.np)[()]


def _operands(input, other):
    """Both operands in their promoted dtype, after PyTorch's broadcast check."""
    if type(input) is Tensor:  # fast paths: nothing to promote
        a = input._data
        if type(other) is Tensor and other._data.dtype == a.dtype:
            b = other._data
            if a.shape != b.shape:
                broadcast_shapes_or_raise(a.shape, b.shape)
                check_device(input, other)
            elif type(a) is not type(b):
                check_device(input, other)
            return a, b, D._BY_NP[a.dtype]
        if type(other) in (int, float) and a.dtype.kind == "f" and a.dtype != _BF16:
            # NumPy rounds a Python number to the array's float dtype, as PyTorch does
            return a, other, D._BY_NP[a.dtype]
    check_device(input, other)
    dt = result_dtype(input, other)
    a, b = _as_dtype(input, dt), _as_dtype(other, dt)
    sa, sb = np.shape(a), np.shape(b)
    if sa != sb and len(sa) and len(sb):
        broadcast_shapes_or_raise(sa, sb)
    return a, b, dt


def _xp(input, other):
    return backend.of(input._data if isinstance(input, Tensor) else other._data)


# -- comparisons ---------------------------------------------------------------------------------

def _comparison(fname: str, ufunc: str, ordered: bool):
    def fn(input: Tensor, other, *, out: Tensor | None = None) -> Tensor:
        _check_tensor(fname, input)
        _check_operand(fname, other)
        a, b, dt = _operands(input, other)
        if ordered and dt.is_complex:
            raise _kernel_error(fname, input, dt)
        return finish(_wrap(getattr(_xp(input, other), ufunc)(a, b)), out)
    fn.__name__ = fn.__qualname__ = fname
    fn.__doc__ = f"input {_SYMBOLS[ufunc]} other, elementwise (broadcasting); a bool tensor."
    fn.__module__ = __name__
    return fn


_SYMBOLS = {"equal": "==", "not_equal": "!=", "less": "<", "less_equal": "<=",
            "greater": ">", "greater_equal": ">="}

eq = _comparison("eq", "equal", False)
ne = not_equal = _comparison("ne", "not_equal", False)
lt = less = _comparison("lt", "less", True)
le = less_equal = _comparison("le", "less_equal", True)
gt = greater = _comparison("gt", "greater", True)
ge = greater_equal = _comparison("ge", "greater_equal", True)


# -- predicates -------------------------------------------------------------------------------

def _float_kind(t: Tensor) -> bool:
    return t.dtype._kind >= 2


@method()
def isnan(input: Tensor) -> Tensor:
    """True where input is nan (never for integers)."""
    _check_tensor("isnan", input)
    xp = backend.of(input._data)
    if not _float_kind(input):
        return _wrap(xp.zeros(input._data.shape, dtype=bool))
    return _wrap(xp.isnan(input._data))


@method()
def isinf(input: Tensor) -> Tensor:
    """True where input is +inf or -inf (either part, for complex)."""
    _check_tensor("isinf", input)
    xp = backend.of(input._data)
    if not _float_kind(input):
        return _wrap(xp.zeros(input._data.shape, dtype=bool))
    return _wrap(xp.isinf(input._data))


def _signed_inf(fname: str, input: Tensor, value: float) -> Tensor:
    _check_tensor(fname, input)
    if input.dtype.is_complex:
        raise RuntimeError(f"{fname} does not support complex inputs.")
    xp = backend.of(input._data)
    if not _float_kind(input):
        return _wrap(xp.zeros(input._data.shape, dtype=bool))
    return _wrap(input._data == value)


@method()
def isposinf(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """True where input is +inf."""
    return finish(_signed_inf("isposinf", input, np.inf), out)


@method()
def isneginf(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """True where input is -inf."""
    return finish(_signed_inf("isneginf", input, -np.inf), out)


@method()
def isfinite(input: Tensor) -> Tensor:
    """True where input is neither inf nor nan (always for integers)."""
    _check_tensor("isfinite", input)
    xp = backend.of(input._data)
    if not _float_kind(input):
        return _wrap(xp.ones(input._data.shape, dtype=bool))
    return _wrap(xp.isfinite(input._data))


@method()
def isreal(input: Tensor) -> Tensor:
    """True where the imaginary part is 0 (always for real dtypes)."""
    _check_tensor("isreal", input)
    if input.dtype.is_complex:
        return _wrap(input._data.imag == 0)
    return _wrap(backend.of(input._data).ones(input._data.shape, dtype=bool))


@method()
def signbit(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """True where the sign bit is set: negative numbers, -0.0 and negative nans."""
    _check_tensor("signbit", input)
    if input.dtype.is_complex:
        raise NotImplementedError("signbit is not implemented for complex tensors.")
    a = input._data
    xp = backend.of(a)
    if _float_kind(input):
        result = xp.signbit(a)
    else:
        result = a < 0 if input.dtype.is_signed else xp.zeros(a.shape, dtype=bool)
    return finish(_wrap(result), out)


@method()
def isclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
            equal_nan: bool = False) -> Tensor:
    """|input - other| <= atol + rtol * |other|, elementwise (equal infinities are close)."""
    _check_tensor("isclose", input)
    _check_tensor("isclose", other, "other", 2)
    if input.dtype is not other.dtype:
        raise RuntimeError(f"{_legacy(input.dtype)} did not match {_legacy(other.dtype)}")
    for name, tol in (("rtol", rtol), ("atol", atol)):
        if tol < 0:
            raise RuntimeError(f"{name} must be greater than or equal to zero, but got {tol}")
    check_device(input, other)
    a, b = input._data, other._data
    if a.shape != b.shape:
        broadcast_shapes_or_raise(a.shape, b.shape)
    xp = backend.of(a)
    if input.dtype is D.bool:
        return _wrap(a == b)
    if input.dtype._kind == 1:  # integers: the tolerance test in double precision
        a, b = a.astype(np.float64), b.astype(np.float64)
    with np.errstate(all="ignore"):
        # equal values (infinities included), or a finite other within the tolerance
        close = (a == b) | (xp.isfinite(b) & (xp.abs(a - b) <= atol + rtol * xp.abs(b)))
        if equal_nan:
            close |= xp.isnan(a) & xp.isnan(b)
    return _wrap(close)


@method()
def allclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
             equal_nan: bool = False) -> bool:
    """Whether every element of input is close to other (see isclose)."""
    return bool(isclose(input, other, rtol, atol, equal_nan)._data.all())


@method()
def equal(input: Tensor, other: Tensor) -> bool:
    """True if both have the same shape and elements (nan is never equal)."""
    _check_tensor("equal", input)
    _check_tensor("equal", other, "other", 2)
    if input.shape != other.shape:
        return False
    a, b, _ = _operands(input, other)
    return bool(backend.of(input._data).all(a == b))


# -- logical ops -------------------------------------------------------------------------------

def _truth(a):
    return a if a.dtype == np.bool_ else a != 0


def _logical(fname: str, ufunc: str):
    def fn(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
        _check_tensor(fname, input)
        _check_tensor(fname, other, "other", 2)
        check_device(input, other)
        a, b = input._data, other._data
        if a.shape != b.shape:
            broadcast_shapes_or_raise(a.shape, b.shape)
        return finish(_wrap(getattr(backend.of(a), ufunc)(_truth(a), _truth(b))), out)
    fn.__name__ = fn.__qualname__ = fname
    fn.__doc__ = f"Elementwise logical {fname.split('_')[1].upper()}, treating nonzero as True."
    fn.__module__ = __name__
    return fn


logical_and = _logical("logical_and", "logical_and")
logical_or = _logical("logical_or", "logical_or")
logical_xor = _logical("logical_xor", "logical_xor")


@method()
def logical_not(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """True where input is zero."""
    _check_tensor("logical_not", input)
    return finish(_wrap(backend.of(input._data).logical_not(_truth(input._data))), out)


# -- bitwise ops -------------------------------------------------------------------------------

def _integral_operands(kernel: str, input, other, *, bool_ok: bool = True):
    a, b, dt = _operands(input, other)
    if dt._kind > 1 or (dt is D.bool and not bool_ok):
        raise _kernel_error(kernel, input if isinstance(input, Tensor) else other, dt)
    return a, b


def _bitwise(fname: str, ufunc: str, kernel: str):
    def fn(input: Tensor, other, *, out: Tensor | None = None) -> Tensor:
        _check_tensor(fname, input)
        _check_operand(fname, other)
        a, b = _integral_operands(kernel, input, other)
        return finish(_wrap(getattr(_xp(input, other), ufunc)(a, b)), out)
    fn.__name__ = fn.__qualname__ = fname
    fn.__doc__ = f"Elementwise bitwise {fname.split('_')[1].upper()} of integer or bool tensors."
    fn.__module__ = __name__
    return fn


bitwise_and = _bitwise("bitwise_and", "bitwise_and", "bitwise_and")
bitwise_or = _bitwise("bitwise_or", "bitwise_or", "bitwise_or")
bitwise_xor = _bitwise("bitwise_xor", "bitwise_xor", "bitwise_xor")


@method()
def bitwise_not(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Bitwise NOT of integers; logical NOT of bools."""
    _check_tensor("bitwise_not", input)
    if input.dtype._kind > 1:
        raise _kernel_error("bitwise_not", input, input.dtype)
    return finish(_wrap(backend.of(input._data).invert(input._data)), out)


def _shift(fname: str, kernel: str, input, other, left: bool):
    """input << other or input >> other with PyTorch's rule for out-of-range amounts
    (negative, or at least the bit width): 0, or -1 for a negative right-shifted value."""
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        _check_tensor(fname, input)
    _check_operand(fname, other)
    a, b = _integral_operands(kernel, input, other, bool_ok=False)
    xp = _xp(input, other)
    bits = 8 * np.result_type(a, b).itemsize
    shift = xp.left_shift if left else xp.right_shift

    def overflow(shape_of):
        if left:
            return xp.zeros_like(shape_of)
        return xp.where(xp.asarray(a) < 0, -1, 0).astype(shape_of.dtype)

    if isinstance(b, np.generic):  # one amount for all: no masks needed
        amount = int(b)
        result = shift(a, amount) if 0 <= amount < bits else overflow(xp.asarray(a))
        return _wrap(result)
    out_of_range = (b < 0) | (b >= bits)
    shifted = shift(a, xp.where(out_of_range, 0, b).astype(b.dtype))
    return _wrap(xp.where(out_of_range, overflow(shifted), shifted))


@method()
def bitwise_left_shift(input, other, *, out: Tensor | None = None) -> Tensor:
    """input << other; shifting by a negative amount or by the bit width or more gives 0."""
    return finish(_shift("bitwise_left_shift", "lshift", input, other, True), out)


@method()
def bitwise_right_shift(input, other, *, out: Tensor | None = None) -> Tensor:
    """input >> other (arithmetic); out-of-range amounts give 0, or -1 for negative input."""
    return finish(_shift("bitwise_right_shift", "rshift", input, other, False), out)


# -- Tensor methods, in-place variants and operators ---------------------------------------------

for _name in ("eq", "ne", "not_equal", "lt", "less", "le", "less_equal", "gt", "greater", "ge",
              "greater_equal", "logical_and", "logical_or", "logical_xor", "bitwise_and",
              "bitwise_or", "bitwise_xor"):
    setattr(Tensor, _name, globals()[_name])
for _name in ("eq", "ne", "not_equal", "lt", "less", "le", "less_equal", "gt", "greater", "ge",
              "greater_equal", "logical_and", "logical_or", "logical_xor", "logical_not",
              "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "bitwise_left_shift",
              "bitwise_right_shift"):
    setattr(Tensor, _name + "_", inplace_variant(getattr(Tensor, _name)))
del _name


def _invert(self: Tensor) -> Tensor:
    if self.dtype._kind > 1:
        raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type "
                        "tensors")
    return bitwise_not(self)


# Python derives `3 < t` from t.__gt__(3), so comparisons need no reflected forms. Assigning
# __eq__ after the class exists keeps Tensor's identity-based __hash__ (sets, dict keys).
Tensor.__eq__ = _forward_op(eq)
Tensor.__ne__ = _forward_op(ne)
Tensor.__lt__ = _forward_op(lt)
Tensor.__le__ = _forward_op(le)
Tensor.__gt__ = _forward_op(gt)
Tensor.__ge__ = _forward_op(ge)
Tensor.__and__ = _forward_op(bitwise_and)
Tensor.__rand__ = Tensor.__and__  # &, | and ^ commute
Tensor.__or__ = _forward_op(bitwise_or)
Tensor.__ror__ = Tensor.__or__
Tensor.__xor__ = _forward_op(bitwise_xor)
Tensor.__rxor__ = Tensor.__xor__
Tensor.__lshift__ = _forward_op(bitwise_left_shift)
Tensor.__rlshift__ = _reflected(bitwise_left_shift)
Tensor.__rshift__ = _forward_op(bitwise_right_shift)
Tensor.__rrshift__ = _reflected(bitwise_right_shift)
Tensor.__invert__ = _invert
Tensor.__iand__ = Tensor.bitwise_and_
Tensor.__ior__ = Tensor.bitwise_or_
Tensor.__ixor__ = Tensor.bitwise_xor_
Tensor.__ilshift__ = Tensor.bitwise_left_shift_
Tensor.__irshift__ = Tensor.bitwise_right_shift_
