"""Transformer models with Hugging Face parameter names: BERT (+ masked LM, sequence
classification), GPT-2, a Llama-style decoder, and sentence-transformers encoders."""

from __future__ import annotations

from ._base import Config, ModelOutput, PreTrainedModel, load_checkpoint
from .bert import BertConfig, BertForMaskedLM, BertForSequenceClassification, BertModel
from .generation import GenerationMixin
from .gpt2 import GPT2Config, GPT2LMHeadModel, GPT2Model
from .llama import LlamaConfig, LlamaForCausalLM, LlamaModel
from .sentence_encoder import Dense, Normalize, Pooling, SentenceEncoder

__all__ = ["Config", "ModelOutput", "PreTrainedModel", "load_checkpoint", "GenerationMixin",
           "BertConfig", "BertModel", "BertForMaskedLM", "BertForSequenceClassification",
           "GPT2Config", "GPT2Model", "GPT2LMHeadModel", "LlamaConfig", "LlamaModel",
           "LlamaForCausalLM", "SentenceEncoder", "Pooling", "Dense", "Normalize",
           "from_pretrained", "ARCHITECTURES"]

# config.json "architectures" entries -> our classes
ARCHITECTURES = {
    "BertModel": BertModel, "BertForMaskedLM": BertForMaskedLM,
    "BertForSequenceClassification": BertForSequenceClassification,
    "GPT2Model": GPT2Model, "GPT2LMHeadModel": GPT2LMHeadModel,
    "LlamaModel": LlamaModel, "LlamaForCausalLM": LlamaForCausalLM,
}
# config.json "model_type" -> the class used when no architecture is named
DEFAULT_FOR_TYPE = {"bert": BertModel, "gpt2": GPT2LMHeadModel, "llama": LlamaForCausalLM}


# the size fields a real config.json of each type carries (class defaults would otherwise
# build a full-size model from a config that only names its type)
_SIZE_FIELDS = {"bert": ("hidden_size", "num_hidden_layers"),
                "gpt2": ("n_embd", "n_layer"),
                "llama": ("hidden_size", "num_hidden_layers")}


def model_class_for(config: dict):
    """Our class for a parsed config.json, or None when it describes another model.

    The config's architectures decide when it names any (one we do not have means None);
    otherwise its model_type does. A config without the size fields is not recognised.
    """
    kind = config.get("model_type")
    archs = config.get("architectures") or []
    if archs:
        cls = next((ARCHITECTURES[a] for a in archs if a in ARCHITECTURES), None)
    else:
        cls = DEFAULT_FOR_TYPE.get(kind)
    if cls is None or cls.config_class.model_type != kind:
        return None
    if not all(f in config for f in _SIZE_FIELDS[kind]):
        return None
    return cls


def from_pretrained(name_or_path, **kwargs):
    """A folder or Hub repository as the right model: a SentenceEncoder for
    sentence-transformers layouts (modules.json), else by config.json's architecture."""
    from .._hub import hub_options, resolve_file
    options = hub_options(**{k: kwargs[k] for k in ("revision", "cache_dir",
                                                   "local_files_only", "token") if k in kwargs})
    if resolve_file(name_or_path, "modules.json", **options) is not None:
        return SentenceEncoder.from_pretrained(name_or_path, **kwargs)
    path = resolve_file(name_or_path, "config.json", **options)
    if path is None:
        raise OSError(f"{name_or_path}: no config.json")
    import json
    with open(path, encoding="utf-8") as f:
        config = json.load(f)
    cls = model_class_for(config)
    if cls is None:
        raise ValueError(f"{name_or_path}: unsupported model (model_type "
                         f"{config.get('model_type')!r}, architectures "
                         f"{config.get('architectures')})")
    return cls.from_pretrained(name_or_path, **kwargs)
