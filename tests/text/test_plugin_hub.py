"""The taimatsu_hub_load hook: BERT / GPT-2 / Llama configs and sentence-transformers
layouts become models with their weights; other configs are left to other plugins."""

from __future__ import annotations

import json
import os
import shutil

import numpy as np

import taimatsu
from taimatsu.plugins import get_plugin_manager
from taimatsu_text.models import (
    GPT2Config,
    GPT2LMHeadModel,
    LlamaConfig,
    LlamaForCausalLM,
    SentenceEncoder,
)
from taimatsu_text.plugin import hub_load


def _hook(folder):
    with open(os.path.join(folder, "config.json")) as f:
        config = json.load(f)
    return get_plugin_manager().hook.taimatsu_hub_load(source=str(folder), config=config)


def test_sentence_transformers_folder(minilm_dir):
    model = _hook(minilm_dir)
    assert isinstance(model, SentenceEncoder)
    emb = model.encode("This is an example sentence")
    np.testing.assert_allclose(emb[:3].numpy(), [0.067657, 0.063496, 0.048713], atol=2e-6)


def test_causal_lm_folders_with_tokenizer(minilm_dir, tmp_path):
    gpt2 = GPT2LMHeadModel(GPT2Config(vocab_size=30522, n_embd=8, n_layer=1, n_head=2,
                                      n_positions=16)).eval()
    gpt2.save_pretrained(tmp_path / "gpt2")
    shutil.copy(os.path.join(minilm_dir, "tokenizer.json"), tmp_path / "gpt2")
    loaded = _hook(tmp_path / "gpt2")
    assert isinstance(loaded, GPT2LMHeadModel) and not loaded.training
    assert loaded.tokenizer.encode("hello").ids == [101, 7592, 102]
    ids = taimatsu.tensor([[5, 6, 7]])
    np.testing.assert_array_equal(gpt2(ids).logits.detach().numpy(),
                                  loaded(ids).logits.detach().numpy())
    llama = LlamaForCausalLM(LlamaConfig(vocab_size=20, hidden_size=8, intermediate_size=16,
                                         num_hidden_layers=1, num_attention_heads=2))
    llama.save_pretrained(tmp_path / "llama")
    config = json.loads((tmp_path / "llama" / "config.json").read_text())
    config["architectures"] = ["LlamaForCausalLM"]
    loaded = hub_load(str(tmp_path / "llama"), config)
    assert isinstance(loaded, LlamaForCausalLM) and loaded.tokenizer is None


def test_unknown_configs_are_left_to_others(tmp_path):
    assert hub_load(str(tmp_path), {"model_type": "resnet", "architecture": "resnet18"}) is None
    assert hub_load(str(tmp_path), "not a dict") is None
    (tmp_path / "modules.json").write_text("[]")
    assert hub_load(str(tmp_path), {"model_type": "mpnet"}) is None


def test_configs_naming_other_architectures_or_no_sizes_are_not_built(tmp_path):
    # an unknown architecture of a known type, or a config without its size fields, would
    # otherwise become a default-size (billions of parameters) model
    assert hub_load(str(tmp_path), {"model_type": "llama", "architectures": ["X"]}) is None
    assert hub_load(str(tmp_path), {"model_type": "llama"}) is None
    assert hub_load(str(tmp_path), {"model_type": "gpt2", "architectures": ["BertModel"],
                                    "n_embd": 8, "n_layer": 1}) is None
