"""Legacy constructors (Tensor(2, 3), FloatTensor, t.new, t.type) and the Python / NumPy
protocols of Tensor (format, index, array, bool/int/float, builtins over tensors), and
taimatsu.tensor() over Python containers."""

import collections
import math
import operator
import pickle
import warnings

import numpy as np
import pytest

import taimatsu as tm
from taimatsu import nn

LEGACY = [("FloatTensor", tm.float32), ("DoubleTensor", tm.float64),
          ("HalfTensor", tm.float16), ("BFloat16Tensor", tm.bfloat16),
          ("LongTensor", tm.int64), ("IntTensor", tm.int32), ("ShortTensor", tm.int16),
          ("CharTensor", tm.int8), ("ByteTensor", tm.uint8), ("BoolTensor", tm.bool)]


# -- Tensor(...) ---------------------------------------------------------------------------
def test_tensor_constructor_sizes_data_and_empty():
    assert tm.Tensor(2, 3).shape == (2, 3) and tm.Tensor(2, 3).dtype is tm.float32
    assert tm.Tensor(tm.Size([4, 1])).shape == (4, 1)
    assert tm.Tensor(np.int64(2), 3).shape == (2, 3)
    assert tm.Tensor(size=(2, 3)).shape == (2, 3)
    t = tm.Tensor([1, 2])
    assert t.dtype is tm.float32 and t.tolist() == [1.0, 2.0]
    assert tm.Tensor((2, 3)).tolist() == [2.0, 3.0]  # a tuple is data, a Size is a shape
    assert tm.Tensor(range(3)).tolist() == [0.0, 1.0, 2.0]
    assert tm.Tensor(np.array(2.5)).shape == ()
    empty = tm.Tensor()
    assert empty.shape == (0,) and empty.dtype is tm.float32
    assert type(tm.Tensor(1)) is tm.Tensor


def test_tensor_constructor_follows_default_dtype():
    tm.set_default_dtype(tm.float64)
    try:
        assert tm.Tensor(2).dtype is tm.float64 and tm.Tensor([1]).dtype is tm.float64
        assert tm.FloatTensor(2).dtype is tm.float32
    finally:
        tm.set_default_dtype(tm.float32)


def test_tensor_of_a_tensor_is_an_alias():
    base = tm.ones(3, requires_grad=True)
    alias = tm.Tensor(base)
    assert alias._base is base and alias.requires_grad
    assert alias.grad_fn.name() == "AliasBackward0"
    (alias * 2).sum().backward()
    assert base.grad.tolist() == [2.0, 2.0, 2.0]
    ints = tm.tensor([1, 2])
    same = tm.Tensor(ints)  # Tensor() keeps any dtype; typed constructors do not
    assert same.dtype is tm.int64
    same.add_(1)
    assert ints.tolist() == [2, 3]
    assert type(tm.Tensor(nn.Parameter(tm.ones(1)))) is tm.Tensor


@pytest.mark.parametrize("args, kwargs, exc, match", [
    ((2.5,), {}, TypeError, r"new\(\): data must be a sequence \(got float\)"),
    ((True,), {}, TypeError, r"data must be a sequence \(got bool\)"),
    ((None,), {}, TypeError, r"data must be a sequence \(got NoneType\)"),
    ((np.float32(2),), {}, TypeError, r"data must be a sequence \(got numpy.float32\)"),
    (({1, 2},), {}, TypeError, r"data must be a sequence \(got set\)"),
    (("ab",), {}, TypeError, r"new\(\): invalid data type 'str'"),
    ((["a"],), {}, ValueError, r"too many dimensions 'str'"),
    (([[1, 2], [3]],), {}, ValueError, r"expected sequence of length 2 at dim 1 \(got 1\)"),
    ((2, -1), {}, RuntimeError, r"Trying to create tensor with negative dimension -1: "
                                r"\[2, -1\]"),
    ((2, "a"), {}, TypeError, r"argument 'size' failed to unpack the object at pos 2 with "
                              r"error \"type must be tuple of ints,but got str\""),
    ((2,), {"requires_grad": True}, TypeError, r"(?s)new\(\) received an invalid combination "
                                               r"of arguments - got \(int, "
                                               r"requires_grad=bool\).*keywords were "
                                               r"incorrect: requires_grad"),
    (([1, 2], [3]), {}, TypeError, r"invalid types: \(!list of \[int, int\]!, !list of "
                                   r"\[int\]!\)"),
    ((2,), {"size": (2,)}, TypeError, r"keywords were incorrect: size"),
])
def test_tensor_constructor_errors(args, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        tm.Tensor(*args, **kwargs)


def test_legacy_constructor_device():
    assert tm.Tensor([1, 2], device="cpu").device == tm.device("cpu")
    assert tm.LongTensor(2, device=tm.device("cpu")).dtype is tm.int64
    with pytest.raises(RuntimeError, match="legacy constructor expects device type: cpu but "
                                           "device type: cuda was passed"):
        tm.FloatTensor(2, device="cuda")


# -- FloatTensor & co. ---------------------------------------------------------------------
@pytest.mark.parametrize("name, dtype", LEGACY, ids=[n for n, _ in LEGACY])
def test_legacy_types_build_plain_tensors(name, dtype):
    cls = getattr(tm, name)
    assert cls.dtype is dtype and cls.is_cuda is False and cls.layout is tm.strided
    sized = cls(2, 3)
    assert type(sized) is tm.Tensor and sized.dtype is dtype and sized.shape == (2, 3)
    data = cls([1, 0])
    assert data.dtype is dtype and data.tolist() == ([True, False] if dtype is tm.bool
                                                     else [1, 0])
    assert cls().shape == (0,) and cls().dtype is dtype
    assert isinstance(sized, cls) and isinstance(data, tm.Tensor)
    others = [c for n, c in ((n, getattr(tm, n)) for n, _ in LEGACY) if n != name]
    assert not any(isinstance(sized, other) for other in others)
    assert repr(cls) == f"<class 'taimatsu.{name}'>" and cls.__module__ == "taimatsu"
    assert sized.type() == f"taimatsu.{name}"


def test_legacy_type_checks_and_class_relations():
    assert isinstance(nn.Parameter(tm.zeros(2)), tm.FloatTensor)
    assert isinstance(tm.zeros(2, requires_grad=True), tm.FloatTensor)
    assert isinstance(tm.zeros(2, dtype=tm.int64), (tm.FloatTensor, tm.LongTensor))
    assert not isinstance(1.0, tm.FloatTensor) and not isinstance(np.zeros(2), tm.FloatTensor)
    assert not issubclass(tm.FloatTensor, tm.Tensor)
    assert not issubclass(tm.Tensor, tm.FloatTensor)
    assert issubclass(tm.FloatTensor, tm.FloatTensor)
    # the type stands for tensors of its dtype: Tensor's methods are reachable on it
    assert tm.FloatTensor.add(tm.ones(2), 1).tolist() == [2.0, 2.0]
    assert "add" in dir(tm.FloatTensor)
    with pytest.raises(AttributeError, match="type object 'taimatsu.FloatTensor' has no "
                                             "attribute 'zeros'"):
        tm.FloatTensor.zeros  # noqa: B018
    assert {tm.FloatTensor: 1}[tm.FloatTensor] == 1
    assert pickle.loads(pickle.dumps(tm.LongTensor)) is tm.LongTensor


def test_legacy_types_convert_data_and_check_values():
    assert tm.LongTensor([1.5, -2.7]).tolist() == [1, -2]
    assert tm.FloatTensor(np.arange(3)).dtype is tm.float32
    assert tm.LongTensor(np.arange(3.0)).tolist() == [0, 1, 2]
    assert tm.DoubleTensor([[1, 2]]).shape == (1, 2)
    with pytest.raises(RuntimeError, match="value cannot be converted to type uint8 without "
                                           "overflow"):
        tm.ByteTensor([300])


def test_legacy_types_of_a_tensor_need_its_dtype():
    t = tm.tensor([1.0, 2.0])
    alias = tm.FloatTensor(t)
    assert alias is not t and alias.data_ptr() == t.data_ptr()
    with pytest.raises(TypeError, match=r"expected TensorOptions\(dtype=long int, device=cpu, "
                                        r"layout=Strided, .*\(got TensorOptions\(dtype=float,"):
        tm.LongTensor(t)
    with pytest.raises(TypeError, match=r"dtype=c10::Half"):
        tm.HalfTensor(t)


def test_cuda_legacy_types():
    from taimatsu._legacy_tensors import cuda_tensor_types
    cls = cuda_tensor_types["FloatTensor"]
    assert cls.is_cuda and cls.dtype is tm.float32
    assert repr(cls) == "<class 'taimatsu.cuda.FloatTensor'>"
    assert not isinstance(tm.zeros(2), cls)
    with pytest.raises(RuntimeError, match="legacy constructor expects device type: cuda but "
                                           "device type: cpu was passed"):
        cls(2, device="cpu")


# -- t.type() and t.new() ------------------------------------------------------------------
def test_type_names_and_conversions():
    t = tm.zeros(2)
    assert t.type() == "taimatsu.FloatTensor"
    assert tm.zeros(1, dtype=tm.complex64).type() == "taimatsu.ComplexFloatTensor"
    assert t.type(tm.DoubleTensor).dtype is tm.float64
    assert t.type("taimatsu.DoubleTensor").dtype is tm.float64
    assert t.type("torch.LongTensor").dtype is tm.int64  # PyTorch's spelling is accepted
    assert t.type(tm.int32).dtype is tm.int32 and t.type(dtype=tm.int8).dtype is tm.int8
    assert tm.zeros(1, dtype=tm.int64).type(tm.Tensor).dtype is tm.float32
    assert t.type(tm.FloatTensor) is t and t.type(tm.float32) is t
    for bad in ("LongTensor", "torch.float64", "torch.Bogus"):
        with pytest.raises(ValueError, match=f"invalid type: '{bad}'"):
            t.type(bad)
    with pytest.raises(ValueError, match="invalid type: 'int'"):
        t.type(int)


def test_new_keeps_dtype_and_device():
    t = tm.zeros(2, dtype=tm.int32)
    assert t.new().shape == (0,) and t.new().dtype is tm.int32
    assert t.new(2, 3).shape == (2, 3) and t.new(2, 3).dtype is tm.int32
    assert t.new([1.5, 2]).tolist() == [1, 2]
    assert t.new(tm.Size([4])).shape == (4,)
    with pytest.raises(TypeError, match=r"expected TensorOptions\(dtype=int,"):
        t.new(tm.zeros(2))
    with pytest.raises(TypeError, match="keywords were incorrect: dtype"):
        t.new(2, dtype=tm.float32)


def test_new_factories_inherit_dtype_and_device():
    t = tm.ones(2, dtype=tm.float64)
    assert t.new_zeros(2, 3).dtype is tm.float64 and t.new_zeros(2, 3).shape == (2, 3)
    assert t.new_ones((2,)).tolist() == [1.0, 1.0]
    assert t.new_ones(size=(1, 2)).shape == (1, 2)
    assert t.new_empty(()).shape == () and t.new_empty(tm.Size([3])).shape == (3,)
    assert t.new_full((2,), 3.7, dtype=tm.int32).tolist() == [3, 3]
    assert t.new_tensor([1, 2]).dtype is tm.float64
    assert t.new_zeros(2, dtype=tm.int8).dtype is tm.int8
    r = t.new_zeros(2, requires_grad=True)
    assert r.requires_grad and r.is_leaf
    src = tm.ones(2, requires_grad=True)
    copy = t.new_tensor(src)
    assert not copy.requires_grad and copy.data_ptr() != src.data_ptr()
    for call, match in [(lambda: t.new_ones(), r'new_ones\(\) missing 1 required positional '
                                               r'arguments: "size"'),
                        (lambda: t.new_zeros(2.5), r"new_zeros\(\): argument 'size' "
                                                   r"\(position 1\) must be tuple of ints, not "
                                                   r"float"),
                        (lambda: t.new_zeros((2,), 3), r"new_zeros\(\) takes 1 positional "
                                                       r"argument but 2 were given")]:
        with pytest.raises(TypeError, match=match):
            call()
    with pytest.raises(RuntimeError, match="negative dimension -1"):
        t.new_zeros(2, -1)


# -- taimatsu.tensor over Python containers --------------------------------------------------
def test_tensor_of_python_containers():
    assert tm.tensor(collections.deque([1, 2])).tolist() == [1, 2]
    assert tm.tensor(collections.deque([[1.0, 2], [3, 4]])).shape == (2, 2)
    assert tm.tensor(range(3)).dtype is tm.int64
    assert tm.tensor([range(2), range(2)]).shape == (2, 2)
    assert tm.tensor((1, 2.0)).dtype is tm.float32
    assert tm.tensor([[], []]).shape == (2, 0) and tm.tensor([]).dtype is tm.float32
    assert tm.tensor([[], [1]]).shape == (2, 0)  # nothing is read past an empty row
    assert tm.tensor([True, 2]).dtype is tm.int64
    assert tm.tensor([1j, 2]).dtype is tm.complex64
    assert tm.tensor(memoryview(b"ab")).tolist() == [97, 98]


def test_tensor_of_tensors():
    assert tm.tensor([tm.tensor(1.0), tm.tensor(2.0)]).dtype is tm.float32
    assert tm.tensor([tm.tensor(1.0, dtype=tm.float64), tm.tensor(2.0)]).dtype is tm.float64
    assert tm.tensor([tm.tensor(1, dtype=tm.uint8)]).dtype is tm.uint8
    assert tm.tensor([tm.tensor(1, dtype=tm.int8), tm.tensor(1, dtype=tm.uint8)]).dtype \
        is tm.int16
    assert tm.tensor([tm.tensor(1), 2.5]).tolist() == [1.0, 2.5]
    one = tm.tensor([tm.tensor([1.0]), tm.tensor([[2.0]])])  # one-element tensors: scalars
    assert one.shape == (2,) and one.tolist() == [1.0, 2.0]
    assert tm.tensor([[2], tm.tensor([1])]).tolist() == [[2], [1]]  # a row can be a tensor
    leaf = tm.tensor(3.0, requires_grad=True)
    out = tm.tensor([leaf, leaf * 2])
    assert not out.requires_grad and out.tolist() == [3.0, 6.0]
    with pytest.raises(ValueError, match="only one element tensors can be converted to Python "
                                         "scalars"):
        tm.tensor([tm.tensor([1.0, 2.0]), tm.tensor([2.0, 3.0])])


def test_tensor_of_numpy_scalars_and_arrays():
    assert tm.tensor(np.float32(1.5)).dtype is tm.float32
    assert tm.tensor(np.float64(1.5)).dtype is tm.float64
    assert tm.tensor(np.int32(1)).dtype is tm.int32 and tm.tensor(np.bool_(True)).dtype is tm.bool
    assert tm.tensor([np.float32(1.5), np.float32(2)]).dtype is tm.float32
    assert tm.tensor([1.5, np.float64(2)]).dtype is tm.float64  # every leaf counts
    assert tm.tensor([np.uint8(1), np.int8(1)]).dtype is tm.int16
    assert tm.tensor([np.int8(1), 1.5]).dtype is tm.float32
    assert tm.tensor([np.zeros(2), np.ones(2)]).dtype is tm.float64
    assert tm.tensor([np.zeros(2, np.int32), [1.5, 2]]).dtype is tm.float32


@pytest.mark.parametrize("data, kwargs, exc, match", [
    ((x for x in [1]), {}, RuntimeError, "Could not infer dtype of generator"),
    ({1, 2}, {}, RuntimeError, "Could not infer dtype of set"),
    ([None, 1], {}, RuntimeError, "Could not infer dtype of NoneType"),
    ({"a": 1}.values(), {}, RuntimeError, "Could not infer dtype of dict_values"),
    ("ab", {}, TypeError, r"new\(\): invalid data type 'str'"),
    (b"ab", {}, TypeError, r"new\(\): invalid data type 'bytes'"),
    ([[1.0], ["a"]], {}, TypeError, r"new\(\): invalid data type 'str'"),
    (["a", "b"], {}, ValueError, "too many dimensions 'str'"),
    ([[1, 2], [3]], {}, ValueError, r"expected sequence of length 2 at dim 1 \(got 1\)"),
    ([[[1, 2]], [[3]]], {}, ValueError, r"expected sequence of length 2 at dim 2 \(got 1\)"),
    ([[1, 2], 3], {}, TypeError, "not a sequence"),
    ([1, [2, 3]], {}, TypeError, "'list' object cannot be interpreted as an integer"),
    ([1.0, [2, 3]], {}, TypeError, "must be real number, not list"),
    ([2**63], {}, ValueError, "Overflow when unpacking long long"),
    (2**63, {}, ValueError, "Overflow when unpacking long long"),
    ([300], {"dtype": tm.uint8}, RuntimeError, "value cannot be converted to type uint8 "
                                               "without overflow"),
    ([128], {"dtype": tm.int8}, RuntimeError, "type int8 without overflow"),
    ([2**31], {"dtype": tm.int32}, RuntimeError, "type int32 without overflow"),
    ([float("nan")], {"dtype": tm.int64}, RuntimeError, "type int64 without overflow"),
    (1j, {"dtype": tm.float32}, TypeError, "must be real number, not complex"),
    ([1 + 1j], {"dtype": tm.int64}, TypeError, "'complex' object cannot be interpreted as an "
                                               "integer"),
])
def test_tensor_errors(data, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        tm.tensor(data, **kwargs)


def test_tensor_value_conversions():
    assert tm.tensor([-1], dtype=tm.uint8).tolist() == [255]  # wraps, as torch
    assert tm.tensor([1.7, -1.7], dtype=tm.int64).tolist() == [1, -1]
    assert tm.tensor([2**63], dtype=tm.float32).tolist() == [2.0**63]
    assert tm.tensor([2**70], dtype=tm.float64).tolist() == [2.0**70]
    assert tm.tensor(-2**63).tolist() == -2**63
    assert math.isinf(tm.tensor([1e6], dtype=tm.float16).item())


def test_tensor_of_a_long_flat_list():
    data = [float(i) for i in range(200_000)]
    t = tm.tensor(data)
    assert t.shape == (200_000,) and t[-1].item() == 199_999.0


# -- Python protocols ----------------------------------------------------------------------
def test_device_and_kind_flags():
    t = tm.zeros(2)
    assert t.is_cpu and not t.is_cuda
    for flag in ("is_xpu", "is_mps", "is_meta", "is_quantized", "is_sparse", "is_mkldnn",
                 "is_nested", "is_vulkan", "is_sparse_csr"):
        assert getattr(t, flag) is False, flag


def test_format():
    assert f"{tm.tensor(3.14159):.3f}" == "3.142"
    assert f"{tm.tensor(3):05d}" == "00003" and f"{tm.tensor(3):>4}" == "   3"
    assert f"{tm.tensor(2.0, requires_grad=True):.2f}" == "2.00"
    assert f"{tm.tensor(2.5, dtype=tm.bfloat16):.2f}" == "2.50"
    assert f"{tm.tensor(2.5 + 1j):.1f}" == "2.5+1.0j"
    assert f"{tm.tensor(0.5)}" == "0.5"  # the value, not the repr
    assert f"{tm.tensor([1.0, 2.0])}" == str(tm.tensor([1.0, 2.0]))
    with pytest.raises(TypeError, match="unsupported format string passed to Tensor.__format__"):
        f"{tm.tensor([3.14]):.3f}"  # noqa: B018
    with pytest.raises(TypeError, match="unsupported format string"):
        f"{nn.Parameter(tm.tensor(2.0)):.2f}"  # noqa: B018  (subclasses format as objects)


def test_index():
    assert [0, 1, 2, 3][tm.tensor(2)] == 2 and operator.index(tm.tensor([[3]])) == 3
    assert list(range(tm.tensor(3))) == [0, 1, 2] and hex(tm.tensor(255)) == "0xff"
    assert operator.index(tm.tensor(True)) == 1
    for bad in (tm.tensor([3, 4]), tm.tensor(3.0), tm.tensor([])):
        with pytest.raises(TypeError, match="only integer tensors of a single element can be "
                                            "converted to an index"):
            operator.index(bad)


def test_scalar_conversions():
    assert int(tm.tensor(-2.7)) == -2 and float(tm.tensor(True)) == 1.0
    assert int(tm.tensor([[2.5]])) == 2 and complex(tm.tensor(3)) == 3 + 0j
    assert float(tm.tensor(2.5 + 0j)) == 2.5
    for conv in (int, float, complex):
        for t in (tm.tensor([1.0, 2.0]), tm.tensor([])):
            with pytest.raises(ValueError, match="only one element tensors can be converted "
                                                 "to Python scalars"):
                conv(t)
    with pytest.raises(RuntimeError, match="value cannot be converted to type int64_t without "
                                           "overflow"):
        int(tm.tensor(2.5 + 1j))
    with pytest.raises(RuntimeError, match="type double without overflow"):
        float(tm.tensor(2.5 + 1j))
    with pytest.raises(ValueError, match="cannot convert float NaN to integer"):
        int(tm.tensor(float("nan")))
    for t in (tm.tensor([1, 2]), tm.tensor([])):
        with pytest.raises(RuntimeError, match="Boolean value of Tensor with .* is ambiguous"):
            bool(t)


def test_float_of_a_tensor_requiring_grad_warns_once():
    from taimatsu import _tensor
    _tensor._warned_scalar[0] = False
    x = tm.tensor(2.0, requires_grad=True)
    with pytest.warns(UserWarning, match="Converting a tensor with requires_grad=True to a "
                                         "scalar may lead to unexpected behavior"):
        assert float(x) == 2.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        float(x)  # once per process
        with tm.no_grad():
            float(x)
        int(x)


def test_array_protocol():
    t = tm.arange(6.0).reshape(2, 3)
    view = np.asarray(t)
    assert np.shares_memory(view, t.numpy())
    assert np.array(t, copy=False) is not None and np.shares_memory(np.array(t, copy=False),
                                                                    t.numpy())
    assert not np.shares_memory(np.array(t, copy=True), t.numpy())
    assert np.asarray(t, dtype=np.float64).dtype == np.float64
    with pytest.raises(ValueError, match="Unable to avoid copy while creating an array as "
                                         "requested"):
        np.array(t, dtype=np.float64, copy=False)
    assert t.__array__(np.int64).dtype == np.int64
    assert np.asarray(tm.ones(2, requires_grad=True)).tolist() == [1.0, 1.0]


def test_numpy_ufuncs_return_tensors():
    out = np.sin(tm.tensor([0.0, 1.0]))
    assert type(out) is tm.Tensor and out.dtype is tm.float32
    assert type(np.exp(tm.tensor(0.0))) is tm.Tensor
    mask = np.greater(tm.tensor([1.0, 2.0]), 1.5)
    assert mask.dtype is tm.uint8 and mask.tolist() == [0, 1]  # as PyTorch


def test_builtins_over_tensors():
    assert sum([tm.tensor(1.0), tm.tensor(2.0)]).item() == 3.0
    assert sum(tm.tensor([[1, 2], [3, 4]])).tolist() == [4, 6]  # iterates over rows
    with pytest.raises(TypeError, match="iteration over a 0-d tensor"):
        sum(tm.tensor(1))
    assert max(tm.tensor([1, 3, 2])).item() == 3 and min(tm.tensor([1, 3, 2])).item() == 1
    with pytest.raises(RuntimeError, match="Boolean value of Tensor with more than one value"):
        max(tm.tensor([[1, 3], [2, 0]]))
    assert [x.item() for x in sorted(tm.tensor([3, 1, 2]))] == [1, 2, 3]
    assert [x.item() for x in reversed(tm.tensor([1, 2, 3]))] == [3, 2, 1]
    assert reversed(tm.tensor([[1, 2], [3, 4]])).tolist() == [[3, 4], [1, 2]]
    zero_d = tm.tensor(1)
    assert reversed(zero_d) is zero_d
    assert abs(tm.tensor([-2, 3])).tolist() == [2, 3]
    assert any(tm.tensor([0, 1])) and not all(tm.tensor([0, 1]))
    assert len(tm.zeros(4, 2)) == 4 and list(iter(tm.tensor([1, 2])))[1].item() == 2
    with pytest.raises(TypeError, match="len\\(\\) of a 0-d tensor"):
        len(tm.tensor(1))
    assert math.floor(tm.tensor(2.5)) == 2 and math.isclose(tm.tensor(2.5), 2.5)


def test_contains():
    t = tm.tensor([[1, 2], [3, 4]])
    assert 2 in t and 5 not in t and 2.0 in t and np.int64(4) in t
    assert tm.tensor([1, 2]) in t and 1 in tm.tensor(1)
    with pytest.raises(RuntimeError, match=r"Tensor.__contains__ only supports Tensor or "
                                           r"scalar, but you passed in a <class 'str'>."):
        "a" in t  # noqa: B015


def test_public_class_names():
    assert repr(tm.Tensor) == "<class 'taimatsu.Tensor'>"
    assert repr(tm.Size) == "<class 'taimatsu.Size'>"
    assert pickle.loads(pickle.dumps(tm.tensor([1, 2]))).tolist() == [1, 2]


@pytest.mark.parametrize("name", ["zeros", "ones", "empty"])
def test_factories_take_size_keyword_and_out(name):
    fn = getattr(tm, name)
    assert fn(size=(2, 3)).shape == (2, 3)
    with pytest.raises(TypeError, match="both positional sizes and size="):
        fn(2, size=(3,))
    out = tm.full((2,), 7.0, dtype=tm.float64)
    result = fn(2, out=out)
    assert result is out and out.dtype is tm.float64
    if name != "empty":
        assert out.tolist() == ([0.0, 0.0] if name == "zeros" else [1.0, 1.0])
