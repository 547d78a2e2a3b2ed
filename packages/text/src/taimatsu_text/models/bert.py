"""BERT (Devlin et al., 2019) with Hugging Face's parameter names, so BERT checkpoints
(bert-base-uncased, sentence-transformers' MiniLM, ...) load unchanged.

BertModel, BertForMaskedLM and BertForSequenceClassification. Attention runs through
`nn.functional.scaled_dot_product_attention` with the padding mask.
"""

from __future__ import annotations

import taimatsu
import taimatsu.nn.functional as F
from taimatsu import nn

from ._base import Config, ModelOutput, PreTrainedModel, activation

__all__ = ["BertConfig", "BertModel", "BertForMaskedLM", "BertForSequenceClassification",
           "padding_mask"]


class BertConfig(Config):
    model_type = "bert"
    defaults = dict(vocab_size=30522, hidden_size=768, num_hidden_layers=12,
                    num_attention_heads=12, intermediate_size=3072, hidden_act="gelu",
                    hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1,
                    max_position_embeddings=512, type_vocab_size=2, initializer_range=0.02,
                    layer_norm_eps=1e-12, pad_token_id=0,
                    position_embedding_type="absolute", classifier_dropout=None,
                    num_labels=2, problem_type=None)

    def __init__(self, **kwargs):
        if "id2label" in kwargs and "num_labels" not in kwargs:
            kwargs["num_labels"] = len(kwargs["id2label"])
        super().__init__(**kwargs)
        if self.position_embedding_type != "absolute":
            raise ValueError(f"position_embedding_type {self.position_embedding_type!r} is not "
                             f"supported (only 'absolute')")


def padding_mask(attention_mask):
    """A (batch, keys) 1/0 padding mask as a (batch, 1, 1, keys) "may attend" boolean mask."""
    if attention_mask is None:
        return None
    mask = attention_mask if attention_mask.dtype is taimatsu.bool else attention_mask != 0
    return mask[:, None, None, :]


class BertEmbeddings(nn.Module):
    def __init__(self, config: BertConfig):
        super().__init__()
        self.word_embeddings = nn.Embedding(config.vocab_size, config.hidden_size,
                                            padding_idx=config.pad_token_id)
        self.position_embeddings = nn.Embedding(config.max_position_embeddings,
                                                config.hidden_size)
        self.token_type_embeddings = nn.Embedding(config.type_vocab_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, input_ids, token_type_ids=None, position_ids=None):
        seq = input_ids.shape[1]
        if position_ids is None:
            position_ids = taimatsu.arange(seq, device=input_ids.device)[None]
        if token_type_ids is None:
            token_type_ids = taimatsu.zeros_like(input_ids)
        x = (self.word_embeddings(input_ids) + self.token_type_embeddings(token_type_ids)
             + self.position_embeddings(position_ids))
        return self.dropout(self.LayerNorm(x))


class BertSelfAttention(nn.Module):
    def __init__(self, config: BertConfig):
        super().__init__()
        if config.hidden_size % config.num_attention_heads:
            raise ValueError(f"The hidden size ({config.hidden_size}) is not a multiple of the "
                             f"number of attention heads ({config.num_attention_heads})")
        self.num_attention_heads = config.num_attention_heads
        self.attention_head_size = config.hidden_size // config.num_attention_heads
        self.query = nn.Linear(config.hidden_size, config.hidden_size)
        self.key = nn.Linear(config.hidden_size, config.hidden_size)
        self.value = nn.Linear(config.hidden_size, config.hidden_size)
        self.dropout_p = config.attention_probs_dropout_prob

    def _heads(self, x):
        b, s, _ = x.shape
        return x.view(b, s, self.num_attention_heads, self.attention_head_size).transpose(1, 2)

    def forward(self, hidden, mask=None):
        q, k, v = (self._heads(self.query(hidden)), self._heads(self.key(hidden)),
                   self._heads(self.value(hidden)))
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask,
                                             dropout_p=self.dropout_p if self.training else 0.0)
        b, _, s, _ = out.shape
        return out.transpose(1, 2).reshape(b, s, -1)


class BertSelfOutput(nn.Module):
    def __init__(self, config: BertConfig):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, hidden, residual):
        return self.LayerNorm(self.dropout(self.dense(hidden)) + residual)


class BertAttention(nn.Module):
    def __init__(self, config: BertConfig):
        super().__init__()
        self.self = BertSelfAttention(config)
        self.output = BertSelfOutput(config)

    def forward(self, hidden, mask=None):
        return self.output(self.self(hidden, mask), hidden)


class BertIntermediate(nn.Module):
    def __init__(self, config: BertConfig):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.intermediate_size)
        self.intermediate_act_fn = activation(config.hidden_act)

    def forward(self, hidden):
        return self.intermediate_act_fn(self.dense(hidden))


class BertOutput(nn.Module):
    def __init__(self, config: BertConfig):
        super().__init__()
        self.dense = nn.Linear(config.intermediate_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, hidden, residual):
        return self.LayerNorm(self.dropout(self.dense(hidden)) + residual)


class BertLayer(nn.Module):
    def __init__(self, config: BertConfig):
        super().__init__()
        self.attention = BertAttention(config)
        self.intermediate = BertIntermediate(config)
        self.output = BertOutput(config)

    def forward(self, hidden, mask=None):
        attended = self.attention(hidden, mask)
        return self.output(self.intermediate(attended), attended)


class BertEncoder(nn.Module):
    def __init__(self, config: BertConfig):
        super().__init__()
        self.layer = nn.ModuleList(BertLayer(config) for _ in range(config.num_hidden_layers))

    def forward(self, hidden, mask=None, output_hidden_states=False):
        states = [hidden] if output_hidden_states else None
        for layer in self.layer:
            hidden = layer(hidden, mask)
            if states is not None:
                states.append(hidden)
        return hidden, states


class BertPooler(nn.Module):
    def __init__(self, config: BertConfig):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)

    def forward(self, hidden):
        return taimatsu.tanh(self.dense(hidden[:, 0]))


class BertPreTrainedModel(PreTrainedModel):
    config_class = BertConfig
    base_model_prefix = "bert"
    _ignored_checkpoint_keys = (r"embeddings\.position_ids$",)

    def _init_weights(self):
        """BERT's initialization: normal(0, initializer_range) weights, zero biases."""
        std = self.config.initializer_range
        with taimatsu.no_grad():
            for m in self.modules():
                if isinstance(m, (nn.Linear, nn.Embedding)):
                    m.weight.normal_(0.0, std)
                    if isinstance(m, nn.Linear) and m.bias is not None:
                        m.bias.zero_()
                    if isinstance(m, nn.Embedding) and m.padding_idx is not None:
                        m.weight[m.padding_idx].zero_()
                elif isinstance(m, nn.LayerNorm):
                    m.weight.fill_(1.0)
                    m.bias.zero_()


class BertModel(BertPreTrainedModel):
    """The BERT encoder: embeddings, `num_hidden_layers` Transformer layers, a pooler.

    forward(input_ids, attention_mask=None, token_type_ids=None, position_ids=None,
    output_hidden_states=False) -> ModelOutput(last_hidden_state, pooler_output,
    hidden_states)
    """

    def __init__(self, config: BertConfig, add_pooling_layer: bool = True):
        super().__init__(config)
        self.embeddings = BertEmbeddings(config)
        self.encoder = BertEncoder(config)
        self.pooler = BertPooler(config) if add_pooling_layer else None
        self._init_weights()

    def get_input_embeddings(self):
        return self.embeddings.word_embeddings

    def forward(self, input_ids, attention_mask=None, token_type_ids=None, position_ids=None,
                output_hidden_states: bool = False) -> ModelOutput:
        if input_ids.ndim == 1:
            raise ValueError(f"input_ids must be (batch, sequence), got shape "
                             f"{tuple(input_ids.shape)}")
        hidden = self.embeddings(input_ids, token_type_ids, position_ids)
        mask = padding_mask(attention_mask)
        hidden, states = self.encoder(hidden, mask, output_hidden_states)
        pooled = self.pooler(hidden) if self.pooler is not None else None
        return ModelOutput(last_hidden_state=hidden, pooler_output=pooled,
                           hidden_states=tuple(states) if states is not None else None)


class BertPredictionHeadTransform(nn.Module):
    def __init__(self, config: BertConfig):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.transform_act_fn = activation(config.hidden_act)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)

    def forward(self, hidden):
        return self.LayerNorm(self.transform_act_fn(self.dense(hidden)))


class BertLMPredictionHead(nn.Module):
    def __init__(self, config: BertConfig, embeddings: nn.Embedding):
        super().__init__()
        self.transform = BertPredictionHeadTransform(config)
        self.decoder = nn.Linear(config.hidden_size, config.vocab_size)
        self.decoder.weight = embeddings.weight  # tied to the input embeddings
        self.bias = nn.Parameter(taimatsu.zeros(config.vocab_size))
        self.decoder.bias = self.bias

    def forward(self, hidden):
        return self.decoder(self.transform(hidden))


class BertOnlyMLMHead(nn.Module):
    def __init__(self, config: BertConfig, embeddings: nn.Embedding):
        super().__init__()
        self.predictions = BertLMPredictionHead(config, embeddings)

    def forward(self, hidden):
        return self.predictions(hidden)


class BertForMaskedLM(BertPreTrainedModel):
    """BERT with its masked-language-model head (output embeddings tied to the input's).

    forward(input_ids, attention_mask=None, token_type_ids=None, labels=None) ->
    ModelOutput(loss, logits); labels of -100 are ignored.
    """

    _tied_weights = {"cls.predictions.decoder.weight": "bert.embeddings.word_embeddings.weight",
                     "cls.predictions.decoder.bias": "cls.predictions.bias"}

    def __init__(self, config: BertConfig):
        super().__init__(config)
        self.bert = BertModel(config, add_pooling_layer=False)
        self.cls = BertOnlyMLMHead(config, self.bert.embeddings.word_embeddings)
        self._init_weights()

    def forward(self, input_ids, attention_mask=None, token_type_ids=None, position_ids=None,
                labels=None, output_hidden_states: bool = False) -> ModelOutput:
        out = self.bert(input_ids, attention_mask, token_type_ids, position_ids,
                        output_hidden_states)
        logits = self.cls(out.last_hidden_state)
        loss = None
        if labels is not None:
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1),
                                   ignore_index=-100)
        return ModelOutput(loss=loss, logits=logits, hidden_states=out.hidden_states)


class BertForSequenceClassification(BertPreTrainedModel):
    """BERT with a linear classifier on the pooled [CLS] output.

    forward(input_ids, attention_mask=None, token_type_ids=None, labels=None) ->
    ModelOutput(loss, logits): cross-entropy for integer labels, mean squared error when
    num_labels == 1 (regression), binary cross-entropy for float multi-label targets.
    """

    def __init__(self, config: BertConfig):
        super().__init__(config)
        self.num_labels = config.num_labels
        self.bert = BertModel(config)
        p = config.classifier_dropout if config.classifier_dropout is not None \
            else config.hidden_dropout_prob
        self.dropout = nn.Dropout(p)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self._init_weights()

    def forward(self, input_ids, attention_mask=None, token_type_ids=None, position_ids=None,
                labels=None, output_hidden_states: bool = False) -> ModelOutput:
        out = self.bert(input_ids, attention_mask, token_type_ids, position_ids,
                        output_hidden_states)
        logits = self.classifier(self.dropout(out.pooler_output))
        loss = None
        if labels is not None:
            if self.num_labels == 1:
                loss = F.mse_loss(logits.squeeze(-1), labels.to(logits.dtype))
            elif labels.is_floating_point():
                loss = F.binary_cross_entropy_with_logits(logits, labels)
            else:
                loss = F.cross_entropy(logits, labels)
        return ModelOutput(loss=loss, logits=logits, hidden_states=out.hidden_states)

