"""Fixtures for tests that start several MPI ranks (mpiexec from this virtual environment).

Each test writes a small script to tmp_path and runs it on N ranks; the ranks write
their findings to JSON files there (stdout of several ranks interleaves). Tests skip
with the reason when mpi4py or the mpich wheel's mpiexec is missing.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

MPIEXEC = Path(sys.executable).parent / "mpiexec"


def _missing() -> str | None:
    if importlib.util.find_spec("mpi4py") is None:
        return "mpi4py is not installed (pip install mpich mpi4py)"
    if not MPIEXEC.exists():
        return f"no mpiexec next to {sys.executable} (pip install mpich)"
    return None


class MPIRun:
    """Runs scripts on several ranks; `results(n)` reads what each rank reported."""

    def __init__(self, directory: Path):
        self.dir = directory

    def __call__(self, script: str, nproc: int, *args: str, timeout: float = 120,
                 launcher: bool = False) -> subprocess.CompletedProcess:
        path = self.dir / "script.py"
        path.write_text(textwrap.dedent(script))
        env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
        if launcher:
            cmd = [sys.executable, "-m", "taimatsu.distributed.run", "--nproc", str(nproc),
                   str(path), str(self.dir), *args]
        else:
            cmd = [str(MPIEXEC), "-n", str(nproc), sys.executable, str(path), str(self.dir),
                   *args]
        start = time.monotonic()
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env,
                              cwd=self.dir)
        proc.elapsed = time.monotonic() - start
        return proc

    def results(self, nproc: int) -> list[dict]:
        return [json.loads((self.dir / f"rank{r}.json").read_text()) for r in range(nproc)]

    @staticmethod
    def report(proc: subprocess.CompletedProcess) -> str:
        """What a failed run printed, for assertion messages."""
        return (f"exit code {proc.returncode} after {proc.elapsed:.1f} s\n--- stdout\n"
                f"{proc.stdout}\n--- stderr\n{proc.stderr}")


@pytest.fixture
def mpirun(tmp_path) -> MPIRun:
    reason = _missing()
    if reason:
        pytest.skip(reason)
    return MPIRun(tmp_path)
