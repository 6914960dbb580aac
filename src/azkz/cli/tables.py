"""`azkz tables`: the tables with their row counts and descriptions."""

from __future__ import annotations

import click

from azkz.access.query import table_list
from azkz.cli.sources import QUERY_FORMAT, emit, open_source, source_options


@click.command()
@source_options
@QUERY_FORMAT
def tables(
    release: str | None, db: str | None, dist: str, package_dir: str, fmt: str | None
) -> None:
    """List the tables with their row counts and descriptions."""

    with open_source(release, db, dist, package_dir) as source:
        emit(lambda: table_list(source), fmt)
