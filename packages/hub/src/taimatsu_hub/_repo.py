"""Fetching model repositories from the Hugging Face Hub into its cache.

Only what building a model needs is downloaded: the config, one weights format
(safetensors when the repository has it, else pytorch_model.bin, sharded or not) and the
small files plugins read (tokenizer, preprocessing, sentence-transformers modules) —
never the whole repository, and never its Python files. Offline (HF_HUB_OFFLINE=1,
local_files_only=True, or the Hub unreachable) the cache answers, and a file it lacks is
named in the error.
"""

from __future__ import annotations

import contextlib
import os

import huggingface_hub
from huggingface_hub import constants as hf_constants
from huggingface_hub.errors import (
    CachedRepoTreeNotFoundError,
    LocalEntryNotFoundError,
    RemoteEntryNotFoundError,
)

from taimatsu.plugins.registry import quiet_tqdm

from ._checkpoint import CONFIG_NAME, WEIGHT_FILES, read_config, weights_file

# Configs, tokenizers and preprocessing descriptions; "*config*.json" also matches
# sentence-transformers' module folders ("1_Pooling/config.json").
SMALL_FILES = ["*config*.json", "modules.json", "tokenizer*", "vocab*", "merges.txt",
               "special_tokens_map.json", "added_tokens.json", "*.model"]
SAFETENSORS_FILES = ["model.safetensors", "model-*-of-*.safetensors",
                     "model.safetensors.index.json", "*/model.safetensors"]
PICKLE_FILES = ["pytorch_model.bin", "pytorch_model-*-of-*.bin",
                "pytorch_model.bin.index.json", "*/pytorch_model.bin"]


class NotCachedError(FileNotFoundError):
    """A file is needed that the Hugging Face cache lacks, and it cannot be downloaded."""


def _options(revision, cache_dir, force_download, local_files_only, token, endpoint,
             progress) -> dict:
    """Keyword arguments common to hf_hub_download and snapshot_download."""
    opts = {"revision": revision, "cache_dir": cache_dir, "force_download": force_download,
            "local_files_only": bool(local_files_only), "token": token, "endpoint": endpoint}
    if not progress:
        opts["tqdm_class"] = quiet_tqdm()
    return opts


def _why_offline(opts: dict, exc: BaseException | None) -> str:
    if opts["local_files_only"]:
        return "local_files_only=True"
    if hf_constants.HF_HUB_OFFLINE:
        return "offline mode is on (HF_HUB_OFFLINE=1)"
    cause = exc and (exc.__cause__ or exc.__context__)
    detail = f" ({type(cause).__name__}: {cause})" if cause is not None else ""
    return f"the Hub could not be reached{detail}"


@contextlib.contextmanager
def _explained(repo_id: str, what: str, opts: dict):
    """Turns huggingface_hub's lookup errors into ones that say what is missing where."""
    revision = opts["revision"] or "main"
    try:
        yield
    except LocalEntryNotFoundError as exc:
        cache = opts["cache_dir"] or hf_constants.HF_HUB_CACHE
        raise NotCachedError(
            f"{what} of {repo_id!r} (revision {revision!r}) is not in the Hugging Face cache "
            f"at {cache}, and it cannot be downloaded: {_why_offline(opts, exc)}. Run once "
            "with network access to fill the cache, or pass the cache_dir that holds it."
        ) from exc
    except RemoteEntryNotFoundError as exc:
        raise FileNotFoundError(f"{repo_id!r} (revision {revision!r}) has no {what}") from exc


def download(repo_id: str, filename: str | None = None, *, revision: str | None = None,
             cache_dir=None, force_download: bool = False, local_files_only: bool | None = None,
             token=None, endpoint: str | None = None, allow_patterns=None,
             progress: bool = True) -> str:
    """Downloads from a Hub repository into the Hugging Face cache; returns the local path.

    With `filename`, that one file. Without, the files a model needs (config, weights in one
    format, tokenizer and preprocessing files), or those matching `allow_patterns`; the
    result is then the snapshot folder.
    """
    opts = _options(revision, cache_dir, force_download, local_files_only, token, endpoint,
                    progress)
    if filename is not None:
        with _explained(repo_id, repr(filename), opts):
            return huggingface_hub.hf_hub_download(repo_id, filename, **opts)
    if allow_patterns is not None:
        with _explained(repo_id, f"files matching {allow_patterns}", opts):
            return huggingface_hub.snapshot_download(repo_id, allow_patterns=allow_patterns,
                                                     **opts)
    return fetch_model_repo(repo_id, opts)


def fetch_model_repo(repo_id: str, opts: dict, check_config=None) -> str:
    """The snapshot folder of a model repository with its config, weights and small files.

    `check_config(config)` runs once config.json is there and before any weights are
    fetched (load() refuses repositories that ask for remote code at that point).
    """
    with _explained(repo_id, CONFIG_NAME, opts):
        folder = os.path.dirname(huggingface_hub.hf_hub_download(repo_id, CONFIG_NAME, **opts))
    if check_config is not None:
        check_config(read_config(folder))
    with _explained(repo_id, "the model files", opts):
        folder = huggingface_hub.snapshot_download(
            repo_id, allow_patterns=SMALL_FILES + SAFETENSORS_FILES, **opts)
    if weights_file(folder) is not None:
        return folder
    # no safetensors: the pickled format, unless the listing shows there is none either
    listing = _cached_listing(repo_id, opts)
    if listing is None or set(WEIGHT_FILES) & set(listing):
        with _explained(repo_id, "the model files", opts):
            folder = huggingface_hub.snapshot_download(repo_id, allow_patterns=PICKLE_FILES,
                                                       **opts)
        if weights_file(folder) is not None:
            return folder
    if listing is not None and not set(WEIGHT_FILES) & set(listing):
        raise FileNotFoundError(f"{repo_id!r} has no weights taimatsu can read: expected one "
                                f"of {', '.join(WEIGHT_FILES)}")
    # the Hub was not asked, or did not answer: the weights may well exist there
    raise NotCachedError(
        f"the weights of {repo_id!r} are not in the Hugging Face cache (looked in {folder} "
        f"for {', '.join(WEIGHT_FILES)}), and they cannot be downloaded: "
        f"{_why_offline(opts, None)}.")


def _cached_listing(repo_id: str, opts: dict) -> list[str] | None:
    """The repository's file list as snapshot_download last saw it (None if it never did)."""
    try:
        tree = huggingface_hub.get_cached_repo_tree(repo_id, revision=opts["revision"],
                                                    cache_dir=opts["cache_dir"])
    except CachedRepoTreeNotFoundError:
        return None
    return [f.path for f in tree]
