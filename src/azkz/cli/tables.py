"""`azkz tables`: the tables with their row counts and descriptions."""

from __future__ import annotations

import click

from azkz.access.query import table_list
from azkz.cli.sources import QUERY_FORMAT, emit, open_source, source_options


@click.command()
@source_options
@QUERY_FORMAT
def tables(release: str | None, db: str | None, dist: str, package_dir: str, fmt: str) -> None:
    """List the tables with their row counts and descriptions."""

    source = open_source(release, db, dist, package_dir)
    emit(lambda: table_list(source), fmt)
