"""taimatsu.distributed and nn.parallel without launching ranks: import cost, errors,
names, bucketing, the launcher's reports, DataParallel; and a one-process run."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import taimatsu as tm
import taimatsu.distributed as dist
from taimatsu import nn
from taimatsu.distributed import run
from taimatsu.nn.parallel import DataParallel, DistributedDataParallel, data_parallel
from taimatsu.nn.parallel.distributed import (
    _assign_buckets,
    consume_prefix_in_state_dict_if_present,
)

pytestmark = pytest.mark.distributed


def test_import_does_not_load_mpi():
    code = ("import sys, taimatsu, taimatsu.distributed, taimatsu.nn.parallel; "
            "print('mpi4py' in sys.modules, 'cupy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.split() == ["False", "False"]


@pytest.mark.parametrize("fn", [dist.get_rank, dist.get_world_size, dist.get_backend,
                                dist.barrier, lambda: dist.all_reduce(tm.ones(1))])
def test_functions_need_an_initialized_group(fn):
    assert not dist.is_initialized()
    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        fn()


def test_is_available_follows_mpi4py():
    import importlib.util
    assert dist.is_available() == (importlib.util.find_spec("mpi4py") is not None)
    assert dist.is_gloo_available() == dist.is_mpi_available() == dist.is_available()


def test_backend_names():
    assert dist.Backend("GLOO") == "gloo" and dist.Backend("mpi") == dist.Backend.MPI
    assert dist.Backend("nccl").uses_nccl and dist.Backend("cpu:gloo,cuda:nccl").uses_nccl
    assert not dist.Backend("mpi").uses_nccl
    with pytest.raises(ValueError, match="Invalid backend: 'ucc'"):
        dist.Backend("ucc")


def test_reduce_op_names():
    assert repr(dist.ReduceOp.SUM) == "<RedOpType.SUM: 0>"
    assert dist.ReduceOp.RedOpType.MAX is dist.ReduceOp.MAX
    assert {op.name for op in dist.ReduceOp} >= {"SUM", "AVG", "PRODUCT", "MIN", "MAX"}


def test_errors_are_runtime_errors():
    assert issubclass(dist.DistBackendError, dist.DistError)
    assert issubclass(dist.DistError, RuntimeError)


def test_ddp_needs_a_process_group():
    with pytest.raises(ValueError, match="not been initialized"):
        DistributedDataParallel(nn.Linear(2, 2))


def test_buckets_go_in_reverse_order_by_size_and_dtype():
    params = [tm.zeros(1000), tm.zeros(10), tm.zeros(2000), tm.zeros(5, dtype=tm.float64),
              tm.zeros(300_000)]
    # The first bucket of a dtype closes at min(1 MiB, cap), the next ones at the cap;
    # unfilled buckets come last, latest parameters first.
    assert _assign_buckets(params, cap_bytes=4096) == [[4], [2], [3], [1, 0]]
    assert _assign_buckets(params, cap_bytes=25 * 2**20) == [[4], [3], [2, 1, 0]]


def test_data_parallel_passes_through():
    tm.manual_seed(0)
    model = nn.Linear(3, 2)
    dp = DataParallel(model)
    x = tm.randn(4, 3)
    assert tm.equal(dp(x), model(x))
    assert dp.module is model
    assert list(dp.state_dict()) == ["module.weight", "module.bias"]
    assert tm.equal(data_parallel(model, x), model(x))
    if not tm.cuda.is_available():  # as torch on a CPU-only machine: the ids are ignored
        assert DataParallel(model, device_ids=[0, 1]).device_ids == []


def test_consume_prefix_makes_a_wrapper_checkpoint_load_into_the_model():
    model = nn.Sequential(nn.Linear(2, 2))
    sd = DataParallel(model).state_dict()
    assert list(sd) == ["module.0.weight", "module.0.bias"]
    consume_prefix_in_state_dict_if_present(sd, "module.")
    assert list(sd) == ["0.weight", "0.bias"]
    assert str(nn.Sequential(nn.Linear(2, 2)).load_state_dict(sd)) == \
        "<All keys matched successfully>"


HYDRA_REPORT = """
===================================================================================
=   BAD TERMINATION OF ONE OF YOUR APPLICATION PROCESSES
=   PID 4242 RUNNING AT node7
=   EXIT CODE: 9
===================================================================================
YOUR APPLICATION TERMINATED WITH THE EXIT STRING: Killed (signal 9)
"""


def test_launcher_names_a_killed_rank(tmp_path):
    (tmp_path / "1.pid").write_text("4242 node7\n")
    (tmp_path / "0.pid").write_text("4241 node7\n")
    assert run._failure_summary(str(tmp_path), HYDRA_REPORT, 9) == (
        "rank 1 (pid 4242 on node7) was killed by signal 9 (SIGKILL); mpiexec stopped the "
        "other ranks")
    assert run._failure_summary(str(tmp_path / "none"), HYDRA_REPORT, 9).startswith(
        "a rank that had not initialized (pid 4242")


def test_launcher_names_the_rank_that_raised_first(tmp_path):
    (tmp_path / "2.error").write_text(json.dumps(
        {"rank": 2, "error": "ValueError: bad", "cause": None}))
    (tmp_path / "0.error").write_text(json.dumps(
        {"rank": 0, "error": "DistBackendError: ...", "cause": 2}))
    assert run._failure_summary(str(tmp_path), "", 1) == \
        "rank 2 failed with ValueError: bad (then ranks 0 stopped)"
    assert run._failure_summary(str(tmp_path / "none"), "", 3) == \
        "mpiexec exited with code 3; see the ranks' output above"


def test_launcher_rejects_bad_nproc(capsys):
    assert run.main(["--nproc", "0", "train.py"]) == 2
    assert "nproc must be at least 1" in capsys.readouterr().err


SINGLE = """
import taimatsu as tm, taimatsu.distributed as dist
from taimatsu.nn.parallel import DistributedDataParallel as DDP
from taimatsu.utils.data import DistributedSampler
dist.init_process_group()
assert (dist.get_rank(), dist.get_world_size(), dist.get_backend()) == (0, 1, "mpi")
t = tm.arange(4.0)
dist.all_reduce(t, op=dist.ReduceOp.AVG)
assert t.tolist() == [0.0, 1.0, 2.0, 3.0]
model = DDP(tm.nn.Linear(2, 1))
model(tm.ones(3, 2)).sum().backward()
assert model.module.weight.grad.tolist() == [[3.0, 3.0]]
assert list(DistributedSampler(range(5), shuffle=False)) == [0, 1, 2, 3, 4]
dist.destroy_process_group()
print("ok")
"""


def test_a_single_process_without_mpiexec_is_world_size_one():
    pytest.importorskip("mpi4py", reason="mpi4py is not installed (pip install mpich mpi4py)")
    proc = subprocess.run([sys.executable, "-c", SINGLE], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr


def test_work_runs_its_finish_once():
    class Pending:
        source = 3
        polls = 0

        def test(self):
            self.polls += 1
            return self.polls > 1

        def wait(self, timeout):
            self.waited = timeout

    calls = []
    work = dist.Work(Pending(), lambda: calls.append(1), [tm.ones(1)], timeout=5.0)
    assert not work.is_completed()
    assert work.is_completed() and work.is_completed()
    assert work.wait() and calls == [1]
    assert work._source_rank() == 3 and len(work.result()) == 1
    assert np.array_equal(work.result()[0].numpy(), [1.0])


def test_nccl_backend_needs_cupy_with_nccl():
    if dist.is_nccl_available():
        pytest.skip("CuPy with NCCL is installed here")
    with pytest.raises(RuntimeError, match="backend 'nccl' needs CuPy with NCCL"):
        dist.init_process_group("nccl")
    assert not dist.is_initialized()
