"""What the thread-pool libraries loaded in this process are (through threadpoolctl)."""

from __future__ import annotations


def loaded(key: str, value: str) -> bool:
    """Whether a loaded thread-pool library has info[key] == value (e.g. user_api "openmp")."""
    import numpy  # noqa: F401  (loads the BLAS so that it is seen)
    from threadpoolctl import threadpool_info
    return any(lib.get(key) == value for lib in threadpool_info())
