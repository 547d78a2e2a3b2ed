"""Finding model files in a local folder or a Hugging Face Hub repository."""

from __future__ import annotations

import os

__all__ = ["resolve_file", "hub_options"]


def hub_options(revision=None, cache_dir=None, local_files_only=False, token=None,
                subfolder=None) -> dict:
    """The huggingface_hub keyword arguments that were actually given."""
    options = {"revision": revision, "cache_dir": cache_dir,
               "local_files_only": local_files_only, "token": token, "subfolder": subfolder}
    return {k: v for k, v in options.items() if v not in (None, False)}


def resolve_file(name_or_path, filename: str, **options) -> str | None:
    """`filename` of a local folder or of a Hub repository (downloaded); None if absent.

    `options` go to `huggingface_hub.hf_hub_download` (revision, cache_dir, token, ...).
    """
    name = os.fspath(name_or_path)
    if os.path.isdir(name):
        sub = options.get("subfolder")
        path = os.path.join(name, sub, filename) if sub else os.path.join(name, filename)
        return path if os.path.isfile(path) else None
    try:
        import huggingface_hub
        from huggingface_hub import errors
    except ImportError:
        raise ImportError(f"{name!r} is not a local folder; downloading it from the Hub needs "
                          f"huggingface_hub: pip install \"taimatsu-text[hub]\"") from None
    missing = tuple(getattr(errors, n) for n in ("EntryNotFoundError",
                                                 "RemoteEntryNotFoundError")
                    if hasattr(errors, n))
    try:
        return huggingface_hub.hf_hub_download(name, filename, **options)
    except missing:
        return None
