"""Helpers shared by the model builders: channel rounding, weights resolution, and
torchvision's deprecated-argument handling (pretrained=, positional arguments)."""

from __future__ import annotations

import functools
import inspect
import warnings
from collections.abc import Callable
from typing import Any

from taimatsu.plugins import Weights as RegistryWeights

from ._api import Weights, WeightsEnum
from ._weights import ENUMS, WEIGHTS


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


def resolve_weights(model: str, weights) -> RegistryWeights | None:
    """`weights` as a builder takes it -> the Weights record to load (or None).

    Accepts None, a member of the model's WeightsEnum, a registry Weights record, or a
    name: "DEFAULT", "IMAGENET1K_V1" or "ResNet18_Weights.IMAGENET1K_V1". Names are looked
    up in the registry's table (_weights.WEIGHTS, default first), which the enums mirror.
    """
    enum = ENUMS.get(model)
    if weights is None or isinstance(weights, RegistryWeights):
        return weights
    if isinstance(weights, WeightsEnum):
        if enum is None:
            raise ValueError(f"model {model!r} has no pretrained weights")
        return enum.verify(weights).value
    if not isinstance(weights, str):
        raise TypeError(f"weights must be None, a string or a Weights record, got "
                        f"{type(weights).__name__}")
    available = WEIGHTS.get(model, ())
    if not available:
        raise ValueError(f"model {model!r} has no pretrained weights")
    name = weights.replace(enum.__name__ + ".", "") if enum is not None else weights
    if name == "DEFAULT":
        return available[0]
    for record in available:
        if record.name == name:
            return record
    raise ValueError(f"model {model!r} has no weights {weights!r}; available: "
                     f"{[w.name for w in available]}")


def prepare(model: str, weights, kwargs: dict) -> RegistryWeights | None:
    """Resolves `weights` and fixes num_classes to the categories they were trained on
    (weights without categories, such as feature-extractor weights, leave it free)."""
    record = resolve_weights(model, weights)
    if record is not None and record.meta.get("categories") is not None:
        _ovewrite_named_param(kwargs, "num_classes", len(record.meta["categories"]))
    return record


def load_weights(module, record: RegistryWeights | None, progress: bool):
    """Loads the record's checkpoint (renamed to our keys) strictly; returns the module.
    A download from a torchvision URL is checked against the hash in its file name."""
    if record is not None:
        options = {"check_hash": True} if isinstance(record, Weights) else {}
        module.load_state_dict(record.get_state_dict(progress=progress, **options))
    return module


def _quoted(names) -> str:
    """('a',) -> "'a'"; ('a', 'b') -> "'a' and 'b'"; ('a', 'b', 'c') -> "'a', 'b', and 'c'"."""
    quoted = [f"'{n}'" for n in names]
    if len(quoted) < 3:
        return " and ".join(quoted)
    return ", ".join(quoted[:-1]) + ", and " + quoted[-1]


def _keyword_only(fn: Callable) -> tuple[int, list[str]]:
    """Where fn's keyword-only parameters start, and their names."""
    params = list(inspect.signature(fn).parameters.values())
    first = next((i for i, p in enumerate(params) if p.kind is p.KEYWORD_ONLY), len(params))
    return first, [p.name for p in params[first:] if p.kind is p.KEYWORD_ONLY]


def _positional_to_keyword(keyword_only: tuple[int, list[str]], args: tuple,
                           kwargs: dict) -> tuple:
    """Builders take weights/progress by keyword only; old code passed them by position
    (resnet18(True)). Maps them, warning as torchvision does."""
    first, names = keyword_only
    args, moved = args[:first], args[first:]
    if moved:
        moved_kwargs = dict(zip(names, moved))
        warnings.warn(f"Using {_quoted(moved_kwargs)} as positional parameter(s) is deprecated "
                      "since 0.13 and may be removed in the future. Please use keyword "
                      "parameter(s) instead.", UserWarning, stacklevel=3)
        kwargs.update(moved_kwargs)
    return args, kwargs


def handle_legacy_interface(**weights: tuple[str, Any]):
    """Decorates a builder so that torchvision's pre-0.13 calls keep working.

    ``weights=("pretrained", ResNet18_Weights.IMAGENET1K_V1)`` makes
    ``builder(pretrained=True)`` (or a positional True) mean those weights and
    ``pretrained=False`` mean weights=None, each with torchvision's deprecation warning.
    The default may be a callable of the keyword arguments; None means the builder has no
    weights (pretrained=True is then an error).
    """

    def decorate(builder: Callable) -> Callable:
        keyword_only = _keyword_only(builder)

        @functools.wraps(builder)
        def wrapper(*args: Any, **kwargs: Any):
            args, kwargs = _positional_to_keyword(keyword_only, args, kwargs)
            for weights_param, (pretrained_param, default) in weights.items():
                _translate_pretrained(builder.__name__, kwargs, weights_param,
                                      pretrained_param, default)
            return builder(*args, **kwargs)

        return wrapper

    return decorate


def _translate_pretrained(builder_name: str, kwargs: dict, weights_param: str,
                          pretrained_param: str, default) -> None:
    missing = object()
    weights_arg = kwargs.get(weights_param, missing)
    if weights_arg is missing and pretrained_param not in kwargs:
        return
    if weights_arg is not missing and not isinstance(weights_arg, bool):
        # already the new interface; anything else but a flag (torchvision would take any
        # truthy value for pretrained=True) is left to the builder to refuse
        return
    if weights_arg is not missing:  # a positional pretrained flag landed on `weights`
        pretrained_arg = kwargs.pop(weights_param)
    else:
        pretrained_arg = kwargs.pop(pretrained_param)
        warnings.warn(f"The parameter '{pretrained_param}' is deprecated since 0.13 and may be "
                      f"removed in the future, please use '{weights_param}' instead.",
                      UserWarning, stacklevel=3)
    new_value = None
    if pretrained_arg:
        new_value = default(kwargs) if callable(default) else default
        if not isinstance(new_value, WeightsEnum):
            raise ValueError(f"No weights available for model {builder_name}")
    msg = (f"Arguments other than a weight enum or `None` for '{weights_param}' are deprecated "
           f"since 0.13 and may be removed in the future. The current behavior is equivalent "
           f"to passing `{weights_param}={new_value}`.")
    if pretrained_arg:
        msg += (f" You can also use `{weights_param}={type(new_value).__name__}.DEFAULT` to get "
                "the most up-to-date weights.")
    warnings.warn(msg, UserWarning, stacklevel=3)
    kwargs.pop(pretrained_param, None)
    kwargs[weights_param] = new_value
