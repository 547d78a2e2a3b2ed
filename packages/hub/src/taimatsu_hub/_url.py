"""Checkpoints from plain URLs, with torch.hub's semantics.

`load_state_dict_from_url` caches into ``get_dir()/checkpoints`` under the URL's file name;
`download_url_to_file` streams into a temporary file beside the target and renames it only
once complete and, when asked, once its sha256 starts with the expected prefix.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
import urllib.request
from urllib.parse import urlparse

from tqdm.auto import tqdm

import taimatsu
from taimatsu.serialization._atomic import atomic_write

from ._dirs import get_dir

# "resnet18-f37072fd.pth": the part between the last dash-separated token and the
# extension is a sha256 prefix, the convention of torchvision's published checkpoints
HASH_REGEX = re.compile(r"-([a-f0-9]*)\.")

_CHUNK = 1 << 20


def download_url_to_file(url: str, dst, hash_prefix: str | None = None,
                         progress: bool = True) -> None:
    """Downloads `url` to `dst` through a temporary file renamed on success.

    Args:
        url: the URL to read
        dst: the file to write (its folder must exist)
        hash_prefix: if given, the sha256 of the download must start with it; otherwise
            nothing is written and RuntimeError is raised
        progress: show a tqdm progress bar on stderr
    """
    request = urllib.request.Request(url, headers={"User-Agent": "taimatsu.hub"})
    dst = os.path.expanduser(os.fspath(dst))
    digest = hashlib.sha256()
    with urllib.request.urlopen(request) as response:
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        with atomic_write(dst) as f, tqdm(total=total, disable=not progress, unit="B",
                                          unit_scale=True, unit_divisor=1024) as bar:
            while chunk := response.read(_CHUNK):
                f.write(chunk)
                digest.update(chunk)
                bar.update(len(chunk))
            # raising inside the block drops the temporary: dst is never half-written
            if hash_prefix is not None:
                got = digest.hexdigest()
                if got[:len(hash_prefix)] != hash_prefix:
                    raise RuntimeError(f'invalid hash value (expected "{hash_prefix}", '
                                       f'got "{got}")')


def load_state_dict_from_url(url: str, model_dir=None, map_location=None,
                             progress: bool = True, check_hash: bool = False,
                             file_name: str | None = None, weights_only: bool = True) -> dict:
    """Loads a checkpoint from `url`, downloading it into `model_dir` the first time.

    Args:
        url: the checkpoint's URL
        model_dir: where to cache it (default ``get_dir()/checkpoints``)
        map_location: as in `taimatsu.load`
        progress: show a progress bar while downloading
        check_hash: the file name must be ``name-<sha256 prefix>.ext``; the download is
            checked against that prefix
        file_name: the cached file's name (default: the last part of the URL's path)
        weights_only: as in `taimatsu.load` (True: nothing in the file is executed)
    """
    if model_dir is None:
        model_dir = os.path.join(get_dir(), "checkpoints")
    model_dir = os.path.expanduser(os.fspath(model_dir))
    os.makedirs(model_dir, exist_ok=True)
    filename = file_name or os.path.basename(urlparse(url).path)
    cached_file = os.path.join(model_dir, filename)
    if not os.path.exists(cached_file):
        sys.stderr.write(f'Downloading: "{url}" to {cached_file}\n')
        hash_prefix = None
        if check_hash:
            match = HASH_REGEX.search(filename)
            hash_prefix = match.group(1) if match else None
        download_url_to_file(url, cached_file, hash_prefix, progress=progress)
    if filename.endswith(".safetensors"):
        from taimatsu.safetensors import load_file
        return load_file(cached_file, device=map_location or "cpu")
    return taimatsu.load(cached_file, map_location=map_location, weights_only=weights_only)
