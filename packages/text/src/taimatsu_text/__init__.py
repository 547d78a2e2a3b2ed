"""taimatsu-text: tokenizers, vocabularies, datasets and Transformer models for taimatsu.

`models` and `datasets` are imported on first access, so importing the package for its
tokenizers does not build the model classes.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

__all__ = ["tokenizers", "vocab", "transforms", "functional", "data", "datasets", "models",
           "__version__"]

_LAZY = ("tokenizers", "vocab", "transforms", "functional", "data", "datasets", "models")


def __getattr__(name: str):
    if name in _LAZY:
        module = importlib.import_module(f".{name}", __name__)
        globals()[name] = module
        return module
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
