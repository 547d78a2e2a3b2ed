"""The differentiable sparse operations, as array-level autograd Functions.

A sparse tensor reaches `forward` as its `CooData` (indices, values, sizes); the gradient
that flows to it, and that `backward` returns for it, is values-shaped: one entry per
stored element. Index plans (the coalesce order, the pairs of sparse @ sparse, the
softmax groups) are worked out by the caller and passed in as parameters, so that the
callers can also build the output's indices from them.

Backward formulas that gather (`grad[index]`) run on Tensors too and so support
create_graph; the ones that scatter into rows are NumPy/CuPy only and are marked
`once_differentiable`.
"""

from __future__ import annotations

from .. import backend
from ..autograd.node import Function
from . import _kernels as K
from ._storage import CooData


def _values(a):
    return a.values if isinstance(a, CooData) else a


class Alias(Function):
    """The values unchanged: sparse_coo_tensor(), values(), t() and other index-only
    changes. `name` is PyTorch's node name for the op it stands for."""

    @staticmethod
    def forward(ctx, a, name):
        ctx.mark_name(name)
        return _values(a)

    @staticmethod
    def backward(ctx, grad):
        return grad


class ToDense(Function):
    """The dense tensor a sparse one stands for (duplicates summed)."""

    @staticmethod
    def forward(ctx, data):
        values = data.values
        xp = backend.of(values)
        index = tuple(data.indices)
        ctx.index = index
        ctx.nnz = values.shape[0]
        if not index:  # no sparse dims: every element adds to the one dense block
            return K.segment_sum(values, xp.zeros(values.shape[0], dtype="int64"), 1)[0]
        work = K._work_dtype(values.dtype)
        out = xp.zeros(data.sizes, dtype=work)
        if data.coalesced:
            out[index] = values
        else:
            xp.add.at(out, index, values.astype(work, copy=False))
        return out.astype(values.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        if not ctx.index:
            return ctx.xp.broadcast_to(ctx.xp.expand_dims(grad, 0),
                                       (ctx.nnz,) + tuple(grad.shape))
        return grad[ctx.index]


class ToSparse(Function):
    """The elements of a dense tensor at `index` (its nonzeros) as sparse values."""

    once_differentiable = True

    @staticmethod
    def forward(ctx, a, index, name):
        ctx.mark_name(name)
        ctx.index = index
        ctx.shape = a.shape
        return a[index]

    @staticmethod
    def backward(ctx, grad):
        out = ctx.xp.zeros(ctx.shape, dtype=grad.dtype)
        out[ctx.index] = grad
        return out


class Coalesce(Function):
    """Values of equal positions summed; `inverse` maps each element to its sum."""

    @staticmethod
    def forward(ctx, values, inverse, n, name="CoalesceBackward0"):
        ctx.mark_name(name)
        ctx.inverse = inverse
        return K.segment_sum(_values(values), inverse, n)

    @staticmethod
    def backward(ctx, grad):
        return grad[ctx.inverse]


class SparseMm(Function):
    """sparse @ dense or dense @ sparse (2-D; sparse 3-D @ dense 3-D for bmm)."""

    once_differentiable = True

    @staticmethod
    def forward(ctx, a, b, name):
        ctx.mark_name(name)
        sparse_first = isinstance(a, CooData)
        data, dense = (a, b) if sparse_first else (b, a)
        rows, cols, n_rows, n_cols = _flat_pairs(data)
        need = ctx.needs_input_grad
        if need:
            need_sparse, need_dense = (need[0], need[1]) if sparse_first else (need[1], need[0])
            ctx.save_for_backward(data.values if need_dense else None,
                                  dense if need_sparse else None)
            ctx.plan = (sparse_first, rows, cols, n_rows, n_cols, dense.shape)
        values = data.values
        if not sparse_first:  # D @ S = (S^T @ D^T)^T
            out = K.spmm(cols, rows, values, dense.T, n_cols).T
            return backend.of(out).ascontiguousarray(out)
        if dense.ndim == 3:  # batched: one product over the flattened batch
            flat = dense.reshape(n_cols, dense.shape[-1])
            return K.spmm(rows, cols, values, flat, n_rows).reshape(
                data.sizes[:2] + (dense.shape[-1],))
        return K.spmm(rows, cols, values, dense, n_rows)

    @staticmethod
    def backward(ctx, grad):
        values, dense = ctx.saved_arrays
        sparse_first, rows, cols, n_rows, n_cols, dense_shape = ctx.plan
        need = ctx.needs_input_grad
        need_sparse, need_dense = (need[0], need[1]) if sparse_first else (need[1], need[0])
        g_values = g_dense = None
        if sparse_first:
            g = grad.reshape(n_rows, grad.shape[-1])
            if need_dense:
                g_dense = K.spmm(cols, rows, K.conj(values), g, n_cols).reshape(dense_shape)
            if need_sparse:
                d = dense.reshape(n_cols, dense.shape[-1])
                g_values = K.rowwise_dot(g[rows], K.conj(d[cols]))
            return g_values, g_dense
        # out = D @ S with S (k, m): d out[i, c_e] / d v_e = D[i, r_e]
        if need_dense:
            g_dense = K.spmm(rows, cols, K.conj(values), grad.T, n_rows).T
        if need_sparse:
            g_values = K.rowwise_dot(grad.T[cols], K.conj(dense.T[rows]))
        return g_dense, g_values


def _flat_pairs(data):
    """(rows, cols, n_rows, n_cols) of a 2-D sparse matrix, or of a batch of them with
    batch b's rows and columns numbered after those of batches 0..b-1."""
    indices, sizes = data.indices, data.sizes
    if len(sizes) == 2:
        return indices[0], indices[1], sizes[0], sizes[1]
    batch, n, k = sizes
    return (indices[0] * n + indices[1], indices[0] * k + indices[2], batch * n, batch * k)


class SparsePairProduct(Function):
    """v1[e1] * v2[e2]: the terms of sparse @ sparse (summed afterwards by Coalesce)."""

    once_differentiable = True

    @staticmethod
    def forward(ctx, a, b, e1, e2):
        v1, v2 = a.values, b.values
        need = ctx.needs_input_grad
        if need:
            ctx.save_for_backward(v1 if need[1] else None, v2 if need[0] else None)
            ctx.plan = (e1, e2, v1.shape[0], v2.shape[0])
        return v1[e1] * v2[e2]

    @staticmethod
    def backward(ctx, grad):
        v1, v2 = ctx.saved_arrays
        e1, e2, n1, n2 = ctx.plan
        need = ctx.needs_input_grad
        g1 = K.segment_sum(grad * K.conj(v2[e2]), e1, n1) if need[0] else None
        g2 = K.segment_sum(grad * K.conj(v1[e1]), e2, n2) if need[1] else None
        return g1, g2


class SparseSoftmax(Function):
    """Softmax (or log-softmax) over the stored elements of each group; the elements a
    sparse tensor does not store count as -inf."""

    once_differentiable = True

    @staticmethod
    def forward(ctx, data, groups, n, log):
        ctx.mark_name("SparseLogSoftmaxBackward0" if log else "SparseSoftmaxBackward0")
        v = data.values
        xp = backend.of(v)
        work = K._work_dtype(v.dtype)
        shifted = v.astype(work, copy=False) - K.segment_max(v, groups, n)[groups]
        sums = K.segment_sum(xp.exp(shifted), groups, n)
        if log:
            out = shifted - xp.log(sums)[groups]
        else:
            out = xp.exp(shifted) / sums[groups]
        out = out.astype(v.dtype, copy=False)
        if ctx.needs_input_grad:
            ctx.save_for_backward(out)
            ctx.plan = (groups, n, log)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_arrays
        groups, n, log = ctx.plan
        if log:
            return grad - ctx.xp.exp(out) * K.segment_sum(grad, groups, n)[groups]
        return out * (grad - K.segment_sum(grad * out, groups, n)[groups])
