"""Arithmetic: add, sub, mul, div, floor_divide, remainder, fmod, pow, neg and operators."""

from __future__ import annotations

import functools

import numpy as np

from .. import _dtype as D
from .._tensor import Tensor
from ..amp._state import hook as _autocast
from ..autograd.node import Function
from ._util import cast, check_device, finish, method, result_dtype, sum_to
from .inplace import inplace_variant

_quiet = functools.partial(np.errstate, all="ignore")


def promote(a, b, *, floating: bool = False):
    """Casts a Tensor/scalar pair to their common dtype (PyTorch's promotion).

    The common cases -- same-dtype tensors, or a float tensor with a Python number --
    return at once without computing anything.
    """
    if isinstance(a, Tensor):
        ka = a._data.dtype.kind
        if isinstance(b, Tensor):
            if a._data.dtype is b._data.dtype and not (floating and ka not in "fc"):
                if type(a._data) is not type(b._data):
                    check_device(a, b)
                return a, b
        elif ka in "fc" and isinstance(b, (int, float)):
            return a, b
    dt = result_dtype(a, b)
    if floating and dt._kind < 2:
        dt = D.get_default_dtype()
    check_device(a, b)
    return cast(a, dt), cast(b, dt)


def _needs(ctx, i: int) -> bool:
    return ctx.needs_input_grad[i]


class Add(Function):
    @staticmethod
    def forward(ctx, a, b, alpha=1):
        ctx.shapes = (getattr(a, "shape", ()), getattr(b, "shape", ()))
        ctx.alpha = alpha
        return a + b if alpha == 1 else a + alpha * b

    @staticmethod
    def backward(ctx, grad):
        sa, sb = ctx.shapes
        gb = None
        if _needs(ctx, 1):
            gb = sum_to(grad if ctx.alpha == 1 else grad * ctx.alpha, sb)
        return sum_to(grad, sa) if _needs(ctx, 0) else None, gb


class Sub(Function):
    @staticmethod
    def forward(ctx, a, b, alpha=1):
        ctx.shapes = (getattr(a, "shape", ()), getattr(b, "shape", ()))
        ctx.alpha = alpha
        return a - b if alpha == 1 else a - alpha * b

    @staticmethod
    def backward(ctx, grad):
        sa, sb = ctx.shapes
        gb = sum_to(-grad if ctx.alpha == 1 else grad * -ctx.alpha, sb) if _needs(ctx, 1) \
            else None
        return sum_to(grad, sa) if _needs(ctx, 0) else None, gb


def _scalar(x):
    """The Python number among an op's operands (None for arrays)."""
    return None if hasattr(x, "shape") else x


def _shape(x):
    return getattr(x, "shape", ())


def _array(x):
    return x if hasattr(x, "shape") else None


class Mul(Function):
    @staticmethod
    def forward(ctx, a, b):
        need = ctx.needs_input_grad
        if need:  # keep only what the wanted gradients read
            ctx.save_for_backward(_array(a) if need[1] else None, _array(b) if need[0] else None)
            ctx.scalars = (_scalar(a), _scalar(b))
            ctx.shapes = (_shape(a), _shape(b))
        return a * b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_arrays
        sa, sb = ctx.scalars
        ga = sum_to(grad * _conj(sb if b is None else b), ctx.shapes[0]) if _needs(ctx, 0) \
            else None
        gb = sum_to(grad * _conj(sa if a is None else a), ctx.shapes[1]) if _needs(ctx, 1) \
            else None
        return ga, gb


def _conj(x):
    """Complex gradients are grad * conj(derivative), as in PyTorch."""
    if isinstance(x, (int, float)):
        return x
    if isinstance(x, complex):
        return x.conjugate()
    kind = x.dtype.is_complex if isinstance(x, Tensor) else x.dtype.kind == "c"
    return x.conj() if kind else x


class Div(Function):
    @staticmethod
    def forward(ctx, a, b):
        # Python numbers stay on ctx: only arrays are saved (they become graph Tensors
        # under create_graph)
        need_a = ctx.needs_input_grad[1:2] == (True,)
        ctx.save_for_backward(a if need_a and hasattr(a, "shape") else None,
                              b if hasattr(b, "shape") else None)
        ctx.a_scalar = a if not hasattr(a, "shape") else None
        ctx.b_scalar = b if not hasattr(b, "shape") else None
        ctx.a_shape = getattr(a, "shape", ())
        with _quiet():  # x / 0 gives inf silently, as in torch
            return a / b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_arrays
        if b is None:
            b = ctx.b_scalar
        if a is None:
            a = ctx.a_scalar
        ga = sum_to(grad / _conj(b), ctx.a_shape) if _needs(ctx, 0) else None
        gb = None
        if _needs(ctx, 1):
            gb = sum_to(-grad * _conj(a) / _conj(b * b), b.shape)
        return ga, gb


class FloorDivide(Function):
    _backward_name = "DivBackward1"

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (getattr(a, "shape", ()), getattr(b, "shape", ()))
        with _quiet():
            return _xp_of(a, b).floor_divide(a, b)

    @staticmethod
    def backward(ctx, grad):
        # floor is flat almost everywhere: zero gradient, as torch.
        sa, sb = ctx.shapes
        return ctx.xp.zeros(sa, dtype=grad.dtype) if _needs(ctx, 0) else None, \
            ctx.xp.zeros(sb, dtype=grad.dtype) if _needs(ctx, 1) else None


class TruncDivide(FloorDivide):
    _backward_name = "DivBackward2"

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (getattr(a, "shape", ()), getattr(b, "shape", ()))
        xp = _np() if not hasattr(a, "shape") and not hasattr(b, "shape") else _xp_of(a, b)
        if _is_integral(a, b):
            q = xp.floor_divide(a, b)
            r = xp.remainder(a, b)
            # floor -> trunc for negative quotients with a remainder
            return q + ((r != 0) & ((xp.asarray(a) < 0) != (xp.asarray(b) < 0)))
        return xp.trunc(xp.true_divide(a, b))


class _Modulo(Function):
    """a - b * round(a / b); d/da = 1, d/db = -round(a / b)."""

    _mod = _round = ""  # the NumPy functions: remainder/floor or fmod/trunc

    @classmethod
    def forward(cls, ctx, a, b):
        ctx.save_for_backward(_array(a), _array(b))
        ctx.scalars = (_scalar(a), _scalar(b))
        ctx.shapes = (_shape(a), _shape(b))
        with _quiet():
            return getattr(_xp_of(a, b), cls._mod)(a, b)

    @classmethod
    def backward(cls, ctx, grad):
        a, b = ctx.saved_arrays
        a = ctx.scalars[0] if a is None else a
        b = ctx.scalars[1] if b is None else b
        ga = sum_to(grad, ctx.shapes[0]) if _needs(ctx, 0) else None
        gb = None
        if _needs(ctx, 1):
            gb = sum_to(-grad * getattr(ctx.xp, cls._round)(a / b), ctx.shapes[1])
        return ga, gb


class Remainder(_Modulo):
    """Python's %: the result takes the divisor's sign."""

    _mod, _round = "remainder", "floor"


class Fmod(_Modulo):
    """C's fmod: the result takes the dividend's sign."""

    _mod, _round = "fmod", "trunc"


class Pow(Function):
    @staticmethod
    def forward(ctx, a, b):
        xp = _xp_of(a, b)
        if hasattr(b, "shape"):
            ctx.mark_name("PowBackward1" if hasattr(a, "shape") else "PowBackward2")
        with _quiet():
            out = xp.power(a, b)
        ctx.save_for_backward(_array(a), _array(b), out)
        ctx.scalars = (_scalar(a), _scalar(b))
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b, out = ctx.saved_arrays
        a = ctx.scalars[0] if a is None else a
        b = ctx.scalars[1] if b is None else b
        # 0 ** negative and log(negative) make inf/nan silently, as in torch.
        with _quiet():
            return _pow_grads(ctx, grad, a, b, out)


def _pow_grads(ctx, grad, a, b, out):
    xp = ctx.xp
    ga = gb = None
    if _needs(ctx, 0):
        if not hasattr(b, "shape"):
            ga = xp.zeros_like(grad) if b == 0 else grad * (b * a ** (b - 1))
        else:
            ga = sum_to(xp.where(b == 0, 0.0, grad * b * a ** (b - 1)), a.shape)
    if _needs(ctx, 1):
        # d/db a^b = a^b log a, taken as 0 where a == 0 and b >= 0 (torch's choice)
        if hasattr(a, "shape"):
            safe = xp.where((a == 0) & (b >= 0), 1.0, a)
            gb = sum_to(grad * out * xp.log(safe), b.shape)
        else:
            gb = grad * out * _log_scalar(a)
    return ga, gb


def _log_scalar(a):
    import math
    return math.log(a) if a > 0 else (float("-inf") if a == 0 else float("nan"))


class Neg(Function):
    @staticmethod
    def forward(ctx, a):
        return -a

    @staticmethod
    def backward(ctx, grad):
        return -grad


def _np():
    import numpy as np
    return np


def _xp_of(a, b):
    from .. import backend
    return backend.of(a if hasattr(a, "shape") else b)


def _is_integral(a, b) -> bool:
    def integral(x):
        return x.dtype.kind in "iub" if hasattr(x, "dtype") else isinstance(x, int)
    return integral(a) and integral(b)


def _check_scalar_or_tensor(name, *args):
    for x in args:
        if not isinstance(x, (Tensor, int, float, complex, bool)):
            raise TypeError(f"{name}(): argument 'other' (position 2) must be Tensor, not "
                            f"{type(x).__name__}")


# -- public functions ------------------------------------------------------------------------

def _dense_and_sparse(input, other) -> bool:
    """A dense tensor combined with a sparse one (the sparse code does that work)."""
    return (type(other) is not Tensor and getattr(other, "is_sparse", False)
            and not getattr(input, "is_sparse", False))


@method()
def add(input, other, *, alpha=1, out=None) -> Tensor:
    """input + alpha * other, broadcasting."""
    if _dense_and_sparse(input, other):
        from ..sparse import _ops as sparse_ops
        return finish(sparse_ops.radd(other, input, alpha=alpha), out)
    a, b = promote(input, other)
    return finish(Add.apply(a, b, alpha=alpha) if alpha != 1 else Add.apply(a, b), out)


@method()
def sub(input, other, *, alpha=1, out=None) -> Tensor:
    """input - alpha * other, broadcasting."""
    if isinstance(input, Tensor) and input.dtype is D.bool:
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not "
                           "supported. Use the `^` or `logical_xor()` operator instead.")
    if _dense_and_sparse(input, other):
        from ..sparse import _ops as sparse_ops
        return finish(sparse_ops.radd(other, input, alpha=-alpha), out)
    a, b = promote(input, other)
    return finish(Sub.apply(a, b, alpha=alpha) if alpha != 1 else Sub.apply(a, b), out)


subtract = sub
Tensor.subtract = sub


class Rsub(Function):
    """other - alpha * input (the reflected subtraction)."""

    @staticmethod
    def forward(ctx, a, b, alpha=1):
        ctx.shapes = (getattr(a, "shape", ()), getattr(b, "shape", ()))
        ctx.alpha = alpha
        if not hasattr(b, "shape"):
            ctx.mark_name("RsubBackward1")
        return b - a if alpha == 1 else b - alpha * a

    @staticmethod
    def backward(ctx, grad):
        sa, sb = ctx.shapes
        ga = sum_to(-grad if ctx.alpha == 1 else grad * -ctx.alpha, sa) if _needs(ctx, 0) \
            else None
        return ga, sum_to(grad, sb) if _needs(ctx, 1) else None


@method()
def rsub(input, other, *, alpha=1) -> Tensor:
    """other - alpha * input."""
    a, b = promote(input, other)
    return Rsub.apply(a, b, alpha=alpha) if alpha != 1 else Rsub.apply(a, b)


@method("mul", "multiply")
def mul(input, other, *, out=None) -> Tensor:
    """input * other, broadcasting."""
    if _dense_and_sparse(input, other):  # the product keeps the sparse operand's pattern
        from ..sparse import _ops as sparse_ops
        return finish(sparse_ops.mul(other, input), out)
    a, b = promote(input, other)
    return finish(Mul.apply(a, b), out)


multiply = mul


@method("div", "divide", "true_divide")
def div(input, other, *, rounding_mode=None, out=None) -> Tensor:
    """input / other; rounding_mode None (true division), 'trunc' or 'floor'."""
    if rounding_mode is None:
        a, b = promote(input, other, floating=True)
        return finish(Div.apply(a, b), out)
    if rounding_mode not in ("trunc", "floor"):
        raise ValueError("div expected rounding_mode to be one of None, 'trunc', or 'floor' "
                         f"but found '{rounding_mode}'")
    a, b = promote(input, other)
    _check_int_zero_division(a, b)
    op = TruncDivide if rounding_mode == "trunc" else FloorDivide
    return finish(op.apply(a, b), out)


divide = true_divide = div


def _check_int_zero_division(a, b):
    if isinstance(b, Tensor) and b.dtype._kind == 1 and bool((b._data == 0).any()):
        raise RuntimeError("ZeroDivisionError")
    if isinstance(b, int) and b == 0 and isinstance(a, Tensor) and a.dtype._kind <= 1:
        raise RuntimeError("ZeroDivisionError")


@method()
def floor_divide(input, other, *, out=None) -> Tensor:
    a, b = promote(input, other)
    _check_int_zero_division(a, b)
    return finish(FloorDivide.apply(a, b), out)


@method()
def remainder(input, other, *, out=None) -> Tensor:
    """Python-style modulus: the result has the sign of the divisor."""
    a, b = promote(input, other)
    _check_int_zero_division(a, b)
    return finish(Remainder.apply(a, b), out)


@method()
def fmod(input, other, *, out=None) -> Tensor:
    """C-style modulus: the result has the sign of the dividend."""
    a, b = promote(input, other)
    _check_int_zero_division(a, b)
    return finish(Fmod.apply(a, b), out)


@method()
def pow(input, exponent, *, out=None) -> Tensor:
    """input ** exponent; either may be a Python number."""
    if _autocast.on and (policy := _autocast.policy("pow", (input, exponent))):
        return policy(pow, input, exponent, out=out)
    a, b = promote(input, exponent)
    if isinstance(a, Tensor) and a.dtype._kind == 1 and not isinstance(b, Tensor) and b < 0:
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    return finish(Pow.apply(a, b), out)


@method()
def float_power(input, exponent, *, out=None) -> Tensor:
    """pow in double precision (complex128 for complex inputs)."""
    complex_ = any(isinstance(x, Tensor) and x.is_complex() or isinstance(x, complex)
                   for x in (input, exponent))
    dt = D.complex128 if complex_ else D.float64
    return pow(cast(input, dt), cast(exponent, dt) if isinstance(exponent, Tensor)
               else exponent, out=out)


@method("neg", "negative")
def neg(input, *, out=None) -> Tensor:
    if input.dtype is D.bool:
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If "
                           "you are trying to invert a mask, use the `~` or `logical_not()` "
                           "operator instead.")
    return finish(Neg.apply(input), out)


negative = neg


@method()
def positive(input) -> Tensor:
    if input.dtype is D.bool:
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input


# -- in-place variants and operators -------------------------------------------------------

for _fn in (add, sub, mul, div, floor_divide, remainder, fmod, pow, neg, float_power):
    setattr(Tensor, _fn.__name__ + "_", inplace_variant(_fn))
Tensor.subtract_ = Tensor.sub_
Tensor.multiply_ = Tensor.mul_
Tensor.divide_ = Tensor.true_divide_ = Tensor.div_
Tensor.negative_ = Tensor.neg_


def _reflected(fn):
    def reflected(self, other):
        _check_operand(other)
        return fn(other, self)
    return reflected


def _forward_op(fn):
    def op(self, other):
        if not isinstance(other, (Tensor, int, float, bool, complex)):
            return _maybe_numpy_operand(fn, self, other)
        return fn(self, other)
    return op


def _maybe_numpy_operand(fn, self, other):
    import numpy as np
    if isinstance(other, (np.ndarray, np.generic)):
        from .creation import as_tensor
        return fn(self, as_tensor(other))
    return NotImplemented


def _check_operand(other):
    if not isinstance(other, (Tensor, int, float, bool, complex)):
        import numpy as np
        if not isinstance(other, np.generic):
            raise TypeError(f"unsupported operand type: {type(other).__name__}")


Tensor.__add__ = _forward_op(add)
Tensor.__radd__ = _reflected(add)
Tensor.__sub__ = _forward_op(sub)
Tensor.__rsub__ = rsub
Tensor.__mul__ = _forward_op(mul)
Tensor.__rmul__ = _reflected(mul)
Tensor.__truediv__ = _forward_op(div)
Tensor.__rtruediv__ = _reflected(div)
Tensor.__floordiv__ = _forward_op(floor_divide)
Tensor.__rfloordiv__ = _reflected(floor_divide)
Tensor.__mod__ = _forward_op(remainder)
Tensor.__rmod__ = _reflected(remainder)
Tensor.__pow__ = _forward_op(pow)
Tensor.__rpow__ = _reflected(pow)
Tensor.__neg__ = neg
Tensor.__pos__ = positive
Tensor.__iadd__ = Tensor.add_
Tensor.__isub__ = Tensor.sub_
Tensor.__imul__ = Tensor.mul_
Tensor.__itruediv__ = Tensor.div_
Tensor.__ifloordiv__ = Tensor.floor_divide_
Tensor.__imod__ = Tensor.remainder_
Tensor.__ipow__ = Tensor.pow_
