"""torchtext.transforms: composable text preprocessing modules.

    pipeline = Sequential(VocabTransform(vocab), Truncate(254), AddToken(bos, begin=True),
                          AddToken(eos, begin=False), ToTensor(padding_value=pad))
"""

from __future__ import annotations

import taimatsu
import taimatsu.nn.functional as F
from taimatsu import nn

from . import functional as TF

__all__ = ["Truncate", "AddToken", "VocabTransform", "ToTensor", "PadTransform", "Sequential",
           "LabelToIndex", "Tokenize"]


class Truncate(nn.Module):
    """Keeps at most max_seq_len tokens of each sequence."""

    def __init__(self, max_seq_len: int):
        super().__init__()
        self.max_seq_len = max_seq_len

    def extra_repr(self) -> str:
        return f"max_seq_len={self.max_seq_len}"

    def forward(self, input):
        return TF.truncate(input, self.max_seq_len)


class AddToken(nn.Module):
    """Adds a token (id or string) at the beginning or end of each sequence."""

    def __init__(self, token, begin: bool = True):
        super().__init__()
        self.token = token
        self.begin = begin

    def extra_repr(self) -> str:
        return f"token={self.token!r}, begin={self.begin}"

    def forward(self, input):
        return TF.add_token(input, self.token, self.begin)


class VocabTransform(nn.Module):
    """Tokens (or a batch of token lists) -> indices through a Vocab."""

    def __init__(self, vocab):
        super().__init__()
        self.vocab = vocab

    def forward(self, input):
        if TF._is_batch(input):
            return [self.vocab.lookup_indices(list(x)) for x in input]
        return self.vocab.lookup_indices(list(input))


class ToTensor(nn.Module):
    """Id lists -> a long tensor (batches padded with padding_value)."""

    def __init__(self, padding_value: int | None = None, dtype=taimatsu.long):
        super().__init__()
        self.padding_value = padding_value
        self.dtype = dtype

    def forward(self, input):
        return TF.to_tensor(input, self.padding_value, self.dtype)


class PadTransform(nn.Module):
    """Pads the last dimension of a tensor with pad_value up to max_length."""

    def __init__(self, max_length: int, pad_value: int):
        super().__init__()
        self.max_length = max_length
        self.pad_value = pad_value

    def extra_repr(self) -> str:
        return f"max_length={self.max_length}, pad_value={self.pad_value}"

    def forward(self, x):
        missing = self.max_length - x.shape[-1]
        if missing > 0:
            return F.pad(x, (0, missing), value=self.pad_value)
        return x


class LabelToIndex(nn.Module):
    """Label names -> their index in label_names (sorted first with sort_names)."""

    def __init__(self, label_names=None, label_path: str | None = None,
                 sort_names: bool = False):
        super().__init__()
        if (label_names is None) == (label_path is None):
            raise ValueError("pass exactly one of label_names and label_path")
        if label_path is not None:
            with open(label_path, encoding="utf-8") as f:
                label_names = [line.strip() for line in f if line.strip()]
        names = sorted(set(label_names)) if sort_names else list(label_names)
        self.label_names = names
        self._index = {n: i for i, n in enumerate(names)}

    def forward(self, input):
        if isinstance(input, str):
            return self._index[input]
        return [self._index[x] for x in input]


class Tokenize(nn.Module):
    """Text (or a list of texts) -> token ids (or tokens) with a `tokenizers.Tokenizer`."""

    def __init__(self, tokenizer, return_tokens: bool = False, add_special_tokens: bool = False):
        super().__init__()
        if isinstance(tokenizer, str):
            from .tokenizers import Tokenizer
            tokenizer = Tokenizer.from_pretrained(tokenizer)
        self.tokenizer = tokenizer
        self.return_tokens = return_tokens
        self.add_special_tokens = add_special_tokens

    def _one(self, text):
        enc = self.tokenizer.encode(text, add_special_tokens=self.add_special_tokens)
        return enc.tokens if self.return_tokens else enc.ids

    def forward(self, input):
        if isinstance(input, str):
            return self._one(input)
        return [self._one(t) for t in input]


class Sequential(nn.Sequential):
    """Applies transforms in order (torchtext.transforms.Sequential)."""
