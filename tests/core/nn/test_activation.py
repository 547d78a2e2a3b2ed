"""nn.functional activations and the activation layers: generated op cases plus in-place
variants, dtypes, softmax's implicit dim and stability, randomness, errors and reprs."""

import math
import warnings

import numpy as np
import pytest
from op_cases.nn_activation import CASES

import taimatsu as tm
from taimatsu import nn
from taimatsu.nn import functional as F
from taimatsu.testing import assert_close, generate_tests

globals().update(generate_tests(CASES))


def _x(*shape, dtype=tm.float64, requires_grad=False, seed=0):
    values = np.random.default_rng(seed).uniform(-3, 3, shape)
    return tm.tensor(values, dtype=dtype, requires_grad=requires_grad)


# -- in-place variants ---------------------------------------------------------------------

INPLACE = [
    ("relu", {}), ("relu6", {}), ("hardtanh", {"min_val": -0.5, "max_val": 2.0}),
    ("leaky_relu", {"negative_slope": 0.3}), ("elu", {"alpha": 0.7}), ("selu", {}),
    ("celu", {"alpha": 1.5}), ("threshold", {"threshold": 0.2, "value": -4.0}),
    ("silu", {}), ("mish", {}), ("hardsigmoid", {}), ("hardswish", {}),
    ("rrelu", {"lower": 0.2, "upper": 0.4}),
]


@pytest.mark.parametrize("name,kwargs", INPLACE, ids=[n for n, _ in INPLACE])
def test_inplace_writes_into_the_input_and_matches(name, kwargs):
    fn = getattr(F, name)
    x = _x(3, 4)
    expected = fn(x, **kwargs)
    version = x._version
    out = fn(x, inplace=True, **kwargs)
    assert out is x
    assert x._version > version
    assert_close(x, expected)


@pytest.mark.parametrize("name", ["relu_", "elu_", "selu_", "celu_", "leaky_relu_",
                                  "hardtanh_", "rrelu_"])
def test_underscore_functions_are_in_place(name):
    x = _x(5)
    expected = getattr(F, name[:-1])(x.clone())
    assert getattr(F, name)(x) is x
    assert_close(x, expected)
    t = _x(2)
    assert F.threshold_(t, 0.0, 9.0) is t


def test_inplace_relu_keeps_the_graph_of_a_non_leaf():
    a = _x(6, requires_grad=True)
    h = a * 2
    F.relu(h, inplace=True)
    h.sum().backward()
    assert_close(a.grad, (a.detach() > 0).double() * 2)
    assert h.grad_fn.name() == "ReluBackward0"


def test_inplace_on_a_leaf_that_requires_grad_is_refused():
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used "
                       "in an in-place operation."):
        F.relu(_x(3, requires_grad=True), inplace=True)


def test_tensor_methods():
    x = _x(3, 4)
    assert_close(x.relu(), F.relu(x))
    assert_close(x.softmax(1), F.softmax(x, 1))
    assert_close(x.log_softmax(-1, dtype=tm.float32), F.log_softmax(x.float(), -1))
    y = x.clone()
    assert y.relu_() is y
    assert_close(x.hardshrink(0.2), F.hardshrink(x, 0.2))
    w = tm.tensor([0.1, 0.2, 0.3, 0.4], dtype=tm.float64)
    assert_close(x.prelu(w), F.prelu(x, w))


# -- values and gradients at the kinks (PyTorch's choices) ----------------------------------

def _grad(fn, values):
    x = tm.tensor(values, dtype=tm.float64, requires_grad=True)
    fn(x).sum().backward()
    return x.grad.tolist()


def test_gradients_at_the_kinks_follow_pytorch():
    assert _grad(F.relu, [-1.0, 0.0, 2.0]) == [0.0, 0.0, 1.0]
    assert _grad(F.relu6, [0.0, 6.0, 3.0]) == [0.0, 0.0, 1.0]
    assert _grad(F.leaky_relu, [0.0, 1.0]) == [0.01, 1.0]
    assert _grad(F.hardsigmoid, [-3.0, 3.0, 0.0]) == [0.0, 0.0, 1 / 6]
    assert _grad(F.hardswish, [-3.0, 3.0, 4.0]) == [-0.5, 1.5, 1.0]
    assert _grad(lambda x: F.hardshrink(x, 0.5), [0.5, -0.5, 0.6]) == [0.0, 0.0, 1.0]
    assert _grad(lambda x: F.softshrink(x, 0.5), [0.5, -0.6]) == [0.0, 1.0]
    assert _grad(lambda x: F.threshold(x, 1.0, 5.0), [1.0, 1.5]) == [0.0, 1.0]


def test_large_magnitudes_stay_finite():
    x = tm.tensor([-1000.0, -50.0, 50.0, 1000.0])
    assert_close(F.logsigmoid(x), tm.tensor([-1000.0, -50.0, -1.9287499e-22, 0.0]))
    assert_close(F.softplus(x), tm.tensor([0.0, 1.9287499e-22, 50.0, 1000.0]))
    assert_close(F.silu(x), tm.tensor([0.0, -9.643749e-21, 50.0, 1000.0]))
    assert_close(F.mish(x), tm.tensor([0.0, -9.643749e-21, 50.0, 1000.0]))
    assert_close(F.elu(x), tm.tensor([-1.0, -1.0, 50.0, 1000.0]))
    x.requires_grad_(True)
    for fn in (F.logsigmoid, F.softplus, F.silu, F.mish, F.elu, F.gelu):
        (g,) = tm.autograd.grad(fn(x).sum(), [x])
        assert np.isfinite(g.numpy()).all(), fn.__name__


def test_softplus_threshold_switches_to_identity():
    x = tm.tensor([1.0, 4.0], dtype=tm.float64)
    out = F.softplus(x, beta=2.0, threshold=5.0)
    assert_close(out, tm.tensor([math.log1p(math.exp(2.0)) / 2, 4.0], dtype=tm.float64))


# -- dtypes -------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [tm.float16, tm.bfloat16])
@pytest.mark.parametrize("name", ["relu", "gelu", "silu", "elu", "leaky_relu", "hardswish",
                                  "softplus", "logsigmoid", "mish"])
def test_half_precision_keeps_its_dtype(name, dtype):
    x = _x(8, dtype=tm.float32)
    out = getattr(F, name)(x.to(dtype))
    assert out.dtype is dtype
    assert_close(out.float(), getattr(F, name)(x.to(dtype).float()), rtol=2e-2, atol=1e-2)


@pytest.mark.parametrize("dtype", [tm.float16, tm.bfloat16])
def test_half_precision_softmax(dtype):
    x = _x(4, 6, dtype=tm.float32).to(dtype)
    for fn in (F.softmax, F.log_softmax):
        out = fn(x, 1)
        assert out.dtype is dtype
        assert_close(out.float(), fn(x.float(), 1), rtol=2e-2, atol=1e-2)


def test_integer_inputs():
    ints = tm.tensor([-2, 0, 3])
    assert F.relu(ints).tolist() == [0, 0, 3] and F.relu(ints).dtype is tm.int64
    assert F.hardtanh(ints).tolist() == [-1, 0, 1] and F.hardtanh(ints).dtype is tm.int64
    assert F.threshold(ints, 0, 7).tolist() == [7, 7, 3]
    for fn, kernel in [(F.gelu, "GeluKernelImpl"), (F.elu, "elu_cpu"), (F.silu, "silu_cpu"),
                       (F.leaky_relu, "leaky_relu_cpu"), (F.softplus, "softplus_cpu"),
                       (F.logsigmoid, "log_sigmoid_cpu")]:
        with pytest.raises(NotImplementedError, match=f'"{kernel}" not implemented for '
                           "'Long'"):
            fn(ints)
    with pytest.raises(NotImplementedError, match="\"softmax_lastdim_kernel_impl\" not "
                       "implemented for 'Long'"):
        F.softmax(ints, 0)
    with pytest.raises(NotImplementedError, match="\"log_softmax_lastdim_kernel_impl\""):
        F.log_softmax(ints, -1)
    assert F.softmax(ints, 0, dtype=tm.float64).dtype is tm.float64


# -- softmax ------------------------------------------------------------------------------

@pytest.mark.parametrize("ndim,expected", [(0, 0), (1, 0), (2, 1), (3, 0), (4, 1)])
def test_implicit_softmax_dim_warns_and_follows_the_legacy_rule(ndim, expected):
    x = _x(*([3] * ndim)) if ndim else tm.tensor(0.5, dtype=tm.float64)
    for name in ("softmax", "softmin", "log_softmax"):
        with pytest.warns(UserWarning, match=f"Implicit dimension choice for {name} has been "
                          "deprecated. Change the call to include dim=X as an argument."):
            out = getattr(F, name)(x)
        assert_close(out, getattr(F, name)(x, expected))


def test_softmax_is_stable_and_normalized():
    x = tm.tensor([[1e4, 1e4 - 1.0, -1e4], [0.0, 0.0, 0.0]])
    p = F.softmax(x, 1)
    assert np.isfinite(p.numpy()).all()
    assert_close(p.sum(1), tm.ones(2))
    lp = F.log_softmax(x, 1)
    assert_close(lp[0, :2], tm.tensor([-0.31326169, -1.31326169]))
    assert lp[0, 2].item() == pytest.approx(-2e4 - 0.31326169, rel=1e-6)
    # a row of -inf has no normalization: nan, as in PyTorch
    assert np.isnan(F.softmax(tm.full((1, 3), -math.inf), 1).numpy()).all()


def test_softmax_of_empty_and_zero_dim_tensors():
    assert F.softmax(tm.zeros(0, 3), 1).shape == (0, 3)
    assert F.log_softmax(tm.zeros(3, 0), 1).shape == (3, 0)
    assert F.softmax(tm.tensor(2.0), 0).item() == 1.0
    assert F.log_softmax(tm.tensor(2.0), -1).item() == 0.0
    with pytest.raises(IndexError, match="Dimension out of range"):
        F.softmax(tm.zeros(2, 3), 2)


def test_softmin_is_softmax_of_the_negation():
    x = _x(3, 4)
    assert_close(F.softmin(x, 0), F.softmax(-x, 0))
    assert F.softmin(x, 1, dtype=tm.float32).dtype is tm.float32


def test_softmax_double_backward_matches_the_analytic_hessian():
    x = tm.tensor([0.3, -1.2, 2.0], dtype=tm.float64, requires_grad=True)
    w = tm.tensor([1.0, 0.0, 0.0], dtype=tm.float64)
    (g,) = tm.autograd.grad((F.softmax(x, 0) * w).sum(), [x], create_graph=True)
    (h,) = tm.autograd.grad(g[0], [x])
    p = F.softmax(x, 0).detach().numpy()
    # d^2 p0 / dx0 dxj = p0 (delta_0j - p_j) (1 - 2 p0) - p0 (1 - p0) ... built from the
    # Jacobian J = diag(p) - p p^T: d/dxj of J[0, 0] = p0 (1 - p0)
    expected = np.array([p[0] * (1 - p[0]) * (1 - 2 * p[0]),
                         -p[0] * p[1] * (1 - 2 * p[0]),
                         -p[0] * p[2] * (1 - 2 * p[0])])
    assert_close(h, tm.tensor(expected))


# -- random activations --------------------------------------------------------------------

def test_rrelu_training_draws_slopes_in_range_and_eval_uses_their_mean():
    tm.manual_seed(0)
    x = tm.tensor(np.linspace(-3, 3, 200), requires_grad=True)
    out = F.rrelu(x, 0.1, 0.3, training=True)
    ratio = (out / x).detach().numpy()
    neg = x.detach().numpy() < 0
    assert ((ratio[neg] >= 0.1) & (ratio[neg] <= 0.3)).all()
    assert len(np.unique(ratio[neg])) > 50
    assert (ratio[~neg & (x.detach().numpy() != 0)] == 1).all()
    out.sum().backward()
    assert_close(x.grad, tm.tensor(np.where(neg, ratio, 1.0)))
    assert_close(F.rrelu(x, 0.1, 0.3), F.leaky_relu(x, 0.2))
    assert out.grad_fn.name() == "RreluWithNoiseBackward0"


def test_gumbel_softmax_soft_and_hard():
    tm.manual_seed(1)
    logits = _x(4, 5, requires_grad=True)
    soft = F.gumbel_softmax(logits, tau=0.5)
    assert_close(soft.sum(-1), tm.ones(4, dtype=tm.float64))
    hard = F.gumbel_softmax(logits, hard=True)
    assert sorted(np.unique(hard.detach().numpy()).tolist()) == [0.0, 1.0]
    assert_close(hard.sum(-1), tm.ones(4, dtype=tm.float64))
    (g,) = tm.autograd.grad((hard * tm.arange(5.0, dtype=tm.float64)).sum(), [logits])
    assert np.abs(g.numpy()).sum() > 0  # straight-through: the soft sample's gradient
    tm.manual_seed(7)
    a = F.gumbel_softmax(logits.detach())
    tm.manual_seed(7)
    assert_close(F.gumbel_softmax(logits.detach()), a)
    with pytest.warns(UserWarning, match="`eps` parameter is deprecated"):
        F.gumbel_softmax(logits, eps=1e-3)


# -- argument errors ----------------------------------------------------------------------

def test_argument_errors_match_pytorch():
    x = _x(3, 4)
    with pytest.raises(RuntimeError, match="Halving dimension must be even, but dimension 0 "
                       "is size 3"):
        F.glu(x, 0)
    with pytest.raises(RuntimeError, match="glu does not support scalars"):
        F.glu(tm.tensor(1.0))
    with pytest.raises(RuntimeError, match="Mismatch of parameter numbers and input channel "
                       "size. Found parameter numbers = 3 and channel size = 4."):
        F.prelu(x, tm.ones(3, dtype=tm.float64))
    with pytest.raises(RuntimeError, match="prelu: Expected `weight` to be a scalar or 1D "
                       "tensor, but got: ndim = 2"):
        F.prelu(x, tm.ones(1, 4, dtype=tm.float64))
    with pytest.raises(RuntimeError, match="approximate argument must be either none or "
                       "tanh."):
        F.gelu(x, approximate="erf")
    with pytest.raises(ValueError, match="min_val cannot be greater than max_val"):
        F.hardtanh(x, 2.0, 1.0)
    with pytest.raises(RuntimeError, match=r"lambda must be in range \[0, 1.79769e\+308\] for "
                       "input dtype Double, but found -0.5"):
        F.softshrink(x, -0.5)
    with pytest.raises(RuntimeError, match=r"\[0, 3.40282e\+38\] for input dtype Float"):
        F.softshrink(x.float(), -1.0)
    with pytest.raises(TypeError, match=r"relu\(\): argument 'input' \(position 1\) must be "
                       "Tensor, not list"):
        F.relu([1.0])


def test_prelu_shapes():
    w = tm.tensor([0.25], dtype=tm.float64)
    assert F.prelu(tm.tensor(-2.0, dtype=tm.float64), w).item() == -0.5
    assert F.prelu(_x(5), w).shape == (5,)
    scalar_w = tm.tensor(0.5, dtype=tm.float64)
    assert_close(F.prelu(_x(2, 3), scalar_w), F.leaky_relu(_x(2, 3), 0.5))


def test_node_names_are_pytorchs():
    x = _x(3, 4, requires_grad=True)
    names = {
        "ReluBackward0": F.relu(x), "HardtanhBackward0": F.relu6(x),
        "LeakyReluBackward0": F.leaky_relu(x), "EluBackward0": F.selu(x),
        "CeluBackward0": F.celu(x), "GeluBackward0": F.gelu(x), "SiluBackward0": F.silu(x),
        "MishBackward0": F.mish(x), "SoftplusBackward0": F.softplus(x),
        "SoftmaxBackward0": F.softmax(x, 1), "LogSoftmaxBackward0": F.log_softmax(x, 1),
        "GluBackward0": F.glu(x), "LogSigmoidBackward0": F.logsigmoid(x),
        "PreluKernelBackward0": F.prelu(x, tm.ones(4, dtype=tm.float64)),
        "HardswishBackward0": F.hardswish(x), "ThresholdBackward0": F.threshold(x, 0, 1),
    }
    for name, out in names.items():
        assert out.grad_fn.name() == name


# -- layers -------------------------------------------------------------------------------

def test_layers_call_their_functional_forms():
    x = _x(2, 4, 3)
    pairs = [
        (nn.ReLU(), F.relu(x)), (nn.ReLU6(), F.relu6(x)), (nn.ELU(0.5), F.elu(x, 0.5)),
        (nn.CELU(2.0), F.celu(x, 2.0)), (nn.SELU(), F.selu(x)), (nn.GELU("tanh"),
                                                                  F.gelu(x, approximate="tanh")),
        (nn.SiLU(), F.silu(x)), (nn.Mish(), F.mish(x)), (nn.Sigmoid(), tm.sigmoid(x)),
        (nn.Tanh(), tm.tanh(x)), (nn.Hardtanh(-2, 2), F.hardtanh(x, -2, 2)),
        (nn.Hardsigmoid(), F.hardsigmoid(x)), (nn.Hardswish(), F.hardswish(x)),
        (nn.Softplus(2, 5), F.softplus(x, 2, 5)), (nn.Softsign(), F.softsign(x)),
        (nn.Softshrink(0.3), F.softshrink(x, 0.3)), (nn.Hardshrink(), F.hardshrink(x)),
        (nn.Tanhshrink(), F.tanhshrink(x)), (nn.Threshold(0.1, 2.0), F.threshold(x, 0.1, 2)),
        (nn.GLU(1), F.glu(x, 1)), (nn.LogSigmoid(), F.logsigmoid(x)),
        (nn.LeakyReLU(0.2), F.leaky_relu(x, 0.2)), (nn.Softmax(1), F.softmax(x, 1)),
        (nn.Softmin(2), F.softmin(x, 2)), (nn.LogSoftmax(0), F.log_softmax(x, 0)),
        (nn.Softmax2d(), F.softmax(x, -3)),
    ]
    for layer, expected in pairs:
        assert_close(layer(x), expected, msg=type(layer).__name__)


def test_rrelu_layer_is_random_only_in_training():
    layer = nn.RReLU(0.1, 0.3)
    x = _x(50)
    assert_close(layer.eval()(x), F.leaky_relu(x, 0.2))
    layer.train()
    assert not np.allclose(layer(x).numpy(), F.leaky_relu(x, 0.2).numpy())


def test_inplace_layer():
    x = _x(4)
    assert nn.ReLU(inplace=True)(x) is x
    assert (x.numpy() >= 0).all()


def test_softmax2d_rejects_other_ranks():
    with pytest.raises(ValueError, match="Softmax2d: expected input to be 3D or 4D, got 2D "
                       "instead"):
        nn.Softmax2d()(_x(2, 3))


def test_softmax_layer_with_implicit_dim_warns():
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        out = nn.Softmax()(_x(2, 3))
    assert_close(out.sum(1), tm.ones(2, dtype=tm.float64))


def test_prelu_layer_parameters():
    layer = nn.PReLU(3, init=0.1)
    assert isinstance(layer.weight, nn.Parameter)
    assert layer.weight.shape == (3,) and (layer.weight.detach().numpy() == np.float32(0.1)).all()
    assert [n for n, _ in layer.named_parameters()] == ["weight"]
    assert nn.PReLU(dtype=tm.float64).weight.dtype is tm.float64
    x = _x(2, 3, 4, dtype=tm.float32)
    layer(x).sum().backward()
    expected = np.where(x.numpy() > 0, 0, x.numpy()).sum((0, 2))
    assert_close(layer.weight.grad, tm.tensor(expected))


def test_hardtanh_layer_arguments():
    with pytest.raises(AssertionError, match=r"max_val \(1.0\) must be greater than min_val "
                       r"\(2.0\)"):
        nn.Hardtanh(2.0, 1.0)
    with pytest.warns(FutureWarning, match="keyword argument `min_value` is deprecated"):
        layer = nn.Hardtanh(min_value=-3.0)
    assert layer.min_val == -3.0


REPRS = [
    (nn.ReLU(), "ReLU()"), (nn.ReLU(inplace=True), "ReLU(inplace=True)"),
    (nn.ReLU6(True), "ReLU6(inplace=True)"), (nn.LeakyReLU(0.2), "LeakyReLU(negative_slope=0.2)"),
    (nn.Hardtanh(-2.0, 3.0, True), "Hardtanh(min_val=-2.0, max_val=3.0, inplace=True)"),
    (nn.ELU(), "ELU(alpha=1.0)"), (nn.CELU(0.5, True), "CELU(alpha=0.5, inplace=True)"),
    (nn.GELU(), "GELU(approximate='none')"), (nn.Softplus(), "Softplus(beta=1.0, "
                                                              "threshold=20.0)"),
    (nn.Softshrink(), "Softshrink(0.5)"), (nn.Hardshrink(0.2), "Hardshrink(0.2)"),
    (nn.Threshold(0.1, 20), "Threshold(threshold=0.1, value=20)"), (nn.GLU(), "GLU(dim=-1)"),
    (nn.Softmax(1), "Softmax(dim=1)"), (nn.LogSoftmax(), "LogSoftmax(dim=None)"),
    (nn.PReLU(), "PReLU(num_parameters=1)"), (nn.RReLU(), "RReLU(lower=0.125, "
                                                          "upper=0.3333333333333333)"),
    (nn.Hardswish(True), "Hardswish()"), (nn.SiLU(True), "SiLU(inplace=True)"),
    (nn.Softmax2d(), "Softmax2d()"), (nn.Sigmoid(), "Sigmoid()"),
]


@pytest.mark.parametrize("layer,text", REPRS, ids=[t for _, t in REPRS])
def test_layer_repr(layer, text):
    assert repr(layer) == text


def test_multihead_attention_is_exported_from_activation():
    from taimatsu.nn.modules import activation
    assert "MultiheadAttention" in activation.__all__
    assert activation.MultiheadAttention is nn.MultiheadAttention


def test_no_warnings_on_ordinary_calls():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.softmax(_x(2, 3), 1)
        F.relu(_x(2))


def test_gelu_float32_matches_the_exact_value_across_the_range():
    """float32 GELU evaluates erf through its own fitted erfc: check it against float64."""
    import scipy.special

    x = np.concatenate([np.linspace(-14, 14, 200001), [0.0, -0.0, 1e-30, -1e-30]])
    exact = 0.5 * x * scipy.special.erfc(-x / np.sqrt(2))
    got = tm.nn.functional.gelu(tm.tensor(x, dtype=tm.float32)).numpy().astype(np.float64)
    np.testing.assert_allclose(got, exact, rtol=2e-6, atol=1e-6)
    tail = (x < -2) & (x > -9)  # relative accuracy holds where 1 + erf is tiny
    np.testing.assert_allclose(got[tail], exact[tail], rtol=5e-5)
    specials = tm.tensor([float("inf"), float("nan")], dtype=tm.float32)
    out = tm.nn.functional.gelu(specials)
    assert out[0].item() == float("inf") and np.isnan(out[1].item())
