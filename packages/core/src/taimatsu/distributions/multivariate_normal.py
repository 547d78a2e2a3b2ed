"""Multivariate normal distribution, parameterized by a covariance, a precision or a
lower-triangular scale (Cholesky factor) matrix."""

from __future__ import annotations

import math

import taimatsu
from taimatsu import Size

from . import constraints
from .distribution import Distribution
from .utils import _standard_normal, lazy_property

__all__ = ["MultivariateNormal"]


def _batch_mv(bmat, bvec):
    """Matrix-vector products over broadcast batch dims."""
    return taimatsu.matmul(bmat, bvec.unsqueeze(-1)).squeeze(-1)


def _batch_mahalanobis(bL, bx):
    """|L^-1 x|^2 for a batch of lower-triangular L (..., n, n) and vectors x (..., n).

    x may carry extra leading (sample) dims beyond L's batch dims; those go into the columns
    of a single triangular solve per L rather than broadcasting L over them.
    """
    extra = bx.dim() - 1 - (bL.dim() - 2)
    if extra <= 0:
        y = taimatsu.linalg.solve_triangular(bL, bx.unsqueeze(-1), upper=False)
        return y.squeeze(-1).pow(2).sum(-1)
    lead = tuple(bx.shape[:extra])
    columns = bx.reshape((-1,) + tuple(bx.shape[extra:])).movedim(0, -1)  # (..., n, samples)
    m = taimatsu.linalg.solve_triangular(bL, columns, upper=False).pow(2).sum(-2)
    m = m.movedim(-1, 0)
    return m.reshape(lead + tuple(m.shape[1:]))


def _precision_to_scale_tril(P):
    """The lower Cholesky factor of P^-1 without inverting P.

    With J the flip (reversal) matrix, chol(J P J) = Lf gives P = (J Lf J)(J Lf J)^T where
    J Lf J is upper triangular; so P^-1 = L L^T with L = ((J Lf J)^T)^-1, lower triangular.
    """
    lf = taimatsu.linalg.cholesky(taimatsu.flip(P, (-2, -1)))
    l_inv = taimatsu.transpose(taimatsu.flip(lf, (-2, -1)), -2, -1)
    eye = taimatsu.eye(P.shape[-1], dtype=P.dtype, device=P.device)
    return taimatsu.linalg.solve_triangular(l_inv, eye, upper=False)


class MultivariateNormal(Distribution):
    """MultivariateNormal(loc, covariance_matrix=, precision_matrix= or scale_tril=).

    Exactly one matrix is given; the others are derived lazily from the Cholesky factor.
    """

    arg_constraints = {"loc": constraints.real_vector,
                       "covariance_matrix": constraints.positive_definite,
                       "precision_matrix": constraints.positive_definite,
                       "scale_tril": constraints.lower_cholesky}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc, covariance_matrix=None, precision_matrix=None, scale_tril=None,
                 validate_args=None):
        if loc.dim() < 1:
            raise ValueError("loc must be at least one-dimensional.")
        given = [m is not None for m in (covariance_matrix, scale_tril, precision_matrix)]
        if sum(given) != 1:
            raise ValueError("Exactly one of covariance_matrix or precision_matrix or "
                             "scale_tril may be specified.")
        name, matrix = next((n, m) for n, m in (("scale_tril", scale_tril),
                                                 ("covariance_matrix", covariance_matrix),
                                                 ("precision_matrix", precision_matrix))
                            if m is not None)
        if matrix.dim() < 2:
            raise ValueError(f"{name} matrix must be at least two-dimensional, with optional "
                             "leading batch dimensions")
        batch_shape = taimatsu.broadcast_shapes(matrix.shape[:-2], loc.shape[:-1])
        setattr(self, name, matrix.expand(tuple(batch_shape) + (-1, -1)))
        self.loc = loc.expand(tuple(batch_shape) + (-1,))
        super().__init__(batch_shape, self.loc.shape[-1:], validate_args=validate_args)
        # The factor before broadcasting: batched work stays as small as the input.
        if scale_tril is not None:
            self._unbroadcasted_scale_tril = scale_tril
        elif covariance_matrix is not None:
            self._unbroadcasted_scale_tril = taimatsu.linalg.cholesky(covariance_matrix)
        else:
            self._unbroadcasted_scale_tril = _precision_to_scale_tril(precision_matrix)

    def expand(self, batch_shape, _instance=None):
        new = self._expanded(MultivariateNormal, batch_shape, _instance, "loc")
        new._unbroadcasted_scale_tril = self._unbroadcasted_scale_tril
        cov_shape = new.batch_shape + self.event_shape + self.event_shape
        for name in ("covariance_matrix", "scale_tril", "precision_matrix"):
            if name in self.__dict__:
                setattr(new, name, getattr(self, name).expand(cov_shape))
        return new

    def _matrix_shape(self) -> Size:
        return self._batch_shape + self._event_shape + self._event_shape

    @lazy_property
    def scale_tril(self):
        return self._unbroadcasted_scale_tril.expand(self._matrix_shape())

    @lazy_property
    def covariance_matrix(self):
        L = self._unbroadcasted_scale_tril
        return taimatsu.matmul(L, L.mT).expand(self._matrix_shape())

    @lazy_property
    def precision_matrix(self):
        return taimatsu.cholesky_inverse(self._unbroadcasted_scale_tril).expand(
            self._matrix_shape())

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        return self._unbroadcasted_scale_tril.pow(2).sum(-1).expand(
            self._batch_shape + self._event_shape)

    def rsample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        eps = _standard_normal(shape, dtype=self.loc.dtype, device=self.loc.device)
        return self.loc + _batch_mv(self._unbroadcasted_scale_tril, eps)

    def _half_log_det(self):
        return self._unbroadcasted_scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        m = _batch_mahalanobis(self._unbroadcasted_scale_tril, value - self.loc)
        return -0.5 * (self._event_shape[0] * math.log(2 * math.pi) + m) - self._half_log_det()

    def entropy(self):
        h = 0.5 * self._event_shape[0] * (1.0 + math.log(2 * math.pi)) + self._half_log_det()
        return h if len(self._batch_shape) == 0 else h.expand(self._batch_shape)
