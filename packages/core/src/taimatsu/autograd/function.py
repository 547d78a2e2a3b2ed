"""Public autograd.Function: custom differentiable ops written on Tensors, as in PyTorch.

A subclass defines `forward(ctx, *args)` (or `forward(*args)` plus
`setup_context(ctx, inputs, output)`) and `backward(ctx, *grad_outputs)`, both on
Tensors. `apply` runs forward under no_grad and, when grad mode is on and a Tensor input
requires grad, gives the Tensor outputs a `<Name>Backward` node. The engine drives that
node like any other: it calls `node.fn.backward(node, *grads)` with backend arrays (or,
for create_graph, with Tensors while grad mode is on); the node wraps them as Tensors,
calls the user's backward, checks what comes back and unwraps it again.
"""

from __future__ import annotations

import functools
import inspect
import traceback
import weakref

from .. import backend
from . import grad_mode
from .node import _FREED_MESSAGE, Node, _anomaly, _edge, _raise_modified

__all__ = ["Function", "FunctionCtx", "BackwardCFunction", "once_differentiable"]

_enabled = grad_mode._enabled


_Tensor = None


def _tensor_cls():
    """The Tensor class (imported lazily: _tensor imports this package)."""
    global _Tensor
    if _Tensor is None:
        from .._tensor import Tensor
        _Tensor = Tensor
    return _Tensor


class FunctionCtx:
    """The `ctx` a custom Function's forward/setup_context and backward receive.

    Any attribute may be set on it; the methods below are the ones autograd reads.
    """

    def __init__(self):
        self.to_save = ()
        self.dirty_tensors = ()
        self.non_differentiable = ()
        self.materialize_grads = True
        self.needs_input_grad = ()
        self._node = None  # weakref to the graph node, set when a graph is recorded

    def save_for_backward(self, *tensors) -> None:
        """Keeps Tensors (or None) for backward; in-place changes to them are detected."""
        Tensor = _tensor_cls()
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError("save_for_backward can only save variables, but argument "
                                f"{i} is of type {type(t).__name__}")
        self.to_save = tensors

    @property
    def saved_tensors(self) -> tuple:
        node = self._node() if self._node is not None else None
        if node is None:
            return tuple(self.to_save)
        return node.saved_tensors

    def mark_dirty(self, *tensors) -> None:
        """Declares inputs that forward modified in place (they must also be returned)."""
        self.dirty_tensors = tensors

    def mark_non_differentiable(self, *tensors) -> None:
        """Declares outputs that get no gradient (backward still receives zeros for them)."""
        self.non_differentiable = tensors

    def set_materialize_grads(self, value: bool) -> None:
        """With False, backward receives None instead of zeros for unused outputs."""
        self.materialize_grads = bool(value)


class BackwardCFunction(Node):
    """The graph node of a custom Function; one subclass `<Name>Backward` per Function.

    Attributes that are not a node's own are looked up on the ctx, so `grad_fn.<attr>`
    reads what forward stored, as in PyTorch where the node is the ctx.
    """

    __slots__ = ()
    _forward_cls = None
    _backward_name = "BackwardCFunction"

    def __getattr__(self, name):
        ctx = self.__dict__.get("_ctx") if not name.startswith("__") else None
        if ctx is None:
            raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")
        return getattr(ctx, name)

    @property
    def saved_tensors(self) -> tuple:
        if self._released:
            raise RuntimeError(_FREED_MESSAGE)
        out = []
        for entry in self._saved:
            if entry is None:
                out.append(None)
                continue
            kind, obj, counter, version, nr = entry
            t = obj if kind == "t" else _saved_output(self, obj, counter, nr)
            if counter[0] != version:
                _raise_modified(self, (t, counter, version))
            out.append(t)
        return tuple(out)

    saved_arrays = saved_tensors

    @staticmethod
    def backward(node, *grads):
        """Engine entry point: arrays (or Tensors with create_graph) in and out."""
        Tensor = _tensor_cls()
        ctx = node._ctx
        wrapped = []
        for g, meta in zip(grads, node._grad_meta):
            if g is None and meta is not None and ctx.materialize_grads:
                shape, dtype, xp = meta
                g = xp.zeros(shape, dtype=dtype)
            wrapped.append(g if g is None or isinstance(g, Tensor) else Tensor._make(g))
        results = _user_backward(node._forward_cls)(ctx, *wrapped)
        return _check_grads(node, results, create_graph=_enabled[0])


def _saved_output(node, array, counter, nr):
    """A saved output, rebuilt on demand so the node does not keep its own output alive."""
    t = _tensor_cls()._make(array, node, nr, True)
    t._vc = counter
    return t


def _user_backward(cls):
    backward = getattr(cls, "backward", None)
    vjp = getattr(cls, "vjp", None)
    if backward is not None and vjp is not None and backward is not vjp:
        raise RuntimeError("Implementing both 'backward' and 'vjp' for a custom Function is "
                           "not allowed. You should only implement one of them.")
    fn = backward or vjp
    if fn is None:
        # PyTorch's exception for a Function without a backward (an abstract method).
        raise NotImplementedError("You must implement either the backward or vjp method for "
                                  "your custom autograd.Function to use it with backward "
                                  "mode AD.")
    return fn


def _check_grads(node, results, create_graph):
    """One gradient per Tensor input, checked and shaped as PyTorch's engine does."""
    Tensor = _tensor_cls()
    name = node.name()
    if not isinstance(results, tuple):
        results = tuple(results) if isinstance(results, list) else (results,)
    for r in results:
        if r is not None and not isinstance(r, Tensor):
            raise RuntimeError(f"expected Variable or None (got {type(r).__name__})")
    n_in = len(node.needs_input_grad)
    if len(results) > n_in and all(r is None for r in results[n_in:]):
        results = results[:n_in]
    if len(results) != n_in:
        raise RuntimeError(f"function {name} returned an incorrect number of gradients "
                           f"(expected {n_in}, got {len(results)})")
    out = []
    protected = None
    for edge_index, pos in enumerate(node._tensor_pos):
        r = results[pos]
        meta = node._in_meta[edge_index]
        if r is None or meta is None:
            out.append(None)
            continue
        r = _fit_grad(name, edge_index, r, meta, create_graph)
        if not create_graph:
            if protected is None:
                protected = _protected_roots(node)
            if id(_root_of(r)) in protected:
                r = r.copy()  # never hand a saved tensor's memory to a leaf's .grad
        out.append(r)
    for pos, r in enumerate(results):
        if r is not None and pos not in node._tensor_pos:
            raise RuntimeError(f"function {name} returned a gradient different than None at "
                               f"position {pos + 1}, but the corresponding forward input "
                               "was not a Variable")
    return tuple(out)


def _fit_grad(name, index, r, meta, create_graph):
    """Sums a broadcast gradient down to the input's shape and casts it to its dtype."""
    shape, np_dtype, device = meta
    if r.device != device:
        raise RuntimeError(f"Function {name} returned an invalid gradient at index {index} - "
                           f"expected device {device} but got {r.device}")
    g = r if create_graph else r._data
    if tuple(r.shape) != shape:
        if not _expandable(shape, tuple(r.shape)):
            raise RuntimeError(f"Function {name} returned an invalid gradient at index "
                               f"{index} - got {list(r.shape)} but expected shape compatible "
                               f"with {list(shape)}")
        from ..ops._util import sum_to
        g = sum_to(g, shape)
    if r._data.dtype != np_dtype:
        g = g.to(_dtype_of(np_dtype)) if create_graph else g.astype(np_dtype)
    return g


def _expandable(shape, target) -> bool:
    if len(shape) > len(target):
        return False
    for s, t in zip(reversed(shape), reversed(target)):
        if s != t and s != 1:
            return False
    return True


def _dtype_of(np_dtype):
    from .._dtype import _BY_NP
    return _BY_NP[np_dtype]


def _root_of(array):
    while array.base is not None and not isinstance(array.base, bytes):
        array = array.base
    return array


def _protected_roots(node) -> set:
    """Memory a gradient must not share: saved tensors and Tensors stored on the ctx."""
    Tensor = _tensor_cls()
    arrays = []
    for entry in node._saved or ():
        if entry is not None:
            arrays.append(entry[1]._data if entry[0] == "t" else entry[1])
    for value in vars(node._ctx).values():
        if isinstance(value, Tensor):
            arrays.append(value._data)
    return {id(_root_of(a)) for a in arrays}


class _FunctionMeta(type):
    """Gives every Function subclass its own node class, named `<Name>Backward`."""

    def __init__(cls, name, bases, ns):
        super().__init__(name, bases, ns)
        cls._backward_cls = type(f"{name}Backward", (BackwardCFunction,),
                                 {"__slots__": (), "_forward_cls": cls,
                                  "_backward_name": f"{name}Backward",
                                  "__module__": __name__})
        cls._forward_signature = None


class Function(metaclass=_FunctionMeta):
    """Base class for custom differentiable operations (see the module docstring).

    Example:
        >>> class Exp(Function):
        ...     @staticmethod
        ...     def forward(ctx, x):
        ...         y = x.exp()
        ...         ctx.save_for_backward(y)
        ...         return y
        ...     @staticmethod
        ...     def backward(ctx, grad):
        ...         y, = ctx.saved_tensors
        ...         return grad * y
        >>> Exp.apply(x)
    """

    def __call__(self, *args, **kwargs):
        raise RuntimeError("Legacy autograd function with non-static forward method is "
                           "deprecated. Please use new-style autograd function with static "
                           "forward method. (Example: "
                           "https://pytorch.org/docs/stable/autograd.html#torch.autograd.Function)")

    @classmethod
    def apply(cls, *args, **kwargs):
        """Runs forward on `args` and records the graph node when gradients are needed."""
        Tensor = _tensor_cls()
        forward = getattr(cls, "forward", None)
        if forward is None:
            # PyTorch's exception for a Function without a forward (an abstract method).
            raise NotImplementedError("You must implement the forward function for custom "
                                      "autograd.Function.")
        setup = getattr(cls, "setup_context", None)
        if setup is not None:
            args = _bind_args(cls, args, kwargs)
            kwargs = {}
        ctx = FunctionCtx()
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a._rg for a in args)
        record = _enabled[0] and any(ctx.needs_input_grad)
        prev = _enabled[0]
        _enabled[0] = False
        try:
            if setup is not None:
                output = forward(*args, **kwargs)
                setup(ctx, args, output)
            else:
                output = forward(ctx, *args, **kwargs)
        finally:
            _enabled[0] = prev
        multi = isinstance(output, tuple)
        outs = list(output) if multi else [output]
        _check_dirty(ctx, outs)
        if record:
            _record(cls, ctx, args, outs)
        else:
            _bump_versions(ctx.dirty_tensors)
            _wrap_untracked(ctx, args, outs)
        return tuple(outs) if multi else outs[0]


def _bind_args(cls, args, kwargs):
    """With setup_context, keyword and default arguments become positional inputs."""
    sig = cls._forward_signature
    if sig is None:
        sig = cls._forward_signature = inspect.signature(cls.forward)
    bound = sig.bind(*args, **kwargs)
    bound.apply_defaults()
    return bound.args


def _check_dirty(ctx, outs):
    """Inputs marked dirty must be returned."""
    out_ids = {id(o) for o in outs}
    for t in ctx.dirty_tensors:
        if id(t) not in out_ids:
            raise RuntimeError("Some elements marked as dirty during the forward method were "
                               "not returned as output. The inputs that are modified inplace "
                               "must all be outputs of the Function.")


def _bump_versions(dirty, skip=()):
    """A dirty tensor's version moves as for any in-place op (even if forward wrote to its
    memory some other way), so earlier saves of it are caught."""
    for t in dirty:
        if id(t) not in skip:
            t._vc[0] += 1


def _wrap_untracked(ctx, args, outs):
    """No graph: an input returned unmodified comes back as a detached alias."""
    Tensor = _tensor_cls()
    input_ids = {id(a) for a in args if isinstance(a, Tensor)}
    dirty_ids = {id(t) for t in ctx.dirty_tensors}
    for i, o in enumerate(outs):
        if isinstance(o, Tensor) and id(o) in input_ids:
            if id(o) not in dirty_ids or o._rg:
                outs[i] = o.detach()


def _record(cls, ctx, args, outs):
    """Creates the `<Name>Backward` node and makes it the grad_fn of the outputs."""
    Tensor = _tensor_cls()
    bcls = cls._backward_cls
    node = bcls(bcls)
    node._ctx = ctx
    ctx._node = weakref.ref(node)
    node.needs_input_grad = ctx.needs_input_grad
    tensor_pos = tuple(i for i, a in enumerate(args) if isinstance(a, Tensor))
    node._tensor_pos = tensor_pos
    node.next_functions = tuple(_edge(args[i]) for i in tensor_pos)
    node._in_meta = tuple((tuple(args[i]._data.shape), args[i]._data.dtype, args[i].device)
                          if args[i]._rg else None for i in tensor_pos)
    node._num_outputs = len(outs)
    node._grad_meta = [None] * len(outs)
    if _anomaly[0]:
        node._trace = traceback.format_stack()[:-2]

    input_ids = {id(args[i]) for i in tensor_pos}
    dirty_ids = {id(t) for t in ctx.dirty_tensors}
    non_diff_ids = {id(t) for t in ctx.non_differentiable}
    n_tensor_outs = sum(isinstance(o, Tensor) for o in outs)
    rebased = set()
    for i, o in enumerate(outs):
        if not isinstance(o, Tensor):
            continue
        arr = o._data
        node._grad_meta[i] = (arr.shape, arr.dtype, backend.of(arr))
        is_input, dirty = id(o) in input_ids, id(o) in dirty_ids
        if id(o) in non_diff_ids or (arr.dtype.kind not in "fc" and not _is_bf16(arr)):
            if is_input and (not dirty or o._rg):
                outs[i] = o.detach()
            elif o._rg:
                o.detach_()
        elif dirty:
            _rebase_dirty(o, node, i, n_tensor_outs)
            if o._base is not None:
                rebased.add(id(o))  # apply_inplace moved its version already
        elif is_input:  # returned as-is: an alias that carries this node
            alias = Tensor._make(arr, node, i, True)
            alias._vc = o._vc
            outs[i] = alias
        else:
            o._grad_fn = node
            o._output_nr = i
            o._rg = True
    _bump_versions(ctx.dirty_tensors, rebased)
    _save(node, ctx, outs)


def _is_bf16(arr) -> bool:
    from .._dtype import bfloat16
    return arr.dtype == bfloat16.np


def _rebase_dirty(t, node, nr, n_tensor_outs):
    """An input modified in place by forward takes the node as its history."""
    if t._rg and t.grad_fn is None and t._base is None:
        raise RuntimeError("a leaf Variable that requires grad has been used in an in-place "
                           "operation.")
    if t._base is None:
        t._grad_fn = node
        t._output_nr = nr
        t._rg = True
        return
    if n_tensor_outs > 1:
        raise RuntimeError(
            "If your Function modifies inplace an input that is a view of another Tensor, your "
            "Function cannot return more than one Tensor. This is not supported by the current "
            "autograd engine. You should either make sure the input is not a view (using "
            ".clone() for example) or make your Function only return one Tensor (potentially "
            "splitting it into two Functions: one doing the inplace that returns that view "
            "and another with the other outputs).")
    # A view is rewired exactly as by an in-place op on it (its base gets a CopySlices
    # routing the view's region through this node): hand apply_inplace a result that
    # carries the node and already holds the view's (modified) memory.
    from ..ops.inplace import apply_inplace
    apply_inplace(t, _tensor_cls()._make(t._data, node, nr, True))


def _save(node, ctx, outs):
    """Records what was saved with its version; outputs are kept as arrays (no cycle)."""
    if not ctx.to_save:
        return
    out_nr = {id(o): i for i, o in enumerate(outs) if o is not None}
    entries = []
    for t in ctx.to_save:
        if t is None:
            entries.append(None)
        elif id(t) in out_nr and t._grad_fn is node:
            entries.append(("o", t._data, t._vc, t._vc[0], out_nr[id(t)]))
        else:
            entries.append(("t", t, t._vc, t._vc[0], 0))
    node._saved = tuple(entries)
    ctx.to_save = ()


class _DelayedError:
    """Node kind whose backward refuses: the gradient of a once_differentiable backward."""

    _backward_name = "Error"

    @staticmethod
    def backward(node, *grads):
        raise RuntimeError("trying to differentiate twice a function that was marked with "
                           "@once_differentiable")


def once_differentiable(fn):
    """Decorates a backward that is not itself differentiable.

    It runs under no_grad; when a graph of the gradient was asked for (create_graph) its
    results carry a node that raises if they are differentiated again.
    """
    @functools.wraps(fn)
    def wrapper(ctx, *args):
        with grad_mode.no_grad():
            outputs = fn(ctx, *args)
        Tensor = _tensor_cls()
        if not _enabled[0] or not any(isinstance(a, Tensor) and a._rg for a in args):
            return outputs
        multi = isinstance(outputs, tuple)
        outs = outputs if multi else (outputs,)
        err = Node(_DelayedError)
        err._num_outputs = len(outs)
        wrapped = tuple(Tensor._make(o._data, err, i, True) if isinstance(o, Tensor) else o
                        for i, o in enumerate(outs))
        return wrapped if multi else wrapped[0]

    wrapper.once_differentiable = True
    return wrapper
