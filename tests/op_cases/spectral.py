"""Op-test descriptions for taimatsu.stft / taimatsu.istft (shared by core and parity tests).

Windows are inputs too (positive values, so istft's window envelope never vanishes), so
gradients reach both the signal and the window. istft takes complex spectrograms; its
window is passed as the real part of a complex input to keep one dtype per case.
"""

import taimatsu
from taimatsu.testing import Arg, OpCase

COMPLEX = (taimatsu.complex64, taimatsu.complex128)
WINDOW = dict(low=0.3, high=1.0)


def _stft(lib, x, window, **kwargs):
    return lib.stft(x, window=window, **kwargs)


def _istft(lib, spec, window, **kwargs):
    return lib.istft(spec, window=window.real, **kwargs)


def stft_case(name, signal, window_size, **kwargs):
    kwargs = {"return_complex": True, **kwargs}
    return OpCase(f"stft[{name}]", op=lambda x, w, **kw: _stft(taimatsu, x, w, **kw),
                  torch_op=_stft, inputs=[signal, Arg((window_size,), **WINDOW)],
                  kwargs=kwargs)


def istft_case(name, spec, window_size, **kwargs):
    return OpCase(f"istft[{name}]", op=lambda s, w, **kw: _istft(taimatsu, s, w, **kw),
                  torch_op=_istft, inputs=[spec, Arg((window_size,), **WINDOW)],
                  kwargs=kwargs, dtypes=COMPLEX)


CASES = [
    stft_case("center", (2, 40), 16, n_fft=16, hop_length=4),
    stft_case("1d", (37,), 16, n_fft=16, hop_length=5),
    stft_case("no-center", (2, 40), 16, n_fft=16, hop_length=6, center=False),
    stft_case("short-window", (2, 40), 10, n_fft=16, hop_length=4, win_length=10),
    stft_case("align", (2, 40), 10, n_fft=16, hop_length=3, win_length=10, center=False,
              align_to_window=True),
    stft_case("normalized-twosided", (2, 30), 8, n_fft=8, hop_length=2, normalized=True,
              onesided=False),
    stft_case("constant-pad", (2, 30), 12, n_fft=12, hop_length=3, pad_mode="constant"),
    stft_case("replicate-pad", (30,), 12, n_fft=12, hop_length=3, pad_mode="replicate"),
    stft_case("circular-pad", (2, 30), 12, n_fft=12, hop_length=5, pad_mode="circular"),
    istft_case("center", (2, 5, 6), 8, n_fft=8, hop_length=2),
    istft_case("length", (5, 6), 8, n_fft=8, hop_length=2, length=11),
    istft_case("no-center", (5, 4), 8, n_fft=8, hop_length=2, center=False),
    istft_case("short-window", (5, 6), 6, n_fft=8, hop_length=2, win_length=6),
    istft_case("twosided-normalized", (8, 5), 8, n_fft=8, hop_length=2, onesided=False,
               normalized=True),
    istft_case("padded-length", (5, 4), 8, n_fft=8, hop_length=2, length=12),
]
