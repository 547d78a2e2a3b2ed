"""LibriSpeech (Panayotov et al., 2015): read English audiobooks, 16 kHz FLAC."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from taimatsu.utils.data import Dataset

from .utils import download_url_to_file, extract_archive, load_waveform

__all__ = ["LIBRISPEECH"]

URL = "train-clean-100"
FOLDER_IN_ARCHIVE = "LibriSpeech"
SAMPLE_RATE = 16000
_BASE_URL = "http://www.openslr.org/resources/12/"
_DATA_SUBSETS = ["dev-clean", "dev-other", "test-clean", "test-other", "train-clean-100",
                 "train-clean-360", "train-other-500"]
_CHECKSUMS = {
    _BASE_URL + "dev-clean.tar.gz":
        "76f87d090650617fca0cac8f88b9416e0ebf80350acb97b343a85fa903728ab3",
    _BASE_URL + "dev-other.tar.gz":
        "12661c48e8c3fe1de2c1caa4c3e135193bfb1811584f11f569dd12645aa84365",
    _BASE_URL + "test-clean.tar.gz":
        "39fde525e59672dc6d1551919b1478f724438a95aa55f874b576be21967e6c23",
    _BASE_URL + "test-other.tar.gz":
        "d09c181bba5cf717b3dee7d4d592af11a3ee3a09e08ae025c5506f6ebe961c29",
    _BASE_URL + "train-clean-100.tar.gz":
        "d4ddd1d5a6ab303066f14971d768ee43278a5f2a0aa43dc716b0e64ecbbbf6e2",
    _BASE_URL + "train-clean-360.tar.gz":
        "146a56496217e96c14334a160df97fffedd6e0a04e66b9c5af0d40be3c792ecf",
    _BASE_URL + "train-other-500.tar.gz":
        "ddb22f27f96ec163645d53215559df6aa36515f26e01dd70798188350adcb6d2",
}


def _download_librispeech(root: str, url: str, base_url: str) -> None:
    filename = url + ".tar.gz"
    archive = os.path.join(root, filename)
    if not os.path.isfile(archive):
        download_url = base_url + filename
        download_url_to_file(download_url, archive, hash_prefix=_CHECKSUMS.get(download_url))
    extract_archive(archive)


class LIBRISPEECH(Dataset):
    """LibriSpeech: items (waveform, sample_rate, transcript, speaker_id, chapter_id,
    utterance_id).

    Args:
        root: folder holding (or receiving) the dataset
        url: the subset: "dev-clean", "dev-other", "test-clean", "test-other",
            "train-clean-100" (default), "train-clean-360" or "train-other-500"
        folder_in_archive: top-level folder (default "LibriSpeech")
        download: download (checking its sha256) and extract when missing
        base_url: where the subset archives live (a mirror)
    """

    _ext_txt = ".trans.txt"
    _ext_audio = ".flac"

    def __init__(self, root, url: str = URL, folder_in_archive: str = FOLDER_IN_ARCHIVE,
                 download: bool = False, base_url: str = _BASE_URL) -> None:
        if url not in _DATA_SUBSETS:
            raise ValueError(f"Invalid url '{url}' given; please provide one of {_DATA_SUBSETS}.")
        self._url = url
        root = os.fspath(root)
        self._archive = os.path.join(root, folder_in_archive)
        self._path = os.path.join(root, folder_in_archive, url)
        if not os.path.isdir(self._path):
            if download:
                _download_librispeech(root, url, base_url)
            else:
                raise RuntimeError(f"Dataset not found at {self._path}. Please set "
                                   "`download=True` to download the dataset.")
        self._walker = np.array(sorted(p.stem for p in Path(self._path).glob(
            "*/*/*" + self._ext_audio)), dtype=str)

    def get_metadata(self, n: int) -> tuple[str, int, str, int, int, int]:
        """(audio path relative to the archive folder, sample_rate, transcript, speaker_id,
        chapter_id, utterance_id) of item n, without loading audio."""
        fileid = str(self._walker[n])
        speaker_id, chapter_id, utterance_id = fileid.split("-")
        filepath = os.path.join(self._url, speaker_id, chapter_id, fileid + self._ext_audio)
        transcript_file = os.path.join(self._archive, self._url, speaker_id, chapter_id,
                                       f"{speaker_id}-{chapter_id}{self._ext_txt}")
        with open(transcript_file) as f:
            for line in f:
                name, _, transcript = line.strip().partition(" ")
                if name == fileid:
                    break
            else:
                raise FileNotFoundError(f"Translation not found for {fileid}")
        return (filepath, SAMPLE_RATE, transcript, int(speaker_id), int(chapter_id),
                int(utterance_id))

    def __getitem__(self, n: int):
        metadata = self.get_metadata(n)
        return (load_waveform(self._archive, metadata[0], metadata[1]),) + metadata[1:]

    def __len__(self) -> int:
        return len(self._walker)
