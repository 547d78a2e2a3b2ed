"""Where the hub keeps files of its own: PyTorch's get_dir/set_dir, under TAIMATSU_HOME.

Hub repositories go to the Hugging Face cache (HF_HOME / HF_HUB_CACHE); this folder only
holds what `load_state_dict_from_url` downloads (in its ``checkpoints`` subfolder).
"""

from __future__ import annotations

import os

_hub_dir: str | None = None  # set by set_dir, as torch.hub's module-level override


def _taimatsu_home() -> str:
    cache = os.getenv("XDG_CACHE_HOME", os.path.join("~", ".cache"))
    return os.path.expanduser(os.getenv("TAIMATSU_HOME", os.path.join(cache, "taimatsu")))


def get_dir() -> str:
    """The hub folder: set_dir's value, else ``$TAIMATSU_HOME/hub``.

    TAIMATSU_HOME defaults to ``$XDG_CACHE_HOME/taimatsu`` (``~/.cache/taimatsu``). The
    environment is read on each call, as torch.hub does.
    """
    if _hub_dir is not None:
        return _hub_dir
    return os.path.join(_taimatsu_home(), "hub")


def set_dir(d) -> None:
    """Makes `d` the hub folder (``~`` is expanded)."""
    global _hub_dir
    _hub_dir = os.path.expanduser(os.fspath(d))
