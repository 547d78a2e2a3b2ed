"""The example inputs of an export: flattening, naming, parameters, dynamic axes."""

from __future__ import annotations

import inspect
import warnings

from .._tensor import Tensor


def map_tensors(obj, fn, counter=None):
    """obj with every Tensor leaf (in tuples, lists, dicts) replaced by fn(tensor, index)."""
    counter = [0] if counter is None else counter
    if isinstance(obj, Tensor):
        i = counter[0]
        counter[0] += 1
        return fn(obj, i)
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return type(obj)(*(map_tensors(o, fn, counter) for o in obj))
    if isinstance(obj, (tuple, list)):
        return type(obj)(map_tensors(o, fn, counter) for o in obj)
    if isinstance(obj, dict):
        return {k: map_tensors(v, fn, counter) for k, v in obj.items()}
    return obj


def leaves(obj) -> list:
    found = []
    map_tensors(obj, lambda t, i: found.append(t) or t)
    return found


def split_args(args, kwargs):
    """torch's convention: a tensor is one argument; a trailing dict holds named ones."""
    if isinstance(args, Tensor):
        args = (args,)
    elif isinstance(args, list):
        args = tuple(args)
    elif not isinstance(args, tuple):
        args = (args,)
    kwargs = dict(kwargs or {})
    if args and isinstance(args[-1], dict):
        kwargs = {**args[-1], **kwargs}
        args = args[:-1]
    return args, kwargs


def default_input_names(model, args, kwargs) -> list:
    """Names from the forward signature (x, mask, ...), numbered inside containers."""
    try:
        fn = model.forward if hasattr(model, "forward") else model
        params = [p for p in inspect.signature(fn).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL)]
    except (TypeError, ValueError):
        params = []
    names = []
    for i, a in enumerate(args):
        if i < len(params) and params[i].kind is not params[i].VAR_POSITIONAL:
            base = params[i].name
        elif params and params[-1].kind is params[-1].VAR_POSITIONAL:
            base = f"{params[-1].name}_{i - len(params) + 1}"
        else:
            base = f"input_{i}"
        n = len(leaves(a))
        names += [base] if isinstance(a, Tensor) else [f"{base}_{j}" for j in range(n)]
    for key, v in kwargs.items():
        n = len(leaves(v))
        names += [key] if isinstance(v, Tensor) else [f"{key}_{j}" for j in range(n)]
    return names


def model_params(model) -> dict:
    """id(tensor) and id(array) -> (object, state_dict key) for parameters and buffers."""
    found = {}
    if not hasattr(model, "state_dict"):
        return found
    named = list(model.state_dict(keep_vars=True).items())
    named += list(model.named_parameters()) + list(model.named_buffers())
    for key, t in named:
        if isinstance(t, Tensor):
            found.setdefault(id(t), (t, key))
            found.setdefault(id(t._data), (t._data, key))
    return found


def parse_dynamic_axes(dynamic_axes, input_names, output_names, warn=True) -> tuple:
    """{input name: {axis: dim name}}, {output name: {axis: dim name}}."""
    inputs, outputs = {}, {}
    for key, axes in (dynamic_axes or {}).items():
        if isinstance(axes, dict):
            spec = {int(a): str(n) for a, n in axes.items()}
        elif isinstance(axes, (list, tuple)):
            spec = {int(a): f"{key}_dynamic_axes_{i + 1}" for i, a in enumerate(axes)}
        else:
            raise ValueError(f"dynamic_axes['{key}'] must be a dict of axis names or a list "
                             f"of axes, not {type(axes).__name__}")
        if key in input_names:
            inputs[key] = spec
        elif key in output_names:
            outputs[key] = spec
        elif warn:
            warnings.warn(f"Provided key {key} for dynamic axes is not a valid input/output "
                          "name", stacklevel=3)
    return inputs, outputs


def dynamic_shapes_to_axes(dynamic_shapes, model, args, kwargs, input_names) -> dict:
    """torch.export-style dynamic_shapes (per argument: {axis: name} or per-axis list) as
    dynamic_axes keyed by input name."""
    if isinstance(dynamic_shapes, dict):
        try:
            fn = model.forward if hasattr(model, "forward") else model
            order = [p for p in inspect.signature(fn).parameters if p != "self"]
        except (TypeError, ValueError):
            order = []
        specs = [dynamic_shapes.get(name) for name in order[:len(args)]]
        specs += [dynamic_shapes.get(k) for k in kwargs]
    else:
        specs = list(dynamic_shapes)
    axes = {}
    for name, spec in zip(input_names, specs):
        if spec is None:
            continue
        items = spec.items() if isinstance(spec, dict) else enumerate(spec)
        dims = {}
        for axis, dim in items:
            if dim is None:
                continue
            label = dim if isinstance(dim, str) else getattr(dim, "__name__", None)
            dims[int(axis)] = label or f"{name}_dim_{axis}"
        if dims:
            axes[name] = dims
    return axes
