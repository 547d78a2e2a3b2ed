"""Greedy (best-path) CTC decoding."""

from __future__ import annotations

import numpy as np

from taimatsu import Tensor, nn

__all__ = ["GreedyCTCDecoder"]


class GreedyCTCDecoder(nn.Module):
    """Best-path CTC decoding: the most likely label per frame, repeats merged, blanks
    dropped.

    Args:
        labels: the label of each class index (e.g. a wav2vec2 model's `labels`)
        blank: the blank's index
        word_delimiter: a label that stands for a space between words (wav2vec2's "|"),
            or None
    Shape: emission (time, classes) -> str; (batch, time, classes) -> list[str]
    """

    def __init__(self, labels, blank: int = 0, word_delimiter: str | None = "|") -> None:
        super().__init__()
        self.labels = list(labels)
        self.blank = blank
        self.word_delimiter = word_delimiter

    def _decode(self, best: np.ndarray) -> str:
        keep = np.ones(len(best), dtype=bool)
        keep[1:] = best[1:] != best[:-1]
        tokens = [self.labels[i] for i in best[keep] if i != self.blank]
        text = "".join(tokens)
        if self.word_delimiter:
            text = " ".join(text.replace(self.word_delimiter, " ").split())
        return text

    def forward(self, emission: Tensor):
        best = emission.detach().argmax(dim=-1).cpu().numpy()
        if best.ndim == 1:
            return self._decode(best)
        return [self._decode(row) for row in best]
