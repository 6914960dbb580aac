"""Typed tables: the CSVs read by DuckDB with an explicit dialect and cast per schema.

Both validation and the release build go through these SQL fragments, so "what a
cell means" is decided in exactly one place, with Frictionless semantics rather
than DuckDB's looser ones (DuckDB would read `yes` as a boolean, `1e3` as a date
component, and so on).
"""

from __future__ import annotations

from contextlib import closing
from pathlib import Path
from typing import Any

from azkz.core.sql import ident_list, quote_ident, quote_literal, scratch_cursor
from azkz.schema.package import Field, Package, Table
from azkz.tables.geojson import geojson_sql


def internal_name(prefix: str, table: Table) -> str:
    """A DuckDB object name for `table`'s `prefix` table or variable, free of user text.

    Resource names may hold `-`, `.`, capitals or non-ASCII letters; some DuckDB options
    (`rejects_table`, `SET VARIABLE`) take a bare identifier, so every internal name is
    the prefix and a digest of the resource name instead of the name itself.
    """
    import hashlib

    digest = hashlib.blake2b(table.name.encode("utf-8"), digest_size=8).hexdigest()
    return f"{prefix}_{digest}"


def raw_csv_sql(path: Path, table: Table, options: str = "") -> str:
    """`read_csv` of every column as text with the package's dialect: never the sniffer.

    A missing value is NULL and nothing else is: each field's `missingValues` (its own,
    else the schema's) are matched quoted or not, as Frictionless does (Python's csv
    module cannot tell `""` from an empty cell), and a cell that is not one of them is
    text, even when empty (`missingValues: []`).  `options` are more `read_csv` options
    (`, store_rejects=true, ...`).

    DuckDB's `nullstr` is one list for every column, so it serves when every field
    uses the schema's list (the fast path: every table of this package).  Otherwise
    every cell is read as text (`force_not_null`: an empty cell stays '') and each
    field's own list is applied in a projection.  (`force_not_null` beside a `nullstr`
    turns a matched cell into '', losing the text, so the two cannot be mixed.)
    """
    columns = ", ".join(f"{quote_literal(f.name)}: 'VARCHAR'" for f in table.fields)
    default = table.missing_values
    shared = bool(default) and all(f.missing_values == default for f in table.fields)
    if shared:
        nulls = f"nullstr=[{', '.join(quote_literal(v) for v in default)}]"
    else:
        nulls = f"force_not_null=[{', '.join(quote_literal(f.name) for f in table.fields)}]"
    read = (
        f"read_csv({quote_literal(str(path))}, auto_detect=false, header=true, delim=',', "
        f"quote='\"', escape='\"', columns={{{columns}}}, strict_mode=true, "
        f"all_varchar=true, null_padding=false, allow_quoted_nulls=true, {nulls}{options})"
    )
    replaced = [_null_when_missing(f) for f in table.fields if f.missing_values]
    if shared or not replaced:
        return read
    return f"(SELECT * REPLACE ({', '.join(replaced)}) FROM {read})"


def reads_empty_lines(table: Table) -> bool:
    """Whether `raw_csv_sql` gives a row for an empty line of a one-column table.

    DuckDB reads the empty line as the empty cell it is (NULL, or '' under
    `force_not_null`) unless `nullstr` is in use without '', where it skips the line.
    (In a wider table an empty line is always skipped.)
    """
    default = table.missing_values
    shared = bool(default) and all(f.missing_values == default for f in table.fields)
    return not shared or "" in default


def _null_when_missing(field: Field) -> str:
    """The column `field` of a `read_csv` with NULL where its cell is a missing value."""
    col = quote_ident(field.name)
    values = ", ".join(quote_literal(v) for v in field.missing_values)
    return f"CASE WHEN {col} IN ({values}) THEN NULL ELSE {col} END AS {col}"


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

    A missing value is already NULL in the text (`raw_csv_sql`); any other text, even
    empty, is a value, so callers tell a failed cast from a missing value by the text
    being NULL or not.
    """
    col = column or quote_ident(field.name)
    if field.type == "string":
        pattern = STRING_FORMATS.get(field.raw.get("format", "default"))
        if pattern is not None:
            return f"CASE WHEN regexp_full_match({col}, {quote_literal(pattern)}) THEN {col} END"
        return col
    if field.type in ("number", "integer"):
        col = number_text_sql(field, col)
    if field.type == "number":
        number = f"CASE WHEN regexp_matches({col}, '{NUMBER_PATTERN}') THEN TRY_CAST({col} AS DOUBLE) END"
        # Overflow gives ±inf; two NULLIFs cost less than isfinite() and a second cast.
        return f"NULLIF(NULLIF({number}, 'inf'::DOUBLE), '-inf'::DOUBLE)"
    if field.type == "integer":
        return f"CASE WHEN regexp_matches({col}, '{_INTEGER}') THEN TRY_CAST({col} AS BIGINT) END"
    pattern = field.raw.get("format", "default")
    if field.type in ("date", "time", "datetime") and pattern != "default":
        return _pattern_cast(field, col, pattern)
    if field.type in OTHER_TYPES:
        return OTHER_TYPES[field.type](field, col)
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


def constant_sql(field: Field, value: Any) -> str:
    """A constraint's value (a bound, an enum entry) as a value of the field's type.

    Text is read as a cell of the field is (its format, `decimalChar`, `trueValues`…),
    as Frictionless reads it: `"minimum": "-99.99"` on a number, `"01/01/2000"` on a
    date written `%d/%m/%Y`.  A JSON number or boolean is the value itself.  Text the
    field cannot read gives NULL (`azkz.coherence` refuses it first).
    """
    if isinstance(value, str):
        return cast_sql(field, quote_literal(value))
    return f"CAST({quote_literal(value)} AS {field.duckdb_type})"


def constant_value(field: Field, value: Any) -> Any:
    """`constant_sql` evaluated: the Python value DuckDB gives (None when unreadable)."""
    with closing(scratch_cursor()) as con:
        return con.execute(f"SELECT {constant_sql(field, value)}").fetchall()[0][0]


def valid_cast_sql(field: Field) -> str:
    """`cast_sql` for text already validated: the lexical checks are left out.

    Validation proved that every cell of these types passes its check (a cell that
    fails is a `type-error`), so `TRY_CAST` alone gives the same values with about a
    fifth less CPU in a typed load (a regular expression per number cell is the most
    of it).  Text that was not validated must go through `cast_sql`.
    """
    col = quote_ident(field.name)
    form = field.raw.get("format", "default")
    if field.type == "string" and form in STRING_FORMATS:
        return col  # its text matched the format
    if field.type in ("number", "integer"):
        col = number_text_sql(field, col)
    elif field.type not in TRUSTED_CASTS or form != "default":
        return cast_sql(field)
    return f"TRY_CAST({col} AS {TRUSTED_CASTS[field.type]})"


# Types whose valid text DuckDB's own cast reads exactly as `cast_sql` does.
TRUSTED_CASTS = {"number": "DOUBLE", "integer": "BIGINT", "date": "DATE", "year": "INTEGER"}


def _pattern_cast(field: Field, col: str, pattern: str) -> str:
    """A date, time or datetime written with a `format` pattern (`%d/%m/%Y`, ...)."""
    fmt = quote_literal(pattern)
    if field.type == "time":
        return f"CAST(try_strptime('1970-01-01 ' || {col}, '%Y-%m-%d ' || {fmt}) AS TIME)"
    return f"CAST(try_strptime({col}, {fmt}) AS {field.duckdb_type})"


_DATETIME = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$"
_TIME = r"^\d{2}:\d{2}:\d{2}(\.\d+)?$"
_YEARMONTH = r"^\d{4}-\d{2}$"
_DURATION = r"^P(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$"
GEOPOINT_TEXT = r"^\s*([+-]?\d+(\.\d+)?)\s*,\s*([+-]?\d+(\.\d+)?)\s*$"


def _datetime(field: Field, col: str) -> str:
    """ISO 8601 date and time; `Z` is UTC and an offset is applied, giving UTC."""
    local = f"TRY_CAST(regexp_extract({col}, '^[^TZ+]*T[0-9:.]*') AS TIMESTAMP)"
    sign = f"CASE WHEN {col} LIKE '%-__:__' THEN 1 ELSE -1 END"
    offset = (
        f"CASE WHEN regexp_matches({col}, '[+-][0-9][0-9]:[0-9][0-9]$') THEN {sign} * "
        f"(TRY_CAST(substr({col}, -5, 2) AS INTEGER) * 60 + "
        f"TRY_CAST(substr({col}, -2, 2) AS INTEGER)) ELSE 0 END"
    )
    return (
        f"CASE WHEN regexp_matches({col}, {quote_literal(_DATETIME)}) "
        f"THEN {local} + to_minutes(({offset})::BIGINT) END"
    )


def _text_when(condition: str, col: str) -> str:
    """The cell's own text where `condition` holds (types kept as text in DuckDB)."""
    return f"CASE WHEN {condition} THEN {col} END"


def _json_of(kind: str):
    def cast(field: Field, col: str) -> str:
        valid = f"json_valid({col}) AND json_type(TRY_CAST({col} AS JSON)) = '{kind}'"
        if field.type == "geojson":  # Frictionless's GeoJSON profile, as SQL
            valid += f" AND {geojson_sql(col)}"
        return _text_when(f"({col} <> '' AND {valid})", col)

    return cast


def geopoint_sql(field: Field, col: str) -> tuple[str, str]:
    """The cell's longitude and latitude as DOUBLE (NULL where its text does not give
    one), read in the field's `format`: `lon, lat` (default), a JSON array `[lon, lat]`
    or a JSON object with exactly the keys `lon` and `lat`."""
    form = field.raw.get("format", "default")
    if form == "default":
        return tuple(
            f"TRY_CAST(regexp_extract({col}, {quote_literal(GEOPOINT_TEXT)}, {group}) AS DOUBLE)"
            for group in (1, 3)
        )
    json = f"(CASE WHEN json_valid({col}) THEN TRY_CAST({col} AS JSON) END)"
    if form == "array":
        shape = f"json_type({json}) = 'ARRAY' AND json_array_length({json}) = 2"
        paths = ("$[0]", "$[1]")
    else:
        shape = f"json_type({json}) = 'OBJECT' AND len(json_keys({json})) = 2"
        paths = ("$.lon", "$.lat")
    return tuple(
        f"(CASE WHEN {shape} THEN {_coordinate(f'json_extract({json}, {path!r})')} END)"
        for path in paths
    )


# A coordinate given as a JSON string: the number Python's Decimal reads, spaces around.
COORDINATE_TEXT = r"^\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*$"


def _coordinate(element: str) -> str:
    """A JSON number, boolean (1 or 0) or numeric string as DOUBLE, as Frictionless reads
    a coordinate of the `array` and `object` formats (through Python's Decimal).  Any
    other JSON value gives NULL (its text is not a number)."""
    text = f"json_extract_string({element}, '$')"
    return (
        f"CASE json_type({element}) WHEN 'BOOLEAN' THEN CAST({text} = 'true' AS DOUBLE) "
        f"WHEN 'VARCHAR' THEN TRY_CAST(regexp_extract({text}, "
        f"{quote_literal(COORDINATE_TEXT)}, 1) AS DOUBLE) ELSE TRY_CAST({text} AS DOUBLE) END"
    )


def _geopoint(field: Field, col: str) -> str:
    """A point in the field's format, each coordinate within its range."""
    lon, lat = geopoint_sql(field, col)
    return _text_when(f"({lon} BETWEEN -180 AND 180 AND {lat} BETWEEN -90 AND 90)", col)


def _list(field: Field, col: str) -> str:
    """A delimited list (Table Schema v2), each item of `itemType` (string by default)."""
    delimiter = quote_literal(field.raw.get("delimiter", ","))
    item_type = field.raw.get("itemType", "string")
    item = (
        "true" if item_type == "string" else f"({cast_sql(list_item(item_type), 'x')}) IS NOT NULL"
    )
    items = f"string_split({col}, {delimiter})"
    # An empty text (a value where `missingValues` leaves it one) is the list of one
    # empty item, as in Frictionless: valid for string items only.
    return _text_when(f"list_bool_and(list_transform({items}, lambda x: {item}))", col)


# Table Schema v2's item types; an item is read in its type's default format.
LIST_ITEM_TYPES = ("string", "integer", "number", "boolean", "date", "time", "datetime")


def list_item(item_type: str) -> Field:
    """A field of `item_type` with no other property: how one item of a list is read."""
    return Field("item", item_type, "", {}, {"type": item_type})


# Types DuckDB holds as their own kind (TIME, TIMESTAMP) or as the validated text.
OTHER_TYPES = {
    "any": lambda field, col: col,
    "datetime": _datetime,
    "time": lambda field, col: _text_when(
        f"regexp_matches({col}, {quote_literal(_TIME)})", f"TRY_CAST({col} AS TIME)"
    ),
    "yearmonth": lambda field, col: _text_when(
        f"regexp_matches({col}, {quote_literal(_YEARMONTH)}) AND "
        f"TRY_CAST({col} || '-01' AS DATE) IS NOT NULL AND NOT starts_with({col}, '0000')",
        col,
    ),
    "duration": lambda field, col: _text_when(
        f"regexp_matches({col}, {quote_literal(_DURATION)}) AND {col} NOT IN ('P', 'PT') "
        f"AND NOT ends_with({col}, 'T')",
        col,
    ),
    "geopoint": _geopoint,
    "geojson": _json_of("OBJECT"),
    "object": _json_of("OBJECT"),
    "array": _json_of("ARRAY"),
    "list": _list,
}


def typed_select_sql(table: Table, source: str, valid: bool = False) -> str:
    """SELECT that yields the typed table from a relation of raw text columns
    (`valid`: the text was validated, see `valid_cast_sql`)."""
    cast = valid_cast_sql if valid else cast_sql
    columns = ", ".join(
        f"CAST({cast(f)} AS {f.duckdb_type}) AS {quote_ident(f.name)}" for f in table.fields
    )
    return f"SELECT {columns} FROM {source}"


def key_order(table: Table) -> str:
    """ORDER BY list that sorts a table's rows by the fields naming them (else all)."""
    return ident_list(table.row_key) or "ALL"


def load_tables(package: Package, con, valid: bool = False) -> None:
    """Create one typed DuckDB table per stored resource (a cell failing its type becomes NULL).

    Derived tables without a file (`annual_series` in the working tree) are not read
    here: the caller computes them from these (`azkz.derive.annual_series.derive_tables`),
    so the typed reader knows nothing of the derivations.  `valid`: the package was
    validated (or is, before the tables are used), so the casts skip their lexical checks
    (`valid_cast_sql`).
    """
    for table in package.stored_tables:
        raw = raw_csv_sql(package.file(table), table)
        typed = typed_select_sql(table, raw, valid)
        con.execute(f"CREATE OR REPLACE TABLE {quote_ident(table.name)} AS {typed}")


def sort_tables(tables: list[Table], con) -> None:
    """Store each typed table sorted by `key_order`, so readers that want that order scan
    it as stored (a table already in that order is left as it is)."""
    for table in tables:
        if not in_key_order(table, con):
            name = quote_ident(table.name)
            con.execute(
                f"CREATE OR REPLACE TABLE {name} AS FROM {name} ORDER BY {key_order(table)}"
            )


def in_key_order(table: Table, con) -> bool:
    """Whether the rows of `table`'s typed table are stored in `key_order` already.

    A package that passes `azkz fmt --check` has its files sorted by primary key, so a
    build need not sort them again: comparing each row's key with the next one's costs
    about half of sorting 1M rows (benchmarks/build.md).  The rows are paired by their
    stored position (POSITIONAL JOIN), and a row key compared as a STRUCT orders as
    ORDER BY does, field by field with NULLs last.  A table without a row key is sorted
    by all its columns, always.
    """
    if not table.row_key:
        return False
    key, name = f"({ident_list(table.row_key)})", quote_ident(table.name)
    [(disorder,)] = con.execute(
        f"SELECT count(*) FROM (SELECT {key} AS k FROM {name}) AS this "
        f"POSITIONAL JOIN (SELECT {key} AS k FROM {name} OFFSET 1) AS next "
        f"WHERE this.k > next.k"
    ).fetchall()
    return disorder == 0
