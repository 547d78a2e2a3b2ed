"""What a sparse COO tensor holds in `_data`: its indices and values arrays.

A dense Tensor's `_data` is a NumPy/CuPy array and every op reads it as one. A sparse
tensor's `_data` is a `CooData` instead, so that:

- the sparse ops (`taimatsu.sparse._functions`) receive the indices and values through the
  ordinary `Function.apply` unwrapping, and a sparse tensor takes part in autograd like
  any tensor (its own grad_fn, version counter and leaf accumulator);
- the gradient with respect to a sparse tensor travels through the engine as a values-
  shaped array, one number per stored element (the gradient of its values), which is what
  PyTorch's sparse gradients hold as well (`torch.sparse.mm` gives a gradient with the
  input's sparsity); `dtype` is the values' dtype, which the engine checks;
- any dense array operation on it (a NumPy ufunc or function, an array attribute or
  method) raises PyTorch's NotImplementedError for an operator the sparse backend lacks,
  so a dense-only op applied to a sparse tensor fails rather than computing on the
  values as if they were the tensor.
"""

from __future__ import annotations

import math
import sys

from .. import backend


class CooData:
    """indices (sparse_dim, nnz) int64, values (nnz, *dense_sizes), the full sizes and
    whether the indices are known to be sorted and free of duplicates."""

    __slots__ = ("indices", "values", "sizes", "coalesced")

    base = None  # read by autograd's alias tracking (`_root_of`) as for an array

    def __init__(self, indices, values, sizes: tuple, coalesced: bool):
        self.indices = indices
        self.values = values
        self.sizes = sizes
        self.coalesced = coalesced

    # What autograd reads from an input's array: the dtype of the gradient it gets.
    @property
    def dtype(self):
        return self.values.dtype

    # The sizes a shape check in a dense op sees (the op then fails on the data itself).
    @property
    def shape(self) -> tuple:
        return self.sizes

    @property
    def size(self) -> int:
        return math.prod(self.sizes)

    def __getattr__(self, name):
        # Only reached for names a CooData does not have: an array attribute or method
        # that a dense op reads from its input.
        if name.startswith("__"):
            raise AttributeError(name)
        raise_unsupported(self)

    def __array__(self, *args, **kwargs):
        raise_unsupported(self)

    def __array_ufunc__(self, *args, **kwargs):
        raise_unsupported(self)

    def __array_function__(self, *args, **kwargs):
        raise_unsupported(self)

    def __repr__(self) -> str:
        return f"CooData(sizes={self.sizes}, nnz={self.indices.shape[1]})"


def _refuse(self, *args, **kwargs):
    raise_unsupported(self)


# Python operators inside a dense op's forward (`a * b`, `-a`, `a[i]`) refuse as well.
for _name in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and",
              "or", "xor", "lshift", "rshift", "lt", "le", "gt", "ge"):
    setattr(CooData, f"__{_name}__", _refuse)
    if _name not in ("lt", "le", "gt", "ge"):
        setattr(CooData, f"__r{_name}__", _refuse)
for _name in ("neg", "pos", "abs", "invert", "getitem", "setitem", "iter", "len", "float",
              "int", "bool", "index"):
    setattr(CooData, f"__{_name}__", _refuse)


def backend_name(data: CooData) -> str:
    return "SparseCUDA" if backend.is_cuda_array(data.values) else "SparseCPU"


# Frames that are plumbing, never the operator a user called.
_PLUMBING = frozenset({"forward", "apply", "call", "wrapper", "observed"})
# Names of closures that op factories return; the op's name is then in their `name`.
_FACTORY_MADE = frozenset({"fn", "op", "method", "reflected", "inplace", "convert", "f"})


def _frame_op(frame) -> str | None:
    fn = frame.f_code.co_name
    if fn.startswith(("_", "<")) or fn in _PLUMBING:
        return None
    if fn in _FACTORY_MADE:
        local = frame.f_locals
        named = local.get("name", local.get("fname"))
        return named if isinstance(named, str) else None
    return fn


def _called_op() -> str | None:
    """The public taimatsu function the user called: the outermost taimatsu frame."""
    name = function = None
    inside = False
    frame = sys._getframe(2)
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if module == "taimatsu" or module.startswith("taimatsu."):
            inside = True
            name = _frame_op(frame) or name
            if function is None and frame.f_code.co_name == "_apply":
                cls = frame.f_locals.get("cls")  # the op's Function class
                function = getattr(cls, "__name__", None)
        elif inside:
            break
        frame = frame.f_back
    return name or (function.lower() if function else None)


def raise_unsupported(data: CooData, op: str | None = None):
    """PyTorch's error for an operator that has no sparse kernel."""
    op = op or _called_op()
    where = f"'aten::{op}'" if op else "this operator"
    raise NotImplementedError(
        f"Could not run {where} with arguments from the '{backend_name(data)}' backend. "
        "This could be because the operator doesn't exist for this backend, or was omitted "
        "during the selective/custom build process (if using custom build).")

