"""Pre-tokenizers of tokenizer.json files: BertPreTokenizer, ByteLevel, Whitespace,
WhitespaceSplit, Metaspace, Split, Punctuation, Digits, CharDelimiterSplit and Sequence.

`pre_tokenize(ns)` splits one `NormalizedString` into the non-empty pieces ("words") the
model tokenizes one at a time; the pieces keep their alignment to the original text.
"""

from __future__ import annotations

import functools
import re

from . import _unicode as U
from ._normalized import NormalizedString, split_matches

__all__ = ["PreTokenizer", "BertPreTokenizer", "ByteLevel", "Whitespace", "WhitespaceSplit",
           "Metaspace", "Split", "Punctuation", "Digits", "CharDelimiterSplit", "Sequence",
           "bytes_to_unicode", "bytes_to_chars", "from_config"]


class PreTokenizer:
    """Base class: `pre_tokenize(NormalizedString) -> list[NormalizedString]`."""

    def pre_tokenize(self, ns: NormalizedString) -> list[NormalizedString]:
        raise TypeError(f"{type(self).__name__} does not implement pre_tokenize")

    def pre_tokenize_str(self, text: str) -> list[tuple[str, tuple[int, int]]]:
        """The pieces of `text` with their character offsets (like the Rust library's)."""
        return [(p.text, p.whole_span()) for p in self.pre_tokenize(NormalizedString(text))]

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({fields})"


def _pieces(ns: NormalizedString, regex) -> list[NormalizedString]:
    """The matches of `regex` as pieces (everything between them is dropped)."""
    text = ns.text
    spans = [m.span() for m in regex.finditer(text)]
    if len(spans) == 1 and spans[0] == (0, len(text)):
        return [ns]
    return [ns.slice(s, e) for s, e in spans if e > s]


@functools.cache
def _bert_regex():
    punct = U.punctuation_class()
    ws = U.WHITESPACE_CLASS
    # whitespace is removed, each punctuation character is its own piece
    return U.compile_pattern(f"[^{ws}{punct}]+|[{punct}]")


class BertPreTokenizer(PreTokenizer):
    """Splits on whitespace (dropped) and on punctuation (each mark a piece of its own)."""

    def pre_tokenize(self, ns):
        return _pieces(ns, _bert_regex())


@functools.cache
def _whitespace_regex():
    return U.compile_pattern(r"\w+|[^\w\s]+")


class Whitespace(PreTokenizer):
    """Pieces are runs of word characters or of other non-space characters."""

    def pre_tokenize(self, ns):
        return _pieces(ns, _whitespace_regex())


@functools.cache
def _non_space_regex():
    return re.compile(f"[^{U.WHITESPACE_CLASS}]+")


class WhitespaceSplit(PreTokenizer):
    """Splits on whitespace only."""

    def pre_tokenize(self, ns):
        return _pieces(ns, _non_space_regex())


# ------------------------------------------------------------------------ byte level


@functools.cache
def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's reversible map of the 256 byte values to printable characters."""
    keep = (list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD))
            + list(range(0xAE, 0x100)))
    chars = list(keep)
    n = 0
    for b in range(256):
        if b not in keep:
            keep.append(b)
            chars.append(256 + n)
            n += 1
    return dict(zip(keep, map(chr, chars)))


@functools.cache
def _byte_tables():
    b2u = bytes_to_unicode()
    ascii_table = {b: b2u[b] for b in range(128)}
    return b2u, ascii_table


def bytes_to_chars(ns: NormalizedString) -> NormalizedString:
    """Each character becomes its UTF-8 bytes as byte characters, aligned to it."""
    b2u, ascii_table = _byte_tables()
    text = ns.text
    if text.isascii():
        return ns.with_text(text.translate(ascii_table))
    return ns.map_chars([c.translate(ascii_table) if c.isascii() else
                         "".join(b2u[b] for b in c.encode("utf-8")) for c in text])


GPT2_PATTERN = (r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+")


@functools.cache
def _gpt2_regex():
    return U.compile_pattern(GPT2_PATTERN)


class ByteLevel(PreTokenizer):
    """GPT-2's pre-tokenizer: optional leading space, the GPT-2 regex split, then bytes."""

    def __init__(self, add_prefix_space: bool = True, trim_offsets: bool = True,
                 use_regex: bool = True):
        self.add_prefix_space = add_prefix_space
        self.trim_offsets = trim_offsets
        self.use_regex = use_regex

    def pre_tokenize(self, ns):
        if self.add_prefix_space and ns.text and not ns.text.startswith(" "):
            ns = ns.prepend(" ")
        if not self.use_regex:
            return [bytes_to_chars(ns)] if ns.text else []
        if ns.text.isascii():
            # one character per byte: map the whole text once, then cut it where the
            # regex cuts the original
            spans = [m.span() for m in _gpt2_regex().finditer(ns.text)]
            return split_matches(bytes_to_chars(ns), spans, "Isolated")
        return [bytes_to_chars(p) for p in _pieces_and_gaps(ns, _gpt2_regex())]


def _pieces_and_gaps(ns, regex):
    """Split with the Isolated behaviour: matches and the text between them."""
    return split_matches(ns, [m.span() for m in regex.finditer(ns.text)], "Isolated")


# ------------------------------------------------------------------------ others


class Metaspace(PreTokenizer):
    """SentencePiece style: spaces become `replacement` (▁), optionally prepended, and the
    text is split before each replacement character."""

    def __init__(self, replacement: str = "\u2581", prepend_scheme: str = "always",
                 split: bool = True):
        self.replacement = replacement
        self.prepend_scheme = prepend_scheme
        self.split = split

    def pre_tokenize(self, ns):
        text = ns.text
        if " " in text:
            ns = ns.with_text(text.replace(" ", self.replacement)) if len(self.replacement) == 1 \
                else ns.replace_ranges([(i, i + 1, self.replacement)
                                        for i, c in enumerate(text) if c == " "])
        prepend = (self.prepend_scheme == "always"
                   or (self.prepend_scheme == "first" and ns.whole_span()[0] == 0))
        if prepend and ns.text and not ns.text.startswith(self.replacement):
            ns = ns.prepend(self.replacement)
        if not self.split:
            return [ns] if ns.text else []
        rep = self.replacement
        matches = [(i, i + 1) for i, c in enumerate(ns.text) if c == rep]
        return split_matches(ns, matches, "MergedWithNext")


class Split(PreTokenizer):
    """Splits on a literal string or regex, with one of the SplitDelimiterBehaviors."""

    def __init__(self, pattern, behavior: str = "Isolated", invert: bool = False):
        from .normalizers import _compile_string_or_regex
        self.pattern = pattern
        self.behavior = behavior
        self.invert = invert
        self._regex = _compile_string_or_regex(pattern)

    def pre_tokenize(self, ns):
        matches = [m.span() for m in self._regex.finditer(ns.text)]
        return split_matches(ns, matches, self.behavior, self.invert)


class Punctuation(PreTokenizer):
    def __init__(self, behavior: str = "Isolated"):
        self.behavior = behavior

    def pre_tokenize(self, ns):
        matches = [(i, i + 1) for i, c in enumerate(ns.text) if U.is_punctuation(c)]
        return split_matches(ns, matches, self.behavior)


class Digits(PreTokenizer):
    """Isolates digits: each one alone (individual_digits) or runs of them."""

    def __init__(self, individual_digits: bool = False):
        self.individual_digits = individual_digits

    def pre_tokenize(self, ns):
        matches = [(i, i + 1) for i, c in enumerate(ns.text) if c.isnumeric()]
        return split_matches(ns, matches,
                             "Isolated" if self.individual_digits else "Contiguous")


class CharDelimiterSplit(PreTokenizer):
    def __init__(self, delimiter: str):
        self.delimiter = delimiter

    def pre_tokenize(self, ns):
        matches = [(i, i + 1) for i, c in enumerate(ns.text) if c == self.delimiter]
        return split_matches(ns, matches, "Removed")


class Sequence(PreTokenizer):
    def __init__(self, pretokenizers):
        self.pretokenizers = list(pretokenizers)

    def pre_tokenize(self, ns):
        pieces = [ns]
        for p in self.pretokenizers:
            pieces = [q for piece in pieces for q in p.pre_tokenize(piece)]
        return pieces


def from_config(cfg: dict | None) -> PreTokenizer | None:
    """Builds a pre-tokenizer from its tokenizer.json description."""
    if cfg is None:
        return None
    kind = cfg["type"]
    if kind == "BertPreTokenizer":
        return BertPreTokenizer()
    if kind == "ByteLevel":
        return ByteLevel(cfg.get("add_prefix_space", True), cfg.get("trim_offsets", True),
                         cfg.get("use_regex", True))
    if kind == "Whitespace":
        return Whitespace()
    if kind == "WhitespaceSplit":
        return WhitespaceSplit()
    if kind == "Metaspace":
        scheme = cfg.get("prepend_scheme")
        if scheme is None:  # files written before prepend_scheme existed
            scheme = "always" if cfg.get("add_prefix_space", True) else "never"
        return Metaspace(cfg.get("replacement", "\u2581"), scheme, cfg.get("split", True))
    if kind == "Split":
        return Split(cfg["pattern"], cfg.get("behavior", "Isolated"), cfg.get("invert", False))
    if kind == "Punctuation":
        return Punctuation(cfg.get("behavior", "Isolated"))
    if kind == "Digits":
        return Digits(cfg.get("individual_digits", False))
    if kind == "CharDelimiterSplit":
        return CharDelimiterSplit(cfg["delimiter"])
    if kind == "Sequence":
        return Sequence([from_config(c) for c in cfg["pretokenizers"]])
    raise ValueError(f"unsupported pre_tokenizer type {kind!r} in tokenizer.json")
