"""Making sparse COO tensors: sparse_coo_tensor (with PyTorch's checks), Tensor.to_sparse,
the invariant-check switch and the legacy `taimatsu.sparse.FloatTensor(...)` constructors.
"""

from __future__ import annotations

import functools

import numpy as np

from .. import _dtype as D
from .. import backend
from .._device import move, to_device
from .._layout import sparse_coo
from .._tensor import Size, Tensor
from ..autograd import grad_mode
from . import _kernels as K
from ._functions import Alias, ToSparse
from ._tensor import SparseCooTensor, from_values, make_sparse


class check_sparse_tensor_invariants:
    """Turns the full invariant checks of sparse_coo_tensor on (globally with enable(), or
    in a `with` block / as a decorator); sparse_coo_tensor(check_invariants=...) overrides.

    Index bounds are always checked (an out-of-range index would make later operations
    fail); what the switch adds is the check that indices declared coalesced are.
    """

    _enabled = [False]

    def __init__(self, enable: bool = True):
        self.state = enable
        self.saved_state: bool | None = None

    @staticmethod
    def is_enabled() -> bool:
        return check_sparse_tensor_invariants._enabled[0]

    @staticmethod
    def enable() -> None:
        check_sparse_tensor_invariants._enabled[0] = True

    @staticmethod
    def disable() -> None:
        check_sparse_tensor_invariants._enabled[0] = False

    def __enter__(self):
        if self.saved_state is not None:
            raise RuntimeError("This context manager instance is already activated. Use a "
                               "different context manager instance for context nesting.")
        self.saved_state = self.is_enabled()
        self._enabled[0] = self.state
        return self

    def __exit__(self, *exc):
        self._enabled[0] = self.saved_state
        self.saved_state = None

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with check_sparse_tensor_invariants(self.state):
                return fn(*args, **kwargs)
        return wrapper


# -- sparse_coo_tensor ------------------------------------------------------------------------

def sparse_coo_tensor(indices, values=None, size=None, *, dtype=None, device=None,
                      pin_memory: bool = False, requires_grad: bool = False,
                      check_invariants: bool | None = None,
                      is_coalesced: bool | None = None) -> SparseCooTensor:
    """A sparse COO tensor with the given `values` at `indices` (sparse_dim x nnz).

    As in PyTorch the result shares memory with `indices` and `values` when no conversion
    is needed, and when `values` requires grad the gradient flows back to it.
    `size` defaults to the smallest size that holds the indices (then the values' trailing
    sizes). Also callable as sparse_coo_tensor(size) for an empty tensor.
    """
    if values is None:  # the sparse_coo_tensor(size, ...) overload
        return _empty(_size_arg(indices), dtype, device, requires_grad)
    dev = None if device is None else to_device(device)
    index = _indices_array(indices, dev)
    vals = _values_tensor(values, dtype, dev)
    if index.ndim != 2:
        raise RuntimeError(f"indices must be sparse_dim x nnz, but got: {list(index.shape)}")
    sparse_dim, nnz = index.shape
    if vals._data.ndim == 0:  # a scalar stands for one value
        vals = vals.reshape(1)
    if vals._data.shape[0] != nnz:
        raise RuntimeError("indices and values must have same nnz, but got nnz from indices: "
                           f"{nnz}, nnz from values: {vals._data.shape[0]}")
    sizes = _inferred_sizes(index, vals) if size is None else _checked_sizes(
        _size_arg(size), sparse_dim, vals)
    _check_bounds(index, sizes)
    if check_invariants is None:
        check_invariants = check_sparse_tensor_invariants.is_enabled()
    if is_coalesced is None:
        coalesced = nnz < 2
    else:
        coalesced = bool(is_coalesced)
        if coalesced and check_invariants and not K.is_sorted_unique(index, sizes[:sparse_dim]):
            raise RuntimeError("cannot set is_coalesced to true if indices correspond to "
                               "uncoalesced COO tensor")
    if requires_grad and vals.dtype._kind < 2:
        raise RuntimeError("Only Tensors of floating point and complex dtype can require "
                           "gradients")
    if vals._rg and grad_mode._enabled[0]:
        node_out = Alias.apply(vals, name="SparseCooTensorWithDimsAndTensorsBackward0")
        return from_values(node_out, index, sizes, coalesced)
    return make_sparse(index, vals._data, sizes, coalesced, requires_grad=bool(requires_grad))


def _size_arg(size) -> tuple:
    if isinstance(size, (int, np.integer)):
        size = (size,)
    try:
        sizes = tuple(int(s) for s in size)
    except TypeError:
        raise TypeError(f"sparse_coo_tensor(): argument 'size' must be tuple of ints, but "
                        f"found element of type {type(size).__name__}") from None
    if any(s < 0 for s in sizes):
        raise RuntimeError("numel: integer multiplication overflow")
    return sizes


def _indices_array(indices, dev):
    """The indices as an int64 array on `dev` (a tensor's own array when it already is)."""
    if isinstance(indices, Tensor):
        if indices.is_sparse:
            raise TypeError("sparse_coo_tensor(): argument 'indices' must be a strided "
                            "tensor, not a sparse one")
        arr = indices._data
    elif backend.is_cuda_array(indices) or isinstance(indices, np.ndarray):
        arr = indices
    else:
        from ..ops.creation import tensor
        arr = tensor(indices)._data
    if dev is not None:
        arr = move(arr, dev)
    if arr.dtype.kind not in "iub":
        arr = arr.astype(np.int64)  # PyTorch truncates floating-point indices as well
    return K.as_int64(arr)


def _values_tensor(values, dtype, dev) -> Tensor:
    """The values as a Tensor (the given one, cast and moved differentiably if needed)."""
    from ..ops.creation import as_tensor, tensor
    if isinstance(values, Tensor):
        if values.is_sparse:
            raise TypeError("sparse_coo_tensor(): argument 'values' must be a strided tensor, "
                            "not a sparse one")
        if dtype is None and dev is None:
            return values
        return values.to(dtype=dtype, device=dev)
    if isinstance(values, np.ndarray):
        return as_tensor(values, dtype=dtype, device=dev)
    return tensor(values, dtype=dtype, device=dev)


def _inferred_sizes(index, vals: Tensor) -> tuple:
    if index.shape[1] == 0:
        sparse = (0,) * index.shape[0]
    else:
        sparse = tuple(int(m) + 1 for m in backend.to_numpy(index.max(axis=1)))
    return sparse + tuple(vals._data.shape[1:])


def _checked_sizes(sizes: tuple, sparse_dim: int, vals: Tensor) -> tuple:
    dense_dim = vals._data.ndim - 1
    if len(sizes) != sparse_dim + dense_dim:
        raise RuntimeError(f"'len(size) == sparse_dim + dense_dim' is not satisfied: "
                           f"len(size) = {len(sizes)}, sparse_dim = {sparse_dim}, "
                           f"dense_dim = {dense_dim}")
    nnz = vals._data.shape[0]
    expected = [nnz] + list(sizes[sparse_dim:])
    if expected != list(vals._data.shape):
        raise RuntimeError(f"values has incorrect size, expected {expected}, got "
                           f"{list(vals._data.shape)}")
    return sizes


def _check_bounds(index, sizes: tuple) -> None:
    """PyTorch's errors for indices outside the size (always checked: every later op
    indexes with them)."""
    if index.shape[1] == 0:
        return
    lows = backend.to_numpy(index.min(axis=1))
    highs = backend.to_numpy(index.max(axis=1))
    for d, (low, high) in enumerate(zip(lows.tolist(), highs.tolist())):
        if low < 0:
            raise RuntimeError(f"found negative index {low} for dim {d}")
        if high >= sizes[d]:
            raise RuntimeError(f"size is inconsistent with indices: for dim {d}, size is "
                               f"{sizes[d]} but found index {high}")


def _empty(sizes: tuple, dtype, device, requires_grad: bool) -> SparseCooTensor:
    """An all-zero sparse tensor (nnz 0) with every dim sparse."""
    from .._device import xp_for
    dt = D.get_default_dtype() if dtype is None else D.to_dtype(dtype)
    xp = xp_for(to_device(device))
    if requires_grad and dt._kind < 2:
        raise RuntimeError("Only Tensors of floating point and complex dtype can require "
                           "gradients")
    return make_sparse(xp.zeros((len(sizes), 0), dtype=np.int64), xp.zeros(0, dtype=dt.np),
                       sizes, True, requires_grad=bool(requires_grad))


# -- Tensor.to_sparse --------------------------------------------------------------------------

def to_sparse(self, sparse_dim: int | None = None, *, layout=None, blocksize=None,
              dense_dim=None) -> SparseCooTensor:
    """This tensor in the sparse COO layout (its nonzeros; with `sparse_dim`, the first
    `sparse_dim` dims are sparse and the rest are dense blocks of the values)."""
    if layout is not None and layout is not sparse_coo:
        raise RuntimeError(f"to_sparse: conversion to {layout} is not supported; only "
                           "taimatsu.sparse_coo is")
    if self.is_sparse:
        if sparse_dim is not None and sparse_dim != self.sparse_dim():
            raise RuntimeError("to_sparse: conversion from Sparse to Sparse with sparse_dim "
                               "argument !=self.sparse_dim() is not supported")
        return self
    ndim = self._data.ndim
    name = "ToSparseBackward1" if sparse_dim is None else "ToSparseBackward0"
    if sparse_dim is None:
        sparse_dim = ndim
    if not 0 <= sparse_dim <= ndim:
        raise RuntimeError(f"dense_to_sparse: sparse_dim argument must be in [0,{ndim}] "
                           f"range, but {sparse_dim} is given")
    arr = self._data
    xp = backend.of(arr)
    nonzero = arr != 0
    if sparse_dim < ndim:
        nonzero = nonzero.any(axis=tuple(range(sparse_dim, ndim)))
    if sparse_dim == 0:  # one stored element: the whole tensor
        index = (xp.zeros(1, dtype=np.int64),)
        indices = xp.zeros((0, 1), dtype=np.int64)
        arr_index = (None,)
    else:
        index = tuple(K.as_int64(i) for i in xp.nonzero(nonzero))
        indices = xp.stack(index) if index else xp.zeros((0, 0), dtype=np.int64)
        arr_index = index
    if self._rg and grad_mode._enabled[0]:
        values = ToSparse.apply(self, index=arr_index, name=name)
        return from_values(values, indices, tuple(arr.shape), True)
    return make_sparse(indices, arr[arr_index], tuple(arr.shape), True)


# -- legacy constructors: taimatsu.sparse.FloatTensor(indices, values, size) ------------------

class _LegacySparseType(type):
    """isinstance() asks for a sparse tensor of the type's dtype; calling one builds it."""

    def __instancecheck__(cls, obj) -> bool:
        return isinstance(obj, SparseCooTensor) and obj.dtype is cls.dtype and not obj.is_cuda

    def __subclasscheck__(cls, sub) -> bool:
        return sub is cls

    def __call__(cls, *args, device=None):
        if args and isinstance(args[0], Tensor):
            return sparse_coo_tensor(*args, dtype=cls.dtype, device=device)
        sizes = args[0] if len(args) == 1 and isinstance(args[0], (tuple, list, Size)) \
            else args
        return _empty(_size_arg(sizes), cls.dtype, device, False)

    def __repr__(cls) -> str:
        return f"<class 'taimatsu.sparse.{cls.__name__}'>"


def _legacy_type(name: str, dtype: D.dtype) -> type:
    return _LegacySparseType(name, (), {"__module__": "taimatsu.sparse", "__slots__": (),
                                        "dtype": dtype, "is_sparse": True,
                                        "layout": sparse_coo})


LEGACY_TYPES = {name: _legacy_type(name, dt) for name, dt in (
    ("FloatTensor", D.float32), ("DoubleTensor", D.float64), ("HalfTensor", D.float16),
    ("BFloat16Tensor", D.bfloat16), ("LongTensor", D.int64), ("IntTensor", D.int32),
    ("ShortTensor", D.int16), ("CharTensor", D.int8), ("ByteTensor", D.uint8))}
