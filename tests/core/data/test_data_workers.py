"""DataLoader with worker processes: same batches as in-process, seeding, sharding,
errors, dead workers, timeouts, and shutdown leaving no process behind.

Datasets are tiny and worker counts small: starting a forked worker costs a few
milliseconds, a spawned one about half a second.
"""

import ctypes
import gc
import multiprocessing
import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import taimatsu
from taimatsu import Tensor
from taimatsu.utils.data import (
    DataLoader,
    Dataset,
    IterableDataset,
    TensorDataset,
    get_worker_info,
)


def _alive(pid: int) -> bool:
    """True while `pid` is a live process (a zombie counts as dead)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _assert_gone(pids, within: float = 0.0):
    deadline = time.monotonic() + within
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not [p for p in pids if _alive(p)]
    assert not {c.pid for c in multiprocessing.active_children()} & set(pids)


@pytest.fixture(autouse=True)
def _no_worker_left_behind():
    """After every test (and a collection of the iterators a traceback kept alive), no
    worker process remains."""
    yield
    gc.collect()
    assert not multiprocessing.active_children()


class Squares(Dataset):
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return {"i": i, "x": np.full((2, 3), i, dtype=np.float32), "s": str(i)}


class Action(Dataset):
    """Runs `action(i)` inside a worker for the indices in `at`; else returns i."""

    def __init__(self, n, at, action):
        self.n, self.at, self.action = n, set(at), action

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if i in self.at and get_worker_info() is not None:
            self.action(i)
        return i


class Randomness(Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, i):
        info = get_worker_info()
        return {"worker": info.id if info else -1, "seed": info.seed if info else -1,
                "np": np.random.randint(1 << 30), "py": random.randrange(1 << 30),
                "tm": taimatsu.randint(0, 1 << 30, ()).item()}


class Range(IterableDataset):
    def __init__(self, n, shard=True):
        self.n, self.shard = n, shard

    def __iter__(self):
        info = get_worker_info()
        if info is None or not self.shard:
            return iter(range(self.n))
        return iter(range(info.id, self.n, info.num_workers))


def _flat(batches):
    return [(b["i"].tolist(), b["x"].tolist(), b["s"]) for b in batches]


# -- same batches as num_workers=0 ----------------------------------------------------------------

@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("kwargs", [{"batch_size": 3}, {"batch_size": 4, "drop_last": True},
                                    {"batch_size": None}])
def test_workers_yield_the_same_batches_in_order(workers, kwargs):
    expected = list(DataLoader(Squares(11), **kwargs))
    got = list(DataLoader(Squares(11), num_workers=workers, **kwargs))
    if kwargs["batch_size"] is None:
        assert [g["i"] for g in got] == [e["i"] for e in expected]
        assert all(isinstance(g["x"], Tensor) for g in got)
    else:
        assert _flat(got) == _flat(expected)


def test_shuffled_batches_match_with_the_same_generator():
    def run(workers):
        loader = DataLoader(TensorDataset(taimatsu.arange(30)), batch_size=4, shuffle=True,
                            num_workers=workers, generator=taimatsu.Generator().manual_seed(3))
        return [b[0].tolist() for b in loader]

    assert run(2) == run(0)


def test_batches_arrive_as_writable_taimatsu_tensors_of_every_size():
    class Arrays(Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return (np.full((300, 100), i, dtype=np.float64),  # 240 KB: out of band
                    taimatsu.full((2,), i, dtype=taimatsu.bfloat16),
                    taimatsu.arange(200.0)[::2] + i)  # non-contiguous source

    for big, bf, strided in DataLoader(Arrays(), batch_size=2, num_workers=2):
        assert isinstance(big, Tensor) and big.shape == (2, 300, 100) and big.dtype is taimatsu.float64
        assert bf.dtype is taimatsu.bfloat16 and strided.shape == (2, 100)
        first = big[0, 0, 0].item()
        assert big[1, 299, 99].item() == first + 1 and strided[1, 1].item() == first + 3
        big[0] = -1.0  # the array handed out is ours to write
        assert big.numpy().flags.writeable


def test_prefetch_keeps_prefetch_factor_tasks_per_worker_outstanding():
    it = iter(DataLoader(Squares(40), batch_size=1, num_workers=2, prefetch_factor=3))
    assert it._send_idx == 6
    for _ in range(10):
        next(it)
        assert len(it._task_info) <= 6
    assert it._send_idx == 16
    del it


def test_in_order_false_yields_every_batch_as_it_comes():
    def slow_first(i):
        time.sleep(0.5)

    ds = Action(6, at=[0], action=slow_first)
    got = [b.item() for b in DataLoader(ds, batch_size=1, num_workers=2, in_order=False)]
    assert sorted(got) == list(range(6)) and got[0] != 0
    ordered = [b.item() for b in DataLoader(ds, batch_size=1, num_workers=2)]
    assert ordered == list(range(6))


# -- IterableDataset ----------------------------------------------------------------------------

def test_iterable_dataset_each_worker_iterates_its_own_copy():
    loader = DataLoader(Range(5, shard=False), batch_size=2, num_workers=2)
    values = sorted(v for b in loader for v in b.tolist())
    assert values == sorted(list(range(5)) * 2)


@pytest.mark.filterwarnings("ignore:This DataLoader will create 3 worker processes")
def test_iterable_dataset_sharded_with_get_worker_info():
    loader = DataLoader(Range(11), batch_size=3, num_workers=3)
    batches = [b.tolist() for b in loader]
    assert sorted(v for b in batches for v in b) == list(range(11))
    # Workers take turns: batch k comes from worker k % 3 while all have data.
    assert batches[:3] == [[0, 3, 6], [1, 4, 7], [2, 5, 8]]
    loader = DataLoader(Range(11), batch_size=3, num_workers=3, drop_last=True)
    assert sorted(v for b in loader for v in b.tolist()) == [0, 1, 2, 3, 4, 5, 6, 7, 8]
    assert [x for x in DataLoader(Range(4), batch_size=None, num_workers=2)] == [0, 1, 2, 3]


def test_worker_info_inside_workers():
    class Info(Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            info = get_worker_info()
            return (info.id, info.num_workers, info.dataset is self, type(info.dataset).__name__)

    got = list(DataLoader(Info(), batch_size=None, num_workers=2))
    assert [g[0] for g in got] == [0, 1, 0, 1]
    assert all(g[1] == 2 and g[2] is True and g[3] == "Info" for g in got)


def test_worker_info_is_frozen():
    from taimatsu.utils.data._utils.worker import WorkerInfo
    with pytest.raises(AttributeError):  # dataclasses.FrozenInstanceError, as torch's
        WorkerInfo(0, 1, 0, None).id = 3


# -- seeding ------------------------------------------------------------------------------------

def _random_run(**kwargs):
    loader = DataLoader(Randomness(), batch_size=None, num_workers=2, **kwargs)
    return [{k: int(v) for k, v in d.items()} for d in loader]


def test_worker_seed_is_base_seed_plus_worker_id_from_the_generator():
    run = _random_run(generator=taimatsu.Generator().manual_seed(0))
    base = taimatsu.empty((), dtype=taimatsu.int64).random_(
        generator=taimatsu.Generator().manual_seed(0)).item()
    assert {(r["worker"], r["seed"]) for r in run} == {(0, base), (1, base + 1)}


def test_worker_randomness_differs_across_workers_and_repeats_with_a_seed():
    a = _random_run(generator=taimatsu.Generator().manual_seed(0))
    b = _random_run(generator=taimatsu.Generator().manual_seed(0))
    assert a == b
    c = _random_run(generator=taimatsu.Generator().manual_seed(1))
    assert [r["np"] for r in c] != [r["np"] for r in a]
    for key in ("np", "py", "tm"):
        w0 = [r[key] for r in a if r["worker"] == 0]
        w1 = [r[key] for r in a if r["worker"] == 1]
        assert w0 != w1, key
    taimatsu.manual_seed(7)
    d = _random_run()
    taimatsu.manual_seed(7)
    assert _random_run() == d


def test_worker_init_fn_runs_after_seeding_in_each_worker():
    def init(worker_id):
        info = get_worker_info()
        info.dataset.offset = 100 * (worker_id + 1)
        info.dataset.draws = (info.seed, random.random(), taimatsu.rand(()).item())

    class Offset(Dataset):
        offset, draws = 0, None

        def __len__(self):
            return 4

        def __getitem__(self, i):
            return self.offset + i, self.draws

    got = list(DataLoader(Offset(), batch_size=None, num_workers=2, worker_init_fn=init))
    assert [int(v) for v, _ in got] == [100, 201, 102, 203]
    for _, (seed, py, tm) in got:
        # What a generator freshly seeded with the worker's seed draws first.
        assert py == random.Random(int(seed)).random()
        assert tm == taimatsu.rand((), generator=taimatsu.Generator().manual_seed(int(seed))).item()


# -- errors in workers --------------------------------------------------------------------------

def _raise_value_error(i):
    raise ValueError(f"bad sample {i}")


def test_worker_exception_is_reraised_with_type_worker_id_and_traceback():
    loader = DataLoader(Action(4, at=[1], action=_raise_value_error), batch_size=1, num_workers=2)
    it = iter(loader)
    assert next(it).item() == 0
    with pytest.raises(ValueError) as err:
        next(it)
    msg = str(err.value)
    assert msg.startswith("Caught ValueError in DataLoader worker process 1.\n"
                          "Original Traceback (most recent call last):")
    assert "_raise_value_error" in msg and "ValueError: bad sample 1" in msg
    # The iterator goes on with the next batches, as torch's does.
    assert [b.item() for b in it] == [2, 3]


def test_key_error_and_exceptions_with_odd_constructors():
    def key_error(i):
        raise KeyError("missing")

    with pytest.raises(KeyError) as err:
        next(iter(DataLoader(Action(2, [0], key_error), num_workers=1)))
    assert "Caught KeyError in DataLoader worker process 0.\nOriginal Traceback" in str(err.value)

    class NeedsTwo(Exception):
        def __init__(self, a, b):
            super().__init__(a, b)

    def needs_two(i):
        raise NeedsTwo(1, 2)

    with pytest.raises(RuntimeError, match="Caught NeedsTwo in DataLoader worker process 0"):
        next(iter(DataLoader(Action(2, [0], needs_two), num_workers=1)))


def test_worker_init_fn_error_is_reported_with_the_first_batch():
    def init(worker_id):
        raise OSError("no such shard")

    with pytest.raises(OSError, match="Caught OSError in DataLoader worker process 0") as err:
        list(DataLoader(Squares(2), num_workers=1, worker_init_fn=init))
    assert "no such shard" in str(err.value)


def test_unpicklable_batch_is_reported_not_fatal():
    loader = DataLoader(Squares(2), batch_size=1, num_workers=1,
                        collate_fn=lambda batch: (lambda: None))
    with pytest.raises(Exception, match="Caught .* in DataLoader worker process 0") as err:
        next(iter(loader))
    assert "pickle" in str(err.value).lower()


def test_non_leaf_tensor_requiring_grad_cannot_cross_processes():
    w = taimatsu.ones(2, requires_grad=True)
    loader = DataLoader(Squares(2), batch_size=1, num_workers=1, collate_fn=lambda batch: w * 2)
    with pytest.raises(RuntimeError, match="Cowardly refusing to serialize non-leaf tensor"):
        next(iter(loader))


# -- dead workers and timeouts ------------------------------------------------------------------

def _sigkill(i):
    os.kill(os.getpid(), signal.SIGKILL)


def _exit3(i):
    os._exit(3)


def _segfault(i):
    ctypes.string_at(0)


@pytest.mark.parametrize("action,how", [(_sigkill, "SIGKILL"), (_exit3, "exit code 3"),
                                        (_segfault, "SIGSEGV")])
def test_dead_worker_raises_promptly_and_leaves_no_process(action, how):
    it = iter(DataLoader(Action(6, at=[1], action=action), batch_size=1, num_workers=2))
    pids = it._pool.pids
    start = time.monotonic()
    with pytest.raises(RuntimeError) as err:
        list(it)
    assert time.monotonic() - start < 5
    msg = str(err.value)
    assert msg.startswith(f"DataLoader worker (pid(s) {pids[1]}) exited unexpectedly")
    assert how in msg
    _assert_gone(pids)
    with pytest.raises(StopIteration):  # the iterator is finished for good
        next(it)


def test_worker_killed_from_outside_while_the_main_process_waits():
    def wait(i):
        time.sleep(30)

    it = iter(DataLoader(Action(4, at=[0, 1, 2, 3], action=wait), num_workers=2))
    pids = it._pool.pids
    killer = multiprocessing.get_context("fork").Process(
        target=lambda: (time.sleep(0.3), os.kill(pids[0], signal.SIGKILL)))
    killer.start()
    start = time.monotonic()
    with pytest.raises(RuntimeError, match=rf"DataLoader worker \(pid\(s\) {pids[0]}\) exited unexpectedly"):
        next(it)
    assert time.monotonic() - start < 5
    killer.join()
    _assert_gone(pids)


def test_timeout_raises():
    def slow(i):
        time.sleep(3)

    it = iter(DataLoader(Action(2, at=[0], action=slow), num_workers=1, timeout=0.3))
    pids = it._pool.pids
    start = time.monotonic()
    with pytest.raises(RuntimeError, match=r"^DataLoader timed out after 0.3 seconds$"):
        next(it)
    assert time.monotonic() - start < 2
    del it
    gc.collect()
    _assert_gone(pids)


# -- shutdown -----------------------------------------------------------------------------------

def test_exhausted_iterator_stops_its_workers():
    it = iter(DataLoader(Squares(4), batch_size=2, num_workers=2))
    pids = it._pool.pids
    assert all(_alive(p) for p in pids)
    list(it)
    _assert_gone(pids)


class Pids(Dataset):
    def __len__(self):
        return 100

    def __getitem__(self, i):
        return os.getpid()


def test_break_and_garbage_collection_stop_the_workers():
    loader = DataLoader(Pids(), batch_size=1, num_workers=2)
    pids = set()
    for batch in loader:
        pids.add(batch.item())
        if len(pids) == 2:
            break
    # The for loop's iterator was dropped at the break: its finalizer stopped the workers.
    _assert_gone(pids)
    it = iter(loader)
    next(it)
    pids = it._pool.pids
    del it  # no cycle holds an iterator: refcounting collects it at once
    _assert_gone(pids)


def test_keyboard_interrupt_stops_the_workers():
    def wait(i):
        time.sleep(10)

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    it = iter(DataLoader(Action(4, at=[0, 1, 2, 3], action=wait), num_workers=2))
    pids = it._pool.pids
    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, 0.2)
    try:
        with pytest.raises(KeyboardInterrupt):
            next(it)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert it._shutdown  # even though `it` is still referenced here
    _assert_gone(pids)


def test_persistent_workers_survive_epochs_and_early_breaks():
    loader = DataLoader(Squares(9), batch_size=2, num_workers=2, persistent_workers=True)
    first = _flat(loader)
    it = loader._iterator
    pids = it._pool.pids
    for i, _ in enumerate(loader):  # stop early: answers in flight must not leak over
        if i == 1:
            break
    assert _flat(loader) == first == _flat(DataLoader(Squares(9), batch_size=2))
    assert loader._iterator is it and it._pool.pids == pids and all(_alive(p) for p in pids)
    del loader, it
    gc.collect()
    _assert_gone(pids)


def test_persistent_workers_with_an_iterable_dataset():
    loader = DataLoader(Range(7), batch_size=2, num_workers=2, persistent_workers=True)
    for _ in range(2):
        assert sorted(v for b in loader for v in b.tolist()) == list(range(7))


def test_no_file_descriptor_leaks():
    def fds():
        return len(os.listdir("/proc/self/fd"))

    list(DataLoader(Squares(4), num_workers=2))
    before = fds()
    for _ in range(3):
        list(DataLoader(Squares(4), num_workers=2))
        it = iter(DataLoader(Squares(4), num_workers=2))
        next(it)
        del it
    gc.collect()
    assert fds() <= before


_EXIT_SCRIPT = textwrap.dedent("""
    import sys, time
    import taimatsu
    from taimatsu.utils.data import DataLoader, Dataset

    class Slow(Dataset):
        def __len__(self):
            return 100
        def __getitem__(self, i):
            time.sleep(0.05)
            return i

    loader = DataLoader(Slow(), num_workers=2, persistent_workers=True)
    it = iter(loader)
    next(it)
    print(*it._pool.pids, flush=True)
    if sys.argv[1] == "wait":
        for _ in it:  # interrupted by SIGINT from the test
            pass
    # "exit": leave with the workers busy and the iterator still referenced
""")


@pytest.mark.slow  # a fresh interpreter per case
@pytest.mark.parametrize("mode", ["exit", "wait", "killed"])
def test_interpreter_exit_ctrl_c_and_sigkill_leave_no_worker(mode):
    proc = subprocess.Popen([sys.executable, "-c", _EXIT_SCRIPT, mode], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    pids = [int(p) for p in proc.stdout.readline().split()]
    assert len(pids) == 2
    if mode == "wait":
        time.sleep(0.2)
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
    elif mode == "killed":
        proc.kill()  # no atexit, no finalizer: the workers must notice on their own
    _, err = proc.communicate(timeout=30)
    _assert_gone(pids, within=5)
    if mode == "wait":
        assert proc.returncode != 0 and err.count("KeyboardInterrupt") == 1, err
    elif mode == "exit":
        assert proc.returncode == 0, err


# -- start methods ------------------------------------------------------------------------------

@pytest.mark.slow  # spawned workers import taimatsu afresh: ~0.5 s each
@pytest.mark.parametrize("method", ["spawn", "forkserver"])
def test_spawn_and_forkserver_contexts(method):
    if method not in multiprocessing.get_all_start_methods():
        pytest.skip(f"{method} is not available here")
    ds = TensorDataset(taimatsu.arange(10), taimatsu.arange(10.0) * 2)
    loader = DataLoader(ds, batch_size=3, num_workers=2, multiprocessing_context=method)
    got = [(a.tolist(), b.tolist()) for a, b in loader]
    assert got == [(a.tolist(), b.tolist()) for a, b in DataLoader(ds, batch_size=3)]
    # An error in a spawned worker still comes back with its type.
    bad = DataLoader(TensorDataset(taimatsu.arange(3)), sampler=[0, 5], num_workers=1,
                     multiprocessing_context=method)
    with pytest.raises(IndexError, match="Caught IndexError in DataLoader worker process 0"):
        list(bad)


def test_unpicklable_arguments_under_spawn_fail_cleanly():
    loader = DataLoader(TensorDataset(taimatsu.arange(4)), num_workers=2,
                        multiprocessing_context="spawn", collate_fn=lambda batch: batch)
    with pytest.warns(UserWarning, match="Got pickle error when attempting to start a worker"):
        with pytest.raises(Exception, match="pickle"):
            iter(loader)
    assert not multiprocessing.active_children()


# -- pin_memory ---------------------------------------------------------------------------------

def test_pin_memory_copies_every_tensor_of_a_batch(monkeypatch):
    """The pinning path, with CuPy's pinned allocator replaced by a recording one (the
    real one needs a GPU)."""
    import types

    pinned = []

    def empty_pinned(shape, dtype):
        out = np.empty(shape, dtype)
        pinned.append(out)
        return out

    monkeypatch.setitem(sys.modules, "cupyx", types.SimpleNamespace(empty_pinned=empty_pinned))
    monkeypatch.setattr(taimatsu.cuda, "is_available", lambda: True)
    for workers in (0, 2):
        pinned.clear()
        batches = list(DataLoader(Squares(4), batch_size=2, num_workers=workers, pin_memory=True))
        assert len(pinned) == 4  # "i" and "x" of two batches; the strings stay as they are
        assert all(any(b["x"].numpy() is p for p in pinned) for b in batches)
        assert _flat(batches) == _flat(DataLoader(Squares(4), batch_size=2))
