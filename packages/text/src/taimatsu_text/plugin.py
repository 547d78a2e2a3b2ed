"""taimatsu plugin hooks (entry point `text` in the group `taimatsu`): registers the text
models, datasets and transforms, and builds BERT / GPT-2 / Llama / sentence-transformers
repositories for the hub."""

from __future__ import annotations

import inspect
import os

from taimatsu.plugins import Weights, hookimpl

DOMAIN = "text"

MINILM_REPO = "sentence-transformers/all-MiniLM-L6-v2"
MINILM_CONFIG = dict(vocab_size=30522, hidden_size=384, num_hidden_layers=6,
                     num_attention_heads=12, intermediate_size=1536, hidden_act="gelu",
                     max_position_embeddings=512, type_vocab_size=2, layer_norm_eps=1e-12)


def _first_line(obj) -> str | None:
    doc = inspect.getdoc(obj)
    return doc.splitlines()[0] if doc else None


def bert(**config):
    """BERT encoder (BertModel) built from BertConfig fields."""
    from .models import BertConfig, BertModel
    return BertModel(BertConfig(**config))


def bert_for_masked_lm(**config):
    """BERT with its masked-language-model head, from BertConfig fields."""
    from .models import BertConfig, BertForMaskedLM
    return BertForMaskedLM(BertConfig(**config))


def bert_for_sequence_classification(**config):
    """BERT with a classifier on the pooled output, from BertConfig fields."""
    from .models import BertConfig, BertForSequenceClassification
    return BertForSequenceClassification(BertConfig(**config))


def gpt2(**config):
    """GPT-2 language model (GPT2LMHeadModel) built from GPT2Config fields."""
    from .models import GPT2Config, GPT2LMHeadModel
    return GPT2LMHeadModel(GPT2Config(**config))


def llama(**config):
    """Llama-style decoder (LlamaForCausalLM) built from LlamaConfig fields."""
    from .models import LlamaConfig, LlamaForCausalLM
    return LlamaForCausalLM(LlamaConfig(**config))


def sentence_encoder(path: str | None = None, pooling: str = "mean", normalize: bool = True,
                     max_seq_length: int = 256, **config):
    """Sentence embeddings: a sentence-transformers folder/repo (`path`), or a fresh BERT
    with `pooling` and optional L2 normalization built from BertConfig fields."""
    from .models import BertConfig, BertModel, Pooling, SentenceEncoder
    if path is not None:
        return SentenceEncoder.from_pretrained(path)
    cfg = BertConfig(**config)
    return SentenceEncoder(BertModel(cfg), Pooling(cfg.hidden_size, pooling), None, (),
                           normalize, max_seq_length)


def all_minilm_l6_v2(**config):
    """all-MiniLM-L6-v2's BERT encoder (6 layers, 384 wide): sentence-transformers' weights."""
    return bert(**{**MINILM_CONFIG, **config})


MODELS = {
    "bert": (bert, "feature-extraction", ()),
    "bert_for_masked_lm": (bert_for_masked_lm, "fill-mask", ()),
    "bert_for_sequence_classification": (bert_for_sequence_classification,
                                         "text-classification", ()),
    "gpt2": (gpt2, "text-generation", ()),
    "llama": (llama, "text-generation", ()),
    "sentence_encoder": (sentence_encoder, "sentence-similarity", ()),
    "all-minilm-l6-v2": (all_minilm_l6_v2, "sentence-similarity", (
        Weights("SENTENCE_TRANSFORMERS", repo_id=MINILM_REPO, filename="model.safetensors",
                num_params=22713216,
                meta={"pooling": "mean", "normalize": True, "max_seq_length": 256,
                      "tokenizer": MINILM_REPO}),)),
}


def _datasets():
    from . import datasets
    return {"ag_news": datasets.AG_NEWS, "imdb": datasets.IMDB, "sst2": datasets.SST2,
            "wikitext2": datasets.WikiText2, "wikitext103": datasets.WikiText103,
            "penntreebank": datasets.PennTreebank}


def _transforms():
    from . import transforms
    # prefixed: other domains register their own ToTensor / Sequential
    return {f"text.{name}": getattr(transforms, name) for name in transforms.__all__}


@hookimpl
def taimatsu_register_models(registry):
    for name, (builder, task, weights) in MODELS.items():
        registry.add(name, builder, domain=DOMAIN, task=task, weights=weights,
                     description=_first_line(builder))


@hookimpl
def taimatsu_register_datasets(registry):
    for name, fn in _datasets().items():
        registry.add(name, fn, domain=DOMAIN, description=_first_line(fn))


@hookimpl
def taimatsu_register_transforms(registry):
    for name, cls in _transforms().items():
        registry.add(name, cls, domain=DOMAIN, description=_first_line(cls))


@hookimpl
def taimatsu_hub_load(source, config):
    return hub_load(source, config)


def hub_load(source: str, config: dict):
    """The model for a downloaded repository folder, or None if it is not one of ours.

    A sentence-transformers layout (modules.json around a BERT) gives a SentenceEncoder;
    a BERT, GPT-2 or Llama config.json the matching model, with its weights, and with the
    folder's tokenizer as `model.tokenizer` when the folder has one.
    """
    from .models import SentenceEncoder, load_checkpoint, model_class_for
    from .models.sentence_encoder import _TRANSFORMERS
    if not isinstance(config, dict):
        return None
    if os.path.isfile(os.path.join(source, "modules.json")):
        if config.get("model_type", "bert") not in _TRANSFORMERS:
            return None
        return SentenceEncoder.from_pretrained(source)
    cls = model_class_for(config)
    if cls is None:
        return None
    model = cls(cls.config_class.from_dict(config))
    model.load_checkpoint(load_checkpoint(source))
    model.tokenizer = _tokenizer_or_none(source)
    return model.eval()


def _tokenizer_or_none(folder: str):
    from .tokenizers import Tokenizer
    from .tokenizers._files import TOKENIZER_FILES
    if not any(os.path.isfile(os.path.join(folder, f)) for f in TOKENIZER_FILES
               if f != "tokenizer_config.json" and f != "special_tokens_map.json"):
        return None
    return Tokenizer.from_pretrained(folder)
