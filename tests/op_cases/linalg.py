"""Op-test descriptions for ops/linalg.py and taimatsu.linalg (shared by core and parity).

Decompositions fix their factors only up to signs/phases (SVD, eigenvectors), so those
cases test gauge-invariant functions of the factors: U f(S) Vh, V f(L) V^H, |U|^2.
Matrices come well conditioned (random + n*I) or positive-definite where the op needs it.
"""

import numpy as np

import taimatsu
from taimatsu.testing import Arg, OpCase

COMPLEX = (taimatsu.complex64, taimatsu.complex128)


def _noise(rng, shape, dtype):
    x = rng.uniform(-1, 1, shape)
    if np.dtype(dtype).kind == "c":
        x = x + 1j * rng.uniform(-1, 1, shape)
    return x


def well_conditioned(rng, shape, dtype):
    """Random square matrices shifted away from singularity (n on the diagonal)."""
    n = shape[-1]
    return (_noise(rng, shape, dtype) + n * np.eye(n)).astype(dtype)


def spd(rng, shape, dtype):
    """Hermitian positive-definite matrices A A^H + n I."""
    a = _noise(rng, shape, dtype)
    n = shape[-1]
    return (a @ np.swapaxes(a.conj(), -1, -2) + n * np.eye(n)).astype(dtype)


def lower_factor(rng, shape, dtype):
    """Lower-triangular matrices with a positive diagonal (Cholesky factors)."""
    return (np.tril(_noise(rng, shape, dtype), -1) + np.diag(rng.uniform(1, 2, shape[-1]))
            ).astype(dtype)


def hermitian(rng, shape, dtype):
    """Hermitian matrices with well-separated eigenvalues."""
    a = _noise(rng, shape, dtype)
    n = shape[-1]
    return (0.5 * (a + np.swapaxes(a.conj(), -1, -2)) + np.diag(np.arange(n) * 2.0)
            ).astype(dtype)


def separated_spectrum(rng, shape, dtype):
    """Matrices with well-separated singular values (and eigenvalues)."""
    m, n = shape[-2:]
    k = min(m, n)
    base = np.zeros(shape)
    base[..., range(k), range(k)] = np.arange(k, 0, -1) * 1.5
    return (base + 0.3 * _noise(rng, shape, dtype)).astype(dtype)


SQ = Arg((3, 3), fn=well_conditioned)
BSQ = Arg((2, 3, 3), fn=well_conditioned)
SPD = Arg((3, 3), fn=spd)
BSPD = Arg((2, 3, 3), fn=spd)
HERM = Arg((2, 3, 3), fn=hermitian)
TALL = Arg((4, 3), fn=separated_spectrum)
WIDE = Arg((3, 4), fn=separated_spectrum)


def both(fn):
    """op / torch_op pair from one function written against a library namespace."""
    return {"op": lambda *a, **k: fn(taimatsu, *a, **k),
            "torch_op": lambda torch, *a, **k: fn(torch, *a, **k)}


def _svd_invariants(lib, a, full_matrices=False):
    u, s, vh = lib.linalg.svd(a, full_matrices=full_matrices)
    k = s.shape[-1]
    u, vh = u[..., :k], vh[..., :k, :]
    return (u * s.exp().unsqueeze(-2)) @ vh, u * u.conj(), vh * vh.conj(), s


def _eigh_invariants(lib, a, UPLO="L"):
    w, v = lib.linalg.eigh(a, UPLO=UPLO)
    return (v * (w * w).unsqueeze(-2)) @ v.mH, v * v.conj(), w


def _eig_invariants(lib, a):
    w, v = lib.linalg.eig(a)
    return (v * w.exp().unsqueeze(-2)) @ lib.linalg.inv(v), w


def _sym(lib, a):
    """Symmetrize first: the op reads one triangle, finite differences perturb both."""
    return a + a.mH if a.is_complex() else a + a.mT


CASES = [
    # -- products --------------------------------------------------------------------------
    OpCase("matmul[mm]", inputs=[(3, 4), (4, 2)], numpy_op=np.matmul),
    OpCase("matmul[dot]", inputs=[(4,), (4,)], numpy_op=np.matmul),
    OpCase("matmul[mv]", inputs=[(3, 4), (4,)], numpy_op=np.matmul),
    OpCase("matmul[vm]", inputs=[(4,), (4, 2)], numpy_op=np.matmul),
    OpCase("matmul[batched-2d]", inputs=[(2, 3, 4), (4, 2)], numpy_op=np.matmul),
    OpCase("matmul[2d-batched]", inputs=[(3, 4), (2, 4, 2)], numpy_op=np.matmul),
    OpCase("matmul[broadcast]", inputs=[(2, 1, 3, 4), (5, 4, 2)], numpy_op=np.matmul),
    OpCase("matmul[vec-batched]", inputs=[(4,), (2, 4, 3)], numpy_op=np.matmul),
    OpCase("matmul[batched-vec]", inputs=[(2, 3, 4), (4,)], numpy_op=np.matmul),
    OpCase("matmul[complex]", inputs=[(2, 3, 4), (4, 2)], numpy_op=np.matmul, dtypes=COMPLEX),
    OpCase("matmul[int]", inputs=[Arg((2, 3), dtype=taimatsu.int64, low=-4, high=4),
                                  Arg((3, 2), dtype=taimatsu.int64, low=-4, high=4)],
           numpy_op=np.matmul, grad=False),
    OpCase("mm", inputs=[(3, 4), (4, 2)], numpy_op=np.matmul),
    OpCase("bmm", inputs=[(2, 3, 4), (2, 4, 5)], numpy_op=np.matmul),
    OpCase("mv", inputs=[(3, 4), (4,)], numpy_op=np.matmul),
    OpCase("dot", inputs=[(5,), (5,)], numpy_op=np.dot),
    OpCase("vdot", inputs=[(5,), (5,)], numpy_op=np.vdot),
    OpCase("vdot[complex]", op=taimatsu.vdot, torch_op="vdot", inputs=[(5,), (5,)],
           numpy_op=np.vdot, dtypes=COMPLEX),
    OpCase("inner", inputs=[(2, 3, 4), (5, 4)], numpy_op=np.inner),
    OpCase("outer", inputs=[(3,), (4,)], numpy_op=np.outer),
    OpCase("ger", inputs=[(3,), (4,)], numpy_op=np.outer),
    OpCase("addmm", inputs=[(2, 5), (2, 3), (3, 5)], kwargs={"beta": 0.5, "alpha": 2.0},
           numpy_op=lambda i, a, b, beta, alpha: beta * i + alpha * a @ b),
    OpCase("addmm[broadcast]", op=taimatsu.addmm, torch_op="addmm",
           inputs=[(5,), (2, 3), (3, 5)], numpy_op=lambda i, a, b: i + a @ b),
    OpCase("addmv", inputs=[(2,), (2, 3), (3,)], kwargs={"alpha": -1.5},
           numpy_op=lambda i, a, b, alpha: i + alpha * a @ b),
    OpCase("baddbmm", inputs=[(2, 3, 4), (2, 3, 5), (2, 5, 4)], kwargs={"beta": 2.0},
           numpy_op=lambda i, a, b, beta: beta * i + a @ b),
    OpCase("addbmm", inputs=[(3, 4), (2, 3, 5), (2, 5, 4)],
           numpy_op=lambda i, a, b: i + (a @ b).sum(0)),
    OpCase("addr", inputs=[(3, 4), (3,), (4,)], kwargs={"beta": 0.0, "alpha": 3.0},
           numpy_op=lambda i, a, b, beta, alpha: alpha * np.outer(a, b)),
    OpCase("einsum[bmm]", **both(lambda lib, a, b: lib.einsum("bij,bjk->bik", a, b)),
           inputs=[(2, 3, 4), (2, 4, 5)], numpy_op=lambda a, b: np.einsum("bij,bjk->bik", a, b)),
    OpCase("einsum[trace]", **both(lambda lib, a: lib.einsum("ii", a)), inputs=[(4, 4)],
           numpy_op=np.trace),
    OpCase("einsum[diag-batch]", **both(lambda lib, a, b: lib.einsum("bii,ij->bj", a, b)),
           inputs=[(2, 3, 3), (3, 4)], numpy_op=lambda a, b: np.einsum("bii,ij->bj", a, b)),
    OpCase("einsum[sum-out]", **both(lambda lib, a: lib.einsum("ijk->j", a)),
           inputs=[(2, 3, 4)], numpy_op=lambda a: a.sum((0, 2))),
    OpCase("einsum[ellipsis-broadcast]",
           **both(lambda lib, a, b: lib.einsum("...ij,...jk", a, b)),
           inputs=[(1, 3, 4), (2, 4, 2)], numpy_op=np.matmul),
    OpCase("einsum[three]", **both(lambda lib, a, b, c: lib.einsum("ij,jk,kl->li", a, b, c)),
           inputs=[(2, 3), (3, 4), (4, 2)],
           numpy_op=lambda a, b, c: (a @ b @ c).T),
    OpCase("einsum[list]", **both(lambda lib, a, b: lib.einsum("i,j->ij", [a, b])),
           inputs=[(3,), (2,)], numpy_op=np.outer),
    OpCase("einsum[complex]", **both(lambda lib, a, b: lib.einsum("ij,jk->ik", a, b)),
           inputs=[(2, 3), (3, 2)], numpy_op=np.matmul, dtypes=COMPLEX),
    OpCase("tensordot", inputs=[(2, 3, 4), (3, 4, 5)], kwargs={"dims": 2},
           numpy_op=lambda a, b, dims: np.tensordot(a, b, dims)),
    OpCase("tensordot[lists]", op=taimatsu.tensordot, torch_op="tensordot",
           inputs=[(2, 3, 4), (4, 2)], kwargs={"dims": ([0, 2], [1, 0])},
           numpy_op=lambda a, b, dims: np.tensordot(a, b, dims)),
    OpCase("kron", inputs=[(2, 3), (3, 2)], numpy_op=np.kron),
    OpCase("kron[ranks]", op=taimatsu.kron, torch_op="kron", inputs=[(2,), (2, 3, 2)],
           numpy_op=np.kron),
    OpCase("cross", inputs=[(4, 3), (4, 3)], kwargs={"dim": 1},
           numpy_op=lambda a, b, dim: np.cross(a, b, axis=dim)),
    OpCase("linalg.cross", inputs=[(2, 1, 3), (4, 3)],
           **both(lambda lib, a, b: lib.linalg.cross(a, b.unsqueeze(0))),
           numpy_op=lambda a, b: np.cross(a, b)),
    OpCase("trace", inputs=[(3, 4)], numpy_op=np.trace),
    OpCase("linalg.multi_dot", **both(lambda lib, *ts: lib.linalg.multi_dot(list(ts))),
           inputs=[(3,), (3, 5), (5, 2), (2, 4)],
           numpy_op=lambda *ts: np.linalg.multi_dot(ts)),
    OpCase("chain_matmul", **both(lambda lib, *ts: lib.chain_matmul(*ts)),
           inputs=[(2, 3), (3, 5), (5, 2)], numpy_op=lambda *ts: np.linalg.multi_dot(ts)),
    OpCase("linalg.vecdot", inputs=[(2, 3), (3,)], kwargs={"dim": -1},
           numpy_op=lambda a, b, dim: (a * b).sum(-1)),

    # -- inverses, solvers, determinants --------------------------------------------------------
    OpCase("linalg.inv", inputs=[BSQ], numpy_op=np.linalg.inv),
    OpCase("linalg.inv[complex]", op=taimatsu.linalg.inv, torch_op="linalg.inv",
           inputs=[BSQ], numpy_op=np.linalg.inv, dtypes=COMPLEX),
    OpCase("inverse", inputs=[SQ], numpy_op=np.linalg.inv),
    OpCase("linalg.inv_ex", inputs=[SQ], numpy_op=lambda a: (np.linalg.inv(a), np.int32(0))),
    OpCase("linalg.solve", inputs=[BSQ, (3, 2)], numpy_op=np.linalg.solve),
    OpCase("linalg.solve[vector]", op=taimatsu.linalg.solve, torch_op="linalg.solve",
           inputs=[BSQ, (3,)], numpy_op=lambda a, b: np.linalg.solve(a, b[:, None])[..., 0]),
    OpCase("linalg.solve[batched-vector]", op=taimatsu.linalg.solve, torch_op="linalg.solve",
           inputs=[BSQ, (2, 3)], numpy_op=lambda a, b: np.linalg.solve(a, b[..., None])[..., 0]),
    OpCase("linalg.solve[right]", **both(lambda lib, a, b: lib.linalg.solve(a, b, left=False)),
           inputs=[SQ, (4, 3)], numpy_op=lambda a, b: np.linalg.solve(a.T, b.T).T),
    OpCase("linalg.solve[complex]", op=taimatsu.linalg.solve, torch_op="linalg.solve",
           inputs=[BSQ, (2, 3, 2)], numpy_op=np.linalg.solve, dtypes=COMPLEX),
    OpCase("linalg.solve_triangular", inputs=[Arg((3, 3), fn=spd), (3, 2)],
           kwargs={"upper": True},
           numpy_op=lambda a, b, upper: np.linalg.solve(np.triu(a), b)),
    OpCase("linalg.tensorinv", inputs=[Arg((2, 3, 6), fn=lambda r, s, d: well_conditioned(
        r, (6, 6), d).reshape(s))], kwargs={"ind": 2},
           numpy_op=lambda a, ind: np.linalg.tensorinv(a, ind)),
    OpCase("linalg.tensorsolve", inputs=[Arg((2, 3, 6), fn=lambda r, s, d: well_conditioned(
        r, (6, 6), d).reshape(s)), (2, 3)], numpy_op=np.linalg.tensorsolve),
    OpCase("linalg.tensorsolve[dims]", **both(
        lambda lib, a, b: lib.linalg.tensorsolve(a, b, dims=(0,))),
           inputs=[Arg((6, 2, 3), fn=lambda r, s, d: well_conditioned(
               r, (6, 6), d).T.reshape(s)), (2, 3)],
           numpy_op=lambda a, b: np.linalg.tensorsolve(a, b, axes=(0,))),
    OpCase("linalg.vander", inputs=[(2, 4)], kwargs={"N": 3},
           numpy_op=lambda x, N: np.stack([x ** k for k in range(N)], -1)),
    OpCase("linalg.det", inputs=[BSQ], numpy_op=np.linalg.det),
    OpCase("linalg.det[complex]", op=taimatsu.linalg.det, torch_op="linalg.det", inputs=[SQ],
           numpy_op=np.linalg.det, dtypes=COMPLEX),
    OpCase("det", inputs=[Arg((3, 3))], numpy_op=np.linalg.det),
    OpCase("linalg.slogdet", inputs=[BSQ], numpy_op=lambda a: tuple(np.linalg.slogdet(a))),
    OpCase("linalg.slogdet[complex]", **both(lambda lib, a: lib.linalg.slogdet(a)),
           inputs=[SQ], dtypes=COMPLEX, numpy_op=lambda a: tuple(np.linalg.slogdet(a))),
    OpCase("logdet", inputs=[BSPD], numpy_op=lambda a: np.linalg.slogdet(a)[1]),
    OpCase("linalg.matrix_power", inputs=[BSQ, 3],
           numpy_op=np.linalg.matrix_power),
    OpCase("linalg.matrix_power[negative]", op=taimatsu.linalg.matrix_power,
           torch_op="linalg.matrix_power", inputs=[SQ, -2], numpy_op=np.linalg.matrix_power),
    OpCase("linalg.matrix_exp", inputs=[Arg((2, 3, 3))],
           numpy_op=lambda a: _expm_reference(a)),
    OpCase("linalg.pinv", inputs=[TALL], numpy_op=np.linalg.pinv),
    OpCase("linalg.pinv[wide-batched]", op=taimatsu.linalg.pinv, torch_op="linalg.pinv",
           inputs=[Arg((2, 3, 4), fn=separated_spectrum)], numpy_op=np.linalg.pinv),
    OpCase("linalg.pinv[hermitian]", **both(
        lambda lib, a: lib.linalg.pinv(_sym(lib, a), hermitian=True)),
           inputs=[SPD], numpy_op=lambda a: np.linalg.pinv(a + a.T, hermitian=True)),
    OpCase("pinverse", inputs=[WIDE], numpy_op=np.linalg.pinv),
    OpCase("linalg.lstsq", **both(lambda lib, a, b: lib.linalg.lstsq(a, b).solution),
           inputs=[TALL, (4, 2)], numpy_op=lambda a, b: np.linalg.lstsq(a, b)[0]),

    # -- decompositions ---------------------------------------------------------------------------
    OpCase("linalg.cholesky", **both(lambda lib, a: lib.linalg.cholesky(_sym(lib, a))),
           inputs=[BSPD], numpy_op=lambda a: np.linalg.cholesky(_np_sym(a))),
    OpCase("linalg.cholesky[upper]", **both(
        lambda lib, a: lib.linalg.cholesky(_sym(lib, a), upper=True)),
           inputs=[SPD], numpy_op=lambda a: np.linalg.cholesky(_np_sym(a)).T),
    OpCase("linalg.cholesky[complex]", **both(lambda lib, a: lib.linalg.cholesky(_sym(lib, a))),
           inputs=[SPD], numpy_op=lambda a: np.linalg.cholesky(_np_sym(a)), dtypes=COMPLEX),
    OpCase("cholesky", **both(lambda lib, a: lib.cholesky(_sym(lib, a))), inputs=[SPD],
           numpy_op=lambda a: np.linalg.cholesky(_np_sym(a))),
    OpCase("linalg.qr", inputs=[TALL], numpy_op=lambda a: tuple(np.linalg.qr(a))),
    OpCase("linalg.qr[square-batched]", op=taimatsu.linalg.qr, torch_op="linalg.qr",
           inputs=[BSQ], numpy_op=lambda a: tuple(np.linalg.qr(a))),
    OpCase("linalg.qr[wide]", op=taimatsu.linalg.qr, torch_op="linalg.qr", inputs=[WIDE],
           numpy_op=lambda a: tuple(np.linalg.qr(a))),
    OpCase("linalg.qr[complex]", op=taimatsu.linalg.qr, torch_op="linalg.qr", inputs=[TALL],
           numpy_op=lambda a: tuple(np.linalg.qr(a)), dtypes=COMPLEX),
    OpCase("linalg.svd[invariants]", **both(_svd_invariants), inputs=[TALL]),
    OpCase("linalg.svd[invariants-wide-batched]", **both(_svd_invariants),
           inputs=[Arg((2, 3, 4), fn=separated_spectrum)], rtol=1e-5),  # cuSOLVER vs LAPACK
    OpCase("linalg.svd[invariants-full]", **both(
        lambda lib, a: _svd_invariants(lib, a, full_matrices=True)), inputs=[WIDE]),
    OpCase("linalg.svd[invariants-complex]", **both(_svd_invariants), inputs=[TALL],
           dtypes=COMPLEX),
    OpCase("svd[legacy-invariants]", **both(
        lambda lib, a: (lambda u, s, v: ((u * s.exp().unsqueeze(-2)) @ v.mT, u * u, s))(
            *lib.svd(a))), inputs=[TALL]),
    OpCase("qr[legacy]", **both(lambda lib, a: tuple(lib.qr(a))), inputs=[TALL],
           numpy_op=lambda a: tuple(np.linalg.qr(a))),
    OpCase("cholesky_solve", inputs=[(3, 2), Arg((3, 3), fn=lower_factor)],
           numpy_op=lambda b, low: np.linalg.solve(low @ low.T, b)),
    OpCase("cholesky_inverse[upper]", **both(lambda lib, u: lib.cholesky_inverse(u, upper=True)),
           inputs=[Arg((3, 3), fn=lambda *a: lower_factor(*a).T)],
           numpy_op=lambda u: np.linalg.inv(u.T @ u)),
    OpCase("linalg.svdvals", inputs=[Arg((2, 4, 3), fn=separated_spectrum)],
           numpy_op=lambda a: np.linalg.svd(a, compute_uv=False)),
    OpCase("linalg.eigh[invariants]", **both(lambda lib, a: _eigh_invariants(lib, _sym(lib, a))),
           inputs=[HERM]),
    OpCase("linalg.eigh[invariants-upper]", **both(
        lambda lib, a: _eigh_invariants(lib, _sym(lib, a), UPLO="U")), inputs=[HERM]),
    OpCase("linalg.eigh[invariants-complex]", **both(
        lambda lib, a: _eigh_invariants(lib, a + a.mH)), inputs=[HERM], dtypes=COMPLEX),
    OpCase("linalg.eigvalsh", **both(lambda lib, a: lib.linalg.eigvalsh(_sym(lib, a))),
           inputs=[HERM], numpy_op=lambda a: np.linalg.eigvalsh(a + np.swapaxes(a, -1, -2))),
    OpCase("linalg.eig[invariants]", **both(_eig_invariants),
           inputs=[Arg((3, 3), fn=separated_spectrum)]),
    OpCase("linalg.eigvals", inputs=[Arg((3, 3), fn=hermitian)],
           **both(lambda lib, a: lib.linalg.eigvals(a).real.sort().values),
           numpy_op=lambda a: np.sort(np.linalg.eigvals(a).real)),

    # -- norms ---------------------------------------------------------------------------------------
    OpCase("linalg.vector_norm", inputs=[(3, 4)], numpy_op=lambda a: np.linalg.norm(a)),
    OpCase("linalg.vector_norm[ord-dim]", op=taimatsu.linalg.vector_norm,
           torch_op="linalg.vector_norm", inputs=[(2, 3, 4)],
           kwargs={"ord": 3, "dim": (0, 2), "keepdim": True},
           numpy_op=lambda a, ord, dim, keepdim: (np.abs(a) ** 3).sum(dim, keepdims=True)
           ** (1 / 3)),
    OpCase("linalg.norm", inputs=[(3, 4)], numpy_op=np.linalg.norm),
    OpCase("linalg.norm[nuc]", **both(lambda lib, a: lib.linalg.norm(a, "nuc")),
           inputs=[TALL], numpy_op=lambda a: np.linalg.norm(a, "nuc")),
    OpCase("linalg.norm[vector-ord]", **both(lambda lib, a: lib.linalg.norm(a, 1, dim=-1)),
           inputs=[(3, 4)], numpy_op=lambda a: np.abs(a).sum(-1)),
] + [
    OpCase(f"linalg.matrix_norm[{ord}]", **both(
        lambda lib, a, ord=ord: lib.linalg.matrix_norm(a, ord)),
           inputs=[Arg((2, 4, 3), fn=separated_spectrum)],
           numpy_op=lambda a, ord=ord: np.linalg.norm(a, ord, axis=(-2, -1)))
    for ord in ("fro", "nuc", 2, -2, 1, -1, float("inf"), float("-inf"))
] + [
    OpCase("linalg.matrix_norm[dims-keepdim]", **both(
        lambda lib, a: lib.linalg.matrix_norm(a, 1, dim=(2, 0), keepdim=True)),
           inputs=[Arg((3, 2, 4), fn=separated_spectrum)],
           numpy_op=lambda a: np.linalg.norm(a, 1, axis=(2, 0), keepdims=True)),
    OpCase("linalg.cond", inputs=[BSQ], numpy_op=np.linalg.cond),
    # torch's own backward of cond(A, 'fro') fails (an in-place write on inv's output)
    OpCase("linalg.cond[fro]", **both(lambda lib, a: lib.linalg.cond(a, "fro")), inputs=[SQ],
           numpy_op=lambda a: np.linalg.cond(a, "fro"), parity=False),
]


def _np_sym(a):
    return a + np.swapaxes(a.conj(), -1, -2)


def _expm_reference(a):
    """exp(A) through an eigen-decomposition (the test matrices are diagonalizable)."""
    w, v = np.linalg.eig(a)
    return np.real(v @ (np.exp(w)[..., None] * np.linalg.inv(v)))
