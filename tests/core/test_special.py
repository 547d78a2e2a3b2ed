"""taimatsu.special: generated op cases plus the NumPy fallbacks, tails, special values,
dtypes and errors."""

import math

import numpy as np
import pytest
import scipy.special as sp
from op_cases.special import CASES

import taimatsu as tm
import taimatsu.special as S
from taimatsu.testing import assert_close, generate_tests

globals().update(generate_tests(CASES))

INF, NAN = math.inf, math.nan


def _f64(values, requires_grad=False):
    return tm.tensor(values, dtype=tm.float64, requires_grad=requires_grad)


def _grad(fn, values):
    x = _f64(values, requires_grad=True)
    (g,) = tm.autograd.grad(fn(x).sum(), [x])
    return g.numpy()


@pytest.fixture
def numpy_only(monkeypatch):
    """The kernels as they run without SciPy."""
    monkeypatch.setattr(S, "_scipy_fn", lambda name: None)


# -- the NumPy fallbacks against SciPy, over wide ranges -----------------------------------

_RNG = np.random.default_rng(0)
_WIDE = np.concatenate([np.linspace(-40, 40, 1601), _RNG.choice([-1, 1], 200)
                        * np.geomspace(1e-300, 1e300, 200), [0.0, -0.0, INF, -INF, NAN]])


def _scale(values):
    """|values|, 1 where not finite, and at least 1e-290: results that small are compared
    absolutely (near the underflow SciPy gives 0 or subnormals with few digits)."""
    return np.where(np.isfinite(values), np.maximum(np.abs(values), 1e-290), 1.0)


_MODERATE = _WIDE[np.abs(_WIDE) < 200]

UNARY_REFERENCES = {
    # name: (scipy reference, inputs, envelope weight, tolerance): the error is taken relative
    # to max(|reference|, weight * min(1, sqrt(2 / (pi |x|)))), the envelope of the
    # oscillating functions
    "erfcx": (sp.erfcx, _WIDE, 0.0, 2e-13),  # SciPy's own error near x = -23 is 6e-14
    "log_ndtr": (sp.log_ndtr, _WIDE, 0.0, 3e-13),  # SciPy's error for x in [5, 37]: 2e-13
    "i0": (sp.i0, _WIDE[np.abs(_WIDE) < 700], 0.0, 5e-14),
    "i0e": (sp.i0e, _WIDE, 0.0, 5e-14),
    "i1": (sp.i1, _WIDE[np.abs(_WIDE) < 700], 0.0, 5e-14),
    "i1e": (sp.i1e, _WIDE, 0.0, 5e-14),
    "modified_bessel_k0": (sp.k0, _WIDE, 0.0, 5e-14),
    "modified_bessel_k1": (sp.k1, _WIDE, 0.0, 5e-14),
    "scaled_modified_bessel_k0": (sp.k0e, _WIDE, 0.0, 5e-14),
    "scaled_modified_bessel_k1": (sp.k1e, _WIDE, 0.0, 5e-14),
    # SciPy (like PyTorch) loses the phase of J and Y as x grows (its error is 1e-12 at 3e4,
    # 5e-10 at 3e7; ours stays at 1e-16 against mpmath): the grid stops at 200 and
    # test_numpy_bessel_large_arguments takes over
    "bessel_j0": (sp.j0, _MODERATE, 1.0, 5e-14),
    "bessel_j1": (sp.j1, _MODERATE, 1.0, 5e-14),
    "bessel_y0": (sp.y0, _MODERATE, 1.0, 5e-14),
    "bessel_y1": (sp.y1, _MODERATE, 1.0, 5e-14),
    # for x < 0 an error eps * x^1.5 in the phase is inherent
    "airy_ai": (lambda x: sp.airy(x)[0], np.concatenate([np.linspace(-60, 60, 2401),
                                                         [-1e3, 1e3, 1e5, -INF, NAN]]), 1.0,
                3e-13),
}


@pytest.mark.parametrize("name", sorted(UNARY_REFERENCES))
def test_numpy_fallback_matches_scipy(name, numpy_only):
    ref_fn, x, weight, tol = UNARY_REFERENCES[name]
    got = S._kernel(name, x.copy())
    with np.errstate(all="ignore"):
        ref = S._TORCH_EDGES.get(name, lambda out, *a: out)(ref_fn(x), x)
        envelope = np.minimum(np.sqrt(2 / (np.pi * np.abs(x))), 1.0) * weight
    scale = np.maximum(_scale(ref), envelope)
    finite = np.isfinite(ref)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(ref))
    np.testing.assert_array_equal(got[np.isinf(ref)], ref[np.isinf(ref)])
    err = np.abs(got[finite] - ref[finite]) / np.where(scale[finite] > 0, scale[finite], 1)
    assert err.max() < tol, (name, x[finite][np.argmax(err)], err.max())


def test_numpy_bessel_large_arguments(numpy_only):
    # mpmath at 50 digits
    x = np.array([1e10, 123456789.5, 1e15])
    expected = {
        "bessel_j0": [2.1755917502468917e-6, 2.9681968977994062e-5, 6.1566386468850217e-9],
        "bessel_j1": [-7.676508175684157e-6, 6.538807930753586e-5, 2.4468665123771326e-8],
        "bessel_y0": [-7.676508175792937e-6, 6.538807918732388e-5, 2.4468665123771323e-8],
        "bessel_y1": [-2.175591750630717e-6, -2.968196871317234e-5, -6.156638646885009e-9],
    }
    envelope = np.sqrt(2 / (np.pi * x))
    for name, values in expected.items():
        assert_close(S._kernel(name, x) / envelope, np.array(values) / envelope, rtol=0,
                     atol=1e-12, msg=name)
    assert_close(S._kernel("airy_ai", np.array([-1000.0, -123.4])),
                 np.array([0.05597189577301992, -0.07296911980287758]), rtol=1e-11, atol=0)


def test_numpy_ndtri_matches_scipy_into_both_tails(numpy_only):
    p = np.concatenate([np.linspace(0, 1, 2001), np.geomspace(1e-300, 0.5, 300),
                        1 - np.geomspace(1e-16, 0.5, 100), [-0.5, 1.5, NAN]])
    assert_close(S._kernel("ndtri", p), sp.ndtri(p), rtol=1e-14, atol=0, equal_nan=True)


def test_numpy_incomplete_gamma_matches_scipy(numpy_only):
    rng = np.random.default_rng(1)
    a = np.concatenate([rng.uniform(0, 5, 400), np.geomspace(1e-3, 1e5, 400),
                        rng.uniform(0, 200, 200)])
    x = np.concatenate([rng.uniform(0, 10, 400), np.geomspace(1e-3, 1e5, 400)[::-1]
                        * rng.uniform(0.5, 2, 400), rng.uniform(0, 300, 200)])
    # both ours and SciPy's are off by ~3e-13 where Q or P is ~1e-60 (mpmath agrees with
    # ours there); elsewhere they agree to ~1e-15
    for name in ("gammainc", "gammaincc"):
        assert_close(S._kernel(name, a, x), getattr(sp, name)(a, x), rtol=1e-12, atol=1e-300)


def test_numpy_incomplete_gamma_small_a_keeps_relative_precision(numpy_only):
    # Q(a, x) ~ a E1(x) for tiny a: 1 - P would give 0 or noise
    a = np.array([1e-300, 1e-20, 1e-8, 1e-3])
    x = np.array([0.5, 0.3, 1.0, 0.1])
    assert_close(S._kernel("gammaincc", a, x), sp.gammaincc(a, x), rtol=1e-13, atol=0)


def test_numpy_zeta_matches_scipy(numpy_only):
    rng = np.random.default_rng(2)
    s = np.concatenate([rng.uniform(1, 30, 600), 1 + np.geomspace(1e-8, 1e3, 200),
                        [2.0, 3.0, 4.0, 2.0]])
    q = np.concatenate([np.geomspace(1e-3, 1e9, 600) * rng.choice([1, 1, 1, -1], 600),
                        rng.uniform(0.1, 50, 200), [-1.5, -2.5, -0.5, 1e12]])
    q[(q < 0) & (s != np.floor(s))] *= -1  # non-integer powers of negatives are nan
    assert_close(S._kernel("zeta", s, q), sp.zeta(s, q), rtol=1e-13, atol=0)


def test_numpy_fallback_serves_float32_and_broadcasts(numpy_only):
    x = np.linspace(0.5, 3, 6, dtype=np.float32)
    out = S.i1e(tm.tensor(x))
    assert out.dtype is tm.float32
    assert_close(out.numpy(), sp.i1e(x), rtol=1e-6, atol=0, check_dtype=False)
    out = S.gammainc(tm.tensor(x[:, None]), tm.tensor(x[None, :]))
    assert out.shape == (6, 6)
    assert_close(out.numpy(), sp.gammainc(x[:, None], x[None, :]), rtol=1e-6, atol=0,
                 check_dtype=False)


@pytest.mark.parametrize("path", ["scipy", "numpy"])
def test_zero_dim_and_empty_inputs(path, monkeypatch):
    if path == "numpy":
        monkeypatch.setattr(S, "_scipy_fn", lambda name: None)
    for name in ["erfcx", "log_ndtr", "ndtri", "i0", "i1e", "bessel_y1", "airy_ai",
                 "scaled_modified_bessel_k0", "entr", "sinc", "spherical_bessel_j0"]:
        fn = getattr(S, name)
        scalar = fn(tm.tensor(0.25, dtype=tm.float64))
        assert scalar.shape == () and math.isfinite(scalar.item()), name
        assert fn(tm.zeros(0, 3)).shape == (0, 3)
    for fn in (S.gammainc, S.gammaincc, S.zeta, S.xlog1py):
        assert fn(tm.tensor(2.5), tm.tensor(1.5)).shape == ()
        assert fn(tm.ones(0), tm.ones(4, 1)).shape == (4, 0)
    assert S.chebyshev_polynomial_t(tm.tensor(0.5), 3).shape == ()
    assert S.multigammaln(tm.ones(0), 2).shape == (0,)


def test_numpy_polynomials_match_scipy_at_high_degree():
    x = np.linspace(-0.99, 0.99, 41)
    for name, ref in [("chebyshev_polynomial_t", sp.eval_chebyt),
                      ("chebyshev_polynomial_u", sp.eval_chebyu),
                      ("legendre_polynomial_p", sp.eval_legendre),
                      ("hermite_polynomial_he", sp.eval_hermitenorm)]:
        for n in (0, 1, 2, 9, 40):
            got = getattr(S, name)(_f64(x), n).numpy()
            assert_close(got, ref(n, x), rtol=1e-9, atol=1e-9, msg=f"{name} n={n}")


# -- tails ------------------------------------------------------------------------------------

def test_log_ndtr_far_left_tail_and_its_gradient():
    x = [-1e5, -300.0, -40.0, -10.0]
    got = S.log_ndtr(_f64(x)).numpy()
    assert_close(got, sp.log_ndtr(np.array(x)), rtol=1e-14, atol=0)
    # d/dx log ndtr(x) -> -x (1 + 1/x^2 + ...) far left: no overflow, no cancellation
    g = _grad(S.log_ndtr, x)
    exact = [np.sqrt(2 / np.pi) / sp.erfcx(-v / np.sqrt(2)) for v in x]
    assert_close(g, np.array(exact), rtol=1e-14, atol=0)


def test_log_ndtr_right_tail_keeps_tiny_values(numpy_only):
    # log ndtr(x) = log1p(-ndtr(-x)), by mpmath at 80 digits (SciPy's error there is 2e-13,
    # and it gives 0 at 37.7)
    got = S.log_ndtr(_f64([10.0, 21.118206068689563, 37.7])).numpy()
    expected = np.array([-7.619853024160525e-24, -2.705553603357276e-99, -2.4834853102776e-311])
    assert_close(got, expected, rtol=2e-15, atol=1e-320)  # 37.7 gives a subnormal


def test_erfcx_large_and_very_negative():
    x = np.array([1e3, 1e10, 1e300, -5.0, -26.0])
    assert_close(S.erfcx(_f64(x)).numpy(), sp.erfcx(x), rtol=1e-14, atol=0)
    assert S.erfcx(_f64([-27.0])).item() == INF
    # d/dx erfcx = 2 x erfcx(x) - 2/sqrt(pi) = 2/sqrt(pi) (-1/(2x^2) + 3/(4x^4) - ...)
    # (PyTorch's formula, whose cancellation costs eps * x^2)
    expected = 2 / np.sqrt(np.pi) * (-1 / 2e4 + 3 / 4e8 - 15 / 8e12)
    assert_close(_grad(S.erfcx, [100.0]), np.array([expected]), rtol=1e-10, atol=0)


def test_ndtri_tails_and_gradient():
    p = np.array([1e-300, 1e-20, 0.5, 1 - 1e-16])
    assert_close(S.ndtri(_f64(p)).numpy(), sp.ndtri(p), rtol=1e-14, atol=0)
    # d ndtri / dp = 1 / pdf(ndtri(p))
    y = sp.ndtri(p[1:3])
    expected = np.sqrt(2 * np.pi) * np.exp(y * y / 2)
    assert_close(_grad(S.ndtri, p[1:3]), expected, rtol=1e-12, atol=0)


def test_scaled_bessel_functions_do_not_overflow():
    x = [800.0, 1e5, 1e10]
    assert_close(S.i0e(_f64(x)).numpy(), sp.i0e(np.array(x)), rtol=1e-14, atol=0)
    assert_close(S.i1e(_f64(x)).numpy(), sp.i1e(np.array(x)), rtol=1e-14, atol=0)
    assert S.i0(_f64([800.0])).item() == INF


# -- special values (PyTorch's, checked against torch in the parity tests) -------------------

def test_entr_special_values_and_gradients():
    x = [-1.0, 0.0, 0.5, INF, NAN]
    got = S.entr(_f64(x)).numpy()
    assert_close(got, np.array([-INF, 0.0, 0.5 * np.log(2), -INF, NAN]), equal_nan=True)
    g = _grad(S.entr, x)
    assert np.isnan(g[0]) and g[1] == INF and g[3] == -INF


def test_bessel_special_values():
    x = _f64([-INF, -1.0, 0.0, INF, NAN])
    for fn in (S.bessel_j0, S.bessel_j1):
        assert np.isnan(fn(x).numpy()[[0, 3, 4]]).all()
    assert_close(S.bessel_y0(x).numpy(), np.array([NAN, NAN, -INF, NAN, NAN]), equal_nan=True)
    assert_close(S.modified_bessel_k1(x).numpy(), np.array([NAN, NAN, INF, 0.0, NAN]),
                 equal_nan=True)
    assert_close(S.spherical_bessel_j0(x).numpy(), np.array([0.0, np.sin(1.0), 1.0, 0.0, NAN]),
                 equal_nan=True)
    assert_close(S.airy_ai(x).numpy()[[0, 3, 4]], np.array([NAN, NAN, NAN]), equal_nan=True)
    # i0(+-inf) is nan in PyTorch (Cephes' exp(x) / sqrt(x) there), i0e(+-inf) is 0
    assert np.isnan(S.i0(x).numpy()[[0, 3]]).all()
    assert_close(S.i0e(x).numpy()[[0, 3]], np.zeros(2))


def test_i1_gradient_limit_at_zero():
    assert_close(_grad(S.i1, [0.0, NAN]), np.array([0.5, 0.5]))
    assert_close(_grad(S.i1e, [0.0]), np.array([0.5]))
    assert_close(_grad(S.sinc, [0.0]), np.array([0.0]))
    assert_close(_grad(S.i0e, [0.0]), np.array([0.0]))


def test_incomplete_gamma_special_values():
    a = _f64([-1.0, 0.0, 0.0, 1.0, 1.0, INF, INF, NAN, NAN, INF])
    x = _f64([1.0, 0.0, 1.0, 0.0, INF, 1.0, INF, 0.0, INF, NAN])
    p = [NAN, NAN, 1.0, 0.0, 1.0, 0.0, NAN, 0.0, 1.0, 0.0]
    assert_close(S.gammainc(a, x).numpy(), np.array(p), equal_nan=True)
    assert_close(S.gammaincc(a, x).numpy(), 1 - np.array(p), equal_nan=True)


def test_zeta_special_values():
    s = _f64([0.5, 1.0, 2.0, 2.0, 2.5, 2.0, INF, INF, INF, NAN, 3.0])
    q = _f64([1.0, 1.0, 0.0, -1.5, -1.5, INF, 1.0, 0.5, 2.0, -2.0, 1.0])
    expected = [NAN, INF, INF, 9.379246644989124, NAN, NAN, 1.0, INF, NAN, INF,
                1.2020569031595942]
    assert_close(S.zeta(s, q).numpy(), np.array(expected), equal_nan=True)


def test_xlog1py_is_zero_where_x_is_zero_unless_y_is_nan():
    x = _f64([0.0, 0.0, 0.0, 2.0], requires_grad=True)
    y = _f64([-1.0, NAN, 3.0, 3.0], requires_grad=True)
    out = S.xlog1py(x, y)
    assert_close(out.detach().numpy(), np.array([0.0, NAN, 0.0, 2 * np.log(4)]),
                 equal_nan=True)
    gx, gy = tm.autograd.grad(out.sum(), [x, y])
    # d/dx is log1p(y) even at x == 0 (PyTorch masks it only where y <= -1)
    assert_close(gx.numpy(), np.array([0.0, NAN, np.log(4), np.log(4)]), equal_nan=True)
    assert_close(gy.numpy(), np.array([NAN, NAN, 0.0, 0.5]), equal_nan=True)


def test_polynomial_degrees_are_truncated_and_negative_degrees_give_zero():
    x = _f64([0.5, 2.0])
    assert_close(S.chebyshev_polynomial_t(x, 2.7).numpy(), np.array([-0.5, 7.0]))
    assert_close(S.legendre_polynomial_p(x, -1).numpy(), np.zeros(2))
    n = tm.tensor([0, 1, 3])
    out = S.hermite_polynomial_h(0.5, n)
    assert out.dtype is tm.float32
    assert_close(out.numpy(), np.array([1.0, 1.0, -5.0]), check_dtype=False)


def test_multigammaln_is_a_sum_of_lgammas():
    x = _f64([2.5, 4.0])
    expected = sp.gammaln(x.numpy()) + sp.gammaln(x.numpy() - 0.5) + 0.5 * np.log(np.pi)
    assert_close(S.multigammaln(x, 2).numpy(), expected)


# -- dtypes -----------------------------------------------------------------------------------

FLOAT_VALUED = ["entr", "erfcx", "log_ndtr", "ndtr", "ndtri", "i0", "i0e", "i1", "i1e", "sinc",
                "airy_ai", "bessel_j0", "bessel_y1", "modified_bessel_i1", "modified_bessel_k0",
                "scaled_modified_bessel_k1", "spherical_bessel_j0", "erf", "expit", "gammaln",
                "psi", "logit"]


@pytest.mark.parametrize("name", FLOAT_VALUED)
def test_integers_and_bools_become_the_default_float(name):
    fn = getattr(S, name)
    assert fn(tm.tensor([1, 2])).dtype is tm.float32
    assert fn(tm.tensor([True, False])).dtype is tm.float32
    tm.set_default_dtype(tm.float64)
    try:
        assert fn(tm.tensor([1, 2])).dtype is tm.float64
    finally:
        tm.set_default_dtype(tm.float32)


@pytest.mark.parametrize("name", ["entr", "ndtr", "i0", "i0e", "i1", "i1e", "sinc"])
def test_half_precision_is_kept(name):
    for dt in (tm.float16, tm.bfloat16):
        x = tm.tensor([0.25, 1.5]).to(dt)
        out = getattr(S, name)(x)
        assert out.dtype is dt
        expected = getattr(S, name)(x.float())
        assert_close(out.float(), expected, rtol=2e-2, atol=1e-3)


@pytest.mark.parametrize("name,kernel", [("erfcx", "erfcx_cpu"), ("log_ndtr", "log_ndtr_cpu"),
                                         ("ndtri", "ndtri_cpu"), ("airy_ai", "airy_ai_cpu"),
                                         ("bessel_j0", "bessel_j0_cpu")])
def test_half_precision_is_refused_where_torch_has_no_kernel(name, kernel):
    with pytest.raises(NotImplementedError, match=f'"{kernel}" not implemented for \'Half\''):
        getattr(S, name)(tm.tensor([0.5]).half())


def test_complex_is_refused_with_torchs_kernel_names():
    z = tm.tensor([1 + 1j])
    for fn, kernel in [(S.entr, "entr_cpu"), (S.i0, "i0_vml_cpu"), (S.ndtr, "erf_vml_cpu"),
                       (S.i1e, "i1e_cpu")]:
        with pytest.raises(NotImplementedError, match=f'"{kernel}" not implemented for '
                                                      "'ComplexFloat'"):
            fn(z)
    assert S.sinc(z).dtype is tm.complex64  # sinc takes complex input


def test_binary_promotion():
    f32, f64, i64 = tm.tensor([1.5]), _f64([2.5]), tm.tensor([2])
    assert S.zeta(f32, f64).dtype is tm.float64
    assert S.zeta(i64, 2.5).dtype is tm.float32
    assert S.zeta(3, i64).dtype is tm.float32
    assert S.xlog1py(i64, i64).dtype is tm.float32
    assert S.gammainc(f32, f64).dtype is tm.float64
    assert S.gammaincc(f32.half(), f32.half()).dtype is tm.float16
    assert S.chebyshev_polynomial_t(f64, i64).dtype is tm.float64
    assert S.chebyshev_polynomial_t(0.5, i64).dtype is tm.float32
    with pytest.raises(NotImplementedError, match='"igamma_cpu" not implemented for \'Long\''):
        S.gammainc(i64, i64)


# -- autograd -----------------------------------------------------------------------------

def test_no_gradient_for_the_first_argument_of_zeta_and_the_incomplete_gammas():
    for fn, name in [(S.zeta, "zeta"), (S.gammainc, "igamma: input"),
                     (S.gammaincc, "igammac: input")]:
        a = _f64([2.5], requires_grad=True)
        out = fn(a, _f64([1.5]))
        with pytest.raises(NotImplementedError, match=f"the derivative for '{name}' is not "
                                                      "implemented."):
            out.backward()


def test_node_names():
    x = _f64([0.5], requires_grad=True)
    names = {S.entr(x): "SpecialEntrBackward0", S.erfcx(x): "SpecialErfcxBackward0",
             S.log_ndtr(x): "SpecialLogNdtrBackward0", S.ndtri(x): "SpecialNdtriBackward0",
             S.i0(x): "I0Backward0", S.i0e(x): "SpecialI0EBackward0",
             S.i1(x): "SpecialI1Backward0", S.i1e(x): "SpecialI1EBackward0",
             S.sinc(x): "SincBackward0", S.multigammaln(x + 2, 2): "MvlgammaBackward0",
             S.gammainc(x, x): "IgammaBackward0", S.gammaincc(x, x): "IgammacBackward0",
             S.xlog1py(x, x): "SpecialXlog1PyBackward0",
             S.xlog1py(2.0, x): "SpecialXlog1PyBackward1",
             S.xlog1py(x, 2.0): "SpecialXlog1PyBackward2",
             S.zeta(3.0, x): "SpecialZetaBackward1", S.zeta(x + 2, 2.0): "SpecialZetaBackward2"}
    for out, name in names.items():
        assert out.grad_fn.name() == name


@pytest.mark.parametrize("name", ["airy_ai", "bessel_j0", "modified_bessel_k1",
                                  "spherical_bessel_j0", "chebyshev_polynomial_t"])
def test_functions_torch_does_not_differentiate_give_constants(name):
    x = _f64([0.5, 1.5], requires_grad=True)
    fn = getattr(S, name)
    out = fn(x, 3) if "polynomial" in name else fn(x)
    assert not out.requires_grad and out.grad_fn is None


# -- arguments and out= --------------------------------------------------------------------

def test_type_errors_name_the_special_function():
    with pytest.raises(TypeError, match=r"special_entr\(\): argument 'input' \(position 1\) "
                                        "must be Tensor, not int"):
        S.entr(3)
    with pytest.raises(TypeError, match=r"special_airy_ai\(\): argument 'x'"):
        S.airy_ai(0.5)
    with pytest.raises(TypeError, match=r"special_gammainc\(\): argument 'other' \(position "
                                        r"2\) must be Tensor, not float"):
        S.gammainc(tm.tensor([1.0]), 2.0)
    with pytest.raises(TypeError, match=r"special_zeta\(\) received an invalid combination "
                                        r"of arguments - got \(int, float\)"):
        S.zeta(2, 3.0)
    with pytest.raises(TypeError, match=r"argument 'p' \(position 2\) must be int, not float"):
        S.multigammaln(tm.tensor([3.0]), 2.0)
    with pytest.raises(RuntimeError, match="p has to be greater than or equal to 1"):
        S.multigammaln(tm.tensor([3.0]), 0)
    with pytest.raises(NotImplementedError, match='"round_vml_cpu" not implemented for '
                                                  "'Long'"):
        S.round(tm.tensor([1, 2]))


def test_keyword_arguments_use_torchs_names():
    x = tm.tensor([0.5])
    assert_close(S.airy_ai(x=x), S.airy_ai(x))
    assert_close(S.zeta(input=x + 2, other=x), S.zeta(x + 2, x))
    assert_close(S.chebyshev_polynomial_t(x=x, n=3), S.chebyshev_polynomial_t(x, 3))
    assert_close(S.multigammaln(input=x + 2, p=2), S.multigammaln(x + 2, 2))


def test_out():
    out = tm.empty(2, dtype=tm.float64)
    result = S.i0e(_f64([0.5, 1.0]), out=out)
    assert result is out
    assert_close(out.numpy(), sp.i0e(np.array([0.5, 1.0])))
    assert S.zeta(_f64([2.0]), 1.0, out=out) is out and out.shape == (1,)
    x = tm.tensor([0.5], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"special_erfcx\(\): functions with out=\.\.\. "
                                           "arguments don't support automatic differentiation"):
        S.erfcx(x, out=tm.empty(1))
    S.ndtr(x, out=tm.empty(1))  # a kernel of its own in PyTorch: allowed
    S.bessel_j0(x, out=tm.empty(1))  # not differentiable: allowed


def test_softmax_family_requires_dim_and_takes_dtype():
    x = tm.tensor([[1.0, 2.0], [3.0, 5.0]])
    assert S.softmax(x, 1, dtype=tm.float64).dtype is tm.float64
    assert_close(S.log_softmax(x, 0).exp().sum(0), tm.ones(2))
    assert_close(S.logsumexp(x, 1, keepdim=True).squeeze(1), tm.logsumexp(x, 1))
    with pytest.raises(TypeError):
        S.softmax(x)
