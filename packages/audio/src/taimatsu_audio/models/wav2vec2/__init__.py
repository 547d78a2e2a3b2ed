"""wav2vec 2.0 with Hugging Face's parameter names."""

from .hub import hub_load, load_labels
from .model import (
    Wav2Vec2Config,
    Wav2Vec2ForCTC,
    Wav2Vec2Model,
    wav2vec2_base,
    wav2vec2_large_lv60,
)

__all__ = ["Wav2Vec2Config", "Wav2Vec2Model", "Wav2Vec2ForCTC", "wav2vec2_base",
           "wav2vec2_large_lv60", "hub_load", "load_labels"]
