"""Recurrent layers: RNN, LSTM, GRU and their single-step cells, as torch's.

Parameter names, shapes and initialization follow torch, so a torch state_dict loads
unchanged. Each layer and direction runs as one fused Function (nn/_functional/rnn.py);
this file only validates arguments, lays out the data and stacks the states.
"""

from __future__ import annotations

import math
import numbers
import warnings

from ... import empty, zeros
from ..._tensor import Tensor
from ...ops.join import cat, stack
from .. import functional as F
from .. import init
from .._functional.rnn import RecurrentLayer
from ..parameter import Parameter
from ..utils.rnn import PackedSequence
from .module import Module

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


def _check_type(name: str, value, kind) -> None:
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise TypeError(f"{name} should be of type {kind.__name__}, got: "
                        f"{type(value).__name__}")


class RNNBase(Module):
    """Shared machinery of RNN, LSTM and GRU (multi-layer, optionally bidirectional)."""

    __constants__ = ["mode", "input_size", "hidden_size", "num_layers", "bias", "batch_first",
                     "dropout", "bidirectional", "proj_size"]

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device=None,
                 dtype=None) -> None:
        super().__init__()
        if (not isinstance(dropout, numbers.Number) or isinstance(dropout, bool)
                or not 0 <= dropout <= 1):
            raise ValueError("dropout should be a number in range [0, 1] representing the "
                             "probability of an element being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so "
                          "non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers={num_layers}")
        _check_type("bias", bias, bool)
        _check_type("batch_first", batch_first, bool)
        _check_type("input_size", input_size, int)
        if input_size <= 0:
            raise ValueError("input_size must be greater than zero")
        _check_type("hidden_size", hidden_size, int)
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable "
                             "projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if mode not in _GATES:
            raise ValueError("Unrecognized RNN mode: " + mode)

        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size

        gate_size = _GATES[mode] * hidden_size
        real_hidden = proj_size if proj_size > 0 else hidden_size
        directions = 2 if bidirectional else 1
        names = []
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else real_hidden * directions
            for direction in range(directions):
                shapes = [("weight_ih", (gate_size, layer_input)),
                          ("weight_hh", (gate_size, real_hidden))]
                if bias:
                    shapes += [("bias_ih", (gate_size,)), ("bias_hh", (gate_size,))]
                if proj_size > 0:
                    shapes.append(("weight_hr", (proj_size, hidden_size)))
                suffix = "_reverse" if direction == 1 else ""
                for kind, shape in shapes:
                    name = f"{kind}_l{layer}{suffix}"
                    setattr(self, name, Parameter(empty(shape, device=device, dtype=dtype)))
                    names.append(name)
        self._flat_weights_names = names
        self._all_weights = [names[i:i + len(shapes)] for i in range(0, len(names),
                                                                      len(shapes))]
        self.reset_parameters()

    def reset_parameters(self) -> None:
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def flatten_parameters(self) -> None:
        """Kept for API compatibility: parameters are used in place, nothing to compact."""

    @property
    def _flat_weights(self) -> list:
        return [getattr(self, name, None) for name in self._flat_weights_names]

    @property
    def all_weights(self) -> list:
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    # -- forward ----------------------------------------------------------------------------
    @property
    def _real_hidden(self) -> int:
        return self.proj_size if self.proj_size > 0 else self.hidden_size

    def _check_input(self, input: Tensor, packed: bool) -> None:
        wdt = self.weight_ih_l0.dtype
        if input.dtype is not wdt:
            raise ValueError(f"RNN input dtype ({input.dtype}) does not match weight dtype "
                             f"({wdt}). Convert input: input.to({wdt}), or convert model: "
                             f"model.to({input.dtype})")
        expected = 2 if packed else 3
        if input.dim() != expected:
            raise RuntimeError(f"input must have {expected} dimensions, got {input.dim()}")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {input.shape[-1]}")

    def _expected_hidden(self, batch: int, size: int) -> tuple:
        directions = 2 if self.bidirectional else 1
        return (self.num_layers * directions, batch, size)

    @staticmethod
    def _check_hidden(hx: Tensor, expected: tuple, msg: str = "Expected hidden size {}, got {}"):
        if tuple(hx.shape) != expected:
            raise RuntimeError(msg.format(expected, list(hx.shape)))

    def _prepare(self, input, hx):
        """(data (N, I), batch_sizes, states, layout) for forward; hx as a tuple or None.

        layout carries what is needed to shape the output back: packed indices, or the
        padded (T, B) sizes and batch_first / unbatched flags.
        """
        lstm = self.mode == "LSTM"
        if isinstance(input, PackedSequence):
            data, batch_sizes, sorted_indices, unsorted_indices = input
            batch_sizes = tuple(int(b) for b in batch_sizes.tolist())
            batch = batch_sizes[0]
            layout = ("packed", input.batch_sizes, sorted_indices, unsorted_indices)
            if hx is not None and sorted_indices is not None:
                hx = tuple(h.index_select(1, sorted_indices) for h in hx)
            self._check_input(data, packed=True)
        else:
            name = type(self).__name__ if lstm or self.mode == "GRU" else "RNN"
            if input.dim() not in (2, 3):
                tail = " tensor instead" if name == "RNN" else " instead"
                raise ValueError(f"{name}: Expected input to be 2D or 3D, got "
                                 f"{input.dim()}D{tail}")
            batched = input.dim() == 3
            if not batched:
                input = input.unsqueeze(0 if self.batch_first else 1)
            if hx is not None:
                _check_state_ranks(hx, batched, lstm)
                if not batched:
                    hx = tuple(h.unsqueeze(1) for h in hx)
            self._check_input(input, packed=False)
            if self.batch_first:
                input = input.transpose(0, 1)
            T, batch = input.shape[0], input.shape[1]
            data = input.reshape(T * batch, self.input_size)
            batch_sizes = (batch,) * T
            layout = ("padded", T, batch, batched)
        real = self._real_hidden
        if hx is None:
            h0 = zeros(self._expected_hidden(batch, real), dtype=data.dtype,
                       device=data.device)
            states = (h0, zeros(self._expected_hidden(batch, self.hidden_size),
                                dtype=data.dtype, device=data.device)) if lstm else (h0,)
        else:
            states = hx
            if lstm:
                self._check_hidden(hx[0], self._expected_hidden(batch, real),
                                   "Expected hidden[0] size {}, got {}")
                self._check_hidden(hx[1], self._expected_hidden(batch, self.hidden_size),
                                   "Expected hidden[1] size {}, got {}")
            else:
                self._check_hidden(hx[0], self._expected_hidden(batch, real))
        return data, batch_sizes, states, layout

    def _layers(self, data: Tensor, batch_sizes: tuple, states: tuple):
        """Runs every layer and direction; returns (output data, final states)."""
        directions = 2 if self.bidirectional else 1
        h0 = states[0]
        c0 = states[1] if len(states) > 1 else None
        finals = [[] for _ in states]
        x = data
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(directions):
                k = layer * directions + direction
                weights = self._direction_weights(self._all_weights[k])
                result = RecurrentLayer.apply(
                    x, h0[k], None if c0 is None else c0[k], *weights, mode=self.mode,
                    batch_sizes=batch_sizes, reverse=direction == 1)
                outputs.append(result[0])
                for final, state in zip(finals, result[1:]):
                    final.append(state)
            x = outputs[0] if directions == 1 else cat(outputs, dim=1)
            if self.dropout > 0 and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, True)
        return x, tuple(stack(final) for final in finals)

    def _direction_weights(self, names: list) -> tuple:
        """(w_ih, w_hh, b_ih, b_hh, w_hr) with None for what this configuration lacks."""
        params = [getattr(self, n) for n in names]
        w_ih, w_hh = params[0], params[1]
        b_ih, b_hh = (params[2], params[3]) if self.bias else (None, None)
        w_hr = params[-1] if self.proj_size > 0 else None
        return w_ih, w_hh, b_ih, b_hh, w_hr

    def _run(self, input, hx):
        data, batch_sizes, states, layout = self._prepare(input, hx)
        out, finals = self._layers(data, batch_sizes, states)
        if layout[0] == "packed":
            _, sizes, sorted_indices, unsorted_indices = layout
            if unsorted_indices is not None:
                finals = tuple(f.index_select(1, unsorted_indices) for f in finals)
            return PackedSequence(out, sizes, sorted_indices, unsorted_indices), finals
        _, T, batch, batched = layout
        out = out.reshape(T, batch, out.shape[-1])
        if self.batch_first:
            out = out.transpose(0, 1)
        if not batched:
            out = out.squeeze(0 if self.batch_first else 1)
            finals = tuple(f.squeeze(1) for f in finals)
        return out, finals


def _check_state_ranks(hx: tuple, batched: bool, lstm: bool) -> None:
    want = 3 if batched else 2
    if all(h.dim() == want for h in hx):
        return
    kind = "batched 3-D" if batched else "unbatched 2-D"
    if lstm:
        raise RuntimeError(f"For {kind} input, hx and cx should also be {want}-D but got "
                           f"({hx[0].dim()}-D, {hx[1].dim()}-D) tensors")
    raise RuntimeError(f"For {kind} input, hx should also be {want}-D but got "
                       f"{hx[0].dim()}-D tensor")


def _reject_proj_size(kwargs: dict) -> None:
    if "proj_size" in kwargs:
        raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")


class RNN(RNNBase):
    """Elman RNN: h_t = act(x_t W_ih^T + b_ih + h_(t-1) W_hh^T + b_hh), act tanh or relu.

    Args:
        input_size, hidden_size, num_layers, nonlinearity ('tanh' | 'relu'), bias,
        batch_first, dropout (between layers, training only), bidirectional
    Shape: input (L, N, H_in) / (N, L, H_in) / (L, H_in) or a PackedSequence; h_0
        (D * num_layers, N, H_out). Returns (output, h_n).
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False, device=None, dtype=None,
                 **kwargs) -> None:
        _reject_proj_size(kwargs)
        if kwargs:
            raise TypeError(f"RNN.__init__() got an unexpected keyword argument "
                            f"'{next(iter(kwargs))}'")
        if nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or "
                             "'relu'.")
        self.nonlinearity = nonlinearity
        super().__init__(mode, input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, device=device, dtype=dtype)

    def forward(self, input, hx: Tensor | None = None):
        out, (h_n,) = self._run(input, None if hx is None else (hx,))
        return out, h_n


class LSTM(RNNBase):
    """Long short-term memory, gates (i, f, g, o) as torch; optional output projection.

    Args:
        input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
        proj_size (h_t projected to this size by weight_hr when > 0)
    Returns (output, (h_n, c_n)); a PackedSequence input gives a PackedSequence output.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device=None,
                 dtype=None) -> None:
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, proj_size, device=device, dtype=dtype)

    def forward(self, input, hx: tuple[Tensor, Tensor] | None = None):
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise RuntimeError("lstm expects two hidden states")
        out, (h_n, c_n) = self._run(input, None if hx is None else tuple(hx))
        return out, (h_n, c_n)


class GRU(RNNBase):
    """Gated recurrent unit, gates (r, z, n) as torch.

    Args:
        input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional
    Returns (output, h_n).
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, device=None, dtype=None, **kwargs) -> None:
        _reject_proj_size(kwargs)
        if kwargs:
            raise TypeError(f"GRU.__init__() got an unexpected keyword argument "
                            f"'{next(iter(kwargs))}'")
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, device=device, dtype=dtype)

    def forward(self, input, hx: Tensor | None = None):
        out, (h_n,) = self._run(input, None if hx is None else (hx,))
        return out, h_n


# -- cells ---------------------------------------------------------------------------------------

class RNNCellBase(Module):
    """Shared parameters of the single-step cells: weight_ih, weight_hh, bias_ih, bias_hh."""

    __constants__ = ["input_size", "hidden_size", "bias"]

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int,
                 device=None, dtype=None) -> None:
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        gates = num_chunks * hidden_size
        self.weight_ih = Parameter(empty((gates, input_size), device=device, dtype=dtype))
        self.weight_hh = Parameter(empty((gates, hidden_size), device=device, dtype=dtype))
        if bias:
            self.bias_ih = Parameter(empty(gates, device=device, dtype=dtype))
            self.bias_hh = Parameter(empty(gates, device=device, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        nonlinearity = getattr(self, "nonlinearity", "tanh")
        if nonlinearity != "tanh":
            s += f", nonlinearity={nonlinearity}"
        return s

    def _step(self, mode: str, input: Tensor, states: tuple | None, name: str,
              labels: tuple = ("hidden",)):
        """One time step: validates, batches, runs the fused layer for T = 1."""
        if input.dim() not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.dim()}D "
                             "instead")
        for label, state in zip(labels, states or ()):
            if state.dim() not in (1, 2):
                raise ValueError(f"{name}: Expected {label} to be 1D or 2D, got "
                                 f"{state.dim()}D instead")
        batched = input.dim() == 2
        if not batched:
            input = input.unsqueeze(0)
        batch = input.shape[0]
        if states is None:
            z = zeros((batch, self.hidden_size), dtype=input.dtype, device=input.device)
            states = (z, z) if mode == "LSTM" else (z,)
        elif not batched:
            states = tuple(s.unsqueeze(0) for s in states)
        if input.shape[1] != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.shape[1]} "
                               f"expected {self.input_size}")
        for k, s in enumerate(states):
            if s.shape[0] != batch:
                raise RuntimeError(f"Input batch size {batch} doesn't match hidden{k} batch "
                                   f"size {s.shape[0]}")
            if s.shape[1] != self.hidden_size:
                raise RuntimeError(f"hidden{k} has inconsistent hidden_size: got "
                                   f"{s.shape[1]}, expected {self.hidden_size}")
        result = RecurrentLayer.apply(
            input, states[0], states[1] if mode == "LSTM" else None, self.weight_ih,
            self.weight_hh, self.bias_ih, self.bias_hh, None, mode=mode,
            batch_sizes=(batch,), reverse=False)
        finals = result[1:]
        if not batched:
            finals = tuple(f.squeeze(0) for f in finals)
        return finals


class RNNCell(RNNCellBase):
    """One Elman RNN step: h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh)."""

    __constants__ = ["input_size", "hidden_size", "bias", "nonlinearity"]

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", device=None, dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device,
                         dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        if self.nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif self.nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        (h,) = self._step(mode, input, None if hx is None else (hx,), "RNNCell")
        return h


class LSTMCell(RNNCellBase):
    """One LSTM step; returns (h', c')."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None,
                 dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device,
                         dtype=dtype)

    def forward(self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None):
        if hx is not None:
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise RuntimeError("lstm_cell expects two hidden states")
            hx = tuple(hx)
        h, c = self._step("LSTM", input, hx, "LSTMCell", ("hx[0]", "hx[1]"))
        return h, c


class GRUCell(RNNCellBase):
    """One GRU step."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None,
                 dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device,
                         dtype=dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        (h,) = self._step("GRU", input, None if hx is None else (hx,), "GRUCell")
        return h
