"""Row-scope rules run as SQL, and the text tables (`raw_<name>`) DuckDB loads for them.

Each field's and declared rule's SQL is built in `azkz.validate.rules.cell` and
`azkz.validate.rules.declared` from the schemas (and `azkz.schema.fields`); key and
foreign-key rules are in `azkz.validate.rules.table`.

Both ways of checking a table use these: `azkz.validate.package` loads a table whole
and runs every rule there; `azkz.validate.profile` runs them on a large table's distinct
values, then on its failing rows only.  Rules are evaluated once per distinct value (or
combination) and joined back to the failing rows only, so regular expressions and casts
run thousands of times instead of once per row.  The pandera contracts in
`azkz.validate.contracts` express the same rules for typed frames.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from azkz.core.errors import (
    error,
)
from azkz.core.sql import ident_list, quote_ident, quote_literal
from azkz.schema.package import Table
from azkz.tables.typed import cast_sql, internal_name, raw_csv_sql
from azkz.validate.rules.cell import (
    RowCheck,
    empty_key_checks,
    field_checks,
    missing_row_checks,
    raw_name,
    typed,
)
from azkz.validate.rules.declared import declared_checks
from azkz.validate.rules.table import text_key_hashes

# ----------------------------------------------------------------------------- text tables


def rejects_source(table: Table, path: Path) -> str:
    """`raw_csv_sql` storing DuckDB's rejects in `rejects_<name>` / `scans_<name>`."""
    return raw_csv_sql(
        path,
        table,
        f", store_rejects=true, rejects_table={quote_literal(internal_name('rejects', table))}, "
        f"rejects_scan={quote_literal(internal_name('scans', table))}",
    )


def load_raw(table: Table, path: Path, con) -> str | None:
    """Load the text table `raw_<name>` with stored rejects; the parser's message if it fails.

    It also stores the hash of each key's text (see `_text_may_repeat`): computed
    while the rows stream in, it costs nothing measurable there, and counting distinct
    stored hashes afterwards takes 0.04 s at 1M rows instead of 0.09 s.
    """
    hashes = "".join(f", {expr} AS {name}" for name, expr in text_key_hashes(table))
    return run_parse(
        con,
        f"CREATE OR REPLACE TABLE {raw_name(table)} AS SELECT *{hashes} "
        f"FROM {rejects_source(table, path)}",
    )


def run_parse(con, sql: str) -> str | None:
    """Run a statement that parses a CSV file; the parser's message if it gives up."""
    import duckdb

    try:
        con.execute(sql)
    except duckdb.Error as exc:
        return str(exc).splitlines()[0]
    return None


# ----------------------------------------------------------------------------- rules


def row_checks(table: Table) -> list[RowCheck]:
    """Field constraints and declared rules of a table, generated from its schema."""
    checks = []
    for f in table.fields:
        checks += field_checks(f)
    checks += empty_key_checks(table)
    checks += missing_row_checks(table)
    checks += declared_checks(table)
    return checks


# Up to this many rows, all of a table's rules run in one query (see `row_errors`).
SMALL_TABLE_ROWS = 10_000


def row_errors(table: Table, con, lines, only: set[int] | None = None) -> list[dict[str, Any]]:
    """Every field and domain rule; only failing rows come back to Python.

    Rules are grouped by the fields they read and evaluated once per distinct value
    (or combination) of those fields, then joined back to the rows holding the failing
    ones: most columns have a handful of distinct values, so the regular expressions
    and casts run thousands of times instead of once per row.  A small table (or the
    failing rows a profile located) gets one query with every rule on every row: there
    the cost is the number of queries, not the rows.  `only` names the rules to run
    (by position in `row_checks`), when the others are known to pass.
    """
    checks = row_checks(table)
    if only is not None:
        checks = [checks[i] for i in sorted(only)]
    shown = message_fields(checks)
    if len(lines) <= SMALL_TABLE_ROWS:
        everything = list(range(len(checks)))
        found = [(everything, con.execute(_small_failing_rows_sql(table, checks, shown)))]
    else:
        found = _grouped_failing_rows(table, checks, shown, con)
    failures = []  # (row, check index, raw values the messages quote)
    for indices, rows in found:
        for row, failed, *quoted in rows.fetchall():
            values = {n: ("" if v is None else v) for n, v in zip(shown, quoted, strict=True)}
            failures += [(row, indices[k], values) for k in failed]
    failures.sort(key=lambda failure: failure[:2])
    return [
        error(
            table.name,
            table.path,
            int(lines[row]),
            checks[i].field,
            checks[i].kind,
            checks[i].text(values),
        )
        for row, i, values in failures
    ]


def message_fields(checks: list[RowCheck]) -> list[str]:
    """Fields whose raw values the checks' messages quote: all a failing row returns."""
    return list(dict.fromkeys(name for check in checks for name in check.quotes))


def _small_failing_rows_sql(table: Table, checks: list[RowCheck], shown: list[str]) -> str:
    """Failing rows of a small table in one query: every rule on every row."""
    read = {name for check in checks for name in check.reads}
    casts = "".join(f", {cast_sql(f)} AS {typed(f)}" for f in table.fields if f.name in read)
    failed = _failed_list([f"coalesce({c.condition}, false)" for c in checks])
    any_check = " OR ".join(f"({c.condition})" for c in checks) or "false"
    return (
        f"SELECT rowid, {failed}{''.join(', ' + quote_ident(n) for n in shown)} "
        f"FROM (SELECT rowid, *{casts} FROM {raw_name(table)}) WHERE {any_check} ORDER BY rowid"
    )


def _failed_list(flags: list[str]) -> str:
    """SQL list of the positions (0-based) of the true `flags`: one small value per row
    instead of a column per rule (a third of the fetch for 10,000 failing rows)."""
    items = ", ".join(f"CASE WHEN {flag} THEN {k} END" for k, flag in enumerate(flags))
    return f"list_filter([{items}], lambda k: k IS NOT NULL)"


def _grouped_failing_rows(table: Table, checks: list[RowCheck], shown: list[str], con):
    """(check indices, failing rows) per group of fields, from their distinct values."""
    group_of = check_groups(table, checks)
    groups: dict[tuple[str, ...], list[int]] = {}
    for i, check in enumerate(checks):
        groups.setdefault(group_of[check.reads[0]], []).append(i)
    for inputs, indices in groups.items():
        # CREATE TABLE AS answers with the number of rows it stored.
        [(failing,)] = con.execute(
            f"CREATE OR REPLACE TEMP TABLE _failing AS "
            f"{failing_values_sql(table, checks, inputs, indices)}"
        ).fetchall()
        if failing:  # usually not: then there is no need to look for the rows
            yield indices, con.execute(_failing_rows_sql(table, inputs, indices, shown))


def check_groups(table: Table, checks: list[RowCheck]) -> dict[str, tuple[str, ...]]:
    """Field -> the fields evaluated together with it: those that rules read together.

    Merging a cross-field rule's fields with their own single-field rules casts each
    value once (one pass over distinct pairs instead of three passes).
    """
    group = {f.name: (f.name,) for f in table.fields}
    for check in checks:
        merged = {name for read in check.reads for name in group[read]}
        fields = tuple(name for name in table.field_names if name in merged)
        for name in fields:
            group[name] = fields
    return group


def failing_values_sql(
    table: Table,
    checks: list[RowCheck],
    inputs: tuple[str, ...],
    indices: list[int],
    values: str | None = None,
) -> str:
    """Distinct values of `inputs` failing a check of the group, one flag per check.

    Two things keep this to about one cast per distinct value (measured with EXPLAIN
    ANALYZE at 1M rows: the date pair 0.20 s -> 0.10 s, `value` 0.17 s -> 0.08 s):
    the typed values are a MATERIALIZED CTE, because otherwise the optimizer inlines
    each cast into every condition that reads it; and the WHERE clause is the plain OR
    of the conditions (NULL counts as false there), which DuckDB short-circuits, so the
    `coalesce`d flags — evaluated in full for every row — are computed only for the few
    failing values.

    Only string groups (codes, enums, patterns: few distinct values, costly regular
    expressions) are made distinct first; dates and numbers usually differ from row to
    row, so there the DISTINCT costs more than the cheap casts it saves (date pair
    0.16 s -> 0.11 s, `value` 0.09 s -> 0.05 s per row), and only the failing values
    are made distinct.  `values` replaces that relation (a profile passes its own).
    """
    columns = ident_list(inputs)
    typed_columns = ", ".join(
        f"{cast_sql(table.field(name))} AS {typed(table.field(name))}" for name in inputs
    )
    flags = ", ".join(f"coalesce({checks[i].condition}, false) AS _c{i}" for i in indices)
    any_check = " OR ".join(f"({checks[i].condition})" for i in indices)
    if values is None:
        few_values = all(table.field(name).type == "string" for name in inputs)
        values = f"(SELECT {'DISTINCT ' if few_values else ''}{columns} FROM {raw_name(table)})"
    return (
        f"WITH _typed AS MATERIALIZED (SELECT {columns}, {typed_columns} FROM {values}) "
        f"SELECT DISTINCT {columns}, {flags} FROM _typed WHERE {any_check}"
    )


def _failing_rows_sql(
    table: Table, inputs: tuple[str, ...], indices: list[int], shown: list[str]
) -> str:
    """Rows (rowid, failing checks, quoted raw values) holding a value in `_failing`."""
    on = " AND ".join(
        f"r.{quote_ident(name)} IS NOT DISTINCT FROM f.{quote_ident(name)}" for name in inputs
    )
    raw_columns = "".join(f", r.{quote_ident(n)}" for n in shown)
    failed = _failed_list([f"f._c{i}" for i in indices])
    return f"SELECT r.rowid, {failed}{raw_columns} FROM {raw_name(table)} r JOIN _failing f ON {on}"
