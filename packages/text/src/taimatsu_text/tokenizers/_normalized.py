"""A string being normalized, with each character's span in the original text.

Every token's offsets point into the text the user passed in, whatever the normalizers and
pre-tokenizers did to it. `NormalizedString` keeps, for each character of the current
text, the (start, end) character span of the original text it came from. The common case,
where nothing was inserted or removed, stores no per-character lists at all: character i
then comes from original character `base + i`.
"""

from __future__ import annotations

import numpy as np

__all__ = ["NormalizedString", "split_matches"]


class NormalizedString:
    """Text plus its alignment to the original string.

    Args:
        text: the current (normalized) text
        starts, ends: per-character original spans, or None for the identity alignment
        base: with the identity alignment, the original index of character 0
    """

    __slots__ = ("text", "starts", "ends", "base")

    def __init__(self, text: str, starts: list | None = None, ends: list | None = None,
                 base: int = 0):
        self.text = text
        self.starts = starts
        self.ends = ends
        self.base = base

    def __repr__(self) -> str:
        return f"NormalizedString({self.text!r})"

    def __len__(self) -> int:
        return len(self.text)

    def char_span(self, i: int) -> tuple[int, int]:
        if self.starts is None:
            return self.base + i, self.base + i + 1
        return self.starts[i], self.ends[i]

    def span(self, a: int, b: int) -> tuple[int, int]:
        """The original span of the current characters [a, b) (b > a)."""
        if self.starts is None:
            return self.base + a, self.base + b
        return self.starts[a], self.ends[b - 1]

    def whole_span(self) -> tuple[int, int]:
        if not self.text:
            return self.base, self.base
        return self.span(0, len(self.text))

    def slice(self, a: int, b: int) -> NormalizedString:
        if self.starts is None:
            return NormalizedString(self.text[a:b], base=self.base + a)
        return NormalizedString(self.text[a:b], self.starts[a:b], self.ends[a:b])

    def with_text(self, text: str) -> NormalizedString:
        """The same alignment over a text of the same length (a 1:1 character mapping)."""
        return NormalizedString(text, self.starts, self.ends, self.base)

    def map_chars(self, pieces: list[str]) -> NormalizedString:
        """Replaces character i by the string pieces[i] (possibly empty or longer)."""
        text = "".join(pieces)
        if len(text) == len(self.text) and "" not in pieces:
            return self.with_text(text)  # every piece is one character
        lens = np.fromiter(map(len, pieces), dtype=np.int64, count=len(pieces))
        if self.starts is None:
            origin = np.repeat(np.arange(self.base, self.base + len(pieces)), lens)
            return NormalizedString(text, origin.tolist(), (origin + 1).tolist())
        return NormalizedString(text, np.repeat(np.asarray(self.starts), lens).tolist(),
                                np.repeat(np.asarray(self.ends), lens).tolist())

    def prepend(self, prefix: str) -> NormalizedString:
        """`prefix` + text; the new characters share the first character's span (an empty
        text stays empty, as in the Rust library)."""
        if not self.text or not prefix:
            return self
        s, e = self.char_span(0)
        n = len(prefix)
        starts = [s] * n + (self.starts if self.starts is not None else
                            list(range(self.base, self.base + len(self.text))))
        ends = [e] * n + (self.ends if self.ends is not None else
                          list(range(self.base + 1, self.base + len(self.text) + 1)))
        return NormalizedString(prefix + self.text, starts, ends)

    def replace_ranges(self, edits, positional: bool = False) -> NormalizedString:
        """Applies sorted, non-overlapping (i, j, replacement) edits of current characters.

        Untouched characters keep their alignment. As in the Rust library's `replace`, the
        characters of a replacement share the span of the last character they replace (an
        insertion, i == j, that of the character before it). With `positional` (Unicode
        normal forms), replacement character k takes the span of replaced character k, the
        extra ones that of the last.
        """
        if not edits:
            return self
        n = len(self.text)
        span = self.char_span
        pieces, starts, ends, pos = [], [], [], 0
        for i, j, rep in edits:
            if pos < i:
                pieces.append(self.text[pos:i])
                for k in range(pos, i):
                    s, e = span(k)
                    starts.append(s)
                    ends.append(e)
            if rep:
                pieces.append(rep)
                if positional and j > i:
                    for k in range(len(rep)):
                        s, e = span(i + min(k, j - i - 1))
                        starts.append(s)
                        ends.append(e)
                else:
                    s, e = span(j - 1) if j > 0 and n else (0, 0)
                    starts.extend([s] * len(rep))
                    ends.extend([e] * len(rep))
            pos = j
        if pos < n:
            pieces.append(self.text[pos:])
            for k in range(pos, n):
                s, e = span(k)
                starts.append(s)
                ends.append(e)
        return NormalizedString("".join(pieces), starts, ends)


# Rust tokenizers' SplitDelimiterBehavior, as written in tokenizer.json
BEHAVIORS = ("Removed", "Isolated", "MergedWithPrevious", "MergedWithNext", "Contiguous")


def split_matches(ns: NormalizedString, matches, behavior: str, invert: bool = False):
    """Splits `ns` around `matches` (sorted (start, end) delimiter spans) per `behavior`.

    Returns the non-empty pieces, as the Rust library's NormalizedString::split does.
    """
    text = ns.text
    if not text:
        return []
    pieces = []  # (start, end, is_match) covering the whole text
    prev = 0
    for s, e in matches:
        if prev != s:
            pieces.append((prev, s, invert))
        pieces.append((s, e, not invert))
        prev = e
    if prev != len(text):
        pieces.append((prev, len(text), invert))

    if behavior == "Isolated":
        spans = [(s, e) for s, e, _ in pieces]
    elif behavior == "Removed":
        spans = [(s, e) for s, e, m in pieces if not m]
    elif behavior == "Contiguous":
        spans, previous = [], False
        for s, e, m in pieces:
            if m == previous and spans:
                spans[-1] = (spans[-1][0], e)
            else:
                spans.append((s, e))
            previous = m
    elif behavior == "MergedWithPrevious":
        spans, previous = [], False
        for s, e, m in pieces:
            if m and not previous and spans:
                spans[-1] = (spans[-1][0], e)
            else:
                spans.append((s, e))
            previous = m
    elif behavior == "MergedWithNext":
        spans, previous = [], False
        for s, e, m in reversed(pieces):
            if m and not previous and spans:
                spans[-1] = (s, spans[-1][1])
            else:
                spans.append((s, e))
            previous = m
        spans.reverse()
    else:
        raise ValueError(f"unknown split behavior {behavior!r}; expected one of {BEHAVIORS}")
    if len(spans) == 1 and spans[0] == (0, len(text)):
        return [ns]
    return [ns.slice(s, e) for s, e in spans if e > s]
