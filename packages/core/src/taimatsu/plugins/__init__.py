"""Plugins: the pluggy manager, lazy entry-point loading, and the model/dataset registries.

Nothing is scanned at `import taimatsu`: entry points of the group `taimatsu` load on the
first registry access. A plugin that fails to import, or raises inside a hook, is
reported with a warning naming it and skipped; what it added is rolled back.
"""

from __future__ import annotations

import importlib.metadata
import warnings

import pluggy

from ..nn import Module
from . import hookspecs
from .hookspecs import hookimpl, hookspec
from .registry import Entry, Registry, Weights, remap_keys

__all__ = ["hookimpl", "hookspec", "Weights", "Entry", "Registry", "get_plugin_manager",
           "list_models", "get_model", "get_model_builder", "get_model_weights",
           "get_weight", "list_datasets", "get_dataset", "list_transforms", "get_transform",
           "loaded_plugins", "remap_keys"]

ENTRY_POINT_GROUP = "taimatsu"

_state: dict = {}


def _load_entry_points(pm: pluggy.PluginManager) -> dict:
    """Registers every entry point of the group; returns plugin name -> distribution."""
    packages = {}
    for dist in importlib.metadata.distributions():
        for ep in dist.entry_points:
            if ep.group != ENTRY_POINT_GROUP or pm.has_plugin(ep.name):
                continue
            try:
                pm.register(ep.load(), name=ep.name)
            except Exception as exc:  # a broken plugin must not take the core down
                warnings.warn(f"taimatsu plugin {ep.name!r} ({dist.metadata['Name']}) failed "
                              f"to load and is skipped: {type(exc).__name__}: {exc}",
                              RuntimeWarning, stacklevel=3)
                continue
            packages[ep.name] = f"{dist.metadata['Name']} {dist.version}"
    return packages


def get_plugin_manager() -> pluggy.PluginManager:
    """The pluggy manager with every installed plugin registered (loaded on first call)."""
    pm = _state.get("pm")
    if pm is None:
        pm = pluggy.PluginManager("taimatsu")
        pm.add_hookspecs(hookspecs)
        _state["packages"] = _load_entry_points(pm)
        _state["pm"] = pm
    return pm


def loaded_plugins() -> dict:
    """Plugin name -> the distribution (name and version) that provided it."""
    get_plugin_manager()
    return dict(_state["packages"])


def _registry(kind: str, hook_name: str) -> Registry:
    """The registry of `kind`, filled by running `hook_name` of each plugin on first use."""
    reg = _state.get(kind)
    if reg is None:
        pm = get_plugin_manager()
        reg = Registry(kind)
        for impl in getattr(pm.hook, hook_name).get_hookimpls():  # registration order
            _run_hook(reg, impl, hook_name)
        _state[kind] = reg
    return reg


def _run_hook(reg: Registry, impl, hook_name: str) -> None:
    snapshot = reg._snapshot()
    reg._plugin = impl.plugin_name
    try:
        impl.function(**{k: reg for k in impl.argnames if k == "registry"})
    except Exception as exc:
        reg._restore(snapshot)
        warnings.warn(f"taimatsu plugin {impl.plugin_name!r} raised in {hook_name} and is "
                      f"skipped: {type(exc).__name__}: {exc}", RuntimeWarning, stacklevel=4)
    finally:
        reg._plugin = None


def _reset() -> None:
    """Forgets loaded plugins and registries (tests install plugins at run time)."""
    _state.clear()


def model_registry() -> Registry:
    return _registry("model", "taimatsu_register_models")


def dataset_registry() -> Registry:
    return _registry("dataset", "taimatsu_register_datasets")


def transform_registry() -> Registry:
    return _registry("transform", "taimatsu_register_transforms")


def list_models(domain=None, task=None, include=None, exclude=None) -> list[str]:
    """Sorted names of registered models (fnmatch patterns for include/exclude)."""
    return model_registry().names(domain, task, include, exclude)


def get_model_builder(name: str):
    return model_registry().get(name).obj


def get_model_weights(name: str) -> list[Weights]:
    """The pretrained weights registered for a model (the first is the default)."""
    return list(model_registry().get(name).weights)


def get_weight(model: str, weights: str = "DEFAULT") -> Weights:
    """One Weights record of a model by name; "DEFAULT" is the first registered."""
    available = get_model_weights(model)
    if not available:
        raise ValueError(f"model {model!r} has no pretrained weights")
    if weights == "DEFAULT":
        return available[0]
    for w in available:
        if w.name == weights:
            return w
    raise ValueError(f"model {model!r} has no weights {weights!r}; available: "
                     f"{[w.name for w in available]}")


def get_model(name: str, weights=None, **kwargs):
    """Builds a registered model; `weights` ("DEFAULT", a name or a Weights) loads them."""
    model = get_model_builder(name)(**kwargs)
    if isinstance(model, Module):
        # what save_pretrained writes to config.json so the model can be rebuilt by name;
        # a plain attribute, so it stays out of state_dict
        model._taimatsu_hub_config = {"name": name, "kwargs": dict(kwargs)}
    if weights is not None:
        record = weights if isinstance(weights, Weights) else get_weight(name, weights)
        model.load_state_dict(record.get_state_dict())
    return model


def list_datasets(domain=None, include=None, exclude=None) -> list[str]:
    return dataset_registry().names(domain, None, include, exclude)


def get_dataset(name: str, **kwargs):
    return dataset_registry().get(name).obj(**kwargs)


def list_transforms(domain=None, include=None, exclude=None) -> list[str]:
    return transform_registry().names(domain, None, include, exclude)


def get_transform(name: str, **kwargs):
    return transform_registry().get(name).obj(**kwargs)
