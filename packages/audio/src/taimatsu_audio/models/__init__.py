"""Audio models: M5 (raw-waveform keyword spotting), KWSNet (log-mel CNN / CNN-LSTM
keyword spotting), wav2vec 2.0 (Hugging Face parameter names) and a greedy CTC decoder."""

from .ctc_decoder import GreedyCTCDecoder
from .kws import KWSNet, kws_cnn, kws_cnn_lstm
from .m5 import M5, m5
from .wav2vec2 import (
    Wav2Vec2Config,
    Wav2Vec2ForCTC,
    Wav2Vec2Model,
    wav2vec2_base,
    wav2vec2_large_lv60,
)

__all__ = ["M5", "m5", "KWSNet", "kws_cnn", "kws_cnn_lstm", "Wav2Vec2Config", "Wav2Vec2Model",
           "Wav2Vec2ForCTC", "wav2vec2_base", "wav2vec2_large_lv60", "GreedyCTCDecoder"]
