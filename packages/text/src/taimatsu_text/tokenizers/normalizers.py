"""Normalizers of tokenizer.json files: BertNormalizer, Lowercase, NFC/NFD/NFKC/NFKD,
StripAccents, Strip, Replace, Prepend, ByteLevel and Sequence.

Each takes a `NormalizedString` and returns a new one whose alignment still points into
the original text. Behaviour follows the Rust `tokenizers` library character for character
(e.g. lowercasing maps one character at a time, so a final sigma stays σ).
"""

from __future__ import annotations

import unicodedata

from . import _unicode as U
from ._normalized import NormalizedString

__all__ = ["Normalizer", "BertNormalizer", "Lowercase", "StripAccents", "NFC", "NFD", "NFKC",
           "NFKD", "Strip", "Replace", "Prepend", "ByteLevel", "Sequence", "from_config"]


class Normalizer:
    """Base class: `normalize(NormalizedString) -> NormalizedString`."""

    def normalize(self, ns: NormalizedString) -> NormalizedString:
        raise TypeError(f"{type(self).__name__} does not implement normalize")

    def normalize_str(self, text: str) -> str:
        return self.normalize(NormalizedString(text)).text

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({fields})"


def _lower_char(c: str) -> str:
    return c.lower()


def lowercase(ns: NormalizedString) -> NormalizedString:
    """Per-character full lowercase mapping (Rust char::to_lowercase)."""
    text = ns.text
    if text.isascii():
        return ns.with_text(text.lower())
    # str.lower() applies the final-sigma context rule, which the Rust library does not
    lowered = text.lower() if "\u03a3" not in text else "".join(map(_lower_char, text))
    if len(lowered) == len(text):  # lowercasing never deletes, so equal length means 1:1
        return ns.with_text(lowered)
    return ns.map_chars([c.lower() for c in text])


def _strip_marks(s: str) -> str:
    return "".join(c for c in s if unicodedata.category(c) != "Mn")


class BertNormalizer(Normalizer):
    """BERT's cleanup: drop control characters and map whitespace to spaces (clean_text),
    space out CJK ideographs, strip accents (NFD then drop Mn; defaults to `lowercase`) and
    lowercase. Every step maps one character at a time, so results are cached per character.
    """

    def __init__(self, clean_text: bool = True, handle_chinese_chars: bool = True,
                 strip_accents: bool | None = None, lowercase: bool = True):
        self.clean_text = clean_text
        self.handle_chinese_chars = handle_chinese_chars
        self.strip_accents = strip_accents
        self.lowercase = lowercase
        self._strip = lowercase if strip_accents is None else strip_accents
        self._cache: dict[str, str] = {}
        # ASCII: control characters go, tab/newline/return become spaces
        table = {}
        if clean_text:
            for o in range(128):
                c = chr(o)
                if o == 0 or U.is_control(c):
                    table[o] = None
                elif c in U.WHITESPACE:
                    table[o] = " "
        self._ascii_table = table

    def _char(self, c: str) -> str:
        """What one character becomes."""
        if self.clean_text:
            if c in "\x00\ufffd" or U.is_control(c):
                return ""
            if c in U.WHITESPACE:
                c = " "
        s = c
        if self._strip:
            s = _strip_marks(unicodedata.normalize("NFD", s))
        if self.lowercase:
            s = "".join(map(_lower_char, s))
        if self.handle_chinese_chars and U.is_cjk(ord(c)):
            s = f" {s} "
        return s

    def normalize(self, ns: NormalizedString) -> NormalizedString:
        text = ns.text
        if text.isascii():
            out = text.translate(self._ascii_table) if self._ascii_table else text
            if self.lowercase:
                out = out.lower()
            if len(out) == len(text):
                return ns.with_text(out)
            # control characters were dropped: align character by character
        cache = self._cache
        pieces = []
        for c in text:
            p = cache.get(c)
            if p is None:
                p = cache[c] = self._char(c)
            pieces.append(p)
        return ns.map_chars(pieces)


class Lowercase(Normalizer):
    def normalize(self, ns):
        return lowercase(ns)


class StripAccents(Normalizer):
    """Removes nonspacing marks (Mn); pair it with NFD to strip accents."""

    def normalize(self, ns):
        text = ns.text
        if text.isascii():
            return ns
        return ns.map_chars(["" if unicodedata.category(c) == "Mn" else c for c in text])


class _UnicodeForm(Normalizer):
    """NFC/NFD/NFKC/NFKD, aligned per run of a starter and its combining characters."""

    form = "NFC"

    def normalize(self, ns):
        text = ns.text
        if text.isascii():  # every normal form leaves ASCII unchanged
            return ns
        whole = unicodedata.normalize(self.form, text)
        if whole == text:
            return ns
        chunks = _starter_chunks(text)
        outs = [unicodedata.normalize(self.form, text[i:j]) for i, j in chunks]
        if "".join(outs) != whole:
            chunks, outs = self._merge_interacting(text, chunks)
        edits = [(i, j, o) for (i, j), o in zip(chunks, outs) if o != text[i:j]]
        return ns.replace_ranges(edits, positional=True)

    def _merge_interacting(self, text, chunks):
        """Joins neighbouring chunks whose normal form composes across them (Hangul jamo)."""
        merged = [list(chunks[0])]
        for i, j in chunks[1:]:
            a, b = merged[-1]
            joined = unicodedata.normalize(self.form, text[a:j])
            if joined != unicodedata.normalize(self.form, text[a:b]) + \
                    unicodedata.normalize(self.form, text[i:j]):
                merged[-1][1] = j
            else:
                merged.append([i, j])
        chunks = [tuple(c) for c in merged]
        return chunks, [unicodedata.normalize(self.form, text[i:j]) for i, j in chunks]


def _starter_chunks(text: str) -> list[tuple[int, int]]:
    chunks, start = [], 0
    for k in range(1, len(text)):
        if unicodedata.combining(text[k]) == 0:
            chunks.append((start, k))
            start = k
    chunks.append((start, len(text)))
    return chunks


class NFC(_UnicodeForm):
    form = "NFC"


class NFD(_UnicodeForm):
    form = "NFD"


class NFKC(_UnicodeForm):
    form = "NFKC"


class NFKD(_UnicodeForm):
    form = "NFKD"


class Strip(Normalizer):
    """Removes whitespace at the left and/or right end."""

    def __init__(self, left: bool = True, right: bool = True):
        self.left = left
        self.right = right

    def normalize(self, ns):
        text = ns.text
        a, b = 0, len(text)
        if self.left:
            while a < b and text[a] in U.WHITESPACE:
                a += 1
        if self.right:
            while b > a and text[b - 1] in U.WHITESPACE:
                b -= 1
        return ns if (a, b) == (0, len(text)) else ns.slice(a, b)


class Replace(Normalizer):
    """Replaces every match of a literal string or a regex by `content`."""

    def __init__(self, pattern, content: str):
        self.pattern = pattern
        self.content = content
        self._regex = _compile_string_or_regex(pattern)

    def normalize(self, ns):
        edits = [(m.start(), m.end(), self.content) for m in self._regex.finditer(ns.text)]
        return ns.replace_ranges(edits)


def _compile_string_or_regex(pattern):
    """tokenizer.json patterns are {"String": literal} or {"Regex": pattern}."""
    import re
    if isinstance(pattern, str):
        return re.compile(re.escape(pattern))
    if "String" in pattern:
        return re.compile(re.escape(pattern["String"]))
    return U.compile_pattern(pattern["Regex"])


class Prepend(Normalizer):
    """Adds `prepend` in front of a non-empty text."""

    def __init__(self, prepend: str):
        self.prepend = prepend

    def normalize(self, ns):
        return ns.prepend(self.prepend)


class ByteLevel(Normalizer):
    """Maps the UTF-8 bytes of the text to GPT-2's printable byte characters."""

    def normalize(self, ns):
        from .pre_tokenizers import bytes_to_chars
        return bytes_to_chars(ns)


class Sequence(Normalizer):
    def __init__(self, normalizers):
        self.normalizers = list(normalizers)

    def normalize(self, ns):
        for n in self.normalizers:
            ns = n.normalize(ns)
        return ns


def from_config(cfg: dict | None) -> Normalizer | None:
    """Builds a normalizer from its tokenizer.json description."""
    if cfg is None:
        return None
    kind = cfg["type"]
    if kind == "BertNormalizer":
        return BertNormalizer(cfg.get("clean_text", True), cfg.get("handle_chinese_chars", True),
                              cfg.get("strip_accents"), cfg.get("lowercase", True))
    if kind == "Sequence":
        return Sequence([from_config(c) for c in cfg["normalizers"]])
    if kind == "Replace":
        return Replace(cfg["pattern"], cfg["content"])
    if kind == "Prepend":
        return Prepend(cfg["prepend"])
    if kind == "Strip":
        return Strip(cfg.get("strip_left", True), cfg.get("strip_right", True))
    simple = {"Lowercase": Lowercase, "StripAccents": StripAccents, "NFC": NFC, "NFD": NFD,
              "NFKC": NFKC, "NFKD": NFKD, "ByteLevel": ByteLevel}
    if kind in simple:
        return simple[kind]()
    raise ValueError(f"unsupported normalizer type {kind!r} in tokenizer.json")
