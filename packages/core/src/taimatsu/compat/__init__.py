"""Run unmodified PyTorch scripts on taimatsu.

    python -m taimatsu.compat script.py [args...]
    python -m taimatsu.compat -m package.module [args...]

installs an import hook for that run that maps `torch` -> `taimatsu`,
`torch.<sub>` -> `taimatsu.<sub>`, `torchvision` -> `taimatsu_vision`,
`torchaudio` -> `taimatsu_audio` and `torchtext` -> `taimatsu_text` (the very same
module objects, registered in sys.modules under the torch names too), then runs the
script as `python script.py` would. Importing a module that taimatsu has no
counterpart for raises ModuleNotFoundError naming it.

In-process: `taimatsu.compat.install()` / `uninstall()`.
"""

from ._hook import MAPPING, counterpart, install, is_installed, uninstall
from ._run import run_module, run_script

__all__ = ["MAPPING", "counterpart", "install", "is_installed", "uninstall", "run_module",
           "run_script"]
