"""Field, table and domain rules run as SQL, and the text tables (`raw_<name>`) DuckDB
loads for them.  Each field's and declared rule's SQL is built in `azkz.validate.rules.cell` and
`azkz.validate.rules.declared` from the schemas (and `azkz.schema.fields`); key and foreign-key rules are here.

Both ways of checking a table use these: `azkz.validate.package` loads a table whole and runs
every rule there; `azkz.validate.profile` runs them on a large table's distinct values, then on
its failing rows only.  Rules are evaluated once per distinct value (or combination) and
joined back to the failing rows only, so regular expressions and casts run thousands of
times instead of once per row.  The pandera contracts in `azkz.validate.contracts` express the
same rules for typed frames.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from azkz.core.errors import (
    FOREIGN_KEY,
    PRIMARY_KEY,
    UNIQUE_ERROR,
    ErrorType,
    error,
)
from azkz.core.sql import ident_list, quote_ident, quote_literal
from azkz.schema.package import Package, Table
from azkz.tables.typed import cast_sql, internal_name, raw_csv_sql
from azkz.validate.rules.cell import (
    RowCheck,
    as_list,
    field_checks,
    key_error,
    raw_name,
    typed,
    typed_source,
)
from azkz.validate.rules.declared import declared_checks

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


def text_key_hashes(table: Table) -> list[tuple[str, str]]:
    """(column, expression) hashing the text of each key with one spelling per value."""
    return [
        (key_hash(i), f"hash({ident_list(names)})")
        for i, (_code, names) in enumerate(table_keys(table))
        if one_spelling(table, names)
    ]


# ----------------------------------------------------------------------------- rules


def row_checks(table: Table) -> list[RowCheck]:
    """Field constraints and declared rules of a table, generated from its schema."""
    checks = []
    for f in table.fields:
        checks += field_checks(f)
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


def key_errors(table: Table, con, lines) -> list[dict[str, Any]]:
    """Primary key and unique fields: every row after the first with the same key."""
    errors = []
    for i, (code, names) in enumerate(table_keys(table)):
        fields = [table.field(n) for n in names]
        if one_spelling(table, names) and not _text_may_repeat(table, i, con):
            continue
        cols = ", ".join(typed(f) for f in fields)
        not_null = " AND ".join(f"{typed(f)} IS NOT NULL" for f in fields)
        duplicates = con.execute(
            f"WITH t AS (SELECT * FROM {typed_source(table)} WHERE {not_null}), "
            f"d AS (SELECT {cols} FROM t GROUP BY ALL HAVING count(*) > 1) "
            f"SELECT _row, first_row, {cols} FROM (SELECT _row, {cols}, "
            f"min(_row) OVER (PARTITION BY {cols}) AS first_row FROM t SEMI JOIN d "
            f"USING ({cols})) WHERE _row <> first_row ORDER BY _row"
        ).fetchall()
        label = "primary key" if code is PRIMARY_KEY else "unique field"
        for row, first, *values in duplicates:
            shown = ", ".join(f"{n}={v}" for n, v in zip(names, values, strict=True))
            errors.append(
                key_error(
                    table,
                    int(lines[row]),
                    names,
                    code,
                    f"{label} ({shown}) repeats line {int(lines[first])}",
                )
            )
    return errors


def table_keys(table: Table) -> list[tuple[ErrorType, list[str]]]:
    """(error type, field names) of the primary key and of each unique field."""
    keys = []
    if table.primary_key:
        keys.append((PRIMARY_KEY, table.primary_key))
    for f in table.fields:
        if f.constraints.get("unique") and [f.name] != table.primary_key:
            keys.append((UNIQUE_ERROR, [f.name]))
    for names in table.schema.get("uniqueKeys", []):  # Table Schema v2: composite unique
        keys.append((UNIQUE_ERROR, as_list(names)))
    return keys


def key_hash(index: int) -> str:
    """Column of `raw_<name>` holding the hash of key number `index`'s text."""
    return quote_ident(f"_key_hash_{index}")


def one_spelling(table: Table, names: list[str]) -> bool:
    """Whether equal typed keys always have equal text, so the text can rule out repeats.

    True for strings and dates (one lexical form, YYYY-MM-DD); other types may spell
    one value two ways (`1` and `1.0`) and always get the exact check.
    """
    return all(table.field(n).type in ("string", "date") for n in names)


def _text_may_repeat(table: Table, index: int, con) -> bool:
    """False when no two rows can share key number `index`: distinct hashes of its text.

    A hash collision only sends the key to the exact check.
    """
    return bool(
        con.execute(
            f"SELECT count(*) > count(DISTINCT {key_hash(index)}) FROM {raw_name(table)}"
        ).fetchall()[0][0]
    )


# ----------------------------------------------------------------------------- package
def foreign_key_errors(
    package: Package, table: Table, lines: dict[str, Any], con, foreign_keys=None
) -> list[dict[str, Any]]:
    """Rows whose reference is not in the parent table (empty references are allowed).

    `foreign_keys` limits the check to some of the table's (those a profile saw fail).
    """
    errors = []
    for fk in table.foreign_keys if foreign_keys is None else foreign_keys:
        names = as_list(fk["fields"])
        ref = fk["reference"]
        parent = package.table(ref.get("resource") or table.name)
        if parent.name not in lines:
            continue  # the parent's own errors are reported; its keys are unknown
        ref_names = as_list(ref["fields"])
        child_cols = [typed(table.field(n)) for n in names]
        parent_cols = [typed(parent.field(n)) for n in ref_names]
        on = " AND ".join(f"c.{c} = p.{p}" for c, p in zip(child_cols, parent_cols, strict=True))
        not_null = " AND ".join(f"c.{c} IS NOT NULL" for c in child_cols)
        missing = con.execute(
            f"SELECT c._row, {', '.join('c.' + c for c in child_cols)} "
            f"FROM {typed_source(table)} c ANTI JOIN {typed_source(parent)} p ON {on} "
            f"WHERE {not_null} ORDER BY c._row"
        ).fetchall()
        target = f"{parent.name}.{','.join(ref_names)}"
        for row, *values in missing:
            shown = ", ".join(str(v) for v in values)
            errors.append(
                key_error(
                    table,
                    int(lines[table.name][row]),
                    names,
                    FOREIGN_KEY,
                    f"{','.join(names)} {shown!r} is not in {target}",
                )
            )
    return errors
