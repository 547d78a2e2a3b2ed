"""Unicode character classes and regular expressions as the Rust `tokenizers` library sees them.

Patterns in tokenizer.json files use `\\p{L}`-style property classes (Oniguruma syntax). The
`regex` package understands them; without it they are expanded into explicit character
ranges for `re`, built once from `unicodedata`.
"""

from __future__ import annotations

import functools
import re
import sys
import unicodedata

try:
    import regex as _regex
except ImportError:  # pragma: no cover - exercised by the fallback test through monkeypatch
    _regex = None

# Rust's char::is_whitespace: the Unicode White_Space property (str.isspace() also accepts
# U+001C..U+001F, which Rust does not).
WHITESPACE = frozenset("\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
                       "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")
# the same set as a regex character-class body
WHITESPACE_CLASS = "".join(f"\\u{ord(c):04x}" for c in sorted(WHITESPACE))

# categories the `unicode_categories` crate calls "other" and BertNormalizer drops as control
# characters (unassigned code points, Cn, are kept: the crate has no table for them)
CONTROL_CATEGORIES = frozenset(("Cc", "Cf", "Co", "Cs"))

ASCII_PUNCTUATION = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")


def is_whitespace(c: str) -> bool:
    return c in WHITESPACE


def is_control(c: str) -> bool:
    """BertNormalizer's control characters: category C* except tab, newline, return."""
    return c not in "\t\n\r" and unicodedata.category(c) in CONTROL_CATEGORIES


def is_punctuation(c: str) -> bool:
    """BertPreTokenizer's punctuation: ASCII punctuation or a Unicode P* character."""
    return c in ASCII_PUNCTUATION or unicodedata.category(c)[0] == "P"


def is_cjk(o: int) -> bool:
    """The CJK Unified Ideograph blocks BertNormalizer surrounds with spaces."""
    return (0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0x20000 <= o <= 0x2A6DF
            or 0x2A700 <= o <= 0x2B73F or 0x2B740 <= o <= 0x2B81F or 0x2B920 <= o <= 0x2CEAF
            or 0xF900 <= o <= 0xFAFF or 0x2F800 <= o <= 0x2FA1F)


# --------------------------------------------------------------------------- regex fallback


def _escape_class_char(o: int) -> str:
    return f"\\U{o:08x}" if o > 0xFFFF else f"\\u{o:04x}"


@functools.cache
def _category_ranges(prefix: str) -> str:
    """A character-class body (no brackets) of every code point whose category starts with
    `prefix` ("L", "N", "Lu", ...), as compact ranges."""
    parts, start, prev = [], None, None
    for o in range(sys.maxunicode + 1):
        if unicodedata.category(chr(o)).startswith(prefix):
            if start is None:
                start = o
            prev = o
            continue
        if start is not None:
            parts.append(_escape_class_char(start) if start == prev else
                         f"{_escape_class_char(start)}-{_escape_class_char(prev)}")
            start = None
    if start is not None:
        parts.append(f"{_escape_class_char(start)}-{_escape_class_char(prev)}")
    return "".join(parts)


_PROPERTY = re.compile(r"\\([pP])\{(\w+)\}")
_PROPERTY_ALIASES = {"Letter": "L", "Number": "N", "Punctuation": "P", "Mark": "M",
                     "Symbol": "S", "Separator": "Z", "Other": "C"}


def _translate_for_re(pattern: str) -> str:
    """Expands `\\p{X}` classes (inside or outside brackets) for Python's `re`."""
    out, i, in_class = [], 0, False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            m = _PROPERTY.match(pattern, i)
            if m is None:
                out.append(pattern[i:i + 2])
                i += 2
                continue
            negated, name = m.group(1) == "P", _PROPERTY_ALIASES.get(m.group(2), m.group(2))
            body = _category_ranges(name)
            if in_class:
                if negated:
                    raise ValueError(f"cannot translate a negated property class inside a "
                                     f"character class without the `regex` package: {pattern!r}")
                out.append(body)
            else:
                out.append(f"[{'^' if negated else ''}{body}]")
            i = m.end()
            continue
        if c == "[" and not in_class:
            in_class = True
        elif c == "]" and in_class:
            in_class = False
        out.append(c)
        i += 1
    return "".join(out)


def compile_pattern(pattern: str, flags: int = 0):
    """Compiles a tokenizer.json regular expression (Oniguruma syntax) for Python."""
    if _regex is not None:
        return _regex.compile(pattern, flags | _regex.V0)
    return re.compile(_translate_for_re(pattern), flags)


@functools.cache
def punctuation_class() -> str:
    """Character-class body of BertPreTokenizer's punctuation."""
    ascii_part = re.escape("".join(sorted(ASCII_PUNCTUATION)))
    if _regex is not None:
        return ascii_part + r"\p{P}"
    return ascii_part + _category_ranges("P")


# --------------------------------------------------------------------------- graphemes

# GB9b's Prepend characters (Arabic number signs and the like): they join what follows
_PREPEND = frozenset(map(chr, (0x0600, 0x0601, 0x0602, 0x0603, 0x0604, 0x0605, 0x06DD, 0x070F,
                               0x0890, 0x0891, 0x08E2, 0x110BD, 0x110CD)))


def _break_class(c: str) -> str:
    """A coarse Grapheme_Cluster_Break property from `unicodedata` (which lacks the real one)."""
    o = ord(c)
    if c == "\r":
        return "CR"
    if c == "\n":
        return "LF"
    if o == 0x200D:
        return "ZWJ"
    if c in _PREPEND:
        return "Prepend"
    cat = unicodedata.category(c)
    if cat in ("Mn", "Me") or o == 0x200C or 0xFF9E <= o <= 0xFF9F or 0x1F3FB <= o <= 0x1F3FF \
            or 0xE0020 <= o <= 0xE007F:
        return "Extend"
    if cat in ("Cc", "Cf", "Zl", "Zp"):
        return "Control"
    if cat == "Mc":
        return "SpacingMark"
    if 0x1F1E6 <= o <= 0x1F1FF:
        return "RI"
    if 0x1100 <= o <= 0x115F or 0xA960 <= o <= 0xA97C:
        return "L"
    if 0x1160 <= o <= 0x11A7 or 0xD7B0 <= o <= 0xD7C6:
        return "V"
    if 0x11A8 <= o <= 0x11FF or 0xD7CB <= o <= 0xD7FB:
        return "T"
    if 0xAC00 <= o <= 0xD7A3:
        return "LV" if (o - 0xAC00) % 28 == 0 else "LVT"
    if o in (0xA9, 0xAE) or (cat == "So" and o >= 0x2000) or 0x1F000 <= o <= 0x1FAFF:
        return "Pict"
    return "Other"


_HANGUL_JOINS = {("L", "L"), ("L", "V"), ("L", "LV"), ("L", "LVT"), ("LV", "V"), ("LV", "T"),
                 ("V", "V"), ("V", "T"), ("LVT", "T"), ("T", "T")}


def _graphemes_fallback(text: str) -> list[str]:
    """Extended grapheme clusters by UAX #29's rules over `_break_class` (no `regex`)."""
    out, start = [], 0
    prev = None
    pict_zwj = False   # GB11: Extended_Pictographic Extend* ZWJ just seen
    pict_run = False   # an Extended_Pictographic followed only by Extend so far
    ri_odd = False     # GB12/13: an odd number of regional indicators ends the cluster
    for i, c in enumerate(text):
        cls = _break_class(c)
        if prev is None:
            join = False
        elif prev == "CR":
            join = cls == "LF"
        elif prev in ("Control", "LF") or cls in ("Control", "CR", "LF"):
            join = False
        elif cls in ("Extend", "ZWJ", "SpacingMark") or prev == "Prepend":
            join = True
        elif (prev, cls) in _HANGUL_JOINS:
            join = True
        elif cls == "Pict" and pict_zwj:
            join = True
        elif cls == "RI" and prev == "RI":
            join = ri_odd
        else:
            join = False
        if not join and i:
            out.append(text[start:i])
            start = i
        pict_zwj = cls == "ZWJ" and pict_run
        pict_run = cls == "Pict" or (pict_run and cls == "Extend")
        ri_odd = cls == "RI" and not (join and ri_odd)
        prev = cls
    if text:
        out.append(text[start:])
    return out


def graphemes(text: str) -> list[str]:
    """`text` cut into extended grapheme clusters (what Rust's unicode-segmentation yields)."""
    if _regex is not None:
        return _regex.findall(r"\X", text)
    return _graphemes_fallback(text)
