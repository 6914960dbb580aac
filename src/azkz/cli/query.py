"""`azkz query`: read-only SQL on the typed tables (`azkz.access.query`)."""

from __future__ import annotations

import click

from azkz.access.query import run
from azkz.cli.sources import QUERY_FORMAT, emit, open_source, source_options


@click.command()
@click.argument("sql")
@source_options
@QUERY_FORMAT
@click.option(
    "--max-rows",
    type=click.IntRange(min=0),
    help="Write at most N rows. Default: 10,000 for table and markdown, "
    "all rows (streamed) for csv and json.",
)
def query(
    sql: str,
    release: str | None,
    db: str | None,
    dist: str,
    package_dir: str,
    fmt: str | None,
    max_rows: int | None,
) -> None:
    """Run read-only SQL on the typed tables (working tree, or a release).

    Only SELECT (and EXPLAIN of a SELECT) runs, and no statement can read or write
    files. A terminal gets a table, a pipe or file CSV with a header (--format to
    choose); the row count and notes go to stderr. NULL: an empty CSV field, ∅ in the
    table and markdown; whole numbers print as integers. JSON: dates ISO 8601, intervals ISO 8601 durations, NaN/Infinity null,
    BLOBs hex. Exit codes: 0 ok, 1 invalid package, 2 refused or failed query,
    unreadable source.
    """

    with open_source(release, db, dist, package_dir, sql) as source:
        emit(lambda: run(source.con, sql), fmt, max_rows)
