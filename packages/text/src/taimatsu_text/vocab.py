"""torchtext's Vocab: a token <-> index table with specials and a default index."""

from __future__ import annotations

from collections import Counter, OrderedDict
from collections.abc import Iterable

__all__ = ["Vocab", "vocab", "build_vocab_from_iterator"]


class Vocab:
    """Maps tokens to indices (`vocab["word"]`, `vocab(tokens)`) and back (`lookup_token`).

    A token missing from the table maps to the default index when one is set
    (`set_default_index`), and raises RuntimeError otherwise.
    """

    def __init__(self, tokens: Iterable[str] = ()):
        self._itos: list[str] = []
        self._stoi: dict[str, int] = {}
        self._default: int | None = None
        for t in tokens:
            self.append_token(t)

    def __len__(self) -> int:
        return len(self._itos)

    def __contains__(self, token: str) -> bool:
        return token in self._stoi

    def __getitem__(self, token: str) -> int:
        i = self._stoi.get(token)
        if i is not None:
            return i
        if self._default is None:
            raise RuntimeError(f"Token {token} not found and default index is not set")
        return self._default

    def __call__(self, tokens: list[str]) -> list[int]:
        return self.lookup_indices(tokens)

    forward = __call__

    def __repr__(self) -> str:
        return f"Vocab(size={len(self)}, default_index={self._default})"

    def set_default_index(self, index: int | None) -> None:
        self._default = index

    def get_default_index(self) -> int | None:
        return self._default

    def insert_token(self, token: str, index: int) -> None:
        """Puts `token` at `index`, shifting the tokens after it."""
        if token in self._stoi:
            raise RuntimeError(f"Token {token} already exists in the Vocab with index: "
                               f"{self._stoi[token]}")
        if not 0 <= index <= len(self):
            raise RuntimeError(f"Specified index {index} is out of bounds for vocab of size "
                               f"{len(self)}")
        self._itos.insert(index, token)
        self._stoi = {t: i for i, t in enumerate(self._itos)}

    def append_token(self, token: str) -> None:
        if token in self._stoi:
            raise RuntimeError(f"Token {token} already exists in the Vocab with index: "
                               f"{self._stoi[token]}")
        self._stoi[token] = len(self._itos)
        self._itos.append(token)

    def lookup_token(self, index: int) -> str:
        if not 0 <= index < len(self):
            raise RuntimeError(f"Specified index {index} is out of bounds for vocab of size "
                               f"{len(self)}")
        return self._itos[index]

    def lookup_tokens(self, indices: list[int]) -> list[str]:
        return [self.lookup_token(int(i)) for i in indices]

    def lookup_indices(self, tokens: list[str]) -> list[int]:
        stoi, default = self._stoi, self._default
        if default is not None:
            return [stoi.get(t, default) for t in tokens]
        return [self[t] for t in tokens]

    def get_stoi(self) -> dict[str, int]:
        return dict(self._stoi)

    def get_itos(self) -> list[str]:
        return list(self._itos)


def vocab(ordered_dict: dict, min_freq: int = 1, specials: list[str] | None = None,
          special_first: bool = True) -> Vocab:
    """A Vocab of the keys of `ordered_dict` (token -> frequency, in the order given) that
    occur at least `min_freq` times, plus `specials`."""
    specials = list(specials or [])
    tokens = [t for t, freq in ordered_dict.items() if freq >= min_freq and t not in specials]
    return Vocab(specials + tokens if special_first else tokens + specials)


def build_vocab_from_iterator(iterator: Iterable, min_freq: int = 1,
                              specials: list[str] | None = None, special_first: bool = True,
                              max_tokens: int | None = None) -> Vocab:
    """A Vocab of the tokens an iterator of token lists yields, most frequent first (ties in
    lexicographic order); `max_tokens` caps the size, specials included."""
    counter = Counter()
    for tokens in iterator:
        counter.update(tokens)
    specials = list(specials or [])
    ranked = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))
    if max_tokens is not None:
        if max_tokens <= len(specials):
            raise ValueError("max_tokens must be greater than the number of special tokens")
        ranked = [kv for kv in ranked if kv[0] not in specials][:max_tokens - len(specials)]
    return vocab(OrderedDict(ranked), min_freq, specials, special_first)
