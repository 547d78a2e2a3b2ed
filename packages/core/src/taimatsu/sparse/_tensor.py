"""The sparse COO tensor type: a Tensor whose `_data` is a `CooData` (indices + values).

`isinstance(s, taimatsu.Tensor)` holds, `s.layout` is `taimatsu.sparse_coo` and the
queries PyTorch answers for sparse tensors (shape, dtype, device, nnz, sparse/dense dims,
requires_grad, grad, repr) are answered here. The operations live in `_ops.py`; dense-only
operations fail inside their forward on the CooData (see `_storage.py`).

Autograd: a sparse tensor is a node output or a leaf like any tensor. Its gradient is
carried as a values-shaped array and shown as a sparse tensor with the same indices:
`s.grad` of a sparse leaf is sparse, as in PyTorch.
"""

from __future__ import annotations

import copy as _copy
import math

import numpy as np

from .. import _dtype as D
from .. import backend
from .._device import device_of
from .._layout import sparse_coo
from .._tensor import _AUTOGRAD_STATE, _LEGACY_NAMES, Size, Tensor, _check_deepcopy_leaf, _wrap_dim
from ..autograd import grad_mode
from ._storage import CooData, raise_unsupported

_from_np = D._BY_NP
_new = object.__new__
_inference_mode = grad_mode._inference
_NOT_STATE = _AUTOGRAD_STATE | {"_sparse_grad", "_owner"}


class SparseCooTensor(Tensor):
    """A tensor in the sparse COO layout (made by taimatsu.sparse_coo_tensor/to_sparse)."""

    __slots__ = ()

    is_sparse = True

    # -- what it is --------------------------------------------------------------------------
    @property
    def layout(self):
        return sparse_coo

    @property
    def shape(self) -> Size:
        return Size(self._data.sizes)

    def size(self, dim: int | None = None):
        sizes = self._data.sizes
        if dim is None:
            return Size(sizes)
        return sizes[_wrap_dim(dim, len(sizes))]

    @property
    def dtype(self) -> D.dtype:
        return _from_np[self._data.values.dtype]

    @property
    def device(self):
        return device_of(self._data.values)

    @property
    def is_cuda(self) -> bool:
        return backend.is_cuda_array(self._data.values)

    @property
    def is_cpu(self) -> bool:
        return not backend.is_cuda_array(self._data.values)

    def get_device(self) -> int:
        values = self._data.values
        return values.device.id if backend.is_cuda_array(values) else -1

    @property
    def ndim(self) -> int:
        return len(self._data.sizes)

    def dim(self) -> int:
        return len(self._data.sizes)

    ndimension = dim

    def numel(self) -> int:
        return math.prod(self._data.sizes)

    nelement = numel

    def __len__(self) -> int:
        if not self._data.sizes:
            raise TypeError("len() of a 0-d tensor")
        return self._data.sizes[0]

    def element_size(self) -> int:
        return self._data.values.itemsize

    @property
    def itemsize(self) -> int:
        return self._data.values.itemsize

    @property
    def nbytes(self) -> int:
        raise RuntimeError(
            "nbytes is not defined for sparse tensors.  If you want the size of the "
            "constituent tensors, add the nbytes of the indices and values.  If you want the "
            "size of the  equivalent dense tensor, multiply numel() by element_size()")

    def sparse_dim(self) -> int:
        return self._data.indices.shape[0]

    def dense_dim(self) -> int:
        return self._data.values.ndim - 1

    def _nnz(self) -> int:
        return self._data.indices.shape[1]

    def is_coalesced(self) -> bool:
        return self._data.coalesced

    def _indices(self) -> Tensor:
        """The indices (an alias, not tracked by autograd), coalesced or not."""
        return Tensor._make(self._data.indices)

    def _values(self) -> Tensor:
        """The values (an alias, not tracked by autograd), coalesced or not."""
        t = Tensor._make(self._data.values)
        t._vc = self._vc
        return t

    def indices(self) -> Tensor:
        _require_coalesced(self, "indices")
        return self._indices()

    def values(self) -> Tensor:
        """The values of a coalesced tensor; gradients flow back to this tensor."""
        _require_coalesced(self, "values")
        if not (self._rg and grad_mode._enabled[0]):
            return self._values()
        from ._functions import Alias
        out = Alias.apply(self, name="ValuesBackward0")
        out._vc = self._vc
        return out

    # -- what it does not have (PyTorch's answers) ----------------------------------------------
    def stride(self, dim: int | None = None):
        if dim is None:
            return (0,) * len(self._data.sizes)
        _wrap_dim(dim, len(self._data.sizes))
        return 0

    def is_contiguous(self, memory_format=None) -> bool:
        return False

    def storage_offset(self) -> int:
        return 0

    def data_ptr(self) -> int:
        raise RuntimeError("Cannot access data pointer of Tensor that doesn't have storage")

    def tolist(self):
        raise RuntimeError("Cannot access data pointer of Tensor that doesn't have storage")

    def numpy(self, *, force: bool = False):
        raise TypeError("can't convert Sparse layout tensor to numpy. Use Tensor.to_dense() "
                        "first.")

    def __array__(self, dtype=None, copy=None):
        return self.numpy()

    def __dlpack__(self, *args, **kwargs):
        raise_unsupported(self._data, "to_dlpack")

    # -- Python conversions (through the dense value, which has one element) -----------------
    def item(self):
        n = self.numel()
        if n != 1:
            raise RuntimeError(f"a Tensor with {n} elements cannot be converted to Scalar")
        return self.to_dense().item()

    def __bool__(self) -> bool:
        n = self.numel()
        if n != 1:
            what = "no values" if n == 0 else "more than one value"
            raise RuntimeError(f"Boolean value of Tensor with {what} is ambiguous")
        return bool(self.item())

    def __index__(self) -> int:
        if self.numel() != 1 or self.dtype._kind > 1:
            raise TypeError("only integer tensors of a single element can be converted to "
                            "an index")
        return int(self.item())

    def __iter__(self):
        if not self._data.sizes:
            raise TypeError("iteration over a 0-d tensor")
        return (self.select(0, i) for i in range(self._data.sizes[0]))

    def __format__(self, spec: str) -> str:
        return object.__format__(self, spec)  # str(self); a format spec is a TypeError

    def __repr__(self, *, tensor_contents=None) -> str:
        from ._format import sparse_repr
        return sparse_repr(self, tensor_contents)

    def type(self, dtype=None, non_blocking: bool = False, **kwargs):
        if dtype is None:
            prefix = "taimatsu.cuda.sparse." if self.is_cuda else "taimatsu.sparse."
            return prefix + _LEGACY_NAMES[self.dtype.name]
        return Tensor.type(self, dtype, non_blocking, **kwargs)

    # -- autograd ---------------------------------------------------------------------------
    def detach(self) -> SparseCooTensor:
        """The same indices and values, cut from the graph (shares the version counter)."""
        t = make_sparse(self._data.indices, self._data.values, self._data.sizes,
                        self._data.coalesced)
        t._vc = self._vc
        return t

    @property
    def data(self) -> SparseCooTensor:
        return make_sparse(self._data.indices, self._data.values, self._data.sizes,
                           self._data.coalesced)

    @data.setter
    def data(self, value) -> None:
        if not isinstance(value, SparseCooTensor):
            raise RuntimeError("the data of a sparse tensor can only be set to a sparse "
                               "tensor")
        self._data = value._data

    @property
    def grad(self):
        g = Tensor.grad.fget(self)
        if g is None:
            return None
        cached = self.__dict__.get("_sparse_grad")
        if cached is not None and cached[0] is g:
            return cached[1]
        sparse_grad = from_values(g, self._data.indices, self._data.sizes,
                                  self._data.coalesced)
        self.__dict__["_sparse_grad"] = (g, sparse_grad)
        return sparse_grad

    @grad.setter
    def grad(self, value) -> None:
        self.__dict__.pop("_sparse_grad", None)
        if value is None:
            self._grad = None
            return
        self._grad = self._values_of_grad(value)

    def _values_of_grad(self, value) -> Tensor:
        """A gradient given for this tensor (sparse with its indices) as values."""
        if not isinstance(value, SparseCooTensor):
            raise RuntimeError("assigned grad has data of a different layout")
        if value.shape != self.shape:
            raise RuntimeError("assigned grad has data of a different size")
        if value.dtype is not self.dtype:
            raise RuntimeError("assigned grad has data of a different type")
        same = value._data.indices is self._data.indices or (
            value._data.indices.shape == self._data.indices.shape
            and bool((value._data.indices == self._data.indices).all()))
        if not same:
            raise RuntimeError("a gradient for a sparse tensor must have the same indices as "
                               "the tensor")
        t = Tensor._make(value._data.values, value._grad_fn, value._output_nr, value._rg)
        t._vc = value._vc
        return t

    def register_hook(self, hook):
        """hook(grad) sees the gradient as a sparse tensor with this tensor's indices."""
        indices, sizes, coalesced = self._data.indices, self._data.sizes, self._data.coalesced

        def on_values(values_grad):
            out = hook(from_values(values_grad, indices, sizes, coalesced))
            if out is None:
                return None
            return self._values_of_grad(out)
        return Tensor.register_hook(self, on_values)

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        from ..autograd import backward
        if gradient is not None:
            gradient = self._values_of_grad(gradient)
        backward(values_of(self), gradient, retain_graph=retain_graph,
                 create_graph=create_graph, inputs=inputs)

    # -- copying and pickling ----------------------------------------------------------------
    def __deepcopy__(self, memo):
        _check_deepcopy_leaf(self)
        if id(self) in memo:
            return memo[id(self)]
        data = self._data
        new = make_sparse(data.indices.copy(), data.values.copy(), data.sizes, data.coalesced,
                          requires_grad=self._rg)
        if self._grad is not None:
            new._grad = _copy.deepcopy(self._grad, memo)
        memo[id(self)] = new
        state = _user_state(self)
        if state:
            new.__dict__.update(_copy.deepcopy(state, memo))
        return new

    def __reduce_ex__(self, protocol):
        data = self._data
        return (_rebuild_sparse, (backend.to_numpy(data.indices),
                                  backend.to_numpy(data.values), data.sizes, data.coalesced,
                                  str(self.device), self._rg, _user_state(self)))


def _require_coalesced(t: SparseCooTensor, what: str) -> None:
    if not t._data.coalesced:
        raise RuntimeError(f"Cannot get {what} on an uncoalesced tensor, please call "
                           ".coalesce() first")


def _user_state(t) -> dict | None:
    state = {k: v for k, v in t.__dict__.items() if k not in _NOT_STATE}
    return state or None


def _rebuild_sparse(indices, values, sizes, coalesced, device, requires_grad, state=None):
    from .._device import move, to_device
    dev = to_device(device)
    t = make_sparse(move(np.array(indices), dev), move(np.array(values), dev), tuple(sizes),
                    coalesced, requires_grad=requires_grad)
    if state:
        t.__dict__.update(state)
    return t


# -- making sparse tensors ---------------------------------------------------------------------

def make_sparse(indices, values, sizes: tuple, coalesced: bool,
                requires_grad: bool = False) -> SparseCooTensor:
    """A sparse tensor over these arrays (no copy), outside any graph."""
    t = _new(SparseCooTensor)
    t._data = CooData(indices, values, tuple(sizes), coalesced)
    t._rg = requires_grad
    t._grad_fn = None
    t._vc = [0]
    if _inference_mode[0]:
        t._inference = True
    return t


def from_values(values: Tensor, indices, sizes: tuple, coalesced: bool) -> SparseCooTensor:
    """A sparse tensor whose values are the op output `values`, taking over its place in
    the graph: the gradient of the sparse tensor is the gradient of `values`.

    `values` must be an op's fresh output. A leaf or a view would give the sparse tensor a
    history it must not share, so those pass through an identity node first.
    """
    if (values._rg and values._grad_fn is None) or values._base is not None:
        from ._functions import Alias
        values = Alias.apply(values, name="AliasBackward0")
    t = _new(SparseCooTensor)
    t._data = CooData(indices, values._data, tuple(sizes), coalesced)
    t._rg = values._rg
    t._grad_fn = values._grad_fn
    t._vc = values._vc
    if values._output_nr:
        t._output_nr = values._output_nr
    if values._inference:
        t._inference = True
    return t


class _LeafValues(Tensor):
    """The values of a sparse tensor as a dense tensor that is the same autograd variable:
    same node (or, for a leaf, the same gradient accumulator) and version counter. Ops
    on the values with such an input send their gradient to the sparse tensor."""

    __slots__ = ()

    @staticmethod
    def _of(s: SparseCooTensor) -> Tensor:
        t = _new(_LeafValues)
        t._data = s._data.values
        t._rg = s._rg
        t._grad_fn = s._grad_fn
        t._vc = s._vc
        if s._output_nr:
            t._output_nr = s._output_nr
        t.__dict__["_owner"] = s
        return t

    def _grad_accumulator(self):
        return self.__dict__["_owner"]._grad_accumulator()


def values_of(s: SparseCooTensor) -> Tensor:
    """The values of `s` as a dense tensor in `s`'s place in the graph (see _LeafValues);
    for internal use as an op input, never handed to users."""
    return _LeafValues._of(s)
