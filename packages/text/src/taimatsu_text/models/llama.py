"""A Llama-style decoder with Hugging Face's LlamaForCausalLM parameter names: RMSNorm,
rotary position embeddings (rope_theta, linear or llama3 scaling), grouped-query attention
and a SwiGLU MLP, with `generate()`.
"""

from __future__ import annotations

import math

import numpy as np

import taimatsu
import taimatsu.nn.functional as F
from taimatsu import nn

from ._base import Config, ModelOutput, PreTrainedModel, activation
from .generation import GenerationMixin, causal_mask
from .gpt2 import causal_lm_loss

__all__ = ["LlamaConfig", "LlamaModel", "LlamaForCausalLM", "rotary_inv_freq"]


class LlamaConfig(Config):
    model_type = "llama"
    defaults = dict(vocab_size=32000, hidden_size=4096, intermediate_size=11008,
                    num_hidden_layers=32, num_attention_heads=32, num_key_value_heads=None,
                    head_dim=None, hidden_act="silu", max_position_embeddings=2048,
                    initializer_range=0.02, rms_norm_eps=1e-6, rope_theta=10000.0,
                    rope_scaling=None, attention_bias=False, attention_dropout=0.0,
                    mlp_bias=False, tie_word_embeddings=False, bos_token_id=1,
                    eos_token_id=2, pad_token_id=None)

    def __init__(self, **kwargs):
        # transformers 5 writes the rotary settings as one "rope_parameters" dict
        rope = kwargs.get("rope_parameters")
        if rope:
            kwargs.setdefault("rope_theta", rope.get("rope_theta", 10000.0))
            if rope.get("rope_type", "default") != "default":
                kwargs.setdefault("rope_scaling", rope)
        super().__init__(**kwargs)
        if self.num_key_value_heads is None:
            self.num_key_value_heads = self.num_attention_heads
        if self.head_dim is None:
            self.head_dim = self.hidden_size // self.num_attention_heads


def rotary_inv_freq(config: LlamaConfig) -> np.ndarray:
    """The rotary frequencies (float32, head_dim / 2), with the config's rope scaling."""
    dim = config.head_dim
    inv = (1.0 / (np.float32(config.rope_theta)
                  ** (np.arange(0, dim, 2, dtype=np.int64).astype(np.float32) / dim)))
    inv = inv.astype(np.float32)
    scaling = config.rope_scaling or {}
    kind = scaling.get("rope_type", scaling.get("type", "default"))
    if kind == "default":
        return inv
    if kind == "linear":
        return (inv / np.float32(scaling["factor"])).astype(np.float32)
    if kind == "llama3":
        factor = scaling["factor"]
        low, high = scaling["low_freq_factor"], scaling["high_freq_factor"]
        old_len = scaling["original_max_position_embeddings"]
        low_wavelen, high_wavelen = old_len / low, old_len / high
        wavelen = 2 * math.pi / inv
        scaled = np.where(wavelen > low_wavelen, inv / factor, inv)
        smooth = (old_len / wavelen - low) / (high - low)
        smoothed = (1 - smooth) * scaled / factor + smooth * scaled
        medium = ~(wavelen < high_wavelen) & ~(wavelen > low_wavelen)
        return np.where(medium, smoothed, scaled).astype(np.float32)
    raise ValueError(f"rope scaling type {kind!r} is not supported (default, linear, llama3)")


class LlamaRotaryEmbedding(nn.Module):
    """cos and sin of position * frequency, per position id (no parameters)."""

    def __init__(self, config: LlamaConfig):
        super().__init__()
        self.inv_freq = rotary_inv_freq(config)

    def forward(self, position_ids, dtype):
        pos = position_ids.cpu().numpy().astype(np.float32)
        freqs = pos[..., None] * self.inv_freq  # (batch, seq, head_dim / 2)
        emb = np.concatenate([freqs, freqs], axis=-1)
        cos = taimatsu.from_numpy(np.cos(emb)).to(position_ids.device, dtype)
        sin = taimatsu.from_numpy(np.sin(emb)).to(position_ids.device, dtype)
        return cos, sin


def rotate_half(x):
    half = x.shape[-1] // 2
    return taimatsu.cat([-x[..., half:], x[..., :half]], dim=-1)


def apply_rotary(q, k, cos, sin):
    """Rotates (batch, heads, seq, head_dim) queries and keys by their positions."""
    cos, sin = cos[:, None], sin[:, None]
    return q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin


class LlamaRMSNorm(nn.Module):
    def __init__(self, hidden_size: int, eps: float = 1e-6):
        super().__init__()
        self.weight = nn.Parameter(taimatsu.ones(hidden_size))
        self.variance_epsilon = eps

    def extra_repr(self) -> str:
        return f"{tuple(self.weight.shape)}, eps={self.variance_epsilon}"

    def forward(self, x):
        return F.rms_norm(x, (x.shape[-1],), self.weight, self.variance_epsilon)


class LlamaAttention(nn.Module):
    def __init__(self, config: LlamaConfig):
        super().__init__()
        self.num_heads = config.num_attention_heads
        self.num_key_value_heads = config.num_key_value_heads
        self.head_dim = config.head_dim
        if self.num_heads % self.num_key_value_heads:
            raise ValueError(f"num_attention_heads ({self.num_heads}) must be a multiple of "
                             f"num_key_value_heads ({self.num_key_value_heads})")
        h, bias = config.hidden_size, config.attention_bias
        self.q_proj = nn.Linear(h, self.num_heads * self.head_dim, bias=bias)
        self.k_proj = nn.Linear(h, self.num_key_value_heads * self.head_dim, bias=bias)
        self.v_proj = nn.Linear(h, self.num_key_value_heads * self.head_dim, bias=bias)
        self.o_proj = nn.Linear(self.num_heads * self.head_dim, h, bias=bias)
        self.attention_dropout = config.attention_dropout

    def forward(self, hidden, cos, sin, mask=None, is_causal=False, past=None):
        b, s, _ = hidden.shape
        q = self.q_proj(hidden).view(b, s, self.num_heads, self.head_dim).transpose(1, 2)
        k = self.k_proj(hidden).view(b, s, self.num_key_value_heads, self.head_dim)
        v = self.v_proj(hidden).view(b, s, self.num_key_value_heads, self.head_dim)
        q, k = apply_rotary(q, k.transpose(1, 2), cos, sin)
        v = v.transpose(1, 2)
        if past is not None:
            k = taimatsu.cat([past[0], k], dim=2)
            v = taimatsu.cat([past[1], v], dim=2)
        out = F.scaled_dot_product_attention(
            q, k, v, attn_mask=mask, is_causal=is_causal,
            dropout_p=self.attention_dropout if self.training else 0.0,
            enable_gqa=self.num_key_value_heads != self.num_heads)
        out = out.transpose(1, 2).reshape(b, s, self.num_heads * self.head_dim)
        return self.o_proj(out), (k, v)


class LlamaMLP(nn.Module):
    """SwiGLU: down(act(gate(x)) * up(x))."""

    def __init__(self, config: LlamaConfig):
        super().__init__()
        h, i, bias = config.hidden_size, config.intermediate_size, config.mlp_bias
        self.gate_proj = nn.Linear(h, i, bias=bias)
        self.up_proj = nn.Linear(h, i, bias=bias)
        self.down_proj = nn.Linear(i, h, bias=bias)
        self.act_fn = activation(config.hidden_act)

    def forward(self, x):
        return self.down_proj(self.act_fn(self.gate_proj(x)) * self.up_proj(x))


class LlamaDecoderLayer(nn.Module):
    def __init__(self, config: LlamaConfig):
        super().__init__()
        self.self_attn = LlamaAttention(config)
        self.mlp = LlamaMLP(config)
        self.input_layernorm = LlamaRMSNorm(config.hidden_size, config.rms_norm_eps)
        self.post_attention_layernorm = LlamaRMSNorm(config.hidden_size, config.rms_norm_eps)

    def forward(self, hidden, cos, sin, mask=None, is_causal=False, past=None):
        attended, present = self.self_attn(self.input_layernorm(hidden), cos, sin, mask,
                                           is_causal, past)
        hidden = hidden + attended
        return hidden + self.mlp(self.post_attention_layernorm(hidden)), present


class LlamaPreTrainedModel(PreTrainedModel):
    config_class = LlamaConfig
    base_model_prefix = "model"
    _ignored_checkpoint_keys = (r"rotary_emb\.inv_freq$",)

    def _init_weights(self):
        std = self.config.initializer_range
        with taimatsu.no_grad():
            for m in self.modules():
                if isinstance(m, (nn.Linear, nn.Embedding)):
                    m.weight.normal_(0.0, std)
                    if isinstance(m, nn.Linear) and m.bias is not None:
                        m.bias.zero_()


class LlamaModel(LlamaPreTrainedModel):
    """The Llama decoder stack.

    forward(input_ids, attention_mask=None, position_ids=None, past_key_values=None,
    use_cache=False, output_hidden_states=False) -> ModelOutput(last_hidden_state,
    past_key_values, hidden_states)
    """

    def __init__(self, config: LlamaConfig):
        super().__init__(config)
        self.embed_tokens = nn.Embedding(config.vocab_size, config.hidden_size,
                                         padding_idx=config.pad_token_id)
        self.layers = nn.ModuleList(LlamaDecoderLayer(config)
                                    for _ in range(config.num_hidden_layers))
        self.norm = LlamaRMSNorm(config.hidden_size, config.rms_norm_eps)
        self.rotary_emb = LlamaRotaryEmbedding(config)
        self._init_weights()

    def get_input_embeddings(self):
        return self.embed_tokens

    def forward(self, input_ids, attention_mask=None, position_ids=None, past_key_values=None,
                use_cache: bool = False, output_hidden_states: bool = False) -> ModelOutput:
        b, s = input_ids.shape
        past_len = 0 if past_key_values is None else past_key_values[0][0].shape[2]
        if position_ids is None:
            position_ids = taimatsu.arange(past_len, past_len + s, device=input_ids.device)[None]
        hidden = self.embed_tokens(input_ids)
        cos, sin = self.rotary_emb(position_ids, hidden.dtype)
        mask = causal_mask(attention_mask, s, past_len, input_ids.device) \
            if attention_mask is not None or past_len else None
        is_causal = mask is None and attention_mask is None and past_len == 0 and s > 1
        presents = [] if use_cache else None
        states = [] if output_hidden_states else None
        for i, layer in enumerate(self.layers):
            if states is not None:
                states.append(hidden)
            hidden, present = layer(hidden, cos, sin, mask, is_causal,
                                    None if past_key_values is None else past_key_values[i])
            if presents is not None:
                presents.append(present)
        hidden = self.norm(hidden)
        if states is not None:
            states.append(hidden)
        return ModelOutput(last_hidden_state=hidden,
                           past_key_values=tuple(presents) if presents is not None else None,
                           hidden_states=tuple(states) if states is not None else None)


class LlamaForCausalLM(LlamaPreTrainedModel, GenerationMixin):
    """The Llama decoder with its language-model head (tied to the embeddings when the
    config says tie_word_embeddings)."""

    def __init__(self, config: LlamaConfig):
        super().__init__(config)
        self.model = LlamaModel(config)
        self.lm_head = nn.Linear(config.hidden_size, config.vocab_size, bias=False)
        self._init_weights()
        if config.tie_word_embeddings:
            self.lm_head.weight = self.model.embed_tokens.weight
            self._tied_weights = {"lm_head.weight": "model.embed_tokens.weight"}

    def forward(self, input_ids, attention_mask=None, position_ids=None, past_key_values=None,
                use_cache: bool = False, labels=None,
                output_hidden_states: bool = False) -> ModelOutput:
        out = self.model(input_ids, attention_mask, position_ids, past_key_values, use_cache,
                         output_hidden_states)
        logits = self.lm_head(out.last_hidden_state)
        return ModelOutput(loss=causal_lm_loss(logits, labels), logits=logits,
                           past_key_values=out.past_key_values,
                           hidden_states=out.hidden_states)
