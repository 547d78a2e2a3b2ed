"""Tensor creation: tensor, as_tensor, zeros, ones, full, arange, linspace, eye, *_like."""

from __future__ import annotations

import math
import numbers

import numpy as np

from .. import _dtype as D
from .. import backend
from .._device import CPU, move, to_device, xp_for
from .._tensor import Size, Tensor
from ._util import method


def _dtype_or_default(dtype, default: D.dtype) -> D.dtype:
    return default if dtype is None else D.to_dtype(dtype)


def _infer_dtype(arr: np.ndarray, data) -> D.dtype:
    """torch.tensor's inference: Python floats -> default dtype, ints -> int64."""
    kind = arr.dtype.kind
    from_python = not isinstance(data, np.ndarray) and not isinstance(data, np.generic)
    if kind == "f" and from_python and not _has_numpy_scalars(data):
        return D.get_default_dtype()
    if kind == "c" and from_python:
        return D.get_default_dtype().to_complex()
    if kind in "iu" and from_python and arr.dtype not in (np.uint8,):
        return D.int64
    return D.from_numpy_dtype(arr.dtype)


def _has_numpy_scalars(data) -> bool:
    while isinstance(data, (list, tuple)) and data:
        data = data[0]
    return isinstance(data, np.generic) or isinstance(data, Tensor)


def _array_from_data(data, default_float: D.dtype, dtype, copy: bool = True):
    """A fresh NumPy array for `data` (nested sequences, scalars, arrays, tensors)."""
    if isinstance(data, Tensor):
        arr = backend.to_numpy(data._data)
        target = data.dtype if dtype is None else D.to_dtype(dtype)
        return arr.astype(target.np, copy=True)
    if isinstance(data, str) or (isinstance(data, (list, tuple)) and _first_leaf_is_str(data)):
        raise TypeError(f"new(): invalid data type '{type(data).__name__}'")
    if backend.is_cuda_array(data):
        data = data.get()
    try:
        arr = np.array(data, copy=copy) if isinstance(data, np.ndarray) else np.asarray(
            _tensors_to_arrays(data))
    except ValueError as exc:
        raise ValueError(f"expected sequence of equal lengths at each dim ({exc})") from None
    if arr.dtype == object:
        raise TypeError(f"Could not infer dtype of {type(_first_leaf(data)).__name__}")
    target = _infer_dtype(arr, data) if dtype is None else D.to_dtype(dtype)
    if arr.dtype != target.np:
        arr = arr.astype(target.np)
    elif not isinstance(data, np.ndarray) and copy:
        arr = np.array(arr, copy=False)
    return arr


def _tensors_to_arrays(data):
    if isinstance(data, Tensor):
        if data._data.ndim and isinstance(data, Tensor):
            return backend.to_numpy(data._data)
        return _py(data)
    if isinstance(data, (list, tuple)):
        if any(isinstance(x, (Tensor, list, tuple)) for x in data):
            return [_tensors_to_arrays(x) for x in data]
    return data


def _py(t: Tensor):
    return t.item()


def _first_leaf(data):
    while isinstance(data, (list, tuple)) and data:
        data = data[0]
    return data


def _first_leaf_is_str(data) -> bool:
    return isinstance(_first_leaf(data), str)


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


def zeros(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False) -> Tensor:
    return _filled(0, size, dtype, device, requires_grad)


def ones(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False) -> Tensor:
    return _filled(1, size, dtype, device, requires_grad)


def empty(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False,
          pin_memory=False, memory_format=None) -> Tensor:
    return _filled(None, size, dtype, device, requires_grad)


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


def logspace(start, end, steps, base=10.0, *, out=None, dtype=None, layout=None, device=None,
             requires_grad=False) -> Tensor:
    exps = linspace(start, end, steps, dtype=D.float64, device=device)
    dt = _dtype_or_default(dtype, D.get_default_dtype())
    return _finish_xp((base ** exps._data).astype(dt.np), requires_grad)


def _new(fn):
    def new_method(self: Tensor, *size, dtype=None, device=None, requires_grad=False,
                   layout=None, pin_memory=False):
        return fn(*size, dtype=dtype or self.dtype, device=device or self.device,
                  requires_grad=requires_grad)
    return new_method


Tensor.new_zeros = _new(zeros)
Tensor.new_ones = _new(ones)
Tensor.new_empty = _new(empty)


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
