"""Short-time Fourier transforms and window functions: torch.stft, torch.istft and
torch.{hann,hamming,blackman,bartlett,kaiser}_window.

stft and istft are compositions of differentiable ops (padding, framing, the window
product, taimatsu.fft) around two array-level Functions: `_Frame`, which cuts a signal
into overlapping frames, and `_OverlapAdd`, its adjoint. Each one's backward is the
other, so gradients of any order flow through both transforms.
"""

from __future__ import annotations

import warnings

import numpy as np

from .. import _dtype as D
from .. import backend
from .._tensor import Tensor, _type_name
from ..autograd.node import Function

__all__ = ["stft", "istft", "hann_window", "hamming_window", "blackman_window",
           "bartlett_window", "kaiser_window"]


# -- window functions ----------------------------------------------------------------------

def _window(name: str, window_length, periodic: bool, dtype, device, requires_grad: bool,
            values) -> Tensor:
    """The window `values(n, N)` over n = 0..N-1, with torch's argument checks.

    `values` gets float64 positions and the symmetric length N; a periodic window is the
    symmetric window of length window_length + 1 without its last point.
    """
    from .creation import tensor
    if isinstance(window_length, bool) or not isinstance(window_length, (int, np.integer)):
        raise TypeError(f"{name}(): argument 'window_length' (position 1) must be int, not "
                        f"{type(window_length).__name__}")
    if window_length < 0:
        raise RuntimeError(f"{name} requires non-negative window_length, got "
                           f"window_length={window_length}")
    dt = D.get_default_dtype() if dtype is None else D.to_dtype(dtype)
    if dt._kind != 2:
        raise RuntimeError(f"{name} expects floating point dtypes, got: {dt}")
    if window_length <= 1:
        arr = np.ones(window_length, dtype=np.float64)
    else:
        n_sym = window_length + 1 if periodic else window_length
        arr = values(np.arange(n_sym, dtype=np.float64), n_sym)[:window_length]
    return tensor(arr, dtype=dt, device=device, requires_grad=requires_grad)


def _cosine_sum(coefficients):
    """a0 - a1 cos(2 pi n / (N-1)) + a2 cos(4 pi n / (N-1)) - ...: the cosine-sum family."""
    def values(n, N):
        phase = 2 * np.pi * n / (N - 1)
        return sum((-1) ** k * a * np.cos(k * phase) for k, a in enumerate(coefficients))
    return values


def hann_window(window_length: int, periodic: bool = True, *, dtype=None, layout=None,
                device=None, requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """The Hann window 0.5 - 0.5 cos(2 pi n / (N - 1))."""
    return _window("hann_window", window_length, periodic, dtype, device, requires_grad,
                   _cosine_sum((0.5, 0.5)))


def hamming_window(window_length: int, periodic: bool = True, alpha: float = 0.54,
                   beta: float = 0.46, *, dtype=None, layout=None, device=None,
                   requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """The Hamming window alpha - beta cos(2 pi n / (N - 1))."""
    return _window("hamming_window", window_length, periodic, dtype, device, requires_grad,
                   _cosine_sum((alpha, beta)))


def blackman_window(window_length: int, periodic: bool = True, *, dtype=None, layout=None,
                    device=None, requires_grad: bool = False,
                    pin_memory: bool = False) -> Tensor:
    """The Blackman window 0.42 - 0.5 cos(2 pi n / (N - 1)) + 0.08 cos(4 pi n / (N - 1))."""
    return _window("blackman_window", window_length, periodic, dtype, device, requires_grad,
                   _cosine_sum((0.42, 0.5, 0.08)))


def bartlett_window(window_length: int, periodic: bool = True, *, dtype=None, layout=None,
                    device=None, requires_grad: bool = False,
                    pin_memory: bool = False) -> Tensor:
    """The triangular window 1 - |2n / (N - 1) - 1|."""
    return _window("bartlett_window", window_length, periodic, dtype, device, requires_grad,
                   lambda n, N: 1 - np.abs(2 * n / (N - 1) - 1))


def kaiser_window(window_length: int, periodic: bool = True, beta: float = 12.0, *,
                  dtype=None, layout=None, device=None, requires_grad: bool = False,
                  pin_memory: bool = False) -> Tensor:
    """The Kaiser window I0(beta sqrt(1 - (2n / (N - 1) - 1)^2)) / I0(beta)."""
    def values(n, N):
        ratio = 2 * n / (N - 1) - 1
        return np.i0(beta * np.sqrt(np.clip(1 - ratio * ratio, 0, None))) / np.i0(beta)
    return _window("kaiser_window", window_length, periodic, dtype, device, requires_grad,
                   values)


# -- framing and its adjoint ----------------------------------------------------------------

def _frame_array(x, width: int, hop: int, offset: int, n_frames: int):
    """Frames x[..., offset + t*hop : offset + t*hop + width] for t < n_frames, stacked on a
    new second-to-last axis (a copy: the frames overlap in memory otherwise)."""
    xp = backend.of(x)
    x = xp.ascontiguousarray(x[..., offset:])
    step = x.strides[-1]
    view = xp.lib.stride_tricks.as_strided(
        x, shape=x.shape[:-1] + (n_frames, width), strides=x.strides[:-1] + (hop * step, step))
    return view.copy()


def _overlap_add_array(frames, hop: int, offset: int, length: int):
    """Sums frames (..., n_frames, width) into a signal of `length` samples, frame t
    starting at offset + t*hop: the adjoint of `_frame_array`.

    Columns j*hop .. (j+1)*hop of all frames tile a contiguous stretch of the signal, so
    the sum takes ceil(width / hop) vectorised additions instead of one per frame.
    """
    xp = backend.of(frames)
    lead, (n_frames, width) = frames.shape[:-2], frames.shape[-2:]
    out = xp.zeros(lead + (length,), dtype=frames.dtype)
    for j in range(0, width, hop):
        chunk = frames[..., j:j + hop]
        if chunk.shape[-1] < hop:  # the last, partial columns: pad to a whole hop
            pad = xp.zeros(lead + (n_frames, hop - chunk.shape[-1]), dtype=frames.dtype)
            chunk = xp.concatenate([chunk, pad], axis=-1)
        flat = chunk.reshape(lead + (n_frames * hop,))
        start = offset + j
        n = min(flat.shape[-1], length - start)
        out[..., start:start + n] += flat[..., :n]
    return out


class _Frame(Function):
    """Overlapping frames of the last dim; backward overlap-adds the gradient."""

    _backward_name = "UnfoldBackward0"

    @staticmethod
    def forward(ctx, x, width, hop, offset, n_frames):
        if ctx.needs_input_grad:
            ctx.meta = (hop, offset, x.shape[-1])
        return _frame_array(x, width, hop, offset, n_frames)

    @staticmethod
    def backward(ctx, grad):
        hop, offset, length = ctx.meta
        if isinstance(grad, Tensor):  # create_graph: stay differentiable
            return _OverlapAdd.apply(grad, hop, offset, length)
        return _overlap_add_array(grad, hop, offset, length)


class _OverlapAdd(Function):
    """Sum of overlapping frames; backward frames the gradient."""

    _backward_name = "UnfoldBackwardBackward0"

    @staticmethod
    def forward(ctx, frames, hop, offset, length):
        if ctx.needs_input_grad:
            ctx.meta = (frames.shape[-1], hop, offset, frames.shape[-2])
        return _overlap_add_array(frames, hop, offset, length)

    @staticmethod
    def backward(ctx, grad):
        width, hop, offset, n_frames = ctx.meta
        if isinstance(grad, Tensor):
            return _Frame.apply(grad, width, hop, offset, n_frames)
        return _frame_array(grad, width, hop, offset, n_frames)


# -- stft / istft --------------------------------------------------------------------------

def _flag(value) -> str:
    return "None" if value is None else str(int(bool(value)))


def _describe_window(window) -> str:
    return "None" if window is None else f"{_type_name(window)}{{{list(window.shape)}}}"


def _pad_window(window: Tensor | None, win_length: int, n_fft: int, like: Tensor) -> Tensor:
    """The window (ones when None) zero-padded on both sides to n_fft, as torch does."""
    from ..nn.functional import pad
    from .creation import ones
    if window is None:
        window = ones(win_length, dtype=like.dtype.to_real(), device=like.device)
    left = (n_fft - win_length) // 2
    if left or n_fft - win_length - left:
        window = pad(window, (left, n_fft - win_length - left))
    return window


def stft(input: Tensor, n_fft: int, hop_length: int | None = None,
         win_length: int | None = None, window: Tensor | None = None, center: bool = True,
         pad_mode: str = "reflect", normalized: bool = False, onesided: bool | None = None,
         return_complex: bool | None = None, align_to_window: bool | None = None) -> Tensor:
    """Short-time Fourier transform of a 1D signal or a batch of them, as torch.stft.

    Returns (B?, N, T) complex: N = n_fft // 2 + 1 bins when onesided (the default for
    real input and window), else n_fft; T = 1 + L // hop_length frames when centered,
    1 + (L - n_fft) // hop_length otherwise. return_complex=False (deprecated) returns
    the real and imaginary parts on a trailing dim of size 2.
    """
    from ..nn.functional import pad as F_pad
    if center and align_to_window is not None:
        raise RuntimeError("stft align_to_window should only be set when center = false")
    if center:
        # torch pads in Python before its checks: reflect padding works on 3D views
        signal_dim = input.dim()
        extended = [1] * (3 - signal_dim) + list(input.shape)
        half = int(n_fft // 2)
        input = F_pad(input.view(extended), [half, half], pad_mode)
        input = input.view(input.shape[-signal_dim:])
    hop_length = n_fft // 4 if hop_length is None else hop_length
    win_length = n_fft if win_length is None else win_length

    def fail(message: str):
        raise RuntimeError(
            f"stft({_type_name(input)}{list(input.shape)}, n_fft={n_fft}, "
            f"hop_length={hop_length}, win_length={win_length}, "
            f"window={_describe_window(window)}, normalized={_flag(normalized)}, "
            f"onesided={_flag(onesided)}, return_complex={_flag(return_complex)}, "
            f"align_to_window={_flag(align_to_window)}) : {message}")

    complex_in = input.is_complex() or (window is not None and window.is_complex())
    if return_complex is None:
        if not complex_in:
            raise RuntimeError(
                "stft requires the return_complex parameter be given for real inputs, and "
                "will further require that return_complex=True in a future PyTorch release.")
        return_complex = True
    if not return_complex:
        warnings.warn(
            "stft with return_complex=False is deprecated. In a future pytorch release, stft "
            "will return complex tensors for all inputs, and return_complex=False will raise "
            "an error.\nNote: you can still call taimatsu.view_as_real on the complex output "
            "to recover the old return format.", UserWarning, stacklevel=2)
    if input.dtype._kind < 2:
        fail("expected a tensor of floating point or complex values")
    if input.dim() not in (1, 2):
        fail("expected a 1D or 2D tensor")
    length = input.shape[-1]
    if n_fft <= 0 or n_fft > length:
        fail(f"expected 0 < n_fft < {length}, but got n_fft={n_fft}")
    if hop_length <= 0:
        fail(f"expected hop_length > 0, but got hop_length={hop_length}")
    if win_length <= 0 or win_length > n_fft:
        fail(f"expected 0 < win_length <= n_fft, but got win_length={win_length}")
    if window is not None and (window.dim() != 1 or window.shape[0] != win_length):
        fail(f"expected a 1D window tensor of size equal to win_length={win_length}, but got "
             f"window with size {list(window.shape)}")
    if window is None:
        warnings.warn(
            "A window was not provided. A rectangular window will be applied,which is known to "
            "cause spectral leakage. Other windows such as taimatsu.hann_window or "
            "taimatsu.hamming_window are recommended to reduce spectral leakage.To suppress "
            "this warning and use a rectangular window, explicitly set "
            "`window=taimatsu.ones(n_fft, device=<device>)`.", UserWarning, stacklevel=2)
    onesided = not complex_in if onesided is None else onesided
    if onesided and complex_in:
        raise RuntimeError("Cannot have onesided output if window or input is complex")

    # Frames of win_length samples where the (unpadded) window sits; align_to_window
    # starts them at t * hop instead of centring them in n_fft-sample frames.
    left = (n_fft - win_length) // 2
    if align_to_window:
        offset, n_frames = 0, 1 + (length - win_length) // hop_length
    else:
        offset, n_frames = left, 1 + (length - n_fft) // hop_length
    frames = _Frame.apply(input, win_length, hop_length, offset, n_frames)
    if window is not None:
        frames = frames * window
    if win_length < n_fft:
        frames = F_pad(frames, (left, n_fft - win_length - left))
    from .. import fft
    norm = "ortho" if normalized else "backward"
    spec = fft.rfft(frames, dim=-1, norm=norm) if onesided else fft.fft(frames, dim=-1,
                                                                       norm=norm)
    spec = spec.transpose(-1, -2)
    if not return_complex:
        from .join import stack
        spec = stack([spec.real, spec.imag], -1)
    return spec


def istft(input: Tensor, n_fft: int, hop_length: int | None = None,
          win_length: int | None = None, window: Tensor | None = None, center: bool = True,
          normalized: bool = False, onesided: bool | None = None, length: int | None = None,
          return_complex: bool = False) -> Tensor:
    """Inverse short-time Fourier transform (least-squares overlap-add), as torch.istft.

    `input` is a complex (B?, N, T) spectrogram as stft returns it; the result is the
    (B?, L) signal, L = `length` when given.
    """
    from ..nn.functional import pad as F_pad
    if not input.is_complex():
        raise RuntimeError("istft requires a complex-valued input tensor matching the output "
                           "from stft with return_complex=True.")
    hop_length = n_fft // 4 if hop_length is None else hop_length
    win_length = n_fft if win_length is None else win_length

    def fail(message: str):
        raise RuntimeError(
            f"istft({_type_name(input)}{list(input.shape)}, n_fft={n_fft}, "
            f"hop_length={hop_length}, win_length={win_length}, "
            f"window={_describe_window(window)}, center={_flag(center)}, "
            f"normalized={_flag(normalized)}, onesided={_flag(onesided)}, "
            f"length={'None' if length is None else length}, "
            f"return_complex={_flag(return_complex)}) {message}")

    if window is None:
        warnings.warn(
            "A window was not provided. A rectangular window will be applied.Please provide "
            "the same window used by stft to make the inversion lossless.To suppress this "
            "warning and use a rectangular window, explicitly set "
            "`window=taimatsu.ones(n_fft, device=<device>)`.", UserWarning, stacklevel=2)
    # torch counts the trailing real/imaginary dim of its view_as_real form
    if input.dim() + 1 not in (3, 4):
        fail(f": expected a tensor with 3 or 4 dimensions, but got {input.dim() + 1}")
    n_bins, n_frames = input.shape[-2], input.shape[-1]
    onesided = n_bins != n_fft if onesided is None else onesided
    if onesided and n_bins != n_fft // 2 + 1:
        fail(": expected the frequency dimension (3rd to the last) of the input tensor to "
             f"match n_fft / 2 + 1 when onesided=True, but got {n_bins}")
    if not onesided and n_bins != n_fft:
        fail(": expected the frequency dimension (3rd to the last) of the input tensor to "
             f"match n_fft when onesided=False, but got {n_bins}")
    if not 0 < hop_length <= win_length:
        fail(": expected 0 < hop_length <= win_length")
    if not 0 < win_length <= n_fft:
        fail(": expected 0 < win_length <= n_fft")
    if window is not None and (window.dim() != 1 or window.shape[0] != win_length):
        fail(f": expected a 1D window tensor of size equal to win_length={win_length}, but "
             f"got window with size {list(window.shape)}")
    if return_complex and onesided:
        raise RuntimeError("Cannot have onesided output if window or input is complex")
    if not return_complex and window is not None and window.is_complex():
        raise RuntimeError("Complex windows are incompatible with return_complex=False")

    from .. import fft
    norm = "ortho" if normalized else "backward"
    spec = input.transpose(-1, -2)  # (B?, frames, bins)
    if return_complex:
        frames = fft.ifft(spec, n=n_fft, dim=-1, norm=norm)
    else:
        if not onesided:
            spec = spec[..., :n_fft // 2 + 1]
        frames = fft.irfft(spec, n=n_fft, dim=-1, norm=norm)
    full_window = _pad_window(window, win_length, n_fft, frames)
    frames = frames * full_window
    expected = n_fft + hop_length * (n_frames - 1)
    signal = _OverlapAdd.apply(frames, hop_length, 0, expected)
    envelope = _OverlapAdd.apply((full_window * full_window).expand(n_frames, n_fft),
                                 hop_length, 0, expected)
    start = n_fft // 2 if center else 0
    if length is not None:
        end = start + length
    else:
        end = -(n_fft // 2) if center else expected
    signal = signal[..., start:end]
    envelope = envelope[..., start:end]
    lowest = float(envelope.abs().min().item()) if envelope.numel() else 0.0
    if lowest < 1e-11:
        fail(f"window overlap add min: {lowest:g}")
    signal = signal / envelope
    if end > expected:
        warnings.warn("The length of signal is shorter than the length parameter. Result is "
                      "being padded with zeros in the tail. Please check your center and "
                      "hop_length settings.", UserWarning, stacklevel=2)
        signal = F_pad(signal, (0, end - expected))
    return signal

