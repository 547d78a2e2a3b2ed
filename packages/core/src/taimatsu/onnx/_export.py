"""taimatsu.onnx.export: trace, (re)trace for dynamic axes, translate, check, save."""

from __future__ import annotations

from ._build import build_model, live_records, save_model, translate
from ._graph import Graph, onnx_modules
from ._inputs import (
    default_input_names,
    dynamic_shapes_to_axes,
    model_params,
    parse_dynamic_axes,
    split_args,
)
from ._modes import (
    OperatorExportTypes,
    TrainingMode,
    exporting,
    preserved_state,
    select_model_mode_for_export,
)
from ._runs import trace_all
from .errors import OnnxExporterError

DEFAULT_OPSET = 18
MIN_OPSET = 11


def _check_opset(opset_version) -> int:
    onnx, _, _ = onnx_modules()
    top = onnx.defs.onnx_opset_version()
    opset = DEFAULT_OPSET if opset_version is None else int(opset_version)
    if not MIN_OPSET <= opset <= top:
        raise ValueError(f"Unsupported ONNX opset version: {opset}. Supported opset versions "
                         f"are {MIN_OPSET} to {top}.")
    return opset


def export(model, args=(), f=None, *, kwargs=None, verbose=None, input_names=None,
           output_names=None, opset_version=None, dynamo=True, external_data=True,
           dynamic_shapes=None, custom_translation_table=None, report=False, optimize=True,
           verify=False, profile=False, dump_exported_program=False, artifacts_dir=".",
           export_params=True, keep_initializers_as_inputs=False, dynamic_axes=None,
           training=TrainingMode.EVAL, operator_export_type=OperatorExportTypes.ONNX,
           do_constant_folding=True, custom_opsets=None, export_modules_as_functions=False,
           autograd_inlining=True):
    """Exports a model to ONNX by tracing one forward pass on `args`.

    Args:
        model: the Module (or function) to export.
        args: the example inputs: a tensor, or a tuple of arguments whose last element may
            be a dict of keyword arguments.
        f: a path or a binary file-like object to write the model to (None: not written).
        kwargs: keyword arguments of the forward call.
        input_names / output_names: names of the graph inputs (the tensors among args, in
            order) and outputs (the tensors the forward returns, flattened).
        opset_version: the ONNX opset (11 up to the installed onnx's; default 18).
        dynamic_axes: {name: {axis: dim name}} or {name: [axes]} for inputs and outputs
            whose sizes may change; sizes the forward computes from them follow them.
        dynamic_shapes: the same for inputs, torch.export style ({arg name: {axis: name}}).
        export_params: store parameters as initializers (else they become graph inputs).
        keep_initializers_as_inputs: also list the initializers as graph inputs.
        training: TrainingMode.EVAL (default), PRESERVE or TRAINING.
        do_constant_folding: precompute ops whose inputs are all constant.
        custom_translation_table: {op class: fn(graph, record) -> output name(s)} for ops
            without a built-in translation.
        custom_opsets: {domain: version} opsets that custom translations use.
        verify: run the exported model in onnxruntime and compare with the traced outputs.
        dynamo: only changes the result: an ONNXProgram (True) or None (False).
        external_data: write weights to a side file when the model exceeds 2GB.
        verbose: print the exported graph.
        report, optimize, profile, dump_exported_program, artifacts_dir, autograd_inlining:
            accepted for compatibility with torch.onnx.export; they have no effect here.

    Returns:
        An ONNXProgram when dynamo=True, else None.
    """
    onnx, helper, _ = onnx_modules()
    if operator_export_type != OperatorExportTypes.ONNX:
        raise ValueError("only operator_export_type=OperatorExportTypes.ONNX is supported")
    if export_modules_as_functions:
        raise ValueError("export_modules_as_functions is not supported: modules are inlined")
    if not isinstance(training, TrainingMode):
        raise TypeError(f"'training' should be a taimatsu.onnx.TrainingMode enum, but got "
                        f"'{type(training)}'.")
    opset = _check_opset(opset_version)
    args, kwargs = split_args(args, kwargs)
    defaults = default_input_names(model, args, kwargs)
    if input_names is not None and len(input_names) > len(defaults):
        raise ValueError(f"number of input names provided ({len(input_names)}) exceeded "
                         f"number of inputs ({len(defaults)})")
    names = list(input_names or []) + defaults[len(input_names or []):]
    if len(set(names)) != len(names):
        raise ValueError(f"input names must be unique, got {names}")
    params = model_params(model)
    axes_spec = dict(dynamic_axes or {})
    if dynamic_shapes is not None:
        axes_spec.update(dynamic_shapes_to_axes(dynamic_shapes, model, args, kwargs, names))

    with select_model_mode_for_export(model, training), exporting(), \
            preserved_state(params):
        records, out_refs, inputs, outs, sources = trace_all(
            model, args, kwargs, names, params,
            parse_dynamic_axes(axes_spec, names, [], warn=False)[0])
    if not out_refs:
        raise OnnxExporterError("the model returned no tensors: there is nothing to export")
    if output_names is not None and len(output_names) > len(out_refs):
        raise ValueError(f"number of output names provided ({len(output_names)}) exceeded "
                         f"number of outputs ({len(out_refs)})")
    out_names = list(output_names or [])
    out_names += [f"output_{i}" for i in range(len(out_names), len(out_refs))]
    if len(set(out_names)) != len(out_names) or set(out_names) & set(names):
        raise ValueError("output names must be unique and differ from the input names")
    in_dims, out_dims = parse_dynamic_axes(axes_spec, names, out_names)

    g = Graph(opset, export_params=export_params, fold=do_constant_folding)
    g.sym_sources = sources
    g.reserved = set(names) | set(out_names)
    for v in inputs:
        g.bind(v, v.name)
    translate(g, live_records(records, out_refs), dict(custom_translation_table or {}))
    model_proto = build_model(g, inputs, in_dims, list(out_refs), out_names, out_dims,
                               keep_initializers_as_inputs, custom_opsets)
    onnx.checker.check_model(model_proto)
    if verbose:
        print(onnx.printer.to_text(model_proto.graph))
    from ._program import ONNXProgram
    program = ONNXProgram(model_proto)
    if verify:
        program.verify(args, kwargs, [t._data for t in outs])
    if f is not None:
        save_model(model_proto, f, external_data)
    return program if dynamo else None
