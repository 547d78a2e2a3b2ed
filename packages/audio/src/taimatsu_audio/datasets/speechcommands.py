"""Speech Commands (Warden, 2018): SPEECHCOMMANDS as torchaudio's, and a folder dataset
for any directory in its layout (one folder per word)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from taimatsu.utils.data import Dataset

from .._io import load
from .utils import download_url_to_file, extract_archive, load_waveform

__all__ = ["SPEECHCOMMANDS", "SpeechCommandsFolder", "speech_commands_synth_root"]

FOLDER_IN_ARCHIVE = "SpeechCommands"
URL = "speech_commands_v0.02"
HASH_DIVIDER = "_nohash_"
EXCEPT_FOLDER = "_background_noise_"
SAMPLE_RATE = 16000
_CHECKSUMS = {
    "http://download.tensorflow.org/data/speech_commands_v0.01.tar.gz":
        "743935421bb51cccdb6bdd152e04c5c70274e935c82119ad7faeec31780d811d",
    "http://download.tensorflow.org/data/speech_commands_v0.02.tar.gz":
        "af14739ee7dc311471de98f5f9d2c9191b18aedfe957f4a6ff791c709868ff58",
}
_SUBSETS = ("training", "validation", "testing")


def _load_list(root: str, *filenames: str) -> list[str]:
    """Normalised paths under root of the files listed in root/<filename> (one a line)."""
    paths = []
    for filename in filenames:
        with open(os.path.join(root, filename)) as f:
            paths += [os.path.normpath(os.path.join(root, line.strip())) for line in f
                      if line.strip()]
    return paths


def _speaker_and_utterance(filename: str) -> tuple[str, int]:
    """'<speaker>_nohash_<n>.wav' -> (speaker, n); other names -> (stem, 0).

    Extensions are stripped twice: some test-set archives name files 'x.wav.wav'.
    """
    stem = os.path.splitext(os.path.splitext(filename)[0])[0]
    if HASH_DIVIDER in stem:
        speaker, number = stem.split(HASH_DIVIDER, 1)
        if number.isdigit():
            return speaker, int(number)
    return stem, 0


def _check_subset(subset: str | None) -> None:
    if subset is not None and subset not in _SUBSETS:
        raise ValueError("When `subset` is not None, it must be one of "
                         "['training', 'validation', 'testing'].")


def _select(path: str, files: list[str], subset: str | None) -> list[str]:
    """`files` (sorted) restricted to a subset through validation_list.txt and
    testing_list.txt: "training" is every file in neither list."""
    if subset == "validation":
        return _load_list(path, "validation_list.txt")
    if subset == "testing":
        return _load_list(path, "testing_list.txt")
    if subset == "training":
        excluded = set(_load_list(path, "validation_list.txt", "testing_list.txt"))
        return [f for f in files if os.path.normpath(f) not in excluded]
    return files


class SPEECHCOMMANDS(Dataset):
    """Speech Commands v0.01/v0.02: items (waveform, sample_rate, label, speaker_id,
    utterance_number).

    Args:
        root: folder holding (or receiving) the dataset
        url: "speech_commands_v0.01", "speech_commands_v0.02" or an archive URL
        folder_in_archive: top-level folder (default "SpeechCommands")
        download: download and extract the archive when the folder is missing
        subset: None (everything), "training", "validation" or "testing" (through the
            dataset's validation_list.txt and testing_list.txt)
    """

    def __init__(self, root, url: str = URL, folder_in_archive: str = FOLDER_IN_ARCHIVE,
                 download: bool = False, subset: str | None = None) -> None:
        _check_subset(subset)
        if url in ("speech_commands_v0.01", "speech_commands_v0.02"):
            url = f"http://download.tensorflow.org/data/{url}.tar.gz"
        root = os.fspath(root)
        self._archive = os.path.join(root, folder_in_archive)
        basename = os.path.basename(url)
        archive = os.path.join(root, basename)
        self._path = os.path.join(root, folder_in_archive, basename.rsplit(".", 2)[0])
        if download:
            if not os.path.isdir(self._path):
                if not os.path.isfile(archive):
                    download_url_to_file(url, archive, hash_prefix=_CHECKSUMS.get(url))
                extract_archive(archive, self._path)
        elif not os.path.exists(self._path):
            raise RuntimeError(f"The path {self._path} doesn't exist. Please check the ``root`` "
                               "path or set `download=True` to download it")
        walker = sorted(str(p) for p in Path(self._path).glob("*/*.wav"))
        walker = [w for w in walker if HASH_DIVIDER in w and EXCEPT_FOLDER not in w]
        # paths as one NumPy string array: no per-item Python objects for workers to copy
        self._walker = np.array(_select(self._path, walker, subset), dtype=str)

    def get_metadata(self, n: int) -> tuple[str, int, str, str, int]:
        """(path relative to the archive folder, sample_rate, label, speaker_id,
        utterance_number) of item n, without loading audio."""
        relpath = os.path.relpath(str(self._walker[n]), self._archive)
        label = os.path.basename(os.path.dirname(relpath))
        speaker, number = _speaker_and_utterance(os.path.basename(relpath))
        return relpath, SAMPLE_RATE, label, speaker, number

    def __getitem__(self, n: int):
        metadata = self.get_metadata(n)
        return (load_waveform(self._archive, metadata[0], metadata[1]),) + metadata[1:]

    def __len__(self) -> int:
        return len(self._walker)


class SpeechCommandsFolder(Dataset):
    """Any folder in the Speech Commands layout: one sub-folder per word holding .wav or
    .flac files. Items (waveform, sample_rate, label, speaker_id, utterance_number);
    speaker and utterance come from '<speaker>_nohash_<n>' names, else (file stem, 0).

    Registered as "speech_commands". Metadata is kept in NumPy arrays (paths, label
    indices, speakers, utterance numbers) so DataLoader workers share it.

    Args:
        root: the folder
        extensions: audio file extensions to include
        subset: "training", "validation" or "testing" when the folder has
            validation_list.txt / testing_list.txt, as SPEECHCOMMANDS
        transform: applied to each waveform
        exclude: sub-folders to skip (default: "_background_noise_")
    """

    def __init__(self, root, extensions=(".wav", ".flac"), subset: str | None = None,
                 transform=None, exclude=(EXCEPT_FOLDER,)) -> None:
        _check_subset(subset)
        self.root = os.fspath(root)
        if not os.path.isdir(self.root):
            raise RuntimeError(f"The path {self.root} doesn't exist or is not a folder")
        extensions = tuple(e.lower() for e in extensions)
        files = sorted(str(p) for p in Path(self.root).glob("*/*")
                       if p.suffix.lower() in extensions and p.parent.name not in exclude)
        files = _select(self.root, files, subset)
        self.classes = sorted({os.path.basename(os.path.dirname(f)) for f in files})
        self.class_to_idx = {c: i for i, c in enumerate(self.classes)}
        parsed = [_speaker_and_utterance(os.path.basename(f)) for f in files]
        self.paths = np.array(files, dtype=str)
        self.targets = np.array([self.class_to_idx[os.path.basename(os.path.dirname(f))]
                                 for f in files], dtype=np.int64)
        self.speaker_ids = np.array([s for s, _ in parsed], dtype=str)
        self.utterance_numbers = np.array([u for _, u in parsed], dtype=np.int64)
        self.transform = transform

    def get_metadata(self, n: int) -> tuple[str, str, str, int]:
        """(path, label, speaker_id, utterance_number) of item n, without loading audio."""
        return (str(self.paths[n]), self.classes[int(self.targets[n])],
                str(self.speaker_ids[n]), int(self.utterance_numbers[n]))

    def __getitem__(self, n: int):
        path, label, speaker, number = self.get_metadata(n)
        waveform, sample_rate = load(path)
        if self.transform is not None:
            waveform = self.transform(waveform)
        return waveform, sample_rate, label, speaker, number

    def __len__(self) -> int:
        return len(self.paths)


def speech_commands_synth_root() -> str:
    """The bundled speech_commands_synth folder: 360 utterances of 10 words (16 kHz FLAC,
    12 synthetic voices x 3 speeds, file stem '<voice>_<speed>')."""
    return os.path.join(os.path.dirname(__file__), "data", "speech_commands_synth")
