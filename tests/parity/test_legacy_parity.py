"""Legacy constructors, Python protocols and tensor() against PyTorch; module classes at
PyTorch's paths; whole-module checkpoints written by torch.save read by taimatsu.load."""

import collections
import io
import math
import operator
import os
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import taimatsu as tm
from taimatsu import nn, serialization

torch = pytest.importorskip("torch")

# torch's own notes on the cases compared (copy-construct advice, NumPy 2's __array__ and
# __array_wrap__ signatures) are not what is tested here.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


def _outcome(fn, m, first_line=False):
    """What `fn(m)` gives, comparable across frameworks: values, or the exception raised."""
    try:
        r = fn(m)
    except Exception as exc:  # noqa: BLE001  (the exception is what is compared)
        message = str(exc).replace("torch", "taimatsu")
        return ("raises", type(exc).__name__, message.split("\n")[0] if first_line else message)
    if isinstance(r, (torch.Tensor, tm.Tensor)):
        r = r.detach()
        values = r.tolist() if r.dtype not in (torch.bfloat16, tm.bfloat16) else \
            r.float().tolist()
        return ("tensor", str(r.dtype).split(".")[-1], tuple(r.shape), values)
    if isinstance(r, (list, tuple)) and r and isinstance(r[0], (torch.Tensor, tm.Tensor)):
        return ("tensors", [_outcome(lambda _, x=x: x, m) for x in r])
    return ("value", str(r).replace("torch", "taimatsu"))


def _check(fn, first_line=False):
    theirs, ours = _outcome(fn, torch, first_line), _outcome(fn, tm, first_line)
    assert ours == theirs


# -- legacy constructors -------------------------------------------------------------------
LEGACY_NAMES = ["FloatTensor", "DoubleTensor", "HalfTensor", "BFloat16Tensor", "LongTensor",
                "IntTensor", "ShortTensor", "CharTensor", "ByteTensor", "BoolTensor"]

CONSTRUCTOR_CASES = {
    "sizes": lambda m: m.Tensor(2, 3).shape,
    "size-kw": lambda m: m.FloatTensor(size=(2, 3)).shape,
    "Size": lambda m: m.Tensor(m.Size([2, 3])).shape,
    "numpy-int-sizes": lambda m: m.Tensor(np.int64(2), 3).shape,
    "list": lambda m: m.Tensor([1, 2]),
    "tuple": lambda m: m.Tensor((2, 3)),
    "empty": lambda m: m.Tensor(),
    "nested-empty": lambda m: m.Tensor([[]]),
    "range": lambda m: m.Tensor(range(3)),
    "deque": lambda m: m.Tensor(collections.deque([1, 2])),
    "numpy": lambda m: m.Tensor(np.arange(3)),
    "numpy-0d": lambda m: m.Tensor(np.array(2.0)),
    "int-tensor-alias": lambda m: m.Tensor(m.tensor([1, 2])),
    "tensors-list": lambda m: m.Tensor([m.tensor(1), m.tensor(2)]),
    "long-from-floats": lambda m: m.LongTensor([1.5, -2.7]),
    "byte": lambda m: m.ByteTensor([1, 2]),
    "bool": lambda m: m.BoolTensor([1, 0]),
    "float-of-numpy-int": lambda m: m.FloatTensor(np.arange(3)),
    "long-of-numpy-float": lambda m: m.LongTensor(np.arange(3.0)),
    "device-cpu": lambda m: m.Tensor([1, 2], device="cpu"),
    "data-kw": lambda m: m.Tensor(data=[1]),
    "other-kw": lambda m: m.Tensor(other=m.ones(1)),
    "float": lambda m: m.Tensor(2.5),
    "bool-arg": lambda m: m.Tensor(True),
    "none": lambda m: m.Tensor(None),
    "numpy-float": lambda m: m.Tensor(np.float32(2)),
    "generator": lambda m: m.Tensor(x for x in [1]),
    "set": lambda m: m.Tensor({1, 2}),
    "str": lambda m: m.Tensor("ab"),
    "list-of-str": lambda m: m.Tensor(["a"]),
    "ragged": lambda m: m.Tensor([[1, 2], [3]]),
    "negative": lambda m: m.FloatTensor(2, -1),
    "bad-size": lambda m: m.Tensor(2, "a"),
    "bad-size-float": lambda m: m.Tensor(2, 3.0),
    "overflow": lambda m: m.ByteTensor([300]),
    "cuda-device": lambda m: m.Tensor(2, device="cuda"),
    "wrong-dtype-alias": lambda m: m.LongTensor(m.tensor([1.0, 2.0])),
    "wrong-dtype-half": lambda m: m.HalfTensor(m.zeros(2)),
    "wrong-dtype-bool": lambda m: m.BoolTensor(m.zeros(2)),
    "alias-grad": lambda m: m.Tensor(m.ones(2, requires_grad=True)).grad_fn.name(),
    "alias-shares": lambda m: (lambda t: (m.Tensor(t).add_(1), t)[1])(m.zeros(2)),
    "new-empty": lambda m: m.zeros(2, dtype=m.int32).new(),
    "new-sizes": lambda m: m.zeros(2, dtype=m.int32).new(2, 3).shape,
    "new-data": lambda m: m.zeros(2, dtype=m.int32).new([1.5, 2]),
    "new-wrong-dtype": lambda m: m.zeros(2).new(m.zeros(2, dtype=m.int32)),
    "new-float": lambda m: m.zeros(2).new(3.5),
}
for _name in LEGACY_NAMES:
    CONSTRUCTOR_CASES[f"{_name}-sizes"] = lambda m, n=_name: getattr(m, n)(2, 3).dtype
    CONSTRUCTOR_CASES[f"{_name}-data"] = lambda m, n=_name: getattr(m, n)([1, 0])
    CONSTRUCTOR_CASES[f"{_name}-isinstance"] = lambda m, n=_name: [
        isinstance(m.zeros(1, dtype=d), getattr(m, n))
        for d in (m.float32, m.float64, m.float16, m.bfloat16, m.int64, m.int32, m.int16,
                  m.int8, m.uint8, m.bool)]

@pytest.mark.parametrize("case", list(CONSTRUCTOR_CASES), ids=list(CONSTRUCTOR_CASES))
def test_legacy_constructors(case):
    _check(CONSTRUCTOR_CASES[case])


def test_legacy_constructor_keyword_errors():
    for fn in (lambda m: m.Tensor(2, requires_grad=True),
               lambda m: m.FloatTensor(2, dtype=m.float64),
               lambda m: m.Tensor([1, 2], [3])):
        theirs, ours = _outcome(fn, torch), _outcome(fn, tm)
        assert ours[:2] == theirs[:2] == ("raises", "TypeError")
        # the same lines, less PyTorch's Storage form
        assert ours[2] == theirs[2].replace(" * (taimatsu.Storage storage)\n", "")


def test_legacy_type_relations():
    _check(lambda m: (issubclass(m.FloatTensor, m.Tensor), issubclass(m.Tensor, m.FloatTensor),
                      isinstance(m.nn.Parameter(m.zeros(2)), m.FloatTensor),
                      isinstance(m.zeros(2, requires_grad=True), m.FloatTensor),
                      isinstance(1.0, m.FloatTensor), repr(m.FloatTensor), m.FloatTensor.dtype,
                      m.FloatTensor.is_cuda, m.FloatTensor.is_sparse, m.FloatTensor.layout,
                      m.FloatTensor.__name__, m.FloatTensor.add(m.ones(2), 1).tolist()))


TYPE_CASES = {
    "name": lambda m: m.zeros(2).type().split(".")[-1],
    "name-int8": lambda m: m.zeros(2, dtype=m.int8).type().split(".")[-1],
    "name-complex": lambda m: m.zeros(2, dtype=m.complex64).type().split(".")[-1],
    "to-legacy": lambda m: m.zeros(2).type(m.DoubleTensor),
    "to-torch-string": lambda m: m.zeros(2).type("torch.LongTensor"),
    "to-dtype": lambda m: m.zeros(2).type(m.float64),
    "dtype-kw": lambda m: m.zeros(2).type(dtype=m.int32),
    "to-Tensor": lambda m: m.zeros(2, dtype=m.int64).type(m.Tensor),
    "same-is-self": lambda m: (lambda t: t.type(m.FloatTensor) is t)(m.zeros(2)),
    "bare-name": lambda m: m.zeros(2).type("LongTensor"),
    "dtype-string": lambda m: m.zeros(2).type("torch.float64"),
    "bogus": lambda m: m.zeros(2).type("torch.Bogus"),
    "int-class": lambda m: m.zeros(2).type(int),
}


@pytest.mark.parametrize("case", list(TYPE_CASES), ids=list(TYPE_CASES))
def test_type(case):
    _check(TYPE_CASES[case])


def test_type_names_use_our_prefix_and_accept_torchs():
    assert tm.zeros(2).type() == "taimatsu.FloatTensor"
    assert tm.zeros(2).type("taimatsu.DoubleTensor").dtype is tm.float64
    with pytest.raises(ValueError, match="invalid type: 'taimatsu.DoubleTensor'"):
        torch.zeros(2).type("taimatsu.DoubleTensor")  # PyTorch knows only its own spelling


NEW_CASES = {
    "zeros": lambda m: m.ones(2, dtype=m.float64).new_zeros(2, 3),
    "zeros-list": lambda m: m.ones(2, dtype=m.int32).new_zeros([2, 3]),
    "ones-size-kw": lambda m: m.ones(2, dtype=m.int32).new_ones(size=(2,)),
    "empty-0d": lambda m: m.ones(2, dtype=m.int32).new_empty(()).shape,
    "full": lambda m: m.ones(2, dtype=m.int32).new_full((2,), 3.7),
    "full-bool": lambda m: m.ones(2, dtype=m.bool).new_full((2,), 3),
    "tensor": lambda m: m.ones(2, dtype=m.float64).new_tensor([1, 2]),
    "tensor-scalar": lambda m: m.zeros(2).new_tensor(3),
    "tensor-dtype": lambda m: m.ones(2, dtype=m.float64).new_tensor([1, 2], dtype=m.int32),
    "tensor-detached": lambda m: m.zeros(2).new_tensor(
        m.ones(2, requires_grad=True)).requires_grad,
    "requires-grad": lambda m: m.zeros(2).new_zeros(2, requires_grad=True).requires_grad,
    "dtype-override": lambda m: m.zeros(2).new_zeros(2, dtype=m.int8),
    "missing-size": lambda m: m.zeros(2).new_ones(),
    "float-size": lambda m: m.zeros(2).new_zeros(2.5),
    "two-sizes": lambda m: m.zeros(2).new_zeros((2,), 3),
    "negative": lambda m: m.zeros(2).new_zeros(2, -1),
}


@pytest.mark.parametrize("case", list(NEW_CASES), ids=list(NEW_CASES))
def test_new_factories(case):
    _check(NEW_CASES[case])


# -- tensor() over Python data ----------------------------------------------------------------
TENSOR_CASES = {
    "deque": lambda m: m.tensor(collections.deque([[1.0, 2], [3, 4]])),
    "range": lambda m: m.tensor(range(3)),
    "ranges": lambda m: m.tensor([range(2), [1.5, 2]]),
    "tuple": lambda m: m.tensor((1, 2.0)),
    "generator": lambda m: m.tensor(x for x in range(3)),
    "set": lambda m: m.tensor({1, 2}),
    "dict-values": lambda m: m.tensor({"a": 1}.values()),
    "0d-tensors": lambda m: m.tensor([m.tensor(1.0), m.tensor(2.0)]),
    "0d-tensors-int": lambda m: m.tensor([m.tensor(1), m.tensor(2)]),
    "0d-mixed": lambda m: m.tensor([m.tensor(1), 2.5]),
    "0d-f64": lambda m: m.tensor([m.tensor(1.0, dtype=m.float64), m.tensor(2.0)]),
    "0d-f16": lambda m: m.tensor([m.tensor(1.0, dtype=m.float16)]),
    "0d-u8-i8": lambda m: m.tensor([m.tensor(1, dtype=m.int8), m.tensor(1, dtype=m.uint8)]),
    "0d-complex": lambda m: m.tensor([m.tensor(1.0 + 1j), 1]),
    "one-element-tensors": lambda m: m.tensor([m.tensor([[1.0]]), m.tensor([2.0])]),
    "multi-element-tensors": lambda m: m.tensor([m.tensor([1.0, 2]), m.tensor([2.0, 3])]),
    "tensor-row": lambda m: m.tensor([[2], m.tensor([1])]),
    "tensor-row-ragged": lambda m: m.tensor([[2.0], m.tensor([1.0, 2])]),
    "tensor-then-list": lambda m: m.tensor([m.tensor([1]), [2]]),
    "requires-grad-leaf": lambda m: m.tensor([m.tensor(1.0, requires_grad=True)]),
    "np-f32": lambda m: m.tensor(np.float32(1.5)),
    "np-f64": lambda m: m.tensor(np.float64(1.5)),
    "np-i32": lambda m: m.tensor(np.int32(1)),
    "np-u8": lambda m: m.tensor(np.uint8(1)),
    "np-bool": lambda m: m.tensor(np.bool_(True)),
    "np-f16": lambda m: m.tensor(np.float16(1)),
    "list-np-f32": lambda m: m.tensor([np.float32(1.5), np.float32(2)]),
    "list-py-then-np-f64": lambda m: m.tensor([1.5, np.float64(1.5)]),
    "list-np-u8-i8": lambda m: m.tensor([np.uint8(1), np.int8(1)]),
    "list-np-i8-float": lambda m: m.tensor([np.int8(1), 1.5]),
    "list-np-arrays": lambda m: m.tensor([np.zeros(2), np.ones(2)]),
    "list-np-array-and-list": lambda m: m.tensor([np.zeros(2, np.int32), [1.5, 2]]),
    "np-complex": lambda m: m.tensor([np.complex128(1j)]),
    "array-array": lambda m: m.tensor(__import__("array").array("d", [1, 2])),
    "memoryview": lambda m: m.tensor(memoryview(b"ab")),
    "size": lambda m: m.tensor(m.Size([2, 3])),
    "empty": lambda m: m.tensor([]),
    "empty-rows": lambda m: m.tensor([[], []]),
    "empty-then-ragged": lambda m: m.tensor([[], [1]]),
    "bool-int": lambda m: m.tensor([True, 2]),
    "mixed-kinds": lambda m: m.tensor([1, 2.0, True]),
    "complex": lambda m: m.tensor([1j, 2]),
    "ragged": lambda m: m.tensor([[1, 2], [3]]),
    "ragged-deep": lambda m: m.tensor([[[1, 2]], [[3]]]),
    "ragged-empty": lambda m: m.tensor([[1, 2], []]),
    "scalar-then-list": lambda m: m.tensor([[1, 2], 3]),
    "list-then-scalar": lambda m: m.tensor([1, [2, 3]]),
    "str": lambda m: m.tensor("ab"),
    "list-of-str": lambda m: m.tensor(["a", "b"]),
    "str-leaf": lambda m: m.tensor([[1.0], ["a"]]),
    "bytes-leaf": lambda m: m.tensor([b"a"]),
    "none": lambda m: m.tensor(None),
    "none-leaf": lambda m: m.tensor([1, None]),
    "object": lambda m: m.tensor(object()),
    "int-overflow": lambda m: m.tensor([2**63]),
    "int-overflow-scalar": lambda m: m.tensor(2**63),
    "int-min": lambda m: m.tensor(-2**63),
    "big-int-to-float": lambda m: m.tensor([2**64], dtype=m.float64),
    "u8-overflow": lambda m: m.tensor([300], dtype=m.uint8),
    "u8-wraps": lambda m: m.tensor([-255], dtype=m.uint8),
    "u8-too-negative": lambda m: m.tensor([-256], dtype=m.uint8),
    "i8-overflow": lambda m: m.tensor([128], dtype=m.int8),
    "i32-overflow": lambda m: m.tensor([2**31], dtype=m.int32),
    "nan-to-int": lambda m: m.tensor([float("nan")], dtype=m.int64),
    "inf-to-int": lambda m: m.tensor([float("inf")], dtype=m.int32),
    "float-u8-overflow": lambda m: m.tensor([300.5], dtype=m.uint8),
    "truncation": lambda m: m.tensor([1.7, -1.7], dtype=m.int64),
    "f16-overflow-is-inf": lambda m: m.tensor([1e6], dtype=m.float16),
    "complex-to-float": lambda m: m.tensor(1j, dtype=m.float32),
    "complex-to-int": lambda m: m.tensor([1 + 1j], dtype=m.int64),
    "tensor-u8-overflow": lambda m: m.tensor([m.tensor(300)], dtype=m.uint8),
    "as_tensor-list": lambda m: m.as_tensor([m.tensor(1.0), m.tensor(2.0)]),
    "as_tensor-range": lambda m: m.as_tensor(range(4)),
}


@pytest.mark.parametrize("case", list(TENSOR_CASES), ids=list(TENSOR_CASES))
def test_tensor_from_data(case):
    with np.errstate(all="ignore"):
        _check(TENSOR_CASES[case])


# -- Python protocols --------------------------------------------------------------------------
PROTOCOL_CASES = {
    "flags": lambda m: [getattr(m.zeros(2), p) for p in (
        "is_cuda", "is_cpu", "is_xpu", "is_mps", "is_meta", "is_quantized", "is_sparse",
        "is_mkldnn", "is_nested", "is_vulkan", "is_sparse_csr")],
    "format-0d": lambda m: f"{m.tensor(3.14159):.3f}",
    "format-0d-empty": lambda m: f"{m.tensor(3.14159)}",
    "format-0d-int": lambda m: f"{m.tensor(3):05d}",
    "format-0d-align": lambda m: f"{m.tensor(3):>5}",
    "format-0d-bool": lambda m: f"{m.tensor(True):>6}",
    "format-0d-grad": lambda m: f"{m.tensor(2.0, requires_grad=True):.2f}",
    "format-0d-bf16": lambda m: f"{m.tensor(2.5, dtype=m.bfloat16):.2f}",
    "format-0d-complex": lambda m: f"{m.tensor(2.5 + 1j):.2f}",
    "format-exp": lambda m: format(m.tensor(12345.0), ".1e"),
    "format-1d-spec": lambda m: f"{m.tensor([3.14]):.3f}",
    "format-2d-plain": lambda m: f"{m.tensor([[1.0, 2]])}",
    "format-parameter": lambda m: f"{m.nn.Parameter(m.tensor(2.0)):.2f}",
    "index-0d": lambda m: operator.index(m.tensor(3)),
    "index-1-element": lambda m: operator.index(m.tensor([[3]])),
    "index-2-elements": lambda m: operator.index(m.tensor([3, 4])),
    "index-float": lambda m: operator.index(m.tensor(3.0)),
    "index-bool": lambda m: operator.index(m.tensor(True)),
    "list-index": lambda m: [0, 1, 2, 3][m.tensor(2)],
    "range": lambda m: list(range(m.tensor(3))),
    "hex": lambda m: hex(m.tensor(255)),
    "int-many": lambda m: int(m.tensor([1, 2])),
    "int-none": lambda m: int(m.tensor([])),
    "float-many": lambda m: float(m.tensor([1.0, 2])),
    "complex-many": lambda m: complex(m.tensor([1.0, 2])),
    "int-trunc": lambda m: int(m.tensor(-2.7)),
    "int-complex": lambda m: int(m.tensor(2.7 + 1j)),
    "int-real-complex": lambda m: int(m.tensor(2.7 + 0j)),
    "float-complex": lambda m: float(m.tensor(2.7 + 1j)),
    "int-nan": lambda m: int(m.tensor(float("nan"))),
    "int-inf": lambda m: int(m.tensor(float("inf"))),
    "bool-many": lambda m: bool(m.tensor([1, 2])),
    "bool-none": lambda m: bool(m.tensor([])),
    "asarray": lambda m: str(np.asarray(m.tensor([1, 2])).dtype),
    "asarray-dtype": lambda m: np.asarray(m.tensor([1, 2]), dtype=np.float32).tolist(),
    "array-copy-shares": lambda m: (lambda t: np.shares_memory(np.array(t, copy=True),
                                                               t.numpy()))(m.tensor([1, 2])),
    "asarray-shares": lambda m: (lambda t: np.shares_memory(np.asarray(t), t.numpy()))(
        m.tensor([1, 2])),
    "array-no-copy-conversion": lambda m: np.array(m.tensor([1, 2]), dtype=np.float32,
                                                   copy=False),
    "ufunc": lambda m: np.sin(m.tensor([0.0, 1.0])),
    "ufunc-0d": lambda m: np.exp(m.tensor(0.0)),
    "ufunc-bool": lambda m: np.greater(m.tensor([1.0, 2.0]), 1.5),
    "sum-list": lambda m: sum([m.tensor(1.0), m.tensor(2.0)]),
    "sum-rows": lambda m: sum(m.tensor([[1, 2], [3, 4]])),
    "sum-0d": lambda m: sum(m.tensor(1)),
    "max-1d": lambda m: max(m.tensor([1, 3, 2])),
    "min-1d": lambda m: min(m.tensor([1, 3, 2])),
    "max-2d": lambda m: max(m.tensor([[1, 3], [2, 0]])),
    "max-list": lambda m: max([m.tensor(1.0), m.tensor(3.0), m.tensor(2.0)]),
    "sorted": lambda m: sorted(m.tensor([3, 1, 2])),
    "reversed": lambda m: list(reversed(m.tensor([1, 2, 3]))),
    "reversed-2d": lambda m: reversed(m.tensor([[1, 2], [3, 4]])),
    "reversed-0d": lambda m: reversed(m.tensor(1)),
    "in": lambda m: (2 in m.tensor([1, 2]), 5 in m.tensor([1, 2]), 2.0 in m.tensor([1, 2])),
    "in-row": lambda m: m.tensor([1, 2]) in m.tensor([[1, 2], [3, 4]]),
    "in-numpy-scalar": lambda m: np.int64(2) in m.tensor([1, 2]),
    "in-str": lambda m: "a" in m.tensor([1, 2]),
    "in-0d": lambda m: 1 in m.tensor(1),
    "iter-0d": lambda m: list(iter(m.tensor(1))),
    "len-0d": lambda m: len(m.tensor(1)),
    "iter-grad": lambda m: list(m.tensor([1.0, 2], requires_grad=True))[0].grad_fn.name(),
    "abs": lambda m: abs(m.tensor([-2.5, 1])),
    "round": lambda m: round(m.tensor(2.567), 2),
    "math": lambda m: (math.floor(m.tensor(2.5)), math.ceil(m.tensor(2.5)),
                       math.isclose(m.tensor(2.5), 2.5)),
    "any-all": lambda m: (any(m.tensor([0, 1])), all(m.tensor([0, 1]))),
    "class-repr": lambda m: (repr(m.Tensor), repr(m.Size), m.Tensor.__module__),
}


@pytest.mark.parametrize("case", list(PROTOCOL_CASES), ids=list(PROTOCOL_CASES))
def test_python_protocols(case):
    _check(PROTOCOL_CASES[case], first_line=case == "array-no-copy-conversion")


# -- module classes at PyTorch's paths ---------------------------------------------------------
def _torch_nn_classes():
    import inspect
    return sorted(n for n in dir(torch.nn) if not n.startswith("_")
                  and inspect.isclass(getattr(torch.nn, n)))


def test_nn_classes_live_at_torchs_module_paths():
    import importlib
    wrong, missing = [], []
    for name in _torch_nn_classes():
        theirs = getattr(torch.nn, name).__module__
        ours = getattr(nn, name, None)
        if ours is None:
            missing.append(name)
            continue
        expected = "taimatsu" + theirs[len("torch"):]
        if ours.__module__ != expected or getattr(importlib.import_module(expected), name,
                                                  None) is not ours:
            wrong.append(f"{name}: {ours.__module__} (torch: {theirs})")
    assert wrong == []
    # Classes taimatsu does not have yet (reported, kept from growing unnoticed).
    assert set(missing) <= {"AdaptiveLogSoftmaxWithLoss", "Container", "CrossMapLRN2d",
                            "DataParallel", "LinearCrossEntropyLoss",
                            "LinearCrossEntropyOptions"}


@pytest.mark.parametrize("path", [
    "modules.activation.MultiheadAttention", "modules.linear.Linear", "modules.linear.Identity",
    "modules.linear.Bilinear", "modules.conv.Conv2d", "modules.batchnorm.BatchNorm2d",
    "modules.sparse.Embedding", "modules.transformer.TransformerEncoderLayer",
    "modules.container.Sequential", "modules.dropout.Dropout",
    "modules.normalization.LayerNorm", "modules.pooling.MaxPool2d", "modules.loss.MSELoss",
    "modules.module.Module", "modules.rnn.RNNBase", "modules.rnn.LSTM", "parameter.Parameter",
])
def test_named_paths(path):
    import importlib
    module, _, name = f"nn.{path}".rpartition(".")
    ours = getattr(importlib.import_module(f"taimatsu.{module}"), name)
    theirs = getattr(importlib.import_module(f"torch.{module}"), name)
    assert ours.__module__ == "taimatsu" + theirs.__module__[len("torch"):]
    assert ours.__qualname__ == theirs.__qualname__


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
def test_flatten_parameters_is_a_no_op(cls):
    ours = getattr(nn, cls)(3, 4, num_layers=2)
    before = [p.data_ptr() for p in ours.parameters()]
    assert ours.flatten_parameters() is None
    assert [p.data_ptr() for p in ours.parameters()] == before
    assert getattr(torch.nn, cls)(3, 4).flatten_parameters() is None
    assert isinstance(ours, nn.modules.rnn.RNNBase)


# -- whole-module checkpoints written by torch.save --------------------------------------------
def _inputs(spec, m):
    rng = np.random.default_rng(0)
    if spec == "idx":
        return (m.tensor([[1, 2], [0, 3]]),)
    if spec == "qkv":
        x = m.tensor(rng.standard_normal((2, 3, 8)).astype(np.float32))
        return x, x, x
    return (m.tensor(rng.standard_normal(spec).astype(np.float32)),)


WHOLE_MODELS = {
    "mlp": (lambda n: n.Sequential(n.Linear(4, 8), n.ReLU(), n.Dropout(0.5), n.Linear(8, 2),
                                   n.LogSoftmax(dim=1)), (3, 4)),
    "cnn": (lambda n: n.Sequential(n.Conv2d(2, 4, 3, padding=1), n.BatchNorm2d(4), n.ReLU(),
                                   n.MaxPool2d(2), n.Flatten(), n.Linear(16, 3)),
            (2, 2, 4, 4)),
    "lstm": (lambda n: n.LSTM(4, 3, num_layers=2, batch_first=True), (2, 5, 4)),
    "gru-bidirectional": (lambda n: n.GRU(4, 3, bidirectional=True), (5, 2, 4)),
    "embedding": (lambda n: n.Embedding(10, 3, padding_idx=0), "idx"),
    "attention": (lambda n: n.MultiheadAttention(8, 2, batch_first=True), "qkv"),
    "encoder": (lambda n: n.TransformerEncoder(
        n.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True), 2,
        enable_nested_tensor=False), (2, 3, 8)),
    "norms": (lambda n: n.Sequential(n.LayerNorm(6), n.GELU(approximate="tanh"),
                                     n.GroupNorm(2, 6)), (2, 6)),
}


def _flat(out):
    if isinstance(out, (tuple, list)):
        return [y for x in out for y in _flat(x)]
    return [] if out is None else [out]


@pytest.mark.parametrize("name", list(WHOLE_MODELS), ids=list(WHOLE_MODELS))
def test_torch_whole_module_loads_as_ours(name):
    make, spec = WHOLE_MODELS[name]
    torch.manual_seed(0)
    theirs = make(torch.nn).eval()
    buf = io.BytesIO()
    torch.save(theirs, buf)
    buf.seek(0)
    ours = tm.load(buf, weights_only=False, map_location="cpu")
    assert type(ours).__name__ == type(theirs).__name__
    assert type(ours).__module__ == "taimatsu" + type(theirs).__module__[len("torch"):]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    with torch.no_grad():
        expected = _flat(theirs(*_inputs(spec, torch)))
    got = _flat(ours(*_inputs(spec, tm)))
    assert len(got) == len(expected)
    for a, b in zip(got, expected):
        np.testing.assert_allclose(a.detach().numpy(), b.numpy(), rtol=1e-5, atol=1e-6)
    # and it keeps training
    out = _flat(ours(*_inputs(spec, tm)))[0]
    if out.dtype.is_floating_point:
        out.float().sum().backward()
        assert all(p.grad is not None for p in ours.parameters() if p.requires_grad)


def test_torch_whole_module_with_weights_only_and_our_classes():
    buf = io.BytesIO()
    torch.save(torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Tanh()), buf)
    data = buf.getvalue()
    with pytest.raises(pickle.UnpicklingError,
                       match="GLOBAL torch.nn.modules.container.Sequential was not an allowed"):
        tm.load(io.BytesIO(data))
    with serialization.safe_globals([nn.Sequential, nn.Linear, nn.Tanh]):
        back = tm.load(io.BytesIO(data))
    assert type(back) is nn.Sequential and type(back[0]) is nn.Linear


def test_torch_class_without_counterpart_is_named():
    buf = io.BytesIO()
    torch.save(torch.nn.AdaptiveLogSoftmaxWithLoss(8, 10, [4]), buf)
    buf.seek(0)
    with pytest.raises(pickle.UnpicklingError,
                       match="needs torch.nn.modules.adaptive.AdaptiveLogSoftmaxWithLoss, and "
                             "taimatsu has no taimatsu.nn.modules.adaptive."
                             "AdaptiveLogSoftmaxWithLoss"):
        tm.load(buf, weights_only=False)


TORCH_MAIN = textwrap.dedent('''
    import torch
    from torch import nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv1d(2, 3, 3)
            self.fc = nn.Linear(3, 1)
            self.register_buffer("shift", torch.tensor([0.5]))

        def forward(self, x):
            return self.fc(self.conv(x).mean(-1)) + self.shift

    torch.manual_seed(0)
    model = Net()
    torch.save({"model": model, "optimizer": torch.optim.SGD(model.parameters(), 0.1,
               momentum=0.9).state_dict()}, "net.pt")
    torch.save(model(torch.ones(1, 2, 5)).detach(), "expected.pt")
''')

OURS_MAIN = textwrap.dedent('''
    import taimatsu as torch  # the script as `python -m taimatsu.compat` would run it
    from taimatsu import nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv1d(2, 3, 3)
            self.fc = nn.Linear(3, 1)
            self.register_buffer("shift", torch.tensor([0.5]))

        def forward(self, x):
            return self.fc(self.conv(x).mean(-1)) + self.shift

    ckpt = torch.load("net.pt", weights_only=False, map_location=torch.device("cpu"))
    model = ckpt["model"]
    assert type(model) is Net and type(model.conv) is nn.Conv1d
    assert torch.allclose(model(torch.ones(1, 2, 5)), torch.load("expected.pt"), atol=1e-6)
    opt = torch.optim.SGD(model.parameters(), 0.1, momentum=0.9)
    opt.load_state_dict(ckpt["optimizer"])
    model(torch.ones(1, 2, 5)).sum().backward()
    opt.step()
    print("ok")
''')


def test_torch_script_module_loads_into_our_script(tmp_path):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    for source in (TORCH_MAIN, OURS_MAIN):
        done = subprocess.run([sys.executable, "-c", source], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=180)
        assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


# -- the weights_only allow-list against PyTorch's --------------------------------------------
def test_numpy_in_torch_checkpoints_needs_the_same_globals():
    buf = io.BytesIO()
    torch.save({"a": np.arange(3.0), "s": np.float32(2.0), "w": torch.ones(2)}, buf)
    data = buf.getvalue()
    # PyTorch also wants the dtypes' classes (it checks what BUILD opcodes build); the
    # list that loads in PyTorch loads here.
    needed = [np._core.multiarray._reconstruct, np.ndarray, np.dtype,
              np._core.multiarray.scalar, np.dtypes.Float64DType, np.dtypes.Float32DType]
    for loader, safe_globals in ((torch.load, torch.serialization.safe_globals),
                                 (tm.load, serialization.safe_globals)):
        with pytest.raises(pickle.UnpicklingError, match="numpy._core.multiarray._reconstruct"):
            loader(io.BytesIO(data))
        with safe_globals(needed):
            back = loader(io.BytesIO(data))
        assert back["a"].tolist() == [0.0, 1.0, 2.0] and back["s"] == np.float32(2.0)
    assert sorted(serialization.get_unsafe_globals_in_checkpoint(io.BytesIO(data))) == sorted(
        torch.serialization.get_unsafe_globals_in_checkpoint(io.BytesIO(data)))


class Point:
    def __init__(self, x, y):
        self.x, self.y = x, y


def test_own_class_in_torch_checkpoint():
    buf = io.BytesIO()
    torch.save({"p": Point(1, torch.ones(2))}, buf)
    data = buf.getvalue()
    for loader, add, clear in ((torch.load, torch.serialization.add_safe_globals,
                                torch.serialization.clear_safe_globals),
                               (tm.load, serialization.add_safe_globals,
                                serialization.clear_safe_globals)):
        with pytest.raises(pickle.UnpicklingError, match=f"GLOBAL {__name__}.Point was not an "
                                                         "allowed global by default"):
            loader(io.BytesIO(data))
        add([Point])
        try:
            back = loader(io.BytesIO(data))
        finally:
            clear()
        assert back["p"].x == 1 and back["p"].y.tolist() == [1.0, 1.0]
