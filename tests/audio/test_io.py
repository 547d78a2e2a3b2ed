"""taimatsu_audio.load / save / info over soundfile: formats, encodings, file-likes, errors."""

import io
from pathlib import Path

import numpy as np
import pytest

import taimatsu as tm
import taimatsu_audio as ta

DATA = Path(__file__).resolve().parents[1] / "data" / "speech_commands_synth"
RNG = np.random.default_rng(0)


def int16_tensor(channels=2, frames=1000):
    return tm.from_numpy(RNG.integers(-32768, 32768, size=(channels, frames)).astype(np.int16))


def test_16_bit_wav_round_trip_is_bit_exact(tmp_path):
    x = int16_tensor()
    path = tmp_path / "a.wav"
    ta.save(path, x, 8000)
    y, sr = ta.load(path, normalize=False)
    assert sr == 8000 and y.dtype is tm.int16
    np.testing.assert_array_equal(y.numpy(), x.numpy())
    # normalized: the same samples scaled by 1 / 32768
    z, _ = ta.load(path)
    assert z.dtype is tm.float32
    np.testing.assert_array_equal(z.numpy(), x.numpy().astype(np.float32) / 32768)


def test_float_saved_as_16_bit_reloads_within_one_step(tmp_path):
    x = tm.rand(1, 500) * 1.8 - 0.9
    ta.save(tmp_path / "f.wav", x, 16000, encoding="PCM_S", bits_per_sample=16)
    y, _ = ta.load(tmp_path / "f.wav")
    assert np.abs(y.numpy() - x.numpy()).max() <= 1 / 32768 + 1e-7


def test_info_reports_the_file(tmp_path):
    ta.save(tmp_path / "a.wav", int16_tensor(3, 123), 22050)
    meta = ta.info(tmp_path / "a.wav")
    assert meta == ta.AudioMetaData(22050, 123, 3, 16, "PCM_S")
    flac = next(DATA.glob("yes/*.flac"))
    meta = ta.info(str(flac))
    assert (meta.sample_rate, meta.num_channels, meta.bits_per_sample, meta.encoding) == \
        (16000, 1, 16, "FLAC")


@pytest.mark.parametrize("encoding,bits,dtype", [("PCM_U", 8, tm.uint8), ("PCM_S", 24, tm.int32),
                                                 ("PCM_S", 32, tm.int32), ("PCM_F", 32, tm.float32),
                                                 ("PCM_F", 64, tm.float32), ("ULAW", 8, tm.float32),
                                                 ("ALAW", 8, tm.float32)])
def test_wav_encodings(tmp_path, encoding, bits, dtype):
    x = tm.linspace(-0.9, 0.9, 256).reshape(1, -1)
    ta.save(tmp_path / "e.wav", x, 8000, encoding=encoding, bits_per_sample=bits)
    meta = ta.info(tmp_path / "e.wav")
    assert (meta.encoding, meta.bits_per_sample) == (encoding, bits)
    raw, _ = ta.load(tmp_path / "e.wav", normalize=False)
    assert raw.dtype is dtype
    y, _ = ta.load(tmp_path / "e.wav")
    tol = {8: 0.05 if encoding in ("ULAW", "ALAW") else 1 / 64}.get(bits, 1e-4)
    assert np.abs(y.numpy() - x.numpy()).max() < tol


def test_integer_tensors_pick_their_pcm_width(tmp_path):
    u8 = tm.from_numpy(np.array([[0, 1, 127, 128, 255]], dtype=np.uint8))
    ta.save(tmp_path / "u.wav", u8, 8000)
    assert ta.info(tmp_path / "u.wav").encoding == "PCM_U"
    np.testing.assert_array_equal(ta.load(tmp_path / "u.wav", normalize=False)[0].numpy(),
                                  u8.numpy())
    i32 = tm.from_numpy(np.array([[-2**31, -1, 0, 2**31 - 1]], dtype=np.int32))
    ta.save(tmp_path / "i.wav", i32, 8000)
    np.testing.assert_array_equal(ta.load(tmp_path / "i.wav", normalize=False)[0].numpy(),
                                  i32.numpy())


def test_flac_round_trip_keeps_16_bit_samples(tmp_path):
    x = int16_tensor(1, 4000)
    ta.save(tmp_path / "a.flac", x, 16000)
    y, sr = ta.load(tmp_path / "a.flac", normalize=False)
    assert sr == 16000 and y.dtype is tm.int16
    np.testing.assert_array_equal(y.numpy(), x.numpy())
    ta.save(tmp_path / "b.flac", x.float() / 32768, 16000, bits_per_sample=24, compression=8)
    assert ta.info(tmp_path / "b.flac").bits_per_sample == 24


def test_ogg_vorbis_round_trip_is_close(tmp_path):
    t = tm.arange(16000) / 16000
    x = (0.5 * tm.sin(2 * np.pi * 440 * t)).reshape(1, -1)
    ta.save(tmp_path / "a.ogg", x, 16000)
    meta = ta.info(tmp_path / "a.ogg")
    assert (meta.encoding, meta.num_frames, meta.sample_rate) == ("VORBIS", 16000, 16000)
    y, _ = ta.load(tmp_path / "a.ogg")
    spectrum = np.abs(np.fft.rfft(y.numpy()[0]))
    assert abs(int(spectrum.argmax()) - 440) <= 1  # 1 Hz bins: the tone survives


def test_file_like_objects():
    buffer = io.BytesIO()
    x = int16_tensor(2, 300)
    ta.save(buffer, x, 8000, format="wav")
    buffer.seek(0)
    assert ta.info(buffer).num_frames == 300
    buffer.seek(0)
    y, sr = ta.load(buffer, normalize=False)
    np.testing.assert_array_equal(y.numpy(), x.numpy())
    with open(next(DATA.glob("no/*.flac")), "rb") as f:
        wave, sr = ta.load(f)
    assert sr == 16000 and wave.shape[0] == 1
    with pytest.raises(ValueError, match="format must be given"):
        ta.save(io.BytesIO(), x, 8000)


def test_offsets_lengths_and_layout(tmp_path):
    x = int16_tensor(2, 1000)
    ta.save(tmp_path / "a.wav", x, 8000)
    part, _ = ta.load(tmp_path / "a.wav", frame_offset=100, num_frames=50, normalize=False)
    np.testing.assert_array_equal(part.numpy(), x.numpy()[:, 100:150])
    tail, _ = ta.load(tmp_path / "a.wav", frame_offset=990, num_frames=50, normalize=False)
    assert tail.shape == (2, 10)
    swapped, _ = ta.load(tmp_path / "a.wav", channels_first=False, normalize=False)
    np.testing.assert_array_equal(swapped.numpy(), x.numpy().T)
    ta.save(tmp_path / "b.wav", x.T.contiguous(), 8000, channels_first=False)
    np.testing.assert_array_equal(ta.load(tmp_path / "b.wav", normalize=False)[0].numpy(),
                                  x.numpy())


def test_unreadable_files_name_the_file_and_the_reason(tmp_path):
    bad = tmp_path / "broken.wav"
    bad.write_bytes(b"not audio at all" * 8)
    with pytest.raises(RuntimeError, match=r'"[^"]*broken\.wav" \(Format not recognised'):
        ta.load(bad)
    with pytest.raises(RuntimeError, match=r'"[^"]*missing\.wav" \(No such file or directory'):
        ta.info(tmp_path / "missing.wav")
    with pytest.raises(RuntimeError, match="BytesIO"):
        ta.load(io.BytesIO(b"xyz" * 30))


def test_save_argument_errors(tmp_path):
    with pytest.raises(ValueError, match="Expected 2D Tensor"):
        ta.save(tmp_path / "a.wav", tm.zeros(10), 8000)
    with pytest.raises(ValueError, match="unsupported encoding"):
        ta.save(tmp_path / "a.wav", tm.zeros(1, 10), 8000, encoding="PCM_S", bits_per_sample=12)
    with pytest.raises(ValueError, match="FLAC supports 8, 16 or 24 bits"):
        ta.save(tmp_path / "a.flac", tm.zeros(1, 10), 8000, bits_per_sample=32)
    with pytest.raises(ValueError, match="cannot tell the format"):
        ta.save(tmp_path / "noext", tm.zeros(1, 10), 8000)
    with pytest.raises(ValueError, match="backend"):
        ta.load(tmp_path / "a.wav", backend="ffmpeg")
    assert ta.list_audio_backends() == ["soundfile"]
