"""RNN / LSTM / GRU, their cells and nn.utils.rnn against PyTorch: same weights, same values
and gradients (inputs, initial states, every parameter)."""

import numpy as np
import pytest

import taimatsu as tm
import taimatsu.nn as nn
from taimatsu.nn.utils import rnn as rnn_utils
from taimatsu.testing import assert_close
from taimatsu.testing._module_case import check_module_parity

pytestmark = pytest.mark.filterwarnings("ignore:LSTM with projections:UserWarning")

I, H, T, B = 3, 4, 5, 2
TOL = {np.float32: {"rtol": 1e-5, "atol": 1e-6}, np.float64: {"rtol": 1e-10, "atol": 1e-12}}


def _pair(torch, name, dtype, *args, **kwargs):
    torch.manual_seed(0)
    theirs = getattr(torch.nn, name)(*args, **kwargs)
    ours = getattr(nn, name)(*args, **kwargs)
    if dtype == np.float64:
        theirs, ours = theirs.double(), ours.double()
    return ours, theirs


def _arrays(rng, dtype, *shapes):
    return [rng.standard_normal(s).astype(dtype) for s in shapes]


CONFIGS = [
    ("RNN", {}),
    ("RNN", {"nonlinearity": "relu", "num_layers": 2}),
    ("RNN", {"bias": False, "bidirectional": True}),
    ("GRU", {}),
    ("GRU", {"num_layers": 2, "bidirectional": True}),
    ("GRU", {"bias": False, "batch_first": True}),
    ("LSTM", {}),
    ("LSTM", {"num_layers": 2, "bidirectional": True}),
    ("LSTM", {"proj_size": 2, "batch_first": True}),
    ("LSTM", {"proj_size": 3, "num_layers": 2, "bidirectional": True, "bias": False}),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name, kwargs", CONFIGS)
@pytest.mark.parametrize("initial_state", [False, True])
def test_layer_parity(torch, name, kwargs, dtype, initial_state):
    ours, theirs = _pair(torch, name, dtype, I, H, **kwargs)
    rng = np.random.default_rng(1)
    x = _arrays(rng, dtype, (B, T, I) if kwargs.get("batch_first") else (T, B, I))[0]
    inputs = [x]
    if initial_state:
        states = (2 if kwargs.get("bidirectional") else 1) * kwargs.get("num_layers", 1)
        h0, c0 = _arrays(rng, dtype, (states, B, kwargs.get("proj_size") or H),
                         (states, B, H))
        inputs.append((h0, c0) if name == "LSTM" else h0)
    check_module_parity(ours, theirs, inputs, **TOL[dtype])


@pytest.mark.parametrize("name", ["RNN", "GRU", "LSTM"])
def test_unbatched_parity(torch, name):
    ours, theirs = _pair(torch, name, np.float64, I, H, num_layers=2, bidirectional=True)
    x, h0 = _arrays(np.random.default_rng(2), np.float64, (T, I), (4, H))
    check_module_parity(ours, theirs, [x, (h0, h0 * 0.5) if name == "LSTM" else h0],
                        **TOL[np.float64])


def test_dropout_eval_parity(torch):
    ours, theirs = _pair(torch, "LSTM", np.float32, I, H, num_layers=3, dropout=0.5)
    x = _arrays(np.random.default_rng(3), np.float32, (T, B, I))[0]
    check_module_parity(ours, theirs, [x], train=False, **TOL[np.float32])


class _Packed:
    """Wraps a recurrent layer: pad -> pack (unsorted lengths) -> layer -> pad back."""

    def __init__(self, lib, layer, lengths):
        self.lib, self.layer, self.lengths = lib, layer, lengths

    def __call__(self, x):
        utils = self.lib.nn.utils.rnn
        packed = utils.pack_padded_sequence(x, self.lengths, enforce_sorted=False)
        out, state = self.layer(packed)
        padded, _ = utils.pad_packed_sequence(out, total_length=x.shape[0])
        return padded, state


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name, kwargs", [("RNN", {"num_layers": 2}),
                                          ("GRU", {"bidirectional": True}),
                                          ("LSTM", {"num_layers": 2, "bidirectional": True}),
                                          ("LSTM", {"proj_size": 2, "bidirectional": True})])
def test_packed_parity(torch, name, kwargs, dtype):
    ours, theirs = _pair(torch, name, dtype, I, H, **kwargs)
    lengths = [3, 5, 1, 4]
    x = np.random.default_rng(4).standard_normal((5, 4, I)).astype(dtype)
    xo, xt = tm.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ours.load_state_dict({k: tm.tensor(v.detach().numpy()) for k, v in
                          theirs.state_dict().items()})
    (po, so), (pt, st) = _Packed(tm, ours, lengths)(xo), _Packed(torch, theirs, lengths)(xt)
    so = tuple(so) if name == "LSTM" else (so,)
    st = tuple(st) if name == "LSTM" else (st,)
    assert_close(po, pt, **TOL[dtype])
    for a, b in zip(so, st):
        assert_close(a, b, **TOL[dtype])
    rng = np.random.default_rng(5)
    seeds = [rng.standard_normal(tuple(t.shape)).astype(dtype) for t in (pt,) + st]
    sum(((o * tm.tensor(s)).sum() for o, s in zip((po,) + so, seeds)), tm.zeros(())).backward()
    sum((t * torch.tensor(s)).sum() for t, s in zip((pt,) + st, seeds)).backward()
    assert_close(xo.grad, xt.grad, **TOL[dtype])
    theirs_params = dict(theirs.named_parameters())
    for n, p in ours.named_parameters():
        assert_close(p.grad, theirs_params[n].grad, **TOL[dtype], msg=n)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name, kwargs", [("RNNCell", {}), ("RNNCell", {"nonlinearity": "relu"}),
                                          ("GRUCell", {}), ("GRUCell", {"bias": False}),
                                          ("LSTMCell", {})])
def test_cell_parity(torch, name, kwargs, dtype):
    ours, theirs = _pair(torch, name, dtype, I, H, **kwargs)
    x, h, c = _arrays(np.random.default_rng(6), dtype, (B, I), (B, H), (B, H))
    check_module_parity(ours, theirs, [x, (h, c) if name == "LSTMCell" else h],
                        **TOL[dtype])
    check_module_parity(ours, theirs, [x[0]], **TOL[dtype])  # unbatched, zero state


def test_state_dict_from_torch_loads(torch):
    torch.manual_seed(0)
    theirs = torch.nn.LSTM(I, H, 2, bidirectional=True, proj_size=2)
    ours = nn.LSTM(I, H, 2, bidirectional=True, proj_size=2)
    result = ours.load_state_dict({k: tm.tensor(v.numpy()) for k, v in
                                   theirs.state_dict().items()})
    assert not result.missing_keys and not result.unexpected_keys


def test_init_distribution_matches_torch(torch):
    torch.manual_seed(0)
    theirs = torch.nn.GRU(16, 64, 2)
    ours = nn.GRU(16, 64, 2)
    for (n, a), (_, b) in zip(ours.named_parameters(), theirs.named_parameters()):
        a, b = a.detach().numpy(), b.detach().numpy()
        assert abs(a.std() - b.std()) <= 4 * b.std() / np.sqrt(2 * b.size), n
        assert a.min() >= -1 / 8 and a.max() <= 1 / 8


# -- nn.utils.rnn ---------------------------------------------------------------------------------

@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("side", ["left", "right"])
def test_pad_sequence_parity(torch, batch_first, side):
    rng = np.random.default_rng(7)
    seqs = [rng.standard_normal((n, 2)) for n in (3, 1, 4)]
    ours = rnn_utils.pad_sequence([tm.tensor(s) for s in seqs], batch_first=batch_first,
                                  padding_value=-2.0, padding_side=side)
    theirs = torch.nn.utils.rnn.pad_sequence([torch.tensor(s) for s in seqs],
                                             batch_first=batch_first, padding_value=-2.0,
                                             padding_side=side)
    assert_close(ours, theirs)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("enforce_sorted", [False, True])
def test_pack_pad_parity(torch, batch_first, enforce_sorted):
    rng = np.random.default_rng(8)
    lengths = [5, 4, 2] if enforce_sorted else [2, 5, 4]
    x = rng.standard_normal((3, 5, 2) if batch_first else (5, 3, 2))
    ours = rnn_utils.pack_padded_sequence(tm.tensor(x), lengths, batch_first=batch_first,
                                          enforce_sorted=enforce_sorted)
    theirs = torch.nn.utils.rnn.pack_padded_sequence(torch.tensor(x), lengths,
                                                     batch_first=batch_first,
                                                     enforce_sorted=enforce_sorted)
    for a, b in zip(ours, theirs):
        if b is None:
            assert a is None
        else:
            assert_close(a, b)
    out_o = rnn_utils.pad_packed_sequence(ours, batch_first=batch_first, total_length=6)
    out_t = torch.nn.utils.rnn.pad_packed_sequence(theirs, batch_first=batch_first,
                                                   total_length=6)
    assert_close(out_o[0], out_t[0])
    assert out_o[1].tolist() == out_t[1].tolist()
