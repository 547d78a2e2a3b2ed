"""Comparison, predicate, logical and bitwise ops: generated cases plus operators, dtypes,
in-place variants and error messages."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from op_cases.comparison import CASES

import taimatsu as tm
from taimatsu.testing import generate_tests

globals().update(generate_tests(CASES))


# -- operators -----------------------------------------------------------------------------------

def test_comparison_operators_and_reflections():
    t = tm.tensor([1.0, 2.0, 3.0])
    assert (t == 2).tolist() == [False, True, False]
    assert (t != 2).tolist() == [True, False, True]
    assert (t < 2).tolist() == [True, False, False]
    assert (t <= 2).tolist() == [True, True, False]
    assert (t > 2).tolist() == [False, False, True]
    assert (t >= 2).tolist() == [False, True, True]
    assert (2 < t).tolist() == [False, False, True]      # reflected through __gt__
    assert (2 == t).tolist() == [False, True, False]
    assert (2.5 >= t).tolist() == [True, True, False]
    assert (t == tm.tensor([[1.0], [3.0]])).shape == (2, 3)
    assert (t == np.float64(2.0)).tolist() == [False, True, False]
    assert (t < np.array([2.0, 2.0, 2.0])).tolist() == [True, False, False]
    assert (t == t).dtype is tm.bool


def test_equality_with_unrelated_objects_is_false_and_ordering_raises():
    t = tm.tensor([1.0])
    assert (t == None) is False  # noqa: E711
    assert (t != "a") is True
    assert (t == [1.0]) is False
    with pytest.raises(TypeError):
        t < None  # noqa: B015


def test_hash_stays_identity_based():
    a, b = tm.tensor([1.0]), tm.tensor([1.0])
    assert hash(a) == hash(a) and hash(a) != hash(b)
    d = {a: "a", b: "b"}
    assert d[a] == "a" and d[b] == "b" and len({a, b, a}) == 2
    assert a in [a] and b in {b}


def test_comparison_promotion():
    i = tm.tensor([1, 2, 3])
    assert (i < 1.5).tolist() == [True, False, False]                 # compared as floats
    assert (i == tm.tensor([1.0, 2.5, 3.0])).tolist() == [True, False, True]
    assert (tm.tensor([255], dtype=tm.uint8) == -1).tolist() == [True]   # -1 wraps to 255
    # 0.1 is rounded to the tensor's dtype first, as in PyTorch
    assert (tm.tensor([0.1], dtype=tm.bfloat16) == 0.1).tolist() == [True]
    assert (tm.tensor([0.1], dtype=tm.float16) == 0.1).tolist() == [True]
    assert (tm.tensor([0.1], dtype=tm.float64) == tm.tensor([0.1])).tolist() == [False]
    assert (tm.tensor([True, False]) == 1).tolist() == [True, False]
    assert (tm.tensor([1 + 1j]) == 1 + 1j).tolist() == [True]


def test_nan_comparisons():
    n = tm.tensor([math.nan])
    assert (n == n).tolist() == [False] and (n != n).tolist() == [True]
    assert (n < 1).tolist() == [False] and (n >= 1).tolist() == [False]


def test_bitwise_operators():
    i = tm.tensor([1, 2, 3])
    assert (i & 1).tolist() == [1, 0, 1]
    assert (1 & i).tolist() == [1, 0, 1]
    assert (i | 4).tolist() == [5, 6, 7]
    assert (4 | i).tolist() == [5, 6, 7]
    assert (i ^ tm.tensor([3])).tolist() == [2, 1, 0]
    assert (3 ^ i).tolist() == [2, 1, 0]
    assert (~i).tolist() == [-2, -3, -4]
    assert (i << 2).tolist() == [4, 8, 12] and (1 << i).tolist() == [2, 4, 8]
    assert (i >> 1).tolist() == [0, 1, 1] and (16 >> i).tolist() == [8, 4, 2]
    b = tm.tensor([True, False])
    assert (b & True).dtype is tm.bool and (b & 1).dtype is tm.int64
    assert (~b).tolist() == [False, True]
    assert (b | tm.tensor([False, False])).tolist() == [True, False]


def test_inplace_bitwise_operators():
    i = tm.tensor([1, 2, 3])
    same = i
    i &= 1
    i |= 4
    i ^= 1
    i <<= 1
    i >>= 2
    assert i is same and i.tolist() == [2, 2, 2]
    b = tm.tensor([True, False])
    b |= tm.tensor([False, True])
    assert b.tolist() == [True, True]


def test_shift_amounts_out_of_range():
    x = tm.tensor([1, -1, 8, -8])
    assert tm.bitwise_left_shift(x, tm.tensor([64, 70, -1, -2])).tolist() == [0, 0, 0, 0]
    assert tm.bitwise_right_shift(x, tm.tensor([64, 70, -1, -2])).tolist() == [0, -1, 0, -1]
    assert tm.bitwise_left_shift(tm.tensor([1, 64], dtype=tm.int8), 1).tolist() == [2, -128]
    assert tm.bitwise_left_shift(tm.tensor([1], dtype=tm.uint8), 9).tolist() == [0]
    assert tm.bitwise_right_shift(tm.tensor([255], dtype=tm.uint8), 9).tolist() == [0]
    assert tm.bitwise_left_shift(tm.tensor([1], dtype=tm.int32), 3).dtype is tm.int32


def test_bitwise_ops_refuse_floats():
    f = tm.tensor([1.0])
    with pytest.raises(NotImplementedError, match="\"bitwise_and_cpu\" not implemented for "
                       "'Float'"):
        _ = f & 1
    with pytest.raises(NotImplementedError, match="\"bitwise_and_cpu\" not implemented for "
                       "'Float'"):
        _ = tm.tensor([1]) & 1.5
    with pytest.raises(NotImplementedError, match="\"lshift_cpu\" not implemented for 'Float'"):
        _ = f << 1
    with pytest.raises(NotImplementedError, match="\"lshift_cpu\" not implemented for 'Bool'"):
        _ = tm.tensor([True]) << tm.tensor([True])
    assert (tm.tensor([True]) << 1).tolist() == [2]       # bool with int promotes to int64
    with pytest.raises(NotImplementedError, match="\"bitwise_not_cpu\" not implemented for "
                       "'Float'"):
        tm.bitwise_not(f)
    with pytest.raises(TypeError, match=r"~ \(operator.invert\) is only implemented on integer "
                       "and Boolean-type tensors"):
        _ = ~f


# -- comparison functions --------------------------------------------------------------------

def test_function_forms_and_aliases():
    a, b = tm.tensor([1, 2, 3]), tm.tensor([2, 2, 2])
    assert tm.lt(a, b).tolist() == tm.less(a, b).tolist() == [True, False, False]
    assert tm.ge(a, b).tolist() == tm.greater_equal(a, b).tolist() == [False, True, True]
    assert tm.ne(a, b).tolist() == tm.not_equal(a, b).tolist() == [True, False, True]
    assert a.le(2).tolist() == a.less_equal(2).tolist() == [True, True, False]
    assert a.gt(b).tolist() == a.greater(b).tolist() == [False, False, True]
    assert a.eq(b).tolist() == [False, True, False]


def test_comparison_out_and_inplace():
    out = tm.empty(2)
    tm.eq(tm.tensor([1.0, 0.0]), tm.tensor([1.0, 2.0]), out=out)
    assert out.dtype is tm.float32 and out.tolist() == [1.0, 0.0]
    x = tm.tensor([1.0, 0.0])
    assert x.lt_(0.5) is x and x.tolist() == [0.0, 1.0]
    y = tm.tensor([3, 1])
    y.ge_(2)
    assert y.dtype is tm.int64 and y.tolist() == [1, 0]
    tm.tensor([1.0]).less_equal_(1.0)
    with pytest.raises(RuntimeError, match=r"output with shape \[2\] doesn't match the "
                       r"broadcast shape \[2, 2\]"):
        tm.tensor([1.0, 0.0]).lt_(tm.tensor([[0.5], [0.5]]))


def test_comparison_errors():
    with pytest.raises(RuntimeError, match=r"The size of tensor a \(2\) must match the size of "
                       r"tensor b \(3\) at non-singleton dimension 0"):
        _ = tm.tensor([1, 2]) == tm.tensor([1, 2, 3])
    with pytest.raises(TypeError, match=r"eq\(\): argument 'input' \(position 1\) must be "
                       "Tensor, not int"):
        tm.eq(1, tm.tensor([1]))
    with pytest.raises(TypeError, match=r"eq\(\): argument 'other' \(position 2\) must be "
                       "Tensor or Number, not list"):
        tm.eq(tm.tensor([1]), [1])
    with pytest.raises(NotImplementedError, match="\"lt_cpu\" not implemented for "
                       "'ComplexFloat'"):
        _ = tm.tensor([1j]) < tm.tensor([1j])


def test_comparisons_do_not_record_graphs():
    x = tm.tensor([1.0, 2.0], requires_grad=True)
    out = x > 1
    assert not out.requires_grad and out.grad_fn is None


# -- predicates ------------------------------------------------------------------------------

def test_predicates_on_integers_and_bools():
    i = tm.tensor([1, -2], dtype=tm.int32)
    assert tm.isnan(i).tolist() == [False, False]
    assert tm.isinf(i).tolist() == [False, False]
    assert tm.isfinite(i).tolist() == [True, True]
    assert tm.isposinf(i).tolist() == [False, False]
    assert tm.isreal(i).tolist() == [True, True]
    assert tm.signbit(i).tolist() == [False, True]
    assert tm.signbit(tm.tensor([3], dtype=tm.uint8)).tolist() == [False]
    assert tm.signbit(tm.tensor([True])).tolist() == [False]
    assert i.isnan().dtype is tm.bool


def test_predicates_on_half_precision():
    for dt in (tm.float16, tm.bfloat16):
        x = tm.tensor([math.nan, math.inf, -math.inf, -0.0], dtype=dt)
        assert tm.isnan(x).tolist() == [True, False, False, False]
        assert tm.isposinf(x).tolist() == [False, True, False, False]
        assert tm.isneginf(x).tolist() == [False, False, True, False]
        assert tm.isfinite(x).tolist() == [False, False, False, True]
        assert tm.signbit(x).tolist() == [False, False, True, True]


def test_complex_predicates():
    z = tm.tensor([complex(math.inf, 0), complex(0, math.nan), 1 + 0j])
    assert tm.isinf(z).tolist() == [True, False, False]
    assert tm.isnan(z).tolist() == [False, True, False]
    assert tm.isfinite(z).tolist() == [False, False, True]
    assert tm.isreal(z).tolist() == [True, False, True]
    with pytest.raises(RuntimeError, match="isposinf does not support complex inputs."):
        tm.isposinf(z)
    with pytest.raises(NotImplementedError, match="signbit is not implemented for complex "
                       "tensors."):
        tm.signbit(z)


def test_isclose_semantics():
    a = tm.tensor([1.0, math.inf, -math.inf, math.nan, 1.0, 1e-9])
    b = tm.tensor([1.0 + 1e-6, math.inf, math.inf, math.nan, math.inf, 0.0])
    assert tm.isclose(a, b).tolist() == [True, True, False, False, False, True]
    assert tm.isclose(a, b, equal_nan=True).tolist()[3] is True
    assert tm.isclose(a, b, rtol=0, atol=0).tolist()[0] is False
    assert tm.isclose(tm.tensor([100, 2]), tm.tensor([101, 3]), rtol=0.01, atol=0).tolist() \
        == [True, False]
    assert tm.isclose(tm.tensor([True]), tm.tensor([True])).tolist() == [True]
    assert tm.isclose(tm.tensor([1 + 1j]), tm.tensor([1 + 1.000001j])).tolist() == [True]


def test_isclose_errors():
    with pytest.raises(RuntimeError, match="Float did not match Double"):
        tm.isclose(tm.tensor([1.0]), tm.tensor([1.0], dtype=tm.float64))
    with pytest.raises(RuntimeError, match="rtol must be greater than or equal to zero, but "
                       "got -1"):
        tm.isclose(tm.tensor([1.0]), tm.tensor([1.0]), rtol=-1)
    with pytest.raises(RuntimeError, match="atol must be greater than or equal to zero"):
        tm.allclose(tm.tensor([1.0]), tm.tensor([1.0]), atol=-1.0)
    with pytest.raises(TypeError, match=r"isclose\(\): argument 'other' \(position 2\) must be "
                       "Tensor, not float"):
        tm.isclose(tm.tensor([1.0]), 1.0)


def test_allclose_and_equal():
    a = tm.tensor([1.0, 2.0])
    assert tm.allclose(a, a + 1e-7) is True
    assert tm.allclose(a, a + 1e-3) is False
    assert a.allclose(a) is True
    assert tm.equal(a, tm.tensor([1, 2])) is True        # compared after promotion
    assert tm.equal(a, tm.tensor([1.0, 2.0, 3.0])) is False
    assert tm.equal(tm.tensor([[1.0]]), tm.tensor([1.0])) is False   # no broadcasting
    assert tm.equal(tm.tensor([math.nan]), tm.tensor([math.nan])) is False
    assert a.equal(a.clone()) is True


# -- logical ops -------------------------------------------------------------------------------

def test_logical_ops():
    a, b = tm.tensor([1.0, 0.0, 2.0]), tm.tensor([[3.0, 3.0, 0.0]])
    assert tm.logical_and(a, b).tolist() == [[True, False, False]]
    assert tm.logical_or(a, b).tolist() == [[True, True, True]]
    assert tm.logical_xor(a, b).tolist() == [[False, True, True]]
    assert tm.logical_not(a).tolist() == [False, True, False]
    z = tm.tensor([0j, 1j])
    assert tm.logical_not(z).tolist() == [True, False]
    assert tm.logical_and(tm.tensor([1.0], dtype=tm.bfloat16), tm.tensor([2])).tolist() == [
        True]
    out = tm.empty(3)
    tm.logical_or(a, a, out=out)
    assert out.tolist() == [1.0, 0.0, 1.0]
    x = tm.tensor([1.0, 0.0])
    x.logical_and_(tm.tensor([1.0, 1.0]))
    x.logical_not_()
    assert x.tolist() == [0.0, 1.0]
    with pytest.raises(TypeError, match=r"logical_and\(\): argument 'other' \(position 2\) "
                       "must be Tensor, not int"):
        tm.logical_and(a, 1)


# -- broadcasting properties --------------------------------------------------------------

_VALUES = st.integers(-3, 3).map(float)


@st.composite
def _broadcastable_pair(draw, dtype=np.float64, elements=_VALUES):
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=4, max_side=3))
    a, b = (draw(hnp.arrays(dtype, s, elements=elements)) for s in shapes.input_shapes)
    return a, b, shapes.result_shape


COMPARISONS = {"eq": np.equal, "ne": np.not_equal, "lt": np.less, "le": np.less_equal,
               "gt": np.greater, "ge": np.greater_equal, "logical_and": np.logical_and,
               "logical_xor": np.logical_xor, "isclose": np.isclose}


@settings(max_examples=40)
@given(data=_broadcastable_pair(), name=st.sampled_from(sorted(COMPARISONS)))
def test_comparison_broadcasting_matches_numpy(data, name):
    a, b, shape = data
    out = getattr(tm, name)(tm.tensor(a), tm.tensor(b))
    assert out.shape == shape and out.dtype is tm.bool
    assert out.numpy().tolist() == np.asarray(COMPARISONS[name](a, b)).tolist()


@settings(max_examples=30)
@given(data=_broadcastable_pair(np.int64, st.integers(-100, 100)),
       name=st.sampled_from(["bitwise_and", "bitwise_or", "bitwise_xor"]))
def test_bitwise_broadcasting_matches_numpy(data, name):
    a, b, shape = data
    out = getattr(tm, name)(tm.tensor(a), tm.tensor(b))
    assert out.shape == shape
    assert out.numpy().tolist() == getattr(np, name)(a, b).tolist()
