"""The ONNX graph under construction: nodes, initializers, and the helpers emitters share.

Emitters (the _ops_*.py files) translate one op record each by calling `g.op(...)`; this
module turns references (traced values, parameters, constants, Python numbers) into graph
names, computes sizes that follow dynamic axes from the graph inputs' shapes, and at the
end drops whatever no output needs.
"""

from __future__ import annotations

import itertools

import numpy as np

from ._symbolic import SymInt, concrete
from ._trace import Const, Param, Reshaped, Value
from .errors import OnnxExporterError, UnsupportedOperatorError

INT64_MAX = np.iinfo(np.int64).max


def onnx_modules():
    """(onnx, onnx.helper, onnx.numpy_helper); a clear error when onnx is not installed."""
    try:
        import onnx
        from onnx import helper, numpy_helper
    except ImportError as exc:
        raise ImportError("taimatsu.onnx.export needs the onnx package: pip install onnx") \
            from exc
    return onnx, helper, numpy_helper


def elem_type(np_dtype) -> int:
    _, helper, _ = onnx_modules()
    return helper.np_dtype_to_tensor_dtype(np.dtype(np_dtype))


class Graph:
    """Nodes and initializers of one exported model."""

    def __init__(self, opset: int, *, export_params: bool = True, fold: bool = True):
        self.opset = opset
        self.export_params = export_params
        self.fold = fold
        self.nodes: list = []
        self.initializers: dict = {}  # name -> array
        self.param_inputs: list = []  # (name, Param) exported as graph inputs
        self.reserved: set = set()    # the graph's input and output names
        self._param_names: dict = {}  # state_dict key -> graph name
        self.sym_sources: dict = {}   # axis name -> (graph input name, axis)
        self._names: dict = {}        # traced value name -> graph name
        self._consts: dict = {}
        self._syms: dict = {}
        self._count = itertools.count()

    # -- nodes ----------------------------------------------------------------------------
    def op(self, op_type: str, *inputs, outputs: int = 1, **attrs):
        """Adds a node; returns its output name (a list of names when outputs > 1)."""
        _, helper, _ = onnx_modules()
        n = next(self._count)
        names = [f"/{op_type}_{n}_output_{i}" for i in range(outputs)]
        attrs = {k: v for k, v in attrs.items() if v is not None}
        self.nodes.append(helper.make_node(op_type, list(inputs), names, name=f"/{op_type}_{n}",
                                           **attrs))
        return names[0] if outputs == 1 else names

    def require(self, opset: int, what: str) -> None:
        if self.opset < opset:
            raise UnsupportedOperatorError(what, self.opset, opset)

    # -- references -----------------------------------------------------------------------
    def bind(self, value: Value, name: str) -> None:
        self._names[value.name] = name

    def folded(self, value: Value, array) -> None:
        """`value` is a constant (its op was folded): an initializer."""
        self._names[value.name] = self.const(np.asarray(array), hint="Constant", cache=False)

    def is_constant(self, ref) -> bool:
        """Whether a reference names a constant (folded values and constants; parameters
        when they are exported as initializers)."""
        if isinstance(ref, Value):
            return ref.name in self._names and self._names[ref.name] in self.initializers
        if isinstance(ref, Param):
            return self.export_params
        return isinstance(ref, Const)

    def constant_array(self, ref):
        """The array behind a constant reference, or None."""
        if isinstance(ref, Const):
            return ref.array
        if isinstance(ref, Param):
            return ref.array if self.export_params else None
        if isinstance(ref, Value) and self.is_constant(ref):
            return self.initializers[self._names[ref.name]]
        return None

    def transposed(self, ref) -> str:
        """A 2-D weight transposed: folded into a new initializer when it is constant."""
        array = self.constant_array(ref) if self.fold else None
        if array is not None:
            return self.const(np.ascontiguousarray(np.asarray(array).T), hint="MatMul",
                              cache=False)
        return self.op("Transpose", self.value(ref), perm=[1, 0])

    def value(self, ref, dtype=None) -> str:
        """The graph name of a reference; Python numbers become constants of `dtype`."""
        if isinstance(ref, Value):
            try:
                return self._names[ref.name]
            except KeyError:
                raise OnnxExporterError(f"internal error: {ref.name} used before it was "
                                        "computed") from None
        if isinstance(ref, Param):
            return self._param(ref)
        if isinstance(ref, Const):
            return self.const(ref.array)
        if isinstance(ref, Reshaped):
            return self.op("Reshape", self.value(ref.source), self.ints(
                [concrete(s) for s in ref.shape]) if all(
                    not isinstance(s, SymInt) for s in ref.shape) else self.shape_vec(ref.shape))
        if isinstance(ref, (bool, int, float, np.generic)):
            if dtype is None:
                raise OnnxExporterError("internal error: a number without a dtype")
            return self.const(np.asarray(ref, dtype=dtype))
        raise OnnxExporterError(f"internal error: cannot use {type(ref).__name__} as a value")

    def typed(self, ref, dtype) -> str:
        """A reference as a graph value of `dtype` (cast when its own dtype differs)."""
        if isinstance(ref, (bool, int, float, np.generic)):
            return self.value(ref, dtype)
        name = self.value(ref)
        return self.cast(name, ref.dtype, dtype)

    def cast(self, name: str, from_dtype, to_dtype) -> str:
        if np.dtype(from_dtype) == np.dtype(to_dtype):
            return name
        return self.op("Cast", name, to=elem_type(to_dtype))

    def _param(self, ref: Param) -> str:
        """A parameter's graph name: its state_dict key (unless an input or output of the
        graph has that name: an initializer named like an input would be its default)."""
        name = self._param_names.get(ref.key)
        if name is not None:
            return name
        name = ref.key
        while name in self.reserved:
            name += "_param"
        self._param_names[ref.key] = name
        if self.export_params:
            self.initializers[name] = np.asarray(ref.array)
        else:
            self.param_inputs.append((name, ref))
        return name

    # -- constants ------------------------------------------------------------------------
    def const(self, array, hint: str = "Constant", cache: bool = True) -> str:
        array = np.asarray(array)
        key = None
        if cache and array.size <= 64:
            key = (array.dtype.str, array.shape, array.tobytes())
            name = self._consts.get(key)
            if name is not None:
                return name
        name = f"onnx::{hint}_{next(self._count)}"
        self.initializers[name] = array
        if key is not None:
            self._consts[key] = name
        return name

    def ints(self, values) -> str:
        """A 1-D int64 constant."""
        return self.const(np.asarray(list(values), dtype=np.int64).reshape(-1))

    def scalar(self, value, dtype) -> str:
        return self.const(np.asarray(value, dtype=dtype))

    # -- sizes that follow dynamic axes ----------------------------------------------------
    def sym(self, s) -> str:
        """A 1-D int64 [1] tensor holding an int or a SymInt's run-time value."""
        if not isinstance(s, SymInt):
            return self.ints([s])
        name = self._syms.get(s)
        if name is not None:
            return name
        out = None
        for axis_name in s.syms:
            dim = self._axis(axis_name)
            out = dim if out is None else self.op("Mul", out, dim)
        if s.coef != 1:
            out = self.op("Mul", out, self.ints([s.coef]))
        if s.offset:
            out = self.op("Add", out, self.ints([s.offset]))
        self._syms[s] = out
        return out

    def _axis(self, axis_name: str) -> str:
        key = ("axis", axis_name)
        name = self._syms.get(key)
        if name is None:
            source, axis = self.sym_sources[axis_name]
            shape = self._syms.get(("shape", source))
            if shape is None:
                shape = self._syms[("shape", source)] = self.op("Shape", source)
            name = self.op("Gather", shape, self.ints([axis]), axis=0)
            self._syms[key] = name
        return name

    def shape_vec(self, dims) -> str:
        """A 1-D int64 shape tensor from ints and SymInts."""
        dims = list(dims)
        if all(not isinstance(d, SymInt) for d in dims):
            return self.ints(dims)
        parts, run = [], []
        for d in dims:
            if isinstance(d, SymInt):
                if run:
                    parts.append(self.ints(run))
                    run = []
                parts.append(self.sym(d))
            else:
                run.append(d)
        if run:
            parts.append(self.ints(run))
        return parts[0] if len(parts) == 1 else self.op("Concat", *parts, axis=0)

    # -- opset-dependent forms --------------------------------------------------------------
    def reduce(self, op_type: str, x: str, axes, keepdims: bool) -> str:
        """Reduce<op_type> over `axes` (None: all); axes became an input in opset 18 (13
        for ReduceSum)."""
        since = 13 if op_type == "Sum" else 18
        keep = int(bool(keepdims))
        if axes is None:
            return self.op(f"Reduce{op_type}", x, keepdims=keep)
        axes = [int(a) for a in axes]
        if not axes:
            return self.op("Identity", x)
        if self.opset >= since:
            return self.op(f"Reduce{op_type}", x, self.ints(axes), keepdims=keep)
        return self.op(f"Reduce{op_type}", x, axes=axes, keepdims=keep)

    def unsqueeze(self, x: str, axes) -> str:
        if self.opset < 13:  # axes became an input in opset 13 (likewise below)
            return self.op("Unsqueeze", x, axes=list(axes))
        return self.op("Unsqueeze", x, self.ints(axes))

    def squeeze(self, x: str, axes) -> str:
        if self.opset < 13:
            return self.op("Squeeze", x, axes=list(axes))
        return self.op("Squeeze", x, self.ints(axes))

    def split(self, x: str, sizes, axis: int) -> list:
        if self.opset < 13:
            return self.op("Split", x, axis=axis, split=list(sizes), outputs=len(sizes))
        return self.op("Split", x, self.ints(sizes), axis=axis, outputs=len(sizes))

    def softmax(self, op_type: str, x: str, axis: int, ndim: int) -> str:
        """Softmax/LogSoftmax along one axis; before opset 13 they normalized over all the
        dims from `axis` on, which is the same only for the last axis."""
        axis %= ndim
        if self.opset >= 13 or axis == ndim - 1:
            return self.op(op_type, x, axis=axis)
        perm = list(range(ndim))
        perm[axis], perm[-1] = perm[-1], perm[axis]
        y = self.op(op_type, self.op("Transpose", x, perm=perm), axis=ndim - 1)
        return self.op("Transpose", y, perm=perm)
