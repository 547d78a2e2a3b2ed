"""Functions that tests/core/test_multiprocessing.py runs in child processes.

They live in a module of their own (imported as `core.mp_workers`: tests/ is on sys.path,
and spawned children inherit sys.path) so that 'spawn' and 'forkserver' children can
import them by name without importing pytest or the test module.
"""

from __future__ import annotations

import os
import signal
import sys
import time

import taimatsu
import taimatsu.nn.functional as F


def add_one(t, done) -> None:
    """Adds 1 to the received tensor in place and reports whether it arrived shared."""
    t.add_(1)
    done.put(t.is_shared())


def receive_and_scale(queue, done) -> None:
    t = queue.get()
    with taimatsu.no_grad():  # a Parameter may arrive: a leaf that requires grad
        t.mul_(10)
    done.put((t.is_shared(), type(t).__name__, t.requires_grad))


def receive_pair(queue, done) -> None:
    """Gets (tensor, view of it) in one message and checks they still alias."""
    t, row = queue.get()
    row.fill_(7)
    done.put(t.tolist())


def describe(t, done) -> None:
    done.put((type(t).__name__, t.requires_grad, t.grad is None, t.is_shared(),
              getattr(t, "tag", None), t.tolist()))


def send_back(queue, received) -> None:
    """Sends a new tensor to the parent; stays alive until the parent has it (the
    descriptor is handed over by this process on request)."""
    t = taimatsu.arange(4.0)
    queue.put(t)
    received.wait(30)
    t.add_(100)  # the parent sees this through the shared memory


def hogwild_train(rank: int, model, steps: int, counter) -> None:
    """SGD on this rank's own data against the shared parameters.

    Rank r sees only feature r (others are zero), so its gradient moves only weight[0, r]
    and the bias: the parent finds both weights trained only if both processes updated
    the one shared weight tensor.
    """
    taimatsu.manual_seed(rank)
    x = taimatsu.zeros(64, 2)
    x[:, rank] = taimatsu.randn(64)
    y = 3.0 * x[:, rank:rank + 1] + 0.5
    optimizer = taimatsu.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(steps):
        optimizer.zero_grad()
        F.mse_loss(model(x), y).backward()
        optimizer.step()
    counter[rank] += steps


def rank_square(rank: int, out) -> None:
    out[rank] = rank * rank


def fail_on_rank_one(rank: int) -> None:
    if rank == 1:
        raise ValueError(f"boom from rank {rank}")
    time.sleep(60)  # stopped by the parent once rank 1 has failed


def exit_with_three(rank: int) -> None:
    sys.exit(3)


def kill_self(rank: int) -> None:
    os.kill(os.getpid(), signal.SIGKILL)
