"""taimatsu.fft: torch.fft's discrete Fourier transforms, differentiable.

`n`/`s` crop or zero-pad the transformed dims first; `norm` is "backward" (default: no
scaling forward, 1/n inverse), "ortho" (1/sqrt(n) both ways) or "forward" (1/n forward).
Real inputs give complex64/complex128 by their precision, as in torch.
"""

from __future__ import annotations

import numpy as np

from . import _dtype as D
from ._tensor import Tensor
from .ops._util import finish, wrap_dim
from .ops.fft import FftC2C, FftC2R, FftR2C, FftShift
from .ops.inplace import _legacy

__all__ = ["fft", "ifft", "rfft", "irfft", "hfft", "ihfft", "fft2", "ifft2", "rfft2", "irfft2",
           "hfft2", "ihfft2", "fftn", "ifftn", "rfftn", "irfftn", "hfftn", "ihfftn", "fftfreq",
           "rfftfreq", "fftshift", "ifftshift"]

_NORMS = ("backward", "forward", "ortho")
_DUAL = {"backward": "forward", "forward": "backward", "ortho": "ortho"}


def _norm(norm) -> str:
    if norm is None:
        return "backward"
    if norm not in _NORMS:
        raise RuntimeError(f'Invalid normalization mode: "{norm}"')
    return norm


def _as_float(input: Tensor, name: str, real_only: bool = False) -> Tensor:
    """Integers and bools compute in the default float dtype; half precision is refused."""
    if not isinstance(input, Tensor):
        raise TypeError(f"fft_{name}(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    dt = input.dtype
    if dt in (D.float16, D.bfloat16):
        raise RuntimeError(f"Unsupported dtype {_legacy(dt)}")
    if dt._kind < 2:
        return input.to(D.get_default_dtype())
    if real_only and dt.is_complex:
        raise RuntimeError(f"{name} expects a real input tensor, but got {_legacy(dt)}")
    return input


def _as_complex(input: Tensor, name: str) -> Tensor:
    """The one-sided spectrum a complex-to-real transform reads (real inputs promoted)."""
    input = _as_float(input, name)
    return input if input.dtype.is_complex else input.to(input.dtype.to_complex())


def _check_size(n: int) -> int:
    if n < 1:
        raise RuntimeError(f"Invalid number of data points ({n}) specified")
    return n


def _dims_and_sizes(input: Tensor, s, dim, default_dims=None):
    """(dims, sizes) for an n-dim transform, resolving None and -1 entries as torch."""
    nd = input.ndim
    if dim is not None and not isinstance(dim, (list, tuple)):
        dim = (dim,)
    if s is not None and not isinstance(s, (list, tuple)):
        s = (s,)
    if dim is None:
        if s is not None:
            dims = tuple(range(nd - len(s), nd))
            for d in dims:
                wrap_dim(d, nd)
        else:
            dims = tuple(range(nd)) if default_dims is None else tuple(
                wrap_dim(d, nd) for d in default_dims)
    else:
        dims = tuple(wrap_dim(int(d), nd) for d in dim)
        if s is not None and len(s) != len(dims):
            raise RuntimeError("When given, dim and shape arguments must have the same length")
    if len(set(dims)) != len(dims):
        raise RuntimeError("FFT dims must be unique")
    if s is None:
        sizes = tuple(input.shape[d] for d in dims)
    else:
        sizes = tuple(input.shape[d] if int(n) == -1 else int(n) for d, n in zip(dims, s))
    for n in sizes:
        _check_size(n)
    return dims, sizes


def _c2c(input, s, dim, norm, inverse, name, out, default_dims=None, one_dim=False):
    input = _as_float(input, name)
    dims, sizes = _dims_and_sizes(input, s, dim, default_dims)
    if not dims:
        return finish(input.to(input.dtype.to_complex()) if not input.is_complex()
                      else input.clone(), out)
    # torch runs a 1-D transform of a real signal as a two-sided real-to-complex one
    node = "FftR2CBackward0" if one_dim and not input.is_complex() else None
    return finish(FftC2C.apply(input, sizes, dims, _norm(norm), inverse=inverse, name=node),
                  out)


def _r2c(input, s, dim, norm, name, out, default_dims=None):
    input = _as_float(input, name, real_only=True)
    dims, sizes = _dims_and_sizes(input, s, dim, default_dims)
    return finish(FftR2C.apply(input, sizes, dims, _norm(norm)), out)


def _c2r(input, s, dim, norm, name, out, default_dims=None):
    input = _as_complex(input, name)
    dims, sizes = _dims_and_sizes(input, s, dim, default_dims)
    if s is None or (len(s) and int(s[-1]) == -1):
        # the last output size defaults to the full length of the one-sided input
        sizes = sizes[:-1] + (_check_size(2 * (input.shape[dims[-1]] - 1)),)
    return finish(FftC2R.apply(input, sizes, dims, _norm(norm)), out)


def _one(n, dim):
    return (None if n is None else (n,)), (dim,)


# -- one-dimensional -------------------------------------------------------------------------

def fft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None, *,
        out=None) -> Tensor:
    """1-D discrete Fourier transform."""
    s, d = _one(n, dim)
    return _c2c(input, s, d, norm, False, "fft", out, one_dim=True)


def ifft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None, *,
         out=None) -> Tensor:
    """1-D inverse discrete Fourier transform."""
    s, d = _one(n, dim)
    return _c2c(input, s, d, norm, True, "ifft", out, one_dim=True)


def rfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None, *,
         out=None) -> Tensor:
    """FFT of a real signal: the n // 2 + 1 non-negative frequencies."""
    s, d = _one(n, dim)
    return _r2c(input, s, d, norm, "rfft", out)


def irfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None, *,
          out=None) -> Tensor:
    """Inverse of rfft: a real signal of length n (default 2 * (input length - 1))."""
    s, d = _one(n, dim)
    return _c2r(input, s, d, norm, "irfft", out)


def hfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None, *,
         out=None) -> Tensor:
    """FFT of a Hermitian-symmetric signal given by its one-sided half (real output)."""
    s, d = _one(n, dim)
    return _c2r(_conj(_as_complex(input, "hfft")), s, d, _DUAL[_norm(norm)], "hfft", out)


def ihfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None, *,
          out=None) -> Tensor:
    """Inverse of hfft: the one-sided half of a real signal's inverse FFT."""
    s, d = _one(n, dim)
    return finish(_conj(_r2c(input, s, d, _DUAL[_norm(norm)], "ihfft", None)), out)


def _conj(t: Tensor) -> Tensor:
    return t.conj() if t.is_complex() else t


# -- two-dimensional ---------------------------------------------------------------------------

def fft2(input: Tensor, s=None, dim=(-2, -1), norm: str | None = None, *, out=None) -> Tensor:
    """2-D discrete Fourier transform (over the last two dims by default)."""
    return _c2c(input, s, dim, norm, False, "fft2", out)


def ifft2(input: Tensor, s=None, dim=(-2, -1), norm: str | None = None, *, out=None) -> Tensor:
    """2-D inverse discrete Fourier transform."""
    return _c2c(input, s, dim, norm, True, "ifft2", out)


def rfft2(input: Tensor, s=None, dim=(-2, -1), norm: str | None = None, *, out=None) -> Tensor:
    """2-D FFT of a real input, one-sided in the last dim."""
    return _r2c(input, s, dim, norm, "rfft2", out)


def irfft2(input: Tensor, s=None, dim=(-2, -1), norm: str | None = None, *, out=None) -> Tensor:
    """Inverse of rfft2."""
    return _c2r(input, s, dim, norm, "irfft2", out)


def hfft2(input: Tensor, s=None, dim=(-2, -1), norm: str | None = None, *, out=None) -> Tensor:
    """2-D FFT of a Hermitian-symmetric signal given by its one-sided half."""
    return hfftn(input, s, dim, norm, out=out)


def ihfft2(input: Tensor, s=None, dim=(-2, -1), norm: str | None = None, *, out=None) -> Tensor:
    """Inverse of hfft2."""
    return ihfftn(input, s, dim, norm, out=out)


# -- n-dimensional -----------------------------------------------------------------------------

def fftn(input: Tensor, s=None, dim=None, norm: str | None = None, *, out=None) -> Tensor:
    """N-D discrete Fourier transform (all dims by default)."""
    return _c2c(input, s, dim, norm, False, "fftn", out)


def ifftn(input: Tensor, s=None, dim=None, norm: str | None = None, *, out=None) -> Tensor:
    """N-D inverse discrete Fourier transform."""
    return _c2c(input, s, dim, norm, True, "ifftn", out)


def rfftn(input: Tensor, s=None, dim=None, norm: str | None = None, *, out=None) -> Tensor:
    """N-D FFT of a real input, one-sided in the last transformed dim."""
    return _r2c(input, s, dim, norm, "rfftn", out)


def irfftn(input: Tensor, s=None, dim=None, norm: str | None = None, *, out=None) -> Tensor:
    """Inverse of rfftn."""
    return _c2r(input, s, dim, norm, "irfftn", out)


def hfftn(input: Tensor, s=None, dim=None, norm: str | None = None, *, out=None) -> Tensor:
    """N-D FFT of a Hermitian-symmetric signal given by its one-sided half (real output)."""
    return _c2r(_conj(_as_complex(input, "hfftn")), s, dim, _DUAL[_norm(norm)], "hfftn", out)


def ihfftn(input: Tensor, s=None, dim=None, norm: str | None = None, *, out=None) -> Tensor:
    """Inverse of hfftn."""
    return finish(_conj(_r2c(input, s, dim, _DUAL[_norm(norm)], "ihfftn", None)), out)


# -- frequencies and shifts --------------------------------------------------------------------

def _frequencies(values: np.ndarray, dtype, device, requires_grad) -> Tensor:
    from .ops.creation import tensor
    dt = D.get_default_dtype() if dtype is None else D.to_dtype(dtype)
    return tensor(values, dtype=dt, device=device, requires_grad=requires_grad)


def fftfreq(n: int, d: float = 1.0, *, out=None, dtype=None, layout=None, device=None,
            requires_grad: bool = False) -> Tensor:
    """Sample frequencies of an n-point FFT with sample spacing d."""
    return finish(_frequencies(np.fft.fftfreq(n, d), dtype, device, requires_grad), out)


def rfftfreq(n: int, d: float = 1.0, *, out=None, dtype=None, layout=None, device=None,
             requires_grad: bool = False) -> Tensor:
    """Sample frequencies of an n-point rfft (the non-negative ones)."""
    return finish(_frequencies(np.fft.rfftfreq(n, d), dtype, device, requires_grad), out)


def _shift_dims(input: Tensor, dim):
    if dim is None:
        return tuple(range(input.ndim))
    if isinstance(dim, (list, tuple)):
        return tuple(wrap_dim(int(d), input.ndim) for d in dim)
    return (wrap_dim(int(dim), input.ndim),)


def fftshift(input: Tensor, dim=None) -> Tensor:
    """Moves the zero frequency to the centre of the given dims (all by default)."""
    return FftShift.apply(input, _shift_dims(input, dim))


def ifftshift(input: Tensor, dim=None) -> Tensor:
    """Inverse of fftshift."""
    return FftShift.apply(input, _shift_dims(input, dim), inverse=True)
