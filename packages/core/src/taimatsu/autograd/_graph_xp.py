"""NumPy's names over differentiable taimatsu ops, for backward with create_graph=True.

An op's backward reads its array module from `ctx.xp`. Normally that is numpy or cupy;
when a graph of the gradient computation is wanted the engine hands it this module
instead, so the same formula (`xp.cos(a) * grad`, `xp.sum(g, axis=0)`) records a graph.
Names that need NumPy's signature are adapted here; every other name falls through to
the `taimatsu` function of the same name.
"""

from __future__ import annotations

import numpy as _np


def _tm():
    import taimatsu
    return taimatsu


def _dt(dtype):
    if dtype is None:
        return None
    from .._dtype import to_dtype
    return to_dtype(dtype)


def _t(x, like=None):
    """Python numbers and arrays become constant Tensors."""
    from .._tensor import Tensor
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (_np.ndarray, _np.generic)):
        return Tensor._make(_np.asarray(x))
    if like is not None:
        return _tm().full((), x, dtype=like.dtype, device=like.device)
    return _tm().tensor(x)


def sum(x, axis=None, keepdims=False, dtype=None):
    if axis is None:
        out = x.sum(dtype=_dt(dtype))
        return out.reshape((1,) * x.ndim) if keepdims else out
    return x.sum(dim=axis, keepdim=keepdims, dtype=_dt(dtype))


def mean(x, axis=None, keepdims=False):
    if axis is None:
        out = x.mean()
        return out.reshape((1,) * x.ndim) if keepdims else out
    return x.mean(dim=axis, keepdim=keepdims)


def zeros(shape, dtype=None):
    return _tm().zeros(shape, dtype=_dt(dtype))


def ones(shape, dtype=None):
    return _tm().ones(shape, dtype=_dt(dtype))


def zeros_like(x, dtype=None):
    return _tm().zeros_like(x, dtype=_dt(dtype))


def ones_like(x, dtype=None):
    return _tm().ones_like(x, dtype=_dt(dtype))


def full(shape, value, dtype=None):
    return _tm().full(shape, value, dtype=_dt(dtype))


def astype(x, dtype, copy=True):
    return x.to(_dt(dtype))


def asarray(x, dtype=None):
    t = _t(x)
    return t if dtype is None else t.to(_dt(dtype))


def expand_dims(x, axis):
    if isinstance(axis, int):
        return x.unsqueeze(axis)
    for a in sorted(axis):
        x = x.unsqueeze(a)
    return x


def broadcast_to(x, shape):
    return _t(x).expand(*shape)


def reshape(x, shape):
    return x.reshape(shape)


def swapaxes(x, a, b):
    return x.transpose(a, b)


def transpose(x, axes=None):
    return x.permute(*(axes if axes is not None else range(x.ndim - 1, -1, -1)))


def moveaxis(x, src, dst):
    return x.movedim(src, dst)


def where(cond, a, b):
    cond = _t(cond)
    like = a if hasattr(a, "dtype") and not isinstance(a, _np.ndarray) else (
        b if hasattr(b, "dtype") and not isinstance(b, _np.ndarray) else None)
    return _tm().where(cond, _t(a, like), _t(b, like))


def matmul(a, b):
    return _tm().matmul(a, b)


def power(a, b):
    return _tm().pow(a, b)


def multiply(a, b):
    return _tm().mul(a, b)


def divide(a, b):
    return _tm().div(a, b)


true_divide = divide


def negative(x):
    return -x


def conj(x):
    return x.conj()


def take_along_axis(x, indices, axis):
    return _tm().take_along_dim(x, _t(indices), dim=axis)


def cumsum(x, axis=None):
    return _tm().cumsum(x if axis is not None else x.reshape(-1), dim=axis or 0)


def flip(x, axis=None):
    dims = tuple(range(x.ndim)) if axis is None else (
        (axis,) if isinstance(axis, int) else tuple(axis))
    return _tm().flip(x, dims)


def concatenate(xs, axis=0):
    return _tm().cat(list(xs), dim=axis)


def stack(xs, axis=0):
    return _tm().stack(list(xs), dim=axis)


def maximum(a, b):
    return _tm().maximum(_t(a, b if hasattr(b, "dtype") else None), _t(b, a))


def minimum(a, b):
    return _tm().minimum(_t(a, b if hasattr(b, "dtype") else None), _t(b, a))


def __getattr__(name):
    tm = _tm()
    if hasattr(tm, name):
        return getattr(tm, name)
    raise AttributeError(f"create_graph backward needs xp.{name}, which the graph namespace "
                         "(taimatsu.autograd._graph_xp) does not provide")
