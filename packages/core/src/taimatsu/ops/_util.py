"""Helpers every op family shares: undo broadcasting, promotion, dims, out= and methods."""

from __future__ import annotations

import numpy as np

from .. import _dtype as D
from .._tensor import Tensor, _wrap_dim
from ..autograd import grad_mode

_enabled = grad_mode._enabled


def sum_to(g, shape):
    """Sums `g` (array or Tensor) down to `shape`, undoing broadcasting."""
    gshape = tuple(g.shape)
    shape = tuple(shape)
    if gshape == shape:
        return g
    lead = len(gshape) - len(shape)
    axes = tuple(range(lead)) + tuple(
        i + lead for i, s in enumerate(shape) if s == 1 and gshape[i + lead] != 1)
    if isinstance(g, Tensor):
        out = g.sum(dim=axes, keepdim=True) if axes else g
        return out.reshape(shape)
    out = g.sum(axis=axes, keepdims=True) if axes else g
    return out.reshape(shape)


def method(*names):
    """Decorator: also attach the function as Tensor method(s) under `names`."""
    def attach(fn):
        for name in names or (fn.__name__,):
            setattr(Tensor, name, fn)
        return fn
    return attach


def wrap_dim(dim: int, ndim: int) -> int:
    return _wrap_dim(dim, ndim)


def wrap_dims(dim, ndim: int) -> tuple:
    """Normalizes an int or a sequence of dims; rejects repeats like torch."""
    if isinstance(dim, (int, np.integer)):
        return (_wrap_dim(int(dim), ndim),)
    dims = tuple(_wrap_dim(int(d), ndim) for d in dim)
    if len(set(dims)) != len(dims):
        dup = next(d for d in dims if dims.count(d) > 1)
        raise RuntimeError(f"dim {dup} appears multiple times in the list of dims")
    return dims


def as_tensor_arg(x, like: Tensor | None = None) -> Tensor:
    """A Tensor for an argument that may be a Python number (on `like`'s device)."""
    if isinstance(x, Tensor):
        return x
    from .creation import scalar_tensor_like
    return scalar_tensor_like(x, like)


def result_dtype(*args) -> D.dtype:
    """PyTorch's promotion over a mix of Tensors and Python scalars."""
    tensors, scalars = [], []
    for a in args:
        if isinstance(a, Tensor):
            tensors.append((_from_np(a._data.dtype), a._data.ndim))
        elif a is not None:
            if isinstance(a, np.generic):
                a = a.item()
            scalars.append(a)
    return D.result_type_of(tensors, scalars)


def _from_np(np_dtype):
    return D._BY_NP[np_dtype]


def cast(x, dt: D.dtype):
    """`x` in dtype `dt`: a differentiable cast for Tensors, a conversion for scalars."""
    if isinstance(x, Tensor):
        if x._data.dtype == dt.np:
            return x
        from .conversion import to_dtype
        return to_dtype(x, dt)
    if isinstance(x, np.generic):
        x = x.item()
    if dt is D.bfloat16 and isinstance(x, (int, float)):
        # NumPy treats Python numbers as weak except for ml_dtypes' bfloat16.
        return np.asarray(x, dtype=dt.np)
    return x


def check_device(*tensors) -> None:
    dev = None
    for t in tensors:
        if isinstance(t, Tensor):
            d = t.device
            # 0-dim CPU tensors may mix with CUDA tensors, as in torch.
            if dev is None:
                dev = d
            elif d != dev and t._data.ndim != 0:
                raise RuntimeError("Expected all tensors to be on the same device, but found "
                                   f"at least two devices, {dev} and {d}!")


def broadcast_shapes_or_raise(a_shape, b_shape) -> tuple:
    """The broadcast shape, or torch's 'size of tensor a must match' RuntimeError."""
    nd = max(len(a_shape), len(b_shape))
    a = (1,) * (nd - len(a_shape)) + tuple(a_shape)
    b = (1,) * (nd - len(b_shape)) + tuple(b_shape)
    out = []
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y and x != 1 and y != 1:
            raise RuntimeError(f"The size of tensor a ({x}) must match the size of tensor b "
                               f"({y}) at non-singleton dimension {i}")
        out.append(y if x == 1 else x)
    return tuple(out)


def write_out(out: Tensor, result: Tensor) -> Tensor:
    """Implements `out=`: copies `result` into `out`, resizing it when shapes differ."""
    if not isinstance(out, Tensor):
        raise TypeError(f"argument 'out' must be Tensor, not {type(out).__name__}")
    if _enabled[0] and (out._rg or result._rg):
        raise RuntimeError(f"{_op_name(result)}(): functions with out=... arguments don't "
                           "support automatic differentiation, but one of the arguments "
                           "requires grad.")
    if result.dtype is not out.dtype and not D.can_cast(result.dtype, out.dtype):
        from .inplace import _legacy
        raise RuntimeError(f"result type {_legacy(result.dtype)} can't be cast to the desired "
                           f"output type {_legacy(out.dtype)}")
    if out._data.shape != result._data.shape:
        out._data = result._data.astype(out._data.dtype, copy=True)
    else:
        out._data[...] = result._data
    out._vc[0] += 1
    return out


def _op_name(t: Tensor) -> str:
    fn = t._grad_fn
    return fn.name().replace("Backward0", "").lower() if fn is not None else "op"


def finish(result: Tensor, out: Tensor | None) -> Tensor:
    """Returns `result`, or writes it into `out` when one was given."""
    if out is None:
        return result
    return write_out(out, result)


def default_float_if_integral(dt: D.dtype) -> D.dtype:
    """Ops with float results (exp, sqrt, mean...) give ints the default float dtype."""
    return dt if dt._kind >= 2 else D.get_default_dtype()
