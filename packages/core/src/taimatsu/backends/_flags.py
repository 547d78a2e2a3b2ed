"""Backend flags: module attributes that scripts assign, validated like PyTorch's.

`torch.backends.cudnn.benchmark = True` must persist and read back, and a non-bool
must be refused with PyTorch's message; a module attribute cannot validate, so a
flag module swaps its class for one carrying `Flag` descriptors.
"""

from __future__ import annotations

import sys
import types


class Flag:
    """A validated, assignable attribute of a flag module (or of a flag object).

    Args:
        default: the initial value
        setter: PyTorch's internal setter name, used in its error message
        kind: the accepted type (bool unless told)
        choices: for string flags, the accepted values
    """

    def __init__(self, default, setter: str, kind: type = bool, choices=None):
        self.default = default
        self.setter = setter
        self.kind = kind
        self.choices = choices

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, obj, owner=None):
        if obj is None:
            return self
        return obj.__dict__.get("_flag_values", {}).get(self.name, self.default)

    def __set__(self, obj, value):
        if not isinstance(value, self.kind):
            raise RuntimeError(f"{self.setter} expects a {self.kind.__name__}, but got "
                               f"{type(value).__name__}")
        if self.choices is not None and value not in self.choices:
            raise RuntimeError(f"Unknown precision: {value}")
        obj.__dict__.setdefault("_flag_values", {})[self.name] = value


def install_flags(module_name: str, **flags: Flag) -> None:
    """Gives module `module_name` the given flags as validated attributes."""
    module = sys.modules[module_name]
    cls = type(f"{module_name.rsplit('.', 1)[-1].capitalize()}Module", (types.ModuleType,),
               dict(flags))
    for name, flag in flags.items():
        flag.__set_name__(cls, name)
    module.__class__ = cls


class FlagScope:
    """Context manager setting several flags of one module, restoring them on exit."""

    def __init__(self, target, **values):
        self._target = target
        self._values = {k: v for k, v in values.items() if v is not None}

    def __enter__(self):
        # The stored values, not the read ones: a flag may read differently from what
        # it holds (benchmark_limit reads None without cuDNN).
        self._saved = dict(self._target.__dict__.get("_flag_values", {}))
        for name, value in self._values.items():
            setattr(self._target, name, value)
        return self

    def __exit__(self, *exc):
        self._target.__dict__["_flag_values"] = self._saved
        return False
