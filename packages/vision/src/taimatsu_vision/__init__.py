"""taimatsu-vision: torchvision's API on taimatsu — image I/O, transforms, datasets, models.

`models` and `ops` are imported on first access (``taimatsu_vision.models``), so importing
the package for its transforms or datasets does not build the model zoo.
"""

from __future__ import annotations

import importlib

from . import io, transforms, datasets, utils

__version__ = "0.1.0"

__all__ = ["io", "transforms", "datasets", "utils", "models", "ops", "__version__"]

_LAZY = ("models", "ops")


def __getattr__(name: str):
    if name in _LAZY:
        module = importlib.import_module(f".{name}", __name__)
        globals()[name] = module
        return module
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
