"""What the Transformer models share: configs read from config.json, outputs that read as
attributes or tuples, and checkpoint loading under Hugging Face parameter names.

Checkpoints load from model.safetensors (sharded or not) or pytorch_model.bin, with the
renames real checkpoints need: LayerNorm gamma/beta, a base-model prefix present or absent
(`bert.`, `transformer.`, `model.`), buffers some files carry (position_ids, GPT-2's causal
mask), and tied output embeddings that safetensors files leave out.
"""

from __future__ import annotations

import copy
import json
import os
import re
import warnings
from collections import OrderedDict

import taimatsu
from taimatsu import nn

from .._hub import hub_options, resolve_file

__all__ = ["Config", "ModelOutput", "PreTrainedModel", "load_checkpoint"]


class Config:
    """A model configuration: config.json's fields as attributes, over class defaults.

    Subclasses list their fields and defaults in `defaults`; unknown fields from the file
    are kept (and written back by `to_dict`).
    """

    model_type = ""
    defaults: dict = {}
    # config.json spellings of the same field (GPT-2's n_embd is hidden_size elsewhere)
    aliases: dict = {}

    def __init__(self, **kwargs):
        values = copy.deepcopy(self.defaults)
        values.update(kwargs)
        for k, v in values.items():
            setattr(self, k, v)

    def __getattr__(self, name):
        alias = type(self).aliases.get(name)
        if alias is not None:
            return getattr(self, alias)
        raise AttributeError(f"{type(self).__name__} has no field {name!r}")

    @classmethod
    def from_dict(cls, d: dict, **overrides) -> Config:
        return cls(**{**d, **overrides})

    @classmethod
    def from_json_file(cls, path, **overrides) -> Config:
        with open(path, encoding="utf-8") as f:
            return cls.from_dict(json.load(f), **overrides)

    def to_dict(self) -> dict:
        d = {k: v for k, v in vars(self).items() if not k.startswith("_")}
        d["model_type"] = self.model_type
        return d

    def to_json_file(self, path) -> None:
        with open(path, "w", encoding="utf-8") as f:
            json.dump(self.to_dict(), f, indent=2, sort_keys=True)
            f.write("\n")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({json.dumps(self.to_dict(), sort_keys=True)})"


class ModelOutput(OrderedDict):
    """Named model outputs (logits, last_hidden_state, ...): read them as attributes, by
    key, or by position (None fields left out), like transformers' ModelOutput."""

    def __init__(self, **fields):
        super().__init__((k, v) for k, v in fields.items() if v is not None)

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            if name.startswith("__"):
                raise AttributeError(name) from None
            return None

    def __getitem__(self, key):
        if isinstance(key, (int, slice)):
            return self.to_tuple()[key]
        return super().__getitem__(key)

    def to_tuple(self) -> tuple:
        return tuple(self.values())


WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin",
                "pytorch_model.bin.index.json")


def _read_weights(path: str) -> dict:
    if path.endswith(".safetensors"):
        from taimatsu.safetensors import load_file
        return load_file(path)
    return taimatsu.load(path, map_location="cpu", weights_only=True)


def load_checkpoint(name_or_path, **options) -> dict:
    """The tensors of a model folder or repository: single or sharded, safetensors first."""
    for name in WEIGHT_FILES:
        path = resolve_file(name_or_path, name, **options)
        if path is None:
            continue
        if not name.endswith(".index.json"):
            return _read_weights(path)
        with open(path, encoding="utf-8") as f:
            shards = sorted(set(json.load(f)["weight_map"].values()))
        state = {}
        for shard in shards:
            shard_path = resolve_file(name_or_path, shard, **options)
            if shard_path is None:
                raise OSError(f"{name_or_path}: shard {shard} named in {name} is missing")
            state.update(_read_weights(shard_path))
        return state
    raise OSError(f"{name_or_path}: no weights found (looked for {', '.join(WEIGHT_FILES)})")


class PreTrainedModel(nn.Module):
    """Base of the Transformer models: a config, from_pretrained and save_pretrained.

    Subclasses set `config_class`, `base_model_prefix` (the attribute holding the base
    model in task models, e.g. "bert"), `_tied_weights` (our key -> the key it shares its
    tensor with) and `_ignored_checkpoint_keys` (regexes of checkpoint entries to drop).
    """

    config_class = Config
    base_model_prefix = ""
    _tied_weights: dict = {}
    _ignored_checkpoint_keys: tuple = ()

    def __init__(self, config: Config):
        super().__init__()
        self.config = config

    @classmethod
    def from_pretrained(cls, name_or_path, *, revision: str | None = None, cache_dir=None,
                        local_files_only: bool = False, token=None, subfolder=None,
                        strict: bool = False, **config_overrides):
        """Builds the model from config.json and loads its weights (eval mode).

        `name_or_path` is a folder or a Hub repository id; keyword arguments other than the
        download options override config fields. Missing or unused checkpoint entries are
        reported with a warning (an error with strict=True).
        """
        options = hub_options(revision, cache_dir, local_files_only, token, subfolder)
        config_path = resolve_file(name_or_path, "config.json", **options)
        if config_path is None:
            raise OSError(f"{name_or_path}: no config.json")
        config = cls.config_class.from_json_file(config_path, **config_overrides)
        model = cls(config)
        model.load_checkpoint(load_checkpoint(name_or_path, **options), strict=strict)
        return model.eval()

    def load_checkpoint(self, state: dict, strict: bool = False):
        """Loads a published checkpoint's tensors, renaming its keys to ours."""
        state = self._rename_checkpoint_keys(dict(state))
        result = self.load_state_dict(state, strict=False)
        missing = [k for k in result.missing_keys if k not in self._tied_weights]
        unexpected = list(result.unexpected_keys)
        if missing or unexpected:
            msg = (f"loading {type(self).__name__}: "
                   + (f"weights not in the checkpoint (left at their initialization): "
                      f"{missing}. " if missing else "")
                   + (f"checkpoint entries not used: {unexpected}." if unexpected else ""))
            if strict:
                raise RuntimeError(msg)
            warnings.warn(msg, stacklevel=3)
        return result

    def _rename_checkpoint_keys(self, state: dict) -> dict:
        ignored = [re.compile(p) for p in self._ignored_checkpoint_keys]
        renamed = {}
        for k, v in state.items():
            if any(p.search(k) for p in ignored):
                continue
            k = re.sub(r"LayerNorm\.gamma$", "LayerNorm.weight", k)
            k = re.sub(r"LayerNorm\.beta$", "LayerNorm.bias", k)
            renamed[k] = v
        prefix = self.base_model_prefix
        if not prefix:
            return renamed
        own = set(self.state_dict())
        p = prefix + "."
        we_prefix = any(k.startswith(p) for k in own)
        they_prefix = any(k.startswith(p) for k in renamed)
        if they_prefix and not we_prefix:
            # a task model's checkpoint into the base model: keep the base model's part
            return {k[len(p):]: v for k, v in renamed.items() if k.startswith(p)}
        if we_prefix and not they_prefix:
            # a base model's checkpoint into a task model
            return {(p + k if p + k in own else k): v for k, v in renamed.items()}
        return renamed

    def save_pretrained(self, folder) -> None:
        """Writes config.json and model.safetensors (tied tensors stored once)."""
        from taimatsu.safetensors import save_file
        os.makedirs(folder, exist_ok=True)
        self.config.to_json_file(os.path.join(folder, "config.json"))
        state = {k: v for k, v in self.state_dict().items() if k not in self._tied_weights}
        save_file(state, os.path.join(folder, "model.safetensors"), metadata={"format": "pt"})

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


def activation(name: str):
    """The activation function a config names (hidden_act / activation_function)."""
    import taimatsu.nn.functional as F
    table = {
        "gelu": F.gelu,  # the exact erf form, as transformers' "gelu"
        "gelu_new": lambda x: F.gelu(x, approximate="tanh"),
        "gelu_pytorch_tanh": lambda x: F.gelu(x, approximate="tanh"),
        "gelu_fast": lambda x: F.gelu(x, approximate="tanh"),
        "relu": F.relu,
        "silu": F.silu,
        "swish": F.silu,
        "tanh": taimatsu.tanh,
    }
    try:
        return table[name]
    except KeyError:
        raise ValueError(f"unsupported activation {name!r}; expected one of "
                         f"{sorted(table)}") from None
