"""taimatsu.random: the default generator's seeding and state, and `fork_rng`."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from .ops.random import get_rng_state, initial_seed, manual_seed, seed, set_rng_state

__all__ = ["fork_rng", "get_rng_state", "initial_seed", "manual_seed", "seed", "set_rng_state"]


@contextlib.contextmanager
def fork_rng(devices=None, enabled: bool = True, _caller: str = "fork_rng",
             _devices_kw: str = "devices", device_type: str | None = None) -> Iterator[None]:
    """Restores the default generator's state on exit, so that the block's draws leave the
    random stream outside it unchanged.

    taimatsu draws on every device from the one default generator's seed (CuPy's streams
    are re-seeded by `manual_seed`), so there is no per-device state to fork; `devices`
    and `device_type` are accepted for PyTorch compatibility."""
    if device_type not in (None, "cuda", "cpu"):
        raise RuntimeError(f"torch has no module of {device_type}, you should register a "
                           "module by `torch._register_device_module`.")
    if not enabled:
        yield
        return
    state = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(state)
