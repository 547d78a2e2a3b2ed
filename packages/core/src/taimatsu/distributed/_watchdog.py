"""The watchdog: a rank that raises, dies or stalls becomes an error on the other ranks.

Every wait for a collective polls (MPI non-blocking operations, CUDA events) instead of
blocking inside MPI, and between polls it looks for

- failure notices: a rank whose Python code raises (uncaught) first prints its
  traceback, then sends a notice naming itself and the error to every other rank on a
  private communicator, and waits until each peer has noticed (sent its own notice) or
  is gone before it exits. Waiting ranks turn the notice into a DistBackendError naming
  the rank, so every rank prints why the job stopped, and none hangs;
- ranks that left: a rank leaving normally (destroy_process_group, or at exit) tells
  the others, and a local peer whose pid is gone has left too. A collective still
  waiting for such a rank a moment later raises instead of hanging;
- the process group's timeout: no progress for that long raises.

A rank killed by a signal makes mpiexec (hydra) kill the others at once; the launcher
`python -m taimatsu.distributed.run` then names the rank from mpiexec's report.
"""

from __future__ import annotations

import atexit
import json
import os
import socket
import sys
import time

import numpy as np

from ._common import DistBackendError

_NOTICE_TAG = 7
_CHECK_EVERY = 0.05       # seconds between looks for notices and dead peers
_LIVENESS_AFTER = 0.2     # waits shorter than this never look at peers' pids
_GONE_GRACE = 1.0         # a peer that left may have sent its last data: keep polling
_HOST_BYTES = 64
_SPINS = 200              # polls before a waiting rank starts yielding the CPU


class Watchdog:
    """World-wide failure detection; one per initialized default process group."""

    def __init__(self, MPI, world, timeout: float):
        self.MPI = MPI
        self.ctrl = world.Dup()  # notices never mix with the collectives' messages
        self.rank = world.Get_rank()
        self.size = world.Get_size()
        self.timeout = timeout
        self.session = 0
        self.failed: dict[int, dict] = {}   # rank -> its failure notice
        self.gone: dict[int, float] = {}    # rank -> when it was first seen leaving or dead
        self._sends = []
        self._payloads = []
        self._status = MPI.Status()
        self.local_peers: list[int] = []
        self.hosts, self.pids = self._exchange_identity()
        host = self.hosts[self.rank]
        self.local_peers = [r for r in range(self.size) if self.hosts[r] == host and r != self.rank]
        self.local_rank = sum(1 for r in range(self.rank) if self.hosts[r] == host)
        self.local_size = len(self.local_peers) + 1
        self.run_dir = os.environ.get("TAIMATSU_RUN_DIR")
        if self.run_dir:
            _write(os.path.join(self.run_dir, f"{self.rank}.pid"), f"{os.getpid()} {host}\n")
        self._previous_hook = sys.excepthook
        sys.excepthook = self._excepthook
        self._announced = False
        atexit.register(self.close)

    def close(self) -> None:
        """Tells the peers this rank leaves (so none waits for it), then frees."""
        if self.ctrl is None:
            return
        atexit.unregister(self.close)
        if sys.excepthook == self._excepthook:
            sys.excepthook = self._previous_hook
        if not self._announced:
            self._notify({"rank": self.rank, "error": None, "cause": None})
        # Small messages leave at once; a bound keeps a dead peer from holding us here.
        deadline = time.monotonic() + 1.0
        while not self.MPI.Request.Testall(self._sends) and time.monotonic() < deadline:
            time.sleep(0.001)
        self._sends = []
        self.ctrl.Free()
        self.ctrl = None

    def _notify(self, notice: dict) -> None:
        payload = bytearray(json.dumps({**notice, "session": self.session}).encode())
        self._payloads.append(payload)
        for r in range(self.size):
            if r != self.rank:
                self._sends.append(self.ctrl.Isend([payload, self.MPI.BYTE], dest=r,
                                                   tag=_NOTICE_TAG))

    # -- identity ---------------------------------------------------------------------------
    def _exchange_identity(self):
        """Every rank's host name and pid (the pids let a rank see a local peer die)."""
        mine = np.zeros(_HOST_BYTES + 16, dtype=np.uint8)
        name = socket.gethostname().encode()[:_HOST_BYTES]
        mine[:len(name)] = np.frombuffer(name, dtype=np.uint8)
        numbers = [os.getpid(), int.from_bytes(os.urandom(7), "little")]
        mine[_HOST_BYTES:] = np.array(numbers, dtype=np.int64).view(np.uint8)
        table = np.empty((self.size, mine.size), dtype=np.uint8)
        req = self.ctrl.Iallgather([mine, self.MPI.BYTE], [table, self.MPI.BYTE])
        self.wait(req.Test, "init_process_group", self.timeout)
        hosts = [bytes(row[:_HOST_BYTES]).rstrip(b"\0").decode(errors="replace")
                 for row in table]
        numbers = [row[_HOST_BYTES:].view(np.int64) for row in table]
        # Rank 0's random number names this group's lifetime: MPI may reuse a freed
        # communicator's id, and a stale notice from an earlier group must not count.
        self.session = int(numbers[0][1])
        return hosts, [int(n[0]) for n in numbers]

    def describe(self, rank: int) -> str:
        return f"rank {rank} (pid {self.pids[rank]} on {self.hosts[rank]})"

    # -- waiting ------------------------------------------------------------------------------
    def wait(self, test, what: str, timeout: float) -> None:
        """Polls `test()` until it is true; raises DistBackendError on a peer's failure,
        a dead local peer, an MPI error, or after `timeout` seconds."""
        try:
            if not test():
                self._poll(test, what, timeout)
        except self.MPI.Exception as exc:
            self.check(what, liveness=True)  # names the rank behind it when one is known
            raise DistBackendError(f"[rank {self.rank}] {what} failed in MPI: {exc}") from exc

    def _poll(self, test, what: str, timeout: float) -> None:
        start = time.monotonic()
        deadline = start + timeout
        next_check = start + _CHECK_EVERY
        spins = 0
        while not test():
            spins += 1
            now = time.monotonic()
            if spins > _SPINS:
                # Yield first (a peer may need this core), then sleep briefly on long waits.
                time.sleep(0 if now - start < 0.05 else 1e-4)
            if now >= next_check:
                next_check = now + _CHECK_EVERY
                self.check(what, liveness=now - start > _LIVENESS_AFTER)
                if now >= deadline:
                    raise DistBackendError(
                        f"[rank {self.rank}] {what} timed out after {timeout:g} seconds "
                        "waiting for the other ranks; one of them is stuck, skipped this "
                        "collective, or died on another host")

    def check(self, what: str, liveness: bool = False) -> None:
        """Raises DistBackendError if a peer has failed (or, with liveness, exited)."""
        self._receive_notices()
        if self.failed:
            first = min(self.failed, key=lambda r: (self.failed[r].get("cause") is not None, r))
            notice = self.failed[first]
            err = DistBackendError(f"[rank {self.rank}] {what} failed: {self.describe(first)} "
                                   f"failed with {notice['error']}")
            err.failed_rank = first
            raise err
        if liveness:
            self._look_for_dead_peers()
        if self.gone:
            # A rank that left may have sent its last data before it did: only a wait
            # still unfinished a moment later is an error.
            now = time.monotonic()
            late = [r for r, since in self.gone.items() if now - since > _GONE_GRACE]
            if late:
                err = DistBackendError(
                    f"[rank {self.rank}] {what} failed: {self.describe(late[0])} exited "
                    "before the collective finished")
                err.failed_rank = late[0]
                raise err

    def _look_for_dead_peers(self) -> None:
        for r in self.local_peers:
            if r not in self.gone and not _alive(self.pids[r]):
                self.gone[r] = time.monotonic()

    def _receive_notices(self) -> None:
        MPI, status = self.MPI, self._status
        while self.ctrl.Iprobe(source=MPI.ANY_SOURCE, tag=_NOTICE_TAG, status=status):
            buf = bytearray(status.Get_count(MPI.BYTE))
            self.ctrl.Recv([buf, MPI.BYTE], source=status.Get_source(), tag=_NOTICE_TAG)
            notice = json.loads(buf.decode())
            if notice.get("session") != self.session:
                continue
            if notice["error"] is None:
                self.gone.setdefault(notice["rank"], time.monotonic())
            else:
                self.failed.setdefault(notice["rank"], notice)

    # -- failing ------------------------------------------------------------------------------
    def _excepthook(self, etype, value, tb) -> None:
        self._previous_hook(etype, value, tb)
        try:
            sys.stderr.flush()
            self.announce_failure(value)
        except Exception as exc:  # never mask the user's error with ours
            print(f"taimatsu.distributed: could not notify the other ranks: {exc}",
                  file=sys.stderr)

    def announce_failure(self, exc: BaseException) -> None:
        """Tells every peer that this rank is going down, then waits (up to the
        timeout) until each has noticed or is gone, so that none hangs."""
        cause = getattr(exc, "failed_rank", None)
        error = f"{type(exc).__name__}: {exc}"
        if len(error) > 2000:
            error = error[:2000] + "..."
        notice = {"rank": self.rank, "error": error, "cause": cause}
        if self.run_dir:
            _write(os.path.join(self.run_dir, f"{self.rank}.error"), json.dumps(notice))
        self._notify(notice)
        self._announced = True
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            self._receive_notices()
            self._look_for_dead_peers()
            if all(r == self.rank or r in self.failed or r in self.gone
                   for r in range(self.size)):
                break
            self.MPI.Request.Testall(self._sends)
            time.sleep(0.01)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _write(path: str, text: str) -> None:
    try:
        with open(path, "w") as f:
            f.write(text)
    except OSError:
        pass
