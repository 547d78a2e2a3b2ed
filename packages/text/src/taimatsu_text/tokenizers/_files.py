"""Finding a tokenizer's files (a folder, a tokenizer.json, or a Hub repository) and
building the `Tokenizer` they describe."""

from __future__ import annotations

import json
import os

from .._hub import hub_options, resolve_file
from . import decoders, models, normalizers, pre_tokenizers, processors
from .added_tokens import AddedToken

TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                   "vocab.txt", "vocab.json", "merges.txt")
_NO_LIMIT = int(1e20)


def _read_json(path):
    if path is None or not os.path.isfile(path):
        return {}
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _content(value):
    """A special token as written in the configs: a string or a serialized AddedToken."""
    if isinstance(value, dict):
        return value.get("content")
    return value


class TokenizerFiles:
    """Paths of the tokenizer files that exist (name -> path)."""

    def __init__(self, paths: dict[str, str], origin: str):
        self.paths = paths
        self.origin = origin

    @classmethod
    def locate(cls, name_or_path, *, revision=None, cache_dir=None, local_files_only=False,
               token=None, subfolder=None) -> TokenizerFiles:
        name = os.fspath(name_or_path)
        if os.path.isfile(name):
            return cls({"tokenizer.json": name}, name)
        if os.path.isdir(name):
            folder = os.path.join(name, subfolder) if subfolder else name
            paths = {f: os.path.join(folder, f) for f in TOKENIZER_FILES
                     if os.path.isfile(os.path.join(folder, f))}
            if not paths:
                raise OSError(f"no tokenizer files ({', '.join(TOKENIZER_FILES)}) in {folder}")
            return cls(paths, folder)
        options = hub_options(revision, cache_dir, local_files_only, token, subfolder)
        paths = {}
        for f in TOKENIZER_FILES:
            if f in ("vocab.txt", "vocab.json", "merges.txt") and "tokenizer.json" in paths:
                continue
            p = resolve_file(name, f, **options)
            if p is not None:
                paths[f] = p
        if not paths:
            raise OSError(f"the Hub repository {name!r} has no tokenizer files")
        return cls(paths, name)

    def build(self, cls):
        config = _read_json(self.paths.get("tokenizer_config.json"))
        special = {k: _content(v) for k, v in
                   _read_json(self.paths.get("special_tokens_map.json")).items()
                   if k != "additional_special_tokens"}
        for name in ("bos_token", "eos_token", "unk_token", "sep_token", "pad_token",
                     "cls_token", "mask_token"):
            if config.get(name) is not None:
                special[name] = _content(config[name])
        max_len = config.get("model_max_length")
        kwargs = {
            "special_tokens": special,
            "model_max_length": max_len if max_len is not None and max_len < _NO_LIMIT else None,
            "padding_side": config.get("padding_side"),
            "truncation_side": config.get("truncation_side", "right"),
            "clean_up_tokenization_spaces": config.get("clean_up_tokenization_spaces", False),
            "model_input_names": config.get("model_input_names"),
        }
        if "tokenizer.json" in self.paths:
            return cls.from_file(self.paths["tokenizer.json"], **kwargs)
        if "vocab.txt" in self.paths:
            return _bert_from_vocab(cls, self.paths["vocab.txt"], config, special, kwargs)
        if "vocab.json" in self.paths and "merges.txt" in self.paths:
            return _byte_level_from_files(cls, self.paths, config, special, kwargs)
        raise OSError(f"{self.origin}: found neither tokenizer.json, vocab.txt nor "
                      f"vocab.json + merges.txt")


def _special_added(model, special: dict):
    """(id, AddedToken) for the named special tokens the vocabulary holds."""
    out = {}
    for tok in special.values():
        if tok is None:
            continue
        id = model.token_to_id(tok)
        if id is not None:
            out[id] = AddedToken(tok, special=True)
    return sorted(out.items())


def _bert_from_vocab(cls, vocab_path, config, special, kwargs):
    """The pipeline transformers' BertTokenizerFast builds from a vocab.txt."""
    for name, default in (("unk_token", "[UNK]"), ("sep_token", "[SEP]"),
                          ("pad_token", "[PAD]"), ("cls_token", "[CLS]"),
                          ("mask_token", "[MASK]")):
        special.setdefault(name, default)
    model = models.WordPiece.from_file(vocab_path, unk_token=special["unk_token"])
    lower = config.get("do_lower_case", True)
    normalizer = normalizers.BertNormalizer(True, config.get("tokenize_chinese_chars", True),
                                            config.get("strip_accents"), lower)
    sep, cls_tok = special["sep_token"], special["cls_token"]
    processor = processors.BertProcessing((sep, model.token_to_id(sep)),
                                          (cls_tok, model.token_to_id(cls_tok)))
    return cls(model, normalizer, pre_tokenizers.BertPreTokenizer(), processor,
               decoders.WordPiece("##"), _special_added(model, special), **kwargs)


def _byte_level_from_files(cls, paths, config, special, kwargs):
    """The pipeline transformers' GPT2TokenizerFast / RobertaTokenizerFast build."""
    model = models.BPE.from_file(paths["vocab.json"], paths["merges.txt"])
    prefix = config.get("add_prefix_space", False)
    roberta = "roberta" in str(config.get("tokenizer_class", "")).lower()
    if roberta:
        for name, default in (("bos_token", "<s>"), ("eos_token", "</s>"), ("sep_token", "</s>"),
                              ("cls_token", "<s>"), ("unk_token", "<unk>"),
                              ("pad_token", "<pad>"), ("mask_token", "<mask>")):
            special.setdefault(name, default)
        sep, cls_tok = special["sep_token"], special["cls_token"]
        processor = processors.RobertaProcessing((sep, model.token_to_id(sep)),
                                                 (cls_tok, model.token_to_id(cls_tok)),
                                                 True, prefix)
    else:
        for name in ("bos_token", "eos_token", "unk_token"):
            special.setdefault(name, "<|endoftext|>")
        processor = processors.ByteLevel(trim_offsets=False)
    return cls(model, None, pre_tokenizers.ByteLevel(prefix), processor,
               decoders.ByteLevel(), _special_added(model, special), **kwargs)
