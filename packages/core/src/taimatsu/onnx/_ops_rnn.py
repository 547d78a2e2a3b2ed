"""Recurrent layers: one RNN / LSTM / GRU layer direction as ONNX's RNN, LSTM or GRU."""

from __future__ import annotations

import numpy as np

from ..nn._functional import rnn
from ._registry import emits
from ._symbolic import Repeated
from .errors import UnsupportedOperatorError

# ONNX orders the gate blocks of the weights differently: LSTM i, o, f, c (torch: i, f, g,
# o) and GRU z, r, h (torch: r, z, n).
_GATE_ORDER = {"LSTM": (0, 3, 1, 2), "GRU": (1, 0, 2), "RNN_TANH": (0,), "RNN_RELU": (0,)}
_OP = {"LSTM": "LSTM", "GRU": "GRU", "RNN_TANH": "RNN", "RNN_RELU": "RNN"}


def _gates(g, ref, order) -> str:
    """A (gates * H, ...) weight or bias with its gate blocks reordered for ONNX, as
    (1, gates * H, ...)."""
    array = g.constant_array(ref) if g.fold else None
    if array is not None:
        blocks = np.split(np.asarray(array), len(order))
        return g.const(np.concatenate([blocks[i] for i in order])[None], hint="Weight",
                       cache=False)
    x = g.value(ref)
    if len(order) > 1:
        n = ref.shape[0] // len(order)
        parts = g.split(x, [n] * len(order), 0)
        x = g.op("Concat", *[parts[i] for i in order], axis=0)
    return g.unsqueeze(x, [0])


def _batch(sizes):
    """The batch size of equal per-step sizes (a padded batch); None for packed ones."""
    if isinstance(sizes, Repeated):
        return sizes.item
    sizes = list(sizes)
    return sizes[0] if sizes and all(s == sizes[0] for s in sizes) else None


@emits(rnn.RecurrentLayer)
def _recurrent_layer(g, rec):
    x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr = rec.args
    mode = rec.params["mode"]
    if w_hr is not None:
        raise UnsupportedOperatorError("LSTM with proj_size", g.opset)
    batch = _batch(rec.params["batch_sizes"])
    if batch is None:
        raise UnsupportedOperatorError("recurrent layer over a PackedSequence", g.opset)
    order = _GATE_ORDER[mode]
    hidden = int(w_hh.shape[1])
    steps = g.op("Reshape", g.value(x), g.shape_vec([-1, batch, x.shape[1]]))
    bias = ""
    if b_ih is not None:
        bias = g.op("Concat", _gates(g, b_ih, order), _gates(g, b_hh, order), axis=1)
    inputs = [steps, _gates(g, w_ih, order), _gates(g, w_hh, order), bias, "",
              g.unsqueeze(g.value(h0), [0])]
    if mode == "LSTM":
        inputs.append(g.unsqueeze(g.value(c0), [0]))
    attrs = {"hidden_size": hidden, "direction": "reverse" if rec.params["reverse"] else
             "forward"}
    if mode == "GRU":
        attrs["linear_before_reset"] = 1  # torch applies the reset gate after the product
    elif mode != "LSTM":
        attrs["activations"] = ["Relu" if mode == "RNN_RELU" else "Tanh"]
    outs = g.op(_OP[mode], *inputs, outputs=3 if mode == "LSTM" else 2, **attrs)
    y = g.op("Reshape", outs[0], g.ints([-1, hidden]))  # (T, 1, B, H) -> time-major rows
    return [y] + [g.squeeze(s, [0]) for s in outs[1:]]
