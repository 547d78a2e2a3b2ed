"""`Tokenizer`: a Hugging Face tokenizer.json pipeline in Python.

The pipeline is the Rust `tokenizers` library's: added tokens are cut out of the raw text,
the rest is normalized, added tokens are cut out of the normalized text, pre-tokenized into
words, each word split by the model (cached), then truncated, post-processed (special
tokens, type ids) and padded. Calls follow transformers' tokenizers: truncation and padding
happen only when a call asks for them, whatever sections tokenizer.json carries.
"""

from __future__ import annotations

import json
import os

from . import decoders as _decoders
from . import models as _models
from . import normalizers as _normalizers
from . import pre_tokenizers as _pre_tokenizers
from . import processors as _processors
from ._normalized import NormalizedString
from .added_tokens import AddedToken, AddedVocabulary
from .encoding import Encoding

__all__ = ["Tokenizer", "BatchEncoding"]

# transformers writes this for "no limit" in tokenizer_config.json
_NO_LIMIT = int(1e20)
SPECIAL_TOKEN_NAMES = ("bos_token", "eos_token", "unk_token", "sep_token", "pad_token",
                       "cls_token", "mask_token")
_TRUNCATION_STRATEGIES = ("longest_first", "only_first", "only_second")


class BatchEncoding(dict):
    """The dict returned by `Tokenizer.__call__` (input_ids, attention_mask, ...), with the
    `Encoding`s it was made from in `.encodings`; keys also read as attributes."""

    def __init__(self, data: dict, encodings=None):
        super().__init__(data)
        self.encodings = encodings

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def word_ids(self, batch_index: int = 0) -> list:
        return self.encodings[batch_index].word_ids

    def to(self, device) -> BatchEncoding:
        """Moves every tensor value to `device`."""
        return BatchEncoding({k: v.to(device) if hasattr(v, "to") else v
                              for k, v in self.items()}, self.encodings)


class Tokenizer:
    """A tokenizer.json pipeline: normalizer, pre-tokenizer, model, post-processor, decoder.

    Build one with `Tokenizer.from_file("tokenizer.json")` or
    `Tokenizer.from_pretrained(folder_or_repo_id)`.
    """

    def __init__(self, model: _models.Model, normalizer=None, pre_tokenizer=None,
                 post_processor=None, decoder=None, added_tokens=(), *,
                 truncation: dict | None = None, padding: dict | None = None,
                 model_max_length: int | None = None, special_tokens: dict | None = None,
                 padding_side: str | None = None, truncation_side: str = "right",
                 clean_up_tokenization_spaces: bool = False, model_input_names=None):
        self.model = model
        self.normalizer = normalizer
        self.pre_tokenizer = pre_tokenizer
        self.post_processor = post_processor
        self.decoder = decoder
        # the file's sections, kept as defaults for the calls that ask to pad or truncate
        self.truncation = truncation
        self.padding = padding
        self.added = AddedVocabulary()
        for id, tok in added_tokens:
            self.added.add(tok, id)
        self.added.build(normalizer)
        if model_max_length is None and truncation:
            model_max_length = truncation.get("max_length")
        self.model_max_length = model_max_length
        self.padding_side = padding_side or \
            (padding.get("direction", "Right").lower() if padding else "right")
        self.truncation_side = truncation_side
        self.clean_up_tokenization_spaces = clean_up_tokenization_spaces
        self.special_tokens_map = {}
        for name, value in (special_tokens or {}).items():
            if value is not None:
                self.special_tokens_map[name] = value
        self.model_input_names = list(model_input_names or self._default_input_names())

    # ------------------------------------------------------------------ loading

    @classmethod
    def from_str(cls, json_text: str, **kwargs) -> Tokenizer:
        return cls.from_config(json.loads(json_text), **kwargs)

    @classmethod
    def from_file(cls, path: str | os.PathLike, **kwargs) -> Tokenizer:
        """Reads a tokenizer.json file."""
        with open(path, encoding="utf-8") as f:
            return cls.from_config(json.load(f), **kwargs)

    @classmethod
    def from_config(cls, cfg: dict, **kwargs) -> Tokenizer:
        """Builds the pipeline from a parsed tokenizer.json."""
        normalizer = _normalizers.from_config(cfg.get("normalizer"))
        added = [(t["id"], AddedToken(t["content"], t.get("single_word", False),
                                      t.get("lstrip", False), t.get("rstrip", False),
                                      t.get("normalized", not t.get("special", False)),
                                      t.get("special", False)))
                 for t in cfg.get("added_tokens") or []]
        kwargs.setdefault("truncation", cfg.get("truncation"))
        kwargs.setdefault("padding", cfg.get("padding"))
        return cls(_models.from_config(cfg["model"]), normalizer,
                   _pre_tokenizers.from_config(cfg.get("pre_tokenizer")),
                   _processors.from_config(cfg.get("post_processor")),
                   _decoders.from_config(cfg.get("decoder")), added, **kwargs)

    @classmethod
    def from_pretrained(cls, name_or_path: str | os.PathLike, *, revision: str | None = None,
                        cache_dir=None, local_files_only: bool = False, token=None,
                        subfolder: str | None = None) -> Tokenizer:
        """Loads the tokenizer of a model folder or Hub repository.

        Reads tokenizer.json when present, else vocab.txt (BERT WordPiece) or vocab.json +
        merges.txt (GPT-2 byte-level BPE); tokenizer_config.json and special_tokens_map.json
        supply the special tokens, model_max_length and lowercasing. A repository id is
        downloaded through huggingface_hub.
        """
        from ._files import TokenizerFiles
        files = TokenizerFiles.locate(name_or_path, revision=revision, cache_dir=cache_dir,
                                      local_files_only=local_files_only, token=token,
                                      subfolder=subfolder)
        return files.build(cls)

    # ------------------------------------------------------------------ vocabulary

    def get_vocab(self, with_added_tokens: bool = True) -> dict[str, int]:
        vocab = self.model.get_vocab()
        if with_added_tokens:
            vocab.update(self.added.ids)
        return vocab

    def get_vocab_size(self, with_added_tokens: bool = True) -> int:
        return len(self.get_vocab(with_added_tokens))

    @property
    def vocab_size(self) -> int:
        """The model's vocabulary size, without added tokens (as transformers' vocab_size)."""
        return self.model.get_vocab_size()

    def __len__(self) -> int:
        return self.get_vocab_size(True)

    def token_to_id(self, token: str) -> int | None:
        id = self.added.ids.get(token)
        return id if id is not None else self.model.token_to_id(token)

    def id_to_token(self, id: int) -> str | None:
        tok = self.added.strings.get(id)
        return tok if tok is not None else self.model.id_to_token(id)

    def convert_tokens_to_ids(self, tokens):
        if isinstance(tokens, str):
            return self.token_to_id(tokens)
        return [self.token_to_id(t) for t in tokens]

    def convert_ids_to_tokens(self, ids, skip_special_tokens: bool = False):
        if isinstance(ids, int):
            return self.id_to_token(ids)
        out = [self.id_to_token(int(i)) for i in ids]
        if skip_special_tokens:
            out = [t for t in out if t not in self.added.special]
        return out

    def add_tokens(self, tokens, special_tokens: bool = False) -> int:
        """Adds tokens (strings or AddedToken) missing from the vocabulary; returns how many."""
        n = 0
        next_id = max([self.model.get_vocab_size() - 1, *self.added.tokens]) + 1
        for t in tokens:
            tok = t if isinstance(t, AddedToken) else AddedToken(t, special=special_tokens)
            if tok.content in self.added.ids:
                continue
            id = self.model.token_to_id(tok.content)
            if id is None:
                id, next_id = next_id, next_id + 1
                n += 1
            self.added.add(tok, id)
        self.added.build(self.normalizer)
        return n

    def add_special_tokens(self, special_tokens_dict: dict) -> int:
        """Sets named special tokens ({"pad_token": "[PAD]", ...}), adding missing ones."""
        n = 0
        for name, value in special_tokens_dict.items():
            values = value if isinstance(value, (list, tuple)) else [value]
            n += self.add_tokens([v if isinstance(v, AddedToken) else AddedToken(v, special=True)
                                  for v in values], special_tokens=True)
            if name != "additional_special_tokens":
                self.special_tokens_map[name] = str(values[0])
        return n

    @property
    def all_special_tokens(self) -> list[str]:
        return sorted(self.added.special)

    @property
    def all_special_ids(self) -> list[int]:
        return sorted(self.added.ids[t] for t in self.added.special)

    def _default_input_names(self) -> list[str]:
        p = self.post_processor
        types = isinstance(p, _processors.BertProcessing) or (
            isinstance(p, _processors.TemplateProcessing) and p.pair is not None
            and any(t for _, _, t in p.pair))
        return ["input_ids", "token_type_ids", "attention_mask"] if types else \
            ["input_ids", "attention_mask"]

    # ------------------------------------------------------------------ encoding

    def _words(self, text: str):
        """The pipeline up to the model: (piece, added token id or None) per word."""
        added, normalizer, pre = self.added, self.normalizer, self.pre_tokenizer
        pieces = added.split(NormalizedString(text), False) if added.has_raw else \
            [(NormalizedString(text), None)]
        out = []
        for piece, id in pieces:
            if id is not None:
                out.append((piece, id))
                continue
            if normalizer is not None:
                piece = normalizer.normalize(piece)
            subs = added.split(piece, True) if added.has_normalized else [(piece, None)]
            for sub, sid in subs:
                if sid is not None:
                    out.append((sub, sid))
                elif pre is not None:
                    out.extend((w, None) for w in pre.pre_tokenize(sub))
                elif sub.text:
                    out.append((sub, None))
        return out

    def _encode_sequence(self, text: str, type_id: int = 0) -> Encoding:
        """One sequence through the model, before truncation and post-processing."""
        if not isinstance(text, str):
            raise TypeError(f"text input must be of type `str`, got {type(text).__name__}")
        ids, tokens, offsets, words = [], [], [], []
        tokenize = self.model.tokenize
        for w, (piece, added_id) in enumerate(self._words(text)):
            if added_id is not None:
                ids.append(added_id)
                tokens.append(piece.text)
                offsets.append(piece.whole_span())
                words.append(w)
                continue
            result = tokenize(piece.text)
            if piece.starts is None:
                b = piece.base
                for id, tok, s, e in result:
                    ids.append(id)
                    tokens.append(tok)
                    offsets.append((b + s, b + e))
                    words.append(w)
            else:
                starts, ends = piece.starts, piece.ends
                for id, tok, s, e in result:
                    ids.append(id)
                    tokens.append(tok)
                    offsets.append((starts[s], ends[e - 1]))
                    words.append(w)
        n = len(ids)
        return Encoding(ids, [type_id] * n, tokens, offsets, [1] * n, [0] * n, words)

    def num_special_tokens_to_add(self, pair: bool = False) -> int:
        p = self.post_processor
        return p.num_special_tokens_to_add(pair) if p is not None else 0

    def encode(self, text: str, pair: str | None = None, max_length: int | None = None,
               truncation=None, add_special_tokens: bool = True, stride: int = 0) -> Encoding:
        """Tokenizes one text (or a pair of texts) into an `Encoding`.

        Args:
            truncation: True or "longest_first", "only_first", "only_second" to cut the
                result down to `max_length` tokens (special tokens included); None
                truncates only when max_length is given; False never does.
            stride: with truncation, the overflowing windows overlap by this many tokens.
        """
        return self._encode(text, pair, add_special_tokens,
                            self._truncation_strategy(truncation, max_length, padding=False),
                            max_length, stride)

    def _encode(self, text, pair, add_special_tokens, strategy, max_length, stride):
        enc = self._encode_sequence(text, 0)
        penc = self._encode_sequence(pair, 1) if pair is not None else None
        if strategy is not None:
            limit = self._resolve_max_length(max_length)
            if add_special_tokens:
                limit -= self.num_special_tokens_to_add(penc is not None)
            _truncate(enc, penc, max(limit, 0), strategy, stride, self.truncation_side)
        if self.post_processor is not None:
            return self.post_processor.process(enc, penc, add_special_tokens)
        if penc is None:
            return enc
        enc.set_sequence_id(0)
        penc.set_sequence_id(1)
        return Encoding.merge([enc, penc])

    def encode_batch(self, texts, pairs=None, max_length: int | None = None, truncation=None,
                     add_special_tokens: bool = True, stride: int = 0, padding=False,
                     pad_to_multiple_of: int | None = None,
                     padding_side: str | None = None) -> list[Encoding]:
        """Tokenizes a list of texts (or of (text, pair) tuples, or `texts` with `pairs`)."""
        strategy = self._truncation_strategy(truncation, max_length, padding)
        encodings = []
        for i, t in enumerate(texts):
            if pairs is not None:
                a, b = t, pairs[i]
            elif isinstance(t, (tuple, list)):
                a, b = t
            else:
                a, b = t, None
            encodings.append(self._encode(a, b, add_special_tokens, strategy, max_length,
                                          stride))
        self._pad(encodings, padding, max_length, pad_to_multiple_of, padding_side)
        return encodings

    def _truncation_strategy(self, truncation, max_length, padding) -> str | None:
        if truncation is None:
            # transformers: a max_length without padding means "truncate"
            no_pad = padding in (False, None, "do_not_pad")
            return "longest_first" if max_length is not None and no_pad else None
        if truncation is False or truncation == "do_not_truncate":
            return None
        if truncation is True:
            return "longest_first"
        if truncation not in _TRUNCATION_STRATEGIES:
            raise ValueError(f"truncation must be a bool or one of {_TRUNCATION_STRATEGIES}, "
                             f"got {truncation!r}")
        return truncation

    def _resolve_max_length(self, max_length):
        if max_length is not None:
            return max_length
        if self.model_max_length is not None and self.model_max_length < _NO_LIMIT:
            return self.model_max_length
        raise ValueError("truncation needs a max_length: this tokenizer has no "
                         "model_max_length")

    # ------------------------------------------------------------------ padding

    @property
    def pad_token(self) -> str | None:
        if "pad_token" in self.special_tokens_map:
            return self.special_tokens_map["pad_token"]
        if self.padding:
            return self.padding.get("pad_token")
        return None

    @pad_token.setter
    def pad_token(self, value: str | None) -> None:
        if value is None:
            self.special_tokens_map.pop("pad_token", None)
        else:
            self.special_tokens_map["pad_token"] = str(value)

    def _pad_params(self):
        token = self.pad_token
        if token is None:
            raise ValueError("Asking to pad but the tokenizer does not have a padding token. "
                             "Please select a token to use as `pad_token` `(tokenizer.pad_token "
                             "= tokenizer.eos_token e.g.)` or add a new pad token via "
                             "`tokenizer.add_special_tokens({'pad_token': '[PAD]'})`.")
        id = self.token_to_id(token)
        if id is None and self.padding and self.padding.get("pad_token") == token:
            id = self.padding.get("pad_id")
        if id is None:
            raise ValueError(f"the padding token {token!r} is not in the vocabulary")
        type_id = self.padding.get("pad_type_id", 0) if self.padding else 0
        return id, type_id, token

    def _pad(self, encodings, padding, max_length, pad_to_multiple_of, padding_side) -> None:
        if padding in (False, None, "do_not_pad") or not encodings:
            return
        if padding is True or padding == "longest":
            length = max(len(e) for e in encodings)
        elif padding == "max_length":
            length = self._resolve_max_length(max_length)
        else:
            raise ValueError(f"padding must be a bool, 'longest', 'max_length' or "
                             f"'do_not_pad', got {padding!r}")
        if pad_to_multiple_of and length % pad_to_multiple_of:
            length += pad_to_multiple_of - length % pad_to_multiple_of
        pad_id, type_id, token = self._pad_params()
        side = padding_side or self.padding_side
        for e in encodings:
            e.pad(length, pad_id, type_id, token, side)

    # ------------------------------------------------------------------ the transformers call

    def __call__(self, text, text_pair=None, *, add_special_tokens: bool = True, padding=False,
                 truncation=None, max_length: int | None = None, stride: int = 0,
                 pad_to_multiple_of: int | None = None, padding_side: str | None = None,
                 return_tensors: str | None = None, return_token_type_ids: bool | None = None,
                 return_attention_mask: bool | None = None,
                 return_overflowing_tokens: bool = False,
                 return_special_tokens_mask: bool = False,
                 return_offsets_mapping: bool = False,
                 return_length: bool = False) -> BatchEncoding:
        """Tokenizes a text or a batch of texts into a dict of model inputs.

        Args:
            padding: True / "longest" (to the longest in the batch), "max_length", False
            truncation: True / "longest_first", "only_first", "only_second", False
            return_tensors: "tm" (taimatsu tensors; "pt" is accepted too), "np" or None
                (Python lists)
        Returns:
            A BatchEncoding with input_ids, token_type_ids (for models that use them) and
            attention_mask, plus what the return_* flags ask for.
        """
        batched = not isinstance(text, str)
        texts = list(text) if batched else [text]
        pairs = None
        if text_pair is not None:
            pairs = list(text_pair) if batched else [text_pair]
            if len(pairs) != len(texts):
                raise ValueError(f"batch length of `text`: {len(texts)} does not match batch "
                                 f"length of `text_pair`: {len(pairs)}.")
        encodings = self.encode_batch(texts, pairs, max_length, truncation, add_special_tokens,
                                      stride, padding, pad_to_multiple_of, padding_side)
        rows, sample = [], []
        for i, e in enumerate(encodings):
            rows.append(e)
            sample.append(i)
            if return_overflowing_tokens:
                rows.extend(e.overflowing)
                sample.extend([i] * len(e.overflowing))
        want_types = return_token_type_ids if return_token_type_ids is not None else \
            "token_type_ids" in self.model_input_names
        want_mask = return_attention_mask if return_attention_mask is not None else \
            "attention_mask" in self.model_input_names
        data = {"input_ids": [e.ids for e in rows]}
        if want_types:
            data["token_type_ids"] = [e.type_ids for e in rows]
        if want_mask:
            data["attention_mask"] = [e.attention_mask for e in rows]
        if return_special_tokens_mask:
            data["special_tokens_mask"] = [e.special_tokens_mask for e in rows]
        if return_offsets_mapping:
            data["offset_mapping"] = [e.offsets for e in rows]
        if return_length:
            data["length"] = [len(e) for e in rows]
        if return_overflowing_tokens:
            data["overflow_to_sample_mapping"] = sample
        if not batched and not return_overflowing_tokens:
            data = {k: v[0] for k, v in data.items()}
            if return_tensors is not None:
                data = {k: [v] if k != "length" else v for k, v in data.items()}
        if return_tensors is not None:
            data = {k: _to_tensor(k, v, return_tensors) for k, v in data.items()}
        return BatchEncoding(data, rows)

    # ------------------------------------------------------------------ decoding

    def decode(self, ids, skip_special_tokens: bool = False,
               clean_up_tokenization_spaces: bool | None = None) -> str:
        """The text of token ids, through the tokenizer's decoder."""
        if hasattr(ids, "tolist"):
            ids = ids.tolist()
        if isinstance(ids, int):
            ids = [ids]
        tokens = []
        special = self.added.special
        for i in ids:
            t = self.id_to_token(int(i))
            if t is None or (skip_special_tokens and t in special):
                continue
            tokens.append(t)
        text = self.decoder.decode(tokens) if self.decoder is not None else " ".join(tokens)
        clean = self.clean_up_tokenization_spaces if clean_up_tokenization_spaces is None \
            else clean_up_tokenization_spaces
        return _decoders.cleanup(text) if clean else text

    def batch_decode(self, sequences, skip_special_tokens: bool = False,
                     clean_up_tokenization_spaces: bool | None = None) -> list[str]:
        if hasattr(sequences, "tolist"):
            sequences = sequences.tolist()
        return [self.decode(s, skip_special_tokens, clean_up_tokenization_spaces)
                for s in sequences]

    def __repr__(self) -> str:
        return (f"Tokenizer(model={self.model!r}, normalizer={self.normalizer!r}, "
                f"pre_tokenizer={self.pre_tokenizer!r}, post_processor="
                f"{self.post_processor!r}, decoder={self.decoder!r}, "
                f"added_tokens={len(self.added)})")


def _special_token_property(name: str):
    def get(self):
        return self.special_tokens_map.get(name)

    def set_(self, value):
        if value is None:
            self.special_tokens_map.pop(name, None)
        else:
            self.special_tokens_map[name] = str(value)

    def get_id(self):
        tok = getattr(self, name)
        return None if tok is None else self.token_to_id(tok)

    return property(get, set_), property(get_id)


for _name in SPECIAL_TOKEN_NAMES:
    if _name != "pad_token":
        _p, _pid = _special_token_property(_name)
        setattr(Tokenizer, _name, _p)
    else:
        _pid = property(lambda self: None if self.pad_token is None
                        else self.token_to_id(self.pad_token))
    setattr(Tokenizer, f"{_name}_id", _pid)


def _truncate(enc, penc, limit, strategy, stride, direction) -> None:
    """The Rust library's truncate_encodings."""
    if limit == 0:
        enc.truncate(0, stride, direction)
        if penc is not None:
            penc.truncate(0, stride, direction)
        return
    total = len(enc) + (len(penc) if penc is not None else 0)
    if total <= limit:
        return
    to_remove = total - limit
    if strategy == "longest_first":
        if penc is None:
            enc.truncate(limit, stride, direction)
            return
        n1, n2 = len(enc), len(penc)
        swap = n1 > n2
        if swap:
            n1, n2 = n2, n1
        n2 = n1 if n1 > limit else max(n1, limit - n1)
        if n1 + n2 > limit:
            n1 = limit // 2
            n2 = n1 + limit % 2
        if swap:
            n1, n2 = n2, n1
        enc.truncate(n1, stride, direction)
        penc.truncate(n2, stride, direction)
        return
    if strategy == "only_second" and penc is None:
        raise ValueError("Truncation error: Second sequence not provided")
    target = enc if strategy == "only_first" else penc
    if len(target) <= to_remove:
        raise ValueError("Truncation error: Sequence to truncate too short to respect the "
                         "provided max_length")
    target.truncate(len(target) - to_remove, stride, direction)


def _to_tensor(key, value, kind):
    import numpy as np
    if key == "length" or key == "overflow_to_sample_mapping":
        arr = np.asarray(value, dtype=np.int64)
    else:
        lengths = {len(v) for v in value}
        if len(lengths) > 1:
            raise ValueError("Unable to create tensor, you should probably activate truncation "
                             "and/or padding with 'padding=True' 'truncation=True' to have "
                             "batched tensors with the same length.")
        arr = np.asarray(value, dtype=np.int64)
        if key == "offset_mapping":
            arr = arr.reshape(len(value), -1, 2)
    if kind == "np":
        return arr
    if kind in ("tm", "pt"):
        import taimatsu
        return taimatsu.from_numpy(arr)
    raise ValueError(f"return_tensors must be 'tm', 'pt', 'np' or None, got {kind!r}")
