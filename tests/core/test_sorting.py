"""Tests for ops/sorting.py: generated op cases plus edge cases and torch's messages."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from op_cases.sorting import CASES

import taimatsu as tm
from taimatsu.testing import assert_close, generate_tests

globals().update(generate_tests(CASES))

nan = math.nan


def _leaf(values):
    return tm.tensor(values, dtype=tm.float64, requires_grad=True)


# -- sort / argsort / topk / kthvalue ---------------------------------------------------------

def test_sort_is_stable_both_ways():
    x = tm.tensor([2, 1, 2, 1, 2])
    assert x.sort(stable=True).indices.tolist() == [1, 3, 0, 2, 4]
    assert x.sort(descending=True, stable=True).indices.tolist() == [0, 2, 4, 1, 3]
    assert x.argsort(descending=True, stable=True).tolist() == [0, 2, 4, 1, 3]


def test_sort_puts_nan_last_ascending_first_descending():
    x = tm.tensor([1.0, nan, -1.0])
    assert x.sort().indices.tolist() == [2, 0, 1]
    assert x.sort(descending=True).indices.tolist() == [1, 0, 2]


def test_sort_gradient_follows_permutation():
    x = _leaf([3.0, 1.0, 2.0])
    values, indices = tm.sort(x)
    assert values.grad_fn.name() == "SortBackward0"
    values.backward(tm.tensor([10.0, 20.0, 30.0], dtype=tm.float64))
    assert x.grad.tolist() == [30.0, 10.0, 20.0]


def test_sort_rejects_complex():
    with pytest.raises(RuntimeError, match="Sort does not support complex dtypes on CPU"):
        tm.tensor([1j]).sort()


def test_topk_and_kthvalue():
    x = tm.tensor([[5.0, 1.0, 4.0, 2.0]])
    top = x.topk(2)
    assert isinstance(top, tm.return_types.topk)
    assert top.values.tolist() == [[5.0, 4.0]] and top.indices.tolist() == [[0, 2]]
    assert x.topk(1, largest=False).indices.tolist() == [[1]]
    kth = x.kthvalue(2, dim=1, keepdim=True)
    assert kth.values.tolist() == [[2.0]] and kth.indices.tolist() == [[3]]
    assert x.topk(0).values.shape == (1, 0)


def test_topk_kthvalue_range_errors():
    x = tm.ones(2, 3)
    with pytest.raises(RuntimeError, match="selected index k out of range"):
        x.topk(4)
    with pytest.raises(RuntimeError, match=r"kthvalue\(\): selected number k out of range for "
                       "dimension 1"):
        x.kthvalue(0)
    with pytest.raises(IndexError, match="Dimension out of range"):
        x.sort(2)


@given(st.lists(st.integers(-3, 3), min_size=1, max_size=12), st.booleans())
def test_sort_matches_stable_python_sort(values, descending):
    out = tm.tensor(values).sort(descending=descending, stable=True)
    expected = sorted(range(len(values)), key=lambda i: -values[i] if descending else values[i])
    assert out.indices.tolist() == expected
    assert out.values.tolist() == [values[i] for i in expected]


# -- median / nanmedian / mode -----------------------------------------------------------------

def test_median_is_lower_median():
    x = tm.tensor([4.0, 1.0, 3.0, 2.0])
    assert x.median().item() == 2.0
    out = x.median(0)
    assert isinstance(out, tm.return_types.median)
    assert out.values.item() == 2.0 and out.indices.item() == 3


def test_median_nan_handling():
    x = tm.tensor([1.0, nan, 0.0])
    assert math.isnan(x.median().item())
    assert x.median(0).indices.item() == 1
    assert x.nanmedian().item() == 0.0
    assert x.nanmedian(0).indices.item() == 2
    all_nan = tm.tensor([nan, nan]).nanmedian(0)
    assert math.isnan(all_nan.values.item()) and all_nan.indices.item() == 0


def test_median_of_empty_and_errors():
    assert math.isnan(tm.zeros(0).median().item())
    with pytest.raises(IndexError, match=r"median\(\): Expected reduction dim 0 to have "
                       "non-zero size."):
        tm.zeros(0, 2).median(0)


def test_full_median_splits_gradient_among_ties():
    x = _leaf([1.0, 2.0, 2.0, 3.0])
    x.median().backward()
    assert x.grad.tolist() == [0.0, 0.5, 0.5, 0.0]
    assert x.median(0).values.grad_fn.name() == "MedianBackward1"


def test_mode_picks_smallest_most_frequent_last_index():
    out = tm.tensor([3.0, 1.0, 2.0, 1.0, 3.0, 3.0, 1.0]).mode()
    assert isinstance(out, tm.return_types.mode)
    assert out.values.item() == 1.0 and out.indices.item() == 6
    rows = tm.tensor([[1, 2, 2, 1], [5, 5, 4, 0]]).mode(1)
    assert rows.values.tolist() == [1, 5] and rows.indices.tolist() == [3, 1]
    with pytest.raises(IndexError, match=r"mode\(\): Expected reduction dim 0 to have"):
        tm.zeros(0).mode()


# -- quantile ----------------------------------------------------------------------------------

def test_quantile_interpolations_and_shapes():
    x = tm.tensor([0.0, 1.0, 2.0, 3.0, 4.0])
    q = tm.tensor([0.125, 0.375, 0.625, 0.875])
    assert x.quantile(q, interpolation="nearest").tolist() == [0.0, 2.0, 2.0, 4.0]
    assert x.quantile(q, interpolation="lower").tolist() == [0.0, 1.0, 2.0, 3.0]
    assert x.quantile(q, interpolation="midpoint").tolist() == [0.5, 1.5, 2.5, 3.5]
    assert x.quantile(0.3).item() == pytest.approx(1.2)
    m = tm.ones(2, 3, 4)
    assert m.quantile(q, dim=1).shape == (4, 2, 4)
    assert m.quantile(0.5, dim=1, keepdim=True).shape == (2, 1, 4)
    assert m.quantile(q, keepdim=True).shape == (4, 1, 1, 1)


def test_quantile_gradient_splits_between_neighbours():
    x = _leaf([3.0, 0.0, 1.0, 2.0])
    x.quantile(0.25).backward()  # rank 0.75 between the values 0 and 1
    assert_close(x.grad, np.array([0.0, 0.25, 0.75, 0.0]))


def test_quantile_nan_and_nanquantile():
    x = tm.tensor([1.0, nan, 3.0])
    assert math.isnan(x.quantile(0.5).item())
    assert x.nanquantile(0.5).item() == 2.0
    assert math.isnan(tm.tensor([nan]).nanquantile(0.5).item())


def test_quantile_errors():
    x = tm.tensor([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"quantile\(\) q must be in the range \[0, 1\] but "
                       "got 1.5"):
        x.quantile(1.5)
    with pytest.raises(RuntimeError, match="must be either float or double dtype"):
        tm.tensor([1, 2]).quantile(0.5)
    with pytest.raises(RuntimeError, match="input tensor must be non-empty"):
        tm.zeros(0).quantile(0.5)
    with pytest.raises(RuntimeError, match="interpolation must be one of linear, lower, "
                       "higher, midpoint or nearest, but got bad"):
        x.quantile(0.5, interpolation="bad")
    with pytest.raises(RuntimeError, match="q must be a scalar or 1D tensor"):
        x.quantile(tm.tensor([[0.5]]))
    with pytest.raises(RuntimeError, match="q tensor must be same dtype"):
        x.quantile(tm.tensor([0.5], dtype=tm.float64))


# -- unique / bincount / histc -----------------------------------------------------------------

def test_unique_outputs():
    x = tm.tensor([[3, 1], [3, 2]])
    assert tm.unique(x).tolist() == [1, 2, 3]
    values, inverse, counts = x.unique(return_inverse=True, return_counts=True)
    assert inverse.tolist() == [[2, 0], [2, 1]] and counts.tolist() == [1, 1, 2]
    rows, inv = tm.unique(tm.tensor([[1, 2], [1, 2], [0, 1]]), dim=0, return_inverse=True)
    assert rows.tolist() == [[0, 1], [1, 2]] and inv.tolist() == [1, 1, 0]
    assert tm.unique(tm.tensor([nan, nan, 1.0])).shape == (3,)  # NaNs stay distinct


def test_unique_consecutive_outputs():
    x = tm.tensor([1, 1, 2, 2, 1])
    values, inverse, counts = tm.unique_consecutive(x, return_inverse=True,
                                                    return_counts=True)
    assert values.tolist() == [1, 2, 1]
    assert inverse.tolist() == [0, 0, 1, 1, 2] and counts.tolist() == [2, 2, 1]
    cols = tm.tensor([[1, 1, 2], [0, 0, 0]]).unique_consecutive(dim=1)
    assert cols.tolist() == [[1, 2], [0, 0]]


def test_bincount():
    x = tm.tensor([1, 3, 1])
    assert tm.bincount(x).tolist() == [0, 2, 0, 1]
    assert x.bincount(minlength=6).shape == (6,)
    w = tm.tensor([0.5, 1.0, 2.0])
    assert tm.bincount(x, w).tolist() == [0.0, 2.5, 0.0, 1.0]
    assert tm.bincount(x, w).dtype is tm.float32
    assert tm.bincount(x, tm.tensor([1, 2, 3])).dtype is tm.float64
    assert tm.bincount(tm.tensor([], dtype=tm.int64)).shape == (0,)


def test_bincount_errors():
    with pytest.raises(RuntimeError, match="bincount only supports 1-d non-negative integral "
                       "inputs."):
        tm.bincount(tm.tensor([-1]))
    with pytest.raises(RuntimeError, match="bincount only supports 1-d"):
        tm.bincount(tm.tensor([[1]]))
    with pytest.raises(NotImplementedError, match="not implemented for 'Float'"):
        tm.bincount(tm.tensor([1.0]))


def test_histc():
    x = tm.tensor([1.0, 2.0, 1.0, 4.0])
    assert tm.histc(x, bins=4).tolist() == [2.0, 1.0, 0.0, 1.0]
    assert x.histc(bins=2, min=0, max=2).tolist() == [0.0, 3.0]
    assert tm.histc(tm.tensor([1.0, 1.0]), bins=4).tolist() == [0.0, 0.0, 2.0, 0.0]
    with pytest.raises(RuntimeError, match="bins must be > 0"):
        tm.histc(x, bins=0)
    with pytest.raises(RuntimeError, match="max must be larger than min"):
        tm.histc(x, min=3, max=1)
    with pytest.raises(NotImplementedError, match="not implemented for 'Long'"):
        tm.histc(tm.tensor([1, 2]))


def test_sorting_on_device(device):
    x = tm.tensor([[3.0, 1.0, 2.0], [0.5, 4.0, -1.0]], device=device, requires_grad=True)
    y = x.sort(1).values + x.topk(3).values + x.quantile(0.5, dim=1, keepdim=True)
    y.sum().backward()
    assert x.grad.device.type == device
    assert x.median(1).indices.device.type == device
