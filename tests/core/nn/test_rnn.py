"""RNN, LSTM, GRU and their cells: parameters, shapes, semantics, gradients and errors."""

import math
import warnings

import numpy as np
import pytest

import taimatsu as tm
import taimatsu.nn as nn
from taimatsu.autograd import gradcheck
from taimatsu.nn.utils.rnn import (
    PackedSequence,
    pack_padded_sequence,
    pack_sequence,
    pad_packed_sequence,
)
from taimatsu.testing import assert_close

RNG = np.random.default_rng(0)
I, H, T, B = 3, 4, 5, 2


def _t(*shape, requires_grad=False):
    return tm.tensor(RNG.standard_normal(shape), requires_grad=requires_grad)


def _layer(cls, **kwargs):
    tm.manual_seed(0)
    return cls(I, H, **kwargs).double()


# -- construction ------------------------------------------------------------------------------

def test_lstm_parameter_names_and_shapes():
    m = nn.LSTM(10, 20, num_layers=2, bidirectional=True, proj_size=5)
    shapes = {n: tuple(p.shape) for n, p in m.named_parameters()}
    for layer, fan_in in ((0, 10), (1, 10)):
        for sfx in ("", "_reverse"):
            assert shapes[f"weight_ih_l{layer}{sfx}"] == (80, fan_in)
            assert shapes[f"weight_hh_l{layer}{sfx}"] == (80, 5)
            assert shapes[f"bias_ih_l{layer}{sfx}"] == (80,)
            assert shapes[f"bias_hh_l{layer}{sfx}"] == (80,)
            assert shapes[f"weight_hr_l{layer}{sfx}"] == (5, 20)
    assert list(shapes)[:5] == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
                                "weight_hr_l0"]
    assert len(m.all_weights) == 4 and len(m.all_weights[0]) == 5


@pytest.mark.parametrize("cls, gates", [(nn.RNN, 1), (nn.GRU, 3), (nn.LSTM, 4)])
def test_shapes_without_bias(cls, gates):
    m = cls(6, 7, num_layers=2, bias=False)
    assert {n: tuple(p.shape) for n, p in m.named_parameters()} == {
        "weight_ih_l0": (gates * 7, 6), "weight_hh_l0": (gates * 7, 7),
        "weight_ih_l1": (gates * 7, 7), "weight_hh_l1": (gates * 7, 7)}


@pytest.mark.parametrize("cls", [nn.RNN, nn.GRU, nn.LSTM, nn.RNNCell, nn.GRUCell,
                                 nn.LSTMCell])
def test_default_init_is_uniform_over_one_over_sqrt_hidden(cls):
    m = cls(20, 64)
    bound = 1 / math.sqrt(64)
    values = np.concatenate([p.detach().numpy().ravel() for p in m.parameters()])
    assert np.abs(values).max() <= bound
    assert np.abs(values).max() > 0.95 * bound
    assert abs(values.std() - bound / math.sqrt(3)) < 0.05 * bound


def test_repr():
    assert repr(nn.LSTM(10, 20, 2, batch_first=True, bidirectional=True, proj_size=5,
                        dropout=0.1)) == ("LSTM(10, 20, proj_size=5, num_layers=2, "
                                          "batch_first=True, dropout=0.1, bidirectional=True)")
    assert repr(nn.RNN(10, 20, nonlinearity="relu", bias=False)) == "RNN(10, 20, bias=False)"
    assert repr(nn.GRU(3, 4)) == "GRU(3, 4)"
    assert repr(nn.RNNCell(3, 4, nonlinearity="relu")) == "RNNCell(3, 4, nonlinearity=relu)"
    assert repr(nn.GRUCell(3, 4, bias=False)) == "GRUCell(3, 4, bias=False)"


def test_constructor_errors():
    with pytest.raises(ValueError, match="Unknown nonlinearity 'sig'. Select from 'tanh' or "
                                         "'relu'."):
        nn.RNN(3, 4, nonlinearity="sig")
    with pytest.raises(ValueError, match="proj_size has to be smaller than hidden_size"):
        nn.LSTM(3, 4, proj_size=4)
    with pytest.raises(ValueError, match="proj_size argument is only supported for LSTM, not "
                                         "RNN or GRU"):
        nn.GRU(3, 4, proj_size=2)
    with pytest.raises(ValueError, match="dropout should be a number in range"):
        nn.LSTM(3, 4, dropout=1.5)
    with pytest.raises(ValueError, match="num_layers must be greater than zero"):
        nn.LSTM(3, 4, num_layers=0)
    with pytest.raises(ValueError, match="hidden_size must be greater than zero"):
        nn.LSTM(3, 0)
    with pytest.raises(TypeError, match="hidden_size should be of type int, got: float"):
        nn.LSTM(3, 4.0)
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        nn.LSTM(3, 4, dropout=0.5)


# -- forward semantics ---------------------------------------------------------------------------

@pytest.mark.parametrize("cls", [nn.RNN, nn.GRU, nn.LSTM])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_output_shapes(cls, batch_first, bidirectional):
    m = _layer(cls, num_layers=2, batch_first=batch_first, bidirectional=bidirectional)
    D = 2 if bidirectional else 1
    x = _t(B, T, I) if batch_first else _t(T, B, I)
    out, state = m(x)
    assert out.shape == ((B, T, D * H) if batch_first else (T, B, D * H))
    h = state[0] if cls is nn.LSTM else state
    assert h.shape == (2 * D, B, H)
    out, state = m(_t(T, I))  # unbatched
    assert out.shape == (T, D * H)
    assert (state[0] if cls is nn.LSTM else state).shape == (2 * D, H)


def test_lstm_proj_shapes():
    m = _layer(nn.LSTM, proj_size=2, bidirectional=True)
    out, (h, c) = m(_t(T, B, I))
    assert out.shape == (T, B, 4) and h.shape == (2, B, 2) and c.shape == (2, B, H)


@pytest.mark.parametrize("cls, cell_cls", [(nn.RNN, nn.RNNCell), (nn.GRU, nn.GRUCell),
                                           (nn.LSTM, nn.LSTMCell)])
def test_layer_equals_cell_loop(cls, cell_cls):
    """One layer over a sequence is its cell applied step by step from the same state."""
    m, cell = _layer(cls), _layer(cell_cls)
    for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
        getattr(cell, name).data = getattr(m, name + "_l0").data
    x, h0 = _t(T, B, I), _t(1, B, H)
    lstm = cls is nn.LSTM
    c0 = _t(1, B, H)
    out, state = m(x, (h0, c0) if lstm else h0)
    h, c = h0[0], c0[0]
    for t in range(T):
        if lstm:
            h, c = cell(x[t], (h, c))
        else:
            h = cell(x[t], h)
        assert_close(out[t], h)
    assert_close(state[0][0] if lstm else state[0], h)
    if lstm:
        assert_close(state[1][0], c)


def test_reverse_direction_reads_the_sequence_backwards():
    m = _layer(nn.GRU, bidirectional=True)
    x = _t(T, B, I)
    out, h = m(x)
    forward_only = nn.GRU(I, H).double()
    for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
        getattr(forward_only, name + "_l0").data = getattr(m, name + "_l0_reverse").data
    rev_out, rev_h = forward_only(x.flip(0))
    assert_close(out[:, :, H:], rev_out.flip(0))
    assert_close(h[1], rev_h[0])


@pytest.mark.parametrize("cls", [nn.RNN, nn.GRU, nn.LSTM])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_packed_input_matches_each_sequence_alone(cls, bidirectional):
    m = _layer(cls, num_layers=2, bidirectional=bidirectional)
    lengths = [3, 5, 1]
    seqs = [_t(n, I) for n in lengths]
    packed_out, state = m(pack_sequence(seqs, enforce_sorted=False))
    assert isinstance(packed_out, PackedSequence)
    padded, out_lengths = pad_packed_sequence(packed_out)
    assert out_lengths.tolist() == lengths
    h = state[0] if cls is nn.LSTM else state
    for i, s in enumerate(seqs):
        alone, alone_state = m(s)
        assert_close(padded[:lengths[i], i], alone)
        assert np.all(padded.detach().numpy()[lengths[i]:, i] == 0)
        alone_h = alone_state[0] if cls is nn.LSTM else alone_state
        assert_close(h[:, i], alone_h)


def test_packed_initial_state_follows_original_order():
    m = _layer(nn.LSTM)
    seqs = [_t(2, I), _t(4, I)]
    h0, c0 = _t(1, 2, H), _t(1, 2, H)
    _, (h, _) = m(pack_sequence(seqs, enforce_sorted=False), (h0, c0))
    for i, s in enumerate(seqs):
        _, (hi, _) = m(s, (h0[:, i], c0[:, i]))
        assert_close(h[:, i], hi)


def test_dropout_between_layers_only_in_training():
    m = _layer(nn.LSTM, num_layers=3, dropout=0.5)
    x = _t(T, B, I)
    m.eval()
    a, b = m(x)[0], m(x)[0]
    assert_close(a, b)
    m.train()
    tm.manual_seed(1)
    c = m(x)[0]
    tm.manual_seed(1)
    d = m(x)[0]
    assert_close(c, d)
    assert not np.allclose(a.detach().numpy(), c.detach().numpy())


def test_relu_rnn_is_nonnegative():
    m = _layer(nn.RNN, nonlinearity="relu", num_layers=2)
    out, h = m(_t(T, B, I))
    assert out.detach().numpy().min() >= 0 and h.detach().numpy().min() >= 0


# -- gradients -----------------------------------------------------------------------------------

def _params(m):
    return [p for _, p in m.named_parameters()]


def _with_params(m, params, fn):
    """fn() evaluated with m's parameters temporarily replaced (for gradcheck)."""
    names = [n for n, _ in m.named_parameters()]
    saved = {n: m._parameters[n] for n in names}
    try:
        for n, p in zip(names, params):
            m._parameters[n] = p
        return fn()
    finally:
        m._parameters.update(saved)


@pytest.mark.parametrize("cls, kwargs", [
    (nn.RNN, {"num_layers": 2, "bidirectional": True}),
    (nn.RNN, {"nonlinearity": "relu"}),
    (nn.GRU, {"num_layers": 2, "bidirectional": True}),
    (nn.LSTM, {"num_layers": 2, "bidirectional": True}),
    (nn.LSTM, {"proj_size": 2, "bias": False}),
])
def test_gradcheck_padded(cls, kwargs):
    tm.manual_seed(0)
    m = cls(2, 3, **kwargs).double()  # small: gradcheck perturbs every parameter
    x = _t(3, 2, 2, requires_grad=True)
    D = 2 if kwargs.get("bidirectional") else 1
    layers = kwargs.get("num_layers", 1)
    h0 = _t(layers * D, 2, kwargs.get("proj_size") or 3, requires_grad=True)
    c0 = _t(layers * D, 2, 3, requires_grad=True)

    def fn(x, h0, c0, *params):
        out = _with_params(m, params, lambda: m(x, (h0, c0) if cls is nn.LSTM else h0))
        return (out[0],) + (tuple(out[1]) if cls is nn.LSTM else (out[1],))

    assert gradcheck(fn, [x, h0, c0] + _params(m))


@pytest.mark.parametrize("cls", [nn.GRU, nn.LSTM])
def test_gradcheck_packed(cls):
    tm.manual_seed(0)
    m = cls(2, 3, bidirectional=True).double()
    x = _t(4, 3, 2, requires_grad=True)

    def fn(x, *params):
        def run():
            packed = pack_padded_sequence(x, [2, 4, 1], enforce_sorted=False)
            out, state = m(packed)
            return pad_packed_sequence(out)[0], state[0] if cls is nn.LSTM else state
        return _with_params(m, params, run)

    assert gradcheck(fn, [x] + _params(m))


@pytest.mark.parametrize("cls", [nn.RNNCell, nn.GRUCell, nn.LSTMCell])
def test_gradcheck_cells(cls):
    m = _layer(cls)
    x, h = _t(2, I, requires_grad=True), _t(2, H, requires_grad=True)

    def fn(x, h, *params):
        state = (h, h * 0.5) if cls is nn.LSTMCell else h
        return _with_params(m, params, lambda: m(x, state))

    assert gradcheck(fn, [x, h] + _params(m))


# -- errors --------------------------------------------------------------------------------------

def test_forward_errors():
    m = nn.LSTM(10, 20, 2)
    with pytest.raises(RuntimeError, match=r"input.size\(-1\) must be equal to input_size. "
                                           r"Expected 10, got 7"):
        m(tm.randn(5, 3, 7))
    with pytest.raises(ValueError, match="LSTM: Expected input to be 2D or 3D, got 4D "
                                         "instead"):
        m(tm.randn(5, 3, 4, 10))
    with pytest.raises(RuntimeError, match=r"Expected hidden\[0\] size \(2, 3, 20\), got "
                                           r"\[2, 4, 20\]"):
        m(tm.randn(5, 3, 10), (tm.randn(2, 4, 20), tm.randn(2, 3, 20)))
    with pytest.raises(RuntimeError, match=r"Expected hidden\[1\] size \(2, 3, 20\), got "
                                           r"\[1, 3, 20\]"):
        m(tm.randn(5, 3, 10), (tm.randn(2, 3, 20), tm.randn(1, 3, 20)))
    with pytest.raises(RuntimeError, match=r"For batched 3-D input, hx and cx should also be "
                                           r"3-D but got \(2-D, 2-D\) tensors"):
        m(tm.randn(5, 3, 10), (tm.randn(3, 20), tm.randn(3, 20)))
    g = nn.GRU(10, 20, 2)
    with pytest.raises(RuntimeError, match=r"Expected hidden size \(2, 3, 20\), got "
                                           r"\[2, 4, 20\]"):
        g(tm.randn(5, 3, 10), tm.randn(2, 4, 20))
    with pytest.raises(RuntimeError, match="For unbatched 2-D input, hx should also be 2-D but "
                                           "got 3-D tensor"):
        g(tm.randn(5, 10), tm.randn(2, 3, 20))
    with pytest.raises(ValueError, match="RNN: Expected input to be 2D or 3D, got 1D tensor "
                                         "instead"):
        nn.RNN(10, 20)(tm.randn(10))
    with pytest.raises(ValueError, match=r"RNN input dtype \(taimatsu.float64\) does not match "
                                         r"weight dtype \(taimatsu.float32\)"):
        g(tm.randn(5, 3, 10, dtype=tm.float64))


def test_cell_errors():
    c = nn.LSTMCell(10, 20)
    with pytest.raises(RuntimeError, match="input has inconsistent input_size: got 7 expected "
                                           "10"):
        c(tm.randn(3, 7))
    with pytest.raises(RuntimeError, match="Input batch size 3 doesn't match hidden0 batch "
                                           "size 4"):
        c(tm.randn(3, 10), (tm.randn(4, 20), tm.randn(3, 20)))
    with pytest.raises(ValueError, match="LSTMCell: Expected input to be 1D or 2D, got 3D "
                                         "instead"):
        c(tm.randn(3, 4, 10))
    with pytest.raises(RuntimeError, match="lstm_cell expects two hidden states"):
        c(tm.randn(3, 10), (tm.randn(3, 20),))
    g = nn.GRUCell(10, 20)
    with pytest.raises(RuntimeError, match="hidden0 has inconsistent hidden_size: got 21, "
                                           "expected 20"):
        g(tm.randn(3, 10), tm.randn(3, 21))
    with pytest.raises(ValueError, match="GRUCell: Expected hidden to be 1D or 2D, got 3D "
                                         "instead"):
        g(tm.randn(3, 10), tm.randn(1, 3, 20))
    with pytest.raises(RuntimeError, match="Unknown nonlinearity: sig"):
        nn.RNNCell(10, 20, nonlinearity="sig")(tm.randn(3, 10))


def test_state_dict_roundtrip_between_modules():
    a, b = nn.LSTM(3, 4, 2, bidirectional=True), nn.LSTM(3, 4, 2, bidirectional=True)
    b.load_state_dict(a.state_dict())
    x = tm.randn(5, 2, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert_close(a(x)[0], b(x)[0])


@pytest.mark.parametrize("cls", [nn.RNN, nn.GRU, nn.LSTM])
def test_backward_twice_with_retain_graph(cls):
    """Backward leaves what forward saved intact."""
    m = _layer(cls, bidirectional=True)
    x = _t(T, B, I, requires_grad=True)
    loss = m(x)[0].sum()
    loss.backward(retain_graph=True)
    first = x.grad.clone()
    x.grad = None
    loss.backward()
    assert_close(x.grad, first)
