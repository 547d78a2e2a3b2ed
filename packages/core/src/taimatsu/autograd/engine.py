"""The backward engine: dependency counting and a ready queue, no recursion.

Gradients travel as backend arrays; with `create_graph=True` they travel as Tensors and
each node's backward runs with grad mode on, so the gradient computation is recorded.
"""

from __future__ import annotations

import warnings

import numpy as np

from . import grad_mode
from .node import Node, _anomaly, as_array

Tensor = None  # set by taimatsu._tensor once the class exists (it imports this module)


class _AccumulateGrad:
    """The node kind that ends at a leaf tensor and adds into its `.grad`."""

    _backward_name = "AccumulateGrad"


def make_accumulator(tensor) -> Node:
    node = Node(_AccumulateGrad)
    node.variable = tensor
    return node


def _root_of(array):
    while array.base is not None and not isinstance(array.base, bytes):
        array = array.base
    return array


def _dependencies(roots):
    """Counts, for every node reachable from `roots`, how many edges point at it."""
    deps = {}
    stack = list(dict.fromkeys(n for n in roots if n is not None))  # one visit per node
    seen = set(stack)
    while stack:
        node = stack.pop()
        for child, _ in node.next_functions:
            if child is None:
                continue
            deps[child] = deps.get(child, 0) + 1
            if child not in seen:
                seen.add(child)
                stack.append(child)
    return deps, seen


def _needed(nodes, targets):
    """Nodes from which some target node can be reached (only those run in grad())."""
    needed = {}
    for start in nodes:
        if start in needed:
            continue
        stack = [(start, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                needed[node] = node in targets or any(
                    needed.get(c, False) for c, _ in node.next_functions if c is not None)
                continue
            if node in needed:
                continue
            stack.append((node, True))
            for c, _ in node.next_functions:
                if c is not None and c not in needed:
                    stack.append((c, False))
    return needed


def run_backward(roots, grads, *, retain_graph=False, create_graph=False, capture=None,
                 accumulate=True):
    """Propagates `grads` from the `roots` edges [(node, output_nr)].

    capture: optional list of edges whose incoming gradient is returned (autograd.grad);
    accumulate: add into leaves' .grad (backward) or not (grad).
    """
    root_nodes = [n for n, _ in roots]
    deps, _ = _dependencies(root_nodes)
    buffers: dict = {}
    for (node, nr), g in zip(roots, grads):
        if node is None:
            continue
        _add_to_buffer(buffers, node, nr, g)

    targets = {}
    if capture is not None:
        for i, (node, nr) in enumerate(capture):
            targets.setdefault(node, []).append((nr, i))
    needed = _needed(set(root_nodes) - {None}, targets) if capture is not None else None
    captured = [None] * (len(capture) if capture is not None else 0)

    given_roots = set()
    for g in grads:
        if g is not None:
            given_roots.add(id(_root_of(g._data if isinstance(g, Tensor) else g)))

    ready = []
    seen_roots = set()
    for n in root_nodes:
        if n is not None and deps.get(n, 0) == 0 and n not in seen_roots:
            seen_roots.add(n)
            ready.append(n)

    prev = grad_mode._enabled[0]
    grad_mode._enabled[0] = bool(create_graph)
    try:
        while ready:
            node = ready.pop()
            node_grads = buffers.pop(node, None)
            if node_grads is None:
                node_grads = [None] * node._num_outputs
            node_grads = _run_pre_hooks(node, node_grads, create_graph)
            if node in targets:
                for nr, i in targets[node]:
                    captured[i] = node_grads[nr]
            if needed is not None and not needed.get(node, False):
                continue
            if node.fn is _AccumulateGrad:
                if accumulate and (capture is None or node in targets):
                    _accumulate(node.variable, node_grads[0], create_graph, given_roots)
                    if node._post_hooks:  # as torch: after the gradient has landed
                        _run_post_hooks(node, (), (node_grads[0],))
                continue
            if needed is not None and not any(needed.get(c, False) for c, _ in
                                              node.next_functions if c is not None):
                continue
            results = (_observed_call_backward(node, node_grads, create_graph)
                       if backward_observers else
                       _call_backward(node, node_grads, create_graph))
            if not retain_graph:
                node.release()
            for (child, nr), g in zip(node.next_functions, results):
                if child is None:
                    continue
                if g is not None:
                    _add_to_buffer(buffers, child, nr, g)
                left = deps[child] - 1
                deps[child] = left
                if left == 0:
                    ready.append(child)
    finally:
        grad_mode._enabled[0] = prev
    return captured


def _add_to_buffer(buffers, node, nr, g):
    buf = buffers.get(node)
    if buf is None:
        buf = buffers[node] = [None] * node._num_outputs
    old = buf[nr]
    buf[nr] = g if old is None else old + g


def _materialize(node, grads, create_graph):
    """Zero-fills missing output gradients of multi-output nodes."""
    meta = node._out_meta
    out = list(grads)
    for i, g in enumerate(out):
        if g is None and meta is not None and meta[i] is not None:
            shape, dtype, xp = meta[i]
            z = xp.zeros(shape, dtype=dtype)
            out[i] = _const_tensor(z) if create_graph else z
    return out


# Callables observer(node, call) -> results that wrap each node's backward (the profiler
# times them). Empty in normal runs: one list truth test per node.
backward_observers: list = []


def _observed_call_backward(node, grads, create_graph):
    def call(index=0):
        if index == len(backward_observers):
            return _call_backward(node, grads, create_graph)
        return backward_observers[index](node, lambda: call(index + 1))
    return call()


def _call_backward(node, grads, create_graph):
    if node._num_outputs > 1:
        grads = _materialize(node, grads, create_graph)
    fn = node.fn
    if create_graph and not getattr(fn, "once_differentiable", False):
        from . import _graph_xp
        saved_backup = node._saved
        old_xp = node.xp
        node.xp = _graph_xp
        if node._saved and node._saved_src is not None:
            _ = node.saved_arrays  # runs the version check before swapping in Tensors
            node._saved = _saved_as_tensors(node)
            src, node._saved_src = node._saved_src, None
        else:
            src = node._saved_src
        grads = [g if g is None or isinstance(g, Tensor) else _const_tensor(g) for g in grads]
        try:
            results = fn.backward(node, *grads)
        finally:
            node.xp = old_xp
            node._saved = saved_backup
            node._saved_src = src
    else:
        grads = [g._data if isinstance(g, Tensor) else g for g in grads]
        results = fn.backward(node, *grads)
        if create_graph:
            results = _as_tuple(results)
            results = [None if r is None else _const_tensor(r) for r in results]
    results = tuple(as_array(r) if isinstance(r, np.generic) else r
                    for r in _as_tuple(results))  # NumPy returns scalars for 0-d math
    if len(results) < len(node.next_functions):
        results = results + (None,) * (len(node.next_functions) - len(results))
    if _anomaly[1]:
        _check_nan(node, results)
    if node._post_hooks:
        results = _run_post_hooks(node, results, grads)
    return results


def _as_tuple(results):
    if isinstance(results, tuple):
        return results
    if isinstance(results, list):
        return tuple(results)
    return (results,)


def _const_tensor(array):
    return Tensor._make(array)


def _saved_as_tensors(node):
    """Saved arrays as graph-connected Tensors: the inputs themselves, or rebuilt outputs."""
    out = []
    for arr, entry in zip(node._saved, node._saved_src):
        if entry is None:
            out.append(None if arr is None else Tensor._make(arr))
        elif entry[3] == "in":
            out.append(entry[0])
        else:
            out.append(Tensor._make(arr, node, entry[3], True))
    return tuple(out)


def _check_nan(node, results):
    for i, r in enumerate(results):
        if r is None:
            continue
        arr = r._data if isinstance(r, Tensor) else r
        if arr.dtype.kind in "fc" and bool(np.isnan(arr).any()):
            if node._trace:
                warnings.warn("Error detected in " + node.name() + ". Traceback of forward "
                              "call that caused the error:\n" + "".join(node._trace),
                              stacklevel=2)
            raise RuntimeError(f"Function '{node.name()}' returned nan values in its "
                               f"{i}th output.")


def _run_pre_hooks(node, grads, create_graph):
    if node._pre_hooks is None and node._retain is None:
        if node.fn is _AccumulateGrad and node.variable._hooks:
            return _run_tensor_hooks(node.variable._hooks.values(), grads, 0, create_graph)
        return grads
    grads = list(grads)
    if node._pre_hooks:
        for nr, hook in list(node._pre_hooks.values()):
            if nr is None:  # a node pre-hook sees every output gradient
                wrapped = tuple(_wrap_grad(g) for g in grads)
                new = hook(wrapped)
                if new is not None:
                    grads = [_unwrap_grad(g, create_graph) for g in new]
            elif grads[nr] is not None:
                new = hook(_wrap_grad(grads[nr]))
                if new is not None:
                    grads[nr] = _unwrap_grad(new, create_graph)
    if node.fn is _AccumulateGrad and node.variable._hooks:
        grads = _run_tensor_hooks(node.variable._hooks.values(), grads, 0, create_graph)
    if node._retain:
        for nr, ref in node._retain.items():
            t = ref()
            if t is not None and grads[nr] is not None:
                g = _wrap_grad(grads[nr])
                if not create_graph:
                    g = g.detach().clone()
                t._grad = g if t._grad is None else t._grad + g
    return grads


def _run_tensor_hooks(hooks, grads, nr, create_graph):
    grads = list(grads)
    for hook in list(hooks):
        if grads[nr] is None:
            break
        new = hook(_wrap_grad(grads[nr]))
        if new is not None:
            grads[nr] = _unwrap_grad(new, create_graph)
    return grads


def _run_post_hooks(node, results, grads):
    wrapped_in = tuple(None if r is None else _wrap_grad(r) for r in results)
    wrapped_out = tuple(None if g is None else _wrap_grad(g) for g in grads)
    for hook in list(node._post_hooks.values()):
        new = hook(wrapped_in, wrapped_out)
        if new is not None:
            wrapped_in = tuple(new)
    return tuple(None if r is None else _unwrap_grad(r, False) for r in wrapped_in)


def _wrap_grad(g):
    return g if isinstance(g, Tensor) else Tensor._make(g)


def _unwrap_grad(g, create_graph):
    if create_graph:
        return g
    return g._data if isinstance(g, Tensor) else g


def _accumulate(leaf, g, create_graph, given_roots):
    """Adds `g` into `leaf.grad`, copying when `g` may alias another tensor's memory."""
    if g is None:
        return
    if create_graph:
        g = g if isinstance(g, Tensor) else Tensor._make(g)
        # As torch, a new grad is a (differentiable) copy: `g` may be the seed gradient or
        # the very tensor another leaf receives (Add hands one gradient to both inputs).
        leaf._grad = g.clone() if leaf._grad is None else leaf._grad + g
        return
    if isinstance(g, Tensor):
        g = g._data
    if g.dtype != leaf._data.dtype:
        g = g.astype(leaf._data.dtype)
    if leaf._grad is None:
        root = id(_root_of(g))
        if root in given_roots or not getattr(g.flags, "writeable", True):  # cupy: none
            g = g.copy()
        else:
            given_roots.add(root)
        leaf._grad = Tensor._make(g)
    elif leaf._grad._rg:  # a grad with history is replaced, never modified in place
        leaf._grad = leaf._grad + Tensor._make(g)
    else:
        leaf._grad._data += g
