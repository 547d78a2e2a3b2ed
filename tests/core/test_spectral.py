"""Tests for taimatsu.stft / istft and the window functions: generated op cases plus
shapes, round trips, definitions and error messages."""

import numpy as np
import pytest
from op_cases.spectral import CASES

import taimatsu as tm
from taimatsu.testing import assert_close, generate_tests

globals().update(generate_tests(CASES))

RNG = np.random.default_rng(0)


# -- windows ------------------------------------------------------------------------------

def test_symmetric_windows_follow_their_definitions():
    n = np.arange(9)
    assert_close(tm.hann_window(9, False, dtype=tm.float64), np.hanning(9))
    assert_close(tm.hamming_window(9, False, dtype=tm.float64), np.hamming(9))
    assert_close(tm.blackman_window(9, False, dtype=tm.float64), np.blackman(9), atol=1e-15)
    assert_close(tm.bartlett_window(9, False, dtype=tm.float64), np.bartlett(9))
    assert_close(tm.kaiser_window(9, False, beta=5.0, dtype=tm.float64), np.kaiser(9, 5.0))
    assert_close(tm.hamming_window(9, False, alpha=0.6, beta=0.4, dtype=tm.float64),
                 0.6 - 0.4 * np.cos(2 * np.pi * n / 8))


def test_periodic_window_is_the_longer_symmetric_one_truncated():
    for fn in (tm.hann_window, tm.hamming_window, tm.blackman_window, tm.bartlett_window,
               tm.kaiser_window):
        assert_close(fn(8, dtype=tm.float64), fn(9, periodic=False, dtype=tm.float64)[:8])


def test_window_dtype_device_grad_and_small_lengths():
    w = tm.hann_window(4)
    assert w.dtype is tm.float32 and not w.requires_grad and w.device.type == "cpu"
    assert tm.hann_window(4, dtype=tm.float64, requires_grad=True).requires_grad
    assert tm.hann_window(0).shape == (0,)
    assert tm.blackman_window(1).tolist() == [1.0]


@pytest.mark.parametrize("name", ["hann_window", "hamming_window", "blackman_window",
                                  "bartlett_window", "kaiser_window"])
def test_window_errors(name):
    fn = getattr(tm, name)
    with pytest.raises(RuntimeError, match=f"{name} requires non-negative window_length, "
                                           "got window_length=-1"):
        fn(-1)
    with pytest.raises(RuntimeError, match=f"{name} expects floating point dtypes"):
        fn(4, dtype=tm.int64)
    with pytest.raises(TypeError, match="must be int, not float"):
        fn(3.5)


# -- stft ---------------------------------------------------------------------------------

def test_stft_shapes_follow_the_frame_count_formulas():
    x = tm.randn(2, 1000)
    assert tm.stft(x, 400, window=tm.hann_window(400), return_complex=True).shape == (2, 201, 11)
    assert tm.stft(x[0], 64, 16, window=tm.hann_window(64), center=False,
                   return_complex=True).shape == (33, 1 + (1000 - 64) // 16)
    assert tm.stft(x, 64, window=tm.hann_window(64), onesided=False,
                   return_complex=True).shape == (2, 64, 1 + 1000 // 16)


def test_stft_of_a_tone_peaks_at_its_bin():
    t = np.arange(4096) / 16000
    x = tm.tensor(np.sin(2 * np.pi * 1000 * t))  # 1 kHz = bin 32 of a 512-point FFT
    spec = tm.stft(x, 512, 128, window=tm.hann_window(512, dtype=tm.float64),
                   return_complex=True).abs()
    assert (spec.argmax(dim=0).numpy()[1:-1] == 32).all()  # edge frames see the padding


def test_stft_matches_a_direct_dft_definition():
    x = RNG.standard_normal(64)
    w = np.hanning(20)
    n_fft, hop, left = 32, 8, 6
    spec = tm.stft(tm.tensor(x), n_fft, hop, 20, window=tm.tensor(w), center=False,
                   return_complex=True).numpy()
    full_w = np.zeros(n_fft)
    full_w[left:left + 20] = w
    k = np.arange(n_fft // 2 + 1)[:, None]
    m = np.arange(n_fft)[None, :]
    basis = np.exp(-2j * np.pi * k * m / n_fft)
    for t in range(spec.shape[1]):
        frame = x[t * hop:t * hop + n_fft] * full_w
        np.testing.assert_allclose(spec[:, t], basis @ frame, atol=1e-10)


def test_complex_input_gives_a_two_sided_stft():
    x = tm.randn(100, dtype=tm.complex128)
    spec = tm.stft(x, 16, window=tm.hann_window(16, dtype=tm.float64))
    assert spec.shape == (16, 26) and spec.dtype is tm.complex128
    with pytest.raises(RuntimeError, match="Cannot have onesided output if window or input "
                                           "is complex"):
        tm.stft(x, 16, window=tm.hann_window(16, dtype=tm.float64), onesided=True)


def test_stft_error_messages():
    x = tm.randn(1000)
    with pytest.raises(RuntimeError, match="stft requires the return_complex parameter be "
                                           "given for real inputs"):
        tm.stft(x, 400)
    with pytest.raises(RuntimeError, match=r"expected 0 < n_fft < 1000, but got n_fft=2000"):
        tm.stft(x, 2000, center=False, return_complex=True)
    with pytest.raises(RuntimeError, match=r"expected a 1D window tensor of size equal to "
                                           r"win_length=400, but got window with size \[300\]"):
        tm.stft(x, 400, window=tm.ones(300), return_complex=True)
    with pytest.raises(RuntimeError, match="expected a tensor of floating point or complex "
                                           "values"):
        tm.stft(tm.arange(1000), 400, window=tm.ones(400), return_complex=True)
    with pytest.raises(RuntimeError, match="align_to_window should only be set when center"):
        tm.stft(x, 400, return_complex=True, align_to_window=True)
    with pytest.warns(UserWarning, match="A window was not provided"):
        tm.stft(x, 400, return_complex=True)


# -- istft ----------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs", [dict(n_fft=64), dict(n_fft=64, hop_length=10, win_length=50),
                                    dict(n_fft=64, normalized=True),
                                    dict(n_fft=64, onesided=False)])
def test_istft_inverts_stft(kwargs):
    x = tm.tensor(RNG.standard_normal((2, 500)))
    window = tm.hann_window(kwargs.get("win_length", 64), dtype=tm.float64)
    spec = tm.stft(x, window=window, return_complex=True, **kwargs)
    assert_close(tm.istft(spec, window=window, length=500, **kwargs), x, atol=1e-10, rtol=0)


def test_istft_length_pads_with_zeros_past_the_signal():
    x = tm.tensor(RNG.standard_normal(200))
    w = tm.hann_window(32, dtype=tm.float64)
    spec = tm.stft(x, 32, 8, window=w, return_complex=True)
    with pytest.warns(UserWarning, match="Result is being padded with zeros in the tail"):
        y = tm.istft(spec, 32, 8, window=w, length=260)
    assert y.shape == (260,)
    assert_close(y[:200], x, atol=1e-10, rtol=0)
    assert (y[232:] == 0).all()


def test_istft_errors():
    spec = tm.stft(tm.randn(300), 32, window=tm.hann_window(32), return_complex=True)
    with pytest.raises(RuntimeError, match="istft requires a complex-valued input tensor"):
        tm.istft(spec.abs(), 32)
    with pytest.raises(RuntimeError, match="window overlap add min"):
        tm.istft(spec, 32, window=tm.hann_window(32), center=False)
    with pytest.raises(RuntimeError, match=r"match n_fft / 2 \+ 1 when onesided=True, but got "
                                           "17"):
        tm.istft(spec, 64, window=tm.hann_window(64), onesided=True)
    with pytest.raises(RuntimeError, match="expected a tensor with 3 or 4 dimensions, but got 5"):
        tm.istft(spec[None, None], 32, window=tm.hann_window(32))


def test_stft_gradients_flow_to_signal_and_window_twice():
    x = tm.tensor(RNG.standard_normal(40), requires_grad=True)
    w = tm.tensor(0.5 + RNG.random(16), requires_grad=True)
    assert tm.autograd.gradgradcheck(
        lambda a, b: tm.istft(tm.stft(a, 16, 4, window=b, return_complex=True), 16, 4,
                              window=b, length=40), (x, w))
