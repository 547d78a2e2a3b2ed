"""Every collective of taimatsu.distributed against NumPy, on 2 and 3 MPI ranks.

One script per world size checks all collectives over all dtypes (each launch of
mpiexec costs seconds); each rank records every check it ran and what failed.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.distributed

SCRIPT = r'''
import json, sys, warnings
import numpy as np
import taimatsu as tm
import taimatsu.distributed as dist
from taimatsu.distributed import ReduceOp

out_dir = sys.argv[1]
checks, failures = [], []

def check(name, ok, detail=""):
    checks.append(name)
    if not ok:
        failures.append(f"{name}: {detail}")

def expect_raises(name, exc_type, fn, match):
    try:
        fn()
    except exc_type as exc:
        check(name, match in str(exc), f"message {exc}")
    else:
        check(name, False, f"no {exc_type.__name__}")

# init: a mismatching world size is refused before anything starts
n_expected = int(sys.argv[2])
expect_raises("init world_size", ValueError,
              lambda: dist.init_process_group(world_size=n_expected + 1), "mpiexec started")
check("not initialized", not dist.is_initialized())
dist.init_process_group("gloo", timeout=60)
expect_raises("init twice", ValueError, lambda: dist.init_process_group(), "twice")
rank, n = dist.get_rank(), dist.get_world_size()
check("world", n == n_expected and dist.is_initialized() and dist.get_backend() == "gloo")

DTYPES = ["float32", "float64", "float16", "bfloat16", "int8", "uint8", "int16", "int32",
          "int64", "bool", "complex64", "complex128"]
SHAPE = (2, 3)

def data(r, name, salt=0, shape=SHAPE):
    """Rank r's values: small integers, so half-precision sums and products are exact."""
    rng = np.random.default_rng(1000 * salt + r)
    if name == "bool":
        a = rng.random(shape) < 0.5
    elif name.startswith("complex"):
        a = rng.integers(1, 4, shape) + 1j * rng.integers(-2, 3, shape)
    else:
        a = rng.integers(1, 4, shape)
    return np.asarray(a).astype(getattr(tm, name).np)

def tensor(a):
    return tm.from_numpy(np.array(a, copy=True))

def wide(a):
    a = np.asarray(a)
    return a.astype(np.complex128 if a.dtype.kind == "c" else np.float64)

def same(got, want, name):
    got = got.numpy() if hasattr(got, "numpy") else got
    tol = {"float16": 1e-3, "bfloat16": 1e-2}.get(name, 1e-6)
    return got.dtype == want.dtype and got.shape == want.shape and \
        np.allclose(wide(got), wide(want), rtol=tol, atol=0)

def expected(op, name, arrays):
    stack = np.stack(arrays)
    if name == "bool":
        fn = {ReduceOp.SUM: np.any, ReduceOp.MAX: np.any, ReduceOp.BOR: np.any,
              ReduceOp.PRODUCT: np.all, ReduceOp.MIN: np.all, ReduceOp.BAND: np.all,
              ReduceOp.BXOR: lambda s, axis: np.logical_xor.reduce(s, axis=axis)}[op]
        return fn(stack, axis=0)
    if op in (ReduceOp.BAND, ReduceOp.BOR, ReduceOp.BXOR):
        uf = {ReduceOp.BAND: np.bitwise_and, ReduceOp.BOR: np.bitwise_or,
              ReduceOp.BXOR: np.bitwise_xor}[op]
        return uf.reduce(stack, axis=0)
    w = wide(stack) if stack.dtype.kind in "fcV" else stack.astype(np.int64)
    value = {ReduceOp.SUM: lambda: w.sum(0), ReduceOp.AVG: lambda: w.sum(0) / n,
             ReduceOp.PRODUCT: lambda: w.prod(0), ReduceOp.MIN: lambda: w.min(0),
             ReduceOp.MAX: lambda: w.max(0)}[op]()
    return np.asarray(value).astype(stack.dtype)

def ops_for(name):
    if name == "bool" or name.startswith(("int", "uint")):
        return [ReduceOp.SUM, ReduceOp.PRODUCT, ReduceOp.MIN, ReduceOp.MAX, ReduceOp.BAND,
                ReduceOp.BOR, ReduceOp.BXOR]
    if name.startswith("complex"):
        return [ReduceOp.SUM, ReduceOp.AVG, ReduceOp.PRODUCT]
    return [ReduceOp.SUM, ReduceOp.AVG, ReduceOp.PRODUCT, ReduceOp.MIN, ReduceOp.MAX]

everyone = lambda name, salt=0: [data(r, name, salt) for r in range(n)]

for name in DTYPES:
    mine = data(rank, name)
    for op in ops_for(name):
        t = tensor(mine)
        v = t._version
        dist.all_reduce(t, op=op)
        check(f"all_reduce {op.name} {name}", same(t, expected(op, name, everyone(name)), name)
              and t._version > v, f"{t} vs {expected(op, name, everyone(name))}")
    # a non-contiguous tensor is reduced in place through a staging buffer
    t = tensor(data(rank, name, shape=(3, 2))).T
    dist.all_reduce(t)
    want = expected(ReduceOp.SUM, name, [data(r, name, shape=(3, 2)).T for r in range(n)])
    check(f"all_reduce non-contiguous {name}", same(t, np.ascontiguousarray(want), name))

    t = tensor(mine)
    dist.broadcast(t, src=n - 1)
    check(f"broadcast {name}", same(t, data(n - 1, name), name))

    t = tensor(mine)
    dist.reduce(t, dst=1, op=ReduceOp.SUM)
    check(f"reduce {name}", same(t, expected(ReduceOp.SUM, name, everyone(name)) if rank == 1
                                  else mine, name))

    outs = [tensor(np.zeros_like(mine)) for _ in range(n)]
    dist.all_gather(outs, tensor(mine))
    check(f"all_gather {name}", all(same(o, data(r, name), name) for r, o in enumerate(outs)))

    flat = tensor(np.zeros((n * 2, 3), dtype=mine.dtype))
    dist.all_gather_into_tensor(flat, tensor(mine))
    check(f"all_gather_into_tensor {name}", same(flat, np.concatenate(everyone(name)), name))
    stacked = tensor(np.zeros((n, 2, 3), dtype=mine.dtype))
    dist.all_gather_into_tensor(stacked, tensor(mine))
    check(f"all_gather_into_tensor stacked {name}", same(stacked, np.stack(everyone(name)), name))

    out = tensor(np.zeros_like(mine))
    dist.reduce_scatter(out, [tensor(data(rank, name, salt=i + 1)) for i in range(n)])
    check(f"reduce_scatter {name}", same(out, expected(
        ReduceOp.SUM, name, [data(r, name, salt=rank + 1) for r in range(n)]), name))

    big = np.concatenate([data(rank, name, salt=i + 1) for i in range(n)])
    out = tensor(np.zeros_like(mine))
    dist.reduce_scatter_tensor(out, tensor(big))
    check(f"reduce_scatter_tensor {name}", same(out, expected(
        ReduceOp.SUM, name, [data(r, name, salt=rank + 1) for r in range(n)]), name))

    out = tensor(np.zeros_like(mine))
    dist.scatter(out, [tensor(data(0, name, salt=i + 1)) for i in range(n)] if rank == 0
                 else None, src=0)
    check(f"scatter {name}", same(out, data(0, name, salt=rank + 1), name))

    dst = n - 1
    gl = [tensor(np.zeros_like(mine)) for _ in range(n)] if rank == dst else None
    dist.gather(tensor(mine), gl, dst=dst)
    if rank == dst:
        check(f"gather {name}", all(same(g, data(r, name), name) for r, g in enumerate(gl)))

    # point to point around the ring, non-blocking
    incoming = tensor(np.zeros_like(mine))
    works = [dist.isend(tensor(mine), (rank + 1) % n), dist.irecv(incoming, (rank - 1) % n)]
    for w in works:
        w.wait()
    check(f"isend/irecv {name}", same(incoming, data((rank - 1) % n, name), name)
          and all(w.is_completed() for w in works))

# recv from any source returns the sender
if rank == 0:
    senders = set()
    for _ in range(n - 1):
        t = tm.zeros(3)
        sender = dist.recv(t)
        senders.add(sender)
        check("recv any source", float(t[0]) == sender * 10.0, f"{t} from {sender}")
    check("recv senders", senders == set(range(1, n)), str(senders))
else:
    dist.send(tm.full((3,), rank * 10.0), dst=0)

# async collectives return a Work; the result is there after wait()
t = tm.full((1000,), float(rank + 1))
work = dist.all_reduce(t, async_op=True)
check("async work", isinstance(work, dist.Work) and work.wait() is True and work.is_completed()
      and work.result()[0] is t and float(t[0]) == n * (n + 1) / 2, str(t[:3]))
lst = [tm.zeros(2) for _ in range(n)]
work = dist.all_gather(lst, tm.full((2,), float(rank)), async_op=True)
while not work.is_completed():
    pass
check("async all_gather", [float(x[0]) for x in lst] == list(range(n)))
check("barrier async", dist.barrier(async_op=True).wait())

# objects of different sizes on every rank
objs = [None] * n
dist.all_gather_object(objs, {"rank": rank, "payload": "x" * (rank * 100), "arr": np.arange(rank)})
check("all_gather_object", [o["rank"] for o in objs] == list(range(n))
      and all(len(o["payload"]) == 100 * r and o["arr"].tolist() == list(range(r))
              for r, o in enumerate(objs)))
items = [f"from {rank}", {"k": [rank] * 3}, None]
dist.broadcast_object_list(items, src=n - 1)
check("broadcast_object_list", items == [f"from {n - 1}", {"k": [n - 1] * 3}, None], str(items))
gathered = [None] * n if rank == 0 else None
dist.gather_object(("obj", rank), gathered, dst=0)
if rank == 0:
    check("gather_object", gathered == [("obj", r) for r in range(n)], str(gathered))
received = [None]
dist.scatter_object_list(received, [f"item {i}" * (i + 1) for i in range(n)] if rank == 1
                         else None, src=1)
check("scatter_object_list", received[0] == f"item {rank}" * (rank + 1), str(received))

# sub-groups: ranks are global, the group's own ranks start at 0
members = [0, n - 1]
sub = dist.new_group(members)
if rank in members:
    t = tm.tensor([float(rank)])
    dist.all_reduce(t, group=sub)
    check("new_group all_reduce", float(t[0]) == float(sum(members)))
    check("new_group rank", dist.get_rank(sub) == members.index(rank)
          and dist.get_world_size(sub) == 2 and dist.get_global_rank(sub, 1) == n - 1)
    t = tm.tensor([float(rank)])
    dist.broadcast(t, src=n - 1, group=sub)
    check("new_group broadcast src is global", float(t[0]) == n - 1)
else:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = dist.all_reduce(tm.ones(1), group=sub)
    check("non-member", res is None and dist.get_rank(sub) == -1 and caught
          and "does not belong to the given group" in str(caught[0].message))
dist.barrier()

# mistakes raise on every rank before any communication
expect_raises("complex MAX", ValueError,
              lambda: dist.all_reduce(tm.ones(2, dtype=tm.complex64), op=ReduceOp.MAX),
              "does not support")
expect_raises("float BAND", RuntimeError,
              lambda: dist.all_reduce(tm.ones(2), op=ReduceOp.BAND), "non-integral")
expect_raises("int AVG", ValueError,
              lambda: dist.all_reduce(tm.ones(2, dtype=tm.int64), op=ReduceOp.AVG),
              "floating-point")
expect_raises("all_gather list size", ValueError,
              lambda: dist.all_gather([tm.zeros(2)], tm.zeros(2)), "one per rank")
expect_raises("not a tensor", TypeError, lambda: dist.all_reduce([1.0]), "Tensor")
expect_raises("unknown group", ValueError,
              lambda: dist.all_reduce(tm.ones(1), group="nope"), "not registered")

dist.destroy_process_group()
check("destroyed", not dist.is_initialized())
with open(f"{out_dir}/rank{rank}.json", "w") as f:
    json.dump({"checks": checks, "failures": failures}, f)
'''


@pytest.mark.parametrize("nproc", [2, 3])
def test_collectives_match_numpy(mpirun, nproc):
    proc = mpirun(SCRIPT, nproc, str(nproc))
    assert proc.returncode == 0, mpirun.report(proc)
    results = mpirun.results(nproc)
    for rank, result in enumerate(results):
        assert result["failures"] == [], f"rank {rank}: {result['failures']}"
    names = set(results[0]["checks"])
    for dtype in ("float16", "bfloat16", "int8", "bool", "complex128"):
        for op in ("all_reduce SUM", "broadcast", "reduce", "all_gather", "scatter",
                   "reduce_scatter_tensor", "isend/irecv"):
            assert f"{op} {dtype}" in names
    assert "all_reduce AVG bfloat16" in names and "all_reduce BXOR bool" in names
    assert {"async work", "all_gather_object", "scatter_object_list"} <= names
    assert any("gather bool" == c for c in results[-1]["checks"])
