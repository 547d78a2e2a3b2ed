"""taimatsu.distributions against torch.distributions: same parameters (float64), same values.

Each case builds the distribution in both libraries from the same NumPy parameters and
compares log_prob, entropy, moments, cdf/icdf and the gradients of log_prob + entropy with
respect to every parameter. KL divergences and transforms are compared the same way.
"""

from __future__ import annotations

import numpy as np
import pytest

import taimatsu
import taimatsu.distributions as tdist

torch = pytest.importorskip("torch")
tdists = torch.distributions

_RNG = np.random.default_rng(1234)


def _pos(*shape, low=0.5, high=2.0):
    return _RNG.uniform(low, high, shape)


def _real(*shape):
    return _RNG.normal(size=shape)


def _unit(*shape):
    return _RNG.uniform(0.1, 0.9, shape)


def _spd(n, batch=()):
    a = _RNG.normal(size=batch + (n, n))
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


def _tril(n, batch=()):
    m = np.tril(_RNG.normal(size=batch + (n, n)), -1)
    return m + np.eye(n) * _RNG.uniform(0.5, 1.5, batch + (n,))[..., None]


def _simplex(*shape):
    x = _RNG.uniform(0.1, 1.0, shape)
    return x / x.sum(-1, keepdims=True)


def _one_hot(k, *batch):
    idx = _RNG.integers(0, k, batch)
    return np.eye(k)[idx]


# name -> (builder(module, params), params, value); params are NumPy float64 arrays (or
# numbers, passed as such), value a NumPy array in the support.
CASES = {
    "Normal": (lambda m, p: m.Normal(p["loc"], p["scale"]),
               {"loc": _real(2, 3), "scale": _pos(3)}, _real(4, 2, 3)),
    "Normal_numbers": (lambda m, p: m.Normal(0.5, 2.0), {}, _real(5)),
    "Bernoulli_probs": (lambda m, p: m.Bernoulli(probs=p["probs"]),
                        {"probs": _unit(4)}, _RNG.integers(0, 2, (3, 4)).astype(float)),
    "Bernoulli_logits": (lambda m, p: m.Bernoulli(logits=p["logits"]),
                         {"logits": _real(2, 3)}, _RNG.integers(0, 2, (2, 3)).astype(float)),
    "Categorical_probs": (lambda m, p: m.Categorical(probs=p["probs"]),
                          {"probs": _pos(2, 5)}, _RNG.integers(0, 5, (3, 2))),
    "Categorical_logits": (lambda m, p: m.Categorical(logits=p["logits"]),
                           {"logits": _real(3, 4)}, _RNG.integers(0, 4, (3,))),
    "OneHotCategorical": (lambda m, p: m.OneHotCategorical(logits=p["logits"]),
                          {"logits": _real(2, 4)}, _one_hot(4, 3, 2)),
    "Uniform": (lambda m, p: m.Uniform(p["low"], p["low"] + p["width"]),
                {"low": _real(3), "width": _pos(3)}, None),
    "Beta": (lambda m, p: m.Beta(p["a"], p["b"]), {"a": _pos(3, low=0.3), "b": _pos(2, 3, low=0.3)},
             _unit(2, 3)),
    "Gamma": (lambda m, p: m.Gamma(p["concentration"], p["rate"]),
              {"concentration": _pos(2, 3, low=0.3, high=4.0), "rate": _pos(3)}, _pos(4, 2, 3)),
    "Dirichlet": (lambda m, p: m.Dirichlet(p["concentration"]),
                  {"concentration": _pos(2, 4, low=0.3, high=3.0)}, _simplex(3, 2, 4)),
    "Exponential": (lambda m, p: m.Exponential(p["rate"]), {"rate": _pos(3)}, _pos(2, 3)),
    "Laplace": (lambda m, p: m.Laplace(p["loc"], p["scale"]),
                {"loc": _real(3), "scale": _pos(3)}, _real(2, 3)),
    "Poisson": (lambda m, p: m.Poisson(p["rate"]), {"rate": _pos(4, high=6.0)},
                _RNG.integers(0, 8, (3, 4)).astype(float)),
    "Binomial_probs": (lambda m, p: m.Binomial(7, probs=p["probs"]), {"probs": _unit(3)},
                       _RNG.integers(0, 8, (2, 3)).astype(float)),
    "Binomial_logits": (lambda m, p: m.Binomial(p["n"], logits=p["logits"]),
                        {"n": np.array([3.0, 5.0, 9.0]), "logits": _real(3)},
                        np.array([[0.0, 5.0, 2.0], [3.0, 1.0, 9.0]])),
    "MVN_cov": (lambda m, p: m.MultivariateNormal(p["loc"], covariance_matrix=p["cov"]),
                {"loc": _real(2, 3), "cov": _spd(3)}, _real(4, 2, 3)),
    "MVN_precision": (lambda m, p: m.MultivariateNormal(p["loc"], precision_matrix=p["prec"]),
                      {"loc": _real(3), "prec": _spd(3, (2,))}, _real(4, 2, 3)),
    "MVN_scale_tril": (lambda m, p: m.MultivariateNormal(p["loc"], scale_tril=p["tril"]),
                       {"loc": _real(2, 3), "tril": _tril(3, (2,))}, _real(2, 3)),
    "Independent": (lambda m, p: m.Independent(m.Normal(p["loc"], p["scale"]), 1),
                    {"loc": _real(2, 3), "scale": _pos(2, 3)}, _real(4, 2, 3)),
    "LogNormal": (lambda m, p: m.LogNormal(p["loc"], p["scale"]),
                  {"loc": _real(3), "scale": _pos(3)}, _pos(2, 3)),
    "Multinomial": (lambda m, p: m.Multinomial(6, probs=p["probs"]), {"probs": _pos(2, 4)},
                    np.array([[1.0, 2.0, 0.0, 3.0], [0.0, 0.0, 6.0, 0.0]])),
    "Geometric_probs": (lambda m, p: m.Geometric(probs=p["probs"]), {"probs": _unit(3)},
                        _RNG.integers(0, 6, (2, 3)).astype(float)),
    "Geometric_logits": (lambda m, p: m.Geometric(logits=p["logits"]), {"logits": _real(3)},
                         _RNG.integers(0, 6, (2, 3)).astype(float)),
    "Cauchy": (lambda m, p: m.Cauchy(p["loc"], p["scale"]), {"loc": _real(3), "scale": _pos(3)},
               _real(2, 3)),
    "Chi2": (lambda m, p: m.Chi2(p["df"]), {"df": _pos(3, high=5.0)}, _pos(2, 3)),
    "Gumbel": (lambda m, p: m.Gumbel(p["loc"], p["scale"]), {"loc": _real(3), "scale": _pos(3)},
               _real(2, 3)),
    "HalfNormal": (lambda m, p: m.HalfNormal(p["scale"]), {"scale": _pos(3)}, _pos(2, 3)),
    "StudentT": (lambda m, p: m.StudentT(p["df"], p["loc"], p["scale"]),
                 {"df": np.array([0.8, 1.5, 4.0]), "loc": _real(3), "scale": _pos(3)},
                 _real(2, 3)),
    "MixtureSameFamily": (
        lambda m, p: m.MixtureSameFamily(
            m.Categorical(logits=p["logits"]),
            m.Independent(m.Normal(p["loc"], p["scale"]), 1)),
        {"logits": _real(2, 3), "loc": _real(2, 3, 4), "scale": _pos(2, 3, 4)}, _real(5, 2, 4)),
    "Transformed_affine_sigmoid": (
        lambda m, p: m.TransformedDistribution(
            m.Normal(p["loc"], p["scale"]),
            [m.transforms.AffineTransform(p["shift"], 2.0), m.transforms.SigmoidTransform()]),
        {"loc": _real(3), "scale": _pos(3), "shift": _real(3)}, _unit(2, 3)),
    "Transformed_stick_breaking": (
        lambda m, p: m.TransformedDistribution(
            m.Normal(p["loc"], p["scale"]), m.transforms.StickBreakingTransform()),
        {"loc": _real(2, 3), "scale": _pos(2, 3)}, _simplex(2, 4)),
    "Transformed_tanh_power": (
        lambda m, p: m.TransformedDistribution(
            m.Gamma(p["a"], p["r"]), [m.transforms.PowerTransform(0.5),
                                      m.transforms.ExpTransform().inv,
                                      m.transforms.TanhTransform()]),
        {"a": _pos(3, low=1.0), "r": _pos(3)}, _RNG.uniform(-0.9, 0.9, (2, 3))),
}


def _build(lib, builder, params):
    """The distribution in `lib` ("taimatsu" or "torch") plus its parameter leaves."""
    leaves = {}
    for name, arr in params.items():
        if lib == "torch":
            leaves[name] = torch.tensor(arr, dtype=torch.float64, requires_grad=True)
        else:
            leaves[name] = taimatsu.tensor(arr, dtype=taimatsu.float64, requires_grad=True)
    module = tdists if lib == "torch" else tdist
    return builder(module, leaves), leaves


def _value(lib, value):
    if lib == "torch":
        return torch.from_numpy(np.asarray(value).copy())
    return taimatsu.from_numpy(np.asarray(value).copy())


def _np(t):
    return t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)


def _close(ours, theirs, atol=1e-9, rtol=1e-7):
    np.testing.assert_allclose(_np(ours), _np(theirs), atol=atol, rtol=rtol, equal_nan=True)


def _value_for(name, dist_torch, value):
    if value is None:  # Uniform: a value inside every interval
        return (_np(dist_torch.low) + 0.3 * (_np(dist_torch.high) - _np(dist_torch.low)))[None]
    return value


def _call_both(ours, theirs, fn):
    """fn on both; both must raise NotImplementedError or both must succeed."""
    try:
        expected = fn(theirs)
    except NotImplementedError:
        with pytest.raises(NotImplementedError):
            fn(ours)
        return None, None
    return fn(ours), expected


@pytest.mark.parametrize("name", list(CASES))
def test_forward_values_match_torch(name):
    builder, params, value = CASES[name]
    ours, _ = _build("taimatsu", builder, params)
    theirs, _ = _build("torch", builder, params)
    assert tuple(ours.batch_shape) == tuple(theirs.batch_shape)
    assert tuple(ours.event_shape) == tuple(theirs.event_shape)
    assert ours.has_rsample == theirs.has_rsample
    assert ours.has_enumerate_support == theirs.has_enumerate_support
    value = _value_for(name, theirs, value)
    _close(ours.log_prob(_value("taimatsu", value)), theirs.log_prob(_value("torch", value)))
    for attr in ("mean", "variance", "stddev", "mode"):
        got, want = _call_both(ours, theirs, lambda d, a=attr: getattr(d, a))
        if want is not None:
            _close(got, want)
    got, want = _call_both(ours, theirs, lambda d: d.entropy())
    if want is not None:
        _close(got, want)
        _close(ours.perplexity(), theirs.perplexity())


@pytest.mark.parametrize("name", [n for n in CASES if n not in ("Transformed_stick_breaking",)])
def test_cdf_icdf_match_torch(name):
    builder, params, value = CASES[name]
    ours, _ = _build("taimatsu", builder, params)
    theirs, _ = _build("torch", builder, params)
    value = _value_for(name, theirs, value)
    got, want = _call_both(ours, theirs, lambda d: d.cdf(_value(
        "torch" if d is theirs else "taimatsu", value)))
    if want is not None:
        _close(got, want)
    q = _RNG.uniform(0.05, 0.95, tuple(theirs.batch_shape))
    got, want = _call_both(ours, theirs, lambda d: d.icdf(_value(
        "torch" if d is theirs else "taimatsu", q)))
    if want is not None:
        _close(got, want)


@pytest.mark.parametrize("name", [n for n in CASES if CASES[n][1]])
def test_parameter_gradients_match_torch(name):
    """d(sum log_prob + sum entropy)/d(parameters) agree (entropy only where torch has it)."""
    builder, params, value = CASES[name]
    ours, our_leaves = _build("taimatsu", builder, params)
    theirs, their_leaves = _build("torch", builder, params)
    value = _value_for(name, theirs, value)
    loss_t = theirs.log_prob(_value("torch", value)).sum()
    loss_o = ours.log_prob(_value("taimatsu", value)).sum()
    try:
        loss_t = loss_t + theirs.entropy().sum()
        loss_o = loss_o + ours.entropy().sum()
    except NotImplementedError:
        pass
    grads_t = torch.autograd.grad(loss_t, list(their_leaves.values()), allow_unused=True)
    grads_o = taimatsu.autograd.grad(loss_o, list(our_leaves.values()), allow_unused=True)
    for key, go, gt in zip(their_leaves, grads_o, grads_t):
        if gt is None:
            assert go is None or not np.any(_np(go)), key
        else:
            _close(go, gt, atol=1e-8, rtol=1e-6)


@pytest.mark.parametrize("name", ["Bernoulli_probs", "Categorical_logits", "OneHotCategorical",
                                  "Binomial_probs"])
def test_enumerate_support_matches_torch(name):
    builder, params, _ = CASES[name]
    ours, _ = _build("taimatsu", builder, params)
    theirs, _ = _build("torch", builder, params)
    for expand in (True, False):
        got = ours.enumerate_support(expand)
        want = theirs.enumerate_support(expand)
        assert tuple(got.shape) == tuple(want.shape)
        _close(got, want)


# -- KL divergence ---------------------------------------------------------------------------

def _kl_pairs():
    loc, scale, pos, unit = _real(3), _pos(3), _pos(3, low=0.4), _unit(3)
    return {
        "Normal-Normal": (lambda m, p: m.Normal(p["a"], p["b"]),
                          lambda m, p: m.Normal(p["c"], p["d"]),
                          {"a": loc, "b": scale, "c": _real(3), "d": _pos(3)}),
        "Bernoulli-Bernoulli": (lambda m, p: m.Bernoulli(p["a"]), lambda m, p: m.Bernoulli(p["b"]),
                                {"a": unit, "b": _unit(3)}),
        "Categorical-Categorical": (lambda m, p: m.Categorical(logits=p["a"]),
                                    lambda m, p: m.Categorical(probs=p["b"]),
                                    {"a": _real(2, 4), "b": _pos(4)}),
        "OneHotCategorical": (lambda m, p: m.OneHotCategorical(probs=p["a"]),
                              lambda m, p: m.OneHotCategorical(logits=p["b"]),
                              {"a": _pos(2, 4), "b": _real(2, 4)}),
        "Uniform-Uniform": (lambda m, p: m.Uniform(p["a"], p["a"] + 1.0),
                            lambda m, p: m.Uniform(p["b"], p["b"] + 3.0),
                            {"a": np.array([0.0, 1.0, -2.0]), "b": np.array([-1.0, 0.5, -1.0])}),
        "Beta-Beta": (lambda m, p: m.Beta(p["a"], p["b"]), lambda m, p: m.Beta(p["c"], p["d"]),
                      {"a": pos, "b": _pos(3), "c": _pos(3), "d": _pos(3)}),
        "Gamma-Gamma": (lambda m, p: m.Gamma(p["a"], p["b"]), lambda m, p: m.Gamma(p["c"], p["d"]),
                        {"a": pos, "b": _pos(3), "c": _pos(3), "d": _pos(3)}),
        "Dirichlet-Dirichlet": (lambda m, p: m.Dirichlet(p["a"]), lambda m, p: m.Dirichlet(p["b"]),
                                {"a": _pos(2, 4), "b": _pos(4)}),
        "Exponential-Exponential": (lambda m, p: m.Exponential(p["a"]),
                                    lambda m, p: m.Exponential(p["b"]), {"a": pos, "b": _pos(3)}),
        "Laplace-Laplace": (lambda m, p: m.Laplace(p["a"], p["b"]),
                            lambda m, p: m.Laplace(p["c"], p["d"]),
                            {"a": loc, "b": scale, "c": _real(3), "d": _pos(3)}),
        "Poisson-Poisson": (lambda m, p: m.Poisson(p["a"]), lambda m, p: m.Poisson(p["b"]),
                            {"a": pos, "b": _pos(3)}),
        "Binomial-Binomial": (lambda m, p: m.Binomial(5, p["a"]),
                              lambda m, p: m.Binomial(5, p["b"]),
                              {"a": unit, "b": _unit(3)}),
        "MVN-MVN": (lambda m, p: m.MultivariateNormal(p["a"], scale_tril=p["b"]),
                    lambda m, p: m.MultivariateNormal(p["c"], covariance_matrix=p["d"]),
                    {"a": _real(2, 3), "b": _tril(3, (2,)), "c": _real(3), "d": _spd(3)}),
        "Independent-Independent": (
            lambda m, p: m.Independent(m.Normal(p["a"], p["b"]), 1),
            lambda m, p: m.Independent(m.Normal(p["c"], p["d"]), 1),
            {"a": _real(2, 3), "b": _pos(2, 3), "c": _real(3), "d": _pos(2, 3)}),
        "LogNormal-LogNormal": (lambda m, p: m.LogNormal(p["a"], p["b"]),
                                lambda m, p: m.LogNormal(p["c"], p["d"]),
                                {"a": loc, "b": scale, "c": _real(3), "d": _pos(3)}),
        "Bernoulli-Poisson": (lambda m, p: m.Bernoulli(p["a"]), lambda m, p: m.Poisson(p["b"]),
                              {"a": unit, "b": _pos(3)}),
        "Beta-Exponential": (lambda m, p: m.Beta(p["a"], p["b"]),
                             lambda m, p: m.Exponential(p["c"]),
                             {"a": pos, "b": _pos(3), "c": _pos(3)}),
        "Beta-Gamma": (lambda m, p: m.Beta(p["a"], p["b"]), lambda m, p: m.Gamma(p["c"], p["d"]),
                       {"a": pos, "b": _pos(3), "c": _pos(3), "d": _pos(3)}),
        "Beta-Normal": (lambda m, p: m.Beta(p["a"], p["b"]), lambda m, p: m.Normal(p["c"], p["d"]),
                        {"a": pos, "b": _pos(3), "c": _real(3), "d": _pos(3)}),
        "Beta-Uniform": (lambda m, p: m.Beta(p["a"], p["b"]),
                         lambda m, p: m.Uniform(p["c"], p["c"] + 2.0),
                         {"a": pos, "b": _pos(3), "c": np.array([-0.5, 0.1, -1.0])}),
        "Exponential-Gamma": (lambda m, p: m.Exponential(p["a"]),
                              lambda m, p: m.Gamma(p["b"], p["c"]),
                              {"a": pos, "b": _pos(3), "c": _pos(3)}),
        "Exponential-Normal": (lambda m, p: m.Exponential(p["a"]),
                               lambda m, p: m.Normal(p["b"], p["c"]),
                               {"a": pos, "b": _real(3), "c": _pos(3)}),
        "Gamma-Exponential": (lambda m, p: m.Gamma(p["a"], p["b"]),
                              lambda m, p: m.Exponential(p["c"]),
                              {"a": pos, "b": _pos(3), "c": _pos(3)}),
        "Gamma-Normal": (lambda m, p: m.Gamma(p["a"], p["b"]),
                         lambda m, p: m.Normal(p["c"], p["d"]),
                         {"a": pos, "b": _pos(3), "c": _real(3), "d": _pos(3)}),
        "Laplace-Normal": (lambda m, p: m.Laplace(p["a"], p["b"]),
                           lambda m, p: m.Normal(p["c"], p["d"]),
                           {"a": loc, "b": scale, "c": _real(3), "d": _pos(3)}),
        "Uniform-Beta": (lambda m, p: m.Uniform(p["a"], p["a"] + 0.3),
                         lambda m, p: m.Beta(p["b"], p["c"]),
                         {"a": np.array([0.1, 0.5, 0.8]), "b": _pos(3), "c": _pos(3)}),
        "Uniform-Exponential": (lambda m, p: m.Uniform(p["a"], p["a"] + 1.0),
                                lambda m, p: m.Exponential(p["b"]),
                                {"a": np.array([0.0, 1.0, -1.0]), "b": _pos(3)}),
        "Uniform-Gamma": (lambda m, p: m.Uniform(p["a"], p["a"] + 1.0),
                          lambda m, p: m.Gamma(p["b"], p["c"]),
                          {"a": np.array([0.2, 1.0, -1.0]), "b": _pos(3), "c": _pos(3)}),
        "Uniform-Normal": (lambda m, p: m.Uniform(p["a"], p["a"] + 1.0),
                           lambda m, p: m.Normal(p["b"], p["c"]),
                           {"a": _real(3), "b": _real(3), "c": _pos(3)}),
        "Geometric-Geometric": (lambda m, p: m.Geometric(p["a"]), lambda m, p: m.Geometric(p["b"]),
                                {"a": unit, "b": _unit(3)}),
        "Gumbel-Gumbel": (lambda m, p: m.Gumbel(p["a"], p["b"]),
                          lambda m, p: m.Gumbel(p["c"], p["d"]),
                          {"a": loc, "b": scale, "c": _real(3), "d": _pos(3)}),
        "HalfNormal-HalfNormal": (lambda m, p: m.HalfNormal(p["a"]),
                                  lambda m, p: m.HalfNormal(p["b"]), {"a": scale, "b": _pos(3)}),
        "Cauchy-Cauchy": (lambda m, p: m.Cauchy(p["a"], p["b"]),
                          lambda m, p: m.Cauchy(p["c"], p["d"]),
                          {"a": loc, "b": scale, "c": _real(3), "d": _pos(3)}),
        "Chi2-Gamma": (lambda m, p: m.Chi2(p["a"]), lambda m, p: m.Gamma(p["b"], p["c"]),
                       {"a": pos, "b": _pos(3), "c": _pos(3)}),
        "Normal-Gamma_infinite": (lambda m, p: m.Normal(p["a"], 1.0),
                                  lambda m, p: m.Gamma(p["b"], 1.0), {"a": loc, "b": _pos(3)}),
    }


KL_PAIRS = _kl_pairs()


@pytest.mark.parametrize("name", list(KL_PAIRS))
def test_kl_divergence_matches_torch(name):
    build_p, build_q, params = KL_PAIRS[name]

    def both(lib):
        leaves = {k: (torch.tensor(v, dtype=torch.float64, requires_grad=True) if lib == "torch"
                      else taimatsu.tensor(v, dtype=taimatsu.float64, requires_grad=True))
                  for k, v in params.items()}
        module = tdists if lib == "torch" else tdist
        return build_p(module, leaves), build_q(module, leaves), leaves

    p_t, q_t, leaves_t = both("torch")
    p_o, q_o, leaves_o = both("taimatsu")
    want = tdists.kl_divergence(p_t, q_t)
    got = tdist.kl_divergence(p_o, q_o)
    assert tuple(got.shape) == tuple(want.shape)
    _close(got, want)
    finite = torch.isfinite(want)
    if not finite.any():
        return
    grads_t = torch.autograd.grad(want[finite].sum(), list(leaves_t.values()), allow_unused=True)
    mask = taimatsu.from_numpy(finite.numpy())
    grads_o = taimatsu.autograd.grad(got[mask].sum(), list(leaves_o.values()), allow_unused=True)
    for go, gt in zip(grads_o, grads_t):
        if gt is not None:
            _close(go, gt, atol=1e-8, rtol=1e-6)


# -- transforms ------------------------------------------------------------------------------

TRANSFORMS = {
    "Exp": (lambda T: T.ExpTransform(), _real(2, 3)),
    "Affine": (lambda T: T.AffineTransform(1.5, -2.0), _real(2, 3)),
    "Affine_event": (lambda T: T.AffineTransform(0.5, 3.0, event_dim=1), _real(2, 3)),
    "Sigmoid": (lambda T: T.SigmoidTransform(), _real(2, 3)),
    "Softplus": (lambda T: T.SoftplusTransform(), _real(2, 3)),
    "Tanh": (lambda T: T.TanhTransform(), _real(2, 3)),
    "Power": (lambda T: T.PowerTransform(2.5), _pos(2, 3)),
    "StickBreaking": (lambda T: T.StickBreakingTransform(), _real(2, 3)),
    "Softmax": (lambda T: T.SoftmaxTransform(), _real(2, 3)),
    "LowerCholesky": (lambda T: T.LowerCholeskyTransform(), _real(2, 3, 3)),
    "CorrCholesky": (lambda T: T.CorrCholeskyTransform(), _real(2, 6)),
    "Compose": (lambda T: T.ComposeTransform([T.AffineTransform(0.3, 2.0), T.ExpTransform(),
                                              T.PowerTransform(0.5)]), _real(2, 3)),
    "Independent": (lambda T: T.IndependentTransform(T.SigmoidTransform(), 1), _real(2, 3)),
    "Reshape": (lambda T: T.ReshapeTransform((2, 3), (3, 2)), _real(4, 2, 3)),
    "Inverse_exp": (lambda T: T.ExpTransform().inv, _pos(2, 3)),
    "Cat": (lambda T: T.CatTransform([T.ExpTransform(), T.SigmoidTransform()], dim=-1,
                                     lengths=[1, 2]), _real(2, 3)),
    "Stack": (lambda T: T.StackTransform([T.ExpTransform(), T.TanhTransform()], dim=0),
              _real(2, 3)),
}


@pytest.mark.parametrize("name", list(TRANSFORMS))
def test_transform_matches_torch(name):
    make, x = TRANSFORMS[name]
    ours, theirs = make(tdist.transforms), make(tdists.transforms)
    xo, xt = taimatsu.tensor(x), torch.tensor(x)
    yo, yt = ours(xo), theirs(xt)
    _close(yo, yt)
    _close(ours.inv(yo), theirs.inv(yt))
    try:
        want = theirs.log_abs_det_jacobian(xt, yt)
    except NotImplementedError:
        with pytest.raises(NotImplementedError):
            ours.log_abs_det_jacobian(xo, yo)
    else:
        _close(ours.log_abs_det_jacobian(xo, yo), want)
    assert ours.bijective == theirs.bijective
    assert repr(ours.domain) == repr(theirs.domain)
    assert repr(ours.codomain) == repr(theirs.codomain)
    shape = tuple(x.shape)
    assert tuple(ours.forward_shape(shape)) == tuple(theirs.forward_shape(shape))


@pytest.mark.parametrize("constraint", ["real", "positive", "unit_interval", "simplex",
                                        "lower_cholesky", "positive_definite", "corr_cholesky",
                                        "real_vector", "nonnegative"])
@pytest.mark.parametrize("registry", ["biject_to", "transform_to"])
def test_constraint_registry_matches_torch(registry, constraint):
    theirs_reg = getattr(tdists, registry)
    ours_reg = getattr(tdist, registry)
    try:
        want = theirs_reg(getattr(tdists.constraints, constraint))
    except NotImplementedError:
        with pytest.raises(NotImplementedError, match="Cannot transform"):
            ours_reg(getattr(tdist.constraints, constraint))
        return
    got = ours_reg(getattr(tdist.constraints, constraint))
    assert type(got).__name__ == type(want).__name__
    assert repr(got.codomain) == repr(want.codomain)


def test_constraint_reprs_match_torch():
    for name in tdist.constraints.__all__:
        ours, theirs = getattr(tdist.constraints, name), getattr(tdists.constraints, name)
        if isinstance(theirs, tdists.constraints.Constraint):
            assert repr(ours) == repr(theirs), name
    assert repr(tdist.constraints.interval(0, 2)) == repr(tdists.constraints.interval(0, 2))
    assert (repr(tdist.constraints.independent(tdist.constraints.positive, 2))
            == repr(tdists.constraints.independent(tdists.constraints.positive, 2)))


def test_validation_messages_match_torch():
    def message(module, make):
        with pytest.raises(ValueError) as info:
            make(module)
        return str(info.value).replace("torch.", "").replace("taimatsu.", "")

    for make in (lambda m: m.Normal(0.0, -1.0),
                 lambda m: m.Bernoulli(probs=1.5),
                 lambda m: m.Bernoulli(probs=0.3, logits=0.1),
                 lambda m: m.Categorical(probs=(m is tdists and torch or taimatsu).tensor(0.5)),
                 lambda m: m.Uniform(2.0, 1.0),
                 lambda m: m.Independent(m.Normal(0.0, 1.0), 1),
                 lambda m: m.Normal(0.0, 1.0).log_prob(1.0),
                 lambda m: m.Exponential(1.0).log_prob(
                     (m is tdists and torch or taimatsu).tensor([-1.0])),
                 lambda m: m.Dirichlet((m is tdists and torch or taimatsu).ones(3)).log_prob(
                     (m is tdists and torch or taimatsu).ones(2))):
        assert message(tdist, make) == message(tdists, make)


def test_repr_matches_torch():
    def show(m, lib):
        return [repr(m.Normal(lib.tensor([0.0, 1.0]), 1.0)), repr(m.Normal(0.0, 1.0)),
                repr(m.Categorical(logits=lib.zeros(3))),
                repr(m.MultivariateNormal(lib.zeros(2), lib.eye(2))),
                repr(m.Independent(m.Normal(lib.zeros(2, 3), 1.0), 1)),
                repr(m.LogNormal(0.0, 1.0)), repr(m.Binomial(10, lib.tensor(0.3))),
                repr(m.Gamma(2.0, 3.0)), repr(m.Dirichlet(lib.ones(3))),
                repr(m.MixtureSameFamily(m.Categorical(lib.ones(2)),
                                         m.Normal(lib.zeros(2), lib.ones(2)))),
                repr(m.StudentT(3.0)), repr(m.Chi2(lib.tensor([2.0]))), repr(m.Gumbel(0.0, 1.0))]

    ours = [s.replace("taimatsu.", "") for s in show(tdist, taimatsu)]
    theirs = [s.replace("torch.", "") for s in show(tdists, torch)]
    assert ours == theirs
