"""Array-level building blocks of the sparse ops (NumPy on the CPU, CuPy on the GPU).

Everything reduces to three moves: order the stored elements by position (coalescing),
sum rows of an array into groups (`segment_sum`), and the sparse @ dense product
(`spmm`), which gathers the dense rows named by the column indices and sums them into
the output rows. SciPy's CSR product does the last one faster when SciPy is installed
(it is not a dependency of the core); the NumPy path is the reference and the fallback.
"""

from __future__ import annotations

import math

import numpy as np

from .. import backend
from .._dtype import bfloat16

_LOW_PRECISION = (np.dtype(np.float16), bfloat16.np)
# dtypes SciPy's sparse matrix kernels accept, by numpy dtype
_SCIPY_DTYPES = frozenset(np.dtype(t) for t in (np.float32, np.float64, np.complex64,
                                                 np.complex128, np.int32, np.int64))


def as_int64(array):
    return array if array.dtype == np.int64 else array.astype(np.int64)


def _work_dtype(dtype):
    """Half precision sums in float32 (as PyTorch accumulates), other dtypes as they are."""
    return np.dtype(np.float32) if dtype in _LOW_PRECISION else dtype


def conj(array):
    return array.conj() if array.dtype.kind == "c" else array


# -- ordering ----------------------------------------------------------------------------------

def linear_keys(indices, sizes):
    """Row-major position of each stored element among the sparse sizes, or None when the
    sparse part of the shape has too many elements for int64 positions."""
    xp = backend.of(indices)
    sparse_dim, nnz = indices.shape
    if sparse_dim == 0:
        return xp.zeros(nnz, dtype=np.int64)
    if math.prod(sizes) >= 2 ** 62:
        return None
    strides = [1] * sparse_dim
    for d in range(sparse_dim - 2, -1, -1):
        strides[d] = strides[d + 1] * int(sizes[d + 1])
    keys = indices[0] * strides[0]
    for d in range(1, sparse_dim):
        keys = keys + indices[d] * strides[d]
    return keys


def coalesce_plan(indices, sizes):
    """(sorted unique indices (sparse_dim, u), inverse (nnz,) mapping each element to its
    unique position): the order PyTorch's coalesce() leaves the indices in."""
    xp = backend.of(indices)
    keys = linear_keys(indices, sizes)
    if keys is None:  # lexicographic order of the index columns is the same order
        unique, inverse = np.unique(backend.to_numpy(indices), axis=1, return_inverse=True)
        return xp.asarray(unique), xp.asarray(inverse.reshape(-1))
    unique_keys, inverse = xp.unique(keys, return_inverse=True)
    inverse = inverse.reshape(-1)
    if indices.shape[0] == 0:
        return xp.zeros((0, unique_keys.shape[0]), dtype=np.int64), inverse
    unique = xp.stack(xp.unravel_index(unique_keys, tuple(int(s) for s in sizes)))
    return as_int64(unique), inverse


def is_sorted_unique(indices, sizes) -> bool:
    """Whether the index columns are strictly increasing (a coalesced tensor's indices)."""
    if indices.shape[1] < 2:
        return True
    keys = linear_keys(indices, sizes)
    if keys is not None:
        return bool((keys[1:] > keys[:-1]).all())
    # each column must exceed the previous one at the first row where they differ
    xp = backend.of(indices)
    step = indices[:, 1:] - indices[:, :-1]
    differs = step != 0
    first = xp.argmax(differs, axis=0)
    return bool(differs.any(axis=0).all()) and bool(
        (step[first, xp.arange(step.shape[1])] > 0).all())


# -- sums over groups of rows -------------------------------------------------------------------

def segment_sum(src, groups, n: int):
    """out (n, *src.shape[1:]) with out[g] = sum of src[i] over i where groups[i] == g."""
    xp = backend.of(src)
    dtype = src.dtype
    work = _work_dtype(dtype)
    out = xp.zeros((n,) + tuple(src.shape[1:]), dtype=work)
    if src.shape[0] == 0 or n == 0:
        return out.astype(dtype, copy=False)
    src = src.astype(work, copy=False)
    if xp is not np:
        xp.add.at(out, groups, src)
        return out.astype(dtype, copy=False)
    if src.ndim == 1 and work.kind == "f" and work.itemsize == 8:
        return np.bincount(groups, weights=src, minlength=n)
    # Sort once, then one reduceat over contiguous runs: much faster than np.add.at on rows.
    order = np.argsort(groups, kind="stable")
    sorted_groups = groups[order]
    starts = np.flatnonzero(np.concatenate(([True], sorted_groups[1:] != sorted_groups[:-1])))
    out[sorted_groups[starts]] = np.add.reduceat(src[order], starts, axis=0)
    return out.astype(dtype, copy=False)


def segment_max(src, groups, n: int):
    """out (n, *src.shape[1:]) with the max of src over each group (-inf for empty ones)."""
    xp = backend.of(src)
    out = xp.full((n,) + tuple(src.shape[1:]), -np.inf, dtype=_work_dtype(src.dtype))
    xp.maximum.at(out, groups, src.astype(out.dtype, copy=False))
    return out


# -- the sparse @ dense product -----------------------------------------------------------------

def spmm(rows, cols, vals, dense, n_rows: int):
    """out (n_rows, m): out[rows[e]] += vals[e] * dense[cols[e]] for every stored e."""
    if type(dense) is np.ndarray and dense.dtype in _SCIPY_DTYPES:
        csr = _scipy_csr(vals, rows, cols, (n_rows, dense.shape[0]))
        if csr is not None:
            return np.ascontiguousarray(csr @ dense, dtype=dense.dtype)
    return spmm_reference(rows, cols, vals, dense, n_rows)


def spmm_reference(rows, cols, vals, dense, n_rows: int):
    """spmm with array operations only (any dtype, NumPy or CuPy)."""
    work = _work_dtype(dense.dtype)
    contrib = vals.astype(work, copy=False)[:, None] * dense[cols].astype(work, copy=False)
    return segment_sum(contrib, rows, n_rows).astype(dense.dtype, copy=False)


def rowwise_dot(a, b):
    """sum(a * b, axis=1) for two (nnz, m) arrays, accumulated in at least float32."""
    xp = backend.of(a)
    work = _work_dtype(a.dtype)
    out = xp.einsum("ij,ij->i", a.astype(work, copy=False), b.astype(work, copy=False))
    return out.astype(a.dtype, copy=False)


def _scipy_csr(vals, rows, cols, shape):
    """A SciPy CSR matrix of the elements (duplicates summed), or None without SciPy."""
    try:
        from scipy import sparse as sp
    except ImportError:  # SciPy is optional: the NumPy path does the same work
        return None
    return sp.csr_matrix((vals, (rows, cols)), shape=shape)


# -- sparse @ sparse: the pairs of elements that meet ------------------------------------------

def pair_plan(rows1, cols1, rows2, k: int):
    """(e1, e2): every pair of stored elements with cols1[e1] == rows2[e2]; their products
    are the terms of sparse @ sparse before equal output positions are summed."""
    xp = backend.of(rows1)
    order2 = xp.argsort(rows2, kind="stable")
    counts = xp.bincount(rows2, minlength=k)
    starts = xp.cumsum(counts) - counts
    per = counts[cols1]  # partners of each element of the first operand
    total = int(per.sum())
    e1 = xp.repeat(xp.arange(rows1.shape[0]), backend.to_numpy(per).tolist()
                   if xp is not np else per)
    first = starts[cols1][e1]
    offset = xp.arange(total) - (xp.cumsum(per) - per)[e1]
    return e1, order2[first + offset]
