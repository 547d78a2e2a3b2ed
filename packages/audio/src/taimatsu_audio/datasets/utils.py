"""Downloading (tqdm progress, sha256 check) and extracting dataset archives."""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
import tempfile
import urllib.request
import zipfile

from tqdm.auto import tqdm

import taimatsu

from .._io import load

__all__ = ["download_url_to_file", "extract_archive"]

_CHUNK = 1 << 16


def download_url_to_file(url: str, dst, hash_prefix: str | None = None,
                         progress: bool = True, timeout: float = 60.0) -> None:
    """Downloads `url` to `dst` (written atomically), checking its sha256 when
    `hash_prefix` is given (the digest must start with it), as torch.hub's function.

    Raises:
        RuntimeError: the download's hash does not match (nothing is left at `dst`)
    """
    dst = os.path.expanduser(os.fspath(dst))
    folder = os.path.dirname(os.path.abspath(dst))
    os.makedirs(folder, exist_ok=True)
    sha256 = hashlib.sha256()
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (any scheme)
        length = response.headers.get("Content-Length") if hasattr(response, "headers") else None
        total = int(length) if length and length.isdigit() else None
        fd, tmp = tempfile.mkstemp(prefix=".download-", dir=folder)
        try:
            with os.fdopen(fd, "wb") as out, tqdm(total=total, disable=not progress,
                                                  unit="B", unit_scale=True,
                                                  unit_divisor=1024,
                                                  desc=os.path.basename(dst)) as bar:
                for chunk in iter(lambda: response.read(_CHUNK), b""):
                    out.write(chunk)
                    sha256.update(chunk)
                    bar.update(len(chunk))
            if hash_prefix is not None:
                digest = sha256.hexdigest()
                if not digest.startswith(hash_prefix):
                    raise RuntimeError(f'invalid hash value (expected "{hash_prefix}", got '
                                       f'"{digest}") for {url}')
            shutil.move(tmp, dst)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)


def _inside(folder: str, member: str) -> str:
    """The extraction path of `member`, refusing names that escape `folder`."""
    base = os.path.realpath(folder)
    path = os.path.realpath(os.path.join(base, member))
    if os.path.commonpath([base, path]) != base:
        raise RuntimeError(f"archive member {member!r} would be written outside {folder}")
    return path


def extract_archive(from_path, to_path=None, overwrite: bool = False) -> list[str]:
    """Extracts a .tar(.gz/.bz2/.xz) or .zip archive (default: next to it); returns the
    extracted files. Files already there are kept unless `overwrite`."""
    from_path = os.fspath(from_path)
    to_path = os.path.dirname(from_path) if to_path is None else os.fspath(to_path)
    files = []
    if zipfile.is_zipfile(from_path):
        with zipfile.ZipFile(from_path) as archive:
            for name in archive.namelist():
                path = _inside(to_path, name)
                if not name.endswith("/"):
                    files.append(path)
                if os.path.exists(path) and not overwrite:
                    continue
                archive.extract(name, to_path)
        return files
    with tarfile.open(from_path, "r") as archive:
        for member in archive:
            path = _inside(to_path, member.name)
            if member.isfile():
                files.append(path)
                if os.path.exists(path) and not overwrite:
                    continue
            elif not member.isdir():
                continue  # links and devices: never written
            archive.extract(member, to_path, filter="data")
    return files


def load_waveform(root: str, filename: str, exp_sample_rate: int) -> taimatsu.Tensor:
    """The waveform of root/filename, checking its sample rate."""
    waveform, sample_rate = load(os.path.join(root, filename))
    if exp_sample_rate != sample_rate:
        raise ValueError(f"sample rate should be {exp_sample_rate}, but got {sample_rate}")
    return waveform
