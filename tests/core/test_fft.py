"""Tests for taimatsu.fft: generated op cases plus dtypes, frequencies and errors."""

import numpy as np
import pytest
from op_cases.fft import CASES

import taimatsu as tm
from taimatsu.testing import assert_close, generate_tests

globals().update(generate_tests(CASES))

RNG = np.random.default_rng(0)


def test_output_dtypes_follow_torch():
    x32 = tm.tensor(RNG.standard_normal(8), dtype=tm.float32)
    assert tm.fft.fft(x32).dtype is tm.complex64
    assert tm.fft.fft(x32.double()).dtype is tm.complex128
    assert tm.fft.rfft(x32).dtype is tm.complex64
    assert tm.fft.irfft(tm.fft.rfft(x32)).dtype is tm.float32
    assert tm.fft.irfft(x32).dtype is tm.float32          # a real spectrum is promoted
    assert tm.fft.fft(tm.arange(4)).dtype is tm.complex64  # integers: the default float
    assert tm.fft.hfft(tm.fft.ihfft(x32)).dtype is tm.float32


def test_round_trips():
    x = tm.tensor(RNG.standard_normal((3, 7)))
    assert_close(tm.fft.irfft(tm.fft.rfft(x), n=7), x)
    assert_close(tm.fft.ifftn(tm.fft.fftn(x)).real, x)
    assert_close(tm.fft.irfftn(tm.fft.rfftn(x, norm="ortho"), s=x.shape, norm="ortho"), x)
    assert_close(tm.fft.ifftshift(tm.fft.fftshift(x)), x)
    assert_close(tm.fft.hfft(tm.fft.ihfft(x), n=7), x)


def test_normalizations_scale_as_documented():
    x = tm.tensor(RNG.standard_normal(16))
    plain = tm.fft.fft(x).numpy()
    assert_close(tm.fft.fft(x, norm="ortho"), plain / 4)
    assert_close(tm.fft.fft(x, norm="forward"), plain / 16)


@pytest.mark.parametrize("call, error, message", [
    (lambda x: tm.fft.fft(x, norm="foo"), RuntimeError, 'Invalid normalization mode: "foo"'),
    (lambda x: tm.fft.fft(x, n=0), RuntimeError, "Invalid number of data points (0) specified"),
    (lambda x: tm.fft.fft(x, dim=2), IndexError,
     "Dimension out of range (expected to be in range of [-2, 1], but got 2)"),
    (lambda x: tm.fft.fftn(x, s=(2,), dim=(0, 1)), RuntimeError,
     "When given, dim and shape arguments must have the same length"),
    (lambda x: tm.fft.fftn(x, dim=(0, 0)), RuntimeError, "FFT dims must be unique"),
    (lambda x: tm.fft.fft(x.half()), RuntimeError, "Unsupported dtype Half"),
    (lambda x: tm.fft.rfft(x.to(tm.complex64)), RuntimeError,
     "rfft expects a real input tensor, but got ComplexFloat"),
    (lambda x: tm.fft.irfft(x[:, :1]), RuntimeError,
     "Invalid number of data points (0) specified"),
])
def test_errors_match_torch(call, error, message):
    with pytest.raises(error) as info:
        call(tm.ones(3, 4))
    assert str(info.value) == message


def test_frequencies():
    assert_close(tm.fft.fftfreq(5), np.fft.fftfreq(5).astype(np.float32))
    assert_close(tm.fft.rfftfreq(6, 0.5), np.fft.rfftfreq(6, 0.5).astype(np.float32))
    assert tm.fft.fftfreq(4, dtype=tm.float64).dtype is tm.float64
    assert tm.fft.fftfreq(4, requires_grad=True).requires_grad


@pytest.mark.parametrize("call, name", [
    (lambda x: tm.fft.fft(x), "FftR2CBackward0"),
    (lambda x: tm.fft.rfftn(x), "FftR2CBackward0"),
    (lambda x: tm.fft.fft2(x), "FftC2CBackward0"),
    (lambda x: tm.fft.ifft(x.to(tm.complex128)), "FftC2CBackward0"),
    (lambda x: tm.fft.irfft(x.to(tm.complex128)), "FftC2RBackward0"),
    (lambda x: tm.fft.fftshift(x), "RollBackward0"),
])
def test_node_names(call, name):
    x = tm.tensor(RNG.standard_normal((3, 4)), requires_grad=True)
    assert call(x).grad_fn.name() == name


def test_out_argument():
    x = tm.tensor(RNG.standard_normal(6))
    out = tm.empty(4, dtype=tm.complex128)
    assert tm.fft.rfft(x, out=out) is out
    assert_close(out, np.fft.rfft(x.numpy()))
