"""Grad modes: no_grad, enable_grad, set_grad_enabled, inference_mode.

The flag lives in a one-element list so the hot path reads it without a function call.
"""

from __future__ import annotations

import functools

_enabled = [True]
_inference = [False]


def is_grad_enabled() -> bool:
    return _enabled[0]


def is_inference_mode_enabled() -> bool:
    return _inference[0]


class _GradModeContext:
    """Base for context managers that also work as (unparenthesised or called) decorators."""

    def __call__(self, func):
        if not callable(func):
            raise TypeError(f"{type(self).__name__} expects a callable, got {func!r}")

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self.clone():
                return func(*args, **kwargs)
        return wrapper

    def clone(self):
        return type(self)()


class no_grad(_GradModeContext):
    """Disables graph recording inside the block."""

    def __new__(cls, func=None):
        self = super().__new__(cls)
        if func is not None and callable(func):  # used as @no_grad without parentheses
            return self(func)
        return self

    def __enter__(self):
        self._prev = _enabled[0]
        _enabled[0] = False

    def __exit__(self, *exc):
        _enabled[0] = self._prev


class enable_grad(_GradModeContext):
    """Enables graph recording inside the block, even within no_grad."""

    def __new__(cls, func=None):
        self = super().__new__(cls)
        if func is not None and callable(func):
            return self(func)
        return self

    def __enter__(self):
        self._prev = _enabled[0]
        _enabled[0] = True

    def __exit__(self, *exc):
        _enabled[0] = self._prev


class set_grad_enabled(_GradModeContext):
    """Sets grad mode on or off; effective immediately, restored on context exit."""

    def __init__(self, mode: bool):
        self._prev = _enabled[0]
        self.mode = bool(mode)
        _enabled[0] = self.mode

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        _enabled[0] = self._prev

    def clone(self):
        return set_grad_enabled(self.mode)

    def __call__(self, func):
        _enabled[0] = self._prev  # as a decorator, the constructor must not change the mode
        return super().__call__(func)


class inference_mode(_GradModeContext):
    """Like no_grad; tensors made inside are inference tensors (no graph can use them)."""

    def __new__(cls, mode=True):
        self = super().__new__(cls)
        if callable(mode):
            self.mode = True
            return self(mode)
        return self

    def __init__(self, mode=True):
        if not callable(mode):
            self.mode = bool(mode)

    def __enter__(self):
        self._prev = (_enabled[0], _inference[0])
        if self.mode:
            _enabled[0] = False
            _inference[0] = True
        else:
            _inference[0] = False

    def __exit__(self, *exc):
        _enabled[0], _inference[0] = self._prev

    def clone(self):
        return inference_mode(self.mode)
