"""GPT-2 (Radford et al., 2019) with Hugging Face's parameter names: GPT2Model and
GPT2LMHeadModel (output embeddings tied to the input's) with `generate()`.

GPT-2's projections are "Conv1D" layers: a Linear whose weight is stored transposed,
(in_features, out_features), as the published checkpoints hold it.
"""

from __future__ import annotations

import taimatsu
import taimatsu.nn.functional as F
from taimatsu import nn

from ._base import Config, ModelOutput, PreTrainedModel, activation
from .generation import GenerationMixin, causal_mask

__all__ = ["GPT2Config", "GPT2Model", "GPT2LMHeadModel", "Conv1D"]


class GPT2Config(Config):
    model_type = "gpt2"
    defaults = dict(vocab_size=50257, n_positions=1024, n_embd=768, n_layer=12, n_head=12,
                    n_inner=None, activation_function="gelu_new", resid_pdrop=0.1,
                    embd_pdrop=0.1, attn_pdrop=0.1, layer_norm_epsilon=1e-5,
                    initializer_range=0.02, scale_attn_weights=True,
                    scale_attn_by_inverse_layer_idx=False, bos_token_id=50256,
                    eos_token_id=50256, pad_token_id=None, tie_word_embeddings=True)
    aliases = {"hidden_size": "n_embd", "num_hidden_layers": "n_layer",
               "num_attention_heads": "n_head", "max_position_embeddings": "n_positions"}


class Conv1D(nn.Module):
    """y = x @ weight + bias with weight of shape (nx, nf) — GPT-2's transposed Linear."""

    def __init__(self, nf: int, nx: int):
        super().__init__()
        self.nf = nf
        self.weight = nn.Parameter(taimatsu.empty(nx, nf))
        self.bias = nn.Parameter(taimatsu.zeros(nf))
        nn.init.normal_(self.weight, std=0.02)

    def extra_repr(self) -> str:
        return f"nf={self.nf}, nx={self.weight.shape[0]}"

    def forward(self, x):
        return F.linear(x, self.weight.T, self.bias)


class GPT2Attention(nn.Module):
    def __init__(self, config: GPT2Config, layer_idx: int):
        super().__init__()
        self.embed_dim = config.n_embd
        self.num_heads = config.n_head
        self.head_dim = self.embed_dim // self.num_heads
        if self.head_dim * self.num_heads != self.embed_dim:
            raise ValueError(f"`embed_dim` must be divisible by num_heads (got `embed_dim`: "
                             f"{self.embed_dim} and `num_heads`: {self.num_heads}).")
        self.scale = (self.head_dim ** -0.5 if config.scale_attn_weights else 1.0)
        if config.scale_attn_by_inverse_layer_idx:
            self.scale /= float(layer_idx + 1)
        self.c_attn = Conv1D(3 * self.embed_dim, self.embed_dim)
        self.c_proj = Conv1D(self.embed_dim, self.embed_dim)
        self.attn_dropout = nn.Dropout(config.attn_pdrop)
        self.resid_dropout = nn.Dropout(config.resid_pdrop)

    def _heads(self, x):
        b, s, _ = x.shape
        return x.view(b, s, self.num_heads, self.head_dim).transpose(1, 2)

    def forward(self, hidden, mask=None, is_causal=False, past=None):
        q, k, v = self.c_attn(hidden).split(self.embed_dim, dim=2)
        q, k, v = self._heads(q), self._heads(k), self._heads(v)
        if past is not None:
            k = taimatsu.cat([past[0], k], dim=2)
            v = taimatsu.cat([past[1], v], dim=2)
        out = F.scaled_dot_product_attention(
            q, k, v, attn_mask=mask, is_causal=is_causal, scale=self.scale,
            dropout_p=self.attn_dropout.p if self.training else 0.0)
        b, _, s, _ = out.shape
        out = self.resid_dropout(self.c_proj(out.transpose(1, 2).reshape(b, s, self.embed_dim)))
        return out, (k, v)


class GPT2MLP(nn.Module):
    def __init__(self, inner: int, config: GPT2Config):
        super().__init__()
        self.c_fc = Conv1D(inner, config.n_embd)
        self.c_proj = Conv1D(config.n_embd, inner)
        self.act = activation(config.activation_function)
        self.dropout = nn.Dropout(config.resid_pdrop)

    def forward(self, hidden):
        return self.dropout(self.c_proj(self.act(self.c_fc(hidden))))


class GPT2Block(nn.Module):
    def __init__(self, config: GPT2Config, layer_idx: int):
        super().__init__()
        inner = config.n_inner if config.n_inner is not None else 4 * config.n_embd
        self.ln_1 = nn.LayerNorm(config.n_embd, eps=config.layer_norm_epsilon)
        self.attn = GPT2Attention(config, layer_idx)
        self.ln_2 = nn.LayerNorm(config.n_embd, eps=config.layer_norm_epsilon)
        self.mlp = GPT2MLP(inner, config)

    def forward(self, hidden, mask=None, is_causal=False, past=None):
        attended, present = self.attn(self.ln_1(hidden), mask, is_causal, past)
        hidden = hidden + attended
        return hidden + self.mlp(self.ln_2(hidden)), present


class GPT2PreTrainedModel(PreTrainedModel):
    config_class = GPT2Config
    base_model_prefix = "transformer"
    # the causal-mask buffers old checkpoints carry ("h.0.attn.bias", not "c_attn.bias")
    _ignored_checkpoint_keys = (r"(^|\.)attn\.masked_bias$", r"(^|\.)attn\.bias$")


class GPT2Model(GPT2PreTrainedModel):
    """GPT-2's decoder stack.

    forward(input_ids, attention_mask=None, position_ids=None, past_key_values=None,
    use_cache=False, output_hidden_states=False) -> ModelOutput(last_hidden_state,
    past_key_values, hidden_states)
    """

    def __init__(self, config: GPT2Config):
        super().__init__(config)
        self.wte = nn.Embedding(config.vocab_size, config.n_embd)
        self.wpe = nn.Embedding(config.n_positions, config.n_embd)
        self.drop = nn.Dropout(config.embd_pdrop)
        self.h = nn.ModuleList(GPT2Block(config, i) for i in range(config.n_layer))
        self.ln_f = nn.LayerNorm(config.n_embd, eps=config.layer_norm_epsilon)
        with taimatsu.no_grad():
            self.wte.weight.normal_(0.0, config.initializer_range)
            self.wpe.weight.normal_(0.0, config.initializer_range)

    def get_input_embeddings(self):
        return self.wte

    def forward(self, input_ids, attention_mask=None, position_ids=None, past_key_values=None,
                use_cache: bool = False, output_hidden_states: bool = False) -> ModelOutput:
        b, s = input_ids.shape
        past_len = 0 if past_key_values is None else past_key_values[0][0].shape[2]
        if position_ids is None:
            position_ids = taimatsu.arange(past_len, past_len + s, device=input_ids.device)[None]
        hidden = self.drop(self.wte(input_ids) + self.wpe(position_ids))
        mask = causal_mask(attention_mask, s, past_len, input_ids.device) \
            if attention_mask is not None or past_len else None
        # no padding and no cache: torch's fused causal path
        is_causal = mask is None and attention_mask is None and past_len == 0 and s > 1
        presents = [] if use_cache else None
        states = [] if output_hidden_states else None
        for i, block in enumerate(self.h):
            if states is not None:
                states.append(hidden)
            hidden, present = block(hidden, mask, is_causal,
                                    None if past_key_values is None else past_key_values[i])
            if presents is not None:
                presents.append(present)
        hidden = self.ln_f(hidden)
        if states is not None:
            states.append(hidden)
        return ModelOutput(last_hidden_state=hidden,
                           past_key_values=tuple(presents) if presents is not None else None,
                           hidden_states=tuple(states) if states is not None else None)


class GPT2LMHeadModel(GPT2PreTrainedModel, GenerationMixin):
    """GPT-2 with its language-model head (tied to `transformer.wte`).

    forward(input_ids, attention_mask=None, position_ids=None, past_key_values=None,
    use_cache=False, labels=None) -> ModelOutput(loss, logits, past_key_values); labels are
    the input ids (shifted inside), -100 ignored.
    """

    _tied_weights = {"lm_head.weight": "transformer.wte.weight"}

    def __init__(self, config: GPT2Config):
        super().__init__(config)
        self.transformer = GPT2Model(config)
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.lm_head.weight = self.transformer.wte.weight

    def forward(self, input_ids, attention_mask=None, position_ids=None, past_key_values=None,
                use_cache: bool = False, labels=None,
                output_hidden_states: bool = False) -> ModelOutput:
        out = self.transformer(input_ids, attention_mask, position_ids, past_key_values,
                               use_cache, output_hidden_states)
        logits = self.lm_head(out.last_hidden_state)
        return ModelOutput(loss=causal_lm_loss(logits, labels), logits=logits,
                           past_key_values=out.past_key_values,
                           hidden_states=out.hidden_states)


def causal_lm_loss(logits, labels):
    """Next-token cross-entropy: position t predicts labels[t + 1]; -100 is ignored."""
    if labels is None:
        return None
    shifted = logits[:, :-1].reshape(-1, logits.shape[-1])
    return F.cross_entropy(shifted.float(), labels[:, 1:].reshape(-1), ignore_index=-100)
