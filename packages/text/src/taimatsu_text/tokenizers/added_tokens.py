"""Added (and special) tokens: matched in the text before the model sees it.

Tokens with `normalized=False` (most special tokens) are found in the raw text; those with
`normalized=True` in the normalized text, compared with their own normalized form. Matching
is leftmost-longest, then `single_word`, `lstrip` and `rstrip` apply as in the Rust library.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ._normalized import NormalizedString

__all__ = ["AddedToken", "AddedVocabulary"]

_WORD_END = re.compile(r"\w$")
_WORD_CHAR = re.compile(r"\w")  # used with match(text, pos): no ^, which pos would defeat
_SPACES_AT_END = re.compile(r"\s*$")
_SPACES = re.compile(r"\s*")


@dataclass(frozen=True)
class AddedToken:
    """A token added on top of the model's vocabulary (the `tokenizers` library's fields)."""

    content: str
    single_word: bool = False
    lstrip: bool = False
    rstrip: bool = False
    normalized: bool | None = None  # None: not special
    special: bool = False

    def __post_init__(self):
        if self.normalized is None:
            object.__setattr__(self, "normalized", not self.special)

    def __str__(self) -> str:
        return self.content


class AddedVocabulary:
    def __init__(self):
        self.tokens: dict[int, AddedToken] = {}   # id -> token
        self.ids: dict[str, int] = {}             # content -> id
        self.special: set[str] = set()
        # id -> the string decoding shows: the normalized form for normalized tokens
        self.strings: dict[int, str] = {}
        self._raw = None        # (regex, content -> id) over the raw text
        self._normalized = None  # the same over the normalized text

    def __len__(self) -> int:
        return len(self.tokens)

    def add(self, token: AddedToken, id: int) -> None:
        self.tokens[id] = token
        self.strings[id] = token.content
        self.ids[token.content] = id
        if token.special:
            self.special.add(token.content)

    def build(self, normalizer) -> None:
        """Compiles the matchers; call after adding tokens or changing the normalizer."""
        raw, norm = {}, {}
        for id, tok in self.tokens.items():
            if not tok.content:
                continue
            if tok.normalized and normalizer is not None:
                normed = normalizer.normalize_str(tok.content)
                norm[normed] = id
                self.strings[id] = normed
            elif tok.normalized:
                norm[tok.content] = id
            else:
                raw[tok.content] = id
        self._raw = _matcher(raw)
        self._normalized = _matcher(norm)

    @property
    def has_raw(self) -> bool:
        return self._raw is not None

    @property
    def has_normalized(self) -> bool:
        return self._normalized is not None

    def split(self, ns: NormalizedString, normalized: bool):
        """Pieces of `ns`: (piece, token id or None), added tokens cut out of the text."""
        matcher = self._normalized if normalized else self._raw
        text = ns.text
        if matcher is None or not text:
            return [(ns, None)]
        regex, by_content = matcher
        out, pos = [], 0
        for m in regex.finditer(text):
            start, stop = m.span()
            id = by_content[m.group()]
            tok = self.tokens[id]
            if tok.single_word:
                if (start > 0 and _WORD_END.search(text, 0, start)) or \
                        (stop < len(text) and _WORD_CHAR.match(text, stop)):
                    continue
            if tok.lstrip:
                start = max(_SPACES_AT_END.search(text, 0, start).start(), pos)
            if tok.rstrip:
                stop = _SPACES.match(text, stop).end()
            if pos < start:
                out.append((ns.slice(pos, start), None))
            out.append((ns.slice(start, stop), id))
            pos = stop
        if not out:
            return [(ns, None)]
        if pos < len(text):
            out.append((ns.slice(pos, len(text)), None))
        return out


def _matcher(contents: dict):
    if not contents:
        return None
    # longest alternatives first: Python's alternation is leftmost-first, this makes it
    # leftmost-longest like the Rust library's Aho-Corasick automaton
    ordered = sorted(contents, key=len, reverse=True)
    return re.compile("|".join(map(re.escape, ordered))), dict(contents)
