"""torchvision's model API: Weights records, per-model WeightsEnum classes, and the
builder registry behind list_models / get_model / get_model_builder / get_model_weights /
get_weight.

A `Weights` record here is the plugin registry's record (taimatsu.plugins.Weights) with
torchvision's `url` and `meta` added, so one object serves both: the registry (and
taimatsu_hub.load) sees the record, torchvision code sees the enum member wrapping it.
"""

from __future__ import annotations

import fnmatch
import inspect
import os
import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import Enum
from types import ModuleType
from typing import Any, get_args
from urllib.parse import urlparse

from taimatsu.plugins import Weights as _RegistryWeights
from taimatsu.plugins import remap_keys

__all__ = ["Weights", "WeightsEnum", "register_model", "list_models", "get_model",
           "get_model_builder", "get_model_weights", "get_weight"]

# torch.hub's convention for published checkpoints: "resnet18-f37072fd.pth" carries the
# first hex digits of the file's sha256 after the last dash
_HASH_PREFIX = re.compile(r"-([a-f0-9]*)\.")


@dataclass(frozen=True)
class Weights(_RegistryWeights):
    """Pretrained weights: the registry's record plus torchvision's `url` and `meta`.

    Built torchvision's way, ``Weights(url=..., transforms=partial(...), meta={...})``, the
    checkpoint is downloaded from `url` into the hub's ``checkpoints`` folder (as
    `load_state_dict_from_url` does). With a `repo_id` it comes from the Hugging Face Hub
    instead (the same tensors, mirrored; `key_mapping` renames them), and with a local
    `filename` from disk; `url` then still names where the checkpoint is published.

    `meta` holds torchvision's keys (categories, num_params, min_size, recipe, _metrics,
    _ops, _file_size, _docs); the registry's `num_params` and `metrics` fields are kept in
    step with meta["num_params"] and meta["_metrics"], whichever of the two was given.
    """

    name: str = ""  # the enum member's name; torchvision-style records may leave it out
    url: str | None = None

    def __post_init__(self) -> None:
        # frozen: the fields are set the way dataclasses' own __init__ sets them
        meta = dict(self.meta)
        if self.num_params is not None:
            meta.setdefault("num_params", self.num_params)
        if self.metrics:
            meta.setdefault("_metrics", self.metrics)
        object.__setattr__(self, "meta", meta)
        object.__setattr__(self, "num_params", meta.get("num_params"))
        object.__setattr__(self, "metrics", meta.get("_metrics", self.metrics))
        if self.url is None and self.repo_id is not None and self.filename is not None:
            object.__setattr__(self, "url", f"https://huggingface.co/{self.repo_id}/resolve/"
                                            f"{self.revision or 'main'}/{self.filename}")

    def local_file(self, progress: bool = True, *, check_hash: bool = False, model_dir=None,
                   file_name: str | None = None, cache_dir=None, force_download=None,
                   local_files_only=None, token=None, endpoint=None) -> str:
        """The checkpoint on disk, downloaded first if needed.

        A record with a `repo_id` or a `filename` is resolved by the registry's rules (the
        Hugging Face options apply; `model_dir` stands in for `cache_dir`). Otherwise `url`
        is fetched as torch.hub does: into `model_dir` (default ``<hub dir>/checkpoints``)
        under `file_name` (default: the URL's last part), checked against the sha256 prefix
        in the file name when `check_hash`, and not fetched again once there.
        """
        if self.repo_id is not None or self.filename is not None or self.url is None:
            return super().local_file(progress, cache_dir=cache_dir or model_dir,
                                      force_download=force_download,
                                      local_files_only=local_files_only, token=token,
                                      endpoint=endpoint)
        return _download_url(self.url, model_dir or cache_dir, file_name, check_hash,
                             progress, bool(force_download), bool(local_files_only))

    def get_state_dict(self, progress: bool = True, *, check_hash: bool = False,
                       model_dir=None, map_location=None, file_name: str | None = None,
                       weights_only: bool = True, **hub_options) -> dict:
        """The checkpoint's tensors under our parameter names (see `local_file` for where
        it comes from; `hub_options` are the Hugging Face download options)."""
        path = self.local_file(progress, check_hash=check_hash, model_dir=model_dir,
                               file_name=file_name, **hub_options)
        if path.endswith(".safetensors"):
            from taimatsu.safetensors import load_file
            state = load_file(path, device=map_location or "cpu")
        else:
            from taimatsu import load
            state = load(path, map_location=map_location or "cpu", weights_only=weights_only)
        return remap_keys(state, self.key_mapping)


def _download_url(url: str, model_dir, file_name, check_hash: bool, progress: bool,
                  force: bool, offline: bool) -> str:
    try:
        from taimatsu_hub import download_url_to_file, get_dir
    except ImportError:
        raise ImportError("downloading pretrained weights from a URL needs taimatsu-hub: "
                          "pip install \"taimatsu[hub]\"") from None
    if model_dir is None:
        model_dir = os.path.join(get_dir(), "checkpoints")
    model_dir = os.path.expanduser(os.fspath(model_dir))
    file_name = file_name or os.path.basename(urlparse(url).path)
    path = os.path.join(model_dir, file_name)
    if os.path.exists(path) and not force:
        return path
    if offline:
        raise FileNotFoundError(f"{file_name} is not in {model_dir} and local_files_only is "
                                f"set (it would be downloaded from {url})")
    os.makedirs(model_dir, exist_ok=True)
    hash_prefix = None
    if check_hash:
        match = _HASH_PREFIX.search(file_name)
        hash_prefix = match.group(1) if match else None
    sys.stderr.write(f'Downloading: "{url}" to {path}\n')
    download_url_to_file(url, path, hash_prefix, progress=progress)
    return path


# load_state_dict_from_url's parameters after the URL: WeightsEnum.get_state_dict takes
# them in this order, as torchvision's forwards its arguments to that function
_URL_LOADER_PARAMS = ("model_dir", "map_location", "progress", "check_hash", "file_name",
                      "weights_only")


class WeightsEnum(Enum):
    """The pretrained weights of one model builder; each member's value is a Weights record.

    Members read like torchvision's: ``ResNet50_Weights.IMAGENET1K_V2.url``, ``.meta``,
    ``.transforms()``, ``.get_state_dict(progress=True)``; ``DEFAULT`` names the best.
    """

    @classmethod
    def verify(cls, obj: Any) -> Any:
        """None, a member of this enum, or its name ("IMAGENET1K_V1", "DEFAULT" or
        "ResNet18_Weights.IMAGENET1K_V1") -> the member (None stays None)."""
        if obj is not None:
            if type(obj) is str:
                obj = cls[obj.replace(cls.__name__ + ".", "")]
            elif not isinstance(obj, cls):
                raise TypeError(f"Invalid Weight class provided; expected {cls.__name__} but "
                                f"received {obj.__class__.__name__}.")
        return obj

    def get_state_dict(self, *args: Any, **kwargs: Any) -> dict:
        """The checkpoint's state_dict. Takes load_state_dict_from_url's arguments
        (model_dir, map_location, progress, check_hash, file_name, weights_only) and, for
        weights on the Hugging Face Hub, its download options (cache_dir, token, ...)."""
        if len(args) > len(_URL_LOADER_PARAMS):
            raise TypeError(f"get_state_dict() takes at most {len(_URL_LOADER_PARAMS)} "
                            f"positional arguments ({len(args)} given)")
        for param, value in zip(_URL_LOADER_PARAMS, args):
            if param in kwargs:
                raise TypeError(f"get_state_dict() got multiple values for argument '{param}'")
            kwargs[param] = value
        return self.value.get_state_dict(**kwargs)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}.{self._name_}"

    def __reduce_ex__(self, protocol):
        # by name: the value's transforms partial does not survive a pickle round trip
        # equal to itself, so the default lookup by value would fail
        return getattr, (self.__class__, self._name_)

    @property
    def url(self) -> str | None:
        return getattr(self.value, "url", None)

    @property
    def transforms(self) -> Callable | None:
        return self.value.transforms

    @property
    def meta(self) -> dict:
        return self.value.meta


# -- the builder registry -------------------------------------------------------------------

BUILTIN_MODELS: dict[str, Callable] = {}


def register_model(name: str | None = None) -> Callable[[Callable], Callable]:
    """Decorator adding a builder to list_models / get_model under `name` (default: the
    function's name)."""

    def wrapper(fn: Callable) -> Callable:
        key = name if name is not None else fn.__name__
        if key in BUILTIN_MODELS:
            raise ValueError(f"An entry is already registered under the name '{key}'.")
        BUILTIN_MODELS[key] = fn
        return fn

    return wrapper


def _patterns(filters: Iterable[str] | str) -> list[str]:
    return [filters] if isinstance(filters, str) else list(filters)


def list_models(module: ModuleType | None = None, include: Iterable[str] | str | None = None,
                exclude: Iterable[str] | str | None = None) -> list[str]:
    """Sorted names of the registered builders.

    Args:
        module: only the builders defined in this package (e.g. taimatsu_vision.models)
        include: fnmatch pattern(s); a name is kept if it matches any
        exclude: fnmatch pattern(s) applied after include; a match removes the name
    """
    names = {k for k, fn in BUILTIN_MODELS.items()
             if module is None or fn.__module__.rsplit(".", 1)[0] == module.__name__}
    if include:
        names = {n for pattern in _patterns(include) for n in fnmatch.filter(names, pattern)}
    if exclude:
        for pattern in _patterns(exclude):
            names -= set(fnmatch.filter(names, pattern))
    return sorted(names)


def get_model_builder(name: str) -> Callable:
    """The builder registered under `name` (case-insensitive)."""
    name = name.lower()
    try:
        return BUILTIN_MODELS[name]
    except KeyError:
        raise ValueError(f"Unknown model {name}") from None


def get_model(name: str, **config: Any):
    """Builds a registered model: get_model("resnet50", weights="DEFAULT")."""
    return get_model_builder(name)(**config)


def get_model_weights(name: Callable | str) -> type[WeightsEnum]:
    """The WeightsEnum class of a builder, given the builder or its registered name."""
    fn = get_model_builder(name) if isinstance(name, str) else name
    return _get_enum_from_fn(fn)


def _get_enum_from_fn(fn: Callable) -> type[WeightsEnum]:
    # the enum is the type annotated on the `weights` parameter (our modules postpone
    # annotations, so they are evaluated here)
    sig = inspect.signature(fn, eval_str=True)
    if "weights" not in sig.parameters:
        raise ValueError("The method is missing the 'weights' argument.")
    annotation = sig.parameters["weights"].annotation
    for candidate in (annotation, *get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, WeightsEnum):
            return candidate
    raise ValueError("The WeightsEnum class for the specific method couldn't be retrieved. "
                     "Make sure the typing info is correct.")


def get_weight(name: str, weights: str | None = None) -> WeightsEnum:
    """A weights member by its full name, ``get_weight("ResNet50_Weights.IMAGENET1K_V2")``.

    Also by model name: ``get_weight("resnet50")`` is its DEFAULT and
    ``get_weight("resnet50", "IMAGENET1K_V1")`` a named member.
    """
    if weights is not None or name in BUILTIN_MODELS:
        return _weight_of_model(name, "DEFAULT" if weights is None else weights)
    try:
        enum_name, value_name = name.split(".")
    except ValueError:
        raise ValueError(f"Invalid weight name provided: '{name}'.") from None
    enum = _find_enum(enum_name)
    if enum is None:
        raise ValueError(f"The weight enum '{enum_name}' for the specific method couldn't be "
                         "retrieved.")
    return enum[value_name]


def _find_enum(enum_name: str) -> type[WeightsEnum] | None:
    from taimatsu_vision import models

    candidate = getattr(models, enum_name, None)
    if isinstance(candidate, type) and issubclass(candidate, WeightsEnum):
        return candidate
    return None


def _weight_of_model(model: str, weights: str) -> WeightsEnum:
    fn = get_model_builder(model)
    try:
        enum = _get_enum_from_fn(fn)
    except ValueError:
        raise ValueError(f"model {model!r} has no pretrained weights") from None
    member = enum.__members__.get(weights.replace(enum.__name__ + ".", ""))
    if member is None:
        names = [m.name for m in enum]
        raise ValueError(f"model {model!r} has no weights {weights!r}; available: {names}")
    return member
