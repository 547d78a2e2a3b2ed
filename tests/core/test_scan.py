"""Tests for ops/scan.py: generated op cases plus edge cases and torch's messages."""

import math

import numpy as np
import pytest
from op_cases.scan import CASES

import taimatsu as tm
from taimatsu.testing import assert_close, generate_tests

globals().update(generate_tests(CASES))


def _leaf(values):
    return tm.tensor(values, dtype=tm.float64, requires_grad=True)


def test_cumsum_dtypes():
    assert tm.tensor([1, 2], dtype=tm.int32).cumsum(0).dtype is tm.int64
    assert tm.tensor([True, True]).cumsum(0).tolist() == [1, 2]
    assert tm.tensor([1.0, 2.0]).cumsum(0, dtype=tm.float64).dtype is tm.float64
    assert tm.tensor([1, 2], dtype=tm.uint8).cumprod(0).dtype is tm.int64


def test_cumsum_backward_is_reverse_cumsum():
    x = _leaf([1.0, 2.0, 3.0])
    x.cumsum(0).backward(tm.tensor([1.0, 10.0, 100.0], dtype=tm.float64))
    assert x.grad.tolist() == [111.0, 110.0, 100.0]
    assert x.cumsum(0).grad_fn.name() == "CumsumBackward0"


@pytest.mark.parametrize("values", [
    [2.0, 3.0, 4.0], [2.0, 0.0, 4.0, 5.0], [0.0, 3.0, 0.0, 2.0], [0.0, 0.0], [3.0, 2.0, 0.0],
])
def test_cumprod_gradient_with_zeros(values):
    x = _leaf(values)
    seed = np.arange(1.0, len(values) + 1)
    x.cumprod(0).backward(tm.tensor(seed))
    # d out_j / d x_i = prod_{k <= j, k != i} x_k for j >= i
    expected = [sum(seed[j] * math.prod(values[k] for k in range(j + 1) if k != i)
                    for j in range(i, len(values))) for i in range(len(values))]
    assert_close(x.grad, np.array(expected))


def test_cummax_ties_take_latest_index():
    out = tm.tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]]).cummax(1)
    assert isinstance(out, tm.return_types.cummax)
    assert out.values.tolist() == [[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]]
    assert out.indices.tolist() == [[0, 1, 2], [0, 1, 1]]
    assert tm.tensor([2.0, 2.0, 0.0]).cummin(0).indices.tolist() == [0, 1, 2]


def test_cummax_nan_sticks():
    nan = math.nan
    out = tm.tensor([1.0, nan, 3.0, nan, 0.0]).cummax(0)
    assert out.indices.tolist() == [0, 1, 1, 3, 3]
    assert np.isnan(out.values.numpy()[1:]).all()


def test_cummax_gradient_accumulates_on_running_max():
    x = _leaf([1.0, 3.0, 2.0, 5.0])
    x.cummax(0).values.sum().backward()
    assert x.grad.tolist() == [1.0, 2.0, 0.0, 1.0]


def test_scans_of_zero_dim_and_empty():
    x = tm.tensor(2.0)
    assert x.cumsum(0).item() == 2.0
    assert x.cummin(0).indices.item() == 0
    assert x.logcumsumexp(-1).item() == 2.0
    assert tm.zeros(0).cumprod(0).shape == (0,)
    assert tm.zeros(0).cummax(0).indices.dtype is tm.int64


def test_scan_dim_errors():
    with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range "
                       r"of \[-2, 1\], but got 2\)"):
        tm.ones(2, 3).cumsum(2)
    with pytest.raises(TypeError):
        tm.cumsum(tm.ones(3))  # dim is required, as in torch


def test_logcumsumexp_stable_and_infinite():
    inf = math.inf
    x = tm.tensor([1000.0, 1000.0, -inf], dtype=tm.float64)
    assert_close(x.logcumsumexp(0), np.array([1000.0, 1000 + math.log(2), 1000 + math.log(2)]))
    y = _leaf([-inf, -inf, 1.0])
    out = y.logcumsumexp(0)
    assert out.tolist() == [-inf, -inf, 1.0]
    out.sum().backward()
    assert y.grad.tolist() == [0.0, 0.0, 1.0]


def test_logcumsumexp_rejects_integers():
    with pytest.raises(NotImplementedError, match="not implemented for 'Long'"):
        tm.tensor([1, 2]).logcumsumexp(0)


def test_inplace_cumsum():
    x = tm.tensor([1.0, 2.0, 3.0])
    assert x.cumsum_(0) is x
    assert x.tolist() == [1.0, 3.0, 6.0]


def test_scans_on_device(device):
    x = tm.tensor([[1.0, 2.0], [3.0, 0.5]], device=device, requires_grad=True)
    y = x.cumsum(1) + x.cumprod(0) + x.cummax(1).values + x.logcumsumexp(0)
    y.sum().backward()
    assert x.grad.device.type == device
