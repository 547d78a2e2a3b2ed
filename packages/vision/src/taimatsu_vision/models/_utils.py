"""Helpers shared by the model builders: channel rounding, weights resolution."""

from __future__ import annotations

from typing import Any

from taimatsu.plugins import Weights


def _make_divisible(v: float, divisor: int, min_value: int | None = None) -> int:
    """Rounds a channel count to a multiple of divisor, never more than 10% below v
    (the rule of the original TensorFlow MobileNet code, which the weights assume)."""
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


def _ovewrite_named_param(kwargs: dict[str, Any], param: str, new_value) -> None:
    """Sets kwargs[param] to what the weights need; a conflicting user value is an error."""
    if param in kwargs:
        if kwargs[param] != new_value:
            raise ValueError(f"The parameter '{param}' expected value {new_value} but got "
                             f"{kwargs[param]} instead.")
    else:
        kwargs[param] = new_value


def resolve_weights(model: str, weights) -> Weights | None:
    """None, a Weights record, "DEFAULT" or a weights name of `model` -> a record or None."""
    if weights is None or isinstance(weights, Weights):
        return weights
    if not isinstance(weights, str):
        raise TypeError(f"weights must be None, a string or a Weights record, got "
                        f"{type(weights).__name__}")
    from ._weights import WEIGHTS

    available = WEIGHTS.get(model, ())
    if not available:
        raise ValueError(f"model {model!r} has no pretrained weights")
    if weights == "DEFAULT":
        return available[0]
    name = weights.rsplit(".", 1)[-1]  # "ResNet18_Weights.IMAGENET1K_V1" works too
    for record in available:
        if record.name == name:
            return record
    raise ValueError(f"model {model!r} has no weights {weights!r}; available: "
                     f"{[w.name for w in available]}")


def prepare(model: str, weights, kwargs: dict) -> Weights | None:
    """Resolves `weights` and fixes num_classes to what they were trained with."""
    record = resolve_weights(model, weights)
    if record is not None and "categories" in record.meta:
        _ovewrite_named_param(kwargs, "num_classes", len(record.meta["categories"]))
    return record


def load_weights(module, record: Weights | None, progress: bool):
    """Loads the record's checkpoint (renamed to our keys) strictly; returns the module."""
    if record is not None:
        module.load_state_dict(record.get_state_dict(progress=progress))
    return module
