"""taimatsu_audio.transforms: the spectral features against a reference built from
taimatsu.stft's definition and an independent mel filter bank (1e-4 relative), torchaudio's
defaults and buffer names, batching over leading dims, gradients."""

import math

import numpy as np
import pytest
from audio.reference import reference_fbanks, tone

import taimatsu as tm
import taimatsu_audio.transforms as T
from taimatsu import plugins
from taimatsu.testing import assert_close

RNG = np.random.default_rng(0)


def power_spectrogram(x, n_fft, hop, dtype=tm.float64):
    """|stft|^2 with a periodic Hann window, centred frames and reflect padding."""
    window = tm.hann_window(n_fft, dtype=dtype)
    return tm.stft(x, n_fft, hop, window=window, center=True, pad_mode="reflect",
                   return_complex=True).abs().pow(2)


def rel_error(a, b) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.abs(a - b).max() / np.abs(b).max())


@pytest.fixture
def audio():
    return tm.tensor((0.3 * RNG.standard_normal((3, 4000))).astype(np.float32))


def test_spectrogram_matches_the_stft_definition(audio):
    ours = T.Spectrogram(n_fft=256, hop_length=64)(audio)
    ref = power_spectrogram(audio.double(), 256, 64)
    assert ours.shape == (3, 129, 63) and rel_error(ours.numpy(), ref.numpy()) < 1e-4


@pytest.mark.parametrize("norm,scale", [(None, "htk"), ("slaney", "slaney")])
def test_melspectrogram_matches_an_independent_filter_bank(audio, norm, scale):
    mel = T.MelSpectrogram(16000, n_fft=400, hop_length=160, n_mels=40, f_min=20.0,
                           norm=norm, mel_scale=scale)
    fb = reference_fbanks(201, 20.0, 8000.0, 40, 16000, norm, scale)
    ref = np.einsum("bft,fm->bmt", power_spectrogram(audio.double(), 400, 160).numpy(), fb)
    assert rel_error(mel(audio).numpy(), ref) < 1e-4


def test_mfcc_matches_decibels_and_an_orthonormal_dct(audio):
    fft = pytest.importorskip("scipy.fft")
    mfcc = T.MFCC(16000, n_mfcc=13, melkwargs={"n_fft": 400, "hop_length": 160, "n_mels": 40})
    fb = reference_fbanks(201, 0.0, 8000.0, 40, 16000)
    mel = np.einsum("bft,fm->bmt", power_spectrogram(audio.double(), 400, 160).numpy(), fb)
    db = 10 * np.log10(np.maximum(mel, 1e-10))
    db = np.maximum(db, db.max() - 80.0)  # 2-D/3-D input: one floor for everything
    ref = fft.dct(db, type=2, norm="ortho", axis=1)[:, :13]
    assert rel_error(mfcc(audio).numpy(), ref) < 1e-4
    log_mfcc = T.MFCC(16000, n_mfcc=13, log_mels=True,
                      melkwargs={"n_fft": 400, "hop_length": 160, "n_mels": 40})
    ref = fft.dct(np.log(mel + 1e-6), type=2, norm="ortho", axis=1)[:, :13]
    assert rel_error(log_mfcc(audio).numpy(), ref) < 1e-4


def test_lfcc_uses_linear_filters(audio):
    fft = pytest.importorskip("scipy.fft")
    lfcc = T.LFCC(16000, n_filter=32, n_lfcc=10, speckwargs={"n_fft": 256, "hop_length": 128})
    edges = np.linspace(0, 8000, 34)
    freqs = np.linspace(0, 8000, 129)[:, None]
    fb = np.clip(np.minimum((freqs - edges[:-2]) / (edges[1:-1] - edges[:-2]),
                            (edges[2:] - freqs) / (edges[2:] - edges[1:-1])), 0, None)
    spec = np.einsum("bft,fm->bmt", power_spectrogram(audio.double(), 256, 128).numpy(), fb)
    db = 10 * np.log10(np.maximum(spec, 1e-10))
    ref = fft.dct(np.maximum(db, db.max() - 80), type=2, norm="ortho", axis=1)[:, :10]
    assert rel_error(lfcc(audio).numpy(), ref) < 1e-4


def test_defaults_and_buffer_names_follow_torchaudio():
    with pytest.warns(UserWarning, match="all zero values"):  # 128 mels over 201 bins
        mel = T.MelSpectrogram()
    assert (mel.sample_rate, mel.n_fft, mel.win_length, mel.hop_length, mel.n_mels) == \
        (16000, 400, 400, 200, 128)
    assert list(mel.state_dict()) == ["spectrogram.window", "mel_scale.fb"]
    assert mel.mel_scale.fb.shape == (201, 128)
    assert list(T.MFCC(melkwargs={"n_mels": 64}).state_dict())[0] == "dct_mat"
    assert set(T.LFCC().state_dict()) == {"filter_mat", "dct_mat", "Spectrogram.window"}
    assert list(T.Resample(16000, 8000).state_dict()) == ["kernel"]
    assert list(T.TimeStretch().state_dict()) == ["phase_advance"]
    assert T.TimeStretch().phase_advance.shape == (201, 1)
    assert T.Spectrogram().window.shape == (400,) and T.Spectrogram().hop_length == 200
    assert T.PitchShift(16000, 4).hop_length == 128
    spec = T.Spectrogram(window_fn=tm.kaiser_window, wkwargs={"beta": 5.0})
    assert_close(spec.window, tm.kaiser_window(400, beta=5.0))


def test_state_dicts_round_trip_between_instances():
    a = T.MelSpectrogram(n_mels=40)
    b = T.MelSpectrogram(n_mels=40)
    b.load_state_dict(a.state_dict())
    x = tm.randn(1000)
    assert_close(a(x), b(x))


def test_transforms_are_batched_over_leading_dims():
    x = tm.tensor(RNG.standard_normal((2, 3, 2000)).astype(np.float32))
    for transform in (T.MelSpectrogram(n_mels=32), T.MFCC(n_mfcc=13, melkwargs={"n_mels": 32}),
                      T.SpectralCentroid(16000), T.Resample(16000, 12000),
                      T.ComputeDeltas(), T.Preemphasis()):
        batched = transform(x)
        assert_close(batched[1, 2], transform(x[1, 2]), atol=1e-4, rtol=1e-4)


def test_melspectrogram_is_differentiable():
    x = tm.tensor(RNG.standard_normal(300), requires_grad=True)
    mel = T.MelSpectrogram(16000, n_fft=64, hop_length=32, n_mels=8)
    mel = mel.to(tm.float64)
    assert tm.autograd.gradcheck(lambda a: mel(a), (x,))
    loss = T.AmplitudeToDB()(T.MelSpectrogram(n_mels=16)(tm.randn(2, 800, requires_grad=True)))
    loss.sum().backward()


def test_inverse_transforms():
    x = tm.tensor(RNG.standard_normal((2, 1600)))
    spec = T.Spectrogram(n_fft=128, hop_length=32, power=None).to(tm.float64)
    inverse = T.InverseSpectrogram(n_fft=128, hop_length=32).to(tm.float64)
    assert_close(inverse(spec(x), 1600), x, atol=1e-10, rtol=0)
    tm.manual_seed(0)
    mag = T.Spectrogram(n_fft=128, hop_length=32).to(tm.float64)(tone(500, seconds=0.1))
    wave = T.GriffinLim(n_fft=128, hop_length=32, n_iter=16, length=1600).to(tm.float64)(mag)
    assert wave.shape == (1600,)
    with pytest.warns(UserWarning, match="all zero values"):
        melscale = T.MelScale(n_mels=32, sample_rate=16000, n_stft=65).to(tm.float64)
        linear = T.InverseMelScale(65, n_mels=32, sample_rate=16000).to(tm.float64)
    power = mag.unsqueeze(0)
    recovered = linear(melscale(power))
    assert recovered.shape == power.shape and (recovered >= 0).all()
    assert rel_error(melscale(recovered).numpy(), melscale(power).numpy()) < 1e-6


def test_masking_transforms():
    tm.manual_seed(0)
    spec = tm.ones(4, 1, 30, 50)
    masked = T.FrequencyMasking(10, iid_masks=True)(spec)
    assert ((masked == 0).all(dim=-1).sum(dim=-1) < 10).all()
    masked = T.TimeMasking(20, p=0.1)(spec)
    assert ((masked == 0).all(dim=-2).sum(dim=-1) <= 5).all()
    spec = tm.rand(4, 30, 50) + 1
    augmented = T.SpecAugment(2, 8, 2, 5)(spec)
    assert augmented.shape == (4, 30, 50)
    # masked cells hold the input's mean; each example draws its own masks
    masked = augmented == spec.mean()
    assert masked.any(dim=(1, 2)).sum() >= 2 and not bool((masked == masked[0]).all())
    with pytest.raises(ValueError, match="p must be between"):
        T.TimeMasking(5, p=1.5)


def test_simple_waveform_transforms():
    x = 0.5 * tone(440, seconds=0.1)
    assert_close(T.Vol(2.0)(x), tm.clamp(2 * x, -1, 1))
    assert_close(T.Vol(6.0, "db")(x), tm.clamp(x * 10 ** (6 / 20), -1, 1))
    assert_close(T.Vol(4.0, "power")(x), tm.clamp(x * 2, -1, 1))
    with pytest.raises(ValueError, match="gain must be positive"):
        T.Vol(-1.0)
    faded = T.Fade(fade_in_len=100, fade_out_len=200)(tm.ones(1000))
    assert faded[0].item() == 0 and faded[-1].item() == 0 and faded[500].item() == 1
    assert_close(faded[:100], tm.linspace(0, 1, 100))
    codes = T.MuLawEncoding(256)(x)
    assert (T.MuLawDecoding(256)(codes) - x).abs().max().item() < 0.02
    assert_close(T.Deemphasis(0.8)(T.Preemphasis(0.8)(x)), x)
    y, lengths = T.Speed(16000, 0.5)(x[None], tm.tensor([1600]))
    assert y.shape == (1, 3200) and lengths.tolist() == [3200]
    y, _ = T.SpeedPerturbation(16000, [1.0])(x[None])
    assert_close(y, x[None])
    snr = tm.tensor([20.0], dtype=tm.float64)
    assert T.AddNoise()(x[None], tm.randn(1, 1600, dtype=tm.float64), snr).shape == (1, 1600)
    assert T.Convolve("same")(x, x[:20]).shape == (1600,)
    assert_close(T.FFTConvolve()(x, x[:20]), T.Convolve()(x, x[:20]))
    assert T.Loudness(16000)(tone(1000, seconds=0.5)[None]).shape == ()


def test_resample_and_time_stretch_modules():
    x = tone(1000, sr=44100, seconds=0.2)
    resample = T.Resample(44100, 16000, dtype=tm.float64)
    assert resample.kernel.dtype is tm.float64
    y = resample(x)
    assert y.shape == (math.ceil(x.shape[0] * 16000 / 44100),)
    assert T.Resample(16000, 16000)(x) is x
    spec = tm.stft(tone(300, seconds=0.5), 400, 200, window=tm.hann_window(400, dtype=tm.float64),
                   return_complex=True)
    stretch = T.TimeStretch(n_freq=201, fixed_rate=2.0).to(tm.float64)
    assert stretch(spec).shape == (201, math.ceil(41 / 2))
    assert stretch(spec, 0.5).shape == (201, 82)
    with pytest.raises(ValueError, match="must pass a valid rate"):
        T.TimeStretch()(spec)


def test_pitch_shift_materialises_its_kernel_lazily():
    shift = T.PitchShift(16000, 12)
    assert shift.has_uninitialized_params()
    x = tone(400, seconds=0.3, dtype=np.float32)
    y = shift(x)
    assert y.shape == x.shape and not shift.has_uninitialized_params()
    assert shift.kernel.dtype is tm.float32 and "kernel" in shift.state_dict()


def test_transforms_are_registered_with_the_plugin():
    names = plugins.list_transforms(domain="audio")
    assert {"MelSpectrogram", "MFCC", "Resample", "SpecAugment", "PitchShift"} <= set(names)
    mel = plugins.get_transform("MelSpectrogram", n_mels=20)
    assert isinstance(mel, T.MelSpectrogram) and mel.n_mels == 20
