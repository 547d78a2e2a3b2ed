"""Linear algebra: matmul and its relatives, einsum, and the decompositions' Functions.

Every differentiable linear-algebra Function lives here, with the flat-namespace API
(torch.matmul, torch.det, torch.cholesky...); `taimatsu/linalg.py` is the torch.linalg
namespace on top of them. Forward passes call the backend's own routines (numpy.linalg on
the CPU); backward formulas use only `ctx.xp`, so they also build graphs for second
derivatives. Decompositions save their outputs (not intermediates) for the same reason.
"""

from __future__ import annotations

import numpy as np

from .. import _dtype as D
from .. import backend
from .._tensor import Tensor
from ..amp._state import hook as _autocast
from ..autograd.node import Function
from ._util import check_device, finish, method, sum_to, wrap_dim
from .arithmetic import _conj
from .inplace import _legacy, inplace_variant

__all__ = ["matmul", "mm", "bmm", "mv", "dot", "vdot", "inner", "outer", "ger", "addmm",
           "addmv", "addbmm", "baddbmm", "addr", "einsum", "tensordot", "kron", "cross",
           "trace", "chain_matmul", "det", "logdet", "slogdet", "inverse", "cholesky",
           "matrix_power", "matrix_exp", "pinverse", "svd", "qr", "cholesky_solve",
           "cholesky_inverse"]

# C++ scalar names, as torch prints them in its dtype-mismatch messages.
_CPP_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half",
              "bfloat16": "c10::BFloat16", "int64": "long int", "int32": "int",
              "int16": "short int", "int8": "signed char", "uint8": "unsigned char",
              "bool": "bool", "complex64": "c10::complex<float>",
              "complex128": "c10::complex<double>"}

_LOW_PRECISION = (np.dtype(np.float16), D.bfloat16.np)


def _mH(xp, x):
    """Conjugate transpose of the last two dims (array or Tensor)."""
    return xp.swapaxes(_conj(x), -1, -2)


def _mm(xp, a, b):
    """xp.matmul; half precision goes through float32 (NumPy has no fast half GEMM, and
    its bfloat16 product comes back as float32)."""
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        return xp.matmul(a, b)
    if a.ndim > 2 and b.ndim == 2:
        # NumPy's batched product of (B, M, K) by (K, N) runs ~100x slower than one GEMM
        # over the B*M folded rows
        rows = a.reshape((-1, a.shape[-1]))
        return _mm(xp, rows, b).reshape(a.shape[:-1] + (b.shape[-1],))
    if a.dtype not in _LOW_PRECISION:
        return xp.matmul(a, b)
    f32 = np.float32
    return xp.matmul(a.astype(f32), b.astype(f32)).astype(a.dtype)


# -- the matrix product ------------------------------------------------------------------------

def _matmul_grads(ctx, grad, a, b, need_a, need_b):
    """Gradients of a @ b (NumPy matmul semantics, 1-D operands included)."""
    xp = ctx.xp
    a_vec, b_vec = a.ndim == 1, b.ndim == 1
    if a_vec and b_vec:  # dot
        return (grad * _conj(b) if need_a else None), (grad * _conj(a) if need_b else None)
    # Promote vectors to matrices so one formula covers every case.
    a2 = a.reshape((1,) + tuple(a.shape)) if a_vec else a
    b2 = b.reshape(tuple(b.shape) + (1,)) if b_vec else b
    g2 = grad
    if a_vec:
        g2 = xp.expand_dims(g2, -2 if not b_vec else -1)
    if b_vec:
        g2 = xp.expand_dims(g2, -1)
    ga = gb = None
    if need_a:
        ga = _mm(xp, g2, _mH(xp, b2))
        ga = sum_to(ga, a2.shape).reshape(a.shape) if ga.shape != a.shape else ga
    if need_b:
        if a2.ndim > 2 and b2.ndim == 2:
            # fold the batch into rows: one GEMM instead of a batched product and a sum
            k, n = a2.shape[-1], g2.shape[-1]
            gb = _mm(xp, _mH(xp, a2.reshape((-1, k))), g2.reshape((-1, n)))
        else:
            gb = _mm(xp, _mH(xp, a2), g2)
        gb = sum_to(gb, b2.shape).reshape(b.shape) if gb.shape != b.shape else gb
    return ga, gb


class Matmul(Function):
    """a @ b; the printed node follows the path torch.matmul takes for these shapes."""

    @staticmethod
    def forward(ctx, a, b):
        need = ctx.needs_input_grad
        if need:
            ctx.save_for_backward(a if need[1] else None, b if need[0] else None)
            ctx.shapes = (a.shape, b.shape)
            ctx.mark_name(_matmul_node_name(a.ndim, b.ndim, need[0]))
        return _mm(backend.of(a), a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_arrays
        need_a, need_b = ctx.needs_input_grad
        # only the arrays a wanted gradient reads were kept; shapes stand in for the rest
        a = a if a is not None else _Shape(ctx.shapes[0])
        b = b if b is not None else _Shape(ctx.shapes[1])
        return _matmul_grads(ctx, grad, a, b, need_a, need_b)


class _Shape:
    """Placeholder for an operand whose values backward does not need."""

    __slots__ = ("shape", "ndim")

    def __init__(self, shape):
        self.shape = tuple(shape)
        self.ndim = len(shape)

    def reshape(self, shape):
        return _Shape(shape)


def _matmul_node_name(da: int, db: int, a_requires_grad: bool) -> str:
    if da <= 2 and db <= 2:
        return {(1, 1): "DotBackward0", (2, 1): "MvBackward0", (1, 2): "SqueezeBackward4",
                (2, 2): "MmBackward0"}[(da, db)]
    if da == 2 and a_requires_grad:
        return "CloneBackward0"  # torch computes (b^T a^T)^T and copies the transpose
    return "UnsafeViewBackward0"


class Mm(Matmul):
    @staticmethod
    def forward(ctx, a, b):
        if ctx.needs_input_grad:
            ctx.save_for_backward(a, b)
            ctx.shapes = (a.shape, b.shape)
        return _mm(backend.of(a), a, b)


class Bmm(Mm):
    pass


class Mv(Mm):
    pass


class Dot(Mm):
    pass


class Vdot(Function):
    """conj(a) . b for 1-D a, b."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return backend.of(a).vdot(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_arrays
        need_a, need_b = ctx.needs_input_grad
        return (b * _conj(grad) if need_a else None), (a * grad if need_b else None)


def _dtype_name(t: Tensor, names=_CPP_NAMES) -> str:
    return names[t.dtype.name]


def _check_same_dtype(a: Tensor, b: Tensor) -> None:
    if a._data.dtype != b._data.dtype:
        raise RuntimeError("expected m1 and m2 to have the same dtype, but got: "
                           f"{_dtype_name(a)} != {_dtype_name(b)}")
    if a._data.dtype == np.bool_:
        raise RuntimeError("\"addmm_impl_cpu_\" not implemented for 'Bool'")


def _check_tensors(name: str, *args) -> None:
    for i, x in enumerate(args):
        if not isinstance(x, Tensor):
            arg = ("input", "other")[i] if name == "matmul" else ("input", "mat2")[i]
            raise TypeError(f"{name}(): argument '{arg}' (position {i + 1}) must be Tensor, "
                            f"not {type(x).__name__}")


def _mm_error(a_rows, a_cols, b_rows, b_cols):
    return RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({a_rows}x{a_cols} and "
                        f"{b_rows}x{b_cols})")


def _dot_error(na: int, nb: int):
    return RuntimeError(f"inconsistent tensor size, expected tensor [{na}] and src [{nb}] to "
                        f"have the same number of elements, but got {na} and {nb} elements "
                        "respectively")


def _mv_error(rows: int, cols: int, n: int):
    return RuntimeError(f"size mismatch, got input ({rows}), mat ({rows}x{cols}), vec ({n})")


def _check_matmul_shapes(sa: tuple, sb: tuple) -> None:
    """torch.matmul's shape errors; matches the message of the kernel torch dispatches to."""
    da, db = len(sa), len(sb)
    if da == 0 or db == 0:
        raise RuntimeError("both arguments to matmul need to be at least 1D, but they are "
                           f"{da}D and {db}D")
    k_a = sa[-1]
    k_b = sb[0] if db == 1 else sb[-2]
    batched = da > 2 or db > 2
    if batched and not (db <= 2 and da >= 3):
        from ._util import broadcast_shapes_or_raise
        batch = broadcast_shapes_or_raise(sa[:-2], sb[:-2])
    if k_a == k_b:
        return
    if da == 1 and db == 1:
        raise _dot_error(k_a, k_b)
    if db == 1:  # matrix (or folded batch of matrices) times vector
        rows = int(np.prod(sa[:-1]))
        raise _mv_error(rows, k_a, k_b)
    if not batched or da >= 3 and db == 2:
        rows = int(np.prod(sa[:-1]))
        raise _mm_error(rows, k_a, k_b, sb[-1])
    n = int(np.prod(batch))
    raise RuntimeError("Expected size for first two dimensions of batch2 tensor to be: "
                       f"[{n}, {k_a}] but got: [{n}, {k_b}].")


def _sparse_ops():
    """taimatsu.sparse's implementations, for a sparse operand (imported on first use)."""
    from ..sparse import _ops
    return _ops


@method()
def matmul(input, other, *, out=None) -> Tensor:
    """Matrix product with torch.matmul's 1-D/2-D/batched broadcasting rules."""
    if _autocast.on and (policy := _autocast.policy("matmul", input)):
        return policy(matmul, input, other, out=out)
    if type(input) is not Tensor or type(other) is not Tensor:
        _check_tensors("matmul", input, other)
        if input.is_sparse or other.is_sparse:
            return _sparse_ops().matmul(input, other, out=out)
    a, b = input._data, other._data
    if a.dtype is not b.dtype or a.dtype == np.bool_:
        _check_same_dtype(input, other)
    sa, sb = a.shape, b.shape
    # the common 2-D case checks one pair of sizes; everything else takes the full check
    if len(sa) != 2 or len(sb) != 2 or sa[1] != sb[0]:
        _check_matmul_shapes(sa, sb)
    if type(a) is not type(b):
        check_device(input, other)
    result = Matmul.apply(input, other)
    return result if out is None else finish(result, out)


def _check_bmm_shapes(input, mat2) -> None:
    """torch's shape errors for bmm: two 3-D tensors (b, n, k) and (b, k, m)."""
    if input.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if mat2.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    b, _, k = input.shape
    if mat2.shape[0] != b or mat2.shape[1] != k:
        raise RuntimeError("Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{b}, {k}] but got: [{mat2.shape[0]}, {mat2.shape[1]}].")


@method()
def mm(input, mat2, *, out=None) -> Tensor:
    """2-D matrix product (no broadcasting)."""
    if _autocast.on and (policy := _autocast.policy("mm", input)):
        return policy(mm, input, mat2, out=out)
    _check_tensors("mm", input, mat2)
    if input.is_sparse or mat2.is_sparse:
        return _sparse_ops().mm(input, mat2, out=out)
    if input.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if mat2.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    (n, k), (k2, m) = input.shape, mat2.shape
    if k != k2:
        raise _mm_error(n, k, k2, m)
    _check_same_dtype(input, mat2)
    return finish(Mm.apply(input, mat2), out)


@method()
def bmm(input, mat2, *, out=None) -> Tensor:
    """Batched 3-D matrix product (no broadcasting)."""
    if _autocast.on and (policy := _autocast.policy("bmm", input)):
        return policy(bmm, input, mat2, out=out)
    _check_tensors("bmm", input, mat2)
    if input.is_sparse or mat2.is_sparse:
        return _sparse_ops().bmm(input, mat2, out=out)
    _check_bmm_shapes(input, mat2)
    if input.dtype is not mat2.dtype:
        raise RuntimeError(f"expected scalar type {_legacy(input.dtype)} but "
                           f"found {_legacy(mat2.dtype)}")
    _check_same_dtype(input, mat2)
    return finish(Bmm.apply(input, mat2), out)


@method()
def mv(input, vec, *, out=None) -> Tensor:
    """Matrix-vector product."""
    if _autocast.on and (policy := _autocast.policy("mv", input)):
        return policy(mv, input, vec, out=out)
    if input.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got 1, {input.ndim}, "
                           f"{vec.ndim}")
    if input.shape[1] != vec.shape[0]:
        raise _mv_error(input.shape[0], input.shape[1], vec.shape[0])
    if input.is_sparse:
        return _sparse_ops().matmul(input, vec, out=out)
    if input.dtype is not vec.dtype:
        d = _legacy(vec.dtype)
        raise RuntimeError("addmv input tensors must have the same dtype, but got "
                           f"{d}, {_legacy(input.dtype)}, and {d}")
    return finish(Mv.apply(input, vec), out)


def _check_vectors(name, a, b):
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors")
    if a.shape[0] != b.shape[0]:
        raise _dot_error(a.shape[0], b.shape[0])
    if a.dtype is not b.dtype:
        raise RuntimeError(f"{name} : expected both vectors to have same dtype, but found "
                           f"{_legacy(a.dtype)} and {_legacy(b.dtype)}")


@method()
def dot(input, tensor, *, out=None) -> Tensor:
    """Inner product of two 1-D tensors (no conjugation)."""
    if _autocast.on and (policy := _autocast.policy("dot", input)):
        return policy(dot, input, tensor, out=out)
    _check_vectors("dot", input, tensor)
    return finish(Dot.apply(input, tensor), out)


@method()
def vdot(input, other, *, out=None) -> Tensor:
    """Inner product of two 1-D tensors, conjugating the first."""
    if _autocast.on and (policy := _autocast.policy("vdot", input)):
        return policy(vdot, input, other, out=out)
    _check_vectors("vdot", input, other)
    return finish(Vdot.apply(input, other), out)


def _matmul_operator(self, other):
    if not isinstance(other, Tensor):
        if isinstance(other, np.ndarray):
            from .creation import as_tensor
            other = as_tensor(other)
        else:
            return NotImplemented
    return matmul(self, other)


def _rmatmul_operator(self, other):
    if not isinstance(other, Tensor):
        if isinstance(other, np.ndarray):
            from .creation import as_tensor
            return matmul(as_tensor(other), self)
        return NotImplemented
    return matmul(other, self)


Tensor.__matmul__ = _matmul_operator
Tensor.__rmatmul__ = _rmatmul_operator


# -- beta * input + alpha * product: addmm, addmv, baddbmm, addbmm, addr ------------------------

_ADD_PRODUCT_NAMES = {"mm": "AddmmBackward0", "mv": "AddmvBackward0",
                      "bmm": "BaddbmmBackward0", "addbmm": "AddbmmBackward0",
                      "outer": "AddrBackward0"}


def _product(xp, kind, m1, m2):
    if kind == "outer":
        return m1[:, None] * m2[None, :]
    prod = _mm(xp, m1, m2)
    return prod.sum(axis=0) if kind == "addbmm" else prod


class AddProduct(Function):
    """beta * input + alpha * (m1 `kind` m2); `kind` names the product (mm, mv, bmm...)."""

    @staticmethod
    def forward(ctx, inp, m1, m2, beta=1, alpha=1, kind="mm"):
        xp = backend.of(m1)
        need = ctx.needs_input_grad
        if need:
            ctx.mark_name(_ADD_PRODUCT_NAMES[kind])
            ctx.save_for_backward(m1 if need[2] else None, m2 if need[1] else None)
            ctx.meta = (inp.shape, m1.shape, m2.shape, beta, alpha, kind)
        prod = _product(xp, kind, m1, m2)
        if alpha != 1:
            prod = prod * alpha
        if beta == 0:  # torch ignores input then (its NaNs do not propagate)
            return xp.broadcast_to(prod, np.broadcast_shapes(inp.shape, prod.shape)).copy()
        return prod + (inp if beta == 1 else inp * beta)

    @staticmethod
    def backward(ctx, grad):
        xp = ctx.xp
        m1, m2 = ctx.saved_arrays
        s_in, s1, s2, beta, alpha, kind = ctx.meta
        need = ctx.needs_input_grad
        g_in = sum_to(grad if beta == 1 else grad * _conj(beta), s_in) if need[0] else None
        gp = grad if alpha == 1 else grad * _conj(alpha)
        if kind == "addbmm":
            gp = xp.broadcast_to(xp.expand_dims(gp, 0), (s1[0],) + tuple(gp.shape))
        a = m1 if m1 is not None else _Shape(s1)
        b = m2 if m2 is not None else _Shape(s2)
        if kind == "outer":  # the outer product is a (n,1) @ (1,m) matrix product
            a, b = a.reshape((s1[0], 1)), b.reshape((1, s2[0]))
        g1, g2 = _matmul_grads(ctx, gp, a, b, need[1], need[2])
        if kind == "outer":
            g1 = g1.reshape(s1) if g1 is not None else None
            g2 = g2.reshape(s2) if g2 is not None else None
        return g_in, g1, g2


def _check_expand(input_shape, target) -> None:
    """torch's expand error for an `input` that does not broadcast to the product's shape."""
    lead = len(target) - len(input_shape)
    ok = lead >= 0 and all(s == t or s == 1 for s, t in zip(input_shape, target[lead:]))
    if ok:
        return
    if lead < 0:
        raise RuntimeError(f"expand: the requested shape has too few dimensions: "
                           f"{list(target)} vs {list(input_shape)}")
    for i, (s, t) in enumerate(zip(input_shape, target[lead:])):
        if s != t and s != 1:
            raise RuntimeError(
                f"The expanded size of the tensor ({t}) must match the existing size ({s}) at "
                f"non-singleton dimension {i + lead}.  Target sizes: {list(target)}.  "
                f"Tensor sizes: {list(input_shape)}")


def _add_product(input, m1, m2, beta, alpha, kind, target, out):
    for x in (input, m2):
        if x.dtype is not m1.dtype:
            _check_same_dtype(m1, x)
    if m1.dtype._kind < 2 and any(isinstance(v, float) for v in (alpha, beta)):
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating "
                           "point number.")
    _check_expand(tuple(input.shape), target)
    return finish(AddProduct.apply(input, m1, m2, beta=beta, alpha=alpha, kind=kind), out)


@method()
def addmm(input, mat1, mat2, *, beta=1, alpha=1, out=None) -> Tensor:
    """beta * input + alpha * (mat1 @ mat2)."""
    if _autocast.on and (policy := _autocast.policy("addmm", input)):
        return policy(addmm, input, mat1, mat2, beta=beta, alpha=alpha, out=out)
    if input.is_sparse or mat1.is_sparse or mat2.is_sparse:
        return _sparse_ops().addmm(input, mat1, mat2, beta=beta, alpha=alpha, out=out)
    if mat1.ndim != 2:
        raise RuntimeError(f"mat1 must be a matrix, got {mat1.ndim}-D tensor")
    if mat2.ndim != 2:
        raise RuntimeError(f"mat2 must be a matrix, got {mat2.ndim}-D tensor")
    if mat1.shape[1] != mat2.shape[0]:
        raise _mm_error(mat1.shape[0], mat1.shape[1], mat2.shape[0], mat2.shape[1])
    return _add_product(input, mat1, mat2, beta, alpha, "mm",
                        (mat1.shape[0], mat2.shape[1]), out)


@method()
def addmv(input, mat, vec, *, beta=1, alpha=1, out=None) -> Tensor:
    """beta * input + alpha * (mat @ vec)."""
    if _autocast.on and (policy := _autocast.policy("addmv", input)):
        return policy(addmv, input, mat, vec, beta=beta, alpha=alpha, out=out)
    if mat.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {input.ndim}, {mat.ndim}, "
                           f"{vec.ndim}")
    if mat.shape[1] != vec.shape[0]:
        raise _mv_error(mat.shape[0], mat.shape[1], vec.shape[0])
    return _add_product(input, mat, vec, beta, alpha, "mv", (mat.shape[0],), out)


def _check_batches(b1, b2):
    if b1.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if b2.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    b, _, k = b1.shape
    if b2.shape[0] != b or b2.shape[1] != k:
        raise RuntimeError("Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{b}, {k}] but got: [{b2.shape[0]}, {b2.shape[1]}].")


@method()
def baddbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None) -> Tensor:
    """beta * input + alpha * bmm(batch1, batch2)."""
    if _autocast.on and (policy := _autocast.policy("baddbmm", input)):
        return policy(baddbmm, input, batch1, batch2, beta=beta, alpha=alpha, out=out)
    _check_batches(batch1, batch2)
    target = (batch1.shape[0], batch1.shape[1], batch2.shape[2])
    return _add_product(input, batch1, batch2, beta, alpha, "bmm", target, out)


@method()
def addbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None) -> Tensor:
    """beta * input + alpha * sum_i(batch1[i] @ batch2[i])."""
    if _autocast.on and (policy := _autocast.policy("addbmm", input)):
        return policy(addbmm, input, batch1, batch2, beta=beta, alpha=alpha, out=out)
    _check_batches(batch1, batch2)
    target = (batch1.shape[1], batch2.shape[2])
    return _add_product(input, batch1, batch2, beta, alpha, "addbmm", target, out)


@method()
def addr(input, vec1, vec2, *, beta=1, alpha=1, out=None) -> Tensor:
    """beta * input + alpha * outer(vec1, vec2)."""
    if _autocast.on and (policy := _autocast.policy("addr", input)):
        return policy(addr, input, vec1, vec2, beta=beta, alpha=alpha, out=out)
    for name, v in (("vec1", vec1), ("vec2", vec2)):
        if v.ndim != 1:
            raise RuntimeError(f"addr: Expected 1-D argument {name}, but got {v.ndim}-D")
    return _add_product(input, vec1, vec2, beta, alpha, "outer",
                        (vec1.shape[0], vec2.shape[0]), out)


for _fn in (addmm, addmv, baddbmm, addbmm, addr):
    setattr(Tensor, _fn.__name__ + "_", inplace_variant(_fn))


# -- einsum --------------------------------------------------------------------------------------

_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _parse_einsum(equation: str, shapes: list) -> tuple:
    """(input subscripts, output subscripts) with every ellipsis spelled out as letters."""
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) > len(shapes):
        raise RuntimeError("einsum(): fewer operands were provided than specified in the "
                           "equation")
    if len(terms) < len(shapes):
        raise RuntimeError("einsum(): more operands were provided than specified in the "
                           "equation")
    for i, term in enumerate(terms + ([rhs] if arrow else [])):
        bad = [c for c in term.replace("...", "") if c not in _LETTERS]
        if bad:
            where = f"operand {i}" if i < len(terms) else "the output"
            if bad[0] == ".":
                raise RuntimeError(f"einsum(): found '.' for {where} that is not part of any "
                                   "ellipsis")
            raise RuntimeError(f"einsum(): invalid subscript given at index "
                               f"{term.index(bad[0])} in the equation string, subscripts must "
                               "be in [a-zA-Z]")
    free = [c for c in _LETTERS if c not in eq]
    ell_dims = 0
    for term, shape in zip(terms, shapes):
        if "..." in term:
            ell_dims = max(ell_dims, len(shape) - (len(term) - 3))
    ell = "".join(free[:ell_dims])
    inputs = []
    for i, (term, shape) in enumerate(zip(terms, shapes)):
        if "..." in term:
            k = len(shape) - (len(term) - 3)
            if k < 0:
                raise RuntimeError(f"einsum(): the number of subscripts in the equation "
                                   f"({len(term) - 3}) is more than the number of dimensions "
                                   f"({len(shape)}) for operand {i}")
            term = term.replace("...", ell[ell_dims - k:])
        elif len(term) != len(shape):
            raise RuntimeError(f"einsum(): the number of subscripts in the equation "
                               f"({len(term)}) does not match the number of dimensions "
                               f"({len(shape)}) for operand {i} and no ellipsis was given")
        inputs.append(term)
    if arrow:
        output = rhs.replace("...", ell)
        for c in rhs.replace("...", ""):
            if rhs.count(c) > 1:
                raise RuntimeError(f"einsum(): output subscript {c} appears more than once in "
                                   "the output")
            if c not in lhs:
                raise RuntimeError(f"einsum(): output subscript {c} does not appear in the "
                                   "equation for any input operand")
    else:  # implicit output: the ellipsis, then letters seen once, in ASCII order
        joined = "".join(terms).replace("...", "")
        output = ell + "".join(sorted(c for c in set(joined) if joined.count(c) == 1))
    _check_einsum_sizes(inputs, shapes)
    return inputs, output


def _check_einsum_sizes(inputs, shapes) -> None:
    sizes: dict = {}
    for i, (term, shape) in enumerate(zip(inputs, shapes)):
        for c, n in zip(term, shape):
            seen = sizes.get(c, 1)
            if n != seen and n != 1 and seen != 1:
                raise RuntimeError(f"einsum(): subscript {c} has size {n} for operand {i} "
                                   f"which does not broadcast with previously seen size {seen}")
            sizes[c] = max(seen, n)


def _einsum_arrays(xp, subs, output, operands):
    eq = ",".join(subs) + "->" + output
    # contraction-order search pays off only for several or large operands
    big = len(operands) > 2 or sum(int(np.prod(o.shape)) for o in operands) > 4096
    if any(isinstance(o, Tensor) for o in operands):
        return xp.einsum(eq, *operands)
    dtype = operands[0].dtype
    if dtype in _LOW_PRECISION:  # NumPy's einsum has no bfloat16 loop
        ops = [o.astype(np.float32) for o in operands]
        return xp.einsum(eq, *ops, optimize=big).astype(dtype)
    return xp.einsum(eq, *operands, optimize=big)


class Einsum(Function):
    """einsum over explicit subscripts (ellipses already spelled out)."""

    @staticmethod
    def forward(ctx, subs, output, *operands):
        if ctx.needs_input_grad:
            ctx.save_for_backward(*operands)
            ctx.subs, ctx.output = subs, output
        return _einsum_arrays(backend.of(operands[0]), subs, output, operands)

    @staticmethod
    def backward(ctx, grad):
        ops = ctx.saved_arrays
        grads = [None, None]
        for i, need in enumerate(ctx.needs_input_grad[2:]):
            grads.append(_einsum_grad(ctx.xp, i, ctx.subs, ctx.output, ops, grad)
                         if need else None)
        return tuple(grads)


def _einsum_grad(xp, i, subs, output, ops, grad):
    """d(einsum)/d(operand i): contract the gradient with the other operands.

    Letters repeated within operand i (a diagonal) are renamed and tied back with an
    identity matrix; letters only operand i has (summed out) are broadcast afterwards.
    """
    term = subs[i]
    target, eyes, seen = [], [], {}
    free = iter(c for c in _LETTERS if c not in "".join(subs) + output)
    for c, n in zip(term, ops[i].shape):
        if c in seen:
            fresh = next(free)
            eyes.append((c + fresh, n))
            target.append(fresh)
        else:
            seen[c] = n
            target.append(c)
    others = [output] + [s for j, s in enumerate(subs) if j != i]
    present = set("".join(others)) | {c for pair, _ in eyes for c in pair}
    kept = "".join(c for c in target if c in present)
    operands = [grad] + [_conj(o) for j, o in enumerate(ops) if j != i]
    dtype = grad.dtype
    operands += [xp.eye(n, dtype=dtype) for _, n in eyes]
    g = _einsum_arrays(xp, others + [pair for pair, _ in eyes], kept, operands)
    if len(kept) != len(target):  # letters summed out of operand i alone: broadcast back
        sizes = dict(zip(kept, g.shape))
        g = g.reshape(tuple(sizes.get(c, 1) for c in target))
        full = tuple(sizes.get(c, n) for c, n in zip(target, ops[i].shape))
        g = xp.broadcast_to(g, full)
    return sum_to(g, ops[i].shape)


def _einsum_sublist(args):
    """einsum(op0, [0, 1], op1, [1, 2], [0, 2]) -> (equation, operands)."""
    def letters(sub):
        return "".join("..." if s is Ellipsis else _LETTERS[s] for s in sub)
    pairs = list(args)
    out = letters(pairs.pop()) if len(pairs) % 2 else None
    ops = pairs[0::2]
    eq = ",".join(letters(s) for s in pairs[1::2])
    return (eq + "->" + out if out is not None else eq), ops


def einsum(equation, *operands) -> Tensor:
    """Einstein summation, e.g. einsum("bij,bjk->bik", a, b)."""
    if _autocast.on and (policy := _autocast.policy("einsum", operands)):
        return policy(einsum, equation, *operands)
    if not isinstance(equation, str):
        equation, operands = _einsum_sublist((equation,) + operands)
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not operands:
        raise RuntimeError("einsum(): must provide at least one operand")
    first = operands[0]
    for o in operands[1:]:
        if o.dtype is not first.dtype:
            raise RuntimeError(f"expected scalar type {_legacy(first.dtype)} but "
                               f"found {_legacy(o.dtype)}")
    check_device(*operands)
    subs, output = _parse_einsum(equation, [tuple(o.shape) for o in operands])
    return Einsum.apply(tuple(subs), output, *operands)


def _promoted(a: Tensor, b: Tensor):
    from .arithmetic import promote
    return promote(a, b)


def tensordot(a, b, dims=2, out=None) -> Tensor:
    """Sums the products of a's and b's elements over the given dims."""
    if _autocast.on and (policy := _autocast.policy("tensordot", a)):
        return policy(tensordot, a, b, dims, out=out)
    if isinstance(dims, (int, np.integer)):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > a.ndim or dims > b.ndim:
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={dims}")
        da = list(range(a.ndim - dims, a.ndim))
        db = list(range(dims))
    elif isinstance(dims, Tensor):
        return tensordot(a, b, dims.tolist() if dims.ndim else int(dims.item()), out)
    else:
        da, db = dims
        da = [da] if isinstance(da, (int, np.integer)) else list(da)
        db = [db] if isinstance(db, (int, np.integer)) else list(db)
    if len(da) != len(db):
        raise RuntimeError("both dimension lists should have same length")
    da = [wrap_dim(int(d), a.ndim) for d in da]
    db = [wrap_dim(int(d), b.ndim) for d in db]
    for x, y in zip(da, db):
        if a.shape[x] != b.shape[y]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size "
                               f"{a.shape[x]} in dim {x} and second has size {b.shape[y]} in "
                               f"dim {y}")
    a, b = _promoted(a, b)
    sa = _LETTERS[:a.ndim]
    sb = list(_LETTERS[a.ndim:a.ndim + b.ndim])
    for x, y in zip(da, db):
        sb[y] = sa[x]
    sb = "".join(sb)
    output = "".join(c for i, c in enumerate(sa) if i not in da) + \
        "".join(c for i, c in enumerate(sb) if i not in db)
    return finish(Einsum.apply((sa, sb), output, a, b), out)


@method()
def inner(input, other, *, out=None) -> Tensor:
    """Dot product over the last dims (input * other when either is 0-d)."""
    if _autocast.on and (policy := _autocast.policy("inner", input)):
        return policy(inner, input, other, out=out)
    if input.ndim == 0 or other.ndim == 0:
        return finish(input * other, out)
    if input.shape[-1] != other.shape[-1]:
        raise RuntimeError("inner() the last dimension must match on both input tensors but "
                           f"got shapes {list(input.shape)} and {list(other.shape)}")
    return tensordot(input, other, dims=([-1], [-1]), out=out)


@method("outer", "ger")
def outer(input, vec2, *, out=None) -> Tensor:
    """Outer product of two 1-D tensors."""
    for name, v in (("self", input), ("vec2", vec2)):
        if v.ndim != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got {v.ndim}-D")
    a, b = _promoted(input, vec2)
    return finish(Einsum.apply(("i", "j"), "ij", a, b), out)


ger = outer


class Kron(Function):
    """Kronecker product (the shorter shape is padded with leading ones)."""

    @staticmethod
    def forward(ctx, a, b):
        if ctx.needs_input_grad:
            ctx.save_for_backward(a, b)
        return backend.of(a).kron(a, b)

    @staticmethod
    def backward(ctx, grad):
        xp = ctx.xp
        a, b = ctx.saved_arrays
        nd = max(a.ndim, b.ndim)
        sa = (1,) * (nd - a.ndim) + tuple(a.shape)
        sb = (1,) * (nd - b.ndim) + tuple(b.shape)
        # out[(i, j) per axis] = a[i] * b[j]: view the gradient with a's and b's axes apart
        g = grad.reshape(tuple(s for pair in zip(sa, sb) for s in pair))
        la, lb = _LETTERS[:nd], _LETTERS[nd:2 * nd]
        gsub = "".join(x + y for x, y in zip(la, lb))
        ga = gb = None
        if ctx.needs_input_grad[0]:
            ga = xp.einsum(f"{gsub},{lb}->{la}", g, _conj(b.reshape(sb))).reshape(a.shape)
        if ctx.needs_input_grad[1]:
            gb = xp.einsum(f"{gsub},{la}->{lb}", g, _conj(a.reshape(sa))).reshape(b.shape)
        return ga, gb


@method()
def kron(input, other, *, out=None) -> Tensor:
    """Kronecker product."""
    a, b = _promoted(input, other)
    return finish(Kron.apply(a, b), out)


class Cross(Function):
    """Cross product of 3-vectors along `dim` (broadcasting the other dims)."""

    _backward_name = "LinalgCrossBackward0"

    @staticmethod
    def forward(ctx, a, b, dim):
        if ctx.needs_input_grad:
            ctx.save_for_backward(a if ctx.needs_input_grad[1] else None,
                                  b if ctx.needs_input_grad[0] else None)
            ctx.shapes = (a.shape, b.shape)
        ctx.dim = dim
        return _cross_arrays(a, b, dim)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_arrays
        ga = gb = None
        # d(a x b) = da x b + a x db, and <g, da x b> = <b x g, da>
        if ctx.needs_input_grad[0]:
            ga = sum_to(_cross_any(_conj(b), grad, ctx.dim), ctx.shapes[0])
        if ctx.needs_input_grad[1]:
            gb = sum_to(_cross_any(grad, _conj(a), ctx.dim), ctx.shapes[1])
        return ga, gb


def _cross_arrays(a, b, dim):
    xp = backend.of(a)
    shape = np.broadcast_shapes(a.shape, b.shape)
    a, b = xp.broadcast_to(a, shape), xp.broadcast_to(b, shape)
    return xp.cross(a, b, axis=dim)


def _cross_any(a, b, dim):
    """a x b on arrays, or on Tensors (recording a graph) when backward builds one."""
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        return Cross.apply(a, b, dim)
    return _cross_arrays(a, b, dim)


def linalg_cross(input, other, *, dim=-1, out=None) -> Tensor:
    """torch.linalg.cross: cross product along `dim` (default -1), broadcasting."""
    from ._util import broadcast_shapes_or_raise
    if input.ndim != other.ndim:
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    nd = input.ndim
    d = wrap_dim(dim, nd)
    sa, sb = tuple(input.shape), tuple(other.shape)
    if sa[d] != 3 or sb[d] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got "
                           f"{sa[d]} and {sb[d]}")
    broadcast_shapes_or_raise(tuple(input.shape), tuple(other.shape))
    a, b = _promoted(input, other)
    return finish(Cross.apply(a, b, d - nd), out)


@method()
def cross(input, other, dim=None, *, out=None) -> Tensor:
    """Cross product along `dim`; without one, the first dim of size 3 (as torch)."""
    if _autocast.on and (policy := _autocast.policy("cross", input)):
        return policy(cross, input, other, dim, out=out)
    if dim is None:
        from ._util import broadcast_shapes_or_raise
        shape = broadcast_shapes_or_raise(tuple(input.shape), tuple(other.shape))
        sizes = [i for i, s in enumerate(shape) if s == 3]
        if not sizes:
            raise RuntimeError("no dimension of size 3 in input")
        dim = sizes[0]
    return linalg_cross(input, other, dim=dim, out=out)


class Trace(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.shape = a.shape
        return backend.of(a).trace(a)

    @staticmethod
    def backward(ctx, grad):
        n, m = ctx.shape
        return grad * ctx.xp.eye(n, m, dtype=grad.dtype)


@method()
def trace(input) -> Tensor:
    """Sum of the main diagonal of a 2-D tensor."""
    if _autocast.on and (policy := _autocast.policy("trace", input)):
        return policy(trace, input)
    if input.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input.ndim}")
    return Trace.apply(input)


def _multi_dot(name, tensors):
    tensors = list(tensors)
    if len(tensors) < 2:
        raise RuntimeError(f"{name}(): expected at least 2 tensors but got {len(tensors)}")
    first, last = tensors[0], tensors[-1]
    if first.ndim not in (1, 2):
        raise RuntimeError(f"{name}(): the first tensor must be 1D or 2D but got "
                           f"{first.ndim}D")
    if last.ndim not in (1, 2):
        raise RuntimeError(f"{name}(): the last tensor must be 1D or 2D but got {last.ndim}D")
    for i, t in enumerate(tensors[1:-1], 1):
        if t.ndim != 2:
            raise RuntimeError(f"{name}(): tensor {i} must be 2D but got {t.ndim}D")
    for i in range(len(tensors) - 1):
        x, y = tensors[i], tensors[i + 1]
        if x.shape[-1] != y.shape[0]:
            raise RuntimeError(f"{name}(): tensors {i} and {i + 1} with shapes "
                               f"{list(x.shape)} and {list(y.shape)} cannot be multiplied")
        if x.dtype is not y.dtype:
            raise RuntimeError(f"{name}(): all tensors must have be the same dtype but tensor "
                               f"0 is {first.dtype} and tensor {i + 1} {y.dtype}")
    return _chain(tensors)


def _chain(tensors):
    """The product in the cheapest order (dynamic programming over split points)."""
    n = len(tensors)
    if n == 2:
        return matmul(tensors[0], tensors[1])
    dims = [t.shape[0] if t.ndim == 2 else 1 for t in tensors]
    dims.append(tensors[-1].shape[-1] if tensors[-1].ndim == 2 else 1)
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j] = float("inf")
            for k in range(i, j):
                c = cost[i][k] + cost[k + 1][j] + dims[i] * dims[k + 1] * dims[j + 1]
                if c < cost[i][j]:
                    cost[i][j], split[i][j] = c, k

    def product(i, j):
        if i == j:
            return tensors[i]
        k = split[i][j]
        return matmul(product(i, k), product(k + 1, j))
    return product(0, n - 1)


def chain_matmul(*matrices, out=None) -> Tensor:
    """Product of 2-D matrices in the cheapest order (deprecated in torch: multi_dot)."""
    if _autocast.on and (policy := _autocast.policy("chain_matmul", matrices)):
        return policy(chain_matmul, *matrices, out=out)
    if len(matrices) == 1:
        if matrices[0].ndim != 2:
            raise RuntimeError(f"chain_matmul(): Expected 2D, got {matrices[0].ndim}D")
        return finish(matrices[0].clone(), out)
    for m in matrices:
        if m.ndim != 2:
            raise RuntimeError(f"Tensor dimension is {m.ndim}, expected 2 instead.")
    return finish(_multi_dot("chain_matmul", matrices), out)


def multi_dot(tensors, *, out=None) -> Tensor:
    """torch.linalg.multi_dot: a chain of matmuls; 1-D ends are row/column vectors."""
    if _autocast.on and (policy := _autocast.policy("linalg_multi_dot", tensors)):
        return policy(multi_dot, tensors, out=out)
    return finish(_multi_dot("multi_dot", tensors), out)


# -- checks and errors shared by the decompositions ------------------------------------------------

def _linalg_error(message: str):
    from ..linalg import LinAlgError  # the public home of the class; imported at raise time
    return LinAlgError(message)


def check_float(name: str, A: Tensor, half_ok: bool = False) -> None:
    """Floating or complex input; half precision only where torch has the kernel (norms),
    not for the LAPACK-backed decompositions."""
    half = A._data.dtype in (D.float16.np, D.bfloat16.np)
    if A.dtype._kind < 2 or (half and not half_ok):
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. Got "
                           f"{_legacy(A.dtype)}")


def check_matrix(name: str, A: Tensor, square: bool = True, arg: str = "A") -> None:
    """torch's dtype/rank/squareness checks for a (batch of) matrix argument."""
    if not isinstance(A, Tensor):
        raise TypeError(f"{name}(): argument '{arg}' (position 1) must be Tensor, not "
                        f"{type(A).__name__}")
    if A.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor {arg} must have at least 2 dimensions.")
    check_float(name, A)
    if square and A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"{name}: {arg} must be batches of square matrices, but they are "
                           f"{A.shape[-2]} by {A.shape[-1]} matrices")


def _batch_prefix(index, batch_shape) -> str:
    if not batch_shape:
        return ""
    return f"(Batch element {int(np.ravel_multi_index(index, batch_shape))}): "


def _first_failure(a, test):
    """(batch index, info) of the first matrix of `a` for which `test` reports a failure."""
    host = backend.to_numpy(a)
    for index in np.ndindex(host.shape[:-2]):
        info = test(host[index])
        if info:
            return index, info
    return None, 0


def _zero_pivot(m) -> int:
    """1-based index of the first zero pivot of LU with partial pivoting (LAPACK's info)."""
    m = np.array(m, dtype=np.complex128 if m.dtype.kind == "c" else np.float64)
    n = m.shape[0]
    first = 0
    for k in range(n):
        p = k + int(np.argmax(np.abs(m[k:, k])))
        if m[p, k] == 0:
            first = first or k + 1
            continue
        m[[k, p]] = m[[p, k]]
        m[k + 1:, k:] -= np.outer(m[k + 1:, k] / m[k, k], m[k, k:])
    return first


def _not_pd_order(m) -> int:
    """Order of the first leading minor that is not positive-definite (0 if all are)."""
    n = m.shape[0]
    low = np.zeros_like(m, dtype=np.complex128 if m.dtype.kind == "c" else np.float64)
    for j in range(n):
        d = m[j, j] - np.vdot(low[j, :j], low[j, :j])
        if not np.real(d) > 0:
            return j + 1
        low[j, j] = np.sqrt(np.real(d))
        low[j + 1:, j] = (m[j + 1:, j] - low[j + 1:, :j] @ low[j, :j].conj()) / low[j, j]
    return 0


def _singular_error(name, a):
    index, info = _first_failure(a, _zero_pivot)
    prefix = _batch_prefix(index, a.shape[:-2]) if index is not None else ""
    return _linalg_error(f"{name}: {prefix}The diagonal element {info} is zero, the inversion "
                         "could not be completed because the input matrix is singular.")


def _not_pd_error(name, a):
    index, info = _first_failure(a, _not_pd_order)
    prefix = _batch_prefix(index, a.shape[:-2]) if index is not None else ""
    return _linalg_error(f"{name}: {prefix}The factorization could not be completed because the "
                         f"input is not positive-definite (the leading minor of order {info} is "
                         "not positive-definite).")


def _diag_embed(xp, v):
    """A batch of diagonal matrices from a batch of vectors (array or Tensor)."""
    n = v.shape[-1]
    return xp.expand_dims(v, -1) * xp.eye(n, dtype=v.dtype)


def _diagonal(xp, m):
    return xp.diagonal(m, 0, -2, -1)


def _unsqueeze2(xp, x):
    return xp.expand_dims(xp.expand_dims(x, -1), -1)


def _is_complex(x) -> bool:
    return x.dtype.is_complex if isinstance(x, Tensor) else x.dtype.kind == "c"


def _complex_like(x, ref):
    """x made complex when `ref` is (matmul, unlike NumPy, does not mix the two)."""
    return x + 0j if _is_complex(ref) and not _is_complex(x) else x


# -- inverse, solve, determinants -----------------------------------------------------------------

class Inv(Function):
    """Matrix inverse; outputs (inverse, info) like torch.linalg.inv_ex."""

    _backward_name = "LinalgInvExBackward0"

    @staticmethod
    def forward(ctx, a, check_errors=True):
        xp = backend.of(a)
        info = xp.zeros(a.shape[:-2], dtype=np.int32)
        try:
            out = xp.linalg.inv(a)
        except np.linalg.LinAlgError:
            if check_errors:
                raise _singular_error("linalg.inv", a) from None
            out, info = _inv_each(xp, a)
        if ctx.needs_input_grad:
            ctx.save_for_backward(out)
        return out, info

    @staticmethod
    def backward(ctx, grad, _info=None):
        (inv,) = ctx.saved_arrays
        xp = ctx.xp
        inv_h = _mH(xp, inv)
        return -xp.matmul(xp.matmul(inv_h, grad), inv_h)


def _inv_each(xp, a):
    """Inverts matrix by matrix: NaN where singular, with LAPACK-style info codes."""
    host = backend.to_numpy(a)
    out = np.full_like(host, np.nan)
    info = np.zeros(host.shape[:-2], dtype=np.int32)
    for index in np.ndindex(host.shape[:-2]):
        try:
            out[index] = np.linalg.inv(host[index])
        except np.linalg.LinAlgError:
            info[index] = _zero_pivot(host[index])
    return xp.asarray(out), xp.asarray(info)


@method()
def inverse(input, *, out=None) -> Tensor:
    """Inverse of a (batch of) square matrix; LinAlgError when singular."""
    check_matrix("linalg.inv", input)
    return finish(Inv.apply(input)[0], out)


class Solve(Function):
    """X with A X = B (left) or X A = B; `vector`: B is a (batch of) vector."""

    _backward_name = "LinalgSolveExBackward0"

    @staticmethod
    def forward(ctx, a, b, left=True, vector=False):
        xp = backend.of(a)
        A, B = _solve_operands(xp, a, b, left, vector)
        try:
            x = _solve(xp, A, B)
        except np.linalg.LinAlgError:
            raise _linalg_error("torch.linalg.solve: The solver failed because the input "
                                "matrix is singular.") from None
        out = x[..., 0] if vector else (x if left else xp.swapaxes(x, -1, -2))
        if ctx.needs_input_grad:
            ctx.save_for_backward(a, out)
            ctx.meta = (a.shape, b.shape, left, vector)
        return out

    @staticmethod
    def backward(ctx, grad):
        xp = ctx.xp
        a, x = ctx.saved_arrays
        a_shape, b_shape, left, vector = ctx.meta
        # work in the left, matrix form A X = B; transpose/unsqueeze back at the end
        A, X = _solve_operands(xp, a, x, left, vector)
        _, G = _solve_operands(xp, a, grad, left, vector)
        gB = _solve(xp, _mH(xp, A), G)
        ga = gb = None
        if ctx.needs_input_grad[0]:
            gA = -xp.matmul(gB, _mH(xp, X))
            ga = sum_to(gA if left else xp.swapaxes(gA, -1, -2), a_shape)
        if ctx.needs_input_grad[1]:
            gb = gB[..., 0] if vector else (gB if left else xp.swapaxes(gB, -1, -2))
            gb = sum_to(gb, b_shape)
        return ga, gb


def _solve(xp, A, B):
    """xp.linalg.solve with NumPy's broadcasting of the batch dims (CuPy wants them equal)."""
    if xp is not np and A.shape[:-2] != B.shape[:-2]:
        batch = tuple(np.broadcast_shapes(A.shape[:-2], B.shape[:-2]))
        A = xp.broadcast_to(A, batch + tuple(A.shape[-2:]))
        B = xp.broadcast_to(B, batch + tuple(B.shape[-2:]))
    return xp.linalg.solve(A, B)


def _solve_operands(xp, a, b, left, vector):
    if vector:
        return a, xp.expand_dims(b, -1)
    if left:
        return a, b
    return xp.swapaxes(a, -1, -2), xp.swapaxes(b, -1, -2)


def _det_grad_factor(xp, a, det):
    """conj(det) * A^{-H} (the adjugate^H), via the SVD when A is singular."""
    try:
        inv_h = _mH(xp, xp.linalg.inv(a))
        return _unsqueeze2(xp, _conj(det)) * inv_h
    except np.linalg.LinAlgError:
        return _mH(xp, _adjugate(xp, a))


def _adjugate(xp, a):
    """adj(A) = det(Vh) Vh^H diag(prod of the other singular values) det(U) U^H."""
    u, s, vh = xp.linalg.svd(a)
    n = s.shape[-1]
    eye = xp.eye(n, dtype=bool)
    others = xp.prod(xp.where(eye, 1, s[..., None, :]), axis=-1)
    scale = xp.linalg.det(u) * xp.linalg.det(vh)
    adj = xp.matmul(_mH(xp, vh) * others[..., None, :], _mH(xp, u))
    return adj * scale[..., None, None]


class Det(Function):
    _backward_name = "LinalgDetBackward0"

    @staticmethod
    def forward(ctx, a):
        xp = backend.of(a)
        out = xp.asarray(xp.linalg.det(a))  # an array (not a NumPy scalar) to save
        if ctx.needs_input_grad:
            ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, det = ctx.saved_arrays
        xp = ctx.xp
        if isinstance(a, Tensor):
            return _unsqueeze2(xp, grad * _conj(det)) * _mH(xp, xp.linalg.inv(a))
        return _unsqueeze2(xp, grad) * _det_grad_factor(xp, a, det)


class Slogdet(Function):
    """(sign, log|det|); the gradient flows through log|det| (and the phase, if complex)."""

    _backward_name = "LinalgSlogdetBackward0"

    @staticmethod
    def forward(ctx, a):
        xp = backend.of(a)
        sign, logabs = xp.linalg.slogdet(a)
        sign, logabs = xp.asarray(sign), xp.asarray(logabs)
        if ctx.needs_input_grad:
            ctx.save_for_backward(a, sign)
        return sign, logabs

    @staticmethod
    def backward(ctx, g_sign, g_logabs):
        a, sign = ctx.saved_arrays
        xp = ctx.xp
        coef = g_logabs
        if _is_complex(a):
            # sign = e^{i theta} moves with Im tr(A^{-1} dA)
            coef = g_logabs - 1j * xp.imag(_conj(g_sign) * sign)
        return _unsqueeze2(xp, coef) * _mH(xp, xp.linalg.inv(a))


class Logdet(Function):
    """log det A: NaN for a negative determinant (real A), -inf for a singular one."""

    _backward_name = "LogdetBackward0"

    @staticmethod
    def forward(ctx, a):
        xp = backend.of(a)
        sign, logabs = xp.linalg.slogdet(a)
        if ctx.needs_input_grad:
            ctx.save_for_backward(a)
        if a.dtype.kind == "c":
            return logabs + 1j * xp.angle(sign)
        return xp.where(sign < 0, xp.nan, logabs).astype(logabs.dtype)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_arrays
        xp = ctx.xp
        return _unsqueeze2(xp, grad) * _mH(xp, xp.linalg.inv(a))


@method()
def det(input) -> Tensor:
    """Determinant of a (batch of) square matrix."""
    check_matrix("linalg.det", input)
    return Det.apply(input)


def _slogdet_tuple(input):
    check_matrix("linalg.slogdet", input)
    from .reduction import _return_type
    return _return_type("slogdet", ("sign", "logabsdet"))(*Slogdet.apply(input))


@method()
def slogdet(input):
    """(sign, log|det|) of a (batch of) square matrix."""
    return _slogdet_tuple(input)


@method()
def logdet(input) -> Tensor:
    """log(det(A)); NaN where a real determinant is negative."""
    check_matrix("linalg.logdet", input)
    return Logdet.apply(input)


# -- Cholesky, QR, SVD, eigendecompositions --------------------------------------------------------

class Cholesky(Function):
    """A = L L^H (lower) or U^H U (upper); outputs (factor, info) as linalg.cholesky_ex."""

    _backward_name = "LinalgCholeskyExBackward0"

    @staticmethod
    def forward(ctx, a, upper=False, check_errors=True, name="linalg.cholesky"):
        xp = backend.of(a)
        info = xp.zeros(a.shape[:-2], dtype=np.int32)
        try:
            low = xp.linalg.cholesky(a)
        except np.linalg.LinAlgError:
            if check_errors:
                raise _not_pd_error(name, a) from None
            low, info = _cholesky_each(xp, a)
        out = _mH(xp, low) if upper else low
        if ctx.needs_input_grad:
            ctx.save_for_backward(out)
            ctx.upper = upper
        return out, info

    @staticmethod
    def backward(ctx, grad, _info=None):
        (out,) = ctx.saved_arrays
        xp = ctx.xp
        low, g = (_mH(xp, out), _mH(xp, grad)) if ctx.upper else (out, grad)
        low_h = _mH(xp, low)
        # gA = L^{-H} S L^{-1} with S the Hermitian completion of tril(L^H gL), halved
        # (its diagonal is kept as is, as torch does, so a complex gA need not be Hermitian)
        x = xp.tril(xp.matmul(low_h, g))
        s = 0.5 * (x + _mH(xp, xp.tril(x, -1)))
        left = xp.linalg.solve(low_h, s)
        return _mH(xp, xp.linalg.solve(low_h, _mH(xp, left)))


def _cholesky_each(xp, a):
    host = backend.to_numpy(a)
    out = np.zeros_like(host)
    info = np.zeros(host.shape[:-2], dtype=np.int32)
    for index in np.ndindex(host.shape[:-2]):
        try:
            out[index] = np.linalg.cholesky(host[index])
        except np.linalg.LinAlgError:
            info[index] = _not_pd_order(host[index])
            out[index] = np.nan
    return xp.asarray(out), xp.asarray(info)


@method()
def cholesky(input, upper=False, *, out=None) -> Tensor:
    """Cholesky factor (deprecated in torch for linalg.cholesky)."""
    check_matrix("cholesky", input)
    return finish(Cholesky.apply(input, upper=upper, name="cholesky")[0], out)


def _from_factor(L, upper):
    """A = L L^H from its Cholesky factor (U^H U when `upper`)."""
    return matmul(L.mH, L) if upper else matmul(L, L.mH)


@method()
def cholesky_solve(input, input2, upper=False, *, out=None) -> Tensor:
    """X with A X = input, A given by its Cholesky factor `input2`."""
    from ..linalg import solve
    return finish(solve(_from_factor(input2, upper), input), out)


@method()
def cholesky_inverse(input, upper=False, *, out=None) -> Tensor:
    """Inverse of A given by its Cholesky factor."""
    check_matrix("cholesky_inverse", input)
    return finish(Inv.apply(_from_factor(input, upper))[0], out)


class Qr(Function):
    """A = QR (mode 'reduced', 'complete' or 'r')."""

    _backward_name = "LinalgQrBackward0"

    @staticmethod
    def forward(ctx, a, mode="reduced"):
        xp = backend.of(a)
        if mode == "r":
            r = xp.linalg.qr(a, mode="r")
            q = xp.zeros((0,), dtype=a.dtype)
        else:
            q, r = xp.linalg.qr(a, mode=mode)
        if ctx.needs_input_grad:
            ctx.save_for_backward(q, r)
            ctx.mode = mode
        return q, r

    @staticmethod
    def backward(ctx, gq, gr):
        q, r = ctx.saved_arrays
        if ctx.mode == "r":
            raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed "
                               "when mode='r'. Please use linalg.qr(A, mode='reduced') if you "
                               "are going to differentiate through linalg.qr.")
        m, n = q.shape[-2], r.shape[-1]
        if ctx.mode == "complete" and m > n:
            raise RuntimeError("The QR decomposition is not differentiable when "
                               "mode='complete' and nrows > ncols.")
        return _qr_grad(ctx.xp, q, r, gq, gr, m, n)


def _qr_grad(xp, q, r, gq, gr, m, n):
    if m >= n:
        return _qr_grad_tall(xp, q, r, gq, gr)
    # Wide A = [X | Y] = Q [U | V]: X = QU is a square QR, and Y = QV (V = Q^H Y) sends
    # Y gV^H on to Q's gradient and Q gV to Y.
    u, v, gv = r[..., :m], r[..., m:], gr[..., m:]
    y = xp.matmul(q, v)
    gx = _qr_grad_tall(xp, q, u, gq + xp.matmul(y, _mH(xp, gv)), gr[..., :m])
    return xp.concatenate([gx, xp.matmul(q, gv)], axis=-1)


def _qr_grad_tall(xp, q, r, gq, gr):
    """gA = (gQ - Q herm(N)) R^{-H}, N = Q^H gQ - gR R^H (m >= n)."""
    n_mat = xp.matmul(_mH(xp, q), gq) - xp.matmul(gr, _mH(xp, r))
    upper = xp.triu(n_mat, 1)
    herm = upper + _mH(xp, upper) + _complex_like(
        _diag_embed(xp, xp.real(_diagonal(xp, n_mat))), n_mat)
    b = gq - xp.matmul(q, herm)
    # b R^{-H} = (R^{-1} b^H)^H
    return _mH(xp, xp.linalg.solve(r, _mH(xp, b)))


class Svd(Function):
    """A = U diag(S) Vh (svdvals uses S alone; U and Vh are still outputs, so that a
    second derivative can differentiate through them)."""

    _backward_name = "LinalgSvdBackward0"

    @staticmethod
    def forward(ctx, a, full_matrices=True):
        u, s, vh = backend.of(a).linalg.svd(a, full_matrices=full_matrices)
        if ctx.needs_input_grad:
            ctx.save_for_backward(u, s, vh)
            ctx.full = full_matrices
        return u, s, vh

    @staticmethod
    def backward(ctx, gu, gs, gvh):
        u, s, vh = ctx.saved_arrays
        return _svd_grad(ctx.xp, u, s, vh, _unless_zero(gu), gs, _unless_zero(gvh), ctx.full)


def _unless_zero(g):
    """None for a zero-filled gradient of an unused output.

    Singular vectors (eigenvectors) that did not reach the loss must not enter the
    formulas, which divide by gaps between values that may be repeated.
    """
    if isinstance(g, Tensor):
        return g if g._rg or g._data.any() else None
    return g if g.any() else None


def _svd_grad(xp, u, s, vh, gu, gs, gvh, full):
    k = s.shape[-1]
    if full:  # the columns beyond k are arbitrary; only the first k carry information
        u, vh = u[..., :k], vh[..., :k, :]
        gu = gu[..., :k] if gu is not None else None
        gvh = gvh[..., :k, :] if gvh is not None else None
    m, n = u.shape[-2], vh.shape[-1]
    if gu is None and gvh is None:
        return xp.matmul(u * xp.expand_dims(gs, -2), vh)
    gs = _unless_zero(gs)
    s_row = xp.expand_dims(s, -2)  # s_j along a row
    s_col = xp.expand_dims(s, -1)  # s_i down a column
    # F_ij = 1 / (s_j^2 - s_i^2) off the diagonal, 0 on it
    diff = s_row * s_row - s_col * s_col
    eye = xp.eye(k, dtype=s.dtype)
    f = (1 - eye) / (diff + eye)
    inner = _complex_like(_diag_embed(xp, gs) if gs is not None else xp.zeros_like(eye), u)
    v = _mH(xp, vh)
    phase = 0  # Im of the diagonals of U^H gU and -V^H gV: the phase of each singular pair
    if gu is not None:
        uhgu = xp.matmul(_mH(xp, u), gu)
        inner = inner + f * (uhgu - _mH(xp, uhgu)) * s_row
        if _is_complex(u):
            phase = phase + xp.imag(_diagonal(xp, uhgu))
    if gvh is not None:
        gv = _mH(xp, gvh)
        vhgv = xp.matmul(vh, gv)
        inner = inner + s_col * (f * (vhgv - _mH(xp, vhgv)))
        if _is_complex(u):
            phase = phase - xp.imag(_diagonal(xp, vhgv))
    if _is_complex(u) and not isinstance(phase, int):
        inner = inner + _diag_embed(xp, 1j * phase / (2 * s))
    ga = xp.matmul(xp.matmul(u, inner), vh)
    if gu is not None and m > k:
        # the component of gU outside span(U)
        proj = gu - xp.matmul(u, xp.matmul(_mH(xp, u), gu))
        ga = ga + xp.matmul(proj / s_row, vh)
    if gvh is not None and n > k:
        proj = gv - xp.matmul(v, xp.matmul(vh, gv))
        ga = ga + xp.matmul(u / s_row, _mH(xp, proj))
    return ga


class Eigh(Function):
    """Eigen-decomposition of a Hermitian matrix (the `uplo` triangle is read)."""

    _backward_name = "LinalgEighBackward0"

    @staticmethod
    def forward(ctx, a, uplo="L"):
        w, v = backend.of(a).linalg.eigh(a, UPLO=uplo)
        if ctx.needs_input_grad:
            ctx.save_for_backward(w, v)
        return w, v

    @staticmethod
    def backward(ctx, gw, gv):
        w, v = ctx.saved_arrays
        xp = ctx.xp
        inner = _complex_like(_diag_embed(xp, gw), v)
        gv = _unless_zero(gv)
        if gv is not None:
            eye = xp.eye(w.shape[-1], dtype=w.dtype)
            # F_ij = 1 / (w_j - w_i) off the diagonal; only the skew part of V^H gV counts
            f = (1 - eye) / (xp.expand_dims(w, -2) - xp.expand_dims(w, -1) + eye)
            vhgv = xp.matmul(_mH(xp, v), gv)
            inner = inner + f * (0.5 * (vhgv - _mH(xp, vhgv)))
        return xp.matmul(xp.matmul(v, inner), _mH(xp, v))


def _eig_arrays(a):
    """np.linalg.eig with torch's always-complex results (on the host: CuPy has none)."""
    xp = backend.of(a)
    host = backend.to_numpy(a)
    cdt = np.result_type(host.dtype, np.complex64)
    w, v = np.linalg.eig(host)
    return xp.asarray(w.astype(cdt)), xp.asarray(v.astype(cdt))


class Eig(Function):
    """Eigen-decomposition of a general square matrix (complex results)."""

    _backward_name = "LinalgEigBackward0"

    @staticmethod
    def forward(ctx, a):
        w, v = _eig_arrays(a)
        if ctx.needs_input_grad:
            ctx.save_for_backward(w, v)
            ctx.real_input = a.dtype.kind != "c"
        return w, v

    @staticmethod
    def backward(ctx, gw, gv):
        w, v = ctx.saved_arrays
        xp = ctx.xp
        n = w.shape[-1]
        vh = _mH(xp, v)
        eye = xp.eye(n, dtype=w.dtype)
        diff = _conj(xp.expand_dims(w, -2) - xp.expand_dims(w, -1))
        inner = _diag_embed(xp, gw)
        gv = _unless_zero(gv)
        if gv is not None:
            vhgv = xp.matmul(vh, gv)
            # eigenvectors have unit norm: drop the part of gV along that normalization
            norm_term = xp.matmul(vh, v) * xp.expand_dims(xp.real(_diagonal(xp, vhgv)), -2)
            inner = inner + (1 - eye) * (vhgv - norm_term) / (diff + eye)
        ga = xp.linalg.solve(vh, xp.matmul(inner, vh))
        return xp.real(ga) if ctx.real_input else ga


def records_graph(*tensors) -> bool:
    """Whether an op on `tensors` would record a graph (grad mode on, an input needs grad)."""
    from ..autograd import grad_mode
    return grad_mode._enabled[0] and any(isinstance(t, Tensor) and t._rg for t in tensors)


def _pinv_tolerance(xp, s_max, atol, rtol, shape, dtype):
    """max(atol, rtol * largest singular value); torch's defaults when both are None."""
    if rtol is None:
        rtol = 0.0 if atol is not None else np.finfo(dtype).eps * max(shape[-2:])
    atol = 0.0 if atol is None else atol
    return xp.maximum(atol, rtol * s_max)


def _tol_array(x, xp):
    if isinstance(x, Tensor):
        return xp.expand_dims(x._data, -1) if x.ndim else x._data
    return x


class Pinv(Function):
    """Moore-Penrose pseudo-inverse, cutting singular values below the tolerance."""

    _backward_name = "LinalgPinvBackward0"

    @staticmethod
    def forward(ctx, a, atol=None, rtol=None, hermitian=False):
        xp = backend.of(a)
        real = np.finfo(a.dtype).dtype
        if hermitian:
            w, v = xp.linalg.eigh(a)
            mag = xp.abs(w)
            tol = _pinv_tolerance(xp, mag.max(axis=-1, keepdims=True), atol, rtol, a.shape, real)
            w_inv = xp.where(mag > tol, 1 / xp.where(mag > tol, w, 1), 0)
            out = xp.matmul(v * w_inv[..., None, :], _mH(xp, v))
        else:
            u, s, vh = xp.linalg.svd(a, full_matrices=False)
            tol = _pinv_tolerance(xp, s[..., :1], atol, rtol, a.shape, real)
            s_inv = xp.where(s > tol, 1 / xp.where(s > tol, s, 1), 0).astype(s.dtype)
            out = xp.matmul(_mH(xp, vh) * s_inv[..., None, :], _mH(xp, u))
        out = out.astype(a.dtype, copy=False)
        if ctx.needs_input_grad:
            ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, p = ctx.saved_arrays
        xp = ctx.xp
        ph = _mH(xp, p)
        m, n = a.shape[-2], a.shape[-1]
        mm = xp.matmul
        # d(A+) = -A+ dA A+ + A+ A+^H dA^H (I - A A+) + (I - A+ A) dA^H A+^H A+
        g = -mm(mm(ph, grad), ph)
        proj_m = xp.eye(m, dtype=a.dtype) - mm(a, p)
        proj_n = xp.eye(n, dtype=a.dtype) - mm(p, a)
        g = g + mm(mm(proj_m, _mH(xp, grad)), mm(p, ph))
        g = g + mm(mm(ph, p), mm(_mH(xp, grad), proj_n))
        return g


def _pinv(A, atol=None, rtol=None, hermitian=False, name="linalg.pinv"):
    check_matrix(name, A, square=False)
    xp = backend.of(A._data)
    return Pinv.apply(A, atol=_tol_array(atol, xp), rtol=_tol_array(rtol, xp),
                      hermitian=hermitian)


@method()
def svd(input, some=True, compute_uv=True, *, out=None):
    """Legacy torch.svd: (U, S, V) with V (not V^H); zero U and V without compute_uv."""
    from .reduction import _return_type
    check_matrix("svd", input, square=False)
    if compute_uv:
        u, s, vh = Svd.apply(input, full_matrices=not some)
        v = vh.mH
    else:
        from .creation import zeros
        s = _svdvals(input)
        m, n = input.shape[-2:]
        batch = tuple(input.shape[:-2])
        u = zeros(batch + (m, m), dtype=input.dtype, device=input.device)
        v = zeros(batch + (n, n), dtype=input.dtype, device=input.device)
    result = _return_type("svd", ("U", "S", "V"))(u, s, v)
    if out is not None:
        for o, r in zip(out, result):
            finish(r, o)
    return result


def _svdvals(A):
    if records_graph(A):
        return Svd.apply(A, full_matrices=False)[1]
    a = A._data
    return Tensor._make(backend.of(a).linalg.svd(a, compute_uv=False))


@method()
def qr(input, some=True, *, out=None):
    """Legacy torch.qr: reduced (some=True) or complete QR."""
    from .reduction import _return_type
    check_matrix("qr", input, square=False)
    result = _return_type("qr", ("Q", "R"))(*Qr.apply(input, mode="reduced" if some
                                                      else "complete"))
    if out is not None:
        for o, r in zip(out, result):
            finish(r, o)
    return result


@method()
def pinverse(input, rcond=1e-15) -> Tensor:
    """Pseudo-inverse with relative cutoff `rcond` (torch.pinverse)."""
    return _pinv(input, rtol=rcond, name="pinverse")


# -- matrix functions ------------------------------------------------------------------------------

def _expm_arrays(a):
    """exp(A) by scaling and squaring with an 18-term Taylor series (batched)."""
    xp = backend.of(a)
    if a.size == 0:
        return a.copy()
    norm = float(xp.abs(a).sum(axis=-2).max())
    squarings = max(0, int(np.ceil(np.log2(norm))) + 1) if norm > 0.5 else 0
    x = a / (2.0 ** squarings)
    n = a.shape[-1]
    eye = xp.broadcast_to(xp.eye(n, dtype=a.dtype), a.shape)
    result, term = eye.copy(), eye.copy()
    for k in range(1, 19):
        term = xp.matmul(term, x) / k
        result = result + term
    for _ in range(squarings):
        result = xp.matmul(result, result)
    return result


class MatrixExp(Function):
    _backward_name = "LinalgMatrixExpBackward0"

    @staticmethod
    def forward(ctx, a):
        if ctx.needs_input_grad:
            ctx.save_for_backward(a)
        return _expm_arrays(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_arrays
        xp = ctx.xp
        n = a.shape[-1]
        # The Frechet derivative is the top-right block of exp([[A^H, G], [0, A^H]]).
        ah = _mH(xp, a)
        top = xp.concatenate([ah, grad], axis=-1)
        bottom = xp.concatenate([xp.zeros_like(ah), ah], axis=-1)
        block = xp.concatenate([top, bottom], axis=-2)
        big = MatrixExp.apply(block) if isinstance(block, Tensor) else _expm_arrays(block)
        return big[..., :n, n:]


@method()
def matrix_exp(input) -> Tensor:
    """Matrix exponential of a (batch of) square matrix."""
    check_matrix("linalg.matrix_exp", input)
    return MatrixExp.apply(input)


@method()
def matrix_power(input, n: int) -> Tensor:
    """A^n for an integer n (n < 0 inverts first); batched."""
    if input.ndim < 2 or input.shape[-1] != input.shape[-2]:
        raise RuntimeError("linalg.matrix_power: A must be batches of square matrices, but "
                           f"they are {input.shape[-2] if input.ndim >= 2 else 1} by "
                           f"{input.shape[-1] if input.ndim else 1} matrices")
    n = int(n)
    if n == 0:
        from .creation import eye
        identity = eye(input.shape[-1], dtype=input.dtype, device=input.device)
        return identity.expand(input.shape).clone()
    if n < 0:
        check_float("linalg.matrix_power", input)
        input, n = Inv.apply(input)[0], -n
    result, base = None, input
    while n:  # binary exponentiation
        if n & 1:
            result = base if result is None else matmul(result, base)
        n >>= 1
        if n:
            base = matmul(base, base)
    return result.clone() if result is input else result
