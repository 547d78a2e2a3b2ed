"""Type promotion against PyTorch: promote_types, result_type, can_cast for every pair."""

import itertools

import numpy as np
import pytest

import taimatsu as tm
from taimatsu._dtype import ALL_DTYPES

torch = pytest.importorskip("torch")

PAIRS = list(itertools.product(ALL_DTYPES, ALL_DTYPES))


def _t(dt):
    return getattr(torch, dt.name)


def _name(torch_dtype) -> str:
    # torch's complex32 (float16 + complex) has no NumPy storage; we use complex64.
    name = str(torch_dtype)[6:]
    return "complex64" if name == "complex32" else name


@pytest.mark.parametrize("a, b", PAIRS, ids=lambda d: d.name)
def test_promote_types(a, b):
    assert tm.promote_types(a, b).name == str(torch.promote_types(_t(a), _t(b)))[6:]


@pytest.mark.parametrize("a, b", PAIRS, ids=lambda d: d.name)
def test_can_cast(a, b):
    assert tm.can_cast(a, b) == torch.can_cast(_t(a), _t(b))


SCALARS = [True, 3, 2.5, 1 + 2j]


def _tm_tensor(dt, ndim):
    return tm.zeros((2,) * ndim, dtype=dt)


def _torch_tensor(dt, ndim):
    return torch.zeros((2,) * ndim, dtype=_t(dt))


@pytest.mark.parametrize("dt", ALL_DTYPES, ids=lambda d: d.name)
@pytest.mark.parametrize("scalar", SCALARS, ids=repr)
@pytest.mark.parametrize("ndim", [0, 1])
def test_result_type_with_scalar(dt, scalar, ndim):
    ours = tm.result_type(_tm_tensor(dt, ndim), scalar)
    theirs = torch.result_type(_torch_tensor(dt, ndim), scalar)
    assert ours.name == _name(theirs)


@pytest.mark.parametrize("a, b", PAIRS[::3], ids=lambda d: d.name)
@pytest.mark.parametrize("dims", [(1, 0), (0, 1), (0, 0)])
def test_result_type_dimension_tiers(a, b, dims):
    ours = tm.result_type(_tm_tensor(a, dims[0]), _tm_tensor(b, dims[1]))
    theirs = torch.result_type(_torch_tensor(a, dims[0]), _torch_tensor(b, dims[1]))
    assert ours.name == _name(theirs)


@pytest.mark.parametrize("data", [[1, 2], [1.5, 2], [True, False], [1 + 1j], 3, 2.5,
                                  np.arange(3, dtype=np.int32), [[1, 2], [3, 4]]])
def test_tensor_inference(data):
    assert tm.tensor(data).dtype.name == str(torch.tensor(data).dtype)[6:]
    assert tm.tensor(data).tolist() == torch.tensor(data).tolist()


def test_default_dtype_switch():
    tm.set_default_dtype(tm.float64)
    try:
        assert tm.tensor([1.5]).dtype is tm.float64
        assert (tm.tensor([1]) * 0.5).dtype is tm.float64
        assert tm.tensor([1j]).dtype is tm.complex128
    finally:
        tm.set_default_dtype(tm.float32)


@pytest.mark.parametrize("name", ["float16", "bfloat16", "float32", "float64"])
def test_finfo(name):
    ours, theirs = tm.finfo(getattr(tm, name)), torch.finfo(getattr(torch, name))
    for attr in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution"):
        assert getattr(ours, attr) == getattr(theirs, attr), attr


@pytest.mark.parametrize("name", ["uint8", "int8", "int16", "int32", "int64"])
def test_iinfo(name):
    ours, theirs = tm.iinfo(getattr(tm, name)), torch.iinfo(getattr(torch, name))
    assert (ours.bits, ours.min, ours.max) == (theirs.bits, theirs.min, theirs.max)
