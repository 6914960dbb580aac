"""Read-only SQL over the package: `azkz query`, `azkz tables`, `azkz describe`.

The data comes from one of three places: the working tree (validated, then loaded
into an in-memory DuckDB through `azkz.typed`, with the same COMMENT ON as a
release), a release's `.duckdb` file, or any `.duckdb` file. Either way the
connection is then locked down in two independent layers:

1. DuckDB itself: files are opened `read_only`, then `enable_external_access=false`
   (no statement can read or write a file: `COPY … TO`, `ATTACH`, `INSTALL`,
   `read_csv('/etc/passwd')`) and `lock_configuration=true` (no `SET` can undo it);
2. a statement gate: only SELECT-like statements run, so even the in-memory copy of
   the working tree cannot be changed by a query.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from azkz.schema import Package, Table, read_package
from azkz.typed import load_tables, quote_ident

FORMATS = ("table", "csv", "json", "markdown")
# Statement kinds a read-only query may use (DuckDB's StatementType names).
READ_STATEMENTS = frozenset({"SELECT", "EXPLAIN", "PRAGMA", "CALL"})


class QueryError(Exception):
    """A query or a data source was refused; the message is shown as is (exit 2)."""


@dataclass
class Source:
    """An open, locked connection plus the package metadata when it is known."""

    con: Any
    package: Package | None


@dataclass
class Result:
    columns: list[str]
    rows: list[tuple]


LOCKED_CONFIG = {"enable_external_access": False, "lock_configuration": True}


def lock_down(con) -> None:
    """No file access and no way to re-enable it, from here on (after loading the CSVs)."""
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")


def open_working_tree(root: str | Path = ".") -> Source:
    """Typed tables of the validated package in memory (raises `InvalidPackage`)."""
    import duckdb

    from azkz.build import comment_statements, validate_or_raise

    validate_or_raise(Path(root))
    package = read_package(root)
    con = duckdb.connect()
    load_tables(package, con)
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
    try:
        # Locked from the start: DuckDB shares one instance per file within a process,
        # so a second open must ask for the same configuration rather than SET it.
        con = duckdb.connect(str(path), read_only=True, config=LOCKED_CONFIG)
    except duckdb.Error as exc:
        raise QueryError(f"{path}: cannot open as a DuckDB database: {exc}") from None
    return Source(con, package)


def open_release(version: str, dist: str | Path = "dist") -> Source:
    """The `.duckdb` file of `dist/<version>/`, with the release's own schemas."""
    version_dir = Path(dist) / version
    databases = sorted(version_dir.glob("*.duckdb"))
    if len(databases) != 1:
        from azkz.build import release_dirs, semver_key

        built = sorted((d.name for d in release_dirs(Path(dist))), key=semver_key)
        raise QueryError(
            f"no release {version!r} in {dist}/ "
            f"(built: {', '.join(built) or 'none; run `azkz build` first'})"
        )
    return open_database(databases[0], read_package(version_dir))


def run(con, sql: str) -> Result:
    """Run read-only statements; the last one's rows are the result."""
    import duckdb

    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as exc:
        raise QueryError(f"query failed: {exc}") from None
    if not statements:
        raise QueryError("query is empty")
    for statement in statements:
        kind = statement.type.name
        if kind not in READ_STATEMENTS:
            raise QueryError(
                f"refused: {kind} statements are not allowed; queries are read-only "
                f"(allowed: {', '.join(sorted(READ_STATEMENTS))})"
            )
    try:
        for statement in statements[:-1]:
            con.execute(statement)
        cursor = con.execute(statements[-1])
        columns = [d[0] for d in cursor.description or []]
        return Result(columns, cursor.fetchall() if columns else [])
    except duckdb.Error as exc:
        raise QueryError(f"query failed: {exc}") from None


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
        known = table_list(source).rows
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
    return Result(["column", "type", "unit", "required", "description"], rows)


def _schema_table(package: Package | None, name: str) -> Table | None:
    if package is None:
        return None
    try:
        return package.table(name)
    except KeyError:
        return None


# --- output ------------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    return str(value)


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    return value


def render(result: Result, fmt: str, stream: TextIO) -> None:
    """Write the result as a rich table, CSV (RFC 4180), JSON records or Markdown."""
    if fmt == "csv":
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(result.columns)
        writer.writerows([_text(v) for v in row] for row in result.rows)
    elif fmt == "json":
        records = [
            {c: _json_value(v) for c, v in zip(result.columns, row, strict=True)}
            for row in result.rows
        ]
        json.dump(records, stream, ensure_ascii=False, indent=2)
        stream.write("\n")
    elif fmt == "markdown":
        from azkz.docs import md_table

        lines = md_table(result.columns, [[_text(v) for v in row] for row in result.rows])
        stream.write("\n".join(lines) + "\n")
    elif fmt == "table":
        _render_rich(result, stream)
    else:
        raise QueryError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")


def _render_rich(result: Result, stream: TextIO) -> None:
    from rich.console import Console
    from rich.table import Table as RichTable

    table = RichTable(show_lines=False)
    for column in result.columns:
        table.add_column(column, overflow="fold")
    for row in result.rows:
        table.add_row(*("[dim]NULL[/dim]" if v is None else _escape_markup(_text(v)) for v in row))
    console = Console(file=stream)
    console.print(table)
    console.print(f"{len(result.rows)} row{'s' if len(result.rows) != 1 else ''}")


def _escape_markup(text: str) -> str:
    from rich.markup import escape

    return escape(text)
