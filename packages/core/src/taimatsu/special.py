"""taimatsu.special: torch.special's functions, with PyTorch's names, dtypes and gradients.

Functions that also live in the flat namespace (erf, expm1, logit, softmax, ...) are the
same operations. The special functions of their own (erfcx, log_ndtr, ndtri, the Bessel
functions, the incomplete gamma functions, zeta, ...) run scipy.special's compiled kernels
when SciPy is importable and fall back to the NumPy code below (accurate to about float64
precision) when it is not; on CUDA, cupyx.scipy.special does the work.

The Bessel functions of integer order, the Airy function and the orthogonal polynomials are
not differentiable in PyTorch: their results never require grad.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from . import _dtype as D
from . import backend
from ._tensor import Tensor
from .autograd.node import Function
from .ops import pointwise as _pw
from .ops._util import finish, sum_to
from .ops.arithmetic import promote
from .ops.pointwise import (
    _BERNOULLI,
    _ERFCX_POLY,
    _EULER_GAMMA,
    _TWO_OVER_SQRT_PI,
    _exp_neg_square,
    _horner,
    _lgamma_array,
    _quiet,
    _same_dtype,
    _unary_op,
    _unsupported,
)
from .ops.reduction import logsumexp as _logsumexp

__all__ = [
    "airy_ai", "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "chebyshev_polynomial_t",
    "chebyshev_polynomial_u", "chebyshev_polynomial_v", "chebyshev_polynomial_w", "digamma",
    "entr", "erf", "erfc", "erfcx", "erfinv", "exp2", "expit", "expm1", "gammainc",
    "gammaincc", "gammaln", "hermite_polynomial_h", "hermite_polynomial_he", "i0", "i0e",
    "i1", "i1e", "laguerre_polynomial_l", "legendre_polynomial_p", "log1p", "log_ndtr",
    "log_softmax", "logit", "logsumexp", "modified_bessel_i0", "modified_bessel_i1",
    "modified_bessel_k0", "modified_bessel_k1", "multigammaln", "ndtr", "ndtri", "polygamma",
    "psi", "round", "scaled_modified_bessel_k0", "scaled_modified_bessel_k1",
    "shifted_chebyshev_polynomial_t", "shifted_chebyshev_polynomial_u",
    "shifted_chebyshev_polynomial_v", "shifted_chebyshev_polynomial_w", "sinc", "softmax",
    "spherical_bessel_j0", "xlog1py", "xlogy", "zeta",
]

_SQRT_PI = math.sqrt(math.pi)
_SQRT_2PI = math.sqrt(2 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)
_SQRT1_2 = math.sqrt(0.5)
_HALF_TYPES = (D.float16, D.bfloat16)


# -- kernels: SciPy when importable, else NumPy; cupyx on CUDA ------------------------------
#
# Each kernel takes float arrays of one dtype and returns its result in that dtype. The NumPy
# fallbacks work in float64; where scipy.special and PyTorch disagree on a special value the
# public op patches it (see _TORCH_EDGES), so both paths give PyTorch's answer.

# our name -> scipy.special / cupyx.scipy.special name
_SCIPY_NAMES = {
    "erfcx": "erfcx", "log_ndtr": "log_ndtr", "ndtri": "ndtri", "i0": "i0", "i0e": "i0e",
    "i1": "i1", "i1e": "i1e", "gammainc": "gammainc", "gammaincc": "gammaincc",
    "zeta": "zeta", "bessel_j0": "j0", "bessel_j1": "j1", "bessel_y0": "y0", "bessel_y1": "y1",
    "modified_bessel_k0": "k0", "modified_bessel_k1": "k1", "scaled_modified_bessel_k0": "k0e",
    "scaled_modified_bessel_k1": "k1e", "airy_ai": "airy",
}


@functools.cache
def _scipy_fn(name: str):
    """scipy.special's kernel for `name`, or None without SciPy (it is optional)."""
    try:
        import scipy.special
    except ImportError:
        return None
    fn = getattr(scipy.special, _SCIPY_NAMES[name])
    return (lambda x: fn(x)[0]) if name == "airy_ai" else fn


def _cuda_kernel(name: str, arrays):
    import cupyx.scipy.special as cs
    scipy_name = _SCIPY_NAMES[name]
    fn = getattr(cs, scipy_name, None)
    if fn is not None and name != "airy_ai":
        return fn(*arrays)
    # no CUDA kernel (airy): compute on the host
    host = [backend.to_numpy(a).astype(np.float64) for a in arrays]
    with _quiet():
        out = _NUMPY_KERNELS[name](*host)
    return backend.cupy().asarray(out)


def _kernel(name: str, *arrays):
    """Special function `name` of float arrays sharing one dtype, in that dtype."""
    dtype = arrays[0].dtype
    if backend.is_cuda_array(arrays[0]):
        out = _cuda_kernel(name, arrays)
    else:
        fast = _scipy_fn(name)
        if fast is not None:
            # float16/bfloat16 go through float32, which SciPy's kernels take
            if dtype not in (np.float32, np.float64):
                arrays = [a.astype(np.float32) for a in arrays]
            with _quiet():
                out = np.asarray(fast(*arrays))
        else:
            with _quiet():
                out = _NUMPY_KERNELS[name](*(np.asarray(a, dtype=np.float64) for a in arrays))
    patch = _TORCH_EDGES.get(name)
    if patch is not None:
        out = patch(out, *arrays)
    return out.astype(dtype, copy=False)


# -- NumPy fallbacks ----------------------------------------------------------------------

def _erfcx_np(x):
    """exp(x^2) erfc(x): the Chebyshev fit of ops/pointwise.py below 15, the asymptotic
    series above (its 10 terms leave less than 1e-17 there), and for negative x
    2 exp(x^2) - erfcx(-x) with exp(x^2) computed without magnifying x*x's rounding."""
    out = np.empty_like(x)
    ax = np.abs(x)
    mid = ax < 15
    out[mid] = _horner(_ERFCX_POLY, (ax[mid] - 4) / (ax[mid] + 4))
    big = ~mid
    out[big] = _horner(_ERFCX_ASYMPTOTIC, 0.5 / (ax[big] * ax[big])) / (ax[big] * _SQRT_PI)
    neg = x < 0
    an = np.minimum(ax[neg], 27.0)  # exp(x^2) overflows from 26.6 on
    out[neg] = np.where(ax[neg] > 26.7, np.inf, 2 / _exp_neg_square(an) - out[neg])
    out[np.isnan(x)] = np.nan
    return out


# sum_k (-1)^k (2k-1)!! / (2x^2)^k, highest power first
_ERFCX_ASYMPTOTIC = tuple((-1) ** k * math.prod(range(1, 2 * k, 2)) for k in reversed(range(10)))


def _log_ndtr_np(x):
    """log(ndtr(x)): through erfcx below -1, where ndtr underflows long before its log;
    log1p(-ndtr(-x)) above, where ndtr is close to 1."""
    out = np.empty_like(x)
    low = x < -1
    xl = x[low]
    out[low] = np.log(_erfcx_np(-xl * _SQRT1_2) / 2) - xl * xl / 2
    mid = (x >= -1) & (x <= 1)
    out[mid] = np.log1p(-_pw._erfc_array(x[mid] * _SQRT1_2) / 2)
    high = ~low & ~mid  # nan too
    out[high] = np.log1p(-_ndtr_upper_tail(x[high]))
    return out


def _ndtr_upper_tail(x):
    """ndtr(-x) = exp(-x^2/2) erfcx(x / sqrt(2)) / 2 for x >= 1, keeping its relative
    precision down to the underflow (erfc(x / sqrt(2)) would magnify the rounding of
    x / sqrt(2) by x^2); hi * hi is exact since hi has at most 10 significant bits."""
    xc = np.minimum(x, 40.0)  # ndtr(-x) underflows from 38.5; nan stays nan
    hi = np.floor(xc * 16) / 16
    gauss = np.exp(-hi * hi / 2) * np.exp(-(xc - hi) * (xc + hi) / 2)
    return gauss * _erfcx_np(xc * _SQRT1_2) / 2


def _ndtri_np(p):
    """The x with ndtr(x) = p. Near the centre sqrt(2) erfinv(2p - 1), where 2p - 1 is exact.
    In the tails, solve for q = min(p, 1 - p) (1 - p is exact for p >= 1/2) on x <= 0 by
    Newton steps on log ndtr(x) = log q, which stay well conditioned however small q is;
    Abramowitz & Stegun 26.2.23 (error < 4.5e-4) starts them."""
    q = np.minimum(p, 1 - p)
    t = np.sqrt(-2 * np.log(q))
    x = -(t - (2.515517 + t * (0.802853 + t * 0.010328))
          / (1 + t * (1.432788 + t * (0.189269 + t * 0.001308))))
    target = np.log(q)
    for _ in range(4):
        log_cdf = _log_ndtr_np(x)
        # d/dx log ndtr(x) = pdf / cdf = sqrt(2/pi) / erfcx(-x / sqrt(2)) for x <= 0
        x = x - (log_cdf - target) * _erfcx_np(-x * _SQRT1_2) / _SQRT_2_OVER_PI
    x = np.where(p > 0.5, -x, x)
    centre = q > 0.1
    x[centre] = math.sqrt(2) * _pw._erfinv_array(2 * p[centre] - 1)
    x = np.where(p == 0, -np.inf, np.where(p == 1, np.inf, x))
    return np.where((p < 0) | (p > 1) | np.isnan(p), np.nan, x)


# Modified Bessel functions I0, I1: the power series (all terms positive, so no
# cancellation) up to 20, the asymptotic series e^x / sqrt(2 pi x) sum_k (-1)^k a_k(nu) / x^k
# beyond (truncated at 25 terms, where its error is below 1e-17 for x >= 20).
_I_SERIES = {nu: tuple(1 / (math.factorial(k) * math.factorial(k + nu))
                       for k in reversed(range(52))) for nu in (0, 1)}


def _i_asymptotic_coeffs(nu: int):
    coeffs, a = [], 1.0
    for k in range(25):
        coeffs.append((-1) ** k * a)
        a *= (4 * nu * nu - (2 * k + 1) ** 2) / ((k + 1) * 8)
    return tuple(reversed(coeffs))


_I_ASYMPTOTIC = {nu: _i_asymptotic_coeffs(nu) for nu in (0, 1)}


def _bessel_i_np(nu: int, x, scaled: bool):
    """I_nu(x) (nu = 0, 1), or exp(-|x|) I_nu(x) when scaled."""
    ax = np.abs(x)
    out = np.empty_like(x)
    small = ax <= 20
    s = ax[small]
    vals = _horner(_I_SERIES[nu], s * s / 4)
    if nu == 1:
        vals = vals * s / 2
    out[small] = vals * np.exp(-s) if scaled else vals
    big = ~small  # nan goes here and stays nan
    b = ax[big]
    vals = _horner(_I_ASYMPTOTIC[nu], 1 / b) / np.sqrt(2 * math.pi * b)
    # exp(inf) / sqrt(inf) makes i0(inf) nan, as in PyTorch (and Cephes)
    out[big] = vals if scaled else np.exp(b) * vals
    return np.where(x < 0, -out, out) if nu == 1 else out


def _log_gamma_prefactor(a, x):
    """log(x^a e^-x / Gamma(a)), the factor both incomplete gamma functions share.

    For a >= 10 Stirling's series turns it into a (log1p(t) - t) + log(a / 2pi) / 2 - (its
    correction) with t = x/a - 1, avoiding the cancellation of a log(x) - x - lgamma(a)."""
    out = np.empty_like(a)
    small = a < 10
    a_s, x_s = a[small], x[small]
    out[small] = a_s * np.log(x_s) - x_s - _lgamma_array(a_s)
    a_b, x_b = a[~small], x[~small]
    inv2 = 1 / (a_b * a_b)
    corr = np.zeros_like(a_b)
    for j in reversed(range(1, 8)):
        corr = corr * inv2 + _BERNOULLI[j - 1] / (2 * j * (2 * j - 1))
    out[~small] = (a_b * _log1pmx(x_b / a_b, (x_b - a_b) / a_b)
                   + 0.5 * np.log(a_b / (2 * math.pi)) - corr / a_b)
    return out


def _log1pmx(r, t):
    """log(r) - t for r = 1 + t (both given: r is the exact one far from 1, t near it).
    For small t, with u = t / (2 + t): log(1 + t) = 2 atanh(u) and t = 2u / (1 - u), so it
    is -2u^2 / (1 - u) + 2 (u^3/3 + u^5/5 + ...), free of cancellation."""
    out = np.log(r) - t
    near = np.abs(t) < 0.5
    u = t[near] / (2 + t[near])
    u2 = u * u
    series = _horner(tuple(1 / (2 * k + 3) for k in reversed(range(20))), u2) * u2 * u
    out[near] = -2 * u2 / (1 - u) + 2 * series
    return out


_IGAM_EPS = 1e-17
_IGAM_MAX_ITER = 100_000


def _iterate(state, step, max_iter=_IGAM_MAX_ITER):
    """Runs `step` on the entries of `state` (a dict of equal-length arrays) that have not
    converged yet; step updates them and returns the mask of those that are now done."""
    idx = np.arange(len(next(iter(state.values()))))
    live = {k: v.copy() for k, v in state.items()}
    result = {k: v.copy() for k, v in state.items()}
    for i in range(1, max_iter + 1):
        if not idx.size:
            break
        done = step(live, i)
        for k in result:
            result[k][idx[done]] = live[k][done]
        keep = ~done
        idx = idx[keep]
        live = {k: v[keep] for k, v in live.items()}
    for k in result:
        result[k][idx] = live[k]
    return result


def _igam_series(a, x):
    """sum_k x^k / (a (a+1) ... (a+k)), so that P(a, x) = prefactor * sum."""
    def step(s, i):
        s["term"] *= s["x"] / (s["a"] + i)
        s["sum"] += s["term"]
        return np.abs(s["term"]) <= _IGAM_EPS * np.abs(s["sum"])
    return _iterate({"a": a, "x": x, "term": 1 / a, "sum": 1 / a}, step)["sum"]


def _igamc_fraction(a, x):
    """The continued fraction 1 / (x + 1 - a - 1 (1 - a) / (x + 3 - a - ...)) with
    Q(a, x) = prefactor * fraction, by the modified Lentz method."""
    tiny = 1e-300
    b = x + 1 - a
    d = 1 / np.where(b == 0, tiny, b)

    def step(s, i):
        an = -i * (i - s["a"])
        s["b"] += 2
        d = an * s["d"] + s["b"]
        d = 1 / np.where(np.abs(d) < tiny, tiny, d)
        c = s["b"] + an / s["c"]
        c = np.where(np.abs(c) < tiny, tiny, c)
        delta = c * d
        s["d"], s["c"] = d, c
        s["h"] *= delta
        return np.abs(delta - 1) <= _IGAM_EPS
    state = {"a": a, "b": b, "c": np.full_like(a, 1 / tiny), "d": d, "h": d.copy()}
    return _iterate(state, step)["h"]


def _lgamma1p(a):
    """lgamma(1 + a), accurate for small a (where 1 + a would round a away)."""
    near = np.abs(a) <= 0.5
    return np.where(near, _pw._lgamma_series(np.where(near, a, 0)) - np.log1p(a),
                    _lgamma_array(1 + a))


def _igamc_small_x(a, x):
    """Q(a, x) for x <= 1.1 without the cancellation of 1 - P when a is small:
    Q = -expm1(a log x - lgamma(1 + a)) - x^a / Gamma(a) sum_n>=1 (-x)^n / (n! (a + n))."""
    head = -np.expm1(a * np.log(x) - _lgamma1p(a))

    def step(s, i):
        s["term"] *= -s["x"] / i
        inc = s["term"] / (s["a"] + i)
        s["sum"] += inc
        return np.abs(inc) <= _IGAM_EPS * np.abs(s["sum"])
    zero = np.zeros_like(a)
    total = _iterate({"a": a, "x": x, "term": np.ones_like(a), "sum": zero}, step)["sum"]
    return head - np.exp(a * np.log(x) - _lgamma_array(a)) * total


def _igam_edges(a, x):
    """P(a, x) at the edges of its domain, in Cephes' (and PyTorch's) order of checks:
    nan for a < 0 or x < 0; at a = 0, 1 for x > 0 else nan; 0 at x = 0; for a = inf, nan at
    x = inf else 0; 1 at x = inf. nan where none applies (the regular entries)."""
    xp = backend.of(a)
    p = xp.where(xp.isinf(x), 1.0, xp.nan)
    p = xp.where(xp.isinf(a), xp.where(xp.isinf(x), xp.nan, 0.0), p)
    p = xp.where(x == 0, 0.0, p)
    p = xp.where(a == 0, xp.where(x > 0, 1.0, xp.nan), p)
    return xp.where((a < 0) | (x < 0), xp.nan, p)


def _igam_np(a, x, upper: bool):
    """Regularized lower (upper=False) or upper incomplete gamma function: the series for
    P below x = a + 1 and the continued fraction for Q above, as in Numerical Recipes, and
    for Q at x <= 1.1 a series of its own where P is close to 1 (Cephes' choice).

    Both need about sqrt(78 a) steps where x is close to a: the iteration cap of 100000
    limits the accuracy from a ~ 1e8 on (SciPy, when installed, has no such limit)."""
    a, x = (np.array(v, dtype=np.float64) for v in np.broadcast_arrays(a, x))
    edge = _igam_edges(a, x)
    out = np.array(1 - edge if upper else edge)  # an array even when 0-dim
    ok = (a > 0) & (x > 0) & np.isfinite(a) & np.isfinite(x)
    a_ok, x_ok = a[ok], x[ok]
    vals = np.empty_like(a_ok)
    pref = np.exp(_log_gamma_prefactor(a_ok, x_ok))
    cf = x_ok >= a_ok + 1
    q = pref[cf] * _igamc_fraction(a_ok[cf], x_ok[cf])
    vals[cf] = q if upper else 1 - q
    series = ~cf
    if upper:
        # P is close to 1 there unless a is large: Cephes' thresholds
        small_x = series & (x_ok <= 1.1) & np.where(
            x_ok <= 0.5, -0.4 / np.log(x_ok) >= a_ok, x_ok * 1.1 >= a_ok)
        vals[small_x] = _igamc_small_x(a_ok[small_x], x_ok[small_x])
        series &= ~small_x
    p = pref[series] * _igam_series(a_ok[series], x_ok[series])
    vals[series] = 1 - p if upper else p
    out[ok] = vals
    return out


def _zeta_np(s, q):
    """Hurwitz zeta sum_k (q + k)^-s: direct terms until q + k >= 12 + 1.5 s (or the rest
    is negligible), then the Euler-Maclaurin tail with 8 Bernoulli terms."""
    s, q = (np.array(v, dtype=np.float64) for v in np.broadcast_arrays(s, q))
    out = np.full(s.shape, np.nan)  # special values: see _zeta_edges
    ok = (s > 1) & np.isfinite(s) & np.isfinite(q) & (
        (q > 0) | ((q != np.floor(q)) & (s == np.floor(s))))
    s_ok, a = s[ok], q[ok].copy()
    total = np.zeros_like(a)
    target = 12 + 1.5 * s_ok
    live = np.ones(a.shape, dtype=bool)
    negligible = np.zeros(a.shape, dtype=bool)
    while live.any():
        total[live] += a[live] ** -s_ok[live]
        a[live] += 1
        # for large s the terms fall so fast that the rest (< a^(1-s) s / (s-1) once a >= 1)
        # soon stops mattering, while Euler-Maclaurin would need a >> s
        rest = a ** (1 - s_ok) * s_ok / (s_ok - 1)
        negligible |= live & (a >= 1) & (rest <= 1e-18 * np.abs(total))
        live &= (a < target) & ~negligible
    tail = a ** (1 - s_ok) / (s_ok - 1) + a ** -s_ok / 2
    rising = s_ok.copy()  # s (s+1) ... (s + 2j - 2)
    power = a ** (-s_ok - 1)
    inv2 = 1 / (a * a)
    for j, b in enumerate(_BERNOULLI, start=1):
        if j > 1:
            rising = rising * (s_ok + 2 * j - 3) * (s_ok + 2 * j - 2)
            power = power * inv2
        tail = tail + b / math.factorial(2 * j) * rising * power
    out[ok] = total + np.where(negligible, 0.0, tail)
    return out


# Bessel functions J, Y, K of order 0 and 1 and the Airy function Ai.
#
# Small arguments: power series. Larger ones: the Laplace-type integrals
#     K_nu(x)       = sqrt(pi / 2x) e^-x       * L_nu(x)
#     H1_nu(x)      = sqrt(2 / pi x) e^i(x - nu pi/2 - pi/4) * L_nu(-ix)     (= J_nu + i Y_nu)
# with L_nu(z) = 1/Gamma(nu + 1/2) int_0^inf e^-u u^(nu - 1/2) (1 + u / 2z)^(nu - 1/2) du,
# a smooth integrand that generalized Gauss-Laguerre quadrature (48 nodes, fewer as |z|
# grows) integrates to about 1e-15 once |z| >= 1.2 -- from there to infinity, with no
# asymptotic series needed.

@functools.cache
def _laguerre_rule(alpha: float, n: int = 48):
    """Nodes and weights of n-point generalized Gauss-Laguerre quadrature for the weight
    u^alpha e^-u / Gamma(alpha + 1), by Golub and Welsch (eigenvectors of the Jacobi
    matrix)."""
    k = np.arange(n)
    off = np.sqrt(k[1:] * (k[1:] + alpha))
    jacobi = np.diag(2 * k + alpha + 1.0) + np.diag(off, 1) + np.diag(off, -1)
    nodes, vectors = np.linalg.eigh(jacobi)
    return nodes, vectors[0] ** 2  # normalized: the weights sum to 1


# nodes needed for ~1e-15 by |z|: the integrand flattens as |z| grows
_LAGUERRE_BANDS = ((8.0, 12), (5.0, 16), (3.0, 24), (0.0, 48))


def _laplace_integral(nu: float, z):
    """L_nu(z) above, for real z > 0 or complex z."""
    # integer orders need only square roots, several times faster than complex powers
    power = {0: lambda t: 1 / np.sqrt(t), 1: np.sqrt}.get(nu, lambda t: t ** (nu - 0.5))
    out = np.empty_like(z)
    size = np.abs(z)
    upper = np.inf
    for lower, n in _LAGUERRE_BANDS:
        band = (size >= lower) & (size < upper)
        upper = lower
        if not band.any():
            continue
        inv = 0.5 / z[band]
        acc = np.zeros_like(inv)
        for u, w in zip(*_laguerre_rule(nu - 0.5, n)):  # one pass per node: no big temporaries
            acc += w * power(1 + u * inv)
        out[band] = acc
    return out


def _hankel(nu: float, x):
    """H1_nu(x) = J_nu(x) + i Y_nu(x) for x >= 1.2; e^ix is formed first so that NumPy
    reduces the argument exactly."""
    phase = np.exp(1j * x) * np.exp(-1j * math.pi * (nu / 2 + 0.25))
    return np.sqrt(2 / (math.pi * x)) * phase * _laplace_integral(nu, (-1j) * x)


def _psi_int(k: int) -> float:
    """digamma(k) for integers k >= 1."""
    return -_EULER_GAMMA + math.fsum(1 / j for j in range(1, k))


# Power series in t = x^2/4 for x < 1.5 (20 terms leave < 1e-18):
#   J_nu = (x/2)^nu sum (-t)^k / (k! (k+nu)!)
#   Y_0  = (2/pi) log(x/2) J_0 - (2/pi) sum psi(k+1) (-t)^k / k!^2
#   Y_1  = (2/pi) log(x/2) J_1 - 2/(pi x) - (x/2pi) sum (psi(k+1) + psi(k+2)) (-t)^k / (k!(k+1)!)
#   K_0  = -log(x/2) I_0 + sum psi(k+1) t^k / k!^2
#   K_1  = 1/x + log(x/2) I_1 - (x/4) sum (psi(k+1) + psi(k+2)) t^k / (k!(k+1)!)
_J_SERIES = {nu: tuple((-1) ** k / (math.factorial(k) * math.factorial(k + nu))
                       for k in reversed(range(20))) for nu in (0, 1)}
_PSI_SERIES = {
    0: tuple(_psi_int(k + 1) / math.factorial(k) ** 2 for k in reversed(range(20))),
    1: tuple((_psi_int(k + 1) + _psi_int(k + 2)) / (math.factorial(k) * math.factorial(k + 1))
             for k in reversed(range(20))),
}
_ALT_PSI_SERIES = {nu: tuple((-1) ** (19 - i) * c for i, c in enumerate(coeffs))
                   for nu, coeffs in _PSI_SERIES.items()}
_SERIES_LIMIT = 1.5


def _bessel_jy_np(nu: int, kind: str, x):
    """J_nu (kind "j") or Y_nu (kind "y") of order 0 or 1; J_0 is even and J_1 odd in x, Y
    is nan for x < 0 and -inf at 0."""
    ax = np.abs(x)
    out = np.empty_like(x)
    small = ax < _SERIES_LIMIT
    s = ax[small]
    t = s * s / 4
    j = _horner(_J_SERIES[nu], t) * (s / 2) ** nu
    if kind == "j":
        out[small] = j
    else:
        with _quiet():
            y = 2 / math.pi * np.log(s / 2) * j
            if nu == 0:
                y -= 2 / math.pi * _horner(_ALT_PSI_SERIES[0], t)
            else:
                y -= 2 / (math.pi * s) + s / (2 * math.pi) * _horner(_ALT_PSI_SERIES[1], t)
        out[small] = y
    big = ~small & np.isfinite(ax)
    h = _hankel(nu, ax[big])
    out[big] = h.real if kind == "j" else h.imag
    out[np.isinf(ax)] = 0.0  # the limit (PyTorch's nan: see _TORCH_EDGES)
    out[np.isnan(x)] = np.nan
    if kind == "y":
        return np.where(x < 0, np.nan, np.where(x == 0, -np.inf, out))
    return np.where(x < 0, -out, out) if nu == 1 else out


def _bessel_k_np(nu: int, x, scaled: bool):
    """K_nu (nu = 0, 1), or e^x K_nu(x) when scaled; nan for x < 0 and inf at 0."""
    out = np.empty_like(x)
    small = (x > 0) & (x < _SERIES_LIMIT)
    s = x[small]
    t = s * s / 4
    log_half = np.log(s / 2)
    if nu == 0:
        k = -log_half * _horner(_I_SERIES[0], t) + _horner(_PSI_SERIES[0], t)
    else:
        k = (1 / s + log_half * _horner(_I_SERIES[1], t) * s / 2
             - s / 4 * _horner(_PSI_SERIES[1], t))
    out[small] = k * np.exp(s) if scaled else k
    big = x >= _SERIES_LIMIT
    b = x[big]
    val = np.sqrt(math.pi / (2 * b)) * _laplace_integral(nu, b)
    out[big] = val if scaled else val * np.exp(-b)
    out[x == 0] = np.inf
    out[(x < 0) | np.isnan(x)] = np.nan
    return out


# Airy Ai: the Maclaurin series c1 f(x) - c2 g(x) for |x| <= 1.5, else
#   Ai(x)  = sqrt(x/3) / pi * K_1/3(zeta)                 (x > 0)
#   Ai(-x) = sqrt(x) / 2 * (J_1/3(zeta) - Y_1/3(zeta) / sqrt(3))     (x > 0)
# with zeta = 2/3 x^(3/2) >= 1.22, where the quadrature above is accurate.
_AIRY_C1 = 1 / (3 ** (2 / 3) * math.gamma(2 / 3))
_AIRY_C2 = 1 / (3 ** (1 / 3) * math.gamma(1 / 3))


def _airy_series_coeffs(offset: int):
    """f = sum_k 3^k (1/3)_k x^3k / (3k)! (offset 0) and g = sum_k 3^k (2/3)_k x^(3k+1) /
    (3k+1)! (offset 1, without the leading x), as polynomials in x^3, highest power first."""
    coeffs, c = [], 1.0
    for k in range(30):
        coeffs.append(c)
        c /= (3 * k + offset + 2) * (3 * k + offset + 3)
    return tuple(reversed(coeffs))


_AIRY_F = _airy_series_coeffs(0)
_AIRY_G = _airy_series_coeffs(1)


def _airy_ai_np(x):
    """Ai(x); its limit 0 at +inf, nan at -inf."""
    out = np.empty_like(x)
    small = np.abs(x) <= _SERIES_LIMIT
    s = x[small]
    cube = s * s * s
    out[small] = _AIRY_C1 * _horner(_AIRY_F, cube) - _AIRY_C2 * s * _horner(_AIRY_G, cube)
    pos = (x > _SERIES_LIMIT) & np.isfinite(x)
    p = x[pos]
    zeta = 2 / 3 * p * np.sqrt(p)
    k = np.sqrt(math.pi / (2 * zeta)) * np.exp(-zeta) * _laplace_integral(1 / 3, zeta)
    out[pos] = np.sqrt(p / 3) / math.pi * k
    neg = (x < -_SERIES_LIMIT) & np.isfinite(x)
    n = -x[neg]
    h = _hankel(1 / 3, 2 / 3 * n * np.sqrt(n))
    out[neg] = np.sqrt(n) / 2 * (h.real - h.imag / math.sqrt(3))
    out[x == np.inf] = 0.0  # the limit (PyTorch's nan: see _TORCH_EDGES)
    out[(x == -np.inf) | np.isnan(x)] = np.nan
    return out


_NUMPY_KERNELS = {
    "erfcx": _erfcx_np, "log_ndtr": _log_ndtr_np, "ndtri": _ndtri_np,
    "i0": lambda x: _bessel_i_np(0, x, False), "i0e": lambda x: _bessel_i_np(0, x, True),
    "i1": lambda x: _bessel_i_np(1, x, False), "i1e": lambda x: _bessel_i_np(1, x, True),
    "gammainc": lambda a, x: _igam_np(a, x, False),
    "gammaincc": lambda a, x: _igam_np(a, x, True),
    "zeta": _zeta_np,
    "bessel_j0": lambda x: _bessel_jy_np(0, "j", x),
    "bessel_j1": lambda x: _bessel_jy_np(1, "j", x),
    "bessel_y0": lambda x: _bessel_jy_np(0, "y", x),
    "bessel_y1": lambda x: _bessel_jy_np(1, "y", x),
    "modified_bessel_k0": lambda x: _bessel_k_np(0, x, False),
    "modified_bessel_k1": lambda x: _bessel_k_np(1, x, False),
    "scaled_modified_bessel_k0": lambda x: _bessel_k_np(0, x, True),
    "scaled_modified_bessel_k1": lambda x: _bessel_k_np(1, x, True),
    "airy_ai": _airy_ai_np,
}


def _zeta_edges(out, s, q):
    """PyTorch's zeta at the edges of its domain, checked in this order: inf at s = 1, nan
    for s < 1, inf at the poles q = 0, -1, ... (whatever s is), nan for q < 0 with s not an
    integer, nan at q = inf (SciPy: 0), and for s = inf: 1 at q = 1, inf for q < 1, nan for
    q > 1 (SciPy: 0)."""
    xp = backend.of(out)
    s_inf = xp.where(q == 1, 1.0, xp.where(q < 1, xp.inf, xp.nan))
    out = xp.where(s == xp.inf, s_inf, out)
    out = xp.where(q == xp.inf, xp.nan, out)
    out = xp.where((q < 0) & (s != xp.floor(s)), xp.nan, out)
    out = xp.where((q <= 0) & (q == xp.floor(q)), xp.inf, out)
    out = xp.where(s < 1, xp.nan, out)
    return xp.where(s == 1, xp.inf, out)


def _airy_edges(out, x):
    """Ai(inf) is nan in PyTorch; SciPy gives nan from |x| = 1e7 on where PyTorch has values."""
    xp = backend.of(out)
    redo = xp.isnan(out) & xp.isfinite(x)
    if redo.any():
        out = out.copy()
        host = backend.to_numpy(x[redo]).astype(np.float64)
        out[redo] = xp.asarray(_airy_ai_np(host))
    return xp.where(x == xp.inf, xp.nan, out)


def _igam_patch(upper: bool):
    """SciPy is nan at (nan, 0), (nan, inf) and (inf, nan), where Cephes' order of checks
    gives PyTorch a value."""
    def patch(out, a, x):
        xp = backend.of(out)
        edge = _igam_edges(a, x)
        edge = 1 - edge if upper else edge
        return xp.where(xp.isnan(out) & ~xp.isnan(edge), edge, out)
    return patch


def _infinite_is_nan(out, x):
    """J0, J1, Y0, Y1 are nan at +-inf in PyTorch (as in Cephes), not their limit 0."""
    xp = backend.of(out)
    return xp.where(xp.isinf(x), xp.nan, out)


_TORCH_EDGES = {"zeta": _zeta_edges, "airy_ai": _airy_edges, "gammainc": _igam_patch(False),
                "gammaincc": _igam_patch(True), "bessel_j0": _infinite_is_nan,
                "bessel_j1": _infinite_is_nan, "bessel_y0": _infinite_is_nan,
                "bessel_y1": _infinite_is_nan}


# -- orthogonal polynomials (not differentiable in PyTorch) ----------------------------------
#
# Three-term recurrences p_{k+1} = step(k, x, p_k, p_{k-1}) from p_0 = 1 and p_1, run up to
# the largest degree asked for; n is truncated toward zero and negative degrees give 0. Inside
# (-1, 1) the Chebyshev families use their closed forms in theta = acos(x) for degrees above
# 8 instead (O(1) in n), as PyTorch does for large n.

def _cheb_trig(kind: str):
    def closed(theta, n):
        xp = backend.of(theta)
        if kind == "t":
            return xp.cos(n * theta)
        if kind == "u":
            return xp.sin((n + 1) * theta) / xp.sin(theta)
        if kind == "v":
            return xp.cos((n + 0.5) * theta) / xp.cos(theta / 2)
        return xp.sin((n + 0.5) * theta) / xp.sin(theta / 2)
    return closed


_POLYNOMIALS = {
    # name: (p_1(x), step(k, x, p_k, p_{k-1}) -> p_{k+1}, closed form inside (-1, 1))
    "chebyshev_polynomial_t": (lambda x: x, lambda k, x, p, q: 2 * x * p - q, _cheb_trig("t")),
    "chebyshev_polynomial_u": (lambda x: 2 * x, lambda k, x, p, q: 2 * x * p - q,
                               _cheb_trig("u")),
    "chebyshev_polynomial_v": (lambda x: 2 * x - 1, lambda k, x, p, q: 2 * x * p - q,
                               _cheb_trig("v")),
    "chebyshev_polynomial_w": (lambda x: 2 * x + 1, lambda k, x, p, q: 2 * x * p - q,
                               _cheb_trig("w")),
    "hermite_polynomial_h": (lambda x: 2 * x, lambda k, x, p, q: 2 * x * p - 2 * k * q, None),
    "hermite_polynomial_he": (lambda x: x, lambda k, x, p, q: x * p - k * q, None),
    "laguerre_polynomial_l": (lambda x: 1 - x,
                              lambda k, x, p, q: ((2 * k + 1 - x) * p - k * q) / (k + 1), None),
    "legendre_polynomial_p": (lambda x: x,
                              lambda k, x, p, q: ((2 * k + 1) * x * p - k * q) / (k + 1), None),
}


def _polynomial_array(name: str, x, n):
    """Polynomial family `name` of degree n (an integer-valued float array) at x."""
    xp = backend.of(x)
    x, n = xp.broadcast_arrays(x, n)
    p1, step, closed = _POLYNOMIALS[name]
    out = xp.zeros_like(x)
    with _quiet():
        out = xp.where(n == 0, 1.0, xp.where(n == 1, p1(x), out)).astype(x.dtype)
        by_recurrence = n >= 2
        if closed is not None:
            inside = (n > 8) & (xp.abs(x) < 1)
            theta = xp.arccos(xp.where(inside, x, 0))
            out = xp.where(inside, closed(theta, n), out)
            by_recurrence &= ~inside
        if by_recurrence.any():
            xs, ns = x[by_recurrence], n[by_recurrence]
            prev, cur = xp.ones_like(xs), p1(xs)
            vals = xp.zeros_like(xs)
            for k in range(1, int(ns.max())):
                prev, cur = cur, step(k, xs, cur, prev)
                vals = xp.where(ns == k + 1, cur, vals)
            out[by_recurrence] = vals
    return out


# -- differentiable ops ----------------------------------------------------------------------

def _call(name: str, x):
    """Special function `name` inside backward: on arrays, or differentiably on the Tensors
    that create_graph=True hands backward."""
    if isinstance(x, Tensor):
        return globals()[name](x)
    return _kernel(name, x)


def _nonzero(xp, x):
    """x with its zeros replaced by 1: a safe divisor where the result is masked at 0 anyway
    (a nan there would leak into double backward through where)."""
    return xp.where(x == 0, 1, x)


def _computed_in_float32(fn):
    """fn(xp, x) for float16/bfloat16 x evaluated in float32, as PyTorch's CPU kernels do."""
    def run(xp, x):
        if x.dtype in (np.float32, np.float64) or x.dtype.kind == "c":
            return fn(xp, x)
        return fn(xp, x.astype(np.float32)).astype(x.dtype)
    return run


def _entr(xp, x):
    # -x log x, continued by 0 at 0; -inf for x < 0 (nan stays nan)
    return xp.where(x > 0, -x * xp.log(xp.where(x > 0, x, 1)),
                    xp.where(x == 0, 0.0, xp.where(x < 0, -xp.inf, x)))


def _log_ndtr_derivative(xp, x, y):
    """pdf / cdf: sqrt(2/pi) / erfcx(-x / sqrt(2)) for x < 0, which keeps full precision
    however negative x is; exp(-x^2/2 - log_ndtr(x)) / sqrt(2 pi) for x >= 0. At -inf
    PyTorch's formula gives nan (inf - inf), and so does this."""
    neg = xp.where(x < 0, x, 0)
    left = _SQRT_2_OVER_PI / _call("erfcx", -neg * _SQRT1_2)
    right = xp.exp(-x * x / 2 - y) / _SQRT_2PI
    return xp.where(x == -math.inf, math.nan, xp.where(x < 0, left, right))


SpecialEntr = _unary_op("SpecialEntr", _computed_in_float32(_entr),
                        lambda xp, x, y: -(1 + xp.log(x)))
SpecialErfcx = _unary_op("SpecialErfcx", lambda xp, x: _kernel("erfcx", x),
                         lambda xp, x, y: 2 * x * y - _TWO_OVER_SQRT_PI, saves="xy")
SpecialLogNdtr = _unary_op("SpecialLogNdtr", lambda xp, x: _kernel("log_ndtr", x),
                           _log_ndtr_derivative, saves="xy")
SpecialNdtri = _unary_op("SpecialNdtri", lambda xp, x: _kernel("ndtri", x),
                         lambda xp, x, y: _SQRT_2PI * xp.exp(y * y / 2), saves="y")
I0 = _unary_op("I0", lambda xp, x: _kernel("i0", x), lambda xp, x, y: _call("i1", x))
SpecialI0E = _unary_op("SpecialI0E", lambda xp, x: _kernel("i0e", x),
                       lambda xp, x, y: _call("i1e", x) - xp.sign(x) * y, saves="xy")
# i1' = i0 - i1/x and i1e' = i0e - i1e (sign(x) + 1/x), 1/2 in the limit x -> 0; PyTorch
# takes the limit wherever |x| > 0 fails, nan included.
SpecialI1 = _unary_op("SpecialI1", lambda xp, x: _kernel("i1", x),
                      lambda xp, x, y: xp.where(xp.abs(x) > 0,
                                                _call("i0", x) - y / _nonzero(xp, x), 0.5),
                      saves="xy")
SpecialI1E = _unary_op(
    "SpecialI1E", lambda xp, x: _kernel("i1e", x),
    lambda xp, x, y: xp.where(xp.abs(x) > 0,
                              _call("i0e", x) - y * (xp.sign(x) + 1 / _nonzero(xp, x)), 0.5),
    saves="xy")
# sinc' = (cos(pi x) - sinc(x)) / x, 0 at 0
Sinc = _unary_op("Sinc", _computed_in_float32(lambda xp, x: xp.sinc(x)),
                 lambda xp, x, y: xp.where(x == 0, 0, (xp.cos(math.pi * x) - y)
                                           / _nonzero(xp, x)), saves="xy")


def _binary_backward_name(x, y, base: str) -> str:
    """PyTorch's node name for a binary op: ...Backward1 when the first argument is a
    number, ...Backward2 when the second is, ...Backward0 for two tensors."""
    if not hasattr(x, "shape"):
        return base + "Backward1"
    return base + ("Backward0" if hasattr(y, "shape") else "Backward2")


def _as_operand(v, like):
    """A number as a 0-dim array of the other operand's dtype (arrays pass through)."""
    return v if hasattr(v, "shape") else backend.of(like).asarray(v, dtype=like.dtype)


def _log1p_number(y: float) -> float:
    return math.log1p(y) if y > -1 else (-math.inf if y == -1 else math.nan)


class SpecialXlog1Py(Function):
    """x * log1p(y), defined as 0 where x == 0 (unless y is nan); x or y may be a number."""

    @staticmethod
    def forward(ctx, x, y):
        tensor = x if hasattr(x, "shape") else y
        xp = backend.of(tensor)
        ctx.mark_name(_binary_backward_name(x, y, "SpecialXlog1Py"))
        if ctx.needs_input_grad:
            ctx.save_for_backward(_pw._array_or_none(x), _pw._array_or_none(y))
            ctx.scalars = (x, y)
        with _quiet():
            log1p_y = xp.log1p(y) if hasattr(y, "shape") else _log1p_number(y)
            keep_zero = (xp.asarray(x) == 0) & ~xp.isnan(xp.asarray(y))
            out = xp.where(keep_zero, 0, x * log1p_y)
        return _same_dtype(xp.asarray(out), tensor)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_arrays
        x = ctx.scalars[0] if x is None else x
        y = ctx.scalars[1] if y is None else y
        xp = ctx.xp
        gx = gy = None
        with _quiet():
            if ctx.needs_input_grad[0]:
                # PyTorch's xlog1py(grad, y) (so 0 where grad is 0), and 0 where x == 0 and
                # y <= -1, where log1p(y) is -inf or nan
                if hasattr(y, "shape"):
                    gx = xp.where((grad == 0) & ~xp.isnan(y), 0, grad * xp.log1p(y))
                    gx = xp.where((x == 0) & (y <= -1), 0, gx)
                elif math.isnan(y):
                    gx = grad * math.nan
                else:
                    gx = xp.where(grad == 0, 0, grad * _log1p_number(y))
                    gx = xp.where(x == 0, 0, gx) if y <= -1 else gx
                gx = sum_to(gx, x.shape)
            if ctx.needs_input_grad[1]:
                gy = sum_to(grad * x / (1 + y), y.shape)
        return gx, gy


class SpecialZeta(Function):
    """Hurwitz zeta(x, q); differentiable in q only (as in PyTorch)."""

    @staticmethod
    def forward(ctx, x, q):
        tensor = x if hasattr(x, "shape") else q
        ctx.mark_name(_binary_backward_name(x, q, "SpecialZeta"))
        if ctx.needs_input_grad:
            ctx.save_for_backward(_pw._array_or_none(x), _pw._array_or_none(q))
            ctx.scalars = (x, q)
        return _kernel("zeta", *backend.of(tensor).broadcast_arrays(
            _as_operand(x, tensor), _as_operand(q, tensor)))

    @staticmethod
    def backward(ctx, grad):
        if ctx.needs_input_grad[0]:
            raise NotImplementedError("the derivative for 'zeta' is not implemented.")
        x, q = ctx.saved_arrays
        x = ctx.scalars[0] if x is None else x
        # d/dq zeta(x, q) = -x zeta(x + 1, q)
        if isinstance(q, Tensor):  # create_graph
            dq = -x * zeta(x + 1, q)
        else:
            dq = -x * _kernel("zeta", *backend.of(q).broadcast_arrays(
                _as_operand(x + 1, q), q))
        return None, sum_to(grad * dq, q.shape)


def _igamma_op(name: str, upper: bool):
    """Regularized incomplete gamma P (upper=False) or Q; differentiable in x only."""
    node = "Igammac" if upper else "Igamma"
    kernel = "gammaincc" if upper else "gammainc"
    message = f"the derivative for '{node.lower()}: input' is not implemented."

    def forward(ctx, a, x):
        if ctx.needs_input_grad:
            ctx.save_for_backward(a, x)
        return _kernel(kernel, *backend.of(a).broadcast_arrays(a, x))

    def backward(ctx, grad):
        if ctx.needs_input_grad[0]:
            raise NotImplementedError(message)
        a, x = ctx.saved_arrays
        xp = ctx.xp
        with _quiet():
            # d/dx P(a, x) = x^(a-1) e^-x / Gamma(a)
            density = xp.exp((a - 1) * xp.log(x) - x - _pw._special("lgamma", a))
        return None, sum_to(-grad * density if upper else grad * density, x.shape)

    return type(node, (Function,), {
        "__doc__": f"special.{name}(a, x), differentiable in x.", "__module__": __name__,
        "forward": staticmethod(forward), "backward": staticmethod(backward)})


Igamma = _igamma_op("gammainc", upper=False)
Igammac = _igamma_op("gammaincc", upper=True)


class Mvlgamma(Function):
    """The multivariate log-gamma function of dimension p."""

    @staticmethod
    def forward(ctx, x, p=1):
        if ctx.needs_input_grad:
            ctx.save_for_backward(x)
            ctx.p = p
        with _quiet():
            out = sum(_pw._special_array("lgamma", x - j / 2) for j in range(p))
            return _same_dtype(out + p * (p - 1) / 4 * math.log(math.pi), x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_arrays
        with _quiet():
            return grad * sum(_pw._special("digamma", x - j / 2) for j in range(ctx.p))


# -- not differentiable in PyTorch: results never require grad -------------------------------

def _kernel_op(name: str):
    return _unary_op(name.title().replace("_", ""), lambda xp, x: _kernel(name, x))


def _spherical_bessel_j0(xp, x):
    # sin(x)/x, 1 at 0 and 0 at +-inf (where sin is nan)
    return xp.where(x == 0, 1.0, xp.where(xp.isinf(x), 0.0, xp.sin(x) / _nonzero(xp, x)))


_PLAIN_OPS = {name: _kernel_op(name) for name in (
    "airy_ai", "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "modified_bessel_k0",
    "modified_bessel_k1", "scaled_modified_bessel_k0", "scaled_modified_bessel_k1")}
_PLAIN_OPS["modified_bessel_i0"] = _unary_op("ModifiedBesselI0",
                                             lambda xp, x: _kernel("i0", x))
_PLAIN_OPS["modified_bessel_i1"] = _unary_op("ModifiedBesselI1",
                                             lambda xp, x: _kernel("i1", x))
_PLAIN_OPS["spherical_bessel_j0"] = _unary_op("SphericalBesselJ0", _spherical_bessel_j0)


class _Polynomial(Function):
    """An orthogonal polynomial family (name) at x of degree n; n truncated toward zero."""

    @staticmethod
    def forward(ctx, x, n, name=""):
        tensor = x if hasattr(x, "shape") else n
        xp = backend.of(tensor)
        x, n = _as_operand(x, tensor), _as_operand(n, tensor)
        return _polynomial_array(name, x, xp.trunc(n)).astype(tensor.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        # PyTorch defines no derivative: the public functions pass detached inputs, so no
        # graph through this op is ever recorded
        return None, None


# -- public functions --------------------------------------------------------------------------

def _check_tensor(name: str, x, arg: str = "input", pos: int = 1) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"special_{name}(): argument '{arg}' (position {pos}) must be Tensor, "
                        f"not {type(x).__name__}")


def _real_input(name: str, input, *, kernel: str | None = None, half: bool = True,
                arg: str = "input") -> Tensor:
    """input checked for a real-valued special function: integers and bools become the
    default float dtype; complex (and, where PyTorch has no kernel, float16/bfloat16) are
    refused with PyTorch's message naming its CPU kernel."""
    _check_tensor(name, input, arg)
    dt = input.dtype
    if dt.is_complex or (not half and dt in _HALF_TYPES):
        raise _unsupported(f"{kernel or name}_cpu", dt)
    return _pw._floating(input)


def _finish(name: str, result: Tensor, out: Tensor | None) -> Tensor:
    """finish(), with PyTorch's special_<name> in the out= autograd error."""
    if out is not None and result.requires_grad:
        raise RuntimeError(f"special_{name}(): functions with out=... arguments don't support "
                           "automatic differentiation, but one of the arguments requires grad.")
    return finish(result, out)


def _unary(name: str, op, doc: str, *, half: bool = True, differentiable: bool = True,
           arg: str = "input"):
    def fn(input: Tensor, *, out: Tensor | None = None) -> Tensor:
        x = _real_input(name, input, half=half, arg=arg)
        return _finish(name, op.apply(x if differentiable else x.detach()), out)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    fn.__module__ = __name__
    if arg != "input":  # PyTorch calls the argument x here (a keyword too)
        def fn_x(x: Tensor, *, out: Tensor | None = None) -> Tensor:
            return fn(x, out=out)
        fn_x.__name__ = fn_x.__qualname__ = name
        fn_x.__doc__ = doc
        fn_x.__module__ = __name__
        return fn_x
    return fn


entr = _unary("entr", SpecialEntr, "-input * log(input) elementwise: 0 at 0, -inf below 0.")
erfcx = _unary("erfcx", SpecialErfcx, "The scaled complementary error function "
               "exp(input^2) * erfc(input), without its overflow.", half=False)
log_ndtr = _unary("log_ndtr", SpecialLogNdtr, "log(ndtr(input)), accurate far into the left "
                  "tail where ndtr underflows.", half=False)
ndtri = _unary("ndtri", SpecialNdtri, "The inverse of ndtr: the x with ndtr(x) = input.",
               half=False)
i0e = _unary("i0e", SpecialI0E, "exp(-|input|) * i0(input), without i0's overflow.")
i1 = _unary("i1", SpecialI1, "The modified Bessel function of the first kind of order 1.")
i1e = _unary("i1e", SpecialI1E, "exp(-|input|) * i1(input), without i1's overflow.")


def i0(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The modified Bessel function of the first kind of order 0."""
    return finish(I0.apply(_real_input("i0", input, kernel="i0_vml")), out)


def sinc(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """sin(pi * input) / (pi * input), 1 at 0 (complex input allowed)."""
    _check_tensor("sinc", input)
    return finish(Sinc.apply(_pw._floating(input)), out)


def ndtr(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The standard normal CDF. As in PyTorch it is (1 + erf(input / sqrt(2))) / 2, so its
    left tail underflows to 0 early: use log_ndtr there."""
    x = _real_input("ndtr", input, kernel="erf_vml")
    if out is not None:  # PyTorch's out= variant is a kernel of its own: no autograd error
        x = x.detach()
    return finish((1 + _pw.erf(x * _SQRT1_2)) * 0.5, out)


def _plain(name: str, doc: str, arg: str = "input"):
    return _unary(name, _PLAIN_OPS[name], doc, half=False, differentiable=False, arg=arg)


airy_ai = _plain("airy_ai", "The Airy function Ai.", arg="x")
bessel_j0 = _plain("bessel_j0", "The Bessel function of the first kind of order 0.")
bessel_j1 = _plain("bessel_j1", "The Bessel function of the first kind of order 1.")
bessel_y0 = _plain("bessel_y0", "The Bessel function of the second kind of order 0.")
bessel_y1 = _plain("bessel_y1", "The Bessel function of the second kind of order 1.")
modified_bessel_i0 = _plain("modified_bessel_i0",
                            "The modified Bessel function of the first kind of order 0.")
modified_bessel_i1 = _plain("modified_bessel_i1",
                            "The modified Bessel function of the first kind of order 1.")
modified_bessel_k0 = _plain("modified_bessel_k0",
                            "The modified Bessel function of the second kind of order 0.")
modified_bessel_k1 = _plain("modified_bessel_k1",
                            "The modified Bessel function of the second kind of order 1.")
scaled_modified_bessel_k0 = _plain("scaled_modified_bessel_k0",
                                   "exp(x) * modified_bessel_k0(x).", arg="x")
scaled_modified_bessel_k1 = _plain("scaled_modified_bessel_k1",
                                   "exp(x) * modified_bessel_k1(x).", arg="x")
spherical_bessel_j0 = _plain("spherical_bessel_j0",
                             "The spherical Bessel function of the first kind of order 0.",
                             arg="x")


def _invalid_combination(name: str, a, b, first: str = "input", second: str = "other"):
    return TypeError(
        f"special_{name}() received an invalid combination of arguments - got "
        f"({type(a).__name__}, {type(b).__name__}), but expected one of:\n"
        f" * (Tensor {first}, Tensor {second}, *, Tensor out = None)\n"
        f" * (Number {first}, Tensor {second}, *, Tensor out = None)\n"
        f" * (Tensor {first}, Number {second}, *, Tensor out = None)\n")


def _float_pair(name: str, input, other, *, kernel: str, half: bool = True,
                first: str = "input", second: str = "other"):
    """Promotes (input, other) -- one may be a number -- to a common float dtype."""
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise _invalid_combination(name, input, other, first, second)
    a, b = promote(input, other, floating=True)
    dt = (a if isinstance(a, Tensor) else b).dtype
    if dt.is_complex or (not half and dt in _HALF_TYPES):
        raise _unsupported(f"{kernel}_cpu", dt)
    return a, b


def xlog1py(input, other, *, out: Tensor | None = None) -> Tensor:
    """input * log1p(other), taken as 0 where input == 0 (unless other is nan)."""
    a, b = _float_pair("xlog1py", input, other, kernel="xlog1py")
    return _finish("xlog1py", SpecialXlog1Py.apply(a, b), out)


def zeta(input, other, *, out: Tensor | None = None) -> Tensor:
    """The Hurwitz zeta function sum_k (other + k)^-input (differentiable in other)."""
    a, b = _float_pair("zeta", input, other, kernel="zeta", half=False)
    return _finish("zeta", SpecialZeta.apply(a, b), out)


def _gamma_pair(name: str, kernel: str, input, other):
    _check_tensor(name, input)
    _check_tensor(name, other, "other", 2)
    a, b = promote(input, other)
    if a.dtype._kind != 2:
        raise _unsupported(f"{kernel}_cpu", a.dtype)
    return a, b


def gammainc(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The regularized lower incomplete gamma function P(input, other) (differentiable in
    other only, as in PyTorch)."""
    a, x = _gamma_pair("gammainc", "igamma", input, other)
    return finish(Igamma.apply(a, x), out)


def gammaincc(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The regularized upper incomplete gamma function Q(input, other) = 1 - P (differentiable
    in other only, as in PyTorch)."""
    a, x = _gamma_pair("gammaincc", "igammac", input, other)
    return finish(Igammac.apply(a, x), out)


def multigammaln(input: Tensor, p: int, *, out: Tensor | None = None) -> Tensor:
    """The multivariate log-gamma function of dimension p:
    sum_j<p lgamma(input - j/2) + p (p-1)/4 log(pi)."""
    _check_tensor("multigammaln", input)
    if isinstance(p, bool) or not isinstance(p, (int, np.integer)):
        raise TypeError(f"special_multigammaln(): argument 'p' (position 2) must be int, not "
                        f"{type(p).__name__}")
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    if input.dtype.is_complex:
        raise _unsupported("mvlgamma", input.dtype)
    return finish(Mvlgamma.apply(_pw._floating(input), p=int(p)), out)


def _polynomial(name: str, doc: str):
    def fn(x, n, *, out: Tensor | None = None) -> Tensor:
        a, b = _float_pair(name, x, n, kernel=name, half=False, first="x", second="n")
        a = a.detach() if isinstance(a, Tensor) else a
        b = b.detach() if isinstance(b, Tensor) else b
        return finish(_Polynomial.apply(a, b, name=name), out)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc + " n is truncated to an integer; negative degrees give 0."
    fn.__module__ = __name__
    return fn


chebyshev_polynomial_t = _polynomial("chebyshev_polynomial_t",
                                     "The Chebyshev polynomial of the first kind T_n(x).")
chebyshev_polynomial_u = _polynomial("chebyshev_polynomial_u",
                                     "The Chebyshev polynomial of the second kind U_n(x).")
chebyshev_polynomial_v = _polynomial("chebyshev_polynomial_v",
                                     "The Chebyshev polynomial of the third kind V_n(x).")
chebyshev_polynomial_w = _polynomial("chebyshev_polynomial_w",
                                     "The Chebyshev polynomial of the fourth kind W_n(x).")
hermite_polynomial_h = _polynomial("hermite_polynomial_h",
                                   "The physicists' Hermite polynomial H_n(x).")
hermite_polynomial_he = _polynomial("hermite_polynomial_he",
                                    "The probabilists' Hermite polynomial He_n(x).")
laguerre_polynomial_l = _polynomial("laguerre_polynomial_l", "The Laguerre polynomial L_n(x).")
legendre_polynomial_p = _polynomial("legendre_polynomial_p", "The Legendre polynomial P_n(x).")


def _shifted(name: str, base):
    def fn(x, n, *, out: Tensor | None = None) -> Tensor:
        if not isinstance(x, Tensor) and not isinstance(n, Tensor):
            raise _invalid_combination(name, x, n, "x", "n")
        if isinstance(x, Tensor):
            _float_pair(name, x, n, kernel=name, half=False, first="x", second="n")
            x = x.detach()
            shifted = 2 * x - 1 if x.dtype._kind == 2 else 2 * x.to(D.get_default_dtype()) - 1
        else:
            shifted = 2 * x - 1
        return base(shifted, n, out=out)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"{base.__doc__.split('.')[0]} shifted to [0, 1]: at 2x - 1."
    fn.__module__ = __name__
    return fn


shifted_chebyshev_polynomial_t = _shifted("shifted_chebyshev_polynomial_t",
                                          chebyshev_polynomial_t)
shifted_chebyshev_polynomial_u = _shifted("shifted_chebyshev_polynomial_u",
                                          chebyshev_polynomial_u)
shifted_chebyshev_polynomial_v = _shifted("shifted_chebyshev_polynomial_v",
                                          chebyshev_polynomial_v)
shifted_chebyshev_polynomial_w = _shifted("shifted_chebyshev_polynomial_w",
                                          chebyshev_polynomial_w)


# -- the functions torch.special shares with the flat namespace -----------------------------

def _same_op(name: str, fn, doc: str):
    """torch.special's name for a flat-namespace unary op (argument errors say special_)."""
    def wrapper(input: Tensor, *, out: Tensor | None = None) -> Tensor:
        _check_tensor(name, input)
        return fn(input, out=out)
    wrapper.__name__ = wrapper.__qualname__ = name
    wrapper.__doc__ = doc
    wrapper.__module__ = __name__
    return wrapper


erf = _same_op("erf", _pw.erf, "The error function.")
erfc = _same_op("erfc", _pw.erfc, "1 - erf(input), accurate where erf is close to 1.")
erfinv = _same_op("erfinv", _pw.erfinv, "The inverse of erf on (-1, 1).")
exp2 = _same_op("exp2", _pw.exp2, "2 ** input.")
expm1 = _same_op("expm1", _pw.expm1, "exp(input) - 1, accurate for small input.")
log1p = _same_op("log1p", _pw.log1p, "log(1 + input), accurate for small input.")
expit = _same_op("expit", _pw.sigmoid, "The logistic sigmoid 1 / (1 + exp(-input)).")
gammaln = _same_op("gammaln", _pw.lgamma, "log |Gamma(input)|.")
digamma = _same_op("digamma", _pw.digamma, "d/dx lgamma(x), the digamma function.")
psi = _same_op("psi", _pw.digamma, "The digamma function (an alias of digamma).")


def polygamma(n: int, input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The n-th derivative of digamma."""
    _check_tensor("polygamma", input, pos=2)
    return _pw.polygamma(n, input, out=out)


def logit(input: Tensor, eps: float | None = None, *, out: Tensor | None = None) -> Tensor:
    """log(p / (1 - p)); with eps, p is first clamped to [eps, 1 - eps]."""
    _check_tensor("logit", input)
    return _pw.logit(input, eps, out=out)


def xlogy(input, other, *, out: Tensor | None = None) -> Tensor:
    """input * log(other), taken as 0 where input == 0 (unless other is nan)."""
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise _invalid_combination("xlogy", input, other)
    return _pw.xlogy(input, other, out=out)


def round(input: Tensor, *, decimals: int = 0, out: Tensor | None = None) -> Tensor:
    """Rounds half to even, to `decimals` decimal places (floating-point input only, unlike
    the flat namespace's round)."""
    _check_tensor("round", input)
    if input.dtype._kind != 2:
        raise _unsupported("round_vml_cpu", input.dtype)
    return _pw.round(input, decimals=decimals, out=out)


def logsumexp(input: Tensor, dim, keepdim: bool = False, *, out: Tensor | None = None):
    """log(sum(exp(input))) over dim, computed without overflow."""
    _check_tensor("logsumexp", input)
    return _logsumexp(input, dim, keepdim, out=out)


def softmax(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    """exp(input) normalized to sum to 1 along dim (dtype: cast the input first)."""
    _check_tensor("softmax", input)
    from .nn._functional.activation import softmax as _softmax  # nn imports after us
    return _softmax(input, dim, dtype=dtype)


def log_softmax(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    """log(softmax(input)) along dim (dtype: cast the input first)."""
    _check_tensor("log_softmax", input)
    from .nn._functional.activation import log_softmax as _log_softmax
    return _log_softmax(input, dim, dtype=dtype)
