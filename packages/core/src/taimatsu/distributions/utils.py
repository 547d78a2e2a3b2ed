"""Helpers the distributions share (torch.distributions.utils's public names, plus a few)."""

from __future__ import annotations

import functools
import numbers

import taimatsu
from taimatsu import Size, Tensor

euler_constant = 0.57721566490153286060  # the Euler-Mascheroni constant

__all__ = ["broadcast_all", "logits_to_probs", "clamp_probs", "probs_to_logits", "lazy_property",
           "tril_matrix_to_vec", "vec_to_tril_matrix"]


def broadcast_all(*values):
    """Broadcasts tensors and numbers together; numbers take the first tensor's dtype/device.

    With no tensor among them, numbers become tensors of the default dtype.
    """
    if not all(isinstance(v, (Tensor, numbers.Number)) for v in values):
        raise ValueError("Input arguments must all be instances of Number, taimatsu.Tensor or "
                         "objects implementing __torch_function__.")
    if all(isinstance(v, Tensor) for v in values):
        return taimatsu.broadcast_tensors(*values)
    options = {"dtype": taimatsu.get_default_dtype()}
    for v in values:
        if isinstance(v, Tensor):
            options = {"dtype": v.dtype, "device": v.device}
            break
    return taimatsu.broadcast_tensors(
        *(v if isinstance(v, Tensor) else taimatsu.tensor(v, **options) for v in values))


def _broadcast_params(*values):
    """broadcast_all(*values) and the batch shape they give: () when all are numbers."""
    tensors = broadcast_all(*values)
    if all(isinstance(v, numbers.Number) for v in values):
        return tensors, Size()
    return tensors, tensors[0].size()


def _standard_normal(shape, dtype, device) -> Tensor:
    """N(0, 1) draws from the global generator (taimatsu.manual_seed reproduces them)."""
    return taimatsu.randn(tuple(shape), dtype=dtype, device=device)


def _standard_uniform(shape, dtype, device) -> Tensor:
    return taimatsu.rand(tuple(shape), dtype=dtype, device=device)


def _sum_rightmost(value: Tensor, dim: int) -> Tensor:
    """Sums out the `dim` rightmost dimensions of `value`."""
    if dim == 0:
        return value
    return value.reshape(tuple(value.shape[:-dim]) + (-1,)).sum(-1)


def logits_to_probs(logits: Tensor, is_binary: bool = False) -> Tensor:
    """Probabilities from log-odds (binary) or from unnormalized log-probabilities (last dim)."""
    if is_binary:
        return taimatsu.sigmoid(logits)
    return taimatsu.softmax(logits, dim=-1)


def clamp_probs(probs: Tensor) -> Tensor:
    """Clamps probabilities into [eps, 1 - eps] for the dtype's machine epsilon."""
    eps = taimatsu.finfo(probs.dtype).eps
    return probs.clamp(min=eps, max=1 - eps)


def probs_to_logits(probs: Tensor, is_binary: bool = False) -> Tensor:
    """Log-odds (binary) or log-probabilities from probabilities, clamped away from 0 and 1."""
    clamped = clamp_probs(probs)
    if is_binary:
        return taimatsu.log(clamped) - taimatsu.log1p(-clamped)
    return taimatsu.log(clamped)


class lazy_property:
    """A property computed on first access (with grad enabled) and then cached on the instance.

    Distributions use it for the parameterization they were not given (Bernoulli's logits when
    built from probs, MultivariateNormal's scale_tril when built from a covariance).
    """

    def __init__(self, wrapped):
        self.wrapped = wrapped
        functools.update_wrapper(self, wrapped)

    def __get__(self, instance, obj_type=None):
        if instance is None:
            return _lazy_property_and_property(self.wrapped)
        with taimatsu.enable_grad():
            value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value


class _lazy_property_and_property(lazy_property, property):
    """What a lazy_property reads as on the class: both a property (for docs) and lazy
    (so argument validation can tell it was not given)."""

    def __init__(self, wrapped):
        property.__init__(self, wrapped)


def _probs_or_logits(probs, logits):
    """The parameterization given, as (name, value): exactly one of probs and logits."""
    if (probs is None) == (logits is None):
        raise ValueError("Either `probs` or `logits` must be specified, but not both.")
    return ("probs", probs) if probs is not None else ("logits", logits)


class _ProbsLogits:
    """Mixin of distributions built from `probs` or `logits`: the one not given is derived on
    first use. `_is_binary`: logits are log-odds (Bernoulli) rather than log-probabilities
    along the last dim (Categorical)."""

    _is_binary = True

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs, is_binary=self._is_binary)

    @lazy_property
    def probs(self):
        return logits_to_probs(self.logits, is_binary=self._is_binary)

    @property
    def _param(self):
        """The parameterization held (logits when both are), for its shape, dtype, device."""
        return self.__dict__["logits"] if "logits" in self.__dict__ else self.__dict__["probs"]


def _tril_mask(n: int, diag: int, device) -> Tensor:
    rows = taimatsu.arange(n, device=device)
    return rows < rows.view(-1, 1) + (diag + 1)


def tril_matrix_to_vec(mat: Tensor, diag: int = 0) -> Tensor:
    """The lower-triangular entries (below diagonal `diag`) of a (batch of) matrix, row by row."""
    n = mat.shape[-1]
    if diag < -n or diag >= n:
        raise ValueError(f"diag ({diag}) provided is outside [{-n}, {n - 1}].")
    return mat[..., _tril_mask(n, diag, mat.device)]


def vec_to_tril_matrix(vec: Tensor, diag: int = 0) -> Tensor:
    """The inverse of tril_matrix_to_vec: a (batch of) lower-triangular D x D matrix."""
    k = vec.shape[-1]
    # D solves D^2 + (1 + 2 diag) D - |diag| (diag + 1) - 2 k = 0; take the positive root.
    b = 1 + 2 * diag
    n = (-b + (b * b + 8 * k + 4 * abs(diag) * (diag + 1)) ** 0.5) / 2
    if round(n) - n > taimatsu.finfo(vec.dtype).eps:
        raise ValueError(f"The size of last dimension is {k} which cannot be expressed as the "
                         "lower triangular part of a square D x D matrix.")
    n = round(n)
    mat = vec.new_zeros(tuple(vec.shape[:-1]) + (n, n))
    mat[..., _tril_mask(n, diag, vec.device)] = vec
    return mat


def _as_size(shape) -> Size:
    return shape if isinstance(shape, Size) else Size(shape)
