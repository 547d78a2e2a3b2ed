"""torchtext.data.utils pieces (get_tokenizer, ngrams_iterator) and a padding collate."""

from __future__ import annotations

import re

import numpy as np

import taimatsu

__all__ = ["get_tokenizer", "ngrams_iterator", "PadCollate", "pad_collate"]

# torchtext's basic_english: lowercase, space out punctuation, drop some characters
_BASIC_PATTERNS = [(re.compile(p), r) for p, r in (
    (r"\'", " '  "), (r"\"", ""), (r"\.", " . "), (r"<br \/>", " "), (r",", " , "),
    (r"\(", " ( "), (r"\)", " ) "), (r"\!", " ! "), (r"\?", " ? "), (r"\;", " "),
    (r"\:", " "), (r"\s+", " "))]


def _basic_english(line: str) -> list[str]:
    line = line.lower()
    for pattern, replacement in _BASIC_PATTERNS:
        line = pattern.sub(replacement, line)
    return line.split()


def get_tokenizer(tokenizer, language: str = "en"):
    """A text -> tokens function: None (split on spaces), "basic_english", a callable
    (returned as is), or a tokenizer.json path / model folder (its tokens)."""
    if tokenizer is None:
        return str.split
    if callable(tokenizer):
        return tokenizer
    if tokenizer == "basic_english":
        if language != "en":
            raise ValueError("Basic normalization is only available for English(en)")
        return _basic_english
    from .tokenizers import Tokenizer
    tok = Tokenizer.from_pretrained(tokenizer)
    return lambda text: tok.encode(text, add_special_tokens=False).tokens


def ngrams_iterator(token_list: list[str], ngrams: int):
    """Yields the tokens, then every n-gram up to `ngrams`, joined by spaces."""
    yield from token_list
    for n in range(2, ngrams + 1):
        for i in range(len(token_list) - n + 1):
            yield " ".join(token_list[i:i + n])


def _pad(seqs, padding_value, side, multiple):
    lengths = np.array([len(s) for s in seqs], dtype=np.int64)
    width = int(lengths.max(initial=0))
    if multiple and width % multiple:
        width += multiple - width % multiple
    out = np.full((len(seqs), width), padding_value, dtype=np.int64)
    for i, s in enumerate(seqs):
        s = np.asarray(s.numpy() if hasattr(s, "numpy") else s, dtype=np.int64)
        if side == "right":
            out[i, :len(s)] = s
        else:
            out[i, width - len(s):] = s
    return taimatsu.from_numpy(out), taimatsu.from_numpy(lengths)


class PadCollate:
    """A DataLoader collate_fn for variable-length token-id sequences.

    A batch of sequences becomes (padded ids, lengths); a batch of (sequence, label) pairs
    becomes (padded ids, lengths, labels). Sequences are lists or 1-D tensors of ids.
    """

    def __init__(self, padding_value: int = 0, padding_side: str = "right",
                 pad_to_multiple_of: int | None = None):
        if padding_side not in ("right", "left"):
            raise ValueError(f"padding_side must be 'right' or 'left', got {padding_side!r}")
        self.padding_value = padding_value
        self.padding_side = padding_side
        self.pad_to_multiple_of = pad_to_multiple_of

    def __call__(self, batch):
        if batch and isinstance(batch[0], tuple):
            seqs, labels = zip(*batch)
            ids, lengths = _pad(seqs, self.padding_value, self.padding_side,
                                self.pad_to_multiple_of)
            return ids, lengths, taimatsu.tensor(list(labels))
        return _pad(batch, self.padding_value, self.padding_side, self.pad_to_multiple_of)


def pad_collate(batch, padding_value: int = 0):
    """PadCollate with its defaults, as a plain function."""
    return PadCollate(padding_value)(batch)
