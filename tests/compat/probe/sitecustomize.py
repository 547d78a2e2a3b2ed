"""Records, at exit, which `torch` a process ran with (put on PYTHONPATH by the tests).

With TAIMATSU_COMPAT_PROBE=<folder> set, every Python process started with this folder on
its path (the script's and its spawned children) writes <folder>/<pid>.json holding the
name of the module that `torch` resolved to and any module that was loaded from a real
PyTorch installation, so a run that silently used PyTorch itself cannot pass.
"""

import atexit
import importlib.util
import json
import os
import sys

_folder = os.environ.get("TAIMATSU_COMPAT_PROBE")


def _real_torch_dir():
    # found before any import hook exists; None when PyTorch is not installed
    spec = importlib.util.find_spec("torch")
    if spec is None or not spec.submodule_search_locations:
        return None
    return os.path.realpath(list(spec.submodule_search_locations)[0]) + os.sep


def _record(real_dir):
    torch = sys.modules.get("torch")
    files = [getattr(m, "__file__", None) or "" for m in list(sys.modules.values())]
    real = sorted({f for f in files if real_dir and os.path.realpath(f).startswith(real_dir)})
    record = {"torch": getattr(torch, "__name__", None), "real_torch_files": real[:20],
              "argv": sys.argv}
    with open(os.path.join(_folder, f"{os.getpid()}.json"), "w") as f:
        json.dump(record, f)


if _folder:
    atexit.register(_record, _real_torch_dir())
