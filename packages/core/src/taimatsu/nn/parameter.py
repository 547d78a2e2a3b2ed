"""Parameter, Buffer and the uninitialized placeholders that lazy modules materialize.

A `Parameter` is a leaf Tensor that a Module registers as learnable when it is assigned as
an attribute. It shares memory with the tensor it wraps. Operations on a Parameter return
plain Tensors (ops build results with `Tensor._make`), as in PyTorch.
"""

from __future__ import annotations

import copy

import numpy as np

from .. import _dtype as D
from .. import backend
from .._tensor import Tensor, _init

__all__ = ["Parameter", "Buffer", "UninitializedParameter", "UninitializedBuffer"]


def _wrap_leaf(cls, data: Tensor | None, requires_grad: bool):
    """A new leaf of class `cls` over `data`'s memory (and version counter)."""
    if data is None:
        data = Tensor._make(np.empty((0,), dtype=D.get_default_dtype().np))
    elif not isinstance(data, Tensor):
        raise TypeError(f"{cls.__name__}() expected data to be a Tensor, but got "
                        f"{type(data).__name__}")
    t = object.__new__(cls)
    _init(t, data._data)
    t._vc = data._vc
    if requires_grad:
        t.requires_grad = True  # the setter refuses integer dtypes with torch's message
    return t


class Parameter(Tensor):
    """A Tensor that a Module treats as learnable.

    Args:
        data: the tensor to wrap (memory is shared); empty when None
        requires_grad: whether the parameter requires gradient (default True)
    """

    def __new__(cls, data: Tensor | None = None, requires_grad: bool = True):
        return _wrap_leaf(cls, data, requires_grad)

    def __init__(self, data=None, requires_grad=True):
        pass  # all done in __new__; Tensor.__init__ would re-create the array

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo):
        # Tensor's deepcopy would also copy autograd bookkeeping from __dict__ (the weakref
        # to this leaf's grad accumulator among it), tying the copy to this graph.
        if id(self) in memo:
            return memo[id(self)]
        new = object.__new__(type(self))
        _init(new, self._data.copy())
        new._rg = self._rg
        memo[id(self)] = new
        if self._grad is not None:
            new._grad = copy.deepcopy(self._grad, memo)
        state = {k: v for k, v in self.__dict__.items() if k not in _AUTOGRAD_STATE}
        if state:
            new.__dict__.update(copy.deepcopy(state, memo))
        return new

    def __reduce_ex__(self, protocol):
        # As PyTorch: data, requires_grad and user attributes; not grad nor autograd state
        # (which holds weakrefs that cannot be pickled).
        state = {k: v for k, v in self.__dict__.items() if k not in _AUTOGRAD_STATE}
        return (_rebuild_parameter, (type(self), backend.to_numpy(self._data),
                                     str(self.device), self._rg, state or None))


# Per-tensor autograd bookkeeping that Tensor keeps in __dict__ once set.
_AUTOGRAD_STATE = frozenset({"_grad", "_output_nr", "_base", "_view_fn", "_view_ver", "_acc",
                             "_hooks", "_retains_grad", "_inference"})


def _rebuild_parameter(cls, array, device, requires_grad, state):
    from .._device import move, to_device
    t = object.__new__(cls)
    _init(t, move(np.array(array), to_device(device)))
    t._rg = requires_grad
    if state:
        t.__dict__.update(state)
    return t


class _BufferMeta(type):
    # A Buffer is a plain Tensor flagged `_is_buffer`, so isinstance checks the flag.
    def __instancecheck__(cls, instance) -> bool:
        if cls is Buffer:
            return isinstance(instance, Tensor) and instance.__dict__.get("_is_buffer", False)
        return super().__instancecheck__(instance)


class Buffer(Tensor, metaclass=_BufferMeta):
    """Marks a tensor to be registered as a module buffer when assigned as an attribute.

    Args:
        data: the buffer's tensor (memory is shared); empty when None
        persistent: whether the buffer is part of the module's state_dict
    """

    def __new__(cls, data: Tensor | None = None, *, persistent: bool = True):
        if data is None:
            data = Tensor._make(np.empty((0,), dtype=D.get_default_dtype().np))
        t = data.detach()
        if data._rg:
            t.requires_grad_(True)
        t.persistent = persistent
        t._is_buffer = True
        return t


_UNINIT_MESSAGE = (
    "Attempted to use an uninitialized parameter in {}. This error happens when you are "
    "using a `LazyModule` or explicitly manipulating `taimatsu.nn.parameter."
    "UninitializedParameter` objects. When using LazyModules Call `forward` with a dummy "
    "batch to initialize the parameters before calling taimatsu functions")


class UninitializedTensorMixin:
    """Shape-less placeholder; `materialize(shape)` turns it into `cls_to_become`."""

    cls_to_become: type = Tensor

    def materialize(self, shape, device=None, dtype=None) -> None:
        """Allocates (uninitialized) storage of `shape` and becomes `cls_to_become`."""
        from .. import empty
        if device is None:
            device = self.device
        if dtype is None:
            dtype = self.dtype
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        self._data = empty(shape, device=device, dtype=dtype)._data
        self.__class__ = self.cls_to_become

    @property
    def shape(self):
        raise RuntimeError(
            "Can't access the shape of an uninitialized parameter or buffer. This error "
            "usually happens in `load_state_dict` when trying to load an uninitialized "
            "parameter into an initialized one. Call `forward` to initialize the parameters "
            "before accessing their attributes.")

    def size(self, dim=None):
        raise ValueError(_UNINIT_MESSAGE.format("size"))

    def numel(self):
        raise ValueError(_UNINIT_MESSAGE.format("numel"))

    def share_memory_(self):
        raise RuntimeError(
            "Can't share memory on an uninitialized parameter or buffer. Call `forward` to "
            "initialize the parameters before calling `module.share_memory()`.")

    def __repr__(self) -> str:
        return f"<class 'taimatsu.nn.parameter.{type(self).__name__}'>"

    def __reduce_ex__(self, protocol):
        return (type(self), (None, self.requires_grad))


def is_lazy(t) -> bool:
    """True for UninitializedParameter / UninitializedBuffer placeholders."""
    return isinstance(t, UninitializedTensorMixin)


class UninitializedParameter(UninitializedTensorMixin, Parameter):
    """A Parameter whose shape is not known yet (see LazyModuleMixin)."""

    cls_to_become = Parameter

    def __new__(cls, requires_grad: bool = True, device=None, dtype=None):
        from .. import empty
        data = empty(0, device=device, dtype=dtype)
        return _wrap_leaf(cls, data, requires_grad)

    def __init__(self, requires_grad=True, device=None, dtype=None):
        pass

    def __deepcopy__(self, memo):
        if id(self) not in memo:
            memo[id(self)] = type(self)(self.requires_grad, self.device, self.dtype)
        return memo[id(self)]


class UninitializedBuffer(UninitializedTensorMixin, Tensor):
    """A buffer whose shape is not known yet (see LazyModuleMixin)."""

    cls_to_become = Tensor

    def __new__(cls, requires_grad: bool = False, device=None, dtype=None,
                persistent: bool = True):
        from .. import empty
        t = _wrap_leaf(cls, empty(0, device=device, dtype=dtype), requires_grad)
        t.persistent = persistent
        return t

    def __init__(self, requires_grad=False, device=None, dtype=None, persistent=True):
        pass

    def __deepcopy__(self, memo):
        if id(self) not in memo:
            memo[id(self)] = type(self)(self.requires_grad, self.device, self.dtype,
                                        self.__dict__.get("persistent", True))
        return memo[id(self)]
