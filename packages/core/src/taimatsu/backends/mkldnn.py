"""taimatsu.backends.mkldnn: oneDNN, which taimatsu does not use."""

from ._flags import Flag, FlagScope, install_flags

__all__ = ["is_available", "flags"]


def is_available() -> bool:
    """Always False: taimatsu's CPU kernels are NumPy's, not oneDNN's."""
    return False


def flags(enabled: bool = False):
    """Context manager setting `enabled` for its block."""
    import sys
    return FlagScope(sys.modules[__name__], enabled=enabled)


# Scripts switch oneDNN off with `backends.mkldnn.enabled = False`; the flag keeps
# PyTorch's default and validation, and has nothing to switch here.
install_flags(__name__, enabled=Flag(True, "set_enabled_mkldnn"))
