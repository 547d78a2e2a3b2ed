"""taimatsu-audio: audio I/O, transforms, datasets and models for taimatsu, with
torchaudio's API (`import taimatsu_audio as torchaudio` reads like torchaudio code)."""

from __future__ import annotations

from ._io import AudioMetaData, info, list_audio_backends, load, save
from . import functional, transforms  # noqa: E402  (after I/O: datasets load audio)
from . import datasets, models  # noqa: E402

__all__ = ["AudioMetaData", "info", "load", "save", "list_audio_backends", "functional",
           "transforms", "datasets", "models"]

__version__ = "0.1.0"
