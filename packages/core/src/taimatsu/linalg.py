"""taimatsu.linalg: torch.linalg's functions (norms, solvers, decompositions...).

The differentiable Functions live in `taimatsu.ops.linalg`; this module is the public
namespace with torch.linalg's names, signatures, result tuples and error messages.
"""

from __future__ import annotations

import math

import numpy as np

from . import _dtype as D
from . import backend
from ._tensor import Tensor
from .ops import linalg as _ops
from .ops._util import broadcast_shapes_or_raise, finish, wrap_dim, wrap_dims
from .ops.inplace import _legacy
from .ops.linalg import check_float, check_matrix, matmul, multi_dot, vdot  # noqa: F401
from .ops.reduction import _return_type

__all__ = ["LinAlgError", "norm", "vector_norm", "matrix_norm", "inv", "inv_ex", "solve",
           "solve_ex", "det", "slogdet", "eig", "eigvals", "eigh", "eigvalsh", "svd", "svdvals",
           "qr", "cholesky", "cholesky_ex", "pinv", "lstsq", "matrix_rank", "cross",
           "multi_dot", "matmul", "vecdot", "diagonal", "cond", "matrix_power", "matrix_exp",
           "vander", "solve_triangular", "tensorinv", "tensorsolve"]


class LinAlgError(RuntimeError):
    """Raised when a linear-algebra routine fails on its input (singular, not PD...)."""


LinAlgError.__module__ = "taimatsu.linalg"

_inv_ex_result = _return_type("linalg_inv_ex", ("inverse", "info"))
_cholesky_ex_result = _return_type("linalg_cholesky_ex", ("L", "info"))
_solve_ex_result = _return_type("linalg_solve_ex", ("result", "info"))
_slogdet_result = _return_type("linalg_slogdet", ("sign", "logabsdet"))
_eig_result = _return_type("linalg_eig", ("eigenvalues", "eigenvectors"))
_eigh_result = _return_type("linalg_eigh", ("eigenvalues", "eigenvectors"))
_svd_result = _return_type("linalg_svd", ("U", "S", "Vh"))
_qr_result = _return_type("linalg_qr", ("Q", "R"))
_lstsq_result = _return_type("linalg_lstsq", ("solution", "residuals", "rank",
                                              "singular_values"))


def _finish_tuple(result, out):
    """out= for functions returning several tensors."""
    if out is None:
        return result
    for o, r in zip(out, result):
        finish(r, o)
    return type(result)(*out)


# -- inverses and solvers ----------------------------------------------------------------------

def inv(A: Tensor, *, out=None) -> Tensor:
    """Inverse of a (batch of) square matrix; LinAlgError when singular."""
    check_matrix("linalg.inv", A)
    return finish(_ops.Inv.apply(A)[0], out)


def inv_ex(A: Tensor, *, check_errors: bool = False, out=None):
    """(inverse, info): info > 0 names the zero pivot of a singular matrix."""
    check_matrix("linalg.inv_ex", A)
    return _finish_tuple(_inv_ex_result(*_ops.Inv.apply(A, check_errors=check_errors)), out)


def _is_vector_rhs(A: Tensor, B: Tensor) -> bool:
    """torch's rule: B is a (batch of) vector if 1-D, or if its shape is A's without the last."""
    return B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]))


def solve(A: Tensor, B: Tensor, *, left: bool = True, out=None) -> Tensor:
    """X with AX = B (left=True) or XA = B; batched and broadcasting."""
    check_matrix("linalg.solve", A)
    if A.dtype is not B.dtype:
        raise RuntimeError("linalg.solve: Expected A and B to have the same dtype, but found A "
                           f"of type {_legacy(A.dtype)} and B of type "
                           f"{_legacy(B.dtype)} instead")
    vector = left and _is_vector_rhs(A, B)
    n = A.shape[-1]
    if vector:
        rows, cols = B.shape[-1], 1
    elif B.ndim < 2:
        raise RuntimeError("linalg.solve: Incompatible shapes of A and B for the equation "
                           f"{'AX = B' if left else 'XA = B'} ({n}x{n} and {B.shape[-1]}x1)")
    else:
        rows, cols = (B.shape[-2], B.shape[-1]) if left else (B.shape[-1], B.shape[-2])
    if rows != n:
        eq = "AX = B" if left else "XA = B"
        shape_b = f"{rows}x{cols}" if left else f"{cols}x{rows}"
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation {eq} "
                           f"({n}x{n} and {shape_b})")
    batch_b = B.shape[:-1] if vector else B.shape[:-2]
    broadcast_shapes_or_raise(tuple(A.shape[:-2]), tuple(batch_b))
    return finish(_ops.Solve.apply(A, B, left=left, vector=vector), out)


def solve_ex(A: Tensor, B: Tensor, *, left: bool = True, check_errors: bool = False, out=None):
    """(result, info) version of solve; raises on singular input (info would be > 0)."""
    result = solve(A, B, left=left)
    info = Tensor._make(backend.of(result._data).zeros(A.shape[:-2], dtype=np.int32))
    return _finish_tuple(_solve_ex_result(result, info), out)


def solve_triangular(A: Tensor, B: Tensor, *, upper: bool, left: bool = True,
                     unitriangular: bool = False, out=None) -> Tensor:
    """Solves a triangular system, reading only the `upper`/lower triangle of A."""
    check_matrix("linalg.solve_triangular", A)
    tri = A.triu() if upper else A.tril()
    if unitriangular:
        n = A.shape[-1]
        eye = _eye_like(A, n)
        tri = tri * (1 - eye) + eye
    return finish(_ops.Solve.apply(tri, B, left=left, vector=False), out)


def _eye_like(A: Tensor, n: int) -> Tensor:
    from .ops.creation import eye
    return eye(n, dtype=A.dtype, device=A.device)


def det(A: Tensor, *, out=None) -> Tensor:
    """Determinant of a (batch of) square matrix."""
    check_matrix("linalg.det", A)
    return finish(_ops.Det.apply(A), out)


def slogdet(A: Tensor, *, out=None):
    """(sign, log|det|) of a (batch of) square matrix."""
    check_matrix("linalg.slogdet", A)
    return _finish_tuple(_slogdet_result(*_ops.Slogdet.apply(A)), out)


# -- decompositions ----------------------------------------------------------------------------

def cholesky(A: Tensor, *, upper: bool = False, out=None) -> Tensor:
    """Cholesky factor L (A = L L^H), or U = L^H with upper=True."""
    check_matrix("linalg.cholesky", A)
    return finish(_ops.Cholesky.apply(A, upper=upper)[0], out)


def cholesky_ex(A: Tensor, *, upper: bool = False, check_errors: bool = False, out=None):
    """(L, info): info > 0 is the order of the first leading minor that is not PD."""
    check_matrix("linalg.cholesky_ex", A)
    result = _ops.Cholesky.apply(A, upper=upper, check_errors=check_errors,
                                 name="linalg.cholesky_ex")
    return _finish_tuple(_cholesky_ex_result(*result), out)


def qr(A: Tensor, mode: str = "reduced", *, out=None):
    """(Q, R) with A = QR; mode 'reduced', 'complete' or 'r' (Q empty)."""
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of "
                           "'reduced' (default), 'r', or 'complete'")
    check_matrix("linalg.qr", A, square=False)
    return _finish_tuple(_qr_result(*_ops.Qr.apply(A, mode=mode)), out)


def svd(A: Tensor, full_matrices: bool = True, *, driver=None, out=None):
    """(U, S, Vh) with A = U diag(S) Vh; S descending."""
    check_matrix("linalg.svd", A, square=False)
    result = _ops.Svd.apply(A, full_matrices=full_matrices)
    return _finish_tuple(_svd_result(*result), out)


def svdvals(A: Tensor, *, driver=None, out=None) -> Tensor:
    """Singular values, descending."""
    check_matrix("linalg.svdvals", A, square=False)
    return finish(_ops._svdvals(A), out)


def _check_uplo(UPLO: str) -> None:
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")


def eigh(A: Tensor, UPLO: str = "L", *, out=None):
    """(eigenvalues ascending, eigenvectors) of a Hermitian matrix (UPLO triangle read)."""
    _check_uplo(UPLO)
    check_matrix("linalg.eigh", A)
    return _finish_tuple(_eigh_result(*_ops.Eigh.apply(A, uplo=UPLO)), out)


def eigvalsh(A: Tensor, UPLO: str = "L", *, out=None) -> Tensor:
    """Eigenvalues (ascending) of a Hermitian matrix."""
    _check_uplo(UPLO)
    check_matrix("linalg.eigvalsh", A)
    if _ops.records_graph(A):
        return finish(_ops.Eigh.apply(A, uplo=UPLO)[0], out)
    a = A._data
    return finish(Tensor._make(backend.of(a).linalg.eigvalsh(a, UPLO=UPLO)), out)


def eig(A: Tensor, *, out=None):
    """(eigenvalues, eigenvectors) of a general square matrix, always complex."""
    check_matrix("linalg.eig", A)
    return _finish_tuple(_eig_result(*_ops.Eig.apply(A)), out)


def eigvals(A: Tensor, *, out=None) -> Tensor:
    """Eigenvalues of a general square matrix, always complex."""
    check_matrix("linalg.eigvals", A)
    if _ops.records_graph(A):
        return finish(_ops.Eig.apply(A)[0], out)
    return finish(Tensor._make(_ops._eig_arrays(A._data)[0]), out)


def pinv(A: Tensor, *, atol=None, rtol=None, hermitian: bool = False, out=None) -> Tensor:
    """Moore-Penrose pseudo-inverse; singular values below max(atol, rtol * s_max) dropped."""
    return finish(_ops._pinv(A, atol=atol, rtol=rtol, hermitian=hermitian), out)


def lstsq(A: Tensor, B: Tensor, rcond=None, *, driver=None):
    """Least-squares solution of AX = B: (solution, residuals, rank, singular_values).

    As in torch, residuals are filled only when m > n, every matrix has full rank and the
    driver is not 'gelsy' (the CPU default); rank for every driver but 'gels'; singular
    values for 'gelsd' and 'gelss'.
    """
    drivers = ("gels", "gelsy", "gelsd", "gelss")
    driver = driver or "gelsy"
    if driver not in drivers:
        raise RuntimeError(f"torch.linalg.lstsq: parameter `driver` should be one of {drivers}")
    check_matrix("torch.linalg.lstsq", A, square=False)
    if A.dtype is not B.dtype:
        raise RuntimeError("torch.linalg.lstsq: Expected input and other to have the same "
                           f"dtype, but got input's dtype {A.dtype} and other's dtype "
                           f"{B.dtype}")
    vector = B.ndim == A.ndim - 1
    Bm = B.unsqueeze(-1) if vector else B
    m, n = A.shape[-2], A.shape[-1]
    if Bm.shape[-2] != m:
        raise RuntimeError("torch.linalg.lstsq: input.size(-2) should match other.size(-2)")
    x, res, rank, sv = _lstsq_arrays(A._data, Bm._data, rcond)
    xp = backend.of(A._data)
    if A._rg or B._rg:  # the solution's gradient is pinv's: X = pinv(A) B
        solution = matmul(_ops._pinv(A, rtol=rcond), Bm)
    else:
        solution = Tensor._make(x)
    if vector:
        solution = solution.squeeze(-1)
    full_rank = bool((rank == min(m, n)).all())
    real = np.finfo(A._data.dtype).dtype
    empty = xp.zeros((0,), dtype=real)
    residuals = res if (m > n and full_rank and driver != "gelsy") else empty
    if vector and residuals.size:
        residuals = residuals[..., 0]
    rank_out = rank if driver != "gels" else xp.zeros((0,), dtype=np.int64)
    sv_out = sv if driver in ("gelsd", "gelss") else empty
    return _lstsq_result(solution, Tensor._make(residuals), Tensor._make(rank_out),
                         Tensor._make(sv_out))


def _lstsq_arrays(a, b, rcond):
    """NumPy's lstsq matrix by matrix over the broadcast batch."""
    xp = backend.of(a)
    ha, hb = backend.to_numpy(a), backend.to_numpy(b)
    batch = np.broadcast_shapes(ha.shape[:-2], hb.shape[:-2])
    ha = np.broadcast_to(ha, batch + ha.shape[-2:])
    hb = np.broadcast_to(hb, batch + hb.shape[-2:])
    m, n, k = ha.shape[-2], ha.shape[-1], hb.shape[-1]
    real = np.finfo(ha.dtype).dtype
    x = np.zeros(batch + (n, k), dtype=ha.dtype)
    res = np.zeros(batch + (k,), dtype=real)
    rank = np.zeros(batch, dtype=np.int64)
    sv = np.zeros(batch + (min(m, n),), dtype=real)
    for index in np.ndindex(batch):
        sol, r, rk, s = np.linalg.lstsq(ha[index], hb[index], rcond=rcond)
        x[index], rank[index], sv[index] = sol, rk, s
        if r.size:
            res[index] = r
    return tuple(xp.asarray(v) for v in (x, res, rank, sv))


def matrix_rank(A: Tensor, *, atol=None, rtol=None, hermitian: bool = False, tol=None,
                out=None) -> Tensor:
    """Number of singular values above max(atol, rtol * s_max)."""
    check_matrix("linalg.matrix_rank", A, square=False)
    if tol is not None:
        atol, rtol = tol, 0.0
    a = A._data
    xp = backend.of(a)
    if hermitian:
        s = xp.abs(xp.linalg.eigvalsh(a))
    else:
        s = xp.linalg.svd(a, compute_uv=False)
    real = np.finfo(a.dtype).dtype
    s_max = s.max(axis=-1, keepdims=True) if s.shape[-1] else xp.zeros(s.shape[:-1] + (1,))
    tol_ = _ops._pinv_tolerance(xp, s_max, _ops._tol_array(atol, xp),
                                _ops._tol_array(rtol, xp), a.shape, real)
    rank = (s > tol_).sum(axis=-1).astype(np.int64)
    return finish(Tensor._make(xp.asarray(rank)), out)


# -- norms -------------------------------------------------------------------------------------

def vector_norm(x: Tensor, ord=2, dim=None, keepdim: bool = False, *, dtype=None,
                out=None) -> Tensor:
    """The vector ord-norm over `dim` (every element when None); ord may be inf, -inf, 0."""
    from .ops.reduction import _vector_norm
    if dtype is not None:
        x = x.to(D.to_dtype(dtype))
    check_float("linalg.vector_norm", x, half_ok=True)
    if isinstance(ord, str):
        raise RuntimeError(f"linalg.vector_norm: unsupported norm type {ord!r}")
    if isinstance(dim, (int, np.integer)):
        dim = (int(dim),)
    return finish(_vector_norm(x, float(ord), dim, keepdim), out)


_MATRIX_ORDS = ("fro", "nuc", 2, -2, 1, -1, math.inf, -math.inf)


def matrix_norm(A: Tensor, ord="fro", dim=(-2, -1), keepdim: bool = False, *, dtype=None,
                out=None) -> Tensor:
    """Matrix norms: 'fro', 'nuc', 2/-2 (extreme singular values), 1/-1, inf/-inf."""
    if A.ndim < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 "
                           "dimensions.")
    if dtype is not None:
        A = A.to(D.to_dtype(dtype))
    check_float("linalg.matrix_norm", A, half_ok=ord not in ("nuc", 2, -2))
    if ord not in _MATRIX_ORDS:
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    dim = tuple(dim)
    if len(dim) != 2:
        raise RuntimeError("linalg.matrix_norm: dim must be a 2-tuple. Got "
                           + " ".join(str(d) for d in dim))
    d0, d1 = wrap_dims(dim, A.ndim)
    if ord == "fro":
        return finish(vector_norm(A, 2, (d0, d1), keepdim), out)
    if ord in ("nuc", 2, -2):
        # singular values are non-negative: their sum / max / min are vector norms
        s = svdvals(A.movedim((d0, d1), (-2, -1)))
        p = {"nuc": 1, 2: math.inf, -2: -math.inf}[ord]
        result = vector_norm(s, p, -1)
    else:
        # max/min over one dim of the absolute sums over the other (inf: rows; 1: columns)
        sum_dim, ext_dim = (d0, d1) if ord in (1, -1) else (d1, d0)
        p = math.inf if ord > 0 else -math.inf
        sums = vector_norm(A, 1, sum_dim, keepdim=True)
        result = vector_norm(sums, p, ext_dim, keepdim=True).squeeze((d0, d1))
    if keepdim:
        result = result.unsqueeze(min(d0, d1)).unsqueeze(max(d0, d1))
    return finish(result, out)


def norm(A: Tensor, ord=None, dim=None, keepdim: bool = False, *, dtype=None,
         out=None) -> Tensor:
    """vector_norm or matrix_norm, chosen by `dim` (and by A's rank when dim is None)."""
    if isinstance(dim, (int, np.integer)):
        dim = (int(dim),)
    if dim is not None and len(dim) not in (1, 2):
        raise RuntimeError(f"linalg.norm: If dim is specified, it must be of length 1 or 2. "
                           f"Got {list(dim)}")
    if dim is None and ord is not None:
        if A.ndim not in (1, 2):
            raise RuntimeError("linalg.norm: If dim is not specified but ord is, the input "
                               f"must be 1D or 2D. Got {A.ndim}D.")
        dim = tuple(range(A.ndim))
    if dim is not None and len(dim) == 2:
        return matrix_norm(A, "fro" if ord is None else ord, dim, keepdim, dtype=dtype,
                           out=out)
    if isinstance(ord, str):
        return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype, out=out)
    return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype, out=out)


def cond(A: Tensor, p=None, *, out=None) -> Tensor:
    """Condition number in the p-norm (2-norm by default: s_max / s_min)."""
    check_matrix("linalg.cond", A, square=p not in (None, 2, -2))
    if p in (None, 2, -2):
        s = svdvals(A)
        big, small = s[..., 0], s[..., -1]
        return finish(big / small if p != -2 else small / big, out)
    return finish(matrix_norm(A, p) * matrix_norm(inv(A), p), out)


# -- products and the rest ---------------------------------------------------------------------

def cross(input: Tensor, other: Tensor, *, dim: int = -1, out=None) -> Tensor:
    """Cross product of 3-vectors along `dim`, broadcasting the other dims."""
    return _ops.linalg_cross(input, other, dim=dim, out=out)


def vecdot(x: Tensor, y: Tensor, *, dim: int = -1, out=None) -> Tensor:
    """sum(conj(x) * y) over `dim`, broadcasting."""
    shape = broadcast_shapes_or_raise(tuple(x.shape), tuple(y.shape))
    d = wrap_dim(dim, len(shape))
    x, y = _ops._promoted(x, y)
    nd = len(shape)
    letters = _ops._LETTERS[:nd]
    sx, sy = letters[nd - x.ndim:], letters[nd - y.ndim:]
    out_sub = letters[:d] + letters[d + 1:]
    xc = x.conj() if x.is_complex() else x
    return finish(_ops.einsum(f"{sx},{sy}->{out_sub}", xc, y), out)


def diagonal(A: Tensor, *, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """The diagonal of every matrix in the batch (a view)."""
    return A.diagonal(offset, dim1, dim2)


def matrix_power(A: Tensor, n: int, *, out=None) -> Tensor:
    """A^n for an integer n; n < 0 inverts first."""
    return finish(_ops.matrix_power(A, n), out)


def matrix_exp(A: Tensor) -> Tensor:
    """Matrix exponential."""
    return _ops.matrix_exp(A)


def tensorinv(A: Tensor, ind: int = 2, *, out=None) -> Tensor:
    """The tensor X with tensordot(X, A, ind) the identity: inv of A seen as a matrix."""
    if ind <= 0:
        raise RuntimeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    rows, cols = tuple(A.shape[:ind]), tuple(A.shape[ind:])
    n, m = math.prod(rows), math.prod(cols)
    if n != m:
        raise RuntimeError("Expected self to satisfy the requirement prod(self.shape[ind:]) "
                           f"== prod(self.shape[:ind]), but got {m} != {n}")
    return finish(inv(A.reshape(n, m)).reshape(cols + rows), out)


def tensorsolve(A: Tensor, B: Tensor, dims=None, *, out=None) -> Tensor:
    """X with tensordot(A, X, X.ndim) = B (A's `dims` moved to the end first)."""
    if dims is not None:
        dims = wrap_dims(dims, A.ndim)
        A = A.movedim(dims, tuple(range(A.ndim - len(dims), A.ndim)))
    rows, cols = tuple(A.shape[:B.ndim]), tuple(A.shape[B.ndim:])
    n, m = math.prod(rows), math.prod(cols)
    if n != m:
        raise RuntimeError("Expected self to satisfy the requirement "
                           "prod(self.shape[other.ndim:]) == prod(self.shape[:other.ndim]), "
                           f"but got {m} != {n}")
    return finish(solve(A.reshape(n, m), B.reshape(n)).reshape(cols), out)


def vander(x: Tensor, *, N: int | None = None) -> Tensor:
    """Vandermonde matrix with increasing powers x^0, x^1, ..., x^(N-1) along the last dim."""
    n = x.shape[-1] if N is None else int(N)
    if n <= 1:
        raise RuntimeError("N must be greater than 1.")
    from .ops.creation import ones_like
    cols = [ones_like(x)]
    for _ in range(1, n):
        cols.append(cols[-1] * x)
    from .ops.join import stack
    return stack(cols, dim=-1)
