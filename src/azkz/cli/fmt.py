"""`azkz fmt`: data/*.csv in canonical form (`azkz.tables.canonical_csv`)."""

from __future__ import annotations

import click

from azkz.cli.options import PACKAGE_OPTION
from azkz.schema.package import DescriptorError, read_package
from azkz.tables.canonical_csv import format_package


@click.command()
@PACKAGE_OPTION
@click.option(
    "--check", is_flag=True, help="Write nothing; exit 1 naming each file that would change."
)
def fmt(package_dir: str, check: bool) -> None:
    """Write data/*.csv in canonical form: sorted by primary key, minimal quoting, LF, UTF-8."""

    try:
        package = read_package(package_dir)
    except DescriptorError as exc:
        raise click.ClickException(f"{exc}; run `azkz validate` for details") from None
    outcomes, problems = format_package(package, check)
    for problem in problems:
        click.echo(f"azkz fmt: not formatted: {problem}", err=True)
    changed = [o.path for o in outcomes if o.changed]
    for path in changed:
        click.echo(f"{'would reformat' if check else 'reformatted'} {path}")
    left = len(outcomes) - len(changed)
    click.echo(
        f"{len(changed)} file(s) {'would be ' if check else ''}reformatted, {left} unchanged",
        err=True,
    )
    if problems or (check and changed):
        raise SystemExit(1)
