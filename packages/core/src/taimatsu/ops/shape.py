"""Shape and view operations.

Views (`view = True`: view/reshape, permute/transpose, squeeze/unsqueeze, expand, narrow,
select, split, unbind, diagonal, movedim...) return a real view of their input array, so
the result shares memory and the version counter with its base. The other ops here
(flip, roll, rot90, repeat, tile, tril/triu, diag...) return fresh arrays.

Backward formulas use only `ctx.xp`, Python operators, `sum_to` and `_run` (an op of this
file on an array, or on a Tensor when create_graph=True builds a graph), so each op is
differentiable any number of times. Ops come in pairs whose backwards are each other
(slice <-> slice-scatter, diagonal <-> diagonal-scatter, repeat_interleave <-> segment sum).
"""

from __future__ import annotations

import operator
import warnings

import numpy as np

from .. import _dtype as D
from .._tensor import Size, Tensor, _type_name
from ..autograd import grad_mode
from ..autograd.node import Function, _NoGradCtx
from ._util import broadcast_shapes_or_raise, finish, method, sum_to, wrap_dim, wrap_dims
from .inplace import _legacy, apply_inplace

__all__ = [
    "reshape", "permute", "transpose", "swapaxes", "swapdims", "t", "adjoint", "squeeze",
    "unsqueeze", "flatten", "unflatten", "ravel", "broadcast_to", "broadcast_tensors",
    "broadcast_shapes", "movedim", "moveaxis", "narrow", "select", "unbind", "split", "chunk",
    "tensor_split", "hsplit", "vsplit", "dsplit", "diagonal", "flip", "fliplr",
    "flipud", "roll", "rot90", "repeat_interleave", "tile", "tril", "triu", "diag",
    "diag_embed", "diagflat", "meshgrid", "cartesian_prod", "atleast_1d", "atleast_2d",
    "atleast_3d",
]

_VIEW_ERROR = ("view size is not compatible with input tensor's size and stride (at least one "
               "dimension spans across two contiguous subspaces). Use .reshape(...) instead.")


def _run(op, x, *params):
    """`op` on an array (plain backward) or on a Tensor (backward building a graph)."""
    if isinstance(x, Tensor):
        return op.apply(x, *params)
    return op.forward(_NoGradCtx(), x, *params)


def _xp(a):
    from .. import backend
    return backend.of(a)


def _sizes(args) -> tuple:
    """Sizes given as f(2, 3), f((2, 3)), f([2, 3]) or f(Size) as a tuple of ints."""
    if len(args) == 1 and not isinstance(args[0], (int, np.integer, Tensor)):
        args = args[0]
    if type(args) is tuple and all(type(s) is int for s in args):
        return args
    try:
        return tuple(operator.index(s) for s in args)
    except TypeError:
        raise TypeError(f"expected a sequence of ints as sizes, but got {args!r}") from None


def _infer_size(shape: tuple, numel: int) -> tuple:
    """`shape` with its -1 (if any) filled in so that it holds `numel` elements."""
    infer = None
    known = 1
    for i, s in enumerate(shape):
        if s == -1:
            if infer is not None:
                raise RuntimeError("only one dimension can be inferred")
            infer = i
        elif s < 0:
            raise RuntimeError(f"invalid shape dimension {s} at index {i} of shape "
                               f"{list(shape)}")
        else:
            known *= s
    if infer is None:
        if known != numel:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        return shape
    if known == 0:
        if numel == 0:
            raise RuntimeError(f"cannot reshape tensor of 0 elements into shape {list(shape)} "
                               "because the unspecified dimension size -1 can be any value "
                               "and is ambiguous")
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    if numel % known:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape[:infer] + (numel // known,) + shape[infer + 1:]


def _view_array(a, shape):
    """`a` reshaped without copying; torch's RuntimeError when its strides forbid it."""
    if type(a) is np.ndarray:
        try:
            return a.reshape(shape, copy=False)
        except ValueError:
            raise RuntimeError(_VIEW_ERROR) from None
    out = a.view()
    try:
        out.shape = shape  # cupy: raises when a copy would be needed
    except (AttributeError, ValueError):
        raise RuntimeError(_VIEW_ERROR) from None
    return out


# -- reshaping ---------------------------------------------------------------------------------

class View(Function):
    view = True

    @staticmethod
    def forward(ctx, a, shape):
        ctx.in_shape = a.shape
        return _view_array(a, shape)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.in_shape)


class UnsafeView(Function):
    """reshape when no view is possible: a copy in the new shape."""

    @staticmethod
    def forward(ctx, a, shape):
        ctx.in_shape = a.shape
        return _xp(a).ascontiguousarray(a).reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.in_shape)


class _ViewDtype(Function):
    view = True

    @staticmethod
    def forward(ctx, a, np_dtype):
        return a.view(np_dtype)


def _view_dtype(self: Tensor, dt) -> Tensor:
    dt = D.to_dtype(dt)
    arr = self._data
    old, new = arr.itemsize, dt.itemsize
    if old != new and arr.ndim:
        what = f"view {_legacy(self.dtype)} as {_legacy(dt)} (different element sizes)"
        if arr.strides[-1] != old:
            raise RuntimeError(f"self.stride(-1) must be 1 to {what}, but got "
                               f"{arr.strides[-1] // old}")
        if new > old and (arr.shape[-1] * old) % new:
            raise RuntimeError(f"self.size(-1) must be divisible by {new // old} to {what}, "
                               f"but got {arr.shape[-1]}")
    elif old != new:
        raise RuntimeError(f"self.dim() cannot be 0 to view {_legacy(self.dtype)} as "
                           f"{_legacy(dt)} (different element sizes)")
    with grad_mode.no_grad():  # torch: a dtype view is outside autograd
        return _ViewDtype.apply(self, dt.np)


def _view(self: Tensor, *shape, dtype=None) -> Tensor:
    """A tensor with the same data in another shape (no copy; -1 infers one size)."""
    if dtype is not None:
        return _view_dtype(self, dtype)
    if len(shape) == 1 and isinstance(shape[0], D.dtype):
        return _view_dtype(self, shape[0])
    shape = _infer_size(_sizes(shape), self._data.size)
    return View.apply(self, shape)


Tensor.view = _view


@method()
def view_as(self: Tensor, other: Tensor) -> Tensor:
    return _view(self, tuple(other.shape))


def reshape(input: Tensor, shape) -> Tensor:
    """A view in the new shape when the strides allow it, else a copy."""
    shape = _infer_size(_sizes((shape,)), input._data.size)
    try:
        return View.apply(input, shape)
    except RuntimeError:
        return UnsafeView.apply(input, shape)


def _reshape_method(self: Tensor, *shape) -> Tensor:
    return reshape(self, _sizes(shape))


Tensor.reshape = _reshape_method


@method()
def reshape_as(self: Tensor, other: Tensor) -> Tensor:
    return reshape(self, tuple(other.shape))


@method()
def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merges dims start_dim..end_dim into one."""
    shape = input._data.shape
    if not shape:
        return reshape(input, (1,))
    start = wrap_dim(start_dim, len(shape))
    end = wrap_dim(end_dim, len(shape))
    if start > end:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if start == end:
        return input
    merged = 1
    for s in shape[start:end + 1]:
        merged *= s
    return reshape(input, shape[:start] + (merged,) + shape[end + 1:])


@method()
def unflatten(input: Tensor, dim: int, sizes) -> Tensor:
    """Splits dim into `sizes` (one of which may be -1)."""
    shape = input._data.shape
    d = wrap_dim(dim, len(shape))
    sizes = _sizes((sizes,))
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    if sizes.count(-1) > 1:
        raise RuntimeError("unflatten: only one dimension can be inferred")
    try:
        sizes = _infer_size(sizes, shape[d])
    except RuntimeError:
        raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the "
                           f"size of dim {dim} ({shape[d]}) in the input tensor") from None
    return View.apply(input, shape[:d] + sizes + shape[d + 1:])


@method()
def ravel(input: Tensor) -> Tensor:
    return reshape(input, (-1,))


# -- permuting -----------------------------------------------------------------------------------

class Permute(Function):
    view = True

    @staticmethod
    def forward(ctx, a, dims):
        ctx.dims = dims
        return a.transpose(dims)

    @staticmethod
    def backward(ctx, grad):
        inverse = [0] * len(ctx.dims)
        for i, d in enumerate(ctx.dims):
            inverse[d] = i
        return ctx.xp.transpose(grad, tuple(inverse))


class Transpose(Function):
    view = True

    @staticmethod
    def forward(ctx, a, d0, d1):
        ctx.d = (d0, d1)
        return a.swapaxes(d0, d1) if a.ndim else a.view()

    @staticmethod
    def backward(ctx, grad):
        d0, d1 = ctx.d
        return grad if d0 == d1 else ctx.xp.swapaxes(grad, d0, d1)


class T(Transpose):
    pass


def permute(input: Tensor, dims) -> Tensor:
    """Reorders the dims: output dim i is input dim dims[i]."""
    dims = _sizes((dims,))
    ndim = input._data.ndim
    if len(dims) != ndim:
        raise RuntimeError("permute(sparse_coo): number of dimensions in the tensor input does "
                           "not match the length of the desired ordering of dimensions i.e. "
                           f"input.dim() = {ndim} is not equal to len(dims) = {len(dims)}")
    dims = tuple(wrap_dim(d, ndim) for d in dims)
    if len(set(dims)) != ndim:
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return Permute.apply(input, dims)


def _permute_method(self: Tensor, *dims) -> Tensor:
    return permute(self, _sizes(dims))


Tensor.permute = _permute_method


@method("transpose", "swapaxes", "swapdims")
def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swaps two dims (a view)."""
    ndim = input._data.ndim
    return Transpose.apply(input, wrap_dim(dim0, ndim), wrap_dim(dim1, ndim))


swapaxes = swapdims = transpose


@method()
def t(input: Tensor) -> Tensor:
    """Transposes a 2-D tensor; 0-D and 1-D tensors come back as they are (as a view)."""
    ndim = input._data.ndim
    if ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {ndim}D")
    return T.apply(input, 0, ndim - 1 if ndim else 0)


@method()
def adjoint(input: Tensor) -> Tensor:
    """The conjugate transpose of the last two dims."""
    return _conj(transpose(input, -2, -1))


def _conj(x: Tensor) -> Tensor:
    return x.conj() if x.dtype.is_complex else x


def _prop_T(self: Tensor) -> Tensor:
    ndim = self._data.ndim
    if ndim == 0:
        warnings.warn("Tensor.T is deprecated on 0-D tensors. This function is the identity "
                      "in these cases.", UserWarning, stacklevel=2)
    elif ndim != 2:
        warnings.warn("The use of `x.T` on tensors of dimension other than 2 to reverse their "
                      "shape is deprecated and it will throw an error in a future release. "
                      "Consider `x.mT` to transpose batches of matrices or `x.permute(*torch."
                      "arange(x.ndim - 1, -1, -1))` to reverse the dimensions of a tensor.",
                      UserWarning, stacklevel=2)
    return Permute.apply(self, tuple(range(ndim - 1, -1, -1)))


def _prop_mT(self: Tensor) -> Tensor:
    ndim = self._data.ndim
    if ndim < 2:
        raise RuntimeError("tensor.mT is only supported on matrices or batches of matrices. "
                           f"Got {ndim}-D tensor.")
    return Transpose.apply(self, ndim - 2, ndim - 1)


def _prop_H(self: Tensor) -> Tensor:
    ndim = self._data.ndim
    if ndim == 0:
        warnings.warn("Tensor.H is deprecated on 0-D tensors. Consider using x.conj().",
                      UserWarning, stacklevel=2)
        return _conj(self)
    if ndim != 2:
        hint = ". For batches of matrices, consider using tensor.mH" if ndim > 2 else "."
        raise RuntimeError(f"tensor.H is only supported on matrices (2-D tensors). Got "
                           f"{ndim}-D tensor{hint}")
    return _conj(Transpose.apply(self, 0, 1))


def _prop_mH(self: Tensor) -> Tensor:
    ndim = self._data.ndim
    if ndim == 0:
        warnings.warn("Tensor.mH is deprecated on 0-D tensors. Consider using x.conj().",
                      UserWarning, stacklevel=2)
        return _conj(self)
    if ndim < 2:
        raise RuntimeError("tensor.mH is only supported on matrices or batches of matrices. "
                           f"Got {ndim}-D tensor.")
    return _conj(Transpose.apply(self, ndim - 2, ndim - 1))


Tensor.T = property(_prop_T)
Tensor.mT = property(_prop_mT)
Tensor.H = property(_prop_H)
Tensor.mH = property(_prop_mH)


@method("movedim", "moveaxis")
def movedim(input: Tensor, source, destination) -> Tensor:
    """Moves dims `source` to positions `destination`; the others keep their order."""
    ndim = input._data.ndim
    src = (source,) if isinstance(source, (int, np.integer)) else tuple(source)
    dst = (destination,) if isinstance(destination, (int, np.integer)) else tuple(destination)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({list(src)} "
                           f"dims) should contain the same number of dims as destination "
                           f"({list(dst)} dims)")
    src = tuple(wrap_dim(d, ndim) for d in src)
    dst = tuple(wrap_dim(d, ndim) for d in dst)
    for name, dims, given in (("source", src, source), ("destination", dst, destination)):
        if len(set(dims)) != len(dims):
            raise RuntimeError(f"movedim: repeated dim in `{name}` ({list(given)})")
    order = [None] * ndim
    for s, d in zip(src, dst):
        order[d] = s
    rest = iter(d for d in range(ndim) if d not in src)
    order = tuple(o if o is not None else next(rest) for o in order)
    return Permute.apply(input, order)


moveaxis = movedim


# -- adding and removing size-1 dims ---------------------------------------------------------

class Squeeze(Function):
    view = True

    @staticmethod
    def forward(ctx, a, dims):
        ctx.in_shape = a.shape
        return a.squeeze(axis=dims)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.in_shape)


class Unsqueeze(Function):
    view = True

    @staticmethod
    def forward(ctx, a, dim):
        ctx.in_shape = a.shape
        return a[(slice(None),) * dim + (None,)]

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.in_shape)


@method()
def squeeze(input: Tensor, dim=None) -> Tensor:
    """Removes size-1 dims (all of them, or those among `dim` that have size 1)."""
    shape = input._data.shape
    ndim = len(shape)
    if dim is None:
        dims, name = tuple(i for i, s in enumerate(shape) if s == 1), "SqueezeBackward0"
    elif isinstance(dim, (int, np.integer)):
        dims, name = wrap_dims(dim, ndim), "SqueezeBackward1"
    else:
        dims, name = wrap_dims(dim, ndim), "SqueezeBackward2"
    dims = tuple(d for d in dims if ndim and shape[d] == 1)
    out = Squeeze.apply(input, dims)
    if out._grad_fn is not None:
        out._grad_fn.mark_name(name)
    return out


@method()
def unsqueeze(input: Tensor, dim: int) -> Tensor:
    """Inserts a size-1 dim at `dim`."""
    return Unsqueeze.apply(input, wrap_dim(dim, input._data.ndim + 1))


# -- broadcasting --------------------------------------------------------------------------------

class Expand(Function):
    view = True

    @staticmethod
    def forward(ctx, a, shape):
        ctx.in_shape = a.shape
        return _xp(a).broadcast_to(a, shape)

    @staticmethod
    def backward(ctx, grad):
        return sum_to(grad, ctx.in_shape)


def _expanded_shape(input: Tensor, sizes: tuple) -> tuple:
    shape = input._data.shape
    lead = len(sizes) - len(shape)
    if lead < 0:
        raise RuntimeError(f"expand({_type_name(input)}{{{list(shape)}}}, size={list(sizes)}): "
                           "the number of sizes provided "
                           f"({len(sizes)}) must be greater or equal to the number of "
                           f"dimensions in the tensor ({len(shape)})")
    out = []
    for i, s in enumerate(sizes):
        if i < lead:
            if s < 0:
                raise RuntimeError(f"The expanded size of the tensor ({s}) isn't allowed in a "
                                   f"leading, non-existing dimension {i}")
            out.append(s)
            continue
        have = shape[i - lead]
        if s == -1:
            s = have
        elif have != s and have != 1:
            raise RuntimeError(f"The expanded size of the tensor ({s}) must match the existing "
                               f"size ({have}) at non-singleton dimension {i}.  Target sizes: "
                               f"{list(sizes)}.  Tensor sizes: {list(shape)}")
        elif s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: "
                               f"{list(sizes)}")
        out.append(s)
    return tuple(out)


def _expand(self: Tensor, *sizes) -> Tensor:
    """A broadcast view of `self` with the given sizes (-1 keeps a size)."""
    return Expand.apply(self, _expanded_shape(self, _sizes(sizes)))


Tensor.expand = _expand


@method()
def expand_as(self: Tensor, other: Tensor) -> Tensor:
    return _expand(self, tuple(other.shape))


@method()
def broadcast_to(input: Tensor, size) -> Tensor:
    return _expand(input, _sizes((size,)))


def broadcast_shapes(*shapes) -> Size:
    """The shape that tensors of the given shapes broadcast to."""
    norm = [(operator.index(s),) if isinstance(s, (int, np.integer)) else tuple(s)
            for s in shapes]
    ndim = max((len(s) for s in norm), default=0)
    out = [1] * ndim
    for s in norm:
        for i, size in enumerate(s):
            if size < 0:
                raise RuntimeError("Trying to create tensor with negative dimension "
                                   f"{size}: {list(s)}")
            j = ndim - len(s) + i
            if out[j] == 1 or size == out[j]:
                out[j] = size
    for k, s in enumerate(norm):
        for i in reversed(range(len(s))):  # torch reports the innermost mismatch
            size, j = s[i], ndim - len(s) + i
            if size != 1 and size != out[j]:
                raise RuntimeError(f"Attempting to broadcast a dimension of length {size} at "
                                   f"{i - len(s)}! Mismatching argument at index {k} had "
                                   f"{tuple(s)}; but expected shape should be broadcastable "
                                   f"to {out}")
    return Size(out)


def broadcast_tensors(*tensors) -> tuple:
    """Expands every tensor to their common broadcast shape (views)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    shape = ()
    for t in tensors:
        shape = broadcast_shapes_or_raise(shape, t._data.shape)
    return tuple(t if t._data.shape == shape else Expand.apply(t, shape) for t in tensors)


# -- slicing views -----------------------------------------------------------------------------

def _index(dim: int, item) -> tuple:
    """An index tuple that applies `item` (a slice or an int) at `dim`."""
    return (slice(None),) * dim + (item,)


class Slice(Function):
    """A basic-slicing view of `a` (narrow, and the backward of slice-scatter)."""

    view = True
    _backward_name = "SliceBackward0"

    @staticmethod
    def forward(ctx, a, index):
        ctx.in_shape = a.shape
        ctx.index = index
        return a[index]

    @staticmethod
    def backward(ctx, grad):
        return _run(SliceScatter, grad, ctx.in_shape, ctx.index)


class Select(Slice):
    pass


class SliceScatter(Function):
    """Zeros of `shape` with `g` written at `index` (the backward of a slice)."""

    @staticmethod
    def forward(ctx, g, shape, index):
        ctx.index = index
        out = _xp(g).zeros(shape, dtype=g.dtype)
        out[index] = g
        return out

    @staticmethod
    def backward(ctx, grad):
        return _run(Slice, grad, ctx.index)


class Split(Function):
    """Slices of `a` along `dim` between the given (start, stop) bounds."""

    view = True

    @staticmethod
    def forward(ctx, a, dim, bounds):
        ctx.in_shape = a.shape
        ctx.dim = dim
        ctx.bounds = bounds
        head = (slice(None),) * dim
        return tuple(a[head + (slice(lo, hi),)] for lo, hi in bounds)

    @staticmethod
    def backward(ctx, *grads):
        bounds, dim = ctx.bounds, ctx.dim
        tiles = bounds[0][0] == 0 and bounds[-1][1] == ctx.in_shape[dim] and all(
            a[1] == b[0] for a, b in zip(bounds, bounds[1:]))
        if tiles:
            return ctx.xp.concatenate(grads, axis=dim)
        # tensor_split with unordered indices: pieces may overlap or leave gaps
        out = None
        for g, (lo, hi) in zip(grads, bounds):
            part = _run(SliceScatter, g, ctx.in_shape, _index(dim, slice(lo, hi)))
            out = part if out is None else out + part
        return out


class SplitWithSizes(Split):
    pass


class Unbind(Function):
    view = True

    @staticmethod
    def forward(ctx, a, dim):
        ctx.dim = dim
        head = (slice(None),) * dim
        return tuple(a[head + (i,)] for i in range(a.shape[dim]))

    @staticmethod
    def backward(ctx, *grads):
        return ctx.xp.stack(grads, axis=ctx.dim)


@method()
def narrow(input: Tensor, dim: int, start, length: int) -> Tensor:
    """The slice [start, start + length) of `dim` (a view)."""
    shape = input._data.shape
    if not shape:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    d = wrap_dim(dim, len(shape))
    size = shape[d]
    start = operator.index(start)
    length = operator.index(length)
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    if not -size <= start <= size:
        raise IndexError(f"start out of range (expected to be in range of [{-size}, {size}], "
                         f"but got {start})")
    if start < 0:
        start += size
    if start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size "
                           f"({size}).")
    return Slice.apply(input, _index(d, slice(start, start + length)))


@method()
def select(input: Tensor, dim: int, index: int) -> Tensor:
    """The slice at `index` of `dim`, with that dim removed (a view)."""
    shape = input._data.shape
    if not shape:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = wrap_dim(dim, len(shape))
    index = operator.index(index)
    if not -shape[d] <= index < shape[d]:
        raise IndexError(f"select(): index {index} out of range for tensor of size "
                         f"{list(shape)} at dimension {dim}")
    return Select.apply(input, _index(d, index % shape[d]))


@method()
def unbind(input: Tensor, dim: int = 0) -> tuple:
    """The slices along `dim`, each without that dim."""
    shape = input._data.shape
    if not shape:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    d = wrap_dim(dim, len(shape))
    if shape[d] == 0:
        return ()
    out = Unbind.apply(input, d)
    return out if isinstance(out, tuple) else (out,)


def _split_bounds(sizes) -> tuple:
    bounds, lo = [], 0
    for s in sizes:
        bounds.append((lo, lo + s))
        lo += s
    return tuple(bounds)


def _split(input: Tensor, d: int, bounds: tuple, op) -> tuple:
    out = op.apply(input, d, bounds)
    return out if isinstance(out, tuple) else (out,)


@method()
def split(tensor: Tensor, split_size_or_sections, dim: int = 0) -> tuple:
    """Pieces of size split_size (the last may be smaller), or of the listed sizes."""
    shape = tensor._data.shape
    if not shape:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    d = wrap_dim(dim, len(shape))
    size = shape[d]
    if isinstance(split_size_or_sections, (int, np.integer)) or (
            isinstance(split_size_or_sections, Tensor) and split_size_or_sections.ndim == 0):
        step = operator.index(split_size_or_sections)
        if step < 0:
            raise RuntimeError(f"split expects split_size be non-negative, but got "
                               f"split_size={step}")
        if step == 0:
            if size != 0:
                raise RuntimeError("split_size can only be 0 if dimension size is 0, but got "
                                   f"dimension size of {size}")
            return _split(tensor, d, ((0, 0),), Split)
        sizes = [step] * (size // step) + ([size % step] if size % step or size == 0 else [])
        return _split(tensor, d, _split_bounds(sizes), Split)
    sizes = [operator.index(s) for s in split_size_or_sections]
    if any(s < 0 for s in sizes):
        raise RuntimeError("split_with_sizes expects split_sizes have only non-negative "
                           f"entries, but got split_sizes={sizes}")
    if sum(sizes) != size:
        raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {size} "
                           f"(input tensor's size at dimension {d}), but got "
                           f"split_sizes={sizes}")
    if not sizes:
        return ()
    return _split(tensor, d, _split_bounds(sizes), SplitWithSizes)


@method()
def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple:
    """Up to `chunks` pieces of equal size ceil(n / chunks) (the last may be smaller)."""
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    shape = input._data.shape
    if not shape:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    d = wrap_dim(dim, len(shape))
    size = shape[d]
    if size == 0:
        return _split(input, d, ((0, 0),) * chunks, Split)
    return split(input, -(-size // chunks), d)


@method()
def tensor_split(input: Tensor, indices_or_sections, dim: int = 0) -> tuple:
    """`sections` nearly equal pieces, or the pieces between the given indices."""
    shape = input._data.shape
    if not shape:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a "
                           "tensor with 0 dims")
    d = wrap_dim(dim, len(shape))
    size = shape[d]
    arg = indices_or_sections
    if isinstance(arg, Tensor):
        if arg.dtype is not D.int64:
            raise RuntimeError("tensor_split expected tensor_indices_or_sections to have dtype "
                               f"of long, but got {_legacy(arg.dtype)}")
        if arg.ndim > 1:
            raise RuntimeError("tensor_split expected tensor_indices_or_sections to be a "
                               "zero-dimensional or one-dimensional tensor, but got a tensor "
                               f"with {arg.ndim} dims")
        arg = arg.item() if arg.ndim == 0 else arg.tolist()
    if isinstance(arg, (int, np.integer)):
        sections = int(arg)
        if sections <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {sections}")
        small, extra = divmod(size, sections)
        sizes = [small + 1] * extra + [small] * (sections - extra)
        return _split(input, d, _split_bounds(sizes), Split)
    cuts = [operator.index(i) for i in arg]
    bounds, lo = [], 0
    for cut in cuts + [size]:
        s = slice(lo, cut).indices(size) if cut != size else slice(lo, None).indices(size)
        bounds.append((s[0], max(s[0], s[1])))
        lo = cut
    return _split(input, d, tuple(bounds), Split)


def _split_dims(name: str, input: Tensor, dim: int, need: int, indices_or_sections) -> tuple:
    if input._data.ndim < need:
        raise RuntimeError(f"torch.{name} requires a tensor with at least {need} dimension, but "
                           f"got a tensor with {input._data.ndim} dimensions!")
    if isinstance(indices_or_sections, (int, np.integer)):
        size = input._data.shape[dim]
        if indices_or_sections == 0 or size % indices_or_sections:
            raise RuntimeError(f"torch.{name} attempted to split along dimension {dim}, but "
                               f"the size of the dimension {size} is not divisible by the "
                               f"split_size {indices_or_sections}!")
    return tensor_split(input, indices_or_sections, dim)


@method()
def hsplit(input: Tensor, indices_or_sections) -> tuple:
    dim = 0 if input._data.ndim == 1 else 1
    return _split_dims("hsplit", input, dim, 1, indices_or_sections)


@method()
def vsplit(input: Tensor, indices_or_sections) -> tuple:
    return _split_dims("vsplit", input, 0, 2, indices_or_sections)


@method()
def dsplit(input: Tensor, indices_or_sections) -> tuple:
    return _split_dims("dsplit", input, 2, 3, indices_or_sections)


# -- diagonals -----------------------------------------------------------------------------------

def _diagonal_view(a, offset: int, d1: int, d2: int):
    """A writable view of a diagonal (numpy's own diagonal() is read-only)."""
    if type(a) is not np.ndarray:
        return a.diagonal(offset, d1, d2)
    start = [slice(None)] * a.ndim
    if offset >= 0:
        start[d2] = slice(offset, None)
    else:
        start[d1] = slice(-offset, None)
    sub = a[tuple(start)]
    length = min(sub.shape[d1], sub.shape[d2])
    keep = [i for i in range(a.ndim) if i not in (d1, d2)]
    shape = tuple(sub.shape[i] for i in keep) + (length,)
    strides = tuple(sub.strides[i] for i in keep) + (sub.strides[d1] + sub.strides[d2],)
    return np.lib.stride_tricks.as_strided(sub, shape, strides)


class Diagonal(Function):
    view = True

    @staticmethod
    def forward(ctx, a, offset, d1, d2):
        ctx.args = (a.shape, offset, d1, d2)
        return _diagonal_view(a, offset, d1, d2)

    @staticmethod
    def backward(ctx, grad):
        return _run(DiagonalScatter, grad, *ctx.args)


class DiagonalCopy(Diagonal):
    """torch.diag of a matrix: the diagonal as a new tensor."""

    view = False
    _backward_name = "DiagonalBackward0_copy"

    @staticmethod
    def forward(ctx, a, offset, d1, d2):
        ctx.args = (a.shape, offset, d1, d2)
        return _diagonal_view(a, offset, d1, d2).copy()


class DiagonalScatter(Function):
    """Zeros of `shape` with `g` on the given diagonal (diag_embed; diagonal's backward)."""

    _backward_name = "DiagEmbedBackward0"

    @staticmethod
    def forward(ctx, g, shape, offset, d1, d2):
        ctx.args = (offset, d1, d2)
        out = _xp(g).zeros(shape, dtype=g.dtype)
        _diagonal_view(out, offset, d1, d2)[...] = g
        return out

    @staticmethod
    def backward(ctx, grad):
        return _run(Diagonal, grad, *ctx.args)


def _diagonal_dims(ndim: int, dim1: int, dim2: int) -> tuple:
    d1, d2 = wrap_dim(dim1, ndim), wrap_dim(dim2, ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return d1, d2


@method()
def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The diagonal of dims (dim1, dim2) as a new last dim (a writable view)."""
    d1, d2 = _diagonal_dims(input._data.ndim, dim1, dim2)
    return Diagonal.apply(input, offset, d1, d2)


@method()
def diag_embed(input: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """Tensors whose (dim1, dim2) diagonals hold the last dim of `input`."""
    ndim = input._data.ndim + 1
    d1, d2 = _diagonal_dims(ndim, dim1, dim2)
    *rest, n = input._data.shape or (1,)
    side = n + abs(offset)
    rest = iter(rest)
    shape = tuple(side if i in (d1, d2) else next(rest) for i in range(ndim))
    if not input._data.ndim:
        input = reshape(input, (1,))
    return DiagonalScatter.apply(input, shape, offset, d1, d2)


@method()
def diag(input: Tensor, diagonal: int = 0) -> Tensor:
    """1-D: a square matrix with `input` on a diagonal; 2-D: that diagonal, copied."""
    ndim = input._data.ndim
    if ndim == 1:
        side = input._data.shape[0] + abs(diagonal)
        return DiagonalScatter.apply(input, (side, side), diagonal, 0, 1)
    if ndim == 2:
        return DiagonalCopy.apply(input, diagonal, 0, 1)
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {ndim}D")


@method()
def diagflat(input: Tensor, offset: int = 0) -> Tensor:
    """A matrix with the flattened input on diagonal `offset`."""
    return diag(reshape(input, (-1,)), offset)


# -- copying shape ops ---------------------------------------------------------------------------

class Flip(Function):
    @staticmethod
    def forward(ctx, a, dims):
        ctx.dims = dims
        return _xp(a).flip(a, dims).copy()

    @staticmethod
    def backward(ctx, grad):
        return ctx.xp.flip(grad, ctx.dims)


@method()
def flip(input: Tensor, dims) -> Tensor:
    """Reverses the order of elements along `dims` (a copy, as in torch)."""
    return Flip.apply(input, wrap_dims(dims, input._data.ndim))


def _flip_method(self: Tensor, *dims) -> Tensor:
    return flip(self, _sizes(dims))


Tensor.flip = _flip_method


@method()
def fliplr(input: Tensor) -> Tensor:
    if input._data.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return Flip.apply(input, (1,))


@method()
def flipud(input: Tensor) -> Tensor:
    if input._data.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return Flip.apply(input, (0,))


class Roll(Function):
    @staticmethod
    def forward(ctx, a, shifts, dims):
        ctx.args = (shifts, dims)
        if dims is None:
            return _xp(a).roll(a.reshape(-1), shifts[0]).reshape(a.shape)
        return _xp(a).roll(a, shifts, dims)

    @staticmethod
    def backward(ctx, grad):
        shifts, dims = ctx.args
        back = tuple(-s for s in shifts)
        return _run(Roll, grad, back, dims)


@method()
def roll(input: Tensor, shifts, dims=None) -> Tensor:
    """Rotates elements along `dims` by `shifts` (the flattened tensor when dims is None)."""
    shifts = _sizes((shifts,)) if not isinstance(shifts, (int, np.integer, Tensor)) \
        else (operator.index(shifts),)
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, "
                               "dims:0")
        return Roll.apply(input, shifts, None)
    dims = (dims,) if isinstance(dims, (int, np.integer)) else tuple(dims)
    if not shifts:
        raise RuntimeError("`shifts` required")
    if len(shifts) != len(dims):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, "
                           f"dims:{len(dims)}")
    ndim = input._data.ndim
    return Roll.apply(input, shifts, tuple(wrap_dim(d, ndim) for d in dims))


class Rot90(Function):
    @staticmethod
    def forward(ctx, a, k, dims):
        ctx.args = (k, dims)
        return _xp(a).ascontiguousarray(_xp(a).rot90(a, k, dims))

    @staticmethod
    def backward(ctx, grad):
        k, dims = ctx.args
        return _run(Rot90, grad, -k, dims)


@method()
def rot90(input: Tensor, k: int = 1, dims=(0, 1)) -> Tensor:
    """Rotates by 90 degrees k times in the plane of `dims` (from dims[0] toward dims[1])."""
    dims = tuple(dims)
    ndim = input._data.ndim
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if ndim < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {ndim}")
    d0, d1 = wrap_dim(dims[0], ndim), wrap_dim(dims[1], ndim)
    if d0 == d1:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {d0} and "
                           f"dim1 = {d1}")
    out = Rot90.apply(input, operator.index(k) % 4, (d0, d1))
    return out


class Repeat(Function):
    @staticmethod
    def forward(ctx, a, reps):
        ctx.in_shape = a.shape
        ctx.reps = reps
        return _xp(a).tile(a, reps)

    @staticmethod
    def backward(ctx, grad):
        reps = ctx.reps
        shape = (1,) * (len(reps) - len(ctx.in_shape)) + tuple(ctx.in_shape)
        split = []
        for r, s in zip(reps, shape):
            split += [r, s]
        total = ctx.xp.sum(grad.reshape(tuple(split)), axis=tuple(range(0, len(split), 2)))
        return total.reshape(ctx.in_shape)


def _repeat(self: Tensor, *sizes) -> Tensor:
    """Tiles the tensor: dim i repeated sizes[i] times (leading new dims allowed)."""
    reps = _sizes(sizes)
    if len(reps) < self._data.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number "
                           "of dimensions of tensor")
    if any(r < 0 for r in reps):
        shape = (1,) * (len(reps) - self._data.ndim) + self._data.shape
        sizes = [r * s for r, s in zip(reps, shape)]
        raise RuntimeError("Trying to create tensor with negative dimension "
                           f"{next((s for s in sizes if s < 0), min(reps))}: {sizes}")
    return Repeat.apply(self, reps)


Tensor.repeat = _repeat


@method()
def tile(input: Tensor, dims) -> Tensor:
    reps = _sizes((dims,))
    return _repeat(input, (1,) * (input._data.ndim - len(reps)) + reps)


class RepeatInterleave(Function):
    """np.repeat along `dim`; `repeats` is an int or a tuple of per-element counts."""

    @staticmethod
    def forward(ctx, a, repeats, dim):
        ctx.args = (repeats, dim, a.shape[dim])
        return _xp(a).repeat(a, repeats if isinstance(repeats, int) else list(repeats), dim)

    @staticmethod
    def backward(ctx, grad):
        return _run(SegmentSum, grad, *ctx.args)


class SegmentSum(Function):
    """Sums consecutive runs along `dim` into `n` slots (repeat_interleave's backward)."""

    @staticmethod
    def forward(ctx, g, repeats, dim, n):
        ctx.args = (repeats, dim)
        xp = _xp(g)
        out_shape = g.shape[:dim] + (n,) + g.shape[dim + 1:]
        if isinstance(repeats, int):
            if repeats == 0:
                return xp.zeros(out_shape, dtype=g.dtype)
            return g.reshape(out_shape[:dim + 1] + (repeats,) + out_shape[dim + 1:]).sum(
                axis=dim + 1)
        counts = np.asarray(repeats, dtype=np.int64)
        out = xp.zeros(out_shape, dtype=g.dtype)
        nonzero = np.flatnonzero(counts)
        if nonzero.size:
            starts = (np.cumsum(counts) - counts)[nonzero]
            out[_index(dim, xp.asarray(nonzero))] = _segment_sums(
                xp, g, starts, starts + counts[nonzero], dim)
        return out

    @staticmethod
    def backward(ctx, grad):
        return _run(RepeatInterleave, grad, *ctx.args)


def _segment_sums(xp, g, starts, ends, dim):
    """Sums of g[starts[i]:ends[i]] along `dim` for adjacent, non-empty segments."""
    if xp is np:
        return np.add.reduceat(g, starts, axis=dim)
    # cupy has no reduceat: differences of a zero-led running sum
    csum = xp.cumsum(g, axis=dim)
    csum = xp.concatenate([xp.zeros_like(xp.take(csum, xp.asarray([0]), axis=dim)), csum], axis=dim)
    return xp.take(csum, xp.asarray(ends), axis=dim) - xp.take(csum, xp.asarray(starts),
                                                               axis=dim)


@method()
def repeat_interleave(input: Tensor, repeats=None, dim: int | None = None, *,
                      output_size: int | None = None) -> Tensor:
    """Repeats each element `repeats` times along `dim` (the flattened input if None)."""
    if repeats is None:  # torch.repeat_interleave(counts): indices repeated by counts
        counts = input
        from .creation import arange
        return repeat_interleave(arange(counts.shape[0], device=counts.device), counts)
    if dim is None:
        input = reshape(input, (-1,))
        dim = 0
    d = wrap_dim(dim, input._data.ndim) if input._data.ndim else 0
    if not input._data.ndim:
        input = reshape(input, (1,))
    size = input._data.shape[d]
    if isinstance(repeats, Tensor):
        if repeats.ndim > 1:
            raise RuntimeError("repeats must be 0-dim or 1-dim tensor")
        if repeats.dtype._kind != 1:
            raise RuntimeError("repeats has to be Long or Int tensor")
        counts = [int(r) for r in repeats.reshape(-1).tolist()]
        if len(counts) == 1:
            repeats = counts[0]
        else:
            if len(counts) != size:
                raise RuntimeError("repeats must have the same size as input along dim, but "
                                   f"got repeats.size(0) = {len(counts)} and input.size({d}) "
                                   f"= {size}")
            if any(c < 0 for c in counts):
                raise RuntimeError("repeats can not be negative")
            return RepeatInterleave.apply(input, tuple(counts), d)
    repeats = operator.index(repeats)
    if repeats < 0:
        raise RuntimeError("Repeats must be non-negative")
    return RepeatInterleave.apply(input, repeats, d)


class Tril(Function):
    @staticmethod
    def forward(ctx, a, k):
        ctx.k = k
        return _xp(a).tril(a, k)

    @staticmethod
    def backward(ctx, grad):
        return ctx.xp.tril(grad, ctx.k)


class Triu(Function):
    @staticmethod
    def forward(ctx, a, k):
        ctx.k = k
        return _xp(a).triu(a, k)

    @staticmethod
    def backward(ctx, grad):
        return ctx.xp.triu(grad, ctx.k)


@method()
def tril(input: Tensor, diagonal: int = 0, *, out=None) -> Tensor:
    """The lower triangle of the last two dims (elements on and below `diagonal`)."""
    if input._data.ndim < 2:
        raise RuntimeError("tril: input tensor must have at least 2 dimensions")
    return finish(Tril.apply(input, operator.index(diagonal)), out)


@method()
def triu(input: Tensor, diagonal: int = 0, *, out=None) -> Tensor:
    """The upper triangle of the last two dims (elements on and above `diagonal`)."""
    if input._data.ndim < 2:
        raise RuntimeError("triu: input tensor must have at least 2 dimensions")
    return finish(Triu.apply(input, operator.index(diagonal)), out)


Tensor.tril_ = lambda self, diagonal=0: apply_inplace(self, tril(self, diagonal))
Tensor.triu_ = lambda self, diagonal=0: apply_inplace(self, triu(self, diagonal))


# -- building grids and promoting rank ---------------------------------------------------------

def _tensor_list(tensors) -> list:
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        return list(tensors[0])
    return list(tensors)


def meshgrid(*tensors, indexing: str | None = None) -> tuple:
    """Coordinate grids from 1-D tensors (views: each input expanded over the grid)."""
    tensors = _tensor_list(tensors)
    if indexing is None:
        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the "
                      "indexing argument.", UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError('torch.meshgrid: indexing must be one of "xy" or "ij", but '
                           f"received: {indexing}")
    for t in tensors:
        if t._data.ndim > 1:
            raise RuntimeError("torch.meshgrid: Expected 0D or 1D tensor in the tensor list "
                               f"but got: {t}")
    swap = indexing == "xy" and len(tensors) >= 2
    order = list(tensors)
    if swap:
        order[0], order[1] = order[1], order[0]
    shape = tuple(t._data.size for t in order)
    grids = []
    for i, t in enumerate(order):
        lone = (1,) * i + (-1,) + (1,) * (len(order) - i - 1)
        grids.append(Expand.apply(reshape(t, lone), shape))
    if swap:  # 'xy': the first two inputs vary along dims 1 and 0
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


def cartesian_prod(*tensors) -> Tensor:
    """All combinations of elements of 1-D tensors, one per row."""
    tensors = _tensor_list(tensors)
    for t in tensors:
        if t._data.ndim != 1:
            raise RuntimeError(f"Expect a 1D vector, but got shape {list(t.shape)}")
    if len(tensors) == 1:
        return tensors[0]
    from .join import stack
    grids = meshgrid(*tensors, indexing="ij")
    return stack([reshape(g, (-1,)) for g in grids], 1)


def _atleast(tensors, ndim: int, pad):
    items = _tensor_list(tensors)
    out = tuple(t if t._data.ndim >= ndim else reshape(t, pad(t._data.shape)) for t in items)
    if len(tensors) == 1 and isinstance(tensors[0], Tensor):
        return out[0]
    return out


def atleast_1d(*tensors):
    """Each input with at least one dim (0-D becomes shape (1,))."""
    return _atleast(tensors, 1, lambda s: (1,))


def atleast_2d(*tensors):
    """Each input with at least two dims (leading size-1 dims added)."""
    return _atleast(tensors, 2, lambda s: (1,) * (2 - len(s)) + s)


def atleast_3d(*tensors):
    """Each input with at least three dims: (N,) -> (1, N, 1), (M, N) -> (M, N, 1)."""
    return _atleast(tensors, 3, lambda s: {0: (1, 1, 1), 1: (1,) + s + (1,)}.get(
        len(s), s + (1,)))
