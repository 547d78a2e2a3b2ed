"""taimatsu_audio.functional against independent definitions (filter banks from their
formulas, SciPy's DCT and filters, librosa when installed) and physical checks (tones keep
their frequency, filters pass or stop them)."""

import math

import numpy as np
import pytest
from audio.reference import reference_fbanks, tone

import taimatsu as tm
import taimatsu_audio.functional as AF
from taimatsu.testing import assert_close

RNG = np.random.default_rng(0)


def dominant_frequency(x: np.ndarray, sr: int) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.fft.rfftfreq(len(x), 1 / sr)[spectrum.argmax()])


# -- mel filter banks from their published definitions ------------------------------------

@pytest.mark.parametrize("scale", ["htk", "slaney"])
@pytest.mark.parametrize("norm", [None, "slaney"])
def test_melscale_fbanks_match_their_definition(scale, norm):
    ours = AF.melscale_fbanks(201, 30.0, 7600.0, 40, 16000, norm=norm, mel_scale=scale)
    assert ours.shape == (201, 40) and ours.dtype is tm.float32
    ref = reference_fbanks(201, 30.0, 7600.0, 40, 16000, norm, scale)
    np.testing.assert_allclose(ours.numpy(), ref, rtol=1e-5, atol=1e-6 * ref.max())


@pytest.mark.slow  # librosa's first import compiles numba code
def test_melscale_fbanks_match_librosa():
    librosa = pytest.importorskip("librosa")
    for htk, norm, scale in [(True, None, "htk"), (False, "slaney", "slaney")]:
        ref = librosa.filters.mel(sr=16000, n_fft=512, n_mels=64, fmin=0.0, fmax=8000.0,
                                  htk=htk, norm=norm)
        ours = AF.melscale_fbanks(257, 0.0, 8000.0, 64, 16000, norm=norm, mel_scale=scale)
        np.testing.assert_allclose(ours.numpy().T, ref, rtol=1e-4, atol=1e-6 * ref.max())


def test_melscale_fbanks_warns_about_empty_filters_and_checks_arguments():
    with pytest.warns(UserWarning, match="At least one mel filterbank has all zero values"):
        AF.melscale_fbanks(201, 0.0, 8000.0, 128, 16000)
    with pytest.raises(ValueError, match='norm must be one of None or "slaney"'):
        AF.melscale_fbanks(201, 0.0, 8000.0, 40, 16000, norm="area")
    with pytest.raises(ValueError, match='mel_scale should be one of "htk" or "slaney"'):
        AF.melscale_fbanks(201, 0.0, 8000.0, 40, 16000, mel_scale="bark")


def test_linear_fbanks_are_evenly_spaced_triangles():
    fb = AF.linear_fbanks(101, 0.0, 8000.0, 8, 16000).numpy()
    np.testing.assert_allclose(fb, reference_fbanks_linear(101, 0.0, 8000.0, 8, 16000),
                               atol=1e-6)


def reference_fbanks_linear(n_freqs, f_min, f_max, n_filter, sr):
    edges = np.linspace(f_min, f_max, n_filter + 2)
    freqs = np.linspace(0, sr // 2, n_freqs)[:, None]
    rise = (freqs - edges[:-2]) / (edges[1:-1] - edges[:-2])
    fall = (edges[2:] - freqs) / (edges[2:] - edges[1:-1])
    return np.clip(np.minimum(rise, fall), 0, None)


def test_create_dct_matches_scipy():
    fft = pytest.importorskip("scipy.fft")
    x = RNG.standard_normal((5, 24))
    dct = AF.create_dct(13, 24, "ortho").double()
    np.testing.assert_allclose((tm.tensor(x) @ dct).numpy(),
                               fft.dct(x, type=2, norm="ortho", axis=-1)[:, :13], atol=1e-6)
    # torchaudio's norm=None: 2 sum x_n cos(...), SciPy's unnormalised DCT-II
    np.testing.assert_allclose((tm.tensor(x) @ AF.create_dct(13, 24, None).double()).numpy(),
                               fft.dct(x, type=2, axis=-1)[:, :13], rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match='norm must be either "ortho" or None'):
        AF.create_dct(13, 24, "forward")


# -- decibels and mu-law ---------------------------------------------------------------------

def test_amplitude_to_db_and_back():
    x = tm.tensor(RNG.random((2, 3, 5, 7)) + 1e-3)
    db = AF.amplitude_to_DB(x, 10.0, 1e-10, 0.0)
    assert_close(db, 10 * np.log10(x.numpy()))
    assert_close(AF.DB_to_amplitude(db, 1.0, 1.0), x)
    assert_close(AF.DB_to_amplitude(AF.amplitude_to_DB(x, 20.0, 1e-10, 0.0), 1.0, 0.5), x)


def test_top_db_floors_each_spectrogram_group_below_its_maximum():
    x = tm.tensor(np.stack([np.full((2, 4, 4), 1.0), np.full((2, 4, 4), 1e-3)]))
    x[0, 0, 0, 0] = 1e6
    db = AF.amplitude_to_DB(x, 10.0, 1e-10, 0.0, top_db=20.0).numpy()
    assert db[0].max() == pytest.approx(60.0) and db[0].min() == pytest.approx(40.0)
    assert db[0, 1].max() == pytest.approx(40.0)       # both channels share one floor
    assert db[1].min() == pytest.approx(-30.0)         # the other example keeps its own


def test_mu_law_round_trip():
    x = tm.linspace(-1, 1, 1001)
    codes = AF.mu_law_encoding(x, 256)
    assert codes.dtype is tm.int64 and int(codes.min()) == 0 and int(codes.max()) == 255
    assert (AF.mu_law_decoding(codes, 256) - x).abs().max().item() < 0.025


# -- spectrogram family -------------------------------------------------------------------------

def test_spectrogram_is_batched_and_normalized():
    x = tm.tensor(RNG.standard_normal((2, 3, 800)))
    w = tm.hann_window(128, dtype=tm.float64)
    spec = AF.spectrogram(x, 0, w, 128, 32, 128, 2.0, False)
    single = AF.spectrogram(x[1, 2], 0, w, 128, 32, 128, 2.0, False)
    assert spec.shape == (2, 3, 65, 26)
    assert_close(spec[1, 2], single)
    windowed = AF.spectrogram(x, 0, w, 128, 32, 128, 2.0, "window")
    assert_close(windowed, spec / (w ** 2).sum())
    framed = AF.spectrogram(x, 0, w, 128, 32, 128, 2.0, "frame_length")
    assert_close(framed, spec / 128)
    padded = AF.spectrogram(x, 10, w, 128, 32, 128, 1.0, False)
    assert padded.shape[-1] == 1 + (800 + 20) // 32
    with pytest.raises(ValueError, match="Invalid normalized parameter"):
        AF.spectrogram(x, 0, w, 128, 32, 128, 2.0, "energy")


def test_inverse_spectrogram_recovers_the_waveform():
    x = tm.tensor(RNG.standard_normal((2, 600)))
    w = tm.hann_window(64, dtype=tm.float64)
    spec = AF.spectrogram(x, 5, w, 64, 16, 64, None, True)
    back = AF.inverse_spectrogram(spec, 600, 5, w, 64, 16, 64, True)
    assert_close(back, x, atol=1e-10, rtol=0)
    with pytest.raises(ValueError, match="Expected `spectrogram` to be complex dtype"):
        AF.inverse_spectrogram(spec.abs(), 600, 5, w, 64, 16, 64, True)


def test_griffinlim_recovers_a_consistent_magnitude():
    tm.manual_seed(0)
    x = tone(440, seconds=0.25) + 0.5 * tone(1200, seconds=0.25)
    w = tm.hann_window(256, dtype=tm.float64)
    mag = AF.spectrogram(x, 0, w, 256, 64, 256, 2.0, False)
    y = AF.griffinlim(mag, w, 256, 64, 256, 2.0, 32, 0.99, x.shape[-1], True)
    rebuilt = AF.spectrogram(y, 0, w, 256, 64, 256, 2.0, False)
    error = ((rebuilt.sqrt() - mag.sqrt()).norm() / mag.sqrt().norm()).item()
    assert error < 0.15
    with pytest.raises(ValueError, match="momentum must be in range"):
        AF.griffinlim(mag, w, 256, 64, 256, 2.0, 1, 1.5, None, False)


def test_spectral_centroid_of_a_tone_is_its_frequency():
    w = tm.hann_window(512, dtype=tm.float64)
    centroid = AF.spectral_centroid(tone(2000), 16000, 0, w, 512, 256, 512)
    assert np.abs(centroid.numpy()[2:-2] - 2000).max() < 40


def test_compute_deltas_follows_its_formula():
    x = tm.tensor(RNG.standard_normal((2, 3, 12)))
    d = AF.compute_deltas(x, win_length=5).numpy()
    padded = np.pad(x.numpy(), [(0, 0), (0, 0), (2, 2)], mode="edge")
    ref = sum(n * (padded[..., 2 + n:14 + n] - padded[..., 2 - n:14 - n]) for n in (1, 2)) / 10
    np.testing.assert_allclose(d, ref, atol=1e-12)
    with pytest.raises(ValueError, match="greater than or equal to 3"):
        AF.compute_deltas(x, win_length=2)


def test_detect_pitch_frequency_finds_a_tone():
    pitch = AF.detect_pitch_frequency(tone(220, seconds=0.5, dtype=np.float32)[None], 16000)
    assert pitch.dtype is tm.float32 and pitch.shape[0] == 1
    assert np.median(pitch.numpy()) == pytest.approx(220, rel=0.03)


def test_phase_vocoder_and_masks():
    spec = tm.stft(tone(440, seconds=0.2), 256, 64, window=tm.hann_window(256, dtype=tm.float64),
                   return_complex=True)[None]
    advance = tm.linspace(0, math.pi * 64, 129, dtype=tm.float64)[..., None]
    assert AF.phase_vocoder(spec, 1.3, advance).shape == (1, 129, math.ceil(51 / 1.3))
    assert AF.phase_vocoder(spec, 1.0, advance) is spec
    tm.manual_seed(1)
    mel = tm.ones(4, 2, 20, 30)
    masked = AF.mask_along_axis_iid(mel, 10, 0.0, 3)
    per_example = (masked == 0).any(dim=2).sum(dim=-1)   # masked frames per (example, channel)
    assert (per_example < 10).all()
    masked = AF.mask_along_axis(mel, 8, -1.0, 2)
    rows = (masked == -1).all(dim=-1)   # (example, channel, mel bin)
    assert rows[0, 0].sum() < 8 and bool((rows == rows[0, 0]).all())  # one mask for all
    with pytest.raises(ValueError, match="Only Frequency and Time masking are supported"):
        AF.mask_along_axis(mel, 8, 0.0, 1)


# -- resampling ------------------------------------------------------------------------------

def reference_kernel(orig, new, width_zc=6, rolloff=0.99, method="hann", beta=14.769656459379492,
                     float32_phases=False):
    """torchaudio's kernel from its definition: output phase j samples
    sum_i x[i] h(i / orig - j / new), h a windowed sinc with cutoff base_freq, cut after
    width_zc zero crossings (evaluated in float64 on the whole grid). Without a dtype,
    torchaudio divides an int64 arange by new_freq: the phases j / new are float32."""
    g = math.gcd(orig, new)
    orig, new = orig // g, new // g
    base = min(orig, new) * rolloff
    width = math.ceil(width_zc * orig / base)
    i = np.arange(-width, width + orig)[None, :]
    j = np.arange(new)[:, None]
    phases = (j / new).astype(np.float32).astype(np.float64) if float32_phases else j / new
    t = np.clip((i / orig - phases) * base, -width_zc, width_zc)
    if method == "hann":
        w = np.cos(t * math.pi / width_zc / 2) ** 2
    else:  # torchaudio holds beta, and so I0(beta), as float32 tensors
        beta = float(np.float32(beta))
        w = np.i0(beta * np.sqrt(1 - (t / width_zc) ** 2)) / float(np.float32(np.i0(beta)))
    return (w * np.sinc(t) * base / orig)[:, None, :], width


@pytest.mark.parametrize("orig,new,method", [(16000, 8000, "sinc_interp_hann"),
                                             (8000, 11025, "sinc_interp_hann"),
                                             (44100, 16000, "sinc_interp_kaiser")])
def test_resample_kernel_matches_torchaudios_definition(orig, new, method):
    from taimatsu_audio.functional.functional import _sinc_resample_kernel
    g = math.gcd(orig, new)
    kernel, width = _sinc_resample_kernel(orig, new, g, 6, 0.99, method, None, tm.float64)
    ref, ref_width = reference_kernel(orig, new, method="hann" if "hann" in method else "kaiser")
    assert width == ref_width
    np.testing.assert_allclose(kernel.numpy(), ref, atol=1e-12)
    f32, _ = _sinc_resample_kernel(orig, new, g, 6, 0.99, method)
    ref32, _ = reference_kernel(orig, new, method="hann" if "hann" in method else "kaiser",
                                float32_phases=True)
    assert f32.dtype is tm.float32
    np.testing.assert_allclose(f32.numpy(), ref32, atol=1e-7)


@pytest.mark.parametrize("method", ["sinc_interp_hann", "sinc_interp_kaiser"])
@pytest.mark.parametrize("orig,new", [(16000, 8000), (8000, 16000), (44100, 16000)])
def test_resampling_keeps_a_tone_frequency(method, orig, new):
    x = tone(1000, sr=orig, seconds=0.5)
    y = AF.resample(x[None], orig, new, resampling_method=method)
    assert y.shape == (1, math.ceil(x.shape[-1] * new / orig))
    assert dominant_frequency(y.numpy()[0], new) == pytest.approx(1000, abs=3)


def test_resample_edge_cases():
    x = tm.randn(2, 100)
    assert AF.resample(x, 8000, 8000) is x
    with pytest.raises(ValueError, match="should be positive"):
        AF.resample(x, 0, 8000)
    with pytest.raises(ValueError, match="Frequencies must be of integer type"):
        AF.resample(x, 16000.5, 8000)
    with pytest.raises(ValueError, match="Invalid resampling method"):
        AF.resample(x, 16000, 8000, resampling_method="linear")
    with pytest.raises(TypeError, match="Expected floating point type"):
        AF.resample(tm.ones(2, 100, dtype=tm.int64), 16000, 8000)


def test_speed_and_pitch_shift():
    x = tone(500, seconds=0.5, dtype=np.float32)
    faster, lengths = AF.speed(x[None], 16000, 2.0, lengths=tm.tensor([8000]))
    assert faster.shape[-1] == 4000 and lengths.tolist() == [4000]
    assert dominant_frequency(faster.numpy()[0], 16000) == pytest.approx(1000, abs=4)
    shifted = AF.pitch_shift(x, 16000, 12)  # one octave up, same length
    assert shifted.shape == x.shape
    assert dominant_frequency(shifted.numpy(), 16000) == pytest.approx(1000, rel=0.03)


# -- filtering -----------------------------------------------------------------------------------

def test_lfilter_matches_scipy():
    signal = pytest.importorskip("scipy.signal")
    x = RNG.uniform(-0.5, 0.5, (2, 3, 300))
    b, a = signal.butter(3, 0.2)
    ours = AF.lfilter(tm.tensor(x), tm.tensor(a), tm.tensor(b), clamp=False)
    np.testing.assert_allclose(ours.numpy(), signal.lfilter(b, a, x, axis=-1), atol=1e-12)


def test_lfilter_numpy_recursion_matches_scipy():
    signal = pytest.importorskip("scipy.signal")
    from taimatsu_audio.functional.filtering import _iir_loop
    x = RNG.uniform(-0.5, 0.5, (2, 2, 64))
    b, a = signal.butter(2, 0.3)
    coeffs = lambda c: np.stack([c, c * 0.9])  # noqa: E731 (one filter per channel)
    out = _iir_loop(np, x, coeffs(a), coeffs(b))
    for ch in range(2):
        np.testing.assert_allclose(out[:, ch], signal.lfilter(coeffs(b)[ch], coeffs(a)[ch],
                                                              x[:, ch]), atol=1e-12)


def test_lfilter_batching_and_clamp():
    x = tm.tensor(RNG.uniform(-1, 1, (4, 2, 50)))
    a = tm.tensor([[1.0, -0.5], [1.0, 0.3]], dtype=tm.float64)
    b = tm.tensor([[0.5, 0.5], [1.0, 0.0]], dtype=tm.float64)
    batched = AF.lfilter(x, a, b, clamp=False)
    for ch in range(2):
        assert_close(batched[:, ch], AF.lfilter(x[:, ch], a[ch], b[ch], clamp=False))
    assert AF.lfilter(x, a, b, batching=False).shape == (4, 2, 2, 50)
    assert AF.lfilter(x * 5, a[0], b[0]).abs().max().item() <= 1.0
    with pytest.raises(ValueError, match="Expected coeffs to be the same size"):
        AF.lfilter(x, a, b[:, :1])


def test_lfilter_is_differentiable_in_all_arguments():
    x = tm.tensor(RNG.uniform(-0.5, 0.5, (2, 1, 12)), requires_grad=True)
    a = tm.tensor([1.0, -0.4, 0.1], dtype=tm.float64, requires_grad=True)
    b = tm.tensor([0.3, 0.2, 0.1], dtype=tm.float64, requires_grad=True)
    fn = lambda x, a, b: AF.lfilter(x, a, b, clamp=False)  # noqa: E731
    assert tm.autograd.gradcheck(fn, (x, a, b))
    assert tm.autograd.gradgradcheck(fn, (x, a, b))


@pytest.mark.parametrize("name,args,passes,stops", [
    ("lowpass_biquad", (1000.0,), 200, 4000), ("highpass_biquad", (1000.0,), 4000, 100),
    ("bandpass_biquad", (1000.0, 2.0), 1000, 5000), ("bandreject_biquad", (1000.0, 2.0), 3000, 1000),
    ("band_biquad", (1000.0, 2.0), 1000, 5000)])
def test_biquads_pass_and_stop_tones(name, args, passes, stops):
    fn = getattr(AF, name)

    def gain(freq):
        x = 0.5 * tone(freq, seconds=0.3)
        y = fn(x, 16000, *args)
        return (y[2000:].pow(2).mean() / x[2000:].pow(2).mean()).item()

    assert gain(passes) > 0.5 and gain(stops) < 0.1


def test_other_biquads_and_effects_are_finite_and_sensible():
    x = 0.3 * tone(300, seconds=0.1)
    for y in (AF.allpass_biquad(x, 16000, 500.0), AF.bass_biquad(x, 16000, 6.0),
              AF.treble_biquad(x, 16000, -6.0), AF.equalizer_biquad(x, 16000, 300.0, 6.0),
              AF.deemph_biquad(x, 44100), AF.riaa_biquad(x, 44100), AF.contrast(x),
              AF.dcshift(x, 0.2, 0.05), AF.gain(x, 6.0)):
        assert y.shape == x.shape and bool(tm.isfinite(y).all())
    # the all-pass filter keeps the energy of a steady tone
    y = AF.allpass_biquad(x, 16000, 500.0)
    assert y[400:].pow(2).mean().item() == pytest.approx(x[400:].pow(2).mean().item(), rel=0.02)
    low = 0.3 * tone(40, seconds=0.2)
    boosted = AF.bass_biquad(low, 16000, 6.0)  # +6 dB: about twice the amplitude
    assert boosted[1600:].abs().max().item() > 1.8 * low.abs().max().item()
    with pytest.raises(ValueError, match="Sample rate must be 44100"):
        AF.deemph_biquad(x, 16000)


def test_preemphasis_and_deemphasis_are_inverse():
    x = tm.tensor(RNG.uniform(-0.2, 0.2, (2, 100)))
    y = AF.preemphasis(x, 0.9)
    assert_close(y[:, 1:], x[:, 1:] - 0.9 * x[:, :-1])
    assert_close(AF.deemphasis(y, 0.9), x)


# -- convolution and noise --------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["full", "valid", "same"])
def test_convolve_and_fftconvolve_match_numpy(mode):
    x = RNG.standard_normal((2, 3, 40))
    y = RNG.standard_normal((1, 3, 9))
    ref = np.stack([[np.convolve(x[i, j], y[0, j], mode=mode) for j in range(3)]
                    for i in range(2)])
    assert_close(AF.convolve(tm.tensor(x), tm.tensor(y), mode), ref)
    assert_close(AF.fftconvolve(tm.tensor(x), tm.tensor(y), mode), ref)
    with pytest.raises(ValueError, match="Unrecognized mode value 'middle'"):
        AF.convolve(tm.tensor(x), tm.tensor(y), "middle")


def test_add_noise_reaches_the_requested_snr():
    x = tm.tensor(RNG.standard_normal((2, 1000)))
    noise = tm.tensor(RNG.standard_normal((2, 1000)))
    snr = tm.tensor([10.0, 0.0], dtype=tm.float64)
    y = AF.add_noise(x, noise, snr)
    added = (y - x).pow(2).sum(-1)
    assert_close(10 * tm.log10(x.pow(2).sum(-1) / added), snr)
    with pytest.raises(ValueError, match="leading dimensions don't match"):
        AF.add_noise(x, noise, tm.tensor(1.0))


def test_edit_distance_and_loudness():
    assert AF.edit_distance("kitten", "sitting") == 3
    assert AF.edit_distance(["a", "b", "c"], ["a", "c"]) == 1
    x = 0.1 * tone(1000, seconds=1.0)[None]
    louder = AF.loudness(2 * x, 16000).item() - AF.loudness(x, 16000).item()
    assert louder == pytest.approx(20 * math.log10(2), abs=0.01)
