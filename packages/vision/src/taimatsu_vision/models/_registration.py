"""What the plugin hook calls: every builder into the taimatsu model registry, with the
Weights records of its enum (the default first)."""

from __future__ import annotations

from ._api import BUILTIN_MODELS
from ._weights import WEIGHTS


def _first_line(f) -> str:
    return (f.__doc__ or "").strip().splitlines()[0]


def register_models(registry) -> None:
    """Adds every builder (domain "vision", task "classification") with its weights."""
    for name, builder in BUILTIN_MODELS.items():
        registry.add(name, builder, domain="vision", task="classification",
                     weights=WEIGHTS.get(name, ()), description=_first_line(builder))
