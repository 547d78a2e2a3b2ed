"""Attention: scaled_dot_product_attention and multi_head_attention_forward.

Both run on one fused Function, `_Attention`: softmax(q k^T * scale + bias) v computed over
whole batched arrays (every batch and head in one matmul), with a backward of its own that
reuses the probabilities forward computed instead of recording a dozen graph nodes.
On CUDA, scaled_dot_product_attention without dropout runs `_FusedAttention` instead: the
flash-attention kernels of backend/cuda/attention.py, which never store the probabilities.
"""

from __future__ import annotations

import math

import numpy as np

from ... import _dtype as D
from ..._tensor import Tensor
from ...amp._state import hook as _autocast
from ...autograd import _graph_xp
from ...autograd.node import Function
from ...backend.cuda import use_kernels
from ...ops._util import sum_to
from ...ops.linalg import _CPP_NAMES, _mm

__all__ = ["scaled_dot_product_attention", "multi_head_attention_forward"]


def _softmax_rows(s, masked: bool):
    """In-place softmax over the last axis of array `s`.

    With `masked`, rows that are entirely -inf (every key masked out) give zeros, as
    torch's scaled_dot_product_attention does; otherwise they give NaN, as the explicit
    softmax of torch's multi-head attention with need_weights=True does.
    """
    xp = np if type(s) is np.ndarray else _array_module(s)
    m = s.max(axis=-1, keepdims=True)
    if masked:
        m[m == -xp.inf] = 0
    with np.errstate(invalid="ignore"):  # -inf - -inf in fully masked rows
        s -= m
    xp.exp(s, out=s)
    d = s.sum(axis=-1, keepdims=True)
    if masked:
        d[d == 0] = 1
    s /= d
    return s


def _array_module(a):
    from ... import backend
    return backend.of(a)


def _scores(xp, q, k, bias, scale):
    """q k^T * scale + bias (array or Tensor operands)."""
    s = xp.matmul(q, xp.swapaxes(k, -1, -2)) * scale
    return s if bias is None else s + bias


class _Attention(Function):
    """softmax(q k^T * scale + bias) v, with the probabilities as an optional second output.

    `bias` is an additive float mask (or None) broadcastable to the scores; `keep` is the
    dropout mask already divided by the keep probability (or None). With `weights=True`
    forward also returns the (dropped-out) probabilities, as multi-head attention does.
    """

    @staticmethod
    def forward(ctx, q, k, v, bias, keep, *, scale, weights):
        xp = np if type(q) is np.ndarray else _array_module(q)
        # scaling q (fewer elements than s), in q's dtype: a Python float would lift
        # bfloat16 to float32
        s = _mm(xp, q * xp.asarray(scale, dtype=q.dtype), xp.swapaxes(k, -1, -2))
        if bias is not None:
            if np.broadcast_shapes(s.shape, bias.shape) == s.shape:
                s += bias
            else:
                s = s + bias
        p = _softmax_rows(s, bias is not None and not weights)
        pd = p if keep is None else p * keep
        out = _mm(xp, pd, v)
        if ctx.needs_input_grad:
            ctx.scale = scale
            ctx.bias_shape = None if bias is None else bias.shape
            ctx.save_for_backward(q, k, v, bias, keep, p, None if keep is None else pd)
        return (out, pd) if weights else out

    @staticmethod
    def backward(ctx, grad, grad_weights=None):
        q, k, v, bias, keep, p, pd = ctx.saved_arrays
        xp = ctx.xp
        scale = ctx.scale
        graph = xp is _graph_xp
        if graph:
            # Second derivatives need the probabilities as a function of q, k and bias.
            s = _scores(xp, q, k, bias, scale)
            shift = np.max(s._data, axis=-1, keepdims=True)
            shift[~np.isfinite(shift)] = 0
            e = xp.exp(s - Tensor._make(shift))
            den = xp.sum(e, axis=-1, keepdims=True)
            p = e / xp.where(den == 0, 1, den)
            pd = p if keep is None else p * keep
        elif pd is None:
            pd = p
        need = ctx.needs_input_grad
        gv = None
        if need[2]:
            gv = sum_to(xp.matmul(xp.swapaxes(pd, -1, -2), grad), v.shape)
        if not (need[0] or need[1] or need[3]):
            return None, None, gv, None, None
        gp = xp.matmul(grad, xp.swapaxes(v, -1, -2))
        if grad_weights is not None:
            gp = _add(gp, grad_weights, graph)
        if keep is not None:
            gp = _mul(gp, keep, graph)
        gs = _softmax_grad(xp, gp, p, graph)
        gq = gk = None
        if need[0]:
            gq = sum_to(_mul(xp.matmul(gs, k), scale, graph), q.shape)
        if need[1]:
            gk = sum_to(_mul(xp.matmul(xp.swapaxes(gs, -1, -2), q), scale, graph), k.shape)
        gb = sum_to(gs, ctx.bias_shape) if need[3] else None
        return gq, gk, gv, gb, None


def _mul(a, b, graph: bool):
    """a * b, in place on `a` (a fresh array) unless building a graph."""
    if graph:
        return a * b
    a *= b
    return a


def _add(a, b, graph: bool):
    """a + b, in place on `a` (a fresh array) unless building a graph."""
    if graph:
        return a + b
    a += b
    return a


def _softmax_grad(xp, g, p, graph: bool):
    """p * (g - sum(g * p, -1)): the gradient through a softmax, given the gradient g of
    its output; computed in place on g (a fresh array) unless building a graph."""
    if graph:
        return p * (g - xp.sum(g * p, axis=-1, keepdims=True))
    t = g * p
    g -= t.sum(axis=-1, keepdims=True)
    g *= p
    return g


def _dropout_keep(shape, p: float, like: Tensor):
    """The dropout mask for attention probabilities, scaled by 1 / (1 - p)."""
    from ...ops.random import rand
    if p >= 1:
        return np.zeros(shape, dtype=like._data.dtype) if like.is_cpu else \
            _array_module(like._data).zeros(shape, dtype=like._data.dtype)
    u = rand(shape, dtype=like.dtype, device=like.device)._data
    keep = (u < 1 - p).astype(like._data.dtype)
    keep *= 1 / (1 - p)
    return keep


def _float_mask(mask: Tensor, dtype: D.dtype) -> Tensor:
    """A boolean 'may attend' mask as an additive 0 / -inf float mask."""
    data = mask._data
    xp = np if type(data) is np.ndarray else _array_module(data)
    zero, ninf = xp.zeros((), dtype=dtype.np), xp.full((), -xp.inf, dtype=dtype.np)
    return Tensor._make(xp.where(data, zero, ninf))


def _causal_mask(L: int, S: int, like: Tensor) -> Tensor:
    """Top-left aligned lower-triangular 'may attend' mask, as torch's is_causal."""
    xp = np if like.is_cpu else _array_module(like._data)
    return Tensor._make(xp.tril(xp.ones((L, S), dtype=bool)))


def _check_sdpa_inputs(query, key, value, attn_mask):
    dq, dk, dv = query.dtype, key.dtype, value.dtype
    if not (dq is dk is dv):
        raise RuntimeError(
            "Expected query, key, and value to have the same dtype, but got query.dtype: "
            f"{_CPP_NAMES[dq.name]} key.dtype: {_CPP_NAMES[dk.name]} and value.dtype: "
            f"{_CPP_NAMES[dv.name]} instead.")
    if attn_mask is not None and attn_mask.dtype is not D.bool and attn_mask.dtype is not dq:
        raise RuntimeError(
            "Expected attn_mask dtype to be bool or float or to match query dtype, but got "
            f"attn_mask.dtype: {_CPP_NAMES[attn_mask.dtype.name]} and  query.dtype: "
            f"{_CPP_NAMES[dq.name]} instead.")
    if query.ndim < 2 or key.ndim < 2 or value.ndim < 2:
        raise RuntimeError("scaled_dot_product_attention: query, key and value must be at "
                           "least 2-D")
    if query.shape[-1] != key.shape[-1]:
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: "
            f"[{key.shape[-1]}, {query.shape[-1]}] but got: "
            f"[{key.shape[-2]}, {key.shape[-1]}].")
    if key.shape[-2] != value.shape[-2]:
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: "
            f"[{value.shape[-2]}, {key.shape[-2]}] but got: [{value.shape[-2]}, "
            f"{value.shape[-1]}].")


def _repeat_kv_heads(query: Tensor, key: Tensor, value: Tensor):
    """Grouped-query attention: each key/value head serves a block of query heads."""
    hq, hk, hv = query.shape[-3], key.shape[-3], value.shape[-3]
    if hq % hk or hq % hv:
        raise RuntimeError("Number of heads in key and value must divide the number of "
                           "heads in ")
    if hk != hq:
        key = key.repeat_interleave(hq // hk, dim=-3)
    if hv != hq:
        value = value.repeat_interleave(hq // hv, dim=-3)
    return key, value


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor,
                                 attn_mask: Tensor | None = None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """softmax(query key^T * scale + mask) value, over batched (..., L, E) inputs.

    Args:
        attn_mask: boolean (True = may attend) or additive float mask, broadcastable to
            (..., L, S)
        is_causal: attend only to keys at or before each query position (top-left
            aligned); exclusive with attn_mask
        scale: defaults to 1 / sqrt(E)
        enable_gqa: key/value may have fewer heads (dim -3) than query, dividing it
    """
    if _autocast.on and (policy := _autocast.policy("scaled_dot_product_attention", query)):
        return policy(scaled_dot_product_attention, query, key, value, attn_mask, dropout_p,
                      is_causal, scale, enable_gqa)
    _check_sdpa_inputs(query, key, value, attn_mask)
    if is_causal and attn_mask is not None:
        raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not "
                           "be set when is_causal=True")
    if dropout_p <= 0 and use_kernels(query._data):
        fused = _fused_attention(query, key, value, attn_mask, is_causal, scale, enable_gqa)
        if fused is not None:
            return fused
    if is_causal:
        attn_mask = _causal_mask(query.shape[-2], key.shape[-2], query)
    if enable_gqa and query.ndim >= 3:
        key, value = _repeat_kv_heads(query, key, value)
    if attn_mask is not None and attn_mask.dtype is D.bool:
        attn_mask = _float_mask(attn_mask, query.dtype)
    if scale is None:
        scale = 1.0 / math.sqrt(query.shape[-1])
    keep = None
    if dropout_p > 0:
        batch = np.broadcast_shapes(query.shape[:-2], key.shape[:-2])
        keep = _dropout_keep(batch + (query.shape[-2], key.shape[-2]), dropout_p, query)
    return _Attention.apply(query, key, value, attn_mask, keep, scale=scale, weights=False)


# -- the CUDA kernel path ----------------------------------------------------------------------

class _FusedAttention(Function):
    """softmax(q k^T * scale + mask) v by the fused CUDA kernels, causal or with a bool or
    additive float `mask` (None for neither); saves only the output and the logsumexp of each
    query row, and backward recomputes the probabilities from them. Key and value may have
    fewer heads than the query (grouped-query attention)."""

    _backward_name = "ScaledDotProductFlashAttentionBackward0"

    @staticmethod
    def forward(ctx, q, k, v, mask, *, scale, causal):
        from ...backend.cuda import attention as kernels
        out, lse = kernels.forward(q, k, v, mask, scale=scale, causal=causal)
        if ctx.needs_input_grad:
            ctx.scale, ctx.causal = scale, causal
            ctx.save_for_backward(q, k, v, mask, out, lse)
        return out

    @staticmethod
    def backward(ctx, grad):
        q, k, v, mask, out, lse = ctx.saved_arrays
        need = ctx.needs_input_grad
        if ctx.xp is _graph_xp:
            return _fused_attention_graph_backward(ctx, q, k, v, mask, grad)
        from ...backend.cuda import attention as kernels
        gq, gk, gv = kernels.backward(q, k, v, mask, out, lse, grad, scale=ctx.scale,
                                      causal=ctx.causal, need_q=need[0],
                                      need_kv=need[1] or need[2])
        return gq, gk if need[1] else None, gv if need[2] else None, None


class _GenericBackwardCtx:
    """What `_Attention.backward` reads from its ctx, filled in by hand."""

    def __init__(self, saved, xp, scale, bias_shape, needs_input_grad):
        self.saved_arrays, self.xp, self.scale = saved, xp, scale
        self.bias_shape, self.needs_input_grad = bias_shape, needs_input_grad


def _fused_attention_graph_backward(ctx, q, k, v, mask, grad):
    """create_graph=True: the generic backward's differentiable formulas, on the inputs."""
    xp = ctx.xp
    bias = mask
    if ctx.causal:
        bias = _float_mask(_causal_mask(q.shape[-2], k.shape[-2], q), q.dtype)
    elif mask is not None and mask.dtype is D.bool:
        bias = _float_mask(mask, q.dtype)
    group = q.shape[-3] // k.shape[-3] if q.ndim >= 3 else 1
    kr, vr = k, v
    if group > 1:
        kr, vr = k.repeat_interleave(group, dim=-3), v.repeat_interleave(group, dim=-3)
    need = ctx.needs_input_grad
    generic = _GenericBackwardCtx((q, kr, vr, bias, None, None, None), xp, ctx.scale,
                                  None if bias is None else bias.shape,
                                  (need[0], need[1], need[2], False, False))
    gq, gk, gv, _, _ = _Attention.backward(generic, grad)
    if group > 1:
        # the repeated heads' gradients summed back onto each key/value head
        if gk is not None:
            gk = xp.sum(gk.reshape(k.shape[:-3] + (k.shape[-3], group) + k.shape[-2:]), axis=-3)
        if gv is not None:
            gv = xp.sum(gv.reshape(v.shape[:-3] + (v.shape[-3], group) + v.shape[-2:]), axis=-3)
    return gq, gk, gv, None


def _fused_attention(query, key, value, attn_mask, is_causal, scale, enable_gqa):
    """scaled_dot_product_attention by the CUDA kernels, or None where they do not apply
    (then the generic path runs, and raises what it raises)."""
    from ...backend.cuda import attention as kernels
    from ...backend.cuda import dtype_suffix
    qs, ks, vs = query.shape, key.shape, value.shape
    if dtype_suffix(query._data.dtype) is None or not len(qs) == len(ks) == len(vs):
        return None
    if max(qs[-1], vs[-1]) > kernels.MAX_HEAD_DIM or 0 in qs or 0 in ks or 0 in vs:
        return None
    if len(qs) >= 3:
        if qs[:-3] != ks[:-3] or ks[:-2] != vs[:-2]:
            return None
        if ks[-3] != qs[-3] and not (enable_gqa and qs[-3] % ks[-3] == 0):
            return None
    if attn_mask is not None and (attn_mask.requires_grad or not kernels.mask_fits(
            attn_mask.shape, qs[:-2], qs[-2], ks[-2])):
        return None
    if scale is None:
        scale = 1.0 / math.sqrt(qs[-1])
    return _FusedAttention.apply(query, key, value, attn_mask, scale=scale, causal=is_causal)


# -- multi-head attention ----------------------------------------------------------------------

def _canonical_mask(mask: Tensor | None, name: str, other_name: str, other: Tensor | None,
                    target: D.dtype, check_other: bool = True) -> Tensor | None:
    """A bool or float mask as an additive float mask of dtype `target`."""
    if mask is None:
        return None
    if mask.dtype is not D.bool and not mask.is_floating_point():
        raise AssertionError(f"only bool and floating types of {name} are supported")
    if check_other and other is not None and other.dtype is not mask.dtype:
        import warnings
        warnings.warn(f"Support for mismatched {name} and {other_name} is deprecated. Use "
                      "same type for both instead.")
    if mask.dtype is D.bool:
        # here True marks a position that may NOT be attended (sdpa's convention is the
        # opposite)
        return _float_mask(mask.logical_not(), target)
    return mask


def _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads) -> bool:
    """Validates ranks as torch does; True when the inputs are batched (3-D)."""
    if query.dim() == 3:
        if key.dim() != 3 or value.dim() != 3:
            raise AssertionError(
                "For batched (3-D) `query`, expected `key` and `value` to be 3-D but found "
                f"{key.dim()}-D and {value.dim()}-D tensors respectively")
        if key_padding_mask is not None and key_padding_mask.dim() != 2:
            raise AssertionError(
                "For batched (3-D) `query`, expected `key_padding_mask` to be `None` or 2-D "
                f"but found {key_padding_mask.dim()}-D tensor instead")
        if attn_mask is not None and attn_mask.dim() not in (2, 3):
            raise AssertionError(
                "For batched (3-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D "
                f"but found {attn_mask.dim()}-D tensor instead")
        return True
    if query.dim() == 2:
        if key.dim() != 2 or value.dim() != 2:
            raise AssertionError(
                "For unbatched (2-D) `query`, expected `key` and `value` to be 2-D but found "
                f"{key.dim()}-D and {value.dim()}-D tensors respectively")
        if key_padding_mask is not None and key_padding_mask.dim() != 1:
            raise AssertionError(
                "For unbatched (2-D) `query`, expected `key_padding_mask` to be `None` or "
                f"1-D but found {key_padding_mask.dim()}-D tensor instead")
        if attn_mask is not None:
            if attn_mask.dim() not in (2, 3):
                raise AssertionError(
                    "For unbatched (2-D) `query`, expected `attn_mask` to be `None`, 2-D or "
                    f"3-D but found {attn_mask.dim()}-D tensor instead")
            if attn_mask.dim() == 3:
                expected = (num_heads, query.shape[0], key.shape[0])
                if tuple(attn_mask.shape) != expected:
                    raise AssertionError(f"Expected `attn_mask` shape to be {expected} but "
                                         f"got {attn_mask.shape}")
        return False
    raise AssertionError("query should be unbatched 2D or batched 3D tensor but received "
                         f"{query.dim()}-D query tensor")


class _SplitHeads(Function):
    """Projected (A, B, n * E) -> n tensors (N, H, L, head_dim).

    (A, B) is (L, N), or (N, L) with batch_first. Backward writes the n head gradients
    into one array, where slicing each part separately would allocate n full-size zeros.
    """

    @staticmethod
    def forward(ctx, x, *, n, heads, batch_first):
        A, B, F = x.shape
        parts = x.reshape(A, B, n, heads, F // (n * heads))
        axes = (0, 2, 1, 3) if batch_first else (1, 2, 0, 3)
        ctx.meta = (x.shape, (0, 2, 1, 3) if batch_first else (2, 0, 1, 3))
        # contiguous copies: batched matmuls over strided heads run slower than the copy
        xp = np if type(x) is np.ndarray else _array_module(x)
        out = tuple(xp.ascontiguousarray(parts[:, :, i].transpose(axes)) for i in range(n))
        return out if n > 1 else out[0]

    @staticmethod
    def backward(ctx, *grads):
        xp = ctx.xp
        shape, inverse = ctx.meta
        return xp.stack([xp.transpose(g, inverse) for g in grads], axis=2).reshape(shape)


def _linear(x: Tensor, w: Tensor, b: Tensor | None) -> Tensor:
    from .linear import linear
    return linear(x, w, b)


def _project(query, key, value, heads, batch_first, in_proj_weight, in_proj_bias,
             separate):
    """The q/k/v input projections, split into heads: three (N, H, *, head_dim) tensors.

    With one stacked (3E, E) weight, self-attention (query is key is value) takes a single
    matmul for all three, and key is value a single one for key and value.
    """
    E = query.shape[-1]

    def split(x, n):
        return _SplitHeads.apply(x, n=n, heads=heads, batch_first=batch_first)

    b = in_proj_bias
    bq, bk, bv = (None, None, None) if b is None else (b[:E], b[E:2 * E], b[2 * E:])
    if separate is not None:
        wq, wk, wv = separate
        return (split(_linear(query, wq, bq), 1), split(_linear(key, wk, bk), 1),
                split(_linear(value, wv, bv), 1))
    w = in_proj_weight
    if key is value:
        if query is key:
            return split(_linear(query, w, b), 3)
        k, v = split(_linear(key, w[E:], None if b is None else b[E:]), 2)
        return split(_linear(query, w[:E], bq), 1), k, v
    return (split(_linear(query, w[:E], bq), 1), split(_linear(key, w[E:2 * E], bk), 1),
            split(_linear(value, w[2 * E:], bv), 1))


def _check_separate_weights(query, key, value, wq, wk, wv) -> None:
    E, Ek, Ev = query.shape[-1], key.shape[-1], value.shape[-1]
    for name, w, shape in (("q_proj_weight", wq, (E, E)), ("k_proj_weight", wk, (E, Ek)),
                           ("v_proj_weight", wv, (E, Ev))):
        if w is None or tuple(w.shape) != shape:
            got = None if w is None else tuple(w.shape)
            raise AssertionError(f"expecting {name} shape of {shape}, but got {got}")


def _append_key(k: Tensor, row: Tensor) -> Tensor:
    """Appends one key/value position (a (N, H, 1, head_dim) row) to (N, H, S, head_dim)."""
    from ...ops.join import cat
    return cat([k, row.expand(k.shape[0], k.shape[1], 1, k.shape[3])], dim=2)


def _pad_last(mask: Tensor | None) -> Tensor | None:
    """Appends one zero (attend) column, for the extra bias_k / zero-attention key."""
    if mask is None:
        return None
    from ...ops.creation import zeros
    from ...ops.join import cat
    return cat([mask, zeros(mask.shape[:-1] + (1,), dtype=mask.dtype, device=mask.device)],
               dim=-1)


def _static(x: Tensor, bsz: int, num_heads: int, head_dim: int, name: str) -> Tensor:
    """A given (N*H, S, head_dim) static key/value as (N, H, S, head_dim)."""
    if x.shape[0] != bsz * num_heads:
        raise AssertionError(f"expecting {name}.size(0) of {bsz * num_heads}, but got "
                             f"{x.shape[0]}")
    if x.shape[2] != head_dim:
        raise AssertionError(f"expecting {name}.size(2) of {head_dim}, but got {x.shape[2]}")
    return x.reshape(bsz, num_heads, x.shape[1], head_dim)


def multi_head_attention_forward(
        query: Tensor, key: Tensor, value: Tensor, embed_dim_to_check: int, num_heads: int,
        in_proj_weight: Tensor | None, in_proj_bias: Tensor | None, bias_k: Tensor | None,
        bias_v: Tensor | None, add_zero_attn: bool, dropout_p: float,
        out_proj_weight: Tensor, out_proj_bias: Tensor | None, training: bool = True,
        key_padding_mask: Tensor | None = None, need_weights: bool = True,
        attn_mask: Tensor | None = None, use_separate_proj_weight: bool = False,
        q_proj_weight: Tensor | None = None, k_proj_weight: Tensor | None = None,
        v_proj_weight: Tensor | None = None, static_k: Tensor | None = None,
        static_v: Tensor | None = None, average_attn_weights: bool = True,
        is_causal: bool = False) -> tuple[Tensor, Tensor | None]:
    """Multi-head attention on (L, N, E) inputs (or unbatched (L, E)), as torch's.

    Returns (attn_output, attn_weights); attn_weights is None unless need_weights, and is
    averaged over heads when average_attn_weights.
    """
    return _multi_head_attention(
        query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias,
        bias_k, bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias, training,
        key_padding_mask, need_weights, attn_mask, use_separate_proj_weight, q_proj_weight,
        k_proj_weight, v_proj_weight, static_k, static_v, average_attn_weights, is_causal,
        batch_first=False)


def _multi_head_attention(query, key, value, embed_dim_to_check, num_heads, in_proj_weight,
                          in_proj_bias, bias_k, bias_v, add_zero_attn, dropout_p,
                          out_proj_weight, out_proj_bias, training, key_padding_mask,
                          need_weights, attn_mask, use_separate_proj_weight, q_proj_weight,
                          k_proj_weight, v_proj_weight, static_k, static_v,
                          average_attn_weights, is_causal, *, batch_first):
    """multi_head_attention_forward for either layout: (L, N, E), or (N, L, E) when
    batch_first (what MultiheadAttention(batch_first=True) passes, sparing transposes)."""
    batched = _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not batched:
        batch_dim = 0 if batch_first else 1
        query, key, value = (query.unsqueeze(batch_dim), key.unsqueeze(batch_dim),
                             value.unsqueeze(batch_dim))
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)

    if batch_first:
        bsz, tgt_len, embed_dim = query.shape
        src_len = key.shape[1]
    else:
        tgt_len, bsz, embed_dim = query.shape
        src_len = key.shape[0]
    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask", "attn_mask",
                                       attn_mask, query.dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the "
                           "Transformer module method `generate_square_subsequent_mask` to "
                           "create this mask.")
    # With no padding mask and no weights wanted, torch trusts the is_causal hint and
    # applies its own causal mask in place of attn_mask; otherwise attn_mask is applied.
    causal = is_causal and key_padding_mask is None and not need_weights
    attn_mask = None if causal else _canonical_mask(attn_mask, "attn_mask", "", None,
                                                    query.dtype, check_other=False)

    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, "
                             f"but got {embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    separate = None
    if use_separate_proj_weight:
        if key.shape[:2] != value.shape[:2]:
            raise AssertionError(f"key's sequence and batch dims {tuple(key.shape[:2])} do "
                                 f"not match value's {tuple(value.shape[:2])}")
        _check_separate_weights(query, key, value, q_proj_weight, k_proj_weight,
                                v_proj_weight)
        separate = (q_proj_weight, k_proj_weight, v_proj_weight)
    elif key.shape != value.shape:
        raise AssertionError(f"key shape {key.shape} does not match value shape "
                             f"{value.shape}")
    q, k, v = _project(query, key, value, num_heads, batch_first, in_proj_weight,
                       in_proj_bias, separate)

    if attn_mask is not None:
        if attn_mask.dim() == 2:
            if tuple(attn_mask.shape) != (tgt_len, src_len):
                raise RuntimeError(f"The shape of the 2D attn_mask is {attn_mask.shape}, but "
                                   f"should be {(tgt_len, src_len)}.")
            attn_mask = attn_mask.unsqueeze(0)
        elif attn_mask.dim() == 3:
            if tuple(attn_mask.shape) != (bsz * num_heads, tgt_len, src_len):
                raise RuntimeError(f"The shape of the 3D attn_mask is {attn_mask.shape}, but "
                                   f"should be {(bsz * num_heads, tgt_len, src_len)}.")
        else:
            raise RuntimeError(f"attn_mask's dimension {attn_mask.dim()} is not supported")

    if bias_k is not None and bias_v is not None:
        if static_k is not None:
            raise AssertionError("bias cannot be added to static key.")
        if static_v is not None:
            raise AssertionError("bias cannot be added to static value.")
        k = _append_key(k, bias_k.reshape(1, num_heads, 1, head_dim))
        v = _append_key(v, bias_v.reshape(1, num_heads, 1, head_dim))
        attn_mask = _pad_last(attn_mask)
        key_padding_mask = _pad_last(key_padding_mask)
    elif bias_k is not None or bias_v is not None:
        raise AssertionError("bias_k and bias_v must both be given or both be None")
    if static_k is not None:
        k = _static(static_k, bsz, num_heads, head_dim, "static_k")
    if static_v is not None:
        v = _static(static_v, bsz, num_heads, head_dim, "static_v")
    if add_zero_attn:
        from ...ops.creation import zeros
        k = _append_key(k, zeros((1, 1, 1, head_dim), dtype=k.dtype, device=k.device))
        v = _append_key(v, zeros((1, 1, 1, head_dim), dtype=v.dtype, device=v.device))
        attn_mask = _pad_last(attn_mask)
        key_padding_mask = _pad_last(key_padding_mask)

    src_len = k.shape[2]
    bias = None
    if causal:
        bias = _float_mask(_causal_mask(tgt_len, src_len, q), q.dtype)
    if attn_mask is not None:
        # (1 or N*H, L, S) -> broadcastable to the (N, H, L, S) scores
        bias = attn_mask if attn_mask.shape[0] == 1 else \
            attn_mask.reshape(bsz, num_heads, tgt_len, src_len)
    if key_padding_mask is not None:
        if tuple(key_padding_mask.shape) != (bsz, src_len):
            raise AssertionError(f"expecting key_padding_mask shape of {(bsz, src_len)}, but "
                                 f"got {key_padding_mask.shape}")
        kpm = key_padding_mask.reshape(bsz, 1, 1, src_len)
        bias = kpm if bias is None else bias + kpm

    keep = None
    if training and dropout_p > 0:
        keep = _dropout_keep((bsz, num_heads, tgt_len, src_len), dropout_p, q)
    scale = 1.0 / math.sqrt(head_dim)
    result = _Attention.apply(q, k, v, bias, keep, scale=scale, weights=need_weights)
    out, weights = result if need_weights else (result, None)

    # (N, H, L, head_dim) -> rows of (A, B) = (L, N) or (N, L), one out_proj matmul
    out = out.permute(0, 2, 1, 3) if batch_first else out.permute(2, 0, 1, 3)
    A, B = out.shape[0], out.shape[1]
    out = _linear(out.reshape(A * B, embed_dim), out_proj_weight, out_proj_bias)
    out = out.reshape(A, B, embed_dim)
    if weights is not None and average_attn_weights:
        weights = weights.mean(dim=1)
    if not batched:
        out = out.squeeze(0 if batch_first else 1)
        if weights is not None:
            weights = weights.squeeze(0)
    return out, weights
