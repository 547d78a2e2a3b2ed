"""Smaller torch-namespace pieces: compile, random.fork_rng, nn.modules.utils,
tril/triu_indices, typename, is_nonzero."""

import pytest

import taimatsu as tm
from taimatsu.nn.modules import utils as nn_utils


def test_compile_returns_the_callable_and_checks_arguments():
    model = tm.nn.Linear(2, 2)
    assert tm.compile(model) is model
    assert tm.compile(mode="max-autotune")(len) is len
    with pytest.raises(RuntimeError, match="Unrecognized mode=fast"):
        tm.compile(model, mode="fast")
    with pytest.raises(RuntimeError, match="Either mode or options"):
        tm.compile(model, mode="default", options={})
    with pytest.raises(AssertionError, match="A callable function is expected"):
        tm.compile(3)


def test_fork_rng_restores_the_stream():
    tm.manual_seed(0)
    expected = tm.rand(3)
    tm.manual_seed(0)
    with tm.random.fork_rng():
        tm.rand(10)
    assert tm.equal(tm.rand(3), expected)
    tm.manual_seed(0)
    with tm.random.fork_rng(enabled=False):
        tm.rand(10)
    assert not tm.equal(tm.rand(3), expected)


def test_ntuple_helpers():
    assert nn_utils._pair(3) == (3, 3)
    assert nn_utils._triple([1, 2, 3]) == (1, 2, 3)
    assert nn_utils._reverse_repeat_tuple((1, 2), 2) == (2, 2, 1, 1)
    assert nn_utils._list_with_default([None, 3], [1, 2, 7, 8]) == [7, 3]
    with pytest.raises(ValueError, match="at least 3"):
        nn_utils._list_with_default([None, 3], [1, 2])


def test_triangle_indices():
    assert tm.tril_indices(3, 3).tolist() == [[0, 1, 1, 2, 2, 2], [0, 0, 1, 0, 1, 2]]
    assert tm.triu_indices(2, 3, 1).tolist() == [[0, 0, 1], [1, 2, 2]]
    assert tm.tril_indices(3, 3, dtype=tm.int32).dtype is tm.int32
    with pytest.raises(NotImplementedError, match="\"triu_indices\" not implemented for 'Float'"):
        tm.triu_indices(3, 3, dtype=tm.float32)
    with pytest.raises(RuntimeError, match="row must be non-negative"):
        tm.tril_indices(-1, 3)


def test_typename_and_is_nonzero():
    assert tm.typename(tm.zeros(2, dtype=tm.float64)) == "taimatsu.DoubleTensor"
    assert tm.typename(1.5) == "float"
    assert tm.typename(tm.nn.Linear(1, 1)) == "taimatsu.nn.modules.linear.Linear"
    assert tm.is_nonzero(tm.tensor([2.0])) and not tm.tensor(0).is_nonzero()
    with pytest.raises(RuntimeError, match="more than one value is ambiguous"):
        tm.is_nonzero(tm.tensor([1.0, 2.0]))
