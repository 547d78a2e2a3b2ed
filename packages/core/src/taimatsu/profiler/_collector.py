"""Recording: the op observer, `record_function` regions and the collector they feed.

While a profiler records, an observer in `autograd.node.apply_observers` times every
op (each `Function.apply`), and `record_function` blocks add named regions; both
become FunctionEvents nested by time in the thread that ran them. An op is named
`taimatsu::<its Function class in snake_case>` (Mm -> "taimatsu::mm", LogSoftmax ->
"taimatsu::log_softmax", _Conv -> "taimatsu::conv"), PyTorch's "aten::<op>" scheme
with our own op names. With nothing recording, record_function costs one lookup.
"""

from __future__ import annotations

import itertools
import os
import re
import sys
import threading
import time
from contextlib import ContextDecorator

from ..autograd import engine as _engine
from ..autograd import node as _node
from ._events import FunctionEvent

__all__ = ["record_function"]

# The collector recording now (one at a time, as PyTorch allows one profiler per thread).
_active: list = [None]

_NAMES: dict[type, str] = {}
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def op_name(cls: type) -> str:
    """The profiler name of op class `cls`: "taimatsu::" + its name in snake_case."""
    name = _NAMES.get(cls)
    if name is None:
        name = _NAMES[cls] = "taimatsu::" + _CAMEL.sub("_", cls.__name__.lstrip("_")).lower()
    return name


class Collector:
    """The events of one recording session, with per-thread stacks of open regions."""

    def __init__(self, record_shapes: bool = False, profile_memory: bool = False,
                 with_stack: bool = False):
        self.record_shapes = record_shapes
        self.profile_memory = profile_memory
        self.with_stack = with_stack
        self.events: list[FunctionEvent] = []
        self._local = threading.local()
        self._ids = itertools.count(1)
        self._t0 = time.perf_counter_ns()
        self.base_us = time.time_ns() / 1000  # wall clock at _t0, for traces

    # -- lifetime ----------------------------------------------------------------------------
    def start(self) -> None:
        if _active[0] is not None:
            raise RuntimeError("Profiler is already enabled on this thread")
        _active[0] = self
        _node.apply_observers.append(_observe)
        _time_backward(True)

    def stop(self) -> None:
        if _active[0] is self:
            _active[0] = None
        if _observe in _node.apply_observers:
            _node.apply_observers.remove(_observe)
        _time_backward(False)

    def clear(self) -> None:
        """Drops the finished events (a schedule's warm-up, a finished cycle)."""
        self.events = []

    # -- regions -----------------------------------------------------------------------------
    def _open_stack(self) -> list:
        stack = getattr(self._local, "stack", None)
        if stack is None:
            stack = self._local.stack = []
        return stack

    def open(self, name: str, input_shapes=None, user: bool = False) -> FunctionEvent:
        stack = self._open_stack()
        event = FunctionEvent(next(self._ids), name, threading.get_native_id(),
                              (time.perf_counter_ns() - self._t0) / 1000, input_shapes,
                              _python_stack() if self.with_stack else None, user)
        if stack:
            event.cpu_parent = stack[-1]
            stack[-1].cpu_children.append(event)
        stack.append(event)
        return event

    def close(self, event: FunctionEvent) -> None:
        event.end_us = (time.perf_counter_ns() - self._t0) / 1000
        stack = self._open_stack()
        # Regions left open inside this one (an exception skipped their exit) end here too.
        while stack:
            top = stack.pop()
            if top is event:
                break
            top.end_us = event.end_us
        self.events.append(event)

    def finished_events(self) -> list[FunctionEvent]:
        return sorted(self.events, key=lambda e: (e.start_us, e.id))


def _observe(cls, args, params, call):
    collector = _active[0]
    if collector is None:
        return call()
    shapes = _input_shapes(args) if collector.record_shapes else None
    event = collector.open(op_name(cls), shapes)
    try:
        out = call()
    finally:
        collector.close(event)
    if collector.profile_memory:
        event.self_cpu_memory_usage = _allocated_bytes(out, args)
    return out


# Backward nodes, through the engine's observer list: each node's backward becomes an
# event named as its grad_fn prints ("MmBackward0"), the ops it runs (create_graph)
# nested inside.
def _observed_backward(node, call):
    collector = _active[0]
    if collector is None:
        return call()
    event = collector.open(node.name())
    try:
        return call()
    finally:
        collector.close(event)


def _time_backward(on: bool) -> None:
    observers = _engine.backward_observers
    if on and _observed_backward not in observers:
        observers.append(_observed_backward)
    elif not on and _observed_backward in observers:
        observers.remove(_observed_backward)


def _input_shapes(args) -> list:
    from .._tensor import Tensor
    return [list(a.shape) if isinstance(a, Tensor) else [] for a in args]


def _allocated_bytes(out, args) -> int:
    """Bytes of the op's outputs that are new memory (not views of an input)."""
    from .. import backend
    from .._tensor import Tensor
    outs = out if isinstance(out, (tuple, list)) else (out,)
    inputs = [a._data for a in args if isinstance(a, Tensor)]
    total = 0
    for t in outs:
        if not isinstance(t, Tensor):
            continue
        xp = backend.of(t._data)
        if not any(xp.may_share_memory(t._data, a) for a in inputs if backend.of(a) is xp):
            total += t._data.nbytes
    return total


_HERE = os.path.dirname(os.path.abspath(__file__))
_NODE_FILE = os.path.abspath(_node.__file__)


def _python_stack() -> list[str]:
    """The caller's Python frames, innermost first, as "file(line): function"."""
    frames = []
    frame = sys._getframe(1)
    while frame is not None:
        path = frame.f_code.co_filename
        if not (path.startswith(_HERE) or path == _NODE_FILE or path.endswith("contextlib.py")):
            frames.append(f"{path}({frame.f_lineno}): {frame.f_code.co_name}")
        frame = frame.f_back
    return frames


class record_function(ContextDecorator):
    """Marks a named region in the profile; a context manager or a function decorator.

        with taimatsu.profiler.record_function("model_inference"):
            model(x)

    Regions nest; the ops run inside are their children (self time excludes them).

    Args:
        name: the region's name in tables and traces
        args: extra information recorded with it (kept on the object)
    """

    def __init__(self, name: str, args: str | None = None):
        self.name = name
        self.args = args
        self._open: list = []  # (collector, event) per active use; a decorated function may recurse

    def __enter__(self):
        collector = _active[0]
        event = collector.open(self.name, user=True) if collector is not None else None
        self._open.append((collector, event))
        return self

    def __exit__(self, *exc):
        collector, event = self._open.pop()
        if event is not None:
            collector.close(event)
        return False
