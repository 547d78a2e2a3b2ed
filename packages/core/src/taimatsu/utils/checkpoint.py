"""Activation checkpointing: trade compute for memory, as torch.utils.checkpoint.

`checkpoint(function, *args, use_reentrant=...)` runs `function` without keeping the
activations inside it; the backward pass runs it again (with the RNG state the forward
started from, so dropout draws the same masks) and backpropagates through that
recomputed graph. Gradients reach the explicit inputs and every tensor `function` reads
from outside (module parameters, closures), exactly as without checkpointing.

Two variants, chosen with `use_reentrant` as in PyTorch 2.13 (leaving it out warns and
picks the reentrant one):

* reentrant (`use_reentrant=True`): `CheckpointFunction`, a custom autograd Function
  over the explicit tensor inputs. Its backward recomputes on detached inputs and runs a
  nested `autograd.backward`, which accumulates the parameters' gradients straight into
  their `.grad`. Hence, as in torch, it refuses `autograd.grad` and `backward(inputs=...)`,
  gives no gradient when no explicit input requires grad, and takes no keyword arguments.

* non-reentrant (`use_reentrant=False`, recommended). PyTorch builds it on saved-tensor
  hooks, which taimatsu's autograd does not have. Here the forward runs under no_grad
  while an op observer (`autograd.node.apply_observers`) notes every tensor requiring
  grad that an op reads from outside the function; the function's new output tensors
  then get one `CheckpointBackward` node whose inputs are those tensors plus the
  explicit ones (found in args, kwargs and nested containers). Its backward recomputes
  with each of them replaced by a detached alias (a differentiable copy for
  create_graph) and takes `autograd.grad` of the recomputed outputs w.r.t. the aliases,
  so the inner backward never walks into the graph outside the checkpoint. That gives
  torch's non-reentrant features: `autograd.grad` and `backward(inputs=...)`, inputs
  that do not require grad, keyword arguments, outputs in any nesting of
  tuples/lists/dicts with non-tensor values, nesting, repeated backward with
  retain_graph, and higher-order gradients.

Differences from torch:
  - non-reentrant outputs carry `CheckpointBackward` rather than the last op's node, and
    each floating-point output requires grad once any input does (torch marks only the
    outputs that depend on one; its reentrant variant, like ours, marks them all);
  - recomputation always runs the whole function (its outputs are what backward
    differentiates), so `early_stop` / `set_checkpoint_early_stop` change nothing;
  - `determinism_check="default"` compares the shapes, dtypes and devices of the
    recomputed outputs (torch compares every saved tensor); `debug=True` adds a log of
    the ops both passes ran, with the user frames that called them, to that error;
  - a tensor that a custom `autograd.Function` inside the function receives from outside
    directly (not through an op) gets that path's gradient only if it is a leaf, and
    only in first-order backward;
  - CUDA: cupy's curand state cannot be saved, so the forward draws from a Philox stream
    forked off cupy's global one, replayed in recomputation: masks match between the
    two passes, but differ from those of the same call without checkpoint;
  - the observers are process-wide: ops another thread runs during a checkpointed
    forward are observed too (their extra inputs only get None gradients);
  - no autocast state is replayed (taimatsu has no autocast yet), and selective
    checkpointing (create_selective_checkpoint_contexts, CheckpointPolicy) and
    GraphExecGroup are not provided; any other `context_fn` works.
"""

from __future__ import annotations

import contextlib
import os
import sys
import traceback
import warnings

from .. import backend
from .._tensor import Tensor
from ..autograd import grad_mode
from ..autograd import node as _node
from ..autograd.function import Function
from ..ops.random import default_generator

__all__ = [
    "checkpoint",
    "checkpoint_sequential",
    "CheckpointError",
    "CheckpointFunction",
    "check_backward_validity",
    "detach_variable",
    "noop_context_fn",
    "set_checkpoint_debug_enabled",
    "set_checkpoint_early_stop",
]

_DEFAULT_DETERMINISM_MODE = "default"
_checkpoint_debug_enabled: bool | None = None
_enable_checkpoint_early_stop: bool | None = None


class CheckpointError(RuntimeError):
    """Raised when the recomputation does not reproduce the original forward."""


@contextlib.contextmanager
def set_checkpoint_debug_enabled(enabled: bool | None):
    """Overrides checkpoint's `debug` flag while active (None defers to the call's flag)."""
    global _checkpoint_debug_enabled
    prev = _checkpoint_debug_enabled
    _checkpoint_debug_enabled = enabled
    try:
        yield
    finally:
        _checkpoint_debug_enabled = prev


@contextlib.contextmanager
def set_checkpoint_early_stop(enable: bool):
    """Accepted for compatibility: taimatsu's recomputation always runs the whole function,
    since the recomputed outputs are what its backward differentiates (as with
    early_stop=False in torch)."""
    global _enable_checkpoint_early_stop
    prev = _enable_checkpoint_early_stop
    _enable_checkpoint_early_stop = enable
    try:
        yield
    finally:
        _enable_checkpoint_early_stop = prev


def noop_context_fn():
    """The default `context_fn`: no context around the forward nor the recomputation."""
    return contextlib.nullcontext(), contextlib.nullcontext()


def detach_variable(inputs):
    """Detaches each Tensor of a tuple, keeping its requires_grad flag."""
    if not isinstance(inputs, tuple):
        raise RuntimeError("Only tuple of tensors is supported. Got Unsupported input type: "
                           f"{type(inputs).__name__}")
    out = []
    for inp in inputs:
        if isinstance(inp, Tensor):
            x = inp.detach()
            x.requires_grad = inp.requires_grad
            inp = x
        out.append(inp)
    return tuple(out)


def check_backward_validity(inputs) -> None:
    """Warns when no input requires grad (the reentrant variant then gives no gradients)."""
    if not any(inp.requires_grad for inp in inputs if isinstance(inp, Tensor)):
        warnings.warn("None of the inputs have requires_grad=True. Gradients will be None",
                      stacklevel=2)


# -- nested containers ---------------------------------------------------------------------

def _tensors_in(obj, out: list) -> list:
    """Appends the Tensors found in `obj` (nested tuples, lists, dict values) to `out`."""
    if isinstance(obj, Tensor):
        out.append(obj)
    elif isinstance(obj, (tuple, list)):
        for item in obj:
            _tensors_in(item, out)
    elif isinstance(obj, dict):
        for item in obj.values():
            _tensors_in(item, out)
    return out


def _map_tensors(obj, fn):
    """`obj` rebuilt with `fn` applied to each Tensor in it."""
    if isinstance(obj, Tensor):
        return fn(obj)
    if isinstance(obj, tuple):
        items = [_map_tensors(item, fn) for item in obj]
        return type(obj)(*items) if hasattr(obj, "_fields") else type(obj)(items)
    if isinstance(obj, list):
        return type(obj)(_map_tensors(item, fn) for item in obj)
    if isinstance(obj, dict):
        return type(obj)((k, _map_tensors(v, fn)) for k, v in obj.items())
    return obj


def _unique(tensors) -> list:
    return list({id(t): t for t in tensors}.values())


# -- RNG state ------------------------------------------------------------------------------

class _RngStash:
    """The RNG state a checkpointed forward started from, to replay in recomputation.

    CPU: the default generator's state, restored for the recomputation and put back after.
    CUDA draws come from cupy.random, whose curand state cannot be read back; each device
    the inputs live on gets a forked Philox stream instead, seeded once from its global
    stream, and both passes draw from a fresh copy of that fork.
    """

    def __init__(self, tensors):
        self.cpu = default_generator.get_state()
        self.cuda = {}
        indices = {t.device.index for t in tensors if t.device.type == "cuda"}
        if indices:
            cp = backend.cupy()
            for index in sorted(indices):
                with cp.cuda.Device(index):
                    self.cuda[index] = int(cp.random.get_random_state().randint(0, 2 ** 62))

    @contextlib.contextmanager
    def forward(self):
        """CPU draws go on from the live stream; CUDA ones come from the forks."""
        with self._cuda_forks():
            yield

    @contextlib.contextmanager
    def replay(self):
        """Every stream as the forward found it; the live states come back afterwards."""
        live = default_generator.get_state()
        default_generator.set_state(self.cpu)
        try:
            with self._cuda_forks():
                yield
        finally:
            default_generator.set_state(live)

    @contextlib.contextmanager
    def _cuda_forks(self):
        if not self.cuda:
            yield
            return
        cp = backend.cupy()
        philox = cp.cuda.curand.CURAND_RNG_PSEUDO_PHILOX4_32_10
        live = {}
        try:
            for index, seed in self.cuda.items():
                with cp.cuda.Device(index):
                    live[index] = cp.random.get_random_state()
                    cp.random.set_random_state(cp.random.RandomState(seed, method=philox))
            yield
        finally:
            for index, state in live.items():
                with cp.cuda.Device(index):
                    cp.random.set_random_state(state)


def _rng_context(stash, which):
    return getattr(stash, which)() if stash is not None else contextlib.nullcontext()


# -- op observers -------------------------------------------------------------------------

@contextlib.contextmanager
def _observing(observer, first=False):
    """Wraps every op in `observer` while active (see autograd.node.apply_observers)."""
    observers = _node.apply_observers
    if first:
        observers.insert(0, observer)
    else:
        observers.append(observer)
    try:
        yield
    finally:
        observers.remove(observer)


class _Capture:
    """Notes the tensors requiring grad that ops read during a no_grad forward.

    Nothing made under no_grad requires grad, so these come from outside the function:
    parameters, closures, tensors inside containers.
    """

    def __init__(self, seen: dict):
        self.seen = seen

    def __call__(self, cls, args, params, call):
        for a in args:
            if isinstance(a, Tensor) and a._rg and id(a) not in self.seen:
                self.seen[id(a)] = a
        return call()


class _Swap:
    """Re-issues each op that reads a swapped tensor with its replacement.

    Installed first in the observer chain, so re-applying the op runs every other
    observer once, on the replaced arguments.
    """

    def __init__(self, replacements: dict):
        self.replacements = replacements

    def __call__(self, cls, args, params, call):
        rep = self.replacements
        if not any(isinstance(a, Tensor) and id(a) in rep for a in args):
            return call()
        new_args = tuple(rep.get(id(a), a) if isinstance(a, Tensor) else a for a in args)
        return cls.apply(*new_args, **params)


_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class _OpLog:
    """debug=True: the ops a pass ran, each with the user frames that called it."""

    def __init__(self):
        self.entries = []

    def __call__(self, cls, args, params, call):
        out = call()
        outs = out if isinstance(out, tuple) else (out,)
        shapes = lambda ts: ", ".join(f"{t.dtype}{list(t.shape)}"  # noqa: E731
                                      for t in ts if isinstance(t, Tensor))
        stack = [f for f in traceback.extract_stack()[:-1]
                 if not os.path.abspath(f.filename).startswith(_PACKAGE_DIR)]
        self.entries.append((f"{cls.__name__}({shapes(args)}) -> ({shapes(outs)})", stack))
        return out

    def format(self, label):
        lines = []
        total = len(self.entries)
        for i, (entry, stack) in enumerate(self.entries):
            lines.append(f"{entry}   ({i + 1} of {total} in {label})")
            lines.extend(f"{f.filename}:{f.lineno}:{f.name}" for f in stack[-3:])
            lines.append("")
        return "\n".join(lines)


def _debug_error(error, fwd_log, recompute_log):
    return CheckpointError(
        "An error happened while checking the recomputation; dumping the logs of both "
        "passes because you passed `debug=True` to `taimatsu.utils.checkpoint.checkpoint()`."
        "\n\nOperations executed during the original forward (with the last user frames "
        f"that called them):\n\n{fwd_log.format('original')}\n"
        f"Operations executed during recomputation:\n\n{recompute_log.format('recompute')}\n"
        "ERROR: Detected non-determinism while running activation checkpointing. Compare "
        "the operators of the two passes above to see where they differ.\n\n" + str(error))


# -- reentrant variant ---------------------------------------------------------------------

_REENTRANT_GRAD_MESSAGE = (
    "When use_reentrant=True, taimatsu.utils.checkpoint is incompatible with .grad() or "
    "passing an `inputs` parameter to .backward(). To resolve this error, you can either "
    "set use_reentrant=False, or call .backward() without passing the `inputs` argument.")


def _is_checkpoint_valid() -> bool:
    """False inside autograd.grad or backward(inputs=...), as torch's graph-task check.

    The engine is plain Python, so the innermost entry point on the call stack is the
    graph task this backward runs in; a nested autograd.backward (the reentrant
    variant's own) counts as a fresh, valid task.
    """
    from .. import autograd
    grad_code, backward_code = autograd.grad.__code__, autograd.backward.__code__
    own_code = _Frame.backward.__code__  # a non-reentrant checkpoint's inner grad
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code is grad_code and frame.f_back.f_code is not own_code:
            return False
        if frame.f_code is backward_code:
            return frame.f_locals.get("inputs") is None
        frame = frame.f_back
    return True


class CheckpointFunction(Function):
    """The reentrant checkpoint: forward(ctx, run_function, preserve_rng_state, *args)."""

    @staticmethod
    def forward(ctx, run_function, preserve_rng_state, *args):
        check_backward_validity(args)
        ctx.run_function = run_function
        ctx.preserve_rng_state = preserve_rng_state
        tensors = [a for a in args if isinstance(a, Tensor)]
        ctx.rng = _RngStash(tensors) if preserve_rng_state else None
        # Non-tensor inputs stay on ctx; tensors are saved (and version checked).
        ctx.inputs = [None if isinstance(a, Tensor) else a for a in args]
        ctx.tensor_indices = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        ctx.save_for_backward(*tensors)
        with _rng_context(ctx.rng, "forward"):
            return run_function(*args)

    @staticmethod
    def backward(ctx, *grads):
        if not _is_checkpoint_valid():
            raise RuntimeError(_REENTRANT_GRAD_MESSAGE)
        inputs = list(ctx.inputs)
        for i, t in zip(ctx.tensor_indices, ctx.saved_tensors):
            inputs[i] = t
        with _rng_context(ctx.rng, "replay"):
            detached = detach_variable(tuple(inputs))
            with grad_mode.enable_grad():
                outputs = ctx.run_function(*detached)
        if isinstance(outputs, Tensor):
            outputs = (outputs,)
        with_grad = [(o, g) for o, g in zip(outputs, grads)
                     if isinstance(o, Tensor) and o.requires_grad]
        if not with_grad:
            raise RuntimeError("none of output has requires_grad=True, this checkpoint() is "
                               "not necessary")
        from .. import autograd
        autograd.backward([o for o, _ in with_grad], [g for _, g in with_grad])
        return (None, None) + tuple(t.grad if isinstance(t, Tensor) else None
                                    for t in detached)


# -- non-reentrant variant -----------------------------------------------------------------

def _default_meta_extractor(x):
    return {"shape": x.shape, "dtype": x.dtype, "device": x.device}


_allowed_determinism_checks_to_fns = {
    _DEFAULT_DETERMINISM_MODE: _default_meta_extractor,
    "none": lambda _: None,
}

_DEBUG_TIP = ("\nTip: To see a more detailed error message, either pass `debug=True` to "
              "`taimatsu.utils.checkpoint.checkpoint(...)` or wrap the code block with "
              "`with taimatsu.utils.checkpoint.set_checkpoint_debug_enabled(True):` to "
              "enable checkpoint-debug mode globally.\n")


class _Frame:
    """One non-reentrant checkpointed call: what its backward needs to recompute."""

    def __init__(self, function, args, kwargs, rng, recompute_context, metadata_fn, debug):
        self.function = function
        self.args = args
        self.kwargs = kwargs
        self.rng = rng
        self.recompute_context = recompute_context
        self.metadata_fn = metadata_fn
        self.fwd_log = _OpLog() if debug else None
        explicit = _unique(_tensors_in((args, kwargs), []))
        # Versions before the forward: an in-place change of an input, even by the
        # function itself, would make the recomputation differ.
        self.versions = [(t, t._vc[0]) for t in explicit]
        self.inputs = explicit  # the node's inputs; captured tensors are added by forward
        self.out_positions = []  # where the new output tensors sit in the flattened output
        self.n_flat = 0
        self.out_meta = []
        self.fresh = None

    def run_forward(self, forward_context):
        captured = {id(t): t for t in self.inputs}
        suppressed = True
        with contextlib.ExitStack() as stack:
            stack.enter_context(_observing(_Capture(captured)))
            if self.fwd_log is not None:
                stack.enter_context(_observing(self.fwd_log))
            stack.enter_context(forward_context)
            stack.enter_context(grad_mode.no_grad())
            stack.enter_context(_rng_context(self.rng, "forward"))
            out = self.function(*self.args, **self.kwargs)
            suppressed = False
        if suppressed:
            raise RuntimeError(
                "taimatsu.utils.checkpoint: the forward context provided by context_fn "
                "suppressed an exception raised during the checkpointed forward. This is not "
                "supported because checkpoint cannot return a value for a failed forward.")
        self.inputs = list(captured.values())
        return out

    def attach(self, out):
        """Gives the function's new output tensors the checkpoint node."""
        flat = _tensors_in(out, [])
        self.n_flat = len(flat)
        outside = {id(t) for t in self.inputs}
        fresh = {}
        for pos, t in enumerate(flat):
            if id(t) not in outside and id(t) not in fresh:
                fresh[id(t)] = t
                self.out_positions.append(pos)
        if not fresh:
            return out  # outputs from outside pass through: their gradient needs no recompute
        self.out_meta = [self.metadata_fn(t) for t in fresh.values()]
        self.fresh = list(fresh.values())
        try:
            results = _Checkpoint.apply(self, *self.inputs)
        finally:
            self.fresh = None  # the node must not keep its own outputs alive
        by_id = {id_: r for id_, r in zip(fresh, results)}
        return _map_tensors(out, lambda t: by_id.get(id(t), t))

    def backward(self, grads):
        for t, version in self.versions:
            if t._vc[0] != version:
                _node._raise_modified(None, (t, t._vc, version))
        create_graph = grad_mode.is_grad_enabled()
        aliases = {id(t): _alias(t, create_graph) for t in self.inputs}
        needed = [(i, t) for i, t in enumerate(self.inputs) if t._rg]
        # An input may itself be an enclosing checkpoint's alias: the function still reads
        # the original through closures, so the original is replaced as well.
        replace = {id(o): aliases[id(t)] for _, t in needed for o in _lineage(t)}
        outputs = self._recompute(aliases, replace)
        pairs = [(o, g) for o, g in zip(outputs, grads) if g is not None and o._rg]
        if not pairs:
            return (None,) * len(self.inputs)
        targets = [(i, aliases[id(t)]) for i, t in needed]
        if not create_graph:
            # A custom autograd.Function fed a leaf directly (not through an op) links to
            # the leaf itself; a detached alias has no edge there, so nothing is counted
            # twice. (With create_graph the copies do link to it, so this is left out.)
            targets += [(i, o) for i, t in needed for o in _lineage(t) if o._grad_fn is None]
        from .. import autograd
        found = autograd.grad([o for o, _ in pairs], [t for _, t in targets],
                              [g for _, g in pairs], allow_unused=True,
                              create_graph=create_graph)
        result = [None] * len(self.inputs)
        for (i, _), g in zip(targets, found):
            if g is not None:
                result[i] = g if result[i] is None else result[i] + g
        return tuple(result)

    def _recompute(self, aliases, replace):
        """Runs the function again with grad on, on the aliases; its new output tensors."""
        args, kwargs = _map_tensors((self.args, self.kwargs), lambda t: aliases[id(t)])
        log = _OpLog() if self.fwd_log is not None else None
        with contextlib.ExitStack() as stack:
            stack.enter_context(_observing(_Swap(replace), first=True))
            if log is not None:
                stack.enter_context(_observing(log))
            stack.enter_context(_rng_context(self.rng, "replay"))
            stack.enter_context(grad_mode.enable_grad())
            stack.enter_context(self.recompute_context)
            out = self.function(*args, **kwargs)
        flat = _tensors_in(out, [])
        try:
            return self._check_recomputed(flat)
        except CheckpointError as e:
            if log is None:
                raise
            raise _debug_error(e, self.fwd_log, log) from e

    def _check_recomputed(self, flat):
        if len(flat) != self.n_flat:
            raise CheckpointError(
                "taimatsu.utils.checkpoint: A different number of tensors was returned by the "
                "original forward and the recomputation.\n"
                f"Number of tensors returned during forward: {self.n_flat}\n"
                f"Number of tensors returned during recomputation: {len(flat)}.\n"
                + _DEBUG_TIP)
        outputs = [flat[p] for p in self.out_positions]
        different = []
        for i, (o, meta) in enumerate(zip(outputs, self.out_meta)):
            now = self.metadata_fn(o)
            if now != meta:
                different.append(f"tensor at position {self.out_positions[i]}:\n"
                                 f"saved metadata: {meta}\nrecomputed metadata: {now}\n")
        if different:
            raise CheckpointError(
                "taimatsu.utils.checkpoint: Recomputed values for the following tensors have "
                "different metadata than during the forward pass.\n"
                + "".join(different) + ".\n" + _DEBUG_TIP)
        return outputs


def _alias(t, create_graph):
    """What the recomputation uses in place of an outside tensor.

    A detached alias keeps the inner backward inside the checkpoint; for create_graph a
    differentiable copy links the gradient's own graph back to `t`.
    """
    if not t._rg:
        return t.detach()
    alias = t.clone() if create_graph else t.detach().requires_grad_(True)
    alias._checkpoint_origin = t
    return alias


def _lineage(t) -> list:
    """`t`, and the tensors it stands in for as an (enclosing) checkpoint's alias."""
    chain = [t]
    while (t := getattr(t, "_checkpoint_origin", None)) is not None:
        chain.append(t)
    return chain


class _Checkpoint(Function):
    """The node of a non-reentrant checkpoint; forward hands over the outputs computed."""

    @staticmethod
    def forward(ctx, frame, *inputs):
        ctx.frame = frame
        ctx.save_for_backward(*inputs)  # so a second backward through a freed graph raises
        return tuple(t.detach() for t in frame.fresh)

    @staticmethod
    def backward(ctx, *grads):
        ctx.saved_tensors  # noqa: B018 - raises once the graph was freed
        return (None,) + ctx.frame.backward(grads)


_Checkpoint._backward_cls._backward_name = "CheckpointBackward"


def _checkpoint_without_reentrant(function, preserve_rng_state, context_fn,
                                  determinism_check, debug, args, kwargs):
    if _checkpoint_debug_enabled if _checkpoint_debug_enabled is not None else debug:
        if context_fn is not noop_context_fn:
            raise ValueError("debug=True is incompatible with non-default context_fn")
        debug = True
    else:
        debug = False
    if determinism_check not in _allowed_determinism_checks_to_fns:
        raise ValueError("determinism_check should be one of "
                         f"{list(_allowed_determinism_checks_to_fns.keys())}, but got "
                         f"{determinism_check}")
    metadata_fn = _allowed_determinism_checks_to_fns[determinism_check]
    forward_context, recompute_context = context_fn()
    if not grad_mode.is_grad_enabled():
        return function(*args, **kwargs)  # nothing will be differentiated: a plain call
    tensors = _tensors_in((args, kwargs), [])
    rng = _RngStash(tensors) if preserve_rng_state else None
    frame = _Frame(function, args, kwargs, rng, recompute_context, metadata_fn, debug)
    out = frame.run_forward(forward_context)
    return frame.attach(out)


# -- public entry points -------------------------------------------------------------------

def checkpoint(function, *args, use_reentrant: bool | None = None,
               context_fn=noop_context_fn, determinism_check: str = _DEFAULT_DETERMINISM_MODE,
               debug: bool = False, early_stop: bool = True, **kwargs):
    """Runs `function(*args, **kwargs)` without keeping its activations for backward.

    Backward runs `function` again to rebuild them, so gradients equal those of the
    plain call (`preserve_rng_state=True`, the default, replays the RNG state so random
    ops draw the same numbers).

    Args:
        function: what to run; it receives `*args` (and `**kwargs` when
            use_reentrant=False).
        use_reentrant: pass it explicitly. False (recommended) supports autograd.grad,
            keyword arguments, inputs that do not require grad and nested outputs; True
            is the older custom-Function variant. Leaving it out warns and uses True.
        context_fn: returns two context managers, run around the forward and around the
            recomputation (use_reentrant=False only).
        determinism_check: "default" checks that the recomputed outputs have the
            original shapes, dtypes and devices; "none" skips that.
        debug: on a failed determinism check, also report the ops both passes ran.
        early_stop: accepted for compatibility (taimatsu always recomputes the whole
            function).
        preserve_rng_state: (keyword) replay the RNG state in the recomputation.
    """
    if use_reentrant is None:
        warnings.warn(
            "taimatsu.utils.checkpoint: the use_reentrant parameter should be passed "
            "explicitly. Calling checkpoint without use_reentrant is deprecated (PyTorch "
            "announced it would raise an exception). use_reentrant=False is recommended, but "
            "if you need to preserve the current default behavior, you can pass "
            "use_reentrant=True. Refer to docs for more details on the differences between "
            "the two variants.", stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs and use_reentrant:
        raise ValueError("Unexpected keyword arguments: " + ",".join(arg for arg in kwargs))
    if use_reentrant:
        if context_fn is not noop_context_fn or debug is not False:
            raise ValueError("Passing `context_fn` or `debug` is only supported when "
                             "use_reentrant=False.")
        return CheckpointFunction.apply(function, preserve, *args)
    return _checkpoint_without_reentrant(function, preserve, context_fn, determinism_check,
                                         debug, args, kwargs)


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    """Runs a sequential model in `segments` chunks, checkpointing all but the last.

    Args:
        functions: an nn.Sequential or a list of modules/functions, run in order.
        segments: how many chunks to split it into.
        input: the Tensor given to the first function.
        use_reentrant: as for `checkpoint` (pass it explicitly).
        preserve_rng_state: (keyword) as for `checkpoint`.
    """
    if use_reentrant is None:
        warnings.warn(
            "taimatsu.utils.checkpoint.checkpoint_sequential: the use_reentrant parameter "
            "should be passed explicitly. Calling it without use_reentrant is deprecated "
            "(PyTorch announced it would raise an exception). use_reentrant=False is "
            "recommended, but if you need to preserve the current default behavior, you can "
            "pass use_reentrant=True. Refer to docs for more details on the differences "
            "between the two variants.", stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(arg for arg in kwargs))

    def run_function(start, end, functions):
        def forward(input):
            for j in range(start, end + 1):
                input = functions[j](input)
            return input
        return forward

    from ..nn import Sequential
    if isinstance(functions, Sequential):
        functions = list(functions.children())
    segment_size = len(functions) // segments
    end = -1
    # Every chunk but the last is checkpointed; the last keeps its activations, since
    # its backward comes first.
    for start in range(0, segment_size * (segments - 1), segment_size):
        end = start + segment_size - 1
        input = checkpoint(run_function(start, end, functions), input,
                           use_reentrant=use_reentrant, preserve_rng_state=preserve)
    return run_function(end + 1, len(functions) - 1, functions)(input)
