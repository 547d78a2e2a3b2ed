"""taimatsu.distributions: shapes, sampling, moments, gradients, validation, expand, KL,
transforms and constraints (values against torch live in tests/parity)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import taimatsu
import taimatsu.distributions as D
from taimatsu.autograd import gradcheck
from taimatsu.distributions import constraints, transforms
from taimatsu.distributions._special import gammainc

f64 = taimatsu.float64


def _t(x, grad=False):
    return taimatsu.tensor(x, dtype=f64, requires_grad=grad)


def _spd(n=3):
    a = np.random.default_rng(0).normal(size=(n, n))
    return a @ a.T + n * np.eye(n)


# Every family with batch_shape (2,), in float64.
def _families():
    return {
        "Normal": D.Normal(_t([0.0, 1.0]), _t([1.0, 2.0])),
        "Bernoulli": D.Bernoulli(_t([0.2, 0.7])),
        "Categorical": D.Categorical(_t([[0.2, 0.3, 0.5], [0.1, 0.1, 0.8]])),
        "OneHotCategorical": D.OneHotCategorical(_t([[0.2, 0.3, 0.5], [0.1, 0.1, 0.8]])),
        "Uniform": D.Uniform(_t([0.0, 1.0]), _t([1.0, 3.0])),
        "Beta": D.Beta(_t([0.5, 2.0]), _t([0.7, 3.0])),
        "Gamma": D.Gamma(_t([0.5, 2.0]), _t([1.0, 3.0])),
        "Dirichlet": D.Dirichlet(_t([[0.5, 2.0, 1.0], [3.0, 3.0, 3.0]])),
        "Exponential": D.Exponential(_t([0.5, 2.0])),
        "Laplace": D.Laplace(_t([0.0, 1.0]), _t([1.0, 2.0])),
        "Poisson": D.Poisson(_t([0.5, 20.0])),
        "Binomial": D.Binomial(_t([10.0, 3.0]), _t([0.2, 0.9])),
        "MultivariateNormal": D.MultivariateNormal(_t(np.zeros((2, 3))),
                                                   covariance_matrix=_t(_spd())),
        "LogNormal": D.LogNormal(_t([0.0, 0.5]), _t([0.5, 0.3])),
        "Independent": D.Independent(D.Normal(_t(np.zeros((2, 3))), _t(np.ones((2, 3)))), 1),
        "Multinomial": D.Multinomial(5, _t([[0.2, 0.3, 0.5], [0.1, 0.1, 0.8]])),
        "Geometric": D.Geometric(_t([0.3, 0.8])),
        "Cauchy": D.Cauchy(_t([0.0, 1.0]), _t([1.0, 0.5])),
        "Chi2": D.Chi2(_t([1.5, 4.0])),
        "Gumbel": D.Gumbel(_t([0.0, 1.0]), _t([1.0, 0.5])),
        "HalfNormal": D.HalfNormal(_t([1.0, 0.5])),
        "StudentT": D.StudentT(_t([5.0, 9.0]), _t([0.0, 1.0]), _t([1.0, 0.5])),
        "MixtureSameFamily": D.MixtureSameFamily(
            D.Categorical(_t([[0.3, 0.7], [0.5, 0.5]])),
            D.Normal(_t([[-1.0, 2.0], [0.0, 0.5]]), _t([[0.5, 1.0], [1.0, 0.2]]))),
    }


FAMILIES = list(_families())


@pytest.fixture
def seeded():
    taimatsu.manual_seed(2024)


# -- shapes, dtypes, reproducibility ----------------------------------------------------------

@pytest.mark.parametrize("name", FAMILIES)
@pytest.mark.parametrize("sample_shape", [(), (5,), (2, 3)])
def test_sample_shapes(name, sample_shape, seeded):
    d = _families()[name]
    want = tuple(sample_shape) + tuple(d.batch_shape) + tuple(d.event_shape)
    s = d.sample(sample_shape)
    assert tuple(s.shape) == want
    assert not s.requires_grad
    assert tuple(d._extended_shape(sample_shape)) == want
    if d.has_rsample:
        r = d.rsample(taimatsu.Size(sample_shape))
        assert tuple(r.shape) == want
        assert r.dtype == f64
    assert bool(d.support.check(s).all())
    assert tuple(d.log_prob(s).shape) == tuple(sample_shape) + tuple(d.batch_shape)


@pytest.mark.parametrize("name", FAMILIES)
def test_manual_seed_reproduces_samples(name):
    taimatsu.manual_seed(7)
    a = _families()[name].sample((4,))
    taimatsu.manual_seed(7)
    b = _families()[name].sample((4,))
    taimatsu.manual_seed(8)
    c = _families()[name].sample((4,))
    assert taimatsu.equal(a, b)
    if name not in ("Bernoulli", "Categorical", "OneHotCategorical", "Binomial", "Poisson"):
        assert not taimatsu.equal(a, c)  # continuous draws never repeat


def test_float32_parameters_give_float32_samples(seeded):
    for d in (D.Normal(0.0, 1.0), D.Gamma(taimatsu.tensor([2.0]), 1.0),
              D.Dirichlet(taimatsu.ones(3)), D.Beta(2.0, 2.0), D.Exponential(2.0),
              D.Laplace(0.0, 1.0), D.Uniform(0.0, 1.0), D.Poisson(taimatsu.tensor(3.0))):
        assert d.sample().dtype == taimatsu.float32


# -- empirical moments ------------------------------------------------------------------------

@pytest.mark.parametrize("name", FAMILIES)
def test_empirical_moments(name, seeded):
    d = _families()[name]
    s = d.sample((20000,)).to(f64)
    mean, var = s.mean(0), s.var(0)
    if name == "Categorical":  # mean is NaN by definition: compare frequencies instead
        freq = taimatsu.stack([(s == k).to(f64).mean(0) for k in range(3)], -1)
        np.testing.assert_allclose(freq.numpy(), d.probs.detach().numpy(), atol=0.02)
        return
    if name == "Cauchy":  # no moments: compare quartiles instead
        quartiles = np.quantile(s.numpy(), [0.25, 0.75], axis=0)
        want = d.icdf(_t([[0.25], [0.75]])).detach().numpy()
        np.testing.assert_allclose(quartiles, want, atol=0.05)
        return
    scale = d.variance.detach().sqrt().numpy()
    np.testing.assert_allclose(mean.numpy(), d.mean.detach().numpy(),
                               atol=0.05 * scale.max() + 1e-3)
    np.testing.assert_allclose(var.numpy(), d.variance.detach().numpy(), rtol=0.08, atol=1e-3)


def test_multivariate_normal_sample_covariance(seeded):
    cov = _spd()
    d = D.MultivariateNormal(_t([1.0, -1.0, 0.5]), covariance_matrix=_t(cov))
    s = d.sample((40000,)).numpy()
    np.testing.assert_allclose(np.cov(s.T), cov, atol=0.15)
    np.testing.assert_allclose(s.mean(0), [1.0, -1.0, 0.5], atol=0.05)


# -- gradients ---------------------------------------------------------------------------------

LOG_PROB_GRAD = {
    "Normal": (lambda a, b: D.Normal(a, b), ([0.3, -1.0], [0.7, 1.5]), [[0.1, 2.0]]),
    "Bernoulli_logits": (lambda a: D.Bernoulli(logits=a), ([0.3, -1.0],), [[1.0, 0.0]]),
    "Categorical": (lambda a: D.Categorical(logits=a), ([[0.3, -1.0, 0.2]],), [[2]]),
    "Uniform": (lambda a, b: D.Uniform(a, b), ([0.0, -1.0], [1.0, 2.0]), [[0.5, 0.0]]),
    "Beta": (lambda a, b: D.Beta(a, b), ([0.7, 2.0], [1.5, 0.4]), [[0.3, 0.8]]),
    "Gamma": (lambda a, b: D.Gamma(a, b), ([0.7, 2.0], [1.5, 0.4]), [[0.3, 3.0]]),
    "Dirichlet": (lambda a: D.Dirichlet(a), ([[0.7, 2.0, 1.1]],), [[0.2, 0.5, 0.3]]),
    "Exponential": (lambda a: D.Exponential(a), ([0.7, 2.0],), [[0.3, 3.0]]),
    "Laplace": (lambda a, b: D.Laplace(a, b), ([0.3, -1.0], [0.7, 1.5]), [[0.1, 2.0]]),
    "Poisson": (lambda a: D.Poisson(a), ([0.7, 4.0],), [[0.0, 3.0]]),
    "Binomial": (lambda a: D.Binomial(6, logits=a), ([0.7, -2.0],), [[0.0, 3.0]]),
    "MVN_tril": (lambda a, b: D.MultivariateNormal(a, scale_tril=b.tril()),
                 ([0.1, 0.2], [[1.0, 0.0], [0.4, 0.8]]), [[0.5, -0.3]]),
    "MVN_cov": (lambda a, b: D.MultivariateNormal(a, covariance_matrix=(b + b.mT) / 2),
                ([0.1, 0.2], [[2.0, 0.3], [0.3, 1.0]]), [[0.5, -0.3]]),
    "MVN_precision": (lambda a, b: D.MultivariateNormal(a, precision_matrix=(b + b.mT) / 2),
                      ([0.1, 0.2], [[2.0, 0.3], [0.3, 1.0]]), [[0.5, -0.3]]),
    "LogNormal": (lambda a, b: D.LogNormal(a, b), ([0.3, -1.0], [0.7, 1.5]), [[0.1, 2.0]]),
}


@pytest.mark.parametrize("name", list(LOG_PROB_GRAD))
def test_gradcheck_log_prob_and_entropy(name):
    make, params, value = LOG_PROB_GRAD[name]
    inputs = tuple(_t(p, grad=True) for p in params)
    value = taimatsu.tensor(value, dtype=taimatsu.int64 if name == "Categorical" else f64)

    def fn(*ps):
        d = make(*ps)
        out = [d.log_prob(value)]
        if name != "Poisson":  # torch has no Poisson entropy either
            out.append(d.entropy())
        return tuple(out)

    assert gradcheck(fn, inputs)


RSAMPLE_GRAD = {
    "Normal": (lambda a, b: D.Normal(a, b), ([0.3, -1.0], [0.7, 1.5])),
    "Uniform": (lambda a, b: D.Uniform(a, b), ([0.0, -1.0], [1.0, 2.0])),
    "Exponential": (lambda a: D.Exponential(a), ([0.7, 2.0],)),
    "Laplace": (lambda a, b: D.Laplace(a, b), ([0.3, -1.0], [0.7, 1.5])),
    "MVN_tril": (lambda a, b: D.MultivariateNormal(a, scale_tril=b.tril()),
                 ([0.1, 0.2], [[1.0, 0.0], [0.4, 0.8]])),
    "LogNormal": (lambda a, b: D.LogNormal(a, b), ([0.3, -1.0], [0.7, 1.5])),
    "Gamma_rate": (lambda b: D.Gamma(_t([0.7, 3.0]), b), ([1.5, 0.4],)),
    "Transformed": (lambda a, b: D.TransformedDistribution(
        D.Normal(a, b), [transforms.TanhTransform(), transforms.AffineTransform(1.0, 2.0)]),
        ([0.3, -1.0], [0.7, 1.5])),
}


@pytest.mark.parametrize("name", list(RSAMPLE_GRAD))
def test_gradcheck_rsample(name):
    """rsample is a differentiable function of the parameters for fixed noise (reseeded)."""
    make, params = RSAMPLE_GRAD[name]
    inputs = tuple(_t(p, grad=True) for p in params)

    def fn(*ps):
        taimatsu.manual_seed(11)
        return make(*ps).rsample((3,))

    assert gradcheck(fn, inputs)


def _implicit_gamma_grad(x, alpha):
    """-dP/dalpha / p(x) by central differences of our gammainc (checked against torch)."""
    h = 1e-6 * max(alpha, 1.0)  # P moves by about h / sqrt(alpha): keep that above rounding
    x = _t(x)
    up = gammainc(_t(alpha + h), x)
    down = gammainc(_t(alpha - h), x)
    log_density = (alpha - 1) * x.log() - x - math.lgamma(alpha)
    return (-(up - down) / (2 * h) / log_density.exp()).numpy()


@pytest.mark.parametrize("alpha", [0.05, 0.6, 1.0, 4.0, 60.0, 2500.0])
def test_gamma_rsample_implicit_gradient(alpha, seeded):
    a = _t([alpha] * 6, grad=True)
    x = D.Gamma(a, 1.0).rsample()
    (grad,) = taimatsu.autograd.grad(x.sum(), [a])
    expected = np.array([_implicit_gamma_grad(float(v), alpha) for v in x.detach().numpy()])
    np.testing.assert_allclose(grad.numpy(), expected, rtol=1e-5)


def test_reparameterized_gradients_are_unbiased(seeded):
    # d E[x] / d param, estimated by averaging per-sample pathwise gradients.
    a = _t([0.4, 3.0], grad=True)
    rate = _t([2.0, 0.5], grad=True)
    D.Gamma(a, rate).rsample((20000,)).mean(0).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), 1 / rate.detach().numpy(), rtol=0.05)
    np.testing.assert_allclose(rate.grad.numpy(), -(a / rate ** 2).detach().numpy(), rtol=0.05)

    c1, c0 = _t(1.5, grad=True), _t(0.7, grad=True)
    D.Beta(c1, c0).rsample((20000,)).mean().backward()
    np.testing.assert_allclose([c1.grad.item(), c0.grad.item()],
                               [0.7 / 2.2 ** 2, -1.5 / 2.2 ** 2], rtol=0.08)

    conc = _t([0.5, 1.0, 2.5], grad=True)
    weights = _t([1.0, -2.0, 0.5])
    (D.Dirichlet(conc).rsample((20000,)).mean(0) * weights).sum().backward()
    # E[x_i] = a_i / a0, so dE[w.x]/da_j = (w_j - E[w.x]) / a0.
    a0 = 4.0
    expected = (weights.numpy() - (weights.numpy() * conc.detach().numpy()).sum() / a0) / a0
    np.testing.assert_allclose(conc.grad.numpy(), expected, atol=0.01)


def test_gammainc_known_values_and_gradcheck():
    x = _t([0.1, 0.5, 2.0, 7.0])
    np.testing.assert_allclose(gammainc(_t(1.0), x).numpy(), 1 - np.exp(-x.numpy()), rtol=1e-12)
    erf = np.array([math.erf(math.sqrt(v)) for v in x.numpy()])
    np.testing.assert_allclose(gammainc(_t(0.5), x).numpy(), erf, rtol=1e-12)
    a = _t([0.3, 1.7, 40.0], grad=True)
    xs = _t([0.2, 3.0, 38.0], grad=True)
    assert gradcheck(gammainc, (a, xs))


def test_gamma_cdf_is_differentiable_in_both_parameters():
    a, rate = _t([0.8, 2.5], grad=True), _t([1.2, 0.7], grad=True)
    assert gradcheck(lambda a, r: D.Gamma(a, r).cdf(_t([0.5, 4.0])), (a, rate))


KL_GRAD = {
    "Normal": (lambda a, b, c, d: (D.Normal(a, b), D.Normal(c, d))),
    "Gamma": (lambda a, b, c, d: (D.Gamma(a, b), D.Gamma(c, d))),
    "Beta": (lambda a, b, c, d: (D.Beta(a, b), D.Beta(c, d))),
    "Laplace": (lambda a, b, c, d: (D.Laplace(a, b), D.Laplace(c, d))),
    "Bernoulli": (lambda a, b, c, d: (D.Bernoulli(a / 3), D.Bernoulli(logits=c))),
    "Categorical": (lambda a, b, c, d: (D.Categorical(logits=a.view(1, -1)),
                                        D.Categorical(probs=b.view(1, -1)))),
    "Dirichlet": (lambda a, b, c, d: (D.Dirichlet(a), D.Dirichlet(b))),
    "Poisson": (lambda a, b, c, d: (D.Poisson(a), D.Poisson(b))),
    "MVN": (lambda a, b, c, d: (D.MultivariateNormal(a, scale_tril=taimatsu.diag_embed(b)),
                                D.MultivariateNormal(c, covariance_matrix=taimatsu.diag_embed(d)))),
    "Beta-Normal": (lambda a, b, c, d: (D.Beta(a, b), D.Normal(c, d))),
    "Uniform-Gamma": (lambda a, b, c, d: (D.Uniform(a, a + b), D.Gamma(c, d))),
}


@pytest.mark.parametrize("name", list(KL_GRAD))
def test_gradcheck_kl_divergence(name):
    inputs = tuple(_t(v, grad=True) for v in ([0.6, 1.3], [0.9, 0.4], [1.1, 0.5], [0.8, 2.0]))
    assert gradcheck(lambda *ps: D.kl_divergence(*KL_GRAD[name](*ps)), inputs)


# -- KL divergence -----------------------------------------------------------------------------

@pytest.mark.parametrize("p, q", [
    (D.Gamma(_t([2.0, 0.7]), _t([1.0, 2.0])), D.Gamma(_t([1.5, 1.0]), _t([0.5, 1.5]))),
    (D.Beta(_t([2.0, 0.7]), _t([1.0, 2.0])), D.Beta(_t([1.5, 1.0]), _t([0.5, 1.5]))),
    (D.Laplace(_t([0.0, 1.0]), _t([1.0, 2.0])), D.Normal(_t([0.5, 0.0]), _t([1.5, 1.0]))),
    (D.Dirichlet(_t([1.0, 2.0, 3.0])), D.Dirichlet(_t([2.0, 2.0, 1.0]))),
    (D.Uniform(_t([0.2]), _t([1.5])), D.Gamma(_t([2.0]), _t([1.0]))),
])
def test_kl_matches_monte_carlo(p, q, seeded):
    x = p.sample((40000,))
    ratio = (p.log_prob(x) - q.log_prob(x)).detach().numpy()
    std_error = ratio.std(0) / math.sqrt(len(ratio))
    np.testing.assert_array_less(np.abs(D.kl_divergence(p, q).detach().numpy() - ratio.mean(0)),
                                 4 * std_error + 1e-3)


def test_kl_of_a_distribution_with_itself_is_zero():
    without_kl = (D.Multinomial, D.StudentT, D.MixtureSameFamily)  # none in torch either
    for d in _families().values():
        if isinstance(d, without_kl):
            with pytest.raises(NotImplementedError, match="No KL"):
                D.kl_divergence(d, d)
            continue
        np.testing.assert_allclose(D.kl_divergence(d, d).detach().numpy(), 0.0, atol=1e-12)


def test_bregman_kl_and_entropy_match_closed_forms():
    from taimatsu.distributions.kl import _kl_expfamily_expfamily
    pairs = [(D.Gamma(_t([2.0, 0.7]), _t([1.0, 2.0])), D.Gamma(_t([1.5, 1.0]), _t([0.5, 1.5]))),
             (D.Normal(_t([0.0, 1.0]), _t([1.0, 2.0])), D.Normal(_t([0.5, 0.0]), _t([1.5, 1.0]))),
             (D.Exponential(_t([0.5, 3.0])), D.Exponential(_t([2.0, 1.0]))),
             (D.Dirichlet(_t([1.0, 2.0, 3.0])), D.Dirichlet(_t([2.0, 2.0, 1.0]))),
             (D.Poisson(_t([0.5, 3.0])), D.Poisson(_t([2.0, 1.0])))]
    for p, q in pairs:
        np.testing.assert_allclose(_kl_expfamily_expfamily(p, q).detach().numpy(),
                                   D.kl_divergence(p, q).detach().numpy(), rtol=1e-10)
        if not isinstance(p, (D.Dirichlet, D.Poisson)):  # no carrier measure (as in torch)
            np.testing.assert_allclose(D.ExponentialFamily.entropy(p).detach().numpy(),
                                       p.entropy().detach().numpy(), rtol=1e-10)
    with pytest.raises(NotImplementedError, match="different exponential families"):
        _kl_expfamily_expfamily(*[d for d, _ in pairs[:2]])


def test_kl_infinite_where_supports_differ():
    kl = D.kl_divergence(D.Uniform(_t([0.0, 0.0]), _t([1.0, 1.0])),
                         D.Uniform(_t([0.5, -1.0]), _t([2.0, 2.0])))
    assert math.isinf(kl[0].item()) and math.isfinite(kl[1].item())
    assert math.isinf(D.kl_divergence(D.Normal(0.0, 1.0), D.Exponential(1.0)).item())
    kl = D.kl_divergence(D.Bernoulli(_t([0.0, 0.5])), D.Bernoulli(_t([0.0, 0.0])))
    assert kl[0].item() == 0.0 and math.isinf(kl[1].item())


def test_kl_not_implemented_message():
    with pytest.raises(NotImplementedError, match="No KL\\(p \\|\\| q\\) is implemented for p "
                                                  "type Normal and q type Categorical"):
        D.kl_divergence(D.Normal(0.0, 1.0), D.Categorical(taimatsu.ones(3)))
    with pytest.raises(NotImplementedError):
        D.kl_divergence(D.Independent(D.Normal(taimatsu.zeros(2, 3), 1.0), 1),
                        D.Independent(D.Normal(taimatsu.zeros(2, 3), 1.0), 2))
    with pytest.raises(ValueError, match="different event shapes"):
        D.kl_divergence(D.MultivariateNormal(taimatsu.zeros(2), taimatsu.eye(2)),
                        D.MultivariateNormal(taimatsu.zeros(3), taimatsu.eye(3)))


def test_register_kl_dispatch_and_ambiguity():
    class MyNormal(D.Normal):
        pass

    class MyLaplace(D.Laplace):
        pass

    @D.register_kl(MyNormal, D.Normal)
    def _mine(p, q):
        return taimatsu.tensor(123.0)

    assert D.kl_divergence(MyNormal(0.0, 1.0), D.Normal(0.0, 1.0)).item() == 123.0
    assert D.kl_divergence(D.Normal(0.0, 1.0), MyNormal(0.0, 1.0)).item() == 0.0

    @D.register_kl(D.Normal, MyLaplace)
    def _other(p, q):
        return taimatsu.tensor(7.0)

    class Both(MyNormal):
        pass

    with pytest.warns(RuntimeWarning, match="Ambiguous kl_divergence"):
        D.register_kl(D.Normal, MyNormal)(_other)
        D.kl_divergence(Both(0.0, 1.0), MyNormal(0.0, 1.0))
    with pytest.raises(TypeError, match="Distribution subclass"):
        D.register_kl(int, D.Normal)


# -- REINFORCE -------------------------------------------------------------------------------

def test_reinforce_with_categorical(seeded):
    policy = taimatsu.nn.Linear(4, 3)
    state = taimatsu.randn(5, 4)
    logits = policy(state)
    m = D.Categorical(logits=logits)
    action = m.sample()
    assert action.dtype == taimatsu.int64 and tuple(action.shape) == (5,)
    reward = taimatsu.randn(5)
    loss = -(m.log_prob(action) * reward).sum()
    loss.backward()
    # d(-log softmax(l)[a] * r)/dl = (softmax(l) - onehot(a)) * r
    probs = taimatsu.softmax(logits.detach(), -1).numpy()
    onehot = np.eye(3)[action.numpy()]
    dlogits = (probs - onehot) * reward.numpy()[:, None]
    np.testing.assert_allclose(policy.bias.grad.numpy(), dlogits.sum(0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(policy.weight.grad.numpy(), dlogits.T @ state.numpy(),
                               rtol=1e-5, atol=1e-5)


def test_reinforce_with_bernoulli_and_entropy_bonus(seeded):
    logits = taimatsu.zeros(6, requires_grad=True)
    m = D.Bernoulli(logits=logits)
    action = m.sample()
    (-(m.log_prob(action) * 2.0).sum() - 0.1 * m.entropy().sum()).backward()
    # At logits 0: d log p(a)/dl = a - 1/2 and d entropy/dl = 0.
    np.testing.assert_allclose(logits.grad.numpy(), -2.0 * (action.numpy() - 0.5), atol=1e-6)


# -- validation --------------------------------------------------------------------------------

def test_invalid_parameters_raise_value_error():
    with pytest.raises(ValueError, match=r"Expected parameter scale \(Tensor of shape \(2,\)\) of "
                                         r"distribution Normal\(loc: taimatsu.Size\(\[2\]\), scale:"
                                         r" taimatsu.Size\(\[2\]\)\) to satisfy the constraint "
                                         r"GreaterThan\(lower_bound=0.0\), but found invalid "
                                         r"values:\ntensor\(\[ 1., -1.\]\)"):
        D.Normal(taimatsu.zeros(2), taimatsu.tensor([1.0, -1.0]))
    with pytest.raises(ValueError, match=r"constraint IndependentConstraint\(GreaterThan"):
        D.Dirichlet(taimatsu.tensor([1.0, -1.0]))
    with pytest.raises(ValueError, match="constraint PositiveDefinite"):
        D.MultivariateNormal(taimatsu.zeros(2), taimatsu.tensor([[1.0, 2.0], [2.0, 1.0]]))
    with pytest.raises(ValueError, match="constraint LessThan"):
        D.Uniform(1.0, 0.0)
    with pytest.raises(ValueError, match="IntegerGreaterThan"):
        D.Binomial(2.5, taimatsu.tensor(0.5))
    with pytest.raises(ValueError, match="Either `probs` or `logits` must be specified"):
        D.Categorical()
    with pytest.raises(ValueError, match="`probs` parameter must be at least one-dimensional."):
        D.Categorical(taimatsu.tensor(0.3))
    with pytest.raises(ValueError, match="Exactly one of covariance_matrix"):
        D.MultivariateNormal(taimatsu.zeros(2))
    with pytest.raises(ValueError, match="loc must be at least one-dimensional."):
        D.MultivariateNormal(taimatsu.tensor(0.0), taimatsu.eye(1))
    with pytest.raises(ValueError, match="Expected reinterpreted_batch_ndims <="):
        D.Independent(D.Normal(taimatsu.zeros(2), 1.0), 2)


def test_invalid_values_raise_value_error():
    d = D.Normal(taimatsu.zeros(2), 1.0)
    with pytest.raises(ValueError, match="The value argument to log_prob must be a Tensor"):
        d.log_prob(0.5)
    with pytest.raises(ValueError, match="Value is not broadcastable with batch_shape"):
        d.log_prob(taimatsu.zeros(3))
    with pytest.raises(ValueError, match="The right-most size of value must match event_shape"):
        D.Dirichlet(taimatsu.ones(3)).log_prob(taimatsu.ones(2) / 2)
    with pytest.raises(ValueError, match=r"to be within the support \(IntegerInterval\("
                                         r"lower_bound=0, upper_bound=2\)\)"):
        D.Categorical(taimatsu.ones(3)).log_prob(taimatsu.tensor(3))
    with pytest.raises(ValueError, match="GreaterThanEq"):
        D.Exponential(1.0).log_prob(taimatsu.tensor(-1.0))


def test_validate_args_switches():
    # Off per instance: no check, log_prob of an out-of-support value computes anyway.
    d = D.Exponential(taimatsu.tensor([-1.0]), validate_args=False)
    assert d.log_prob(taimatsu.tensor([-1.0])).shape == (1,)
    try:
        D.Distribution.set_default_validate_args(False)
        D.Normal(0.0, -1.0)
        D.Normal(0.0, 1.0, validate_args=True).log_prob(taimatsu.tensor(0.0))
        with pytest.raises(ValueError):
            D.Normal(0.0, -1.0, validate_args=True)
    finally:
        D.Distribution.set_default_validate_args(True)
    with pytest.raises(ValueError):
        D.Normal(0.0, -1.0)
    with pytest.raises(ValueError):
        D.Distribution.set_default_validate_args(2)


def test_missing_arg_constraints_warns():
    class Bare(D.Distribution):
        pass

    with pytest.warns(UserWarning, match="does not define `arg_constraints`"):
        Bare()
    with pytest.raises(NotImplementedError, match="does not implement mode"):
        _ = Bare(validate_args=False).mode


def test_sample_n_is_deprecated(seeded):
    with pytest.warns(FutureWarning, match="`sample_n\\(n\\)` will be deprecated"):
        s = D.Normal(taimatsu.zeros(2), 1.0).sample_n(4)
    assert tuple(s.shape) == (4, 2)


# -- expand ------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", FAMILIES)
def test_expand(name, seeded):
    d = _families()[name]
    e = d.expand((4,) + tuple(d.batch_shape))
    assert tuple(e.batch_shape) == (4,) + tuple(d.batch_shape)
    assert e.event_shape == d.event_shape and type(e) is type(d)
    assert e._validate_args == d._validate_args
    x = d.sample()
    np.testing.assert_allclose(e.log_prob(x).detach().numpy(),
                               np.broadcast_to(d.log_prob(x).detach().numpy(), (4, 2)))
    assert tuple(e.sample((3,)).shape) == (3, 4) + tuple(d.batch_shape) + tuple(d.event_shape)
    if name in ("Categorical", "Binomial", "OneHotCategorical", "Cauchy", "Multinomial"):
        return
    np.testing.assert_allclose(e.mean.detach().numpy(),
                               np.broadcast_to(d.mean.detach().numpy(), tuple(e.mean.shape)))


def test_expand_shares_parameters_and_keeps_gradients():
    loc = taimatsu.zeros(3, requires_grad=True)
    e = D.Normal(loc, 1.0).expand((2, 3))
    e.log_prob(taimatsu.ones(2, 3)).sum().backward()
    np.testing.assert_allclose(loc.grad.numpy(), [2.0, 2.0, 2.0])


def test_subclass_with_own_init_must_define_expand():
    class Shifted(D.Normal):
        def __init__(self, loc):
            super().__init__(loc, 1.0)

    with pytest.raises(NotImplementedError, match="Subclass Shifted of Normal that defines a "
                                                  "custom __init__ method must also define a "
                                                  "custom .expand\\(\\) method."):
        Shifted(taimatsu.zeros(2)).expand((3, 2))


# -- per-family details ------------------------------------------------------------------------

def test_bernoulli_and_categorical_parameterizations_agree():
    logits = _t([[0.3, -1.2, 2.0]])
    a, b = D.Categorical(logits=logits), D.Categorical(probs=taimatsu.softmax(logits, -1) * 5)
    np.testing.assert_allclose(a.probs.numpy(), b.probs.numpy(), rtol=1e-12)
    np.testing.assert_allclose(a.logits.numpy(), b.logits.numpy(), rtol=1e-12)
    np.testing.assert_allclose(a.entropy().numpy(), b.entropy().numpy(), rtol=1e-12)
    p = D.Bernoulli(probs=_t([0.25]))
    np.testing.assert_allclose(p.logits.numpy(), [math.log(1 / 3)], rtol=1e-12)
    assert math.isnan(D.Bernoulli(_t([0.5])).mode.item())
    assert D.Categorical(logits=_t([1.0, 3.0, 2.0])).mode.item() == 1
    # A zero probability contributes 0 to the entropy, not NaN.
    assert D.Categorical(_t([0.0, 0.5, 0.5])).entropy().item() == pytest.approx(math.log(2))


def test_enumerate_support():
    d = D.Categorical(taimatsu.ones(2, 3))
    assert d.enumerate_support().tolist() == [[0, 0], [1, 1], [2, 2]]
    assert tuple(d.enumerate_support(expand=False).shape) == (3, 1)
    b = D.Binomial(_t([2.0, 2.0]), _t([0.3, 0.6]))
    total = b.log_prob(b.enumerate_support()).exp().sum(0)
    np.testing.assert_allclose(total.numpy(), [1.0, 1.0], rtol=1e-12)
    with pytest.raises(NotImplementedError, match="Inhomogeneous total count"):
        D.Binomial(_t([2.0, 3.0]), _t([0.3, 0.6])).entropy()
    with pytest.raises(NotImplementedError, match="Enumeration over cartesian product"):
        D.Independent(D.Bernoulli(taimatsu.ones(2) / 2), 1).enumerate_support()
    oh = D.OneHotCategorical(taimatsu.ones(3))
    assert oh.enumerate_support().tolist() == [[1, 0, 0], [0, 1, 0], [0, 0, 1]]


def test_one_hot_straight_through(seeded):
    probs = _t([0.2, 0.3, 0.5], grad=True)
    d = D.OneHotCategoricalStraightThrough(probs)
    s = d.rsample((4,))
    assert sorted(set(s.detach().numpy().ravel().tolist())) == [0.0, 1.0]
    (s * _t([1.0, 2.0, 3.0])).sum().backward()
    # The one-hot values carry the gradient of the normalized probabilities.
    assert probs.grad is not None and np.abs(probs.grad.numpy()).sum() > 0


def test_binomial_and_poisson_samples_are_counts(seeded):
    s = D.Binomial(_t([5.0, 0.0]), _t([0.5, 0.5])).sample((200,)).numpy()
    assert np.all(s == np.round(s)) and s.min() >= 0 and s[:, 0].max() <= 5 and s[:, 1].max() == 0
    s = D.Poisson(_t([3.0])).sample((200,)).numpy()
    assert np.all(s == np.round(s)) and s.min() >= 0


def test_multivariate_normal_parameterizations_agree():
    cov = _spd()
    loc = _t([0.5, -1.0, 2.0])
    x = _t(np.random.default_rng(1).normal(size=(4, 3)))
    by_cov = D.MultivariateNormal(loc, covariance_matrix=_t(cov))
    by_prec = D.MultivariateNormal(loc, precision_matrix=_t(np.linalg.inv(cov)))
    by_tril = D.MultivariateNormal(loc, scale_tril=_t(np.linalg.cholesky(cov)))
    for d in (by_prec, by_tril):
        np.testing.assert_allclose(d.log_prob(x).numpy(), by_cov.log_prob(x).numpy(), rtol=1e-10)
        np.testing.assert_allclose(d.covariance_matrix.numpy(), cov, rtol=1e-10)
        np.testing.assert_allclose(d.precision_matrix.numpy(), np.linalg.inv(cov), rtol=1e-8,
                                   atol=1e-12)
        np.testing.assert_allclose(d.scale_tril.numpy(), np.linalg.cholesky(cov), rtol=1e-10)
    # A diagonal covariance is a product of independent normals.
    diag = D.MultivariateNormal(loc, covariance_matrix=taimatsu.diag_embed(_t([1.0, 4.0, 0.25])))
    indep = D.Independent(D.Normal(loc, _t([1.0, 2.0, 0.5])), 1)
    np.testing.assert_allclose(diag.log_prob(x).numpy(), indep.log_prob(x).numpy(), rtol=1e-12)
    np.testing.assert_allclose(diag.entropy().numpy(), indep.entropy().numpy(), rtol=1e-12)


def test_mahalanobis_with_batched_scale_and_sample_dims():
    from taimatsu.distributions.multivariate_normal import _batch_mahalanobis
    rng = np.random.default_rng(3)
    L = np.tril(rng.normal(size=(2, 3, 3))) + 3 * np.eye(3)
    x = rng.normal(size=(5, 4, 2, 3))
    want = np.einsum("...i,...i->...", *(2 * [np.linalg.solve(L, x[..., None])[..., 0]]))
    np.testing.assert_allclose(_batch_mahalanobis(_t(L), _t(x)).numpy(), want, rtol=1e-12)
    # Fewer batch dims in x than in L: x broadcasts against every L.
    one = np.linalg.solve(L, np.broadcast_to(x[0, 0, 0], (2, 3))[..., None])[..., 0]
    np.testing.assert_allclose(_batch_mahalanobis(_t(L), _t(x[0, 0, 0])).numpy(),
                               (one ** 2).sum(-1), rtol=1e-12)


def test_cdf_icdf_round_trip():
    u = _t([0.1, 0.5, 0.9])
    for d in (D.Normal(_t(0.3), _t(2.0)), D.Exponential(_t(1.5)), D.Laplace(_t(-1.0), _t(0.5)),
              D.Uniform(_t(-1.0), _t(3.0)), D.LogNormal(_t(0.2), _t(0.7))):
        np.testing.assert_allclose(d.cdf(d.icdf(u)).numpy(), u.numpy(), rtol=1e-10)


def test_uniform_log_prob_outside_is_minus_infinity():
    d = D.Uniform(_t(0.0), _t(1.0), validate_args=False)
    assert d.log_prob(_t(2.0)).item() == -math.inf
    assert d.log_prob(_t(0.5)).item() == 0.0


# -- transforms --------------------------------------------------------------------------------

TRANSFORMS = [
    transforms.ExpTransform(), transforms.AffineTransform(1.0, -2.0),
    transforms.SigmoidTransform(), transforms.TanhTransform(), transforms.SoftplusTransform(),
    transforms.PowerTransform(_t(3.0)), transforms.StickBreakingTransform(),
    transforms.LowerCholeskyTransform(), transforms.CorrCholeskyTransform(),
    transforms.ComposeTransform([transforms.ExpTransform(), transforms.AffineTransform(0.5, 3.0)]),
    transforms.ExpTransform().inv,
]


def _domain_point(t, rng):
    if isinstance(t, transforms.LowerCholeskyTransform):  # only the lower triangle is used
        return _t(np.tril(rng.normal(size=(3, 3)) * 0.5))
    if isinstance(t, transforms.CorrCholeskyTransform):
        return _t(rng.normal(size=(3,)) * 0.5)
    x = rng.normal(size=(3,)) * 0.5
    if isinstance(t, (transforms.PowerTransform, transforms._InverseTransform)):
        x = np.abs(x) + 0.2
    return _t(x)


@pytest.mark.parametrize("t", TRANSFORMS, ids=repr)
def test_transform_round_trip_and_codomain(t):
    x = _domain_point(t, np.random.default_rng(0))
    y = t(x)
    assert bool(t.codomain.check(y).all())
    np.testing.assert_allclose(t.inv(y).numpy(), x.numpy(), rtol=1e-8, atol=1e-10)
    assert tuple(t.forward_shape(x.shape)) == tuple(y.shape)
    assert tuple(t.inverse_shape(y.shape)) == tuple(x.shape)


@pytest.mark.parametrize("t", [t for t in TRANSFORMS if t.domain.event_dim == t.codomain.event_dim
                               and not isinstance(t, (transforms.LowerCholeskyTransform,
                                                      transforms.StickBreakingTransform))],
                         ids=repr)
def test_log_abs_det_jacobian_matches_autograd(t):
    """log|det dy/dx| against the Jacobian computed by autograd."""
    x = _domain_point(t, np.random.default_rng(1))
    jac = taimatsu.autograd.functional.jacobian(t, x).numpy()
    y = t(x)
    got = t.log_abs_det_jacobian(x, y).detach().numpy()
    if t.domain.event_dim == 0:
        np.testing.assert_allclose(got, np.log(np.abs(np.diag(jac))), rtol=1e-8)
    else:
        np.testing.assert_allclose(got, np.log(abs(np.linalg.det(jac))), rtol=1e-8)


def test_stick_breaking_log_det_matches_autograd():
    # R^3 -> 4-simplex: the Jacobian of the first 3 outputs (the last one is determined).
    t = transforms.StickBreakingTransform()
    x = _t([0.3, -0.5, 1.0])
    jac = taimatsu.autograd.functional.jacobian(lambda v: t(v)[:-1], x).numpy()
    np.testing.assert_allclose(t.log_abs_det_jacobian(x, t(x)).item(),
                               np.log(abs(np.linalg.det(jac))), rtol=1e-8)


def test_transform_cache_and_equality():
    t = transforms.ExpTransform(cache_size=1)
    x = taimatsu.randn(3)
    y = t(x)
    assert t(x) is y and t.inv(y) is x
    assert transforms.ExpTransform() == transforms.ExpTransform()
    assert transforms.AffineTransform(1.0, 2.0) == transforms.AffineTransform(1.0, 2.0)
    assert transforms.AffineTransform(1.0, 2.0) != transforms.AffineTransform(1.0, 3.0)
    assert transforms.ExpTransform().inv.inv == transforms.ExpTransform()
    assert transforms.ExpTransform().with_cache(1)._cache_size == 1
    with pytest.raises(ValueError, match="cache_size must be 0 or 1"):
        transforms.ExpTransform(cache_size=2)
    assert transforms.AffineTransform(0.0, -2.0).sign == -1
    assert transforms.identity_transform(x) is x


def test_transformed_distribution_shapes_and_log_prob():
    base = D.Normal(taimatsu.zeros(2, 3), taimatsu.ones(2, 3))
    d = D.TransformedDistribution(base, [transforms.StickBreakingTransform()])
    assert tuple(d.batch_shape) == (2,) and tuple(d.event_shape) == (4,)
    assert isinstance(d.base_dist, D.Independent)
    s = d.sample((5,))
    assert tuple(s.shape) == (5, 2, 4)
    np.testing.assert_allclose(s.sum(-1).numpy(), 1.0, rtol=1e-5)
    # Decreasing transforms flip the CDF: P(-X <= y) = 1 - P(X <= -y).
    base = D.Normal(_t(0.3), _t(1.0))
    neg = D.TransformedDistribution(base, transforms.AffineTransform(0, -1))
    assert neg.cdf(_t(1.0)).item() == pytest.approx(1 - base.cdf(_t(-1.0)).item(), rel=1e-12)
    assert neg.icdf(neg.cdf(_t(1.0))).item() == pytest.approx(1.0, rel=1e-10)
    with pytest.raises(ValueError, match="transforms must be a Transform or list"):
        D.TransformedDistribution(base, "exp")
    # LogNormal is exp of a Normal: change of variables by hand.
    ln = D.LogNormal(_t(0.3), _t(0.8))
    x = _t(1.7)
    want = D.Normal(_t(0.3), _t(0.8)).log_prob(x.log()) - x.log()
    assert ln.log_prob(x).item() == pytest.approx(want.item(), rel=1e-12)


# -- constraints and registries ----------------------------------------------------------------

def test_constraint_checks():
    c = constraints
    assert c.positive.check(_t([1.0, 0.0, -1.0])).tolist() == [True, False, False]
    assert c.nonnegative_integer.check(_t([0.0, 2.0, 1.5, -1.0])).tolist() == [True, True, False,
                                                                               False]
    assert c.simplex.check(_t([[0.5, 0.5], [0.5, 0.6]])).tolist() == [True, False]
    assert c.real.check(_t([math.nan, math.inf])).tolist() == [False, True]
    assert c.lower_cholesky.check(_t([[[1.0, 0.0], [2.0, 1.0]], [[1.0, 1.0], [0.0, 1.0]]])
                                  ).tolist() == [True, False]
    assert c.positive_definite.check(_t([[[2.0, 0.0], [0.0, 1.0]], [[1.0, 2.0], [2.0, 1.0]]])
                                     ).tolist() == [True, False]
    assert c.one_hot.check(_t([[0.0, 1.0], [1.0, 1.0]])).tolist() == [True, False]
    assert c.independent(c.positive, 1).check(_t([[1.0, 2.0], [1.0, -2.0]])).tolist() == [True,
                                                                                         False]
    with pytest.raises(ValueError, match="Expected value.dim\\(\\) >= 2 but got 1"):
        c.independent(c.positive, 2).check(_t([1.0]))
    assert c.is_dependent(c.dependent) and not c.is_dependent(c.real)
    assert c.is_dependent(D.Uniform.support)
    assert D.Uniform.support.event_dim == 0 and D.Categorical.support.is_discrete
    with pytest.raises(ValueError, match="Cannot determine validity of dependent constraint"):
        c.dependent.check(_t(1.0))
    with pytest.raises(NotImplementedError, match=".event_dim cannot be determined statically"):
        _ = c.dependent.event_dim
    assert c.dependent(is_discrete=True, event_dim=1).event_dim == 1
    assert repr(c.interval(0.0, 1.0)) == "Interval(lower_bound=0.0, upper_bound=1.0)"


@pytest.mark.parametrize("constraint", [
    constraints.positive, constraints.unit_interval, constraints.simplex,
    constraints.greater_than(2.0), constraints.less_than(-1.0), constraints.interval(-2.0, 5.0),
    constraints.real_vector, constraints.corr_cholesky, constraints.lower_cholesky,
    constraints.positive_definite], ids=repr)
def test_transform_to_reaches_the_constraint(constraint):
    rng = np.random.default_rng(5)
    t = D.transform_to(constraint)
    shape = {2: (3, 3)}.get(t.domain.event_dim, (6,))
    y = t(_t(rng.normal(size=shape)))
    assert bool(constraint.check(y).all())
    if constraint in (constraints.positive, constraints.simplex, constraints.corr_cholesky):
        x = _t(rng.normal(size=(6,) if constraint is not constraints.simplex else (3,)))
        b = D.biject_to(constraint)
        np.testing.assert_allclose(b.inv(b(x)).numpy(), x.numpy(), rtol=1e-8, atol=1e-10)


def test_constraint_registry_errors_and_custom_entries():
    with pytest.raises(NotImplementedError, match="Cannot transform _IntegerGreaterThan "
                                                  "constraints"):
        D.biject_to(constraints.nonnegative_integer)
    with pytest.raises(TypeError, match="Expected constraint to be either a Constraint"):
        D.transform_to.register(int, lambda c: None)
    registry = D.constraint_registry.ConstraintRegistry()
    registry.register(constraints.positive, lambda c: transforms.SoftplusTransform())
    assert isinstance(registry(constraints.greater_than(3.0)), transforms.SoftplusTransform)


def test_no_warnings_in_normal_use(seeded):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for d in _families().values():
            x = d.sample((3,))
            d.log_prob(x)
            # (Binomial: inhomogeneous counts; the others have no entropy in torch either)
            if not isinstance(d, (D.Poisson, D.Binomial, D.MixtureSameFamily)):
                d.entropy()
