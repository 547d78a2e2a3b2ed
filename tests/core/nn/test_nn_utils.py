"""nn.utils: clipping, parameter vectors, parametrizations, weight/spectral norm, fusion."""

from __future__ import annotations

import copy
import math
import pickle

import numpy as np
import pytest

import taimatsu as tm
from taimatsu import nn
from taimatsu.nn import utils
from taimatsu.nn.utils import parametrize


def _np(t):
    return t.detach().numpy()


def _params_with_grads(*grads):
    params = []
    for g in grads:
        p = nn.Parameter(tm.zeros(*np.shape(g)))
        p.grad = tm.tensor(np.asarray(g, dtype=np.float32))
        params.append(p)
    return params


# -- clipping --------------------------------------------------------------------------------------

@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
def test_clip_grad_norm(norm_type):
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal((3, 4)), rng.standard_normal(5)]
    params = _params_with_grads(*grads)
    flat = np.concatenate([g.ravel() for g in grads]).astype(np.float32)
    expected = (np.abs(flat).max() if norm_type == math.inf
                else (np.abs(flat) ** norm_type).sum() ** (1 / norm_type))
    total = utils.clip_grad_norm_(params, max_norm=0.5, norm_type=norm_type)
    assert total.shape == () and total.dtype == tm.float32
    assert total.item() == pytest.approx(expected, rel=1e-5)
    coef = 0.5 / (expected + 1e-6)
    for p, g in zip(params, grads):
        assert np.allclose(_np(p.grad), g * coef, rtol=1e-5)


def test_clip_grad_norm_does_not_scale_up_and_skips_missing_grads():
    params = _params_with_grads([0.3, 0.4])
    params.append(nn.Parameter(tm.ones(2)))  # no grad
    total = utils.clip_grad_norm_(iter(params), 10.0)
    assert total.item() == pytest.approx(0.5)
    assert np.allclose(_np(params[0].grad), [0.3, 0.4])
    assert utils.clip_grad_norm_([nn.Parameter(tm.ones(1))], 1.0).item() == 0.0


def test_clip_grad_norm_single_tensor_and_nonfinite():
    (p,) = _params_with_grads([3.0, 4.0])
    assert utils.clip_grad_norm_(p, 1.0, foreach=True).item() == pytest.approx(5.0)
    (q,) = _params_with_grads([np.inf, 1.0])
    with pytest.raises(RuntimeError, match="The total norm of order 2.0 for gradients from "
                                           "`parameters` is non-finite"):
        utils.clip_grad_norm_(q, 1.0, error_if_nonfinite=True)
    assert math.isinf(utils.clip_grad_norm_(q, 1.0).item())


def test_get_total_norm_and_clip_grads_with_norm():
    params = _params_with_grads([3.0], [4.0])
    total = utils.get_total_norm([p.grad for p in params])
    assert total.item() == pytest.approx(5.0)
    utils.clip_grads_with_norm_(params, 1.0, total)
    assert params[0].grad.item() == pytest.approx(0.6, rel=1e-5)


def test_clip_grad_value():
    params = _params_with_grads([-3.0, 0.5, 2.0])
    utils.clip_grad_value_(params, 1)
    assert _np(params[0].grad).tolist() == [-1.0, 0.5, 1.0]


def test_clip_grad_norm_half_precision():
    p = nn.Parameter(tm.zeros(2, dtype=tm.float16))
    p.grad = tm.tensor([3.0, 4.0], dtype=tm.float16)
    total = utils.clip_grad_norm_([p], 1.0)
    assert total.dtype == tm.float16 and total.item() == pytest.approx(5.0)
    assert np.allclose(p.grad.float().numpy(), [0.6, 0.8], atol=1e-3)


def test_clip_grad_norm_deprecated_alias():
    params = _params_with_grads([3.0, 4.0])
    with pytest.warns(FutureWarning, match="clip_grad_norm` is now deprecated"):
        utils.clip_grad_norm(params, 1.0)


# -- parameters <-> vector --------------------------------------------------------------------------

def test_parameters_to_vector_and_back():
    lin = nn.Linear(3, 2)
    vec = utils.parameters_to_vector(lin.parameters())
    assert vec.shape == (8,)
    assert np.array_equal(_np(vec[:6]), _np(lin.weight).ravel())
    vec.sum().backward()  # differentiable
    assert np.all(_np(lin.weight.grad) == 1)
    new = tm.arange(8.0)
    utils.vector_to_parameters(new, lin.parameters())
    assert _np(lin.weight).tolist() == [[0, 1, 2], [3, 4, 5]]
    assert _np(lin.bias).tolist() == [6, 7]
    assert isinstance(lin.weight, nn.Parameter)
    with pytest.raises(TypeError, match="expected taimatsu.Tensor, but got: list"):
        utils.vector_to_parameters([1.0], lin.parameters())


# -- parametrize ---------------------------------------------------------------------------------------

class Symmetric(nn.Module):
    def forward(self, x):
        return x.triu() + x.triu(1).transpose(-1, -2)


class Double(nn.Module):
    def forward(self, x):
        return 2 * x

    def right_inverse(self, x):
        return x / 2


def test_register_parametrization_and_state_dict_names():
    lin = nn.Linear(3, 3)
    original = lin.weight
    parametrize.register_parametrization(lin, "weight", Symmetric())
    assert parametrize.is_parametrized(lin) and parametrize.is_parametrized(lin, "weight")
    assert not parametrize.is_parametrized(lin, "bias")
    assert type(lin).__name__ == "ParametrizedLinear"
    assert parametrize.type_before_parametrizations(lin) is nn.Linear
    w = _np(lin.weight)
    assert np.array_equal(w, w.T)
    assert lin.parametrizations.weight.original is original
    assert list(lin.state_dict()) == ["bias", "parametrizations.weight.original"]
    x = tm.randn(2, 3)
    assert np.allclose(_np(lin(x)), _np(x) @ w.T + _np(lin.bias), atol=1e-6)
    lin(x).sum().backward()
    assert original.grad is not None
    assert "ParametrizationList" in repr(lin)


def test_parametrization_setter_uses_right_inverse():
    lin = nn.Linear(2, 2)
    parametrize.register_parametrization(lin, "weight", Double())
    lin.weight = tm.ones(2, 2)
    assert np.allclose(_np(lin.parametrizations.weight.original), 0.5)
    assert np.allclose(_np(lin.weight), 1.0)
    lin2 = nn.Linear(2, 2)
    parametrize.register_parametrization(lin2, "weight", Symmetric())
    with pytest.raises(RuntimeError, match="parametrization Symmetric does not implement "
                                           "right_inverse"):
        lin2.weight = tm.ones(2, 2)


def test_chained_parametrizations_and_removal():
    lin = nn.Linear(2, 2)
    w0 = _np(lin.weight).copy()
    parametrize.register_parametrization(lin, "weight", Double())
    assert np.allclose(_np(lin.weight), w0)  # right_inverse made the value unchanged
    # a chained parametrization applies on top; the originals stay as they are (as torch)
    parametrize.register_parametrization(lin, "weight", Double())
    assert np.allclose(_np(lin.weight), 2 * w0)
    assert np.allclose(_np(lin.parametrizations.weight.original), w0 / 2)
    parametrize.remove_parametrizations(lin, "weight", leave_parametrized=False)
    assert type(lin) is nn.Linear and not hasattr(lin, "parametrizations")
    assert np.allclose(_np(lin.weight), w0 / 2)
    assert isinstance(lin.weight, nn.Parameter)
    parametrize.register_parametrization(lin, "weight", Double())
    parametrize.remove_parametrizations(lin, "weight")  # leaves the parametrized value
    assert np.allclose(_np(lin.weight), w0 / 2)
    with pytest.raises(ValueError, match="does not have a parametrization on weight"):
        parametrize.remove_parametrizations(lin, "weight")


def test_parametrization_checks():
    class Shrink(nn.Module):
        def forward(self, x):
            return x[:1]

    with pytest.raises(ValueError, match="Registering a parametrization may not change the "
                                         "shape of the tensor"):
        parametrize.register_parametrization(nn.Linear(2, 2), "weight", Shrink())
    parametrize.register_parametrization(nn.Linear(2, 2), "weight", Shrink(), unsafe=True)
    with pytest.raises(ValueError, match="does not have a parameter, a buffer, or a "
                                         "parametrized element with name 'nope'"):
        parametrize.register_parametrization(nn.Linear(2, 2), "nope", Double())


def test_parametrize_cached_and_buffers():
    calls = []

    class Count(nn.Module):
        def forward(self, x):
            calls.append(1)
            return x

    m = nn.Module()
    m.register_buffer("b", tm.ones(2))
    parametrize.register_parametrization(m, "b", Count())
    calls.clear()
    with parametrize.cached():
        _ = m.b
        _ = m.b
    assert len(calls) == 1
    _ = m.b
    assert len(calls) == 2
    assert list(m.state_dict()) == ["parametrizations.b.original"]
    assert "original" in m.parametrizations.b._buffers


def test_parametrized_module_deepcopies_but_does_not_pickle():
    lin = nn.Linear(2, 2)
    parametrize.register_parametrization(lin, "weight", Double())
    clone = copy.deepcopy(lin)
    assert np.allclose(_np(clone.weight), _np(lin.weight))
    assert clone.parametrizations.weight.original is not lin.parametrizations.weight.original
    with pytest.raises(RuntimeError, match="Serialization of parametrized modules is only "
                                           "supported through state_dict"):
        pickle.dumps(lin)


# -- weight_norm / spectral_norm -------------------------------------------------------------------------

def test_weight_norm_parametrization():
    lin = nn.Linear(4, 3)
    w0 = _np(lin.weight).copy()
    utils.parametrizations.weight_norm(lin)
    g = lin.parametrizations.weight.original0
    v = lin.parametrizations.weight.original1
    assert g.shape == (3, 1) and v.shape == (3, 4)
    assert np.allclose(_np(g).ravel(), np.linalg.norm(w0, axis=1), rtol=1e-6)
    assert np.allclose(_np(lin.weight), w0, atol=1e-6)
    assert list(lin.state_dict()) == ["bias", "parametrizations.weight.original0",
                                      "parametrizations.weight.original1"]
    lin(tm.randn(2, 4)).sum().backward()
    assert g.grad is not None and v.grad is not None
    whole = utils.parametrizations.weight_norm(nn.Linear(4, 3), dim=None)
    assert whole.parametrizations.weight.original0.shape == ()


def test_weight_norm_legacy_names_and_loading_into_parametrization():
    lin = nn.Linear(4, 3)
    w0 = _np(lin.weight).copy()
    with pytest.warns(FutureWarning, match="weight_norm` is deprecated"):
        utils.weight_norm(lin)
    assert list(lin.state_dict()) == ["bias", "weight_g", "weight_v"]
    assert np.allclose(_np(lin(tm.eye(4))), w0.T + _np(lin.bias), atol=1e-6)
    new = utils.parametrizations.weight_norm(nn.Linear(4, 3))
    new.load_state_dict(lin.state_dict())
    assert np.allclose(_np(new.weight), w0, atol=1e-6)
    utils.remove_weight_norm(lin)
    assert list(lin.state_dict()) == ["bias", "weight"]
    assert np.allclose(_np(lin.weight), w0, atol=1e-6)
    with pytest.raises(ValueError, match="weight_norm of 'weight' not found in"):
        utils.remove_weight_norm(lin)


def _sigma(w):
    return np.linalg.svd(w.reshape(w.shape[0], -1), compute_uv=False)[0]


def test_spectral_norm_parametrization():
    tm.manual_seed(0)
    lin = nn.Linear(6, 5)
    utils.parametrizations.spectral_norm(lin)
    assert list(lin.state_dict()) == ["bias", "parametrizations.weight.original",
                                      "parametrizations.weight.0._u",
                                      "parametrizations.weight.0._v"]
    for _ in range(20):
        w = lin.weight
    assert _sigma(_np(w)) == pytest.approx(1.0, abs=1e-3)
    lin.eval()
    u_before = _np(lin.parametrizations.weight[0]._u).copy()
    _ = lin.weight
    assert np.array_equal(u_before, _np(lin.parametrizations.weight[0]._u))
    lin(tm.randn(2, 6)).sum().backward()
    assert lin.parametrizations.weight.original.grad is not None
    with pytest.raises(ValueError, match="has no parameter or buffer with name 'nope'"):
        utils.parametrizations.spectral_norm(nn.Linear(2, 2), name="nope")
    with pytest.raises(ValueError, match="Expected n_power_iterations to be positive"):
        utils.parametrizations.spectral_norm(nn.Linear(2, 2), n_power_iterations=0)


def test_spectral_norm_legacy():
    tm.manual_seed(0)
    lin = nn.Linear(6, 5)
    utils.spectral_norm(lin)
    assert list(lin.state_dict()) == ["bias", "weight_orig", "weight_u", "weight_v"]
    sd = lin.state_dict()
    assert sd._metadata[""]["spectral_norm"] == {"weight.version": 1}
    for _ in range(20):
        lin(tm.randn(1, 6))
    assert _sigma(_np(lin.weight)) == pytest.approx(1.0, abs=1e-3)
    other = utils.spectral_norm(nn.Linear(6, 5))
    other.load_state_dict(lin.state_dict())
    utils.remove_spectral_norm(lin)
    assert list(lin.state_dict()) == ["bias", "weight"]
    assert _sigma(_np(lin.weight)) == pytest.approx(1.0, abs=1e-3)
    with pytest.raises(RuntimeError, match="Cannot register two spectral_norm hooks"):
        utils.spectral_norm(utils.spectral_norm(nn.Linear(2, 2)))


# -- fusion --------------------------------------------------------------------------------------------

class _BN(nn.Module):
    """A stand-in with BatchNorm's state (the fusion reads only these attributes)."""

    def __init__(self, n):
        super().__init__()
        self.num_features = n
        self.eps = 1e-5
        self.weight = nn.Parameter(tm.rand(n) + 0.5)
        self.bias = nn.Parameter(tm.randn(n))
        self.register_buffer("running_mean", tm.randn(n))
        self.register_buffer("running_var", tm.rand(n) + 0.5)

    def forward(self, x):
        shape = (1, -1) + (1,) * (x.ndim - 2)
        return ((x - self.running_mean.reshape(shape))
                / (self.running_var.reshape(shape) + self.eps).sqrt()
                * self.weight.reshape(shape) + self.bias.reshape(shape))


def test_fuse_linear_bn_eval():
    lin, bn = nn.Linear(4, 3).eval(), _BN(3).eval()
    fused = utils.fuse_linear_bn_eval(lin, bn)
    x = tm.randn(5, 4)
    assert np.allclose(_np(fused(x)), _np(bn(lin(x))), atol=1e-5)
    assert fused is not lin and isinstance(fused.weight, nn.Parameter)
    with pytest.raises(AssertionError, match="Fusion only for eval!"):
        utils.fuse_linear_bn_eval(nn.Linear(4, 3), bn)
    with pytest.raises(AssertionError, match="linear.out_features == bn.num_features"):
        utils.fuse_linear_bn_eval(nn.Linear(4, 2).eval(), bn)


def test_fuse_conv_bn_weights_matches_composition():
    rng = np.random.default_rng(0)
    w = tm.tensor(rng.standard_normal((3, 2, 1, 1)).astype(np.float32))
    bn = _BN(3)
    fw, fb = utils.fuse_conv_bn_weights(w, None, bn.running_mean, bn.running_var, bn.eps,
                                        bn.weight, bn.bias)
    x = tm.randn(4, 2, 5, 5)
    conv = np.einsum("oi,nihw->nohw", _np(w)[:, :, 0, 0], _np(x))
    ref = _np(bn(tm.tensor(conv)))
    ours = np.einsum("oi,nihw->nohw", _np(fw)[:, :, 0, 0], _np(x)) + _np(fb)[None, :, None, None]
    assert np.allclose(ours, ref, atol=1e-5)
    assert isinstance(fw, nn.Parameter) and not fb.requires_grad
    # conv-transpose weights hold output channels in dim 1
    tw, _ = utils.fuse_conv_bn_weights(w.permute(1, 0, 2, 3), None, bn.running_mean,
                                       bn.running_var, bn.eps, bn.weight, bn.bias,
                                       transpose=True)
    assert np.allclose(_np(tw).transpose(1, 0, 2, 3), _np(fw), atol=1e-6)


# -- orthogonal -------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape,kwargs", [
    ((4, 4), {}), ((5, 3), {}), ((3, 5), {"orthogonal_map": "cayley"}),
    ((4, 4), {"orthogonal_map": "householder"}), ((5, 3), {"use_trivialization": False}),
    ((2, 4, 3), {})])
def test_orthogonal_parametrization(shape, kwargs):
    m = nn.Module()
    m.weight = nn.Parameter(tm.randn(*shape, dtype=tm.float64))
    utils.parametrizations.orthogonal(m, **kwargs)
    w = _np(m.weight)
    small = min(shape[-2:])
    gram = w.swapaxes(-1, -2) @ w if shape[-2] >= shape[-1] else w @ w.swapaxes(-1, -2)
    assert np.allclose(gram, np.eye(small), atol=1e-10)
    m.weight.sum().backward()
    assert m.parametrizations.weight.original.grad is not None
    if len(shape) == 2:  # assigning an orthogonal matrix makes it the value
        tall = (max(shape), min(shape))
        target = np.linalg.qr(np.random.default_rng(0).standard_normal(tall))[0]
        target = target if shape[0] >= shape[1] else target.T
        m.weight = tm.tensor(target)
        assert np.allclose(_np(m.weight), target, atol=1e-10)


def test_orthogonal_errors():
    with pytest.raises(ValueError, match="Expected a matrix or batch of matrices. Got a tensor "
                                         "of 1 dimensions."):
        utils.parametrizations.orthogonal(nn.Linear(3, 3), name="bias")
    with pytest.raises(ValueError, match='orthogonal_map has to be one of "matrix_exp", '
                                         '"cayley", "householder". Got: qr'):
        utils.parametrizations.orthogonal(nn.Linear(3, 3), orthogonal_map="qr")
    m = utils.parametrizations.orthogonal(nn.Linear(3, 3), use_trivialization=False)
    with pytest.raises(NotImplementedError, match="It is not possible to assign to the matrix "
                                                  "exponential"):
        m.weight = tm.eye(3)
    with pytest.raises(ValueError, match="Expected a matrix or batch of matrices of shape"):
        utils.parametrizations.orthogonal(nn.Linear(3, 3)).weight = tm.eye(2)


# -- functional_call ---------------------------------------------------------------------------------

def test_functional_call_swaps_and_restores():
    from taimatsu.nn.utils.stateless import functional_call
    lin = nn.Linear(3, 2)
    w_before = lin.weight
    w = tm.randn(2, 3, requires_grad=True)
    x = tm.randn(4, 3)
    out = functional_call(lin, {"weight": w}, (x,))
    assert np.allclose(_np(out), _np(x) @ _np(w).T + _np(lin.bias), atol=1e-6)
    out.sum().backward()
    assert w.grad is not None and lin.weight.grad is None
    assert lin.weight is w_before and isinstance(lin._parameters["weight"], nn.Parameter)
    out2 = functional_call(lin, ({"weight": w}, {"bias": tm.zeros(2)}), x)
    assert np.allclose(_np(out2), _np(x) @ _np(w).T, atol=1e-6)


def test_functional_call_tied_weights_and_strict():
    from taimatsu.nn.utils.stateless import functional_call
    a, b = nn.Linear(2, 2, bias=False), nn.Linear(2, 2, bias=False)
    b.weight = a.weight
    seq = nn.Sequential(a, b)
    eye = tm.eye(2)
    x = tm.randn(1, 2)
    assert np.allclose(_np(functional_call(seq, {"0.weight": eye}, x)), _np(x))
    out = functional_call(seq, {"0.weight": eye}, x, tie_weights=False)
    assert np.allclose(_np(out), _np(x) @ _np(a.weight).T, atol=1e-6)
    with pytest.raises(ValueError, match="functional_call got multiple values for keys "
                                         "\\['0.weight', '1.weight'\\], which are tied"):
        functional_call(seq, {"0.weight": eye, "1.weight": eye * 2}, x)
    with pytest.raises(RuntimeError, match="Error\\(s\\) in reparametrizing for Sequential:\n"
                                           "\tUnexpected key\\(s\\): 'zz'.\n"
                                           "\tMissing key\\(s\\): '1.weight'."):
        functional_call(seq, {"0.weight": eye, "zz": eye}, x, strict=True, tie_weights=False)
    with pytest.raises(ValueError, match="appeared in multiple dictionaries"):
        functional_call(seq, ({"0.weight": eye}, {"0.weight": eye}), x)
    assert seq[1].weight is seq[0].weight
