"""LJSpeech 1.1 (Ito & Johnson, 2017): 13,100 clips of one reader, with transcripts."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np

from taimatsu.utils.data import Dataset

from .._io import load
from .utils import download_url_to_file, extract_archive

__all__ = ["LJSPEECH"]

_RELEASE_CONFIGS = {
    "release1": {
        "folder_in_archive": "wavs",
        "url": "https://data.keithito.com/data/speech/LJSpeech-1.1.tar.bz2",
        "checksum": "be1a30453f28eb8dd26af4101ae40cbf2c50413b1bb21936cbcdc6fae3de8aa5",
    }
}


class LJSPEECH(Dataset):
    """LJSpeech: items (waveform, sample_rate, transcript, normalized_transcript).

    Args:
        root: folder holding (or receiving) the dataset
        url: the archive's URL
        folder_in_archive: folder of the clips inside the archive (default "wavs")
        download: download (checking its sha256) and extract when missing
    """

    def __init__(self, root, url: str = _RELEASE_CONFIGS["release1"]["url"],
                 folder_in_archive: str = _RELEASE_CONFIGS["release1"]["folder_in_archive"],
                 download: bool = False) -> None:
        root = Path(root)
        basename = os.path.basename(url)
        archive = root / basename
        release = Path(basename.split(".tar.bz2")[0])
        self._path = root / release / folder_in_archive
        self._metadata_path = root / release / "metadata.csv"
        if download:
            if not os.path.isdir(self._path):
                if not os.path.isfile(archive):
                    checksum = _RELEASE_CONFIGS["release1"]["checksum"] \
                        if url == _RELEASE_CONFIGS["release1"]["url"] else None
                    download_url_to_file(url, archive, hash_prefix=checksum)
                extract_archive(archive)
        elif not os.path.exists(self._path):
            raise RuntimeError(f"The path {self._path} doesn't exist. Please check the "
                               "``root`` path or set `download=True` to download it")
        with open(self._metadata_path, newline="", encoding="utf-8") as metadata:
            rows = list(csv.reader(metadata, delimiter="|", quoting=csv.QUOTE_NONE))
        # (n, 3) strings: file id, transcript, normalized transcript
        self._flist = np.array(rows, dtype=str).reshape(-1, 3)

    def __getitem__(self, n: int):
        fileid, transcript, normalized = (str(v) for v in self._flist[n])
        waveform, sample_rate = load(self._path / (fileid + ".wav"))
        return waveform, sample_rate, transcript, normalized

    def __len__(self) -> int:
        return len(self._flist)
