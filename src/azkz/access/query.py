"""Read-only SQL over the package: `azkz query`, `azkz tables`, `azkz describe`.

The data comes from one of three places: the working tree (validated, then loaded
into an in-memory DuckDB through `azkz.tables.typed`, with the same COMMENT ON as a
release), a release's `.duckdb` file, or any `.duckdb` file. Either way the
connection is then locked down in two independent layers:

1. DuckDB itself: files are opened `read_only`, then `enable_external_access=false`
   (no statement can read or write a file: `COPY … TO`, `ATTACH`, `INSTALL`,
   `read_csv('/etc/passwd')`) and `lock_configuration=true` (no `SET` can undo it);
2. a statement gate: only SELECT and EXPLAIN of a SELECT run, so even the in-memory
   copy of the working tree cannot be changed by a query. `EXPLAIN ANALYZE` executes
   its inner statement, so the gate checks that inner statement too; PRAGMA and CALL
   are refused because some of them change state (`PRAGMA force_checkpoint`, index
   builders), and each has a SELECT form (`SHOW TABLES`, `DESCRIBE t`,
   `SELECT * FROM pragma_table_info('t')`).

Results are fetched in batches (`fetchmany`), never all at once: CSV and JSON rows are
written as they arrive, the table and Markdown formats stop at a row limit. Every
DuckDB value has a text and a JSON form (`azkz.core.cells`), so rendering cannot fail
half-way through a document because of a value's type.
"""

from __future__ import annotations

import csv
import itertools
import json
import re
from collections.abc import Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from azkz.access.remote import locate
from azkz.core.cells import cell_text, json_value
from azkz.core.layout import DESCRIPTOR, ReleaseError
from azkz.core.markdown import md_table
from azkz.core.sql import quote_ident, scratch_cursor
from azkz.derive import derive_tables
from azkz.schema.package import Package, Table, read_package
from azkz.tables.ddl import comment_statements
from azkz.tables.typed import load_tables
from azkz.validate.package import validate_or_raise

FORMATS = ("table", "csv", "json", "markdown")
# Statement kinds a read-only query may use (DuckDB's StatementType names); an EXPLAIN
# is allowed only when the statement it explains is itself allowed.
READ_STATEMENTS = frozenset({"SELECT", "EXPLAIN"})
# Rows shown by the `table` and `markdown` formats unless --max-rows says otherwise.
DISPLAY_ROW_LIMIT = 10_000
FETCH_BATCH_ROWS = 2_048
# What the table and Markdown show for NULL: not the text `NULL` (a string may hold it) and
# not a style (gone without colour), but a sign a cell of this data does not hold.
NULL_TEXT = "∅"
STATEMENT_SHOWN = 60  # characters of a refused statement quoted in the message
# Leading whitespace and comments, then EXPLAIN and its options: the rest is the
# explained statement. Anything this does not understand is refused, not guessed.
_SKIP = r"(?:\s|--[^\n]*(?:\n|$)|/\*.*?\*/)*"
_EXPLAIN_PREFIX = re.compile(
    rf"^{_SKIP}EXPLAIN\b{_SKIP}(?:ANALY[SZ]E\b|\([^)]*\))?", re.IGNORECASE | re.DOTALL
)


class QueryError(Exception):
    """A query or a data source was refused; the message is shown as is (exit 2)."""


@dataclass
class Source:
    """An open, locked connection plus the package metadata when it is known.

    A context manager that closes the connection: DuckDB keeps one instance per database
    file in a process while any connection to it is open, and a later open of that file
    with another configuration (such as a plain `read_only=True`) would then be refused.
    """

    con: Any
    package: Package | None

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *_exc) -> None:
        self.con.close()


@dataclass
class Result:
    """Column names and rows; `rows` may be a one-pass iterator over a live cursor."""

    columns: list[str]
    rows: Iterable[tuple]
    note: str | None = None  # said on stderr after the rows, e.g. what is unknown


@dataclass
class Rendered:
    rows: int  # rows written
    truncated: bool  # more rows existed than the limit allowed


LOCKED_CONFIG = {"enable_external_access": False, "lock_configuration": True}


def lock_down(con) -> None:
    """No file access and no way to re-enable it, from here on (after loading the CSVs)."""
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")


def open_working_tree(root: str | Path = ".") -> Source:
    """Typed tables of the validated package in memory (raises `InvalidPackage`)."""
    import duckdb

    package = validate_or_raise(Path(root))
    con = duckdb.connect()
    load_tables(package, con, valid=True)
    derive_tables(package, con)
    for table in package.tables:
        for statement in comment_statements(table):
            con.execute(statement)
    lock_down(con)
    return Source(con, package)


def open_database(path: str | Path, package: Package | None = None) -> Source:
    import duckdb

    path = Path(path)
    if not path.is_file():
        raise QueryError(f"{path}: no such database file")
    if package is None and (path.parent / "datapackage.json").is_file():
        package = read_package(path.parent)  # a release's file: its schemas are beside it
    try:
        # Locked from the start: DuckDB shares one instance per file within a process,
        # so a second open must ask for the same configuration rather than SET it.
        con = duckdb.connect(str(path), read_only=True, config=LOCKED_CONFIG)
    except duckdb.Error as exc:
        raise QueryError(f"{path}: cannot open as a DuckDB database: {exc}") from None
    return Source(con, package)


def open_release(version: str, dist: str | Path = "dist", base_url: str | None = None) -> Source:
    """The `.duckdb` file of release `version` (or `latest`), with the release's own schemas.

    From `dist/<version>/` when it is there, else downloaded from the releases URL into
    the cache and verified (`azkz.access.remote.locate`); raises `ReleaseError` otherwise.
    """

    def wanted(files: dict) -> list[str]:
        databases = [n for n in files if n.endswith(".duckdb") and "/" not in n]
        if len(databases) != 1:
            raise ReleaseError(f"release {version} has no single .duckdb file")
        return [DESCRIPTOR, *databases]

    version_dir = locate(version, wanted, dist, base_url)
    (database,) = wanted({p.name: None for p in version_dir.glob("*.duckdb")})[1:]
    return open_database(version_dir / database, read_package(version_dir))


def run(con, sql: str) -> Result:
    """Run read-only statements; the last one's rows are the result, fetched lazily.

    The first batch is fetched here, so most failures surface before anything is
    written; later failures raise `QueryError` from the row iterator.
    """
    import duckdb

    statements = read_only_statements(con, sql)
    try:
        for statement in statements[:-1]:
            con.execute(statement)
        cursor = con.execute(statements[-1])
        columns = [d[0] for d in cursor.description or []]
        first = cursor.fetchmany(FETCH_BATCH_ROWS) if columns else []
    except duckdb.Error as exc:
        raise QueryError(f"query failed: {exc}") from None
    rest = _remaining_rows(cursor) if len(first) == FETCH_BATCH_ROWS else iter(())
    return Result(columns, itertools.chain(first, rest))


def check_query(sql: str) -> None:
    """Raise `QueryError` unless every statement passes the gate, before any data is open.

    `azkz query` asks this first, on a connection holding nothing, so that a refused or
    unparsable statement is refused at once, without validating and loading the working
    tree; `run` still checks again on the data's own connection.
    """
    with closing(scratch_cursor()) as con:
        read_only_statements(con, sql)


def read_only_statements(con, sql: str) -> list:
    """The statements of `sql`, each through the gate (`check_read_only`)."""
    statements = _parse(con, sql)
    if not statements:
        raise QueryError("query is empty")
    for statement in statements:
        check_read_only(con, statement)
    return statements


def _parse(con, sql: str) -> list:
    import duckdb

    try:
        return con.extract_statements(sql)
    except duckdb.Error as exc:
        raise QueryError(f"query failed: {exc}") from None


def check_read_only(con, statement) -> None:
    """Raise `QueryError` unless `statement` is a SELECT or an EXPLAIN of an allowed one.

    The refusal names the statement as written: DuckDB's class often has another name
    (`INSTALL` is `LOAD`, `PRAGMA threads = 1` is `SET`, `CHECKPOINT` is `CALL`).
    """
    kind = _statement_kind(statement)
    if kind not in READ_STATEMENTS:
        shown = statement_text(statement.query)
        hint = (
            "; for PRAGMA and CALL use SHOW TABLES, DESCRIBE t or "
            "SELECT * FROM pragma_table_info('t')"
            if {kind, shown.split(" ", 1)[0].upper()} & {"PRAGMA", "CALL"}
            else ""
        )
        raise QueryError(
            f"refused: {shown} (queries are read-only: only SELECT and EXPLAIN of a SELECT run"
            f"{hint})"
        )
    if kind == "EXPLAIN":
        explained = _explained_statement(con, statement.query)
        if explained is None:
            raise QueryError(
                "refused: cannot tell which statement this EXPLAIN runs; "
                "write it as EXPLAIN [ANALYZE] SELECT …"
            )
        try:
            check_read_only(con, explained)
        except QueryError as exc:
            raise QueryError(f"{exc} (the statement inside EXPLAIN)") from None


def _statement_kind(statement) -> str | None:
    """DuckDB's StatementType name, or None for a type its Python API cannot name
    (`UPDATE EXTENSIONS` raises ValueError in duckdb 2.0): never allowed."""
    try:
        return statement.type.name
    except ValueError:
        return None


def statement_text(sql: str, width: int = STATEMENT_SHOWN) -> str:
    """The statement as the user wrote it, for a message: without leading comments,
    whitespace collapsed, cut at `width` characters."""
    text = " ".join(sql[re.match(_SKIP, sql, re.DOTALL).end() :].split()).rstrip("; ")
    return text if len(text) <= width else text[: width - 1].rstrip() + " …"


def _explained_statement(con, text: str):
    """The one statement after `EXPLAIN [ANALYZE | (options)]`, or None if unclear.

    `EXPLAIN ANALYZE` executes that statement, so it must pass the gate itself.
    """
    prefix = _EXPLAIN_PREFIX.match(text)
    if prefix is None:
        return None
    try:
        inner = _parse(con, text[prefix.end() :])
    except QueryError:
        return None
    return inner[0] if len(inner) == 1 else None


def _remaining_rows(cursor) -> Iterator[tuple]:
    import duckdb

    try:
        while batch := cursor.fetchmany(FETCH_BATCH_ROWS):
            yield from batch
    except duckdb.Error as exc:
        raise QueryError(f"query failed while reading rows: {exc}") from None


def table_list(source: Source) -> Result:
    """Every table with its row count and description (COMMENT ON TABLE)."""
    tables = source.con.execute(
        "SELECT table_name, comment FROM duckdb_tables() ORDER BY table_name"
    ).fetchall()
    rows = [
        (
            name,
            source.con.execute(f"SELECT count(*) FROM {quote_ident(name)}").fetchall()[0][0],
            comment or "",
        )
        for name, comment in tables
    ]
    return Result(["table", "rows", "description"], rows)


def describe(source: Source, table_name: str) -> Result:
    """Columns of one table: types from DuckDB; units and `required` from the schema
    when it is known (the working tree's in-memory tables carry no NOT NULL), else
    from the database's own NOT NULL constraints."""

    columns = source.con.execute(
        "SELECT column_name, data_type, is_nullable, comment FROM duckdb_columns() "
        "WHERE table_name = ? ORDER BY column_index",
        [table_name],
    ).fetchall()
    if not columns:
        known = source.con.execute(
            "SELECT table_name FROM duckdb_tables() ORDER BY table_name"
        ).fetchall()
        raise QueryError(
            f"no table {table_name!r}; tables: {', '.join(r[0] for r in known) or 'none'}"
        )
    table = _schema_table(source.package, table_name)
    rows = []
    for name, data_type, nullable, comment in columns:
        unit, required = "", not nullable
        if table is not None and name in table.field_names:
            unit, required = table.field(name).unit, table.field(name).required
        rows.append((name, data_type, unit, "yes" if required else "no", comment or ""))
    note = None
    if table is None:
        note = (
            "units are unknown: this database has no datapackage.json beside it "
            "(query the release with --release VERSION to see them)"
        )
    return Result(["column", "type", "unit", "required", "description"], rows, note)


def _schema_table(package: Package | None, name: str) -> Table | None:
    if package is None:
        return None
    try:
        return package.table(name)
    except KeyError:
        return None


# --- output ------------------------------------------------------------------------


def default_row_limit(fmt: str) -> int | None:
    """Rows shown when --max-rows is not given: bounded for the human formats only."""
    return DISPLAY_ROW_LIMIT if fmt in ("table", "markdown") else None


def render(result: Result, fmt: str, stream: TextIO, max_rows: int | None = None) -> Rendered:
    """Write at most `max_rows` rows as a rich table, CSV (RFC 4180), JSON or Markdown.

    CSV and JSON are streamed row by row; the table and Markdown need all their rows
    first, which is why they have a default limit (`default_row_limit`).
    """
    if fmt not in FORMATS:
        raise QueryError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    rows = iter(result.rows)
    limited = rows if max_rows is None else itertools.islice(rows, max_rows)
    counted = _Counter(limited)
    if fmt == "csv":
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(result.columns)
        writer.writerows([cell_text(v) for v in row] for row in counted)
    elif fmt == "json":
        _write_json(result.columns, counted, stream)
    elif fmt == "markdown":
        lines = md_table(
            result.columns, [[cell_text(v, NULL_TEXT) for v in row] for row in counted]
        )
        stream.write("\n".join(lines) + "\n")
    else:
        _render_rich(result.columns, list(counted), stream)
    truncated = max_rows is not None and counted.n == max_rows and next(rows, None) is not None
    return Rendered(counted.n, truncated)


class _Counter:
    """Pass rows through, counting them."""

    def __init__(self, rows: Iterator[tuple]) -> None:
        self.rows, self.n = rows, 0

    def __iter__(self) -> Iterator[tuple]:
        for row in self.rows:
            self.n += 1
            yield row


def _write_json(columns: list[str], rows: Iterable[tuple], stream: TextIO) -> None:
    """A JSON array of records, one per line, each serialised whole before it is written."""
    separator = "[\n"
    for row in rows:
        record = {c: json_value(v, whole=True) for c, v in zip(columns, row, strict=True)}
        stream.write(separator + "  " + json.dumps(record, ensure_ascii=False, allow_nan=False))
        separator = ",\n"
    stream.write("[]\n" if separator == "[\n" else "\n]\n")


def _render_rich(columns: list[str], rows: list[tuple], stream: TextIO) -> None:
    """The rows as a box table; the row count is the caller's to say (on stderr)."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table as RichTable

    table = RichTable(show_lines=False)
    for column in columns:
        table.add_column(escape(column), overflow="fold")
    for row in rows:
        table.add_row(
            *(f"[dim]{NULL_TEXT}[/dim]" if v is None else escape(cell_text(v)) for v in row)
        )
    Console(file=stream).print(table)
