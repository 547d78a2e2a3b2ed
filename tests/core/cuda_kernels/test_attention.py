"""The fused attention kernels (backend/cuda/attention.py) against a NumPy reference, and
F.scaled_dot_product_attention on them against its CPU path."""

import math

import ml_dtypes
import numpy as np
import pytest

import taimatsu
import taimatsu.nn.functional as F
from taimatsu.backend.cuda import attention as cuda_att

from .conftest import host, record_calls

# -- NumPy reference -----------------------------------------------------------------------------


def _reference(q, k, v, mask, scale, causal, g):
    """out, logsumexp (+inf for rows that attend to nothing) and (dq, dk, dv), in float64."""
    q, k, v, g = (a.astype(np.float64) for a in (q, k, v, g))
    group = q.shape[-3] // k.shape[-3] if q.ndim >= 3 else 1
    kr, vr = (np.repeat(k, group, axis=-3), np.repeat(v, group, axis=-3)) if group > 1 else (k, v)
    s = q @ np.swapaxes(kr, -1, -2) * scale
    Lq, Lk = s.shape[-2:]
    if causal:
        s = np.where(np.tril(np.ones((Lq, Lk), bool)), s, -np.inf)
    if mask is not None:
        s = np.where(mask, s, -np.inf) if mask.dtype == bool else s + mask.astype(np.float64)
    m = s.max(-1, keepdims=True)
    empty = m == -np.inf
    e = np.exp(s - np.where(empty, 0, m))
    total = e.sum(-1, keepdims=True)
    p = e / np.where(empty, 1, total)
    lse = np.where(empty, np.inf, np.log(np.where(empty, 1, total)) + np.where(empty, 0, m))
    gp = g @ np.swapaxes(vr, -1, -2)
    gs = p * (gp - (gp * p).sum(-1, keepdims=True))
    dq = gs @ kr * scale
    dk = np.swapaxes(gs, -1, -2) @ q * scale
    dv = np.swapaxes(p, -1, -2) @ g
    if group > 1:
        dk = dk.reshape(k.shape[:-2] + (group,) + k.shape[-2:]).sum(-3)
        dv = dv.reshape(v.shape[:-2] + (group,) + v.shape[-2:]).sum(-3)
    return p @ vr, lse[..., 0], (dq, dk, dv)


def _mask(rng, kind, shape):
    """A bool (True = may attend) or additive float mask, with one query row and one key
    column masked out entirely."""
    if kind is None:
        return None
    allowed = rng.random(shape) > 0.3
    if len(shape) > 1 and shape[-2] > 3:
        allowed[..., 3, :] = False
    allowed[..., 1] = False
    if kind == "bool":
        return allowed
    return np.where(allowed, rng.standard_normal(shape), -np.inf)


# (batch dims incl. heads, Lq, Lk, E, Ev, group, causal, mask kind, mask shape)
CASES = {
    "plain": ((2, 2), 13, 11, 8, 8, 1, False, None, None),
    "causal": ((1, 2), 13, 13, 8, 8, 1, True, None, None),
    "causal_more_queries": ((1, 2), 17, 9, 8, 8, 1, True, None, None),
    "causal_more_keys": ((1, 2), 6, 19, 8, 8, 1, True, None, None),
    "bool_mask": ((2, 2), 9, 14, 16, 8, 1, False, "bool", (2, 1, 9, 14)),
    "float_mask": ((2, 2), 9, 14, 8, 16, 1, False, "float", (9, 14)),
    "key_padding_mask": ((2, 2), 7, 10, 8, 8, 1, False, "bool", (2, 1, 1, 10)),
    "gqa_causal": ((2, 4), 9, 7, 8, 8, 2, True, None, None),
    "gqa_float_mask": ((1, 4), 6, 9, 8, 8, 4, False, "float", (4, 6, 9)),
    "three_d": ((3,), 5, 6, 8, 8, 1, False, "float", (6,)),
    "two_d": ((), 7, 5, 8, 8, 1, False, "bool", (7, 5)),
    "five_d_outer_mask": ((2, 3, 2), 5, 6, 8, 8, 1, False, "bool", (2, 1, 1, 5, 6)),
    "wide_heads": ((1, 1), 5, 6, 40, 33, 1, True, None, None),
}


def _case(name, dtype, seed=0):
    batch, Lq, Lk, E, Ev, group, causal, kind, mask_shape = CASES[name]
    rng = np.random.default_rng(seed)
    kv_batch = batch[:-1] + (batch[-1] // group,) if batch else ()
    q = rng.standard_normal(batch + (Lq, E)).astype(dtype)
    k = rng.standard_normal(kv_batch + (Lk, E)).astype(dtype)
    v = rng.standard_normal(kv_batch + (Lk, Ev)).astype(dtype)
    g = rng.standard_normal(batch + (Lq, Ev)).astype(dtype)
    mask = _mask(rng, kind, mask_shape)
    if mask is not None and kind == "float":
        mask = mask.astype(dtype)
    return q, k, v, mask, g, causal, 0.4


def _on(xp, *arrays):
    return [None if a is None else xp.asarray(a) for a in arrays]


# -- kernels -------------------------------------------------------------------------------------

@pytest.fixture(autouse=True)
def _few_delta_blocks(monkeypatch):
    """One block of warps looping over all rows for delta: the emulator pays per thread."""
    monkeypatch.setattr(cuda_att, "_DELTA_BLOCKS", 1)


# every case in float64 (tight), a few in float32
KERNEL_CASES = [(name, np.float64) for name in CASES] + [
    (name, np.float32) for name in ("plain", "bool_mask", "gqa_causal", "wide_heads")]


@pytest.mark.parametrize("name,dtype", KERNEL_CASES,
                         ids=[f"{n}-{np.dtype(d).name}" for n, d in KERNEL_CASES])
def test_kernels_match_reference(xp, name, dtype):
    q, k, v, mask, g, causal, scale = _case(name, dtype)
    arrays = _on(xp, q, k, v, mask)
    # tiles that do not divide the lengths; two warps in the forward, one in the backward
    out, lse = cuda_att.forward(*arrays, scale=scale, causal=causal, block_m=8, block_n=5)
    grads = cuda_att.backward(*arrays, out, lse, xp.asarray(g), scale=scale, causal=causal,
                              block_m=4, block_n=3)
    ref_out, ref_lse, expected = _reference(q, k, v, mask, scale, causal, g)
    tol = 2e-5 if dtype == np.float32 else 1e-12
    assert host(out).dtype == dtype and host(out).shape == ref_out.shape
    assert host(lse).dtype == dtype and host(lse).shape == ref_lse.shape
    np.testing.assert_allclose(host(out), ref_out, rtol=tol, atol=tol)
    np.testing.assert_allclose(host(lse), ref_lse, rtol=tol, atol=tol)
    for ours, ref in zip(grads, expected):
        assert host(ours).dtype == dtype and host(ours).shape == ref.shape
        np.testing.assert_allclose(host(ours), ref, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", [np.float16, ml_dtypes.bfloat16], ids=["float16", "bfloat16"])
@pytest.mark.parametrize("name", ["causal_more_queries", "float_mask", "gqa_causal"])
def test_16bit_inputs_compute_in_float(xp, name, dtype):
    q, k, v, mask, g, causal, scale = _case(name, dtype)
    arrays = _on(xp, q, k, v, mask)
    out, lse = cuda_att.forward(*arrays, scale=scale, causal=causal, block_m=8, block_n=8)
    grads = cuda_att.backward(*arrays, out, lse, xp.asarray(g), scale=scale, causal=causal,
                              block_m=8, block_n=8)
    ref_out, ref_lse, expected = _reference(q, k, v, mask, scale, causal, g)
    # inputs are exact in float; only the outputs (and the O read back for delta) are rounded
    tol = 4e-3 if dtype == np.float16 else 3e-2
    assert host(out).dtype == dtype and host(lse).dtype == np.float32
    np.testing.assert_allclose(host(out).astype(np.float64), ref_out, rtol=tol, atol=tol)
    np.testing.assert_allclose(host(lse), ref_lse, rtol=1e-5, atol=1e-5)
    for ours, ref in zip(grads, expected):
        assert host(ours).dtype == dtype
        np.testing.assert_allclose(host(ours).astype(np.float64), ref, rtol=tol,
                                   atol=tol * np.abs(ref).max())


def test_fully_masked_rows_give_zeros_and_no_gradient(xp):
    q, k, v, _, g, _, scale = _case("plain", np.float64)
    mask = np.ones((13, 11), bool)
    mask[[0, 5, 12]] = False
    arrays = _on(xp, q, k, v, mask)
    out, lse = cuda_att.forward(*arrays, scale=scale, block_m=4, block_n=4)
    dq, dk, dv = cuda_att.backward(*arrays, out, lse, xp.asarray(g), scale=scale,
                                   block_m=4, block_n=4)
    assert (host(out)[..., [0, 5, 12], :] == 0).all()
    assert np.isposinf(host(lse)[..., [0, 5, 12]]).all()
    assert (host(dq)[..., [0, 5, 12], :] == 0).all()
    ref_out, _, (ref_dq, ref_dk, ref_dv) = _reference(q, k, v, mask, scale, False, g)
    np.testing.assert_allclose(host(out), ref_out, atol=1e-12)
    for ours, ref in zip((dq, dk, dv), (ref_dq, ref_dk, ref_dv)):
        np.testing.assert_allclose(host(ours), ref, atol=1e-12)


def test_nan_and_inf_make_their_row_nan(xp):
    q, k, v, _, _, _, scale = _case("plain", np.float64)
    q[0, 1, 2, 3] = np.nan
    q[1, 0, 4, 0] = np.inf
    out, lse = cuda_att.forward(*_on(xp, q, k, v), scale=scale, block_m=4, block_n=4)
    out = host(out)
    assert np.isnan(out[0, 1, 2]).all() and np.isnan(out[1, 0, 4]).all()
    rest = np.ones(out.shape[:-1], bool)
    rest[0, 1, 2] = rest[1, 0, 4] = False
    assert np.isfinite(out[rest]).all()


def test_grid_loops_over_batch_heads(xp, monkeypatch):
    monkeypatch.setattr(cuda_att, "_MAX_GRID_Y", 1)
    q, k, v, mask, g, causal, scale = _case("gqa_float_mask", np.float64)
    arrays = _on(xp, q, k, v, mask)
    out, lse = cuda_att.forward(*arrays, scale=scale, causal=causal, block_m=4, block_n=4)
    grads = cuda_att.backward(*arrays, out, lse, xp.asarray(g), scale=scale, causal=causal,
                              block_m=4, block_n=4)
    ref_out, _, expected = _reference(q, k, v, mask, scale, causal, g)
    np.testing.assert_allclose(host(out), ref_out, atol=1e-12)
    for ours, ref in zip(grads, expected):
        np.testing.assert_allclose(host(ours), ref, atol=1e-12)


def test_tile_sizes_are_checked():
    q = np.zeros((1, 4, 8))
    with pytest.raises(ValueError, match="block_m must be a multiple of 4"):
        cuda_att.forward(q, q, q, scale=1.0, block_m=6)
    with pytest.raises(ValueError, match="block_n must be in"):
        cuda_att.forward(q, q, q, scale=1.0, block_n=33)


def test_mask_fits():
    assert cuda_att.mask_fits((5,), (2, 3), 4, 5)
    assert cuda_att.mask_fits((2, 1, 4, 5), (2, 3), 4, 5)
    assert not cuda_att.mask_fits((4, 4), (2, 3), 4, 5)
    assert not cuda_att.mask_fits((7, 2, 3, 4, 5), (2, 3), 4, 5)


# -- the op --------------------------------------------------------------------------------------

@pytest.fixture
def kernel_calls(monkeypatch):
    return record_calls(monkeypatch, cuda_att, ("forward", "backward"))


def _sdpa(q, k, v, g, create_graph=False, **kwargs):
    tensors = [taimatsu.tensor(a, requires_grad=True) for a in (q, k, v)]
    out = F.scaled_dot_product_attention(*tensors, **kwargs)
    grads = taimatsu.autograd.grad(out, tensors, taimatsu.tensor(g), create_graph=create_graph)
    return out, grads, tensors


def _assert_same(a, b, tol):
    assert a.dtype == b.dtype and a.shape == b.shape
    np.testing.assert_allclose(a.detach().numpy().astype(np.float64),
                               b.detach().numpy().astype(np.float64), rtol=tol, atol=tol)


OP_CASES = {
    "plain": ("plain", {}),
    "causal_more_queries": ("causal_more_queries", {"is_causal": True}),
    "causal_more_keys": ("causal_more_keys", {"is_causal": True, "scale": 0.3}),
    "bool_mask": ("bool_mask", {}),
    "float_mask": ("float_mask", {"scale": 1.5}),
    "gqa": ("gqa_causal", {"enable_gqa": True, "is_causal": True}),
    "three_d_mask": ("three_d", {}),
}


OP_PARAMS = [(case, np.float64) for case in OP_CASES] + [("plain", np.float32),
                                                          ("gqa", np.float32)]


@pytest.mark.parametrize("case,dtype", OP_PARAMS,
                         ids=[f"{c}-{np.dtype(d).name}" for c, d in OP_PARAMS])
def test_op_on_kernels_equals_cpu_path(emulator, kernel_calls, case, dtype):
    name, kwargs = OP_CASES[case]
    q, k, v, mask, g, _, _ = _case(name, dtype, seed=1)
    if mask is not None:
        kwargs = dict(kwargs, attn_mask=taimatsu.tensor(mask))
    out_cpu, grads_cpu, _ = _sdpa(q, k, v, g, **kwargs)
    assert kernel_calls == []
    with emulator():
        out, grads, _ = _sdpa(q, k, v, g, **kwargs)
    assert kernel_calls == ["forward", "backward"]
    assert out.grad_fn.name() == "ScaledDotProductFlashAttentionBackward0"
    tol = 2e-5 if dtype == np.float32 else 1e-12
    _assert_same(out, out_cpu, tol)
    for ours, cpu in zip(grads, grads_cpu):
        _assert_same(ours, cpu, tol)


@pytest.mark.parametrize("dtype", [np.float16, ml_dtypes.bfloat16], ids=["float16", "bfloat16"])
def test_op_16bit_on_kernels_close_to_cpu_path(emulator, kernel_calls, dtype):
    q, k, v, mask, g, _, _ = _case("float_mask", dtype, seed=2)
    kwargs = {"attn_mask": taimatsu.tensor(mask)}
    out_cpu, grads_cpu, _ = _sdpa(q, k, v, g, **kwargs)
    with emulator():
        out, grads, _ = _sdpa(q, k, v, g, **kwargs)
    assert kernel_calls == ["forward", "backward"]
    tol = 1e-2 if dtype == np.float16 else 6e-2
    _assert_same(out, out_cpu, tol)
    for ours, cpu in zip(grads, grads_cpu):
        # (the CPU path's autograd.grad gives bfloat16 gradients as float32)
        assert ours.dtype == out.dtype
        np.testing.assert_allclose(ours.numpy().astype(np.float64),
                                   cpu.numpy().astype(np.float64), rtol=tol * 4, atol=tol * 4)


def test_op_fully_masked_rows_match_cpu_path(emulator, kernel_calls):
    q, k, v, _, g, _, _ = _case("plain", np.float64, seed=3)
    mask = np.ones((13, 11), bool)
    mask[4] = False
    kwargs = {"attn_mask": taimatsu.tensor(mask)}
    out_cpu, grads_cpu, _ = _sdpa(q, k, v, g, **kwargs)
    with emulator():
        out, grads, _ = _sdpa(q, k, v, g, **kwargs)
    assert kernel_calls == ["forward", "backward"]
    assert (out.detach().numpy()[..., 4, :] == 0).all()  # as torch's sdpa: zeros, not NaN
    _assert_same(out, out_cpu, 1e-12)
    for ours, cpu in zip(grads, grads_cpu):
        _assert_same(ours, cpu, 1e-12)


def test_op_noncontiguous_query_and_only_its_gradient(emulator, kernel_calls):
    q, k, v, _, g, _, _ = _case("plain", np.float64, seed=4)
    # (N, L, H, E) transposed to (N, H, L, E), as multi-head layers do
    base = taimatsu.tensor(np.ascontiguousarray(q.transpose(0, 2, 1, 3)), requires_grad=True)
    tk, tv = taimatsu.tensor(k), taimatsu.tensor(v)
    with emulator():
        out = F.scaled_dot_product_attention(base.transpose(1, 2), tk, tv)
        (gq,) = taimatsu.autograd.grad(out, [base], taimatsu.tensor(g))
    assert kernel_calls == ["forward", "backward"]
    ref_out, (ref, _, _), _ = _sdpa(q, k, v, g)
    _assert_same(out, ref_out, 1e-12)
    _assert_same(gq.transpose(1, 2), ref, 1e-12)


def test_op_double_backward_builds_a_graph(emulator):
    q, k, v, _, g, _, _ = _case("gqa_causal", np.float64, seed=5)
    kwargs = {"enable_gqa": True, "is_causal": True}
    _, grads_cpu, inputs_cpu = _sdpa(q, k, v, g, create_graph=True, **kwargs)
    with emulator():
        _, grads, inputs = _sdpa(q, k, v, g, create_graph=True, **kwargs)
    for ours, cpu in zip(grads, grads_cpu):
        assert ours.requires_grad
        _assert_same(ours, cpu, 1e-12)
    # second order: d/d(q, k, v) of sum(dq * dk-ish) through the generic formulas
    second_cpu = taimatsu.autograd.grad(sum((gr ** 2).sum() for gr in grads_cpu), inputs_cpu)
    second = taimatsu.autograd.grad(sum((gr ** 2).sum() for gr in grads), inputs)
    for ours, cpu in zip(second, second_cpu):
        _assert_same(ours, cpu, 1e-10)


def test_op_falls_back_where_the_kernels_do_not_apply(emulator, kernel_calls):
    rng = np.random.default_rng(6)
    q = taimatsu.tensor(rng.standard_normal((1, 2, 3, 4)), requires_grad=True)
    wide = taimatsu.tensor(rng.standard_normal((1, 1, 3, cuda_att.MAX_HEAD_DIM + 1)))
    bias = taimatsu.tensor(rng.standard_normal((3, 3)), requires_grad=True)
    with emulator():
        F.scaled_dot_product_attention(q, q, q, dropout_p=0.5)
        F.scaled_dot_product_attention(wide, wide, wide)
        F.scaled_dot_product_attention(q, q[:, :1], q[:, :1])  # batch broadcast, no gqa
        F.scaled_dot_product_attention(q, q, q, attn_mask=taimatsu.zeros(2, 1, 1, 3, 3, dtype=q.dtype))
        out = F.scaled_dot_product_attention(q, q, q, attn_mask=bias)
        (gb,) = taimatsu.autograd.grad(out.sum(), [bias])  # a mask that wants a gradient
        with pytest.raises(RuntimeError, match="Explicit attn_mask should not be set"):
            F.scaled_dot_product_attention(q, q, q, attn_mask=bias, is_causal=True)
    assert kernel_calls == []
    assert gb.shape == (3, 3)
    assert math.isfinite(float(gb.abs().sum()))
