"""Argument helpers that layer code (and user code, by PyTorch's paths) imports:
`_single`, `_pair`, `_triple`, `_quadruple` turn an int into a tuple of that length."""

from __future__ import annotations

import collections.abc
from itertools import repeat

from ..parallel.distributed import consume_prefix_in_state_dict_if_present

__all__ = ["consume_prefix_in_state_dict_if_present"]


def _ntuple(n: int, name: str = "parse"):
    """A parser: an iterable passes through as a tuple, anything else is repeated n times."""
    def parse(x):
        if isinstance(x, collections.abc.Iterable):
            return tuple(x)
        return tuple(repeat(x, n))
    parse.__name__ = name
    return parse


_single = _ntuple(1, "_single")
_pair = _ntuple(2, "_pair")
_triple = _ntuple(3, "_triple")
_quadruple = _ntuple(4, "_quadruple")


def _reverse_repeat_tuple(t, n: int) -> tuple:
    """Reverses t and repeats each element n times: (1, 2) -> (2, 2, 1, 1) for n = 2
    (conv padding given per dim, as F.pad wants it, last dim first)."""
    return tuple(x for x in reversed(t) for _ in range(n))


def _list_with_default(out_size, defaults) -> list:
    """out_size with its None entries taken from the trailing dims of `defaults`."""
    if isinstance(out_size, int):
        return out_size
    if len(defaults) <= len(out_size):
        raise ValueError(f"Input dimension should be at least {len(out_size) + 1}")
    return [v if v is not None else d
            for v, d in zip(out_size, defaults[-len(out_size):])]
