"""In-place operations: write an out-of-place result into a tensor's own memory.

Computing out of place and then copying keeps one definition per op and makes views
correct for free: the write lands in the shared memory, the version counter moves, and
the tensor (or, for a view, its base through CopySlices) takes over the result's node.
"""

from __future__ import annotations

from .. import _dtype as D
from ..autograd import grad_mode
from ..autograd.node import Function, Node, _edge

_enabled = grad_mode._enabled


class _CopySlices(Function):
    """The base's node after an in-place write through one of its views."""

    _backward_name = "CopySlices"
    once_differentiable = True

    @staticmethod
    def backward(ctx, grad):
        grad_base = _like_base(ctx)
        grad_base[...] = grad
        view = ctx.view_fn(grad_base)
        grad_view = view.copy()
        view[...] = 0
        return grad_base, grad_view


class _ViewOf(Function):
    """A view's node, rebuilt on its base's current node after an in-place change."""

    _backward_name = "AsStridedBackward0"
    once_differentiable = True

    @staticmethod
    def backward(ctx, grad):
        full = _like_base(ctx)
        full[...] = 0
        ctx.view_fn(full)[...] = grad
        return full


def _layout(arr) -> tuple:
    """Axes from outermost to innermost in memory: enough to rebuild an array whose strides
    admit the same views (view(-1) of a transposed base, for one)."""
    return tuple(sorted(range(arr.ndim), key=lambda i: -abs(arr.strides[i])))


def _like_base(ctx):
    """An uninitialised array shaped and laid out like the base, on which views replay."""
    order = ctx.base_layout
    shape = ctx.base_shape
    out = ctx.xp.empty(tuple(shape[i] for i in order), dtype=ctx.base_dtype)
    inverse = [0] * len(order)
    for i, o in enumerate(order):
        inverse[o] = i
    return out.transpose(inverse)


def view_node_for(view) -> Node:
    base = view._base
    node = Node(_ViewOf)
    node.xp = _xp_of(base)
    node.next_functions = (_edge(base),)
    node.needs_input_grad = (base._rg,)
    node.view_fn = view._view_fn
    node.base_shape = base._data.shape
    node.base_dtype = base._data.dtype
    node.base_layout = _layout(base._data)
    return node


def _xp_of(t):
    from .. import backend
    return backend.of(t._data)


def check_inplace(self) -> None:
    """PyTorch refuses in-place changes to leaves that require grad while recording."""
    if self._inference and not grad_mode._inference[0]:
        raise RuntimeError("Inplace update to inference tensor outside InferenceMode is not "
                           "allowed.You can make a clone to get a normal tensor before doing "
                           "inplace update.See https://github.com/pytorch/rfcs/pull/17 for "
                           "more details.")
    if not _enabled[0]:
        return
    if self._rg and self._grad_fn is None and self._base is None:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                           "operation.")
    base = self._base
    if base is not None and base._rg and base._grad_fn is None:
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an "
                           "in-place operation.")


def apply_inplace(self, result):
    """Makes `self` hold `result` (same shape, castable dtype) in place; returns self."""
    if result._data.shape != self._data.shape:
        raise RuntimeError(f"output with shape {list(self.shape)} doesn't match the broadcast "
                           f"shape {list(result.shape)}")
    if result.dtype is not self.dtype and not D.can_cast(result.dtype, self.dtype):
        raise RuntimeError(f"result type {_legacy(result.dtype)} can't be cast to the desired "
                           f"output type {_legacy(self.dtype)}")
    check_inplace(self)
    arr = self._data
    if any(st == 0 and n > 1 for st, n in zip(arr.strides, arr.shape)):
        raise RuntimeError("unsupported operation: more than one element of the written-to "
                           "tensor refers to a single memory location. Please clone() the "
                           "tensor before performing the operation.")
    recording = _enabled[0] and result._rg
    node = result._grad_fn if recording else None
    if node is not None and node._saved:
        _detach_saved_self(node, self._data)
    self._data[...] = result._data
    self._vc[0] += 1
    if node is None:
        return self
    if self._base is None:
        self._grad_fn = node
        self._output_nr = result._output_nr
        self._rg = True
        return self
    rebase_view(self, node, result._output_nr)
    return self


def inplace_variant(fn):
    """The `foo_` method for an out-of-place `foo(self, ...)`: same result, written into self."""
    def inplace(self, *args, **kwargs):
        return apply_inplace(self, fn(self, *args, **kwargs))
    inplace.__name__ = fn.__name__ + "_"
    inplace.__doc__ = f"In-place version of {fn.__name__}()."
    return inplace


def rebase_view(view, node, output_nr: int) -> None:
    """After `view` was overwritten with output `output_nr` of `node`, its base's gradient
    flows through CopySlices (outside the view: the old base; inside: the new value) and
    the view's own node becomes a view of the base's new node."""
    base = view._base
    copy = Node(_CopySlices)
    copy.xp = node.xp
    copy.next_functions = (_edge(base), (node, output_nr))
    copy.needs_input_grad = (base._rg, True)
    copy.view_fn = view._view_fn
    copy.base_shape = base._data.shape
    copy.base_dtype = base._data.dtype
    copy.base_layout = _layout(base._data)
    base._grad_fn = copy
    base._output_nr = 0
    base._rg = True
    view._rg = True
    view._grad_fn = view_node_for(view)
    view._output_nr = 0
    view._view_ver = view._vc[0]


def _detach_saved_self(node, array) -> None:
    """The op saved the array about to be overwritten: keep a private copy instead."""
    saved = list(node._saved)
    src = list(node._saved_src) if node._saved_src is not None else [None] * len(saved)
    for i, a in enumerate(saved):
        if a is array:
            saved[i] = a.copy()
            src[i] = None
    node._saved = tuple(saved)
    node._saved_src = src


_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16",
          "int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
          "bool": "Bool", "complex64": "ComplexFloat", "complex128": "ComplexDouble"}


def _legacy(dt) -> str:
    return _NAMES[dt.name]


def kernel_missing(kernel: str, dt) -> NotImplementedError:
    """torch's error for a dtype its CPU kernel lacks (the caller raises it)."""
    return NotImplementedError(f"\"{kernel}\" not implemented for '{_legacy(dt)}'")
