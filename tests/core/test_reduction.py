"""Tests for ops/reduction.py: generated op cases plus edge cases and torch's messages."""

import math
import pickle

import numpy as np
import pytest
from op_cases.reduction import CASES

import taimatsu as tm
from taimatsu.testing import assert_close, generate_tests

globals().update(generate_tests(CASES))


def _leaf(values, dtype=tm.float64):
    return tm.tensor(values, dtype=dtype, requires_grad=True)


# -- sum / mean ---------------------------------------------------------------------------

def test_sum_dtypes_follow_torch():
    assert tm.tensor([1, 2], dtype=tm.int32).sum().dtype is tm.int64
    assert tm.tensor([True, True, False]).sum().item() == 2
    assert tm.tensor([True]).sum().dtype is tm.int64
    assert tm.tensor([1.0], dtype=tm.float16).sum().dtype is tm.float16
    assert tm.tensor([1, 2]).sum(dtype=tm.float32).dtype is tm.float32


def test_sum_of_half_accumulates_in_float32():
    x = tm.full((4096,), 0.1, dtype=tm.float16)
    assert abs(x.sum().item() - 409.6) < 0.5  # float16 accumulation would stall near 256


def test_sum_over_empty_list_of_dims_reduces_everything():
    x = tm.ones(2, 3)
    assert x.sum(dim=[]).item() == 6
    assert x.sum(dim=()).shape == ()


def test_sum_and_mean_node_names():
    x = _leaf([[1.0, 2.0], [3.0, 4.0]])
    assert x.sum().grad_fn.name() == "SumBackward0"
    assert x.sum(0).grad_fn.name() == "SumBackward1"
    assert x.mean().grad_fn.name() == "MeanBackward0"
    assert x.mean(dim=(0, 1)).grad_fn.name() == "MeanBackward1"


def test_sum_backward_to_input_dtype():
    x = tm.tensor([1.0, 2.0], requires_grad=True)
    x.sum(dtype=tm.float64).backward()
    assert x.grad.dtype is tm.float32
    assert x.grad.tolist() == [1.0, 1.0]


def test_mean_backward_and_keepdim():
    x = _leaf([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    y = x.mean(1, keepdim=True)
    assert y.shape == (2, 1)
    y.sum().backward()
    assert_close(x.grad, np.full((2, 3), 1 / 3))


def test_empty_reductions_follow_torch():
    assert tm.zeros(0).sum().item() == 0
    assert math.isnan(tm.zeros(0).mean().item())
    assert tm.zeros(0).prod().item() == 1
    assert tm.zeros(0, 3).sum(0).tolist() == [0.0, 0.0, 0.0]
    assert tm.zeros(0).all().item() is True
    assert tm.zeros(0).any().item() is False


def test_mean_of_integers_raises():
    with pytest.raises(RuntimeError, match="mean\\(\\): could not infer output dtype. Input "
                       "dtype must be either a floating point or complex dtype. Got: Long"):
        tm.tensor([1, 2]).mean()
    assert tm.tensor([1, 2]).mean(dtype=tm.float64).item() == 1.5
    with pytest.raises(RuntimeError, match="nanmean\\(\\): expected input to have floating"):
        tm.tensor([1, 2]).nanmean()


@pytest.mark.parametrize("fn", [tm.sum, tm.mean, tm.amax, tm.logsumexp, tm.std, tm.nansum])
def test_dim_out_of_range(fn):
    with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range "
                       r"of \[-2, 1\], but got 2\)"):
        fn(tm.ones(2, 3), 2)


def test_repeated_dims_raise():
    with pytest.raises(RuntimeError, match="dim 0 appears multiple times in the list of dims"):
        tm.ones(2, 3).sum((0, -2))


def test_zero_dim_tensor_accepts_dim_zero():
    x = tm.tensor(3.0)
    assert x.sum(0).item() == 3.0
    assert x.max(0).indices.item() == 0
    assert x.argmax(0).item() == 0
    assert x.std(0, correction=0).item() == 0.0


# -- nansum / nanmean ---------------------------------------------------------------------

def test_nan_reductions_skip_nans_in_gradient():
    x = _leaf([1.0, math.nan, 3.0])
    tm.nansum(x).backward()
    assert x.grad.tolist() == [1.0, 0.0, 1.0]
    x.grad = None
    tm.nanmean(x).backward()
    assert x.grad.tolist() == [0.5, 0.0, 0.5]
    assert math.isnan(tm.nanmean(tm.tensor([math.nan])).item())


# -- prod -------------------------------------------------------------------------------------

@pytest.mark.parametrize("values, expected", [
    ([2.0, 3.0, 4.0], [12.0, 8.0, 6.0]),
    ([2.0, 0.0, 4.0], [0.0, 8.0, 0.0]),
    ([0.0, 3.0, 0.0], [0.0, 0.0, 0.0]),
])
def test_prod_gradient_with_zeros(values, expected):
    x = _leaf(values)
    x.prod().backward()
    assert x.grad.tolist() == expected


def test_prod_dim_must_be_int():
    with pytest.raises(TypeError, match="prod"):
        tm.ones(2, 3).prod((0, 1))
    assert tm.ones(2, 3).prod(1).grad_fn is None
    assert _leaf([[1.0, 2.0]]).prod(1).grad_fn.name() == "ProdBackward1"


# -- max / min family ---------------------------------------------------------------------------

def test_max_returns_named_tuple():
    x = tm.tensor([[1.0, 5.0, 5.0], [7.0, 2.0, 7.0]])
    out = x.max(1)
    assert isinstance(out, tm.return_types.max)
    assert out.values.tolist() == [5.0, 7.0]
    assert out.indices.tolist() == [1, 0]  # the first of tied maxima, as torch
    values, indices = x.min(dim=0, keepdim=True)
    assert values.shape == (1, 3) and indices.tolist() == [[0, 1, 0]]
    assert repr(out).startswith("taimatsu.return_types.max(\nvalues=tensor(")


def test_return_types_pickle():
    out = tm.tensor([3.0, 1.0]).sort()
    back = pickle.loads(pickle.dumps(out))
    assert type(back) is tm.return_types.sort
    assert back.indices.tolist() == [1, 0]


def test_max_of_two_tensors_is_maximum():
    a, b = tm.tensor([1.0, 4.0]), tm.tensor([3.0, 2.0])
    assert tm.max(a, b).tolist() == [3.0, 4.0]
    assert a.min(b).tolist() == [1.0, 2.0]


def test_max_node_names():
    x = _leaf([1.0, 2.0])
    assert x.max().grad_fn.name() == "MaxBackward1"
    assert x.max(0).values.grad_fn.name() == "MaxBackward0"
    assert x.amin().grad_fn.name() == "AminBackward0"


def test_full_max_splits_gradient_among_ties():
    x = _leaf([[1.0, 3.0], [3.0, 3.0]])
    x.max().backward()
    assert_close(x.grad, np.array([[0.0, 1 / 3], [1 / 3, 1 / 3]]))
    x.grad = None
    x.amax(1).sum().backward()
    assert x.grad.tolist() == [[0.0, 1.0], [0.5, 0.5]]
    x.grad = None
    x.max(1).values.sum().backward()  # with dim: all of it to the returned index
    assert x.grad.tolist() == [[0.0, 1.0], [1.0, 0.0]]


def test_max_propagates_nan():
    x = tm.tensor([1.0, math.nan, 3.0])
    assert math.isnan(x.max().item())
    assert x.argmax().item() == 1
    assert x.max(0).indices.item() == 1


def test_empty_max_messages():
    with pytest.raises(RuntimeError, match=r"max\(\): Expected reduction dim to be specified "
                       r"for input.numel\(\) == 0. Specify the reduction dim with the 'dim' "
                       "argument."):
        tm.zeros(0).max()
    with pytest.raises(IndexError, match=r"max\(\): Expected reduction dim 0 to have non-zero "
                       "size."):
        tm.zeros(0, 3).max(0)
    with pytest.raises(RuntimeError, match=r"amin\(\): Expected reduction dim"):
        tm.zeros(0).amin()
    with pytest.raises(IndexError, match=r"argmax\(\): Expected reduction dim to be specified"):
        tm.zeros(0).argmax()
    with pytest.raises(RuntimeError, match="aminmax\\(\\): cannot compute aminmax over an "
                       "empty dimension"):
        tm.zeros(0).aminmax()
    assert tm.zeros(0, 3).max(1).values.shape == (0,)


def test_max_rejects_complex():
    with pytest.raises(RuntimeError, match=r"max\(\): does not support complex input"):
        tm.tensor([1 + 1j]).max(0)


def test_argmax_keepdim_without_dim():
    x = tm.tensor([[1.0, 9.0], [3.0, 4.0]])
    assert x.argmax().item() == 1
    assert x.argmax(keepdim=True).shape == (1, 1)
    assert x.argmin(0).tolist() == [0, 1]


def test_aminmax_fields():
    x = tm.tensor([[1.0, 9.0], [3.0, 4.0]])
    lo, hi = tm.aminmax(x, dim=0)
    assert lo.tolist() == [1.0, 4.0] and hi.tolist() == [3.0, 9.0]
    assert x.aminmax().max.item() == 9.0


# -- var / std ---------------------------------------------------------------------------

def test_var_overloads():
    x = tm.tensor([[1.0, 2.0, 4.0], [0.0, 0.0, 3.0]], dtype=tm.float64)
    ref = np.array(x.tolist())
    assert_close(x.var(), ref.var(ddof=1))
    assert_close(x.var(False), ref.var())
    assert_close(x.var(1, False), ref.var(1))
    assert_close(x.var(1, True, True), ref.var(1, ddof=1, keepdims=True))
    assert_close(x.std(1, correction=2), ref.std(1, ddof=2))
    assert_close(x.var(unbiased=False), ref.var())


def test_var_rejects_integers():
    with pytest.raises(RuntimeError, match="std and var only support floating point and "
                       "complex dtypes"):
        tm.tensor([1, 2]).var()


def test_std_of_constant_has_zero_gradient():
    x = _leaf([2.0, 2.0, 2.0])
    x.std().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0]


def test_var_of_one_element_is_nan():
    assert math.isnan(tm.tensor([1.0]).var().item())


def test_var_of_complex_is_real():
    z = tm.tensor([1 + 1j, 2 - 1j, 0j])
    assert z.var().dtype is tm.float32
    assert_close(z.var(), np.array([1 + 1j, 2 - 1j, 0j]).var(ddof=1), check_dtype=False)


# -- norm -----------------------------------------------------------------------------------

def test_norm_gradient_at_zero_is_zero():
    x = _leaf([0.0, 0.0])
    x.norm().backward()
    assert x.grad.tolist() == [0.0, 0.0]


def test_norm_of_complex():
    z = tm.tensor([3 + 4j, 0j])
    assert z.norm().item() == pytest.approx(5.0)
    assert z.norm(p=1).dtype is tm.float32


def test_norm_errors():
    with pytest.raises(RuntimeError, match="linalg.vector_norm: Expected a floating point or "
                       "complex tensor as input. Got Long"):
        tm.tensor([1, 2]).norm()
    with pytest.raises(RuntimeError, match="linalg.matrix_norm: dim must be a 2-tuple. Got 0 "
                       "1 2"):
        tm.ones(2, 2, 2).norm(p="fro", dim=(0, 1, 2))
    with pytest.raises(RuntimeError, match="cannot compute the inf norm on an empty tensor"):
        tm.zeros(0).norm(p=math.inf)


def test_norm_node_name():
    assert _leaf([1.0]).norm().grad_fn.name() == "LinalgVectorNormBackward0"


# -- logsumexp -------------------------------------------------------------------------------

def test_logsumexp_is_stable():
    x = tm.tensor([1000.0, 1000.0])
    assert x.logsumexp(0).item() == pytest.approx(1000 + math.log(2))
    assert x.neg().logsumexp(0).item() == pytest.approx(-1000 + math.log(2))


def test_logsumexp_infinities():
    inf = math.inf
    assert tm.tensor([-inf, -inf]).logsumexp(0).item() == -inf
    assert tm.tensor([inf, 1.0]).logsumexp(0).item() == inf
    assert tm.zeros(0).logsumexp(0).item() == -inf


def test_logsumexp_requires_dim():
    with pytest.raises(TypeError):
        tm.logsumexp(tm.ones(2))


# -- all / any / count_nonzero --------------------------------------------------------------

def test_logical_reductions_dtypes():
    assert tm.tensor([1, 2], dtype=tm.uint8).all().dtype is tm.uint8
    assert tm.tensor([1.0, 0.0]).any().dtype is tm.bool
    assert tm.tensor([[1, 0], [1, 1]]).all(1).tolist() == [False, True]
    assert tm.count_nonzero(tm.tensor([[1, 0], [2, 0]]), (0, 1)).item() == 2


def test_reductions_on_device(device):
    x = tm.tensor([[1.0, 2.0], [3.0, 5.0]], device=device, requires_grad=True)
    y = x.sum(0) + x.mean(1) + x.amax(1) + x.std(1) + x.norm(dim=1) + x.logsumexp(1)
    y.sum().backward()
    assert x.grad.device.type == device
    assert x.max(1).indices.device.type == device
