"""Tracing one forward pass into a list of op records.

Every `Function.apply` the model makes passes through an observer (see
`autograd.node.apply_observers`) that records the op class, its arguments and its output
tensors. Arguments are resolved to references as they are recorded:

    Value   a tensor some recorded op (or the graph input) produced
    Param   a parameter or buffer of the model (named by its state_dict key)
    Const   anything else: a tensor or array made outside the recorded ops

Tensors are matched by identity, backend arrays (which some ops take instead of tensors:
masks, running statistics, index keys) by the identity of the array. In-place ops are
followed through `apply_inplace` (see _hooks.py); a tensor whose version counter moved in a
way the tracer did not see is refused rather than silently exported with stale values.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from .._tensor import Tensor
from .errors import OnnxExporterError


class Value(NamedTuple):
    """A tensor of the traced graph: a graph input or an op output."""

    name: str
    shape: tuple
    dtype: np.dtype


class Param(NamedTuple):
    """A parameter or buffer of the model, exported as an initializer named `key`."""

    key: str
    array: Any

    @property
    def shape(self) -> tuple:
        return tuple(self.array.shape)

    @property
    def dtype(self) -> np.dtype:
        return self.array.dtype


class Const(NamedTuple):
    """A constant tensor or array (a copy taken when the op ran)."""

    array: Any

    @property
    def shape(self) -> tuple:
        return tuple(self.array.shape)

    @property
    def dtype(self) -> np.dtype:
        return self.array.dtype


class Reshaped(NamedTuple):
    """A traced value seen through a reshaping array view (an op was handed
    `tensor._data.reshape(...)` rather than the tensor's own array)."""

    source: Value
    shape: tuple

    @property
    def dtype(self) -> np.dtype:
        return self.source.dtype


REFS = (Value, Param, Const, Reshaped)


@dataclass
class Record:
    """One op application: op class, resolved arguments and params, output values."""

    op: type
    args: tuple
    params: dict
    outputs: tuple
    multi: bool  # the op returned a tuple (outputs are indexed even when there is one)
    data: tuple = None  # (output tensor, its version then) per output, for constant folding


_STALE = ("A tensor used by the model was modified in place by an operation the ONNX "
          "exporter cannot follow (an in-place write into a view or a slice of another "
          "tensor, or a write outside autograd such as through .data or numpy()). Rewrite "
          "that step with out-of-place operations to export the model.")


class Tracer:
    """Records ops while a forward pass runs (install with _hooks.tracing)."""

    def __init__(self, params: dict):
        # id(tensor or array) -> (object, state_dict key) for the model's parameters/buffers
        self._params = params
        self.records: list[Record] = []
        self._values: dict = {}  # id(tensor) -> [tensor, Value, version]
        self._arrays: dict = {}  # id(array) -> (array, owner tensor)
        self._roots: dict = {}   # id(memory owner) -> [(array, owner tensor)]
        self._names = itertools.count()
        self.depth = 0  # > 0 inside an op or a hooked function: nested calls run unrecorded
        self.warned_python = False

    def is_traced(self, tensor: Tensor) -> bool:
        """Whether the tensor is a value of the traced graph (not a constant)."""
        return id(tensor) in self._values or id(tensor._data) in self._arrays
    # -- registering tensors ------------------------------------------------------------
    def add_input(self, tensor: Tensor, name: str) -> Value:
        value = Value(name, tuple(tensor._data.shape), tensor._data.dtype)
        self._register(tensor, value)
        return value

    def _register(self, tensor: Tensor, value: Value) -> None:
        self._values[id(tensor)] = [tensor, value, tensor._vc[0]]
        arr = tensor._data
        self._arrays[id(arr)] = (arr, tensor)
        root = arr if arr.base is None else arr.base
        self._roots.setdefault(id(root), []).append((arr, tensor))

    def _new_value(self, op, tensor: Tensor) -> Value:
        name = f"/{getattr(op, '__name__', 'op')}_{next(self._names)}"
        value = Value(name, tuple(tensor._data.shape), tensor._data.dtype)
        self._register(tensor, value)
        return value

    # -- recording ----------------------------------------------------------------------
    def observe(self, cls, args, params, call):
        """The apply observer: resolves the arguments, runs the op, records it."""
        if self.depth:
            return call()
        rargs, rparams = self.resolve(args), self.resolve(params)
        self.depth += 1
        try:
            out = call()
        finally:
            self.depth -= 1
        self._append(cls, rargs, rparams, out)
        return out

    def record(self, op, args, params, out) -> None:
        """Records a hooked function that does not go through Function.apply."""
        self._append(op, self.resolve(args), self.resolve(params), out)

    def record_resolved(self, op, args, params, out) -> None:
        """Records an op whose arguments were resolved beforehand (their tensors have
        changed since)."""
        self._append(op, args, params, out)

    def _append(self, op, args, params, out) -> None:
        multi = isinstance(out, tuple)
        outs = out if multi else (out,)
        values = tuple(self._new_value(op, t) if isinstance(t, Tensor) else None for t in outs)
        data = tuple((t, t._vc[0]) if isinstance(t, Tensor) else (None, 0) for t in outs)
        self.records.append(Record(op, args, params, values, multi, data))

    def alias(self, tensor: Tensor, source: Tensor) -> None:
        """After an in-place op, `tensor` holds what `source` (the op's result) holds."""
        ref = self.resolve(source)
        if isinstance(ref, Value):
            self._register(tensor, ref)
        elif self.is_traced(tensor):  # a traced value overwritten by an unrecorded result
            raise OnnxExporterError(_STALE)
        # else: a constant written in place stays a constant (with its new contents)

    # -- resolving arguments ------------------------------------------------------------
    def resolve(self, obj):
        """`obj` with every tensor and backend array replaced by a reference."""
        if isinstance(obj, Tensor):
            return self._resolve_tensor(obj)
        if isinstance(obj, np.ndarray):
            return self._resolve_array(obj)
        if type(obj) is tuple or type(obj) is list:
            return type(obj)(self.resolve(o) for o in obj)
        if type(obj) is dict:
            return {k: self.resolve(v) for k, v in obj.items()}
        if hasattr(obj, "__cuda_array_interface__"):
            raise OnnxExporterError("ONNX export traces on the CPU: move the model and its "
                                    "inputs to the CPU first (model.cpu()).")
        return obj

    def _resolve_tensor(self, t: Tensor):
        entry = self._values.get(id(t))
        if entry is not None:
            if t._vc[0] != entry[2]:
                raise OnnxExporterError(_STALE)
            return entry[1]
        param = self._params.get(id(t))
        if param is not None:
            return Param(param[1], t._data)
        return self._resolve_array(t._data)

    def _resolve_array(self, arr):
        known = self._arrays.get(id(arr))
        if known is not None:
            return self._resolve_tensor(known[1])
        param = self._params.get(id(arr))
        if param is not None:
            return Param(param[1], arr)
        derived = self._reshaped_view(arr)
        if derived is not None:
            return derived
        return Const(np.array(arr, copy=True))

    def _reshaped_view(self, arr):
        """A Reshaped ref when `arr` is a contiguous reshape of a traced tensor's array."""
        if arr.base is None or not arr.flags.c_contiguous:
            return None
        start = arr.__array_interface__["data"][0]
        for known, owner in self._roots.get(id(arr.base), ()):
            if (known.size == arr.size and known.dtype == arr.dtype
                    and known.flags.c_contiguous
                    and known.__array_interface__["data"][0] == start):
                value = self._resolve_tensor(owner)
                if tuple(known.shape) == tuple(arr.shape):
                    return value
                return Reshaped(value, tuple(arr.shape))
        return None
