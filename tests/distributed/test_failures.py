"""A rank that raises, dies, leaves early or stalls makes the job fail fast, naming it."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.distributed

# argv: out_dir, mode, timeout. Rank 1 misbehaves at step 3 of a loop of all_reduces.
SCRIPT = r'''
import os, signal, sys, time
import taimatsu as tm
import taimatsu.distributed as dist

mode = sys.argv[2]
dist.init_process_group(timeout=float(sys.argv[3]))
rank = dist.get_rank()
for step in range(50):
    if rank == 1 and step == 3:
        if mode == "raise":
            raise ValueError("boom on purpose")
        if mode == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        if mode == "leave":
            sys.exit(0)  # skips the remaining collectives without an error
        if mode == "stall":
            time.sleep(3)
    t = tm.ones(4)
    dist.all_reduce(t)
    assert float(t[0]) == dist.get_world_size()
print(f"rank {rank} finished")
'''


def test_raising_rank_fails_every_rank_naming_it(mpirun):
    proc = mpirun(SCRIPT, 3, "raise", "60", launcher=True)
    assert proc.returncode != 0, mpirun.report(proc)
    assert proc.elapsed < 30, mpirun.report(proc)  # well within the 60 s timeout
    err = proc.stderr
    assert "ValueError: boom on purpose" in err
    # both other ranks stop with an error that names rank 1 and its exception
    for r in (0, 2):
        assert re.search(rf"DistBackendError: \[rank {r}\] all_reduce failed: rank 1 "
                         r"\(pid \d+ on \S+\) failed with ValueError: boom on purpose", err), \
            mpirun.report(proc)
    assert "finished" not in proc.stdout
    # the launcher names the rank where it started
    assert "taimatsu.distributed.run: error: rank 1 failed with ValueError: boom on purpose " \
           "(then ranks 0, 2 stopped)" in err, mpirun.report(proc)


def test_killed_rank_is_named_by_the_launcher(mpirun):
    proc = mpirun(SCRIPT, 2, "kill", "60", launcher=True)
    assert proc.returncode != 0, mpirun.report(proc)
    assert proc.elapsed < 30, mpirun.report(proc)
    # mpiexec SIGKILLs the survivors itself and reports the first termination it noticed:
    # under load that can be the survivor's, so the rank named is 1 or, rarely, 0.
    assert re.search(r"taimatsu\.distributed\.run: error: rank [01] \(pid \d+ on \S+\) was "
                     r"killed by signal 9 \(SIGKILL\)", proc.stderr), mpirun.report(proc)


def test_rank_leaving_early_is_an_error_not_a_hang(mpirun):
    proc = mpirun(SCRIPT, 2, "leave", "60")
    assert proc.returncode != 0, mpirun.report(proc)
    assert proc.elapsed < 30, mpirun.report(proc)
    assert re.search(r"\[rank 0\] all_reduce failed: rank 1 \(pid \d+ on \S+\) exited before "
                     r"the collective finished", proc.stderr), mpirun.report(proc)


def test_stalled_rank_times_out(mpirun):
    proc = mpirun(SCRIPT, 2, "stall", "1")
    assert proc.returncode != 0, mpirun.report(proc)
    assert "[rank 0] all_reduce timed out after 1 seconds" in proc.stderr, mpirun.report(proc)
    # rank 1 wakes up to rank 0's failure notice instead of waiting for its own timeout
    assert re.search(r"\[rank 1\] all_reduce failed: rank 0 \(pid \d+ on \S+\) failed with "
                     r"DistBackendError", proc.stderr), mpirun.report(proc)
