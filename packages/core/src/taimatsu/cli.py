"""The `taimatsu` command: info, plugins, models, datasets, and what plugins add."""

from __future__ import annotations

import argparse
import platform
import sys
import warnings


def _blas() -> str:
    import numpy as np
    try:
        config = np.show_config(mode="dicts")
        blas = config.get("Build Dependencies", {}).get("blas", {})
        return f"{blas.get('name', '?')} {blas.get('version', '')}".strip()
    except Exception:  # older NumPy without mode="dicts"
        return "unknown"


def _cuda_lines() -> list[str]:
    from . import cuda
    try:
        import cupy
        version = cupy.__version__
    except ImportError:
        return ["CuPy: not installed (pip install \"taimatsu[cuda]\")"]
    if not cuda.is_available():
        return [f"CuPy: {version}, no usable CUDA device"]
    lines = [f"CuPy: {version}"]
    for i in range(cuda.device_count()):
        lines.append(f"  cuda:{i}  {cuda.get_device_name(i)}")
    return lines


def cmd_info(args) -> int:
    import numpy as np

    import taimatsu

    from . import plugins
    print(f"taimatsu: {taimatsu.__version__}")
    print(f"Python: {platform.python_version()} ({sys.executable})")
    print(f"platform: {platform.platform()}")
    print(f"NumPy: {np.__version__}, BLAS: {_blas()}")
    for line in _cuda_lines():
        print(line)
    loaded = plugins.loaded_plugins()
    print(f"plugins: {len(loaded)}")
    for name, package in sorted(loaded.items()):
        print(f"  {name}  ({package})")
    return 0


def cmd_plugins(args) -> int:
    from . import plugins
    loaded = plugins.loaded_plugins()
    if not loaded:
        print("no plugins installed (entry-point group 'taimatsu')")
    for name, package in sorted(loaded.items()):
        print(f"{name}\t{package}")
    return 0


def cmd_models(args) -> int:
    from . import plugins
    reg = plugins.model_registry()
    for name in reg.names(domain=args.domain, task=args.task):
        e = reg.get(name)
        weights = ",".join(w.name for w in e.weights) or "-"
        print(f"{name}\t{e.domain or '-'}\t{e.task or '-'}\t{weights}\t{e.plugin or '-'}")
    return 0


def cmd_datasets(args) -> int:
    from . import plugins
    reg = plugins.dataset_registry()
    for name in reg.names(domain=args.domain):
        e = reg.get(name)
        print(f"{name}\t{e.domain or '-'}\t{e.plugin or '-'}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="taimatsu", description="taimatsu tools")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("info", help="versions, BLAS, GPUs and plugins").set_defaults(
        func=cmd_info)
    sub.add_parser("plugins", help="installed plugins and their packages").set_defaults(
        func=cmd_plugins)
    models = sub.add_parser("models", help="registered models")
    models.add_argument("--domain")
    models.add_argument("--task")
    models.set_defaults(func=cmd_models)
    datasets = sub.add_parser("datasets", help="registered datasets")
    datasets.add_argument("--domain")
    datasets.set_defaults(func=cmd_datasets)
    _add_plugin_commands(sub)
    return parser


def _add_plugin_commands(sub) -> None:
    """Lets installed plugins add their own subcommands (e.g. `taimatsu hub ...`)."""
    from . import plugins
    pm = plugins.get_plugin_manager()
    for impl in pm.hook.taimatsu_cli_commands.get_hookimpls():
        before = set(sub.choices)
        try:
            impl.function(**{k: sub for k in impl.argnames if k == "subparsers"})
        except Exception as exc:  # a broken plugin must not take the CLI down
            for name in set(sub.choices) - before:  # no half-built command stays usable
                del sub.choices[name]
            warnings.warn(f"taimatsu plugin {impl.plugin_name!r} raised in "
                          f"taimatsu_cli_commands and is skipped: {type(exc).__name__}: {exc}",
                          RuntimeWarning, stacklevel=3)


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
