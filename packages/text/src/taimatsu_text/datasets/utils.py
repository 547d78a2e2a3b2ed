"""Downloading, checking and extracting dataset files, and a compact store for texts.

Downloads stream with a tqdm bar into a ".part" file that is renamed only when complete and
verified (MD5), so an interrupted or corrupted download never passes for the real file.
"""

from __future__ import annotations

import hashlib
import os
import tarfile
import urllib.request
import zipfile

import numpy as np
from tqdm.auto import tqdm

__all__ = ["download_from_url", "calculate_md5", "check_md5", "extract_archive", "TextStore",
           "dataset_root", "verify_split"]

USER_AGENT = "taimatsu-text"
_CHUNK = 1 << 18


def dataset_root(root: str | None, name: str) -> str:
    """<root>/<name>, root defaulting to ~/.taimatsu/text (torchtext keeps ~/.torchtext)."""
    base = os.path.expanduser(root) if root is not None else \
        os.path.join(os.path.expanduser("~"), ".taimatsu", "text")
    return os.path.join(base, name)


def calculate_md5(path: str, chunk_size: int = 1 << 20) -> str:
    md5 = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(chunk_size), b""):
            md5.update(chunk)
    return md5.hexdigest()


def check_md5(path: str, md5: str | None) -> bool:
    return os.path.isfile(path) and (md5 is None or calculate_md5(path) == md5)


def download_from_url(url: str, path: str, md5: str | None = None, progress: bool = True,
                      overwrite: bool = False) -> str:
    """Downloads `url` to `path` unless a file with the right MD5 is already there."""
    if not overwrite and check_md5(path, md5):
        return path
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    partial = path + ".part"
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(request) as response, open(partial, "wb") as out, \
                tqdm(total=_length(response), unit="B", unit_scale=True,
                     desc=os.path.basename(path), disable=not progress) as bar:
            for chunk in iter(lambda: response.read(_CHUNK), b""):
                out.write(chunk)
                bar.update(len(chunk))
        if md5 is not None:
            got = calculate_md5(partial)
            if got != md5:
                raise RuntimeError(f"The MD5 checksum of {url} is {got}, expected {md5}: the "
                                   f"download is corrupted or the file changed upstream")
        os.replace(partial, path)
    finally:
        if os.path.exists(partial):
            os.remove(partial)
    return path


def _length(response) -> int | None:
    size = response.headers.get("Content-Length")
    return int(size) if size and size.isdigit() else None


def extract_archive(archive: str, to: str | None = None, overwrite: bool = False) -> list[str]:
    """Extracts a .zip / .tar / .tar.gz / .tgz archive; returns the extracted paths."""
    to = to or os.path.dirname(os.path.abspath(archive))
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as z:
            names = z.namelist()
            for name in names:
                if overwrite or not os.path.exists(os.path.join(to, name)):
                    z.extract(name, to)
        return [os.path.join(to, n) for n in names]
    if tarfile.is_tarfile(archive):
        with tarfile.open(archive) as t:
            members = t.getmembers()
            todo = [m for m in members if overwrite or not os.path.exists(os.path.join(to, m.name))]
            # the "data" filter refuses absolute paths and links out of `to`
            extra = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
            t.extractall(to, members=todo, **extra)
        return [os.path.join(to, m.name) for m in members]
    raise ValueError(f"{archive}: not a zip or tar archive")


def verify_split(split, allowed: tuple):
    splits = (split,) if isinstance(split, str) else tuple(split)
    for s in splits:
        if s not in allowed:
            raise ValueError(f"Unknown split {s!r}; expected one of {allowed}")
    return splits


class TextStore:
    """Many strings in one UTF-8 byte array plus int64 offsets (no per-item Python objects,
    so DataLoader workers do not grow memory by touching them)."""

    def __init__(self, texts):
        encoded = [t.encode("utf-8") for t in texts]
        self.offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
        np.cumsum([len(b) for b in encoded], out=self.offsets[1:])
        self.data = np.frombuffer(b"".join(encoded), dtype=np.uint8).copy()

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, i: int) -> str:
        a, b = self.offsets[i], self.offsets[i + 1]
        return self.data[a:b].tobytes().decode("utf-8")
