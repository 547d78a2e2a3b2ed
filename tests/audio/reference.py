"""Independent references shared by the audio tests: test tones, and mel filter banks
written from the published HTK and Slaney definitions (one bin and filter at a time)."""

import math

import numpy as np

import taimatsu as tm


def tone(freq, sr=16000, seconds=1.0, dtype=np.float64):
    t = np.arange(int(sr * seconds)) / sr
    return tm.tensor(np.sin(2 * np.pi * freq * t).astype(dtype))


def hz_to_mel(f, scale):
    if scale == "htk":
        return 2595.0 * math.log10(1 + f / 700.0)
    return f * 3 / 200 if f < 1000 else 15 + math.log(f / 1000) * 27 / math.log(6.4)


def mel_to_hz(m, scale):
    if scale == "htk":
        return 700.0 * (10 ** (m / 2595.0) - 1)
    return m * 200 / 3 if m < 15 else 1000 * math.exp((m - 15) * math.log(6.4) / 27)


def reference_fbanks(n_freqs, f_min, f_max, n_mels, sr, norm=None, scale="htk"):
    """Triangles between consecutive mel-spaced edges, one bin frequency at a time."""
    lo, hi = hz_to_mel(f_min, scale), hz_to_mel(f_max, scale)
    edges = [mel_to_hz(lo + (hi - lo) * i / (n_mels + 1), scale) for i in range(n_mels + 2)]
    fb = np.zeros((n_freqs, n_mels))
    for k in range(n_freqs):
        f = k * (sr // 2) / (n_freqs - 1)
        for m in range(n_mels):
            left, centre, right = edges[m], edges[m + 1], edges[m + 2]
            if left <= f <= centre:
                fb[k, m] = (f - left) / (centre - left)
            elif centre < f <= right:
                fb[k, m] = (right - f) / (right - centre)
            if norm == "slaney":
                fb[k, m] *= 2.0 / (right - left)
    return fb
