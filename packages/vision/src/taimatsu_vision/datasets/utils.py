"""Downloading, verifying and extracting dataset files (torchvision.datasets.utils' API).

Downloads stream through urllib with a tqdm bar, land in a temporary file that is renamed
into place only when complete, and are checked against their MD5 when one is known.
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import lzma
import os
import shutil
import tarfile
import urllib.error
import urllib.request
import zipfile

from tqdm.auto import tqdm

__all__ = ["calculate_md5", "check_md5", "check_integrity", "download_url",
           "download_and_extract_archive", "download_from_mirrors", "extract_archive",
           "verify_str_arg",
           "DATASET_NOT_FOUND"]

USER_AGENT = "taimatsu-vision"
_CHUNK = 1024 * 256

DATASET_NOT_FOUND = "Dataset not found or corrupted. You can use download=True to download it"


def calculate_md5(fpath: str, chunk_size: int = 1024 * 1024) -> str:
    md5 = hashlib.md5(usedforsecurity=False)
    with open(fpath, "rb") as f:
        for chunk in iter(lambda: f.read(chunk_size), b""):
            md5.update(chunk)
    return md5.hexdigest()


def check_md5(fpath: str, md5: str, **kwargs) -> bool:
    return md5 == calculate_md5(fpath, **kwargs)


def check_integrity(fpath: str, md5: str | None = None) -> bool:
    """True when the file exists and (if md5 is given) has that MD5."""
    if not os.path.isfile(fpath):
        return False
    if md5 is None:
        return True
    return check_md5(fpath, md5)


def _urlretrieve(url: str, filename: str, progress: bool = True) -> None:
    """Streams `url` into `filename` atomically (a .part file renamed when complete)."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    partial = filename + ".part"
    try:
        with urllib.request.urlopen(request) as response, open(partial, "wb") as fh:
            length = response.headers.get("Content-Length")
            total = int(length) if length else None
            with tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024,
                      desc=os.path.basename(filename), disable=not progress) as bar:
                for chunk in iter(lambda: response.read(_CHUNK), b""):
                    fh.write(chunk)
                    bar.update(len(chunk))
        os.replace(partial, filename)
    finally:
        if os.path.exists(partial):
            os.remove(partial)


def download_url(url: str, root: str, filename: str | None = None, md5: str | None = None,
                 progress: bool = True) -> str:
    """Downloads `url` to root/filename unless a file with the right MD5 is already there.

    Returns the file's path. Raises RuntimeError when the downloaded file fails the MD5
    check (the file is removed so that the next attempt starts afresh).
    """
    root = os.path.expanduser(os.fspath(root))
    filename = filename or os.path.basename(url)
    fpath = os.path.join(root, filename)
    os.makedirs(root, exist_ok=True)
    if check_integrity(fpath, md5):
        return fpath
    _urlretrieve(url, fpath, progress)
    if not check_integrity(fpath, md5):
        os.remove(fpath)
        raise RuntimeError(f"File not found or corrupted: the download of {url} does not "
                           f"match the expected MD5 {md5}.")
    return fpath


def download_from_mirrors(mirrors, filename: str, root: str, md5: str | None = None,
                          progress: bool = True) -> str:
    """Tries each mirror's `mirror + filename` in turn; the first good download wins."""
    errors = []
    for mirror in mirrors:
        url = f"{mirror}{filename}"
        try:
            print(f"Downloading {url}")
            return download_url(url, root, filename, md5, progress)
        except (urllib.error.URLError, OSError, RuntimeError) as exc:
            print(f"Failed to download (trying next):\n{exc}")
            errors.append(f"{url}: {exc}")
    raise RuntimeError(f"Error downloading {filename} from every mirror:\n" + "\n".join(errors))


# -- extraction ----------------------------------------------------------------------------------

_COMPRESSIONS = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}
_TAR_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz", ".tar.xz", ".txz")


def _safe_members(tar: tarfile.TarFile, to_path: str):
    """Members that stay inside to_path (no absolute paths, '..' or links out)."""
    base = os.path.realpath(to_path)
    for member in tar.getmembers():
        target = os.path.realpath(os.path.join(base, member.name))
        if os.path.commonpath([base, target]) != base or member.issym() or member.islnk():
            raise RuntimeError(f"Refusing to extract {member.name!r}: it points outside "
                               f"{to_path}")
        yield member


def _extract_tar(from_path: str, to_path: str) -> None:
    with tarfile.open(from_path, "r:*") as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(to_path, filter="data")
        else:  # Python < 3.11.4 has no extraction filters
            tar.extractall(to_path, members=list(_safe_members(tar, to_path)))


def _extract_zip(from_path: str, to_path: str) -> None:
    with zipfile.ZipFile(from_path) as zf:
        base = os.path.realpath(to_path)
        for name in zf.namelist():
            target = os.path.realpath(os.path.join(base, name))
            if os.path.commonpath([base, target]) != base:
                raise RuntimeError(f"Refusing to extract {name!r}: it points outside {to_path}")
        zf.extractall(to_path)


def _decompress(from_path: str, to_path: str, suffix: str) -> str:
    out = os.path.join(to_path, os.path.basename(from_path)[: -len(suffix)])
    with _COMPRESSIONS[suffix](from_path, "rb") as src, open(out, "wb") as dst:
        shutil.copyfileobj(src, dst)
    return out


def extract_archive(from_path: str, to_path: str | None = None,
                    remove_finished: bool = False) -> str:
    """Extracts a tar / zip archive, or decompresses a .gz / .bz2 / .xz file, into to_path.

    Returns to_path (archives) or the decompressed file's path.
    """
    from_path = os.fspath(from_path)
    to_path = os.path.dirname(from_path) if to_path is None else os.fspath(to_path)
    os.makedirs(to_path, exist_ok=True)
    name = from_path.lower()
    if name.endswith(_TAR_SUFFIXES):
        _extract_tar(from_path, to_path)
        result = to_path
    elif name.endswith(".zip"):
        _extract_zip(from_path, to_path)
        result = to_path
    else:
        suffix = os.path.splitext(name)[1]
        if suffix not in _COMPRESSIONS:
            raise RuntimeError(f"Archive type of {from_path} is not supported: expected one of "
                               f"{_TAR_SUFFIXES + ('.zip',) + tuple(_COMPRESSIONS)}")
        result = _decompress(from_path, to_path, suffix)
    if remove_finished:
        os.remove(from_path)
    return result


def download_and_extract_archive(url: str, download_root: str, extract_root: str | None = None,
                                 filename: str | None = None, md5: str | None = None,
                                 remove_finished: bool = False, progress: bool = True) -> None:
    download_root = os.path.expanduser(os.fspath(download_root))
    extract_root = download_root if extract_root is None else extract_root
    filename = filename or os.path.basename(url)
    archive = download_url(url, download_root, filename, md5, progress)
    print(f"Extracting {archive} to {extract_root}")
    extract_archive(archive, extract_root, remove_finished)


def verify_str_arg(value: str, arg: str | None = None, valid_values=None,
                   custom_msg: str | None = None) -> str:
    """Checks that `value` is a string among `valid_values` (torchvision's messages)."""
    if not isinstance(value, str):
        msg = ("Expected type str" + ("" if arg is None else f" for argument {arg}")
               + f", but got type {type(value)}.")
        raise ValueError(msg)
    if valid_values is None:
        return value
    if value not in valid_values:
        if custom_msg is not None:
            raise ValueError(custom_msg)
        valid = ", ".join(f"'{v}'" for v in valid_values)
        raise ValueError(f"Unknown value '{value}' for argument {arg}. Valid values are "
                         f"{{{valid}}}.")
    return value
