"""taimatsu.hub: torch.hub's API, forwarding to the taimatsu-hub package.

    model = taimatsu.hub.load("pytorch/vision", "resnet18", weights="DEFAULT")
    model = taimatsu.hub.load("./my_repo", "mynet", source="local")   # its hubconf.py
    state = taimatsu.hub.load_state_dict_from_url(url)

torch.hub runs a GitHub repository's hubconf.py; taimatsu never executes code it
downloads. A repository whose models taimatsu's plugins provide natively
("pytorch/vision", "pytorch/audio") loads through the plugin registry (pretrained
weights from the Hugging Face Hub); a local folder's hubconf.py is the user's own code
and runs as with torch.hub. Without taimatsu-hub installed, every call raises an
ImportError naming `pip install "taimatsu[hub]"`.
"""

from __future__ import annotations

import builtins
import importlib.util
import os
import sys

__all__ = ["download_url_to_file", "get_dir", "help", "list", "load",
           "load_state_dict_from_url", "set_dir"]

# GitHub repositories torch.hub users load from, and the plugin domain providing them.
_KNOWN_REPOS = {"pytorch/vision": "vision", "pytorch/audio": "audio"}


def _hub():
    try:
        import taimatsu_hub
    except ImportError as exc:
        raise ImportError("taimatsu.hub needs the taimatsu-hub package: "
                          'pip install "taimatsu[hub]"') from exc
    return taimatsu_hub


def _domain(github: str) -> str:
    """The plugin domain serving GitHub repository "owner/repo[:ref]"; error otherwise."""
    repo = github.split(":", 1)[0]
    if repo.count("/") != 1 or not all(repo.split("/")):
        raise ValueError(f'Invalid input: repo_info should be in the format "repo_owner/'
                         f'repo_name[:ref]" but got "{github}"')
    if repo not in _KNOWN_REPOS:
        known = ", ".join(sorted(_KNOWN_REPOS))
        raise RuntimeError(f"taimatsu.hub runs no code downloaded from GitHub, and {repo!r} is "
                           f"not a repository whose models taimatsu provides ({known}). "
                           "Load a Hugging Face Hub repository with taimatsu_hub.load("
                           "'owner/name'), or a local hubconf.py with source='local'.")
    return _KNOWN_REPOS[repo]


def _check_source(source: str) -> None:
    if source not in ("github", "local"):
        raise ValueError(f'Unknown source: "{source}". Allowed values: "github" | "local".')


def load(repo_or_dir: str, model: str, *args, source: str = "github",
         trust_repo=None, force_reload: bool = False, verbose: bool = True,
         skip_validation: bool = False, **kwargs):
    """Builds `model` from a GitHub repository taimatsu provides, or a local hubconf.py.

    For "pytorch/vision" and "pytorch/audio" the model is the registered one of that
    name; `weights="DEFAULT"` (or a weights name) or the older `pretrained=True` loads
    pretrained weights, and without either the model is randomly initialised, as
    torchvision's entry points do.

    Args:
        repo_or_dir: "owner/repo[:ref]" (source="github") or a folder with a hubconf.py
            (source="local")
        model: the entry point's name
        source: "github" or "local"
        trust_repo, force_reload, verbose, skip_validation: accepted for torch.hub's
            signature; no repository is downloaded or executed for "github"
    """
    _check_source(source)
    if source == "local":
        return _local_entry(repo_or_dir, model)(*args, **kwargs)
    domain = _domain(repo_or_dir)
    hub = _hub()
    if model not in hub.list(domain):
        raise RuntimeError(f"Cannot find callable {model} in hubconf")
    pretrained = kwargs.pop("pretrained", None)
    weights = kwargs.pop("weights", "DEFAULT" if pretrained else None)
    progress = kwargs.pop("progress", verbose)
    return hub.load(model, *args, weights=weights, progress=progress, **kwargs)


def list(github: str, force_reload: bool = False, skip_validation: bool = False,
         trust_repo=None, verbose: bool = True) -> builtins.list[str]:
    """The entry points (model names) of a GitHub repository taimatsu provides."""
    return _hub().list(_domain(github))


def help(github: str, model: str, force_reload: bool = False, skip_validation: bool = False,
         trust_repo=None) -> str:
    """The documentation of entry point `model` of a repository taimatsu provides."""
    domain = _domain(github)
    hub = _hub()
    if model not in hub.list(domain):
        raise RuntimeError(f"Cannot find callable {model} in hubconf")
    return hub.help(model)


def load_state_dict_from_url(url: str, model_dir=None, map_location=None,
                             progress: bool = True, check_hash: bool = False,
                             file_name: str | None = None, weights_only=None) -> dict:
    """Loads a checkpoint from `url`, downloading it into `model_dir` the first time.

    `weights_only` defaults to taimatsu's safe loading (True): checkpoints are state
    dicts, and nothing inside a downloaded file is executed unless asked for.
    """
    options = {} if weights_only is None else {"weights_only": weights_only}
    return _hub().load_state_dict_from_url(url, model_dir=model_dir,
                                           map_location=map_location, progress=progress,
                                           check_hash=check_hash, file_name=file_name,
                                           **options)


def download_url_to_file(url: str, dst, hash_prefix: str | None = None,
                         progress: bool = True) -> None:
    """Downloads `url` to `dst` (atomically), checking a sha256 prefix when given."""
    _hub().download_url_to_file(url, dst, hash_prefix=hash_prefix, progress=progress)


def get_dir() -> str:
    """The folder the hub caches downloads in."""
    return _hub().get_dir()


def set_dir(d) -> None:
    """Makes `d` the hub's cache folder."""
    _hub().set_dir(d)


# -- local repositories: the user's own hubconf.py ------------------------------------------------

def _local_entry(repo_dir: str, model: str):
    """Entry point `model` of repo_dir/hubconf.py, after checking its `dependencies`."""
    repo_dir = os.path.expanduser(os.fspath(repo_dir))
    hubconf = os.path.join(repo_dir, "hubconf.py")
    if not os.path.isfile(hubconf):
        raise FileNotFoundError(f"[Errno 2] No such file or directory: {hubconf!r}")
    sys.path.insert(0, repo_dir)  # hubconf imports its sibling modules, as with torch.hub
    try:
        spec = importlib.util.spec_from_file_location("hubconf", hubconf)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(repo_dir)
    missing = [d for d in getattr(module, "dependencies", [])
               if importlib.util.find_spec(d) is None]
    if missing:
        raise RuntimeError(f"Missing dependencies: {', '.join(missing)}")
    if not isinstance(model, str):
        raise ValueError("Invalid input: model should be a string of function name")
    entry = getattr(module, model, None)
    if entry is None or not callable(entry):
        raise RuntimeError(f"Cannot find callable {model} in hubconf")
    return entry
