"""Pointwise ops: generated op cases plus dtypes, edge values, kinks and error messages."""

import math
import warnings

import numpy as np
import pytest
import scipy.special as sp
from op_cases.pointwise import CASES

import taimatsu as tm
from taimatsu.testing import assert_close, generate_tests

globals().update(generate_tests(CASES))


def _leaf(values, dtype=tm.float64):
    return tm.tensor(values, dtype=dtype, requires_grad=True)


def _grads(fn, *inputs):
    out = fn(*inputs)
    return tm.autograd.grad(out.sum(), inputs, allow_unused=True)


# -- dtypes ----------------------------------------------------------------------------------

FLOAT_VALUED = ["exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "rsqrt",
                "reciprocal", "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh",
                "tanh", "asinh", "acosh", "atanh", "sigmoid", "logit", "erf", "erfc", "erfinv",
                "lgamma", "digamma", "deg2rad", "rad2deg", "angle"]


@pytest.mark.parametrize("name", FLOAT_VALUED)
def test_integers_and_bools_become_the_default_float(name):
    fn = getattr(tm, name)
    assert fn(tm.tensor([1, 2, 3])).dtype is tm.float32
    assert fn(tm.tensor([True, False])).dtype is tm.float32
    tm.set_default_dtype(tm.float64)
    try:
        assert fn(tm.tensor([1, 2], dtype=tm.int16)).dtype is tm.float64
    finally:
        tm.set_default_dtype(tm.float32)


@pytest.mark.parametrize("dtype", [tm.float16, tm.bfloat16, tm.float32, tm.float64])
@pytest.mark.parametrize("name", ["exp", "sigmoid", "erf", "lgamma", "logit", "round", "angle",
                                  "deg2rad", "sign", "frac"])
def test_float_dtypes_are_kept(name, dtype):
    x = tm.tensor([0.25, -0.5, 0.75], dtype=dtype)
    assert getattr(tm, name)(x).dtype is dtype


def test_float_valued_op_matches_numpy_on_integers():
    assert_close(tm.sqrt(tm.tensor([1, 4, 9])), tm.tensor([1.0, 2.0, 3.0]))
    assert_close(tm.exp2(tm.tensor([-3, 0, 3])), tm.tensor([0.125, 1.0, 8.0]))


@pytest.mark.parametrize("name", ["abs", "sign", "sgn", "floor", "ceil", "round", "trunc",
                                  "fix", "nan_to_num"])
@pytest.mark.parametrize("dtype", [tm.uint8, tm.int8, tm.int32, tm.int64])
def test_integer_dtypes_are_kept(name, dtype):
    x = tm.tensor([3, 0, 5], dtype=dtype)
    out = getattr(tm, name)(x)
    assert out.dtype is dtype
    assert out.tolist() == getattr(np, name if name not in ("fix", "sgn", "nan_to_num")
                                   else {"fix": "trunc", "sgn": "sign",
                                         "nan_to_num": "positive"}[name])(x.numpy()).tolist()


def test_integer_rounding_returns_a_copy():
    x = tm.tensor([1, -2])
    out = tm.floor(x)
    out.add_(1)
    assert x.tolist() == [1, -2]


def test_abs_of_int8_minimum_wraps_like_torch():
    assert tm.abs(tm.tensor([-128], dtype=tm.int8)).tolist() == [-128]


def test_bool_inputs():
    b = tm.tensor([True, False])
    assert tm.sign(b).dtype is tm.bool and tm.sign(b).tolist() == [True, False]
    assert tm.sgn(b).dtype is tm.bool
    assert tm.square(b).dtype is tm.int64 and tm.square(b).tolist() == [1, 0]
    assert tm.maximum(b, ~b).tolist() == [True, True]
    assert tm.clamp(b, min=0).dtype is tm.int64
    for name in ("abs", "floor", "ceil", "round", "trunc", "frac"):
        with pytest.raises(NotImplementedError, match="not implemented for 'Bool'"):
            getattr(tm, name)(b)


def test_complex_results():
    z = tm.tensor([3 + 4j, 0j], dtype=tm.complex64)
    assert tm.abs(z).dtype is tm.float32 and tm.abs(z).tolist() == [5.0, 0.0]
    assert tm.angle(z).dtype is tm.float32
    assert tm.sgn(z).tolist() == [pytest.approx(0.6 + 0.8j), 0j]
    assert tm.real(z).dtype is tm.float32 and tm.imag(z).tolist() == [4.0, 0.0]
    assert tm.exp(z).dtype is tm.complex64


def test_square_keeps_integers():
    assert tm.square(tm.tensor([-3, 4])).tolist() == [9, 16]
    assert tm.square(tm.tensor([2.0])).tolist() == [4.0]


def test_clamp_promotes_like_torch():
    i = tm.tensor([1, 2, -3])
    assert tm.clamp(i, min=0.5).dtype is tm.float32
    assert tm.clamp(i, min=0.5).tolist() == [1.0, 2.0, 0.5]
    assert tm.clamp(i, 0, 1).dtype is tm.int64
    assert tm.clamp(tm.tensor([1.0]), min=tm.tensor([0])).dtype is tm.float32
    assert tm.clamp(tm.tensor([1.0], dtype=tm.float16), -0.5, 0.5).dtype is tm.float16
    assert tm.clamp(tm.tensor([1.0], dtype=tm.bfloat16), -0.5, 0.5).dtype is tm.bfloat16


def test_binary_promotion():
    i, f = tm.tensor([1, 2]), tm.tensor([1.5, 0.5])
    assert tm.maximum(i, f).dtype is tm.float32 and tm.maximum(i, f).tolist() == [1.5, 2.0]
    assert tm.maximum(i, tm.tensor(1.5, dtype=tm.float64)).dtype is tm.float64
    assert tm.maximum(f, tm.tensor(1.5, dtype=tm.float64)).dtype is tm.float32
    assert tm.atan2(i, i).dtype is tm.float32
    assert tm.xlogy(i, i).dtype is tm.float32
    assert tm.fmax(i, i).dtype is tm.int64
    assert tm.hypot(f.double(), f).dtype is tm.float64


# -- values ------------------------------------------------------------------------------------

def test_invalid_values_give_nan_and_inf_silently():
    x = tm.tensor([-1.0, 0.0, 1000.0, -1000.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # NumPy's RuntimeWarnings would fail the test
        assert np.isnan(tm.log(x)[0].item()) and tm.log(x)[1].item() == -math.inf
        assert np.isnan(tm.sqrt(x)[0].item())
        assert tm.exp(x)[2].item() == math.inf
        assert tm.reciprocal(x)[1].item() == math.inf
        assert tm.sigmoid(x).tolist() == [pytest.approx(0.2689414), 0.5, 1.0, 0.0]
        assert tm.rsqrt(x)[1].item() == math.inf
        for fn in (tm.acosh, tm.atanh, tm.asin, tm.logit, tm.erfinv, tm.lgamma, tm.digamma,
                   tm.log1p, tm.log2, tm.tan, tm.cosh, tm.exp2, tm.expm1):
            fn(x)
        tm.polygamma(1, x), tm.atan2(x, x), tm.hypot(x, x), tm.xlogy(x, x)
        tm.addcdiv(x, x, x * 0), tm.sgn(tm.tensor([0j])), tm.angle(tm.tensor([0j]))


def test_sigmoid_keeps_precision_far_left():
    x = tm.tensor([-40.0, -700.0], dtype=tm.float64)
    assert_close(tm.sigmoid(x), tm.tensor([math.exp(-40) / (1 + math.exp(-40)),
                                           math.exp(-700)], dtype=tm.float64), rtol=1e-14)


def test_sign_of_nan_and_negative_zero_is_zero():
    out = tm.sign(tm.tensor([math.nan, -0.0, -2.0, 3.0]))
    assert out.tolist() == [0.0, 0.0, -1.0, 1.0]
    assert not np.signbit(out.numpy()[1])


def test_sign_rejects_complex():
    with pytest.raises(NotImplementedError, match="use torch.sgn instead"):
        tm.sign(tm.tensor([1j]))


def test_angle_of_reals():
    out = tm.angle(tm.tensor([1.0, -1.0, 0.0, -0.0, math.nan]))
    assert out.tolist()[:4] == [0.0, pytest.approx(math.pi), 0.0, 0.0]
    assert math.isnan(out.tolist()[4])


@pytest.mark.parametrize("values, decimals, expected", [
    ([0.5, 1.5, 2.5, -0.5, -2.5], 0, [0.0, 2.0, 2.0, -0.0, -2.0]),    # half to even
    ([1.2345, 125.0, -155.0], -1, [0.0, 120.0, -160.0]),
    ([1.25, 0.375], 1, [1.2, 0.4]),
])
def test_round(values, decimals, expected):
    out = tm.round(tm.tensor(values, dtype=tm.float64), decimals=decimals)
    assert out.tolist() == pytest.approx(expected)


def test_round_decimals_in_float32_scales_in_float32():
    out = tm.round(tm.tensor([0.125, 0.375]), decimals=2)
    assert out.tolist() == [np.float32(0.12).item(), np.float32(0.38).item()]


def test_frac_keeps_the_sign():
    assert tm.frac(tm.tensor([-1.5, 2.25])).tolist() == [-0.5, 0.25]


def test_clamp_values():
    x = tm.tensor([-2.0, -0.5, 0.5, 2.0, math.nan])
    assert tm.clamp(x, -1, 1).tolist()[:4] == [-1.0, -0.5, 0.5, 1.0]
    assert math.isnan(tm.clamp(x, -1, 1).tolist()[4])
    assert tm.clamp(x[:4], min=1, max=0).tolist() == [0.0] * 4     # min > max gives max
    assert all(math.isnan(v) for v in tm.clamp(x[:2], math.nan, 1).tolist())
    assert tm.clip(x[:4], max=0).tolist() == [-2.0, -0.5, 0.0, 0.0]
    lo, hi = tm.tensor([0.0, 0.0, 1.0, 1.0]), tm.tensor([[0.0], [3.0]])
    assert tm.clamp(x[:4], lo, hi).tolist() == [[0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 1.0, 2.0]]
    assert tm.clamp_min(x[:4], 0).tolist() == [0.0, 0.0, 0.5, 2.0]
    assert tm.clamp_max(x[:4], tm.tensor(0.0)).tolist() == [-2.0, -0.5, 0.0, 0.0]


def test_maximum_minimum_propagate_nan_fmax_fmin_ignore_it():
    a, b = tm.tensor([math.nan, 1.0, math.nan]), tm.tensor([2.0, math.nan, math.nan])
    assert all(math.isnan(v) for v in tm.maximum(a, b).tolist())
    assert all(math.isnan(v) for v in tm.minimum(a, b).tolist())
    assert tm.fmax(a, b).tolist()[:2] == [2.0, 1.0] and math.isnan(tm.fmax(a, b).tolist()[2])
    assert tm.fmin(a, b).tolist()[:2] == [2.0, 1.0]


def test_lerp_hits_both_ends_exactly():
    a, b = tm.tensor([0.1, 1e8]), tm.tensor([0.7, -3.3])
    assert tm.lerp(a, b, 1.0).tolist() == b.tolist()
    assert tm.lerp(a, b, 0.0).tolist() == a.tolist()
    assert tm.lerp(a, b, tm.tensor([1.0, 0.0])).tolist() == [b.tolist()[0], a.tolist()[1]]


def test_addcmul_addcdiv_values():
    x, a, b = tm.tensor([1.0, 2.0]), tm.tensor([3.0, 4.0]), tm.tensor([2.0, 8.0])
    assert tm.addcmul(x, a, b, value=0.5).tolist() == [4.0, 18.0]
    assert tm.addcdiv(x, a, b, value=2).tolist() == [4.0, 3.0]
    assert tm.addcmul(tm.tensor([1]), tm.tensor([2]), tm.tensor([3]), value=2).tolist() == [13]
    # PyTorch converts value to the integer result type
    assert tm.addcmul(tm.tensor([1]), tm.tensor([2]), tm.tensor([3]), value=0.5).tolist() == [1]


def test_xlogy_zero_times_anything_but_nan_is_zero():
    out = tm.xlogy(tm.tensor([0.0, 0.0, 1.0, 2.0]), tm.tensor([math.nan, 0.0, 0.0, math.e]))
    assert math.isnan(out.tolist()[0])
    assert out.tolist()[1:] == [0.0, -math.inf, pytest.approx(2.0)]
    assert tm.xlogy(2, tm.tensor([1.0, math.e])).tolist() == [0.0, pytest.approx(2.0)]
    assert tm.xlogy(tm.tensor([0.0, 3.0]), 1.0).tolist() == [0.0, 0.0]


def test_nan_to_num():
    x = tm.tensor([math.nan, math.inf, -math.inf, 1.5])
    assert tm.nan_to_num(x).tolist() == [0.0, np.finfo(np.float32).max.item(),
                                         np.finfo(np.float32).min.item(), 1.5]
    assert tm.nan_to_num(x, nan=1, posinf=2, neginf=-2).tolist() == [1.0, 2.0, -2.0, 1.5]
    assert tm.nan_to_num(x.half()).tolist()[1] == 65504.0
    assert tm.nan_to_num(x.bfloat16()).tolist()[1] == pytest.approx(3.3895e38, rel=1e-4)
    z = tm.nan_to_num(tm.tensor([complex(math.nan, math.inf)]))
    assert z.tolist() == [complex(0, np.finfo(np.float32).max.item())]


def test_where_promotion_and_scalars():
    c = tm.tensor([True, False, True])
    assert tm.where(c, 1, 0).dtype is tm.int64 and tm.where(c, 1, 0).tolist() == [1, 0, 1]
    assert tm.where(c, 1.0, 0).dtype is tm.float32
    assert tm.where(c, tm.tensor([1, 2, 3]), 1.5).tolist() == [1.0, 1.5, 3.0]
    assert tm.where(c, tm.tensor([1.0]), tm.tensor(2.0, dtype=tm.float64)).dtype is tm.float32
    assert tm.where(c, tm.tensor([1.0]), tm.tensor([2.0], dtype=tm.float64)).dtype is tm.float64
    assert tm.tensor([1.0, 2.0, 3.0]).where(c, 0.0).tolist() == [1.0, 0.0, 3.0]


def test_where_condition_only_is_nonzero():
    (idx,) = tm.where(tm.tensor([True, False, True]))
    assert idx.tolist() == [0, 2]


def test_where_condition_dtype():
    with pytest.raises(RuntimeError, match="where expected condition to be a boolean tensor, "
                       "but got a tensor with dtype Float"):
        tm.where(tm.tensor([1.0]), tm.tensor([1.0]), tm.tensor([2.0]))
    with pytest.warns(UserWarning, match="uint8 condition"):
        out = tm.where(tm.tensor([1, 0], dtype=tm.uint8), tm.tensor([1.0, 1.0]), 0.0)
    assert out.tolist() == [1.0, 0.0]


def test_real_and_imag_are_views():
    z = tm.tensor([1 + 2j, 3 - 4j])
    r = z.real
    r.mul_(10)
    assert z.tolist() == [10 + 2j, 30 - 4j]
    z.imag.mul_(0)
    assert z.tolist() == [10 + 0j, 30 + 0j]
    z.imag = tm.tensor([5.0, 6.0])
    z.real = 1.0
    assert z.tolist() == [1 + 5j, 1 + 6j]


def test_real_conj_of_real_tensors_are_the_tensor():
    x = tm.tensor([1.0, 2.0])
    assert tm.real(x) is x and x.real is x
    assert tm.conj(x) is x and x.conj() is x
    assert tm.resolve_conj(x) is x and not tm.is_conj(x)
    with pytest.raises(RuntimeError, match="imag is not implemented for tensors with "
                       "non-complex dtypes."):
        _ = x.imag


def test_special_function_edge_values():
    inf, nan = math.inf, math.nan
    assert tm.erf(tm.tensor([inf, -inf, 0.0])).tolist() == [1.0, -1.0, 0.0]
    assert tm.erfc(tm.tensor([inf, -inf, 30.0])).tolist() == [0.0, 2.0, 0.0]
    out = tm.erfinv(tm.tensor([1.0, -1.0, 0.0, 1.5, nan])).tolist()
    assert out[:3] == [inf, -inf, 0.0] and math.isnan(out[3]) and math.isnan(out[4])
    assert tm.lgamma(tm.tensor([0.0, -0.0, -1.0, -2.0, inf, -inf])).tolist() == [inf] * 6
    out = tm.digamma(tm.tensor([0.0, -0.0, -1.0, inf])).tolist()
    assert out[0] == -inf and out[1] == inf and math.isnan(out[2]) and out[3] == inf
    assert tm.polygamma(1, tm.tensor([0.0])).tolist() == [inf]
    assert tm.polygamma(2, tm.tensor([0.0, -2.0])).tolist() == [-inf, -inf]
    assert_close(tm.polygamma(0, tm.tensor([1.0], dtype=tm.float64)),
                 tm.tensor([-0.5772156649015329], dtype=tm.float64))


def _special_grid(rng):
    return np.concatenate([rng.uniform(-8, 8, 4000), rng.uniform(-1, 1, 2000),
                           10.0 ** rng.uniform(-12, 2.5, 1000),
                           -(10.0 ** rng.uniform(-12, 1.4, 1000))])


@pytest.mark.parametrize("name, reference", [
    ("erf", sp.erf), ("erfc", sp.erfc), ("lgamma", sp.gammaln), ("digamma", sp.digamma)])
def test_special_functions_match_scipy_to_float64_precision(name, reference):
    x = _special_grid(np.random.default_rng(0))
    # off the poles of lgamma and digamma (close to them, SciPy itself loses digits)
    x = x[(x > 0) | (np.abs(x - np.round(x)) > 1e-3)]
    ours = getattr(tm, name)(tm.tensor(x, dtype=tm.float64)).numpy()
    expected = reference(x)
    # relative, except near the zeros of lgamma/digamma where the absolute error counts
    err = np.abs(ours - expected) / np.maximum(np.abs(expected), 1.0)
    assert err.max() < 1e-13, x[np.argmax(err)]


def test_erfinv_matches_scipy_including_the_tails():
    rng = np.random.default_rng(1)
    y = np.concatenate([rng.uniform(-1, 1, 5000), 1 - 10.0 ** -rng.uniform(1, 15.9, 500),
                        -(1 - 10.0 ** -rng.uniform(1, 15.9, 500)), [1e-300, -1e-20]])
    ours = tm.erfinv(tm.tensor(y, dtype=tm.float64)).numpy()
    assert_close(ours, sp.erfinv(y), rtol=1e-14, atol=0)
    assert_close(tm.erf(tm.tensor(ours)).numpy(), y, rtol=1e-15, atol=1e-16)


@pytest.mark.parametrize("n", [1, 2, 4, 9])
def test_polygamma_matches_scipy(n):
    rng = np.random.default_rng(n)
    x = np.concatenate([rng.uniform(0.05, 40, 2000), rng.uniform(-6, 0, 500)])
    x = x[np.abs(x - np.round(x)) > 1e-3]
    ours = tm.polygamma(n, tm.tensor(x, dtype=tm.float64)).numpy()
    assert_close(ours, sp.polygamma(n, x), rtol=1e-12, atol=0)


# -- gradients at kinks and special points ------------------------------------------------------

def test_abs_gradient_at_zero_is_zero():
    (g,) = _grads(tm.abs, _leaf([0.0, -1.0, 2.0]))
    assert g.tolist() == [0.0, -1.0, 1.0]


def test_flat_ops_have_zero_gradient():
    for fn in (tm.sign, tm.sgn, tm.floor, tm.ceil, tm.round, tm.trunc, tm.fix,
               lambda x: tm.round(x, decimals=1)):
        (g,) = _grads(fn, _leaf([0.5, 1.0, -2.3]))
        assert g.tolist() == [0.0, 0.0, 0.0]


def test_clamp_gradient_passes_at_the_bounds():
    x = _leaf([-1.0, 1.0, 0.0, 2.0, -2.0, math.nan])
    (g,) = _grads(lambda t: tm.clamp(t, -1, 1), x)
    assert g.tolist() == [1.0, 1.0, 1.0, 0.0, 0.0, 0.0]
    (g,) = _grads(lambda t: tm.clamp_min(t, 0), _leaf([0.0, 1.0, -1.0]))
    assert g.tolist() == [1.0, 1.0, 0.0]


def test_clamp_tensor_bound_gradients_follow_torch():
    x = _leaf([-1.0, 1.0, 0.0, 2.0, -2.0, 0.5])
    lo = _leaf([-1.0, -1, -1, -1, -1, 1])
    hi = _leaf([1.0, 1, 1, 1, 1, 0])      # last: min > max, so the result is max
    gx, glo, ghi = _grads(tm.clamp, x, lo, hi)
    assert gx.tolist() == [1.0, 1.0, 1.0, 0.0, 0.0, 0.0]
    assert glo.tolist() == [0.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    assert ghi.tolist() == [0.0, 0.0, 0.0, 1.0, 0.0, 1.0]


def test_clamp_tensor_bound_gradient_is_summed_over_broadcasting():
    x = _leaf([[-2.0, 0.0, 3.0], [-3.0, 5.0, 0.5]])
    lo = _leaf([-1.0])
    gx, glo = _grads(lambda a, b: tm.clamp(a, min=b), x, lo)
    assert glo.tolist() == [2.0]


def test_maximum_minimum_split_ties():
    a, b = _leaf([1.0, 2.0, 3.0]), _leaf([1.0, 1.0, 4.0])
    assert [g.tolist() for g in _grads(tm.maximum, a, b)] == [[0.5, 1, 0], [0.5, 0, 1]]
    assert [g.tolist() for g in _grads(tm.minimum, a, b)] == [[0.5, 0, 1], [0.5, 1, 0]]
    # nan on either side: both get the full gradient, as PyTorch
    a, b = _leaf([math.nan, 1.0]), _leaf([1.0, math.nan])
    assert [g.tolist() for g in _grads(tm.maximum, a, b)] == [[1.0, 1.0], [1.0, 1.0]]


def test_fmax_fmin_gradients_go_to_the_chosen_operand():
    a = _leaf([1.0, 2.0, 3.0, math.nan, 1.0])
    b = _leaf([1.0, 1.0, 4.0, 1.0, math.nan])
    assert [g.tolist() for g in _grads(tm.fmax, a, b)] == [[1, 1, 0, 0, 1], [0, 0, 1, 1, 0]]
    assert [g.tolist() for g in _grads(tm.fmin, a, b)] == [[1, 0, 1, 0, 1], [0, 1, 0, 1, 0]]


def test_logit_gradients():
    (g,) = _grads(tm.logit, _leaf([0.5, -1.0, 2.0, 0.0]))
    assert g.tolist()[0] == 4.0 and math.isnan(g.tolist()[1]) and math.isnan(g.tolist()[2])
    assert g.tolist()[3] == math.inf
    (g,) = _grads(lambda t: tm.logit(t, eps=0.25), _leaf([0.5, 0.1, 0.9, 0.25, 0.75]))
    assert g.tolist() == [4.0, 0.0, 0.0, pytest.approx(1 / 0.1875), pytest.approx(1 / 0.1875)]


def test_gradients_at_the_origin():
    a, b = _leaf([0.0, 3.0]), _leaf([0.0, 4.0])
    ga, gb = _grads(tm.atan2, a, b)
    assert ga.tolist() == [0.0, pytest.approx(0.16)] and gb.tolist() == [0.0, -0.12]
    ga, gb = _grads(tm.hypot, a, b)
    assert math.isnan(ga.tolist()[0]) and ga.tolist()[1] == pytest.approx(0.6)
    ga, gb = _grads(tm.xlogy, _leaf([0.0, 3.0, 0.0]), _leaf([0.0, 4.0, 1.0]))
    assert ga.tolist() == [0.0, pytest.approx(math.log(4)), 0.0]
    assert math.isnan(gb.tolist()[0]) and gb.tolist()[1:] == [0.75, 0.0]
    (g,) = _grads(tm.sqrt, _leaf([0.0]))
    assert g.tolist() == [math.inf]


def test_nan_to_num_and_where_gradients():
    (g,) = _grads(tm.nan_to_num, _leaf([math.nan, math.inf, 1.0]))
    assert g.tolist() == [0.0, 0.0, 1.0]
    a, b = _leaf([1.0, 2.0]), _leaf([3.0])
    ga, gb = _grads(lambda x, y: tm.where(tm.tensor([True, False]), x, y), a, b)
    assert ga.tolist() == [1.0, 0.0] and gb.tolist() == [1.0]


def test_lerp_gradients():
    a, b, w = _leaf([0.0, 3.0]), _leaf([1.0, 4.0]), _leaf([0.2, 0.7])
    ga, gb, gw = _grads(tm.lerp, a, b, w)
    assert ga.tolist() == pytest.approx([0.8, 0.3]) and gb.tolist() == pytest.approx([0.2, 0.7])
    assert gw.tolist() == [1.0, 1.0]


def test_real_imag_gradients():
    z = tm.tensor([1 + 2j, -0.5 + 0.3j], requires_grad=True)
    (g,) = tm.autograd.grad((tm.real(z) * 2 + tm.imag(z) * 3).sum(), [z])
    assert g.tolist() == [2 + 3j, 2 + 3j]


def test_complex_gradients_follow_torch_conventions():
    z = tm.tensor([1 + 2j, -0.5 + 0.3j], dtype=tm.complex128, requires_grad=True)
    v = tm.tensor([0.3 - 0.7j, 1.1 + 0.2j], dtype=tm.complex128)
    zz = np.array([1 + 2j, -0.5 + 0.3j])
    (g,) = tm.autograd.grad(tm.sgn(z), [z], v)
    s = zz / np.abs(zz)
    expected = (v.numpy() - np.conj(v.numpy()) * s * s) / (2 * np.abs(zz))
    assert_close(g, tm.tensor(expected))
    (g,) = tm.autograd.grad(tm.angle(z), [z], tm.tensor([1.0, 2.0], dtype=tm.float64))
    assert_close(g, tm.tensor(np.array([1.0, 2.0]) * 1j * zz / np.abs(zz) ** 2))
    (g,) = tm.autograd.grad(tm.exp(z), [z], v)
    assert_close(g, tm.tensor(v.numpy() * np.conj(np.exp(zz))))


def test_angle_of_zero_has_zero_gradient():
    z = tm.tensor([0j], requires_grad=True)
    tm.angle(z).sum().backward()
    assert z.grad.tolist() == [0j]


@pytest.mark.parametrize("fn, name", [
    (tm.exp, "ExpBackward0"), (tm.log1p, "Log1PBackward0"), (tm.exp2, "Exp2Backward0"),
    (tm.square, "PowBackward0"), (tm.abs, "AbsBackward0"), (tm.arcsin, "AsinBackward0"),
    (tm.fix, "TruncBackward0"), (tm.deg2rad, "Deg2RadBackward0"),
    (lambda x: tm.round(x, decimals=2), "RoundBackward1"), (tm.round, "RoundBackward0"),
    (lambda x: tm.clamp(x, 0, 1), "ClampBackward1"),
    (lambda x: tm.clamp(x, tm.tensor(0.0)), "ClampBackward0"),
    (lambda x: tm.clamp_min(x, 0), "ClampMinBackward0"),
    (lambda x: tm.clamp_min(x, tm.tensor(0.0)), "ClampMinBackward1"),
    (lambda x: tm.clamp_max(x, 0), "ClampMaxBackward0"),
    (lambda x: tm.lerp(x, x, 0.5), "LerpBackward0"),
    (lambda x: tm.lerp(x, x, tm.tensor(0.5)), "LerpBackward1"),
    (lambda x: tm.xlogy(x, 2.0), "XlogyBackward2"), (lambda x: tm.xlogy(2.0, x),
                                                      "XlogyBackward1"),
    (lambda x: tm.polygamma(2, x), "PolygammaBackward0"),
    (lambda x: tm.maximum(x, x), "MaximumBackward0"),
    (lambda x: tm.where(x > 0, x, 0.0), "WhereBackward0"),
])
def test_node_names_match_torch(fn, name):
    assert fn(_leaf([0.5, 0.25])).grad_fn.name() == name


# -- in-place and out= -------------------------------------------------------------------------

def test_inplace_variants():
    x = tm.tensor([0.25, 4.0])
    assert x.sqrt_() is x and x.tolist() == [0.5, 2.0]
    x.clamp_(max=1.0).exp_()
    assert x.tolist() == pytest.approx([math.exp(0.5), math.e])
    y = tm.tensor([1.5, -2.5])
    y.round_(decimals=0)
    y.abs_()
    assert y.tolist() == [2.0, 2.0]
    z = tm.tensor([1.0, 2.0])
    z.polygamma_(1)
    assert z.tolist() == pytest.approx([math.pi ** 2 / 6, math.pi ** 2 / 6 - 1])
    assert hasattr(tm.Tensor, "arctan2_") and hasattr(tm.Tensor, "clip_")


def test_inplace_float_result_into_integer_tensor_fails():
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired "
                       "output type Long"):
        tm.tensor([1, 2]).sqrt_()
    with pytest.raises(RuntimeError, match="result type Float can't be cast"):
        tm.tensor([1, 2]).clamp_(min=0.5)


def test_inplace_gradient():
    a = _leaf([0.5, 1.0])
    b = a * 1
    b.exp_()
    b.sum().backward()
    assert_close(a.grad, tm.tensor([math.exp(0.5), math.e], dtype=tm.float64))


def test_inplace_after_save_is_detected():
    a = _leaf([0.5, 1.0])
    b = a * 1
    c = b.sin()
    b.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        c.sum().backward()


def test_out_argument():
    out = tm.empty(2)
    assert tm.exp(tm.tensor([0.0, 1.0]), out=out) is out
    assert out.tolist() == [1.0, pytest.approx(math.e)]
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type"):
        tm.sqrt(tm.tensor([1.0]), out=tm.empty(1, dtype=tm.int64))
    out = tm.empty(0)
    tm.clamp(tm.tensor([[1.0, 5.0]]), 0, 2, out=out)
    assert out.shape == (1, 2) and out.tolist() == [[1.0, 2.0]]


# -- errors --------------------------------------------------------------------------------------

def test_non_tensor_input():
    with pytest.raises(TypeError, match=r"exp\(\): argument 'input' \(position 1\) must be "
                       "Tensor, not int"):
        tm.exp(3)
    with pytest.raises(TypeError, match=r"maximum\(\): argument 'other' \(position 2\) must be "
                       "Tensor, not int"):
        tm.maximum(tm.tensor([1.0]), 1)
    with pytest.raises(TypeError, match="must be Tensor, not list"):
        tm.sqrt([1.0])


@pytest.mark.parametrize("call, error, message", [
    (lambda z: tm.erf(z), NotImplementedError, "\"erf\" not implemented for 'ComplexFloat'"),
    (lambda z: tm.lgamma(z), NotImplementedError, "not implemented for 'ComplexFloat'"),
    (lambda z: tm.floor(z), NotImplementedError, "floor is not supported for complex inputs"),
    (lambda z: tm.clamp(z, 0), RuntimeError, "clamp is not supported for complex types"),
    (lambda z: tm.maximum(z, z), RuntimeError, "maximum not implemented for complex tensors."),
    (lambda z: tm.deg2rad(z), RuntimeError, "deg2rad is not supported for complex tensors."),
    (lambda z: tm.atan2(z, z), NotImplementedError, "not implemented for 'ComplexFloat'"),
    (lambda z: tm.logit(z), NotImplementedError, "not implemented for 'ComplexFloat'"),
])
def test_complex_unsupported(call, error, message):
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        call(tm.tensor([1 + 1j]))


def test_error_messages():
    x = tm.tensor([1.0])
    with pytest.raises(RuntimeError, match="torch.clamp: At least one of 'min' or 'max' must "
                       "not be None"):
        tm.clamp(x)
    with pytest.raises(RuntimeError, match=r"polygamma\(n, x\) does not support negative n."):
        tm.polygamma(-1, x)
    with pytest.raises(RuntimeError, match="expected dtype float for `end` but got dtype "
                       "double"):
        tm.lerp(x, x.double(), 0.5)
    with pytest.raises(RuntimeError, match="expected dtype float for `weight` but got dtype "
                       "double"):
        tm.lerp(tm.ones(2), tm.ones(2), tm.ones(2, dtype=tm.float64))
    with pytest.raises(NotImplementedError, match="not implemented for 'Long'"):
        tm.lerp(tm.tensor([1]), tm.tensor([2]), 0.5)
    with pytest.raises(RuntimeError, match="Integer division with addcdiv is no longer "
                       "supported"):
        tm.addcdiv(tm.tensor([1.0]), tm.tensor([1]), tm.tensor([2]))
    with pytest.raises(NotImplementedError, match="not implemented for 'Long'"):
        tm.round(tm.tensor([1]), decimals=1)
    with pytest.raises(NotImplementedError, match="not implemented for 'Long'"):
        tm.hypot(tm.tensor([1]), tm.tensor([1]))
    with pytest.raises(TypeError, match=r"xlogy\(\) received an invalid combination"):
        tm.xlogy(2, 3)
    with pytest.raises(RuntimeError, match=r"The size of tensor a \(2\) must match the size of "
                       r"tensor b \(3\) at non-singleton dimension 0"):
        tm.maximum(tm.ones(2), tm.ones(3))
    with pytest.raises(RuntimeError, match="must match the size"):
        tm.where(tm.tensor([True, False]), tm.ones(3), 0.0)


# -- broadcasting properties ------------------------------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

_VALUES = st.floats(-4, 4, allow_nan=False, width=64)


@st.composite
def _broadcastable(draw, n):
    """n float64 arrays of mutually broadcastable random shapes, and the result shape."""
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=n, max_dims=4, max_side=3))
    arrays = [draw(hnp.arrays(np.float64, s, elements=_VALUES)) for s in shapes.input_shapes]
    return arrays, shapes.result_shape


def _sum_to(g, shape):
    """NumPy reference for undoing broadcasting."""
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    for i, s in enumerate(shape):
        if s == 1 and g.shape[i] != 1:
            g = g.sum(axis=i, keepdims=True)
    return g


BINARY = {
    "add": np.add, "mul": np.multiply, "maximum": np.maximum, "minimum": np.minimum,
    "fmax": np.fmax, "fmin": np.fmin, "atan2": np.arctan2, "hypot": np.hypot,
}


@settings(max_examples=40)
@given(data=_broadcastable(2), name=st.sampled_from(sorted(BINARY)))
def test_binary_broadcasting_matches_numpy(data, name):
    (a, b), shape = data
    ta, tb = tm.tensor(a, requires_grad=True), tm.tensor(b, requires_grad=True)
    out = getattr(tm, name)(ta, tb)
    assert out.shape == shape
    assert_close(out, np.asarray(BINARY[name](a, b)), rtol=1e-12, atol=1e-12)
    out.sum().backward()
    assert ta.grad.shape == ta.shape and tb.grad.shape == tb.shape


@settings(max_examples=30)
@given(data=_broadcastable(2))
def test_mul_gradient_undoes_broadcasting(data):
    (a, b), shape = data
    ta, tb = tm.tensor(a, requires_grad=True), tm.tensor(b, requires_grad=True)
    (ta * tb).sum().backward()
    assert_close(ta.grad, _sum_to(np.broadcast_to(b, shape), a.shape), rtol=1e-12, atol=1e-12)
    assert_close(tb.grad, _sum_to(np.broadcast_to(a, shape), b.shape), rtol=1e-12, atol=1e-12)


@settings(max_examples=30)
@given(data=_broadcastable(3), name=st.sampled_from(["where", "lerp", "addcmul", "clamp"]))
def test_ternary_broadcasting_matches_numpy(data, name):
    (a, b, c), shape = data
    t = [tm.tensor(v, requires_grad=True) for v in (a, b, c)]
    if name == "where":
        out, expected = tm.where(t[0].detach() > 0, t[1], t[2]), np.where(a > 0, b, c)
    elif name == "lerp":
        out, expected = tm.lerp(t[0], t[1], t[2]), a + c * (b - a)
    elif name == "addcmul":
        out, expected = tm.addcmul(t[0], t[1], t[2], value=0.5), a + 0.5 * b * c
    else:
        out, expected = tm.clamp(t[0], t[1], t[2]), np.minimum(np.maximum(a, b), c)
    assert out.shape == shape
    assert_close(out, np.asarray(expected, dtype=np.float64), rtol=1e-12, atol=1e-12)
    out.sum().backward()
    for x in t:
        assert x.grad is None or x.grad.shape == x.shape


def test_xlogy_gradient_in_x_is_zeroed_only_where_y_is_not_positive():
    x = tm.zeros(4, dtype=tm.float64, requires_grad=True)
    y = tm.tensor([3.0, 0.0, -1.0, 0.5], dtype=tm.float64)
    tm.xlogy(x, y).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [np.log(3.0), 0.0, 0.0, np.log(0.5)])
    x.grad = None
    tm.xlogy(x, 2.0).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [np.log(2.0)] * 4)
