"""taimatsu.special against torch.special: values over wide ranges and tails (float32 and
float64), special values, gradients, half precision and errors."""

import math

import numpy as np
import pytest
from op_cases.special import CASES

import taimatsu as tm
import taimatsu.special as S
from taimatsu.testing import assert_close, generate_parity_tests

globals().update(generate_parity_tests(CASES))

INF, NAN = math.inf, math.nan
_RNG = np.random.default_rng(0)  # for the module-level tables; tests seed their own
_SPECIAL = [0.0, -0.0, INF, -INF, NAN]


def _values(*ranges):
    """Uniform samples over each (low, high) range plus the special values."""
    parts = [_RNG.uniform(lo, hi, 60) for lo, hi in ranges]
    return np.concatenate(parts + [np.array(_SPECIAL)])


def _ours_theirs(torch, name, arrays, dtype, **kwargs):
    ours = getattr(S, name)(*[tm.tensor(a).to(getattr(tm, dtype)) if isinstance(a, np.ndarray)
                              else a for a in arrays], **kwargs)
    theirs = getattr(torch.special, name)(
        *[torch.from_numpy(a).to(getattr(torch, dtype)) if isinstance(a, np.ndarray) else a
          for a in arrays], **kwargs)
    return ours, theirs


# name: (inputs, float64 tolerance (rtol, atol)); float32 uses (1e-5, 1e-6) unless listed
UNARY = {
    "entr": (_values((-1, 0), (0, 1e-3), (0, 50)), (1e-12, 1e-14)),
    "erfcx": (_values((-26, -1), (-1, 1), (1, 1e4)), (1e-12, 0)),
    "log_ndtr": (_values((-1e4, -40), (-40, -1), (-1, 1), (1, 38)), (1e-12, 0)),
    "ndtr": (_values((-38, -5), (-5, 5), (5, 10)), (1e-12, 0)),
    "i0": (_values((-700, -30), (-30, 30), (30, 700)), (1e-12, 0)),
    "i0e": (_values((-1e4, -30), (-30, 30), (30, 1e6)), (1e-12, 0)),
    "i1": (_values((-700, -30), (-30, 30), (30, 700)), (1e-12, 0)),
    "i1e": (_values((-1e4, -30), (-30, 30), (30, 1e6)), (1e-12, 0)),
    "sinc": (_values((-1e3, -3), (-3, 3), (3, 1e3)), (1e-10, 1e-14)),
    # PyTorch's float64 J and Y are off by up to 9e-7, its Ai by up to 3e-6 (near x = -2.09);
    # SciPy and mpmath agree with ours to 1e-15
    "airy_ai": (_values((-100, -2), (-2, 2), (2, 100)), (1e-6, 5e-6)),
    "bessel_j0": (_values((-1e3, -5), (-5, 5), (5, 1e3)), (1e-6, 2e-6)),
    "bessel_j1": (_values((-1e3, -5), (-5, 5), (5, 1e3)), (1e-6, 2e-6)),
    "bessel_y0": (_values((-5, 0), (0, 5), (5, 1e3)), (1e-6, 2e-6)),
    "bessel_y1": (_values((-5, 0), (0, 5), (5, 1e3)), (1e-6, 2e-6)),
    "modified_bessel_i0": (_values((-700, -30), (-30, 30), (30, 700)), (1e-12, 0)),
    "modified_bessel_i1": (_values((-700, -30), (-30, 30), (30, 700)), (1e-12, 0)),
    "modified_bessel_k0": (_values((-5, 0), (0, 2), (2, 700)), (1e-12, 0)),
    "modified_bessel_k1": (_values((-5, 0), (0, 2), (2, 700)), (1e-12, 0)),
    "scaled_modified_bessel_k0": (_values((-5, 0), (0, 2), (2, 1e6)), (1e-12, 0)),
    "scaled_modified_bessel_k1": (_values((-5, 0), (0, 2), (2, 1e6)), (1e-12, 0)),
    "spherical_bessel_j0": (_values((-1e3, -5), (-5, 5), (5, 1e3)), (1e-12, 1e-15)),
}
FLOAT32_TOLERANCE = {"airy_ai": (1e-4, 5e-6), "bessel_y0": (1e-4, 5e-6),
                     "bessel_y1": (1e-4, 5e-6), "bessel_j0": (1e-4, 5e-6),
                     "bessel_j1": (1e-4, 5e-6), "sinc": (1e-4, 1e-6),
                     "spherical_bessel_j0": (1e-5, 1e-6)}
# PyTorch's float32 i0/i1 form exp(x) in float32 and overflow from 88.7, although the
# result fits up to ~91; ours is computed in float64 and rounded
FLOAT32_LIMIT = {"i0": 88.0, "i1": 88.0, "modified_bessel_i0": 88.0, "modified_bessel_i1": 88.0}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_over_wide_ranges(name, dtype, torch):
    x, tol64 = UNARY[name]
    rtol, atol = tol64 if dtype == "float64" else FLOAT32_TOLERANCE.get(name, (1e-5, 1e-6))
    if dtype == "float32" and name in FLOAT32_LIMIT:
        x = x[~(np.abs(x) > FLOAT32_LIMIT[name])]
    ours, theirs = _ours_theirs(torch, name, [x], dtype)
    assert_close(ours, theirs, rtol=rtol, atol=atol, equal_nan=True)


def test_ndtri_over_both_tails(torch):
    rng = np.random.default_rng(0)
    p = np.concatenate([np.geomspace(1e-300, 1e-3, 60), rng.uniform(0, 1, 60),
                        1 - np.geomspace(1e-16, 1e-3, 30), [0.0, 1.0, -0.5, 1.5, INF, NAN]])
    for dtype in ("float64", "float32"):
        x = p if dtype == "float64" else p[p.astype(np.float32) > 0]
        ours, theirs = _ours_theirs(torch, "ndtri", [x], dtype)
        assert_close(ours, theirs, rtol=1e-12 if dtype == "float64" else 1e-5, atol=0,
                     equal_nan=True)


def _grid(*values):
    return [g.ravel().copy() for g in np.meshgrid(*[np.array(v, dtype=np.float64)
                                                    for v in values])]


def test_incomplete_gamma_over_wide_ranges(torch):
    rng = np.random.default_rng(0)
    a = np.concatenate([rng.uniform(0.01, 5, 80), np.geomspace(5, 1e4, 80)])
    x = a * rng.uniform(0.2, 3, 160)
    # PyTorch's asymptotic series for a > 20 leaves relative errors up to 2e-9 (mpmath
    # agrees with ours to 1e-15)
    for name in ("gammainc", "gammaincc"):
        for dtype, rtol, atol in (("float64", 1e-8, 1e-30), ("float32", 1e-4, 1e-6)):
            ours, theirs = _ours_theirs(torch, name, [a, x], dtype)
            assert_close(ours, theirs, rtol=rtol, atol=atol, equal_nan=True)


def test_incomplete_gamma_special_values(torch):
    a, x = _grid([-INF, -1.0, 0.0, 1e-3, 0.5, 1.0, 30.0, INF, NAN],
                 [-1.0, 0.0, 1e-3, 0.5, 1.0, 30.0, 1e5, INF, NAN])
    for name in ("gammainc", "gammaincc"):
        ours, theirs = _ours_theirs(torch, name, [a, x], "float64")
        assert_close(ours, theirs, rtol=1e-8, atol=1e-300, equal_nan=True)


def test_zeta_over_ranges_and_special_values(torch):
    rng = np.random.default_rng(0)
    s = np.concatenate([rng.uniform(1, 40, 100), [1.5, 2.0, 3.0, 2.0]])
    q = np.concatenate([np.geomspace(1e-3, 1e9, 100), [-1.5, -2.5, -0.25, 1e12]])
    for dtype, rtol in (("float64", 1e-12), ("float32", 1e-5)):
        ours, theirs = _ours_theirs(torch, "zeta", [s, q], dtype)
        assert_close(ours, theirs, rtol=rtol, atol=1e-300, equal_nan=True)
    s, q = _grid([-INF, -2.0, 0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 1e5, INF, NAN],
                 [-INF, -2.5, -2.0, -0.5, 0.0, 1e-3, 0.5, 1.0, 2.0, 1e10, INF, NAN])
    ours, theirs = _ours_theirs(torch, "zeta", [s, q], "float64")
    assert_close(ours, theirs, rtol=1e-12, atol=0, equal_nan=True)


def test_xlog1py_special_values(torch):
    x, y = _grid([-2.0, 0.0, 1.5, INF, NAN], [-2.0, -1.0, 0.0, 3.0, INF, NAN])
    for dtype in ("float64", "float32"):
        ours, theirs = _ours_theirs(torch, "xlog1py", [x, y], dtype)
        assert_close(ours, theirs, equal_nan=True)
    for args in ([0.0, y], [x, -1.0], [2.0, y], [x, NAN]):
        ours, theirs = _ours_theirs(torch, "xlog1py", args, "float64")
        assert_close(ours, theirs, equal_nan=True)


@pytest.mark.parametrize("name", ["chebyshev_polynomial_t", "chebyshev_polynomial_u",
                                  "chebyshev_polynomial_v", "chebyshev_polynomial_w",
                                  "shifted_chebyshev_polynomial_t",
                                  "shifted_chebyshev_polynomial_u",
                                  "shifted_chebyshev_polynomial_v",
                                  "shifted_chebyshev_polynomial_w", "hermite_polynomial_h",
                                  "hermite_polynomial_he", "laguerre_polynomial_l",
                                  "legendre_polynomial_p"])
def test_polynomials(name, torch):
    rng = np.random.default_rng(0)
    x, n = _grid(np.concatenate([rng.uniform(-1.5, 1.5, 30), [-1.0, 0.0, 1.0, INF, -INF]]),
                 [-2.0, 0.0, 1.0, 2.0, 3.5, 7.0, 9.0, 16.0])
    ours, theirs = _ours_theirs(torch, name, [x, n], "float64")
    assert_close(ours, theirs, rtol=1e-10, atol=1e-12, equal_nan=True)
    ours, theirs = _ours_theirs(torch, name, [x[np.isfinite(x)], n[np.isfinite(x)]], "float32")
    assert_close(ours, theirs, rtol=1e-4, atol=1e-4)
    ours, theirs = _ours_theirs(torch, name, [0.3, np.arange(12.0)], "float64")
    assert_close(ours, theirs, rtol=1e-10, atol=1e-12)


def test_multigammaln(torch):
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(1.6, 30, 40), [2.0, 0.4, INF, NAN]])
    for p in (1, 2, 4):
        for dtype in ("float64", "float32"):
            ours, theirs = _ours_theirs(torch, "multigammaln", [x, p], dtype)
            assert_close(ours, theirs, rtol=1e-12 if dtype == "float64" else 1e-5,
                         atol=1e-12 if dtype == "float64" else 1e-5, equal_nan=True)


# -- gradients (float64), tails and special points included ---------------------------------

def _grads(torch, name, arrays, diff, **kwargs):
    """Our and torch's gradients of sum(name(*arrays) * seed) for the arguments in diff."""
    ours_in = [tm.tensor(a, requires_grad=i in diff) if isinstance(a, np.ndarray) else a
               for i, a in enumerate(arrays)]
    theirs_in = [torch.tensor(a, requires_grad=i in diff) if isinstance(a, np.ndarray) else a
                 for i, a in enumerate(arrays)]
    ours = getattr(S, name)(*ours_in, **kwargs)
    theirs = getattr(torch.special, name)(*theirs_in, **kwargs)
    seed = np.random.default_rng(1).standard_normal(tuple(theirs.shape))
    g_ours = tm.autograd.grad(ours, [ours_in[i] for i in diff], tm.tensor(seed))
    g_theirs = torch.autograd.grad(theirs, [theirs_in[i] for i in diff], torch.tensor(seed))
    return g_ours, g_theirs


GRADIENTS = {
    "entr": _values((-1, 0), (0, 1e-3), (0, 50)),
    "erfcx": _values((-26, -1), (-1, 1), (1, 1e3)),
    # far left: ours keeps full precision where PyTorch's exp(-(x^2/2 + log_ndtr(x))) loses
    # eps * x^2; the grid stays where both are within 1e-10
    "log_ndtr": _values((-1e2, -40), (-40, -1), (-1, 1), (1, 38)),
    "ndtr": _values((-38, -5), (-5, 5), (5, 10)),
    "ndtri": np.concatenate([np.geomspace(1e-300, 1e-3, 40), _RNG.uniform(0, 1, 40),
                             [0.0, 1.0, -0.5, NAN]]),
    "i0": _values((-700, -30), (-30, 30), (30, 700)),
    "i0e": _values((-1e4, -30), (-30, 30), (30, 1e6)),
    "i1": _values((-700, -30), (-30, 30), (30, 700)),
    "i1e": _values((-1e4, -30), (-30, 30), (30, 1e6)),
    "sinc": _values((-1e3, -3), (-3, 3), (3, 1e3)),
}


@pytest.mark.parametrize("name", sorted(GRADIENTS))
def test_unary_gradients(name, torch):
    (ours,), (theirs,) = _grads(torch, name, [GRADIENTS[name]], [0])
    assert_close(ours, theirs, rtol=1e-10, atol=1e-14, equal_nan=True)


def test_binary_gradients(torch):
    rng = np.random.default_rng(0)
    a = np.concatenate([rng.uniform(0.1, 5, 40), np.geomspace(5, 1e3, 20)])
    x = a * rng.uniform(0.2, 3, 60)
    for name in ("gammainc", "gammaincc"):
        (ours,), (theirs,) = _grads(torch, name, [a, x], [1])
        assert_close(ours, theirs, rtol=1e-9, atol=1e-300)
    s, q = rng.uniform(1.1, 10, 60), np.concatenate([rng.uniform(-3, 20, 58), [-1.0, 0.0]])
    (ours,), (theirs,) = _grads(torch, "zeta", [s, q], [1])
    assert_close(ours, theirs, rtol=1e-10, atol=1e-300, equal_nan=True)
    (ours,), (theirs,) = _grads(torch, "zeta", [3.0, q], [1])
    assert_close(ours, theirs, rtol=1e-10, atol=1e-300, equal_nan=True)
    x, y = _grid([-2.0, 0.0, 1.5, NAN], [-2.0, -1.0, 0.0, 3.0, NAN])
    ours, theirs = _grads(torch, "xlog1py", [x, y], [0, 1])
    assert_close(ours, theirs, equal_nan=True)
    (ours,), (theirs,) = _grads(torch, "xlog1py", [x, 2.0], [0])
    assert_close(ours, theirs, equal_nan=True)
    (ours,), (theirs,) = _grads(torch, "multigammaln", [rng.uniform(2, 20, 20), 3], [0])
    assert_close(ours, theirs)


def test_second_derivatives(torch):
    x = np.array([-3.0, -0.5, 0.7, 4.0])
    for name in ("erfcx", "log_ndtr", "i1", "i1e", "i0e", "sinc"):
        t_ours = tm.tensor(x, requires_grad=True)
        t_theirs = torch.tensor(x, requires_grad=True)
        (g_ours,) = tm.autograd.grad(getattr(S, name)(t_ours).sum(), [t_ours],
                                     create_graph=True)
        (g_theirs,) = torch.autograd.grad(getattr(torch.special, name)(t_theirs).sum(),
                                          [t_theirs], create_graph=True)
        (h_ours,) = tm.autograd.grad(g_ours.sum(), [t_ours])
        (h_theirs,) = torch.autograd.grad(g_theirs.sum(), [t_theirs])
        assert_close(h_ours, h_theirs, rtol=1e-10, atol=1e-12, msg=name)


def test_no_gradient_for_the_first_argument(torch):
    for name in ("zeta", "gammainc", "gammaincc"):
        messages = []
        for lib, mod in ((tm, S), (torch, torch.special)):
            a = lib.tensor([2.5], dtype=lib.float64, requires_grad=True)
            with pytest.raises(NotImplementedError) as info:
                getattr(mod, name)(a, lib.tensor([1.5], dtype=lib.float64)).sum().backward()
            messages.append(str(info.value))
        assert messages[0] == messages[1]


# -- half precision ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["entr", "ndtr", "i0", "i0e", "i1", "i1e", "sinc"])
def test_half_precision(name, torch):
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(-3, 3, 40), [0.0, 0.5]]).astype(np.float32)
    if name == "entr":
        x = np.abs(x)
    for dtype in ("float16", "bfloat16"):
        ours = getattr(S, name)(tm.tensor(x).to(getattr(tm, dtype)))
        theirs = getattr(torch.special, name)(torch.from_numpy(x).to(getattr(torch, dtype)))
        assert ours.dtype.name == dtype
        # one unit in the last place of the half type apart at most (rounding order)
        assert_close(ours.float(), theirs.float(), rtol=1.6e-2 if dtype == "bfloat16" else 2e-3,
                     atol=1e-3)


@pytest.mark.parametrize("name", ["gammainc", "gammaincc", "xlog1py"])
def test_half_precision_binary(name, torch):
    rng = np.random.default_rng(0)
    a = rng.uniform(0.5, 4, 30).astype(np.float32)
    x = rng.uniform(0.1, 6, 30).astype(np.float32)
    for dtype in ("float16", "bfloat16"):
        ours = getattr(S, name)(tm.tensor(a).to(getattr(tm, dtype)),
                                tm.tensor(x).to(getattr(tm, dtype)))
        theirs = getattr(torch.special, name)(torch.from_numpy(a).to(getattr(torch, dtype)),
                                              torch.from_numpy(x).to(getattr(torch, dtype)))
        assert_close(ours.float(), theirs.float(), rtol=1.6e-2, atol=2e-3)


# -- dtypes and errors --------------------------------------------------------------------------

def _outcome(fn):
    try:
        out = fn()
    except Exception as exc:  # compared between the two libraries
        return type(exc).__name__, str(exc).split("\n")[0]
    return "ok", str(out.dtype).replace("torch.", "").replace("taimatsu.", "")


_DTYPE_CASES = [
    ("entr", ("int64",)), ("entr", ("bool",)), ("entr", ("complex64",)), ("entr", ("float16",)),
    ("erfcx", ("float16",)), ("erfcx", ("bfloat16",)), ("log_ndtr", ("complex64",)),
    ("ndtr", ("int64",)), ("ndtr", ("complex64",)), ("ndtri", ("float16",)),
    ("i0", ("complex64",)), ("i0", ("int64",)), ("i1e", ("bfloat16",)),
    ("sinc", ("complex64",)), ("airy_ai", ("int64",)), ("airy_ai", ("float16",)),
    ("bessel_j0", ("bfloat16",)), ("spherical_bessel_j0", ("complex64",)),
    ("modified_bessel_k0", ("bool",)), ("round", ("int64",)), ("round", ("float16",)),
    ("gammainc", ("int64", "int64")), ("gammainc", ("int64", "float64")),
    ("gammaincc", ("float32", "float64")), ("gammaincc", ("complex64", "complex64")),
    ("zeta", ("int64", "int64")), ("zeta", ("float16", "float16")),
    ("zeta", ("float32", "float64")), ("xlog1py", ("bool", "int64")),
    ("xlog1py", ("complex64", "complex64")), ("xlog1py", ("bfloat16", "bfloat16")),
    ("chebyshev_polynomial_t", ("int64", "int64")),
    ("chebyshev_polynomial_t", ("float16", "int64")),
    ("legendre_polynomial_p", ("float32", "float64")),
    ("hermite_polynomial_h", ("complex64", "int64")),
]


@pytest.mark.parametrize("name,dtypes", _DTYPE_CASES)
def test_dtypes_and_dtype_errors(name, dtypes, torch):
    def call(lib, mod):
        args = [lib.tensor([1, 2]).to(getattr(lib, d)) for d in dtypes]
        return lambda: getattr(mod, name)(*args)
    assert _outcome(call(tm, S)) == _outcome(call(torch, torch.special))


@pytest.mark.parametrize("call", [
    lambda lib, mod: mod.entr(3),
    lambda lib, mod: mod.airy_ai(0.5),
    lambda lib, mod: mod.scaled_modified_bessel_k1([1.0]),
    lambda lib, mod: mod.gammainc(lib.tensor([1.0]), 2.0),
    lambda lib, mod: mod.gammaincc(1.0, lib.tensor([2.0])),
    lambda lib, mod: mod.zeta(2, 3.0),
    lambda lib, mod: mod.xlog1py(2.0, 3.0),
    lambda lib, mod: mod.zeta(2, lib.tensor([3.0])),
    lambda lib, mod: mod.xlog1py(lib.tensor([1, 2]), 0.5),
    lambda lib, mod: mod.chebyshev_polynomial_w(0.5, 3),
    lambda lib, mod: mod.chebyshev_polynomial_w(0.5, lib.tensor([3])),
    lambda lib, mod: mod.multigammaln(lib.tensor([3.0]), 2.0),
    lambda lib, mod: mod.multigammaln(lib.tensor([3.0]), 0),
    lambda lib, mod: mod.multigammaln(lib.tensor([3, 4]), 2),
    lambda lib, mod: mod.erfcx(lib.tensor([1.0], requires_grad=True), out=lib.empty(1)),
    lambda lib, mod: mod.zeta(lib.tensor([3.0]), lib.tensor([1.0], requires_grad=True),
                              out=lib.empty(1)),
    lambda lib, mod: mod.i0e(lib.tensor([1.0]), out=lib.empty(1, dtype=lib.int64)),
    lambda lib, mod: mod.softmax(lib.tensor([1, 2]), 0),
])
def test_argument_errors_and_promotion(call, torch):
    assert _outcome(lambda: call(tm, S)) == _outcome(lambda: call(torch, torch.special))
