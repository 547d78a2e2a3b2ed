"""SentenceEncoder: sentence-transformers models (modules.json layouts) on taimatsu.

A sentence-transformers folder lists its pipeline in modules.json: a Transformer (a BERT
checkpoint with its tokenizer, max_seq_length in sentence_bert_config.json), a Pooling
module (1_Pooling/config.json: CLS, mean, max, mean-sqrt-len or last-token pooling),
optional Dense layers and a Normalize module. `encode` runs them over batches of sentences.
"""

from __future__ import annotations

import json

import numpy as np

import taimatsu
import taimatsu.nn.functional as F
from taimatsu import nn

from .._hub import hub_options, resolve_file
from .bert import BertConfig, BertModel

__all__ = ["SentenceEncoder", "Pooling", "Dense", "Normalize"]

_TRANSFORMERS = {"bert": (BertConfig, BertModel)}


class Pooling(nn.Module):
    """Token embeddings -> one sentence embedding (modes concatenated in this order:
    cls, max, mean, mean_sqrt_len, lasttoken), padding excluded."""

    MODES = ("cls", "max", "mean", "mean_sqrt_len", "lasttoken")

    def __init__(self, word_embedding_dimension: int, pooling_mode: str | None = None, *,
                 pooling_mode_cls_token: bool = False, pooling_mode_max_tokens: bool = False,
                 pooling_mode_mean_tokens: bool = True,
                 pooling_mode_mean_sqrt_len_tokens: bool = False,
                 pooling_mode_lasttoken: bool = False, **unused):
        super().__init__()
        self.word_embedding_dimension = word_embedding_dimension
        if pooling_mode is not None:
            if pooling_mode not in self.MODES:
                raise ValueError(f"pooling_mode must be one of {self.MODES}, got "
                                 f"{pooling_mode!r}")
            modes = [pooling_mode]
        else:
            flags = (pooling_mode_cls_token, pooling_mode_max_tokens, pooling_mode_mean_tokens,
                     pooling_mode_mean_sqrt_len_tokens, pooling_mode_lasttoken)
            modes = [m for m, on in zip(self.MODES, flags) if on]
        if unused.get("pooling_mode_weightedmean_tokens"):
            raise ValueError("weighted-mean pooling is not supported")
        if not modes:
            raise ValueError("Pooling needs at least one pooling mode")
        self.modes = modes

    def extra_repr(self) -> str:
        return f"word_embedding_dimension={self.word_embedding_dimension}, modes={self.modes}"

    def get_sentence_embedding_dimension(self) -> int:
        return self.word_embedding_dimension * len(self.modes)

    def forward(self, token_embeddings, attention_mask):
        mask = attention_mask.unsqueeze(-1).to(token_embeddings.dtype)
        parts = []
        for mode in self.modes:
            if mode == "cls":
                parts.append(token_embeddings[:, 0])
            elif mode == "max":
                masked = token_embeddings.masked_fill(mask == 0, -1e9)
                parts.append(masked.max(dim=1).values)
            elif mode in ("mean", "mean_sqrt_len"):
                total = (token_embeddings * mask).sum(dim=1)
                count = mask.sum(dim=1).clamp(min=1e-9)
                parts.append(total / count if mode == "mean" else total / count.sqrt())
            else:  # lasttoken: the last non-padding position (right padding)
                last = attention_mask.sum(dim=1).long() - 1
                parts.append(token_embeddings[taimatsu.arange(token_embeddings.shape[0]), last])
        return parts[0] if len(parts) == 1 else taimatsu.cat(parts, dim=1)


class Dense(nn.Module):
    """sentence-transformers' Dense module: activation(linear(x))."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 activation_function: str = "torch.nn.modules.activation.Tanh"):
        super().__init__()
        self.linear = nn.Linear(in_features, out_features, bias=bias)
        name = activation_function.rsplit(".", 1)[-1]
        acts = {"Tanh": nn.Tanh, "Identity": nn.Identity, "ReLU": nn.ReLU, "GELU": nn.GELU,
                "Sigmoid": nn.Sigmoid}
        if name not in acts:
            raise ValueError(f"unsupported Dense activation {activation_function!r}")
        self.activation_function = acts[name]()

    def forward(self, x):
        return self.activation_function(self.linear(x))


class Normalize(nn.Module):
    """L2-normalizes each sentence embedding."""

    def forward(self, x):
        return F.normalize(x, p=2, dim=-1)


class SentenceEncoder(nn.Module):
    """A Transformer, a Pooling module, optional Dense layers and an optional Normalize.

    Args:
        transformer: the token encoder (a BertModel)
        pooling: a Pooling module
        tokenizer: a `taimatsu_text.tokenizers.Tokenizer` (needed by `encode`)
        dense: Dense modules applied after pooling
        normalize: whether the pipeline ends with a Normalize module
        max_seq_length: longer inputs are truncated to this many tokens
    """

    def __init__(self, transformer: nn.Module, pooling: Pooling, tokenizer=None, dense=(),
                 normalize: bool = False, max_seq_length: int | None = None):
        super().__init__()
        self.transformer = transformer
        self.pooling = pooling
        self.dense = nn.ModuleList(dense)
        self.normalize = Normalize() if normalize else None
        self.tokenizer = tokenizer
        self.max_seq_length = max_seq_length

    @classmethod
    def from_pretrained(cls, name_or_path, *, revision: str | None = None, cache_dir=None,
                        local_files_only: bool = False, token=None) -> SentenceEncoder:
        """Loads a sentence-transformers folder or Hub repository (eval mode)."""
        options = hub_options(revision, cache_dir, local_files_only, token)
        modules_path = resolve_file(name_or_path, "modules.json", **options)
        if modules_path is None:
            raise OSError(f"{name_or_path}: no modules.json (not a sentence-transformers "
                          f"model)")
        with open(modules_path, encoding="utf-8") as f:
            modules = json.load(f)
        transformer = tokenizer = pooling = None
        dense, normalize, max_len = [], False, None
        for m in sorted(modules, key=lambda m: m.get("idx", 0)):
            kind = m["type"].rsplit(".", 1)[-1]
            sub = m.get("path", "") or None
            sub_options = {**options, **({"subfolder": sub} if sub else {})}
            if kind == "Transformer":
                transformer, tokenizer, max_len = _load_transformer(name_or_path, sub_options)
            elif kind == "Pooling":
                cfg = _read_json(resolve_file(name_or_path, "config.json", **sub_options))
                pooling = Pooling(**cfg)
            elif kind == "Dense":
                dense.append(_load_dense(name_or_path, sub_options))
            elif kind == "Normalize":
                normalize = True
            else:
                raise ValueError(f"unsupported sentence-transformers module {m['type']!r}")
        if transformer is None:
            raise ValueError(f"{name_or_path}: modules.json has no Transformer module")
        if pooling is None:
            pooling = Pooling(transformer.config.hidden_size)
        return cls(transformer, pooling, tokenizer, dense, normalize, max_len).eval()

    def get_sentence_embedding_dimension(self) -> int:
        dim = self.pooling.get_sentence_embedding_dimension()
        for d in self.dense:
            dim = d.linear.out_features
        return dim

    def forward(self, input_ids, attention_mask, token_type_ids=None,
                normalize: bool | None = None):
        """Sentence embeddings of a tokenized batch; `normalize` overrides the model's
        Normalize module (None: as the model says)."""
        hidden = self.transformer(input_ids, attention_mask=attention_mask,
                                  token_type_ids=token_type_ids).last_hidden_state
        x = self.pooling(hidden, attention_mask)
        for d in self.dense:
            x = d(x)
        if normalize is None:
            normalize = self.normalize is not None
        return F.normalize(x, p=2, dim=-1) if normalize else x

    def encode(self, sentences, batch_size: int = 32, normalize_embeddings: bool | None = None,
               show_progress_bar: bool = False, convert_to_numpy: bool = False):
        """Embeds sentences: a (N, dim) tensor, or (dim,) for a single string.

        Sentences are batched by length (less padding) and returned in input order.
        `normalize_embeddings` None follows the model's Normalize module; True or False
        forces L2 normalization on or off.
        """
        if self.tokenizer is None:
            raise ValueError("SentenceEncoder.encode needs a tokenizer")
        single = isinstance(sentences, str)
        sentences = [sentences] if single else list(sentences)
        order = np.argsort([-len(s) for s in sentences], kind="stable")
        starts = range(0, len(sentences), batch_size)
        if show_progress_bar:
            from tqdm.auto import tqdm
            starts = tqdm(starts, desc="Batches")
        chunks = []
        with taimatsu.no_grad():
            for start in starts:
                batch = [sentences[i] for i in order[start:start + batch_size]]
                chunks.append(self._embed(batch, normalize_embeddings))
        if chunks:
            out = taimatsu.cat(chunks)
            out = out[taimatsu.from_numpy(np.argsort(order, kind="stable"))]
        else:
            out = taimatsu.zeros(0, self.get_sentence_embedding_dimension())
        if single:
            out = out[0]
        return out.numpy() if convert_to_numpy else out

    def _embed(self, batch, normalize_embeddings):
        enc = self.tokenizer(batch, padding=True, truncation=True,
                             max_length=self.max_seq_length, return_tensors="tm")
        return self(enc["input_ids"], enc["attention_mask"], enc.get("token_type_ids"),
                    normalize_embeddings)

    def similarity(self, a, b):
        """Cosine similarity matrix between two sets of embeddings."""
        a = F.normalize(a if a.ndim == 2 else a[None], dim=-1)
        b = F.normalize(b if b.ndim == 2 else b[None], dim=-1)
        return a @ b.T


def _read_json(path):
    if path is None:
        return {}
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _load_transformer(name_or_path, options):
    """The Transformer module: model, tokenizer and max_seq_length."""
    from ..tokenizers import Tokenizer
    from ._base import load_checkpoint
    config = _read_json(resolve_file(name_or_path, "config.json", **options))
    kind = config.get("model_type", "bert")
    if kind not in _TRANSFORMERS:
        raise ValueError(f"sentence-transformers Transformer of model_type {kind!r} is not "
                         f"supported (supported: {sorted(_TRANSFORMERS)})")
    config_cls, model_cls = _TRANSFORMERS[kind]
    model = model_cls(config_cls.from_dict(config))
    model.load_checkpoint(load_checkpoint(name_or_path, **options))
    model.eval()
    st_config = _read_json(resolve_file(name_or_path, "sentence_bert_config.json", **options))
    tokenizer = Tokenizer.from_pretrained(name_or_path, **options)
    max_len = st_config.get("max_seq_length") or tokenizer.model_max_length
    if st_config.get("do_lower_case"):
        from ..tokenizers.normalizers import Lowercase, Sequence
        tokenizer.normalizer = Sequence([Lowercase()] + ([tokenizer.normalizer]
                                                         if tokenizer.normalizer else []))
        tokenizer.added.build(tokenizer.normalizer)
    return model, tokenizer, max_len


def _load_dense(name_or_path, options):
    from ._base import load_checkpoint
    cfg = _read_json(resolve_file(name_or_path, "config.json", **options))
    dense = Dense(cfg["in_features"], cfg["out_features"], cfg.get("bias", True),
                  cfg.get("activation_function", "torch.nn.modules.activation.Tanh"))
    dense.load_state_dict(load_checkpoint(name_or_path, **options))
    return dense.eval()
