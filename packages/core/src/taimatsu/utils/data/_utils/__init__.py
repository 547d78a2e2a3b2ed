"""Helpers of the DataLoader: collation, fetching, the worker loop, the result pipes.

Everything a worker process runs lives in module scope here, so that the 'spawn' and
'forkserver' start methods can pickle it by reference.
"""

from __future__ import annotations

# How often (seconds) a blocked worker checks that the main process is still alive,
# and how long shutdown waits for a worker to exit on its own before terminating it.
MP_STATUS_CHECK_INTERVAL = 1.0

from . import collate, fetch, pin_memory, signal_handling, transport, worker  # noqa: E402

__all__ = ["MP_STATUS_CHECK_INTERVAL", "collate", "fetch", "pin_memory", "signal_handling",
           "transport", "worker"]
