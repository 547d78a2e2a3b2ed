"""F.linear / F.bilinear and the Identity, Linear, Bilinear, LazyLinear, Flatten layers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from op_cases.nn_linear import CASES

import taimatsu as tm
from taimatsu import nn
from taimatsu.nn import functional as F
from taimatsu.testing import generate_tests

globals().update(generate_tests(CASES))


# -- F.linear ------------------------------------------------------------------------------------

def test_linear_node_names():
    w = tm.randn(3, 4, requires_grad=True)
    b = tm.randn(3, requires_grad=True)
    assert F.linear(tm.randn(2, 4), w, b).grad_fn.name() == "AddmmBackward0"
    assert F.linear(tm.randn(2, 4), w).grad_fn.name() == "MmBackward0"
    assert F.linear(tm.randn(5, 2, 4), w, b).grad_fn.name() == "ViewBackward0"
    assert F.linear(tm.randn(4), w, b).grad_fn.name() == "ViewBackward0"
    assert F.linear(tm.randn(4), w).grad_fn.name() == "SqueezeBackward4"


def test_linear_saves_only_what_backward_needs():
    x = tm.randn(8, 4)
    w = tm.randn(3, 4, requires_grad=True)
    out = F.linear(x, w)
    out.sum().backward()
    assert np.allclose(w.grad.numpy(), np.ones((8, 3)).T @ x.numpy(), atol=1e-5)
    x.requires_grad_(True)
    w2 = tm.randn(3, 4)
    F.linear(x, w2).sum().backward()
    assert np.allclose(x.grad.numpy(), np.ones((8, 3)) @ w2.numpy(), atol=1e-5)


def test_linear_detects_inplace_change_of_saved_input():
    x = tm.randn(2, 4, requires_grad=True).clone()
    w = tm.randn(3, 4, requires_grad=True)
    out = F.linear(x, w)
    x.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()


def test_linear_shape_errors():
    w = tm.randn(3, 4)
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied "
                                           r"\(5x5 and 4x3\)"):
        F.linear(tm.randn(5, 5), w)
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied "
                                           r"\(10x5 and 4x3\)"):
        F.linear(tm.randn(2, 5, 5), w)
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied "
                                           r"\(1x5 and 4x3\)"):
        F.linear(tm.randn(5), w)
    with pytest.raises(RuntimeError, match="mat1 and mat2 must have the same dtype, but got "
                                           "Double and Float"):
        F.linear(tm.randn(2, 4, dtype=tm.float64), w)
    with pytest.raises(TypeError, match="linear\\(\\): argument 'input' must be Tensor"):
        F.linear(np.ones((2, 4)), w)


def test_linear_low_precision_keeps_dtype():
    for dt in (tm.float16, tm.bfloat16):
        x = tm.randn(4, 8).to(dt)
        w = tm.randn(3, 8).to(dt)
        b = tm.randn(3).to(dt)
        out = F.linear(x, w, b)
        assert out.dtype == dt
        ref = x.float().numpy() @ w.float().numpy().T + b.float().numpy()
        assert np.allclose(out.float().numpy(), ref, atol=0.1)


def test_linear_double_backward_through_weight():
    x = tm.randn(3, 4, dtype=tm.float64, requires_grad=True)
    w = tm.randn(2, 4, dtype=tm.float64, requires_grad=True)
    out = F.linear(x, w).pow(2).sum()
    (gx,) = tm.autograd.grad(out, x, create_graph=True)
    gx.sum().backward()
    assert w.grad is not None and x.grad is not None


def test_bilinear_errors():
    w = tm.randn(2, 3, 4)
    with pytest.raises(RuntimeError, match="bilinear\\(\\): input1 size does not match weight "
                                           "size: got 5 but expected 3"):
        F.bilinear(tm.randn(2, 5), tm.randn(2, 4), w)
    with pytest.raises(RuntimeError, match="input batch dimensions do not match: got 2 and 3"):
        F.bilinear(tm.randn(2, 3), tm.randn(3, 4), w)
    with pytest.raises(RuntimeError, match="bias size does not match weight size: got 5 but "
                                           "expected 2"):
        F.bilinear(tm.randn(2, 3), tm.randn(2, 4), w, tm.randn(5))


# -- layers ----------------------------------------------------------------------------------------

def test_identity():
    x = tm.randn(2)
    assert nn.Identity(54, unused="x")(x) is x
    assert repr(nn.Identity()) == "Identity()"


def test_linear_layer_shapes_and_repr():
    lin = nn.Linear(4, 3)
    assert lin.weight.shape == (3, 4) and lin.bias.shape == (3,)
    assert lin(tm.randn(2, 5, 4)).shape == (2, 5, 3)
    assert repr(lin) == "Linear(in_features=4, out_features=3, bias=True)"
    no_bias = nn.Linear(4, 3, bias=False)
    assert no_bias.bias is None and list(no_bias.state_dict()) == ["weight"]
    assert repr(no_bias) == "Linear(in_features=4, out_features=3, bias=False)"
    assert nn.Linear(2, 2, dtype=tm.float64).weight.dtype == tm.float64


def test_linear_default_init_bounds():
    tm.manual_seed(0)
    lin = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    w, b = lin.weight.detach().numpy(), lin.bias.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.98 * bound
    assert np.abs(b).max() <= bound and np.abs(b).max() > 0.95 * bound
    # U(-bound, bound) has std bound / sqrt(3)
    assert abs(w.std() - bound / math.sqrt(3)) < 0.02 * bound
    assert abs(w.mean()) < 0.02 * bound


def test_linear_zero_in_features():
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        lin = nn.Linear(0, 3)
    assert lin(tm.randn(2, 0)).shape == (2, 3)
    assert np.all(lin.bias.detach().numpy() == 0)


def test_bilinear_layer():
    bil = nn.Bilinear(3, 4, 2)
    assert bil.weight.shape == (2, 3, 4) and bil.bias.shape == (2,)
    out = bil(tm.randn(5, 3), tm.randn(5, 4))
    assert out.shape == (5, 2)
    assert repr(bil) == "Bilinear(in1_features=3, in2_features=4, out_features=2, bias=True)"
    bound = 1 / math.sqrt(3)
    assert np.abs(bil.weight.detach().numpy()).max() <= bound


def test_lazy_linear_materializes_on_first_forward():
    lazy = nn.LazyLinear(3)
    assert isinstance(lazy.weight, nn.UninitializedParameter)
    assert lazy.has_uninitialized_params()
    assert repr(lazy) == "LazyLinear(in_features=0, out_features=3, bias=True)"
    out = lazy(tm.randn(2, 5))
    assert out.shape == (2, 3)
    assert type(lazy) is nn.Linear and lazy.in_features == 5
    assert type(lazy.weight) is nn.Parameter and lazy.weight.shape == (3, 5)
    bound = 1 / math.sqrt(5)
    assert np.abs(lazy.weight.detach().numpy()).max() <= bound
    assert not lazy._forward_pre_hooks and not lazy._load_state_dict_pre_hooks
    out.sum().backward()
    assert lazy.weight.grad.shape == (3, 5)


def test_lazy_linear_without_bias_and_parameter_errors():
    lazy = nn.LazyLinear(2, bias=False)
    assert lazy.bias is None
    lazy(tm.randn(1, 4))
    assert lazy.weight.shape == (2, 4)
    with pytest.raises(RuntimeError, match="Can't access the shape of an uninitialized"):
        _ = nn.LazyLinear(2).weight.shape
    with pytest.raises(ValueError, match="Attempted to use an uninitialized parameter in "
                                         "numel"):
        nn.LazyLinear(2).weight.numel()


def test_lazy_linear_loads_state_dict():
    src = nn.Linear(6, 2)
    lazy = nn.LazyLinear(2)
    lazy.load_state_dict(src.state_dict())
    assert lazy.weight.shape == (2, 6)
    assert np.array_equal(lazy.weight.detach().numpy(), src.weight.detach().numpy())
    x = tm.randn(3, 6)
    assert np.allclose(lazy(x).detach().numpy(), src(x).detach().numpy())
    assert type(lazy) is nn.Linear


def test_lazy_state_dict_keeps_placeholders():
    sd = nn.LazyLinear(2).state_dict()
    assert isinstance(sd["weight"], nn.UninitializedParameter)


def test_uninitialized_deepcopy_and_to():
    import copy
    lazy = nn.LazyLinear(2)
    clone = copy.deepcopy(lazy)
    assert isinstance(clone.weight, nn.UninitializedParameter)
    clone(tm.randn(1, 3))
    assert clone.weight.shape == (2, 3)
    lazy.double()
    lazy(tm.randn(1, 3, dtype=tm.float64))
    assert lazy.weight.dtype == tm.float64


def test_flatten_unflatten():
    x = tm.randn(2, 3, 4, 5)
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0, 2)(x).shape == (24, 5)
    assert repr(nn.Flatten()) == "Flatten(start_dim=1, end_dim=-1)"
    un = nn.Unflatten(1, (3, 4))
    assert un(tm.randn(2, 12)).shape == (2, 3, 4)
    assert nn.Unflatten(-1, [2, -1])(tm.randn(3, 8)).shape == (3, 2, 4)
    assert repr(un) == "Unflatten(dim=1, unflattened_size=(3, 4))"
    with pytest.raises(TypeError, match="unflattened_size must be tuple of ints, but found "
                                        "element of type float at pos 1"):
        nn.Unflatten(1, (3, 4.0))
    with pytest.raises(TypeError, match="unflattened_size must be a tuple of ints, but found "
                                        "type int"):
        nn.Unflatten(1, 3)
