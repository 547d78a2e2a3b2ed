"""nn.functional activations and the activation layers against PyTorch."""

import numpy as np
import pytest
from op_cases.nn_activation import CASES, check_grad_parity

import taimatsu as tm
from taimatsu import nn
from taimatsu.nn import functional as F
from taimatsu.testing import assert_close, check_module_parity, generate_parity_tests

globals().update(generate_parity_tests(CASES))


@pytest.mark.parametrize("case", [c for c in CASES if c.grad], ids=lambda c: c.name)
def test_float32_grads_match_torch(case, torch):
    check_grad_parity(case, torch, tm.float32)


LAYERS = [
    ("ReLU", (), (2, 3, 4)), ("ReLU6", (), (2, 3, 4)), ("LeakyReLU", (0.2,), (2, 3, 4)),
    ("ELU", (0.7,), (2, 3, 4)), ("CELU", (1.3,), (2, 3, 4)), ("SELU", (), (2, 3, 4)),
    ("GELU", (), (2, 3, 4)), ("GELU", ("tanh",), (2, 3, 4)), ("SiLU", (), (2, 3, 4)),
    ("Mish", (), (2, 3, 4)), ("Sigmoid", (), (2, 3, 4)), ("Tanh", (), (2, 3, 4)),
    ("Hardtanh", (-0.5, 0.5), (2, 3, 4)), ("Hardsigmoid", (), (2, 3, 4)),
    ("Hardswish", (), (2, 3, 4)), ("Softplus", (2.0, 3.0), (2, 3, 4)),
    ("Softsign", (), (2, 3, 4)), ("Softshrink", (0.3,), (2, 3, 4)),
    ("Hardshrink", (0.3,), (2, 3, 4)), ("Tanhshrink", (), (2, 3, 4)),
    ("Threshold", (0.1, -2.0), (2, 3, 4)), ("GLU", (1,), (2, 4, 3)),
    ("LogSigmoid", (), (2, 3, 4)), ("Softmax", (1,), (2, 3, 4)), ("Softmin", (-1,), (2, 3, 4)),
    ("LogSoftmax", (2,), (2, 3, 4)), ("Softmax2d", (), (2, 3, 4, 5)),
    ("Softmax2d", (), (3, 4, 5)), ("PReLU", (), (2, 3, 4)), ("PReLU", (3,), (2, 3, 4)),
    ("PReLU", (3, 0.1), (5, 3)), ("RReLU", (0.1, 0.3), (2, 3, 4)),
]


# PyTorch's double backward kernels of these use float32 constants (1/6 for hardsigmoid,
# 1/alpha for celu), so its float64 gradients carry float32 rounding; ours are exact.
_FLOAT32_CONSTANTS = ("Hardsigmoid", "CELU")


def _input(shape, dtype):
    """Values away from every layer's kinks (0, +-0.3, +-0.5, 0.1, +-3)."""
    rng = np.random.default_rng(0)
    x = rng.choice([-1.0, 1.0], shape) * rng.uniform(0.6, 2.9, shape)
    return x.astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,args,shape", LAYERS, ids=[f"{n}{a}" for n, a, _ in LAYERS])
def test_layer_matches_torch(name, args, shape, dtype, torch):
    ours = getattr(nn, name)(*args)
    theirs = getattr(torch.nn, name)(*args)
    if dtype == np.float64:
        ours.double()
        theirs.double()
    tol = {"rtol": 1e-5, "atol": 1e-6} if dtype == np.float32 else {"rtol": 1e-10, "atol": 1e-12}
    if dtype == np.float64 and name in _FLOAT32_CONSTANTS:
        tol = {"rtol": 1e-7, "atol": 1e-9}
    check_module_parity(ours, theirs, _input(shape, dtype), train=False, **tol)
    assert repr(ours) == repr(theirs)


def test_prelu_weight_gradient_and_init_match_torch(torch):
    for num in (1, 4):
        ours, theirs = nn.PReLU(num, 0.3), torch.nn.PReLU(num, 0.3)
        assert_close(ours.weight, theirs.weight.detach())
        x = np.random.default_rng(1).standard_normal((3, 4, 5)).astype(np.float32)
        check_module_parity(ours, theirs, x)
        assert ours.state_dict().keys() == theirs.state_dict().keys()


@pytest.mark.parametrize("name", ["relu", "gelu", "silu", "elu", "hardswish", "softplus",
                                  "logsigmoid", "mish", "leaky_relu"])
def test_bfloat16_matches_torch(name, torch):
    values = np.random.default_rng(2).uniform(-3, 3, 32).astype(np.float32)
    ours = getattr(F, name)(tm.tensor(values).bfloat16())
    theirs = getattr(torch.nn.functional, name)(torch.from_numpy(values).bfloat16())
    assert ours.dtype is tm.bfloat16
    assert_close(ours, theirs, atol=1e-2)


def test_softmax_double_backward_matches_torch(torch):
    x = np.random.default_rng(3).standard_normal((3, 5))
    w = np.random.default_rng(4).standard_normal((3, 5))
    results = []
    for lib, fn in ((tm, F), (torch, torch.nn.functional)):
        xt = lib.tensor(x, requires_grad=True)
        wt = lib.tensor(w)
        for op in (fn.softmax, fn.log_softmax):
            (g,) = lib.autograd.grad((op(xt, 1) * wt).sum(), [xt], create_graph=True)
            (h,) = lib.autograd.grad((g * g).sum(), [xt])
            results.append(h)
    assert_close(results[0], results[2], rtol=1e-10, atol=1e-12)
    assert_close(results[1], results[3], rtol=1e-10, atol=1e-12)
