"""Op-test descriptions for taimatsu.special (shared by core and parity tests).

References are scipy.special's. Inputs of the differentiable ops keep away from poles and
kinks so that gradcheck's finite differences mean something; the tails and special values
are tested by hand in tests/core/test_special.py and tests/parity/test_special_parity.py.
"""

import numpy as np
import scipy.special as sp

import taimatsu
import taimatsu.special  # noqa: F401  (until taimatsu/__init__.py imports it)
from taimatsu.testing import Arg, OpCase


def _between(low, high):
    def make(rng, shape, dtype):
        return rng.uniform(low, high, shape).astype(dtype)
    return make


def _arg(low, high, shape=(3, 4), **kw):
    return Arg(shape, fn=_between(low, high), **kw)


def _unary(name, numpy_op, low, high, **kw):
    return OpCase(f"special.{name}", inputs=[_arg(low, high)], numpy_op=numpy_op, **kw)


def _plain(name, numpy_op, low, high, **kw):
    """A function PyTorch does not differentiate."""
    return _unary(name, numpy_op, low, high, grad=False, **kw)


def _degree_last(fn):
    """scipy's eval_* take (n, x); torch.special's polynomials take (x, n)."""
    return lambda x, n: fn(n, x)


def _entr(x):
    return -x * np.log(x)


def _softmax(x, dim):
    e = np.exp(x - x.max(axis=dim, keepdims=True))
    return e / e.sum(axis=dim, keepdims=True)


def _mvlgamma(x, p):
    return sum(sp.gammaln(x - j / 2) for j in range(p)) + p * (p - 1) / 4 * np.log(np.pi)


_CONSTANT = {"requires_grad": False}  # arguments PyTorch has no derivative for

CASES = [
    # differentiable special functions of their own
    _unary("entr", _entr, 0.1, 3.0),
    _unary("erfcx", sp.erfcx, -3.0, 10.0),
    _unary("log_ndtr", sp.log_ndtr, -20.0, 5.0),
    _unary("ndtr", sp.ndtr, -4.0, 4.0),
    _unary("ndtri", sp.ndtri, 0.01, 0.99),
    _unary("i0", sp.i0, -10.0, 10.0),
    _unary("i0e", sp.i0e, -10.0, 10.0),
    _unary("i1", sp.i1, -10.0, 10.0),
    _unary("i1e", sp.i1e, -10.0, 10.0),
    _unary("sinc", np.sinc, -3.0, 3.0),
    OpCase("special.gammainc", inputs=[_arg(0.5, 5.0, **_CONSTANT), _arg(0.1, 8.0)],
           numpy_op=sp.gammainc),
    OpCase("special.gammaincc", inputs=[_arg(0.5, 5.0, **_CONSTANT), _arg(0.1, 8.0)],
           numpy_op=sp.gammaincc),
    OpCase("special.gammaincc[broadcast]",
           inputs=[_arg(0.5, 30.0, (4,), **_CONSTANT), _arg(0.1, 40.0, (3, 1))],
           numpy_op=sp.gammaincc),
    OpCase("special.zeta", inputs=[_arg(1.5, 5.0, **_CONSTANT), _arg(0.5, 5.0)],
           numpy_op=sp.zeta),
    OpCase("special.zeta[number-first]", inputs=[2.5, _arg(0.5, 5.0)],
           numpy_op=lambda s, q: sp.zeta(s, q)),
    OpCase("special.zeta[number-second]", inputs=[_arg(1.5, 5.0, **_CONSTANT), 3.0],
           numpy_op=lambda s, q: sp.zeta(s, q), grad=False),
    OpCase("special.xlog1py", inputs=[_arg(-2.0, 2.0), _arg(-0.5, 3.0)], numpy_op=sp.xlog1py),
    OpCase("special.xlog1py[broadcast]", inputs=[_arg(-2.0, 2.0, (4,)), _arg(-0.5, 3.0, (3, 1))],
           numpy_op=sp.xlog1py),
    OpCase("special.xlog1py[number]", inputs=[1.5, _arg(-0.5, 3.0)], numpy_op=sp.xlog1py),
    OpCase("special.multigammaln", inputs=[_arg(2.0, 5.0), 3], numpy_op=_mvlgamma),
    # the functions shared with the flat namespace, under torch.special's names
    _unary("erf", sp.erf, -3.0, 3.0),
    _unary("erfc", sp.erfc, -3.0, 3.0),
    _unary("erfinv", sp.erfinv, -0.9, 0.9),
    _unary("expit", sp.expit, -5.0, 5.0),
    _unary("exp2", np.exp2, -3.0, 3.0),
    _unary("expm1", np.expm1, -3.0, 3.0),
    _unary("log1p", np.log1p, -0.5, 3.0),
    _unary("gammaln", sp.gammaln, 0.2, 6.0),
    _unary("digamma", sp.digamma, 0.2, 6.0),
    _unary("psi", sp.psi, 0.2, 6.0),
    _unary("logit", sp.logit, 0.1, 0.9),
    OpCase("special.polygamma", op=lambda x: taimatsu.special.polygamma(2, x),
           torch_op=lambda torch, x: torch.special.polygamma(2, x),
           inputs=[_arg(0.5, 4.0)], numpy_op=lambda x: sp.polygamma(2, x)),
    OpCase("special.xlogy", inputs=[_arg(-2.0, 2.0), _arg(0.2, 3.0)], numpy_op=sp.xlogy),
    OpCase("special.logsumexp", inputs=[(3, 4), 1], numpy_op=lambda x, d: sp.logsumexp(x, d)),
    OpCase("special.softmax", inputs=[(3, 4), 1], numpy_op=_softmax),
    OpCase("special.log_softmax", inputs=[(3, 4), 0],
           numpy_op=lambda x, d: np.log(_softmax(x, d))),
    # not differentiable in PyTorch
    _plain("airy_ai", lambda x: sp.airy(x)[0], -8.0, 5.0),
    _plain("bessel_j0", sp.j0, -20.0, 20.0),
    _plain("bessel_j1", sp.j1, -20.0, 20.0),
    _plain("bessel_y0", sp.y0, 0.1, 20.0),
    _plain("bessel_y1", sp.y1, 0.1, 20.0),
    _plain("modified_bessel_i0", sp.i0, -10.0, 10.0),
    _plain("modified_bessel_i1", sp.i1, -10.0, 10.0),
    _plain("modified_bessel_k0", sp.k0, 0.1, 10.0),
    _plain("modified_bessel_k1", sp.k1, 0.1, 10.0),
    _plain("scaled_modified_bessel_k0", sp.k0e, 0.1, 50.0),
    _plain("scaled_modified_bessel_k1", sp.k1e, 0.1, 50.0),
    _plain("spherical_bessel_j0", lambda x: sp.spherical_jn(0, x), -20.0, 20.0),
    OpCase("special.chebyshev_polynomial_t", inputs=[_arg(-1.2, 1.2), 5],
           numpy_op=_degree_last(sp.eval_chebyt), grad=False),
    OpCase("special.chebyshev_polynomial_u[tensor-degree]",
           inputs=[_arg(-1.2, 1.2), Arg((3, 4), dtype=taimatsu.int64, low=0, high=12)],
           numpy_op=_degree_last(sp.eval_chebyu), grad=False),
    OpCase("special.hermite_polynomial_h", inputs=[_arg(-2.0, 2.0), 6],
           numpy_op=_degree_last(sp.eval_hermite), grad=False),
    OpCase("special.hermite_polynomial_he", inputs=[_arg(-2.0, 2.0), 7],
           numpy_op=_degree_last(sp.eval_hermitenorm), grad=False),
    OpCase("special.laguerre_polynomial_l", inputs=[_arg(0.0, 4.0), 4],
           numpy_op=_degree_last(sp.eval_laguerre), grad=False),
    OpCase("special.legendre_polynomial_p", inputs=[_arg(-1.0, 1.0), 9],
           numpy_op=_degree_last(sp.eval_legendre), grad=False),
    OpCase("special.shifted_chebyshev_polynomial_t", inputs=[_arg(0.0, 1.0), 4],
           numpy_op=_degree_last(sp.eval_sh_chebyt), grad=False),
]
