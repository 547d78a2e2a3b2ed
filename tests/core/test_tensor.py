"""Tensor basics: attributes, conversions, memory sharing, pickling and user errors."""

import copy
import pickle

import numpy as np
import pytest

import taimatsu as tm
from taimatsu.testing import assert_close


def test_attributes():
    t = tm.zeros(2, 3)
    assert t.shape == (2, 3) and isinstance(t.shape, tm.Size)
    assert repr(t.shape) == "taimatsu.Size([2, 3])"
    assert t.size() == (2, 3) and t.size(1) == 3 and t.size(-1) == 3
    assert t.dim() == t.ndim == 2
    assert t.numel() == 6 and t.element_size() == 4 and t.nbytes == 24
    assert t.dtype is tm.float32 and t.device == tm.device("cpu")
    assert t.is_leaf and not t.requires_grad and t.grad is None and t.grad_fn is None
    assert t.stride() == (3, 1) and t.is_contiguous()
    assert t.storage_offset() == 0


def test_size_dim_out_of_range():
    with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range "
                       r"of \[-2, 1\], but got 2\)"):
        tm.zeros(2, 3).size(2)


def test_from_numpy_and_numpy_share_memory():
    arr = np.arange(4, dtype=np.float64)
    t = tm.from_numpy(arr)
    arr[0] = 10
    assert t[0].item() == 10.0 if hasattr(tm.Tensor, "__getitem__") else t.tolist()[0] == 10
    t.numpy()[1] = 20
    assert arr[1] == 20
    assert t.dtype is tm.float64


def test_from_numpy_rejects_unsupported_dtype():
    with pytest.raises(TypeError, match="can't convert np.ndarray of type numpy.uint16"):
        tm.from_numpy(np.zeros(2, dtype=np.uint16))


def test_tensor_copies_data():
    arr = np.ones(3)
    t = tm.tensor(arr)
    arr[0] = 5
    assert t.tolist() == [1.0, 1.0, 1.0]


def test_item_and_python_conversions():
    assert tm.tensor(2.5).item() == 2.5
    assert float(tm.tensor([1.5])) == 1.5
    assert int(tm.tensor(7)) == 7
    assert [10, 20, 30][tm.tensor(1)] == 20
    with pytest.raises(RuntimeError, match="a Tensor with 2 elements cannot be converted to "
                       "Scalar"):
        tm.tensor([1.0, 2.0]).item()
    with pytest.raises(TypeError, match="only integer tensors of a single element"):
        [1, 2][tm.tensor(1.0)]


def test_bool_of_tensor():
    assert bool(tm.tensor([1.0])) and not bool(tm.tensor(0))
    with pytest.raises(RuntimeError, match="Boolean value of Tensor with more than one value "
                       "is ambiguous"):
        bool(tm.tensor([1, 2]))


def test_len_and_zero_dim_errors():
    assert len(tm.zeros(4, 2)) == 4
    with pytest.raises(TypeError, match="len\\(\\) of a 0-d tensor"):
        len(tm.tensor(1.0))
    with pytest.raises(TypeError, match="iteration over a 0-d tensor"):
        iter(tm.tensor(1.0))


def test_hash_is_identity():
    a, b = tm.zeros(2), tm.zeros(2)
    assert len({a, b}) == 2 and hash(a) == id(a)


def test_numpy_refuses_requires_grad():
    x = tm.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"Can't call numpy\(\) on Tensor that requires "
                       r"grad. Use tensor.detach\(\).numpy\(\) instead."):
        x.numpy()
    assert x.detach().numpy().tolist() == [1.0, 1.0]
    assert np.asarray(x).tolist() == [1.0, 1.0]


def test_requires_grad_only_for_float():
    with pytest.raises(RuntimeError, match="only Tensors of floating point and complex dtype "
                       "can require gradients"):
        tm.tensor([1, 2], requires_grad=True)


def test_to_and_type_conversions():
    t = tm.tensor([1.7, -2.2])
    assert t.to(tm.int64).tolist() == [1, -2]
    assert t.long().dtype is tm.int64 and t.double().dtype is tm.float64
    assert t.half().dtype is tm.float16 and t.bfloat16().dtype is tm.bfloat16
    assert t.to("cpu") is t and t.to(tm.float32) is t
    assert t.to(tm.float32, copy=True) is not t
    assert t.type() == "taimatsu.FloatTensor"
    assert t.type("taimatsu.DoubleTensor").dtype is tm.float64
    assert t.to(tm.zeros(1, dtype=tm.float64)).dtype is tm.float64


def test_to_is_differentiable():
    x = tm.tensor([1.0, 2.0], requires_grad=True)
    y = x.to(tm.float64) * 3
    assert y.grad_fn.name() == "MulBackward0"
    y.backward(tm.ones(2, dtype=tm.float64))
    assert x.grad.dtype is tm.float32 and x.grad.tolist() == [3.0, 3.0]


def test_cuda_without_gpu_names_what_is_missing():
    if tm.cuda.is_available():
        pytest.skip("a GPU is present")
    assert tm.cuda.device_count() == 0
    with pytest.raises(RuntimeError, match="CUDA"):
        tm.zeros(2).cuda()
    with pytest.raises(RuntimeError, match="CUDA"):
        tm.zeros(2, device="cuda")


def test_device_parsing():
    assert tm.device("cuda:1").index == 1 and tm.device("cuda:1").type == "cuda"
    assert str(tm.device("cuda", 0)) == "cuda:0"
    assert repr(tm.device("cpu")) == "device(type='cpu')"
    assert tm.device("cpu") == "cpu"
    with pytest.raises(RuntimeError, match="Expected one of cpu, cuda device type at start of "
                       "device string: gpu"):
        tm.device("gpu")


def test_pickle_round_trip():
    t = tm.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    back = pickle.loads(pickle.dumps(t))
    assert back.tolist() == t.tolist() and back.requires_grad and back.is_leaf
    assert pickle.loads(pickle.dumps(tm.float16)) is tm.float16
    assert pickle.loads(pickle.dumps(tm.device("cpu"))) == tm.device("cpu")


def test_deepcopy():
    t = tm.tensor([1.0, 2.0], requires_grad=True)
    c = copy.deepcopy(t)
    assert c is not t and c.requires_grad and c.tolist() == [1.0, 2.0]
    c.data.numpy()[0] = 9
    assert t.tolist() == [1.0, 2.0]
    with pytest.raises(RuntimeError, match="Only Tensors created explicitly by the user"):
        copy.deepcopy(t * 2)


def test_dlpack_round_trip():
    t = tm.arange(6, dtype=tm.float32)
    back = tm.from_dlpack(t.__dlpack__())
    assert back.tolist() == t.tolist()
    assert np.from_dlpack(t).tolist() == t.tolist()


def test_data_and_detach():
    x = tm.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    d = y.detach()
    assert not d.requires_grad and d._version == y._version
    x.data = tm.tensor([5.0, 6.0])
    assert x.tolist() == [5.0, 6.0] and x.requires_grad


def test_creation_functions():
    assert tm.zeros(2, 3).tolist() == [[0.0] * 3] * 2
    assert tm.ones((2,), dtype=tm.int32).dtype is tm.int32
    assert tm.full((2,), 7).dtype is tm.int64
    assert tm.full((2,), 7.0).dtype is tm.float32
    assert tm.eye(2, 3).tolist() == [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
    assert tm.arange(5).dtype is tm.int64 and tm.arange(0, 1, 0.25).tolist() == [0.0, 0.25,
                                                                                  0.5, 0.75]
    assert_close(tm.linspace(0, 1, 5), tm.tensor([0.0, 0.25, 0.5, 0.75, 1.0]))
    assert_close(tm.logspace(0, 2, 3), tm.tensor([1.0, 10.0, 100.0]))
    x = tm.ones(2, dtype=tm.float64)
    assert x.new_zeros(3).dtype is tm.float64
    assert tm.zeros_like(x).dtype is tm.float64 and tm.full_like(x, 2).tolist() == [2.0, 2.0]
    with pytest.raises(RuntimeError, match="Trying to create tensor with negative dimension"):
        tm.zeros(-1)


def test_tensor_constructor_forms():
    assert tm.Tensor(2, 3).shape == (2, 3)
    assert tm.Tensor([1, 2]).dtype is tm.float32


def test_bfloat16_arithmetic():
    a = tm.tensor([1.5, 2.25], dtype=tm.bfloat16)
    assert (a + a).dtype is tm.bfloat16 and (a + a).tolist() == [3.0, 4.5]
    assert (a + tm.tensor([1.0], dtype=tm.float16)).dtype is tm.float32
