"""Benchmark harness: times taimatsu against PyTorch CPU in the same process.

A case is a pair of factories, one per framework. A factory builds its inputs
(untimed) and returns a zero-argument `step` callable; the harness times calls
to `step`. Example:

    def matmul_taimatsu():
        import taimatsu as tm
        a, b = tm.randn(1024, 1024), tm.randn(1024, 1024)
        def step():
            with tm.no_grad():
                a @ b
        return step

Identical code timed twice in one process can differ by up to 8%, so single
timings are never compared: every contender is timed in each of several rounds,
the order alternating round to round, and the medians are compared.
"""

from __future__ import annotations

import importlib
import math
import os
import platform
import statistics
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field

Step = Callable[[], object]
Factory = Callable[[], Step]

SUBJECT = "taimatsu"
BASELINE = "torch"


@dataclass(frozen=True)
class Target:
    """The goal for a case: SUBJECT's median / `against`'s median <= max_ratio."""

    max_ratio: float
    against: str = BASELINE
    text: str = ""


@dataclass
class Case:
    """One benchmark.

    Args:
        name: short identifier, used by `run.py --only`
        taimatsu: factory for the taimatsu version
        torch: factory for the PyTorch version
        references: extra contenders (e.g. {"numpy": ...}) timed in the same
            rotation and reported in the notes
        ops: operations per step; the notes then show time per op
        flops: floating-point operations per step; the notes then show GFLOP/s
        target: the goal this case is checked against
    """

    name: str
    taimatsu: Factory
    torch: Factory
    description: str = ""
    references: dict[str, Factory] = field(default_factory=dict)
    ops: int | None = None
    flops: float | None = None
    target: Target | None = None

    def contenders(self) -> dict[str, Factory]:
        return {SUBJECT: self.taimatsu, BASELINE: self.torch, **self.references}


@dataclass
class Result:
    case: Case
    # seconds per iteration, one entry per round
    samples: dict[str, list[float]] = field(default_factory=dict)
    inner: dict[str, int] = field(default_factory=dict)  # iterations per timed batch
    errors: dict[str, str] = field(default_factory=dict)

    def median(self, who: str) -> float | None:
        s = self.samples.get(who)
        return statistics.median(s) if s else None

    def ratio(self, who: str = SUBJECT, against: str = BASELINE) -> float | None:
        a, b = self.median(who), self.median(against)
        return a / b if a is not None and b else None


# --------------------------------------------------------------------------- frameworks


def available_frameworks() -> dict[str, str | None]:
    """Maps SUBJECT and BASELINE to None when importable, else to the reason why not."""
    status: dict[str, str | None] = {}
    for name in (SUBJECT, BASELINE):
        try:
            importlib.import_module(name)
            status[name] = None
        except Exception as e:  # a half-built package may fail with more than ImportError
            status[name] = f"{type(e).__name__}: {e}"
    return status


def configure_torch() -> None:
    # PyTorch may pick fewer threads than the cores we are allowed to use; give it
    # all of them so the comparison is against PyTorch at its best.
    try:
        import torch
    except ImportError:
        return
    torch.set_num_threads(cpu_count())


def seed_all(seed: int = 0) -> None:
    import numpy as np

    np.random.seed(seed)
    for name in (SUBJECT, BASELINE):
        try:
            mod = importlib.import_module(name)
        except Exception:
            continue
        if hasattr(mod, "manual_seed"):
            mod.manual_seed(seed)


def cpu_count() -> int:
    # Affinity, not os.cpu_count(): containers often see more cores than they may use.
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


# --------------------------------------------------------------------------- timing


def _time_batch(step: Step, n: int) -> float:
    # The garbage collector stays on: the frameworks' real cost includes the
    # garbage they make (taimatsu's graph is Python objects, torch's is C++).
    t0 = time.perf_counter()
    for _ in range(n):
        step()
    return time.perf_counter() - t0


def _calibrate(step: Step, batch_s: float) -> int:
    """Iterations per batch so that one batch takes about `batch_s` seconds."""
    n = 1
    while True:
        t = _time_batch(step, n)
        if t >= batch_s / 4 or n >= 1 << 24:
            return max(1, math.ceil(n * batch_s / max(t, 1e-9)))
        n *= 4


def run_case(case: Case, skip: set[str], rounds: int = 7, batch_s: float = 0.15) -> Result:
    """Times every contender of `case` not in `skip`, alternating between them."""
    result = Result(case)
    steps: dict[str, Step] = {}
    for who, make in case.contenders().items():
        if who in skip:
            continue
        try:
            step = make()
            step()  # warm-up: first calls pay for imports, caches and allocator growth
            step()
            result.inner[who] = _calibrate(step, batch_s)
            steps[who] = step
        except Exception as e:
            result.errors[who] = _describe(e)

    order = list(steps)
    for r in range(rounds):
        # Reverse the order every other round so neither side always runs right
        # after the other (cache state, CPU clock boost, allocator state).
        for who in order if r % 2 == 0 else reversed(order):
            if who in result.errors:
                continue
            try:
                n = result.inner[who]
                result.samples.setdefault(who, []).append(_time_batch(steps[who], n) / n)
            except Exception as e:
                result.errors[who] = _describe(e)
                result.samples.pop(who, None)
    return result


def _describe(e: Exception) -> str:
    where = traceback.extract_tb(e.__traceback__)[-1] if e.__traceback__ else None
    loc = f" ({os.path.basename(where.filename)}:{where.lineno})" if where else ""
    msg = str(e).splitlines()[0] if str(e) else ""
    return f"{type(e).__name__}: {msg}{loc}"


# --------------------------------------------------------------------------- reporting


def fmt_time(s: float | None) -> str:
    if s is None:
        return "—"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if s >= scale:
            return f"{s / scale:.3g} {unit}"
    return f"{s / 1e-9:.3g} ns"


def fmt_ratio(r: float | None) -> str:
    return "—" if r is None else f"{r:.2f}x"


def notes(res: Result) -> str:
    """Derived numbers, the target and any failure, for the table's last column."""
    case, parts = res.case, []
    timed = [w for w in case.contenders() if res.median(w) is not None]
    if case.ops:
        per_op = ", ".join(f"{w} {fmt_time(res.median(w) / case.ops)}" for w in timed)
        parts.append(f"per op: {per_op}")
    if case.flops:
        gflops = ", ".join(f"{w} {case.flops / res.median(w) / 1e9:.1f}" for w in timed)
        parts.append(f"GFLOP/s: {gflops}")
    for ref in case.references:
        if res.median(ref) is not None:
            r = res.ratio(SUBJECT, ref)
            vs = f" ({SUBJECT}/{ref} {fmt_ratio(r)})" if r is not None else ""
            parts.append(f"{ref} {fmt_time(res.median(ref))}{vs}")
    if case.target:
        t = case.target
        r = res.ratio(SUBJECT, t.against)
        verdict = "" if r is None else (" — met" if r <= t.max_ratio else " — MISSED")
        goal = f"target <= {t.max_ratio:g}x {t.against}"
        parts.append(f"{goal}{f' ({t.text})' if t.text else ''}{verdict}")
    for who, err in res.errors.items():
        parts.append(f"{who} failed: {err}")
    return "; ".join(parts)


def table(results: list[Result]) -> list[list[str]]:
    rows = [["case", f"{SUBJECT} median", f"{BASELINE} median", "ratio", "notes"]]
    for res in results:
        rows.append(
            [
                res.case.name,
                fmt_time(res.median(SUBJECT)),
                fmt_time(res.median(BASELINE)),
                fmt_ratio(res.ratio()),
                notes(res),
            ]
        )
    return rows


def markdown_table(rows: list[list[str]]) -> str:
    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    return "\n".join([line(rows[0]), line(["---"] * len(rows[0])), *map(line, rows[1:])])


def text_table(rows: list[list[str]]) -> str:
    # The notes column is left unpadded: it is long and last.
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(r[:-1], widths)) + "  " + r[-1] for r in rows
    )


def machine_info() -> dict[str, str]:
    import numpy as np

    info = {
        "CPU": _cpu_model(),
        "cores": f"{cpu_count()} usable ({os.cpu_count()} online)",
        "OS": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
        "NumPy": f"{np.__version__}, BLAS: {_numpy_blas()}",
    }
    try:
        import torch

        info["PyTorch"] = f"{torch.__version__}, {torch.get_num_threads()} threads"
    except ImportError:
        info["PyTorch"] = "not installed"
    try:
        import taimatsu

        info["taimatsu"] = getattr(taimatsu, "__version__", "unknown version")
    except Exception as e:
        info["taimatsu"] = f"not importable ({type(e).__name__})"
    return info


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _numpy_blas() -> str:
    import numpy as np

    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return f"{blas.get('name', '?')} {blas.get('version', '')}".strip()
    except Exception:  # the layout of show_config's dict is not a stable API
        return "unknown"
