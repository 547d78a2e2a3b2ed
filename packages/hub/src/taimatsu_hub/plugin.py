"""The hub's taimatsu plugin: adds `taimatsu hub list|help|download|load` to the CLI."""

from __future__ import annotations

from taimatsu.plugins import hookimpl


@hookimpl
def taimatsu_cli_commands(subparsers) -> None:
    from ._cli import add_commands
    add_commands(subparsers)
