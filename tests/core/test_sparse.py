"""Tests for taimatsu.sparse: COO tensors, their ops, gradients, errors and printing."""

import copy
import pickle

import numpy as np
import pytest

import taimatsu as tm
from taimatsu.autograd import gradcheck, gradgradcheck
from taimatsu.sparse import _kernels

RNG = np.random.default_rng(0)
# (0, 2) is stored twice: an uncoalesced tensor
IDX = [[0, 1, 1, 0], [2, 0, 2, 2]]
VALS = [3.0, 4.0, 5.0, 1.0]
DENSE = np.array([[0.0, 0.0, 4.0], [4.0, 0.0, 5.0]])


def sp(values=VALS, indices=IDX, size=(2, 3), **kw):
    return tm.sparse_coo_tensor(indices, values, size, **kw)


def leaf64(values=VALS):
    return tm.tensor(values, dtype=tm.float64, requires_grad=True)


def rand(*shape, requires_grad=False):
    return tm.tensor(RNG.standard_normal(shape), dtype=tm.float64,
                     requires_grad=requires_grad)


def random_sparse(shape, nnz, dtype=tm.float64, duplicates=True):
    """A sparse tensor with random positions (duplicates allowed) and its dense value."""
    rows = np.stack([RNG.integers(0, n, nnz) for n in shape])
    if not duplicates:
        keys = np.unique(np.ravel_multi_index(rows, shape))
        rows = np.stack(np.unravel_index(keys, shape))
    values = RNG.standard_normal(rows.shape[1])
    dense = np.zeros(shape)
    np.add.at(dense, tuple(rows), values)
    return tm.sparse_coo_tensor(tm.tensor(rows), tm.tensor(values, dtype=dtype), shape), dense


# -- what a sparse tensor is ------------------------------------------------------------------

def test_is_a_tensor_with_the_sparse_layout():
    s = sp()
    assert isinstance(s, tm.Tensor)
    assert s.layout is tm.sparse_coo and s.is_sparse and not tm.ones(1).is_sparse
    assert s.shape == tm.Size([2, 3]) and s.size() == (2, 3) and s.size(-1) == 3
    assert (s.dtype, s.device, s.ndim, s.dim(), s.numel(), len(s)) == (
        tm.float32, tm.device("cpu"), 2, 2, 6, 2)
    assert (s._nnz(), s.sparse_dim(), s.dense_dim()) == (4, 2, 0)
    assert not s.requires_grad and s.is_leaf and s.grad is None and not s.is_cuda
    assert s.element_size() == 4 and s.get_device() == -1 and s.stride() == (0, 0)
    assert not s.is_contiguous() and s.type() == "taimatsu.sparse.FloatTensor"


def test_construction_shares_memory_and_infers_size():
    indices = tm.tensor(IDX)
    values = tm.tensor(VALS)
    s = tm.sparse_coo_tensor(indices, values)
    assert s.shape == (2, 3)
    values[0] = 100.0
    assert s._values()[0].item() == 100.0 and s._indices().data_ptr() == indices.data_ptr()
    hybrid = tm.sparse_coo_tensor(IDX, tm.ones(4, 2))
    assert hybrid.shape == (2, 3, 2) and (hybrid.sparse_dim(), hybrid.dense_dim()) == (2, 1)
    assert tm.sparse_coo_tensor(tm.zeros(2, 0, dtype=tm.int64), tm.zeros(0)).shape == (0, 0)


def test_construction_from_python_and_numpy_values():
    s = tm.sparse_coo_tensor([[0, 1], [1, 0]], [1, 2], (2, 2))
    assert s.dtype is tm.int64
    assert tm.sparse_coo_tensor(np.array([[0], [1]]), 2.5).shape == (1, 2)
    s = tm.sparse_coo_tensor(tm.tensor([[0.9, 1.2]]), [1.0, 2.0], (3,))  # truncated indices
    assert s._indices().tolist() == [[0, 1]]
    s = tm.sparse_coo_tensor(IDX, tm.tensor([1, 2, 3, 4]), (2, 3), dtype=tm.float64)
    assert s.dtype is tm.float64
    s = tm.sparse_coo_tensor(np.array(IDX).T.T, np.ones(4), (2, 3))  # non-contiguous indices
    assert s.to_dense().sum().item() == 4.0


def test_size_only_overload_and_legacy_constructors():
    s = tm.sparse_coo_tensor((2, 3))
    assert s.shape == (2, 3) and s._nnz() == 0 and s.is_coalesced()
    f = tm.sparse.FloatTensor(tm.tensor(IDX), tm.tensor(VALS), tm.Size([2, 3]))
    assert f.dtype is tm.float32 and isinstance(f, tm.sparse.FloatTensor)
    assert not isinstance(f, tm.sparse.DoubleTensor)
    assert not isinstance(tm.ones(2), tm.sparse.FloatTensor)
    assert tm.sparse.DoubleTensor(2, 3).shape == (2, 3)


def test_coalesced_flag_follows_torch():
    assert not sp().is_coalesced()
    assert sp([1.0], [[1], [2]]).is_coalesced()  # nnz < 2
    assert sp(is_coalesced=True).is_coalesced()  # trusted without check_invariants
    with pytest.raises(RuntimeError, match="cannot set is_coalesced to true"):
        sp(is_coalesced=True, check_invariants=True)
    with tm.sparse.check_sparse_tensor_invariants():
        with pytest.raises(RuntimeError, match="cannot set is_coalesced to true"):
            sp(is_coalesced=True)
    assert not tm.sparse.check_sparse_tensor_invariants.is_enabled()
    assert sp([1.0, 2.0], [[0, 1], [2, 0]], is_coalesced=True,
              check_invariants=True).is_coalesced()


@pytest.mark.parametrize("args, kwargs, error, message", [
    (([[0, 1]], [1.0], (3,)), {}, RuntimeError,
     "indices and values must have same nnz, but got nnz from indices: 2, nnz from values: 1"),
    ((tm.zeros(2, 2, 2, dtype=tm.int64), [1.0, 2.0], (2, 3)), {}, RuntimeError,
     "indices must be sparse_dim x nnz, but got: [2, 2, 2]"),
    ((IDX, VALS, (2,)), {}, RuntimeError,
     "'len(size) == sparse_dim + dense_dim' is not satisfied: len(size) = 1, sparse_dim = 2, "
     "dense_dim = 0"),
    ((IDX, tm.ones(4, 2), (2, 3, 4)), {}, RuntimeError,
     "values has incorrect size, expected [4, 4], got [4, 2]"),
    ((IDX, VALS, (2, 2)), {}, RuntimeError,
     "size is inconsistent with indices: for dim 1, size is 2 but found index 2"),
    (([[0, -1]], [1.0, 2.0], (3,)), {}, RuntimeError, "found negative index -1 for dim 0"),
    ((IDX, [1, 2, 3, 4], (2, 3)), {"requires_grad": True}, RuntimeError,
     "Only Tensors of floating point and complex dtype can require gradients"),
])
def test_construction_errors(args, kwargs, error, message):
    with pytest.raises(error) as info:
        tm.sparse_coo_tensor(*args, **kwargs)
    assert str(info.value) == message


# -- coalesce, indices, values, dense <-> sparse ----------------------------------------------

def test_coalesce_sums_duplicates_in_sorted_order():
    s = sp([1.0, 2.0, 3.0], [[1, 0, 1], [0, 2, 0]])
    c = s.coalesce()
    assert c.is_coalesced() and c.coalesce() is c and s.coalesce() is not s
    assert c.indices().tolist() == [[0, 1], [2, 0]] and c.values().tolist() == [2.0, 4.0]
    with pytest.raises(RuntimeError, match="Cannot get indices on an uncoalesced tensor"):
        s.indices()
    with pytest.raises(RuntimeError, match="Cannot get values on an uncoalesced tensor"):
        s.values()
    assert s._values().tolist() == [1.0, 2.0, 3.0]


def test_coalesce_matches_dense_on_random_tensors():
    s, dense = random_sparse((5, 4, 3), 40)
    c = s.coalesce()
    np.testing.assert_allclose(c.to_dense().numpy(), dense)
    keys = np.ravel_multi_index(c.indices().numpy(), (5, 4, 3))
    assert (np.diff(keys) > 0).all()


def test_coalesce_of_a_huge_shape_uses_lexicographic_order():
    big = 2 ** 40
    s = tm.sparse_coo_tensor([[3, 1, 3], [big - 1, 5, big - 1], [7, 0, 7]], [1.0, 2.0, 3.0],
                             (4, big, big))
    c = s.coalesce()
    assert c.indices().tolist() == [[1, 3], [5, big - 1], [0, 7]]
    assert c.values().tolist() == [2.0, 4.0]
    assert tm.sparse_coo_tensor(c.indices(), c.values(), c.shape, is_coalesced=True,
                                check_invariants=True).is_coalesced()


def test_to_dense_sums_duplicates_and_hybrid():
    np.testing.assert_array_equal(sp().to_dense().numpy(), DENSE)
    h = tm.sparse_coo_tensor(IDX, tm.arange(8.0).reshape(4, 2), (2, 3, 2))
    expected = np.zeros((2, 3, 2))
    np.add.at(expected, tuple(np.array(IDX)), np.arange(8.0).reshape(4, 2))
    np.testing.assert_array_equal(h.to_dense().numpy(), expected)
    assert sp().to_dense(tm.float64).dtype is tm.float64
    dense = tm.ones(2)
    assert dense.to_dense() is dense


def test_to_sparse_roundtrip_and_sparse_dim():
    x = tm.tensor([[0.0, 1.0, 0.0], [2.0, 0.0, 0.0]])
    s = x.to_sparse()
    assert s.is_coalesced() and s.indices().tolist() == [[0, 1], [1, 0]]
    assert s.values().tolist() == [1.0, 2.0] and s.to_sparse() is s
    rows = x.to_sparse(1)
    assert rows.indices().tolist() == [[0, 1]] and rows.values().shape == (2, 3)
    np.testing.assert_array_equal(rows.to_dense().numpy(), x.numpy())
    scalar = x.to_sparse(0)
    assert scalar.shape == (2, 3) and scalar._nnz() == 1
    np.testing.assert_array_equal(scalar.to_dense().numpy(), x.numpy())
    with pytest.raises(RuntimeError, match=r"sparse_dim argument must be in \[0,2\] range, but "
                                           "3 is given"):
        x.to_sparse(3)
    with pytest.raises(RuntimeError, match="conversion from Sparse to Sparse"):
        s.to_sparse(1)


def test_dense_tensors_refuse_sparse_only_methods():
    x = tm.ones(2)
    for name in ("coalesce", "is_coalesced", "indices", "values", "_indices", "_values"):
        with pytest.raises(RuntimeError, match="expected sparse coordinate tensor layout but "
                                               "got Strided"):
            getattr(x, name)()
    with pytest.raises(NotImplementedError, match="'aten::_nnz' with arguments from the 'CPU'"):
        x._nnz()
    assert (x.sparse_dim(), x.dense_dim()) == (0, 1)


def test_sparse_mask():
    mask = sp().coalesce()
    x = tm.arange(6.0).reshape(2, 3)
    out = x.sparse_mask(mask)
    assert out.indices().tolist() == mask.indices().tolist()
    assert out.values().tolist() == [2.0, 3.0, 5.0]


# -- products ----------------------------------------------------------------------------------

@pytest.mark.parametrize("fn", [lambda s, d: s @ d, tm.mm, tm.matmul, tm.spmm, tm.sparse.mm,
                                lambda s, d: s.mm(d)])
def test_sparse_at_dense_matches_dense(fn):
    s, dense = random_sparse((6, 5), 12)
    d = rand(5, 3)
    np.testing.assert_allclose(fn(s, d).numpy(), dense @ d.numpy(), rtol=1e-12)


def test_dense_at_sparse_matrix_vector_and_batched():
    s, dense = random_sparse((6, 5), 12)
    left = rand(4, 6)
    np.testing.assert_allclose((left @ s).numpy(), left.numpy() @ dense, rtol=1e-12)
    np.testing.assert_allclose(tm.mm(left, s).numpy(), left.numpy() @ dense, rtol=1e-12)
    vec = rand(5)
    np.testing.assert_allclose((s @ vec).numpy(), dense @ vec.numpy(), rtol=1e-12)
    np.testing.assert_allclose((rand(6) @ s).shape, (5,))
    b, b_dense = random_sparse((3, 4, 5), 20)
    d = rand(3, 5, 2)
    np.testing.assert_allclose(tm.bmm(b, d).numpy(), b_dense @ d.numpy(), rtol=1e-12)


def test_sparse_at_sparse_is_sparse():
    a, a_dense = random_sparse((4, 5), 8)
    b, b_dense = random_sparse((5, 3), 7)
    out = tm.sparse.mm(a, b)
    assert out.is_sparse and out.is_coalesced()
    np.testing.assert_allclose(out.to_dense().numpy(), a_dense @ b_dense, atol=1e-12)
    assert (a @ b).is_sparse


def test_addmm_and_sparse_addmm():
    s, dense = random_sparse((4, 5), 8)
    m, d = rand(4, 3), rand(5, 3)
    expected = 0.5 * m.numpy() + 2.0 * dense @ d.numpy()
    np.testing.assert_allclose(tm.addmm(m, s, d, beta=0.5, alpha=2.0).numpy(), expected)
    np.testing.assert_allclose(tm.sparse.addmm(m, s, d, beta=0.5, alpha=2.0).numpy(), expected)
    nan = tm.full((4, 3), float("nan"), dtype=tm.float64)
    assert not tm.sparse.addmm(nan, s, d, beta=0).isnan().any()
    np.testing.assert_allclose(tm.addmm(rand(3), s, d).shape, (4, 3))  # input broadcasts


def test_spmm_reference_kernel_without_scipy(monkeypatch):
    s, dense = random_sparse((6, 5), 15)
    d = rand(5, 4, requires_grad=True)
    monkeypatch.setattr(_kernels, "_scipy_csr", lambda *args: None)
    out = tm.sparse.mm(s, d)
    np.testing.assert_allclose(out.detach().numpy(), dense @ d.detach().numpy(), rtol=1e-12)
    out.sum().backward()
    np.testing.assert_allclose(d.grad.numpy(), dense.T @ np.ones((6, 4)), rtol=1e-12)


@pytest.mark.parametrize("dtype", [tm.float16, tm.bfloat16, tm.int64, tm.complex64])
def test_sparse_mm_dtypes(dtype):
    s = sp(tm.tensor([1, 2, 3, 4]).to(dtype))
    d = tm.ones(3, 2, dtype=dtype)
    out = s @ d
    assert out.dtype is dtype
    wide = tm.complex128 if dtype.is_complex else tm.float64
    np.testing.assert_allclose(out.to(wide).numpy(), [[5, 5], [5, 5]])


@pytest.mark.parametrize("fn, error, message", [
    (lambda s: tm.mm(s, tm.ones(2, 2)), RuntimeError,
     "addmm: Argument #3 (dense): Expected dim 0 size 3, got 2"),
    (lambda s: tm.mm(s, tm.ones(3, 2, dtype=tm.float64)), RuntimeError,
     "expected scalar type Float but found Double"),
    (lambda s: tm.mm(s, s), RuntimeError,
     "mat1 and mat2 shapes cannot be multiplied (2x3 and 2x3)"),
    (lambda s: tm.mm(tm.ones(2, 3), s), RuntimeError,
     "mat1 and mat2 shapes cannot be multiplied (2x3 and 2x3)"),
    (lambda s: tm.matmul(s, tm.ones(2, 3, 2)), RuntimeError,
     "expand is unsupported for Sparse tensors"),
    (lambda s: tm.mm(tm.sparse_coo_tensor(tm.zeros(3, 1, dtype=tm.int64), tm.ones(1),
                                          (1, 1, 1)), tm.ones(1, 2)), RuntimeError,
     "addmm: matrices expected, got 3D tensor"),
])
def test_product_errors(fn, error, message):
    with pytest.raises(error) as info:
        fn(sp())
    assert str(info.value) == message


# -- arithmetic --------------------------------------------------------------------------------

def test_dense_plus_minus_sparse_is_dense():
    d = tm.ones(2, 3)
    np.testing.assert_array_equal((d + sp()).numpy(), 1 + DENSE)
    np.testing.assert_array_equal((d - sp()).numpy(), 1 - DENSE)
    out = tm.ones(2, 3, dtype=tm.int64) + sp()
    assert out.dtype is tm.float32 and not out.is_sparse


def test_sparse_plus_dense_is_refused_as_by_torch():
    message = "add(sparse, dense) is not supported. Use add(dense, sparse) instead."
    for fn in (lambda s: s + tm.ones(2, 3), lambda s: s + 1, lambda s: s - tm.ones(2, 3),
               lambda s: s.add(tm.ones(2, 3))):
        with pytest.raises(RuntimeError) as info:
            fn(sp())
        assert str(info.value) == message
    with pytest.raises(RuntimeError, match="dense-sparse addition does not currently support "
                                           "broadcasting"):
        tm.ones(3) + sp()


def test_sparse_plus_sparse():
    a, a_dense = random_sparse((4, 3), 6)
    b, b_dense = random_sparse((4, 3), 5)
    out = a + b
    assert out.is_sparse and not out.is_coalesced() and out._nnz() == 11
    np.testing.assert_allclose(out.to_dense().numpy(), a_dense + b_dense)
    merged = a.coalesce() + b.coalesce()
    assert merged.is_coalesced()
    np.testing.assert_allclose(merged.to_dense().numpy(), a_dense + b_dense)
    np.testing.assert_allclose((a - b).to_dense().numpy(), a_dense - b_dense)
    np.testing.assert_allclose(tm.sparse.sum(a.add(b, alpha=2)).item(),
                               a_dense.sum() + 2 * b_dense.sum())
    assert (sp() + sp().double()).dtype is tm.float64
    with pytest.raises(RuntimeError, match=r"expected sizes of 'self' and 'other' to match, "
                                           r"but \[2, 3\] != \[3, 3\]"):
        sp() + sp(size=(3, 3))


def test_multiplication_and_division():
    s = sp()
    np.testing.assert_array_equal((s * 2).to_dense().numpy(), 2 * DENSE)
    np.testing.assert_array_equal((2 * s).to_dense().numpy(), 2 * DENSE)
    np.testing.assert_array_equal((s * tm.tensor(3.0)).to_dense().numpy(), 3 * DENSE)
    np.testing.assert_array_equal((s / 2).to_dense().numpy(), DENSE / 2)
    np.testing.assert_array_equal((-s).to_dense().numpy(), -DENSE)
    d = tm.arange(6.0).reshape(2, 3)
    for out in (s * d, d * s, s * tm.arange(3.0)):
        assert out.is_sparse
    np.testing.assert_array_equal((s * d).to_dense().numpy(), DENSE * d.numpy())
    np.testing.assert_array_equal((s * s).to_dense().numpy(), DENSE ** 2)
    assert (s * 2).is_coalesced() is False and (s * s).is_coalesced()
    assert (sp([1, 2, 3, 4]) * 1.5).dtype is tm.float32
    with pytest.raises(RuntimeError, match=r"Sparse division requires a scalar or zero-dim "
                                           r"dense tensor divisor \(got shape \[2, 3\]"):
        s / d
    with pytest.raises(RuntimeError, match="must match the size of tensor b"):
        tm.ones(3, 3) * s


@pytest.mark.parametrize("name", ["abs", "sin", "tanh", "sqrt", "expm1", "log1p", "floor",
                                  "relu", "square", "sign", "neg", "deg2rad", "erf", "trunc"])
def test_zero_preserving_functions_act_on_values(name):
    s = sp([0.25, -0.5, 0.75, 0.125]) if name != "sqrt" else sp([0.25, 0.5, 0.75, 0.125])
    out = getattr(s, name)()
    assert out.is_sparse
    expected = getattr(tm, name)(s.to_dense())
    np.testing.assert_allclose(out.to_dense().numpy(), expected.numpy(), rtol=1e-6)


def test_pow_coalesces_first():
    out = sp() ** 2
    assert out.is_coalesced()
    np.testing.assert_array_equal(out.to_dense().numpy(), DENSE ** 2)


# -- shape -------------------------------------------------------------------------------------

def test_transpose_select_and_iteration():
    s = sp()
    np.testing.assert_array_equal(s.t().to_dense().numpy(), DENSE.T)
    np.testing.assert_array_equal(s.transpose(0, 1).to_dense().numpy(), DENSE.T)
    assert not s.coalesce().t().is_coalesced()
    np.testing.assert_array_equal(s[1].to_dense().numpy(), DENSE[1])
    np.testing.assert_array_equal(s.select(1, 2).to_dense().numpy(), DENSE[:, 2])
    assert [r.to_dense().tolist() for r in s] == DENSE.tolist()
    assert s[1, 2].item() == 5.0
    with pytest.raises(RuntimeError, match="t\\(\\) expects a tensor with <= 2 sparse and 0 "
                                           "dense dimensions, but got 3 sparse"):
        tm.sparse_coo_tensor(tm.zeros(3, 1, dtype=tm.int64), tm.ones(1), (1, 1, 1)).t()
    with pytest.raises(IndexError, match="index 5 out of range"):
        s.select(0, 5)


# -- reductions and softmax ---------------------------------------------------------------------

def test_sum():
    s = sp()
    assert tm.sparse.sum(s).item() == 13.0 and s.sum().item() == 13.0
    assert tm.sparse.sum(s, dtype=tm.float64).dtype is tm.float64
    rows = tm.sparse.sum(s, 1)
    assert rows.is_sparse and rows.is_coalesced()
    np.testing.assert_array_equal(rows.to_dense().numpy(), DENSE.sum(1))
    assert not tm.sparse.sum(s, (0, 1)).is_sparse
    kept = s.sum(0, keepdim=True)
    assert kept.shape == (1, 3)
    np.testing.assert_array_equal(kept.to_dense().numpy(), DENSE.sum(0, keepdims=True))
    h = tm.sparse_coo_tensor(IDX, tm.arange(8.0).reshape(4, 2), (2, 3, 2))
    hd = h.to_dense().numpy()
    np.testing.assert_array_equal(tm.sparse.sum(h, 2).to_dense().numpy(), hd.sum(2))
    np.testing.assert_array_equal(tm.sparse.sum(h, (0, 1)).numpy(), hd.sum((0, 1)))
    np.testing.assert_array_equal(tm.sparse.sum(h, 0).to_dense().numpy(), hd.sum(0))
    with pytest.raises(IndexError, match="Dimension out of range"):
        tm.sparse.sum(s, 3)
    with pytest.raises(RuntimeError, match="coalesce expected sparse coordinate tensor layout"):
        tm.sparse.sum(tm.ones(2))


def _masked_softmax(dense, mask, dim):
    e = np.where(mask, np.exp(dense - np.where(mask, dense, -np.inf).max(dim, keepdims=True)),
                 0.0)
    return e / e.sum(dim, keepdims=True)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_over_stored_elements(dim):
    s, _ = random_sparse((5, 6), 14, duplicates=False)
    dense = s.to_dense().numpy()
    mask = np.zeros(dense.shape, bool)
    mask[tuple(s._indices().numpy())] = True
    expected = _masked_softmax(dense, mask, dim)
    out = tm.sparse.softmax(s, dim)
    assert out.is_sparse and out.is_coalesced()
    np.testing.assert_allclose(out.to_dense().numpy(), expected, atol=1e-12)
    log = tm.sparse.log_softmax(s, dim)
    np.testing.assert_allclose(np.exp(log._values().numpy()), out._values().numpy())


# -- conversions and copies ---------------------------------------------------------------------

def test_to_clone_detach():
    s = sp()
    d = s.double()
    assert d.is_sparse and d.dtype is tm.float64 and d.type() == "taimatsu.sparse.DoubleTensor"
    assert s.float() is s and s.to("cpu") is s and s.to(tm.int32).dtype is tm.int32
    c = s.clone()
    c._values()[0] = 50.0
    assert s._values()[0].item() == 3.0 and c._indices().data_ptr() != s._indices().data_ptr()
    r = sp(requires_grad=True)
    det = r.detach()
    assert det.is_sparse and not det.requires_grad and det._values().data_ptr() == \
        r._values().data_ptr()
    assert sp().requires_grad_().requires_grad


def test_pickle_and_deepcopy():
    s = sp(requires_grad=True)
    for copied in (pickle.loads(pickle.dumps(s)), copy.deepcopy(s)):
        assert copied.is_sparse and copied.requires_grad and not copied.is_coalesced()
        np.testing.assert_array_equal(copied.detach().to_dense().numpy(), DENSE)


def test_empty_tensors():
    empty = tm.sparse_coo_tensor(tm.zeros(2, 0, dtype=tm.int64), tm.zeros(0), (2, 3))
    assert (empty + empty).to_dense().abs().sum().item() == 0.0
    assert tm.sparse.mm(empty, empty.t())._nnz() == 0 and (empty * empty)._nnz() == 0
    assert tm.sparse.softmax(empty, 1)._nnz() == 0 and tm.sparse.sum(empty).item() == 0.0
    np.testing.assert_array_equal((empty @ tm.ones(3, 2)).numpy(), np.zeros((2, 2)))
    assert tm.zeros(2, 3).to_sparse()._nnz() == 0


def test_numpy_operands_and_no_grad_construction():
    s, dense = random_sparse((3, 4), 6)
    right = RNG.standard_normal((4, 2))
    np.testing.assert_allclose((s @ right).numpy(), dense @ right)
    np.testing.assert_allclose((right.T @ s.t()).numpy(), right.T @ dense.T)
    v = leaf64()
    with tm.no_grad():
        out = tm.sparse_coo_tensor(IDX, v, (2, 3))
    assert not out.requires_grad and out.is_leaf
    with pytest.raises(TypeError):
        s @ "matrix"


def test_invariant_checks_as_decorator():
    @tm.sparse.check_sparse_tensor_invariants()
    def make():
        return sp(is_coalesced=True)
    with pytest.raises(RuntimeError, match="cannot set is_coalesced to true"):
        make()
    assert sp(is_coalesced=True).is_coalesced()


# -- dense-only operations fail clearly ---------------------------------------------------------

@pytest.mark.parametrize("fn, op", [
    (lambda s: s.exp(), "exp"), (lambda s: tm.exp(s), "exp"), (lambda s: s.mean(), "mean"),
    (lambda s: s == s, "eq"), (lambda s: tm.cat([s, s]), "cat"), (lambda s: s.max(), "max"),
    (lambda s: s.view(6), "view"), (lambda s: s.unsqueeze(0), "unsqueeze"),
    (lambda s: tm.nn.functional.relu(s), "relu"),
])
def test_dense_only_operations_raise_torchs_error(fn, op):
    with pytest.raises(NotImplementedError) as info:
        fn(sp())
    assert str(info.value).startswith(f"Could not run 'aten::{op}' with arguments from the "
                                      "'SparseCPU' backend.")


def test_storage_queries_refuse():
    s = sp()
    with pytest.raises(TypeError, match="can't convert Sparse layout tensor to numpy"):
        s.numpy()
    with pytest.raises(TypeError, match="can't convert Sparse layout tensor to numpy"):
        np.asarray(s)
    with pytest.raises(RuntimeError, match="reshape is not implemented for sparse tensors"):
        s.reshape(6)
    with pytest.raises(RuntimeError, match="Cannot access data pointer"):
        s.data_ptr()
    with pytest.raises(RuntimeError, match="nbytes is not defined for sparse tensors"):
        _ = s.nbytes
    with pytest.raises(RuntimeError, match="a Tensor with 6 elements cannot be converted"):
        s.item()
    assert sp([5.0], [[0]], (1,)).item() == 5.0


# -- printing ----------------------------------------------------------------------------------

def test_repr():
    assert repr(sp()) == (
        "tensor(indices=tensor([[0, 1, 1, 0],\n"
        "                       [2, 0, 2, 2]]),\n"
        "       values=tensor([3., 4., 5., 1.]),\n"
        "       size=(2, 3), nnz=4, layout=taimatsu.sparse_coo)")
    assert repr(sp(dtype=tm.float64, requires_grad=True)) == (
        "tensor(indices=tensor([[0, 1, 1, 0],\n"
        "                       [2, 0, 2, 2]]),\n"
        "       values=tensor([3., 4., 5., 1.]),\n"
        "       size=(2, 3), nnz=4, dtype=taimatsu.float64, layout=taimatsu.sparse_coo,\n"
        "       requires_grad=True)")
    assert repr(tm.sparse_coo_tensor((2, 3))) == (
        "tensor(indices=tensor([], size=(2, 0)),\n"
        "       values=tensor([], size=(0,)),\n"
        "       size=(2, 3), nnz=0, layout=taimatsu.sparse_coo)")
    assert "grad_fn=<SparseCooTensorWithDimsAndTensorsBackward0>" in repr(sp(leaf64()))
    assert str(sp()) == repr(sp()) and f"{sp()}" == repr(sp())


# -- gradients ---------------------------------------------------------------------------------

def _values_fn(op, indices=IDX, size=(2, 3)):
    return lambda v, *rest: op(tm.sparse_coo_tensor(indices, v, size), *rest)


IDX2 = [[0, 2, 2], [1, 0, 1]]


@pytest.mark.parametrize("op, extra", [
    (lambda s, d: tm.sparse.mm(s, d), [(3, 2)]),
    (lambda s, d: s @ d, [(3, 2)]),
    (lambda s, d: d @ s, [(4, 2)]),
    (lambda s, d: s @ d, [(3,)]),
    (lambda s, m, d: tm.addmm(m, s, d, beta=0.5, alpha=2.0), [(2, 2), (3, 2)]),
    (lambda s, d: d + s, [(2, 3)]),
    (lambda s, d: d - s * 3, [(2, 3)]),
    (lambda s, d: (s * d).to_dense(), [(2, 3)]),
    (lambda s: s.to_dense(), []),
    (lambda s: s.coalesce().values(), []),
    (lambda s: tm.sparse.sum(s), []),
    (lambda s: tm.sparse.sum(s, 0).to_dense(), []),
    (lambda s: s.t().to_dense(), []),
    (lambda s: s[1].to_dense(), []),
    (lambda s: s.sin().to_dense(), []),
    (lambda s: (s / 4).double().to_dense(), []),
    (lambda s: tm.sparse.softmax(s, 1).to_dense(), []),
    (lambda s: tm.sparse.log_softmax(s, 0).to_dense(), []),
])
def test_gradcheck_values_and_dense_operands(op, extra):
    inputs = [leaf64()] + [rand(*shape, requires_grad=True) for shape in extra]
    assert gradcheck(_values_fn(op), inputs)


def test_gradcheck_sparse_times_sparse():
    def fn(v, w):
        a = tm.sparse_coo_tensor(IDX, v, (2, 3))
        b = tm.sparse_coo_tensor(IDX2, w, (3, 2))
        return (tm.sparse.mm(a, b).to_dense(), (a.coalesce() * a).to_dense(),
                (a + tm.sparse_coo_tensor(IDX2, w, (3, 2)).t()).to_dense())
    assert gradcheck(fn, (leaf64(), leaf64([2.0, -1.0, 0.5])))


def test_gradcheck_bmm_and_to_sparse():
    idx = [[0, 1, 1], [0, 1, 0], [1, 0, 1]]
    assert gradcheck(lambda w, b: tm.bmm(tm.sparse_coo_tensor(idx, w, (2, 2, 2)), b),
                     (leaf64([1.0, 2.0, 3.0]), rand(2, 2, 3, requires_grad=True)))
    x = tm.tensor([[4.0, 1.0], [2.0, -3.0]], dtype=tm.float64, requires_grad=True)
    assert gradcheck(lambda x: (x.to_sparse() * 3).to_dense(), (x,))
    assert gradcheck(lambda x: x.to_sparse(1).coalesce().values(), (x,))


def test_second_derivatives_through_gathers():
    assert gradgradcheck(_values_fn(lambda s: s.to_dense() ** 2), (leaf64(),))
    assert gradgradcheck(_values_fn(lambda s: s.coalesce().values() ** 3), (leaf64(),))


def test_sparse_leaf_gradient_is_sparse_and_accumulates():
    s = sp(dtype=tm.float64, requires_grad=True)
    d = rand(3, 2)
    (s @ d).sum().backward()
    grad = s.grad
    assert grad.is_sparse and grad is s.grad
    assert grad._indices().tolist() == IDX
    expected = d.numpy().sum(1)[np.array(IDX[1])]
    np.testing.assert_allclose(grad._values().numpy(), expected)
    (s @ d).sum().backward()  # accumulates into the same tensor
    assert s.grad is grad
    np.testing.assert_allclose(grad._values().numpy(), 2 * expected)
    s.grad = None
    assert s.grad is None


def test_hooks_and_backward_on_sparse_tensors():
    s = sp(dtype=tm.float64, requires_grad=True)
    seen = []
    s.register_hook(lambda g: seen.append(g.layout) or g * 2)
    c = s.coalesce()
    c.backward(tm.sparse_coo_tensor(c.indices(), tm.ones(3, dtype=tm.float64), c.shape))
    assert seen == [tm.sparse_coo]
    assert s.grad._values().tolist() == [2.0, 2.0, 2.0, 2.0]


def test_gradient_flows_to_values_through_sparse_coo_tensor():
    v = leaf64()
    s = tm.sparse_coo_tensor(IDX, v, (2, 3))
    assert not s.is_leaf and s.grad_fn.name() == "SparseCooTensorWithDimsAndTensorsBackward0"
    assert s.coalesce().values().grad_fn.name() == "ValuesBackward0"
    d = rand(3, 2, requires_grad=True)
    tm.sparse.mm(s, d).sum().backward()
    np.testing.assert_allclose(v.grad.numpy(), d.detach().numpy().sum(1)[np.array(IDX[1])])
    np.testing.assert_allclose(d.grad.numpy(), DENSE.T @ np.ones((2, 2)))
    assert s._values().grad_fn is None and not s._values().requires_grad


def test_node_names():
    s = sp(leaf64())
    d = rand(3, 2)
    assert (s @ d).grad_fn.name() == "MmBackward0"
    assert tm.sparse.mm(s, d).grad_fn.name() == "SparseAddmmBackward0"
    assert s.to_dense().grad_fn.name() == "ToDenseBackward0"
    assert s.coalesce().grad_fn.name() == "CoalesceBackward0"
    assert s.t().grad_fn.name() == "TBackward0"
    assert (s * 2).grad_fn.name() == "MulBackward0"
    assert (s + s).grad_fn.name() == "AddBackward0"
    assert s.float().grad_fn.name() == "ToCopyBackward0"
    assert tm.sparse.sum(s, 0).grad_fn.name() == "SparseSumBackward0"
    assert tm.sparse.softmax(s, 1).grad_fn.name() == "SparseSoftmaxBackward0"
    assert (tm.ones(2, 3, dtype=tm.float64) + s).grad_fn.name() == "AddBackward0"
    assert tm.addmm(tm.ones(2, 2, dtype=tm.float64), s, d).grad_fn.name() == "AddmmBackward0"


class _SpecialSpmm(tm.autograd.Function):
    """A custom Function holding a sparse matrix, as pyGAT's sparse layer writes it."""

    @staticmethod
    def forward(ctx, indices, values, shape, b):
        a = tm.sparse_coo_tensor(indices, values, shape)
        ctx.save_for_backward(a, b)
        ctx.N = shape[0]
        return tm.matmul(a, b)

    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.saved_tensors
        grad_values = grad_b = None
        if ctx.needs_input_grad[1]:
            edge = a._indices()[0, :] * ctx.N + a._indices()[1, :]
            grad_values = grad_output.matmul(b.t()).view(-1)[edge]
        if ctx.needs_input_grad[3]:
            grad_b = a.t().matmul(grad_output)
        return None, grad_values, None, grad_b


def test_custom_function_holding_a_sparse_tensor():
    idx = tm.tensor([[0, 1, 2, 2], [1, 0, 2, 0]])
    assert gradcheck(lambda v, b: _SpecialSpmm.apply(idx, v, tm.Size([3, 3]), b),
                     (leaf64([0.5, 1.0, -2.0, 3.0]), rand(3, 2, requires_grad=True)))


# -- a graph attention layer trains -------------------------------------------------------------

def test_gat_layer_training_reduces_the_loss():
    """Attention coefficients are the values of a sparse adjacency matrix (as in a GAT):
    the gradient reaches the attention parameters through those values."""
    rng = np.random.default_rng(1)
    n, f_in, f_out, classes = 30, 8, 6, 3
    labels = rng.integers(0, classes, n)
    same = labels[:, None] == labels[None, :]
    adj = (rng.random((n, n)) < np.where(same, 0.3, 0.02)) | np.eye(n, dtype=bool)
    edges = tm.tensor(np.argwhere(adj).T)
    x = tm.tensor(rng.standard_normal((n, f_in)) + labels[:, None], dtype=tm.float32)
    y = tm.tensor(labels)
    tm.manual_seed(0)
    w = tm.nn.Linear(f_in, f_out, bias=False)
    a_src = tm.nn.Parameter(tm.randn(f_out) * 0.1)
    a_dst = tm.nn.Parameter(tm.randn(f_out) * 0.1)
    head = tm.nn.Linear(f_out, classes)
    params = [*w.parameters(), a_src, a_dst, *head.parameters()]
    optimizer = tm.optim.Adam(params, lr=0.05)
    src, dst = edges

    def loss_fn():
        h = w(x)
        scores = tm.nn.functional.leaky_relu((h @ a_src)[src] + (h @ a_dst)[dst], 0.2)
        attention = tm.sparse_coo_tensor(edges, tm.exp(scores - scores.max().detach()),
                                         (n, n))
        row_sum = tm.spmm(attention, tm.ones(n, 1))
        out = tm.sparse.mm(attention, h) / row_sum
        return tm.nn.functional.cross_entropy(head(tm.nn.functional.elu(out)), y)

    losses = []
    for _ in range(15):
        optimizer.zero_grad()
        loss = loss_fn()
        loss.backward()
        assert a_src.grad is not None and a_src.grad.abs().sum().item() > 0
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.7 * losses[0]


def test_functional_dense_with_sparse_operand():
    s = tm.sparse_coo_tensor([[0, 1], [1, 0]], [2.0, 3.0], (2, 2))
    d = tm.ones(2, 2)
    assert tm.equal(tm.add(d, s, alpha=2), tm.tensor([[1.0, 5.0], [7.0, 1.0]]))
    assert tm.equal(d.sub(s), tm.tensor([[1.0, -1.0], [-2.0, 1.0]]))
    product = tm.mul(d * 2, s)
    assert product.is_sparse and tm.equal(product.to_dense(), tm.tensor([[0.0, 4.0], [6.0, 0.0]]))
    assert tm.equal(tm.mv(s, tm.tensor([1.0, 2.0])), tm.tensor([4.0, 3.0]))
