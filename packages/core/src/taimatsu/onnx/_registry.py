"""The table from recorded op classes to the functions that translate them to ONNX.

An emitter is `emit(g, rec)`: g is the Graph (_graph.py), rec the op's Record (_trace.py);
it adds nodes and returns the graph name of the op's output, or a list with one name per
output of a multi-output op (None for an output it does not produce). Lookup is by exact
class: subclasses often compute something else (TruncDivide is not FloorDivide).
"""

from __future__ import annotations

EMITTERS: dict = {}


def emits(*ops):
    """Decorator registering an emitter for the given op classes."""
    def register(fn):
        for op in ops:
            EMITTERS[op] = fn
        return fn
    return register


def emitter_for(op):
    from . import (  # noqa: F401
        _ops_index,
        _ops_nn,
        _ops_pointwise,
        _ops_reduce,
        _ops_rnn,
        _ops_shape,
    )
    return EMITTERS.get(op)
