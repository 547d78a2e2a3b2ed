"""DistributedDataParallel and SyncBatchNorm on 2 MPI ranks, against one process.

DDP on 2 ranks with batch B each must train exactly like one process on batch 2B (the
gradients are averaged); gradient accumulation under no_sync must equal one process
summing the same micro-batch losses.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.distributed

SCRIPT = r'''
import json, sys
import numpy as np
import taimatsu as tm
import taimatsu.distributed as dist
from taimatsu import nn
from taimatsu.nn.parallel import DistributedDataParallel as DDP, _sync_batchnorm
from taimatsu.utils.data import DistributedSampler

out_dir = sys.argv[1]
checks, failures = [], []

def check(name, ok, detail=""):
    checks.append(name)
    if not ok:
        failures.append(f"{name}: {detail}")

dist.init_process_group("mpi", timeout=60)
rank, world = dist.get_rank(), dist.get_world_size()
B, STEPS = 6, 20

def mlp(dtype):
    tm.manual_seed(0)
    return nn.Sequential(nn.Linear(5, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(),
                         nn.Linear(32, 3)).to(dtype)

def max_diff(a, b):
    return max(float((p - q).abs().max()) for p, q in zip(a.parameters(), b.parameters()))

rng = np.random.default_rng(0)
X = rng.standard_normal((STEPS, world * B, 5))
Y = rng.standard_normal((STEPS, world * B, 3))

def batch(s, dtype, rows=slice(None)):
    return tm.tensor(X[s][rows], dtype=dtype), tm.tensor(Y[s][rows], dtype=dtype)

def train_reference(dtype):
    model = mlp(dtype)
    opt = tm.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    for s in range(STEPS):
        x, y = batch(s, dtype)
        opt.zero_grad()
        ((model(x) - y) ** 2).mean().backward()
        opt.step()
    return model

mine = slice(rank * B, (rank + 1) * B)
for dtype, view in ((tm.float32, False), (tm.float64, True)):
    ref = train_reference(dtype)
    model = mlp(dtype)
    with tm.no_grad():
        for p in model.parameters():
            p.add_(rank)  # different per rank: DDP must start every rank from rank 0's
    ddp = DDP(model, bucket_cap_mb=0.0003, gradient_as_bucket_view=view)
    n_buckets = len(ddp.reducer.buckets)
    opt = tm.optim.SGD(ddp.parameters(), lr=0.05, momentum=0.9)
    for s in range(STEPS):
        x, y = batch(s, dtype, mine)
        opt.zero_grad()
        ((ddp(x) - y) ** 2).mean().backward()
        opt.step()
    tag = f"{dtype} view={view}"
    check(f"ddp == one process on 2B ({tag})", max_diff(ddp.module, ref) < 1e-5,
          f"max diff {max_diff(ddp.module, ref)}")
    check(f"several buckets ({tag})", n_buckets >= 3, str(n_buckets))
    if view:
        check("grad is a bucket view", np.shares_memory(ddp.module[0].weight.grad.numpy(),
                                                        ddp.reducer.slot[0][0].buffer))

# no_sync: two local micro-batches, then a synchronized one, per optimizer step
ref = mlp(tm.float64)
ref_opt = tm.optim.SGD(ref.parameters(), lr=0.05)
ddp = DDP(mlp(tm.float64), bucket_cap_mb=0.002)
opt = tm.optim.SGD(ddp.parameters(), lr=0.05)
for s in range(0, 18, 3):
    ref_opt.zero_grad()
    for k in range(3):
        x, y = batch(s + k, tm.float64)
        ((ref(x) - y) ** 2).mean().backward()
    ref_opt.step()
    opt.zero_grad()
    for k in range(3):
        x, y = batch(s + k, tm.float64, mine)
        if k < 2:
            with ddp.no_sync():
                ((ddp(x) - y) ** 2).mean().backward()
        else:
            ((ddp(x) - y) ** 2).mean().backward()
    opt.step()
check("no_sync accumulation", max_diff(ddp.module, ref) < 1e-10, str(max_diff(ddp.module, ref)))

# inside no_sync nothing is communicated: the local grads differ between ranks
ddp.zero_grad()
with ddp.no_sync():
    x, y = batch(0, tm.float64, mine)
    ((ddp(x) - y) ** 2).mean().backward()
local = [None] * world
dist.all_gather_object(local, ddp.module[0].bias.grad.numpy())
check("no_sync keeps grads local", not np.allclose(local[0], local[1]))

class Branches(nn.Module):
    def __init__(self):
        super().__init__()
        tm.manual_seed(0)
        self.a = nn.Linear(4, 4)
        self.b = nn.Linear(4, 4)
        self.never = nn.Linear(4, 4)
    def forward(self, x, use_b):
        return self.b(self.a(x)) if use_b else self.a(x)

# find_unused_parameters: rank 0 skips branch b, rank 1 uses it; `never` is never used
ddp = DDP(Branches(), find_unused_parameters=True)
x = tm.tensor(np.random.default_rng(rank).standard_normal((3, 4)), dtype=tm.float32)
ddp(x, use_b=rank == 1).sum().backward()
grads = [None] * world
dist.all_gather_object(grads, {n: None if p.grad is None else p.grad.numpy()
                               for n, p in ddp.module.named_parameters()})
ref = Branches()
xs = [tm.tensor(np.random.default_rng(r).standard_normal((3, 4)), dtype=tm.float32)
      for r in range(world)]
(sum(ref(xs[r], use_b=r == 1).sum() for r in range(world)) / world).backward()
check("find_unused: averaged grads", all(
    np.allclose(grads[rank][n], p.grad.numpy(), atol=1e-6) for n, p in ref.named_parameters()
    if not n.startswith("never")), str(grads[rank]))
check("find_unused: unused everywhere keeps grad None",
      ddp.module.never.weight.grad is None and ddp.module.never.bias.grad is None)
check("find_unused: same grads on every rank",
      all(np.array_equal(grads[0][k], grads[1][k]) for k in grads[0] if grads[0][k] is not None))

# static_graph: the unused set is found once and reused
ddp = DDP(Branches(), static_graph=True)
for _ in range(3):
    ddp.zero_grad()
    ddp(x, use_b=True).sum().backward()
check("static_graph", ddp.module.b.weight.grad is not None
      and ddp.module.never.weight.grad is None)

# the model must be the same on every rank
class Odd(nn.Module):
    def __init__(self, extra):
        super().__init__()
        self.l = nn.Linear(2, 2)
        if extra:
            self.m = nn.Linear(2, 2)
try:
    DDP(Odd(rank == 1))
except RuntimeError as exc:
    check("different models refused", "same model across all ranks" in str(exc), str(exc))
else:
    check("different models refused", False, "no error")

# buffers: rank 0's are broadcast at construction and before each forward
bn_model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
with tm.no_grad():
    bn_model[1].running_mean.fill_(float(rank))
ddp = DDP(bn_model)
check("buffers broadcast at construction", float(bn_model[1].running_mean.sum()) == 0.0)
with tm.no_grad():
    bn_model[1].running_mean.fill_(float(rank + 5))
ddp.eval()
with tm.no_grad():
    ddp(tm.ones(2, 3))
check("buffers broadcast before forward", float(bn_model[1].running_mean[0]) == 5.0)
check("state_dict keys", list(ddp.state_dict())[0] == "module.0.weight"
      and ddp.module is bn_model and list(bn_model.state_dict())[0] == "0.weight")
sd = ddp.state_dict()
from taimatsu.nn.parallel.distributed import consume_prefix_in_state_dict_if_present
consume_prefix_in_state_dict_if_present(sd, "module.")
check("consume prefix", list(sd)[0] == "0.weight" and "" in sd._metadata)

# DistributedSampler takes its rank and replicas from the process group
sampler = DistributedSampler(list(range(10)), shuffle=False)
check("sampler", list(sampler) == list(range(rank, 10, world)), str(list(sampler)))

# SyncBatchNorm: statistics of the union of the ranks' (unequal) batches
sizes = [3, 5]
XB = np.random.default_rng(7).standard_normal((sum(sizes), 4, 3, 2))
G = np.random.default_rng(8).standard_normal(XB.shape)
ref = nn.BatchNorm2d(4).double()
with tm.no_grad():
    ref.weight.uniform_(0.5, 1.5)
    ref.bias.uniform_(-1, 1)
sbn = nn.SyncBatchNorm(4).double()
sbn.load_state_dict(ref.state_dict())
eval_ref = nn.BatchNorm2d(4).double()
eval_ref.load_state_dict(ref.state_dict())
xr = tm.tensor(XB, requires_grad=True)
yr = ref(xr)
(yr * tm.tensor(G)).sum().backward()
lo, hi = sum(sizes[:rank]), sum(sizes[:rank + 1])
xl = tm.tensor(XB[lo:hi], requires_grad=True)
yl = _sync_batchnorm.forward(sbn, xl)
(yl * tm.tensor(G[lo:hi])).sum().backward()
gw = sbn.weight.grad.clone()
dist.all_reduce(gw)
check("sync bn output", np.allclose(yl.detach().numpy(), yr.detach().numpy()[lo:hi]))
check("sync bn running stats", np.allclose(sbn.running_mean.numpy(), ref.running_mean.numpy())
      and np.allclose(sbn.running_var.numpy(), ref.running_var.numpy()))
check("sync bn input grad", np.allclose(xl.grad.numpy(), xr.grad.numpy()[lo:hi], atol=1e-12))
check("sync bn weight grad (summed over ranks)", np.allclose(gw.numpy(), ref.weight.grad.numpy()))
sbn.eval()
eval_ref.load_state_dict(sbn.state_dict())
eval_ref.eval()
check("sync bn eval is local BatchNorm", np.allclose(
    _sync_batchnorm.forward(sbn, xl).detach().numpy(),
    eval_ref(tm.tensor(XB[lo:hi])).detach().numpy()))

# a parameter without gradient (find_unused_parameters=False) fails the next forward
ddp = DDP(Branches())
ddp(x, use_b=False).sum().backward()
try:
    ddp(x, use_b=False)
except RuntimeError as exc:
    check("unused parameter error", "Expected to have finished reduction" in str(exc)
          and "b.weight" in str(exc), str(exc))
else:
    check("unused parameter error", False, "no error")

with open(f"{out_dir}/rank{rank}.json", "w") as f:
    json.dump({"checks": checks, "failures": failures}, f)
'''


def test_ddp_two_ranks_match_one_process(mpirun):
    proc = mpirun(SCRIPT, 2)
    assert proc.returncode == 0, mpirun.report(proc)
    results = mpirun.results(2)
    for rank, result in enumerate(results):
        assert result["failures"] == [], f"rank {rank}: {result['failures']}"
    names = set(results[0]["checks"])
    assert {"ddp == one process on 2B (taimatsu.float32 view=False)",
            "ddp == one process on 2B (taimatsu.float64 view=True)",
            "no_sync accumulation", "find_unused: averaged grads", "sync bn input grad",
            "unused parameter error"} <= names, names
