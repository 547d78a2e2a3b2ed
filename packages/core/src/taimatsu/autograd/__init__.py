"""Tape-based automatic differentiation: backward, grad, grad modes, Function, gradcheck."""

from __future__ import annotations

from .grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from .node import Node, _anomaly

__all__ = ["backward", "grad", "no_grad", "enable_grad", "set_grad_enabled", "inference_mode",
           "is_grad_enabled", "is_inference_mode_enabled", "Function", "gradcheck",
           "gradgradcheck", "detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled",
           "functional", "Node"]


def _as_list(x):
    if x is None:
        return None
    from .._tensor import Tensor
    if isinstance(x, Tensor):
        return [x]
    return list(x)


def _make_grads(outputs, grad_outputs, create_graph):
    """Checks or creates the seed gradient for each output."""
    from .._tensor import Tensor
    grads = []
    for i, out in enumerate(outputs):
        g = grad_outputs[i] if grad_outputs is not None else None
        if g is None:
            if out._rg and out._data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            if out._rg and out.dtype._kind < 2:
                raise RuntimeError("grad can be implicitly created only for real scalar "
                                   "outputs but got " + repr(out.dtype))
            from .. import backend
            arr = backend.of(out._data).ones(out._data.shape, dtype=out._data.dtype)
            grads.append(Tensor._make(arr) if create_graph else arr)
            continue
        if not isinstance(g, Tensor):
            raise TypeError("gradients can be either Tensors or None, but got "
                            f"{type(g).__name__}")
        if g.shape != out.shape:
            raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of "
                               f"{g.shape} and output[{i}] has a shape of {out.shape}.")
        grads.append(g if create_graph else g._data)
    return grads


def _root_edges(outputs):
    from .node import _edge
    edges = []
    for i, out in enumerate(outputs):
        if not out._rg:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not "
                               "have a grad_fn")
        edges.append(_edge(out))
    return edges


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False,
             grad_variables=None, inputs=None) -> None:
    """Accumulates gradients of `tensors` into the .grad of graph leaves (or of `inputs`)."""
    from .engine import run_backward
    from .node import _edge
    outputs = _as_list(tensors)
    grad_list = _as_list(grad_tensors if grad_tensors is not None else grad_variables)
    if retain_graph is None:
        retain_graph = create_graph
    roots = _root_edges(outputs)
    grads = _make_grads(outputs, grad_list, create_graph)
    capture = None
    if inputs is not None:
        inputs = _as_list(inputs)
        if not inputs:
            raise RuntimeError("'inputs' argument to backward() cannot be empty.")
        capture = [_edge(t) for t in inputs]
    captured = run_backward(roots, grads, retain_graph=retain_graph,
                            create_graph=create_graph, capture=capture)
    if inputs is not None:  # non-leaf inputs receive their gradient in .grad too
        from .engine import _accumulate
        for t, g in zip(inputs, captured):
            if t._grad_fn is not None and g is not None:
                _accumulate(t, g, create_graph, set())


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=None, is_grads_batched=False,
         materialize_grads=False):
    """Gradients of `outputs` w.r.t. `inputs`, returned rather than accumulated."""
    from .._tensor import Tensor
    from .engine import run_backward
    from .node import _edge
    outputs = _as_list(outputs)
    inputs = _as_list(inputs)
    if allow_unused is None:
        allow_unused = materialize_grads
    if not allow_unused and materialize_grads:
        raise ValueError("Expected allow_unused to be True or not passed when "
                         "materialize_grads=True, but got: allow_unused=False.")
    for t in inputs:
        if not t._rg:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    grad_list = _as_list(grad_outputs)
    if retain_graph is None:
        retain_graph = create_graph
    roots = _root_edges(outputs)
    grads = _make_grads(outputs, grad_list, create_graph)
    capture = [_edge(t) for t in inputs]
    captured = run_backward(roots, grads, retain_graph=retain_graph,
                            create_graph=create_graph, capture=capture, accumulate=False)
    result = []
    for i, (t, g) in enumerate(zip(inputs, captured)):
        if g is None:
            if materialize_grads:
                from ..ops.creation import zeros_like
                result.append(zeros_like(t))
                continue
            if not allow_unused:
                raise RuntimeError(f"The differentiated Tensor at index {i} appears to not "
                                   "have been used in the graph. Set allow_unused=True if "
                                   "this is the desired behavior.")
            result.append(None)
        elif isinstance(g, Tensor):
            result.append(g)
        else:
            result.append(Tensor._make(g))
    return tuple(result)


class detect_anomaly:
    """Records forward tracebacks and raises when a backward produces NaN."""

    def __init__(self, check_nan: bool = True):
        self.check_nan = check_nan

    def __enter__(self):
        self._prev = list(_anomaly)
        _anomaly[0] = True
        _anomaly[1] = self.check_nan

    def __exit__(self, *exc):
        _anomaly[0], _anomaly[1] = self._prev

    def __call__(self, func):
        import functools

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with detect_anomaly(self.check_nan):
                return func(*args, **kwargs)
        return wrapper


class set_detect_anomaly:
    """Turns anomaly detection on or off (also as a context manager)."""

    def __init__(self, mode: bool, check_nan: bool = True):
        self._prev = list(_anomaly)
        _anomaly[0] = bool(mode)
        _anomaly[1] = bool(mode) and check_nan

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _anomaly[0], _anomaly[1] = self._prev


def is_anomaly_enabled() -> bool:
    return _anomaly[0]


def is_anomaly_check_nan_enabled() -> bool:
    return _anomaly[1]


from . import functional  # noqa: E402
from .function import Function, once_differentiable  # noqa: E402
from .gradcheck import gradcheck, gradgradcheck  # noqa: E402
from . import profiler  # noqa: E402
