"""Distributed benchmarks: all_reduce bandwidth and the DDP training step, over mpiexec.

    python benchmarks/cases_distributed.py [--nproc 2] [--quick]

Not part of the torch side-by-side harness (run.py): each measurement starts its own
ranks with the virtual environment's mpiexec. Printed:

- all_reduce of 1, 10 and 100 MB float32 on N ranks: time per call (median), the
  algorithm bandwidth (size / time) and the bus bandwidth (2 (N-1)/N * size / time,
  the traffic each rank carries in a ring), next to mpi4py's blocking Allreduce on the
  same buffer (what the polling watchdog costs);
- the MLP 784-512-512-10 training step (batch 128 per rank, SGD) on N ranks under
  DistributedDataParallel against one process without it: time per step and samples/s.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MPIEXEC = Path(sys.executable).parent / "mpiexec"
SIZES_MB = (1, 10, 100)


def _median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def worker_all_reduce(out: str, quick: bool) -> None:
    import numpy as np

    import taimatsu as tm
    import taimatsu.distributed as dist
    from taimatsu.distributed._mpi import MPI
    dist.init_process_group()
    comm = dist.group.WORLD._comm
    rows = []
    for mb in SIZES_MB:
        t = tm.ones(mb * 1024 * 1024 // 4)
        repeats = 3 if quick or mb >= 100 else 10
        dist.all_reduce(t)  # warm-up: first touches and MPI's buffers
        dist.barrier()
        ours = _median_time(lambda t=t: dist.all_reduce(t), repeats)
        raw = t.numpy()
        dist.barrier()
        base = _median_time(lambda raw=raw: comm.Allreduce(MPI.IN_PLACE, raw), repeats)
        rows.append({"mb": mb, "ours": ours, "mpi4py": base})
    if dist.get_rank() == 0:
        Path(out).write_text(json.dumps({"world": dist.get_world_size(), "rows": rows}))
    del np
    dist.destroy_process_group()


def _mlp_step(tm, model, batch: int):
    x, y = tm.randn(batch, 784), tm.randint(0, 10, (batch,))
    opt = tm.optim.SGD(model.parameters(), lr=0.01)

    def step():
        opt.zero_grad()
        tm.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    return step


def _mlp(tm):
    nn = tm.nn
    return nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                         nn.Linear(512, 10))


def worker_ddp(out: str, quick: bool) -> None:
    import taimatsu as tm
    import taimatsu.distributed as dist
    from taimatsu.nn.parallel import DistributedDataParallel as DDP
    dist.init_process_group()
    tm.manual_seed(0)
    step = _mlp_step(tm, DDP(_mlp(tm)), 128)
    for _ in range(3):
        step()
    dist.barrier()
    per_step = _median_time(step, 10 if quick else 40)
    if dist.get_rank() == 0:
        Path(out).write_text(json.dumps({"world": dist.get_world_size(), "step": per_step}))
    dist.destroy_process_group()


def single_mlp_step(quick: bool) -> float:
    import taimatsu as tm
    tm.manual_seed(0)
    step = _mlp_step(tm, _mlp(tm), 128)
    for _ in range(3):
        step()
    return _median_time(step, 10 if quick else 40)


def _spawn(kind: str, nproc: int, quick: bool) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "result.json")
        cmd = [str(MPIEXEC), "-n", str(nproc), sys.executable, __file__, "--worker", kind,
               "--out", out] + (["--quick"] if quick else [])
        env = dict(os.environ, OMP_NUM_THREADS="1")
        subprocess.run(cmd, check=True, env=env, timeout=600)
        return json.loads(Path(out).read_text())


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--nproc", type=int, default=2)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--worker", choices=["all_reduce", "ddp"], help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker == "all_reduce":
        worker_all_reduce(args.out, args.quick)
        return 0
    if args.worker == "ddp":
        worker_ddp(args.out, args.quick)
        return 0
    n = args.nproc
    result = _spawn("all_reduce", n, args.quick)
    print(f"all_reduce float32 on {n} ranks (median per call)")
    print(f"{'size':>7} {'taimatsu':>10} {'algbw':>10} {'busbw':>10} {'mpi4py':>10}")
    for row in result["rows"]:
        size = row["mb"] * 2**20
        bus = 2 * (n - 1) / n * size / row["ours"]
        print(f"{row['mb']:>5}MB {row['ours'] * 1e3:>8.2f}ms {size / row['ours'] / 1e9:>7.2f}GB/s "
              f"{bus / 1e9:>7.2f}GB/s {row['mpi4py'] * 1e3:>8.2f}ms")
    os.environ.setdefault("OMP_NUM_THREADS", "1")  # the same threads per process as a rank
    one = single_mlp_step(args.quick)
    ddp = _spawn("ddp", n, args.quick)["step"]
    print("\nMLP 784-512-512-10 step, batch 128 per process, OMP_NUM_THREADS=1")
    print(f"  1 process:          {one * 1e3:7.2f} ms/step  {128 / one:8.0f} samples/s")
    print(f"  {n} ranks with DDP:   {ddp * 1e3:7.2f} ms/step  {128 * n / ddp:8.0f} samples/s "
          f"(step time x{ddp / one:.2f}, throughput x{(128 * n / ddp) / (128 / one):.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
