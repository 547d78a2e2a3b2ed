"""Sparse COO tensors and the `torch.sparse` namespace.

    >>> i = taimatsu.tensor([[0, 1, 1], [2, 0, 2]])
    >>> s = taimatsu.sparse_coo_tensor(i, taimatsu.tensor([3., 4., 5.]), (2, 3))
    >>> s @ taimatsu.ones(3, 2)          # also taimatsu.mm, taimatsu.sparse.mm, spmm
    >>> taimatsu.ones(2, 3) + s          # dense + sparse is dense
    >>> s.coalesce().indices(), s.to_dense(), taimatsu.ones(2, 2).to_sparse()

A sparse tensor is a `taimatsu.Tensor` with layout `taimatsu.sparse_coo`. Gradients
reach the dense operands of its ops and its values: `sparse_coo_tensor(indices, values)`
with a `values` that requires grad passes the gradient on to `values`, and the `.grad`
of a sparse leaf is a sparse tensor with the leaf's indices.

Dense-only operations on a sparse tensor raise PyTorch's NotImplementedError ("Could not
run 'aten::exp' with arguments from the 'SparseCPU' backend...").
"""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from . import _ops
from ._factory import LEGACY_TYPES, check_sparse_tensor_invariants, sparse_coo_tensor, to_sparse
from ._ops import log_softmax, softmax, spmm
from ._ops import sparse_addmm as addmm
from ._ops import sparse_mm as mm
from ._ops import sparse_sum as sum
from ._storage import raise_unsupported
from ._tensor import SparseCooTensor

__all__ = ["addmm", "check_sparse_tensor_invariants", "log_softmax", "mm", "softmax", "sum",
           "FloatTensor", "DoubleTensor", "HalfTensor", "BFloat16Tensor", "LongTensor",
           "IntTensor", "ShortTensor", "CharTensor", "ByteTensor"]

globals().update(LEGACY_TYPES)


# -- methods of sparse tensors ------------------------------------------------------------------

def _radd(self, other):
    return _ops.radd(self, other)


def _operand(other):
    """A Tensor for a NumPy array operand (as dense tensors' operators accept them)."""
    if isinstance(other, np.ndarray):
        from ..ops.creation import as_tensor
        return as_tensor(other)
    return other if isinstance(other, Tensor) else None


def _matmul(self, other):
    other = _operand(other)
    return NotImplemented if other is None else _ops.matmul(self, other)


def _rmatmul(self, other):
    other = _operand(other)
    return NotImplemented if other is None else _ops.matmul(other, self)


def _mul_operator(self, other):
    return _ops.mul(self, other)


def _div_operator(self, other):
    return _ops.div(self, other)


def _view(self, *args, **kwargs):
    raise_unsupported(self._data, "view")


def _reshape(self, *args, **kwargs):
    raise RuntimeError("reshape is not implemented for sparse tensors")


def _expand(self, *args, **kwargs):
    raise RuntimeError("expand is unsupported for Sparse tensors")


_SPARSE_METHODS = {
    "coalesce": _ops.coalesce, "to_dense": _ops.to_dense, "to_sparse": to_sparse,
    "t": _ops.t, "transpose": _ops.transpose, "swapaxes": _ops.transpose,
    "swapdims": _ops.transpose, "select": _ops.select, "__getitem__": _ops._getitem,
    "to": _ops.to, "clone": _ops.clone,
    "add": _ops.add, "sub": _ops.sub, "subtract": _ops.sub, "mul": _ops.mul,
    "multiply": _ops.mul, "div": _ops.div, "divide": _ops.div, "true_divide": _ops.div,
    "pow": _ops.pow, "sum": _ops.sum_method,
    "mm": _ops.mm, "matmul": _ops.matmul, "bmm": _ops.bmm, "smm": _ops.mm,
    "__add__": _ops.add, "__radd__": _radd, "__sub__": _ops.sub, "__rsub__": _ops.rsub,
    "__mul__": _mul_operator, "__rmul__": _mul_operator, "__truediv__": _div_operator,
    "__neg__": _ops.neg, "__pos__": lambda self: self, "__pow__": _ops.pow,
    "__matmul__": _matmul, "__rmatmul__": _rmatmul,
    "view": _view, "reshape": _reshape, "expand": _expand,
}
_SPARSE_METHODS.update({name: _ops._unary(name, True) for name in _ops._LINEAR_UNARY})
_SPARSE_METHODS.update({name: _ops._unary(name, False) for name in _ops._NONLINEAR_UNARY})
for _name, _fn in _SPARSE_METHODS.items():
    setattr(SparseCooTensor, _name, _fn)


# -- the sparse-related methods of dense tensors ------------------------------------------------

Tensor.to_sparse = to_sparse
Tensor.to_dense = _ops.to_dense
Tensor.sparse_mask = _ops.sparse_mask
Tensor._nnz = _ops._dense_nnz
for _name in ("coalesce", "is_coalesced", "indices", "values", "_indices", "_values"):
    setattr(Tensor, _name, _ops._dense_only(_name.lstrip("_")))
Tensor.sparse_dim = _ops.dense_sparse_dim
Tensor.dense_dim = _ops.dense_dense_dim
