"""pin_memory=True: batches copied into page-locked host memory (CuPy's pinned allocator),
from which `.to("cuda", non_blocking=True)` can copy asynchronously."""

from __future__ import annotations

import collections.abc

import numpy as np

from ...._tensor import Tensor
from .collate import _rebuild_mapping, _rebuild_sequence


def _pinned_copy(array: np.ndarray) -> np.ndarray:
    import cupyx
    out = cupyx.empty_pinned(array.shape, dtype=array.dtype)
    np.copyto(out, array)
    return out


def pin_memory(data):
    """`data` with every CPU tensor (inside any container) moved to pinned memory."""
    if isinstance(data, Tensor):
        if type(data._data) is not np.ndarray:
            return data  # already on a GPU
        return Tensor._make(_pinned_copy(data._data), requires_grad=data._rg)
    if isinstance(data, (str, bytes)):
        return data
    if isinstance(data, collections.abc.Mapping):
        return _rebuild_mapping(data, {k: pin_memory(v) for k, v in data.items()})
    if isinstance(data, tuple) and hasattr(data, "_fields"):  # namedtuple
        return type(data)(*(pin_memory(d) for d in data))
    if isinstance(data, tuple):
        return [pin_memory(d) for d in data]  # a list, as torch does
    if isinstance(data, collections.abc.Sequence):
        return _rebuild_sequence(data, [pin_memory(d) for d in data])
    if hasattr(data, "pin_memory"):  # custom batch types opt in, as in torch
        return data.pin_memory()
    return data
