"""Command-line interface: one module per command, each a thin wrapper over its stage
(as frictionless-py's `console/commands/`).

`main` loads a command's module only when that command runs (click's lazy-loading
pattern, `LazyGroup`), so `azkz query` imports the reading side only, never the release
builder, the site or the docs generators (tests/test_layers.py checks it through
`sys.modules`); `azkz --help` loads them all to list their help.

May import: every stage of azkz; nothing imports this package.
"""

from __future__ import annotations

import importlib

import click

from azkz import __version__
from azkz.schema.package import DescriptorError, read_package

# {command name: module of azkz.cli defining a click command of that name}
COMMANDS = {
    name: f"azkz.cli.{name}"
    for name in (
        "build",
        "citation",
        "describe",
        "diff",
        "docs",
        "fetch",
        "fmt",
        "query",
        "site",
        "tables",
        "validate",
    )
}


class LazyGroup(click.Group):
    """A group whose commands are imported from `COMMANDS` on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        return getattr(importlib.import_module(COMMANDS[cmd_name]), cmd_name)


def _data_version() -> str:
    try:
        return read_package(".").version
    except DescriptorError:
        return "unknown (no datapackage.json here)"


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(f"azkz {__version__} (data package version {_data_version()})")
        ctx.exit()


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print_version,
    help="Show the tool's and the data package's version.",
)
def main() -> None:
    """Azerbaijan–Kazakhstan relations open data: validate, build, query, diff."""
