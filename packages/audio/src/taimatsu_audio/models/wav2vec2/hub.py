"""Hugging Face wav2vec2 repositories: config.json -> our model, checkpoint -> weights, and
vocab.json -> the CTC labels. Answers taimatsu_hub_load for model_type "wav2vec2"."""

from __future__ import annotations

import json
import os

from .model import Wav2Vec2Config, Wav2Vec2ForCTC, Wav2Vec2Model

__all__ = ["hub_load", "load_labels"]

# architectures whose checkpoint holds the encoder under "wav2vec2." (heads we do not
# build, such as the pre-training quantizer, are dropped)
_ENCODER_ONLY = ("Wav2Vec2Model", "Wav2Vec2ForPreTraining")


def load_labels(folder) -> tuple | None:
    """The CTC vocabulary of a repository folder in index order (from vocab.json)."""
    path = os.path.join(folder, "vocab.json")
    if not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8") as f:
        vocab = json.load(f)
    if vocab and all(isinstance(v, dict) for v in vocab.values()):  # {lang: {token: id}}
        vocab = next(iter(vocab.values()))
    labels = [None] * len(vocab)
    for token, index in vocab.items():
        if not 0 <= index < len(labels):
            raise ValueError(f"{path}: token {token!r} has index {index} outside the vocabulary")
        labels[index] = token
    return tuple(labels)


def hub_load(source: str, config: dict):
    """The model of a Hub folder whose config.json is a transformers wav2vec2 config, with
    its weights loaded strictly; None for other configs."""
    if config.get("model_type") != "wav2vec2":
        return None
    from taimatsu_hub._checkpoint import load_folder_state_dict

    cfg = Wav2Vec2Config.from_dict(config)
    architectures = config.get("architectures") or ["Wav2Vec2ForCTC"]
    state = load_folder_state_dict(source)
    if architectures[0] in _ENCODER_ONLY or "lm_head.weight" not in state:
        model = Wav2Vec2Model(cfg)
        prefix = "wav2vec2."
        wanted = set(model.state_dict()) | {"encoder.pos_conv_embed.conv.weight_g",
                                            "encoder.pos_conv_embed.conv.weight_v"}
        state = {k[len(prefix):] if k.startswith(prefix) else k: v for k, v in state.items()}
        state = {k: v for k, v in state.items() if k in wanted}
        model.load_state_dict(state)
        return model.eval()
    model = Wav2Vec2ForCTC(cfg)
    model.load_state_dict(state)
    model.labels = load_labels(source)
    return model.eval()
