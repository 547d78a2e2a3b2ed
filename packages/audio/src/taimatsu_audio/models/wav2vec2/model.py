"""wav2vec 2.0 (Baevski et al., 2020) with Hugging Face's `Wav2Vec2Model` /
`Wav2Vec2ForCTC` module tree and parameter names, so their checkpoints (e.g.
facebook/wav2vec2-base-960h) load unchanged.

The architecture: a convolutional feature encoder over the raw waveform (group norm in
the first layer for "group", layer norm in every layer for "layer"), a feature projection,
a weight-normalised convolutional positional embedding, and a Transformer encoder
(post-norm layers for the base models, pre-norm "stable layer norm" for the large ones);
Wav2Vec2ForCTC adds a linear CTC head.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np

import taimatsu
from taimatsu import Tensor, nn
from taimatsu.nn import functional as F
from taimatsu.nn.utils.parametrizations import weight_norm

__all__ = ["Wav2Vec2Config", "Wav2Vec2Model", "Wav2Vec2ForCTC", "wav2vec2_base",
           "wav2vec2_large_lv60"]


@dataclass
class Wav2Vec2Config:
    """The architecture hyper-parameters, named and defaulted as transformers'
    Wav2Vec2Config (its config.json reads in with `from_dict`)."""

    vocab_size: int = 32
    hidden_size: int = 768
    num_hidden_layers: int = 12
    num_attention_heads: int = 12
    intermediate_size: int = 3072
    hidden_act: str = "gelu"
    hidden_dropout: float = 0.1
    activation_dropout: float = 0.1
    attention_dropout: float = 0.1
    feat_proj_dropout: float = 0.0
    final_dropout: float = 0.1
    layerdrop: float = 0.1
    layer_norm_eps: float = 1e-5
    feat_extract_norm: str = "group"
    feat_extract_activation: str = "gelu"
    conv_dim: tuple = (512, 512, 512, 512, 512, 512, 512)
    conv_stride: tuple = (5, 2, 2, 2, 2, 2, 2)
    conv_kernel: tuple = (10, 3, 3, 3, 3, 2, 2)
    conv_bias: bool = False
    num_conv_pos_embeddings: int = 128
    num_conv_pos_embedding_groups: int = 16
    do_stable_layer_norm: bool = False
    apply_spec_augment: bool = True
    mask_time_prob: float = 0.05
    mask_time_length: int = 10
    mask_time_min_masks: int = 2
    mask_feature_prob: float = 0.0
    mask_feature_length: int = 10
    mask_feature_min_masks: int = 0
    pad_token_id: int = 0
    ctc_loss_reduction: str = "sum"
    ctc_zero_infinity: bool = False
    add_adapter: bool = False
    extra: dict = field(default_factory=dict, repr=False)

    @classmethod
    def from_dict(cls, config: dict) -> Wav2Vec2Config:
        """From a transformers config.json's contents; unknown keys go to `extra`."""
        names = {f.name for f in fields(cls)} - {"extra"}
        known = {k: (tuple(v) if isinstance(v, list) else v) for k, v in config.items()
                 if k in names}
        return cls(**known, extra={k: v for k, v in config.items() if k not in names})

    def to_dict(self) -> dict:
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "extra"}
        return {**self.extra, **{k: list(v) if isinstance(v, tuple) else v
                                 for k, v in out.items()}, "model_type": "wav2vec2"}


def _activation(name: str):
    table = {"gelu": F.gelu, "relu": F.relu, "silu": F.silu, "swish": F.silu,
             "gelu_new": lambda x: F.gelu(x, approximate="tanh"),
             "gelu_pytorch_tanh": lambda x: F.gelu(x, approximate="tanh"),
             "tanh": taimatsu.tanh}
    if name not in table:
        raise ValueError(f"unsupported activation {name!r}; one of {sorted(table)}")
    return table[name]


# -- feature encoder -----------------------------------------------------------------------

class Wav2Vec2ConvLayer(nn.Module):
    """conv -> (group or layer norm) -> activation. `norm` is None, "group" or "layer";
    the norm is named layer_norm either way, as in transformers."""

    def __init__(self, config: Wav2Vec2Config, layer_id: int, norm: str | None) -> None:
        super().__init__()
        in_dim = config.conv_dim[layer_id - 1] if layer_id > 0 else 1
        out_dim = config.conv_dim[layer_id]
        self.conv = nn.Conv1d(in_dim, out_dim, kernel_size=config.conv_kernel[layer_id],
                              stride=config.conv_stride[layer_id], bias=config.conv_bias)
        self.norm = norm
        if norm == "group":
            self.layer_norm = nn.GroupNorm(out_dim, out_dim, affine=True)
        elif norm == "layer":
            self.layer_norm = nn.LayerNorm(out_dim, elementwise_affine=True)
        self.activation = _activation(config.feat_extract_activation)

    def forward(self, x: Tensor) -> Tensor:
        x = self.conv(x)
        if self.norm == "group":
            x = self.layer_norm(x)
        elif self.norm == "layer":
            x = self.layer_norm(x.transpose(-2, -1)).transpose(-2, -1)
        return self.activation(x)


class Wav2Vec2FeatureEncoder(nn.Module):
    """Strided 1-D convolutions from the waveform (batch, time) to features
    (batch, conv_dim[-1], frames)."""

    def __init__(self, config: Wav2Vec2Config) -> None:
        super().__init__()
        if config.feat_extract_norm not in ("group", "layer"):
            raise ValueError(f"`config.feat_extract_norm` is {config.feat_extract_norm}, but "
                             "has to be one of ['group', 'layer']")
        layers = []
        for i in range(len(config.conv_dim)):
            if config.feat_extract_norm == "layer":
                norm = "layer"
            else:
                norm = "group" if i == 0 else None
            layers.append(Wav2Vec2ConvLayer(config, i, norm))
        self.conv_layers = nn.ModuleList(layers)

    def forward(self, input_values: Tensor) -> Tensor:
        x = input_values[:, None]
        for layer in self.conv_layers:
            x = layer(x)
        return x


class Wav2Vec2FeatureProjection(nn.Module):
    def __init__(self, config: Wav2Vec2Config) -> None:
        super().__init__()
        self.layer_norm = nn.LayerNorm(config.conv_dim[-1], eps=config.layer_norm_eps)
        self.projection = nn.Linear(config.conv_dim[-1], config.hidden_size)
        self.dropout = nn.Dropout(config.feat_proj_dropout)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        normed = self.layer_norm(x)
        return self.dropout(self.projection(normed)), normed


# -- encoder -----------------------------------------------------------------------------------

_WEIGHT_NORM_NAMES = {"weight_g": "parametrizations.weight.original0",
                      "weight_v": "parametrizations.weight.original1"}


def _accept_legacy_weight_norm(module, state_dict, prefix, *args) -> None:
    """Older checkpoints store the positional conv's weight norm as weight_g / weight_v
    (nn.utils.weight_norm); rename them to the parametrization's original0 / original1."""
    for old, new in _WEIGHT_NORM_NAMES.items():
        key = f"{prefix}conv.{old}"
        if key in state_dict and f"{prefix}conv.{new}" not in state_dict:
            state_dict[f"{prefix}conv.{new}"] = state_dict.pop(key)


class Wav2Vec2PositionalConvEmbedding(nn.Module):
    """A grouped convolution over time, weight-normalised over the kernel dim (dim=2),
    trimmed to the input length ("same" padding) and passed through the activation."""

    def __init__(self, config: Wav2Vec2Config) -> None:
        super().__init__()
        k = config.num_conv_pos_embeddings
        conv = nn.Conv1d(config.hidden_size, config.hidden_size, kernel_size=k,
                         padding=k // 2, groups=config.num_conv_pos_embedding_groups)
        self.conv = weight_norm(conv, name="weight", dim=2)
        self.num_pad_remove = 1 if k % 2 == 0 else 0
        self.activation = _activation(config.feat_extract_activation)
        self.register_load_state_dict_pre_hook(_accept_legacy_weight_norm)

    def forward(self, hidden_states: Tensor) -> Tensor:
        x = self.conv(hidden_states.transpose(1, 2))
        if self.num_pad_remove:
            x = x[:, :, :-self.num_pad_remove]
        return self.activation(x).transpose(1, 2)


class Wav2Vec2Attention(nn.Module):
    """Multi-head self-attention with separate q/k/v/out projections (transformers' names)."""

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0) -> None:
        super().__init__()
        if embed_dim % num_heads:
            raise ValueError(f"embed_dim must be divisible by num_heads (got `embed_dim`: "
                             f"{embed_dim} and `num_heads`: {num_heads}).")
        self.embed_dim = embed_dim
        self.num_heads = num_heads
        self.head_dim = embed_dim // num_heads
        self.dropout = dropout
        self.scaling = self.head_dim ** -0.5
        self.k_proj = nn.Linear(embed_dim, embed_dim)
        self.v_proj = nn.Linear(embed_dim, embed_dim)
        self.q_proj = nn.Linear(embed_dim, embed_dim)
        self.out_proj = nn.Linear(embed_dim, embed_dim)

    def forward(self, x: Tensor, key_padding_mask: Tensor | None = None) -> Tensor:
        """x (batch, time, embed); key_padding_mask (batch, time), True where valid."""
        b, t, _ = x.shape

        def heads(proj):
            return proj(x).reshape(b, t, self.num_heads, self.head_dim).transpose(1, 2)

        mask = None if key_padding_mask is None else key_padding_mask[:, None, None, :]
        out = F.scaled_dot_product_attention(
            heads(self.q_proj), heads(self.k_proj), heads(self.v_proj), attn_mask=mask,
            dropout_p=self.dropout if self.training else 0.0, scale=self.scaling)
        return self.out_proj(out.transpose(1, 2).reshape(b, t, self.embed_dim))


class Wav2Vec2FeedForward(nn.Module):
    def __init__(self, config: Wav2Vec2Config) -> None:
        super().__init__()
        self.intermediate_dropout = nn.Dropout(config.activation_dropout)
        self.intermediate_dense = nn.Linear(config.hidden_size, config.intermediate_size)
        self.intermediate_act_fn = _activation(config.hidden_act)
        self.output_dense = nn.Linear(config.intermediate_size, config.hidden_size)
        self.output_dropout = nn.Dropout(config.hidden_dropout)

    def forward(self, x: Tensor) -> Tensor:
        x = self.intermediate_dropout(self.intermediate_act_fn(self.intermediate_dense(x)))
        return self.output_dropout(self.output_dense(x))


class Wav2Vec2EncoderLayer(nn.Module):
    """A Transformer layer: post-norm (base) or pre-norm (stable_layer_norm, large)."""

    def __init__(self, config: Wav2Vec2Config, stable_layer_norm: bool) -> None:
        super().__init__()
        self.attention = Wav2Vec2Attention(config.hidden_size, config.num_attention_heads,
                                           config.attention_dropout)
        self.dropout = nn.Dropout(config.hidden_dropout)
        self.layer_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.feed_forward = Wav2Vec2FeedForward(config)
        self.final_layer_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.stable_layer_norm = stable_layer_norm

    def forward(self, x: Tensor, key_padding_mask: Tensor | None = None) -> Tensor:
        if self.stable_layer_norm:
            x = x + self.dropout(self.attention(self.layer_norm(x), key_padding_mask))
            return x + self.feed_forward(self.final_layer_norm(x))
        x = self.layer_norm(x + self.dropout(self.attention(x, key_padding_mask)))
        return self.final_layer_norm(x + self.feed_forward(x))


class Wav2Vec2Encoder(nn.Module):
    """Positional convolution, then the layers. Post-norm models normalise before the
    layers, pre-norm (stable layer norm) models after them. In training each layer is
    skipped with probability `layerdrop`."""

    def __init__(self, config: Wav2Vec2Config) -> None:
        super().__init__()
        self.stable_layer_norm = config.do_stable_layer_norm
        self.layerdrop = config.layerdrop
        self.pos_conv_embed = Wav2Vec2PositionalConvEmbedding(config)
        self.layer_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout)
        self.layers = nn.ModuleList([Wav2Vec2EncoderLayer(config, config.do_stable_layer_norm)
                                     for _ in range(config.num_hidden_layers)])

    def forward(self, x: Tensor, feature_mask: Tensor | None = None) -> Tensor:
        if feature_mask is not None:  # padded frames are zero going in
            x = x * feature_mask[..., None].to(x.dtype)
        x = x + self.pos_conv_embed(x)
        if not self.stable_layer_norm:
            x = self.layer_norm(x)
        x = self.dropout(x)
        for layer in self.layers:
            if self.training and self.layerdrop > 0 and \
                    float(taimatsu.rand(()).item()) < self.layerdrop:
                continue
            x = layer(x, feature_mask)
        if self.stable_layer_norm:
            x = self.layer_norm(x)
        return x


# -- models -------------------------------------------------------------------------------------

def _span_mask(batch: int, length: int, prob: float, span: int, min_masks: int) -> np.ndarray:
    """SpecAugment-style spans covering about `prob` of `length` per example (bool)."""
    mask = np.zeros((batch, length), dtype=bool)
    if length < span or prob <= 0:
        return mask
    for row in mask:
        count = int(prob * length / span + float(taimatsu.rand(()).item()))
        count = min(max(count, min_masks), length // span)
        if count == 0:
            continue
        starts = taimatsu.randperm(length - span + 1)[:count].numpy()
        for s in starts:
            row[s:s + span] = True
    return mask


class Wav2Vec2Model(nn.Module):
    """The wav2vec 2.0 encoder: forward(input_values (batch, time), attention_mask=None)
    -> (last_hidden_state (batch, frames, hidden), extract_features (batch, frames,
    conv_dim[-1])). attention_mask (batch, time) marks real (1) and padded (0) samples."""

    def __init__(self, config: Wav2Vec2Config) -> None:
        super().__init__()
        if config.add_adapter:
            raise ValueError("wav2vec2 configs with add_adapter=True are not supported")
        self.config = config
        self.feature_extractor = Wav2Vec2FeatureEncoder(config)
        self.feature_projection = Wav2Vec2FeatureProjection(config)
        if config.mask_time_prob > 0.0 or config.mask_feature_prob > 0.0:
            self.masked_spec_embed = nn.Parameter(taimatsu.empty(config.hidden_size).uniform_())
        self.encoder = Wav2Vec2Encoder(config)

    def feature_lengths(self, lengths: Tensor) -> Tensor:
        """Frames the feature encoder produces from `lengths` samples."""
        for kernel, stride in zip(self.config.conv_kernel, self.config.conv_stride):
            lengths = taimatsu.div(lengths - kernel, stride, rounding_mode="floor") + 1
        return lengths

    def _feature_mask(self, frames: int, attention_mask: Tensor) -> Tensor:
        lengths = self.feature_lengths(attention_mask.sum(-1).to(taimatsu.int64))
        positions = taimatsu.arange(frames, device=attention_mask.device)
        return positions[None, :] < lengths[:, None]

    def _mask_hidden_states(self, x: Tensor) -> Tensor:
        """SpecAugment on the projected features while training (apply_spec_augment)."""
        cfg = self.config
        if not (self.training and cfg.apply_spec_augment):
            return x
        b, t, h = x.shape
        if cfg.mask_time_prob > 0:
            spans = _span_mask(b, t, cfg.mask_time_prob, cfg.mask_time_length,
                               cfg.mask_time_min_masks)
            mask = taimatsu.from_numpy(spans).to(x.device)[..., None]
            x = taimatsu.where(mask, self.masked_spec_embed.to(x.dtype), x)
        if cfg.mask_feature_prob > 0:
            spans = _span_mask(b, h, cfg.mask_feature_prob, cfg.mask_feature_length,
                               cfg.mask_feature_min_masks)
            mask = taimatsu.from_numpy(spans).to(x.device)[:, None, :]
            x = taimatsu.where(mask, 0.0, x)
        return x

    def forward(self, input_values: Tensor, attention_mask: Tensor | None = None):
        features = self.feature_extractor(input_values).transpose(1, 2)
        feature_mask = None
        if attention_mask is not None:
            feature_mask = self._feature_mask(features.shape[1], attention_mask)
        hidden, features = self.feature_projection(features)
        hidden = self._mask_hidden_states(hidden)
        return self.encoder(hidden, feature_mask), features


class Wav2Vec2ForCTC(nn.Module):
    """wav2vec 2.0 with a linear CTC head: forward(input_values, attention_mask=None) ->
    logits (batch, frames, vocab_size). `labels` (the vocabulary in index order) is set
    when the model comes from a Hub repository with a vocab.json."""

    def __init__(self, config: Wav2Vec2Config) -> None:
        super().__init__()
        self.config = config
        self.wav2vec2 = Wav2Vec2Model(config)
        self.dropout = nn.Dropout(config.final_dropout)
        self.lm_head = nn.Linear(config.hidden_size, config.vocab_size)
        self.labels: tuple | None = None

    def freeze_feature_encoder(self) -> None:
        """Stops gradients into the convolutional feature encoder (fine-tuning)."""
        for p in self.wav2vec2.feature_extractor.parameters():
            p.requires_grad_(False)

    def forward(self, input_values: Tensor, attention_mask: Tensor | None = None) -> Tensor:
        hidden, _ = self.wav2vec2(input_values, attention_mask)
        return self.lm_head(self.dropout(hidden))

    def ctc_loss(self, logits: Tensor, targets: Tensor, input_lengths: Tensor,
                 target_lengths: Tensor) -> Tensor:
        """CTC loss of logits (batch, frames, vocab) with the config's blank (pad token),
        reduction and zero_infinity; input_lengths in samples."""
        log_probs = F.log_softmax(logits, dim=-1).transpose(0, 1)
        return F.ctc_loss(log_probs, targets, self.wav2vec2.feature_lengths(input_lengths),
                          target_lengths, blank=self.config.pad_token_id,
                          reduction=self.config.ctc_loss_reduction,
                          zero_infinity=self.config.ctc_zero_infinity)


def wav2vec2_base(vocab_size: int = 32, **config) -> Wav2Vec2ForCTC:
    """The base architecture (12 post-norm layers of 768, group-norm feature encoder) with
    a CTC head, as facebook/wav2vec2-base-960h; keyword arguments override the config."""
    return Wav2Vec2ForCTC(Wav2Vec2Config(vocab_size=vocab_size, **config))


def wav2vec2_large_lv60(vocab_size: int = 32, **config) -> Wav2Vec2ForCTC:
    """The large architecture (24 pre-norm layers of 1024, layer-norm feature encoder,
    conv bias) with a CTC head, as facebook/wav2vec2-large-960h-lv60-self."""
    large = dict(hidden_size=1024, num_hidden_layers=24, num_attention_heads=16,
                 intermediate_size=4096, feat_extract_norm="layer", conv_bias=True,
                 do_stable_layer_norm=True)
    return Wav2Vec2ForCTC(Wav2Vec2Config(vocab_size=vocab_size, **{**large, **config}))

