"""nn.functional normalization ops against PyTorch."""

import numpy as np
import pytest
from op_cases.nn_norm import NORM_CASES, check_grad_parity

import taimatsu as tm
from taimatsu import nn
from taimatsu.testing import (
    assert_close,
    check_module_parity,
    generate_parity_tests,
    load_torch_state,
)

globals().update(generate_parity_tests(NORM_CASES))


@pytest.mark.parametrize("case", [c for c in NORM_CASES if c.grad], ids=lambda c: c.name)
def test_float32_grads_match_torch(case, torch):
    check_grad_parity(case, torch, tm.float32)


# Parameter gradients are sums over the batch: in float32 their rounding error is absolute
# (both libraries sum in float32, in different orders), hence atol alongside rtol.
TOL = {"float32": dict(rtol=1e-5, atol=1e-5), "float64": dict(rtol=1e-10, atol=1e-12)}

# (taimatsu layer, torch layer name, constructor args, kwargs, input shape)
LAYERS = [
    ("BatchNorm1d", (3,), {}, (8, 3)),
    ("BatchNorm1d", (3,), {"momentum": None}, (4, 3, 5)),
    ("BatchNorm1d", (3,), {"affine": False}, (6, 3)),
    ("BatchNorm1d", (3,), {"bias": False, "eps": 1e-3}, (6, 3)),
    ("BatchNorm2d", (4,), {"momentum": 0.3}, (3, 4, 5, 5)),
    ("BatchNorm2d", (4,), {"track_running_stats": False}, (3, 4, 2, 3)),
    ("BatchNorm3d", (2,), {}, (2, 2, 3, 2, 2)),
    ("SyncBatchNorm", (3,), {}, (4, 3, 2, 2)),
    ("InstanceNorm1d", (3,), {"affine": True, "track_running_stats": True}, (4, 3, 6)),
    ("InstanceNorm1d", (3,), {}, (3, 6)),
    ("InstanceNorm2d", (3,), {"affine": True}, (2, 3, 4, 4)),
    ("InstanceNorm3d", (2,), {"track_running_stats": True, "momentum": None}, (2, 2, 3, 2, 2)),
    ("LayerNorm", (5,), {}, (4, 3, 5)),
    ("LayerNorm", ([3, 5],), {"elementwise_affine": False}, (4, 3, 5)),
    ("LayerNorm", (5,), {"bias": False, "eps": 1e-3}, (6, 5)),
    ("GroupNorm", (2, 4), {}, (3, 4, 5)),
    ("GroupNorm", (1, 4), {"affine": False}, (3, 4, 2, 2)),
    ("GroupNorm", (2, 4), {"bias": False}, (3, 4, 3)),
    ("RMSNorm", (5,), {}, (4, 5)),
    ("RMSNorm", ([3, 5],), {"eps": 1e-3, "elementwise_affine": False}, (2, 3, 5)),
    ("LocalResponseNorm", (3,), {}, (2, 5, 4, 4)),
    ("LocalResponseNorm", (2,), {"alpha": 0.1, "beta": 0.5, "k": 2.0}, (2, 5, 6)),
]


def _layer_id(spec):
    name, args, kwargs, shape = spec
    extra = ",".join(f"{k}={v}" for k, v in kwargs.items())
    return f"{name}{list(args)}{'[' + extra + ']' if extra else ''}{list(shape)}"


def _pair(torch, spec, dtype):
    name, args, kwargs, _ = spec
    ours = getattr(nn, name)(*args, **kwargs).to(getattr(tm, dtype))
    theirs = getattr(torch.nn, name)(*args, **kwargs).to(getattr(torch, dtype))
    rng = np.random.default_rng(7)
    with torch.no_grad():  # non-trivial affine parameters
        for p in theirs.parameters():
            p.copy_(torch.from_numpy(rng.uniform(0.5, 1.5, tuple(p.shape))))
    return ours, theirs


def _batches(shape, dtype, count, seed=0):
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal(shape) * (1 + k) + k).astype(dtype) for k in range(count)]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("spec", LAYERS, ids=_layer_id)
def test_layer_matches_torch(torch, spec, dtype):
    ours, theirs = _pair(torch, spec, dtype)
    check_module_parity(ours, theirs, _batches(spec[3], dtype, 1)[0], **TOL[dtype])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("spec", [s for s in LAYERS if "Norm" in s[0] and "Batch" in s[0]
                                  or "Instance" in s[0]], ids=_layer_id)
def test_running_stats_after_training_steps_and_eval(torch, spec, dtype):
    """Several training steps (outputs, input and parameter grads, buffers), then eval."""
    ours, theirs = _pair(torch, spec, dtype)
    load_torch_state(ours, theirs)
    tol = TOL[dtype]
    rng = np.random.default_rng(1)
    for x in _batches(spec[3], dtype, 4):
        a, b = tm.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        ya, yb = ours(a), theirs(b)
        assert_close(ya, yb, **tol)
        g = rng.standard_normal(tuple(yb.shape)).astype(dtype)
        ya.backward(tm.tensor(g))
        yb.backward(torch.from_numpy(g))
        assert_close(a.grad, b.grad, **tol)
        for p, q in zip(ours.parameters(), theirs.parameters()):
            assert_close(p.grad, q.grad, **tol)
    for buf, theirs_buf in zip(ours.buffers(), theirs.buffers()):
        assert_close(buf, theirs_buf, **tol)
    ours.eval()
    theirs.eval()
    x = _batches(spec[3], dtype, 1, seed=5)[0]
    assert_close(ours(tm.tensor(x)), theirs(torch.from_numpy(x)), **tol)


@pytest.mark.parametrize("name, args", [("BatchNorm2d", (3,)), ("InstanceNorm1d", (3,)),
                                        ("LayerNorm", ([2, 3],)), ("GroupNorm", (2, 4)),
                                        ("RMSNorm", (3,))])
def test_default_state_matches_torch(torch, name, args):
    ours = getattr(nn, name)(*args).state_dict()
    theirs = getattr(torch.nn, name)(*args).state_dict()
    assert list(ours) == list(theirs)
    for key in ours:
        assert_close(ours[key], theirs[key], msg=key)
    assert repr(getattr(nn, name)(*args)) == repr(getattr(torch.nn, name)(*args))


def test_torch_checkpoint_loads_into_batchnorm(torch):
    theirs = torch.nn.BatchNorm2d(3)
    theirs(torch.randn(4, 3, 2, 2))
    ours = nn.BatchNorm2d(3)
    ours.load_state_dict({k: tm.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    assert ours.num_batches_tracked.item() == 1
    assert_close(ours.running_var, theirs.running_var)
