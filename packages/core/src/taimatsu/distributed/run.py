"""Launcher: `python -m taimatsu.distributed.run --nproc N train.py [args...]`.

Starts N ranks of `train.py` with mpiexec (the one installed next to this Python by the
`mpich` wheel, else the first on PATH) and reports which rank failed when the job fails:

- a rank that raised: every rank prints its error (the watchdog makes the others stop
  with a DistBackendError naming it), and the launcher names the rank that started it;
- a rank killed by a signal: mpiexec kills the others at once; the launcher names the
  killed rank from mpiexec's report.

As torchrun, it sets OMP_NUM_THREADS=1 for N > 1 unless it is already set, so N ranks
do not each start a thread per core.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

__all__ = ["ChildFailedError", "launch", "main"]


class ChildFailedError(RuntimeError):
    """A launched rank failed; the message names it. `returncode` is mpiexec's."""

    def __init__(self, message: str, returncode: int):
        super().__init__(message)
        self.returncode = returncode


def find_mpiexec() -> str:
    """mpiexec next to this interpreter (a virtual environment's), else on PATH."""
    local = Path(sys.executable).parent / "mpiexec"
    if local.exists():
        return str(local)
    found = shutil.which("mpiexec")
    if found is None:
        raise RuntimeError("mpiexec not found: install an MPI with `pip install mpich mpi4py` "
                           "(or `pip install \"taimatsu[distributed]\"`)")
    return found


def launch(script: str, args: list[str] = (), nproc: int = 1, *, module: bool = False,
           mpiexec: str | None = None, mpiexec_args: list[str] = (), env=None) -> None:
    """Runs `script` (or module) on `nproc` ranks; raises ChildFailedError naming the
    failed rank when the job fails. The ranks' output goes to this process's."""
    if nproc < 1:
        raise ValueError(f"nproc must be at least 1, got {nproc}")
    env = dict(os.environ if env is None else env)
    if nproc > 1:
        env.setdefault("OMP_NUM_THREADS", "1")
    run_dir = tempfile.mkdtemp(prefix="taimatsu-run-")
    env["TAIMATSU_RUN_DIR"] = run_dir  # the ranks leave their pids and errors here
    command = [mpiexec or find_mpiexec(), "-n", str(nproc), *mpiexec_args, sys.executable,
               *(["-m"] if module else []), script, *args]
    try:
        returncode, report = _run(command, env)
        if returncode != 0:
            raise ChildFailedError(_failure_summary(run_dir, report, returncode), returncode)
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)


def _run(command: list[str], env: dict) -> tuple[int, str]:
    """Runs mpiexec, passing its output through; returns its exit code and its report
    of an abnormal termination (printed on stdout), if any."""
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE)
    report = []
    out = sys.stdout.buffer if hasattr(sys.stdout, "buffer") else None
    try:
        for line in proc.stdout:
            if out is not None:
                out.write(line)
                out.flush()
            else:
                sys.stdout.write(line.decode(errors="replace"))
            if line.startswith((b"=", b"YOUR APPLICATION TERMINATED")):
                report.append(line.decode(errors="replace"))
        return proc.wait(), "".join(report)
    except KeyboardInterrupt:
        proc.send_signal(signal.SIGINT)
        proc.wait()
        raise


def _ranks_by_pid(run_dir: str) -> dict[int, int]:
    ranks = {}
    for path in glob.glob(os.path.join(run_dir, "*.pid")):
        try:
            pid = int(Path(path).read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue
        ranks[pid] = int(Path(path).stem)
    return ranks


def _failure_summary(run_dir: str, report: str, returncode: int) -> str:
    # A rank killed by a signal is named from mpiexec's report, which gives the first
    # termination mpiexec noticed; since mpiexec then SIGKILLs the others, on a loaded
    # machine that can occasionally be a survivor rather than the rank that died first.
    killed = re.search(r"PID (\d+) RUNNING AT (\S+)", report)
    sig = re.search(r"\(signal (\d+)\)", report)
    if killed and sig:
        pid, host, signum = int(killed.group(1)), killed.group(2), int(sig.group(1))
        rank = _ranks_by_pid(run_dir).get(pid)
        who = f"rank {rank}" if rank is not None else "a rank that had not initialized"
        return (f"{who} (pid {pid} on {host}) was killed by signal {signum} "
                f"({_signal_name(signum)}); mpiexec stopped the other ranks")
    errors = {}
    for path in glob.glob(os.path.join(run_dir, "*.error")):
        try:
            notice = json.loads(Path(path).read_text())
        except (OSError, ValueError):
            continue
        errors[notice["rank"]] = notice
    origins = sorted(r for r, n in errors.items() if n.get("cause") is None)
    causes = sorted({n["cause"] for n in errors.values() if n.get("cause") is not None})
    if not origins and causes:  # the first rank left without an error of its own
        stopped = ", ".join(map(str, sorted(errors)))
        return (f"rank {causes[0]} left before the other ranks finished (ranks {stopped} "
                f"stopped: {errors[min(errors)]['error']})")
    if origins:
        first = errors[origins[0]]
        others = sorted(r for r in errors if r != origins[0])
        text = f"rank {origins[0]} failed with {first['error']}"
        if others:
            text += f" (then ranks {', '.join(map(str, others))} stopped)"
        return text
    return f"mpiexec exited with code {returncode}; see the ranks' output above"


def _signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return "unknown signal"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m taimatsu.distributed.run",
        description="Run a training script on N processes with mpiexec.")
    parser.add_argument("--nproc", "--nproc-per-node", "--nproc_per_node", dest="nproc",
                        type=int, default=1, help="number of ranks to start (default 1)")
    parser.add_argument("-m", "--module", action="store_true",
                        help="treat the script as a module name (python -m)")
    parser.add_argument("--mpiexec", default=None,
                        help="the mpiexec to use (default: next to this Python, else PATH)")
    parser.add_argument("--mpiexec-args", default="",
                        help="extra mpiexec arguments, as one quoted string")
    parser.add_argument("script", help="the training script (or module with -m)")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="the script's arguments")
    opts = parser.parse_args(argv)
    try:
        launch(opts.script, opts.args, opts.nproc, module=opts.module, mpiexec=opts.mpiexec,
               mpiexec_args=shlex.split(opts.mpiexec_args))
    except ChildFailedError as exc:
        print(f"taimatsu.distributed.run: error: {exc}", file=sys.stderr)
        return exc.returncode
    except (RuntimeError, ValueError) as exc:
        print(f"taimatsu.distributed.run: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
