"""Benchmark case for taimatsu-audio: MelSpectrogram of 100 one-second 16 kHz clips.

taimatsu runs `taimatsu_audio.transforms.MelSpectrogram` (torchaudio's defaults: n_fft=400,
hop 200, Hann window, power 2; 80 mel bins). PyTorch runs the same computation written
with torch.stft (torchaudio is not needed): stft, |.|^2, and the product with the same
mel filter bank. Both under no_grad on the same float32 clips.
"""

from __future__ import annotations

from harness import Case, Target

N_CLIPS = 100
SAMPLE_RATE = 16000
N_FFT = 400
N_MELS = 80


def _clips():
    import numpy as np

    return np.random.default_rng(0).standard_normal((N_CLIPS, SAMPLE_RATE), dtype=np.float32)


def melspectrogram_taimatsu():
    import taimatsu as tm
    from taimatsu_audio.transforms import MelSpectrogram

    transform = MelSpectrogram(SAMPLE_RATE, n_fft=N_FFT, n_mels=N_MELS)
    clips = tm.from_numpy(_clips())

    def step():
        with tm.no_grad():
            return transform(clips)

    return step


def melspectrogram_torch():
    import torch

    from taimatsu_audio.functional import melscale_fbanks

    fb = torch.from_numpy(melscale_fbanks(N_FFT // 2 + 1, 0.0, SAMPLE_RATE / 2, N_MELS,
                                          SAMPLE_RATE).numpy())
    window = torch.hann_window(N_FFT)
    clips = torch.from_numpy(_clips())

    def step():
        with torch.no_grad():
            spec = torch.stft(clips, N_FFT, hop_length=N_FFT // 2, window=window, center=True,
                              pad_mode="reflect", return_complex=True).abs().pow(2.0)
            return torch.matmul(spec.transpose(-1, -2), fb).transpose(-1, -2)

    return step


CASES: list[Case] = [
    Case(
        "melspectrogram_100x1s",
        melspectrogram_taimatsu,
        melspectrogram_torch,
        description=f"MelSpectrogram of {N_CLIPS} one-second 16 kHz clips (n_fft={N_FFT}, "
                    f"{N_MELS} mels) against a torch.stft-based computation",
        ops=N_CLIPS,
        target=Target(1.5),
    ),
]
