"""taimatsu.backends.mps: Apple's Metal backend, which taimatsu does not have."""

__all__ = ["is_available", "is_built"]


def is_available() -> bool:
    """Always False: taimatsu runs on NumPy (CPU) and CuPy (CUDA) only."""
    return False


def is_built() -> bool:
    """Always False: taimatsu has no Metal backend."""
    return False
