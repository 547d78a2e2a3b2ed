"""Operations on sparse COO tensors, with PyTorch's results, errors and node names.

Most of them are dense ops on the values: `values_of(s)` is the values as a dense tensor
standing in `s`'s place in the graph, an ordinary op computes the new values (its node is
the one PyTorch shows: MulBackward0, NegBackward0, ToCopyBackward0...), and `from_values`
makes the sparse result take over that node. What changes the indices (coalesce, sums
over sparse dims, sparse + sparse, sparse @ sparse) regroups values with `Coalesce`.
"""

from __future__ import annotations

import numpy as np

from .. import backend
from .._tensor import Tensor
from ..ops._util import broadcast_shapes_or_raise, finish, wrap_dim, wrap_dims
from . import _kernels as K
from ._functions import Alias, Coalesce, SparseMm, SparsePairProduct, SparseSoftmax, ToDense
from ._tensor import SparseCooTensor, from_values, values_of


def _tm():
    import taimatsu
    return taimatsu


def _is_sparse(x) -> bool:
    return isinstance(x, Tensor) and x.is_sparse


def _layout_error(op: str) -> RuntimeError:
    return RuntimeError(f"{op} expected sparse coordinate tensor layout but got Strided")


def map_values(s: SparseCooTensor, fn, *, indices=None, sizes=None,
               coalesced=None) -> SparseCooTensor:
    """The sparse tensor with values fn(values) (a differentiable dense op)."""
    v = values_of(s)
    out = fn(v)
    if out is v:
        return s
    data = s._data
    return from_values(out, data.indices if indices is None else indices,
                       data.sizes if sizes is None else sizes,
                       data.coalesced if coalesced is None else coalesced)


def regroup(values: Tensor, indices, sizes: tuple, name: str) -> SparseCooTensor:
    """The coalesced sparse tensor of `values` at `indices` (equal positions summed)."""
    sparse_sizes = sizes[:indices.shape[0]]
    unique, inverse = K.coalesce_plan(indices, sparse_sizes)
    out = Coalesce.apply(values, inverse=inverse, n=unique.shape[1], name=name)
    return from_values(out, unique, sizes, True)


# -- coalesce, to_dense, indices ----------------------------------------------------------------

def coalesce(self) -> SparseCooTensor:
    """This tensor with sorted, unique indices (values at equal indices summed)."""
    if not self.is_sparse:
        raise _layout_error("coalesce")
    data = self._data
    if data.coalesced:
        return self
    return regroup(values_of(self), data.indices, data.sizes, "CoalesceBackward0")


def to_dense(self, dtype=None, *, masked_grad=None) -> Tensor:
    """The dense (strided) tensor this sparse tensor stands for; dense tensors as they are."""
    if dtype is not None:
        self = self.to(dtype)
    if not self.is_sparse:
        return self
    return ToDense.apply(self)


def _dense_only(name: str):
    def refuse(self, *args, **kwargs):
        raise _layout_error(name)
    refuse.__name__ = name
    return refuse


def dense_sparse_dim(self) -> int:
    """A dense tensor has no sparse dims: all of its dims are dense."""
    return 0


def dense_dense_dim(self) -> int:
    return self._data.ndim


def _dense_nnz(self):
    raise NotImplementedError(
        "Could not run 'aten::_nnz' with arguments from the 'CPU' backend. This could be "
        "because the operator doesn't exist for this backend, or was omitted during the "
        "selective/custom build process (if using custom build).")


def sparse_mask(self, mask) -> SparseCooTensor:
    """This dense tensor's elements at the indices of the sparse tensor `mask`."""
    if not _is_sparse(mask):
        raise NotImplementedError(
            "Could not run 'aten::sparse_mask' with arguments from the 'CPU' backend. This "
            "could be because the operator doesn't exist for this backend, or was omitted "
            "during the selective/custom build process (if using custom build).")
    if tuple(self.shape) != tuple(mask.shape):
        raise RuntimeError(f"sparse_mask(): operands have incompatible sizes; self has size "
                           f"{list(self.shape)} but mask has size {list(mask.shape)}")
    data = mask._data
    picked = self[tuple(Tensor._make(i) for i in data.indices)]
    return from_values(picked, data.indices, data.sizes, data.coalesced)


# -- shape ---------------------------------------------------------------------------------------

def t(self) -> SparseCooTensor:
    sparse_dim, dense_dim = self.sparse_dim(), self.dense_dim()
    if sparse_dim > 2 or dense_dim > 0:
        raise RuntimeError(f"t() expects a tensor with <= 2 sparse and 0 dense dimensions, but "
                           f"got {sparse_dim} sparse and {dense_dim} dense dimensions")
    if self.ndim < 2:
        return self
    return _swap_sparse_dims(self, 0, 1, "TBackward0")


def transpose(self, dim0: int, dim1: int) -> SparseCooTensor:
    ndim, sparse_dim = self.ndim, self.sparse_dim()
    d0, d1 = wrap_dim(dim0, ndim), wrap_dim(dim1, ndim)
    if d0 == d1:
        return self
    if d0 < sparse_dim and d1 < sparse_dim:
        return _swap_sparse_dims(self, d0, d1, "TransposeBackward0")
    if d0 >= sparse_dim and d1 >= sparse_dim:
        sizes = list(self._data.sizes)
        sizes[d0], sizes[d1] = sizes[d1], sizes[d0]
        return map_values(self, lambda v: v.transpose(d0 - sparse_dim + 1, d1 - sparse_dim + 1),
                          sizes=tuple(sizes))
    raise RuntimeError(f"sparse transpose: transposed dimensions must be sparse Got "
                       f"sparse_dim: {sparse_dim}, d0: {dim0}, d1: {dim1}")


def _swap_sparse_dims(s, d0: int, d1: int, name: str) -> SparseCooTensor:
    data = s._data
    order = list(range(data.indices.shape[0]))
    order[d0], order[d1] = d1, d0
    sizes = list(data.sizes)
    sizes[d0], sizes[d1] = sizes[d1], sizes[d0]
    values = Alias.apply(s, name=name)
    return from_values(values, data.indices[order], tuple(sizes), data.indices.shape[1] < 2)


def select(self, dim: int, index: int):
    """The slice at `index` along `dim` (sparse unless no dim is left)."""
    ndim, sparse_dim = self.ndim, self.sparse_dim()
    d = wrap_dim(dim, ndim)
    size = self._data.sizes[d]
    if not -size <= index < size:
        raise IndexError(f"select(): index {index} out of range for tensor of size "
                         f"{list(self.shape)} at dimension {dim}")
    index %= size
    sizes = self._data.sizes[:d] + self._data.sizes[d + 1:]
    if d >= sparse_dim:
        return map_values(self, lambda v: v.select(d - sparse_dim + 1, index), sizes=sizes)
    data = self._data
    xp = backend.of(data.indices)
    hits = xp.flatnonzero(data.indices[d] == index)
    rows = [r for r in range(sparse_dim) if r != d]
    picked = values_of(self)[Tensor._make(hits)]
    _rename(picked, "SelectBackward0")
    if not rows:  # no sparse dim left: the (dense) sum of the picked elements
        return picked.sum(0)
    return from_values(picked, data.indices[rows][:, hits], sizes, data.coalesced)


def _getitem(self, item):
    if isinstance(item, (int, np.integer)):
        return select(self, 0, int(item))
    if isinstance(item, tuple) and all(isinstance(i, (int, np.integer)) for i in item):
        out = self
        for i in item:
            out = select(out, 0, int(i)) if _is_sparse(out) else out[i]
        return out
    raise NotImplementedError(
        "Could not run 'aten::index.Tensor' with arguments from the 'SparseCPU' backend. "
        "Only integer indexing (select) is implemented for sparse tensors.")


# -- conversions ---------------------------------------------------------------------------------

def to(self, *args, **kwargs) -> SparseCooTensor:
    """This tensor in another dtype and/or on another device (self if unchanged)."""
    from .._device import move
    from ..ops.conversion import _parse_to, _same_device
    dtype, dev, copy = _parse_to(args, dict(kwargs))
    same_dtype = dtype is None or dtype.np == self._data.values.dtype
    same_dev = dev is None or _same_device(self, dev)
    if same_dtype and same_dev:
        return clone(self) if copy else self
    indices = self._data.indices if same_dev else move(self._data.indices, dev)
    return map_values(self, lambda v: v.to(dtype=dtype, device=dev), indices=indices)


def clone(self, *, memory_format=None) -> SparseCooTensor:
    return map_values(self, lambda v: v.clone(), indices=self._data.indices.copy())


# -- arithmetic ----------------------------------------------------------------------------------

def _add_sparse_dense_error():
    return RuntimeError("add(sparse, dense) is not supported. Use add(dense, sparse) "
                        "instead.")


def add(self, other, *, alpha=1) -> SparseCooTensor:
    """sparse + sparse (sparse); adding a dense tensor or a number to a sparse tensor is
    refused as by PyTorch (dense + sparse works)."""
    if not _is_sparse(other):
        raise _add_sparse_dense_error()
    return _add_sparse(self, other, alpha)


def sub(self, other, *, alpha=1) -> SparseCooTensor:
    if not _is_sparse(other):
        raise _add_sparse_dense_error()
    return _add_sparse(self, other, -alpha)


def _add_sparse(a, b, alpha) -> SparseCooTensor:
    if tuple(a.shape) != tuple(b.shape):
        raise RuntimeError(f"add: expected sizes of 'self' and 'other' to match, but "
                           f"{list(a.shape)} != {list(b.shape)}")
    if a.sparse_dim() != b.sparse_dim():
        raise RuntimeError(f"add: expected 'self' and 'other' to have same sparse dimensions, "
                           f"but got {a.sparse_dim()} and {b.sparse_dim()}")
    tm = _tm()
    va, vb = values_of(a), values_of(b)
    if alpha != 1:
        vb = tm.mul(vb, alpha)
    dtype = tm.promote_types(va.dtype, vb.dtype)
    values = tm.cat([va.to(dtype), vb.to(dtype)])
    xp = backend.of(a._data.indices)
    indices = xp.concatenate([a._data.indices, b._data.indices], axis=1)
    if a._data.coalesced and b._data.coalesced:  # PyTorch merges coalesced operands
        return regroup(values, indices, a._data.sizes, "AddBackward0")
    _rename(values, "AddBackward0")
    return from_values(values, indices, a._data.sizes, False)


def radd(self, other, alpha=1) -> Tensor:
    """other + alpha * self for a dense `other`: a dense tensor (no broadcasting)."""
    if not isinstance(other, Tensor):
        raise _add_sparse_dense_error()
    if tuple(other.shape) != tuple(self.shape):
        raise RuntimeError(f"add: expected 'self' and 'other' to have same size, but self has "
                           f"size {list(other.shape)} while other has size {list(self.shape)} "
                           "(FYI: dense-sparse addition does not currently support "
                           "broadcasting)")
    return _tm().add(other, to_dense(self), alpha=alpha)


def rsub(self, other) -> Tensor:
    return radd(self, other, alpha=-1)


def mul(self, other) -> SparseCooTensor:
    """sparse * number / 0-d tensor / dense (broadcast to this shape) / sparse (the
    elements both store): a sparse tensor with this tensor's sparsity or less."""
    tm = _tm()
    if _is_sparse(other):
        return _mul_sparse(self, other)
    if not isinstance(other, Tensor) or other.ndim == 0:
        return map_values(self, lambda v: tm.mul(v, other))
    shape = tuple(self.shape)
    if broadcast_shapes_or_raise(tuple(other.shape), shape) != shape:
        raise RuntimeError(f"mul(sparse, dense): the dense operand of size "
                           f"{list(other.shape)} must broadcast to the sparse operand's size "
                           f"{list(shape)}")
    data = self._data
    picked = other.expand(*shape)[tuple(Tensor._make(i) for i in data.indices)]
    return map_values(self, lambda v: tm.mul(v, picked))


def _mul_sparse(a, b) -> SparseCooTensor:
    if tuple(a.shape) != tuple(b.shape) or a.sparse_dim() != b.sparse_dim():
        raise RuntimeError("sparse_binary_op_intersection_cpu(): expects sparse inputs with "
                           "equal dimensionality, number of sparse dimensions, and shape of "
                           "sparse dimensions")
    a, b = coalesce(a), coalesce(b)
    # number the positions of both operands alike; equal numbers are shared positions
    xp = backend.of(a._data.indices)
    both = xp.concatenate([a._data.indices, b._data.indices], axis=1)
    _, ids = K.coalesce_plan(both, a._data.sizes[:a.sparse_dim()])
    ids = backend.to_numpy(ids)
    n_a = a._nnz()
    _, ia, ib = np.intersect1d(ids[:n_a], ids[n_a:], assume_unique=True, return_indices=True)
    ia, ib = xp.asarray(ia), xp.asarray(ib)
    values = _tm().mul(values_of(a)[Tensor._make(ia)], values_of(b)[Tensor._make(ib)])
    return from_values(values, a._data.indices[:, ia], a._data.sizes, True)


def div(self, other, *, rounding_mode=None) -> SparseCooTensor:
    if isinstance(other, Tensor) and other.ndim != 0:
        raise RuntimeError("Sparse division requires a scalar or zero-dim dense tensor divisor "
                           f"(got shape {list(other.shape)} for divisor)")
    tm = _tm()
    return map_values(self, lambda v: tm.div(v, other, rounding_mode=rounding_mode))


def neg(self) -> SparseCooTensor:
    return map_values(self, lambda v: -v)


def pow(self, exponent) -> SparseCooTensor:
    if isinstance(exponent, Tensor) and exponent.ndim != 0:
        raise RuntimeError("pow: only scalar exponents are supported for sparse tensors")
    return map_values(coalesce(self), lambda v: _tm().pow(v, exponent))


# Elementwise functions with f(0) == 0, which PyTorch computes on the stored values only.
# The first keep the indices as they are (they are linear); PyTorch coalesces for the others
# (a nonlinear f needs each position once).
_LINEAR_UNARY = ("neg", "negative", "conj_physical")
_NONLINEAR_UNARY = ("abs", "absolute", "asin", "arcsin", "asinh", "arcsinh", "atan", "arctan",
                    "atanh", "arctanh", "ceil", "deg2rad", "rad2deg", "erf", "erfinv", "expm1",
                    "floor", "frac", "log1p", "relu", "round", "sgn", "sign", "sin", "sinh",
                    "sqrt", "square", "tan", "tanh", "trunc", "fix", "nan_to_num", "signbit",
                    "isnan", "isinf", "isposinf", "isneginf")


def _unary(name: str, linear: bool):
    def op(self, *args, **kwargs):
        src = self if linear else coalesce(self)
        return map_values(src, lambda v: getattr(v, name)(*args, **kwargs))
    op.__name__ = name
    op.__doc__ = f"{name} of the stored values (a sparse tensor)."
    return op


# -- reductions ----------------------------------------------------------------------------------

def sparse_sum(input, dim=None, dtype=None) -> Tensor:
    """Sum over all elements (a dense 0-d tensor) or over `dim` (sparse while some sparse
    dim is left, else dense), as torch.sparse.sum."""
    if not _is_sparse(input):
        raise _layout_error("coalesce")
    return _sum(input, dim, False, dtype, "SparseSumBackward0")


def sum_method(self, dim=None, keepdim: bool = False, *, dtype=None, out=None) -> Tensor:
    return finish(_sum(self, dim, keepdim, dtype, "SumBackward1"), out)


def _sum(s, dim, keepdim: bool, dtype, name: str) -> Tensor:
    if dtype is not None:
        s = s.to(dtype)
    values = values_of(s)
    if dim is None or (isinstance(dim, (list, tuple)) and len(dim) == 0):
        return values.sum()
    ndim, sparse_dim = s.ndim, s.sparse_dim()
    dims = wrap_dims(dim, ndim)
    dense_dims = [d - sparse_dim + 1 for d in dims if d >= sparse_dim]
    if dense_dims:
        values = values.sum(dim=dense_dims, keepdim=keepdim)
    kept = [d for d in range(sparse_dim) if d not in dims]
    if not kept and not keepdim:  # every sparse dim summed: a dense result
        result = values.sum(0)
        _rename(result, name)
        return result
    data = s._data
    indices = data.indices
    if keepdim:
        indices = indices.copy()
        indices[[d for d in range(sparse_dim) if d in dims]] = 0
    else:
        indices = indices[kept]
    sizes = tuple(1 if d in dims else n for d, n in enumerate(data.sizes)
                  if keepdim or d not in dims)
    return regroup(values, indices, sizes, name)


# -- softmax over the stored elements ------------------------------------------------------------

def softmax(input, dim: int, *, dtype=None) -> Tensor:
    """Softmax along `dim` over the stored elements only (unstored ones count as -inf)."""
    return _softmax(input, dim, dtype, False)


def log_softmax(input, dim: int, *, dtype=None) -> Tensor:
    return _softmax(input, dim, dtype, True)


def _softmax(s, dim, dtype, log: bool):
    tm = _tm()
    if not _is_sparse(s):
        fn = tm.log_softmax if log else tm.softmax
        return fn(s, dim, dtype=dtype)
    if dtype is not None:
        s = s.to(dtype)
    d = wrap_dim(dim, s.ndim)
    s = coalesce(s)
    sparse_dim = s.sparse_dim()
    if d >= sparse_dim:  # a dense dim: the ordinary softmax of each stored block
        fn = tm.log_softmax if log else tm.softmax
        result = map_values(s, lambda v: fn(v, d - sparse_dim + 1))
        _rename(result, "SparseLogSoftmaxBackward0" if log else "SparseSoftmaxBackward0")
        return result
    data = s._data
    others = [r for r in range(sparse_dim) if r != d]
    group_sizes = tuple(data.sizes[r] for r in others)
    unique, groups = K.coalesce_plan(data.indices[others], group_sizes)
    out = SparseSoftmax.apply(s, groups=groups, n=unique.shape[1], log=log)
    return from_values(out, data.indices, data.sizes, True)


# -- matrix products -----------------------------------------------------------------------------

def _check_dtypes(a: Tensor, b: Tensor) -> None:
    from ..ops.inplace import _legacy
    if a.dtype is not b.dtype:
        raise RuntimeError(f"expected scalar type {_legacy(a.dtype)} but found "
                           f"{_legacy(b.dtype)}")


def _check_sparse_matrix(s, what="addmm") -> None:
    if s.ndim != 2 or s.sparse_dim() != 2:
        raise RuntimeError(f"{what}: matrices expected, got {s.ndim}D tensor")


def _mm_shape_error(a, b):
    (n, k), (k2, m) = a.shape, b.shape
    return RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({n}x{k} and {k2}x{m})")


def _sparse_dense(s, d, name: str) -> Tensor:
    _check_sparse_matrix(s)
    if d.ndim < 2:
        raise IndexError("Dimension out of range (expected to be in range of [-1, 0], but "
                         "got 1)")
    if d.ndim != 2:
        raise RuntimeError(f"addmm: matrices expected, got {d.ndim}D tensor")
    if d.shape[0] != s.shape[1]:
        raise RuntimeError(f"addmm: Argument #3 (dense): Expected dim 0 size {s.shape[1]}, "
                           f"got {d.shape[0]}")
    _check_dtypes(s, d)
    return SparseMm.apply(s, d, name=name)


def _dense_sparse(d, s, name: str) -> Tensor:
    _check_sparse_matrix(s)
    if d.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if d.shape[1] != s.shape[0]:
        raise _mm_shape_error(d, s)
    _check_dtypes(d, s)
    return SparseMm.apply(d, s, name=name)


def _sparse_sparse(a, b, name: str) -> SparseCooTensor:
    _check_sparse_matrix(a)
    _check_sparse_matrix(b)
    if a.shape[1] != b.shape[0]:
        raise _mm_shape_error(a, b)
    _check_dtypes(a, b)
    da, db = a._data, b._data
    e1, e2 = K.pair_plan(da.indices[0], da.indices[1], db.indices[0], da.sizes[1])
    terms = SparsePairProduct.apply(a, b, e1=e1, e2=e2)
    xp = backend.of(da.indices)
    indices = xp.stack([da.indices[0][e1], db.indices[1][e2]])
    return regroup(terms, indices, (da.sizes[0], db.sizes[1]), name)


def mm(input, mat2, *, out=None, name: str = "MmBackward0"):
    """input @ mat2 where one or both are sparse 2-D (sparse @ sparse is sparse)."""
    if _is_sparse(input) and _is_sparse(mat2):
        if out is not None:
            raise RuntimeError("mm(): out= is not supported for a sparse result")
        return _sparse_sparse(input, mat2, name)
    if _is_sparse(input):
        return finish(_sparse_dense(input, mat2, name), out)
    return finish(_dense_sparse(input, mat2, name), out)


def matmul(input, other, *, out=None):
    """torch.matmul with a sparse operand: 2-D sparse with a 1-D or 2-D dense one."""
    sparse_input = _is_sparse(input)
    dense = other if sparse_input else input
    if not _is_sparse(dense) and dense.ndim > 2:
        raise RuntimeError("expand is unsupported for Sparse tensors")
    if not _is_sparse(dense) and dense.ndim == 1:  # named as torch's nodes for these
        if sparse_input:
            result = mm(input, other.unsqueeze(1)).squeeze(1)
            _rename(result, "MvBackward0")
        else:
            result = mm(input.unsqueeze(0), other).squeeze(0)
            _rename(result, "SqueezeBackward4")
        return finish(result, out)
    return mm(input, other, out=out)


def bmm(input, mat2, *, out=None):
    """Batched sparse (3 sparse dims) @ dense 3-D."""
    if not _is_sparse(input) or _is_sparse(mat2):
        raise RuntimeError("bmm: only a sparse first operand with a dense second one is "
                           "supported for sparse tensors")
    from ..ops.linalg import _check_bmm_shapes
    if input.sparse_dim() != input.ndim:
        raise RuntimeError("batch1 must be a 3D tensor")
    _check_bmm_shapes(input, mat2)
    _check_dtypes(input, mat2)
    return finish(SparseMm.apply(input, mat2, name="BmmBackward0"), out)


def addmm(input, mat1, mat2, *, beta=1, alpha=1, out=None, name="AddmmBackward0") -> Tensor:
    """beta * input + alpha * (mat1 @ mat2) with a sparse mat1 (or mat2); dense result."""
    from ..ops.linalg import _check_expand
    tm = _tm()
    if _is_sparse(input):
        raise RuntimeError("addmm: a sparse `input` is not supported; pass it dense")
    product = mm(mat1, mat2, name="MmBackward0")
    if _is_sparse(product):
        product = to_dense(product)
    _check_expand(tuple(input.shape), tuple(product.shape))
    if alpha != 1:
        product = tm.mul(product, alpha)
    if beta == 0:  # as torch: `input` is ignored (its NaNs do not propagate)
        result = product
    else:
        result = tm.add(product, input if beta == 1 else tm.mul(input, beta))
    _rename(result, name)
    return finish(result, out)


def spmm(input, mat2) -> Tensor:
    """Sparse (or dense) matrix @ dense matrix, as torch.spmm."""
    if not _is_sparse(input) and not _is_sparse(mat2):
        return _tm().mm(input, mat2)
    return mm(input, mat2)


def sparse_mm(mat1, mat2, reduce: str | None = None):
    """torch.sparse.mm: sparse @ dense (dense), sparse @ sparse (sparse); the gradient of
    a sparse operand has its sparsity."""
    if reduce is not None:
        raise RuntimeError("sparse.mm(): reduce is only supported for sparse CSR inputs")
    if not _is_sparse(mat1) and not _is_sparse(mat2):
        return _tm().mm(mat1, mat2)
    return mm(mat1, mat2, name="SparseAddmmBackward0")


def sparse_addmm(mat, mat1, mat2, *, beta=1.0, alpha=1.0) -> Tensor:
    """torch.sparse.addmm: beta * mat + alpha * (mat1 @ mat2) with a sparse mat1."""
    if not _is_sparse(mat1) and not _is_sparse(mat2):
        return _tm().addmm(mat, mat1, mat2, beta=beta, alpha=alpha)
    return addmm(mat, mat1, mat2, beta=beta, alpha=alpha, name="SparseAddmmBackward0")


def _rename(t: Tensor, name: str) -> None:
    """PyTorch's node name for a result computed here by a differently named op."""
    if t._grad_fn is not None:
        t._grad_fn.mark_name(name)
