"""Where `azkz query`, `tables` and `describe` read from (working tree, release, `.duckdb`
file), and how they write a result; bad input is a message and an exit status.
"""

from __future__ import annotations

import sys

import click

from azkz.access import query
from azkz.cli.options import PACKAGE_OPTION, directory_option, silence_stdout
from azkz.core.layout import ReleaseError
from azkz.schema.package import DescriptorError
from azkz.validate.package import InvalidPackage
from azkz.validate.report import plural, render


def source_options(command):
    """--release / --db / --dist / --package: where the tables come from."""
    options = [
        click.option(
            "--release",
            metavar="VERSION",
            help="Query release VERSION instead of the working tree: DIST/VERSION/ if "
            "it is there, else downloaded from $AZKZ_RELEASES_URL (sha256-checked, cached). "
            "latest: the newest published; offline, the newest here (a note says which).",
        ),
        click.option(
            "--db",
            type=click.Path(dir_okay=False),
            help="Query this .duckdb file instead of the working tree.",
        ),
        directory_option("--dist", default="dist", help="Where releases are (--release)."),
        PACKAGE_OPTION,
    ]
    for option in reversed(options):
        command = option(command)
    return command


def open_source(
    release: str | None, db: str | None, dist: str, package_dir: str, sql: str | None = None
):
    """Open the requested tables read-only; bad input exits 1 (invalid data) or 2.

    `sql`, when given, goes through the statement gate first: a refused statement is
    refused at once, without validating and loading the data it would have read.
    """

    if release and db:
        raise click.UsageError("give --release or --db, not both")
    try:
        if sql is not None:
            query.check_query(sql)
        if release:
            return query.open_release(release, dist)
        if db:
            return query.open_database(db)
        return query.open_working_tree(package_dir)
    except InvalidPackage as exc:
        render(exc.report, "text", stream=sys.stderr)
        click.echo(
            "error: the package is not valid; fix it, or query a release with --release VERSION",
            err=True,
        )
        raise SystemExit(exc.report.exit_code or 1) from None
    except (query.QueryError, DescriptorError, ReleaseError) as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(2) from None


def stdout_is_terminal() -> bool:
    return sys.stdout.isatty()


def emit(make_result, fmt: str | None, max_rows: int | None = None) -> None:
    """Render a result to stdout; every failure is a message and exit 2, never a traceback.

    Without `--format`, a terminal gets the table and a pipe or file CSV, as the DuckDB
    and sqlite3 command lines do; the table's row count and every note go to stderr, so
    stdout holds the data only. A closed pipe (`azkz query … | head`) ends the command
    quietly, as other tools do.
    """

    fmt = fmt or ("table" if stdout_is_terminal() else "csv")
    limit = max_rows if max_rows is not None else query.default_row_limit(fmt)
    try:
        result = make_result()
        rendered = query.render(result, fmt, sys.stdout, limit)
        sys.stdout.flush()
    except BrokenPipeError:
        silence_stdout()
        raise SystemExit(141) from None  # 128 + SIGPIPE, what `head`'s writers get
    except query.QueryError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(2) from None
    except MemoryError:
        click.echo(
            "error: out of memory while reading the result; select fewer rows or columns, "
            "or use --format csv (streamed) with --max-rows",
            err=True,
        )
        raise SystemExit(2) from None
    if fmt == "table":
        click.echo(plural(rendered.rows, "row"), err=True)
    if result.note:
        click.echo(f"note: {result.note}", err=True)
    if rendered.truncated:
        click.echo(
            f"note: showing the first {plural(rendered.rows, 'row')}; there are more "
            f"(use --format csv or json to stream all rows, or --max-rows N)",
            err=True,
        )


QUERY_FORMAT = click.option(
    "--format",
    "fmt",
    type=click.Choice(query.FORMATS),
    help="Output format.  [default: table on a terminal, csv otherwise (a pipe, a file)]",
)
