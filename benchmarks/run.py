"""Run the benchmarks: taimatsu against PyTorch CPU, side by side.

python benchmarks/run.py                  # all cases; rewrites benchmarks/RESULTS.md
python benchmarks/run.py --only NAME      # one case (repeatable); prints only
python benchmarks/run.py --quick          # fewer, shorter rounds; prints only
"""

from __future__ import annotations

import argparse
import datetime
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # so `python benchmarks/run.py` finds harness and cases

import harness  # noqa: E402
from cases import CASES  # noqa: E402

RESULTS = HERE / "RESULTS.md"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    names = [c.name for c in CASES]
    p.add_argument(
        "--only",
        action="append",
        choices=names,
        metavar="NAME",
        help=f"run only this case (repeatable): {', '.join(names)}",
    )
    p.add_argument(
        "--quick", action="store_true", help="3 rounds of ~0.03 s batches instead of 7 of ~0.15 s"
    )
    p.add_argument(
        "--output",
        type=Path,
        default=None,
        help="write the markdown report here (default: RESULTS.md for a full run; "
        "partial and quick runs only print unless this is given)",
    )
    args = p.parse_args(argv)

    cases = [c for c in CASES if not args.only or c.name in args.only]
    rounds, batch_s = (3, 0.03) if args.quick else (7, 0.15)
    output = args.output or (None if args.only or args.quick else RESULTS)

    status = harness.available_frameworks()
    skip = {name for name, why in status.items() if why}
    for name in sorted(skip):
        print(
            f"note: {name} is not importable ({status[name]}); running without it", file=sys.stderr
        )
    if skip >= {harness.SUBJECT, harness.BASELINE}:
        print("error: neither taimatsu nor torch can be imported", file=sys.stderr)
        return 1
    harness.configure_torch()

    results = []
    for case in cases:
        print(f"running {case.name} ...", file=sys.stderr, flush=True)
        harness.seed_all(0)
        results.append(harness.run_case(case, skip, rounds=rounds, batch_s=batch_s))

    rows = harness.table(results)
    print(harness.text_table(rows))
    if output is not None:
        output.write_text(report(results, rows, status, rounds, batch_s))
        print(f"wrote {output}", file=sys.stderr)
    return 0


def report(results, rows, status, rounds: int, batch_s: float) -> str:
    info = harness.machine_info()
    lines = [
        "# Benchmark results",
        "",
        f"Written by `make bench` (`benchmarks/run.py`) on "
        f"{datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}.",
        "",
        *(f"- {k}: {v}" for k, v in info.items()),
        "",
        f"Method: both frameworks run in one process, alternating over {rounds} rounds "
        f"(order reversed every other round); each round times a batch of iterations "
        f"sized to take about {batch_s:g} s. Times are the median per-iteration time; "
        f"ratio = taimatsu / torch (lower is better for taimatsu).",
        "",
    ]
    missing = [f"{name} was not importable ({why})" for name, why in status.items() if why]
    if missing:
        lines += ["**Incomplete run:** " + "; ".join(missing) + ".", ""]
    lines += [harness.markdown_table(rows), "", "Cases:", ""]
    lines += [f"- `{r.case.name}`: {r.case.description}" for r in results]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
