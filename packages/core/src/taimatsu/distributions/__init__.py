"""Probability distributions, following torch.distributions.

Distributions with `rsample` (Normal, Uniform, Exponential, Laplace, Gamma, Beta, Dirichlet,
MultivariateNormal, LogNormal, ...) give reparameterized samples that carry gradients to the
parameters (pathwise estimators); the others (Bernoulli, Categorical, Poisson, ...) support the
score-function (REINFORCE) estimator through a differentiable `log_prob`:

    probs = policy(state)
    m = Categorical(probs)
    action = m.sample()
    loss = -m.log_prob(action) * reward
    loss.backward()

Samples come from taimatsu's global generator: `taimatsu.manual_seed` reproduces them.
"""

from . import constraints, transforms
from .bernoulli import Bernoulli
from .beta import Beta
from .binomial import Binomial
from .categorical import Categorical
from .cauchy import Cauchy
from .chi2 import Chi2
from .constraint_registry import biject_to, transform_to
from .dirichlet import Dirichlet
from .distribution import Distribution
from .exp_family import ExponentialFamily
from .exponential import Exponential
from .gamma import Gamma
from .geometric import Geometric
from .gumbel import Gumbel
from .half_normal import HalfNormal
from .independent import Independent
from .kl import kl_divergence, register_kl
from .laplace import Laplace
from .log_normal import LogNormal
from .mixture_same_family import MixtureSameFamily
from .multinomial import Multinomial
from .multivariate_normal import MultivariateNormal
from .normal import Normal
from .one_hot_categorical import OneHotCategorical, OneHotCategoricalStraightThrough
from .poisson import Poisson
from .studentT import StudentT
from .transformed_distribution import TransformedDistribution
from .transforms import *  # noqa: F401,F403
from .uniform import Uniform

__all__ = [
    "Bernoulli", "Beta", "Binomial", "Categorical", "Cauchy", "Chi2", "Dirichlet",
    "Distribution", "ExponentialFamily", "Exponential", "Gamma", "Geometric", "Gumbel",
    "HalfNormal", "Independent", "Laplace", "LogNormal", "MixtureSameFamily", "Multinomial",
    "MultivariateNormal", "Normal", "OneHotCategorical", "OneHotCategoricalStraightThrough",
    "Poisson", "StudentT", "TransformedDistribution", "Uniform", "biject_to", "constraints",
    "kl_divergence", "register_kl", "transform_to", "transforms",
]
__all__.extend(transforms.__all__)
