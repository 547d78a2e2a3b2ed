"""Transformer and its encoder / decoder layers: structure, masks, gradients, errors."""

import math

import numpy as np
import pytest

import taimatsu as tm
import taimatsu.nn as nn
from taimatsu.autograd import gradcheck
from taimatsu.nn import functional as F
from taimatsu.testing import assert_close

RNG = np.random.default_rng(0)
D_MODEL, NHEAD, FF = 8, 2, 16


def _t(*shape, requires_grad=False):
    return tm.tensor(RNG.standard_normal(shape), requires_grad=requires_grad)


def _enc(**kwargs):
    tm.manual_seed(0)
    kwargs.setdefault("dropout", 0.0)
    return nn.TransformerEncoderLayer(D_MODEL, NHEAD, FF, **kwargs).double()


def _dec(**kwargs):
    tm.manual_seed(0)
    kwargs.setdefault("dropout", 0.0)
    return nn.TransformerDecoderLayer(D_MODEL, NHEAD, FF, **kwargs).double()


def test_parameter_names_match_torch():
    names = [n for n, _ in _enc().named_parameters()]
    assert names == ["self_attn.in_proj_weight", "self_attn.in_proj_bias",
                     "self_attn.out_proj.weight", "self_attn.out_proj.bias", "linear1.weight",
                     "linear1.bias", "linear2.weight", "linear2.bias", "norm1.weight",
                     "norm1.bias", "norm2.weight", "norm2.bias"]
    names = [n for n, _ in _dec(bias=False).named_parameters()]
    assert names == ["self_attn.in_proj_weight", "self_attn.out_proj.weight",
                     "multihead_attn.in_proj_weight", "multihead_attn.out_proj.weight",
                     "linear1.weight", "linear2.weight", "norm1.weight", "norm2.weight",
                     "norm3.weight"]
    model = nn.Transformer(D_MODEL, NHEAD, 2, 1, FF)
    keys = list(model.state_dict())
    assert "encoder.layers.1.norm2.bias" in keys and "encoder.norm.weight" in keys
    assert "decoder.layers.0.multihead_attn.in_proj_weight" in keys
    assert "decoder.norm.bias" in keys and len(model.encoder.layers) == 2


def test_transformer_init_is_xavier_on_matrices():
    model = nn.Transformer(16, 2, 1, 1, 32)
    w = model.encoder.layers[0].linear1.weight.detach().numpy()
    bound = math.sqrt(6 / (16 + 32))
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert np.all(model.encoder.norm.weight.detach().numpy() == 1)


def test_encoder_stack_layers_are_independent_copies():
    layer = _enc()
    enc = nn.TransformerEncoder(layer, 2)
    a, b = enc.layers[0].linear1.weight, enc.layers[1].linear1.weight
    assert a is not b and a is not layer.linear1.weight
    assert_close(a, b)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("norm_first", [False, True])
def test_shapes(batch_first, norm_first):
    model = nn.Transformer(D_MODEL, NHEAD, 1, 1, FF, dropout=0.0, batch_first=batch_first,
                           norm_first=norm_first).double()
    src = _t(2, 5, D_MODEL) if batch_first else _t(5, 2, D_MODEL)
    tgt = _t(2, 3, D_MODEL) if batch_first else _t(3, 2, D_MODEL)
    assert model(src, tgt).shape == tgt.shape
    assert model(_t(5, D_MODEL), _t(3, D_MODEL)).shape == (3, D_MODEL)  # unbatched


def test_generate_square_subsequent_mask():
    mask = nn.Transformer.generate_square_subsequent_mask(3)
    expected = np.array([[0, -np.inf, -np.inf], [0, 0, -np.inf], [0, 0, 0]])
    assert mask.dtype is tm.float32
    assert_close(mask, expected.astype(np.float32))
    assert nn.Transformer.generate_square_subsequent_mask(2, dtype=tm.float64).dtype \
        is tm.float64


def test_causal_mask_hides_the_future():
    layer = _enc()
    x = _t(5, 2, D_MODEL)
    mask = nn.Transformer.generate_square_subsequent_mask(5, dtype=tm.float64)
    full = layer(x, src_mask=mask)
    prefix = layer(x[:3], src_mask=mask[:3, :3])
    assert_close(full[:3], prefix)
    assert_close(layer(x, src_mask=mask, is_causal=True), full)


def test_bool_and_float_masks_agree():
    layer = _enc(batch_first=True)
    x = _t(2, 4, D_MODEL)
    kpm = np.array([[False, False, True, True], [False, False, False, True]])
    a = layer(x, src_key_padding_mask=tm.tensor(kpm))
    b = layer(x, src_key_padding_mask=tm.tensor(np.where(kpm, -np.inf, 0.0)))
    assert_close(a, b)


def test_encoder_detects_causal_mask():
    enc = nn.TransformerEncoder(_enc(), 1)
    seen = []
    enc.layers[0].register_forward_pre_hook(
        lambda mod, args, kwargs: seen.append(kwargs["is_causal"]), with_kwargs=True)
    x = _t(4, 2, D_MODEL)
    enc(x, mask=nn.Transformer.generate_square_subsequent_mask(4, dtype=tm.float64))
    enc(x, mask=tm.zeros(4, 4, dtype=tm.float64))
    enc(x)
    assert seen == [True, False, False]


@pytest.mark.parametrize("activation", ["gelu", F.gelu, nn.GELU()])
def test_activation_choices_agree(activation):
    ref = _enc(activation="gelu")
    other = _enc(activation=activation)
    x = _t(3, 2, D_MODEL)
    assert_close(other(x), ref(x))
    assert other.activation_relu_or_gelu == 2
    assert _enc(activation=lambda v: v.tanh()).activation_relu_or_gelu == 0


def test_dropout_only_in_training():
    layer = nn.TransformerEncoderLayer(D_MODEL, NHEAD, FF, dropout=0.5).double()
    x = _t(4, 2, D_MODEL)
    layer.eval()
    assert_close(layer(x), layer(x))
    layer.train()
    assert not np.allclose(layer(x).detach().numpy(), layer(x).detach().numpy())


def _gradcheck_module(module, inputs):
    names = [n for n, _ in module.named_parameters()]
    params = [p for _, p in module.named_parameters()]

    def fn(*args):
        saved = {}
        try:
            for n, p in zip(names, args[len(inputs):]):
                owner = module.get_submodule(n.rpartition(".")[0]) if "." in n else module
                key = n.rpartition(".")[2]
                saved[(owner, key)] = owner._parameters[key]
                owner._parameters[key] = p
            return module(*args[:len(inputs)])
        finally:
            for (owner, key), p in saved.items():
                owner._parameters[key] = p

    return gradcheck(fn, list(inputs) + params)


def test_encoder_layer_gradcheck():
    tm.manual_seed(0)
    layer = nn.TransformerEncoderLayer(4, 2, 6, dropout=0.0, norm_first=True).double()
    assert _gradcheck_module(layer, [_t(3, 2, 4, requires_grad=True)])


def test_decoder_layer_gradcheck():
    tm.manual_seed(0)
    layer = nn.TransformerDecoderLayer(4, 2, 6, dropout=0.0, activation="gelu").double()
    assert _gradcheck_module(layer, [_t(2, 2, 4, requires_grad=True),
                                     _t(3, 2, 4, requires_grad=True)])


def test_errors():
    with pytest.raises(RuntimeError, match="activation should be relu/gelu, not tanh"):
        nn.TransformerEncoderLayer(D_MODEL, NHEAD, activation="tanh")
    model = nn.Transformer(D_MODEL, NHEAD, 1, 1, FF)
    with pytest.raises(RuntimeError, match="the batch number of src and tgt must be equal"):
        model(tm.randn(5, 2, D_MODEL), tm.randn(3, 3, D_MODEL))
    with pytest.raises(RuntimeError, match="the feature number of src and tgt must be equal "
                                           "to d_model"):
        model(tm.randn(5, 2, D_MODEL), tm.randn(3, 2, 4))
    layer = nn.TransformerEncoderLayer(D_MODEL, NHEAD, FF)
    with pytest.raises(RuntimeError, match="Need attn_mask if specifying the is_causal hint"):
        layer(tm.randn(3, 2, D_MODEL), is_causal=True)
