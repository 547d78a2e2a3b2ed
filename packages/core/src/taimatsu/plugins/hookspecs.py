"""The hooks a taimatsu plugin may implement (pluggy project "taimatsu").

A plugin is a module (or object) with functions decorated by `taimatsu.plugins.hookimpl`
and named after these specs, exposed through an entry point in the group `taimatsu`:

    [project.entry-points.taimatsu]
    my_plugin = "my_package.plugin"

Hooks are called with keyword arguments; an implementation may take any subset of them.
"""

from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("taimatsu")
hookimpl = pluggy.HookimplMarker("taimatsu")


@hookspec
def taimatsu_register_models(registry) -> None:
    """Add model builders and their pretrained weights.

    Call `registry.add(name, builder, *, domain, task=None, weights=(), description=None)`
    once per model. `builder(**kwargs)` returns an `nn.Module`; `weights` is a sequence of
    `taimatsu.plugins.Weights` records, the first being the default.
    """


@hookspec
def taimatsu_register_datasets(registry) -> None:
    """Add dataset classes: `registry.add(name, dataset_cls, *, domain, description=None)`.

    `taimatsu.plugins.get_dataset(name, **kwargs)` then returns `dataset_cls(**kwargs)`.
    """


@hookspec
def taimatsu_register_transforms(registry) -> None:
    """Add transforms: `registry.add(name, transform_cls, *, domain, description=None)`."""


@hookspec(firstresult=True)
def taimatsu_hub_load(source: str, config: dict):
    """Build an `nn.Module` for a downloaded hub repository, or return None.

    `source` is the local folder holding the repository's files and `config` its parsed
    config.json. The first plugin that recognises the config (a BERT config, a timm
    config, ...) returns the model with its weights loaded; the others return None.
    """


@hookspec
def taimatsu_cli_commands(subparsers) -> None:
    """Add subcommands to the `taimatsu` CLI.

    `subparsers` is the `argparse` subparsers action of the `taimatsu` command: call
    `subparsers.add_parser(name, help=...)` and `set_defaults(func=handler)`, where
    `handler(args)` returns the exit status.
    """
