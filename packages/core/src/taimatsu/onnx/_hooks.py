"""What the tracer hooks while a forward pass runs.

Most ops go through `Function.apply`, which the tracer observes. A few do not: comparisons,
logical ops, argmax/argmin and tensor creation compute on arrays and wrap the result, and
multi-head attention turns boolean masks into additive ones the same way. For the time of
an export those functions are wrapped so that they record a *pseudo-op* (the classes below)
with their arguments. `apply_inplace` is wrapped so that in-place ops (relu_, +=, ...) let
the written tensor take over the result's value, and `masked_fill_`, whose no-grad fast path
writes into memory directly, is routed through its recorded form.

Wrapping replaces the function wherever a taimatsu module (or the Tensor class) holds it
under a name, and everything is restored on exit.
"""

from __future__ import annotations

import contextlib
import sys
import warnings

from .._tensor import Tensor
from ..autograd import node
from .errors import OnnxExporterWarning

# -- pseudo-ops: recorded like Function classes, translated by the same emitter table --------


class PseudoOp:
    """An op recorded from a hooked function rather than from Function.apply."""


class Comparison(PseudoOp):
    """eq/ne/lt/le/gt/ge(input, other); params: op, dtype (the promoted operand dtype)."""


class Logical(PseudoOp):
    """logical_and/or/xor(input, other) and logical_not(input); params: op."""


class Bitwise(PseudoOp):
    """bitwise_and/or/xor(input, other) and bitwise_not(input); params: op, dtype."""


class Predicate(PseudoOp):
    """isnan/isinf/isfinite/isposinf/isneginf(input); params: op."""


class ArgReduce(PseudoOp):
    """argmax/argmin(input); params: op, dim, keepdim."""


class FloatMask(PseudoOp):
    """Multi-head attention's boolean 'may attend' mask as an additive 0/-inf float mask."""


class CausalMask(PseudoOp):
    """The (L, S) lower-triangular boolean mask of is_causal attention; params: L, S."""


class Full(PseudoOp):
    """zeros/ones/full and their *_like forms: a tensor of the output's shape; params:
    value."""


class Arange(PseudoOp):
    """arange(start, end, step); params: start, end, step."""


class ViewWrite(PseudoOp):
    """An in-place write through a view: (base, new view contents, the flat positions of
    the view's elements in base) -> the new base."""


# -- the wrappers --------------------------------------------------------------------------


def _recorder(tracer, fn, make):
    """fn wrapped to record make(*args, **kwargs) -> (op, args, params) after it runs."""
    def wrapped(*args, **kwargs):
        if tracer.depth:
            return fn(*args, **kwargs)
        tracer.depth += 1
        try:
            out = fn(*args, **kwargs)
        finally:
            tracer.depth -= 1
        if isinstance(out, Tensor):
            op, rec_args, params = make(*args, **kwargs)
            tracer.record(op, rec_args, params, out)
        return out
    wrapped.__wrapped__ = fn
    wrapped.__name__ = getattr(fn, "__name__", "wrapped")
    return wrapped


def _promoted(input, other):
    from ..ops._util import result_dtype
    return result_dtype(input, other).np


def _binary(op_cls, name, promote=True):
    def make(input, other, *, out=None):
        params = {"op": name}
        if promote:
            params["dtype"] = _promoted(input, other)
        return op_cls, (input, other), params
    return make


def _unary(op_cls, name):
    def make(input, *, out=None):
        return op_cls, (input,), {"op": name, "dtype": input._data.dtype}
    return make


def _arg_reduce(name):
    def make(input, dim=None, keepdim=False):
        return ArgReduce, (input,), {"op": name, "dim": dim, "keepdim": keepdim}
    return make


def _full(value):
    def make(*args, **kwargs):
        return Full, (), {"value": value}
    return make


def _full_value(*args, **kwargs):
    fill = kwargs.get("fill_value", args[1] if len(args) > 1 else None)
    if isinstance(fill, Tensor):
        fill = fill.item()
    return Full, (), {"value": fill}


def _arange(start=0, end=None, step=1, **kwargs):
    start, end, step = (v.item() if isinstance(v, Tensor) else v for v in (start, end, step))
    if end is None:
        start, end = 0, start
    return Arange, (), {"start": start, "end": end, "step": step}


def _float_mask(mask, dtype):
    return FloatMask, (mask,), {}


def _causal_mask(L, S, like):
    return CausalMask, (), {"L": L, "S": S}


_COMPARISONS = ("eq", "ne", "lt", "le", "gt", "ge")
_ALIASES = {"not_equal": "ne", "less": "lt", "less_equal": "le", "greater": "gt",
            "greater_equal": "ge"}
_DUNDERS = {"__eq__": "eq", "__ne__": "ne", "__lt__": "lt", "__le__": "le", "__gt__": "gt",
            "__ge__": "ge", "__and__": "and", "__rand__": "and", "__or__": "or",
            "__ror__": "or", "__xor__": "xor", "__rxor__": "xor", "__invert__": "not"}


def _function_makers():
    """{original function: make} for the public functions recorded as pseudo-ops."""
    from ..nn._functional import attention
    from ..ops import comparison, creation, reduction
    makers = {}
    for name in _COMPARISONS + tuple(_ALIASES):
        makers[getattr(comparison, name)] = _binary(Comparison, _ALIASES.get(name, name))
    for name in ("and", "or", "xor"):
        makers[getattr(comparison, f"logical_{name}")] = _binary(Logical, name, promote=False)
        makers[getattr(comparison, f"bitwise_{name}")] = _binary(Bitwise, name)
    makers[comparison.logical_not] = _unary(Logical, "not")
    makers[comparison.bitwise_not] = _unary(Bitwise, "not")
    for name in ("isnan", "isinf", "isfinite", "isposinf", "isneginf"):
        makers[getattr(comparison, name)] = _unary(Predicate, name)
    makers[reduction.argmax] = _arg_reduce("argmax")
    makers[reduction.argmin] = _arg_reduce("argmin")
    makers[creation.zeros] = makers[creation.zeros_like] = _full(0)
    makers[creation.ones] = makers[creation.ones_like] = _full(1)
    makers[creation.full] = makers[creation.full_like] = _full_value
    makers[creation.arange] = _arange
    makers[attention._float_mask] = _float_mask
    makers[attention._causal_mask] = _causal_mask
    return makers


def _dunder_maker(name: str):
    op = _DUNDERS[name]
    if op in _COMPARISONS:
        return _binary(Comparison, op)
    if op == "not":
        return lambda self: (Bitwise, (self,), {"op": "not", "dtype": self._data.dtype})
    return lambda self, other: (Bitwise, (self, other), {"op": op,
                                                         "dtype": _promoted(self, other)})


def _view_write(tracer, base, view):
    """(base's reference, the positions of view's elements in base) before an in-place
    write through `view`; None when base is not a traced value."""
    if not tracer.is_traced(base) or view._view_fn is None:
        return None
    import numpy as np

    from ._trace import Const
    grid = np.arange(base._data.size, dtype=np.int64).reshape(base._data.shape)
    positions = np.array(view._view_fn(grid), copy=True)  # 0-d stays 0-d
    if positions.shape != view._data.shape:
        return None
    return tracer.resolve(base), Const(positions)


_LOGIC = ("eq", "ne", "not_equal", "lt", "less", "le", "less_equal", "gt", "greater", "ge",
          "greater_equal", "logical_and", "logical_or", "logical_xor", "logical_not",
          "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not")
_INPLACE = {**{f"{name}_": name for name in _LOGIC},
            "__iand__": "bitwise_and", "__ior__": "bitwise_or", "__ixor__": "bitwise_xor"}


def _inplace_of(method: str, apply_inplace):
    """An in-place variant through the (hooked) out-of-place method."""
    def inplace(self, *args, **kwargs):
        return apply_inplace(self, getattr(Tensor, method)(self, *args, **kwargs))
    return inplace


def _masked_fill_(self, mask, value):
    """masked_fill_ through its recorded form (its no-grad path writes memory directly)."""
    from ..ops.indexing import masked_fill
    from ..ops.inplace import apply_inplace
    return apply_inplace(self, masked_fill(self, mask, value))


_TO_PYTHON = ("item", "tolist", "numpy", "__bool__", "__int__", "__float__", "__index__")


def _python_value_warner(tracer, fn):
    """Warns (once per export) when a traced value becomes a Python number or array: the
    graph will hold the value seen while tracing, as torch's tracer warns too. The
    conversion runs on a detached alias: inputs require grad only for the tracer's sake."""
    def wrapped(self, *args, **kwargs):
        if not tracer.depth and not tracer.warned_python and tracer.is_traced(self):
            tracer.warned_python = True
            warnings.warn(f"ONNX export: converting a tensor computed from the inputs to a "
                          f"Python value ({fn.__name__}); the exported graph uses the value "
                          "seen while tracing, as a constant.", OnnxExporterWarning,
                          stacklevel=2)
        return fn(self.detach() if self._rg else self, *args, **kwargs)
    return wrapped


def _owners():
    """The namespaces a hooked function may be looked up in."""
    mods = [m for name, m in list(sys.modules.items())
            if m is not None and (name == "taimatsu" or name.startswith(("taimatsu.",
                                                                          "taimatsu_")))]
    return mods + [Tensor]


@contextlib.contextmanager
def tracing(tracer):
    """Installs the observer and the wrappers for the duration of a trace."""
    from ..ops import inplace
    original_inplace = inplace.apply_inplace

    def apply_inplace(self, result):
        if tracer.depth:
            return original_inplace(self, result)
        base = self._base
        write = _view_write(tracer, base, self) if base is not None else None
        out = original_inplace(self, result)
        tracer.alias(self, result)
        if write is not None:  # the base now holds the view's new contents at positions
            base_ref, positions = write
            tracer.record_resolved(ViewWrite, (base_ref, tracer.resolve(result), positions),
                                   {}, base)
        return out

    wrappers = {id(fn): (fn, _recorder(tracer, fn, make))
                for fn, make in _function_makers().items()}
    wrappers[id(original_inplace)] = (original_inplace, apply_inplace)
    patched = []
    try:
        for owner in _owners():
            for name, value in list(vars(owner).items()):
                hit = wrappers.get(id(value))
                if hit is not None and hit[0] is value:
                    patched.append((owner, name, value))
                    setattr(owner, name, hit[1])
        for name in _DUNDERS:
            fn = vars(Tensor)[name]
            patched.append((Tensor, name, fn))
            setattr(Tensor, name, _dunder_recorder(tracer, fn, _dunder_maker(name)))
        patched.append((Tensor, "masked_fill_", vars(Tensor)["masked_fill_"]))
        Tensor.masked_fill_ = _masked_fill_
        for name, method in _INPLACE.items():  # their variants captured the unhooked ops
            patched.append((Tensor, name, vars(Tensor)[name]))
            setattr(Tensor, name, _inplace_of(method, apply_inplace))
        for name in _TO_PYTHON:
            fn = getattr(Tensor, name, None)
            if fn is not None:
                patched.append((Tensor, name, vars(Tensor).get(name, fn)))
                setattr(Tensor, name, _python_value_warner(tracer, fn))
        node.apply_observers.append(tracer.observe)
        yield tracer
    finally:
        if tracer.observe in node.apply_observers:
            node.apply_observers.remove(tracer.observe)
        for owner, name, value in reversed(patched):
            setattr(owner, name, value)


def _dunder_recorder(tracer, fn, make):
    """Like _recorder, for operators that may answer NotImplemented."""
    def wrapped(*args):
        if tracer.depth:
            return fn(*args)
        tracer.depth += 1
        try:
            out = fn(*args)
        finally:
            tracer.depth -= 1
        if isinstance(out, Tensor):
            op, rec_args, params = make(*args)
            tracer.record(op, rec_args, params, out)
        return out
    return wrapped
