"""Tensor: a backend array (numpy or cupy) plus autograd metadata.

Operations are attached as methods by the modules in `taimatsu.ops`; this file holds
what a tensor *is*: its array, dtype/device/shape queries, conversions, and the autograd
bookkeeping (grad, grad_fn, version counter, views, hooks).
"""

from __future__ import annotations

import copy as _copy
import numbers
import warnings
import weakref

import numpy as np

from . import _dtype as D
from . import backend
from ._device import CPU, device_of
from ._layout import strided
from .autograd import grad_mode
from .autograd.engine import make_accumulator as _make_accumulator
from .autograd.node import as_array

_ndarray = np.ndarray
_from_np = D._BY_NP
_bf16 = D.bfloat16.np
_enabled = grad_mode._enabled
_inference_mode = grad_mode._inference

_LEGACY_NAMES = {
    "float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
    "bfloat16": "BFloat16Tensor", "int64": "LongTensor", "int32": "IntTensor",
    "int16": "ShortTensor", "int8": "CharTensor", "uint8": "ByteTensor", "bool": "BoolTensor",
    "complex64": "ComplexFloatTensor", "complex128": "ComplexDoubleTensor",
}


def _type_name(t) -> str:
    prefix = "taimatsu.cuda." if t.device.type == "cuda" else "taimatsu."
    return prefix + _LEGACY_NAMES[t.dtype.name]


class Size(tuple):
    """The shape of a tensor: a tuple of ints that prints as taimatsu.Size([...])."""

    __slots__ = ()

    __module__ = "taimatsu"  # its public home, as torch.Size is 'torch'

    def __repr__(self) -> str:
        return f"taimatsu.Size({list(self)})"

    __str__ = __repr__

    def numel(self) -> int:
        n = 1
        for s in self:
            n *= s
        return n

    def __getitem__(self, item):
        out = tuple.__getitem__(self, item)
        return Size(out) if isinstance(item, slice) else out

    def __add__(self, other):
        return Size(tuple.__add__(self, tuple(other)))

    def __reduce__(self):
        return (Size, (tuple(self),))


class Tensor:
    """A multi-dimensional array with autograd, as torch.Tensor."""

    __slots__ = ("_data", "_rg", "_grad_fn", "_vc", "__weakref__", "__dict__")
    __module__ = "taimatsu"  # its public home: <class 'taimatsu.Tensor'>, as torch.Tensor

    # Rarely set state lives on the class until a tensor sets its own: ops create tensors
    # by the million, and each attribute not written there is time saved.
    _grad = None
    _output_nr = 0
    _base = None
    _view_fn = None
    _view_ver = 0
    _acc = None
    _hooks = None
    _retains_grad = False
    _inference = False

    __array_priority__ = 1000  # numpy scalars defer to Tensor's reflected operators

    def __init__(self, *args, **kwargs):
        """PyTorch's legacy constructor: Tensor(2, 3), Tensor([1, 2]), Tensor(), Tensor(t).

        Sizes give uninitialized memory of the default dtype, data is converted to it, and
        a tensor gives an alias of itself (any dtype); see `taimatsu._legacy_tensors`.
        """
        from ._legacy_tensors import legacy_new
        src = legacy_new(None, False, args, kwargs)
        _init(self, src._data)
        self._rg = src._rg
        self._grad_fn = src._grad_fn
        self._vc = src._vc
        self.__dict__.update(src.__dict__)  # an alias's view links (base, view function)

    @staticmethod
    def _make(data, grad_fn=None, output_nr=0, requires_grad=False) -> Tensor:
        """Wraps an array without copying: the one way ops create tensors."""
        t = _new_tensor(Tensor)
        t._data = data
        t._rg = requires_grad
        t._grad_fn = grad_fn
        t._vc = [0]
        if output_nr:
            t._output_nr = output_nr
        if _inference_mode[0]:
            t._inference = True
        return t

    # -- basic queries ------------------------------------------------------------------
    @property
    def shape(self) -> Size:
        return Size(self._data.shape)

    def size(self, dim: int | None = None):
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_wrap_dim(dim, self._data.ndim)]

    @property
    def dtype(self) -> D.dtype:
        return _from_np[self._data.dtype]

    @property
    def device(self):
        return CPU if type(self._data) is _ndarray else device_of(self._data)

    @property
    def is_cuda(self) -> bool:
        return type(self._data) is not _ndarray

    @property
    def is_cpu(self) -> bool:
        return type(self._data) is _ndarray

    # Devices, layouts and kinds of tensor that taimatsu does not have: always False, so that
    # code checking for them (t.is_mps, t.is_quantized, ...) takes its plain-tensor path.
    is_xpu = is_mps = is_meta = is_quantized = is_mkldnn = is_nested = is_vulkan = False
    is_ipu = is_mtia = is_maia = is_xla = is_sparse_csr = False

    @property
    def layout(self):
        return strided

    is_sparse = False

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def dim(self) -> int:
        return self._data.ndim

    ndimension = dim

    def numel(self) -> int:
        return self._data.size

    nelement = numel

    def element_size(self) -> int:
        return self._data.itemsize

    @property
    def itemsize(self) -> int:
        return self._data.itemsize

    @property
    def nbytes(self) -> int:
        return self._data.nbytes

    def stride(self, dim: int | None = None):
        item = self._data.itemsize
        strides = tuple(s // item for s in self._data.strides)
        if dim is None:
            return strides
        return strides[_wrap_dim(dim, self._data.ndim)]

    def storage_offset(self) -> int:
        arr = self._data
        root = arr
        while root.base is not None and hasattr(root.base, "dtype"):
            root = root.base
        return (_address(arr) - _address(root)) // arr.itemsize

    def data_ptr(self) -> int:
        return _address(self._data)

    def is_contiguous(self, memory_format=None) -> bool:
        return bool(self._data.flags.c_contiguous)

    def get_device(self) -> int:
        """The CUDA device index, or -1 for CPU tensors."""
        return -1 if type(self._data) is _ndarray else self._data.device.id

    def is_inference(self) -> bool:
        """True for tensors made under inference_mode (never usable in autograd)."""
        return self._inference

    def is_floating_point(self) -> bool:
        return self.dtype.is_floating_point

    def is_complex(self) -> bool:
        return self.dtype.is_complex

    def is_signed(self) -> bool:
        return self.dtype.is_signed

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __reversed__(self) -> Tensor:
        """The tensor flipped along dim 0 (a 0-d tensor is its own reverse), as PyTorch."""
        return self if self._data.ndim == 0 else self.flip(0)

    def __abs__(self) -> Tensor:
        return self.abs()

    def __hash__(self) -> int:
        return id(self)

    def __contains__(self, element) -> bool:
        if isinstance(element, (Tensor, numbers.Number)):
            return bool((self == element).any().item())
        raise RuntimeError("Tensor.__contains__ only supports Tensor or scalar, but you "
                           f"passed in a {type(element)}.")

    # -- conversion to Python and NumPy --------------------------------------------------
    def item(self):
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted "
                               "to Scalar")
        return _py_scalar(backend.to_numpy(self._data).reshape(()))

    def tolist(self):
        arr = backend.to_numpy(self._data)
        if arr.dtype == D.bfloat16.np:
            arr = arr.astype(np.float32)
        return arr.tolist()

    def __bool__(self) -> bool:
        n = self._data.size
        if n != 1:
            what = "no values" if n == 0 else "more than one value"
            raise RuntimeError(f"Boolean value of Tensor with {what} is ambiguous")
        return bool(self.item())

    def __float__(self) -> float:
        if self._rg and _enabled[0]:
            _warn_scalar_of_grad_tensor()
        return float(_real_scalar(self, "double"))

    def __int__(self) -> int:
        return int(_real_scalar(self, "int64_t"))

    def __complex__(self) -> complex:
        return complex(_one_scalar(self))

    def __index__(self) -> int:
        if self._data.size != 1 or self.dtype._kind > 1:
            raise TypeError("only integer tensors of a single element can be converted to "
                            "an index")
        return int(self.item())

    def numpy(self, *, force: bool = False) -> np.ndarray:
        """The NumPy array behind this tensor (shared memory on the CPU)."""
        if not force:
            if self._rg:
                raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use "
                                   "tensor.detach().numpy() instead.")
            if self.is_cuda:
                raise TypeError(f"can't convert {self.device} device type tensor to numpy. "
                                "Use Tensor.cpu() to copy the tensor to host memory first.")
        return backend.to_numpy(self._data)

    def __array__(self, dtype=None, copy=None):
        """NumPy's array protocol (NumPy 2): the tensor's memory unless a copy is needed.

        copy=None copies only to convert the dtype, copy=True always copies, copy=False
        raises ValueError where a copy cannot be avoided (a dtype conversion, or a GPU
        tensor's trip to the host). Unlike PyTorch, and unlike `numpy()`, it also reads
        tensors that require grad (np.asarray(param), np.testing on parameters).
        """
        arr = backend.to_numpy(self._data)
        needs_copy = (dtype is not None and arr.dtype != np.dtype(dtype)) or self.is_cuda
        if copy is False and needs_copy:
            raise ValueError(_NO_COPY)
        if dtype is not None and arr.dtype != np.dtype(dtype):
            return arr.astype(dtype)
        return arr.copy() if copy and not self.is_cuda else arr

    def __array_wrap__(self, array, context=None, return_scalar=False):
        # numpy.sin(tensor) -> Tensor, 0-d ones included, as PyTorch (whose bool results
        # become uint8 too).
        if array.dtype == np.bool_:
            array = array.astype(np.uint8)
        return Tensor._make(array)

    def __dlpack__(self, *args, **kwargs):
        if self._rg:
            raise RuntimeError("Can't export tensors that require gradient, use "
                               "tensor.detach()")
        return self._data.__dlpack__(*args, **kwargs)

    def __dlpack_device__(self):
        return self._data.__dlpack_device__()

    # -- autograd ------------------------------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        return self._rg

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if self._grad_fn is not None:
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to "
                "use a computed variable in a subgraph that doesn't require differentiation "
                "use var_no_grad = var.detach().")
        if value and self.dtype._kind < 2:
            raise RuntimeError("only Tensors of floating point and complex dtype can require "
                               "gradients")
        self._rg = bool(value)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        self.requires_grad = requires_grad
        return self

    @property
    def grad_fn(self):
        if self._base is not None and self._rg and self._view_ver != self._vc[0]:
            _refresh_view(self)
        return self._grad_fn

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def grad(self):
        if self._grad_fn is not None and not self._retains_grad and self._grad is None:
            warnings.warn(
                "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. "
                "Its .grad attribute won't be populated during autograd.backward(). If you "
                "indeed want the .grad field to be populated for a non-leaf Tensor, use "
                ".retain_grad() on the non-leaf Tensor.", UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad "
                                f"of type {type(value).__name__}")
            if value.shape != self.shape:
                raise RuntimeError("assigned grad has data of a different size")
            if value.dtype is not self.dtype:
                raise RuntimeError("assigned grad has data of a different type")
        self._grad = value

    @property
    def _version(self) -> int:
        return self._vc[0]

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    @property
    def output_nr(self) -> int:
        return self._output_nr

    @property
    def _is_view(self) -> bool:
        return self._base is not None

    def _is_view_fn(self) -> bool:
        return self._base is not None

    def _grad_accumulator(self):
        acc = self._acc() if self._acc is not None else None
        if acc is None:
            acc = _make_accumulator(self)
            self._acc = weakref.ref(acc)
        return acc

    def retain_grad(self) -> None:
        if not self._rg:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        fn = self.grad_fn
        if fn is None or self._retains_grad:
            return
        if fn._retain is None:
            fn._retain = {}
        fn._retain[self._output_nr] = weakref.ref(self)
        self._retains_grad = True

    def register_hook(self, hook):
        """hook(grad) -> Tensor or None, run when the gradient for this tensor is computed."""
        from .autograd.hooks import RemovableHandle
        if not self._rg:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require "
                               "gradient")
        fn = self.grad_fn
        if fn is None:
            if self._hooks is None:
                self._hooks = {}
            handle = RemovableHandle(self._hooks)
            self._hooks[handle.id] = hook
            return handle
        if fn._pre_hooks is None:
            fn._pre_hooks = {}
        handle = RemovableHandle(fn._pre_hooks)
        fn._pre_hooks[handle.id] = (self._output_nr, hook)
        return handle

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Computes the gradient of this tensor w.r.t. graph leaves."""
        from .autograd import backward
        backward(self, gradient, retain_graph=retain_graph, create_graph=create_graph,
                 inputs=inputs)

    def detach(self) -> Tensor:
        """A tensor sharing memory and version counter, cut from the graph."""
        t = Tensor._make(self._data)
        t._vc = self._vc
        return t

    def detach_(self) -> Tensor:
        if self._base is not None and self._rg:
            raise RuntimeError("Can't detach views in-place. Use detach() instead.")
        self._grad_fn = None
        self._rg = False
        return self

    @property
    def data(self) -> Tensor:
        """The same memory as a tensor outside autograd (no shared version counter)."""
        return Tensor._make(self._data)

    @data.setter
    def data(self, value: Tensor) -> None:
        self._data = value._data

    # -- copying and pickling --------------------------------------------------------------
    def __deepcopy__(self, memo):
        _check_deepcopy_leaf(self)
        if id(self) in memo:
            return memo[id(self)]
        new = object.__new__(type(self))
        _init(new, self._data.copy())
        new._rg = self._rg
        if self._grad is not None:
            new._grad = _copy.deepcopy(self._grad, memo)
        memo[id(self)] = new
        state = _user_state(self)
        if state:
            new.__dict__.update(_copy.deepcopy(state, memo))
        return new

    def __reduce_ex__(self, protocol):
        state = _user_state(self)
        return (_rebuild_tensor, (type(self), backend.to_numpy(self._data),
                                  str(self.device), self._rg, state))

    def __repr__(self, *, tensor_contents=None) -> str:
        from ._tensor_str import tensor_repr
        return tensor_repr(self, tensor_contents=tensor_contents)

    def __format__(self, spec: str) -> str:
        # A 0-d tensor formats as its value (f"{loss:.4f}"); others as objects do, so a
        # non-empty spec is a TypeError, as in PyTorch.
        if self._data.ndim == 0 and type(self) is Tensor:
            return format(_py_scalar(backend.to_numpy(self._data)), spec)
        return object.__format__(self, spec)

    def type(self, dtype=None, non_blocking: bool = False, **kwargs):
        """The legacy type name ('taimatsu.FloatTensor'), or this tensor converted to `dtype`.

        `dtype` may be a dtype, a legacy type (taimatsu.DoubleTensor), Tensor (the default
        dtype) or a legacy type's name, spelled 'taimatsu.DoubleTensor' or PyTorch's
        'torch.DoubleTensor' ('...cuda.DoubleTensor' moves to the GPU).
        """
        from ._legacy_tensors import is_legacy_type, parse_type
        if dtype is None:
            return _type_name(self)
        if type(dtype) is D.dtype:
            return self.to(dtype, non_blocking=non_blocking)
        if dtype is Tensor:
            return self.to(D.get_default_dtype(), non_blocking=non_blocking)
        if isinstance(dtype, str) or is_legacy_type(dtype):
            dt, cuda = parse_type(dtype)
            if cuda != self.is_cuda:
                return self.to("cuda" if cuda else "cpu", dt, non_blocking=non_blocking)
            return self.to(dt, non_blocking=non_blocking)
        raise ValueError(f"invalid type: '{getattr(dtype, '__name__', dtype)}'")

    def new(self, *args, **kwargs) -> Tensor:
        """PyTorch's legacy `new`: Tensor(*args) with this tensor's dtype and device kind."""
        from ._legacy_tensors import legacy_new
        if "device" not in kwargs and self.is_cuda:
            kwargs["device"] = self.device
        return legacy_new(self.dtype, self.is_cuda, args, kwargs)


# NumPy's own wording for np.array(obj, copy=False) when a copy is unavoidable.
_NO_COPY = ("Unable to avoid copy while creating an array as requested.\nIf using "
            "`np.array(obj, copy=False)` replace it with `np.asarray(obj)` to allow a copy "
            "when needed (no behavior change in NumPy 1.x).\nFor more details, see "
            "https://numpy.org/devdocs/numpy_2_0_migration_guide.html"
            "#adapting-to-changes-in-the-copy-keyword.")


# Autograd bookkeeping a tensor may hold in its __dict__: never pickled or deep-copied
# (weakrefs to graph nodes, hooks, view links belong to this process's graph only).
_AUTOGRAD_STATE = frozenset({"_grad", "_acc", "_hooks", "_base", "_view_fn", "_view_ver",
                             "_output_nr", "_retains_grad", "_inference"})


def _user_state(t) -> dict | None:
    """What a subclass or user stored on the tensor, without the autograd bookkeeping."""
    state = {k: v for k, v in t.__dict__.items() if k not in _AUTOGRAD_STATE}
    return state or None


def _address(arr) -> int:
    if type(arr) is _ndarray:
        return arr.__array_interface__["data"][0]
    return arr.data.ptr


def _init(t: Tensor, data) -> None:
    t._data = data
    t._rg = False
    t._grad_fn = None
    t._vc = [0]


_new_tensor = object.__new__


def _rebuild_tensor(cls, array, device, requires_grad, state=None):
    from ._device import move, to_device
    t = object.__new__(cls)
    _init(t, move(np.array(array), to_device(device)))
    t._rg = requires_grad
    if state:
        t.__dict__.update(state)
    return t


def _one_scalar(t: Tensor):
    """The value of a one-element tensor for int()/float()/complex(), as PyTorch checks."""
    if t._data.size != 1:
        raise ValueError("only one element tensors can be converted to Python scalars")
    return t.item()


def _real_scalar(t: Tensor, c_type: str):
    value = _one_scalar(t)
    if isinstance(value, complex):
        if value.imag != 0:
            raise RuntimeError(f"value cannot be converted to type {c_type} without overflow")
        return value.real
    return value


_warned_scalar = [False]


def _warn_scalar_of_grad_tensor() -> None:
    if not _warned_scalar[0]:  # once per process, as PyTorch's TORCH_WARN_ONCE
        _warned_scalar[0] = True
        warnings.warn("Converting a tensor with requires_grad=True to a scalar may lead to "
                      "unexpected behavior.\nConsider using tensor.detach() first.",
                      UserWarning, stacklevel=3)


def _py_scalar(arr0d):
    if arr0d.dtype == D.bfloat16.np:
        return float(arr0d.astype(np.float32))
    return arr0d.item()


def _wrap_dim(dim: int, ndim: int) -> int:
    """A dim in [-ndim, ndim) made non-negative; IndexError like torch otherwise."""
    n = ndim if ndim > 0 else 1
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {dim})")
    return dim + n if dim < 0 else dim


def _wrap_outputs(fn, out, inputs, node, params=None):
    """Tensors for an op's output arrays; records grad_fn and view links."""
    multi = isinstance(out, tuple)
    outs = out if multi else (out,)
    if node is not None and len(outs) != 1:
        node._num_outputs = len(outs)
    results = []
    for i, arr in enumerate(outs):
        if type(arr) is not _ndarray:
            arr = as_array(arr)
        if node is not None and (arr.dtype.kind in "fc" or arr.dtype == _bf16):
            results.append(Tensor._make(arr, node, i, True))
        else:
            results.append(Tensor._make(arr))
    if node is not None and len(outs) > 1:
        xp = node.xp
        node._out_meta = [(r._data.shape, r._data.dtype, xp) if r._rg else None
                          for r in results]
    if fn.view:
        _link_views(fn, results, inputs, multi, params or {})
    return tuple(results) if multi else results[0]


def _link_views(fn, results, inputs, multi, kwparams):
    """Outputs of a view op share memory and the version counter with the input."""
    src = inputs[0]
    base = src if src._base is None else src._base
    parent_fn = src._view_fn
    params = inputs[1:]
    for i, t in enumerate(results):
        t._base = base
        t._vc = base._vc
        t._view_ver = base._vc[0]

        def view_fn(a, _i=i, _parent=parent_fn):
            if _parent is not None:
                a = _parent(a)
            out = fn.forward(_NoCtx, a, *params, **kwparams)
            return out[_i] if multi else out
        t._view_fn = view_fn


class _NoCtxType:
    __slots__ = ("__dict__",)
    needs_input_grad = ()
    xp = np

    def save_for_backward(self, *a):
        pass

    def mark_name(self, name):
        pass


_NoCtx = _NoCtxType()


def _refresh_view(view: Tensor) -> None:
    """After an in-place change, a view's gradient flows through its base's current node."""
    from .ops.inplace import view_node_for
    view._grad_fn = view_node_for(view)
    view._output_nr = 0
    view._view_ver = view._vc[0]


def _bind_engine() -> None:
    from .autograd import engine
    engine.Tensor = Tensor


_bind_engine()


def _check_deepcopy_leaf(t) -> None:
    """torch deep-copies graph leaves only."""
    if t._grad_fn is not None:
        raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) "
                           "support the deepcopy protocol at the moment.  If you were "
                           "attempting to deepcopy a module, this may be because of a "
                           "torch.nn.utils.weight_norm usage, see "
                           "https://github.com/pytorch/pytorch/pull/103001")
