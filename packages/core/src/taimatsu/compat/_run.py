"""Running a script or module as `python script.py` / `python -m module` would."""

from __future__ import annotations

import os
import runpy
import sys


def run_script(path: str, args: list[str]) -> None:
    """Runs the file (or directory/zip with a __main__.py) at `path` as __main__.

    sys.argv becomes [path, *args] and sys.path[0] the script's folder (symlinks
    resolved), as the interpreter sets them; SystemExit and errors propagate.
    """
    folder = path if os.path.isdir(path) else os.path.dirname(os.path.realpath(path))
    sys.argv[:] = [path, *args]
    _set_path0(os.path.abspath(folder))
    runpy.run_path(path, run_name="__main__")


def run_module(name: str, args: list[str]) -> None:
    """Runs module `name` as __main__ with sys.argv = [its file, *args], like `python -m`."""
    sys.argv[:] = [name, *args]  # runpy replaces argv[0] with the module's file
    _set_path0(os.getcwd())
    runpy.run_module(name, run_name="__main__", alter_sys=True)


def _set_path0(folder: str) -> None:
    # `python -m taimatsu.compat` put the working directory first; the script expects
    # its own folder there instead (so its sibling modules import).
    if sys.path:
        sys.path[0] = folder
    else:
        sys.path.insert(0, folder)
