"""Tests for ops/join.py: generated op cases plus edge cases and torch's error messages."""

import builtins

import numpy as np
import pytest
from op_cases.join import CASES, ERRORS

import taimatsu as tm
from taimatsu.testing import generate_tests

globals().update(generate_tests(CASES))


@pytest.mark.parametrize("call, exc, message", [e[1:] for e in ERRORS],
                         ids=[e[0] for e in ERRORS])
def test_error_messages(call, exc, message):
    with pytest.raises(getattr(builtins, exc)) as info:
        call(tm)
    assert str(info.value) == message


@pytest.mark.parametrize("dtypes, expected", [
    ((tm.int64, tm.float16), tm.float16),
    ((tm.bool, tm.uint8), tm.uint8),
    ((tm.int8, tm.uint8), tm.int16),
    ((tm.float32, tm.complex64), tm.complex64),
    ((tm.int32, tm.int64, tm.float32), tm.float32),
])
def test_cat_and_stack_promote_across_inputs(dtypes, expected):
    tensors = [tm.zeros(2, dtype=d) for d in dtypes]
    assert tm.cat(tensors).dtype is expected
    assert tm.stack(tensors).dtype is expected


def test_cat_skips_empty_1d_tensors_but_promotes_with_them():
    x = tm.ones(2, 3)
    out = tm.cat([tm.zeros(0, dtype=tm.float64), x, tm.zeros(0)], 1)
    assert out.shape == (2, 3) and out.dtype is tm.float64
    assert tm.cat([tm.zeros(0), tm.zeros(0)]).shape == (0,)
    assert tm.cat([tm.zeros(0, 3), x]).shape == (2, 3)  # 2-D empty tensors are not skipped


def test_cat_gives_skipped_inputs_an_empty_gradient():
    empty = tm.zeros(0, requires_grad=True)
    x = tm.ones(2, 3, requires_grad=True)
    tm.cat([empty, x], 1).sum().backward()
    assert empty.grad.shape == (0,)
    np.testing.assert_array_equal(x.grad.numpy(), np.ones((2, 3)))


def test_cat_of_one_tensor_is_a_copy():
    x = tm.zeros(3)
    out = tm.cat([x])
    x.add_(1)
    assert out.tolist() == [0.0, 0.0, 0.0]


def test_cat_accepts_tuples_and_its_aliases():
    x = tm.ones(2)
    assert tm.cat((x, x)).shape == (4,)
    assert tm.concat([x, x], dim=0).shape == (4,)
    assert tm.concatenate([x, x], -1).shape == (4,)


def test_out_argument():
    out = tm.empty(0)
    result = tm.cat([tm.ones(2), tm.zeros(1)], out=out)
    assert result is out and out.tolist() == [1.0, 1.0, 0.0]
    out = tm.empty(2, 2)
    tm.stack([tm.ones(2), tm.zeros(2)], out=out)
    assert out.tolist() == [[1.0, 1.0], [0.0, 0.0]]


def test_stack_gradients_unstack():
    a = tm.tensor([1.0, 2.0], requires_grad=True)
    b = tm.tensor([3.0, 4.0], requires_grad=True)
    y = tm.stack([a, b], 1)
    (y * tm.tensor([[1.0, 10.0], [2.0, 20.0]])).sum().backward()
    assert a.grad.tolist() == [1.0, 2.0] and b.grad.tolist() == [10.0, 20.0]


def test_cat_gradient_only_for_inputs_that_require_it():
    a = tm.ones(2, requires_grad=True)
    b = tm.ones(3)
    tm.cat([a, b]).sum().backward()
    assert a.grad.tolist() == [1.0, 1.0] and b.grad is None


def test_stacks_of_scalars_and_vectors():
    assert tm.hstack([tm.tensor(1.0), tm.tensor(2.0)]).tolist() == [1.0, 2.0]
    assert tm.vstack([tm.zeros(3), tm.zeros(3)]).shape == (2, 3)
    assert tm.row_stack([tm.zeros(3), tm.zeros(1, 3)]).shape == (2, 3)
    assert tm.dstack([tm.zeros(2), tm.zeros(2)]).shape == (1, 2, 2)
    assert tm.column_stack([tm.zeros(2), tm.zeros(2, 3)]).shape == (2, 4)
