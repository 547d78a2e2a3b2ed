"""Spectral features, filter banks, resampling and waveform utilities (torchaudio.functional).

Everything works on tensors batched over leading dims (..., time) or (..., freq, time),
composes differentiable taimatsu ops (so gradients flow wherever torchaudio's do) and
runs on whichever device the input lives on.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

import taimatsu
import taimatsu.nn.functional as F
from taimatsu import Tensor, backend

from .filtering import lfilter

__all__ = ["spectrogram", "inverse_spectrogram", "griffinlim", "amplitude_to_DB",
           "DB_to_amplitude", "compute_deltas", "melscale_fbanks", "linear_fbanks",
           "create_dct", "detect_pitch_frequency", "mu_law_encoding", "mu_law_decoding",
           "phase_vocoder", "mask_along_axis", "mask_along_axis_iid", "spectral_centroid",
           "resample", "edit_distance", "loudness", "pitch_shift", "fftconvolve", "convolve",
           "add_noise", "speed", "preemphasis", "deemphasis"]


# -- spectrograms ----------------------------------------------------------------------------

def _spec_norms(normalized) -> tuple[bool, bool]:
    """normalized -> (frame_length normalization in stft, window-energy normalization)."""
    if isinstance(normalized, str):
        if normalized not in ("frame_length", "window"):
            raise ValueError(f"Invalid normalized parameter: {normalized}")
        return normalized == "frame_length", normalized == "window"
    if isinstance(normalized, bool):
        return False, normalized
    raise TypeError("Input type not supported")


def spectrogram(waveform: Tensor, pad: int, window: Tensor, n_fft: int, hop_length: int,
                win_length: int, power: float | None, normalized, center: bool = True,
                pad_mode: str = "reflect", onesided: bool = True,
                return_complex: bool | None = None) -> Tensor:
    """Spectrogram of (..., time) audio: (..., n_fft // 2 + 1, frames).

    Args:
        power: exponent of the magnitude (1 magnitude, 2 power); None returns the complex
            spectrum
        normalized: True or "window" divides by the window's L2 norm; "frame_length"
            by sqrt(n_fft)
        return_complex: deprecated and ignored
    """
    if return_complex is not None:
        warnings.warn("`return_complex` argument is now deprecated and is not effective."
                      "`taimatsu_audio.functional.spectrogram(power=None)` always returns a "
                      "tensor with complex dtype. Please remove the argument in the function "
                      "call.")
    if pad > 0:
        waveform = F.pad(waveform, (pad, pad), "constant")
    frame_length_norm, window_norm = _spec_norms(normalized)
    shape = waveform.shape
    spec = taimatsu.stft(waveform.reshape(-1, shape[-1]), n_fft=n_fft, hop_length=hop_length,
                         win_length=win_length, window=window, center=center,
                         pad_mode=pad_mode, normalized=frame_length_norm, onesided=onesided,
                         return_complex=True)
    spec = spec.reshape(tuple(shape[:-1]) + tuple(spec.shape[-2:]))
    if window_norm:
        spec = spec / window.pow(2.0).sum().sqrt()
    if power is None:
        return spec
    return spec.abs() if power == 1.0 else spec.abs().pow(power)


def inverse_spectrogram(spectrogram: Tensor, length: int | None, pad: int, window: Tensor,
                        n_fft: int, hop_length: int, win_length: int, normalized,
                        center: bool = True, pad_mode: str = "reflect",
                        onesided: bool = True) -> Tensor:
    """Waveform (..., time) from a complex spectrogram (..., freq, frames) by least-squares
    overlap-add; `pad` is removed from both ends when `length` is given."""
    frame_length_norm, window_norm = _spec_norms(normalized)
    if not spectrogram.is_complex():
        raise ValueError("Expected `spectrogram` to be complex dtype.")
    if window_norm:
        spectrogram = spectrogram * window.pow(2.0).sum().sqrt()
    shape = spectrogram.shape
    spectrogram = spectrogram.reshape(-1, shape[-2], shape[-1])
    waveform = taimatsu.istft(spectrogram, n_fft=n_fft, hop_length=hop_length,
                              win_length=win_length, window=window, center=center,
                              normalized=frame_length_norm, onesided=onesided,
                              length=length + 2 * pad if length is not None else None,
                              return_complex=False)
    if length is not None and pad > 0:
        waveform = waveform[:, pad:-pad]
    return waveform.reshape(tuple(shape[:-2]) + tuple(waveform.shape[-1:]))


def griffinlim(specgram: Tensor, window: Tensor, n_fft: int, hop_length: int,
               win_length: int, power: float, n_iter: int, momentum: float,
               length: int | None, rand_init: bool) -> Tensor:
    """Waveform from a magnitude spectrogram (..., freq, frames) by fast Griffin-Lim phase
    recovery (momentum 0 is the original algorithm)."""
    if not 0 <= momentum < 1:
        raise ValueError(f"momentum must be in range [0, 1). Found: {momentum}")
    momentum = momentum / (1 + momentum)
    shape = specgram.shape
    specgram = specgram.reshape((-1,) + tuple(shape[-2:])).pow(1 / power)
    cdtype = specgram.dtype.to_complex()
    if rand_init:
        angles = taimatsu.rand(specgram.shape, dtype=cdtype, device=specgram.device)
    else:
        angles = taimatsu.ones(specgram.shape, dtype=cdtype, device=specgram.device)
    previous = None
    stft_args = dict(n_fft=n_fft, hop_length=hop_length, win_length=win_length,
                     window=window)
    for _ in range(n_iter):
        inverse = taimatsu.istft(specgram * angles, length=length, **stft_args)
        rebuilt = taimatsu.stft(inverse, center=True, pad_mode="reflect", normalized=False,
                                onesided=True, return_complex=True, **stft_args)
        angles = rebuilt
        if momentum and previous is not None:
            angles = angles - previous * momentum
        angles = angles / (angles.abs() + 1e-16)
        previous = rebuilt
    waveform = taimatsu.istft(specgram * angles, length=length, **stft_args)
    return waveform.reshape(tuple(shape[:-2]) + tuple(waveform.shape[-1:]))


# -- decibels, filter banks, DCT ---------------------------------------------------------------

def amplitude_to_DB(x: Tensor, multiplier: float, amin: float, db_multiplier: float,
                    top_db: float | None = None) -> Tensor:
    """multiplier * log10(max(x, amin)) - multiplier * db_multiplier, floored at top_db
    below the maximum of each (channel, freq, time) spectrogram group."""
    x_db = multiplier * taimatsu.log10(taimatsu.clamp(x, min=amin))
    x_db = x_db - multiplier * db_multiplier
    if top_db is None:
        return x_db
    shape = x_db.shape
    channels = shape[-3] if x_db.dim() > 2 else 1
    packed = x_db.reshape(-1, channels, shape[-2], shape[-1])
    floor = (packed.amax(dim=(-3, -2, -1)) - top_db).reshape(-1, 1, 1, 1)
    return taimatsu.maximum(packed, floor).reshape(shape)


def DB_to_amplitude(x: Tensor, ref: float, power: float) -> Tensor:
    """ref * (10 ** (0.1 x)) ** power: power 1 gives power, 0.5 amplitude."""
    return ref * taimatsu.pow(taimatsu.pow(10.0, 0.1 * x), power)


def _hz_to_mel(freq: float, mel_scale: str = "htk") -> float:
    if mel_scale not in ("slaney", "htk"):
        raise ValueError('mel_scale should be one of "htk" or "slaney".')
    if mel_scale == "htk":
        return 2595.0 * math.log10(1.0 + freq / 700.0)
    # Slaney: linear below 1 kHz (200/3 Hz per mel), logarithmic above
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, math.log(6.4) / 27.0
    if freq >= min_log_hz:
        return min_log_mel + math.log(freq / min_log_hz) / logstep
    return freq / f_sp


def _mel_to_hz(mels: np.ndarray, mel_scale: str = "htk") -> np.ndarray:
    if mel_scale not in ("slaney", "htk"):
        raise ValueError('mel_scale should be one of "htk" or "slaney".')
    if mel_scale == "htk":
        return 700.0 * (10.0 ** (mels / 2595.0) - 1.0)
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, math.log(6.4) / 27.0
    return np.where(mels >= min_log_mel, min_log_hz * np.exp(logstep * (mels - min_log_mel)),
                    f_sp * mels)


def _triangular_filterbank(all_freqs: np.ndarray, f_pts: np.ndarray) -> np.ndarray:
    """(n_freqs, n_filter): filter m rises from f_pts[m] to f_pts[m+1], falls to f_pts[m+2]."""
    f_diff = f_pts[1:] - f_pts[:-1]
    slopes = f_pts[None, :] - all_freqs[:, None]
    down = -slopes[:, :-2] / f_diff[:-1]
    up = slopes[:, 2:] / f_diff[1:]
    return np.maximum(0.0, np.minimum(down, up))


def melscale_fbanks(n_freqs: int, f_min: float, f_max: float, n_mels: int, sample_rate: int,
                    norm: str | None = None, mel_scale: str = "htk") -> Tensor:
    """Triangular mel filter bank (n_freqs, n_mels): spectrogram (..., time, n_freqs) @ fb.

    Args:
        norm: "slaney" divides each triangle by its width in Hz (area normalization)
        mel_scale: "htk" or "slaney"
    """
    if norm is not None and norm != "slaney":
        raise ValueError('norm must be one of None or "slaney"')
    all_freqs = np.linspace(0, sample_rate // 2, n_freqs)
    m_min, m_max = _hz_to_mel(f_min, mel_scale), _hz_to_mel(f_max, mel_scale)
    f_pts = _mel_to_hz(np.linspace(m_min, m_max, n_mels + 2), mel_scale)
    fb = _triangular_filterbank(all_freqs, f_pts)
    if norm == "slaney":
        fb = fb * (2.0 / (f_pts[2:n_mels + 2] - f_pts[:n_mels]))[None, :]
    if (fb.max(axis=0) == 0.0).any():
        warnings.warn("At least one mel filterbank has all zero values. "
                      f"The value for `n_mels` ({n_mels}) may be set too high. "
                      f"Or, the value for `n_freqs` ({n_freqs}) may be set too low.")
    return taimatsu.from_numpy(fb.astype(np.float32))


def linear_fbanks(n_freqs: int, f_min: float, f_max: float, n_filter: int,
                  sample_rate: int) -> Tensor:
    """Triangular filter bank (n_freqs, n_filter) with linearly spaced centres."""
    all_freqs = np.linspace(0, sample_rate // 2, n_freqs)
    f_pts = np.linspace(f_min, f_max, n_filter + 2)
    return taimatsu.from_numpy(_triangular_filterbank(all_freqs, f_pts).astype(np.float32))


def create_dct(n_mfcc: int, n_mels: int, norm: str | None) -> Tensor:
    """DCT-II matrix (n_mels, n_mfcc) to right-multiply row-wise data; norm "ortho" or None
    (None scales by 2, as torchaudio)."""
    if norm is not None and norm != "ortho":
        raise ValueError('norm must be either "ortho" or None')
    n = np.arange(float(n_mels))
    k = np.arange(float(n_mfcc))[:, None]
    dct = np.cos(math.pi / float(n_mels) * (n + 0.5) * k)
    if norm is None:
        dct *= 2.0
    else:
        dct[0] *= 1.0 / math.sqrt(2.0)
        dct *= math.sqrt(2.0 / float(n_mels))
    return taimatsu.from_numpy(np.ascontiguousarray(dct.T).astype(np.float32))


# -- mu-law ------------------------------------------------------------------------------------

def mu_law_encoding(x: Tensor, quantization_channels: int) -> Tensor:
    """Mu-law companding of a signal in [-1, 1] to int64 codes 0 .. channels - 1."""
    mu = quantization_channels - 1.0
    if not x.is_floating_point():
        warnings.warn("The input Tensor must be of floating type. This will be an error in "
                      "the v0.12 release.")
        x = x.to(taimatsu.float32)
    x_mu = taimatsu.sign(x) * taimatsu.log1p(mu * x.abs()) / math.log1p(mu)
    return ((x_mu + 1) / 2 * mu + 0.5).to(taimatsu.int64)


def mu_law_decoding(x_mu: Tensor, quantization_channels: int) -> Tensor:
    """Inverse of mu_law_encoding: codes 0 .. channels - 1 to a signal in [-1, 1]."""
    mu = quantization_channels - 1.0
    if not x_mu.is_floating_point():
        x_mu = x_mu.to(taimatsu.float32)
    x = x_mu / mu * 2 - 1.0
    return taimatsu.sign(x) * (taimatsu.exp(x.abs() * math.log1p(mu)) - 1.0) / mu


# -- phase vocoder and masking -------------------------------------------------------------------

def _polar(magnitude: Tensor, phase: Tensor) -> Tensor:
    return magnitude * taimatsu.cos(phase) + 1j * (magnitude * taimatsu.sin(phase))


def phase_vocoder(complex_specgrams: Tensor, rate: float, phase_advance: Tensor) -> Tensor:
    """Speeds a complex STFT (..., freq, frames) up by `rate` keeping the pitch:
    ceil(frames / rate) frames, phases accumulated from `phase_advance` (freq, 1)."""
    if rate == 1.0:
        return complex_specgrams
    shape = complex_specgrams.shape
    specs = complex_specgrams.reshape((-1,) + tuple(shape[-2:]))
    real_dtype = specs.dtype.to_real()
    time_steps = taimatsu.arange(0, specs.shape[-1], rate, dtype=real_dtype,
                                 device=specs.device)
    alphas = time_steps % 1.0
    phase_0 = taimatsu.angle(specs[..., :1])
    specs = F.pad(specs, [0, 2])
    index = time_steps.long()
    specs_0 = specs.index_select(-1, index)
    specs_1 = specs.index_select(-1, index + 1)
    angle_0, angle_1 = taimatsu.angle(specs_0), taimatsu.angle(specs_1)
    norm_0, norm_1 = specs_0.abs(), specs_1.abs()
    phase = angle_1 - angle_0 - phase_advance
    phase = phase - 2 * math.pi * taimatsu.round(phase / (2 * math.pi))
    phase = phase + phase_advance
    phase = taimatsu.cat([phase_0, phase[..., :-1]], dim=-1)
    phase_acc = taimatsu.cumsum(phase, -1)
    mag = alphas * norm_1 + (1 - alphas) * norm_0
    stretched = _polar(mag, phase_acc)
    return stretched.reshape(tuple(shape[:-2]) + tuple(stretched.shape[1:]))


def _mask_param(mask_param: int, p: float, axis_length: int) -> int:
    return mask_param if p == 1.0 else min(mask_param, int(axis_length * p))


def _check_mask_args(dim: int, axis: int, p: float) -> None:
    if axis not in (dim - 2, dim - 1):
        raise ValueError("Only Frequency and Time masking are supported "
                         f"(axis {dim - 2} and axis {dim - 1} supported; {axis} given).")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"The value of p must be between 0.0 and 1.0 ({p} given).")


def mask_along_axis_iid(specgrams: Tensor, mask_param: int, mask_value, axis: int,
                        p: float = 1.0) -> Tensor:
    """Masks [v0, v0 + v) along `axis` (one of the last two), v ~ U(0, mask_param) and
    v0 ~ U(0, size - v) drawn independently for every example of the leading dims."""
    dim = specgrams.dim()
    if dim < 3:
        raise ValueError(f"Spectrogram must have at least three dimensions ({dim} given).")
    _check_mask_args(dim, axis, p)
    mask_param = _mask_param(mask_param, p, specgrams.shape[axis])
    if mask_param < 1:
        return specgrams
    device, dtype = specgrams.device, specgrams.dtype
    lead = tuple(specgrams.shape[:dim - 2])
    value = taimatsu.rand(lead, device=device, dtype=dtype) * mask_param
    min_value = taimatsu.rand(lead, device=device, dtype=dtype) * (specgrams.shape[axis] - value)
    mask_start = min_value.long()[..., None, None]
    mask_end = (min_value.long() + value.long())[..., None, None]
    positions = taimatsu.arange(0, specgrams.shape[axis], device=device, dtype=dtype)
    moved = specgrams.transpose(axis, -1)
    masked = (positions >= mask_start) & (positions < mask_end)
    return taimatsu.where(masked, mask_value, moved).transpose(axis, -1)


def mask_along_axis(specgram: Tensor, mask_param: int, mask_value, axis: int,
                    p: float = 1.0) -> Tensor:
    """Masks one [v0, v0 + v) stretch along `axis` (one of the last two) for the whole
    batch, v ~ U(0, mask_param), v0 ~ U(0, size - v)."""
    dim = specgram.dim()
    if dim < 2:
        raise ValueError("Spectrogram must have at least two dimensions (time and frequency) "
                         f"({dim} given).")
    _check_mask_args(dim, axis, p)
    mask_param = _mask_param(mask_param, p, specgram.shape[axis])
    if mask_param < 1:
        return specgram
    size = specgram.shape[axis]
    value = float(taimatsu.rand(1).item()) * mask_param
    min_value = float(taimatsu.rand(1).item()) * (size - value)
    start = int(min_value)
    end = start + int(value)
    positions = taimatsu.arange(0, size, device=specgram.device)
    masked = (positions >= start) & (positions < end)
    if axis == dim - 2:
        masked = masked.unsqueeze(-1)
    return taimatsu.where(masked, mask_value, specgram)


# -- deltas, pitch, centroid -----------------------------------------------------------------------

def compute_deltas(specgram: Tensor, win_length: int = 5, mode: str = "replicate") -> Tensor:
    """Delta coefficients along time: d_t = sum_n n (c_{t+n} - c_{t-n}) / (2 sum_n n^2),
    n = 1 .. (win_length - 1) // 2, edges padded with `mode`."""
    if win_length < 3:
        raise ValueError(f"Window length should be greater than or equal to 3. Found win_length "
                         f"{win_length}")
    shape = specgram.shape
    length = shape[-1]
    n = (win_length - 1) // 2
    denom = n * (n + 1) * (2 * n + 1) / 3
    padded = F.pad(specgram.reshape(1, -1, length), (n, n), mode=mode)
    out = sum(k * (padded[..., n + k:n + k + length] - padded[..., n - k:n - k + length])
              for k in range(1, n + 1))
    return (out / denom).reshape(shape)


def _nccf(x: np.ndarray, sample_rate: int, frame_time: float, freq_low: int) -> np.ndarray:
    """Normalized cross-correlation (..., frames, lags) of non-overlapping frames with the
    signal `lag` samples later, lag = 1 .. ceil(sample_rate / freq_low)."""
    xp = backend.of(x)
    eps = 1e-9
    lags = int(math.ceil(sample_rate / freq_low))
    frame_size = int(math.ceil(sample_rate * frame_time))
    n_frames = int(math.ceil(x.shape[-1] / frame_size))
    pad = lags + n_frames * frame_size - x.shape[-1]
    x = xp.concatenate([x, xp.zeros(x.shape[:-1] + (pad,), dtype=x.dtype)], axis=-1)
    span = n_frames * frame_size
    frames = x[..., :span].reshape(x.shape[:-1] + (n_frames, frame_size))
    energy = (eps + xp.sqrt((frames * frames).sum(-1))) ** 2
    out = []
    for lag in range(1, lags + 1):
        shifted = x[..., lag:lag + span].reshape(frames.shape)
        shifted_energy = (eps + xp.sqrt((shifted * shifted).sum(-1))) ** 2
        out.append((frames * shifted).sum(-1) / energy / shifted_energy)
    return xp.stack(out, axis=-1)


def detect_pitch_frequency(waveform: Tensor, sample_rate: int, frame_time: float = 10 ** (-2),
                           win_length: int = 30, freq_low: int = 85,
                           freq_high: int = 3400) -> Tensor:
    """Pitch (Hz) per frame of (..., time) audio: the lag maximising the normalized
    cross-correlation (preferring a near-maximum at half the lags), median-smoothed over
    win_length frames."""
    shape = waveform.shape
    x = waveform.detach().reshape(-1, shape[-1])._data
    xp = backend.of(x)
    nccf = _nccf(x, sample_rate, frame_time, freq_low)
    lag_min = int(math.ceil(sample_rate / freq_high))
    best_idx = xp.argmax(nccf[..., lag_min:], axis=-1)
    best = xp.take_along_axis(nccf[..., lag_min:], best_idx[..., None], -1)[..., 0]
    half_size = nccf.shape[-1] // 2
    half_idx = xp.argmax(nccf[..., lag_min:half_size], axis=-1)
    half = xp.take_along_axis(nccf[..., lag_min:half_size], half_idx[..., None], -1)[..., 0]
    indices = xp.where(half > 0.99 * best, half_idx, best_idx) + lag_min + 1
    # median smoothing: the first value repeated on the left, then a sliding lower median
    pad_length = (win_length - 1) // 2
    indices = xp.concatenate([xp.repeat(indices[..., :1], pad_length, axis=-1), indices],
                             axis=-1)
    windows = xp.lib.stride_tricks.sliding_window_view(indices, win_length, axis=-1)
    smoothed = xp.sort(windows, axis=-1)[..., (win_length - 1) // 2]
    freq = (sample_rate / (1e-9 + smoothed.astype(np.float32))).astype(np.float32)
    freq = Tensor._make(freq)  # an array of the input's backend, wrapped without a copy
    return freq.reshape(tuple(shape[:-1]) + tuple(freq.shape[-1:]))


def spectral_centroid(waveform: Tensor, sample_rate: int, pad: int, window: Tensor,
                      n_fft: int, hop_length: int, win_length: int) -> Tensor:
    """Magnitude-weighted mean frequency (Hz) of each frame: (..., frames)."""
    specgram = spectrogram(waveform, pad=pad, window=window, n_fft=n_fft,
                           hop_length=hop_length, win_length=win_length, power=1.0,
                           normalized=False)
    freqs = taimatsu.linspace(0, sample_rate // 2, steps=1 + n_fft // 2,
                              device=specgram.device).reshape(-1, 1)
    return (freqs * specgram).sum(dim=-2) / specgram.sum(dim=-2)


# -- resampling ----------------------------------------------------------------------------------

def _sinc_resample_kernel(orig_freq: int, new_freq: int, gcd: int,
                          lowpass_filter_width: int = 6, rolloff: float = 0.99,
                          resampling_method: str = "sinc_interp_hann",
                          beta: float | None = None, dtype=None):
    """torchaudio's windowed-sinc polyphase kernel (new_freq, 1, taps) and its half-width.

    Output phase j samples the band-limited input at time j / new_freq:
    k_j(i) = w(t) sinc(t) * base_freq / orig_freq with t = base_freq (i / orig - j / new)
    clamped to +-lowpass_filter_width zero crossings, base_freq = min(orig, new) * rolloff,
    w the Hann (cos^2(pi t / 2 / width)) or Kaiser (I0(beta sqrt(1 - (t / width)^2)) /
    I0(beta)) window. Computed in `dtype` (float64 then cast to float32 when None), in
    torchaudio's order of operations.
    """
    if not (int(orig_freq) == orig_freq and int(new_freq) == new_freq):
        raise ValueError(
            "Frequencies must be of integer type to ensure quality resampling computation. "
            "To work around this, manually convert both frequencies to integer values "
            "that maintain their resampling rate ratio before passing them into the function. "
            "Example: To downsample a 44100 hz waveform by a factor of 8, use "
            "`orig_freq=8` and `new_freq=1` instead of `orig_freq=44100` and "
            "`new_freq=5512.5`.")
    if resampling_method in ("sinc_interpolation", "kaiser_window"):
        renamed = {"sinc_interpolation": "sinc_interp_hann",
                   "kaiser_window": "sinc_interp_kaiser"}[resampling_method]
        warnings.warn(f'"{resampling_method}" resampling method name is being deprecated and '
                      f'replaced by "{renamed}" in the next release. The default behavior '
                      "remains unchanged.", stacklevel=3)
        resampling_method = renamed
    elif resampling_method not in ("sinc_interp_hann", "sinc_interp_kaiser"):
        raise ValueError(f"Invalid resampling method: {resampling_method}")
    orig_freq, new_freq = int(orig_freq) // gcd, int(new_freq) // gcd
    if lowpass_filter_width <= 0:
        raise ValueError("Low pass filter width should be positive.")
    base_freq = min(orig_freq, new_freq) * rolloff
    width = math.ceil(lowpass_filter_width * orig_freq / base_freq)
    np_dtype = None if dtype is None else taimatsu._dtype.to_dtype(dtype).np.type
    idx_type = np_dtype or np.float64
    idx = np.arange(-width, width + orig_freq, dtype=idx_type)[None, None] / idx_type(orig_freq)
    # with no dtype torchaudio divides an int64 arange: the default float dtype, float32
    phase_type = np_dtype or np.float32
    phases = (np.arange(0, -new_freq, -1).astype(phase_type)[:, None, None]
              / phase_type(new_freq))
    t = (phases + idx) * base_freq
    t = np.clip(t, -lowpass_filter_width, lowpass_filter_width)
    if resampling_method == "sinc_interp_hann":
        window = np.cos(t * math.pi / lowpass_filter_width / 2) ** 2
    else:
        beta32 = np.float32(14.769656459379492 if beta is None else beta)
        window = (np.i0(beta32.astype(t.dtype) * np.sqrt(1 - (t / lowpass_filter_width) ** 2))
                  / np.float32(np.i0(np.float64(beta32))))
    t = t * math.pi
    scale = base_freq / orig_freq
    with np.errstate(invalid="ignore", divide="ignore"):
        kernels = np.where(t == 0, np.asarray(1.0, dtype=t.dtype), np.sin(t) / t)
    kernels = kernels * (window * scale)
    kernels = kernels.astype(np_dtype or np.float32)
    return taimatsu.from_numpy(np.ascontiguousarray(kernels)), width


def _apply_sinc_resample_kernel(waveform: Tensor, orig_freq: int, new_freq: int, gcd: int,
                                kernel: Tensor, width: int) -> Tensor:
    if not waveform.is_floating_point():
        raise TypeError(f"Expected floating point type for waveform tensor, but received "
                        f"{waveform.dtype}.")
    orig_freq, new_freq = int(orig_freq) // gcd, int(new_freq) // gcd
    shape = waveform.shape
    waveform = waveform.reshape(-1, shape[-1])
    num_wavs, length = waveform.shape
    padded = F.pad(waveform, (width, width + orig_freq))
    kernel = kernel.to(device=waveform.device, dtype=waveform.dtype)
    resampled = F.conv1d(padded[:, None], kernel, stride=orig_freq)
    resampled = resampled.transpose(1, 2).reshape(num_wavs, -1)
    target_length = int(math.ceil(new_freq * length / orig_freq))
    resampled = resampled[..., :target_length]
    return resampled.reshape(tuple(shape[:-1]) + tuple(resampled.shape[-1:]))


def resample(waveform: Tensor, orig_freq: int, new_freq: int, lowpass_filter_width: int = 6,
             rolloff: float = 0.99, resampling_method: str = "sinc_interp_hann",
             beta: float | None = None) -> Tensor:
    """Band-limited resampling of (..., time) from orig_freq to new_freq (Hz).

    Args:
        lowpass_filter_width: zero crossings of the sinc on each side (sharper when larger)
        rolloff: cutoff as a fraction of the lower Nyquist frequency
        resampling_method: "sinc_interp_hann" or "sinc_interp_kaiser"
        beta: the Kaiser window's shape (default 14.769656459379492)
    """
    if orig_freq <= 0.0 or new_freq <= 0.0:
        raise ValueError("Original frequency and desired frequecy should be positive")
    if orig_freq == new_freq:
        return waveform
    gcd = math.gcd(int(orig_freq), int(new_freq))
    kernel, width = _sinc_resample_kernel(orig_freq, new_freq, gcd, lowpass_filter_width,
                                          rolloff, resampling_method, beta, waveform.dtype)
    return _apply_sinc_resample_kernel(waveform, orig_freq, new_freq, gcd, kernel, width)


# -- pitch shift, speed, convolution, noise ---------------------------------------------------------

def _stretch_waveform(waveform: Tensor, n_steps: float, bins_per_octave: int = 12,
                      n_fft: int = 512, win_length: int | None = None,
                      hop_length: int | None = None, window: Tensor | None = None) -> Tensor:
    """The phase-vocoder time stretch by 2 ** (n_steps / bins_per_octave) before the
    resampling step of pitch_shift."""
    hop_length = n_fft // 4 if hop_length is None else hop_length
    win_length = n_fft if win_length is None else win_length
    if window is None:
        window = taimatsu.hann_window(win_length, device=waveform.device)
    shape = waveform.shape
    waveform = waveform.reshape(-1, shape[-1])
    rate = 2.0 ** (-float(n_steps) / bins_per_octave)
    spec = taimatsu.stft(waveform, n_fft=n_fft, hop_length=hop_length, win_length=win_length,
                         window=window, center=True, pad_mode="reflect", normalized=False,
                         onesided=True, return_complex=True)
    phase_advance = taimatsu.linspace(0, math.pi * hop_length, spec.shape[-2],
                                      device=spec.device)[..., None]
    stretched = phase_vocoder(spec, rate, phase_advance)
    return taimatsu.istft(stretched, n_fft=n_fft, hop_length=hop_length,
                          win_length=win_length, window=window,
                          length=int(round(shape[-1] / rate)))


def _fix_waveform_shape(shifted: Tensor, shape) -> Tensor:
    length = shape[-1]
    if shifted.shape[-1] > length:
        shifted = shifted[..., :length]
    else:
        shifted = F.pad(shifted, [0, length - shifted.shape[-1]])
    return shifted.reshape(tuple(shape[:-1]) + tuple(shifted.shape[-1:]))


def pitch_shift(waveform: Tensor, sample_rate: int, n_steps: float, bins_per_octave: int = 12,
                n_fft: int = 512, win_length: int | None = None,
                hop_length: int | None = None, window: Tensor | None = None) -> Tensor:
    """Shifts the pitch by n_steps (fractional) steps of 1 / bins_per_octave octave,
    keeping the duration: a phase-vocoder stretch, then resampling."""
    stretched = _stretch_waveform(waveform, n_steps, bins_per_octave, n_fft, win_length,
                                  hop_length, window)
    rate = 2.0 ** (-float(n_steps) / bins_per_octave)
    shifted = resample(stretched, int(sample_rate / rate), sample_rate)
    return _fix_waveform_shape(shifted, waveform.shape)


def speed(waveform: Tensor, orig_freq: int, factor: float,
          lengths: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
    """Plays (..., time) `factor` times faster by resampling; also scales `lengths`."""
    source, target = int(factor * orig_freq), int(orig_freq)
    gcd = math.gcd(source, target)
    source, target = source // gcd, target // gcd
    out_lengths = None
    if lengths is not None:
        out_lengths = taimatsu.ceil(lengths * target / source).to(lengths.dtype)
    return resample(waveform, source, target), out_lengths


def _check_shape_compatible(x: Tensor, y: Tensor) -> None:
    if x.ndim != y.ndim:
        raise ValueError(f"The operands must be the same dimension (got {x.ndim} and {y.ndim}).")
    for xi, yi in zip(x.shape[:-1], y.shape[:-1]):
        if not (xi == yi or xi == 1 or yi == 1):
            raise ValueError("Leading dimensions of x and y are not broadcastable "
                             f"(got {x.shape} and {y.shape}).")


_CONVOLVE_MODES = ["full", "valid", "same"]


def _check_convolve_mode(mode: str) -> None:
    if mode not in _CONVOLVE_MODES:
        raise ValueError(f"Unrecognized mode value '{mode}'. Please specify one of "
                         f"{_CONVOLVE_MODES}.")


def _apply_convolve_mode(result: Tensor, x_length: int, y_length: int, mode: str) -> Tensor:
    if mode == "full":
        return result
    if mode == "valid":
        target = max(x_length, y_length) - min(x_length, y_length) + 1
    else:
        target = x_length
    start = (result.shape[-1] - target) // 2
    return result[..., start:start + target]


def fftconvolve(x: Tensor, y: Tensor, mode: str = "full") -> Tensor:
    """True convolution of x (..., N) and y (..., M) along the last dim, through the FFT;
    mode "full" (N + M - 1), "valid" or "same" (N)."""
    _check_shape_compatible(x, y)
    _check_convolve_mode(mode)
    n = x.shape[-1] + y.shape[-1] - 1
    product = taimatsu.fft.rfft(x, n=n) * taimatsu.fft.rfft(y, n=n)
    return _apply_convolve_mode(taimatsu.fft.irfft(product, n=n), x.shape[-1], y.shape[-1],
                                mode)


def convolve(x: Tensor, y: Tensor, mode: str = "full") -> Tensor:
    """True convolution of x (..., N) and y (..., M) along the last dim, computed directly
    (a grouped conv1d with the flipped kernel)."""
    _check_shape_compatible(x, y)
    _check_convolve_mode(mode)
    x_size, y_size = x.shape[-1], y.shape[-1]
    if x_size < y_size:
        x, y = y, x
    lead = [max(i, j) for i, j in zip(x.shape[:-1], y.shape[:-1])]
    x = x.expand(*lead, x.shape[-1])
    y = y.expand(*lead, y.shape[-1])
    signals = int(np.prod(lead)) if lead else 1
    flat_x = x.reshape(1, signals, x.shape[-1])
    kernel = y.reshape(signals, 1, y.shape[-1]).flip(-1)
    out = F.conv1d(flat_x, kernel, groups=signals, padding=y.shape[-1] - 1)
    return _apply_convolve_mode(out.reshape(*lead, -1), x_size, y_size, mode)


def add_noise(waveform: Tensor, noise: Tensor, snr: Tensor,
              lengths: Tensor | None = None) -> Tensor:
    """waveform + noise scaled to the signal-to-noise ratio `snr` (dB) per signal; only the
    first `lengths` samples count towards the energies."""
    if not (waveform.ndim - 1 == noise.ndim - 1 == snr.ndim
            and (lengths is None or lengths.ndim == snr.ndim)):
        raise ValueError("Input leading dimensions don't match.")
    L = waveform.shape[-1]
    if L != noise.shape[-1]:
        raise ValueError(f"Length dimensions of waveform and noise don't match (got {L} and "
                         f"{noise.shape[-1]}).")
    if lengths is not None:
        mask = taimatsu.arange(0, L, device=lengths.device).expand(waveform.shape) \
            < lengths.unsqueeze(-1)
        masked_waveform, masked_noise = waveform * mask, noise * mask
    else:
        masked_waveform, masked_noise = waveform, noise
    energy_signal = (masked_waveform * masked_waveform).sum(-1)
    energy_noise = (masked_noise * masked_noise).sum(-1)
    original_snr_db = 10 * (taimatsu.log10(energy_signal) - taimatsu.log10(energy_noise))
    scale = 10 ** ((original_snr_db - snr) / 20.0)
    return waveform + scale.unsqueeze(-1) * noise


def preemphasis(waveform: Tensor, coeff: float = 0.97) -> Tensor:
    """y[i] = x[i] - coeff * x[i - 1] along the last dim."""
    return taimatsu.cat([waveform[..., :1], waveform[..., 1:] - coeff * waveform[..., :-1]],
                        dim=-1)


def deemphasis(waveform: Tensor, coeff: float = 0.97) -> Tensor:
    """Inverse of preemphasis: y[i] = x[i] + coeff * y[i - 1] (output clamped to [-1, 1])."""
    a = taimatsu.tensor([1.0, -coeff], dtype=waveform.dtype, device=waveform.device)
    b = taimatsu.tensor([1.0, 0.0], dtype=waveform.dtype, device=waveform.device)
    return lfilter(waveform, a_coeffs=a, b_coeffs=b)


# -- misc ------------------------------------------------------------------------------------------

def edit_distance(seq1, seq2) -> int:
    """Levenshtein distance between two sequences (characters of strings, or words of lists)."""
    previous = list(range(len(seq2) + 1))
    for i in range(1, len(seq1) + 1):
        current = [i] + [0] * len(seq2)
        for j in range(1, len(seq2) + 1):
            if seq1[i - 1] == seq2[j - 1]:
                current[j] = previous[j - 1]
            else:
                current[j] = min(previous[j - 1], current[j - 1], previous[j]) + 1
        previous = current
    return int(previous[-1])


def loudness(waveform: Tensor, sample_rate: int) -> Tensor:
    """Integrated loudness (LKFS) of (..., channels, time) audio per ITU-R BS.1770-4."""
    from .filtering import highpass_biquad, treble_biquad
    if waveform.shape[-2] > 5:
        raise ValueError("Only up to 5 channels are supported.")
    gate_samples = int(round(0.4 * sample_rate))
    step = int(round(gate_samples * 0.25))
    waveform = treble_biquad(waveform, sample_rate, 4.0, 1500.0, 1 / math.sqrt(2))
    waveform = highpass_biquad(waveform, sample_rate, 38.0, 0.5)
    # mean energy of 400 ms blocks every 100 ms, as differences of a running sum
    n_blocks = max(0, 1 + (waveform.shape[-1] - gate_samples) // step)
    running = F.pad(taimatsu.cumsum(waveform * waveform, -1), (1, 0))
    starts = taimatsu.arange(n_blocks, device=waveform.device) * step
    energy = (running.index_select(-1, starts + gate_samples)
              - running.index_select(-1, starts)) / gate_samples
    g = taimatsu.tensor([1.0, 1.0, 1.0, 1.41, 1.41], dtype=waveform.dtype,
                        device=waveform.device)[:energy.shape[-2]]
    weighted = (g.unsqueeze(-1) * energy).sum(-2)
    block_loudness = -0.691 + 10 * taimatsu.log10(weighted)
    gated = (block_loudness > -70.0).unsqueeze(-2)
    kept = (gated * energy).sum(-1) / gated.sum(-1)
    gamma_rel = -0.691 + 10 * taimatsu.log10((g * kept).sum(-1)) - 10
    gated = ((block_loudness > -70.0) & (block_loudness > gamma_rel.unsqueeze(-1))).unsqueeze(-2)
    kept = (gated * energy).sum(-1) / gated.sum(-1)
    return -0.691 + 10 * taimatsu.log10((g * kept).sum(-1))
