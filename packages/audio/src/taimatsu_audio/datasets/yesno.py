"""YesNo (OpenSLR 1): 60 recordings of eight Hebrew yes/no words each."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from taimatsu.utils.data import Dataset

from .._io import load
from .utils import download_url_to_file, extract_archive

__all__ = ["YESNO"]

_RELEASE_CONFIGS = {
    "release1": {
        "folder_in_archive": "waves_yesno",
        "url": "http://www.openslr.org/resources/1/waves_yesno.tar.gz",
        "checksum": "c3f49e0cca421f96b75b41640749167b52118f232498667ca7a5f9416aef8e73",
    }
}


class YESNO(Dataset):
    """YesNo: items (waveform, sample_rate, labels), labels the eight 0/1 words of the
    file name ("0_1_0_0_1_0_1_1.wav").

    Args:
        root: folder holding (or receiving) the dataset
        url: the archive's URL
        folder_in_archive: top-level folder (default "waves_yesno")
        download: download (checking its sha256) and extract when missing
    """

    def __init__(self, root, url: str = _RELEASE_CONFIGS["release1"]["url"],
                 folder_in_archive: str = _RELEASE_CONFIGS["release1"]["folder_in_archive"],
                 download: bool = False) -> None:
        root = Path(root)
        archive = root / os.path.basename(url)
        self._path = root / folder_in_archive
        if download and not os.path.isdir(self._path):
            if not os.path.isfile(archive):
                checksum = _RELEASE_CONFIGS["release1"]["checksum"] \
                    if url == _RELEASE_CONFIGS["release1"]["url"] else None
                download_url_to_file(url, archive, hash_prefix=checksum)
            extract_archive(archive)
        if not os.path.isdir(self._path):
            raise RuntimeError("Dataset not found. Please use `download=True` to download it.")
        self._walker = np.array(sorted(p.stem for p in self._path.glob("*.wav")), dtype=str)

    def __getitem__(self, n: int):
        fileid = str(self._walker[n])
        labels = [int(c) for c in fileid.split("_")]
        waveform, sample_rate = load(os.path.join(self._path, fileid + ".wav"))
        return waveform, sample_rate, labels

    def __len__(self) -> int:
        return len(self._walker)
