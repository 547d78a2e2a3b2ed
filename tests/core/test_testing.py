"""taimatsu.testing.assert_close: torch's defaults and attribute checks."""

import pytest

import taimatsu as tm
from taimatsu.testing import assert_close

NAN = float("nan")


def test_nan_differs_unless_equal_nan():
    with pytest.raises(AssertionError, match="not close"):
        assert_close(tm.tensor([1.0, NAN]), tm.tensor([1.0, NAN]))
    assert_close(tm.tensor([1.0, NAN]), tm.tensor([1.0, NAN]), equal_nan=True)


def test_tolerances_and_dtype():
    assert_close(tm.tensor([1.0]), tm.tensor([1.0 + 1e-7]))
    with pytest.raises(AssertionError):
        assert_close(tm.tensor([1.0]), tm.tensor([1.001]))
    with pytest.raises(AssertionError, match="dtype"):
        assert_close(tm.tensor([1.0]), tm.tensor([1.0], dtype=tm.float64))
    assert_close(tm.tensor([1.0]), tm.tensor([1.0], dtype=tm.float64), check_dtype=False)


def test_stride_layout_and_type_checks():
    a = tm.zeros(3, 2).t()
    assert_close(a, tm.zeros(2, 3))
    with pytest.raises(AssertionError, match="attribute 'stride'"):
        assert_close(a, tm.zeros(2, 3), check_stride=True)
    s = tm.eye(2).to_sparse()
    assert_close(s, tm.eye(2).to_sparse())
    with pytest.raises(AssertionError, match="attribute 'layout'"):
        assert_close(s, tm.eye(2))
    assert_close(s, tm.eye(2), check_layout=False)
    with pytest.raises(AssertionError, match="same type"):
        assert_close(tm.nn.Parameter(tm.ones(1)), tm.ones(1), allow_subclasses=False)
