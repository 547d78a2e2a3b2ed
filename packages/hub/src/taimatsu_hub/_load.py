"""`load`: a registered model name, a local folder, or a Hub repository id, in that order.

Folders come in two layouts. One written by `save_pretrained` names a registered model and
its builder's keyword arguments. One laid out as on the Hugging Face Hub (a transformers or
timm config.json and its weights) is built by the first installed plugin whose
`taimatsu_hub_load` hook recognises the config. Nothing from a folder or a repository is
ever executed: configs that ask for the repository's own Python code are refused.
"""

from __future__ import annotations

import difflib
import inspect
import os
import warnings

from huggingface_hub.errors import HFValidationError, RepositoryNotFoundError
from huggingface_hub.utils import validate_repo_id

from taimatsu import plugins
from taimatsu.plugins import Weights

from ._checkpoint import CONFIG_NAME, load_folder_state_dict, read_config, remote_code_request
from ._repo import NotCachedError, _options, fetch_model_repo

# config.json key under which save_pretrained records the registered model it holds
TAIMATSU_KEY = "taimatsu"


def load(name_or_repo, *args, weights="DEFAULT", revision: str | None = None,
         cache_dir=None, force_download: bool = False, local_files_only: bool | None = None,
         token=None, trust_remote_code: bool = False, map_location="cpu",
         progress: bool = True, endpoint: str | None = None, **kwargs):
    """Builds a pretrained model from a registered name, a local folder or a Hub repository.

    Tried in this order:

    1. a model name in the registry (``"resnet18"``): built with ``*args, **kwargs``; unless
       ``weights=None``, its weights ("DEFAULT", a weights name, or a `Weights` record) are
       downloaded through huggingface_hub, checked against their sha256, renamed through
       the key mapping and loaded strictly;
    2. a local folder written by `save_pretrained`, or laid out as on the Hub (config.json
       with model.safetensors or pytorch_model.bin, possibly sharded) that an installed
       plugin's `taimatsu_hub_load` recognises;
    3. a Hub repository id (``"timm/resnet18.tv_in1k"``): its config, weights and tokenizer
       files are downloaded into the Hugging Face cache, then loaded as a folder.

    Args:
        revision: branch, tag or commit of a Hub repository
        cache_dir, force_download, local_files_only, token, endpoint: passed to
            huggingface_hub (endpoint: another Hub, e.g. a mirror)
        trust_remote_code: a repository whose config asks for its own Python code is
            refused without it. With it, an installed plugin may still build the
            architecture natively; the repository's code is never executed.
        map_location: the device the model ends up on
        progress: show download progress

    Raises:
        ValueError: nothing matched (the message lists what was tried, and close names)
        FileNotFoundError: a needed file is missing, or not cached while offline
    """
    if not isinstance(name_or_repo, (str, os.PathLike)):
        raise TypeError(f"load() expects a model name, folder or repo id, got "
                        f"{type(name_or_repo).__name__}")
    source = os.fspath(name_or_repo)
    opts = _options(revision, cache_dir, force_download, local_files_only, token, endpoint,
                    progress)
    if source in plugins.list_models():
        model = _from_registry(source, args, kwargs, weights, progress, opts)
    elif os.path.isdir(source):
        model = load_folder(source, *args, trust_remote_code=trust_remote_code, **kwargs)
    else:
        model = _from_hub(source, args, kwargs, trust_remote_code, opts)
    if map_location is not None and str(map_location) != "cpu":
        model = model.to(map_location)
    return model


def _from_registry(name: str, args, kwargs, weights, progress: bool, opts: dict):
    builder = plugins.get_model_builder(name)
    # get_model records the name and keyword arguments, so save_pretrained needs no config
    model = plugins.get_model(name, **_as_kwargs(name, builder, args, kwargs))
    if weights is None:
        return model
    if isinstance(weights, Weights):
        record = weights
    elif weights == "DEFAULT" and not plugins.get_model_weights(name):
        raise ValueError(f"model {name!r} has no pretrained weights; pass weights=None for a "
                         "randomly initialised one")
    else:
        record = plugins.get_weight(name, weights)
    download = {k: opts[k] for k in ("cache_dir", "force_download", "token", "endpoint")}
    state = record.get_state_dict(progress, local_files_only=opts["local_files_only"] or None,
                                  **download)
    model.load_state_dict(state)
    return model


def _as_kwargs(name: str, builder, args, kwargs) -> dict:
    """Positional builder arguments turned into keywords (they are recorded by name)."""
    if not args:
        return kwargs
    sig = inspect.signature(builder)
    bound = sig.bind_partial(*args, **kwargs)
    out = {}
    for param, value in bound.arguments.items():
        kind = sig.parameters[param].kind
        if kind is inspect.Parameter.VAR_KEYWORD:
            out.update(value)
        elif kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.POSITIONAL_ONLY):
            raise TypeError(f"the builder of {name!r} takes {param!r} positionally only; "
                            "load() passes builder arguments by keyword")
        else:
            out[param] = value
    return out


def load_folder(folder, *args, trust_remote_code: bool = False, label: str | None = None,
                **kwargs):
    """Builds the model of a local folder (see `load`); `label` names it in errors."""
    label = label or os.fspath(folder)
    if not os.path.isfile(os.path.join(folder, CONFIG_NAME)):
        raise FileNotFoundError(f"{label} has no {CONFIG_NAME}: load() reads folders written by "
                                "save_pretrained or laid out as on the Hugging Face Hub")
    config = read_config(folder)
    if TAIMATSU_KEY in config:
        if args:
            raise TypeError("positional builder arguments are not accepted for a "
                            "save_pretrained folder: pass keyword arguments")
        return _from_saved(folder, config[TAIMATSU_KEY], kwargs, label)
    if args or kwargs:
        raise TypeError(f"builder arguments apply to registered names and save_pretrained "
                        f"folders; {label} is built from its config.json alone")
    requested = _refuse_remote_code(label, config, trust_remote_code)
    model = _plugin_build(os.fspath(folder), config, label)
    if model is not None:
        return model
    if requested:
        raise ValueError(
            f"{label} needs the repository's own Python code ({_describe(requested)}) and no "
            "installed plugin implements this architecture: executing remote code is not "
            "supported.")
    raise ValueError(
        f"no installed plugin can build the model in {label} (config.json: "
        f"{_describe({k: config[k] for k in ('model_type', 'architectures', 'architecture') if k in config})}). "
        f"Installed plugins: {', '.join(sorted(plugins.loaded_plugins())) or 'none'}; install "
        "the one for this architecture (e.g. taimatsu-text for BERT models).")


def _plugin_build(folder: str, config: dict, label: str):
    """The model from the first plugin whose taimatsu_hub_load returns one (pluggy's
    firstresult order), or None.

    A plugin that raises is skipped with a warning when another one builds the model, so a
    broken plugin cannot hide a working one. When none does, a single error is raised as
    is, and several are reported together.
    """
    hook_args = {"source": folder, "config": config}
    errors = []
    for impl in reversed(plugins.get_plugin_manager().hook.taimatsu_hub_load.get_hookimpls()):
        try:
            model = impl.function(**{k: hook_args[k] for k in impl.argnames})
        except Exception as exc:
            errors.append((impl.plugin_name, exc))
            continue
        if model is not None:
            for name, exc in errors:
                warnings.warn(f"taimatsu plugin {name!r} raised in taimatsu_hub_load for "
                              f"{label} and was skipped: {type(exc).__name__}: {exc}",
                              RuntimeWarning, stacklevel=4)
            return model
    if len(errors) == 1:
        raise errors[0][1]
    if errors:
        listed = "; ".join(f"plugin {name!r}: {type(exc).__name__}: {exc}"
                           for name, exc in errors)
        raise RuntimeError(f"no plugin could build the model in {label}, and several "
                           f"failed trying: {listed}") from errors[0][1]
    return None


def _refuse_remote_code(label: str, config: dict, trust_remote_code: bool) -> dict:
    """Raises if config asks for repository code and it is not trusted; returns the ask."""
    requested = remote_code_request(config)
    if requested and not trust_remote_code:
        raise ValueError(
            f"{label} asks for the repository's own Python code to build its model "
            f"(config.json: {_describe(requested)}). taimatsu never executes code from a "
            "repository. Pass trust_remote_code=True to let an installed plugin build this "
            "architecture natively instead; the repository's code is not run either way.")
    return requested


def _describe(entries: dict) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in entries.items()) or "nothing it recognises"


def _from_saved(folder, spec: dict, overrides: dict, label: str):
    """A folder written by save_pretrained: rebuild the registered model, load its weights."""
    name = spec.get("name") if isinstance(spec, dict) else None
    if not isinstance(name, str):
        raise ValueError(f"{label}: config.json's {TAIMATSU_KEY!r} entry has no model name")
    if name not in plugins.list_models():
        raise ValueError(f"{label} holds a {name!r} model, but no installed plugin registers "
                         f"that name{_did_you_mean(name)}")
    model = plugins.get_model(name, **{**spec.get("kwargs", {}), **overrides})
    model.load_state_dict(load_folder_state_dict(folder))
    return model


def _from_hub(source: str, args, kwargs, trust_remote_code: bool, opts: dict):
    tried = [f"a registered model name: no model is registered as {source!r}",
             "a local folder: there is no such directory"]
    try:
        validate_repo_id(source)
    except HFValidationError as exc:
        tried.append(f"a Hub repository id: not a valid one ({exc})")
    else:
        def check_config(config):  # runs before any weights are downloaded
            _refuse_remote_code(source, config, trust_remote_code)

        try:
            folder = fetch_model_repo(source, opts, check_config=check_config)
        except RepositoryNotFoundError:
            tried.append("a Hub repository id: no such repository (or it is private or "
                         "gated: pass token=)")
        except NotCachedError as exc:
            if "/" in source:  # clearly meant as a repository: say what is missing
                raise
            tried.append(f"a Hub repository id: {exc}")
        else:
            return load_folder(folder, *args, trust_remote_code=trust_remote_code,
                               label=source, **kwargs)
    lines = "\n".join(f"  - {t}" for t in tried)
    raise ValueError(f"cannot load {source!r}; tried it as\n{lines}{_did_you_mean(source)}")


def _did_you_mean(name: str) -> str:
    close = [repr(c) for c in difflib.get_close_matches(name, plugins.list_models(), n=3,
                                                        cutoff=0.6)]
    if not close:
        return ""
    options = close[0] if len(close) == 1 else f"{', '.join(close[:-1])} or {close[-1]}"
    return f"\nDid you mean {options}?"
