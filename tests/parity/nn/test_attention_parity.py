"""scaled_dot_product_attention and MultiheadAttention against PyTorch."""

import numpy as np
import pytest
from op_cases.nn_attention import CASES

import taimatsu as tm
import taimatsu.nn as nn
from taimatsu.nn import functional as F
from taimatsu.testing import assert_close, generate_parity_tests
from taimatsu.testing._module_case import check_module_parity, load_torch_state

globals().update(generate_parity_tests(CASES))

E, NHEAD, L, S, N = 8, 2, 4, 5, 3
TOL = {np.float32: {"rtol": 1e-5, "atol": 1e-6}, np.float64: {"rtol": 1e-10, "atol": 1e-12}}


def _self_attention(lib, mha):
    """A module calling `mha` with one tensor as query, key and value (the fused path)."""
    class SelfAttention(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.mha = mha

        def forward(self, x, **kwargs):
            return self.mha(x, x, x, **kwargs)

    return SelfAttention()


def _modules(torch, dtype, **kwargs):
    torch.manual_seed(0)
    theirs = torch.nn.MultiheadAttention(E, NHEAD, **kwargs)
    ours = nn.MultiheadAttention(E, NHEAD, **kwargs)
    if dtype == np.float64:
        theirs, ours = theirs.double(), ours.double()
    return ours, theirs


def _inputs(dtype, batch_first, kdim=E, vdim=E, batched=True):
    rng = np.random.default_rng(0)

    def shape(n, e):
        if not batched:
            return (n, e)
        return (N, n, e) if batch_first else (n, N, e)
    return [rng.standard_normal(shape(L, E)).astype(dtype),
            rng.standard_normal(shape(S, kdim)).astype(dtype),
            rng.standard_normal(shape(S, vdim)).astype(dtype)]


def _masks(dtype):
    rng = np.random.default_rng(1)
    bool_mask = rng.random((L, S)) < 0.3
    bool_mask[:, 0] = False  # every query keeps a key: no fully masked rows
    kpm = rng.random((N, S)) < 0.3
    kpm[:, 0] = False
    causal = np.triu(np.full((L, S), -np.inf), 1).astype(dtype)
    return [
        {"attn_mask": bool_mask},
        {"attn_mask": rng.standard_normal((L, S)).astype(dtype)},
        {"attn_mask": rng.standard_normal((N * NHEAD, L, S)).astype(dtype)},
        {"key_padding_mask": kpm},
        {"key_padding_mask": np.where(kpm, -np.inf, 0).astype(dtype),
         "attn_mask": rng.standard_normal((L, S)).astype(dtype)},
        {"attn_mask": causal, "is_causal": True, "need_weights": False},
        {"need_weights": False, "key_padding_mask": kpm},
        {"average_attn_weights": False},
    ]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("options", [
    {}, {"bias": False}, {"add_bias_kv": True}, {"add_zero_attn": True},
    {"add_bias_kv": True, "add_zero_attn": True}, {"kdim": 6, "vdim": 7},
])
def test_mha_parity(torch, dtype, batch_first, options):
    ours, theirs = _modules(torch, dtype, batch_first=batch_first, **options)
    inputs = _inputs(dtype, batch_first, options.get("kdim", E), options.get("vdim", E))
    check_module_parity(ours, theirs, inputs, **TOL[dtype])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("case", range(8))
def test_mha_mask_parity(torch, dtype, batch_first, case):
    ours, theirs = _modules(torch, dtype, batch_first=batch_first)
    check_module_parity(ours, theirs, _inputs(dtype, batch_first),
                        forward_kwargs=_masks(dtype)[case], **TOL[dtype])


@pytest.mark.parametrize("batch_first", [False, True])
def test_self_attention_parity(torch, batch_first):
    ours, theirs = _modules(torch, np.float32, batch_first=batch_first)
    x = _inputs(np.float32, batch_first)[0]
    check_module_parity(_self_attention(tm, ours), _self_attention(torch, theirs), [x],
                        **TOL[np.float32])


def test_unbatched_parity(torch):
    ours, theirs = _modules(torch, np.float64)
    mask = {"attn_mask": np.random.default_rng(2).random((L, S)) < 0.3}
    mask["attn_mask"][:, 0] = False
    check_module_parity(ours, theirs, _inputs(np.float64, False, batched=False),
                        forward_kwargs=mask, **TOL[np.float64])


def test_fully_masked_rows_parity(torch):
    """torch gives NaN with need_weights (explicit softmax) and zeros through sdpa."""
    ours, theirs = _modules(torch, np.float64)
    load_torch_state(ours, theirs)
    q, k, v = _inputs(np.float64, False)
    kpm = np.zeros((N, S), dtype=bool)
    kpm[0] = True
    for need_weights in (True, False):
        a = ours(tm.tensor(q), tm.tensor(k), tm.tensor(v), key_padding_mask=tm.tensor(kpm),
                 need_weights=need_weights)[0]
        b = theirs(torch.tensor(q), torch.tensor(k), torch.tensor(v),
                   key_padding_mask=torch.tensor(kpm), need_weights=need_weights)[0]
        assert_close(a, b, equal_nan=True, **TOL[np.float64])


def test_multi_head_attention_forward_parity(torch):
    ours, theirs = _modules(torch, np.float64, add_bias_kv=True)
    q, k, v = _inputs(np.float64, False)
    args = lambda lib, mod: (E, NHEAD, mod.in_proj_weight, mod.in_proj_bias, mod.bias_k,
                             mod.bias_v, True, 0.0, mod.out_proj.weight, mod.out_proj.bias)
    load_torch_state(ours, theirs)
    a = F.multi_head_attention_forward(tm.tensor(q), tm.tensor(k), tm.tensor(v),
                                       *args(tm, ours), average_attn_weights=False)
    b = torch.nn.functional.multi_head_attention_forward(
        torch.tensor(q), torch.tensor(k), torch.tensor(v), *args(torch, theirs),
        average_attn_weights=False)
    assert_close(a[0], b[0], **TOL[np.float64])
    assert_close(a[1], b[1], **TOL[np.float64])


def test_sdpa_float32_gradients(torch):
    rng = np.random.default_rng(3)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in
              ((2, 3, 6, 8), (2, 3, 7, 8), (2, 3, 7, 5), (6, 7))]
    ours = [tm.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out_o = F.scaled_dot_product_attention(*ours[:3], attn_mask=ours[3])
    out_t = torch.nn.functional.scaled_dot_product_attention(*theirs[:3], attn_mask=theirs[3])
    assert_close(out_o, out_t, **TOL[np.float32])
    seed = rng.standard_normal(tuple(out_t.shape)).astype(np.float32)
    out_o.backward(tm.tensor(seed))
    out_t.backward(torch.tensor(seed))
    for a, b in zip(ours, theirs):
        assert_close(a.grad, b.grad, **TOL[np.float32])
