"""Arithmetic ops: harness-generated checks plus promotion, in-place and error behaviour."""

import numpy as np
import pytest
from op_cases.arithmetic import CASES

import taimatsu as tm
from taimatsu.testing import assert_close, generate_tests

globals().update(generate_tests(CASES))


@pytest.mark.parametrize("a, b, expected", [
    (tm.tensor([1, 2]), 2.5, tm.float32),               # int tensor + float -> default float
    (tm.tensor([1, 2], dtype=tm.int32), 3, tm.int32),   # python int keeps the tensor's int
    (tm.tensor([1.0], dtype=tm.float16), tm.tensor(2.0, dtype=tm.float64), tm.float16),
    (tm.tensor([True]), tm.tensor([2], dtype=tm.uint8), tm.uint8),
    (tm.tensor([1], dtype=tm.uint8), tm.tensor([1], dtype=tm.int8), tm.int16),
    (tm.tensor([1.0]), tm.tensor([1.0], dtype=tm.float64), tm.float64),
    (tm.tensor([1.0]), 1j, tm.complex64),
    (tm.tensor(1), tm.tensor([1.0], dtype=tm.float16), tm.float16),
])
def test_promotion(a, b, expected):
    assert (a + b).dtype is expected
    assert (a * b).dtype is expected


def test_int_true_division_gives_default_float():
    out = tm.tensor([1, 2, 3]) / tm.tensor([2, 2, 2])
    assert out.dtype is tm.float32
    assert_close(out, tm.tensor([0.5, 1.0, 1.5]))


def test_broadcast_error_message():
    with pytest.raises(RuntimeError, match=r"The size of tensor a \(2\) must match the size "
                       r"of tensor b \(4\) at non-singleton dimension 0"):
        tm.ones(2) + tm.ones(4)


def test_inplace_add_shares_memory_and_bumps_version():
    arr = np.zeros(3, dtype=np.float32)
    t = tm.from_numpy(arr)
    t.add_(2)
    t += 1
    assert arr.tolist() == [3.0, 3.0, 3.0]
    assert t._version == 2


def test_inplace_result_dtype_cannot_be_cast():
    t = tm.tensor([1, 2])
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired "
                       "output type Long"):
        t.add_(1.5)


def test_inplace_broadcast_must_fit_self():
    with pytest.raises(RuntimeError, match=r"output with shape \[3\] doesn't match the "
                       r"broadcast shape \[2, 3\]"):
        tm.ones(3).add_(tm.ones(2, 3))


def test_inplace_on_leaf_requiring_grad_is_refused():
    x = tm.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being "
                       "used in an in-place operation."):
        x.mul_(2)
    with tm.no_grad():
        x.mul_(2)
    assert x.tolist() == [2.0, 2.0]


def test_inplace_mul_keeps_original_for_other_gradient():
    x = tm.tensor([1.0, 2.0], requires_grad=True)
    w = tm.tensor([3.0, 4.0], requires_grad=True)
    y = x * 1
    y.mul_(w)
    y.sum().backward()
    assert w.grad.tolist() == [1.0, 2.0]
    assert x.grad.tolist() == [3.0, 4.0]


def test_out_argument():
    out = tm.empty(3)
    res = tm.add(tm.ones(3), 1, out=out)
    assert res is out and out.tolist() == [2.0, 2.0, 2.0]


def test_bool_subtraction_and_negation_errors():
    b = tm.tensor([True, False])
    with pytest.raises(RuntimeError, match="Subtraction, the `-` operator, with two bool"):
        _ = b - b
    with pytest.raises(RuntimeError, match="Negation, the `-` operator, on a bool tensor"):
        _ = -b


def test_integer_division_by_zero():
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        tm.tensor([1, 2]) // 0


def test_reflected_operators():
    x = tm.tensor([1.0, 2.0])
    assert (2 - x).tolist() == [1.0, 0.0]
    assert (2 / x).tolist() == [2.0, 1.0]
    assert (2 ** x).tolist() == [2.0, 4.0]
    assert (np.float32(3) * x).tolist() == [3.0, 6.0]


def test_tutorial_gradient():
    x = tm.ones(2, 2, requires_grad=True)
    out = (3 * (x + 2) ** 2).sum() / 4
    out.backward()
    assert_close(x.grad, tm.full((2, 2), 4.5))


def test_scalar_divided_by_tensor_double_backward():
    x = tm.tensor([1.5, -2.0], dtype=tm.float64, requires_grad=True)
    (g,) = tm.autograd.grad((3.14 / x).sum(), x, create_graph=True)
    g.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * 3.14 / x.detach().numpy() ** 3)
