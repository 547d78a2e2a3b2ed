"""Normalizers of tokenizer.json files: BertNormalizer, Lowercase, NFC/NFD/NFKC/NFKD,
StripAccents, Strip, Replace, Prepend, ByteLevel, Precompiled and Sequence.

Each takes a `NormalizedString` and returns a new one whose alignment still points into
the original text. Behaviour follows the Rust `tokenizers` library character for character
(e.g. lowercasing maps one character at a time, so a final sigma stays σ).
"""

from __future__ import annotations

import unicodedata

from . import _unicode as U
from ._normalized import NormalizedString
from ._precompiled import CharsMap

__all__ = ["Normalizer", "BertNormalizer", "Lowercase", "StripAccents", "NFC", "NFD", "NFKC",
           "NFKD", "Strip", "Replace", "Prepend", "ByteLevel", "Precompiled", "Sequence",
           "from_config"]


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
    """Removes combining marks (Mn, Mc and Me, as the library's is_combining_mark; unlike
    BertNormalizer, which drops Mn only); pair it with NFD to strip accents."""

    def normalize(self, ns):
        text = ns.text
        if text.isascii():
            return ns
        return ns.map_chars(["" if unicodedata.category(c)[0] == "M" else c for c in text])


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


_CLUSTER_CACHE_SIZE = 1 << 16


class Precompiled(Normalizer):
    """SentencePiece's compiled normalization rules (nmt_nfkc and the like), as the Rust
    library applies them.

    The text is cut into extended grapheme clusters. A cluster shorter than 6 UTF-8 bytes
    that starts with a key of the charsmap is replaced whole by the replacement of the
    shortest such key; any other cluster is rewritten character by character, each
    character that is a key replaced by its replacement.

    Args:
        precompiled_charsmap: the charsmap bytes, or their base64 text as tokenizer.json
            stores them; empty means no rules
    """

    def __init__(self, precompiled_charsmap: bytes | str | None):
        if isinstance(precompiled_charsmap, str):
            import base64
            precompiled_charsmap = base64.b64decode(precompiled_charsmap)
        self.precompiled_charsmap = bytes(precompiled_charsmap or b"")
        self._map = CharsMap(self.precompiled_charsmap) if self.precompiled_charsmap else None
        self._edits: dict[str, tuple] = {}  # cluster -> its (offset, length, replacement)s
        self._ascii_hits = None

    def __repr__(self) -> str:
        return f"Precompiled(<{len(self.precompiled_charsmap)} bytes>)"

    def _cluster_edits(self, g: str) -> tuple:
        transform = self._map.transform
        if len(g) == 1:
            r = transform(g)
            return () if r is None else ((0, 1, r),)
        if len(g.encode("utf-8")) < 6:
            r = transform(g)
            if r is not None:
                return ((0, len(g), r),)
        return tuple((i, 1, r) for i, c in enumerate(g) if (r := transform(c)) is not None)

    def _ascii_keys(self) -> frozenset:
        """The ASCII characters a rule may touch (an ASCII text's only longer cluster is
        CR LF)."""
        transform = self._map.transform
        hits = {chr(o) for o in range(128) if transform(chr(o)) is not None}
        if transform("\r\n") is not None:
            hits.update("\r\n")
        return frozenset(hits)

    def normalize(self, ns):
        text = ns.text
        if not text or self._map is None:
            return ns
        if text.isascii():
            if self._ascii_hits is None:
                self._ascii_hits = self._ascii_keys()
            if self._ascii_hits.isdisjoint(text):
                return ns
        cache, edits, pos = self._edits, [], 0
        for g in U.graphemes(text):
            e = cache.get(g)
            if e is None:
                if len(cache) >= _CLUSTER_CACHE_SIZE:  # odd text (Zalgo) makes many clusters
                    cache.clear()
                e = cache[g] = self._cluster_edits(g)
            for off, k, rep in e:
                edits.append((pos + off, pos + off + k, rep))
            pos += len(g)
        if not edits:
            return ns
        if any(not rep for _, _, rep in edits):
            return _transform_like_rust(ns, edits)
        # without deletions the library's alignment is the positional one: replacement
        # character k takes the span of replaced character k, extra ones that of the last
        return ns.replace_ranges(edits, positional=True)


def _transform_like_rust(ns: NormalizedString, edits) -> NormalizedString:
    """Applies (i, j, replacement) edits with the Rust library's alignment bookkeeping.

    The library lists (character, change) pairs: +1 for an inserted character (it takes the
    span of the character before it), -n for one that also swallows n following characters.
    A deletion is recorded by lowering the change of the last character listed so far, so
    one that follows a lengthening replacement turns its inserted last character into a
    replacement of the first deleted character, and one at the very start is not recorded
    at all (every later span shifts back). Offsets must match, so this is reproduced.
    """
    text = ns.text
    chars, changes, pos = [], [], 0
    for i, j, rep in edits:
        if pos < i:
            chars.append(text[pos:i])
            changes.extend([0] * (i - pos))
        k, m = j - i, len(rep)
        chars.append(rep)
        changes.extend([0] * m)
        if m > k:
            changes[len(changes) - (m - k):] = [1] * (m - k)
        elif m < k and changes:
            changes[-1] += m - k
        pos = j
    if pos < len(text):
        chars.append(text[pos:])
        changes.extend([0] * (len(text) - pos))
    n = len(text)
    if ns.starts is None:
        src_s = range(ns.base, ns.base + n)
        src_e = range(ns.base + 1, ns.base + n + 1)
    else:
        src_s, src_e = ns.starts, ns.ends
    origin = ns.whole_span()[0]
    starts, ends, p = [], [], 0
    for ch in changes:
        if ch > 0:
            s, e = (src_s[p - 1], src_e[p - 1]) if p else (origin, origin)
        else:
            s, e = src_s[p], src_e[p]
            p += 1 - ch
        starts.append(s)
        ends.append(e)
    return NormalizedString("".join(chars), starts, ends)


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
    if kind == "Precompiled":
        return Precompiled(cfg.get("precompiled_charsmap"))
    if kind == "Strip":
        return Strip(cfg.get("strip_left", True), cfg.get("strip_right", True))
    simple = {"Lowercase": Lowercase, "StripAccents": StripAccents, "NFC": NFC, "NFD": NFD,
              "NFKC": NFKC, "NFKD": NFKD, "ByteLevel": ByteLevel}
    if kind in simple:
        return simple[kind]()
    raise ValueError(f"unsupported normalizer type {kind!r} in tokenizer.json")
