"""taimatsu.multiprocessing: shared-memory tensors across processes, spawn, Hogwild."""

from __future__ import annotations

import gc
import multiprocessing
import os
import pickle
import sys
import time
from multiprocessing.reduction import ForkingPickler
from queue import Empty

import numpy as np
import pytest
from core import mp_workers as W

import taimatsu
import taimatsu.multiprocessing as mp
from taimatsu import nn
from taimatsu.multiprocessing._shared_memory import segment_of, shared_copy

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="inspects /proc and /dev/shm")


def _ctx(method):
    if method not in multiprocessing.get_all_start_methods():
        pytest.skip(f"{method} is not available here")
    return mp.get_context(method)


def _run(ctx, target, *args):
    p = ctx.Process(target=target, args=args)
    p.start()
    return p


def _result(queue, p, timeout=60):
    """The child's answer; fails (instead of hanging) when the child died first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            return queue.get(timeout=0.2)
        except Empty:
            if not p.is_alive():
                pytest.fail(f"child exited with {p.exitcode} before answering")
    pytest.fail("no answer from the child")


def _join(p, timeout=60):
    p.join(timeout)
    assert p.exitcode == 0, f"child exited with {p.exitcode}"


def _holds(ino: int) -> tuple[int, int]:
    """(descriptors, mappings) this process holds on the shared-memory file `ino`."""
    fds = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            fds += os.stat(f"/proc/self/fd/{fd}").st_ino == ino
        except OSError:
            pass
    with open("/proc/self/maps") as f:
        maps = sum(line.split()[4] == str(ino) for line in f if len(line.split()) > 5)
    return fds, maps


def _our_shm_names() -> set:
    return {n for n in os.listdir("/dev/shm") if n.startswith(f"taimatsu_{os.getpid()}_")}


@pytest.fixture
def file_system_strategy():
    old = mp.get_sharing_strategy()
    mp.set_sharing_strategy("file_system")
    yield
    mp.set_sharing_strategy(old)


# -- the module -----------------------------------------------------------------------------

def test_reexports_the_standard_library():
    for name in multiprocessing.__all__:
        assert getattr(mp, name) is getattr(multiprocessing, name), name
    assert {"Process", "Queue", "SimpleQueue", "Pool", "get_context", "set_start_method",
            "get_start_method", "cpu_count"} <= set(mp.__all__)
    assert {"set_sharing_strategy", "get_sharing_strategy",
            "get_all_sharing_strategies"} <= set(mp.__all__)
    assert taimatsu.multiprocessing is mp
    assert mp.cpu_count() == multiprocessing.cpu_count()


def test_sharing_strategies():
    if sys.platform.startswith("linux"):
        assert mp.get_all_sharing_strategies() == {"file_descriptor", "file_system"}
        assert mp.get_sharing_strategy() == "file_descriptor"
    old = mp.get_sharing_strategy()
    with pytest.raises(AssertionError, match="invalid sharing strategy 'disk', expected one of"):
        mp.set_sharing_strategy("disk")
    assert mp.get_sharing_strategy() == old


# -- share_memory_ / is_shared --------------------------------------------------------------

@pytest.mark.parametrize("dtype", [taimatsu.float32, taimatsu.float64, taimatsu.float16,
                                   taimatsu.bfloat16, taimatsu.int64, taimatsu.uint8,
                                   taimatsu.bool, taimatsu.complex64])
def test_share_memory_in_place_keeps_values_and_dtype(dtype):
    t = (taimatsu.arange(12) % 5).reshape(3, 4).to(dtype)
    before = t.clone()
    assert not t.is_shared()
    assert t.share_memory_() is t
    assert t.is_shared() and t.dtype is dtype and t.shape == (3, 4)
    assert t.stride() == (4, 1)
    assert taimatsu.equal(t, before)
    arr = t._data
    t.share_memory_()  # already shared: a no-op
    assert t._data is arr


def test_share_memory_keeps_strides_of_non_contiguous_tensors():
    t = taimatsu.randn(4, 5).t()  # a view: its base moves too and they keep aliasing
    t.share_memory_()
    assert t.stride() == (1, 5) and t._base.is_shared()
    t._base[0, 1] = 42.0
    assert t[1, 0].item() == 42.0

    u = taimatsu.randn(4, 6)[:, ::2].detach()  # a strided array without autograd base
    expected = u.clone()
    u.share_memory_()
    assert u.stride() == (6, 2) and u.is_shared() and taimatsu.equal(u, expected)


def test_share_memory_of_a_view_shares_its_base_like_torch():
    t = taimatsu.arange(6.0).reshape(2, 3)
    base = t._base
    row = t[1]
    row.share_memory_()
    assert row.is_shared() and base.is_shared() and t._base is base
    assert row.storage_offset() == 3
    base.add_(1)
    assert row.tolist() == [4.0, 5.0, 6.0]


def test_negative_strides_are_copied_within_bounds():
    arr = np.arange(10.0)[::-2]
    out = shared_copy(arr, "file_descriptor")
    assert out.strides == arr.strides and out.tolist() == arr.tolist()
    assert segment_of(out) is not None


def test_views_of_shared_tensors_are_shared_and_copies_are_not():
    t = taimatsu.zeros(2, 3).share_memory_()
    assert t[0].is_shared() and t.view(6).is_shared() and t.t().is_shared()
    assert not t.clone().is_shared() and not (t + 1).is_shared()


def test_empty_and_zero_dim_tensors():
    e = taimatsu.empty(0, 3).share_memory_()
    s = taimatsu.tensor(2.5).share_memory_()
    assert e.is_shared() and e.shape == (0, 3)
    assert s.is_shared() and s.item() == 2.5


def test_autograd_still_works_on_shared_leaves():
    w = taimatsu.ones(3, requires_grad=True)
    w.share_memory_()
    (w * 2).sum().backward()
    assert w.grad.tolist() == [2.0, 2.0, 2.0]
    assert w.is_leaf and w.requires_grad


# -- Module.share_memory ----------------------------------------------------------------------

def test_module_share_memory_keeps_parameters_and_shares_grads_and_buffers():
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    model(taimatsu.randn(5, 3)).sum().backward()
    params = list(model.parameters())
    buffers = list(model.buffers())
    state = {k: v.clone() for k, v in model.state_dict().items()}
    optimizer = taimatsu.optim.SGD(model.parameters(), lr=0.1)
    assert model.share_memory() is model
    assert all(a is b for a, b in zip(params, model.parameters()))
    assert all(a is b for a, b in zip(buffers, model.buffers()))
    assert all(p.is_shared() and p.grad.is_shared() for p in params)
    assert all(b.is_shared() for b in buffers)
    assert all(taimatsu.equal(v, state[k]) for k, v in model.state_dict().items())
    # The optimizer built before still updates the (now shared) parameters in place.
    optimizer.step()
    assert params[0].is_shared()
    assert not taimatsu.equal(params[0], state["0.weight"])


def test_module_share_memory_without_grads_and_lazy_modules():
    model = nn.Linear(2, 2).share_memory()
    assert model.weight.grad is None
    model(taimatsu.randn(1, 2)).sum().backward()
    assert not model.weight.grad.is_shared()  # as torch: each process makes its own grads
    with pytest.raises(RuntimeError, match="Can't share memory on an uninitialized"):
        nn.LazyLinear(3).share_memory()


# -- pickling through ForkingPickler ----------------------------------------------------------

def test_non_leaf_tensors_requiring_grad_refuse_to_cross():
    x = taimatsu.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="Cowardly refusing to serialize non-leaf tensor"):
        ForkingPickler.dumps(x * 2)
    ForkingPickler.dumps((x * 2).detach())


def test_pickling_moves_a_tensor_to_shared_memory_and_keeps_plain_pickle_a_copy():
    t = taimatsu.arange(3.0)
    copy = pickle.loads(pickle.dumps(t))
    assert not t.is_shared() and not copy.is_shared()
    back = pickle.loads(ForkingPickler.dumps(t))
    assert t.is_shared() and back.is_shared()
    back.add_(1)  # same process, same memory
    assert t.tolist() == [1.0, 2.0, 3.0]


def test_hooks_warn_that_they_are_not_sent():
    x = taimatsu.ones(2, requires_grad=True)
    x.register_hook(lambda g: g)
    with pytest.warns(UserWarning, match="will not be serialized"):
        ForkingPickler.dumps(x)


# -- across processes ---------------------------------------------------------------------

@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_child_writes_are_seen_by_the_parent(method):
    ctx = _ctx(method)
    t = taimatsu.arange(6.0).reshape(2, 3).share_memory_()
    done = ctx.Queue()
    p = _run(ctx, W.add_one, t, done)
    assert _result(done, p) is True
    _join(p)
    assert t.tolist() == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]


def test_forkserver_children_share_memory_too():
    ctx = _ctx("forkserver")
    t = taimatsu.zeros(3).share_memory_()
    done = ctx.Queue()
    p = _run(ctx, W.add_one, t, done)
    assert _result(done, p) is True
    _join(p)
    assert t.tolist() == [1.0, 1.0, 1.0]


def test_queue_moves_an_unshared_tensor_to_shared_memory():
    ctx = _ctx("fork")
    queue, done = ctx.Queue(), ctx.Queue()
    p = _run(ctx, W.receive_and_scale, queue, done)
    t = taimatsu.ones(3)
    queue.put(t)
    assert _result(done, p) == (True, "Tensor", False)
    _join(p)
    assert t.is_shared() and t.tolist() == [10.0, 10.0, 10.0]


def test_parameters_arrive_as_parameters_without_grad():
    ctx = _ctx("fork")
    queue, done = ctx.Queue(), ctx.Queue()
    p = _run(ctx, W.receive_and_scale, queue, done)
    w = nn.Parameter(taimatsu.ones(2))
    w.grad = taimatsu.ones(2)
    queue.put(w)
    assert _result(done, p) == (True, "Parameter", True)
    _join(p)
    assert w.tolist() == [10.0, 10.0]


def test_a_tensor_and_its_view_in_one_message_still_alias():
    ctx = _ctx("fork")
    queue, done = ctx.Queue(), ctx.Queue()
    p = _run(ctx, W.receive_pair, queue, done)
    t = taimatsu.zeros(2, 2)
    queue.put((t, t[1]))
    assert _result(done, p) == [[0.0, 0.0], [7.0, 7.0]]
    _join(p)
    assert t.tolist() == [[0.0, 0.0], [7.0, 7.0]]


def test_spawned_child_gets_requires_grad_and_user_state_but_not_grad():
    ctx = _ctx("spawn")
    w = nn.Parameter(taimatsu.tensor([1.0, 2.0]))
    w.grad = taimatsu.ones(2)
    w.tag = "kept"
    done = ctx.Queue()
    p = _run(ctx, W.describe, w, done)
    assert _result(done, p) == ("Parameter", True, True, True, "kept", [1.0, 2.0])
    _join(p)


def test_child_sends_a_new_tensor_to_the_parent():
    ctx = _ctx("fork")
    queue, received = ctx.Queue(), ctx.Event()
    p = _run(ctx, W.send_back, queue, received)
    t = _result(queue, p)
    received.set()
    _join(p)
    assert t.is_shared() and t.tolist() == [100.0, 101.0, 102.0, 103.0]


# -- release of shared memory -------------------------------------------------------------------

@linux_only
def test_memory_is_released_with_the_last_tensor():
    t = taimatsu.randn(100).share_memory_()
    view = t[10:20]
    ino = os.fstat(segment_of(t._data).fd).st_ino
    held = _holds(ino)
    assert held[0] >= 1 and held[1] == 1
    del t
    gc.collect()
    assert _holds(ino) == held  # the view still uses the memory
    del view
    gc.collect()
    assert _holds(ino) == (0, 0)


@linux_only
@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_file_system_strategy_leaves_nothing_in_dev_shm(file_system_strategy, method):
    ctx = _ctx(method)
    t = taimatsu.zeros(3).share_memory_()
    names = _our_shm_names()
    assert len(names) == 1
    queue, done = ctx.Queue(), ctx.Queue()
    p = _run(ctx, W.receive_and_scale, queue, done)
    u = taimatsu.ones(2)
    queue.put(u)  # a second named segment, opened by name in the child
    assert _result(done, p)[0] is True
    _join(p)
    assert u.tolist() == [10.0, 10.0]
    assert len(_our_shm_names()) == 2
    del t, u
    gc.collect()
    assert _our_shm_names() == set()


# -- spawn / start_processes -----------------------------------------------------------------

def test_spawn_runs_fn_with_the_index():
    out = taimatsu.zeros(2).share_memory_()
    assert mp.spawn(W.rank_square, args=(out,), nprocs=2) is None
    assert out.tolist() == [0.0, 1.0]


def test_start_processes_join_false_returns_a_context():
    out = taimatsu.zeros(3).share_memory_()
    context = mp.start_processes(W.rank_square, args=(out,), nprocs=3, join=False,
                                 start_method="fork")
    assert isinstance(context, mp.ProcessContext) and len(context.pids()) == 3
    while not context.join():
        pass
    assert context.join() is True
    assert out.tolist() == [0.0, 1.0, 4.0]


def test_a_raising_child_stops_the_others_and_its_traceback_is_raised():
    with pytest.raises(mp.ProcessRaisedException) as info:
        mp.start_processes(W.fail_on_rank_one, nprocs=2, start_method="fork")
    err = info.value
    assert err.error_index == 1 and isinstance(err.error_pid, int)
    msg = str(err)
    assert msg.startswith("\n\n-- Process 1 terminated with the following error:\nTraceback")
    assert "ValueError: boom from rank 1" in msg and "fail_on_rank_one" in msg
    assert not multiprocessing.active_children()
    again = pickle.loads(pickle.dumps(err))
    assert type(again) is mp.ProcessRaisedException and again.error_index == 1


def test_exit_codes_and_signals_raise_process_exited():
    with pytest.raises(mp.ProcessExitedException,
                       match="^process 0 terminated with exit code 3$") as info:
        mp.start_processes(W.exit_with_three, start_method="fork")
    assert info.value.exit_code == 3 and info.value.signal_name is None
    with pytest.raises(mp.ProcessExitedException,
                       match="^process 0 terminated with signal SIGKILL$") as info:
        mp.start_processes(W.kill_self, start_method="fork")
    assert info.value.exit_code == -9 and info.value.signal_name == "SIGKILL"


def test_spawn_warns_about_other_start_methods():
    out = taimatsu.zeros(1).share_memory_()
    with pytest.warns(FutureWarning, match="only supports start_method=spawn"):
        mp.spawn(W.rank_square, args=(out,), start_method="fork")


# -- Hogwild ---------------------------------------------------------------------------------

def _hogwild(method, steps=40):
    taimatsu.manual_seed(0)
    model = nn.Linear(2, 1)
    with taimatsu.no_grad():
        model.weight.zero_()
        model.bias.zero_()
    weight = model.weight
    model.share_memory()
    counter = taimatsu.zeros(2, dtype=taimatsu.int64).share_memory_()
    ctx = _ctx(method)
    processes = []
    for rank in range(2):
        p = ctx.Process(target=W.hogwild_train, args=(rank, model, steps, counter))
        p.start()
        processes.append(p)
    for p in processes:
        _join(p)
    assert model.weight is weight and counter.tolist() == [steps, steps]
    x = taimatsu.randn(128, 2)
    loss = taimatsu.nn.functional.mse_loss(model(x), 3.0 * x.sum(1, keepdim=True) + 0.5)
    # Each rank trains only its own weight: both are trained in the parent's one tensor.
    np.testing.assert_allclose(model.weight.detach().numpy(), [[3.0, 3.0]], atol=0.1)
    assert abs(model.bias.item() - 0.5) < 0.1
    assert loss.item() < 0.05


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_hogwild_training_updates_one_set_of_weights(method):
    _hogwild(method)


def test_hogwild_with_the_global_start_method_like_the_examples():
    old = mp.get_start_method(allow_none=True)
    mp.set_start_method("fork", force=True)
    try:
        model = nn.Linear(2, 1)
        model.share_memory()
        counter = taimatsu.zeros(2, dtype=taimatsu.int64).share_memory_()
        processes = []
        for rank in range(2):
            p = mp.Process(target=W.hogwild_train, args=(rank, model, 5, counter))
            p.start()
            processes.append(p)
        for p in processes:
            p.join()
        assert [p.exitcode for p in processes] == [0, 0]
        assert counter.tolist() == [5, 5]
    finally:
        mp.set_start_method(old, force=True)
