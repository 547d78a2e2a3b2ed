"""The import hook: `torch`, `torchvision`, ... resolve to taimatsu's packages.

A `sys.meta_path` finder placed first answers every import of a mapped name by
importing its taimatsu counterpart and handing back *the same module object*, so
`torch.nn is taimatsu.nn` and `sys.modules["torch.nn"]` is that module too. A name
without a counterpart raises ModuleNotFoundError naming it, instead of falling
through to a real PyTorch that may be installed next to taimatsu.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import types

# torch-side top-level package -> (our package, its pip extra or None when in the core).
MAPPING: dict[str, tuple[str, str | None]] = {
    "torch": ("taimatsu", None),
    "torchvision": ("taimatsu_vision", "vision"),
    "torchaudio": ("taimatsu_audio", "audio"),
    "torchtext": ("taimatsu_text", "text"),
}

# Key under which spawned children (multiprocessing "spawn"/"forkserver") receive the
# instruction to re-install the hook before they re-import the script's main module.
_PREPARATION_KEY = "taimatsu_compat"


def counterpart(name: str) -> str | None:
    """The taimatsu module name that `name` maps to, or None when the hook leaves it alone."""
    top, dot, rest = name.partition(".")
    if top not in MAPPING:
        return None
    return MAPPING[top][0] + dot + rest


def _missing_error(name: str, target: str) -> ModuleNotFoundError:
    top = name.partition(".")[0]
    package, extra = MAPPING[top]
    if extra is not None and importlib.util.find_spec(package) is None:
        msg = (f"taimatsu has no counterpart of {name!r}: it maps to {package!r}, which is not "
               f'installed (pip install "taimatsu[{extra}]")')
    else:
        msg = f"taimatsu has no counterpart of {name!r} yet (looked for {target!r})"
    return ModuleNotFoundError(msg, name=name)


class _AliasLoader(importlib.abc.Loader):
    """Loads an alias by returning the already imported taimatsu module unchanged."""

    def __init__(self, module: types.ModuleType, alias_name: str, hook: _TorchAliasFinder):
        self._module = module
        self._real_spec = getattr(module, "__spec__", None)
        self._alias_name = alias_name
        self._hook = hook

    def create_module(self, spec):
        return self._module

    def exec_module(self, module):
        # The import system stamps the alias spec onto the module (it only spares
        # __name__, __loader__, __package__, __path__ and __file__); put the real one
        # back so relative imports, reload() and pickling keep seeing taimatsu.
        module.__spec__ = self._real_spec
        self._hook.aliased.add(self._alias_name)


class _TorchAliasFinder(importlib.abc.MetaPathFinder):
    """Meta-path finder mapping torch-family module names onto taimatsu's modules."""

    def __init__(self):
        self.aliased: set[str] = set()      # alias names this hook put into sys.modules
        self.hidden: dict[str, types.ModuleType] = {}  # real torch modules set aside

    def find_spec(self, fullname, path=None, target=None):
        real_name = counterpart(fullname)
        if real_name is None:
            return None
        try:
            module = importlib.import_module(real_name)
        except ModuleNotFoundError as exc:
            # Only a missing counterpart is ours to explain; a missing dependency
            # inside taimatsu keeps its own message.
            if exc.name is not None and (real_name == exc.name
                                         or real_name.startswith(exc.name + ".")):
                raise _missing_error(fullname, real_name) from None
            raise
        loader = _AliasLoader(module, fullname, self)
        is_package = hasattr(module, "__path__")
        spec = importlib.machinery.ModuleSpec(fullname, loader, is_package=is_package)
        if is_package:
            spec.submodule_search_locations = list(module.__path__)
        return spec


_finder: _TorchAliasFinder | None = None
_original_preparation_data = None


def is_installed() -> bool:
    """Whether the torch -> taimatsu import hook is active in this process."""
    return _finder is not None and _finder in sys.meta_path


def _is_mapped(name: str) -> bool:
    return name.partition(".")[0] in MAPPING


def install() -> None:
    """Makes `import torch`, `torch.*`, `torchvision`, `torchaudio`, `torchtext` import
    taimatsu's packages in this process (until `uninstall()`).

    Modules of a real PyTorch imported earlier are set aside (and restored by
    `uninstall()`), so the names resolve to taimatsu from now on. Calling it twice
    is harmless.
    """
    global _finder
    if is_installed():
        return
    _finder = _TorchAliasFinder()
    for name in [n for n in sys.modules if _is_mapped(n)]:
        _finder.hidden[name] = sys.modules.pop(name)
    sys.meta_path.insert(0, _finder)
    _patch_spawn()


def uninstall() -> None:
    """Removes the hook, drops the aliases it registered and restores set-aside modules."""
    global _finder
    finder, _finder = _finder, None
    if finder is None:
        return
    if finder in sys.meta_path:
        sys.meta_path.remove(finder)
    for name in finder.aliased:
        module = sys.modules.get(name)
        if module is not None and getattr(module, "__name__", None) == counterpart(name):
            del sys.modules[name]
    sys.modules.update(finder.hidden)
    _unpatch_spawn()


class _Reinstall:
    """Unpickling this in a spawned child installs the hook there."""

    def __reduce__(self):
        return install, ()


def _patch_spawn() -> None:
    # A spawned child re-imports the script (`import torch` at its top) before it runs
    # anything of ours; its preparation data is unpickled first, so an entry there whose
    # unpickling installs the hook makes the child see the same mapping as the parent.
    global _original_preparation_data
    from multiprocessing import spawn

    if _original_preparation_data is not None:
        return
    original = spawn.get_preparation_data

    def get_preparation_data(name):
        data = original(name)
        data[_PREPARATION_KEY] = _Reinstall()
        return data

    _original_preparation_data = original
    spawn.get_preparation_data = get_preparation_data


def _unpatch_spawn() -> None:
    global _original_preparation_data
    if _original_preparation_data is None:
        return
    from multiprocessing import spawn

    spawn.get_preparation_data = _original_preparation_data
    _original_preparation_data = None
