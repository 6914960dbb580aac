"""`azkz query`: read-only SQL on the typed tables (`azkz.access.query`)."""

from __future__ import annotations

import sys

import click

from azkz.access.query import run
from azkz.cli.sources import QUERY_FORMAT, emit, open_source, source_options

# The SQL argument that means "read the statements from standard input", as `duckdb`,
# `psql -f -` and `sqlite3` read a script piped to them.
FROM_STDIN = "-"


@click.command()
@click.argument("sql", required=False)
@source_options
@QUERY_FORMAT
@click.option(
    "--max-rows",
    type=click.IntRange(min=0),
    help="Write at most N rows. Default: 10,000 for table and markdown, "
    "all rows (streamed) for csv and json.",
)
def query(
    sql: str | None,
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
    BLOBs hex. SQL `-`, or no SQL with a pipe or file on stdin, reads the statements
    from stdin (`azkz query - < report.sql`). Exit codes: 0 ok, 1 invalid package, 2
    refused or failed query, unreadable source.
    """

    sql = statements_given(sql)
    with open_source(release, db, dist, package_dir, sql) as source:
        emit(lambda: run(source.con, sql), fmt, max_rows)


def statements_given(sql: str | None) -> str:
    """The SQL to run: the argument, or standard input for `-` or no argument on a pipe."""
    if sql is not None and sql != FROM_STDIN:
        return sql
    if sql is None and sys.stdin.isatty():
        raise click.UsageError("give the SQL to run, or - to read it from standard input")
    data = sys.stdin.buffer.read()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        click.echo(
            f"error: standard input, line {line}: the SQL is not UTF-8 ({exc.reason})", err=True
        )
        raise SystemExit(2) from None
