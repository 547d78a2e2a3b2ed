"""nn.functional embedding ops against PyTorch."""

import numpy as np
import pytest
from op_cases.nn_norm import EMBEDDING_CASES, check_grad_parity

import taimatsu as tm
from taimatsu import nn
from taimatsu.nn import functional as F
from taimatsu.testing import assert_close, check_module_parity, generate_parity_tests

globals().update(generate_parity_tests(EMBEDDING_CASES))


@pytest.mark.parametrize("case", [c for c in EMBEDDING_CASES if c.grad], ids=lambda c: c.name)
def test_float32_grads_match_torch(case, torch):
    check_grad_parity(case, torch, tm.float32)


TOL = {"float32": dict(rtol=1e-5, atol=1e-5), "float64": dict(rtol=1e-10, atol=1e-12)}
RNG = np.random.default_rng(0)


def _weights(dtype, rows=12, dim=5):
    return RNG.standard_normal((rows, dim)).astype(dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kwargs", [{}, {"padding_idx": 3}, {"scale_grad_by_freq": True},
                                    {"padding_idx": -1, "scale_grad_by_freq": True}],
                         ids=lambda k: ",".join(f"{a}={b}" for a, b in k.items()) or "plain")
def test_embedding_gradients_match_torch(torch, dtype, kwargs):
    w = _weights(dtype)
    idx = RNG.integers(0, 12, (6, 7))
    idx[0, :3] = 3
    idx[1, :2] = 11
    ours, theirs = tm.tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)
    ya = F.embedding(tm.tensor(idx), ours, **kwargs)
    yb = torch.nn.functional.embedding(torch.from_numpy(idx), theirs, **kwargs)
    g = RNG.standard_normal(tuple(yb.shape)).astype(dtype)
    ya.backward(tm.tensor(g))
    yb.backward(torch.from_numpy(g))
    assert_close(ya, yb, **TOL[dtype])
    assert_close(ours.grad, theirs.grad, **TOL[dtype])


@pytest.mark.parametrize("max_norm, norm_type", [(1.0, 2.0), (0.5, 1.0), (2.0, 3.0)])
def test_embedding_max_norm_renormalizes_like_torch(torch, max_norm, norm_type):
    w = _weights("float64") * 2
    idx = np.array([[0, 4, 4], [7, 1, 0]])
    ours, theirs = tm.tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)
    ya = F.embedding(tm.tensor(idx), ours, max_norm=max_norm, norm_type=norm_type)
    yb = torch.nn.functional.embedding(torch.from_numpy(idx), theirs, max_norm=max_norm,
                                       norm_type=norm_type)
    assert_close(ya, yb, rtol=1e-12, atol=1e-12)
    assert_close(ours, theirs, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("layout", ["2d", "offsets", "last-offset", "padding"])
def test_embedding_bag_layer_matches_torch(torch, dtype, mode, layout):
    kwargs, forward, idx = {}, {}, RNG.integers(0, 12, 10)
    if layout == "2d":
        idx = idx.reshape(2, 5)
    elif layout == "offsets":
        forward["offsets"] = np.array([0, 4, 4, 9])
    elif layout == "last-offset":
        kwargs["include_last_offset"] = True
        forward["offsets"] = np.array([0, 3, 3, 10])
    else:
        idx[[1, 2, 7]] = 5
        kwargs["padding_idx"] = 5
        forward["offsets"] = np.array([0, 1, 3, 6])
    ours = nn.EmbeddingBag(12, 5, mode=mode, **kwargs).to(getattr(tm, dtype))
    theirs = torch.nn.EmbeddingBag(12, 5, mode=mode, **kwargs).to(getattr(torch, dtype))
    check_module_parity(ours, theirs, [idx, *forward.values()], **TOL[dtype])


def test_embedding_bag_per_sample_weights_match_torch(torch):
    w, idx = _weights("float64"), RNG.integers(0, 12, 9)
    psw = RNG.standard_normal(9)
    offsets = np.array([0, 2, 2, 6])
    ours = nn.EmbeddingBag(12, 5, mode="sum", padding_idx=0).double()
    theirs = torch.nn.EmbeddingBag(12, 5, mode="sum", padding_idx=0).double()
    idx[4] = 0
    with torch.no_grad():
        theirs.weight.copy_(torch.from_numpy(w))
    check_module_parity(ours, theirs, [idx, offsets, psw], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("cls", ["Embedding", "EmbeddingBag"])
def test_default_init_and_repr_match_torch(torch, cls):
    kwargs = {"padding_idx": 2}
    ours, theirs = getattr(nn, cls)(4000, 8, **kwargs), getattr(torch.nn, cls)(4000, 8, **kwargs)
    assert repr(ours) == repr(theirs)
    a, b = ours.weight.detach().numpy(), theirs.weight.detach().numpy()
    assert not a[2].any() and not b[2].any()
    assert abs(a.std() - b.std()) < 0.03 and abs(a.mean() - b.mean()) < 0.03
    pre = torch.randn(3, 2)
    mine = getattr(nn, cls).from_pretrained(tm.tensor(pre.numpy()), padding_idx=1)
    ref = getattr(torch.nn, cls).from_pretrained(pre, padding_idx=1)
    assert repr(mine) == repr(ref) and mine.weight.requires_grad == ref.weight.requires_grad
    assert_close(mine.weight, ref.weight)
