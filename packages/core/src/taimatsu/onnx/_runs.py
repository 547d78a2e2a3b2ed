"""The traced runs: one forward pass on the example inputs, and, for dynamic axes, more on
inputs with those axes lengthened (see _symbolic.py)."""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from ..autograd import grad_mode
from . import _hooks
from ._inputs import leaves, map_tensors
from ._symbolic import SymInt, symbolize
from ._trace import Tracer, Value
from .errors import OnnxExporterError, SymbolicValueError


def _traced_input(t: Tensor, array):
    """A fresh input tensor for one trace; floats require grad (through a clone, so that
    in-place ops on it are allowed) so that every op on them takes its recorded path."""
    from ..ops.conversion import Clone
    leaf = Tensor._make(np.array(array, copy=True))
    if leaf._data.dtype.kind not in "fc":
        return leaf
    leaf.requires_grad_(True)
    with grad_mode.enable_grad():
        return Clone.apply(leaf)


def _perturbed(array, axes, step: int) -> np.ndarray:
    """The array with each of `axes` `step` longer (its entries repeated cyclically)."""
    for axis in axes:
        n = array.shape[axis]
        if n == 0:
            raise SymbolicValueError("a dynamic axis of size 0 cannot be traced")
        array = np.take(array, np.arange(n + step) % n, axis=axis)
    return array


def trace_once(model, args, kwargs, names, params, grow=None, step=1):
    """One traced forward pass: (records, outputs as refs, input values, output leaves).

    grow: {input index: [axes]} to lengthen by `step` (the perturbed traces)."""
    grow = grow or {}
    tracer = Tracer(params)
    traced = []

    def make(t, i):
        data = t._data
        if not isinstance(data, np.ndarray):
            raise OnnxExporterError("ONNX export traces on the CPU: move the model and its "
                                    "inputs to the CPU first (model.cpu(), x.cpu()).")
        fresh = _traced_input(t, _perturbed(data, grow[i], step) if i in grow else data)
        traced.append((fresh, names[i]))
        return fresh

    counter = [0]
    targs = map_tensors(args, make, counter)
    tkwargs = map_tensors(kwargs, make, counter)
    values = [tracer.add_input(t, name) for t, name in traced]
    with _hooks.tracing(tracer), grad_mode.enable_grad():
        out = model(*targs, **tkwargs)
    outs = leaves(out)
    return tracer.records, tuple(tracer.resolve(t) for t in outs), values, outs


def trace_all(model, args, kwargs, names, params, in_axes):
    """The base trace, and one more per dynamic axis name; sizes symbolized."""
    records, outputs, values, outs = trace_once(model, args, kwargs, names, params)
    by_dim, named = {}, {}
    for i, name in enumerate(names):
        ndim = len(values[i].shape)
        for axis, dim in in_axes.get(name, {}).items():
            if not -ndim <= axis < ndim:
                raise ValueError(f"dynamic_axes: input '{name}' has no axis {axis}")
            by_dim.setdefault(dim, {}).setdefault(i, []).append(axis % ndim)
            named.setdefault(i, {})[axis % ndim] = dim
    if not by_dim:
        return records, outputs, values, outs, {}
    others, deltas = [], []
    for check, step in ((False, 1), (True, 3)):
        for dim, grow in by_dim.items():
            sizes = {values[i].shape[a] for i, axes in grow.items() for a in axes}
            if len(sizes) != 1:
                raise ValueError(f"dynamic axis '{dim}' names axes of different sizes "
                                 f"{sorted(sizes)}")
            size = sizes.pop()
            try:
                recs, outs, _, _ = trace_once(model, args, kwargs, names, params, grow, step)
            except OnnxExporterError:
                raise
            except Exception as exc:
                raise SymbolicValueError(
                    f"The model fails when dynamic axis '{dim}' has size {size + step} "
                    f"instead of {size} ({type(exc).__name__}: {exc}); export it with that "
                    "axis static.") from exc
            others.append((recs, outs))
            deltas.append((dim, size, size + step, check))
    records, outputs = symbolize((records, outputs), others, deltas)
    sources = {}
    for dim, grow in by_dim.items():
        i, axes = next(iter(grow.items()))
        sources[dim] = (names[i], axes[0])
    for i, v in enumerate(values):
        dims = named.get(i, {})
        shape = [SymInt(1, (dims[a],), 0, s) if a in dims else s for a, s in enumerate(v.shape)]
        values[i] = Value(v.name, tuple(shape), v.dtype)
    return records, outputs, values, outs, sources
