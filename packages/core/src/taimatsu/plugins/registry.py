"""Registries of models, datasets and transforms that plugins fill through their hooks."""

from __future__ import annotations

import fnmatch
import functools
import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Weights:
    """Pretrained weights for a registered model.

    Args:
        name: the weights' name, e.g. "IMAGENET1K_V1".
        repo_id: Hugging Face Hub repository holding the checkpoint (None for local files).
        filename: the checkpoint's file name in that repository (or a local path).
        revision: a branch, tag or commit of the repository.
        sha256: the checkpoint file's hash, checked after download.
        num_params: the model's parameter count with these weights.
        metrics: reported results, e.g. {"acc@1": 69.76}.
        transforms: a callable building the preprocessing the weights expect; as with
            torchvision's Weights, `weights.transforms()` calls it and returns the preset.
        key_mapping: published checkpoint names -> ours (exact names, or a callable).
        meta: anything else (categories, licence, recipe).
    """

    name: str
    repo_id: str | None = None
    filename: str | None = None
    revision: str | None = None
    sha256: str | None = None
    num_params: int | None = None
    metrics: dict = field(default_factory=dict)
    transforms: Callable | None = None
    key_mapping: Any = None
    meta: dict = field(default_factory=dict)

    def local_file(self, progress: bool = True, *, cache_dir=None, force_download=None,
                   local_files_only=None, token=None, endpoint=None) -> str:
        """The checkpoint on disk: downloaded through huggingface_hub when it has a repo.

        The keyword arguments go to `huggingface_hub.hf_hub_download` (None: its default).
        A downloaded file whose sha256 differs is deleted from the cache before raising.
        """
        if self.repo_id is None:
            if self.filename is None:
                raise ValueError(f"weights {self.name!r} name neither a repo_id nor a file")
            path = self.filename
        else:
            options = {"cache_dir": cache_dir, "force_download": force_download,
                       "local_files_only": local_files_only, "token": token,
                       "endpoint": endpoint}
            path = _hub_download(self.repo_id, self.filename, self.revision, progress,
                                 {k: v for k, v in options.items() if v is not None})
        if self.sha256 is not None:
            digest = _sha256(path)
            if digest != self.sha256:
                if self.repo_id is not None:  # never delete a user's own file
                    _remove_cached(path)
                raise RuntimeError(f'invalid hash value (expected "{self.sha256}", got '
                                   f'"{digest}") for weights {self.name!r} in {path}')
        return path

    def get_state_dict(self, progress: bool = True, *, cache_dir=None, force_download=None,
                       local_files_only=None, token=None, endpoint=None) -> dict:
        """The checkpoint's tensors, renamed through key_mapping to our parameter names.

        The keyword arguments are passed to `local_file`.
        """
        path = self.local_file(progress, cache_dir=cache_dir, force_download=force_download,
                               local_files_only=local_files_only, token=token,
                               endpoint=endpoint)
        if path.endswith(".safetensors"):
            from ..safetensors import load_file
            state = load_file(path)
        else:
            from ..serialization import load
            state = load(path, map_location="cpu", weights_only=True)
        return remap_keys(state, self.key_mapping)


def _hub_download(repo_id: str, filename: str, revision, progress: bool, options: dict) -> str:
    try:
        from huggingface_hub import hf_hub_download
    except ImportError:
        raise ImportError("downloading pretrained weights needs huggingface_hub: "
                          "pip install \"taimatsu[hub]\"") from None
    if not progress:
        options = {**options, "tqdm_class": quiet_tqdm()}
    return hf_hub_download(repo_id, filename, revision=revision, **options)


@functools.cache
def quiet_tqdm() -> type:
    """A tqdm class that never shows: huggingface_hub's `tqdm_class` for progress=False
    (its own switch, disable_progress_bars, is process-wide)."""
    from tqdm.auto import tqdm

    class QuietTqdm(tqdm):
        def __init__(self, *args, **kwargs):
            kwargs["disable"] = True
            super().__init__(*args, **kwargs)

    return QuietTqdm


def _remove_cached(path: str) -> None:
    """Deletes a cached download: the file (a blob) and the snapshot link to it."""
    for p in {os.path.realpath(path), path}:
        if os.path.lexists(p):
            os.remove(p)


def remap_keys(state: dict, mapping) -> dict:
    """Renames checkpoint keys: a dict of exact names (others kept) or a callable."""
    if mapping is None:
        return dict(state)
    if callable(mapping):
        return {mapping(k): v for k, v in state.items()}
    return {mapping.get(k, k): v for k, v in state.items()}


def _sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@dataclass(frozen=True)
class Entry:
    """One registered name: what builds it, where it comes from, how it is classified."""

    name: str
    obj: Callable
    domain: str | None
    task: str | None = None
    weights: tuple = ()
    description: str | None = None
    plugin: str | None = None


class Registry:
    """Names -> entries for one kind of object (models, datasets or transforms).

    Plugins call `add`; duplicate names are refused with an error naming both plugins.
    """

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, Entry] = {}
        self._plugin: str | None = None  # set while a plugin's hook runs

    def add(self, name: str, obj: Callable, *, domain: str | None = None,
            task: str | None = None, weights=(), description: str | None = None) -> None:
        if not isinstance(name, str) or not name:
            raise ValueError(f"a {self.kind} name must be a non-empty string, got {name!r}")
        if not callable(obj):
            raise TypeError(f"{self.kind} {name!r}: expected a callable, got {type(obj)}")
        old = self._entries.get(name)
        if old is not None:
            raise ValueError(f"{self.kind} {name!r} from plugin {self._plugin or '<direct>'!r} "
                             f"is already registered by plugin {old.plugin or '<direct>'!r}")
        weights = tuple(weights)
        for w in weights:
            if not isinstance(w, Weights):
                raise TypeError(f"{self.kind} {name!r}: weights must be Weights records")
        self._entries[name] = Entry(name, obj, domain, task, weights, description,
                                    self._plugin)

    def remove(self, name: str) -> None:
        self._entries.pop(name, None)

    def __contains__(self, name: str) -> bool:
        return name in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, name: str) -> Entry:
        try:
            return self._entries[name]
        except KeyError:
            close = fnmatch.filter(self._entries, f"*{name}*")[:5]
            hint = f" Did you mean one of {close}?" if close else ""
            raise ValueError(f"Unknown {self.kind} {name!r}.{hint}") from None

    def names(self, domain=None, task=None, include=None, exclude=None) -> list[str]:
        """Sorted names, filtered by domain/task and fnmatch include/exclude patterns."""
        names = []
        for n, e in self._entries.items():
            if domain is not None and e.domain != domain:
                continue
            if task is not None and e.task != task:
                continue
            names.append(n)
        if include is not None:
            pats = [include] if isinstance(include, str) else list(include)
            names = [n for n in names if any(fnmatch.fnmatch(n, p) for p in pats)]
        if exclude is not None:
            pats = [exclude] if isinstance(exclude, str) else list(exclude)
            names = [n for n in names if not any(fnmatch.fnmatch(n, p) for p in pats)]
        return sorted(names)

    def entries(self) -> list[Entry]:
        return [self._entries[n] for n in sorted(self._entries)]

    def _snapshot(self) -> dict:
        return dict(self._entries)

    def _restore(self, snapshot: dict) -> None:
        self._entries = snapshot
