"""weight_norm, spectral_norm and orthogonal as parametrizations (PyTorch's current API).

weight_norm stores `parametrizations.weight.original0` (g, the norms) and `original1`
(v, the direction); spectral_norm stores `parametrizations.weight.original` plus the
power-iteration vectors `_u` and `_v` as buffers of the parametrization; orthogonal
stores `original` and (with the default trivialization) the buffer `base`.
"""

from __future__ import annotations

from enum import Enum

import numpy as np

from ... import backend
from ..._tensor import Tensor
from ...autograd.grad_mode import no_grad
from ..modules.module import Module
from . import parametrize

__all__ = ["weight_norm", "spectral_norm", "orthogonal"]


def _norm_except_dim(v: Tensor, dim: int) -> Tensor:
    """The 2-norm over every dim but `dim`, kept as size-1 dims (dim -1: one norm of all)."""
    if dim == -1:
        return v.norm(2)
    dims = tuple(d for d in range(v.ndim) if d != dim)
    return v.norm(2, dim=dims, keepdim=True) if dims else v.abs()


def _weight_norm(v: Tensor, g: Tensor, dim: int) -> Tensor:
    return v * (g / _norm_except_dim(v, dim))


class _WeightNorm(Module):
    def __init__(self, dim: int | None = 0) -> None:
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g: Tensor, weight_v: Tensor) -> Tensor:
        return _weight_norm(weight_v, weight_g, self.dim)

    def right_inverse(self, weight: Tensor):
        return _norm_except_dim(weight, self.dim), weight


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Reparametrizes module.<name> as g * v / ||v|| (norm over every dim but `dim`).

    The magnitude g is `parametrizations.<name>.original0` and the direction v is
    `original1`. dim=None normalizes over the whole tensor. Checkpoints saved with the
    legacy hook version (`<name>_g` / `<name>_v`) load too.
    """
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)

    def _weight_norm_compat_hook(state_dict, prefix, local_metadata, strict, missing_keys,
                                 unexpected_keys, error_msgs):
        g_key, v_key = f"{prefix}{name}_g", f"{prefix}{name}_v"
        if g_key in state_dict and v_key in state_dict:
            state_dict[f"{prefix}parametrizations.{name}.original0"] = state_dict.pop(g_key)
            state_dict[f"{prefix}parametrizations.{name}.original1"] = state_dict.pop(v_key)

    module._register_load_state_dict_pre_hook(_weight_norm_compat_hook)
    return module


def _normalize(x: Tensor, eps: float) -> Tensor:
    """x / max(||x||, eps), as F.normalize over dim 0 of a vector."""
    return x / x.norm(2).clamp_min(eps)


class _SpectralNorm(Module):
    def __init__(self, weight: Tensor, n_power_iterations: int = 1, dim: int = 0,
                 eps: float = 1e-12) -> None:
        super().__init__()
        ndim = weight.ndim
        if dim >= ndim or dim < -ndim:
            raise IndexError("Dimension out of range (expected to be in range of "
                             f"[-{ndim}, {ndim - 1}] but got {dim})")
        if n_power_iterations <= 0:
            raise ValueError("Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            weight_mat = self._reshape_weight_to_matrix(weight)
            h, w = weight_mat.shape
            u = weight_mat.new_empty(h).normal_(0, 1)
            v = weight_mat.new_empty(w).normal_(0, 1)
            self.register_buffer("_u", _normalize(u, self.eps))
            self.register_buffer("_v", _normalize(v, self.eps))
            # start from a good estimate so the first forward is already accurate
            self._power_method(weight_mat, 15)

    def _reshape_weight_to_matrix(self, weight: Tensor) -> Tensor:
        if self.dim != 0:
            weight = weight.permute(self.dim, *(d for d in range(weight.ndim) if d != self.dim))
        return weight.flatten(1)

    def _power_method(self, weight_mat: Tensor, n_power_iterations: int) -> None:
        # u and v are updated in place: they are buffers, and DataParallel-style replicas
        # share them
        with no_grad():
            for _ in range(n_power_iterations):
                self._u.copy_(_normalize(weight_mat.mv(self._v), self.eps))
                self._v.copy_(_normalize(weight_mat.conj().t().mv(self._u), self.eps))

    def forward(self, weight: Tensor) -> Tensor:
        if weight.ndim == 1:
            return _normalize(weight, self.eps)
        weight_mat = self._reshape_weight_to_matrix(weight)
        if self.training:
            self._power_method(weight_mat, self.n_power_iterations)
        u = self._u.clone()
        v = self._v.clone()
        sigma = u.vdot(weight_mat.mv(v))
        return weight / sigma

    def right_inverse(self, value: Tensor) -> Tensor:
        return value


def spectral_norm(module: Module, name: str = "weight", n_power_iterations: int = 1,
                  eps: float = 1e-12, dim: int | None = None) -> Module:
    """Reparametrizes module.<name> as W / sigma(W), sigma estimated by power iteration.

    Args:
        n_power_iterations: power-iteration steps per forward in training mode
        eps: floor of the norms when normalizing
        dim: the output dim (default 0, 1 for ConvTranspose layers)
    """
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if dim is None:
        dim = 1 if type(module).__name__ in ("ConvTranspose1d", "ConvTranspose2d",
                                             "ConvTranspose3d") else 0
    parametrize.register_parametrization(
        module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module


# -- orthogonal ----------------------------------------------------------------------------------

class _OrthMaps(Enum):
    matrix_exp = 1
    cayley = 2
    householder = 3


def _householder_product(a: Tensor, tau: Tensor) -> Tensor:
    """The first k columns of H_0 H_1 ... H_(k-1), H_i = I - tau_i v_i v_i^H, where v_i is
    column i of `a` below the diagonal with a unit diagonal (LAPACK's orgqr), composed from
    differentiable ops."""
    from ... import eye
    n, k = a.shape[-2], a.shape[-1]
    unit = eye(n, k, dtype=a.dtype, device=a.device)
    v = a.tril(-1) + unit
    q = unit.expand(*a.shape[:-2], n, k) if a.ndim > 2 else unit
    for i in reversed(range(k)):  # q = H_i q, innermost reflector first
        vi = v[..., :, i:i + 1]
        q = q - (tau[..., i:i + 1].unsqueeze(-1) * vi) @ (vi.mH @ q)
    return q


def _make_orthogonal(a: Tensor) -> Tensor:
    """The Q of a = QR with a non-negative diagonal of R (a tall; no gradient)."""
    arr = backend.to_numpy(a._data)
    q, r = np.linalg.qr(_lapack_dtype(arr))
    d = np.diagonal(r, axis1=-2, axis2=-1)
    q = q * np.where(d == 0, 1, np.sign(d))[..., None, :]
    return Tensor._make(q.astype(arr.dtype)).to(a.device)


def _lapack_dtype(arr: np.ndarray) -> np.ndarray:
    """LAPACK has no half precision: those go through float32."""
    return arr if arr.dtype.kind in "fc" and arr.dtype.itemsize >= 4 else arr.astype(np.float32)


def _is_orthogonal(q: Tensor) -> bool:
    import ml_dtypes

    from ... import allclose, eye
    n, k = q.shape[-2], q.shape[-1]
    eps = 10.0 * n * float(ml_dtypes.finfo(q._data.dtype).eps)
    return bool(allclose(q.mH @ q, eye(k, dtype=q.dtype, device=q.device), atol=eps))


class _Orthogonal(Module):
    def __init__(self, weight: Tensor, orthogonal_map: _OrthMaps, *,
                 use_trivialization: bool = True) -> None:
        super().__init__()
        if weight.is_complex() and orthogonal_map == _OrthMaps.householder:
            raise ValueError("The householder parametrization does not support complex "
                             "tensors.")
        self.shape = weight.shape
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, x: Tensor) -> Tensor:
        from ... import cat, eye
        n, k = x.shape[-2], x.shape[-1]
        transposed = n < k
        if transposed:
            x = x.mT
            n, k = k, n
        if self.orthogonal_map in (_OrthMaps.matrix_exp, _OrthMaps.cayley):
            # a skew-symmetric n x n matrix from the lower triangle, then exp or Cayley
            x = x.tril()
            if n != k:
                pad = x.new_zeros(n, n - k).expand(*x.shape[:-2], -1, -1)
                x = cat([x, pad], dim=-1)
            a = x - x.mH
            if self.orthogonal_map == _OrthMaps.matrix_exp:
                q = a.matrix_exp()
            else:
                identity = eye(n, dtype=a.dtype, device=a.device)
                from ...linalg import solve
                q = solve(identity - 0.5 * a, identity + 0.5 * a)
            if n != k:
                q = q[..., :k]
        else:
            a = x.tril(-1)
            tau = 2.0 / (1.0 + (a * a).sum(dim=-2))
            q = _householder_product(a, tau)
            # x's diagonal holds +-1 (not differentiated): the signs of the reflections
            q = q * x.diagonal(dim1=-2, dim2=-1).int().unsqueeze(-2)
        if hasattr(self, "base"):
            q = self.base @ q
        return q.mT if transposed else q

    def right_inverse(self, q: Tensor) -> Tensor:
        with no_grad():
            return self._right_inverse(q)

    def _right_inverse(self, q: Tensor) -> Tensor:
        from ... import cat, randn, zeros_like
        if q.shape != self.shape:
            raise ValueError(f"Expected a matrix or batch of matrices of shape {self.shape}. "
                             f"Got a tensor of shape {q.shape}.")
        q_init = q
        n, k = q.shape[-2], q.shape[-1]
        transpose = n < k
        if transpose:
            q = q.mT
            n, k = k, n
        if not hasattr(self, "base"):
            if self.orthogonal_map != _OrthMaps.householder:
                raise NotImplementedError("It is not possible to assign to the matrix "
                                          "exponential or the Cayley parametrizations when "
                                          "use_trivialization=False.")
            return self._householder_inverse(q, transpose)
        if n == k:
            q = q.clone() if _is_orthogonal(q) else _make_orthogonal(q)
        else:  # complete q to an n x n orthogonal matrix
            extra = randn(*(tuple(q.shape[:-2]) + (n, n - k)), dtype=q.dtype, device=q.device)
            q = _make_orthogonal(cat([q, extra], dim=-1))
        self.base = q
        # -Id: householder(zeros) is then eye, and base @ it is q again
        neg_id = zeros_like(q_init)
        neg_id.diagonal(dim1=-2, dim2=-1).fill_(-1.0)
        return neg_id

    @staticmethod
    def _householder_inverse(q: Tensor, transpose: bool) -> Tensor:
        """LAPACK's geqrf of q with the diagonal replaced by the signs the forward needs."""
        arr = backend.to_numpy(q._data)
        lead = arr.shape[:-2]
        flat = arr.reshape((-1,) + arr.shape[-2:])
        out = np.empty_like(flat)
        for i, m in enumerate(flat):
            h, tau = np.linalg.qr(_lapack_dtype(m), mode="raw")  # h is the transposed geqrf result
            a = h.T.astype(arr.dtype)
            diag = np.sign(np.diagonal(a)).copy()
            diag[tau == 0.0] *= -1  # LAPACK skips reflections it does not need
            np.fill_diagonal(a, diag)
            out[i] = a
        result = Tensor._make(out.reshape(lead + arr.shape[-2:])).to(q.device)
        return result.mT if transpose else result


def orthogonal(module: Module, name: str = "weight", orthogonal_map: str | None = None, *,
               use_trivialization: bool = True) -> Module:
    """Constrains module.<name> (a matrix or batch of them) to be orthogonal or unitary.

    Args:
        orthogonal_map: "matrix_exp", "cayley" or "householder" (default: matrix_exp for
            square or complex matrices, householder otherwise)
        use_trivialization: keep a base orthogonal matrix in the buffer `base` so that
            assigning to module.<name> is possible for every map
    """
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if weight.ndim < 2:
        raise ValueError("Expected a matrix or batch of matrices. Got a tensor of "
                         f"{weight.ndim} dimensions.")
    if orthogonal_map is None:
        orthogonal_map = ("matrix_exp" if weight.shape[-2] == weight.shape[-1]
                          or weight.is_complex() else "householder")
    orth_enum = getattr(_OrthMaps, orthogonal_map, None)
    if orth_enum is None:
        raise ValueError('orthogonal_map has to be one of "matrix_exp", "cayley", '
                         f'"householder". Got: {orthogonal_map}')
    orth = _Orthogonal(weight, orth_enum, use_trivialization=use_trivialization)
    parametrize.register_parametrization(module, name, orth, unsafe=True)
    return module
