"""Audio transforms as nn.Modules (torchaudio.transforms): torchaudio's constructor
arguments, defaults and buffer names, so their state_dicts load in either library.
Each forward calls taimatsu_audio.functional; inputs are batched over leading dims."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import taimatsu
from taimatsu import Tensor, nn
from taimatsu.nn.modules.lazy import LazyModuleMixin
from taimatsu.nn.parameter import UninitializedParameter

from .. import functional as F
from ..functional.functional import (
    _apply_sinc_resample_kernel,
    _check_convolve_mode,
    _fix_waveform_shape,
    _sinc_resample_kernel,
    _stretch_waveform,
)

__all__ = ["Spectrogram", "InverseSpectrogram", "GriffinLim", "AmplitudeToDB", "MelScale",
           "InverseMelScale", "MelSpectrogram", "MFCC", "LFCC", "MuLawEncoding",
           "MuLawDecoding", "Resample", "ComputeDeltas", "TimeStretch", "Fade",
           "FrequencyMasking", "TimeMasking", "SpecAugment", "Loudness", "Vol",
           "SpectralCentroid", "PitchShift", "Convolve", "FFTConvolve", "Speed",
           "SpeedPerturbation", "AddNoise", "Preemphasis", "Deemphasis"]


def _make_window(window_fn: Callable, win_length: int, wkwargs: dict | None) -> Tensor:
    return window_fn(win_length) if wkwargs is None else window_fn(win_length, **wkwargs)


def _apply_matrix(specgram: Tensor, matrix: Tensor) -> Tensor:
    """(..., in, time) -> (..., out, time) through a (in, out) matrix.

    The leading dims are folded into one GEMM: NumPy runs a batched (b, m, k) @ (k, n)
    product as b small ones, which can be a hundred times slower.
    """
    rows = specgram.transpose(-1, -2)
    lead = tuple(rows.shape[:-1])
    out = taimatsu.matmul(rows.reshape(-1, rows.shape[-1]), matrix)
    return out.reshape(lead + (matrix.shape[-1],)).transpose(-1, -2)


class Spectrogram(nn.Module):
    """Spectrogram of (..., time) audio: (..., n_fft // 2 + 1, frames).

    Args:
        n_fft: FFT size (default 400)
        win_length: window size (default n_fft)
        hop_length: hop between frames (default win_length // 2)
        pad: zeros added on both sides first
        window_fn: builds the window (default taimatsu.hann_window); buffer `window`
        power: exponent of the magnitude (2: power); None returns the complex STFT
        normalized: True/"window" or "frame_length" (see functional.spectrogram)
        wkwargs: keyword arguments for window_fn
        center, pad_mode, onesided: as taimatsu.stft
        return_complex: deprecated and ignored
    """

    __constants__ = ["n_fft", "win_length", "hop_length", "pad", "power", "normalized"]

    def __init__(self, n_fft: int = 400, win_length: int | None = None,
                 hop_length: int | None = None, pad: int = 0,
                 window_fn: Callable[..., Tensor] = taimatsu.hann_window,
                 power: float | None = 2.0, normalized=False, wkwargs: dict | None = None,
                 center: bool = True, pad_mode: str = "reflect", onesided: bool = True,
                 return_complex: bool | None = None) -> None:
        super().__init__()
        self.n_fft = n_fft
        self.win_length = win_length if win_length is not None else n_fft
        self.hop_length = hop_length if hop_length is not None else self.win_length // 2
        self.register_buffer("window", _make_window(window_fn, self.win_length, wkwargs))
        self.pad = pad
        self.power = power
        self.normalized = normalized
        self.center = center
        self.pad_mode = pad_mode
        self.onesided = onesided
        if return_complex is not None:
            warnings.warn("`return_complex` argument is now deprecated and is not effective."
                          "`taimatsu_audio.transforms.Spectrogram(power=None)` always returns "
                          "a tensor with complex dtype. Please remove the argument in the "
                          "function call.")

    def forward(self, waveform: Tensor) -> Tensor:
        return F.spectrogram(waveform, self.pad, self.window, self.n_fft, self.hop_length,
                             self.win_length, self.power, self.normalized, self.center,
                             self.pad_mode, self.onesided)


class InverseSpectrogram(nn.Module):
    """Waveform (..., time) from a complex spectrogram (..., freq, frames); arguments as
    Spectrogram. forward(spectrogram, length=None)."""

    __constants__ = ["n_fft", "win_length", "hop_length", "pad", "power", "normalized"]

    def __init__(self, n_fft: int = 400, win_length: int | None = None,
                 hop_length: int | None = None, pad: int = 0,
                 window_fn: Callable[..., Tensor] = taimatsu.hann_window, normalized=False,
                 wkwargs: dict | None = None, center: bool = True, pad_mode: str = "reflect",
                 onesided: bool = True) -> None:
        super().__init__()
        self.n_fft = n_fft
        self.win_length = win_length if win_length is not None else n_fft
        self.hop_length = hop_length if hop_length is not None else self.win_length // 2
        self.register_buffer("window", _make_window(window_fn, self.win_length, wkwargs))
        self.pad = pad
        self.normalized = normalized
        self.center = center
        self.pad_mode = pad_mode
        self.onesided = onesided

    def forward(self, spectrogram: Tensor, length: int | None = None) -> Tensor:
        return F.inverse_spectrogram(spectrogram, length, self.pad, self.window, self.n_fft,
                                     self.hop_length, self.win_length, self.normalized,
                                     self.center, self.pad_mode, self.onesided)


class GriffinLim(nn.Module):
    """Waveform from a magnitude spectrogram by fast Griffin-Lim phase recovery.

    Args:
        n_fft, win_length, hop_length, window_fn, wkwargs: as Spectrogram
        n_iter: iterations (default 32)
        power: the spectrogram's exponent (default 2)
        momentum: fast Griffin-Lim momentum in [0, 1) (default 0.99)
        length: output length (default: from the frames)
        rand_init: random initial phases (else zero)
    """

    __constants__ = ["n_fft", "n_iter", "win_length", "hop_length", "power", "length",
                     "momentum", "rand_init"]

    def __init__(self, n_fft: int = 400, n_iter: int = 32, win_length: int | None = None,
                 hop_length: int | None = None,
                 window_fn: Callable[..., Tensor] = taimatsu.hann_window, power: float = 2.0,
                 wkwargs: dict | None = None, momentum: float = 0.99,
                 length: int | None = None, rand_init: bool = True) -> None:
        super().__init__()
        if not 0 <= momentum < 1:
            raise ValueError(f"momentum must be in the range [0, 1). Found: {momentum}")
        self.n_fft = n_fft
        self.n_iter = n_iter
        self.win_length = win_length if win_length is not None else n_fft
        self.hop_length = hop_length if hop_length is not None else self.win_length // 2
        self.register_buffer("window", _make_window(window_fn, self.win_length, wkwargs))
        self.length = length
        self.power = power
        self.momentum = momentum
        self.rand_init = rand_init

    def forward(self, specgram: Tensor) -> Tensor:
        return F.griffinlim(specgram, self.window, self.n_fft, self.hop_length,
                            self.win_length, self.power, self.n_iter, self.momentum,
                            self.length, self.rand_init)


class AmplitudeToDB(nn.Module):
    """Power ("power") or magnitude (other stype) to decibels, floored top_db below the
    maximum when given."""

    __constants__ = ["multiplier", "amin", "ref_value", "db_multiplier"]

    def __init__(self, stype: str = "power", top_db: float | None = None) -> None:
        super().__init__()
        self.stype = stype
        if top_db is not None and top_db < 0:
            raise ValueError("top_db must be positive value")
        self.top_db = top_db
        self.multiplier = 10.0 if stype == "power" else 20.0
        self.amin = 1e-10
        self.ref_value = 1.0
        self.db_multiplier = math.log10(max(self.amin, self.ref_value))

    def forward(self, x: Tensor) -> Tensor:
        return F.amplitude_to_DB(x, self.multiplier, self.amin, self.db_multiplier,
                                 self.top_db)


class MelScale(nn.Module):
    """A spectrogram (..., n_stft, time) to mel bins (..., n_mels, time); buffer `fb`.

    Args:
        n_mels: mel bins (default 128)
        sample_rate: Hz (default 16000)
        f_min, f_max: band edges (f_max default sample_rate // 2)
        n_stft: frequency bins of the input (default 201, n_fft=400)
        norm: None or "slaney"
        mel_scale: "htk" or "slaney"
    """

    __constants__ = ["n_mels", "sample_rate", "f_min", "f_max"]

    def __init__(self, n_mels: int = 128, sample_rate: int = 16000, f_min: float = 0.0,
                 f_max: float | None = None, n_stft: int = 201, norm: str | None = None,
                 mel_scale: str = "htk") -> None:
        super().__init__()
        self.n_mels = n_mels
        self.sample_rate = sample_rate
        self.f_max = f_max if f_max is not None else float(sample_rate // 2)
        self.f_min = f_min
        self.norm = norm
        self.mel_scale = mel_scale
        if f_min > self.f_max:
            raise ValueError(f"Require f_min: {f_min} <= f_max: {self.f_max}")
        self.register_buffer("fb", F.melscale_fbanks(n_stft, self.f_min, self.f_max,
                                                     self.n_mels, self.sample_rate,
                                                     self.norm, self.mel_scale))

    def forward(self, specgram: Tensor) -> Tensor:
        return _apply_matrix(specgram, self.fb)


class InverseMelScale(nn.Module):
    """A linear-frequency spectrogram (..., n_stft, time) estimated from mel bins by least
    squares (clipped at zero); buffer `fb`."""

    __constants__ = ["n_stft", "n_mels", "sample_rate", "f_min", "f_max"]

    def __init__(self, n_stft: int, n_mels: int = 128, sample_rate: int = 16000,
                 f_min: float = 0.0, f_max: float | None = None, norm: str | None = None,
                 mel_scale: str = "htk", driver: str = "gels") -> None:
        super().__init__()
        self.n_mels = n_mels
        self.sample_rate = sample_rate
        self.f_max = f_max or float(sample_rate // 2)
        self.f_min = f_min
        self.driver = driver
        if f_min > self.f_max:
            raise ValueError(f"Require f_min: {f_min} <= f_max: {self.f_max}")
        if driver not in ("gels", "gelsy", "gelsd", "gelss"):
            raise ValueError(f'driver must be one of ["gels", "gelsy", "gelsd", "gelss"]. '
                             f"Found {driver}.")
        self.register_buffer("fb", F.melscale_fbanks(n_stft, self.f_min, self.f_max,
                                                     self.n_mels, self.sample_rate, norm,
                                                     mel_scale))

    def forward(self, melspec: Tensor) -> Tensor:
        shape = melspec.shape
        n_mels, time = shape[-2], shape[-1]
        if self.n_mels != n_mels:
            raise ValueError(f"Expected an input with {self.n_mels} mel bins. Found: {n_mels}")
        freq = self.fb.shape[0]
        packed = melspec.reshape(-1, n_mels, time)
        system = self.fb.transpose(-1, -2)[None].expand(packed.shape[0], n_mels, freq)
        solution = taimatsu.linalg.lstsq(system, packed, driver=self.driver).solution
        return taimatsu.relu(solution).reshape(tuple(shape[:-2]) + (freq, time))


class MelSpectrogram(nn.Module):
    """Mel spectrogram of (..., time) audio: Spectrogram then MelScale (submodules
    `spectrogram` and `mel_scale`). Arguments as those two; onesided is deprecated."""

    __constants__ = ["sample_rate", "n_fft", "win_length", "hop_length", "pad", "n_mels",
                     "f_min"]

    def __init__(self, sample_rate: int = 16000, n_fft: int = 400,
                 win_length: int | None = None, hop_length: int | None = None,
                 f_min: float = 0.0, f_max: float | None = None, pad: int = 0,
                 n_mels: int = 128, window_fn: Callable[..., Tensor] = taimatsu.hann_window,
                 power: float = 2.0, normalized: bool = False, wkwargs: dict | None = None,
                 center: bool = True, pad_mode: str = "reflect",
                 onesided: bool | None = None, norm: str | None = None,
                 mel_scale: str = "htk") -> None:
        super().__init__()
        if onesided is not None:
            warnings.warn("Argument 'onesided' has been deprecated and has no influence on the "
                          "behavior of this module.")
        self.sample_rate = sample_rate
        self.n_fft = n_fft
        self.win_length = win_length if win_length is not None else n_fft
        self.hop_length = hop_length if hop_length is not None else self.win_length // 2
        self.pad = pad
        self.power = power
        self.normalized = normalized
        self.n_mels = n_mels
        self.f_max = f_max
        self.f_min = f_min
        self.spectrogram = Spectrogram(n_fft=self.n_fft, win_length=self.win_length,
                                       hop_length=self.hop_length, pad=self.pad,
                                       window_fn=window_fn, power=self.power,
                                       normalized=self.normalized, wkwargs=wkwargs,
                                       center=center, pad_mode=pad_mode, onesided=True)
        self.mel_scale = MelScale(self.n_mels, self.sample_rate, self.f_min, self.f_max,
                                  self.n_fft // 2 + 1, norm, mel_scale)

    def forward(self, waveform: Tensor) -> Tensor:
        return self.mel_scale(self.spectrogram(waveform))


class MFCC(nn.Module):
    """Mel-frequency cepstral coefficients (..., n_mfcc, time): a DCT (buffer `dct_mat`)
    of the dB-scaled (top_db 80) or log (log_mels) mel spectrogram.

    Args:
        sample_rate: Hz (default 16000)
        n_mfcc: coefficients kept (default 40)
        dct_type: 2 (the only one)
        norm: DCT norm (default "ortho")
        log_mels: log(mel + 1e-6) instead of decibels
        melkwargs: MelSpectrogram arguments
    """

    __constants__ = ["sample_rate", "n_mfcc", "dct_type", "top_db", "log_mels"]

    def __init__(self, sample_rate: int = 16000, n_mfcc: int = 40, dct_type: int = 2,
                 norm: str = "ortho", log_mels: bool = False,
                 melkwargs: dict | None = None) -> None:
        super().__init__()
        if dct_type not in (2,):
            raise ValueError(f"DCT type not supported: {dct_type}")
        self.sample_rate = sample_rate
        self.n_mfcc = n_mfcc
        self.dct_type = dct_type
        self.norm = norm
        self.top_db = 80.0
        self.amplitude_to_DB = AmplitudeToDB("power", self.top_db)
        self.MelSpectrogram = MelSpectrogram(sample_rate=self.sample_rate,
                                             **(melkwargs or {}))
        if self.n_mfcc > self.MelSpectrogram.n_mels:
            raise ValueError("Cannot select more MFCC coefficients than # mel bins")
        self.register_buffer("dct_mat", F.create_dct(self.n_mfcc, self.MelSpectrogram.n_mels,
                                                     self.norm))
        self.log_mels = log_mels

    def forward(self, waveform: Tensor) -> Tensor:
        mel = self.MelSpectrogram(waveform)
        mel = taimatsu.log(mel + 1e-6) if self.log_mels else self.amplitude_to_DB(mel)
        return _apply_matrix(mel, self.dct_mat)


class LFCC(nn.Module):
    """Linear-frequency cepstral coefficients (..., n_lfcc, time): a DCT (buffer `dct_mat`)
    of a linear triangular filter bank (buffer `filter_mat`) over the spectrogram.

    Args:
        sample_rate, f_min, f_max: the filter bank's range (f_max default sample_rate // 2)
        n_filter: linear filters (default 128)
        n_lfcc: coefficients kept (default 40)
        dct_type, norm: as MFCC
        log_lf: log(x + 1e-6) instead of decibels
        speckwargs: Spectrogram arguments
    """

    __constants__ = ["sample_rate", "n_filter", "n_lfcc", "dct_type", "top_db", "log_lf"]

    def __init__(self, sample_rate: int = 16000, n_filter: int = 128, f_min: float = 0.0,
                 f_max: float | None = None, n_lfcc: int = 40, dct_type: int = 2,
                 norm: str = "ortho", log_lf: bool = False,
                 speckwargs: dict | None = None) -> None:
        super().__init__()
        if dct_type not in (2,):
            raise ValueError(f"DCT type not supported: {dct_type}")
        self.sample_rate = sample_rate
        self.f_min = f_min
        self.f_max = f_max if f_max is not None else float(sample_rate // 2)
        self.n_filter = n_filter
        self.n_lfcc = n_lfcc
        self.dct_type = dct_type
        self.norm = norm
        self.top_db = 80.0
        self.amplitude_to_DB = AmplitudeToDB("power", self.top_db)
        self.Spectrogram = Spectrogram(**(speckwargs or {}))
        if self.n_lfcc > self.Spectrogram.n_fft:
            raise ValueError("Cannot select more LFCC coefficients than # fft bins")
        self.register_buffer("filter_mat", F.linear_fbanks(
            n_freqs=self.Spectrogram.n_fft // 2 + 1, f_min=self.f_min, f_max=self.f_max,
            n_filter=self.n_filter, sample_rate=self.sample_rate))
        self.register_buffer("dct_mat", F.create_dct(self.n_lfcc, self.n_filter, self.norm))
        self.log_lf = log_lf

    def forward(self, waveform: Tensor) -> Tensor:
        spec = self.Spectrogram(waveform)
        spec = _apply_matrix(spec, self.filter_mat)
        spec = taimatsu.log(spec + 1e-6) if self.log_lf else self.amplitude_to_DB(spec)
        return _apply_matrix(spec, self.dct_mat)


class MuLawEncoding(nn.Module):
    """Mu-law codes 0 .. quantization_channels - 1 of a signal in [-1, 1]."""

    __constants__ = ["quantization_channels"]

    def __init__(self, quantization_channels: int = 256) -> None:
        super().__init__()
        self.quantization_channels = quantization_channels

    def forward(self, x: Tensor) -> Tensor:
        return F.mu_law_encoding(x, self.quantization_channels)


class MuLawDecoding(nn.Module):
    """A signal in [-1, 1] from mu-law codes 0 .. quantization_channels - 1."""

    __constants__ = ["quantization_channels"]

    def __init__(self, quantization_channels: int = 256) -> None:
        super().__init__()
        self.quantization_channels = quantization_channels

    def forward(self, x_mu: Tensor) -> Tensor:
        return F.mu_law_decoding(x_mu, self.quantization_channels)


class Resample(nn.Module):
    """Band-limited resampling from orig_freq to new_freq with a precomputed kernel
    (buffer `kernel`, float32 unless dtype is given); arguments as functional.resample."""

    def __init__(self, orig_freq: int = 16000, new_freq: int = 16000,
                 resampling_method: str = "sinc_interp_hann", lowpass_filter_width: int = 6,
                 rolloff: float = 0.99, beta: float | None = None, *, dtype=None) -> None:
        super().__init__()
        self.orig_freq = orig_freq
        self.new_freq = new_freq
        self.gcd = math.gcd(int(self.orig_freq), int(self.new_freq))
        self.resampling_method = resampling_method
        self.lowpass_filter_width = lowpass_filter_width
        self.rolloff = rolloff
        self.beta = beta
        if self.orig_freq != self.new_freq:
            kernel, self.width = _sinc_resample_kernel(
                self.orig_freq, self.new_freq, self.gcd, self.lowpass_filter_width,
                self.rolloff, self.resampling_method, beta, dtype=dtype)
            self.register_buffer("kernel", kernel)

    def forward(self, waveform: Tensor) -> Tensor:
        if self.orig_freq == self.new_freq:
            return waveform
        return _apply_sinc_resample_kernel(waveform, self.orig_freq, self.new_freq, self.gcd,
                                           self.kernel, self.width)


class ComputeDeltas(nn.Module):
    """Delta coefficients along time (see functional.compute_deltas)."""

    __constants__ = ["win_length"]

    def __init__(self, win_length: int = 5, mode: str = "replicate") -> None:
        super().__init__()
        self.win_length = win_length
        self.mode = mode

    def forward(self, specgram: Tensor) -> Tensor:
        return F.compute_deltas(specgram, win_length=self.win_length, mode=self.mode)


class TimeStretch(nn.Module):
    """Stretches a complex STFT in time by a rate, keeping the pitch (phase vocoder);
    buffer `phase_advance` (n_freq, 1). forward(complex_specgrams, overriding_rate=None)."""

    __constants__ = ["fixed_rate"]

    def __init__(self, hop_length: int | None = None, n_freq: int = 201,
                 fixed_rate: float | None = None) -> None:
        super().__init__()
        self.fixed_rate = fixed_rate
        n_fft = (n_freq - 1) * 2
        hop_length = hop_length if hop_length is not None else n_fft // 2
        self.register_buffer("phase_advance",
                             taimatsu.linspace(0, math.pi * hop_length, n_freq)[..., None])

    def forward(self, complex_specgrams: Tensor, overriding_rate: float | None = None) -> Tensor:
        if not complex_specgrams.is_complex():
            warnings.warn("The input to TimeStretch must be complex type. Providing non-complex "
                          "tensor produces invalid results.", stacklevel=4)
        if overriding_rate is None:
            if self.fixed_rate is None:
                raise ValueError("If no fixed_rate is specified, must pass a valid rate to the "
                                 "forward method.")
            rate = self.fixed_rate
        else:
            rate = overriding_rate
        return F.phase_vocoder(complex_specgrams, rate, self.phase_advance)


class Fade(nn.Module):
    """Fade-in and fade-out of fade_in_len / fade_out_len samples; fade_shape "linear",
    "exponential", "logarithmic", "quarter_sine" or "half_sine"."""

    def __init__(self, fade_in_len: int = 0, fade_out_len: int = 0,
                 fade_shape: str = "linear") -> None:
        super().__init__()
        self.fade_in_len = fade_in_len
        self.fade_out_len = fade_out_len
        self.fade_shape = fade_shape

    def forward(self, waveform: Tensor) -> Tensor:
        length = waveform.shape[-1]
        device = waveform.device
        return self._fade_in(length, device) * self._fade_out(length, device) * waveform

    def _shape(self, fade: Tensor, rising: bool) -> Tensor:
        shape = self.fade_shape
        if shape == "linear":
            return fade if rising else 1 - fade
        if shape == "exponential":
            return taimatsu.pow(2, fade - 1) * fade if rising else \
                taimatsu.pow(2, -fade) * (1 - fade)
        if shape == "logarithmic":
            return taimatsu.log10(0.1 + fade) + 1 if rising else taimatsu.log10(1.1 - fade) + 1
        if shape == "quarter_sine":
            return taimatsu.sin(fade * math.pi / 2 + (0 if rising else math.pi / 2))
        if shape == "half_sine":
            return taimatsu.sin(fade * math.pi + (-1 if rising else 1) * math.pi / 2) / 2 + 0.5
        return fade

    def _fade_in(self, length: int, device) -> Tensor:
        fade = self._shape(taimatsu.linspace(0, 1, self.fade_in_len, device=device), True)
        ones = taimatsu.ones(length - self.fade_in_len, device=device)
        return taimatsu.clamp(taimatsu.cat((fade, ones)), 0, 1)

    def _fade_out(self, length: int, device) -> Tensor:
        fade = self._shape(taimatsu.linspace(0, 1, self.fade_out_len, device=device), False)
        ones = taimatsu.ones(length - self.fade_out_len, device=device)
        return taimatsu.clamp(taimatsu.cat((ones, fade)), 0, 1)


class _AxisMasking(nn.Module):
    """Masks a random stretch along `axis` (1 frequency, 2 time, counted for 3D input)."""

    __constants__ = ["mask_param", "axis", "iid_masks", "p"]

    def __init__(self, mask_param: int, axis: int, iid_masks: bool, p: float = 1.0) -> None:
        super().__init__()
        self.mask_param = mask_param
        self.axis = axis
        self.iid_masks = iid_masks
        self.p = p

    def forward(self, specgram: Tensor, mask_value: float = 0.0) -> Tensor:
        axis = self.axis + specgram.dim() - 3
        if self.iid_masks:
            return F.mask_along_axis_iid(specgram, self.mask_param, mask_value, axis, p=self.p)
        return F.mask_along_axis(specgram, self.mask_param, mask_value, axis, p=self.p)


class FrequencyMasking(_AxisMasking):
    """SpecAugment frequency masking: up to freq_mask_param consecutive bins; iid_masks
    draws a mask per example (input of 3 or more dims)."""

    def __init__(self, freq_mask_param: int, iid_masks: bool = False) -> None:
        super().__init__(freq_mask_param, 1, iid_masks)


class TimeMasking(_AxisMasking):
    """SpecAugment time masking: up to time_mask_param consecutive frames (at most a
    proportion p of them); iid_masks draws a mask per example."""

    def __init__(self, time_mask_param: int, iid_masks: bool = False, p: float = 1.0) -> None:
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"The value of p must be between 0.0 and 1.0 ({p} given).")
        super().__init__(time_mask_param, 2, iid_masks, p=p)


class SpecAugment(nn.Module):
    """n_time_masks time masks and n_freq_masks frequency masks; the masked value is 0
    (zero_masking) or the input's mean."""

    __constants__ = ["n_time_masks", "time_mask_param", "n_freq_masks", "freq_mask_param",
                     "iid_masks", "p", "zero_masking"]

    def __init__(self, n_time_masks: int, time_mask_param: int, n_freq_masks: int,
                 freq_mask_param: int, iid_masks: bool = True, p: float = 1.0,
                 zero_masking: bool = False) -> None:
        super().__init__()
        self.n_time_masks = n_time_masks
        self.time_mask_param = time_mask_param
        self.n_freq_masks = n_freq_masks
        self.freq_mask_param = freq_mask_param
        self.iid_masks = iid_masks
        self.p = p
        self.zero_masking = zero_masking

    def forward(self, specgram: Tensor) -> Tensor:
        mask_value = 0.0 if self.zero_masking else specgram.mean()
        time_dim = specgram.dim() - 1
        freq_dim = time_dim - 1
        mask = F.mask_along_axis_iid if specgram.dim() > 2 and self.iid_masks \
            else F.mask_along_axis
        for _ in range(self.n_time_masks):
            specgram = mask(specgram, self.time_mask_param, mask_value, time_dim, p=self.p)
        for _ in range(self.n_freq_masks):
            specgram = mask(specgram, self.freq_mask_param, mask_value, freq_dim, p=self.p)
        return specgram


class Loudness(nn.Module):
    """Integrated loudness (LKFS) per ITU-R BS.1770-4 of (..., channels, time) audio."""

    __constants__ = ["sample_rate"]

    def __init__(self, sample_rate: int) -> None:
        super().__init__()
        self.sample_rate = sample_rate

    def forward(self, wavefrom: Tensor) -> Tensor:
        return F.loudness(wavefrom, self.sample_rate)


class Vol(nn.Module):
    """Scales the volume: gain_type "amplitude" (a ratio), "power" or "db"; the result is
    clamped to [-1, 1]."""

    def __init__(self, gain: float, gain_type: str = "amplitude") -> None:
        super().__init__()
        self.gain = gain
        self.gain_type = gain_type
        if gain_type in ("amplitude", "power") and gain < 0:
            raise ValueError("If gain_type = amplitude or power, gain must be positive.")

    def forward(self, waveform: Tensor) -> Tensor:
        if self.gain_type == "amplitude":
            waveform = waveform * self.gain
        if self.gain_type == "db":
            waveform = F.gain(waveform, self.gain)
        if self.gain_type == "power":
            waveform = F.gain(waveform, 10 * math.log10(self.gain))
        return taimatsu.clamp(waveform, -1, 1)


class SpectralCentroid(nn.Module):
    """Spectral centroid (Hz) per frame: (..., frames); buffer `window`."""

    __constants__ = ["sample_rate", "n_fft", "win_length", "hop_length", "pad"]

    def __init__(self, sample_rate: int, n_fft: int = 400, win_length: int | None = None,
                 hop_length: int | None = None, pad: int = 0,
                 window_fn: Callable[..., Tensor] = taimatsu.hann_window,
                 wkwargs: dict | None = None) -> None:
        super().__init__()
        self.sample_rate = sample_rate
        self.n_fft = n_fft
        self.win_length = win_length if win_length is not None else n_fft
        self.hop_length = hop_length if hop_length is not None else self.win_length // 2
        self.register_buffer("window", _make_window(window_fn, self.win_length, wkwargs))
        self.pad = pad

    def forward(self, waveform: Tensor) -> Tensor:
        return F.spectral_centroid(waveform, self.sample_rate, self.pad, self.window,
                                   self.n_fft, self.hop_length, self.win_length)


class PitchShift(LazyModuleMixin, nn.Module):
    """Shifts the pitch by n_steps steps of 1 / bins_per_octave octave (phase vocoder, then
    resampling). As torchaudio, the resampling kernel is a lazy parameter `kernel` built
    on the first forward in the input's dtype and device."""

    __constants__ = ["sample_rate", "n_steps", "bins_per_octave", "n_fft", "win_length",
                     "hop_length"]

    def __init__(self, sample_rate: int, n_steps: int, bins_per_octave: int = 12,
                 n_fft: int = 512, win_length: int | None = None,
                 hop_length: int | None = None,
                 window_fn: Callable[..., Tensor] = taimatsu.hann_window,
                 wkwargs: dict | None = None) -> None:
        super().__init__()
        self.n_steps = n_steps
        self.bins_per_octave = bins_per_octave
        self.sample_rate = sample_rate
        self.n_fft = n_fft
        self.win_length = win_length if win_length is not None else n_fft
        self.hop_length = hop_length if hop_length is not None else self.win_length // 4
        self.register_buffer("window", _make_window(window_fn, self.win_length, wkwargs))
        rate = 2.0 ** (-float(n_steps) / bins_per_octave)
        self.orig_freq = int(sample_rate / rate)
        self.gcd = math.gcd(int(self.orig_freq), int(sample_rate))
        if self.orig_freq != sample_rate:
            self.width = -1
            self.kernel = UninitializedParameter(device=None, dtype=None)

    def initialize_parameters(self, input: Tensor) -> None:
        if self.has_uninitialized_params() and self.orig_freq != self.sample_rate:
            with taimatsu.no_grad():
                kernel, self.width = _sinc_resample_kernel(self.orig_freq, self.sample_rate,
                                                           self.gcd, dtype=input.dtype)
                self.kernel.materialize(kernel.shape, device=input.device, dtype=input.dtype)
                self.kernel.copy_(kernel)

    def forward(self, waveform: Tensor) -> Tensor:
        shape = waveform.shape
        stretched = _stretch_waveform(waveform, self.n_steps, self.bins_per_octave, self.n_fft,
                                      self.win_length, self.hop_length, self.window)
        if self.orig_freq != self.sample_rate:
            shifted = _apply_sinc_resample_kernel(stretched, self.orig_freq, self.sample_rate,
                                                  self.gcd, self.kernel, self.width)
        else:
            shifted = stretched
        return _fix_waveform_shape(shifted, shape)


class Convolve(nn.Module):
    """True convolution of two signals along the last dim (direct method); mode "full",
    "valid" or "same"."""

    def __init__(self, mode: str = "full") -> None:
        _check_convolve_mode(mode)
        super().__init__()
        self.mode = mode

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        return F.convolve(x, y, mode=self.mode)


class FFTConvolve(nn.Module):
    """True convolution of two signals along the last dim through the FFT; mode "full",
    "valid" or "same"."""

    def __init__(self, mode: str = "full") -> None:
        _check_convolve_mode(mode)
        super().__init__()
        self.mode = mode

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        return F.fftconvolve(x, y, mode=self.mode)


def _source_target_sample_rate(orig_freq: int, speed: float) -> tuple[int, int]:
    source, target = int(speed * orig_freq), int(orig_freq)
    gcd = math.gcd(source, target)
    return source // gcd, target // gcd


class Speed(nn.Module):
    """Plays audio `factor` times faster by resampling (submodule `resampler`).
    forward(waveform, lengths=None) -> (waveform, lengths)."""

    def __init__(self, orig_freq: int, factor: float) -> None:
        super().__init__()
        self.orig_freq = orig_freq
        self.factor = factor
        self.source_sample_rate, self.target_sample_rate = _source_target_sample_rate(
            orig_freq, factor)
        self.resampler = Resample(orig_freq=self.source_sample_rate,
                                  new_freq=self.target_sample_rate)

    def forward(self, waveform: Tensor, lengths: Tensor | None = None):
        out_lengths = None
        if lengths is not None:
            out_lengths = taimatsu.ceil(lengths * self.target_sample_rate
                                        / self.source_sample_rate).to(lengths.dtype)
        return self.resampler(waveform), out_lengths


class SpeedPerturbation(nn.Module):
    """Speed perturbation: each call plays the input at one of `factors`, drawn uniformly."""

    def __init__(self, orig_freq: int, factors) -> None:
        super().__init__()
        self.speeders = nn.ModuleList([Speed(orig_freq=orig_freq, factor=f) for f in factors])

    def forward(self, waveform: Tensor, lengths: Tensor | None = None):
        index = int(taimatsu.randint(len(self.speeders), ()).item())
        return self.speeders[index](waveform, lengths)


class AddNoise(nn.Module):
    """Adds noise scaled to a signal-to-noise ratio: forward(waveform, noise, snr,
    lengths=None) (see functional.add_noise)."""

    def forward(self, waveform: Tensor, noise: Tensor, snr: Tensor,
                lengths: Tensor | None = None) -> Tensor:
        return F.add_noise(waveform, noise, snr, lengths)


class Preemphasis(nn.Module):
    """y[i] = x[i] - coeff * x[i - 1]."""

    def __init__(self, coeff: float = 0.97) -> None:
        super().__init__()
        self.coeff = coeff

    def forward(self, waveform: Tensor) -> Tensor:
        return F.preemphasis(waveform, coeff=self.coeff)


class Deemphasis(nn.Module):
    """y[i] = x[i] + coeff * y[i - 1], the inverse of Preemphasis."""

    def __init__(self, coeff: float = 0.97) -> None:
        super().__init__()
        self.coeff = coeff

    def forward(self, waveform: Tensor) -> Tensor:
        return F.deemphasis(waveform, coeff=self.coeff)
