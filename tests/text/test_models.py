"""taimatsu_text.models: the pretrained MiniLM, checkpoint loading, BERT heads, GPT-2 and
Llama generation (the comparisons against transformers are in tests/parity/text)."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

import taimatsu
from taimatsu_text.models import (
    BertConfig,
    BertForMaskedLM,
    BertForSequenceClassification,
    BertModel,
    GPT2Config,
    GPT2LMHeadModel,
    LlamaConfig,
    LlamaForCausalLM,
    ModelOutput,
    SentenceEncoder,
    from_pretrained,
)
from taimatsu_text.models.generation import process_logits
from taimatsu_text.models.llama import rotary_inv_freq

TINY_BERT = dict(vocab_size=50, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                 intermediate_size=32, max_position_embeddings=32)
TINY_GPT2 = dict(vocab_size=40, n_embd=16, n_layer=2, n_head=2, n_positions=32,
                 bos_token_id=0, eos_token_id=1)
TINY_LLAMA = dict(vocab_size=40, hidden_size=16, intermediate_size=32, num_hidden_layers=2,
                  num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=32,
                  bos_token_id=0, eos_token_id=1)


# ------------------------------------------------------------------ the pretrained MiniLM


def test_minilm_embeddings(minilm_encoder):
    emb = minilm_encoder.encode(["This is an example sentence", "Each sentence is converted"])
    assert emb.shape == (2, 384)
    np.testing.assert_allclose(emb[0, :5].numpy(),
                               [0.067657, 0.063496, 0.048713, 0.079305, 0.037448], atol=2e-6)
    assert float((emb[0] * emb[1]).sum()) == pytest.approx(0.404559, abs=1e-5)
    np.testing.assert_allclose(np.linalg.norm(emb.numpy(), axis=1), 1.0, rtol=1e-6)


def test_minilm_encode_options(minilm_encoder):
    sentences = ["short", "a much longer sentence than the first one", "medium length one"]
    batched = minilm_encoder.encode(sentences, batch_size=2)
    one_by_one = taimatsu.stack([minilm_encoder.encode(s) for s in sentences])
    np.testing.assert_allclose(batched.numpy(), one_by_one.numpy(), atol=2e-6)
    raw = minilm_encoder.encode(sentences, normalize_embeddings=False, convert_to_numpy=True)
    assert isinstance(raw, np.ndarray) and not np.allclose(np.linalg.norm(raw, axis=1), 1)
    assert minilm_encoder.encode([]).shape == (0, 384)
    assert minilm_encoder.max_seq_length == 256
    assert minilm_encoder.get_sentence_embedding_dimension() == 384
    sim = minilm_encoder.similarity(batched, batched)
    np.testing.assert_allclose(np.diag(sim.numpy()), 1.0, rtol=1e-5)


def test_minilm_truncates_to_max_seq_length(minilm_encoder):
    long = "word " * 1000
    assert minilm_encoder.encode(long).shape == (384,)  # 1000 tokens cut to 256: no error


def test_from_pretrained_dispatches_on_layout(minilm_dir, tmp_path):
    assert isinstance(from_pretrained(minilm_dir), SentenceEncoder)
    for name in ("config.json", "model.safetensors"):
        os.symlink(os.path.join(minilm_dir, name), tmp_path / name)
    model = from_pretrained(tmp_path)
    assert isinstance(model, BertModel) and not model.training


# ------------------------------------------------------------------ checkpoints


def test_save_pretrained_roundtrip(tmp_path):
    model = BertForMaskedLM(BertConfig(**TINY_BERT)).eval()
    model.save_pretrained(tmp_path)
    assert json.loads((tmp_path / "config.json").read_text())["model_type"] == "bert"
    again = BertForMaskedLM.from_pretrained(tmp_path, strict=True)
    ids = taimatsu.tensor([[2, 5, 7, 3]])
    np.testing.assert_array_equal(model(ids).logits.detach().numpy(), again(ids).logits.detach().numpy())
    # the output embeddings stay tied after loading
    assert again.cls.predictions.decoder.weight is again.bert.embeddings.word_embeddings.weight


def test_checkpoint_key_renames(tmp_path):
    base = BertModel(BertConfig(**TINY_BERT)).eval()
    state = {f"bert.{k}": v for k, v in base.state_dict().items()}  # a task model's names
    state = {k.replace("LayerNorm.weight", "LayerNorm.gamma")
             .replace("LayerNorm.bias", "LayerNorm.beta"): v for k, v in state.items()}
    state["bert.embeddings.position_ids"] = taimatsu.arange(32)[None]
    state["cls.predictions.bias"] = taimatsu.zeros(50)  # a head the base model drops
    fresh = BertModel(BertConfig(**TINY_BERT))
    fresh.load_checkpoint(state, strict=True)
    fresh.eval()
    ids = taimatsu.tensor([[4, 9, 1]])
    np.testing.assert_array_equal(base(ids).last_hidden_state.detach().numpy(),
                                  fresh(ids).last_hidden_state.detach().numpy())
    # and a base checkpoint into a task model: the prefix is added
    clf = BertForSequenceClassification(BertConfig(**TINY_BERT, num_labels=3))
    with pytest.warns(UserWarning, match="classifier"):
        clf.load_checkpoint(base.state_dict())
    np.testing.assert_array_equal(clf.bert.pooler.dense.weight.detach().numpy(),
                                  base.pooler.dense.weight.detach().numpy())
    with pytest.raises(RuntimeError, match="not in the checkpoint"):
        BertForSequenceClassification(BertConfig(**TINY_BERT)).load_checkpoint(
            base.state_dict(), strict=True)


def test_pytorch_model_bin_and_sharded_loading(tmp_path):
    model = GPT2LMHeadModel(GPT2Config(**TINY_GPT2)).eval()
    model.config.to_json_file(tmp_path / "config.json")
    state = {k: v for k, v in model.state_dict().items() if k != "lm_head.weight"}
    # GPT-2's own files: no "transformer." prefix and the attention-mask buffers
    state = {k.removeprefix("transformer."): v for k, v in state.items()}
    state["h.0.attn.bias"] = taimatsu.ones(1, 1, 32, 32)
    taimatsu.save(state, tmp_path / "pytorch_model.bin")
    loaded = GPT2LMHeadModel.from_pretrained(tmp_path, strict=True)
    ids = taimatsu.tensor([[3, 4, 5]])
    np.testing.assert_allclose(model(ids).logits.detach().numpy(), loaded(ids).logits.detach().numpy())

    from taimatsu.safetensors import save_file
    sharded = tmp_path / "sharded"
    sharded.mkdir()
    model.config.to_json_file(sharded / "config.json")
    keys = sorted(state)
    weight_map = {}
    for i, part in enumerate((keys[: len(keys) // 2], keys[len(keys) // 2:])):
        name = f"model-0000{i + 1}-of-00002.safetensors"
        save_file({k: state[k] for k in part}, sharded / name)
        weight_map.update({k: name for k in part})
    (sharded / "model.safetensors.index.json").write_text(json.dumps({"weight_map": weight_map}))
    loaded = GPT2LMHeadModel.from_pretrained(sharded, strict=True)
    np.testing.assert_allclose(model(ids).logits.detach().numpy(), loaded(ids).logits.detach().numpy())


def test_missing_files_raise(tmp_path):
    with pytest.raises(OSError, match="config.json"):
        BertModel.from_pretrained(tmp_path)
    BertConfig(**TINY_BERT).to_json_file(tmp_path / "config.json")
    with pytest.raises(OSError, match="no weights"):
        BertModel.from_pretrained(tmp_path)


# ------------------------------------------------------------------ BERT heads


def test_bert_padding_does_not_change_real_tokens():
    model = BertModel(BertConfig(**TINY_BERT)).eval()
    ids = taimatsu.tensor([[2, 7, 9, 3]])
    padded = taimatsu.tensor([[2, 7, 9, 3, 0, 0]])
    mask = taimatsu.tensor([[1, 1, 1, 1, 0, 0]])
    a = model(ids).last_hidden_state.detach().numpy()
    b = model(padded, attention_mask=mask).last_hidden_state.detach().numpy()[:, :4]
    np.testing.assert_allclose(a, b, atol=1e-6)
    out = model(ids, output_hidden_states=True)
    assert len(out.hidden_states) == 3 and out[0] is out.last_hidden_state
    assert isinstance(out, ModelOutput) and out.pooler_output.shape == (1, 16)


def test_bert_heads_losses_and_training_step():
    clf = BertForSequenceClassification(BertConfig(**TINY_BERT, num_labels=3))
    ids = taimatsu.tensor([[2, 7, 9, 3], [2, 5, 3, 0]])
    mask = taimatsu.tensor([[1, 1, 1, 1], [1, 1, 1, 0]])
    out = clf(ids, attention_mask=mask, labels=taimatsu.tensor([0, 2]))
    assert out.logits.shape == (2, 3) and out.loss.ndim == 0
    out.loss.backward()
    assert clf.bert.embeddings.word_embeddings.weight.grad is not None
    reg = BertForSequenceClassification(BertConfig(**TINY_BERT, num_labels=1))
    assert reg(ids, labels=taimatsu.tensor([0.5, -1.0])).loss.ndim == 0
    mlm = BertForMaskedLM(BertConfig(**TINY_BERT))
    labels = taimatsu.tensor([[-100, 7, -100, -100], [-100, -100, 3, -100]])
    out = mlm(ids, attention_mask=mask, labels=labels)
    assert out.logits.shape == (2, 4, 50) and np.isfinite(out.loss.item())


# ------------------------------------------------------------------ generation


@pytest.mark.parametrize("cls,cfg", [(GPT2LMHeadModel, GPT2Config(**TINY_GPT2)),
                                     (LlamaForCausalLM, LlamaConfig(**TINY_LLAMA))])
def test_generation_cache_padding_and_stop(cls, cfg):
    taimatsu.manual_seed(0)
    model = cls(cfg).eval()
    prompt = taimatsu.tensor([[5, 6, 7, 8]])
    cached = model.generate(prompt, max_new_tokens=8, eos_token_id=[])
    uncached = model.generate(prompt, max_new_tokens=8, eos_token_id=[], use_cache=False)
    assert cached.shape == (1, 12)
    np.testing.assert_array_equal(cached.numpy(), uncached.numpy())
    # a left-padded batch continues each prompt as it would alone
    batch = taimatsu.tensor([[0, 0, 5, 6], [5, 6, 7, 8]])
    mask = taimatsu.tensor([[0, 0, 1, 1], [1, 1, 1, 1]])
    out = model.generate(batch, attention_mask=mask, max_new_tokens=5, eos_token_id=[])
    alone = model.generate(taimatsu.tensor([[5, 6]]), max_new_tokens=5, eos_token_id=[])
    np.testing.assert_array_equal(out.numpy()[0, 2:], alone.numpy()[0])
    np.testing.assert_array_equal(out.numpy()[1], model.generate(
        prompt, max_new_tokens=5, eos_token_id=[]).numpy()[0])
    # stop tokens: the first generated token, used as stop, ends generation at once
    first = int(cached[0, 4])
    stopped = model.generate(prompt, max_new_tokens=8, eos_token_id=first)
    assert stopped.shape == (1, 5)
    # sampling is reproducible with a generator; top_k=1 is greedy
    g1, g2 = taimatsu.Generator().manual_seed(3), taimatsu.Generator().manual_seed(3)
    s1 = model.generate(prompt, max_new_tokens=6, do_sample=True, temperature=0.8, top_p=0.9,
                        generator=g1, eos_token_id=[])
    s2 = model.generate(prompt, max_new_tokens=6, do_sample=True, temperature=0.8, top_p=0.9,
                        generator=g2, eos_token_id=[])
    np.testing.assert_array_equal(s1.numpy(), s2.numpy())
    greedy = model.generate(prompt, max_new_tokens=6, do_sample=True, top_k=1,
                            eos_token_id=[])
    np.testing.assert_array_equal(greedy.numpy(), cached.numpy()[:, :10])


def test_process_logits_filters():
    logits = np.log(np.array([[0.5, 0.3, 0.15, 0.05]], dtype=np.float32))
    top2 = process_logits(logits, top_k=2)
    assert np.isinf(top2[0, 2:]).all() and np.isfinite(top2[0, :2]).all()
    nucleus = process_logits(logits, top_p=0.7)  # 0.5 + 0.3 reach 0.7
    assert np.isfinite(nucleus[0, :2]).all() and np.isinf(nucleus[0, 2:]).all()
    one = process_logits(logits, top_p=0.01)  # the most likely token always stays
    assert np.isfinite(one[0, 0]) and np.isinf(one[0, 1:]).all()
    np.testing.assert_allclose(process_logits(logits, temperature=2.0), logits / 2)
    with pytest.raises(ValueError, match="strictly positive"):
        process_logits(logits, temperature=0.0)


def test_llama_config_and_rope():
    cfg = LlamaConfig(**TINY_LLAMA, rope_parameters={"rope_theta": 500.0,
                                                     "rope_type": "default"})
    assert cfg.rope_theta == 500.0 and cfg.head_dim == 4 and cfg.num_key_value_heads == 2
    inv = rotary_inv_freq(cfg)
    np.testing.assert_allclose(inv, 1 / 500.0 ** (np.arange(0, 4, 2) / 4), rtol=1e-6)
    linear = LlamaConfig(**TINY_LLAMA, rope_scaling={"rope_type": "linear", "factor": 4.0})
    np.testing.assert_allclose(rotary_inv_freq(linear), rotary_inv_freq(LlamaConfig(
        **TINY_LLAMA)) / 4, rtol=1e-6)
    llama3 = LlamaConfig(**{**TINY_LLAMA, "hidden_size": 64, "num_attention_heads": 4},
                         rope_scaling={"rope_type": "llama3", "factor": 8.0,
                                       "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                                       "original_max_position_embeddings": 64})
    scaled, plain = rotary_inv_freq(llama3), rotary_inv_freq(LlamaConfig(
        **{**TINY_LLAMA, "hidden_size": 64, "num_attention_heads": 4}))
    assert scaled[0] == plain[0] and scaled[-1] == pytest.approx(plain[-1] / 8)
    with pytest.raises(ValueError, match="not supported"):
        rotary_inv_freq(LlamaConfig(**TINY_LLAMA, rope_scaling={"rope_type": "yarn"}))
    tied = LlamaForCausalLM(LlamaConfig(**TINY_LLAMA, tie_word_embeddings=True))
    assert tied.lm_head.weight is tied.model.embed_tokens.weight
    with pytest.raises(ValueError, match="multiple of"):
        LlamaForCausalLM(LlamaConfig(**{**TINY_LLAMA, "num_key_value_heads": 3}))


def test_causal_lm_loss_and_backward():
    model = LlamaForCausalLM(LlamaConfig(**TINY_LLAMA))
    ids = taimatsu.tensor([[2, 3, 4, 5, 6]])
    out = model(ids, labels=ids)
    manual = taimatsu.nn.functional.cross_entropy(out.logits[0, :-1], ids[0, 1:])
    assert out.loss.item() == pytest.approx(manual.item(), rel=1e-6)
    out.loss.backward()
    assert model.model.layers[0].self_attn.k_proj.weight.grad is not None
