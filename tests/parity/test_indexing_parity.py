"""Parity of ops/indexing.py against PyTorch: generated cases, error messages, grad_fn
names, and gradients of reads and writes with repeated indices."""

import builtins
import warnings

import numpy as np
import pytest
from op_cases.indexing import CASES, ERRORS, GRAD_FN_NAMES

import taimatsu as tm
from taimatsu.testing import generate_parity_tests

globals().update(generate_parity_tests(CASES))

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("call, exc, message", [e[1:] for e in ERRORS],
                         ids=[e[0] for e in ERRORS])
def test_torch_raises_the_same_errors(call, exc, message):
    with pytest.raises(getattr(builtins, exc)) as info:
        call(torch)
    assert str(info.value).replace("torch.FloatTensor", "taimatsu.FloatTensor") == message


@pytest.mark.parametrize("call, name", [n[1:] for n in GRAD_FN_NAMES],
                         ids=[n[0] for n in GRAD_FN_NAMES])
def test_torch_grad_fn_names(call, name):
    x = torch.tensor([[0.5, -1.0, 2.0], [1.5, 0.25, -3.0]], requires_grad=True)
    assert type(call(torch, x).grad_fn).__name__ == name


# Each scenario runs on either library: it reads and writes with repeated indices, mixes
# basic and advanced indexing, and returns a scalar loss of a leaf `x` and a value `v`.
def _reads(m, x, v):
    i = m.tensor([[2, 0], [2, 2]])
    return (x[i] * v[1:]).sum() + (x[1:, [3, 3, 0]] ** 2).sum() + x[x > 0.2].sum() * 3


def _writes(m, x, v):
    y = x * 2
    y[m.tensor([1, 1, 0])] = v[:4] * 3  # repeated rows: v still gets every write's gradient
    y[:, [0, 2]] = v[4:5]
    y[2, 1:] = v[1:4]
    y[y > 1.5] = 0.0
    return (y * y).sum()


def _accumulating(m, x, v):
    y = (x * 1).index_put_((m.tensor([0, 0, 2]), m.tensor([1, 1, 3])), v[:3], accumulate=True)
    y = y.index_add(1, m.tensor([3, 3]), x[:, :2] * v[3])
    y = y.scatter_add(0, m.tensor([[1, 1, 1, 0]]), v[None, 1:5])
    return (y ** 3).sum()


def _mixed(m, x, v):
    y = x.clone()
    y[0][[1, 3]] = v[2:4]                         # advanced write through a basic view
    y[..., None][1, 2:, 0] = v[:2]                # basic write through a chain of views
    return (y.take(m.tensor([0, 5, 5, 11])) * y.masked_select(y < 0.5)[:4]).sum()


def _run(scenario, lib):
    rng = np.random.default_rng(7)
    x = lib.tensor(rng.uniform(-1, 2, (3, 4)), requires_grad=True)
    v = lib.tensor(rng.uniform(-1, 1, 5), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loss = scenario(lib, x, v)
    loss.backward()
    return loss.item(), x.grad.numpy(), v.grad.numpy()


@pytest.mark.parametrize("scenario", [_reads, _writes, _accumulating, _mixed],
                         ids=lambda f: f.__name__.strip("_"))
def test_gradients_with_repeated_indices_match_torch(scenario):
    ours, theirs = _run(scenario, tm), _run(scenario, torch)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("index", [
    (0, slice(None), [1, 2]), ([0, 1], slice(None), 0), (slice(None), [0, 1], slice(None), 0),
    (True, 0), (slice(None), True, [0, 1]), ([[0, 1], [1, 0]],), (None, 1, None, [2, 0]),
    (Ellipsis, [1, 0], slice(1, 3)), (np.array([[1], [0]]), [0, 2, 1]),
], ids=str)
def test_placement_of_advanced_dims_matches_torch(index):
    data = np.arange(120.0).reshape(2, 3, 4, 5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = tm.tensor(data)[index]
        theirs = torch.tensor(data)[index]
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
