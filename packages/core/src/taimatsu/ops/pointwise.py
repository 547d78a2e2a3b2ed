"""Pointwise math: exp/log, trigonometry, special functions, rounding, clamp, where, ...

Every op here works elementwise (binary ones broadcast). Functions whose result is a float
(exp, sqrt, erf...) give integer inputs the default float dtype, as PyTorch does; abs, sign,
floor, ceil, round, trunc, clamp, maximum/minimum keep integer dtypes.

The special functions (erf, erfc, erfinv, lgamma, digamma, polygamma) have NumPy-only
implementations below, accurate to about float64 precision; on CUDA, cupyx.scipy.special
provides them.
"""

from __future__ import annotations

import builtins
import functools
import math
import warnings

import numpy as np

from .. import _dtype as D
from .. import backend
from .._tensor import Tensor
from ..amp._state import hook as _autocast
from ..autograd.node import Function, as_array
from ._util import (
    cast,
    check_device,
    finish,
    method,
    result_dtype,
    sum_to,
)
from .arithmetic import _conj, pow, promote
from .inplace import _legacy, apply_inplace, inplace_variant

__all__ = [
    "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "rsqrt", "square",
    "reciprocal", "sin", "cos", "tan", "asin", "acos", "atan", "arcsin", "arccos", "arctan",
    "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "arcsinh", "arccosh", "arctanh",
    "atan2", "arctan2", "sigmoid", "logit", "erf", "erfc", "erfinv", "lgamma", "digamma",
    "polygamma", "abs", "absolute", "sign", "sgn", "floor", "ceil", "round", "trunc", "fix",
    "frac", "clamp", "clip", "clamp_min", "clamp_max", "maximum", "minimum", "fmax", "fmin",
    "lerp", "addcmul", "addcdiv", "where", "nan_to_num", "hypot", "xlogy", "conj",
    "conj_physical", "resolve_conj", "resolve_neg", "is_conj", "real", "imag", "angle",
    "deg2rad", "rad2deg",
]

_quiet = functools.partial(np.errstate, all="ignore")  # torch gives nan/inf silently
_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_EULER_GAMMA = 0.57721566490153286061


# -- argument checks and dtype handling ------------------------------------------------------

def _check_tensor(fname: str, x, arg: str = "input", pos: int = 1) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{fname}(): argument '{arg}' (position {pos}) must be Tensor, not "
                        f"{type(x).__name__}")


def _unsupported(fname: str, dt: D.dtype):
    """PyTorch's error for a dtype an op has no kernel for."""
    return NotImplementedError(f'"{fname}" not implemented for \'{_legacy(dt)}\'')


def _floating(t: Tensor) -> Tensor:
    """Integer and bool tensors become the default float dtype (float-valued ops)."""
    return t if t.dtype._kind >= 2 else cast(t, D.get_default_dtype())


def _reject_complex(fname: str, t: Tensor) -> None:
    if t.dtype.is_complex:
        raise _unsupported(fname, t.dtype)


def _reject_bool(fname: str, t: Tensor) -> None:
    if t.dtype is D.bool:
        raise _unsupported(fname, t.dtype)


def _same_dtype(out, like):
    """NumPy computes bfloat16 with Python floats in float32: cast back to the input dtype."""
    return out if out.dtype == like.dtype else out.astype(like.dtype)


def _like_grad(g, grad):
    """The gradient in grad's dtype (bfloat16 math with Python floats drifts to float32)."""
    if g.dtype == grad.dtype:
        return g
    return g.to(grad.dtype) if isinstance(g, Tensor) else g.astype(grad.dtype)


# -- special functions on NumPy float64 arrays -----------------------------------------------
#
# Polynomial and series coefficients are derived from exact rationals and Bernoulli numbers
# at import; the one fitted table (erfcx) says how it was made.

# erf(x) = 2/sqrt(pi) * sum_n (-1)^n x^(2n+1) / (n! (2n+1)); for |x| < 0.5, 14 terms leave
# an error below 1e-17. Highest power first, for Horner's scheme in x^2.
_ERF_TAYLOR = tuple(_TWO_OVER_SQRT_PI * (-1) ** n / (math.factorial(n) * (2 * n + 1))
                    for n in reversed(range(14)))

# Chebyshev coefficients of erfcx(x) = exp(x^2) erfc(x) for x >= 0 in t = (x - 4) / (x + 4)
# (so x in [0, inf) maps onto [-1, 1)): Chebyshev interpolation at 60 nodes in 40-digit
# arithmetic (mpmath), truncated where the dropped tail sums to less than 4e-18.
_ERFCX_CHEB = (
    0.2981017936936576, -0.42908644125580536, 0.18027256568771055, -0.06523752449734899,
    0.020367256576744864, -0.005449087066459008, 0.0012278515372606755,
    -0.0002246979421877305, 3.068543113098951e-05, -2.3178234999468535e-06,
    -1.4628356484727578e-07, 6.927830518748949e-08, -6.8831107633628464e-09,
    -6.858489149445451e-10, 2.4593734989496684e-10, -7.814909174028096e-12,
    -5.889394733817263e-12, 6.869230438567993e-13, 1.255049258010826e-13,
    -2.8232509502798152e-14, -2.6031646343175433e-15, 1.0249960195009234e-15,
    5.72841468125685e-17, -3.692875129327215e-17,
)
# The same polynomial in powers of t, highest first, for Horner's scheme (half the work of
# Clenshaw's); its coefficients' magnitudes sum to about 1, so nothing cancels badly.
_ERFCX_POLY = tuple(np.polynomial.chebyshev.cheb2poly(_ERFCX_CHEB)[::-1].tolist())

# Bernoulli numbers B2, B4, ..., B16 (exact).
_BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510)


def _horner(coeffs, x):
    acc = np.full_like(x, coeffs[0])
    for c in coeffs[1:]:  # in place: no temporary per term
        acc *= x
        acc += c
    return acc


def _exp_neg_square(x):
    """exp(-x*x) for x in [0, 28] without the rounding error of x*x, which exp magnifies."""
    hi = np.floor(x * 16) / 16  # hi*hi is exact: hi has at most 9 significant bits
    return np.exp(-hi * hi) * np.exp(-(x - hi) * (x + hi))


def _erfc_of_nonneg(ax, exact_exp=True):
    """erfc(|x|) for |x| >= 0.5 as exp(-x^2) * erfcx(x), which keeps full relative precision
    (exact_exp=False skips the careful exp(-x^2) where only absolute precision counts)."""
    ax = np.minimum(ax, 28.0)  # erfc underflows to 0 beyond ~27.3; nan stays nan
    e = _exp_neg_square(ax) if exact_exp else np.exp(-ax * ax)
    return e * _horner(_ERFCX_POLY, (ax - 4) / (ax + 4))


def _erf_small(x):
    return x * _horner(_ERF_TAYLOR, x * x)


def _erf_array(x):
    out = np.empty_like(x)
    small = np.abs(x) < 0.5
    out[small] = _erf_small(x[small])
    big = ~small
    xb = x[big]
    out[big] = np.copysign(1 - _erfc_of_nonneg(np.abs(xb), exact_exp=False), xb)
    return out


def _erfc_array(x):
    out = np.empty_like(x)
    small = np.abs(x) < 0.5
    out[small] = 1 - _erf_small(x[small])
    big = ~small
    xb = x[big]
    e = _erfc_of_nonneg(np.abs(xb))
    out[big] = np.where(xb < 0, 2 - e, e)
    return out


def _erfinv_array(y):
    # Winitzki's closed form (~2e-3 relative error) as the start, then three Halley steps,
    # which converge cubically (two leave ~1e-15 in the far tails). The tails solve
    # erfc(x) = 1 - |y| instead of erf(x) = |y|: 1 - |y| is exact there, while erf(x) near 1
    # has lost the digits that matter.
    ay = np.abs(y)
    a = 0.147
    log_term = np.log1p(-ay * ay)
    b = 2 / (math.pi * a) + log_term / 2
    x = np.sqrt(np.sqrt(b * b - log_term / a) - b)
    tail = ay > 0.5
    centre = ~tail
    for _ in range(3):
        residual = np.empty_like(x)
        residual[centre] = _erf_array(x[centre]) - ay[centre]
        residual[tail] = (1 - ay[tail]) - _erfc_array(x[tail])
        u = residual / (_TWO_OVER_SQRT_PI * np.exp(-x * x))
        x = x - u / (1 + x * u)
    x = np.where(ay == 1, np.inf, np.where(ay == 0, 0.0, x))
    return np.copysign(x, y)


def _zeta_minus_one(k: int) -> float:
    """zeta(k) - 1 for integer k >= 2: 18 terms, then the Euler-Maclaurin tail from 20."""
    n = 20.0
    total = math.fsum(m ** -k for m in range(2, 20))
    total += n ** (1 - k) / (k - 1) + n ** -k / 2
    rising = 1.0  # k (k+1) ... (k + 2j - 2)
    for j, b in enumerate(_BERNOULLI[:5], start=1):
        rising = k if j == 1 else rising * (k + 2 * j - 3) * (k + 2 * j - 2)
        total += b / math.factorial(2 * j) * rising * n ** (-k - 2 * j + 1)
    return total


# lgamma(2 + z) = (1 - euler_gamma) z + sum_{k>=2} (-1)^k (zeta(k) - 1) / k z^k and its
# derivative give lgamma and digamma on [0.5, 2.5) with |z| <= 0.5: 29 terms reach 1e-18.
_ZETA1 = tuple(_zeta_minus_one(k) for k in range(2, 31))
_LGAMMA_SERIES = tuple((-1) ** k * _ZETA1[k - 2] / k for k in reversed(range(2, 31)))
_DIGAMMA_SERIES = tuple((-1) ** k * _ZETA1[k - 2] for k in reversed(range(2, 31)))


def _lgamma_series(z):
    """lgamma(2 + z) for |z| <= 0.5."""
    return z * z * _horner(_LGAMMA_SERIES, z) + (1 - _EULER_GAMMA) * z


def _digamma_series(z):
    """digamma(2 + z) for |z| <= 0.5."""
    return z * _horner(_DIGAMMA_SERIES, z) + (1 - _EULER_GAMMA)


def _abs_sinpi(x):
    """|sin(pi x)| with exact argument reduction (x - round(x) is exact)."""
    return np.abs(np.sin(math.pi * (x - np.round(x))))


def _gamma_ranges(x):
    """The argument ranges lgamma and digamma treat differently: reflection (x <= 0), the
    shifts from (0, 0.5) and [0.5, 1.5), the recurrence down to [1.5, 2.5), and the
    asymptotic series from 10 (NaNs fall in none)."""
    return (x <= 0, (x > 0) & (x < 0.5), (x >= 0.5) & (x < 1.5), (x >= 1.5) & (x < 10),
            x >= 10)


def _lgamma_array(x):
    out = np.empty_like(x)
    out[np.isnan(x)] = np.nan
    neg, tiny, near1, mid, large = _gamma_ranges(x)
    # lgamma(x) = lgamma(x + 2) - log(x) - log(x + 1)
    z = x[tiny]
    out[tiny] = _lgamma_series(z) - np.log(z) - np.log1p(z)
    # lgamma(x) = lgamma(x + 1) - log(x), with x + 1 = 2 + z
    z = x[near1] - 1
    out[near1] = _lgamma_series(z) - np.log1p(z)
    # lgamma(x) = log((x-1)(x-2)...y) + lgamma(y) for y in [1.5, 2.5): no cancellation
    y = x[mid]
    prod = np.ones_like(y)
    while (move := y >= 2.5).any():
        y = np.where(move, y - 1, y)
        prod = np.where(move, prod * y, prod)
    out[mid] = _lgamma_series(y - 2) + np.log(prod)
    out[large] = _stirling(x[large])
    # reflection: lgamma(x) = log(pi / |sin(pi x)|) - lgamma(1 - x); poles give +inf
    z = x[neg]
    if z.size:
        refl = np.log(math.pi / _abs_sinpi(z)) - _lgamma_array(1 - z)
        out[neg] = np.where(np.isinf(z), np.inf, refl)
    return out


def _stirling(x):
    """lgamma(x) for x >= 10 by Stirling's series (truncation error below 1e-16 there)."""
    inv = 1 / x
    inv2 = inv * inv
    corr = np.zeros_like(x)
    for j in reversed(range(1, 8)):
        corr = corr * inv2 + _BERNOULLI[j - 1] / (2 * j * (2 * j - 1))
    val = (x - 0.5) * np.log(x) - x + 0.5 * math.log(2 * math.pi) + corr * inv
    return np.where(np.isinf(x), np.inf, val)


def _digamma_array(x):
    out = np.empty_like(x)
    out[np.isnan(x)] = np.nan
    neg, tiny, near1, mid, large = _gamma_ranges(x)
    # digamma(x) = digamma(x + 2) - 1/(x + 1) - 1/x
    z = x[tiny]
    out[tiny] = _digamma_series(z) - 1 / (z + 1) - 1 / z
    # digamma(x) = digamma(x + 1) - 1/x
    z = x[near1]
    out[near1] = _digamma_series(z - 1) - 1 / z
    # digamma(x) = digamma(y) + 1/(x-1) + ... + 1/y for y in [1.5, 2.5)
    y = x[mid]
    acc = np.zeros_like(y)
    while (move := y >= 2.5).any():
        y = np.where(move, y - 1, y)
        acc = np.where(move, acc + 1 / y, acc)
    out[mid] = _digamma_series(y - 2) + acc
    # asymptotic series: log x - 1/(2x) - sum_j B_2j / (2j x^2j), 7 terms for x >= 10
    z = x[large]
    inv2 = 1 / (z * z)
    corr = np.zeros_like(z)
    for j in reversed(range(1, 8)):
        corr = corr * inv2 + _BERNOULLI[j - 1] / (2 * j)
    out[large] = np.log(z) - 0.5 / z - corr * inv2
    # reflection: digamma(x) = digamma(1 - x) - pi / tan(pi x); tan has period pi
    z = x[neg]
    if z.size:
        refl = _digamma_array(1 - z) - math.pi / np.tan(math.pi * (z - np.round(z)))
        refl = np.where(z == np.round(z), np.nan, refl)  # poles at the negative integers
        out[neg] = np.where(z == 0, np.where(np.signbit(z), np.inf, -np.inf), refl)
    return out


def _hurwitz_zeta(s: int, q):
    """zeta(s, q) = sum_k (q + k)^-s for integer s >= 2 and q not a non-positive integer:
    direct terms until q + k >= 10 + 2s, then the Euler-Maclaurin tail (8 Bernoulli terms)."""
    target = 10.0 + 2 * s
    total = np.zeros_like(q)
    a = q.copy()
    steps = int(math.ceil(target - a.min())) if a.size else 0
    for _ in range(builtins.max(steps, 0)):
        low = a < target
        total += np.where(low, np.where(low, a, 1.0) ** -s, 0.0)
        a = np.where(low, a + 1, a)
    tail = a ** (1 - s) / (s - 1) + a ** -s / 2
    rising = float(s)
    power = a ** (-s - 1)
    inv2 = 1 / (a * a)
    for j, b in enumerate(_BERNOULLI, start=1):
        if j > 1:
            rising *= (s + 2 * j - 3) * (s + 2 * j - 2)
            power = power * inv2
        tail = tail + b / math.factorial(2 * j) * rising * power
    return total + tail


def _polygamma_array(n: int, x):
    if n == 0:
        return _digamma_array(x)
    out = np.full_like(x, np.nan)
    sign_fact = (-1.0) ** (n + 1) * math.factorial(n)
    pole = (x <= 0) & (x == np.round(x))
    out[pole] = sign_fact * np.inf
    out[x == np.inf] = 0.0
    ok = np.isfinite(x) & ~pole
    z = x[ok]
    if n == 1:
        # trigamma(x) = -trigamma(1 - x) + (pi / sin(pi x))^2 keeps negative x cheap
        neg = z < 0.5
        vals = np.empty_like(z)
        vals[~neg] = _hurwitz_zeta(2, z[~neg])
        zn = z[neg]
        vals[neg] = -_hurwitz_zeta(2, 1 - zn) + (math.pi / _abs_sinpi(zn)) ** 2
        out[ok] = vals
    else:
        out[ok] = sign_fact * _hurwitz_zeta(n + 1, z)
    return out


_CUPY_SPECIAL = {"erf": "erf", "erfc": "erfc", "erfinv": "erfinv", "lgamma": "gammaln",
                 "digamma": "digamma"}
_NUMPY_SPECIAL = {"erf": _erf_array, "erfc": _erfc_array, "erfinv": _erfinv_array,
                  "lgamma": _lgamma_array, "digamma": _digamma_array}


def _special_array(name: str, x, n: int | None = None):
    """A special function on a float array, in that array's dtype, on its device."""
    if backend.is_cuda_array(x):
        import cupyx.scipy.special as cs
        out = (cs.polygamma(backend.cupy().asarray(n), x) if name == "polygamma"  # no int n
               else getattr(cs, _CUPY_SPECIAL[name])(x))
        return out.astype(x.dtype, copy=False)
    fast = _scipy_special(name) if x.dtype in (np.float32, np.float64) else None
    if fast is not None:  # SciPy's compiled kernels, ~20x faster, when it is installed
        with _quiet():
            return fast(x).astype(x.dtype, copy=False)
    x64 = np.asarray(x, dtype=np.float64)
    with _quiet():
        out = _polygamma_array(n, x64) if name == "polygamma" else _NUMPY_SPECIAL[name](x64)
    return out.astype(x.dtype, copy=False)


@functools.cache
def _scipy_special(name: str):
    """scipy.special's erf/erfc/erfinv if SciPy is importable (it is optional), else None.

    Only these three: for lgamma/digamma our own code matches torch more closely near the
    poles."""
    if name not in ("erf", "erfc", "erfinv"):
        return None
    try:
        import scipy.special
    except ImportError:
        return None
    return getattr(scipy.special, name)


def _special(name: str, x, n: int | None = None):
    """Special functions inside backward: on arrays, or differentiably on Tensors when
    create_graph=True hands backward Tensors."""
    if isinstance(x, Tensor):
        return polygamma(n, x) if name == "polygamma" else globals()[name](x)
    return _special_array(name, x, n)


# -- unary ops defined by a formula and its derivative --------------------------------------

def _unary_op(name: str, fn, derivative=None, *, saves: str = "x"):
    """A Function class `name` computing fn(xp, x) elementwise.

    backward is grad * conj(derivative(xp, x, y)) (y the output), the rule for holomorphic
    functions that PyTorch uses; only x and/or y, as `saves` says, are kept. Without a
    derivative the op is flat almost everywhere and its gradient is zero (floor, sign...).
    """
    keep_x, keep_y = "x" in saves, "y" in saves

    def forward(ctx, x):
        with _quiet():
            y = _same_dtype(fn(backend.of(x), x), x)
        if ctx.needs_input_grad and derivative is not None:
            y = as_array(y)  # a 0-dim ufunc result is a scalar; save the array we return
            ctx.save_for_backward(x if keep_x else None, y if keep_y else None)
        return y

    def backward(ctx, grad):
        if derivative is None:
            return ctx.xp.zeros_like(grad)
        x, y = ctx.saved_arrays
        with _quiet():
            g = grad * _conj(derivative(ctx.xp, x, y))
        return _like_grad(g, grad)

    return type(name, (Function,), {
        "__doc__": f"{name.lower()}(x), elementwise.", "__module__": __name__,
        "forward": staticmethod(forward), "backward": staticmethod(backward)})


def _sigmoid(xp, x):
    return 1 / (1 + xp.exp(-x))  # exp overflow -> inf -> 0: exact for large negative x


Exp = _unary_op("Exp", lambda xp, x: xp.exp(x), lambda xp, x, y: y, saves="y")
Exp2 = _unary_op("Exp2", lambda xp, x: xp.exp2(x), lambda xp, x, y: y * _LN2, saves="y")
Expm1 = _unary_op("Expm1", lambda xp, x: xp.expm1(x), lambda xp, x, y: y + 1, saves="y")
Log = _unary_op("Log", lambda xp, x: xp.log(x), lambda xp, x, y: 1 / x)
Log2 = _unary_op("Log2", lambda xp, x: xp.log2(x), lambda xp, x, y: 1 / (x * _LN2))
Log10 = _unary_op("Log10", lambda xp, x: xp.log10(x), lambda xp, x, y: 1 / (x * _LN10))
Log1P = _unary_op("Log1P", lambda xp, x: xp.log1p(x), lambda xp, x, y: 1 / (x + 1))
Sqrt = _unary_op("Sqrt", lambda xp, x: xp.sqrt(x), lambda xp, x, y: 0.5 / y, saves="y")
Rsqrt = _unary_op("Rsqrt", lambda xp, x: 1 / xp.sqrt(x), lambda xp, x, y: -0.5 * y * y * y,
                  saves="y")
Reciprocal = _unary_op("Reciprocal", lambda xp, x: 1 / x, lambda xp, x, y: -y * y, saves="y")
Sin = _unary_op("Sin", lambda xp, x: xp.sin(x), lambda xp, x, y: xp.cos(x))
Cos = _unary_op("Cos", lambda xp, x: xp.cos(x), lambda xp, x, y: -xp.sin(x))
Tan = _unary_op("Tan", lambda xp, x: xp.tan(x), lambda xp, x, y: 1 + y * y, saves="y")
Asin = _unary_op("Asin", lambda xp, x: xp.arcsin(x), lambda xp, x, y: 1 / xp.sqrt(1 - x * x))
Acos = _unary_op("Acos", lambda xp, x: xp.arccos(x), lambda xp, x, y: -1 / xp.sqrt(1 - x * x))
Atan = _unary_op("Atan", lambda xp, x: xp.arctan(x), lambda xp, x, y: 1 / (1 + x * x))
Sinh = _unary_op("Sinh", lambda xp, x: xp.sinh(x), lambda xp, x, y: xp.cosh(x))
Cosh = _unary_op("Cosh", lambda xp, x: xp.cosh(x), lambda xp, x, y: xp.sinh(x))
Tanh = _unary_op("Tanh", lambda xp, x: xp.tanh(x), lambda xp, x, y: 1 - y * y, saves="y")
Asinh = _unary_op("Asinh", lambda xp, x: xp.arcsinh(x),
                  lambda xp, x, y: 1 / xp.sqrt(x * x + 1))
# sqrt(x-1) sqrt(x+1) rather than sqrt(x*x - 1): the same for real x, the right branch for
# complex x.
Acosh = _unary_op("Acosh", lambda xp, x: xp.arccosh(x),
                  lambda xp, x, y: 1 / (xp.sqrt(x - 1) * xp.sqrt(x + 1)))
Atanh = _unary_op("Atanh", lambda xp, x: xp.arctanh(x), lambda xp, x, y: 1 / (1 - x * x))
Sigmoid = _unary_op("Sigmoid", _sigmoid, lambda xp, x, y: y * (1 - y), saves="y")
Erf = _unary_op("Erf", lambda xp, x: _special_array("erf", x),
                lambda xp, x, y: _TWO_OVER_SQRT_PI * xp.exp(-x * x))
Erfc = _unary_op("Erfc", lambda xp, x: _special_array("erfc", x),
                 lambda xp, x, y: -_TWO_OVER_SQRT_PI * xp.exp(-x * x))
Erfinv = _unary_op("Erfinv", lambda xp, x: _special_array("erfinv", x),
                   lambda xp, x, y: xp.exp(y * y) / _TWO_OVER_SQRT_PI, saves="y")
Lgamma = _unary_op("Lgamma", lambda xp, x: _special_array("lgamma", x),
                   lambda xp, x, y: _special("digamma", x))
Digamma = _unary_op("Digamma", lambda xp, x: _special_array("digamma", x),
                    lambda xp, x, y: _special("polygamma", x, 1))
Deg2Rad = _unary_op("Deg2Rad", lambda xp, x: x * (math.pi / 180),
                    lambda xp, x, y: math.pi / 180, saves="")
Rad2Deg = _unary_op("Rad2Deg", lambda xp, x: x * (180 / math.pi),
                    lambda xp, x, y: 180 / math.pi, saves="")
Frac = _unary_op("Frac", lambda xp, x: x - xp.trunc(x), lambda xp, x, y: 1, saves="")


def _keep_integers(fn):
    """Rounding leaves integers as they are (NumPy would turn them into float64)."""
    return lambda xp, x: x.copy() if x.dtype.kind in "iub" else fn(xp, x)


Floor = _unary_op("Floor", _keep_integers(lambda xp, x: xp.floor(x)))
Ceil = _unary_op("Ceil", _keep_integers(lambda xp, x: xp.ceil(x)))
Trunc = _unary_op("Trunc", _keep_integers(lambda xp, x: xp.trunc(x)))


class Round(Function):
    """Rounds half to even, optionally to `decimals` places (PyTorch's scaling)."""

    @staticmethod
    def forward(ctx, x, decimals=0):
        xp = backend.of(x)
        if x.dtype.kind in "iub":
            return x.copy()
        if decimals == 0:
            return xp.rint(x)
        ctx.mark_name("RoundBackward1")
        with _quiet():
            if decimals > 0:
                scale = _same_dtype(xp.asarray(10.0 ** decimals, dtype=x.dtype), x)
                return xp.rint(x * scale) / scale
            scale = _same_dtype(xp.asarray(10.0 ** -decimals, dtype=x.dtype), x)
            return xp.rint(x / scale) * scale

    @staticmethod
    def backward(ctx, grad):
        return ctx.xp.zeros_like(grad)


def _sign_array(x):
    if x.dtype.kind == "b":
        return x.copy()
    if x.dtype.kind in "iu":
        return backend.of(x).sign(x)
    # (x > 0) - (x < 0): nan and -0.0 give +0.0, as in PyTorch (NumPy gives nan, -0.0)
    return _same_dtype((x > 0).astype(x.dtype) - (x < 0).astype(x.dtype), x)


class Sign(Function):
    @staticmethod
    def forward(ctx, x):
        return _sign_array(x)

    @staticmethod
    def backward(ctx, grad):
        return ctx.xp.zeros_like(grad)


def _unit(xp, z):
    """z / |z| for complex z, 0 at 0."""
    r = xp.abs(z)
    return xp.where(r == 0, 0, z / xp.where(r == 0, 1, r))


class Sgn(Function):
    """sign for real input; z / |z| for complex."""

    @staticmethod
    def forward(ctx, x):
        if x.dtype.kind != "c":
            return _sign_array(x)
        with _quiet():
            s = as_array(_unit(backend.of(x), x))
        if ctx.needs_input_grad:
            ctx.save_for_backward(x, s)
        return s

    @staticmethod
    def backward(ctx, grad):
        xp = ctx.xp
        if not _is_complex(grad):
            return xp.zeros_like(grad)
        z, s = ctx.saved_arrays
        # d(z/|z|): grad / (2|z|) - conj(grad) s^2 / (2|z|); zero where z == 0
        r = xp.abs(z)
        safe = xp.where(r == 0, 1, r)
        return xp.where(r == 0, 0, (grad - grad.conj() * s * s) / (2 * safe))


class Abs(Function):
    @staticmethod
    def forward(ctx, x):
        if ctx.needs_input_grad:
            ctx.save_for_backward(x)
        return backend.of(x).abs(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_arrays
        xp = ctx.xp
        if _is_complex(x):
            return grad * _unit(xp, x)  # |z| is real-valued: no conjugate
        # zero at 0 (and at nan), as PyTorch
        return grad * (sign(x) if isinstance(x, Tensor) else _sign_array(x))


def _is_complex(a) -> bool:
    return a.is_complex() if isinstance(a, Tensor) else a.dtype.kind == "c"


class Logit(Function):
    """log(x / (1 - x)), with x first clamped to [eps, 1 - eps] when eps is given."""

    @staticmethod
    def forward(ctx, x, eps=None):
        xp = backend.of(x)
        if ctx.needs_input_grad:
            ctx.save_for_backward(x)
            ctx.eps = eps
        z = x if eps is None else xp.clip(x, eps, 1 - eps)
        with _quiet():
            return _same_dtype(xp.log(z / (1 - z)), x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_arrays
        xp = ctx.xp
        eps = ctx.eps
        with _quiet():
            g = grad / (x * (1 - x))
            if eps is None:  # outside [0, 1] the function is nan, and so is its gradient
                return xp.where((x < 0) | (x > 1), math.nan, g)
            return xp.where((x < eps) | (x > 1 - eps), 0, g)


class Polygamma(Function):
    @staticmethod
    def forward(ctx, x, n=1):
        if ctx.needs_input_grad:
            ctx.save_for_backward(x)
            ctx.n = n
        return _special_array("polygamma", x, n)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_arrays
        return grad * _special("polygamma", x, ctx.n + 1)


class Conj(Function):
    @staticmethod
    def forward(ctx, x):
        return backend.of(x).conj(x)

    @staticmethod
    def backward(ctx, grad):
        return grad.conj()


class ConjPhysical(Conj):
    pass


class Real(Function):
    """The real part of a complex tensor, as a view."""

    view = True
    _backward_name = "SelectBackward0"  # PyTorch selects from view_as_real

    @staticmethod
    def forward(ctx, x):
        return x.real

    @staticmethod
    def backward(ctx, grad):
        return grad * (1 + 0j)


class Imag(Function):
    """The imaginary part of a complex tensor, as a view."""

    view = True
    _backward_name = "SelectBackward0"

    @staticmethod
    def forward(ctx, x):
        return x.imag

    @staticmethod
    def backward(ctx, grad):
        return grad * 1j


class Angle(Function):
    @staticmethod
    def forward(ctx, x):
        xp = backend.of(x)
        ctx.complex_input = x.dtype.kind == "c"
        if ctx.complex_input:
            if ctx.needs_input_grad:
                ctx.save_for_backward(x)
            return xp.angle(x)
        # pi for negative numbers, 0 otherwise (-0.0 included), nan stays nan
        return _same_dtype(xp.where(x < 0, math.pi, xp.where(x != x, math.nan, 0.0)), x)

    @staticmethod
    def backward(ctx, grad):
        xp = ctx.xp
        if not ctx.complex_input:  # piecewise constant on the reals
            return xp.zeros_like(grad)
        (z,) = ctx.saved_arrays
        # d angle = (-Im z, Re z) / |z|^2, i.e. 1j * z / |z|^2 as a complex gradient
        r2 = xp.abs(z) * xp.abs(z)
        return xp.where(r2 == 0, 0, grad * (1j * z) / xp.where(r2 == 0, 1, r2))


class NanToNum(Function):
    @staticmethod
    def forward(ctx, x, nan=0.0, posinf=None, neginf=None):
        xp = backend.of(x)
        if ctx.needs_input_grad:
            ctx.save_for_backward(x)
        if x.dtype.kind in "iub":
            return x.copy()
        if x.dtype.kind == "c":
            return xp.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)
        big = float(_finfo(x.dtype).max)
        out = x.copy()
        out[xp.isnan(x)] = nan
        out[x == math.inf] = big if posinf is None else posinf
        out[x == -math.inf] = -big if neginf is None else neginf
        return out

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_arrays
        xp = ctx.xp
        return xp.where(xp.isfinite(x), grad, 0)


def _finfo(np_dtype):
    if np_dtype == D.bfloat16.np:
        import ml_dtypes
        return ml_dtypes.finfo(np_dtype)
    return np.finfo(np_dtype)


# -- binary and ternary ops ------------------------------------------------------------------

def _shape(x):
    return getattr(x, "shape", ())


def _array_or_none(x):
    return x if hasattr(x, "shape") else None


class Clamp(Function):
    """min(max(x, lo), hi); each bound None, a number or an array (broadcast)."""

    @staticmethod
    def forward(ctx, x, lo, hi, name="ClampBackward1"):
        xp = backend.of(x)
        ctx.mark_name(name)
        if ctx.needs_input_grad:
            ctx.save_for_backward(x, _array_or_none(lo), _array_or_none(hi))
            ctx.scalars = (lo, hi)
        out = x
        if lo is not None:
            out = xp.maximum(out, lo)
        if hi is not None:
            out = xp.minimum(out, hi)
        return _same_dtype(out, x)

    @staticmethod
    def backward(ctx, grad):
        x, lo, hi = ctx.saved_arrays
        lo = ctx.scalars[0] if lo is None else lo
        hi = ctx.scalars[1] if hi is None else hi
        xp = ctx.xp
        need = ctx.needs_input_grad
        gx = glo = ghi = None
        if need[0]:
            # gradient passes at the bounds themselves, as PyTorch
            inside = x >= lo if lo is not None else None
            if hi is not None:
                inside = x <= hi if inside is None else inside & (x <= hi)
            gx = sum_to(xp.where(inside, grad, 0), x.shape)
        if need[1]:  # where lo was the result: x below it, and lo not above hi
            mask = x < lo if hi is None else (x < lo) & (lo <= hi)
            glo = sum_to(xp.where(mask, grad, 0), lo.shape)
        if need[2]:  # where hi was the result: x above it, or lo above hi
            mask = x > hi if lo is None else (x > hi) | (lo > hi)
            ghi = sum_to(xp.where(mask, grad, 0), hi.shape)
        return gx, glo, ghi


def _choice_grads(ctx, grad, a, b, a_mask, b_mask, split_ties):
    """Gradients of an elementwise pick between a and b.

    a_mask()/b_mask() say where each operand does NOT receive the gradient; with
    split_ties, equal operands share it half and half (maximum/minimum, as PyTorch).
    """
    xp = ctx.xp
    need = ctx.needs_input_grad
    half = grad / 2 if split_ties else None
    ga = gb = None
    if need[0]:
        ga = xp.where(a_mask(), 0, grad)
        if split_ties:
            ga = xp.where(a == b, half, ga)
        ga = sum_to(ga, a.shape)
    if need[1]:
        gb = xp.where(b_mask(), 0, grad)
        if split_ties:
            gb = xp.where(a == b, half, gb)
        gb = sum_to(gb, b.shape)
    return ga, gb


def _save_inputs(ctx, *arrays):
    if ctx.needs_input_grad:
        ctx.save_for_backward(*arrays)


class Maximum(Function):
    @staticmethod
    def forward(ctx, a, b):
        _save_inputs(ctx, a, b)
        return backend.of(a).maximum(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_arrays
        return _choice_grads(ctx, grad, a, b, lambda: a < b, lambda: a > b, True)


class Minimum(Function):
    @staticmethod
    def forward(ctx, a, b):
        _save_inputs(ctx, a, b)
        return backend.of(a).minimum(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_arrays
        return _choice_grads(ctx, grad, a, b, lambda: a > b, lambda: a < b, True)


class Fmax(Function):
    @staticmethod
    def forward(ctx, a, b):
        _save_inputs(ctx, a, b)
        return backend.of(a).fmax(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_arrays
        xp = ctx.xp
        takes_a = lambda: (a >= b) | xp.isnan(b)  # ties and a nan b go to a
        return _choice_grads(ctx, grad, a, b, lambda: ~takes_a(), takes_a, False)


class Fmin(Function):
    @staticmethod
    def forward(ctx, a, b):
        _save_inputs(ctx, a, b)
        return backend.of(a).fmin(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_arrays
        xp = ctx.xp
        takes_a = lambda: (a <= b) | xp.isnan(b)
        return _choice_grads(ctx, grad, a, b, lambda: ~takes_a(), takes_a, False)


class Atan2(Function):
    @staticmethod
    def forward(ctx, a, b):
        _save_inputs(ctx, a, b)
        with _quiet():
            return _same_dtype(backend.of(a).arctan2(a, b), a)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_arrays
        xp = ctx.xp
        with _quiet():
            denom = a * a + b * b
            scale = xp.where(denom == 0, 0, grad / xp.where(denom == 0, 1, denom))
            ga = sum_to(scale * b, a.shape) if ctx.needs_input_grad[0] else None
            gb = sum_to(-scale * a, b.shape) if ctx.needs_input_grad[1] else None
        return ga, gb


class Hypot(Function):
    @staticmethod
    def forward(ctx, a, b):
        out = as_array(backend.of(a).hypot(a, b))
        if ctx.needs_input_grad:
            ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b, out = ctx.saved_arrays
        with _quiet():
            scale = grad / out
            ga = sum_to(scale * a, a.shape) if ctx.needs_input_grad[0] else None
            gb = sum_to(scale * b, b.shape) if ctx.needs_input_grad[1] else None
        return ga, gb


def _log_number(y: float) -> float:
    return math.log(y) if y > 0 else (-math.inf if y == 0 else math.nan)


class Xlogy(Function):
    """x * log(y), defined as 0 where x == 0 (unless y is nan)."""

    @staticmethod
    def forward(ctx, x, y):
        xp = backend.of(x if hasattr(x, "shape") else y)
        ctx.mark_name("XlogyBackward0" if hasattr(x, "shape") and hasattr(y, "shape") else
                      "XlogyBackward1" if hasattr(y, "shape") else "XlogyBackward2")
        if ctx.needs_input_grad:
            ctx.save_for_backward(_array_or_none(x), _array_or_none(y))
            ctx.scalars = (x, y)
        with _quiet():
            log_y = xp.log(y) if hasattr(y, "shape") else _log_number(y)
            out = xp.where((xp.asarray(x) == 0) & ~xp.isnan(y), 0, x * log_y)
        return _same_dtype(out, x if hasattr(x, "shape") else y)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_arrays
        x = ctx.scalars[0] if x is None else x
        y = ctx.scalars[1] if y is None else y
        xp = ctx.xp
        gx = gy = None
        with _quiet():
            if ctx.needs_input_grad[0]:  # log(y); torch zeroes it where x == 0 and y <= 0
                if hasattr(y, "shape"):
                    gx = xp.where((x == 0) & (y <= 0), 0, grad * xp.log(y))
                else:
                    gx = xp.where(x == 0, 0, grad * _log_number(y)) if y <= 0 else \
                        grad * _log_number(y)
                gx = sum_to(gx, x.shape)
            if ctx.needs_input_grad[1]:
                gy = sum_to(grad * x / y, y.shape)
        return gx, gy


class Lerp(Function):
    """start + weight * (end - start); weight a number or an array."""

    @staticmethod
    def forward(ctx, start, end, weight):
        xp = backend.of(start)
        w_is_array = hasattr(weight, "shape")
        ctx.mark_name("LerpBackward1" if w_is_array else "LerpBackward0")
        need = ctx.needs_input_grad
        if need:
            ctx.save_for_backward(start if need[2] else None, end if need[2] else None,
                                  weight if w_is_array and (need[0] or need[1]) else None)
            ctx.weight = None if w_is_array else weight
            ctx.shapes = (start.shape, end.shape, _shape(weight))
        diff = end - start
        # from the nearer end, so that weight 0 gives start and weight 1 gives end exactly
        if w_is_array:
            out = xp.where(xp.abs(weight) < 0.5, start + weight * diff,
                           end - diff * (1 - weight))
        elif builtins.abs(weight) < 0.5:
            out = start + weight * diff
        else:
            out = end - diff * (1 - weight)
        return _same_dtype(out, start)

    @staticmethod
    def backward(ctx, grad):
        start, end, w = ctx.saved_arrays
        w = ctx.weight if w is None else w
        s_shape, e_shape, w_shape = ctx.shapes
        need = ctx.needs_input_grad
        gs = sum_to(grad * _conj(1 - w), s_shape) if need[0] else None
        ge = sum_to(grad * _conj(w), e_shape) if need[1] else None
        gw = sum_to(grad * _conj(end - start), w_shape) if need[2] else None
        return gs, ge, gw


class Addcmul(Function):
    """input + value * tensor1 * tensor2."""

    @staticmethod
    def forward(ctx, x, t1, t2, value=1):
        need = ctx.needs_input_grad
        if need:
            ctx.save_for_backward(t1 if need[2] else None, t2 if need[1] else None)
            ctx.value = value
            ctx.shapes = (x.shape, t1.shape, t2.shape)
        return _same_dtype(x + value * t1 * t2 if value != 1 else x + t1 * t2, x)

    @staticmethod
    def backward(ctx, grad):
        t1, t2 = ctx.saved_arrays
        v = ctx.value
        need = ctx.needs_input_grad
        gx = sum_to(grad, ctx.shapes[0]) if need[0] else None
        g1 = sum_to(grad * v * _conj(t2), ctx.shapes[1]) if need[1] else None
        g2 = sum_to(grad * v * _conj(t1), ctx.shapes[2]) if need[2] else None
        return gx, g1, g2


class Addcdiv(Function):
    """input + value * tensor1 / tensor2."""

    @staticmethod
    def forward(ctx, x, t1, t2, value=1):
        need = ctx.needs_input_grad
        if need:
            ctx.save_for_backward(t1 if need[2] else None, t2 if need[1] or need[2] else None)
            ctx.value = value
            ctx.shapes = (x.shape, t1.shape, t2.shape)
        with _quiet():
            return _same_dtype(x + value * t1 / t2 if value != 1 else x + t1 / t2, x)

    @staticmethod
    def backward(ctx, grad):
        t1, t2 = ctx.saved_arrays
        v = ctx.value
        need = ctx.needs_input_grad
        gx = sum_to(grad, ctx.shapes[0]) if need[0] else None
        with _quiet():
            g1 = sum_to(grad * v / _conj(t2), ctx.shapes[1]) if need[1] else None
            g2 = sum_to(-grad * v * _conj(t1) / _conj(t2 * t2), ctx.shapes[2]) if need[2] \
                else None
        return gx, g1, g2


class Where(Function):
    """condition ? a : b, broadcasting all three; a and b may be numbers."""

    @staticmethod
    def forward(ctx, cond, a, b, np_dtype=None):
        if ctx.needs_input_grad:
            ctx.save_for_backward(cond)
            ctx.shapes = (_shape(a), _shape(b))
        out = backend.of(cond).where(cond, a, b)
        return out if np_dtype is None or out.dtype == np_dtype else out.astype(np_dtype)

    @staticmethod
    def backward(ctx, grad):
        (cond,) = ctx.saved_arrays
        xp = ctx.xp
        need = ctx.needs_input_grad
        ga = sum_to(xp.where(cond, grad, 0), ctx.shapes[0]) if need[1] else None
        gb = sum_to(xp.where(cond, 0, grad), ctx.shapes[1]) if need[2] else None
        return None, ga, gb


# -- public functions --------------------------------------------------------------------------

def _float_unary(name: str, op, doc: str, *, complex_error: type | None = None):
    """The public function of a float-valued unary op (integers -> default float).

    complex_error: the exception type raised for complex input, None if it is supported.
    """
    def fn(input: Tensor, *, out: Tensor | None = None) -> Tensor:
        if _autocast.on and (policy := _autocast.policy(name, input)):
            return policy(fn, input, out=out)
        _check_tensor(name, input)
        if complex_error is not None and input.dtype.is_complex:
            if complex_error is RuntimeError:
                raise RuntimeError(f"{name} is not supported for complex tensors.")
            raise _unsupported(name, input.dtype)
        return finish(op.apply(_floating(input)), out)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    fn.__module__ = __name__
    return fn


exp = _float_unary("exp", Exp, "e ** input, elementwise.")
exp2 = _float_unary("exp2", Exp2, "2 ** input, elementwise.")
expm1 = _float_unary("expm1", Expm1, "exp(input) - 1, accurate for small input.")
log = _float_unary("log", Log, "Natural logarithm, elementwise.")
log2 = _float_unary("log2", Log2, "Base-2 logarithm, elementwise.")
log10 = _float_unary("log10", Log10, "Base-10 logarithm, elementwise.")
log1p = _float_unary("log1p", Log1P, "log(1 + input), accurate for small input.")
sqrt = _float_unary("sqrt", Sqrt, "Square root, elementwise.")
rsqrt = _float_unary("rsqrt", Rsqrt, "1 / sqrt(input), elementwise.")
reciprocal = _float_unary("reciprocal", Reciprocal, "1 / input, elementwise.")
sin = _float_unary("sin", Sin, "Sine, elementwise.")
cos = _float_unary("cos", Cos, "Cosine, elementwise.")
tan = _float_unary("tan", Tan, "Tangent, elementwise.")
asin = arcsin = _float_unary("asin", Asin, "Inverse sine, elementwise.")
acos = arccos = _float_unary("acos", Acos, "Inverse cosine, elementwise.")
atan = arctan = _float_unary("atan", Atan, "Inverse tangent, elementwise.")
sinh = _float_unary("sinh", Sinh, "Hyperbolic sine, elementwise.")
cosh = _float_unary("cosh", Cosh, "Hyperbolic cosine, elementwise.")
tanh = _float_unary("tanh", Tanh, "Hyperbolic tangent, elementwise.")
asinh = arcsinh = _float_unary("asinh", Asinh, "Inverse hyperbolic sine, elementwise.")
acosh = arccosh = _float_unary("acosh", Acosh, "Inverse hyperbolic cosine, elementwise.")
atanh = arctanh = _float_unary("atanh", Atanh, "Inverse hyperbolic tangent, elementwise.")
sigmoid = _float_unary("sigmoid", Sigmoid, "1 / (1 + exp(-input)), elementwise.")
erf = _float_unary("erf", Erf, "The error function, elementwise.",
                   complex_error=NotImplementedError)
erfc = _float_unary("erfc", Erfc, "1 - erf(input), accurate where erf is close to 1.",
                    complex_error=NotImplementedError)
erfinv = _float_unary("erfinv", Erfinv, "The inverse of erf on (-1, 1), elementwise.",
                      complex_error=NotImplementedError)
lgamma = _float_unary("lgamma", Lgamma, "log |Gamma(input)|, elementwise.",
                      complex_error=NotImplementedError)
digamma = _float_unary("digamma", Digamma, "d/dx lgamma(x), elementwise.",
                       complex_error=NotImplementedError)
deg2rad = _float_unary("deg2rad", Deg2Rad, "Degrees to radians.", complex_error=RuntimeError)
rad2deg = _float_unary("rad2deg", Rad2Deg, "Radians to degrees.", complex_error=RuntimeError)


@method()
def logit(input: Tensor, eps: float | None = None, *, out: Tensor | None = None) -> Tensor:
    """log(p / (1 - p)); with eps, p is first clamped to [eps, 1 - eps]."""
    _check_tensor("logit", input)
    _reject_complex("logit", input)
    return finish(Logit.apply(_floating(input), eps=eps), out)


def polygamma(n: int, input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The n-th derivative of digamma, elementwise."""
    _check_tensor("polygamma", input, pos=2)
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    _reject_complex("polygamma", input)
    return finish(Polygamma.apply(_floating(input), n=int(n)), out)


def _polygamma_method(self: Tensor, n: int) -> Tensor:
    """polygamma(n, self)."""
    return polygamma(n, self)


_polygamma_method.__name__ = "polygamma"


Tensor.polygamma = _polygamma_method


@method()
def square(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """input * input (as pow(input, 2): integers stay integers, bool becomes int64)."""
    _check_tensor("square", input)
    return pow(input, 2, out=out)


@method("abs", "absolute")
def abs(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """|input|; the modulus (a real tensor) for complex input."""
    _check_tensor("abs", input)
    _reject_bool("abs", input)
    return finish(Abs.apply(input), out)


absolute = abs


@method()
def sign(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """-1, 0 or 1 by the sign of each element (0 for nan), in input's dtype."""
    _check_tensor("sign", input)
    if input.dtype.is_complex:
        raise NotImplementedError("Unlike NumPy, torch.sign is not intended to support "
                                  "complex numbers. Please use torch.sgn instead.")
    return finish(Sign.apply(input), out)


@method()
def sgn(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """sign for real input; input / |input| (0 at 0) for complex input."""
    _check_tensor("sgn", input)
    return finish(Sgn.apply(input), out)


def _rounding(name: str, op, doc: str):
    def fn(input: Tensor, *, out: Tensor | None = None) -> Tensor:
        _check_rounding(name, input)
        return finish(op.apply(input), out)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    fn.__module__ = __name__
    return fn


def _check_rounding(name: str, input) -> None:
    _check_tensor(name, input)
    _reject_bool(name, input)
    if input.dtype.is_complex:
        raise NotImplementedError(f"{name} is not supported for complex inputs")


floor = _rounding("floor", Floor, "The largest integer <= input, elementwise.")
ceil = _rounding("ceil", Ceil, "The smallest integer >= input, elementwise.")
trunc = fix = _rounding("trunc", Trunc, "input rounded toward zero, elementwise.")


@method()
def round(input: Tensor, *, decimals: int = 0, out: Tensor | None = None) -> Tensor:
    """Rounds half to even, to `decimals` decimal places (negative: left of the point)."""
    _check_rounding("round", input)
    if decimals != 0 and input.dtype._kind < 2:
        raise _unsupported("round", input.dtype)
    if decimals == 0:
        return finish(Round.apply(input), out)
    return finish(Round.apply(input, decimals=int(decimals)), out)


@method()
def frac(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """input - trunc(input): the fractional part, with input's sign."""
    _check_tensor("frac", input)
    if input.dtype._kind != 2:
        raise _unsupported("frac", input.dtype)
    return finish(Frac.apply(input), out)


def _clamp(fname: str, input, lo, hi, names: tuple, out):
    """clamp / clamp_min / clamp_max: promote, then pick the node name PyTorch prints.

    names: (name with tensor bounds, name with number bounds).
    """
    _check_tensor(fname, input)
    if input.dtype.is_complex:
        raise RuntimeError(f"{fname} is not supported for complex types")
    check_device(input, lo, hi)
    dt = result_dtype(input, lo, hi)
    tensor_bound = isinstance(lo, Tensor) or isinstance(hi, Tensor)
    result = Clamp.apply(cast(input, dt), _bound(lo, dt), _bound(hi, dt),
                         name=names[0] if tensor_bound else names[1])
    return finish(result, out)


def _bound(b, dt: D.dtype):
    return cast(b, dt) if isinstance(b, Tensor) else b


@method("clamp", "clip")
def clamp(input: Tensor, min=None, max=None, *, out: Tensor | None = None) -> Tensor:
    """Limits input to [min, max]; either bound may be None, a number or a tensor.

    Where min > max the result is max. The gradient passes at the bounds themselves.
    """
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    return _clamp("clamp", input, min, max, ("ClampBackward0", "ClampBackward1"), out)


clip = clamp


@method()
def clamp_min(input: Tensor, min, *, out: Tensor | None = None) -> Tensor:
    """max(input, min), elementwise."""
    return _clamp("clamp_min", input, min, None, ("ClampMinBackward1", "ClampMinBackward0"),
                  out)


@method()
def clamp_max(input: Tensor, max, *, out: Tensor | None = None) -> Tensor:
    """min(input, max), elementwise."""
    return _clamp("clamp_max", input, None, max, ("ClampMaxBackward1", "ClampMaxBackward0"),
                  out)


def _binary_tensors(fname: str, input, other, *, floating: bool = False):
    """Checks that both operands are tensors and promotes them to their common dtype."""
    _check_tensor(fname, input)
    _check_tensor(fname, other, "other", 2)
    return promote(input, other, floating=floating)


def _pick(fname: str, op, doc: str):
    def fn(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
        a, b = _binary_tensors(fname, input, other)
        if a.dtype.is_complex:
            raise RuntimeError(f"{fname} not implemented for complex tensors.")
        return finish(op.apply(a, b), out)
    fn.__name__ = fn.__qualname__ = fname
    fn.__doc__ = doc
    fn.__module__ = __name__
    return fn


maximum = _pick("maximum", Maximum, "Elementwise maximum; nan if either is nan. Ties split "
                "the gradient in half.")
minimum = _pick("minimum", Minimum, "Elementwise minimum; nan if either is nan. Ties split "
                "the gradient in half.")
fmax = _pick("fmax", Fmax, "Elementwise maximum that ignores nan (nan only if both are).")
fmin = _pick("fmin", Fmin, "Elementwise minimum that ignores nan (nan only if both are).")


@method("atan2", "arctan2")
def atan2(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The angle of the point (other, input): atan(input / other) in the right quadrant."""
    if _autocast.on and (policy := _autocast.policy("atan2", input)):
        return policy(atan2, input, other, out=out)
    a, b = _binary_tensors("atan2", input, other, floating=True)
    _reject_complex("atan2", a)
    return finish(Atan2.apply(a, b), out)


arctan2 = atan2


@method()
def hypot(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """sqrt(input**2 + other**2) without intermediate overflow."""
    a, b = _binary_tensors("hypot", input, other)
    if a.dtype._kind != 2:
        raise _unsupported("hypot", a.dtype)
    return finish(Hypot.apply(a, b), out)


@method()
def xlogy(input, other, *, out: Tensor | None = None) -> Tensor:
    """input * log(other), taken as 0 where input == 0 (unless other is nan)."""
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError(f"xlogy() received an invalid combination of arguments - got "
                        f"({type(input).__name__}, {type(other).__name__})")
    a, b = promote(input, other, floating=True)
    if (a if isinstance(a, Tensor) else b).dtype.is_complex:
        raise _unsupported("xlogy", (a if isinstance(a, Tensor) else b).dtype)
    return finish(Xlogy.apply(a, b), out)


_C10_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half",
              "bfloat16": "c10::BFloat16", "complex64": "c10::complex<float>",
              "complex128": "c10::complex<double>", "int64": "long int", "int32": "int",
              "int16": "short int", "int8": "signed char", "uint8": "unsigned char",
              "bool": "bool"}


def _check_lerp_dtype(what: str, x: Tensor, t: Tensor) -> None:
    if t.dtype is not x.dtype:
        raise RuntimeError(f"expected dtype {_C10_NAMES[x.dtype.name]} for `{what}` but got "
                           f"dtype {_C10_NAMES[t.dtype.name]}")


@method()
def lerp(input: Tensor, end: Tensor, weight, *, out: Tensor | None = None) -> Tensor:
    """input + weight * (end - input); weight is a number or a tensor (broadcasting)."""
    _check_tensor("lerp", input)
    _check_tensor("lerp", end, "end", 2)
    _check_lerp_dtype("end", input, end)
    if input.dtype._kind < 2:
        raise _unsupported("lerp", input.dtype)
    check_device(input, end, weight)
    if isinstance(weight, Tensor):
        if weight.ndim:
            _check_lerp_dtype("weight", input, weight)
        weight = cast(weight, input.dtype)
    return finish(Lerp.apply(input, end, weight), out)


def _three_way(fname: str, input, tensor1, tensor2, value):
    for i, (arg, t) in enumerate((("input", input), ("tensor1", tensor1),
                                  ("tensor2", tensor2))):
        _check_tensor(fname, t, arg, i + 1)
    check_device(input, tensor1, tensor2)
    dt = result_dtype(input, tensor1, tensor2)
    if dt._kind < 2 and isinstance(value, float):
        value = int(value)  # PyTorch converts value to the integer result type
    return cast(input, dt), cast(tensor1, dt), cast(tensor2, dt), value


@method()
def addcmul(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value=1,
            out: Tensor | None = None) -> Tensor:
    """input + value * tensor1 * tensor2 (broadcasting)."""
    if _autocast.on and (policy := _autocast.policy("addcmul", input)):
        return policy(addcmul, input, tensor1, tensor2, value=value, out=out)
    x, t1, t2, value = _three_way("addcmul", input, tensor1, tensor2, value)
    return finish(Addcmul.apply(x, t1, t2, value=value), out)


@method()
def addcdiv(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value=1,
            out: Tensor | None = None) -> Tensor:
    """input + value * tensor1 / tensor2 (broadcasting)."""
    if _autocast.on and (policy := _autocast.policy("addcdiv", input)):
        return policy(addcdiv, input, tensor1, tensor2, value=value, out=out)
    if isinstance(tensor1, Tensor) and isinstance(tensor2, Tensor) and \
            tensor1.dtype._kind < 2 and tensor2.dtype._kind < 2:
        raise RuntimeError(
            "Integer division with addcdiv is no longer supported, and in a future  release "
            "addcdiv will perform a true division of tensor1 and tensor2. The historic addcdiv "
            "behavior can be implemented as (input + value * torch.trunc(tensor1 / tensor2))"
            ".to(input.dtype) for integer inputs and as (input + value * tensor1 / tensor2) "
            "for float inputs. The future addcdiv behavior is just the latter implementation: "
            "(input + value * tensor1 / tensor2), for all dtypes.")
    x, t1, t2, value = _three_way("addcdiv", input, tensor1, tensor2, value)
    return finish(Addcdiv.apply(x, t1, t2, value=value), out)


def where(condition: Tensor, input=None, other=None, *, out: Tensor | None = None):
    """input where condition holds, else other (broadcasting; either may be a number).

    where(condition) alone is nonzero(condition, as_tuple=True).
    """
    _check_tensor("where", condition, "condition")
    if input is None and other is None:
        from .. import nonzero
        return nonzero(condition, as_tuple=True)
    if condition.dtype is not D.bool:
        if condition.dtype is not D.uint8:
            raise RuntimeError("where expected condition to be a boolean tensor, but got a "
                               f"tensor with dtype {_legacy(condition.dtype)}")
        warnings.warn("where received a uint8 condition tensor. This behavior is deprecated "
                      "and will be removed in a future version. Use a boolean condition "
                      "instead.", UserWarning, stacklevel=2)
        condition = Tensor._make(condition._data.astype(np.bool_))
    check_device(condition, input, other)
    dt = result_dtype(input, other)
    return finish(Where.apply(condition, cast(input, dt), cast(other, dt), np_dtype=dt.np), out)


def _where_method(self: Tensor, condition: Tensor, other) -> Tensor:
    """where(condition, self, other)."""
    return where(condition, self, other)


_where_method.__name__ = "where"


Tensor.where = _where_method


@method()
def nan_to_num(input: Tensor, nan: float = 0.0, posinf: float | None = None,
               neginf: float | None = None, *, out: Tensor | None = None) -> Tensor:
    """Replaces nan, +inf and -inf (by default with 0 and the dtype's largest/lowest)."""
    _check_tensor("nan_to_num", input)
    return finish(NanToNum.apply(input, nan=nan, posinf=posinf, neginf=neginf), out)


@method()
def conj(input: Tensor) -> Tensor:
    """The complex conjugate; real tensors are returned as they are."""
    _check_tensor("conj", input)
    return Conj.apply(input) if input.dtype.is_complex else input


@method()
def conj_physical(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The complex conjugate, always computed (the same as conj here)."""
    _check_tensor("conj_physical", input)
    if not input.dtype.is_complex:
        return finish(input, out)
    return finish(ConjPhysical.apply(input), out)


@method()
def resolve_conj(input: Tensor) -> Tensor:
    """Conjugation is never lazy here, so there is nothing to resolve."""
    return input


@method()
def resolve_neg(input: Tensor) -> Tensor:
    """Negation is never lazy here, so there is nothing to resolve."""
    return input


@method()
def is_conj(input: Tensor) -> bool:
    """Always False: conjugation is never lazy here."""
    return False


def real(input: Tensor) -> Tensor:
    """The real part, a view of a complex tensor; real tensors are returned as they are."""
    _check_tensor("real", input)
    return Real.apply(input) if input.dtype.is_complex else input


def imag(input: Tensor) -> Tensor:
    """The imaginary part, a view of a complex tensor."""
    _check_tensor("imag", input)
    if not input.dtype.is_complex:
        raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")
    return Imag.apply(input)


def _part_setter(part):
    def setter(self: Tensor, value) -> None:
        view = part(self)
        # where(True, value, view) broadcasts value to the view's shape and dtype
        apply_inplace(view, where(Tensor._make(np.array(True)), value, view).to(view.dtype))
    return setter


Tensor.real = property(real, _part_setter(real), doc=real.__doc__)
Tensor.imag = property(imag, _part_setter(imag), doc=imag.__doc__)


@method()
def angle(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The argument of complex numbers; pi for negative reals and 0 otherwise."""
    _check_tensor("angle", input)
    return finish(Angle.apply(_floating(input)), out)


# -- Tensor methods and in-place variants -------------------------------------------------------

for _name in ("exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "rsqrt",
              "reciprocal", "sin", "cos", "tan", "asin", "acos", "atan", "arcsin", "arccos",
              "arctan", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "arcsinh",
              "arccosh", "arctanh", "sigmoid", "erf", "erfc", "erfinv", "lgamma", "digamma",
              "deg2rad", "rad2deg", "floor", "ceil", "trunc", "fix", "maximum", "minimum",
              "fmax", "fmin"):
    setattr(Tensor, _name, globals()[_name])

for _name in ("exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "rsqrt",
              "square", "reciprocal", "sin", "cos", "tan", "asin", "acos", "atan", "arcsin",
              "arccos", "arctan", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "arcsinh",
              "arccosh", "arctanh", "atan2", "arctan2", "sigmoid", "logit", "erf", "erfc",
              "erfinv", "lgamma", "digamma", "polygamma", "abs", "absolute", "sign", "sgn",
              "floor", "ceil", "round", "trunc", "fix", "frac", "clamp", "clip", "clamp_min",
              "clamp_max", "lerp", "addcmul", "addcdiv", "nan_to_num", "hypot", "xlogy",
              "conj_physical", "deg2rad", "rad2deg"):
    setattr(Tensor, _name + "_", inplace_variant(getattr(Tensor, _name)))
del _name
