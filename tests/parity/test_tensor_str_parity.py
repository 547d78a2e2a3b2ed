"""Printed tensors compared character for character with PyTorch's repr."""

import contextlib
import re
from types import SimpleNamespace

import ml_dtypes
import numpy as np
import pytest

torch = pytest.importorskip("torch")

import taimatsu  # noqa: E402
from taimatsu import _dtype  # noqa: E402
from taimatsu._tensor_str import set_printoptions, tensor_repr  # noqa: E402

pytestmark = pytest.mark.parity


class _GradFn:
    def __init__(self, name):
        self._name = name

    def name(self):
        return self._name


def fake(array, *, requires_grad=False, grad_fn=None):
    """A stand-in for a taimatsu Tensor holding `array`, carrying what tensor_repr reads."""
    return SimpleNamespace(
        _data=array, dtype=_dtype.from_numpy_dtype(array.dtype),
        device=SimpleNamespace(type="cpu"), requires_grad=requires_grad or grad_fn is not None,
        grad_fn=grad_fn, is_leaf=grad_fn is None)


def to_torch(array):
    if array.dtype == ml_dtypes.bfloat16:
        return torch.tensor(array.astype(np.float32)).to(torch.bfloat16)
    return torch.tensor(array)


def expected(t):
    return repr(t).replace("torch.", "taimatsu.")


_SUFFIX_BREAK = re.compile(r",\n +(?=(?:device|size|dtype|grad_fn|requires_grad)=)")


def assert_same_repr(ours, t):
    """ours == torch's repr of t, with "torch." spelled "taimatsu.".

    "dtype=taimatsu.float64" is three characters longer than torch's suffix, and
    the same wrapping rule applied to the longer text can move a suffix onto
    its own line where torch's fits; so when a dtype is named, where suffixes
    break lines is not compared (test_suffixes_wrap_like_torch checks it).
    """
    theirs = expected(t)
    if "dtype=" in theirs:
        ours, theirs = _SUFFIX_BREAK.sub(", ", ours), _SUFFIX_BREAK.sub(", ", theirs)
    assert ours == theirs


@contextlib.contextmanager
def both_printoptions(**options):
    torch.set_printoptions(**options)
    set_printoptions(**options)
    try:
        yield
    finally:
        torch.set_printoptions(profile="default")
        set_printoptions(profile="default")


def _cases():
    rng = np.random.default_rng(1234)
    cases = {}
    shapes = [(5,), (3, 4), (2, 3, 4), (1, 1, 7), (7, 1), (2, 1, 2, 3)]
    for scale in (1e-8, 1e-5, 1e-3, 0.5, 1.0, 10.0, 1e3, 1e5, 1e9, 1e20):
        for shape in shapes:
            cases[f"normal*{scale:g}-{shape}"] = (rng.standard_normal(shape) * scale).astype(np.float32)
    cases["mixed-magnitudes"] = (10.0 ** rng.uniform(-6, 6, 12)).astype(np.float32)
    cases["uniform-0-1"] = rng.uniform(0, 1, (4, 5)).astype(np.float32)
    cases["positive-only"] = rng.uniform(1, 9, 6).astype(np.float32)
    cases["whole-floats"] = rng.integers(-1000, 1000, (3, 5)).astype(np.float32)
    cases["whole-big"] = np.array([1e8, 2e8, 3.0], np.float32)
    cases["rounds-up"] = np.array([9.99996, 0.5, -99.99999], np.float32)
    cases["ints-small"] = rng.integers(0, 10, (4, 4))
    cases["ints-wide"] = rng.integers(-10**12, 10**12, 9)
    cases["ints-3d"] = rng.integers(-50, 50, (2, 3, 4))
    cases["bools"] = rng.integers(0, 2, (3, 4)).astype(bool)
    cases["all-true"] = np.ones(4, bool)
    # Above the default threshold of 1000 elements: summarized.
    cases["big-1d-float"] = rng.standard_normal(2000).astype(np.float32)
    cases["big-1d-int"] = np.arange(1001)
    cases["big-2d"] = rng.standard_normal((40, 50)).astype(np.float32) * 100
    cases["big-3d"] = rng.standard_normal((11, 11, 11)).astype(np.float32)
    cases["big-narrow-rows"] = rng.standard_normal((3, 500)).astype(np.float32)
    cases["big-narrow-cols"] = rng.standard_normal((500, 4)).astype(np.float32)
    cases["big-bool"] = rng.integers(0, 2, (30, 40)).astype(bool)
    hidden = np.arange(3000, dtype=np.float32)
    hidden[1500] = 1e-9  # not shown, so it must not switch the notation
    cases["big-hidden-small"] = hidden
    cases["0dim-float"] = np.array(3.25, np.float32)
    cases["0dim-whole"] = np.array(-7.0, np.float32)
    cases["0dim-tiny"] = np.array(1e-7, np.float32)
    cases["0dim-int"] = np.array(42)
    cases["0dim-bool"] = np.array(True)
    cases["0dim-nan"] = np.array(np.nan, np.float32)
    cases["0dim-f64"] = np.array(2.5, np.float64)
    cases["empty-1d"] = np.zeros(0, np.float32)
    cases["empty-2d"] = np.zeros((0, 3), np.float32)
    cases["empty-3d"] = np.zeros((2, 0, 4), np.float32)
    cases["empty-int"] = np.zeros(0, np.int64)
    cases["empty-bool-2d"] = np.zeros((3, 0), bool)
    cases["empty-f64"] = np.zeros((0,), np.float64)
    cases["nan-inf"] = np.array([np.nan, np.inf, -np.inf, 1.0, -2.5], np.float32)
    cases["nan-inf-whole"] = np.array([[np.nan, 2.0], [-np.inf, 3.0]], np.float32)
    cases["nan-inf-sci"] = np.array([np.nan, 1e-6, np.inf], np.float32)
    cases["all-nan"] = np.full(3, np.nan, np.float32)
    cases["signed-zero"] = np.array([-0.0, 0.0, 1.5], np.float32)
    cases["zeros"] = np.zeros((2, 3), np.float32)
    cases["float64"] = rng.standard_normal((3, 3))
    cases["float64-sci"] = rng.standard_normal(4) * 1e-12
    cases["float16"] = rng.standard_normal(6).astype(np.float16)
    cases["float16-sci"] = (rng.standard_normal(6) * 1e4).astype(np.float16)
    cases["bfloat16"] = rng.standard_normal((2, 3)).astype(ml_dtypes.bfloat16)
    cases["int32"] = rng.integers(-100, 100, 7).astype(np.int32)
    cases["int16"] = rng.integers(-100, 100, (2, 2)).astype(np.int16)
    cases["int8"] = rng.integers(-100, 100, 5).astype(np.int8)
    cases["uint8"] = rng.integers(0, 255, 5).astype(np.uint8)
    cases["complex64"] = (rng.standard_normal(5) + 1j * rng.standard_normal(5)).astype(np.complex64)
    cases["complex64-2d-sci"] = ((rng.standard_normal((3, 2)) + 1j * rng.standard_normal((3, 2)))
                                 * 1e-6).astype(np.complex64)
    cases["complex-mixed"] = np.array([1 + 1e-6j, -2 + 3j, 1e5 - 0j], np.complex64)
    cases["complex-whole"] = np.array([1 + 2j, -3 - 4j], np.complex64)
    cases["complex-nan"] = np.array([complex(np.nan, 1), complex(1, -np.inf)], np.complex64)
    cases["complex128"] = rng.standard_normal(3) + 1j * rng.standard_normal(3)
    cases["complex-0dim"] = np.array(1.5 - 2j, np.complex64)
    cases["complex-big"] = (rng.standard_normal(1500) + 1j).astype(np.complex64)
    cases["complex-wrap"] = (rng.standard_normal(20) + 1j * rng.standard_normal(20)).astype(np.complex64)
    return cases


CASES = _cases()


@pytest.mark.parametrize("name", list(CASES))
def test_repr_matches_torch(name):
    array = CASES[name]
    assert_same_repr(tensor_repr(fake(array)), to_torch(array))


OPTIONS = [
    {"precision": 0}, {"precision": 2}, {"precision": 8},
    {"threshold": 5}, {"threshold": 0}, {"edgeitems": 1, "threshold": 10},
    {"edgeitems": 0}, {"edgeitems": 0, "threshold": 5}, {"edgeitems": 5, "threshold": 20},
    {"linewidth": 40}, {"linewidth": 120}, {"linewidth": 5},
    {"sci_mode": True}, {"sci_mode": False}, {"sci_mode": True, "precision": 2},
    {"profile": "short"}, {"profile": "full"}, {"profile": "short", "precision": 6},
]
OPTION_CASES = ["normal*1-(3, 4)", "normal*1e-05-(2, 3, 4)", "normal*100000-(5,)",
                "whole-floats", "ints-3d", "bools", "big-2d", "big-1d-int", "nan-inf",
                "complex64", "0dim-float", "empty-2d", "zeros", "float64"]


@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()))
@pytest.mark.parametrize("name", OPTION_CASES)
def test_printoptions_match_torch(name, options):
    array = CASES[name]
    with both_printoptions(**options):
        assert_same_repr(tensor_repr(fake(array)), to_torch(array))


@pytest.mark.parametrize("name", ["normal*1-(3, 4)", "float64", "complex128", "complex64",
                                  "empty-f64", "empty-1d"])
def test_default_dtype_float64(name):
    array = CASES[name]
    old_torch, old_ours = torch.get_default_dtype(), _dtype.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    _dtype.set_default_dtype(_dtype.float64)
    try:
        assert_same_repr(tensor_repr(fake(array)), to_torch(array))
    finally:
        torch.set_default_dtype(old_torch)
        _dtype.set_default_dtype(old_ours)


@pytest.mark.parametrize("name", ["normal*1-(3, 4)", "float64", "big-2d", "0dim-float",
                                  "empty-2d", "complex-wrap"])
def test_autograd_suffixes_match_torch(name):
    array = CASES[name]
    leaf = to_torch(array).requires_grad_()
    assert_same_repr(tensor_repr(fake(array, requires_grad=True)), leaf)
    product = leaf * 2
    grad_fn = _GradFn(type(product.grad_fn).__name__)
    assert_same_repr(tensor_repr(fake(product.detach().numpy(), grad_fn=grad_fn)), product)


@pytest.mark.parametrize("n", range(8, 16))
def test_suffixes_wrap_like_torch(n):
    # Around n == 11 the last line gets too long and requires_grad moves down a line.
    array = (np.arange(n) * 1000.5).astype(np.float32)
    leaf = torch.tensor(array, requires_grad=True)
    assert tensor_repr(fake(array, requires_grad=True)) == expected(leaf)
    product = leaf * 2
    ours = tensor_repr(fake(product.detach().numpy(), grad_fn=_GradFn("MulBackward0")))
    assert ours == expected(product)


def test_suffix_wrap_uses_our_dtype_name():
    array = np.array([[0.1282, -0.5067, 1.1999], [0.1564, 0.9239, -2.6211]])
    # Torch fits ", dtype=torch.float64, requires_grad=True)" on the last line; with
    # the longer "taimatsu." name the same rule sends requires_grad to the next line.
    assert tensor_repr(fake(array, requires_grad=True)) == (
        "tensor([[ 0.1282, -0.5067,  1.1999],\n"
        "        [ 0.1564,  0.9239, -2.6211]], dtype=taimatsu.float64,\n"
        "       requires_grad=True)")


needs_tensor = pytest.mark.skipif(not hasattr(taimatsu, "tensor"),
                                  reason="taimatsu.tensor is not written yet")


@needs_tensor
@pytest.mark.parametrize("name", ["normal*1-(3, 4)", "normal*1e-05-(2, 3, 4)", "ints-3d",
                                  "bools", "big-2d", "0dim-float", "empty-2d", "nan-inf",
                                  "float64", "int32", "complex64"])
def test_taimatsu_tensor_repr_matches_torch(name):
    array = CASES[name]
    t = taimatsu.tensor(array)
    assert_same_repr(repr(t), to_torch(array))
    assert str(t) == repr(t)


@needs_tensor
def test_taimatsu_autograd_reprs_match_torch():
    array = np.array([[1.5, -2.0], [0.25, 4.0]], np.float32)
    x, tx = taimatsu.tensor(array, requires_grad=True), torch.tensor(array, requires_grad=True)
    assert repr(x) == expected(tx)
    assert repr(x * 2) == expected(tx * 2)
    assert repr(x + x) == expected(tx + tx)
    assert repr(x.detach()) == expected(tx.detach())
