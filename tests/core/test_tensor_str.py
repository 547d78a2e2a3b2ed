"""Unit tests for taimatsu._tensor_str: printed forms checked against PyTorch 2.x.

The expected strings were produced by torch's repr (with "torch." spelled
"taimatsu."). Tensors are stand-ins carrying only what tensor_repr reads, so
these tests do not depend on the Tensor class.
"""

import math
from types import SimpleNamespace

import ml_dtypes
import numpy as np
import pytest

from taimatsu import _dtype
from taimatsu._tensor_str import (
    PRINT_OPTS,
    get_printoptions,
    printoptions,
    set_printoptions,
    tensor_repr,
)


class _Device:
    def __init__(self, type="cpu", index=None):
        self.type = type
        self.index = index

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"


class _GradFn:
    def __init__(self, name):
        self._name = name

    def name(self):
        return self._name


def fake(data, *, requires_grad=False, grad_fn=None, device=None):
    """A stand-in tensor over a NumPy array (or anything with .shape and .get())."""
    return SimpleNamespace(
        _data=data,
        dtype=_dtype.from_numpy_dtype(data.dtype),
        device=device or _Device(),
        requires_grad=requires_grad or grad_fn is not None,
        grad_fn=grad_fn,
        is_leaf=grad_fn is None,
    )


def r(values, dtype=np.float32, **kwargs):
    return tensor_repr(fake(np.array(values, dtype=dtype), **kwargs))


@pytest.fixture(autouse=True)
def default_options():
    set_printoptions(profile="default")
    yield
    set_printoptions(profile="default")


@pytest.mark.parametrize("values, dtype, expected", [
    ([1.0, 2.0, 3.0], np.float32, "tensor([1., 2., 3.])"),
    ([1.5, -2.25, 3.125], np.float32, "tensor([ 1.5000, -2.2500,  3.1250])"),
    ([1.123456789], np.float32, "tensor([1.1235])"),
    ([1, -20, 300], np.int64, "tensor([  1, -20, 300])"),
    ([True, False], np.bool_, "tensor([ True, False])"),
    (3.0, np.float32, "tensor(3.)"),
    (7, np.int64, "tensor(7)"),
    ([[1.0, 2.5], [-3.0, 4.0]], np.float32,
     "tensor([[ 1.0000,  2.5000],\n        [-3.0000,  4.0000]])"),
])
def test_basic_forms(values, dtype, expected):
    assert r(values, dtype) == expected


def test_3d_blocks_are_separated_by_blank_lines():
    assert tensor_repr(fake(np.arange(8).reshape(2, 2, 2))) == (
        "tensor([[[0, 1],\n"
        "         [2, 3]],\n"
        "\n"
        "        [[4, 5],\n"
        "         [6, 7]]])")


@pytest.mark.parametrize("values, expected", [
    ([1e-5, 1.0], "tensor([1.0000e-05, 1.0000e+00])"),      # min below 1e-4
    ([1e9, 1.0], "tensor([1.0000e+09, 1.0000e+00])"),       # max above 1e8
    ([0.01, 100.0], "tensor([1.0000e-02, 1.0000e+02])"),    # max/min above 1000
    ([1e10, 1.0, -2.0], "tensor([ 1.0000e+10,  1.0000e+00, -2.0000e+00])"),
])
def test_scientific_notation_is_chosen_automatically(values, expected):
    assert r(values) == expected


def test_sci_mode_option():
    with printoptions(sci_mode=True):
        assert r([1.5, 2.0]) == "tensor([1.5000e+00, 2.0000e+00])"
        # No finite nonzero value: PyTorch keeps the plain form even when forced.
        assert r([0.0, 0.0]) == "tensor([0., 0.])"
    with printoptions(sci_mode=False):
        assert r([1e-5, 1.0]) == "tensor([0.0000, 1.0000])"


def test_nonfinite_and_signed_zero():
    assert r([math.nan, math.inf, -math.inf, 1.0]) == "tensor([nan, inf, -inf, 1.])"
    assert r([math.nan, 1.5]) == "tensor([   nan, 1.5000])"
    assert r([-0.0, 0.0]) == "tensor([-0., 0.])"


def test_empty_tensors():
    assert r([]) == "tensor([])"
    assert tensor_repr(fake(np.zeros((0, 3), np.float32))) == "tensor([], size=(0, 3))"
    # With no values to show, even int64 names its dtype.
    assert r([], np.int64) == "tensor([], dtype=taimatsu.int64)"


def test_wrapping_at_linewidth():
    assert tensor_repr(fake(np.arange(30) * 1000)) == (
        "tensor([    0,  1000,  2000,  3000,  4000,  5000,  6000,  7000,  8000,  9000,\n"
        "        10000, 11000, 12000, 13000, 14000, 15000, 16000, 17000, 18000, 19000,\n"
        "        20000, 21000, 22000, 23000, 24000, 25000, 26000, 27000, 28000, 29000])")
    big2d = np.arange(100, dtype=np.float32).reshape(10, 10) / np.float32(7)
    lines = tensor_repr(fake(big2d)).split("\n")
    assert lines[0] == ("tensor([[ 0.0000,  0.1429,  0.2857,  0.4286,  0.5714,  0.7143,"
                        "  0.8571,  1.0000,")
    assert lines[1] == "          1.1429,  1.2857],"
    assert lines[-1] == "         14.0000, 14.1429]])"


def test_summarized():
    assert tensor_repr(fake(np.arange(2000))) == "tensor([   0,    1,    2,  ..., 1997, 1998, 1999])"
    assert tensor_repr(fake(np.arange(2000).reshape(40, 50))) == (
        "tensor([[   0,    1,    2,  ...,   47,   48,   49],\n"
        "        [  50,   51,   52,  ...,   97,   98,   99],\n"
        "        [ 100,  101,  102,  ...,  147,  148,  149],\n"
        "        ...,\n"
        "        [1850, 1851, 1852,  ..., 1897, 1898, 1899],\n"
        "        [1900, 1901, 1902,  ..., 1947, 1948, 1949],\n"
        "        [1950, 1951, 1952,  ..., 1997, 1998, 1999]])")


def test_summarized_width_ignores_hidden_values():
    data = np.arange(2000)
    data[1000] = 10**12
    assert tensor_repr(fake(data)) == "tensor([   0,    1,    2,  ..., 1997, 1998, 1999])"


@pytest.mark.parametrize("values, dtype, expected", [
    ([1.0, 2.0], np.float64, "tensor([1., 2.], dtype=taimatsu.float64)"),
    ([0.1, 2.0], np.float16, "tensor([0.1000, 2.0000], dtype=taimatsu.float16)"),
    ([0.1, 2.0], ml_dtypes.bfloat16, "tensor([0.1001, 2.0000], dtype=taimatsu.bfloat16)"),
    ([1, 2], np.int32, "tensor([1, 2], dtype=taimatsu.int32)"),
    ([1, 200], np.uint8, "tensor([  1, 200], dtype=taimatsu.uint8)"),
    ([1 + 2j, -3.5 - 0.5j], np.complex64, "tensor([ 1.0000+2.0000j, -3.5000-0.5000j])"),
    ([1 + 2j], np.complex128, "tensor([1.+2.j], dtype=taimatsu.complex128)"),
    (1 - 1j, np.complex64, "tensor(1.-1.j)"),
])
def test_dtypes(values, dtype, expected):
    assert r(values, dtype) == expected


def test_dtype_suffix_follows_default_dtype():
    old = _dtype.get_default_dtype()
    _dtype.set_default_dtype(_dtype.float64)
    try:
        assert r([1.0, 2.0], np.float64) == "tensor([1., 2.])"
        assert r([1.0, 2.0], np.float32) == "tensor([1., 2.], dtype=taimatsu.float32)"
        assert r([1j], np.complex128) == "tensor([0.+1.j])"
        assert r([1j], np.complex64) == "tensor([0.+1.j], dtype=taimatsu.complex64)"
    finally:
        _dtype.set_default_dtype(old)


def test_autograd_suffixes():
    assert r([1.0, 2.0], requires_grad=True) == "tensor([1., 2.], requires_grad=True)"
    assert r([2.0, 4.0], grad_fn=_GradFn("MulBackward0")) == (
        "tensor([2., 4.], grad_fn=<MulBackward0>)")


def test_device_suffix():
    cuda = _Device("cuda", 0)
    assert r([1.0, 2.0], device=cuda) == "tensor([1., 2.], device='cuda:0')"
    assert r([1.0], device=cuda, requires_grad=True) == (
        "tensor([1.], device='cuda:0', requires_grad=True)")


def test_device_array_without_array_interface_is_copied_with_get():
    class DeviceArray:  # the parts of a cupy.ndarray tensor_repr touches when small
        def __init__(self, array):
            self._array = array
            self.shape = array.shape
            self.dtype = array.dtype

        def get(self):
            return self._array

    t = fake(DeviceArray(np.array([1.0, 2.5], np.float32)), device=_Device("cuda", 0))
    assert tensor_repr(t) == "tensor([1.0000, 2.5000], device='cuda:0')"


def test_suffix_wraps_to_a_new_line():
    data = (np.arange(20) * 100).astype(np.int32)
    assert tensor_repr(fake(data)) == (
        "tensor([   0,  100,  200,  300,  400,  500,  600,  700,  800,  900, 1000, 1100,\n"
        "        1200, 1300, 1400, 1500, 1600, 1700, 1800, 1900], dtype=taimatsu.int32)")


def test_tensor_contents_replaces_values():
    t = fake(np.zeros(3, np.float64))
    assert tensor_repr(t, tensor_contents="[...]") == "tensor([...], dtype=taimatsu.float64)"


def test_threshold_edgeitems_linewidth_and_profiles():
    ar = fake(np.arange(10))
    with printoptions(threshold=5):
        assert tensor_repr(ar) == "tensor([0, 1, 2,  ..., 7, 8, 9])"
    with printoptions(edgeitems=0):
        assert tensor_repr(ar) == "tensor([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], size=(10,))"
    with printoptions(edgeitems=0, threshold=5):
        assert tensor_repr(ar) == "tensor([...], size=(10,))"
    with printoptions(linewidth=20):
        assert tensor_repr(ar) == "tensor([0, 1, 2, 3,\n        4, 5, 6, 7,\n        8, 9])"
    with printoptions(profile="short"):
        assert r([1.12345]) == "tensor([1.12])"
    with printoptions(profile="full"):
        assert tensor_repr(fake(np.arange(2000))).count("...") == 0


def test_get_and_set_printoptions():
    assert get_printoptions() == {"precision": 4, "threshold": 1000, "edgeitems": 3,
                                  "linewidth": 80, "sci_mode": None}
    set_printoptions(precision=2, sci_mode=True)
    assert get_printoptions()["precision"] == 2 and PRINT_OPTS.sci_mode is True
    # Leaving sci_mode out resets it to automatic, as in PyTorch.
    set_printoptions(linewidth=100)
    assert PRINT_OPTS.sci_mode is None and PRINT_OPTS.precision == 2
    set_printoptions(profile="full")
    assert get_printoptions()["threshold"] == math.inf


def test_printoptions_restores_on_error():
    with pytest.raises(RuntimeError), printoptions(precision=1, threshold=3):
        assert get_printoptions()["precision"] == 1
        raise RuntimeError
    assert get_printoptions()["precision"] == 4 and get_printoptions()["threshold"] == 1000
