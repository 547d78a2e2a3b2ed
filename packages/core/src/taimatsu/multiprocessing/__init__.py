"""taimatsu.multiprocessing: the standard library's multiprocessing, tensors shared.

The whole `multiprocessing` API is re-exported (Process, Queue, Pool, get_context,
set_start_method, ...). Importing this module (which `import taimatsu` does) registers
pickling reductions so that CPU tensors sent to other processes travel as handles to
shared memory: the receiver views the same memory, and a tensor not yet shared is moved
there first (see Tensor.share_memory_). Plus spawn / start_processes, and the choice of
how shared memory is passed on (get/set_sharing_strategy).
"""

from __future__ import annotations

import multiprocessing
import sys
from multiprocessing import *  # noqa: F401,F403

# Loaded now so that a child forked while a queue's feeder thread pickles a tensor
# inherits a complete module (DupFd needs it), as PyTorch does.
import multiprocessing.resource_sharer  # noqa: F401

from .._tensor import Tensor
from ._shared_memory import is_shared, share_memory_
from .reductions import init_reductions
from .spawn import (  # noqa: F401
    ProcessContext,
    ProcessException,
    ProcessExitedException,
    ProcessRaisedException,
    SpawnContext,
    spawn,
    start_processes,
)

__all__ = ["set_sharing_strategy", "get_sharing_strategy", "get_all_sharing_strategies"]
__all__ += multiprocessing.__all__

if sys.platform in ("darwin", "win32"):
    _all_sharing_strategies = {"file_system"}
    _sharing_strategy = "file_system"
else:
    _all_sharing_strategies = {"file_descriptor", "file_system"}
    _sharing_strategy = "file_descriptor"


def set_sharing_strategy(new_strategy: str) -> None:
    """Chooses how CPU tensors moved to shared memory from now on are passed to other
    processes: 'file_descriptor' (descriptors sent over Unix sockets; the default on
    Linux) or 'file_system' (named files in /dev/shm)."""
    global _sharing_strategy
    if new_strategy not in _all_sharing_strategies:
        raise AssertionError(f"invalid sharing strategy {new_strategy!r}, expected one of "
                             f"{_all_sharing_strategies}")
    _sharing_strategy = new_strategy


def get_sharing_strategy() -> str:
    """The current strategy for sharing CPU tensors."""
    return _sharing_strategy


def get_all_sharing_strategies() -> set:
    """The sharing strategies this system supports."""
    return _all_sharing_strategies


Tensor.share_memory_ = share_memory_
Tensor.is_shared = is_shared
init_reductions()
