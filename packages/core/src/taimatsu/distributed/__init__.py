"""taimatsu.distributed: process groups and collectives over MPI (CPU) and NCCL (CUDA).

Launch N processes with `mpiexec -n N python train.py` (the `mpich` wheel puts mpiexec
in the virtual environment) or `python -m taimatsu.distributed.run --nproc N train.py`,
then in each:

    import taimatsu.distributed as dist
    dist.init_process_group("mpi")          # or "nccl" for CUDA tensors
    dist.all_reduce(t, op=dist.ReduceOp.SUM)

Importing this package is cheap: mpi4py (and MPI) load in init_process_group.
Install with `pip install "taimatsu[distributed]"` (mpi4py and mpich).
"""

from __future__ import annotations

import importlib.util

from ._common import Backend, DistBackendError, DistError, ReduceOp, Work
from .constants import default_pg_timeout
from .distributed_c10d import *  # noqa: F401,F403
from .distributed_c10d import __all__ as _c10d_all


def is_available() -> bool:
    """True when the distributed package can run: mpi4py is installed (not imported)."""
    return importlib.util.find_spec("mpi4py") is not None


__all__ = ["is_available", "Backend", "DistBackendError", "DistError", "ReduceOp", "Work",
           "default_pg_timeout", *_c10d_all]
