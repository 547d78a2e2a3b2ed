"""Joining tensors: cat/concat/concatenate, stack and the h/v/d/column stacks."""

from __future__ import annotations

from .. import _dtype as D
from .._tensor import Tensor
from ..amp._state import hook as _autocast
from ..autograd.node import Function
from ._util import cast, check_device, finish, wrap_dim
from .shape import Split, Unbind, _run, _split_bounds, atleast_1d, atleast_2d, atleast_3d, reshape

__all__ = ["cat", "concat", "concatenate", "stack", "hstack", "vstack", "row_stack", "dstack",
           "column_stack"]


class Cat(Function):
    @staticmethod
    def forward(ctx, *arrays, dim):
        # torch's legacy rule: 1-D empty tensors are left out whatever their shape
        kept = [a for a in arrays if not (a.ndim == 1 and a.shape[0] == 0)]
        ctx.dim = dim
        ctx.sizes = [0 if a.ndim == 1 and a.shape[0] == 0 else a.shape[dim] for a in arrays]
        ctx.empty = [a.shape if a.ndim == 1 and a.shape[0] == 0 else None for a in arrays]
        if not kept:
            return arrays[0].copy()
        from .. import backend
        return backend.of(kept[0]).concatenate(kept, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        bounds = _split_bounds(ctx.sizes)
        pieces = _run(Split, grad, ctx.dim, bounds)
        xp = ctx.xp
        return tuple(
            None if not need else
            xp.zeros(empty, dtype=grad.dtype) if empty is not None else piece
            for need, empty, piece in zip(ctx.needs_input_grad, ctx.empty, pieces))


class Stack(Function):
    @staticmethod
    def forward(ctx, *arrays, dim):
        ctx.dim = dim
        from .. import backend
        return backend.of(arrays[0]).stack(arrays, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        grads = _run(Unbind, grad, ctx.dim)
        return tuple(g if need else None for g, need in zip(grads, ctx.needs_input_grad))


def _tensor_seq(name: str, tensors) -> list:
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{name}(): argument 'tensors' (position 1) must be tuple of Tensors, "
                        f"not {type(tensors).__name__}")
    return list(tensors)


def _promoted(tensors: list) -> list:
    """All tensors in their common dtype (torch promotes across the inputs of cat/stack)."""
    check_device(*tensors)
    first = tensors[0]._data.dtype
    if all(t._data.dtype == first for t in tensors):
        return tensors
    dt = tensors[0].dtype
    for t in tensors[1:]:
        dt = D.promote_types(dt, t.dtype)
    return [cast(t, dt) for t in tensors]


def _check_cat(tensors: list, dim: int) -> int:
    """Validates shapes like torch and returns `dim` made non-negative."""
    ref = None
    for i, t in enumerate(tensors):
        if t._data.ndim == 0:
            raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be "
                               "concatenated")
        if t._data.ndim == 1 and t._data.shape[0] == 0:
            continue
        if ref is None:
            ref = t._data.shape
            d = wrap_dim(dim, len(ref))
            continue
        shape = t._data.shape
        if len(shape) != len(ref):
            raise RuntimeError(f"Tensors must have same number of dimensions: got {len(ref)} "
                               f"and {len(shape)}")
        for k, (a, b) in enumerate(zip(ref, shape)):
            if k != d and a != b:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {d}. "
                                   f"Expected size {a} but got size {b} for tensor number {i} "
                                   "in the list.")
    return 0 if ref is None else d


def cat(tensors, dim: int = 0, *, out=None) -> Tensor:
    """Joins tensors along an existing dim."""
    if _autocast.on and (policy := _autocast.policy("cat", tensors)):
        return policy(cat, tensors, dim, out=out)
    tensors = _tensor_seq("cat", tensors)
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    d = _check_cat(tensors, dim)
    tensors = _promoted(tensors)
    return finish(Cat.apply(*tensors, dim=d), out)


concat = concatenate = cat


def stack(tensors, dim: int = 0, *, out=None) -> Tensor:
    """Joins equally shaped tensors along a new dim."""
    if _autocast.on and (policy := _autocast.policy("stack", tensors)):
        return policy(stack, tensors, dim, out=out)
    tensors = _tensor_seq("stack", tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    ref = tensors[0]._data.shape
    for i, t in enumerate(tensors[1:], 1):
        if t._data.shape != ref:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                               f"{list(ref)} at entry 0 and {list(t.shape)} at entry {i}")
    d = wrap_dim(dim, len(ref) + 1)
    tensors = _promoted(tensors)
    return finish(Stack.apply(*tensors, dim=d), out)


def _as_tuple(x):
    return x if isinstance(x, tuple) else (x,)


def hstack(tensors, *, out=None) -> Tensor:
    """Joins along dim 1 (dim 0 for 1-D inputs)."""
    tensors = _as_tuple(atleast_1d(_tensor_seq("hstack", tensors)))
    dim = 0 if tensors and tensors[0]._data.ndim == 1 else 1
    return cat(tensors, dim, out=out)


def vstack(tensors, *, out=None) -> Tensor:
    """Joins along dim 0 after making every input at least 2-D."""
    return cat(_as_tuple(atleast_2d(_tensor_seq("vstack", tensors))), 0, out=out)


row_stack = vstack


def dstack(tensors, *, out=None) -> Tensor:
    """Joins along dim 2 after making every input at least 3-D."""
    return cat(_as_tuple(atleast_3d(_tensor_seq("dstack", tensors))), 2, out=out)


def column_stack(tensors, *, out=None) -> Tensor:
    """Joins columns: 0-D and 1-D inputs become (n, 1) columns, then hstack."""
    tensors = _tensor_seq("column_stack", tensors)
    cols = [reshape(t, (t._data.size, 1)) if t._data.ndim <= 1 else t for t in tensors]
    return cat(cols, 1, out=out)
