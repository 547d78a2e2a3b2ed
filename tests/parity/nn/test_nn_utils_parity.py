"""nn.utils against torch.nn.utils: clipping, vectors, weight/spectral norm, fusion."""

import math

import numpy as np
import pytest

import taimatsu as tm
from taimatsu import nn
from taimatsu.nn import utils


def _grads(seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(dtype) for s in [(4, 3), (7,), (2, 2, 2)]]


def _params(lib, grads):
    params = []
    for g in grads:
        p = lib.nn.Parameter(lib.zeros(*g.shape, dtype=lib.float64 if g.dtype == np.float64
                                       else lib.float32))
        p.grad = lib.tensor(g.copy())
        params.append(p)
    return params


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 0.5, 3, math.inf, -math.inf, 0])
@pytest.mark.parametrize("max_norm", [0.1, 100.0])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_clip_grad_norm_matches(torch, norm_type, max_norm, dtype):
    grads = _grads(dtype=dtype)
    ours, theirs = _params(tm, grads), _params(torch, grads)
    t_ours = utils.clip_grad_norm_(ours, max_norm, norm_type)
    t_theirs = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    assert str(t_ours.dtype).split(".")[-1] == str(t_theirs.dtype).split(".")[-1]
    assert np.allclose(t_ours.numpy(), t_theirs.numpy(), rtol=rtol)
    for a, b in zip(ours, theirs):
        assert np.allclose(a.grad.numpy(), b.grad.numpy(), rtol=rtol, atol=0)


def test_clip_grad_norm_nonfinite_matches(torch):
    grads = _grads()
    grads[1][2] = np.nan
    ours, theirs = _params(tm, grads), _params(torch, grads)
    assert math.isnan(utils.clip_grad_norm_(ours, 1.0).item())
    assert math.isnan(torch.nn.utils.clip_grad_norm_(theirs, 1.0).item())
    for a, b in zip(ours, theirs):
        assert np.array_equal(np.isnan(a.grad.numpy()), np.isnan(b.grad.numpy()))
    with pytest.raises(RuntimeError) as e_ours:
        utils.clip_grad_norm_(_params(tm, grads), 1.0, error_if_nonfinite=True)
    with pytest.raises(RuntimeError) as e_theirs:
        torch.nn.utils.clip_grad_norm_(_params(torch, grads), 1.0, error_if_nonfinite=True)
    assert str(e_ours.value) == str(e_theirs.value)


def test_clip_grad_value_matches(torch):
    grads = _grads()
    ours, theirs = _params(tm, grads), _params(torch, grads)
    utils.clip_grad_value_(ours, 0.5)
    torch.nn.utils.clip_grad_value_(theirs, 0.5)
    for a, b in zip(ours, theirs):
        assert np.array_equal(a.grad.numpy(), b.grad.numpy())


def test_parameters_to_vector_matches(torch):
    grads = _grads()
    ours = [tm.tensor(g) for g in grads]
    theirs = [torch.tensor(g) for g in grads]
    v_ours = utils.parameters_to_vector(ours)
    v_theirs = torch.nn.utils.parameters_to_vector(theirs)
    assert np.array_equal(v_ours.numpy(), v_theirs.numpy())
    utils.vector_to_parameters(v_ours * 2, ours)
    torch.nn.utils.vector_to_parameters(v_theirs * 2, theirs)
    for a, b in zip(ours, theirs):
        assert np.array_equal(a.numpy(), b.numpy())


def _load_and_compare(ours, theirs, x, rtol=1e-5, atol=1e-6):
    state = {k: tm.tensor(v.detach().numpy().copy()) for k, v in theirs.state_dict().items()}
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict(state)
    xo = tm.tensor(x, requires_grad=True)
    xt = torch_tensor = __import__("torch").tensor(x, requires_grad=True)
    yo, yt = ours(xo), theirs(torch_tensor)
    assert np.allclose(yo.detach().numpy(), yt.detach().numpy(), rtol=rtol, atol=atol)
    seed = np.random.default_rng(1).standard_normal(yt.shape).astype(x.dtype)
    yo.backward(tm.tensor(seed))
    yt.backward(__import__("torch").tensor(seed))
    assert np.allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=rtol, atol=atol)
    named_t = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        assert np.allclose(p.grad.numpy(), named_t[name].grad.numpy(), rtol=rtol, atol=atol), name


@pytest.mark.parametrize("dim", [0, 1, None])
def test_weight_norm_parametrization_matches(torch, dim):
    ours = utils.parametrizations.weight_norm(nn.Linear(5, 4), dim=dim)
    theirs = torch.nn.utils.parametrizations.weight_norm(torch.nn.Linear(5, 4), dim=dim)
    x = np.random.default_rng(0).standard_normal((3, 5)).astype(np.float32)
    _load_and_compare(ours, theirs, x)


def test_weight_norm_initial_values_match(torch):
    ours, theirs = nn.Linear(5, 4), torch.nn.Linear(5, 4)
    ours.load_state_dict({k: tm.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    utils.parametrizations.weight_norm(ours)
    torch.nn.utils.parametrizations.weight_norm(theirs)
    for (n1, a), (n2, b) in zip(ours.state_dict().items(), theirs.state_dict().items()):
        assert n1 == n2 and np.allclose(a.numpy(), b.numpy(), rtol=1e-6)


def test_legacy_weight_norm_matches(torch):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        ours = utils.weight_norm(nn.Linear(5, 4))
        theirs = torch.nn.utils.weight_norm(torch.nn.Linear(5, 4))
    x = np.random.default_rng(0).standard_normal((3, 5)).astype(np.float32)
    _load_and_compare(ours, theirs, x)
    # a legacy checkpoint loads into the parametrized version, as in torch
    new = utils.parametrizations.weight_norm(nn.Linear(5, 4))
    new.load_state_dict({k: tm.tensor(v.detach().numpy()) for k, v in
                         theirs.state_dict().items()})
    assert np.allclose(new.weight.detach().numpy(), theirs.weight.detach().numpy(), rtol=1e-6)


@pytest.mark.parametrize("training", [True, False])
def test_spectral_norm_parametrization_matches(torch, training):
    ours = utils.parametrizations.spectral_norm(nn.Linear(5, 4))
    theirs = torch.nn.utils.parametrizations.spectral_norm(torch.nn.Linear(5, 4))
    ours.train(training)
    theirs.train(training)
    x = np.random.default_rng(0).standard_normal((3, 5)).astype(np.float32)
    _load_and_compare(ours, theirs, x, rtol=1e-4, atol=1e-5)
    for (n, a), (_, b) in zip(ours.named_buffers(), theirs.named_buffers()):
        assert np.allclose(a.numpy(), b.numpy(), rtol=1e-4, atol=1e-5), n


def test_legacy_spectral_norm_matches(torch):
    ours = utils.spectral_norm(nn.Linear(5, 4))
    theirs = torch.nn.utils.spectral_norm(torch.nn.Linear(5, 4))
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert ours.state_dict()._metadata[""] == theirs.state_dict()._metadata[""]
    x = np.random.default_rng(0).standard_normal((3, 5)).astype(np.float32)
    _load_and_compare(ours, theirs, x, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("num_features", [3, 1])
def test_fuse_linear_bn_matches(torch, num_features):
    if not hasattr(nn, "BatchNorm1d"):
        pytest.skip("BatchNorm1d is not written yet")
    rng = np.random.default_rng(0)
    t_lin, t_bn = torch.nn.Linear(4, 3), torch.nn.BatchNorm1d(num_features)
    with torch.no_grad():
        t_bn.running_mean.copy_(torch.tensor(rng.standard_normal(num_features)))
        t_bn.running_var.copy_(torch.tensor(rng.uniform(0.5, 2, num_features)))
        t_bn.weight.copy_(torch.tensor(rng.uniform(0.5, 2, num_features)))
    lin, bn = nn.Linear(4, 3), nn.BatchNorm1d(num_features)
    for ours, theirs in ((lin, t_lin), (bn, t_bn)):
        ours.load_state_dict({k: tm.tensor(v.numpy().copy()) for k, v in
                              theirs.state_dict().items()})
        ours.eval()
        theirs.eval()
    a = utils.fuse_linear_bn_eval(lin, bn)
    b = torch.nn.utils.fuse_linear_bn_eval(t_lin, t_bn)
    for (n1, p), (n2, q) in zip(a.named_parameters(), b.named_parameters()):
        assert n1 == n2 and p.requires_grad == q.requires_grad
        assert np.allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-6, atol=1e-7)


def test_fuse_conv_bn_weights_matches(torch):
    rng = np.random.default_rng(0)
    bn = [rng.standard_normal(4), rng.uniform(0.5, 2, 4), 1e-5, rng.uniform(0.5, 2, 4),
          rng.standard_normal(4)]
    for transpose in (False, True):
        # output channels: dim 0 of a conv weight, dim 1 of a conv-transpose weight
        w = rng.standard_normal((3, 4, 3, 3) if transpose else (4, 3, 3, 3))
        arrays = [w, None, *bn]

        def convert(lib, arrays=arrays):
            return [lib.tensor(a.astype(np.float32)) if isinstance(a, np.ndarray) else a
                    for a in arrays]

        a = utils.fuse_conv_bn_weights(*convert(tm), transpose=transpose)
        b = torch.nn.utils.fuse_conv_bn_weights(*convert(torch), transpose=transpose)
        for p, q in zip(a, b):
            assert p.requires_grad == q.requires_grad
            assert np.allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("shape", [(4, 4), (5, 3), (3, 5), (2, 4, 3)])
@pytest.mark.parametrize("orthogonal_map", [None, "matrix_exp", "cayley", "householder"])
@pytest.mark.parametrize("use_trivialization", [True, False])
def test_orthogonal_matches(torch, shape, orthogonal_map, use_trivialization):
    w = np.random.default_rng(0).standard_normal(shape)

    def build(lib):
        m = lib.nn.Module()
        m.weight = lib.nn.Parameter(lib.tensor(w))
        (utils if lib is tm else torch.nn.utils).parametrizations.orthogonal(
            m, orthogonal_map=orthogonal_map, use_trivialization=use_trivialization)
        return m

    ours, theirs = build(tm), build(torch)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    if not use_trivialization:  # deterministic: the same orthogonal matrix from w
        # (the exp and Cayley maps cannot invert: they start from w itself, as in torch)
        assert np.allclose(ours.weight.detach().numpy(), theirs.weight.detach().numpy(),
                           atol=1e-10)
    # from the same state both compute the same matrix and gradients
    rng = np.random.default_rng(1)
    state = {k: v.detach().numpy() + 0.1 * rng.standard_normal(v.shape) * (k.endswith(
        "original") and orthogonal_map != "householder") for k, v in
        theirs.state_dict().items()}
    ours.load_state_dict({k: tm.tensor(v) for k, v in state.items()})
    theirs.load_state_dict({k: torch.tensor(v) for k, v in state.items()})
    a, b = ours.weight, theirs.weight
    assert np.allclose(a.detach().numpy(), b.detach().numpy(), atol=1e-10)
    seed = rng.standard_normal(shape)
    (a * tm.tensor(seed)).sum().backward()
    (b * torch.tensor(seed)).sum().backward()
    ga = ours.parametrizations.weight.original.grad.numpy()
    gb = theirs.parametrizations.weight.original.grad.numpy()
    assert np.allclose(ga, gb, atol=1e-9)


def test_functional_call_matches_torch_func(torch):
    from torch.func import functional_call as torch_call

    from taimatsu.nn.utils.stateless import functional_call
    rng = np.random.default_rng(0)
    w, x = rng.standard_normal((2, 3)), rng.standard_normal((4, 3))
    results = []
    for lib, call in ((tm, functional_call), (torch, torch_call)):
        lin = lib.nn.Linear(3, 2, dtype=lib.float64)
        lin.load_state_dict({"weight": lib.tensor(w * 0), "bias": lib.tensor(np.ones(2))})
        wt = lib.tensor(w, requires_grad=True)
        out = call(lin, {"weight": wt}, (lib.tensor(x),))
        (out ** 2).sum().backward()
        results.append((out.detach().numpy(), wt.grad.numpy()))
        seq = lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.Linear(2, 2))
        with pytest.raises(Exception) as info:
            call(seq, {"0.weight": lib.eye(2), "x": lib.eye(2)}, lib.ones(1, 2), strict=True)
        results.append((type(info.value), str(info.value)))
    assert np.allclose(results[0][0], results[2][0]) and np.allclose(results[0][1], results[2][1])
    assert results[1] == results[3]
