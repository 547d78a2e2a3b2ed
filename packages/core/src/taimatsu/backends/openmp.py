"""taimatsu.backends.openmp: whether an OpenMP runtime drives the CPU thread pools."""

from ._threadpools import loaded

__all__ = ["is_available"]


def is_available() -> bool:
    """Whether an OpenMP runtime is loaded (e.g. a BLAS built with OpenMP threading)."""
    return loaded("user_api", "openmp")
