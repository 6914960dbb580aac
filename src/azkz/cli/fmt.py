"""`azkz fmt`: data/*.csv in canonical form (`azkz.tables.canonical_csv`)."""

from __future__ import annotations

import click

from azkz.cli.options import PACKAGE_OPTION
from azkz.schema.package import DescriptorError, read_package
from azkz.tables.canonical_csv import format_package
from azkz.validate.report import plural


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
    click.echo(summary(len(changed), len(outcomes) - len(changed), len(problems), check), err=True)
    if problems or (check and changed):
        raise SystemExit(1)


def summary(changed: int, unchanged: int, not_formatted: int, check: bool) -> str:
    """`6 files: 1 would be reformatted, 4 unchanged, 1 not formatted`: every file counted
    once, the ones left untouched (named above) included."""
    total = changed + unchanged + not_formatted
    parts = [f"{changed} {'would be ' if check else ''}reformatted", f"{unchanged} unchanged"]
    if not_formatted:
        parts.append(f"{not_formatted} not formatted")
    return f"{plural(total, 'file')}: {', '.join(parts)}"
