"""From op records to an ONNX model: translate the live records (folding constant ones),
name and type the graph's inputs and outputs, prune, assemble, save."""

from __future__ import annotations

import os

import numpy as np

from ._graph import Graph, elem_type, onnx_modules
from ._registry import emitter_for
from ._symbolic import Repeated, SymInt
from ._trace import Const, Param, Reshaped, Value
from .errors import UnsupportedOperatorError


def _refs_in(obj):
    """The references (values, parameters, constants) inside op arguments."""
    if isinstance(obj, (Value, Param, Const, Reshaped)):
        yield obj
    elif type(obj) in (tuple, list):
        for o in obj:
            yield from _refs_in(o)
    elif type(obj) is dict:
        for o in obj.values():
            yield from _refs_in(o)
    elif isinstance(obj, slice):
        yield from _refs_in((obj.start, obj.stop, obj.step))


def _has_sym(obj) -> bool:
    """Whether op arguments hold a size that follows a dynamic axis."""
    if isinstance(obj, (SymInt, Repeated)):
        return True
    if isinstance(obj, Value):
        return _has_sym(obj.shape)
    if isinstance(obj, Reshaped):
        return _has_sym(obj.shape) or _has_sym(obj.source)
    if type(obj) in (tuple, list):
        return any(_has_sym(o) for o in obj)
    if type(obj) is dict:
        return any(_has_sym(o) for o in obj.values())
    if isinstance(obj, slice):
        return _has_sym((obj.start, obj.stop, obj.step))
    return False


def _value_names(refs) -> set:
    """The traced values the references read."""
    names = set()
    for r in refs:
        if isinstance(r, Reshaped):
            r = r.source
        if isinstance(r, Value):
            names.add(r.name)
    return names


def live_records(records, outputs) -> list:
    """The records some output depends on (dead ones are not translated at all)."""
    needed = _value_names(outputs)
    live = []
    for rec in reversed(records):
        if any(v is not None and v.name in needed for v in rec.outputs):
            live.append(rec)
            needed |= _value_names(_refs_in((rec.args, rec.params)))
    return live[::-1]


def _foldable(g: Graph, rec) -> bool:
    """Whether an op only reads constants (so its traced result can stand for it): no
    dynamic sizes, and its outputs not changed in place since."""
    if not g.fold or rec.data is None or _has_sym((rec.args, rec.params, rec.outputs)):
        return False
    if any(t is not None and t._vc[0] != v for t, v in rec.data):
        return False
    for ref in _refs_in((rec.args, rec.params)):
        src = ref.source if isinstance(ref, Reshaped) else ref
        if not g.is_constant(src):
            return False
    return True


def translate(g: Graph, records, custom) -> None:
    """Adds every record to the graph: folded to a constant, or through its emitter."""
    for rec in records:
        if _foldable(g, rec):
            for value, (tensor, _) in zip(rec.outputs, rec.data):
                if value is not None:
                    g.folded(value, tensor._data)
            continue
        emit = custom.get(rec.op) or emitter_for(rec.op)
        if emit is None:
            raise UnsupportedOperatorError(_op_name(rec), g.opset)
        names = emit(g, rec)
        if not isinstance(names, (list, tuple)):
            names = [names]
        for value, name in zip(rec.outputs, names):
            if value is not None and name is not None:
                g.bind(value, name)


def _op_name(rec) -> str:
    """The name an unsupported op is reported by (its class, or its autograd node's)."""
    op = rec.op
    name = getattr(op, "__name__", str(op))
    node_name = getattr(op, "_backward_name", "")
    if node_name and name.startswith("_"):
        name = node_name.replace("Backward0", "")
    return name


def _value_info(helper, name: str, dtype, shape, dims: dict, default_dim: str):
    """A graph input/output's type: dynamic dims named as dynamic_axes says, or after the
    axis they follow."""
    dims = {a % max(len(shape), 1): n for a, n in dims.items()}
    out = []
    for axis, s in enumerate(shape):
        if axis in dims:
            out.append(dims[axis])
        elif isinstance(s, SymInt):
            out.append(s.symbol or f"{default_dim}_dim_{axis}")
        else:
            out.append(int(s))
    return helper.make_tensor_value_info(name, elem_type(dtype), out)


def _finish_outputs(g: Graph, refs, names) -> list:
    """Graph names for the outputs: the producing node's output renamed where possible."""
    produced = {o: node for node in g.nodes for o in node.output}
    rename, used = {}, set()
    final = []
    for ref, name in zip(refs, names):
        src = g.value(ref)
        src = rename.get(src, src)
        if src in produced and src not in used:
            rename[src] = name
        else:
            g.nodes.append(_identity(src, name))
        used.add(src)
        final.append(name)
    for node in g.nodes:
        for i, n in enumerate(node.input):
            if n in rename:
                node.input[i] = rename[n]
        for i, n in enumerate(node.output):
            if n in rename:
                node.output[i] = rename[n]
    return final


def _identity(src: str, name: str):
    """An Identity node naming a graph output that no node produces under that name."""
    _, helper, _ = onnx_modules()
    return helper.make_node("Identity", [src], [name], name=f"/Identity_{name}")


def _prune(g: Graph, outputs, keep_inputs) -> None:
    """Drops nodes and initializers no output needs."""
    needed = set(outputs)
    kept = []
    for node in reversed(g.nodes):
        if any(o in needed for o in node.output):
            kept.append(node)
            needed.update(i for i in node.input if i)
    g.nodes = kept[::-1]
    g.initializers = {k: v for k, v in g.initializers.items() if k in needed or k in keep_inputs}


def build_model(g: Graph, inputs, input_dims, outputs, output_names, output_dims,
                 keep_initializers_as_inputs, custom_opsets):
    onnx, helper, numpy_helper = onnx_modules()
    graph_inputs = [_value_info(helper, v.name, v.dtype, v.shape, input_dims.get(v.name, {}),
                                v.name) for v in inputs]
    graph_inputs += [helper.make_tensor_value_info(name, elem_type(p.dtype), list(p.shape))
                     for name, p in g.param_inputs]
    final = _finish_outputs(g, outputs, output_names)
    _prune(g, final, set())
    if keep_initializers_as_inputs:
        graph_inputs += [helper.make_tensor_value_info(k, elem_type(v.dtype), list(v.shape))
                         for k, v in g.initializers.items()]
    graph_outputs = [_value_info(helper, name, ref.dtype, ref.shape, output_dims.get(name, {}),
                                 name) for ref, name in zip(outputs, final)]
    initializers = [numpy_helper.from_array(np.asarray(v), name=k)
                    for k, v in g.initializers.items()]
    graph = helper.make_graph(g.nodes, "main_graph", graph_inputs, graph_outputs, initializers)
    opsets = [helper.make_opsetid("", g.opset)]
    opsets += [helper.make_opsetid(d, v) for d, v in (custom_opsets or {}).items()]
    from .. import __version__
    model = helper.make_model(graph, opset_imports=opsets, producer_name="taimatsu",
                              producer_version=__version__)
    model.ir_version = helper.find_min_ir_version_for(opsets[:1])
    return model


def save_model(model, f, external_data: bool) -> None:
    onnx, _, _ = onnx_modules()
    if hasattr(f, "write"):
        f.write(model.SerializeToString())
        return
    large = model.ByteSize() > (2 << 30) - (1 << 20)
    onnx.save_model(model, os.fspath(f), save_as_external_data=bool(external_data and large))
