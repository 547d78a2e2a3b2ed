"""Op-test descriptions for ops/indexing.py (shared by core and parity tests).

Most cases are written once as fn(module, *tensors) and run on taimatsu and on torch, whose
indexing API is the same; index tensors are built inside with module.tensor(...).
"""

import warnings

import numpy as np

import taimatsu
from taimatsu.testing import Arg, OpCase


def _both(fn):
    """The same call on taimatsu and torch: fn(module, *args)."""
    return dict(op=lambda *a: fn(taimatsu, *a), torch_op=fn)


def _quiet(fn, *args, **kwargs):
    """fn(...) with its warnings (deprecations both libraries share) silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def _long(shape, high, low=0):
    """A random int64 index tensor with values in [low, high)."""
    return Arg(shape, dtype=taimatsu.int64, low=low, high=high)


def _perm_index(n, shape, dim=0):
    """An int64 index with distinct entries along `dim` (writes that don't collide)."""
    def make(rng, shape, np_dtype):
        moved = (shape[dim],) + shape[:dim] + shape[dim + 1:]
        flat = [rng.permutation(n)[:moved[0]] for _ in range(int(np.prod(moved[1:])))]
        arr = np.stack(flat, axis=-1).reshape(moved)
        return np.moveaxis(arr, 0, dim).astype(np_dtype)
    return Arg(shape, dtype=taimatsu.int64, fn=make)


def _bool(shape):
    return Arg(shape, dtype=taimatsu.bool)


def _with_zeros(rng, shape, np_dtype):
    """Values in [-1, 1) with about a third of them exactly zero (prod's special case)."""
    arr = rng.uniform(-1, 1, shape)
    arr[rng.random(shape) < 0.35] = 0
    return arr.astype(np_dtype)


def _get(index):
    """x[index] with the same index in both libraries (and in NumPy)."""
    return dict(op=lambda x: x[index], torch_op=lambda torch, x: x[index],
                numpy_op=lambda x: x[index])


# Writes through a view go through CopySlices, which is once differentiable (ops/inplace.py)
VIEW_WRITE = dict(gradgrad=False)


def _set(index_fn):
    """x * 1 with x[index] = v, as a function of (x, v); index_fn(module) builds the index."""
    def run(m, x, v):
        out = x * 1
        out[index_fn(m)] = v
        return out
    return _both(run)


I2 = np.array([2, 0, 2, 1])           # duplicates: their gradients accumulate
I3 = np.array([[0, 1], [3, 3]])       # 2-D, duplicates
MASK = np.array([True, False, True])

GETITEM = [
    OpCase("getitem[int]", **_get(1), inputs=[(3, 4)]),
    OpCase("getitem[negative-int]", **_get((-1, -2)), inputs=[(3, 4)]),
    OpCase("getitem[0-dim-result]", **_get((1, 2, 0)), inputs=[(2, 3, 4)]),
    OpCase("getitem[slice-step]", **_get((slice(None, None, 2), slice(1, 4, 2))),
           inputs=[(5, 6)]),
    OpCase("getitem[slice-clamped]", **_get(slice(-10, 10)), inputs=[(3, 2)]),
    OpCase("getitem[empty-slice]", **_get((slice(2, 1), 0)), inputs=[(3, 2)]),
    OpCase("getitem[none-ellipsis]", **_get((None, Ellipsis, None, 1)), inputs=[(2, 3, 4)]),
    OpCase("getitem[ellipsis-middle]", **_get((0, Ellipsis, slice(1, None))),
           inputs=[(2, 3, 4, 2)]),
    OpCase("getitem[list]", **_get([2, 0, 2]), inputs=[(3, 4)]),
    OpCase("getitem[2-d-array]", **_get((slice(None), I3)), inputs=[(2, 4, 3)]),
    OpCase("getitem[broadcast-arrays]", **_get((I2[:, None], np.array([0, 3, 3])),),
           inputs=[(3, 4)]),
    OpCase("getitem[adjacent-arrays]", **_get((slice(None), I2, np.array([1]))),
           inputs=[(2, 3, 4)]),
    OpCase("getitem[separated-arrays]", **_get((I2, slice(None), np.array([0, 1, 1, 0]))),
           inputs=[(3, 2, 2)]),
    OpCase("getitem[array-none-slice]", **_get((slice(None), None, I2)), inputs=[(2, 3)]),
    OpCase("getitem[mask]", **_get(MASK), inputs=[(3, 4)]),
    OpCase("getitem[mask-2d]", **_get(np.array([[True, False], [False, False], [True, True]])),
           inputs=[(3, 2, 2)]),
    OpCase("getitem[mask-and-array]", **_get((MASK, np.array([1, 1]))), inputs=[(3, 4)]),
    OpCase("getitem[bool-list]", **_get((slice(None), [True, False, True, True])),
           inputs=[(2, 4)]),
    OpCase("getitem[true]", op=lambda x: x[True], torch_op=lambda torch, x: x[True],
           inputs=[(2, 3)]),
    # torch applies the int first, so [1, 2] stays where it is (NumPy would move it first)
    OpCase("getitem[int-then-array]", **_both(lambda m, x: x[0, :, [1, 2]]), inputs=[(2, 3, 4)],
           numpy_op=lambda x: x[0][:, [1, 2]]),
    OpCase("getitem[tensor-index]", **_both(lambda m, x, i: x[:, i]),
           inputs=[(2, 4), _long((2, 3), 4)]),
    OpCase("getitem[tensor-mask]", **_both(lambda m, x, mask: x[mask]),
           inputs=[(3, 4), _bool((3, 4))]),
    OpCase("getitem[0-dim-tensor]", **_both(lambda m, x: x[m.tensor(2)]), inputs=[(3, 2)]),
]

SETITEM = [
    OpCase("setitem[int]", **_set(lambda m: 1), inputs=[(3, 4), (4,)], **VIEW_WRITE),
    OpCase("setitem[slice-broadcast]", **_set(lambda m: (slice(None), slice(0, 4, 2))),
           inputs=[(3, 4), (1, 2)], **VIEW_WRITE),
    OpCase("setitem[leading-ones]", **_set(lambda m: 0), inputs=[(3, 4), (1, 1, 4)], **VIEW_WRITE),
    OpCase("setitem[none-ellipsis]", **_set(lambda m: (Ellipsis, None, 2)),
           inputs=[(2, 3), (2, 1)], **VIEW_WRITE),
    OpCase("setitem[whole]", **_set(lambda m: Ellipsis), inputs=[(2, 3), (3,)]),
    OpCase("setitem[array]", **_set(lambda m: m.tensor([2, 0])), inputs=[(3, 4), (2, 4)]),
    OpCase("setitem[array-broadcast-value]", **_set(lambda m: (slice(None), [3, 1])),
           inputs=[(3, 4), (3, 1)]),
    OpCase("setitem[separated-arrays]", **_set(lambda m: ([0, 1], slice(None), [1, 0])),
           inputs=[(2, 3, 2), (2, 3)]),
    OpCase("setitem[basic-then-array]", **_set(lambda m: (1, [0, 2])), inputs=[(2, 3, 2), (2,)], **VIEW_WRITE),
    OpCase("setitem[mask]", **_set(lambda m: m.tensor([[True, False], [False, True]])),
           inputs=[(2, 2, 3), (3,)]),
    OpCase("setitem[0-dim-value]", **_set(lambda m: m.tensor([False, True, True])),
           inputs=[(3, 2), ()]),
    OpCase("setitem[number]", **_both(lambda m, x: _assign(x * 1, (slice(None), [0, 2]), 7.5)),
           inputs=[(3, 4)]),
]


def _assign(t, index, value):
    t[index] = value
    return t


GATHER_SCATTER = [
    OpCase("gather", inputs=[(3, 4), 0, _long((2, 4), 3)],
           numpy_op=lambda x, d, i: np.take_along_axis(x, i, d)),
    OpCase("gather[dim1-smaller]", op=taimatsu.gather, torch_op="gather",
           inputs=[(3, 4), -1, _long((2, 6), 4)],
           numpy_op=lambda x, d, i: np.take_along_axis(x[:2], i, d)),
    OpCase("Tensor.gather", inputs=[(2, 3, 2), 1, _long((2, 3, 1), 3)]),
    OpCase("scatter", inputs=[(3, 4), 0, _perm_index(3, (2, 4)), (2, 4)]),
    # torch's backward fails for a src bigger than index (tests/core checks ours)
    OpCase("scatter[src-bigger]", op=taimatsu.scatter, torch_op="scatter",
           inputs=[(3, 4), 1, _perm_index(4, (2, 3), dim=1), (3, 5)], grad=False),
    OpCase("scatter[value]", **_both(lambda m, x, i: m.scatter(x, 1, i, 0.5)),
           inputs=[(3, 4), _perm_index(4, (3, 2), dim=1)]),
    OpCase("Tensor.scatter_", **_both(lambda m, x, i, s: (x * 1).scatter_(0, i, s)),
           inputs=[(3, 4), _perm_index(3, (3, 4)), (3, 4)]),
    OpCase("scatter_add", inputs=[(3, 4), 0, _long((5, 4), 3), (5, 4)]),
    OpCase("Tensor.scatter_add_", **_both(lambda m, x, i, s: (x * 1).scatter_add_(1, i, s)),
           inputs=[(2, 3), _long((2, 5), 3), (2, 5)]),
]

for _reduce in ("sum", "prod", "mean", "amax", "amin"):
    for _self in (True, False):
        GATHER_SCATTER.append(OpCase(
            f"scatter_reduce[{_reduce}-{'self' if _self else 'noself'}]",
            op=taimatsu.scatter_reduce, torch_op="scatter_reduce",
            inputs=[(3, 4), 0, _long((4, 4), 3), (4, 4), _reduce],
            kwargs=dict(include_self=_self)))
GATHER_SCATTER += [
    OpCase("scatter_reduce[prod-zeros]", op=taimatsu.scatter_reduce, torch_op="scatter_reduce",
           inputs=[Arg((3, 4), fn=_with_zeros), 0, _long((5, 4), 3), Arg((5, 4), fn=_with_zeros),
                   "prod"], gradgrad=False),  # torch refuses it where two zeros meet
    OpCase("Tensor.scatter_reduce_",
           **_both(lambda m, x, i, s: (x * 1).scatter_reduce_(1, i, s, "amax")),
           inputs=[(2, 3), _long((2, 4), 3), (2, 4)]),
    OpCase("scatter[reduce-add]",
           **_both(lambda m, x, i, s: _quiet(m.scatter, x, 0, i, s, reduce="add")),
           inputs=[(3, 2), _long((4, 2), 3), (4, 2)], grad=False),
]

INDEX_DIM = [
    OpCase("index_select", inputs=[(3, 4), 1, _long((5,), 4)],
           numpy_op=lambda x, d, i: np.take(x, i, axis=d)),
    OpCase("index_select[0-dim-index]", **_both(lambda m, x: m.index_select(x, 0, m.tensor(1))),
           inputs=[(3, 2)]),
    OpCase("index_add", **_both(lambda m, x, s: m.index_add(x, 0, m.tensor([2, 0, 2]), s)),
           inputs=[(3, 4), (3, 4)]),
    OpCase("index_add[alpha]",
           **_both(lambda m, x, s: m.index_add(x, 1, m.tensor([1, 1]), s, alpha=-2.5)),
           inputs=[(3, 4), (3, 2)]),
    OpCase("Tensor.index_add_",
           **_both(lambda m, x, s: (x * 1).index_add_(0, m.tensor([1, 1]), s)),
           inputs=[(2, 3), (2, 3)]),
    OpCase("index_copy", **_both(lambda m, x, s: m.index_copy(x, 1, m.tensor([3, 0]), s)),
           inputs=[(2, 4), (2, 2)]),
    OpCase("Tensor.index_copy_",
           **_both(lambda m, x, s: (x * 1).index_copy_(0, m.tensor([2, 0]), s)),
           inputs=[(3, 2), (2, 2)]),
    OpCase("index_fill", **_both(lambda m, x: m.index_fill(x, 1, m.tensor([0, -1]), -3.0)),
           inputs=[(2, 4)]),
    OpCase("index_fill[tensor-value]",
           **_both(lambda m, x, v: m.index_fill(x, 0, m.tensor([1]), v)), inputs=[(3, 2), ()]),
    OpCase("Tensor.index_fill_",
           **_both(lambda m, x: (x * 1).index_fill_(0, m.tensor([0, 2]), 2.0)), inputs=[(3, 2)]),
    OpCase("index_put", **_both(lambda m, x, v: m.index_put(
        x, (m.tensor([0, 2]), m.tensor([1, 3])), v)), inputs=[(3, 4), (2,)]),
    OpCase("index_put[accumulate]", **_both(lambda m, x, v: m.index_put(
        x, (m.tensor([1, 1, 0]),), v, accumulate=True)), inputs=[(2, 3), (3, 3)]),
    OpCase("index_put[mask]", **_both(lambda m, x, v: m.index_put(
        x, (m.tensor([True, False, True]),), v)), inputs=[(3, 2), (2,)]),
    OpCase("Tensor.index_put_", **_both(lambda m, x, v: (x * 1).index_put_(
        (m.tensor([1, 0]), m.tensor([[0], [2]])), v, accumulate=True)), inputs=[(2, 3), (2, 2)]),
]

MASKED = [
    OpCase("masked_fill", inputs=[(3, 4), _bool((3, 4)), 2.5],
           numpy_op=lambda x, m, v: np.where(m, v, x)),
    OpCase("masked_fill[broadcast]", op=taimatsu.masked_fill, torch_op="masked_fill",
           inputs=[(3, 1), _bool((2, 1, 4)), -1.0]),
    OpCase("masked_fill[tensor-value]", op=taimatsu.masked_fill, torch_op="masked_fill",
           inputs=[(3, 4), _bool((4,)), ()]),
    OpCase("Tensor.masked_fill_", **_both(lambda m, x, mask: (x * 1).masked_fill_(mask, 0.5)),
           inputs=[(3, 4), _bool((4,))]),
    OpCase("masked_select", inputs=[(3, 4), _bool((3, 4))],
           numpy_op=lambda x, m: x[m]),
    OpCase("masked_select[broadcast]", op=taimatsu.masked_select, torch_op="masked_select",
           inputs=[(3, 1), _bool((2, 1, 4))]),
    OpCase("masked_scatter", inputs=[(3, 4), _bool((3, 4)), (15,)]),
    OpCase("masked_scatter[broadcast]", op=taimatsu.masked_scatter, torch_op="masked_scatter",
           inputs=[(3, 1), _bool((4,)), (3, 5)]),
    OpCase("Tensor.masked_scatter_",
           **_both(lambda m, x, mask, s: (x * 1).masked_scatter_(mask, s)),
           inputs=[(2, 3), _bool((2, 3)), (2, 3)]),
]

FLAT = [
    OpCase("take", inputs=[(3, 4), _long((2, 5), 12, low=-12)],
           numpy_op=lambda x, i: np.take(x, i)),
    OpCase("take_along_dim", inputs=[(3, 4), _long((3, 2), 4)], kwargs=dict(dim=1),
           numpy_op=lambda x, i, dim: np.take_along_axis(x, i, dim)),
    OpCase("take_along_dim[flat]", op=taimatsu.take_along_dim, torch_op="take_along_dim",
           inputs=[(3, 4), _long((5,), 12)]),
    OpCase("take_along_dim[broadcast]", op=taimatsu.take_along_dim, torch_op="take_along_dim",
           inputs=[(3, 1, 4), _long((1, 2, 3), 4), 2]),
    OpCase("put", **_both(lambda m, x, s: m.put(x, m.tensor([[0, -1], [5, 2]]), s)),
           inputs=[(3, 4), (2, 2)]),
    OpCase("put[accumulate]",
           **_both(lambda m, x, s: m.put(x, m.tensor([3, 3, -9]), s, accumulate=True)),
           inputs=[(3, 4), (3,)]),
    OpCase("Tensor.put_", **_both(lambda m, x, s: (x * 1).put_(m.tensor([1, 4]), s)),
           inputs=[(2, 3), (2,)]),
]

FILLS = [
    OpCase("Tensor.fill_", **_both(lambda m, x: (x * 1).fill_(1.5)), inputs=[(3, 4)]),
    OpCase("Tensor.fill_[tensor]", **_both(lambda m, x, v: (x * 1).fill_(v)),
           inputs=[(3, 4), ()]),
    OpCase("Tensor.zero_", **_both(lambda m, x: (x * 1).zero_()), inputs=[(3, 4)]),
    OpCase("fill", **_both(lambda m, x, v: m.fill(x, v)), inputs=[(2, 3), ()]),
    OpCase("Tensor.copy_", **_both(lambda m, x, s: (x * 1).copy_(s)), inputs=[(3, 4), (4,)]),
    OpCase("Tensor.copy_[into-view]", **_both(lambda m, x, s: _copy_into_view(x, s)),
           inputs=[(3, 4), (3, 1)], **VIEW_WRITE),
    OpCase("Tensor.copy_[cast]",
           **_both(lambda m, x, s: (x * 1).copy_(s.to(m.float64 if x.dtype == m.float32
                                                     else m.float32))),
           inputs=[(3, 4), (3, 4)], grad=False),
    OpCase("Tensor.fill_diagonal_", **_both(lambda m, x: (x * 1).fill_diagonal_(2.0)),
           inputs=[(3, 4)], **VIEW_WRITE),
    OpCase("Tensor.fill_diagonal_[wrap]",
           **_both(lambda m, x: (x * 1).fill_diagonal_(-1.0, wrap=True)), inputs=[(7, 3)], **VIEW_WRITE),
    OpCase("Tensor.fill_diagonal_[cube]", **_both(lambda m, x: (x * 1).fill_diagonal_(0.0)),
           inputs=[(3, 3, 3)], **VIEW_WRITE),
]


def _copy_into_view(x, s):
    out = x * 1
    out[:, 1:3].copy_(s)
    return out


NO_GRAD = dict(grad=False)
UNSORTED = np.array([0.3, -0.7, 0.9, 0.1, -0.2])


def _sorted(rng, shape, np_dtype):
    return np.sort(rng.uniform(-1, 1, shape), axis=-1).astype(np_dtype)


SEARCH = [
    OpCase("nonzero", inputs=[_bool((3, 4))], numpy_op=np.argwhere, **NO_GRAD),
    OpCase("nonzero[as_tuple]", op=taimatsu.nonzero, torch_op="nonzero",
           inputs=[Arg((3, 4), fn=_with_zeros)], kwargs=dict(as_tuple=True),
           numpy_op=lambda x, as_tuple: list(np.nonzero(x)), **NO_GRAD),
    OpCase("argwhere", inputs=[Arg((2, 3), fn=_with_zeros)], numpy_op=np.argwhere, **NO_GRAD),
    OpCase("searchsorted", inputs=[Arg((6,), fn=_sorted), (3, 4)], numpy_op=np.searchsorted,
           **NO_GRAD),
    OpCase("searchsorted[rows-right]", op=taimatsu.searchsorted, torch_op="searchsorted",
           inputs=[Arg((2, 5), fn=_sorted), (2, 3)], kwargs=dict(right=True), **NO_GRAD),
    OpCase("searchsorted[sorter-int32]", **_both(lambda m, v: m.searchsorted(
        m.tensor(UNSORTED, device=v.device), v,
        sorter=m.tensor(np.argsort(UNSORTED), device=v.device), side="right",
        out_int32=True)), inputs=[(4,)], **NO_GRAD),
    OpCase("searchsorted[scalar]", **_both(lambda m, s: m.searchsorted(s, 0.25)),
           inputs=[Arg((5,), fn=_sorted)], **NO_GRAD),
    OpCase("bucketize", **_both(lambda m, v: m.bucketize(
        v, m.tensor([-0.5, 0.0, 0.5], device=v.device))),
           inputs=[(3, 4)], **NO_GRAD),
    OpCase("bucketize[right]",
           **_both(lambda m, v: m.bucketize(v, m.tensor([-0.5, 0.0, 0.5], device=v.device),
                                            right=True)),
           inputs=[(5,)], **NO_GRAD),
]

CASES = GETITEM + SETITEM + GATHER_SCATTER + INDEX_DIM + MASKED + FLAT + FILLS + SEARCH


def _x(m, *shape, dtype=None):
    return m.zeros(shape, dtype=dtype)


# (id, call(module), exception type name, message): the same in taimatsu and torch
ERRORS = [
    ("int-out-of-bounds", lambda m: _x(m, 3, 4)[5], "IndexError",
     "index 5 is out of bounds for dimension 0 with size 3"),
    ("negative-int-out-of-bounds", lambda m: _x(m, 2, 3, 4)[0, :, -5], "IndexError",
     "index -5 is out of bounds for dimension 2 with size 4"),
    ("array-out-of-bounds", lambda m: _x(m, 3, 4)[:, [0, 5]], "IndexError",
     "index 5 is out of bounds for dimension 0 with size 4"),
    ("second-array-out-of-bounds", lambda m: _x(m, 2, 3, 4)[[0], :, [9]], "IndexError",
     "index 9 is out of bounds for dimension 1 with size 4"),
    ("size-0-dim", lambda m: _x(m, 0, 3)[[0]], "IndexError",
     "index is out of bounds for dimension with size 0"),
    ("too-many", lambda m: _x(m, 3, 4)[0, 0, 0], "IndexError",
     "too many indices for tensor of dimension 2"),
    ("0-dim-int", lambda m: _x(m)[0], "IndexError",
     "invalid index of a 0-dim tensor. Use `tensor.item()` in Python or `tensor.item<T>()` in "
     "C++ to convert a 0-dim tensor to a number"),
    ("negative-step", lambda m: _x(m, 3)[::-1], "ValueError", "step must be greater than zero"),
    ("zero-step", lambda m: _x(m, 3)[::0], "ValueError", "slice step cannot be zero"),
    ("float-index-tensor", lambda m: _x(m, 3, 4)[m.tensor([1.0])], "IndexError",
     "tensors used as indices must be long, int, byte or bool tensors"),
    ("float-index", lambda m: _x(m, 3, 4)[1.5], "IndexError",
     "only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are valid "
     "indices (got float)"),
    ("mask-shape", lambda m: _x(m, 4)[m.tensor([True, False, True])], "IndexError",
     "The shape of the mask [3] at index 0 does not match the shape of the indexed tensor [4] "
     "at index 0"),
    ("mask-shape-2d", lambda m: _x(m, 3, 4)[:, m.tensor([True, False])], "IndexError",
     "The shape of the mask [2] at index 0 does not match the shape of the indexed tensor "
     "[3, 4] at index 1"),
    ("arrays-broadcast", lambda m: _x(m, 3, 4)[[0, 1], [0, 1, 2]], "IndexError",
     "shape mismatch: indexing tensors could not be broadcast together with shapes [2], [3]"),
    ("setitem-value-shape", lambda m: _assign(_x(m, 2, 3, 4), (0, [0, 1]), m.ones(3)),
     "RuntimeError", "shape mismatch: value tensor of shape [3] cannot be broadcast to indexing "
     "result of shape [2, 4]"),
    ("setitem-expand", lambda m: _assign(_x(m, 3, 4), 0, m.ones(2)), "RuntimeError",
     "The expanded size of the tensor (4) must match the existing size (2) at non-singleton "
     "dimension 0.  Target sizes: [4].  Tensor sizes: [2]"),
    ("setitem-expand-ndim", lambda m: _assign(_x(m, 3, 4), 0, m.ones(2, 4)), "RuntimeError",
     "expand(taimatsu.FloatTensor{[2, 4]}, size=[4]): the number of sizes provided (1) must be "
     "greater or equal to the number of dimensions in the tensor (2)"),
    ("setitem-dtype", lambda m: _assign(_x(m, 3), [0], m.ones(1, dtype=m.float64)),
     "RuntimeError", "Index put requires the source and destination dtypes match, got Float "
     "for the destination and Double for the source."),
    ("setitem-complex-into-float", lambda m: _assign(_x(m, 3), 0, 1j), "RuntimeError",
     "value cannot be converted to type float without overflow"),
    ("setitem-int-overflow", lambda m: _assign(_x(m, 3, dtype=m.int32), 0, 2 ** 40),
     "RuntimeError", "value cannot be converted to type int without overflow"),
    ("setitem-list-value", lambda m: _assign(_x(m, 3), 0, [1.0]), "TypeError",
     "can't assign a list to a taimatsu.FloatTensor"),
    ("setitem-leaf", lambda m: _assign(m.zeros(3, requires_grad=True), [0], 1.0),
     "RuntimeError", "a leaf Variable that requires grad is being used in an in-place "
     "operation."),
    ("setitem-view-of-leaf", lambda m: _assign(m.zeros(3, requires_grad=True), 0, 1.0),
     "RuntimeError", "a view of a leaf Variable that requires grad is being used in an "
     "in-place operation."),
    ("gather-dtype", lambda m: m.gather(_x(m, 3, 4), 0, m.tensor([[0.0]])), "RuntimeError",
     "gather(): Expected dtype int32/int64 for index"),
    ("gather-ndim", lambda m: m.gather(_x(m, 3, 4), 0, m.tensor([0])), "RuntimeError",
     "Index tensor must have the same number of dimensions as input tensor"),
    ("gather-bounds", lambda m: m.gather(_x(m, 3, 4), 0, m.tensor([[5]])), "RuntimeError",
     "index 5 is out of bounds for dimension 0 with size 3"),
    ("gather-size", lambda m: m.gather(_x(m, 3, 4), 1, m.zeros(4, 5, dtype=m.int64)),
     "RuntimeError", "Size does not match at dimension 0 expected index [4, 5] to be no larger "
     "than self [3, 4] apart from dimension 1"),
    ("scatter-src-size", lambda m: m.scatter(_x(m, 3, 4), 0, m.tensor([[0, 1], [2, 0]]),
                                             _x(m, 1, 1)), "RuntimeError",
     "Expected index [2, 2] to be no larger than self [3, 4] apart from dimension 0 and to be no "
     "larger size than src [1, 1]"),
    ("scatter-dtype", lambda m: m.scatter(_x(m, 3, 4), 0, m.tensor([[0, 1]]),
                                          _x(m, 1, 2, dtype=m.float64)), "RuntimeError",
     "scatter(): Expected self.dtype to be equal to src.dtype"),
    ("scatter-ndim", lambda m: m.scatter(_x(m, 3, 4), 0, m.tensor([0, 1]), _x(m, 2)),
     "RuntimeError", "Index tensor must have the same number of dimensions as self tensor"),
    ("scatter-reduce-name", lambda m: m.scatter_reduce(_x(m, 3), 0, m.tensor([0]), _x(m, 1),
                                                       "foo"), "RuntimeError",
     "reduce argument must be either sum, prod, mean, amax or amin, got foo"),
    ("scatter-legacy-reduce", lambda m: m.scatter(_x(m, 3), 0, m.tensor([0]), 1.0,
                                                  reduce="foo"), "RuntimeError",
     "reduce argument must be either add or multiply."),
    ("index_select-bounds", lambda m: m.index_select(_x(m, 3, 4), 0, m.tensor([5])),
     "IndexError", "index out of range in self"),
    ("index_select-vector", lambda m: m.index_select(_x(m, 3, 4), 0, m.tensor([[0]])),
     "IndexError", "index_select(): Index is supposed to be a vector"),
    ("index_select-dtype", lambda m: m.index_select(_x(m, 3, 4), 0, m.tensor([0.0])),
     "RuntimeError", "index_select(): Expected dtype int32 or int64 for index"),
    ("index_add-count", lambda m: m.index_add(_x(m, 3, 4), 0, m.tensor([0, 1]), _x(m, 3, 4)),
     "RuntimeError", "index_add_(): Number of indices (2) should be equal to source.size(dim): "
     "(3), for dim: 0"),
    ("index_add-shape", lambda m: m.index_add(_x(m, 3, 4), 0, m.tensor([0, 1]), _x(m, 2, 5)),
     "RuntimeError", "source tensor shape must match self tensor shape, excluding the specified "
     "dimension. Got self.shape = [3, 4] source.shape = [2, 5]"),
    ("index_add-bounds", lambda m: m.index_add(_x(m, 3, 4), 0, m.tensor([0, -1]), _x(m, 2, 4)),
     "RuntimeError", "index -1 is out of bounds for dimension 0 with size 3"),
    ("index_add-dtype", lambda m: m.index_add(_x(m, 3, 4), 0, m.tensor([0, 1]),
                                              _x(m, 2, 4, dtype=m.float64)), "RuntimeError",
     "index_add_(): self (Float) and source (Double) must have the same scalar type"),
    ("index_copy-bounds", lambda m: m.index_copy(_x(m, 3, 4), 0, m.tensor([0, 5]),
                                                 _x(m, 2, 4)), "IndexError",
     "index_copy_(): index 5 is out of bounds for dimension 0 with size 3"),
    ("index_copy-int32", lambda m: m.index_copy(_x(m, 3, 4), 0, m.tensor([0, 1], dtype=m.int32),
                                                _x(m, 2, 4)), "RuntimeError",
     "index_copy_(): Expected a long tensor for index, but got Int"),
    ("index_fill-bounds", lambda m: m.index_fill(_x(m, 3, 4), 0, m.tensor([0, 5]), 1.0),
     "IndexError", "index 5 is out of bounds for dimension 0 with size 3"),
    ("index_put-dtype", lambda m: m.index_put(_x(m, 3, 4), (m.tensor([0, 0]),),
                                              _x(m, 4, dtype=m.float64)), "RuntimeError",
     "Index put requires the source and destination dtypes match, got Float for the destination "
     "and Double for the source."),
    ("index_put-too-many", lambda m: m.index_put(_x(m, 3, 4), (m.tensor([0]),) * 3,
                                                 m.tensor(1.0)), "IndexError",
     "too many indices for tensor of dimension 2 (got 3)"),
    ("masked_fill-float-mask", lambda m: _x(m, 3).masked_fill(_x(m, 3), 1.0), "RuntimeError",
     "masked_fill_ only supports boolean masks, but got mask with dtype float"),
    ("masked_fill-value-dim", lambda m: _x(m, 3).masked_fill(_x(m, 3) > 0, m.ones(2)),
     "RuntimeError", "masked_fill_ only supports a 0-dimensional value tensor, but got tensor "
     "with 1 dimension(s)."),
    ("masked_fill_-broadcast", lambda m: _x(m, 3, 1).masked_fill_(m.ones(4, dtype=m.bool), 1.0),
     "RuntimeError", "output with shape [3, 1] doesn't match the broadcast shape [3, 4]"),
    ("masked_select-mask", lambda m: m.masked_select(_x(m, 3), _x(m, 3, dtype=m.int32)),
     "RuntimeError", "masked_select: expected BoolTensor for mask"),
    ("masked_scatter-short", lambda m: m.masked_scatter(_x(m, 3), m.ones(3, dtype=m.bool),
                                                        _x(m, 2)), "RuntimeError",
     "Number of elements of source < number of ones in mask"),
    ("take-bounds", lambda m: m.take(_x(m, 3, 4), m.tensor([12])), "IndexError",
     "out of range: tried to access index 12 on a tensor of 12 elements."),
    ("take-int32", lambda m: m.take(_x(m, 3), m.tensor([0], dtype=m.int32)), "RuntimeError",
     "take(): Expected a long tensor for index, but got Int"),
    ("put-count", lambda m: m.put(_x(m, 3, 4), m.tensor([0, 1]), _x(m, 3)), "IndexError",
     "put_(): Expected source and index to have the same number of elements, but got "
     "source.numel() = 3, index.numel() = 2"),
    ("take_along_dim-ndim", lambda m: m.take_along_dim(_x(m, 3, 4), m.tensor([0]), 1),
     "RuntimeError", "torch.take_along_dim(): input and indices should have the same number of "
     "dimensions, but got 2 dimensions for input, and 1 dimensions for indices"),
    ("take_along_dim-broadcast", lambda m: m.take_along_dim(_x(m, 3, 4), m.tensor([[0, 1],
                                                                                   [2, 0]]), 0),
     "RuntimeError", "The size of tensor a (4) must match the size of tensor b (2) at "
     "non-singleton dimension 1"),
    ("fill_-value-dim", lambda m: _x(m, 3).fill_(m.ones(2)), "RuntimeError",
     "fill_ only supports 0-dimension value tensor but got tensor with 1 dimensions."),
    ("copy_-broadcast", lambda m: _x(m, 3, 4).copy_(m.ones(5)), "RuntimeError",
     "The size of tensor a (4) must match the size of tensor b (5) at non-singleton dimension 1"),
    ("copy_-bigger", lambda m: _x(m, 3, 4).copy_(m.ones(2, 3, 4)), "RuntimeError",
     "output with shape [3, 4] doesn't match the broadcast shape [2, 3, 4]"),
    ("fill_diagonal_-1d", lambda m: _x(m, 3).fill_diagonal_(1.0), "RuntimeError",
     "dimensions must larger than 1"),
    ("fill_diagonal_-unequal", lambda m: _x(m, 3, 4, 5).fill_diagonal_(1.0), "RuntimeError",
     "all dimensions of input must be of equal length"),
    ("searchsorted-side", lambda m: m.searchsorted(_x(m, 3), _x(m, 1), side="foo"),
     "RuntimeError", "torch.searchsorted(): side can only be 'left' or 'right' but got foo"),
    ("searchsorted-opposites", lambda m: m.searchsorted(_x(m, 3), _x(m, 1), side="left",
                                                        right=True), "RuntimeError",
     "torch.searchsorted(): side and right can't be set to opposites, got side of left while "
     "right was True"),
    ("searchsorted-shapes", lambda m: m.searchsorted(_x(m, 2, 3), _x(m, 3, 2)), "RuntimeError",
     "torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 dimensions "
     "of boundaries tensor and input value tensor must match, but we got boundaries tensor "
     "[2, 3] and input value tensor [3, 2]"),
    ("bucketize-2d", lambda m: m.bucketize(_x(m, 1), _x(m, 2, 3)), "RuntimeError",
     "boundaries tensor must be 1 dimension, but got dim(2)"),
]

# (id, call(module, x) with x a (2, 3) leaf requiring grad, node name)
GRAD_FN_NAMES = [
    ("select", lambda m, x: x[0], "SelectBackward0"),
    ("select-0dim-tensor", lambda m, x: x[m.tensor(1)], "SelectBackward0"),
    ("slice", lambda m, x: x[:, 1:], "SliceBackward0"),
    ("slice-single-full", lambda m, x: x[:], "SliceBackward0"),
    ("full-slices", lambda m, x: x[:, :], "AliasBackward0"),
    ("ellipsis", lambda m, x: x[...], "AliasBackward0"),
    ("unsqueeze", lambda m, x: x[None], "UnsqueezeBackward0"),
    ("slice-then-select", lambda m, x: x[1:, 0], "SelectBackward0"),
    ("select-then-none", lambda m, x: x[0, None], "UnsqueezeBackward0"),
    ("advanced", lambda m, x: x[[0, 1]], "IndexBackward0"),
    ("mask", lambda m, x: x[x > 0], "IndexBackward0"),
    ("setitem-basic", lambda m, x: _assign(x * 1, 0, x[1]), "CopySlices"),
    ("setitem-advanced", lambda m, x: _assign(x * 1, [0], 2.0), "IndexPutBackward0"),
    ("gather", lambda m, x: x.gather(0, m.tensor([[1]])), "GatherBackward0"),
    ("take_along_dim", lambda m, x: m.take_along_dim(x, m.tensor([1])), "GatherBackward0"),
    ("scatter", lambda m, x: m.scatter(x, 0, m.tensor([[1]]), x), "ScatterBackward0"),
    ("scatter-value", lambda m, x: m.scatter(x, 0, m.tensor([[1]]), 2.0), "ScatterBackward1"),
    ("scatter_add", lambda m, x: m.scatter_add(x, 0, m.tensor([[1]]), x), "ScatterAddBackward0"),
    ("scatter_reduce", lambda m, x: m.scatter_reduce(x, 0, m.tensor([[1]]), x, "amax"),
     "ScatterReduceBackward0"),
    ("index_select", lambda m, x: x.index_select(1, m.tensor([0])), "IndexSelectBackward0"),
    ("index_add", lambda m, x: x.index_add(0, m.tensor([1]), x[:1]), "IndexAddBackward0"),
    ("index_copy", lambda m, x: x.index_copy(0, m.tensor([1]), x[:1]), "IndexCopyBackward0"),
    ("index_fill", lambda m, x: x.index_fill(0, m.tensor([1]), 1.0), "IndexFillBackward0"),
    ("index_fill-tensor", lambda m, x: x.index_fill(0, m.tensor([1]), x[0, 0]),
     "IndexFillBackward1"),
    ("index_put", lambda m, x: x.index_put((m.tensor([1]),), x[0]), "IndexPutBackward0"),
    ("masked_fill", lambda m, x: x.masked_fill(x > 0, 1.0), "MaskedFillBackward0"),
    ("masked_fill-tensor", lambda m, x: x.masked_fill(x > 0, x[0, 0]), "MaskedFillBackward1"),
    ("masked_select", lambda m, x: x.masked_select(x > 0), "MaskedSelectBackward0"),
    ("masked_scatter", lambda m, x: x.masked_scatter(x > 0, x), "MaskedScatterBackward0"),
    ("take", lambda m, x: x.take(m.tensor([1])), "TakeBackward0"),
    ("put", lambda m, x: x.put(m.tensor([1]), x[0, :1]), "PutBackward0"),
    ("fill_", lambda m, x: (x * 1).fill_(2.0), "FillBackward2"),
    ("fill_-tensor", lambda m, x: (x * 1).fill_(x[0, 0]), "FillBackward3"),
    ("zero_", lambda m, x: (x * 1).zero_(), "ZeroBackward0"),
    ("copy_", lambda m, x: (x * 1).copy_(x), "CopyBackwards"),
    ("copy_-into-plain", lambda m, x: m.zeros(2, 3).copy_(x), "CopyBackwards"),
    ("fill_diagonal_", lambda m, x: (x * 1).fill_diagonal_(1.0), "CopySlices"),
]
