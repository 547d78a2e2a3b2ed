"""Pretrained models for taimatsu: torch.hub's API over the Hugging Face Hub and the
plugin registry.

    import taimatsu_hub as hub
    model = hub.load("resnet18")                       # a registered name + its weights
    model = hub.load("./my-model")                     # a save_pretrained or Hub-style folder
    model = hub.load("timm/resnet18.tv_in1k")          # a Hub repository
    hub.save_pretrained(model, "./my-model")

Names load on first use: the registry imports this package's plugin module whenever
plugins are scanned, and that should not pay for importing huggingface_hub.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

# public name -> (module, attribute); `list` and `help` keep torch.hub's names here
# without shadowing the builtins inside the modules that define them
_EXPORTS = {
    "load": ("_load", "load"),
    "load_folder": ("_load", "load_folder"),
    "list": ("_catalog", "list_models"),
    "help": ("_catalog", "help_text"),
    "download": ("_repo", "download"),
    "NotCachedError": ("_repo", "NotCachedError"),
    "get_dir": ("_dirs", "get_dir"),
    "set_dir": ("_dirs", "set_dir"),
    "load_state_dict_from_url": ("_url", "load_state_dict_from_url"),
    "download_url_to_file": ("_url", "download_url_to_file"),
    "save_pretrained": ("_pretrained", "save_pretrained"),
    "push_to_hub": ("_pretrained", "push_to_hub"),
    "load_folder_state_dict": ("_checkpoint", "load_folder_state_dict"),
    "load_checkpoint_file": ("_checkpoint", "load_checkpoint_file"),
}

__all__ = list(_EXPORTS)


def __getattr__(name: str):
    try:
        module, attr = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(importlib.import_module(f".{module}", __name__), attr)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
