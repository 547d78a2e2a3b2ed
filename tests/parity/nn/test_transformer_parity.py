"""Transformer, its stacks and layers against PyTorch (dropout 0 for determinism)."""

import numpy as np
import pytest

import taimatsu as tm
import taimatsu.nn as nn
from taimatsu.testing import assert_close
from taimatsu.testing._module_case import check_module_parity

pytestmark = pytest.mark.filterwarnings("ignore:Support for mismatched:UserWarning")

D_MODEL, NHEAD, FF, S, T, N = 8, 2, 16, 5, 4, 2
TOL = {np.float32: {"rtol": 1e-5, "atol": 1e-6}, np.float64: {"rtol": 1e-10, "atol": 1e-12}}
# The full encoder-decoder stacks five attention blocks and LayerNorms deep; in float32 a
# few gradient entries near zero then differ from torch's by ~2e-6 absolute (summation
# order in the matmuls), so its absolute tolerance is 1e-5 (relative stays 1e-5).
DEEP_TOL = {np.float32: {"rtol": 1e-5, "atol": 1e-5}, np.float64: TOL[np.float64]}

LAYER_OPTIONS = [
    {},
    {"norm_first": True},
    {"activation": "gelu", "batch_first": True},
    {"norm_first": True, "activation": "gelu", "bias": False},
    {"batch_first": True, "layer_norm_eps": 1e-3},
]


def _pair(torch, name, dtype, *args, **kwargs):
    torch.manual_seed(0)
    kwargs.setdefault("dropout", 0.0)
    theirs = getattr(torch.nn, name)(*args, **kwargs)
    ours = getattr(nn, name)(*args, **kwargs)
    if dtype == np.float64:
        theirs, ours = theirs.double(), ours.double()
    return ours, theirs


def _seq(rng, dtype, length, batch_first):
    shape = (N, length, D_MODEL) if batch_first else (length, N, D_MODEL)
    return rng.standard_normal(shape).astype(dtype)


def _masks(dtype, length):
    rng = np.random.default_rng(1)
    kpm = rng.random((N, length)) < 0.3
    kpm[:, 0] = False
    causal = np.triu(np.full((length, length), -np.inf), 1).astype(dtype)
    return kpm, causal


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("options", LAYER_OPTIONS)
def test_encoder_layer_parity(torch, dtype, options):
    ours, theirs = _pair(torch, "TransformerEncoderLayer", dtype, D_MODEL, NHEAD, FF,
                         **options)
    x = _seq(np.random.default_rng(0), dtype, S, options.get("batch_first", False))
    kpm, causal = _masks(dtype, S)
    check_module_parity(ours, theirs, [x], **TOL[dtype])
    check_module_parity(ours, theirs, [x], forward_kwargs={
        "src_mask": causal, "src_key_padding_mask": kpm}, **TOL[dtype])
    check_module_parity(ours, theirs, [x], forward_kwargs={
        "src_mask": causal, "is_causal": True}, **TOL[dtype])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("options", LAYER_OPTIONS)
def test_decoder_layer_parity(torch, dtype, options):
    ours, theirs = _pair(torch, "TransformerDecoderLayer", dtype, D_MODEL, NHEAD, FF,
                         **options)
    rng = np.random.default_rng(0)
    bf = options.get("batch_first", False)
    tgt, memory = _seq(rng, dtype, T, bf), _seq(rng, dtype, S, bf)
    kpm, _ = _masks(dtype, S)
    _, causal = _masks(dtype, T)
    check_module_parity(ours, theirs, [tgt, memory], **TOL[dtype])
    check_module_parity(ours, theirs, [tgt, memory], forward_kwargs={
        "tgt_mask": causal, "tgt_is_causal": True, "memory_key_padding_mask": kpm},
        **TOL[dtype])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("options", [{}, {"norm_first": True, "batch_first": True}])
def test_stack_parity(torch, dtype, options):
    layer_o, layer_t = _pair(torch, "TransformerEncoderLayer", dtype, D_MODEL, NHEAD, FF,
                             **options)
    ours = nn.TransformerEncoder(layer_o, 2, nn.LayerNorm(D_MODEL).to(layer_o.linear1.weight
                                                                      .dtype))
    theirs = torch.nn.TransformerEncoder(layer_t, 2, torch.nn.LayerNorm(D_MODEL).to(
        layer_t.linear1.weight.dtype), enable_nested_tensor=False)
    x = _seq(np.random.default_rng(0), dtype, S, options.get("batch_first", False))
    kpm, causal = _masks(dtype, S)
    check_module_parity(ours, theirs, [x], forward_kwargs={
        "mask": causal, "src_key_padding_mask": kpm}, **TOL[dtype])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("options", [{}, {"norm_first": True, "batch_first": True,
                                          "activation": "gelu"}])
def test_transformer_parity(torch, dtype, options):
    ours, theirs = _pair(torch, "Transformer", dtype, D_MODEL, NHEAD, 2, 2, FF, **options)
    rng = np.random.default_rng(0)
    bf = options.get("batch_first", False)
    src, tgt = _seq(rng, dtype, S, bf), _seq(rng, dtype, T, bf)
    kpm, _ = _masks(dtype, S)
    _, causal = _masks(dtype, T)
    check_module_parity(ours, theirs, [src, tgt], forward_kwargs={
        "tgt_mask": causal, "src_key_padding_mask": kpm, "memory_key_padding_mask": kpm},
        **DEEP_TOL[dtype])


def test_generate_square_subsequent_mask_parity(torch):
    assert_close(nn.Transformer.generate_square_subsequent_mask(4),
                 torch.nn.Transformer.generate_square_subsequent_mask(4))


def test_state_dict_from_torch_loads(torch):
    torch.manual_seed(0)
    theirs = torch.nn.Transformer(D_MODEL, NHEAD, 2, 1, FF)
    ours = nn.Transformer(D_MODEL, NHEAD, 2, 1, FF)
    result = ours.load_state_dict({k: tm.tensor(v.numpy()) for k, v in
                                   theirs.state_dict().items()})
    assert not result.missing_keys and not result.unexpected_keys


def test_init_distribution_matches_torch(torch):
    torch.manual_seed(0)
    tm.manual_seed(0)  # a fixed draw: the checks below are statistical
    theirs = torch.nn.Transformer(64, 4, 1, 1, 128)
    ours = nn.Transformer(64, 4, 1, 1, 128)
    for (n, a), (_, b) in zip(ours.named_parameters(), theirs.named_parameters()):
        a, b = a.detach().numpy(), b.detach().numpy()
        # four standard errors of the difference of two independent samples' statistics
        se_std, se_mean = b.std() / np.sqrt(b.size), b.std() * np.sqrt(2 / b.size)
        assert abs(a.std() - b.std()) <= 4 * se_std + 1e-12, n
        assert abs(a.mean() - b.mean()) <= 4 * se_mean + 1e-12, n
        assert np.abs(a).max() <= np.abs(b).max() * 1.05 + 1e-12, n
