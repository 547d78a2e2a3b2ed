"""Audio models: M5 and KWSNet shapes, parameter names and learning; wav2vec2's module tree,
checkpoint names (both weight-norm spellings), lengths and CTC pieces; the registry."""

import numpy as np
import pytest

import taimatsu as tm
from taimatsu import nn, plugins
from taimatsu_audio.models import (
    M5,
    GreedyCTCDecoder,
    KWSNet,
    Wav2Vec2Config,
    Wav2Vec2ForCTC,
    Wav2Vec2Model,
)
from taimatsu_audio.models.wav2vec2 import hub_load

TINY = dict(hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=24,
            conv_dim=(8, 8), conv_kernel=(10, 3), conv_stride=(5, 2),
            num_conv_pos_embeddings=8, num_conv_pos_embedding_groups=2, vocab_size=6)


def test_m5_shapes_and_parameter_names():
    model = M5(n_input=1, n_output=10)
    out = model(tm.randn(3, 1, 8000))
    assert out.shape == (3, 1, 10)
    assert tm.allclose(out.exp().sum(-1), tm.ones(3, 1), atol=1e-5)
    names = set(model.state_dict())
    assert {"conv1.weight", "bn1.running_mean", "conv4.weight", "fc1.weight"} <= names
    assert model.conv1.weight.shape == (32, 1, 80) and model.conv1.stride == (16,)


@pytest.mark.parametrize("lstm", [None, 12])
def test_kwsnet_learns_a_separable_toy_task(lstm):
    tm.manual_seed(0)
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 32)
    features = rng.standard_normal((32, 16, 24)).astype(np.float32)
    features[labels == 1, :8] += 2.0  # class 1: energy in the low bins
    x, y = tm.from_numpy(features), tm.from_numpy(labels)
    model = KWSNet(n_classes=2, n_mels=16, channels=(4, 8), lstm_hidden=lstm, dropout=0.0)
    assert model(x[:2]).shape == (2, 2) and model(x[:2, None]).shape == (2, 2)
    optimizer = tm.optim.Adam(model.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss()
    first = None
    for _ in range(30):
        loss = loss_fn(model(x), y)
        first = first if first is not None else loss.item()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert loss.item() < 0.5 * first
    with pytest.raises(ValueError, match="too small"):
        KWSNet(n_mels=4, channels=(4, 8, 16), lstm_hidden=8)


def test_greedy_ctc_decoder():
    labels = ["<pad>", "a", "b", "|"]
    best = [0, 1, 1, 0, 1, 3, 2, 2, 0, 3]
    emission = tm.from_numpy(np.eye(4, dtype=np.float32)[best])
    assert GreedyCTCDecoder(labels)(emission) == "aa b"
    assert GreedyCTCDecoder(labels, word_delimiter=None)(emission) == "aa|b|"
    assert GreedyCTCDecoder(labels)(emission[None].expand(2, 10, 4)) == ["aa b", "aa b"]


def test_wav2vec2_config_reads_transformers_json():
    cfg = Wav2Vec2Config.from_dict({"model_type": "wav2vec2", "conv_dim": [8, 8],
                                    "hidden_size": 16, "architectures": ["Wav2Vec2ForCTC"]})
    assert cfg.conv_dim == (8, 8) and cfg.hidden_size == 16
    assert cfg.extra == {"model_type": "wav2vec2", "architectures": ["Wav2Vec2ForCTC"]}
    assert cfg.to_dict()["conv_dim"] == [8, 8]
    defaults = Wav2Vec2Config()
    assert (defaults.hidden_size, defaults.num_hidden_layers, defaults.conv_kernel) == \
        (768, 12, (10, 3, 3, 3, 3, 2, 2))


def test_wav2vec2_base_has_transformers_names_and_size():
    model = plugins.get_model("wav2vec2_base")
    names = model.state_dict()
    for key in ("wav2vec2.feature_extractor.conv_layers.0.conv.weight",
                "wav2vec2.feature_extractor.conv_layers.0.layer_norm.weight",
                "wav2vec2.feature_projection.projection.weight",
                "wav2vec2.encoder.pos_conv_embed.conv.parametrizations.weight.original0",
                "wav2vec2.encoder.layers.11.attention.q_proj.weight",
                "wav2vec2.encoder.layers.11.final_layer_norm.bias",
                "wav2vec2.masked_spec_embed", "lm_head.weight"):
        assert key in names
    assert "wav2vec2.feature_extractor.conv_layers.1.layer_norm.weight" not in names
    assert names["wav2vec2.encoder.pos_conv_embed.conv.parametrizations.weight.original0"] \
        .shape == (1, 1, 128)
    assert sum(p.numel() for p in model.parameters()) == 94_396_320  # base-960h's count


def test_wav2vec2_accepts_both_weight_norm_spellings():
    tm.manual_seed(0)
    model = Wav2Vec2ForCTC(Wav2Vec2Config(**TINY)).eval()
    state = model.state_dict()
    prefix = "wav2vec2.encoder.pos_conv_embed.conv."
    legacy = {k.replace("parametrizations.weight.original0", "weight_g")
               .replace("parametrizations.weight.original1", "weight_v"): v
              for k, v in state.items()}
    assert prefix + "weight_g" in legacy
    other = Wav2Vec2ForCTC(Wav2Vec2Config(**TINY)).eval()
    other.load_state_dict(legacy)
    x = tm.randn(2, 400)
    with tm.no_grad():
        assert tm.allclose(model(x), other(x))


def test_wav2vec2_lengths_masks_and_ctc_loss():
    tm.manual_seed(0)
    # layer-norm feature encoders see each frame alone: padding cannot leak into valid
    # frames (the base models' group norm spans the whole clip, padding included)
    model = Wav2Vec2ForCTC(Wav2Vec2Config(**TINY, feat_extract_norm="layer",
                                          do_stable_layer_norm=True)).eval()
    x = tm.randn(2, 400)
    assert model.wav2vec2.feature_lengths(tm.tensor([400, 250])).tolist() == [39, 24]
    with tm.no_grad():
        full = model(x[:1, :250])
        mask = tm.ones(2, 400, dtype=tm.int64)
        mask[1, 250:] = 0
        padded = model(tm.cat([x[:1], tm.cat([x[:1, :250], tm.zeros(1, 150)], 1)]), mask)
    # padding does not change the frames of the shorter example
    assert tm.allclose(padded[1, :24], full[0, :24], atol=1e-5)
    model.train()
    logits = model(x)
    loss = model.ctc_loss(logits, tm.tensor([[1, 2, 3], [2, 2, 0]]), tm.tensor([400, 400]),
                          tm.tensor([3, 2]))
    loss.backward()
    assert model.lm_head.weight.grad is not None
    model.freeze_feature_encoder()
    assert not any(p.requires_grad for p in model.wav2vec2.feature_extractor.parameters())


def test_wav2vec2_large_variant_and_config_errors():
    model = Wav2Vec2ForCTC(Wav2Vec2Config(**{**TINY, "feat_extract_norm": "layer",
                                              "do_stable_layer_norm": True, "conv_bias": True}))
    assert "wav2vec2.feature_extractor.conv_layers.1.layer_norm.weight" in model.state_dict()
    assert model(tm.randn(1, 400)).shape == (1, 39, 6)
    with pytest.raises(ValueError, match="feat_extract_norm"):
        Wav2Vec2Model(Wav2Vec2Config(**{**TINY, "feat_extract_norm": "batch"}))
    with pytest.raises(ValueError, match="unsupported activation"):
        Wav2Vec2Model(Wav2Vec2Config(**{**TINY, "hidden_act": "mish2"}))


def test_hub_load_answers_only_wav2vec2_configs(tmp_path):
    assert hub_load(str(tmp_path), {"model_type": "bert"}) is None


def test_models_are_registered():
    assert {"m5", "kws_cnn", "kws_cnn_lstm", "wav2vec2_base"} <= \
        set(plugins.list_models(domain="audio"))
    assert plugins.list_models(domain="audio", task="keyword_spotting") == \
        ["kws_cnn", "kws_cnn_lstm", "m5"]
    assert isinstance(plugins.get_model("m5", n_output=5), M5)
