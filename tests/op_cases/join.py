"""Op-test descriptions for ops/join.py (shared by core and parity tests)."""

import numpy as np

import taimatsu
from taimatsu.testing import Arg, OpCase


def _joined(name, *args, **kwargs):
    """op/torch_op calling module.<name>([inputs...], *args): joins take one list."""
    return dict(op=lambda *ts: getattr(taimatsu, name)(list(ts), *args, **kwargs),
                torch_op=lambda torch, *ts: getattr(torch, name)(list(ts), *args, **kwargs))


CASES = [
    OpCase("cat", **_joined("cat"), inputs=[(2, 3), (4, 3)],
           numpy_op=lambda *a: np.concatenate(a)),
    OpCase("cat[dim]", **_joined("cat", 1), inputs=[(2, 3), (2, 1), (2, 2)],
           numpy_op=lambda *a: np.concatenate(a, 1)),
    OpCase("cat[neg-dim]", **_joined("cat", dim=-1), inputs=[(2, 2, 3), (2, 2, 4)],
           numpy_op=lambda *a: np.concatenate(a, -1)),
    OpCase("cat[one]", **_joined("cat"), inputs=[(3,)], numpy_op=lambda a: a.copy()),
    OpCase("cat[skip-empty-1d]", **_joined("cat", 1), inputs=[(2, 3), (0,), (2, 2)],
           numpy_op=lambda a, e, b: np.concatenate([a, b], 1)),
    OpCase("cat[empty-rows]", **_joined("cat"), inputs=[(0, 3), (2, 3)],
           numpy_op=lambda *a: np.concatenate(a)),
    OpCase("cat[promote]", **_joined("cat"), inputs=[(2,), Arg((3,), dtype=taimatsu.float64)],
           numpy_op=lambda *a: np.concatenate(a)),
    OpCase("cat[int+float]", **_joined("cat"),
           inputs=[Arg((2,), dtype=taimatsu.int64, low=-5, high=5), (3,)],
           numpy_op=lambda *a: np.concatenate(a)),
    OpCase("concat", **_joined("concat", 0), inputs=[(1, 2), (2, 2)],
           numpy_op=lambda *a: np.concatenate(a)),
    OpCase("concatenate", **_joined("concatenate", 1), inputs=[(2, 1), (2, 2)],
           numpy_op=lambda *a: np.concatenate(a, 1)),
    OpCase("stack", **_joined("stack"), inputs=[(2, 3), (2, 3), (2, 3)],
           numpy_op=lambda *a: np.stack(a)),
    OpCase("stack[dim]", **_joined("stack", 2), inputs=[(2, 3), (2, 3)],
           numpy_op=lambda *a: np.stack(a, 2)),
    OpCase("stack[neg-dim]", **_joined("stack", -2), inputs=[(2, 3), (2, 3)],
           numpy_op=lambda *a: np.stack(a, -2)),
    OpCase("stack[0-dim]", **_joined("stack"), inputs=[(), ()], numpy_op=lambda *a: np.stack(a)),
    OpCase("hstack", **_joined("hstack"), inputs=[(2, 3), (2, 1)],
           numpy_op=lambda *a: np.hstack(a)),
    OpCase("hstack[1-D]", **_joined("hstack"), inputs=[(2,), (), (3,)],
           numpy_op=lambda *a: np.hstack(a)),
    OpCase("vstack", **_joined("vstack"), inputs=[(3,), (2, 3)],
           numpy_op=lambda *a: np.vstack(a)),
    OpCase("row_stack", **_joined("row_stack"), inputs=[(3,), (3,)],
           numpy_op=lambda *a: np.vstack(a)),
    OpCase("dstack", **_joined("dstack"), inputs=[(2, 3), (2, 3, 2)],
           numpy_op=lambda *a: np.dstack(a)),
    OpCase("column_stack", **_joined("column_stack"), inputs=[(3,), (3, 2), (3,)],
           numpy_op=lambda *a: np.column_stack(a)),
]


def _x(m, *shape):
    return m.zeros(*shape)


# (id, call(module), exception type name, message), as in op_cases/shape.py.
ERRORS = [
    ("cat-empty-list", lambda m: m.cat([]), "ValueError",
     "torch.cat(): expected a non-empty list of Tensors"),
    ("cat-0-dim", lambda m: m.cat([m.tensor(1.0)]), "RuntimeError",
     "zero-dimensional tensor (at position 0) cannot be concatenated"),
    ("cat-ndim", lambda m: m.cat([_x(m, 2, 3), _x(m, 2, 3, 1)]), "RuntimeError",
     "Tensors must have same number of dimensions: got 2 and 3"),
    ("cat-sizes", lambda m: m.cat([_x(m, 2, 3), _x(m, 3, 3)], 1), "RuntimeError",
     "Sizes of tensors must match except in dimension 1. Expected size 2 but got size 3 for "
     "tensor number 1 in the list."),
    ("cat-sizes-later", lambda m: m.cat([_x(m, 2, 3), _x(m, 0), _x(m, 1, 3), _x(m, 2, 4)]),
     "RuntimeError", "Sizes of tensors must match except in dimension 0. Expected size 3 but "
     "got size 4 for tensor number 3 in the list."),
    ("cat-dim", lambda m: m.cat([_x(m, 2, 3), _x(m, 2, 3)], 2), "IndexError",
     "Dimension out of range (expected to be in range of [-2, 1], but got 2)"),
    ("cat-not-a-list", lambda m: m.cat(_x(m, 2, 3)), "TypeError",
     "cat(): argument 'tensors' (position 1) must be tuple of Tensors, not Tensor"),
    ("stack-empty-list", lambda m: m.stack([]), "RuntimeError",
     "stack expects a non-empty TensorList"),
    ("stack-sizes", lambda m: m.stack([_x(m, 2, 3), _x(m, 2, 4)]), "RuntimeError",
     "stack expects each tensor to be equal size, but got [2, 3] at entry 0 and [2, 4] at "
     "entry 1"),
    ("stack-dim", lambda m: m.stack([_x(m, 2, 3), _x(m, 2, 3)], 3), "IndexError",
     "Dimension out of range (expected to be in range of [-3, 2], but got 3)"),
    ("column_stack-sizes", lambda m: m.column_stack([m.tensor(1.0), _x(m, 2)]),
     "RuntimeError", "Sizes of tensors must match except in dimension 1. Expected size 1 but "
     "got size 2 for tensor number 1 in the list."),
]
