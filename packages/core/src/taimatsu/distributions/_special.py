"""The regularized incomplete gamma function and its derivative in the shape parameter.

taimatsu has no `special.gammainc` yet; Gamma.cdf needs it, and the reparameterized Gamma
sample needs d(sample)/d(concentration) (see _sampling.py). Both come from the same two
expansions of P(a, x) = 1 - Q(a, x), each carried along with its derivative in `a`
(forward-mode, term by term):

    x <  a + 1:  P = e^-x x^a / Gamma(a + 1) * S,  S = sum_n prod_{k=1..n} x / (a + k)
    x >= a + 1:  Q = e^-x x^a / Gamma(a)     * C,  C = Legendre's continued fraction

(Numerical Recipes' split: the series converges fast below the mode, the fraction above.)
Near the mode both need O(sqrt(a)) steps; accuracy is about 1e-13 relative in float64.
Everything here works on backend arrays (numpy or cupy), in float64.
"""

from __future__ import annotations

import numpy as np

from taimatsu import Tensor, backend
from taimatsu.autograd.node import Function
from taimatsu.ops._util import sum_to
from taimatsu.ops.pointwise import _special_array

_TOL = 1e-15
_MAX_STEPS = 100_000


def _series(x, a):
    """(S, dS/da) of the power series, for x < a + 1."""
    xp = backend.of(x)
    term = xp.ones_like(x)
    s = xp.ones_like(x)
    harmonic = xp.zeros_like(x)  # sum_{k<=n} 1 / (a + k): d term_n / da = -term_n * harmonic
    ds = xp.zeros_like(x)
    for n in range(1, _MAX_STEPS):
        term = term * x / (a + n)
        harmonic = harmonic + 1.0 / (a + n)
        s = s + term
        ds = ds - term * harmonic
        if bool(xp.all((term <= _TOL * s) & (term * harmonic <= _TOL * xp.abs(ds)))):
            break
    return s, ds


def _fraction(x, a):
    """(C, dC/da) of the continued fraction, for x >= a + 1 (modified Lentz, dual numbers)."""
    xp = backend.of(x)
    b, db = x + 1 - a, -xp.ones_like(x)
    c, dc = xp.full_like(x, 1e300), xp.zeros_like(x)  # Lentz's "1 / tiny" start
    d = 1 / b
    dd = -db * d * d
    h, dh = d, dd
    for i in range(1, _MAX_STEPS):
        an, dan = -i * (i - a), float(i)
        b = b + 2
        den = an * d + b
        dden = dan * d + an * dd + db
        dc = db + (dan - an * dc / c) / c
        c = b + an / c
        d = 1 / den
        dd = -dden * d * d
        delta = d * c
        ddelta = dd * c + d * dc
        h, dh = h * delta, dh * delta + h * ddelta
        if bool(xp.all((xp.abs(delta - 1) < _TOL) & (xp.abs(ddelta * h) <= _TOL * xp.abs(dh)))):
            break
    return h, dh


def _split(x, a, low_fn, high_fn):
    """Evaluates low_fn(x, a) where x < a + 1 and high_fn(x, a) elsewhere (float64, x > 0)."""
    xp = backend.of(x)
    out = xp.empty_like(x)
    low = x < a + 1
    if bool(low.any()):
        out[low] = low_fn(x[low], a[low])
    if not bool(low.all()):
        high = ~low
        out[high] = high_fn(x[high], a[high])
    return out


def _as_float64(x, a):
    xp = backend.of(x)
    shape = np.broadcast_shapes(x.shape, a.shape)
    return (xp.broadcast_to(x, shape).astype(np.float64),
            xp.broadcast_to(a, shape).astype(np.float64))


def sample_grad(x, a):
    """d x / d a for standard Gamma(a) samples x, holding their CDF value fixed.

    This is -(dP/da) / p(x; a); the shared prefactor cancels, leaving
    -(x / a) (S (log x - digamma(a + 1)) + S')  or  x (C (log x - digamma(a)) + C').
    """
    dtype = x.dtype
    x, a = _as_float64(x, a)
    xp = backend.of(x)

    def low(x, a):
        s, ds = _series(x, a)
        return -(x / a) * (s * (xp.log(x) - _special_array("digamma", a + 1)) + ds)

    def high(x, a):
        c, dc = _fraction(x, a)
        return x * (c * (xp.log(x) - _special_array("digamma", a)) + dc)

    inside = (x > 0) & xp.isfinite(x) & (a > 0)
    out = xp.zeros_like(x)
    if bool(inside.any()):
        out[inside] = _split(x[inside], a[inside], low, high)
    return out.astype(dtype)


def _log_density(x, a):
    xp = backend.of(x)
    return (a - 1) * xp.log(x) - x - _special_array("lgamma", a)


def gammainc_array(a, x):
    """P(a, x) on arrays (float64 inside, the inputs' dtype out); NaN where x < 0 or a < 0."""
    dtype = np.result_type(a.dtype, x.dtype)
    x, a = _as_float64(x, a)
    xp = backend.of(x)

    def low(x, a):
        s, _ = _series(x, a)
        return xp.exp(a * xp.log(x) - x - _special_array("lgamma", a + 1)) * s

    def high(x, a):
        c, _ = _fraction(x, a)
        return 1 - xp.exp(a * xp.log(x) - x - _special_array("lgamma", a)) * c

    out = xp.zeros_like(x)
    inside = (x > 0) & xp.isfinite(x) & (a > 0)
    if bool(inside.any()):
        out[inside] = _split(x[inside], a[inside], low, high)
    out[(xp.isinf(x) & (a > 0)) | ((a == 0) & (x > 0))] = 1.0  # torch's limits
    out[xp.isnan(x) | xp.isnan(a) | (a < 0) | (x < 0)] = np.nan
    return out.astype(dtype)


class _GammaInc(Function):
    """P(a, x), the regularized lower incomplete gamma function, differentiable in a and x."""

    once_differentiable = True  # the derivative in a is a numerical procedure
    _backward_name = "IgammaBackward0"

    @staticmethod
    def forward(ctx, a, x):
        ctx.save_for_backward(a, x)
        return gammainc_array(a, x)

    @staticmethod
    def backward(ctx, grad):
        a, x = ctx.saved_arrays
        xp = ctx.xp
        x64, a64 = _as_float64(x, a)
        positive = (x64 > 0) & xp.isfinite(x64)
        density = xp.where(positive, xp.exp(_log_density(xp.where(positive, x64, 1.0), a64)), 0)
        grad_a = grad_x = None
        if ctx.needs_input_grad[0]:
            # dP/da = -p(x) * dx/da at fixed P (see sample_grad).
            da = -density * sample_grad(xp.where(positive, x64, 0.0), a64)
            grad_a = sum_to(grad * da.astype(grad.dtype), a.shape)
        if ctx.needs_input_grad[1]:
            grad_x = sum_to(grad * density.astype(grad.dtype), x.shape)
        return grad_a, grad_x


def gammainc(input: Tensor, other: Tensor) -> Tensor:
    """The regularized lower incomplete gamma function P(input, other) (torch.special's)."""
    return _GammaInc.apply(input, other)
