"""Audio file I/O over soundfile (libsndfile): load, save and info with torchaudio's
signatures. Paths and binary file-like objects; WAV, FLAC and OGG/Vorbis (and whatever
else libsndfile reads)."""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import soundfile

import taimatsu

__all__ = ["AudioMetaData", "info", "load", "save", "list_audio_backends"]

# libsndfile subtype -> (torchaudio's encoding name, bits per sample)
_SUBTYPES = {
    "PCM_S8": ("PCM_S", 8), "PCM_U8": ("PCM_U", 8), "PCM_16": ("PCM_S", 16),
    "PCM_24": ("PCM_S", 24), "PCM_32": ("PCM_S", 32), "FLOAT": ("PCM_F", 32),
    "DOUBLE": ("PCM_F", 64), "ULAW": ("ULAW", 8), "ALAW": ("ALAW", 8),
    "VORBIS": ("VORBIS", 0), "OPUS": ("OPUS", 0), "MPEG_LAYER_III": ("MP3", 0),
}

# integer PCM subtype -> the dtype load(normalize=False) returns (24-bit: int32, scaled up
# to the full range as libsndfile reads it)
_INT_DTYPES = {"PCM_S8": taimatsu.int8, "PCM_U8": taimatsu.uint8, "PCM_16": taimatsu.int16,
               "PCM_24": taimatsu.int32, "PCM_32": taimatsu.int32}

# save(): (encoding, bits_per_sample) -> libsndfile subtype
_ENCODINGS = {
    ("PCM_S", 8): "PCM_S8", ("PCM_U", 8): "PCM_U8", ("PCM_S", 16): "PCM_16",
    ("PCM_S", 24): "PCM_24", ("PCM_S", 32): "PCM_32", ("PCM_F", 32): "FLOAT",
    ("PCM_F", 64): "DOUBLE", ("ULAW", 8): "ULAW", ("ALAW", 8): "ALAW",
}
_FORMATS = {"wav": "WAV", "flac": "FLAC", "ogg": "OGG", "vorbis": "OGG", "opus": "OGG",
            "mp3": "MP3", "aiff": "AIFF", "aif": "AIFF", "au": "AU", "caf": "CAF",
            "w64": "W64", "rf64": "RF64"}


@dataclass
class AudioMetaData:
    """What `info` reports about an audio file.

    Attributes:
        sample_rate: sample rate in Hz
        num_frames: number of frames (samples per channel)
        num_channels: number of channels
        bits_per_sample: bits per sample, 0 for compressed formats without a fixed size
        encoding: "PCM_S", "PCM_U", "PCM_F", "FLAC", "ULAW", "ALAW", "VORBIS", ... or
            "UNKNOWN"
    """

    sample_rate: int
    num_frames: int
    num_channels: int
    bits_per_sample: int
    encoding: str


def list_audio_backends() -> list[str]:
    """The available I/O backends: this package reads and writes through soundfile."""
    return ["soundfile"]


def _name(uri) -> str:
    if isinstance(uri, (str, os.PathLike)):
        return os.fspath(uri)
    return getattr(uri, "name", None) or f"<{type(uri).__name__} object>"


def _source(uri):
    """A path string or the file-like object itself, for soundfile."""
    if isinstance(uri, (str, os.PathLike)):
        return os.fspath(uri)
    if not hasattr(uri, "read"):
        raise TypeError(f"expected a path or a binary file-like object, got "
                        f"{type(uri).__name__}")
    return uri


def _open(uri, format: str | None):
    """soundfile.SoundFile for reading; errors name the file and libsndfile's reason."""
    source = _source(uri)
    if isinstance(source, str) and not os.path.exists(source):
        raise RuntimeError(f'Failed to open the input "{source}" (No such file or directory).')
    if format is not None and format.lower() == "raw":
        raise ValueError("raw (headerless) audio needs its sample rate and layout; "
                         "read it with numpy and taimatsu.from_numpy")
    try:  # the container is read from the file's header; `format` is only a hint
        return soundfile.SoundFile(source, "r")
    except (soundfile.LibsndfileError, RuntimeError, TypeError) as exc:
        reason = str(exc)
        if ":" in reason and reason.startswith("Error opening"):
            reason = reason.split(":", 1)[1].strip()
        raise RuntimeError(f'Failed to open the input "{_name(uri)}" ({reason}).') from None


def info(uri, format: str | None = None, buffer_size: int = 4096,
         backend: str | None = None) -> AudioMetaData:
    """Sample rate, length, channels, bit depth and encoding of an audio file."""
    _check_backend(backend)
    with _open(uri, format) as f:
        encoding, bits = _SUBTYPES.get(f.subtype, ("UNKNOWN", 0))
        if f.format == "FLAC":
            encoding = "FLAC"
        return AudioMetaData(f.samplerate, f.frames, f.channels, bits, encoding)


def load(uri, frame_offset: int = 0, num_frames: int = -1, normalize: bool = True,
         channels_first: bool = True, format: str | None = None, buffer_size: int = 4096,
         backend: str | None = None) -> tuple[taimatsu.Tensor, int]:
    """Reads an audio file: (waveform, sample_rate).

    The waveform is float32 in [-1, 1] with shape (channels, frames) (or (frames,
    channels) when channels_first=False). With normalize=False integer PCM is returned
    as stored: int16 for 16-bit, int32 for 24/32-bit, uint8/int8 for 8-bit; other
    encodings are float32 either way.

    Args:
        frame_offset: frames to skip at the start
        num_frames: frames to read (-1: to the end)
    """
    _check_backend(backend)
    if frame_offset < 0:
        raise ValueError(f"frame_offset must be non-negative, got {frame_offset}")
    if num_frames == 0 or num_frames < -1:
        raise ValueError(f"num_frames must be -1 (all) or positive, got {num_frames}")
    with _open(uri, format) as f:
        sample_rate = f.samplerate
        target = None if normalize else _INT_DTYPES.get(f.subtype)
        start = min(frame_offset, f.frames)
        f.seek(start)
        count = f.frames - start if num_frames == -1 else min(num_frames, f.frames - start)
        try:
            data = _read(f, count, target)
        except (soundfile.LibsndfileError, RuntimeError) as exc:
            raise RuntimeError(f'Failed to decode the input "{_name(uri)}" ({exc}).') from None
    tensor = taimatsu.from_numpy(np.ascontiguousarray(data.T if channels_first else data))
    return tensor, sample_rate


def _read(f, count: int, target) -> np.ndarray:
    """(frames, channels) samples: float32, or the integer dtype `target`."""
    if target is None:
        return f.read(count, dtype="float32", always_2d=True)
    if target in (taimatsu.int16, taimatsu.int32):
        return f.read(count, dtype=target.np.name, always_2d=True)
    # 8-bit PCM: libsndfile hands out 16-bit samples whose high byte is the stored one
    high = f.read(count, dtype="int16", always_2d=True) >> 8
    if target is taimatsu.uint8:
        return (high + 128).astype(np.uint8)
    return high.astype(np.int8)


def save(uri, src: taimatsu.Tensor, sample_rate: int, channels_first: bool = True,
         format: str | None = None, encoding: str | None = None,
         bits_per_sample: int | None = None, buffer_size: int = 4096,
         backend: str | None = None, compression=None) -> None:
    """Writes a waveform to an audio file.

    Args:
        src: (channels, frames) when channels_first, else (frames, channels); float
            samples are expected in [-1, 1] (clipped when written as integer PCM)
        format: "wav", "flac", "ogg"/"vorbis", ... (default: from the file extension;
            required for file-like objects)
        encoding: "PCM_S", "PCM_U", "PCM_F", "ULAW" or "ALAW" (WAV)
        bits_per_sample: 8, 16, 24, 32 or 64
        compression: FLAC: compression level 0..8; OGG/Vorbis: quality -1..10 (as sox)
    """
    _check_backend(backend)
    if not isinstance(src, taimatsu.Tensor):
        raise TypeError(f"src must be a Tensor, got {type(src).__name__}")
    if src.dim() != 2:
        raise ValueError(f"Expected 2D Tensor, got {src.dim()}D.")
    data = src.detach().cpu().numpy()
    data = data.T if channels_first else data
    fmt = _container(uri, format)
    subtype = _subtype(fmt, data.dtype, encoding, bits_per_sample)
    if data.dtype.kind == "f" and subtype not in ("FLOAT", "DOUBLE"):
        data = np.clip(data, -1.0, 1.0)  # libsndfile would wrap out-of-range samples
    if data.dtype == np.uint8:  # libsndfile takes signed integers: centre 8-bit samples
        data = (data.astype(np.int16) - 128) << 8
    elif data.dtype == np.int8:
        data = data.astype(np.int16) << 8
    elif data.dtype.kind in "iu" and data.dtype not in (np.int16, np.int32):
        data = data.astype(np.int32)
    kwargs = _compression(fmt, compression)
    try:
        soundfile.write(_source(uri), np.ascontiguousarray(data), int(sample_rate),
                        subtype=subtype, format=fmt, **kwargs)
    except (soundfile.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        raise RuntimeError(f'Failed to write "{_name(uri)}" as {fmt}/{subtype} ({exc}).') \
            from None


def _container(uri, format: str | None) -> str:
    if format is None:
        if not isinstance(uri, (str, os.PathLike)):
            raise ValueError("format must be given when saving to a file-like object")
        ext = os.path.splitext(os.fspath(uri))[1][1:].lower()
        if not ext:
            raise ValueError(f"cannot tell the format of {os.fspath(uri)!r}: pass format=")
        format = ext
    fmt = _FORMATS.get(format.lower(), format.upper())
    if fmt not in soundfile.available_formats():
        raise ValueError(f"unsupported format {format!r}; soundfile writes "
                         f"{sorted(_FORMATS)}")
    return fmt


def _subtype(fmt: str, dtype: np.dtype, encoding: str | None, bits: int | None) -> str:
    """libsndfile's subtype for torchaudio's (encoding, bits_per_sample) in `fmt`."""
    if fmt == "OGG":
        if encoding not in (None, "VORBIS", "OPUS"):
            raise ValueError(f"OGG supports the VORBIS and OPUS encodings, not {encoding!r}")
        return encoding or "VORBIS"
    if fmt == "FLAC":
        if encoding not in (None, "FLAC", "PCM_S"):
            raise ValueError(f"FLAC stores integer PCM; encoding {encoding!r} is not "
                             "supported")
        bits = bits or (8 if dtype.itemsize == 1 else 24 if dtype == np.int32 else 16)
        if bits not in (8, 16, 24):
            raise ValueError(f"FLAC supports 8, 16 or 24 bits per sample, got {bits}")
        return {8: "PCM_S8", 16: "PCM_16", 24: "PCM_24"}[bits]
    if encoding is None and bits is not None:  # as torchaudio: the width picks the encoding
        encoding = {8: "PCM_U", 64: "PCM_F"}.get(bits, "PCM_S")
    elif encoding is None:
        encoding = ("PCM_U" if dtype == np.uint8 else "PCM_S" if dtype.kind in "iu"
                    else "PCM_F")
    if bits is None:
        bits = {"PCM_F": 64 if dtype == np.float64 else 32, "ULAW": 8, "ALAW": 8,
                "PCM_U": 8}.get(encoding, 8 * dtype.itemsize if dtype.kind in "iu" else 16)
    subtype = _ENCODINGS.get((encoding, bits))
    if subtype is None:
        raise ValueError(f"unsupported encoding {encoding!r} with {bits} bits per sample")
    if not soundfile.check_format(fmt, subtype):
        raise ValueError(f"{fmt} cannot store {encoding} with {bits} bits per sample")
    return subtype


def _compression(fmt: str, compression) -> dict:
    if compression is None:
        return {}
    if fmt == "FLAC":
        return {"compression_level": min(max(float(compression) / 8.0, 0.0), 1.0)}
    if fmt == "OGG":  # sox's quality scale -1..10 -> libsndfile's 1 (best) .. 0
        return {"compression_level": min(max(1.0 - (float(compression) + 1) / 11.0, 0.0), 1.0)}
    raise ValueError(f"compression is not supported for {fmt}")


def _check_backend(backend: str | None) -> None:
    if backend not in (None, "soundfile"):
        raise ValueError(f"backend {backend!r} is not available; taimatsu_audio reads and "
                         "writes audio through soundfile")

