"""`azkz describe`: one table's columns."""

from __future__ import annotations

import click

from azkz.access.query import describe as describe_table
from azkz.cli.sources import QUERY_FORMAT, emit, open_source, source_options


@click.command()
@click.argument("table")
@source_options
@QUERY_FORMAT
def describe(
    table: str, release: str | None, db: str | None, dist: str, package_dir: str, fmt: str | None
) -> None:
    """List TABLE's columns: type, unit, whether required, description."""

    with open_source(release, db, dist, package_dir) as source:
        emit(lambda: describe_table(source, table), fmt)
