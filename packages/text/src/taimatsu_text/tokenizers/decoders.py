"""Decoders of tokenizer.json files: WordPiece, ByteLevel, Metaspace, BPEDecoder,
ByteFallback, Fuse, Strip, Replace, CTC and Sequence.

`decode_chain(tokens)` maps a list of token strings to a list of strings; `decode` joins
the result, as the Rust library does.
"""

from __future__ import annotations

import functools
import itertools

from .pre_tokenizers import bytes_to_unicode

__all__ = ["Decoder", "WordPiece", "ByteLevel", "Metaspace", "BPEDecoder", "ByteFallback",
           "Fuse", "Strip", "Replace", "CTC", "Sequence", "from_config", "cleanup"]


class Decoder:
    def decode_chain(self, tokens: list[str]) -> list[str]:
        raise TypeError(f"{type(self).__name__} does not implement decode_chain")

    def decode(self, tokens: list[str]) -> str:
        return "".join(self.decode_chain(list(tokens)))

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({fields})"


def cleanup(text: str) -> str:
    """Removes the spaces a whitespace-joined decode leaves before punctuation and
    contractions (transformers' clean_up_tokenization)."""
    return (text.replace(" .", ".").replace(" ?", "?").replace(" !", "!").replace(" ,", ",")
            .replace(" ' ", "'").replace(" n't", "n't").replace(" 'm", "'m")
            .replace(" do not", " don't").replace(" 's", "'s").replace(" 've", "'ve")
            .replace(" 're", "'re"))


class WordPiece(Decoder):
    """Joins with spaces, gluing `##` continuations to the previous token."""

    def __init__(self, prefix: str = "##", cleanup: bool = True):
        self.prefix = prefix
        self.cleanup = cleanup

    def decode_chain(self, tokens):
        out = []
        p = self.prefix
        for i, t in enumerate(tokens):
            if i:
                t = t[len(p):] if t.startswith(p) else " " + t
            out.append(cleanup(t) if self.cleanup else t)
        return out


@functools.cache
def _char_to_byte() -> dict[str, int]:
    return {c: b for b, c in bytes_to_unicode().items()}


class ByteLevel(Decoder):
    """Maps GPT-2's byte characters back to bytes and decodes them as UTF-8."""

    def __init__(self, add_prefix_space: bool = True, trim_offsets: bool = True,
                 use_regex: bool = True):
        self.add_prefix_space = add_prefix_space
        self.trim_offsets = trim_offsets
        self.use_regex = use_regex

    def decode_chain(self, tokens):
        c2b = _char_to_byte()
        data = bytearray()
        for t in tokens:
            try:
                data.extend([c2b[c] for c in t])
            except KeyError:  # not byte-level text (e.g. an added token): its UTF-8 as is
                data.extend(t.encode("utf-8"))
        return [data.decode("utf-8", errors="replace")]


class Metaspace(Decoder):
    def __init__(self, replacement: str = "\u2581", prepend_scheme: str = "always",
                 split: bool = True):
        self.replacement = replacement
        self.prepend_scheme = prepend_scheme
        self.split = split

    def decode_chain(self, tokens):
        rep = self.replacement
        # the Rust library drops every replacement character of the first token
        first = "" if self.prepend_scheme != "never" else " "
        return [t.replace(rep, first if i == 0 else " ") for i, t in enumerate(tokens)]


class BPEDecoder(Decoder):
    """Replaces the end-of-word suffix by a space (none after the last token)."""

    def __init__(self, suffix: str = "</w>"):
        self.suffix = suffix

    def decode_chain(self, tokens):
        n = len(tokens) - 1
        return [t.replace(self.suffix, "" if i == n else " ") for i, t in enumerate(tokens)]


class ByteFallback(Decoder):
    """Turns runs of <0xAB> tokens back into the text their bytes encode."""

    def decode_chain(self, tokens):
        out, pending = [], bytearray()

        def flush():
            if pending:
                try:
                    out.append(pending.decode("utf-8"))
                except UnicodeDecodeError:
                    out.extend(["\ufffd"] * len(pending))
                pending.clear()

        for t in tokens:
            if len(t) == 6 and t.startswith("<0x") and t.endswith(">"):
                try:
                    pending.append(int(t[3:5], 16))
                    continue
                except ValueError:
                    pass
            flush()
            out.append(t)
        flush()
        return out


class Fuse(Decoder):
    def decode_chain(self, tokens):
        return ["".join(tokens)]


class Strip(Decoder):
    """Removes up to `start` leading and `stop` trailing `content` characters per token."""

    def __init__(self, content: str = " ", start: int = 0, stop: int = 0):
        self.content = content
        self.start = start
        self.stop = stop

    def decode_chain(self, tokens):
        out = []
        for t in tokens:
            a = 0
            while a < min(self.start, len(t)) and t[a] == self.content:
                a += 1
            b = len(t)
            for _ in range(self.stop):
                if b > a and t[b - 1] == self.content:
                    b -= 1
                else:
                    break
            out.append(t[a:b])
        return out


class Replace(Decoder):
    def __init__(self, pattern, content: str):
        from .normalizers import _compile_string_or_regex
        self.pattern = pattern
        self.content = content
        self._regex = _compile_string_or_regex(pattern)

    def decode_chain(self, tokens):
        return [self._regex.sub(lambda m: self.content, t) for t in tokens]


class CTC(Decoder):
    def __init__(self, pad_token: str = "<pad>", word_delimiter_token: str = "|",
                 cleanup: bool = True):
        self.pad_token = pad_token
        self.word_delimiter_token = word_delimiter_token
        self.cleanup = cleanup

    def decode_chain(self, tokens):
        out = []
        for t, _ in itertools.groupby(tokens):
            t = t.replace(self.pad_token, "")
            if self.cleanup:
                t = cleanup(t).replace(self.word_delimiter_token, " ")
            if t:
                out.append(t)
        return out


class Sequence(Decoder):
    def __init__(self, decoders):
        self.decoders = list(decoders)

    def decode_chain(self, tokens):
        for d in self.decoders:
            tokens = d.decode_chain(tokens)
        return tokens


def from_config(cfg: dict | None) -> Decoder | None:
    """Builds a decoder from its tokenizer.json description."""
    if cfg is None:
        return None
    kind = cfg["type"]
    if kind == "WordPiece":
        return WordPiece(cfg.get("prefix", "##"), cfg.get("cleanup", True))
    if kind == "ByteLevel":
        return ByteLevel(cfg.get("add_prefix_space", True), cfg.get("trim_offsets", True),
                         cfg.get("use_regex", True))
    if kind == "Metaspace":
        scheme = cfg.get("prepend_scheme")
        if scheme is None:
            scheme = "always" if cfg.get("add_prefix_space", True) else "never"
        return Metaspace(cfg.get("replacement", "\u2581"), scheme, cfg.get("split", True))
    if kind == "BPEDecoder":
        return BPEDecoder(cfg.get("suffix", "</w>"))
    if kind == "ByteFallback":
        return ByteFallback()
    if kind == "Fuse":
        return Fuse()
    if kind == "Strip":
        return Strip(cfg.get("content", " "), cfg.get("start", 0), cfg.get("stop", 0))
    if kind == "Replace":
        return Replace(cfg["pattern"], cfg["content"])
    if kind == "CTC":
        return CTC(cfg.get("pad_token", "<pad>"), cfg.get("word_delimiter_token", "|"),
                   cfg.get("cleanup", True))
    if kind == "Sequence":
        return Sequence([from_config(c) for c in cfg["decoders"]])
    raise ValueError(f"unsupported decoder type {kind!r} in tokenizer.json")
