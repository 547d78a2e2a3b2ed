"""scaled_dot_product_attention and MultiheadAttention: values, gradients, shapes, errors."""

import math

import numpy as np
import pytest
from op_cases.nn_attention import CASES

import taimatsu as tm
from taimatsu.autograd import gradcheck, gradgradcheck
from taimatsu.nn import functional as F
from taimatsu.nn.modules._attention import MultiheadAttention
from taimatsu.testing import assert_close, generate_tests

globals().update(generate_tests(CASES))

RNG = np.random.default_rng(0)


def _t(shape, dtype=np.float64, requires_grad=False):
    return tm.tensor(RNG.standard_normal(shape).astype(dtype), requires_grad=requires_grad)


def _reference_sdpa(q, k, v, mask=None, scale=None):
    """softmax(q k^T * scale + mask) v in plain NumPy."""
    scale = 1 / math.sqrt(q.shape[-1]) if scale is None else scale
    s = q @ np.swapaxes(k, -1, -2) * scale
    if mask is not None:
        s = s + (np.where(mask, 0.0, -np.inf) if mask.dtype == bool else mask)
    s = s - s.max(axis=-1, keepdims=True)
    p = np.exp(s)
    return (p / p.sum(axis=-1, keepdims=True)) @ v


# -- scaled_dot_product_attention ----------------------------------------------------------------

def test_sdpa_matches_numpy_reference():
    q, k, v = _t((2, 3, 4, 8)), _t((2, 3, 5, 8)), _t((2, 3, 5, 6))
    mask = RNG.random((4, 5)) < 0.7
    mask[:, 0] = True
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=tm.tensor(mask))
    assert_close(out, _reference_sdpa(q.numpy(), k.numpy(), v.numpy(), mask))


def test_sdpa_causal_is_top_left_lower_triangle():
    q, k, v = _t((1, 3, 4)), _t((1, 6, 4)), _t((1, 6, 2))
    causal = np.tril(np.ones((3, 6), dtype=bool))
    assert_close(F.scaled_dot_product_attention(q, k, v, is_causal=True),
                 _reference_sdpa(q.numpy(), k.numpy(), v.numpy(), causal))


def test_sdpa_fully_masked_rows_give_zero_output_and_gradient():
    q, k, v = _t((2, 3, 4), requires_grad=True), _t((2, 5, 4)), _t((2, 5, 3))
    mask = np.ones((3, 5), dtype=bool)
    mask[1] = False
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=tm.tensor(mask))
    assert not np.isnan(out.detach().numpy()).any()
    assert np.all(out.detach().numpy()[:, 1] == 0)
    out.sum().backward()
    assert np.all(q.grad.numpy()[:, 1] == 0)


def test_sdpa_float_mask_gets_gradient():
    q, k, v = _t((2, 3, 4)), _t((2, 5, 4)), _t((2, 5, 3))
    mask = _t((3, 5), requires_grad=True)
    assert gradcheck(lambda m: F.scaled_dot_product_attention(q, k, v, attn_mask=m), [mask])


def test_sdpa_dropout_is_seeded_and_scaled():
    q, k, v = _t((8, 16, 4)), _t((8, 16, 4)), tm.ones(8, 16, 3, dtype=tm.float64)
    tm.manual_seed(3)
    a = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    tm.manual_seed(3)
    b = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    assert_close(a, b)
    # each row of probabilities sums to 1; after dropout its expectation stays 1
    assert abs(float(a.mean()) - 1.0) < 0.1
    assert not np.allclose(a.numpy(), 1.0)


def test_sdpa_dropout_gradcheck():
    q, k, v = (_t(s, requires_grad=True) for s in ((2, 3, 4), (2, 5, 4), (2, 5, 3)))

    def fn(q, k, v):
        tm.manual_seed(5)  # the same dropout mask on every evaluation
        return F.scaled_dot_product_attention(q, k, v, dropout_p=0.4)

    assert gradcheck(fn, [q, k, v])


def test_sdpa_dropout_one_zeroes_output():
    q, k, v = _t((2, 3, 4)), _t((2, 5, 4)), _t((2, 5, 3))
    out = F.scaled_dot_product_attention(q, k, v, dropout_p=1.0)
    assert np.all(out.numpy() == 0)


def test_sdpa_errors():
    q, k, v = _t((2, 3, 4)), _t((2, 5, 4)), _t((2, 5, 3))
    with pytest.raises(RuntimeError, match="Explicit attn_mask should not be set when "
                                           "is_causal=True"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=tm.ones(3, 5, dtype=tm.bool),
                                       is_causal=True)
    with pytest.raises(RuntimeError, match="Expected query, key, and value to have the same "
                                           "dtype, but got query.dtype: float key.dtype: "
                                           "double and value.dtype: double instead."):
        F.scaled_dot_product_attention(q.float(), k, v)
    with pytest.raises(RuntimeError, match="Expected attn_mask dtype to be bool or float or "
                                           "to match query dtype"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=tm.zeros(3, 5, dtype=tm.int64))
    with pytest.raises(RuntimeError, match="Number of heads in key and value must divide"):
        F.scaled_dot_product_attention(_t((1, 3, 2, 4)), _t((1, 2, 5, 4)), _t((1, 2, 5, 3)),
                                       enable_gqa=True)


# -- MultiheadAttention --------------------------------------------------------------------------

def test_mha_parameters_match_torch_names_and_shapes():
    m = MultiheadAttention(8, 2, add_bias_kv=True)
    assert {n: tuple(p.shape) for n, p in m.named_parameters()} == {
        "in_proj_weight": (24, 8), "in_proj_bias": (24,), "bias_k": (1, 1, 8),
        "bias_v": (1, 1, 8), "out_proj.weight": (8, 8), "out_proj.bias": (8,)}
    m = MultiheadAttention(8, 2, kdim=5, vdim=3, bias=False)
    assert {n: tuple(p.shape) for n, p in m.named_parameters()} == {
        "q_proj_weight": (8, 8), "k_proj_weight": (8, 5), "v_proj_weight": (8, 3),
        "out_proj.weight": (8, 8)}
    assert type(m.out_proj).__name__ == "NonDynamicallyQuantizableLinear"


def test_mha_default_init():
    m = MultiheadAttention(64, 4)
    bound = math.sqrt(6 / (64 + 3 * 64))  # xavier_uniform_ on the stacked (3E, E) weight
    w = m.in_proj_weight.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert np.all(m.in_proj_bias.detach().numpy() == 0)
    assert np.all(m.out_proj.bias.detach().numpy() == 0)


@pytest.mark.parametrize("batch_first", [False, True])
def test_mha_shapes(batch_first):
    m = MultiheadAttention(8, 2, batch_first=batch_first).double()
    L, S, N = 4, 6, 3
    q = _t((N, L, 8) if batch_first else (L, N, 8))
    kv = _t((N, S, 8) if batch_first else (S, N, 8))
    out, w = m(q, kv, kv)
    assert out.shape == q.shape and w.shape == (N, L, S)
    out, w = m(q, kv, kv, average_attn_weights=False)
    assert w.shape == (N, 2, L, S)
    out, w = m(q, kv, kv, need_weights=False)
    assert w is None
    out, w = m(_t((L, 8)), _t((S, 8)), _t((S, 8)))  # unbatched
    assert out.shape == (L, 8) and w.shape == (L, S)
    assert_close(w.sum(-1), np.ones(L))


def test_mha_bool_masks_mark_positions_to_ignore():
    m = MultiheadAttention(4, 1).double()
    x = _t((3, 2, 4))
    kpm = tm.tensor([[False, False, True], [False, True, True]])
    _, w = m(x, x, x, key_padding_mask=kpm)
    w = w.detach().numpy()
    assert np.all(w[0, :, 2] == 0) and np.all(w[1, :, 1:] == 0)
    assert_close(w.sum(-1), np.ones((2, 3)))


def test_mha_fully_masked_rows_follow_torch():
    """NaN with need_weights (explicit softmax), zeros without (the sdpa path)."""
    m = MultiheadAttention(4, 2).double()
    x = _t((3, 2, 4))
    kpm = tm.tensor([[True, True, True], [False, True, False]])
    assert np.isnan(m(x, x, x, key_padding_mask=kpm)[0].detach().numpy()[:, 0]).all()
    out = m(x, x, x, key_padding_mask=kpm, need_weights=False)[0].detach().numpy()
    assert not np.isnan(out).any()


def test_mha_is_causal_uses_mask():
    m = MultiheadAttention(4, 2).double()
    x = _t((5, 2, 4))
    causal = tm.tensor(np.triu(np.full((5, 5), -np.inf), 1))
    a = m(x, x, x, attn_mask=causal, need_weights=False)[0]
    b = m(x, x, x, attn_mask=causal, is_causal=True, need_weights=False)[0]
    assert_close(a, b)
    with pytest.raises(RuntimeError, match="Need attn_mask if specifying the is_causal hint"):
        m(x, x, x, is_causal=True)


def test_mha_gradcheck():
    m = MultiheadAttention(4, 2, add_bias_kv=True, add_zero_attn=True).double()
    q, kv = _t((3, 2, 4), requires_grad=True), _t((5, 2, 4), requires_grad=True)
    kpm = tm.tensor(RNG.random((2, 5)) < 0.3)

    def fn(q, kv, w, b):
        return F.multi_head_attention_forward(
            q, kv, kv, 4, 2, w, b, m.bias_k, m.bias_v, True, 0.0, m.out_proj.weight,
            m.out_proj.bias, key_padding_mask=kpm)[0]

    assert gradcheck(fn, [q, kv, m.in_proj_weight, m.in_proj_bias])


def test_mha_errors():
    with pytest.raises(AssertionError, match="embed_dim must be divisible by num_heads"):
        MultiheadAttention(10, 3)
    with pytest.raises(ValueError, match="embed_dim and num_heads must be greater than 0"):
        MultiheadAttention(0, 1)
    m = MultiheadAttention(4, 2)
    x = tm.randn(3, 2, 4)
    with pytest.raises(AssertionError, match="was expecting embedding dimension of 4, but "
                                             "got 5"):
        m(tm.randn(3, 2, 5), x, x)
    with pytest.raises(RuntimeError, match=r"The shape of the 2D attn_mask is "
                                           r"taimatsu.Size\(\[2, 3\]\), but should be "
                                           r"\(3, 3\)."):
        m(x, x, x, attn_mask=tm.zeros(2, 3))
    with pytest.raises(RuntimeError, match="The shape of the 3D attn_mask is"):
        m(x, x, x, attn_mask=tm.zeros(2, 3, 3))
    with pytest.raises(AssertionError, match=r"expecting key_padding_mask shape of \(2, 3\)"):
        m(x, x, x, key_padding_mask=tm.zeros(2, 4, dtype=tm.bool))
    with pytest.raises(AssertionError, match="query should be unbatched 2D or batched 3D "
                                             "tensor but received 4-D query tensor"):
        m(tm.randn(1, 3, 2, 4), x, x)
    with pytest.raises(AssertionError, match="only bool and floating types of "
                                             "key_padding_mask are supported"):
        m(x, x, x, key_padding_mask=tm.zeros(2, 3, dtype=tm.int64))


def test_mha_gradgradcheck():
    """Second derivatives through the fused head split and attention."""
    m = MultiheadAttention(4, 2, batch_first=True).double()
    x, y = _t((2, 3, 4), requires_grad=True), _t((2, 5, 4), requires_grad=True)
    assert gradgradcheck(lambda x: m(x, x, x, need_weights=False)[0], [x])
    assert gradgradcheck(lambda x, y: m(x, y, y)[0], [x, y])
