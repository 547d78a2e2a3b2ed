"""Hugging Face tokenizers in Python: read tokenizer.json (or vocab.txt, vocab.json +
merges.txt) and produce the ids the `tokenizers` library produces.

    from taimatsu_text.tokenizers import Tokenizer
    tok = Tokenizer.from_pretrained("path/to/model")
    batch = tok(["a sentence", "another one"], padding=True, return_tensors="tm")
"""

from __future__ import annotations

from . import decoders, models, normalizers, pre_tokenizers, processors
from ._normalized import NormalizedString
from .added_tokens import AddedToken
from .encoding import Encoding
from .tokenizer import BatchEncoding, Tokenizer

__all__ = ["Tokenizer", "Encoding", "BatchEncoding", "AddedToken", "NormalizedString",
           "normalizers", "pre_tokenizers", "models", "processors", "decoders"]
