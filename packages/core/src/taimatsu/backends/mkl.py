"""taimatsu.backends.mkl: whether NumPy's BLAS is Intel MKL."""

from ._threadpools import loaded

__all__ = ["is_available"]


def is_available() -> bool:
    """Whether the BLAS NumPy calls is MKL (OpenBLAS-backed NumPy answers False)."""
    return loaded("internal_api", "mkl")
