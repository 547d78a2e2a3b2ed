"""wav2vec2 against transformers' Wav2Vec2ForCTC on small random configs: a repository
folder written by transformers' save_pretrained loads through taimatsu_hub.load (our
plugin's taimatsu_hub_load) and gives the same logits. Skipped without transformers."""

import json

import numpy as np
import pytest

import taimatsu as tm

transformers = pytest.importorskip("transformers")
taimatsu_hub = pytest.importorskip("taimatsu_hub")

SMALL = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37,
             conv_dim=(8, 8, 8), conv_kernel=(10, 3, 2), conv_stride=(5, 2, 2),
             num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=4, vocab_size=12)
VARIANTS = {
    "base": dict(),  # group norm feature encoder, post-norm layers
    "large": dict(feat_extract_norm="layer", do_stable_layer_norm=True, conv_bias=True),
    "odd-pos-conv": dict(num_conv_pos_embeddings=15, num_conv_pos_embedding_groups=1,
                         hidden_act="gelu_new"),
}


def save_reference(torch, folder, **overrides):
    torch.manual_seed(0)
    config = transformers.Wav2Vec2Config(**{**SMALL, **overrides})
    model = transformers.Wav2Vec2ForCTC(config).eval()
    model.save_pretrained(folder)
    vocab = {tok: i for i, tok in enumerate(["<pad>", "<s>", "</s>", "<unk>", "|", "E", "T",
                                             "A", "O", "N", "I", "H"])}
    (folder / "vocab.json").write_text(json.dumps(vocab))
    return model


def inputs():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 1000)).astype(np.float32)
    mask = np.ones((2, 1000), dtype=np.int64)
    mask[1, 700:] = 0
    return x, mask


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_logits_match_transformers(torch, tmp_path, variant):
    reference = save_reference(torch, tmp_path, **VARIANTS[variant])
    model = taimatsu_hub.load(str(tmp_path))
    assert model.labels[:5] == ("<pad>", "<s>", "</s>", "<unk>", "|")
    x, mask = inputs()
    with torch.no_grad():
        ref = reference(torch.from_numpy(x)).logits.numpy()
        ref_masked = reference(torch.from_numpy(x), attention_mask=torch.from_numpy(mask))
        ref_masked = ref_masked.logits.numpy()
    with tm.no_grad():
        ours = model(tm.from_numpy(x)).numpy()
        ours_masked = model(tm.from_numpy(x), tm.from_numpy(mask)).numpy()
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=2e-6)
    valid = int(model.wav2vec2.feature_lengths(tm.tensor(700)).item())
    np.testing.assert_allclose(ours_masked[0], ref_masked[0], rtol=1e-5, atol=2e-6)
    np.testing.assert_allclose(ours_masked[1, :valid], ref_masked[1, :valid], rtol=1e-5,
                               atol=2e-6)


def test_legacy_weight_norm_checkpoint_loads(torch, tmp_path):
    """Checkpoints from before torch's parametrizations name the positional conv's weight
    norm weight_g / weight_v (as facebook/wav2vec2-base-960h's pytorch_model.bin does)."""
    reference = save_reference(torch, tmp_path)
    state = {k.replace("parametrizations.weight.original0", "weight_g")
              .replace("parametrizations.weight.original1", "weight_v"): v
             for k, v in reference.state_dict().items()}
    (tmp_path / "model.safetensors").unlink()
    torch.save(state, tmp_path / "pytorch_model.bin")
    model = taimatsu_hub.load(str(tmp_path))
    x, _ = inputs()
    with torch.no_grad():
        ref = reference(torch.from_numpy(x)).logits.numpy()
    with tm.no_grad():
        np.testing.assert_allclose(model(tm.from_numpy(x)).numpy(), ref, rtol=1e-5, atol=2e-6)


def test_encoder_only_repository_builds_the_base_model(torch, tmp_path):
    torch.manual_seed(0)
    config = transformers.Wav2Vec2Config(**SMALL)
    reference = transformers.Wav2Vec2Model(config).eval()
    reference.save_pretrained(tmp_path)
    model = taimatsu_hub.load(str(tmp_path))
    x, _ = inputs()
    with torch.no_grad():
        ref = reference(torch.from_numpy(x)).last_hidden_state.numpy()
    with tm.no_grad():
        hidden, _ = model(tm.from_numpy(x))
    np.testing.assert_allclose(hidden.numpy(), ref, rtol=1e-5, atol=2e-6)


def test_training_mode_gradients_match(torch, tmp_path):
    """Dropout, layer drop and SpecAugment off: the same gradients for every parameter."""
    reference = save_reference(torch, tmp_path, hidden_dropout=0.0, attention_dropout=0.0,
                               activation_dropout=0.0, final_dropout=0.0, layerdrop=0.0,
                               mask_time_prob=0.0, feat_proj_dropout=0.0)
    model = taimatsu_hub.load(str(tmp_path)).train()
    reference.train()
    x, _ = inputs()
    reference(torch.from_numpy(x)).logits.pow(2).mean().backward()
    model(tm.from_numpy(x)).pow(2).mean().backward()
    ref_grads = {k: p.grad.numpy() for k, p in reference.named_parameters()}
    for name, p in model.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), ref_grads[name], rtol=1e-4, atol=1e-7,
                                   err_msg=name)
