"""pandera contracts generated from the Table Schemas, for typed polars frames.

`azkz.load` and the release build check the typed frames they hand out against these
contracts.  They are generated here rather than by `pandera.io.from_frictionless_schema`,
which maps dates to strings, reads the text "false" as True and drops keys.

The rules are the same ones `azkz validate` runs as generated SQL on the raw text
(see `azkz.validate.rules.cell.field_checks`): dtype, required, enum, pattern (full match, as in
Frictionless), minimum/maximum, minLength/maxLength, unique fields and the primary key.
`azkz validate` does not call pandera because importing pandera.polars alone takes
about 0.7 s (benchmarks/validate.md has the numbers).
"""

from __future__ import annotations

from typing import Any

from azkz.core import errors
from azkz.core.errors import error
from azkz.core.sql import ident_list, quote_ident
from azkz.schema import fields
from azkz.schema.package import Field, Table
from azkz.tables.structured import ENUM_TYPES, LENGTH_TYPES, cell_value, enum_entry
from azkz.tables.typed import constant_value


def polars_dtype(f: Field):
    return fields.polars_dtype(f.type)


# Types whose bounds and enum entries, written as text, are read as a cell of the field.
READ_AS_CELL = ("number", "integer", "year", "date", "time", "datetime", "yearmonth", "boolean")


def _constant(f: Field, value: Any):
    """A bound or enum entry in the column's own type: text is read as a cell of the
    field is (`constant_value`, as validation reads it); a JSON number is itself."""
    return constant_value(f, value) if isinstance(value, str) and f.type in READ_AS_CELL else value


def field_checks(f: Field) -> list:
    """pandera checks for one field's constraints (missing values are not checked)."""
    import pandera.polars as pa

    c = f.constraints
    if f.type in (*ENUM_TYPES, *LENGTH_TYPES):
        return _structured_checks(f)
    checks = []
    if c.get("enum"):
        checks.append(pa.Check.isin([_constant(f, v) for v in c["enum"]]))
    if c.get("pattern") is not None and f.type == "string":
        # Frictionless patterns must match the whole value.
        checks.append(pa.Check.str_matches(rf"^(?:{c['pattern']})$"))
    for key in fields.VALUE_BOUNDS:
        if c.get(key) is not None:
            check = getattr(pa.Check, fields.CONSTRAINTS[key].pandera)
            checks.append(check(_constant(f, c[key])))
    if c.get("minLength") is not None or c.get("maxLength") is not None:
        checks.append(pa.Check.str_length(c.get("minLength"), c.get("maxLength")))
    return checks


def _structured_checks(f: Field) -> list:
    """enum and lengths of a JSON, list or geopoint column, which holds the validated
    text: each cell is read as Frictionless reads it (`azkz.tables.structured.cell_value`)
    and compared in Python, cell by cell (these types are rare and their columns short).
    """
    import pandera.polars as pa

    c, checks = f.constraints, []
    if c.get("enum"):
        entries = [enum_entry(f, e) for e in c["enum"]]
        checks.append(
            pa.Check(lambda text: cell_value(f, text) in entries, element_wise=True, name="isin")
        )
    low, high = c.get("minLength"), c.get("maxLength")
    if low is not None or high is not None:
        low, high = low or 0, float("inf") if high is None else high
        checks.append(
            pa.Check(
                lambda text: low <= len(cell_value(f, text)) <= high,
                element_wise=True,
                name="length",
            )
        )
    return checks


def pandera_schema(table: Table, rows_only: bool = False, fields: list[Field] | None = None):
    """The `pandera.polars.DataFrameSchema` of a table: strict columns in schema order.

    `rows_only` leaves out the uniqueness checks (primary key, `unique` fields): what
    is left holds for any batch of rows on its own (`check_table` checks keys apart).
    `fields`: the contract of those columns only (a frame holding just them).
    """
    import pandera.polars as pa

    columns = {
        f.name: pa.Column(
            polars_dtype(f),
            checks=field_checks(f),
            nullable=not f.required,
            unique=not rows_only and f.name in _unique_fields(table),
            description=f.description or None,
        )
        for f in (table.fields if fields is None else fields)
    }
    return pa.DataFrameSchema(
        columns,
        name=table.name,
        strict=True,
        ordered=True,
        unique=None if rows_only else (table.primary_key or None),
    )


def cast_fields(table: Table) -> list[Field]:
    """Fields whose typed value a cast made (any DuckDB type but VARCHAR).

    A VARCHAR column of a typed table holds the cell's text as validated (or NULL
    where it was missing), so its contract repeats the validator's checks on the same
    text; a cast to a number, date, boolean... could still get a valid cell wrong.
    """
    return [f for f in table.fields if f.duckdb_type != "VARCHAR"]


def _unique_fields(table: Table) -> list[str]:
    """Fields with `unique: true` that are not the whole primary key on their own."""
    return [
        f.name
        for f in table.fields
        if f.constraints.get("unique") and [f.name] != table.primary_key
    ]


def key_schemas(
    table: Table, primary_key: bool = True, fields: list[Field] | None = None
) -> list[tuple[list[str], Any]]:
    """One (columns, schema) per uniqueness rule: the primary key (unless not
    `primary_key`), then each unique field (of `fields` only, when given)."""
    import pandera.polars as pa

    def column(name: str, unique: bool = False):
        return pa.Column(polars_dtype(table.field(name)), nullable=True, unique=unique)

    rules = []
    if table.primary_key and primary_key:
        columns = {n: column(n) for n in table.primary_key}
        rules.append((table.primary_key, pa.DataFrameSchema(columns, unique=table.primary_key)))
    names = None if fields is None else {f.name for f in fields}
    for name in _unique_fields(table):
        if names is not None and name not in names:
            continue
        rules.append(([name], pa.DataFrameSchema({name: column(name, unique=True)})))
    return rules


def check_frame(table: Table, frame, schema=None, rows=None) -> list[dict[str, Any]]:
    """Every contract failure of a typed polars frame, as report error records.

    `line` is None (a frame has no file lines); the 0-based row is in the message:
    the frame's own, or `rows[i]` for its i-th row when it holds a part of a table.
    `schema` defaults to the table's whole contract.  An empty list means the frame
    honours it.
    """
    import pandera.errors

    try:
        (schema or pandera_schema(table)).validate(frame, lazy=True)
    except pandera.errors.SchemaErrors as exc:
        return _records(table, exc.failure_cases, rows)
    return []


BATCH_ROWS = 250_000
ROW = "azkz_row"  # a frame's column holding each row's number in its table


def check_table(
    table: Table, cursor, primary_key: bool = True, fields: list[Field] | None = None
) -> list[dict[str, Any]]:
    """The contract of the typed table `table.name` in DuckDB, in parts of bounded size.

    The row checks run on batches of `BATCH_ROWS` rows; each uniqueness rule runs on
    its key columns only, split by a hash of them so that equal keys meet in the same
    part.  At 1M rows the whole frame at once took about 900 MB (benchmarks/build.md).
    Without `primary_key` the primary key's uniqueness is left to the caller; with
    `fields`, only those columns are read and checked (rows and `unique` fields).
    """
    import polars as pl

    name = quote_ident(table.name)
    rows_schema = pandera_schema(table, rows_only=True, fields=fields)
    columns = "*" if fields is None else ident_list(f.name for f in fields)
    errors, first = [], 0
    if columns:
        for batch in cursor.sql(f"SELECT {columns} FROM {name}").to_arrow_reader(BATCH_ROWS):
            frame = pl.from_arrow(batch)
            errors += check_frame(table, frame, rows_schema, range(first, first + frame.height))
            first += frame.height
        if first == 0:  # no batch at all: the columns are still checked
            frame = cursor.sql(f"SELECT {columns} FROM {name}").pl()
            errors += check_frame(table, frame, rows_schema)
    else:
        first = cursor.sql(f"SELECT count(*) FROM {name}").fetchall()[0][0]
    parts = max(1, -(-first // BATCH_ROWS))
    for key, schema in key_schemas(table, primary_key, fields):
        keys = ident_list(key)
        for part in range(parts):
            frame = cursor.sql(
                f"SELECT {keys}, rowid AS {ROW} FROM {name} WHERE hash({keys}) % {parts} = {part}"
            ).pl()
            errors += check_frame(table, frame.drop(ROW), schema, frame[ROW])
    return errors


# pandera check names -> the vocabulary's error types; other checks are constraints.
CHECK_KINDS = {
    "multiple_fields_uniqueness": errors.PRIMARY_KEY,
    "field_uniqueness": errors.UNIQUE_ERROR,
    "column_in_dataframe": errors.MISSING_LABEL,
    "column_in_schema": errors.EXTRA_LABEL,
    "column_ordered": errors.INCORRECT_LABEL,
}


def _kind(check: str) -> errors.ErrorType:
    if check.startswith("dtype(") or check == "coerce_dtype":
        return errors.TYPE_ERROR
    return CHECK_KINDS.get(check, errors.CONSTRAINT_ERROR)


def _records(table: Table, failures, rows=None) -> list[dict[str, Any]]:

    records = []
    for case in failures.iter_rows(named=True):
        check = str(case.get("check"))
        row = case.get("index")
        if row is not None and rows is not None:
            row = rows[row]
        where = f"row {row}: " if row is not None else ""
        column = case.get("column")
        records.append(
            error(
                table.name,
                table.path,
                None,
                column if column in table.field_names else None,
                _kind(check),
                f"{where}{case.get('failure_case')!r} fails {check}",
            )
        )
    return records
