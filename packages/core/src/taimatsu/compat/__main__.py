"""python -m taimatsu.compat [-m module | script] [args...]"""

from __future__ import annotations

import os
import sys

from ._hook import install
from ._run import run_module, run_script

_USAGE = """usage: python -m taimatsu.compat script.py [args...]
       python -m taimatsu.compat -m package.module [args...]

Runs a PyTorch script unmodified on taimatsu: `torch`, `torch.*`, `torchvision`,
`torchaudio` and `torchtext` imports resolve to taimatsu's packages for this run."""


_HERE = os.path.dirname(os.path.abspath(__file__))


def _user_traceback(tb):
    """`tb` without its leading frames from runpy and this package, so an error reads as
    it would under `python script.py`."""
    while tb is not None and tb.tb_next is not None:
        path = tb.tb_frame.f_code.co_filename
        if not (path.startswith(_HERE) or "runpy" in path):
            break
        tb = tb.tb_next
    return tb


def _run(argv: list[str]) -> None:
    try:
        if argv[0] == "-m":
            run_module(argv[1], argv[2:])
        else:
            run_script(argv[0], argv[1:])
    except (SystemExit, KeyboardInterrupt):
        raise
    except BaseException as exc:
        # What the interpreter does with an uncaught error: report it through
        # sys.excepthook (which the script may have replaced) and exit with status 1.
        tb = _user_traceback(exc.__traceback__)
        sys.excepthook(type(exc), exc.with_traceback(tb), tb)
        sys.exit(1)


def _check_module(name: str) -> None:
    """Exits as `python -m name` does when `name` cannot be found."""
    import importlib.util
    try:
        found = importlib.util.find_spec(name) is not None
        problem = f"No module named {name}"
    except (ImportError, ValueError) as exc:
        found = False
        problem = (f"Error while finding module specification for {name!r} "
                   f"({type(exc).__name__}: {exc})")
    if not found:
        print(f"{sys.executable}: {problem}", file=sys.stderr)
        sys.exit(1)


def main(argv: list[str]) -> None:
    if not argv or argv[0] in ("-h", "--help"):
        print(_USAGE, file=sys.stdout if argv else sys.stderr)
        sys.exit(0 if argv else 2)
    install()
    if argv[0] == "-m":
        if len(argv) < 2:
            print("Argument expected for the -m option\n\n" + _USAGE, file=sys.stderr)
            sys.exit(2)
        _check_module(argv[1])
    elif not os.path.exists(argv[0]):
        # the interpreter's own wording and exit status for a missing script
        print(f"{sys.executable}: can't open file {os.path.abspath(argv[0])!r}: "
              "[Errno 2] No such file or directory", file=sys.stderr)
        sys.exit(2)
    _run(argv)


if __name__ == "__main__":
    main(sys.argv[1:])
