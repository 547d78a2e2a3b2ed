"""default_collate and default_convert: samples (nested containers of numbers, arrays and
tensors) to batches of taimatsu tensors, following torch.utils.data's type rules.

`collate(batch, collate_fn_map=...)` walks the containers; the leaves are handed to the
function registered for their type in `default_collate_fn_map`, which users may extend
as in PyTorch.
"""

from __future__ import annotations

import collections.abc
import copy
import re
from collections.abc import Callable

import numpy as np

from ...._tensor import Tensor

__all__ = ["collate", "default_collate", "default_collate_fn_map", "default_convert"]

# dtype.str of NumPy arrays that cannot become tensors: bytes, unicode, object.
np_str_obj_array_pattern = re.compile(r"[SaUO]")

default_collate_err_msg_format = (
    "default_collate: batch must contain tensors, numpy arrays, numbers, "
    "dicts or lists; found {}"
)


def _as_tensor(data):
    from .... import as_tensor
    return as_tensor(data)


def default_convert(data):
    """Converts each NumPy array (or NumPy scalar) inside `data` to a tensor.

    Containers (mappings, namedtuples, sequences) are rebuilt with converted elements;
    anything else is returned unchanged. The DataLoader uses this instead of
    default_collate when automatic batching is off (batch_size=None).
    """
    elem_type = type(data)
    if isinstance(data, Tensor):
        return data
    if elem_type.__module__ == "numpy" and elem_type.__name__ not in ("str_", "bytes_"):
        if isinstance(data, np.ndarray) and np_str_obj_array_pattern.search(data.dtype.str):
            return data
        return _as_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        return _rebuild_mapping(data, {key: default_convert(data[key]) for key in data})
    if isinstance(data, tuple) and hasattr(data, "_fields"):  # namedtuple
        return elem_type(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]  # a list, as in torch
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return _rebuild_sequence(data, [default_convert(d) for d in data])
    return data


def _rebuild_mapping(like, values: dict):
    """A mapping of `like`'s type holding `values` (a plain dict when that type can't)."""
    try:
        if isinstance(like, collections.abc.MutableMapping):
            clone = copy.copy(like)  # keeps the type and any extra state (OrderedDict, ...)
            clone.update(values)
            return clone
        return type(like)(values)
    except TypeError:
        return values


def _rebuild_sequence(like, values: list):
    """A sequence of `like`'s type holding `values` (a plain list when that type can't)."""
    try:
        if isinstance(like, collections.abc.MutableSequence):
            clone = copy.copy(like)
            for i, v in enumerate(values):
                clone[i] = v
            return clone
        return type(like)(values)
    except TypeError:
        return values


def collate(batch, *, collate_fn_map: dict[type | tuple[type, ...], Callable] | None = None):
    """Collates a list of samples, dispatching leaves on `collate_fn_map`.

    The map is searched for the exact type of the first element, then in insertion
    order for a type it is an instance of. Containers are collated field by field.
    """
    elem = batch[0]
    elem_type = type(elem)
    if collate_fn_map is not None:
        if elem_type in collate_fn_map:
            return collate_fn_map[elem_type](batch, collate_fn_map=collate_fn_map)
        for collate_type in collate_fn_map:
            if isinstance(elem, collate_type):
                return collate_fn_map[collate_type](batch, collate_fn_map=collate_fn_map)

    if isinstance(elem, collections.abc.Mapping):
        return _rebuild_mapping(elem, {
            key: collate([d[key] for d in batch], collate_fn_map=collate_fn_map)
            for key in elem})
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return elem_type(*(collate(samples, collate_fn_map=collate_fn_map)
                           for samples in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(e) != size for e in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        # Each column goes on as the tuple zip makes (so a column of strings stays a
        # tuple, as in torch).
        columns = [collate(samples, collate_fn_map=collate_fn_map) for samples in zip(*batch)]
        if isinstance(elem, tuple):
            return columns  # a list, as in torch
        return _rebuild_sequence(elem, columns)
    raise TypeError(default_collate_err_msg_format.format(elem_type))


def collate_tensor_fn(batch, *, collate_fn_map=None):
    """Stacks tensors along a new first dim."""
    first = batch[0]
    dtype = first._data.dtype
    shape = first._data.shape
    # The common case (same dtype and shape, CPU, no autograd) is one np.stack;
    # everything else goes through taimatsu.stack, which promotes, records autograd,
    # handles CUDA and raises torch's size-mismatch error.
    if type(first._data) is np.ndarray and all(
            type(t) is Tensor and type(t._data) is np.ndarray and t._data.dtype == dtype
            and t._data.shape == shape and not t._rg for t in batch):
        return Tensor._make(np.stack([t._data for t in batch]))
    from .... import stack
    return stack(batch, 0)


def collate_numpy_array_fn(batch, *, collate_fn_map=None):
    """Stacks NumPy arrays into one tensor (of their dtype)."""
    first = batch[0]
    if np_str_obj_array_pattern.search(first.dtype.str) is not None:
        raise TypeError(default_collate_err_msg_format.format(first.dtype))
    if all(type(b) is np.ndarray and b.dtype == first.dtype and b.shape == first.shape
           for b in batch):
        return _as_tensor(np.stack(batch))
    return collate([_as_tensor(b) for b in batch], collate_fn_map=collate_fn_map)


def collate_numpy_scalar_fn(batch, *, collate_fn_map=None):
    return _as_tensor(np.asarray(batch))


def collate_float_fn(batch, *, collate_fn_map=None):
    from .... import float64, tensor
    return tensor(batch, dtype=float64)


def collate_int_fn(batch, *, collate_fn_map=None):
    # torch.tensor's inference: all ints -> int64, all bools -> bool, mixed with
    # floats (the first element decides the function) -> the default float dtype.
    from .... import tensor
    return tensor(batch)


def collate_str_fn(batch, *, collate_fn_map=None):
    return batch


default_collate_fn_map: dict[type | tuple[type, ...], Callable] = {
    Tensor: collate_tensor_fn,
    np.ndarray: collate_numpy_array_fn,
    (np.bool_, np.number, np.object_): collate_numpy_scalar_fn,
    float: collate_float_fn,
    int: collate_int_fn,
    str: collate_str_fn,
    bytes: collate_str_fn,
}


def default_collate(batch):
    """Puts each data field into a tensor with an outer batch dimension.

    Mapping of element type to batch type, as in torch.utils.data.default_collate:
    Tensor -> Tensor (stacked); NumPy array -> Tensor; NumPy scalar -> Tensor;
    float -> float64 Tensor; int -> int64 Tensor (bool -> bool Tensor);
    str / bytes -> unchanged list; Mapping -> Mapping of collated values;
    namedtuple -> namedtuple of collated fields; other Sequence -> list of collated
    columns (elements must have equal length).
    """
    return collate(batch, collate_fn_map=default_collate_fn_map)
