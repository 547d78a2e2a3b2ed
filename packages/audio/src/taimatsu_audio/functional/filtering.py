"""IIR filtering: lfilter (differentiable in the waveform and both coefficient sets),
filtfilt, the SoX/Audio-EQ-cookbook biquads, and a few simple effects."""

from __future__ import annotations

import math

import numpy as np

import taimatsu
from taimatsu import Tensor, backend
from taimatsu.autograd.node import Function

__all__ = ["lfilter", "filtfilt", "biquad", "allpass_biquad", "band_biquad", "bandpass_biquad",
           "bandreject_biquad", "bass_biquad", "treble_biquad", "equalizer_biquad",
           "highpass_biquad", "lowpass_biquad", "deemph_biquad", "riaa_biquad", "gain",
           "contrast", "dcshift"]


# -- the recursion on arrays -----------------------------------------------------------------

def _iir_array(x, a, b):
    """y with sum_k a[c, k] y[..., c, n-k] = sum_k b[c, k] x[..., c, n-k] (zero initial state).

    x: (..., C, T); a, b: (C, K). SciPy's C loop when available, else a NumPy recursion
    vectorised over everything but time.
    """
    xp = backend.of(x)
    if xp is np:
        try:
            from scipy.signal import lfilter as scipy_lfilter
        except ImportError:
            scipy_lfilter = None
        if scipy_lfilter is not None:
            out = np.empty_like(x)
            for c in range(a.shape[0]):
                out[..., c, :] = scipy_lfilter(b[c], a[c], x[..., c, :], axis=-1)
            return out
    return _iir_loop(xp, x, a, b)


def _iir_loop(xp, x, a, b):
    """The difference equation one sample at a time (CuPy, or NumPy without SciPy)."""
    a0 = a[:, :1]
    a_n, b_n = a / a0, b / a0
    order = a.shape[1]
    feed = xp.zeros_like(x)  # the FIR part, vectorised
    for k in range(order):
        feed[..., k:] += b_n[:, k:k + 1] * x[..., :x.shape[-1] - k]
    y = xp.zeros_like(x)
    for n in range(x.shape[-1]):
        acc = feed[..., n]
        for k in range(1, min(order, n + 1)):
            acc = acc - a_n[:, k] * y[..., n - k]
        y[..., n] = acc
    return y


# -- differentiable lfilter ----------------------------------------------------------------

def _shift(xp, s, k: int):
    """s delayed by k samples along the last dim (zeros shifted in)."""
    if k == 0:
        return s
    return xp.concatenate([xp.zeros_like(s[..., :k]), s[..., :-k]], axis=-1)


def _advance(xp, s, k: int):
    """s advanced by k samples along the last dim (zeros at the end)."""
    if k == 0:
        return s
    return xp.concatenate([s[..., k:], xp.zeros_like(s[..., :k])], axis=-1)


def _all_pole(a):
    """The coefficients [1, 0, ..., 0] that turn B/A into the all-pole filter 1/A."""
    if isinstance(a, Tensor):
        e0 = taimatsu.zeros_like(a).detach()
        e0[:, 0] = 1
        return e0
    e0 = backend.of(a).zeros_like(a)
    e0[:, 0] = 1
    return e0


class _LFilter(Function):
    """y = (B/A) x channel-wise: x (N, C, T), a and b (C, K).

    With r = A^-T g (the all-pole filter run backwards over the output gradient g),
    dL/dx = B^T r, dL/db_k = sum r[n] x[n-k] and dL/da_k = -sum r[n] y[n-k].
    """

    @staticmethod
    def forward(ctx, x, a, b):
        y = _iir_array(x, a, b)
        if ctx.needs_input_grad:
            ctx.save_for_backward(x, a, b, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, a, b, y = ctx.saved_arrays
        xp = ctx.xp
        need = ctx.needs_input_grad
        flipped = xp.flip(grad, axis=-1)
        if isinstance(grad, Tensor):
            r = _LFilter.apply(flipped, a, _all_pole(a))
        else:
            r = _iir_array(xp.ascontiguousarray(flipped), a, _all_pole(a))
        r = xp.flip(r, axis=-1)
        order = a.shape[1]
        lead = tuple(i for i in range(grad.ndim) if i != grad.ndim - 2)
        gx = ga = gb = None
        if need[0]:
            gx = sum(_advance(xp, r, k) * xp.expand_dims(b[:, k], -1) for k in range(order))
        if need[1]:
            ga = -xp.stack([xp.sum(r * _shift(xp, y, k), axis=lead) for k in range(order)],
                           axis=-1)
        if need[2]:
            gb = xp.stack([xp.sum(r * _shift(xp, x, k), axis=lead) for k in range(order)],
                          axis=-1)
        return gx, ga, gb


def lfilter(waveform: Tensor, a_coeffs: Tensor, b_coeffs: Tensor, clamp: bool = True,
            batching: bool = True) -> Tensor:
    """IIR filter along the last dim: sum_k a_k y[n-k] = sum_k b_k x[n-k].

    Args:
        waveform: (..., time), normalised to [-1, 1]
        a_coeffs, b_coeffs: (order + 1,) or (num_filters, order + 1), lowest delay first
        clamp: clamp the output to [-1, 1]
        batching: with 2D coefficients, filter i applies to waveform[..., i, :] (True) or
            every filter to the whole waveform, adding a filter dim (False)

    Returns:
        (..., time), or (..., num_filters, time) for 2D coefficients.
    """
    if a_coeffs.shape != b_coeffs.shape:
        raise ValueError("Expected coeffs to be the same size."
                         f"Found: a_coeffs size: {a_coeffs.shape}, b_coeffs size: "
                         f"{b_coeffs.shape}")
    if a_coeffs.ndim > 2:
        raise ValueError(f"Expected coeffs to have greater than 1 dimension. Found: "
                         f"{a_coeffs.ndim}")
    if a_coeffs.ndim > 1:
        if batching:
            if waveform.ndim <= 0:
                raise ValueError("Expected waveform to have a positive number of dimensions."
                                 f"Found: {waveform.ndim}")
            if waveform.shape[-2] != a_coeffs.shape[0]:
                raise ValueError("Expected number of batches in waveform and coeffs to be the "
                                 f"same.Found: coeffs batches: {a_coeffs.shape[0]}, waveform "
                                 f"batches: {waveform.shape[-2]}")
        else:
            waveform = taimatsu.stack([waveform] * a_coeffs.shape[0], -2)
    else:
        a_coeffs = a_coeffs.unsqueeze(0)
        b_coeffs = b_coeffs.unsqueeze(0)
    if a_coeffs.shape[1] <= 0:
        raise ValueError(f"Expected n_order to be positive. Found: {a_coeffs.shape[1]}")
    shape = waveform.shape
    packed = waveform.reshape(-1, a_coeffs.shape[0], shape[-1])
    output = _LFilter.apply(packed, a_coeffs.to(waveform.dtype), b_coeffs.to(waveform.dtype))
    if clamp:
        output = taimatsu.clamp(output, min=-1.0, max=1.0)
    return output.reshape(shape)


def filtfilt(waveform: Tensor, a_coeffs: Tensor, b_coeffs: Tensor,
             clamp: bool = True) -> Tensor:
    """Zero-phase filtering: lfilter forward, then backward over the reversed result."""
    forward = lfilter(waveform, a_coeffs, b_coeffs, clamp=False, batching=True)
    return lfilter(forward.flip(-1), a_coeffs, b_coeffs, clamp=clamp,
                   batching=True).flip(-1)


# -- biquads ---------------------------------------------------------------------------------

def _coef(value, like: Tensor) -> Tensor:
    """A coefficient (number or Tensor) as a 0-d Tensor of the waveform's dtype/device."""
    return taimatsu.as_tensor(value, dtype=like.dtype, device=like.device)


def biquad(waveform: Tensor, b0, b1, b2, a0, a1, a2) -> Tensor:
    """A second-order IIR filter with the given coefficients (zero initial state)."""
    a = taimatsu.stack([_coef(c, waveform).reshape(()) for c in (a0, a1, a2)])
    b = taimatsu.stack([_coef(c, waveform).reshape(()) for c in (b0, b1, b2)])
    return lfilter(waveform, a, b)


def _w0_alpha(waveform, sample_rate, freq, Q):
    freq, Q = _coef(freq, waveform), _coef(Q, waveform)
    w0 = 2 * math.pi * freq / sample_rate
    return freq, w0, taimatsu.sin(w0) / 2 / Q


def allpass_biquad(waveform: Tensor, sample_rate: int, central_freq, Q=0.707) -> Tensor:
    """Two-pole all-pass filter (as SoX)."""
    _, w0, alpha = _w0_alpha(waveform, sample_rate, central_freq, Q)
    cos = taimatsu.cos(w0)
    return biquad(waveform, 1 - alpha, -2 * cos, 1 + alpha, 1 + alpha, -2 * cos, 1 - alpha)


def band_biquad(waveform: Tensor, sample_rate: int, central_freq, Q=0.707,
                noise: bool = False) -> Tensor:
    """Two-pole band filter (as SoX); `noise` for un-pitched audio such as percussion."""
    freq, w0, _ = _w0_alpha(waveform, sample_rate, central_freq, Q)
    bandwidth = freq / _coef(Q, waveform)
    a2 = taimatsu.exp(-2 * math.pi * bandwidth / sample_rate)
    a1 = -4 * a2 / (1 + a2) * taimatsu.cos(w0)
    b0 = taimatsu.sqrt(1 - a1 * a1 / (4 * a2)) * (1 - a2)
    if noise:
        b0 = b0 * (taimatsu.sqrt(((1 + a2) * (1 + a2) - a1 * a1) * (1 - a2) / (1 + a2)) / b0)
    return biquad(waveform, b0, 0.0, 0.0, 1.0, a1, a2)


def bandpass_biquad(waveform: Tensor, sample_rate: int, central_freq, Q=0.707,
                    const_skirt_gain: bool = False) -> Tensor:
    """Two-pole band-pass filter: constant skirt gain (peak Q) or constant 0 dB peak."""
    _, w0, alpha = _w0_alpha(waveform, sample_rate, central_freq, Q)
    temp = taimatsu.sin(w0) / 2 if const_skirt_gain else alpha
    return biquad(waveform, temp, 0.0, -temp, 1 + alpha, -2 * taimatsu.cos(w0), 1 - alpha)


def bandreject_biquad(waveform: Tensor, sample_rate: int, central_freq, Q=0.707) -> Tensor:
    """Two-pole band-reject (notch) filter."""
    _, w0, alpha = _w0_alpha(waveform, sample_rate, central_freq, Q)
    cos = taimatsu.cos(w0)
    return biquad(waveform, 1.0, -2 * cos, 1.0, 1 + alpha, -2 * cos, 1 - alpha)


def _shelf(waveform, sample_rate, gain_db, freq, Q, sign: int) -> Tensor:
    """Low (sign=-1, bass) or high (sign=+1, treble) shelving filter."""
    _, w0, alpha = _w0_alpha(waveform, sample_rate, freq, Q)
    A = taimatsu.exp(_coef(gain_db, waveform) / 40 * math.log(10))
    temp1 = 2 * taimatsu.sqrt(A) * alpha
    temp2 = (A - 1) * taimatsu.cos(w0)
    temp3 = (A + 1) * taimatsu.cos(w0)
    b0 = A * ((A + 1) + sign * temp2 + temp1)
    b1 = -sign * 2 * A * ((A - 1) + sign * temp3)
    b2 = A * ((A + 1) + sign * temp2 - temp1)
    a0 = (A + 1) - sign * temp2 + temp1
    a1 = sign * 2 * ((A - 1) - sign * temp3)
    a2 = (A + 1) - sign * temp2 - temp1
    return b0, b1, b2, a0, a1, a2


def bass_biquad(waveform: Tensor, sample_rate: int, gain, central_freq=100,
                Q=0.707) -> Tensor:
    """Bass tone control: a low shelf of `gain` dB."""
    b0, b1, b2, a0, a1, a2 = _shelf(waveform, sample_rate, gain, central_freq, Q, -1)
    return biquad(waveform, b0 / a0, b1 / a0, b2 / a0, a0 / a0, a1 / a0, a2 / a0)


def treble_biquad(waveform: Tensor, sample_rate: int, gain, central_freq=3000,
                  Q=0.707) -> Tensor:
    """Treble tone control: a high shelf of `gain` dB."""
    return biquad(waveform, *_shelf(waveform, sample_rate, gain, central_freq, Q, 1))


def equalizer_biquad(waveform: Tensor, sample_rate: int, center_freq, gain,
                     Q=0.707) -> Tensor:
    """Peaking equalizer of `gain` dB around center_freq."""
    _, w0, alpha = _w0_alpha(waveform, sample_rate, center_freq, Q)
    A = taimatsu.exp(_coef(gain, waveform) / 40.0 * math.log(10))
    cos = taimatsu.cos(w0)
    return biquad(waveform, 1 + alpha * A, -2 * cos, 1 - alpha * A, 1 + alpha / A, -2 * cos,
                  1 - alpha / A)


def highpass_biquad(waveform: Tensor, sample_rate: int, cutoff_freq, Q=0.707) -> Tensor:
    """Second-order high-pass filter."""
    _, w0, alpha = _w0_alpha(waveform, sample_rate, cutoff_freq, Q)
    cos = taimatsu.cos(w0)
    b0 = (1 + cos) / 2
    return biquad(waveform, b0, -1 - cos, b0, 1 + alpha, -2 * cos, 1 - alpha)


def lowpass_biquad(waveform: Tensor, sample_rate: int, cutoff_freq, Q=0.707) -> Tensor:
    """Second-order low-pass filter."""
    _, w0, alpha = _w0_alpha(waveform, sample_rate, cutoff_freq, Q)
    cos = taimatsu.cos(w0)
    b0 = (1 - cos) / 2
    return biquad(waveform, b0, 1 - cos, b0, 1 + alpha, -2 * cos, 1 - alpha)


def deemph_biquad(waveform: Tensor, sample_rate: int) -> Tensor:
    """ISO 908 CD de-emphasis (a shelving filter) for 44.1 kHz or 48 kHz audio."""
    presets = {44100: (5283, 0.4845, -9.477), 48000: (5356, 0.479, -9.62)}
    if sample_rate not in presets:
        raise ValueError("Sample rate must be 44100 (audio-CD) or 48000 (DAT)")
    central_freq, width_slope, gain_db = presets[sample_rate]
    w0 = 2 * math.pi * central_freq / sample_rate
    A = math.exp(gain_db / 40.0 * math.log(10))
    alpha = math.sin(w0) / 2 * math.sqrt((A + 1 / A) * (1 / width_slope - 1) + 2)
    temp1, temp2, temp3 = 2 * math.sqrt(A) * alpha, (A - 1) * math.cos(w0), \
        (A + 1) * math.cos(w0)
    return biquad(waveform, A * ((A + 1) + temp2 + temp1), -2 * A * ((A - 1) + temp3),
                  A * ((A + 1) + temp2 - temp1), (A + 1) - temp2 + temp1,
                  2 * ((A - 1) - temp3), (A + 1) - temp2 - temp1)


_RIAA = {44100: ((-0.2014898, 0.9233820), (0.7083149, 0.9924091)),
         48000: ((-0.1766069, 0.9321590), (0.7396325, 0.9931330)),
         88200: ((-0.1168735, 0.9648312), (0.8590646, 0.9964002)),
         96000: ((-0.1141486, 0.9676817), (0.8699137, 0.9966946))}


def riaa_biquad(waveform: Tensor, sample_rate: int) -> Tensor:
    """RIAA vinyl playback equalisation (44.1, 48, 88.2 or 96 kHz), 0 dB at 1 kHz."""
    if sample_rate not in _RIAA:
        raise ValueError("Sample rate must be 44.1k, 48k, 88.2k, or 96k")
    zeros, poles = _RIAA[sample_rate]
    b = [1.0, -(zeros[0] + zeros[1]), zeros[0] * zeros[1]]
    a = [1.0, -(poles[0] + poles[1]), poles[0] * poles[1]]
    y = 2 * math.pi * 1000 / sample_rate
    response = [sum(c * complex(math.cos(-k * y), math.sin(-k * y)) for k, c in enumerate(p))
                for p in (b, a)]
    g = abs(response[1]) / abs(response[0])
    return biquad(waveform, b[0] * g, b[1] * g, b[2] * g, *a)


# -- simple effects --------------------------------------------------------------------------

def gain(waveform: Tensor, gain_db: float = 1.0) -> Tensor:
    """Amplifies (or attenuates) by gain_db decibels."""
    if gain_db == 0:
        return waveform
    return waveform * 10 ** (gain_db / 20)


def contrast(waveform: Tensor, enhancement_amount: float = 75.0) -> Tensor:
    """SoX's contrast effect: sin(x pi/2 + c sin(2 pi x)), c = enhancement / 750."""
    if not 0 <= enhancement_amount <= 100:
        raise ValueError("Allowed range of values for enhancement_amount : 0-100")
    c = enhancement_amount / 750.0
    temp1 = waveform * (math.pi / 2)
    return taimatsu.sin(temp1 + c * taimatsu.sin(temp1 * 4))


def dcshift(waveform: Tensor, shift: float, limiter_gain: float | None = None) -> Tensor:
    """Adds a DC offset; with limiter_gain, peaks beyond the limiter threshold are
    compressed instead of clipped (as SoX)."""
    if limiter_gain is None or shift == 0:
        return taimatsu.clamp(waveform + shift, -1, 1)
    threshold = 1.0 - (abs(shift) - limiter_gain)
    if shift > 0:
        peak = waveform > threshold
        limited = taimatsu.clamp((waveform - threshold) * limiter_gain / (1 - threshold)
                                 + threshold + shift, max=threshold)
    else:
        peak = waveform < -threshold
        limited = taimatsu.clamp((waveform + threshold) * limiter_gain / (1 - threshold)
                                 - threshold + shift, min=-threshold)
    return taimatsu.where(peak, limited, taimatsu.clamp(waveform + shift, -1, 1))
