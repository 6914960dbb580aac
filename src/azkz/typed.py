"""Typed tables: the CSVs read by DuckDB with an explicit dialect and cast per schema.

Both validation and the release build go through these SQL fragments, so "what a
cell means" is decided in exactly one place, with Frictionless semantics rather
than DuckDB's looser ones (DuckDB would read `yes` as a boolean, `1e3` as a date
component, and so on).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from azkz.schema import Field, Package, Table


def internal_name(prefix: str, table: Table) -> str:
    """A DuckDB object name for `table`'s `prefix` table or variable, free of user text.

    Resource names may hold `-`, `.`, capitals or non-ASCII letters; some DuckDB options
    (`rejects_table`, `SET VARIABLE`) take a bare identifier, so every internal name is
    the prefix and a digest of the resource name instead of the name itself.
    """
    import hashlib

    digest = hashlib.blake2b(table.name.encode("utf-8"), digest_size=8).hexdigest()
    return f"{prefix}_{digest}"


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def ident_list(names: Iterable[str]) -> str:
    """`"a", "b"`: a column list for SELECT, GROUP BY, ORDER BY or a key clause."""
    return ", ".join(quote_ident(n) for n in names)


def quote_literal(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def raw_csv_sql(path: Path, table: Table) -> str:
    """`read_csv` of every column as text with the package's dialect: never the sniffer."""
    columns = ", ".join(f"{quote_literal(f.name)}: 'VARCHAR'" for f in table.fields)
    # The schema's missing values (Table Schema's default: the empty cell) become NULL.
    missing = ", ".join(quote_literal(v) for v in table.schema.get("missingValues", [""]))
    return (
        f"read_csv({quote_literal(str(path))}, auto_detect=false, header=true, delim=',', "
        f"quote='\"', escape='\"', columns={{{columns}}}, strict_mode=true, "
        f"all_varchar=true, null_padding=false, allow_quoted_nulls=false, "
        f"nullstr=[{missing}])"
    )


# Frictionless lexical forms; anything else is a type-error (cast gives NULL).  Numbers
# are finite: Frictionless also reads `NaN`, `INF` and `-INF`, but every numeric field
# here is a stated amount (see docs/decisions.md), so those and overflow (`1e400`) are
# refused too.
NUMBER_PATTERN = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"
_INTEGER = r"^[+-]?\d+$"
_DATE_GLOB = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]"
_YEAR = r"^\d{4}$"


# String formats (Table Schema): a cell that does not match is a type-error, as in
# Frictionless.  `uri` asks for a scheme, as Frictionless does.
STRING_FORMATS = {
    "email": r"[^@\s]+@[^@\s]+\.[^@\s]+",
    "uri": r"[A-Za-z][A-Za-z0-9+.\-]*:\S+",
    "uuid": r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}",
    "binary": r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?",
}


def number_text_sql(field: Field, col: str) -> str:
    """The cell's text as a plain number literal, per the field's number properties.

    `groupChar` is removed, `decimalChar` becomes `.`, and with `bareNumber: false` any
    text before the first digit-or-sign and after the last digit is dropped (as
    Frictionless does for `€ 12` or `95%`).  Without those properties: `col` as is.
    """
    group = field.raw.get("groupChar")
    decimal = field.raw.get("decimalChar", ".")
    if group:
        col = f"replace({col}, {quote_literal(group)}, '')"
    if decimal != ".":
        col = f"replace({col}, {quote_literal(decimal)}, '.')"
    if field.raw.get("bareNumber") is False:
        col = f"regexp_replace({col}, '^[^0-9.+-]*(.*?)[^0-9.]*$', '\\1')"
    return col


def cast_sql(field: Field, column: str | None = None) -> str:
    """Expression turning the text column into the field's type; NULL where it cannot.

    Empty text is the missing value (`missingValues: [""]`) and becomes NULL too;
    callers tell the two apart by looking at the raw text.
    """
    col = column or quote_ident(field.name)
    if field.type == "string":
        pattern = STRING_FORMATS.get(field.raw.get("format", "default"))
        if pattern is not None:
            return f"CASE WHEN regexp_full_match({col}, {quote_literal(pattern)}) THEN {col} END"
        return f"NULLIF({col}, '')"
    if field.type in ("number", "integer"):
        col = number_text_sql(field, col)
    if field.type == "number":
        number = f"CASE WHEN regexp_matches({col}, '{NUMBER_PATTERN}') THEN TRY_CAST({col} AS DOUBLE) END"
        # Overflow gives ±inf; two NULLIFs cost less than isfinite() and a second cast.
        return f"NULLIF(NULLIF({number}, 'inf'::DOUBLE), '-inf'::DOUBLE)"
    if field.type == "integer":
        return f"CASE WHEN regexp_matches({col}, '{_INTEGER}') THEN TRY_CAST({col} AS BIGINT) END"
    if field.type == "date":
        # The shape first (GLOB costs less than a regular expression), then DuckDB's
        # own cast, which checks the calendar; year 0000 does not exist in Frictionless.
        return (
            f"CASE WHEN {col} GLOB '{_DATE_GLOB}' AND NOT starts_with({col}, '0000') "
            f"THEN TRY_CAST({col} AS DATE) END"
        )
    if field.type == "year":
        return f"CASE WHEN regexp_matches({col}, '{_YEAR}') THEN TRY_CAST({col} AS INTEGER) END"
    if field.type == "boolean":
        trues = ", ".join(quote_literal(v) for v in field.true_values)
        falses = ", ".join(quote_literal(v) for v in field.false_values)
        return f"CASE WHEN {col} IN ({trues}) THEN true WHEN {col} IN ({falses}) THEN false END"
    raise ValueError(f"unsupported type {field.type}")


def typed_select_sql(table: Table, source: str) -> str:
    """SELECT that yields the typed table from a relation of raw text columns."""
    columns = ", ".join(
        f"CAST({cast_sql(f)} AS {f.duckdb_type}) AS {quote_ident(f.name)}" for f in table.fields
    )
    return f"SELECT {columns} FROM {source}"


def load_tables(package: Package, con) -> None:
    """Create one typed DuckDB table per resource (assumes the package is valid)."""
    for table in package.tables:
        raw = raw_csv_sql(package.file(table), table)
        con.execute(
            f"CREATE OR REPLACE TABLE {quote_ident(table.name)} AS {typed_select_sql(table, raw)}"
        )
