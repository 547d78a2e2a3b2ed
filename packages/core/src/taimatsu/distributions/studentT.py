"""Student's t distribution."""

from __future__ import annotations

import math

import taimatsu
from taimatsu import Size

from . import constraints
from .chi2 import Chi2
from .distribution import Distribution
from .utils import _standard_normal, broadcast_all

__all__ = ["StudentT"]


class StudentT(Distribution):
    """StudentT(df, loc=0, scale=1): loc + scale * Z / sqrt(V / df), Z normal, V ~ Chi2(df)."""

    arg_constraints = {"df": constraints.positive, "loc": constraints.real,
                       "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, df, loc=0.0, scale=1.0, validate_args=None):
        self.df, self.loc, self.scale = broadcast_all(df, loc, scale)
        self._chi2 = Chi2(self.df)
        super().__init__(self.df.size(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._expanded(StudentT, batch_shape, _instance, "df", "loc", "scale", "_chi2")

    @property
    def mean(self):  # undefined for df <= 1
        return taimatsu.where(self.df <= 1, math.nan, self.loc)

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        # scale^2 df / (df - 2) for df > 2; infinite for 1 < df <= 2; undefined below.
        finite = self.df > 2
        safe_df = taimatsu.where(finite, self.df, 3.0)
        var = self.scale.pow(2) * safe_df / (safe_df - 2)
        var = taimatsu.where(finite, var, math.inf)
        return taimatsu.where(self.df <= 1, math.nan, var)

    def rsample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        x = _standard_normal(shape, dtype=self.df.dtype, device=self.df.device)
        z = self._chi2.rsample(sample_shape)
        return self.loc + self.scale * x * taimatsu.rsqrt(z / self.df)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        y = (value - self.loc) / self.scale
        log_norm = (self.scale.log() + 0.5 * self.df.log() + 0.5 * math.log(math.pi)
                    + taimatsu.lgamma(0.5 * self.df) - taimatsu.lgamma(0.5 * (self.df + 1.0)))
        return -0.5 * (self.df + 1.0) * taimatsu.log1p(y ** 2.0 / self.df) - log_norm

    def entropy(self):
        lbeta = (taimatsu.lgamma(0.5 * self.df) + math.lgamma(0.5)
                 - taimatsu.lgamma(0.5 * (self.df + 1)))
        return (self.scale.log()
                + 0.5 * (self.df + 1) * (taimatsu.digamma(0.5 * (self.df + 1))
                                         - taimatsu.digamma(0.5 * self.df))
                + 0.5 * self.df.log() + lbeta)
