"""Graph nodes and the array-level Function that every differentiable op subclasses.

An op is a `Function` subclass with static `forward(ctx, *args, **params)` and
`backward(ctx, *grads)` working on backend arrays (numpy or cupy). `apply` unwraps
Tensors, runs forward, and -- only when grad mode is on and an input requires grad --
records a `Node` (the ctx, which also serves as the output's `grad_fn`).

For `create_graph=True` the engine calls the same `backward` with Tensors and sets
`ctx.xp` to a namespace of differentiable ops with NumPy's names, so a backward written
against `ctx.xp` and Python operators builds a graph of its own.
"""

from __future__ import annotations

import re
import traceback

import numpy as np

from .. import backend
from . import grad_mode

_enabled = grad_mode._enabled
_ndarray = np.ndarray
_anomaly = [False, False]  # [detect, check_nan]


class _Released:
    pass


class Node:
    """A backward graph node; `grad_fn` of the tensors an op produced."""

    __slots__ = ("fn", "next_functions", "needs_input_grad", "xp", "_saved", "__dict__",
                 "__weakref__")

    # Defaults on the class: most nodes never set these, and a node is made per op call.
    _saved_src = None
    _num_outputs = 1
    _out_meta = None
    _pre_hooks = None
    _post_hooks = None
    _retain = None
    _name = None
    _trace = None
    _released = False
    variable = None

    def __init__(self, fn):
        self.fn = fn
        self.next_functions = ()
        self.needs_input_grad = ()
        self.xp = np
        self._saved = ()

    # -- what ops call -------------------------------------------------------------------
    def save_for_backward(self, *arrays) -> None:
        """Keeps arrays for backward; versions are checked when backward reads them."""
        self._saved = arrays

    @property
    def saved_arrays(self) -> tuple:
        if self._released:
            raise RuntimeError(_FREED_MESSAGE)
        src = self._saved_src
        if src is not None:
            for entry in src:
                if entry is not None and entry[1][0] != entry[2]:
                    _raise_modified(self, entry)
        return self._saved

    saved_tensors = saved_arrays

    def mark_name(self, name: str) -> None:
        """Overrides the printed node name (e.g. SumBackward1 for sum over dims)."""
        self._name = name

    # -- introspection ---------------------------------------------------------------------
    def name(self) -> str:
        return self._name or self.fn._backward_name

    def __repr__(self) -> str:
        return f"<{self.name()} object at {hex(id(self))}>"

    def register_hook(self, hook):
        """hook(grad_inputs, grad_outputs) runs after this node's backward."""
        from .hooks import RemovableHandle
        if self._post_hooks is None:
            self._post_hooks = {}
        handle = RemovableHandle(self._post_hooks)
        self._post_hooks[handle.id] = hook
        return handle

    def register_prehook(self, hook):
        """hook(grad_outputs) runs before this node's backward; may return new grads."""
        from .hooks import RemovableHandle
        if self._pre_hooks is None:
            self._pre_hooks = {}
        handle = RemovableHandle(self._pre_hooks)
        self._pre_hooks[handle.id] = (None, hook)
        return handle

    @property
    def metadata(self) -> dict:
        return self.__dict__.setdefault("_metadata", {})

    def release(self) -> None:
        """Frees what backward saved (after a backward without retain_graph)."""
        if self._saved:
            self._saved = None
            self._saved_src = None
            self._released = True


_FREED_MESSAGE = (
    "Trying to backward through the graph a second time (or directly access saved tensors "
    "after they have already been freed). Saved intermediate values of the graph are freed "
    "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
    "backward through the graph a second time or if you need to access saved tensors after "
    "calling backward.")


def _raise_modified(node, entry):
    tensor, counter, expected = entry[0], entry[1], entry[2]
    desc = ""
    if tensor is not None:
        from .._tensor import _type_name
        shape = ", ".join(str(s) for s in tensor.shape)
        desc = f"[{_type_name(tensor)} [{shape}]]"
        fn = tensor._grad_fn
        if fn is not None:
            op = re.sub(r"Backward\d+$", "", fn.name())  # torch names the op: "Exp"
            desc += f", which is output {tensor._output_nr} of {op},"
    raise RuntimeError(
        "one of the variables needed for gradient computation has been modified by an "
        f"inplace operation: {desc} is at version {counter[0]}; expected version {expected} "
        "instead. Hint: enable anomaly detection to find the operation that failed to "
        "compute its gradient, with taimatsu.autograd.set_detect_anomaly(True, "
        "check_nan=False).")


class _NoGradCtx:
    """Stands in for a Node when nothing is recorded: saves are dropped."""

    __slots__ = ("__dict__",)
    needs_input_grad = ()
    xp = np

    def save_for_backward(self, *arrays):
        pass

    def mark_name(self, name):
        pass


class FunctionMeta(type):
    def __init__(cls, name, bases, ns):
        super().__init__(name, bases, ns)
        cls._backward_name = ns.get("_backward_name") or f"{name}Backward0"


class Function(metaclass=FunctionMeta):
    """Base of array-level differentiable ops (see module docstring).

    Class attributes:
        view: the outputs are views of the first argument (shares memory and version).
        differentiable_outputs: None means every floating/complex output.
    """

    view = False

    @staticmethod
    def forward(ctx, *args, **params):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, *grads):
        raise NotImplementedError

    @classmethod
    def apply(cls, *args, **params):
        """Runs the op on Tensors (and plain values) and returns Tensor output(s)."""
        if apply_observers:
            return _observed_apply(cls, args, params)
        return _apply(cls, args, params)


# Callables observer(cls, args, params, call) -> outputs that wrap every op: the profiler
# times `call()`, the ONNX exporter records the op with its inputs and outputs. Empty in
# normal runs, so the cost is one list truth test per op.
apply_observers: list = []


def _observed_apply(cls, args, params):
    def call(index=0):
        if index == len(apply_observers):
            return _apply(cls, args, params)
        return apply_observers[index](cls, args, params, lambda: call(index + 1))
    return call()


def _apply(cls, args, params):
    Tensor = _T.Tensor
    arrays = []
    record = False
    first = None
    for a in args:
        if isinstance(a, Tensor):
            arrays.append(a._data)
            if first is None:
                first = a._data
            if a._rg:
                record = True
        else:
            arrays.append(a)
    try:
        if not (record and _enabled[0]):
            out = cls.forward(_NoGradCtx(), *arrays, **params)
            return _T._wrap_outputs(cls, out, args, None, params)
        node = Node(cls)
        node.xp = np if type(first) is _ndarray else backend.of(first)
        needs = []
        edges = []
        for a in args:
            if isinstance(a, Tensor) and a._rg:
                needs.append(True)
                edges.append(_edge(a))
            elif isinstance(a, Tensor) and a._inference:
                raise RuntimeError(_INFERENCE_MESSAGE)
            else:
                needs.append(False)
                edges.append(_NO_EDGE)
        node.needs_input_grad = tuple(needs)
        out = cls.forward(node, *arrays, **params)
    except ValueError as exc:
        _raise_broadcast_error(exc, arrays)
        raise
    node.next_functions = tuple(edges)
    if _anomaly[0]:
        node._trace = traceback.format_stack()[:-1]
    result = _T._wrap_outputs(cls, out, args, node, params)
    if node._saved:
        _record_saved_sources(node, args, result)
    return result


_NO_EDGE = (None, 0)
_INFERENCE_MESSAGE = ("Inference tensors cannot be saved for backward. To work around you can "
                      "make a clone to get a normal tensor and use it in autograd.")


class _LazyTensorModule:
    """taimatsu._tensor, bound on first use (it imports this module)."""

    def __getattr__(self, name):
        from .. import _tensor
        globals()["_T"] = _tensor
        return getattr(_tensor, name)


_T = _LazyTensorModule()


def _raise_broadcast_error(exc, arrays):
    """NumPy's broadcast ValueError becomes torch's RuntimeError naming the sizes."""
    if "broadcast" not in str(exc):
        return
    shapes = [a.shape for a in arrays if hasattr(a, "shape")]
    if len(shapes) >= 2:
        from ..ops._util import broadcast_shapes_or_raise
        result = shapes[0]
        for s in shapes[1:]:
            result = broadcast_shapes_or_raise(result, s)


def _edge(t):
    """(node, output_nr) through which a gradient reaches tensor `t`."""
    if not t._rg:
        return _NO_EDGE
    fn = t._grad_fn
    if t._base is not None:
        fn = t.grad_fn  # the property refreshes a stale view's node
    if fn is not None:
        return (fn, t._output_nr)
    return (t._grad_accumulator(), 0)


def _record_saved_sources(node, inputs, outputs):
    """Notes, per saved array, which tensor it belongs to and that tensor's version.

    The version lets backward detect in-place changes; the source lets create_graph
    mode hand backward the Tensors themselves (inputs) or rebuild outputs.
    """
    Tensor = _T.Tensor
    outs = outputs if isinstance(outputs, tuple) else (outputs,)
    src = []
    for arr in node._saved:
        entry = None
        if arr is not None:
            for t in inputs:
                if isinstance(t, Tensor) and t._data is arr:
                    entry = (t, t._vc, t._vc[0], "in")
                    break
            else:
                for i, t in enumerate(outs):
                    if isinstance(t, Tensor) and t._data is arr:
                        entry = (None, t._vc, t._vc[0], i)
                        break
        src.append(entry)
    node._saved_src = src


def as_array(out):
    """NumPy reductions return scalars; tensors always hold arrays."""
    if type(out) is _ndarray:
        return out
    if isinstance(out, np.generic):
        return np.asarray(out)
    if backend.is_cuda_array(out):
        return out
    return np.asarray(out)
