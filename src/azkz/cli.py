"""Command-line interface: thin wrappers over the stage modules."""

from __future__ import annotations

import click

from azkz import __version__


def _data_version() -> str:
    from azkz.schema import DescriptorError, read_package

    try:
        return read_package(".").version
    except DescriptorError:
        return "unknown (no datapackage.json here)"


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(f"azkz {__version__} (data package version {_data_version()})")
        ctx.exit()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--version", is_flag=True, expose_value=False, is_eager=True,
              callback=_print_version, help="Show the tool's and the data package's version.")
def main() -> None:
    """Azerbaijan–Kazakhstan relations open data: validate, build, query, diff."""


# Commands are grouped by stage; each block only parses options and calls its module.
# --- validate (azkz.validate) ---

# --- build, query, tables, describe (azkz.build, azkz.query) ---

# --- diff (azkz.diff) ---

# --- docs, citation (azkz.docs, azkz.citation) ---

# --- site (azkz.site) ---
