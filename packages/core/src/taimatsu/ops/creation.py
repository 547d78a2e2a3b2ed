"""Tensor creation: tensor, as_tensor, zeros, ones, full, arange, linspace, eye, *_like."""

from __future__ import annotations

import math
import numbers
from collections import abc

import numpy as np

from .. import _dtype as D
from .. import backend
from .._device import CPU, move, to_device, xp_for
from .._tensor import Size, Tensor
from ._util import finish, method
from .inplace import kernel_missing


def _dtype_or_default(dtype, default: D.dtype) -> D.dtype:
    return default if dtype is None else D.to_dtype(dtype)


# -- from Python data to an array, as torch.tensor reads it --------------------------------
# torch.tensor walks nested sequences itself: the shape comes from the first element at each
# depth, the dtype from promoting every leaf (Python float -> default dtype, int -> int64,
# bool -> bool, complex -> default complex; NumPy scalars/arrays and tensors keep theirs),
# and a leaf tensor counts as one scalar. NumPy builds the array; the walk runs only for
# what NumPy cannot see (dtype inference, tensors among the leaves) or on errors.
_PY_SCALARS = frozenset({bool, int, float, complex})


def _tp_name(obj) -> str:
    """The type name torch's messages use (NumPy's types are qualified)."""
    cls = type(obj)
    return f"numpy.{cls.__name__}" if cls.__module__.startswith("numpy") else cls.__name__


def _is_sequence(obj) -> bool:
    """Python's sequence protocol, as PySequence_Check sees it (dicts and sets are not)."""
    if isinstance(obj, (list, tuple, range, np.ndarray, Tensor)):
        return True
    if isinstance(obj, (dict, set, frozenset)) or isinstance(obj, abc.Mapping):
        return False
    cls = type(obj)
    return hasattr(cls, "__getitem__") and hasattr(cls, "__len__")


def _sizes(data) -> list:
    """The shape torch infers: the length of the first element at each depth."""
    sizes = []
    obj = data
    while _is_sequence(obj) and not isinstance(obj, Tensor):
        if isinstance(obj, str):
            raise ValueError("too many dimensions 'str'")
        if isinstance(obj, np.ndarray):
            return sizes + list(obj.shape)
        n = len(obj)
        sizes.append(n)
        if n == 0:
            break
        obj = obj[0]
    return sizes


def _py_dtype(cls, default_float: D.dtype) -> D.dtype:
    if cls is float:
        return default_float
    if cls is bool:
        return D.bool
    if cls is int:
        return D.int64
    return default_float.to_complex()


class _Leaves:
    """The dtypes of a nested sequence's leaves, and whether any leaf is a Tensor."""

    def __init__(self, default_float: D.dtype):
        self.default_float = default_float
        self.dtypes: set = set()
        self.tensors = False

    def visit(self, seq) -> None:
        if len(seq) == 0:  # an empty sequence counts as the default dtype, as in torch
            self.dtypes.add(self.default_float)
            return
        types = set(map(type, seq))
        if types <= _PY_SCALARS:  # the common case, checked at C speed
            self.dtypes.update(_py_dtype(t, self.default_float) for t in types)
            return
        for item in seq:
            self.leaf(item)

    def leaf(self, item) -> None:
        if isinstance(item, Tensor):
            self.dtypes.add(item.dtype)
            self.tensors = True
        elif isinstance(item, (np.ndarray, np.generic)):
            self.dtypes.add(D.from_numpy_dtype(item.dtype))
        elif isinstance(item, (bool, int, float, complex)):
            base = next(t for t in (bool, int, float, complex) if isinstance(item, t))
            self.dtypes.add(_py_dtype(base, self.default_float))
        elif isinstance(item, (str, bytes)):
            raise TypeError(f"new(): invalid data type '{type(item).__name__}'")
        elif _is_sequence(item):
            self.visit(item)
        else:
            raise RuntimeError(f"Could not infer dtype of {_tp_name(item)}")

    def dtype(self) -> D.dtype:
        out = None
        for dt in self.dtypes:
            out = dt if out is None else D.promote_types(out, dt)
        return out


def _one_element(t: Tensor):
    if t._data.size != 1:
        raise ValueError("only one element tensors can be converted to Python scalars")
    return t.item()


def _untensor(obj, dim: int, ndim: int):
    """`obj` with its tensors as Python scalars (at leaves) or nested lists (above them)."""
    if isinstance(obj, Tensor):
        return _one_element(obj) if dim >= ndim else obj.tolist()
    if dim >= ndim or isinstance(obj, (str, bytes, np.ndarray)) or not _is_sequence(obj):
        return obj
    return [_untensor(x, dim + 1, ndim) for x in obj]


def _not_a_scalar(obj, target: D.dtype):
    name = _tp_name(obj)
    if target._kind <= 1:
        return TypeError(f"'{name}' object cannot be interpreted as an integer")
    return TypeError(f"must be real number, not {name}")


def _raise_shape_error(obj, sizes: list, dim: int, target: D.dtype) -> None:
    """Raises torch's error for the first place where `obj` does not match `sizes`."""
    if dim == len(sizes):
        if isinstance(obj, Tensor):
            _one_element(obj)
        elif _is_sequence(obj):
            raise _not_a_scalar(obj, target)
        return
    if isinstance(obj, Tensor):
        obj = obj.tolist() if obj.ndim else obj.item()
    if isinstance(obj, str) or not _is_sequence(obj):
        raise TypeError("not a sequence")
    if len(obj) != sizes[dim]:
        raise ValueError(f"expected sequence of length {sizes[dim]} at dim {dim} (got "
                         f"{len(obj)})")
    for item in obj:
        _raise_shape_error(item, sizes, dim + 1, target)


_OVERFLOW_INT64 = "Overflow when unpacking long long"


def _check_fits(arr: np.ndarray, target: D.dtype) -> None:
    """torch refuses Python values that do not fit an integer dtype (-1 -> uint8 wraps)."""
    kind = arr.dtype.kind
    if kind == "c" and not target.is_complex and target is not D.bool:
        name = "complex"
        if target._kind == 1:
            raise TypeError(f"'{name}' object cannot be interpreted as an integer")
        raise TypeError(f"must be real number, not {name}")
    if target._kind != 1 or arr.size == 0 or kind not in "iuf":
        return
    message = f"value cannot be converted to type {target.name} without overflow"
    if kind == "f":
        if not np.isfinite(arr).all():
            raise RuntimeError(message)
        if target is D.int64:
            return  # torch lets doubles past int64's range wrap
    info = np.iinfo(target.np)
    low = info.min if info.min < 0 else -info.max  # unsigned: negatives wrap around
    if arr.min() < low or arr.max() > info.max:
        raise RuntimeError(message)


def _from_python_scalar(data, default_float: D.dtype, target) -> np.ndarray:
    dt = target or _py_dtype(type(data), default_float)
    if isinstance(data, int) and not isinstance(data, bool) and not dt._kind >= 2:
        if not -2**63 <= data < 2**63:
            raise ValueError(_OVERFLOW_INT64)
    arr = np.asarray(data)
    if target is not None:
        _check_fits(arr, dt)
    return _cast(arr, dt)


def _from_sequence(data, default_float: D.dtype, target) -> np.ndarray:
    if isinstance(data, (str, bytes)):
        raise TypeError(f"new(): invalid data type '{type(data).__name__}'")
    if not _is_sequence(data):
        raise RuntimeError(f"Could not infer dtype of {_tp_name(data)}")
    sizes = _sizes(data)
    leaves = _Leaves(default_float)
    leaves.visit(data)
    dt = target or leaves.dtype()
    if 0 in sizes:  # torch reads no element then, so ragged rows after an empty one pass
        return np.empty(sizes, dtype=dt.np)
    if leaves.tensors:
        data = _untensor(data, 0, len(sizes))
    try:
        arr = np.asarray(data)
    except (ValueError, TypeError):
        arr = None
    if arr is None or arr.dtype == object or list(arr.shape) != sizes:
        if arr is not None and arr.dtype == object and list(arr.shape) == sizes:
            arr = _big_ints(data, dt)  # homogeneous, but ints past int64
        else:
            _raise_shape_error(data, sizes, 0, dt)
            raise ValueError(f"could not convert the data to a tensor of shape {sizes}")
    elif arr.dtype == np.uint64 and dt._kind <= 1:
        raise ValueError(_OVERFLOW_INT64)
    _check_fits(arr, dt)
    return _cast(arr, dt)


def _cast(arr: np.ndarray, dt: D.dtype) -> np.ndarray:
    # Values past a float dtype's range become inf, as in torch, without NumPy's warning.
    with np.errstate(over="ignore", invalid="ignore"):
        return arr.astype(dt.np, copy=False)


def _big_ints(data, dt: D.dtype) -> np.ndarray:
    # Python ints outside int64 only fit floating dtypes (torch reads them as doubles then).
    if dt._kind < 2:
        raise ValueError(_OVERFLOW_INT64)
    return np.asarray(data, dtype=np.complex128 if dt.is_complex else np.float64)


def _array_from_data(data, default_float: D.dtype, dtype, copy: bool = True):
    """A NumPy array for `data` (nested sequences, scalars, arrays, tensors), as torch.tensor.

    `default_float` is the dtype Python floats become; `dtype` (when given) the target.
    """
    target = None if dtype is None else D.to_dtype(dtype)
    if isinstance(data, Tensor):
        arr = backend.to_numpy(data._data)
        return arr.astype((target or data.dtype).np, copy=True)
    if type(data) in _PY_SCALARS:
        return _from_python_scalar(data, default_float, target)
    if backend.is_cuda_array(data):
        data = data.get()
    if isinstance(data, (np.ndarray, np.generic)):
        src = D.from_numpy_dtype(data.dtype)  # refuses uint16 & co. with torch's message
        arr = np.array(data, copy=copy) if isinstance(data, np.ndarray) else np.asarray(data)
        return arr.astype((target or src).np, copy=False)
    if isinstance(data, (bool, int, float, complex)):  # subclasses (IntEnum, ...)
        base = next(t for t in (bool, int, float, complex) if isinstance(data, t))
        return _from_python_scalar(base(data), default_float, target)
    return _from_sequence(data, default_float, target)


def _place(arr, device):
    dev = to_device(device)
    return arr if dev is CPU else move(arr, dev)


def _finish(arr, device, requires_grad: bool) -> Tensor:
    t = Tensor._make(_place(arr, device))
    if requires_grad:
        t.requires_grad_(True)
    return t


def tensor(data, *, dtype=None, device=None, requires_grad: bool = False,
           pin_memory: bool = False) -> Tensor:
    """A new tensor copying `data` (infers dtype like torch.tensor)."""
    return _finish(_array_from_data(data, D.get_default_dtype(), dtype), device, requires_grad)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Converts `data` to a tensor, sharing memory with a NumPy array or tensor if it can."""
    if isinstance(data, Tensor):
        out = data
        if dtype is not None or device is not None:
            out = data.to(dtype=dtype, device=device)
        return out
    if isinstance(data, np.ndarray) and (dtype is None or D.to_dtype(dtype).np == data.dtype) \
            and (device is None or to_device(device) is CPU):
        D.from_numpy_dtype(data.dtype)
        return Tensor._make(data)
    return _finish(_array_from_data(data, D.get_default_dtype(), dtype, copy=False), device,
                   False)


def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad: bool = False) -> Tensor:
    if copy:
        return tensor(obj, dtype=dtype, device=device, requires_grad=requires_grad)
    out = as_tensor(obj, dtype=dtype, device=device)
    if requires_grad:
        out.requires_grad_(True)
    return out


def from_numpy(ndarray: np.ndarray) -> Tensor:
    """A tensor sharing memory with `ndarray`."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    D.from_numpy_dtype(ndarray.dtype)
    return Tensor._make(ndarray)


def from_dlpack(ext) -> Tensor:
    """A tensor sharing memory with a DLPack-capable object (or a raw DLPack capsule)."""
    if isinstance(ext, Tensor):
        return ext
    if type(ext).__name__ == "PyCapsule":
        ext = _Capsule(ext)
    if backend.is_cuda_array(ext) or ext.__dlpack_device__()[0] == 2:
        return Tensor._make(backend.cupy().from_dlpack(ext))
    return Tensor._make(np.from_dlpack(ext))


class _Capsule:
    """Lets NumPy import a bare capsule (it only accepts objects with __dlpack__)."""

    def __init__(self, capsule):
        self.capsule = capsule

    def __dlpack__(self, **kwargs):
        return self.capsule

    def __dlpack_device__(self):
        return (1, 0)  # a bare capsule carries no device query; host memory assumed


def _shape(size) -> tuple:
    if len(size) == 1 and isinstance(size[0], (tuple, list, Size)):
        size = size[0]
    out = tuple(int(s) for s in size)
    for s in out:
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: "
                               f"{list(out)}")
    return out


def _filled(fill, size, dtype, device, requires_grad, default=None) -> Tensor:
    dt = _dtype_or_default(dtype, default or D.get_default_dtype())
    xp = xp_for(to_device(device))
    shape = _shape(size)
    if fill is None:
        arr = xp.empty(shape, dtype=dt.np)
    elif fill == 0:
        arr = xp.zeros(shape, dtype=dt.np)
    else:
        arr = xp.full(shape, fill, dtype=dt.np)
    t = Tensor._make(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _size_args(name: str, sizes: tuple, size) -> tuple:
    """zeros(2, 3), zeros((2, 3)) or zeros(size=(2, 3))."""
    if size is None:
        return sizes
    if sizes:
        raise TypeError(f"{name}() received an invalid combination of arguments - got both "
                        "positional sizes and size=")
    return (size,)


def _filled_out(fill, name, sizes, size, out, dtype, device, requires_grad) -> Tensor:
    shape = _size_args(name, sizes, size)
    if out is None:
        return _filled(fill, shape, dtype, device, requires_grad)
    result = _filled(fill, shape, dtype or out.dtype, device or out.device, False)
    return finish(result, out)


def zeros(*sizes, size=None, out=None, dtype=None, layout=None, device=None,
          requires_grad=False) -> Tensor:
    return _filled_out(0, "zeros", sizes, size, out, dtype, device, requires_grad)


def ones(*sizes, size=None, out=None, dtype=None, layout=None, device=None,
         requires_grad=False) -> Tensor:
    return _filled_out(1, "ones", sizes, size, out, dtype, device, requires_grad)


def empty(*sizes, size=None, out=None, dtype=None, layout=None, device=None,
          requires_grad=False, pin_memory=False, memory_format=None) -> Tensor:
    return _filled_out(None, "empty", sizes, size, out, dtype, device, requires_grad)


def full(size, fill_value, *, out=None, dtype=None, layout=None, device=None,
         requires_grad=False) -> Tensor:
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    default = D.result_type_of([], [fill_value]) if dtype is None else None
    return _filled(fill_value, (size,) if isinstance(size, int) else (tuple(size),), dtype,
                   device, requires_grad, default)


def _like(fill, input: Tensor, dtype, device, requires_grad) -> Tensor:
    return _filled(fill, (input.shape,), dtype or input.dtype, device or input.device,
                   requires_grad)


def zeros_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
               memory_format=None) -> Tensor:
    return _like(0, input, dtype, device, requires_grad)


def ones_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None) -> Tensor:
    return _like(1, input, dtype, device, requires_grad)


def empty_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
               memory_format=None) -> Tensor:
    return _like(None, input, dtype, device, requires_grad)


def full_like(input, fill_value, *, dtype=None, layout=None, device=None,
              requires_grad=False, memory_format=None) -> Tensor:
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    return _like(fill_value, input, dtype, device, requires_grad)


def scalar_tensor_like(value, like: Tensor | None = None) -> Tensor:
    """A 0-dim tensor for a Python number (its natural dtype), on `like`'s device."""
    dt = D.result_type_of([], [value])
    xp = backend.of(like._data) if like is not None else np
    return Tensor._make(xp.asarray(value, dtype=dt.np))


def scalar_tensor(s, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    return full((), s, dtype=dtype or D.get_default_dtype(), device=device,
                requires_grad=requires_grad)


def eye(n, m=None, *, out=None, dtype=None, layout=None, device=None,
        requires_grad=False) -> Tensor:
    dt = _dtype_or_default(dtype, D.get_default_dtype())
    xp = xp_for(to_device(device))
    return _finish_xp(xp.eye(n, n if m is None else m, dtype=dt.np), requires_grad)


def tril_indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None,
                 layout=None) -> Tensor:
    """(2, n) row and column indices of the lower triangle of a row x col matrix
    (diagonal `offset` and below), in row-major order."""
    return _triangle_indices("tril_indices", row, col, offset, dtype, device)


def triu_indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None,
                 layout=None) -> Tensor:
    """(2, n) row and column indices of the upper triangle (diagonal `offset` and above)."""
    return _triangle_indices("triu_indices", row, col, offset, dtype, device)


def _triangle_indices(name, row, col, offset, dtype, device) -> Tensor:
    dt = D.int64 if dtype is None else dtype
    if dt not in (D.int64, D.int32):  # torch's error type for a dtype without a kernel
        raise kernel_missing(name, dt)
    if row < 0 or col < 0:
        raise RuntimeError(f"row must be non-negative, got{row}" if row < 0
                           else f"col must be non-negative, got{col}")
    rows, cols = getattr(np, name)(row, offset, col)
    arr = np.stack([rows, cols]).astype(dt.np)
    return Tensor._make(move(arr, to_device(device)) if device is not None else arr)


def _finish_xp(arr, requires_grad) -> Tensor:
    t = Tensor._make(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _num(x):
    return x.item() if isinstance(x, Tensor) else x


def arange(start=0, end=None, step=1, *, out=None, dtype=None, layout=None, device=None,
           requires_grad=False) -> Tensor:
    """Values from start (inclusive) to end (exclusive) by step."""
    start, end, step = _num(start), _num(end), _num(step)
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError("upper bound and larger bound inconsistent with step sign")
    for v in (start, end, step):
        if isinstance(v, float) and not math.isfinite(v):
            raise RuntimeError("unsupported range: " f"{start} -> {end}")
    if dtype is None:
        dt = D.result_type_of([], [start, end, step])
    else:
        dt = D.to_dtype(dtype)
    if dt is D.bool:
        raise kernel_missing("arange_cpu", dt)
    n = max(math.ceil((end - start) / step), 0)
    xp = xp_for(to_device(device))
    # torch computes start + i*step in double then casts (no accumulated drift).
    arr = (start + xp.arange(n, dtype=np.float64) * step) if dt._kind >= 2 or isinstance(
        step, float) or isinstance(start, float) else xp.arange(start, end, step)
    return _finish_xp(arr.astype(dt.np), requires_grad)


def linspace(start, end, steps, *, out=None, dtype=None, layout=None, device=None,
             requires_grad=False) -> Tensor:
    start, end = _num(start), _num(end)
    if steps < 0:
        raise RuntimeError("linspace(): number of steps must be non-negative")
    dt = _dtype_or_default(dtype, D.get_default_dtype())
    _check_spaced_dtype("linspace_cpu", dt, steps)
    xp = xp_for(to_device(device))
    if steps == 1:
        arr = xp.asarray([start], dtype=np.float64)
    else:
        # torch fills the first half from start and the second half from end.
        step = (end - start) / (steps - 1)
        i = xp.arange(steps, dtype=np.float64)
        half = steps // 2
        arr = xp.where(i < half, start + step * i, end - step * (steps - 1 - i))
    if dt._kind < 2:
        arr = xp.trunc(arr) if dt._kind == 1 else arr
    return _finish_xp(arr.astype(dt.np), requires_grad)


def _check_spaced_dtype(kernel: str, dt, steps: int) -> None:
    """torch has no bool kernel for evenly spaced values (one step is filled without one)."""
    if dt is D.bool and steps > 1:
        raise kernel_missing(kernel, dt)


def logspace(start, end, steps, base=10.0, *, out=None, dtype=None, layout=None, device=None,
             requires_grad=False) -> Tensor:
    dt = _dtype_or_default(dtype, D.get_default_dtype())
    _check_spaced_dtype("logspace_cpu", dt, steps)
    exps = linspace(start, end, steps, dtype=D.float64, device=device)
    return _finish_xp((base ** exps._data).astype(dt.np), requires_grad)


def _new_size(name: str, size: tuple, kw_size) -> tuple:
    """The size of a new_zeros/new_ones/new_empty call: given once, positionally or as size=."""
    if kw_size is not None:
        if size:
            raise TypeError(f"{name}() got multiple values for argument 'size'")
        size = (kw_size,)
    if not size:
        raise TypeError(f'{name}() missing 1 required positional arguments: "size"')
    if len(size) > 1 and isinstance(size[0], (tuple, list, Size)):
        raise TypeError(f"{name}() takes 1 positional argument but {len(size)} were given")
    for s in size[0] if isinstance(size[0], (tuple, list, Size)) else size:
        if isinstance(s, (bool, float)) or not isinstance(s, (numbers.Integral, Tensor)):
            raise TypeError(f"{name}(): argument 'size' (position 1) must be tuple of ints, "
                            f"not {type(s).__name__}")
    return size


def _new(fn, name):
    def new_method(self: Tensor, *size, dtype=None, device=None, requires_grad=False,
                   layout=None, pin_memory=False, **kwargs):
        size = _new_size(name, size, kwargs.pop("size", None))
        if kwargs:
            raise TypeError(f"{name}() got an unexpected keyword argument "
                            f"'{next(iter(kwargs))}'")
        return fn(*size, dtype=dtype or self.dtype, device=device or self.device,
                  requires_grad=requires_grad)
    new_method.__name__ = new_method.__qualname__ = name
    new_method.__doc__ = (f"A tensor like {fn.__name__}(size) with this tensor's dtype and "
                          "device unless given.")
    return new_method


Tensor.new_zeros = _new(zeros, "new_zeros")
Tensor.new_ones = _new(ones, "new_ones")
Tensor.new_empty = _new(empty, "new_empty")


@method()
def new_full(self: Tensor, size, fill_value, *, dtype=None, device=None,
             requires_grad=False, layout=None, pin_memory=False) -> Tensor:
    return full(size, fill_value, dtype=dtype or self.dtype, device=device or self.device,
                requires_grad=requires_grad)


@method()
def new_tensor(self: Tensor, data, *, dtype=None, device=None, requires_grad=False,
               layout=None, pin_memory=False) -> Tensor:
    return tensor(data, dtype=dtype or self.dtype, device=device or self.device,
                  requires_grad=requires_grad)


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def is_floating_point(input: Tensor) -> bool:
    return input.dtype.is_floating_point


def is_complex(input: Tensor) -> bool:
    return input.dtype.is_complex


def numel(input: Tensor) -> int:
    return input.numel()


def _is_number(x) -> bool:
    return isinstance(x, numbers.Number)
