"""Post-processors of tokenizer.json files: BertProcessing, RobertaProcessing,
TemplateProcessing, ByteLevel (offset trimming) and Sequence.

They add the special tokens around one sequence or a pair ([CLS] A [SEP] B [SEP]) and set
the type ids. `process` follows the Rust library: each encoding first gets its sequence
index as type id, `process_encodings` rewrites the list, and the results are merged (which
also carries the overflowing parts through, each wrapped in the same special tokens).
"""

from __future__ import annotations

from .encoding import Encoding
from .pre_tokenizers import bytes_to_unicode

__all__ = ["PostProcessor", "BertProcessing", "RobertaProcessing", "TemplateProcessing",
           "ByteLevel", "Sequence", "from_config"]


class PostProcessor:
    def num_special_tokens_to_add(self, is_pair: bool) -> int:
        return 0

    def process_encodings(self, encodings: list, add_special_tokens: bool) -> list:
        return encodings

    def process(self, encoding: Encoding, pair: Encoding | None = None,
                add_special_tokens: bool = True) -> Encoding:
        encodings = [encoding] if pair is None else [encoding, pair]
        for i, e in enumerate(encodings):
            e.set_sequence_id(i)
            for o in e.overflowing:
                o.set_sequence_id(i)
            e.type_ids = [i] * len(e.ids)
        return Encoding.merge(self.process_encodings(encodings, add_special_tokens))

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({fields})"


def _special(token: str, id: int, type_id: int) -> Encoding:
    return Encoding([id], [type_id], [token], [(0, 0)], [1], [1], [None])


def _wrap(e: Encoding, before: list, after: list, type_id: int | None, seq: int) -> Encoding:
    """`before` + e + `after` ((token, id) pairs), type ids set to `type_id` (None: keep);
    the overflowing parts are wrapped the same way."""
    ids = [i for _, i in before] + e.ids + [i for _, i in after]
    tokens = [t for t, _ in before] + e.tokens + [t for t, _ in after]
    nb, na = len(before), len(after)
    type_ids = [type_id] * len(ids) if type_id is not None else \
        [0] * nb + e.type_ids + [1 if seq else 0] * na
    out = Encoding(ids, type_ids, tokens, [(0, 0)] * nb + e.offsets + [(0, 0)] * na,
                   [1] * len(ids), [1] * nb + [0] * len(e.ids) + [1] * na,
                   [None] * nb + e.word_ids + [None] * na,
                   [_wrap(o, before, after, type_id, seq) for o in e.overflowing],
                   {seq: (nb, nb + len(e.ids))})
    return out


class BertProcessing(PostProcessor):
    """[CLS] A [SEP] (type 0) and B [SEP] (type 1)."""

    def __init__(self, sep=("[SEP]", 102), cls=("[CLS]", 101)):
        self.sep = tuple(sep)
        self.cls = tuple(cls)

    def num_special_tokens_to_add(self, is_pair):
        return 3 if is_pair else 2

    def process_encodings(self, encodings, add_special_tokens):
        if not add_special_tokens:
            return encodings
        out = []
        for i, e in enumerate(encodings):
            if i == 0:
                out.append(_wrap(e, [self.cls], [self.sep], None, 0))
            else:
                out.append(_wrap(e, [], [self.sep], None, 1))
        return out


class RobertaProcessing(PostProcessor):
    """<s> A </s> and </s> B </s>, all type 0; optionally trims spaces from offsets."""

    def __init__(self, sep=("</s>", 2), cls=("<s>", 0), trim_offsets: bool = True,
                 add_prefix_space: bool = True):
        self.sep = tuple(sep)
        self.cls = tuple(cls)
        self.trim_offsets = trim_offsets
        self.add_prefix_space = add_prefix_space

    def num_special_tokens_to_add(self, is_pair):
        return 4 if is_pair else 2

    def process_encodings(self, encodings, add_special_tokens):
        if self.trim_offsets:
            for e in encodings:
                trim_offsets(e, self.add_prefix_space)
                for o in e.overflowing:
                    trim_offsets(o, self.add_prefix_space)
        for e in encodings:
            e.type_ids = [0] * len(e.ids)
        if not add_special_tokens:
            return encodings
        return [_wrap(e, [self.cls] if i == 0 else [self.sep], [self.sep], 0, i)
                for i, e in enumerate(encodings)]


class TemplateProcessing(PostProcessor):
    """Templates such as "[CLS] $A:0 [SEP]:0 $B:1 [SEP]:1", in tokenizer.json's JSON form:
    lists of {"SpecialToken": {"id", "type_id"}} and {"Sequence": {"id": "A"|"B", "type_id"}}.
    """

    def __init__(self, single, pair=None, special_tokens=None):
        self.single = [_piece(p) for p in _template(single)]
        self.pair = [_piece(p) for p in _template(pair)] if pair is not None else None
        self.special_tokens = {}
        items = special_tokens.values() if isinstance(special_tokens, dict) else \
            (special_tokens or [])
        for tok in items:
            if isinstance(tok, (tuple, list)):  # (token, id) as in the Python library
                self.special_tokens[tok[0]] = {"ids": [tok[1]], "tokens": [tok[0]]}
            else:
                self.special_tokens[tok["id"]] = {"ids": list(tok["ids"]),
                                                  "tokens": list(tok["tokens"])}
        for kind, name, _ in self.single + (self.pair or []):
            if kind == "special" and name not in self.special_tokens:
                raise ValueError(f"TemplateProcessing: missing SpecialToken(s) with id(s) "
                                 f"`{name}`")

    def num_special_tokens_to_add(self, is_pair):
        template = self.pair if is_pair else self.single
        return sum(len(self.special_tokens[name]["ids"]) for kind, name, _ in template or []
                   if kind == "special")

    def process_encodings(self, encodings, add_special_tokens):
        template = self.pair if len(encodings) == 2 else self.single
        if template is None:
            raise ValueError("TemplateProcessing has no template for a pair of sequences")
        out = []
        for kind, name, type_id in template:
            if kind == "sequence":
                i = 0 if name == "A" else 1
                e = encodings[i].copy()
                e.type_ids = [type_id] * len(e.ids)
                e.set_sequence_id(i)
                out.append(e)
            elif add_special_tokens:
                tok = self.special_tokens[name]
                n = len(tok["ids"])
                out.append(Encoding(tok["ids"], [type_id] * n, tok["tokens"], [(0, 0)] * n,
                                    [1] * n, [1] * n, [None] * n))
        return out


def _template(t):
    """A template as a list of pieces: JSON form, or the "[CLS] $A [SEP]" string form."""
    if isinstance(t, str):
        t = t.split()
    return list(t)


def _piece(p):
    """("sequence" | "special", id, type_id) from either form of a template piece."""
    if isinstance(p, dict):
        if "Sequence" in p:
            return ("sequence", p["Sequence"]["id"], p["Sequence"].get("type_id", 0))
        return ("special", p["SpecialToken"]["id"], p["SpecialToken"].get("type_id", 0))
    name, colon, type_id = p.partition(":")
    type_id = int(type_id) if colon else None
    if not name.startswith("$"):
        return ("special", name, type_id or 0)
    rest = name[1:]
    if rest in ("", "A", "a", "B", "b"):
        seq, default = ("B" if rest in ("B", "b") else "A"), 0
    elif rest.isdigit():  # "$1": sequence A with type id 1
        seq, default = "A", int(rest)
    else:
        raise ValueError(f"TemplateProcessing: cannot parse template piece {p!r}")
    return ("sequence", seq, default if type_id is None else type_id)


class ByteLevel(PostProcessor):
    """Trims the spaces (Ġ) that byte-level tokens carry out of their offsets."""

    def __init__(self, add_prefix_space: bool = True, trim_offsets: bool = True,
                 use_regex: bool = True):
        self.add_prefix_space = add_prefix_space
        self.trim_offsets = trim_offsets
        self.use_regex = use_regex

    def process_encodings(self, encodings, add_special_tokens):
        if self.trim_offsets:
            for e in encodings:
                trim_offsets(e, self.add_prefix_space)
                for o in e.overflowing:
                    trim_offsets(o, self.add_prefix_space)
        for i, e in enumerate(encodings):
            e.set_sequence_id(i)
        return encodings


def _is_space(c: str) -> bool:
    from ._unicode import WHITESPACE
    return c == _SPACE_CHAR or c in WHITESPACE


_SPACE_CHAR = bytes_to_unicode()[ord(" ")]


def trim_offsets(e: Encoding, add_prefix_space: bool) -> None:
    """Moves offsets past the leading/trailing spaces their tokens include."""
    for i, (token, (a, b)) in enumerate(zip(e.tokens, e.offsets)):
        lead = 0
        for c in token:
            if not _is_space(c):
                break
            lead += 1
        trail = 0
        for c in reversed(token):
            if not _is_space(c):
                break
            trail += 1
        if not (lead or trail):
            continue
        if lead:
            if (i == 0 or a == 0) and add_prefix_space and lead == 1:
                lead = 0  # the space the pre-tokenizer added is part of the first token
            a = min(a + lead, b)
        if trail and b >= trail:
            b = max(b - trail, a)
        e.offsets[i] = (a, b)


class Sequence(PostProcessor):
    def __init__(self, processors):
        self.processors = list(processors)

    def num_special_tokens_to_add(self, is_pair):
        return sum(p.num_special_tokens_to_add(is_pair) for p in self.processors)

    def process_encodings(self, encodings, add_special_tokens):
        for p in self.processors:
            encodings = p.process_encodings(encodings, add_special_tokens)
        return encodings


def from_config(cfg: dict | None) -> PostProcessor | None:
    """Builds a post-processor from its tokenizer.json description."""
    if cfg is None:
        return None
    kind = cfg["type"]
    if kind == "BertProcessing":
        return BertProcessing(cfg["sep"], cfg["cls"])
    if kind == "RobertaProcessing":
        return RobertaProcessing(cfg["sep"], cfg["cls"], cfg.get("trim_offsets", True),
                                 cfg.get("add_prefix_space", True))
    if kind == "TemplateProcessing":
        return TemplateProcessing(cfg["single"], cfg.get("pair"), cfg.get("special_tokens"))
    if kind == "ByteLevel":
        return ByteLevel(cfg.get("add_prefix_space", True), cfg.get("trim_offsets", True),
                         cfg.get("use_regex", True))
    if kind == "Sequence":
        return Sequence([from_config(c) for c in cfg["processors"]])
    raise ValueError(f"unsupported post_processor type {kind!r} in tokenizer.json")
