"""Length and enum of structured cells: JSON (array, object, geojson), list and geopoint.

Frictionless reads such a cell into a Python value before checking its constraints: the
length of an array or a list is its number of items and an object's its number of keys,
and an enum entry matches when the two values are equal as Python compares them (`1`,
`1.0` and `true` are equal; the order of an object's keys does not count).  The SQL here
gives the same answers on the cell's validated text.  An enum's entries are known when
the SQL is written, so each becomes a structural comparison (the JSON type, the size,
then each member in turn) rather than a comparison of texts, which would tell `{"a": 1,
"b": 2}` from `{"b": 2, "a": 1}`.  The same readings in Python serve the pandera
contracts (`azkz.validate.contracts`) and the checks of enum entries (`azkz.validate.descriptor`).

Frictionless has no enum on `list` and no length on `geopoint` and `geojson`: those stay
schema-errors, as there.
"""

from __future__ import annotations

import json
import re
from typing import Any

from azkz.core.sql import quote_literal
from azkz.schema.fields import CONSTRAINTS, length_unit
from azkz.schema.package import Field
from azkz.tables.typed import COORDINATE_TEXT, GEOPOINT_TEXT, geopoint_sql

LENGTH_TYPES = ("array", "object", "list")  # minLength/maxLength count items or keys
ENUM_TYPES = ("array", "object", "geojson", "geopoint")  # enum compares parsed values
_JSON_KINDS = {"array": list, "object": dict, "geojson": dict}


def length_sql(f: Field, col: str) -> str:
    """The length Frictionless checks against minLength/maxLength: characters of a
    string, items of an array or a list, keys of an object (NULL when `col` is)."""
    if f.type == "array":
        return f"json_array_length({col})"
    if f.type == "object":
        return f"len(json_keys({col}))"
    if f.type == "list":
        return f"len(string_split({col}, {quote_literal(f.raw.get('delimiter', ','))}))"
    return f"length({col})"


def length_message(f: Field, key: str, bound: int) -> str:
    """What a cell breaking the length bound `key` is: "... is shorter than 3 characters",
    "... has fewer than 2 items"."""
    unit = length_unit(f.type, bound)
    if f.type not in LENGTH_TYPES:
        return f"is {CONSTRAINTS[key].breaking} {bound} {unit}"
    return f"has {'fewer' if key == 'minLength' else 'more'} than {bound} {unit}"


def enum_entry(f: Field, entry: Any) -> Any:
    """An enum entry of a structured field as the value a cell is compared with.

    Frictionless reads an entry as it reads a cell (a string in the field's format) or
    takes it as the value itself (a JSON array or object, a `[lon, lat]` pair); an entry
    it cannot read never matches.  Here such an entry is a ValueError, for a
    schema-error: an allowed value no cell can have is a mistake in the schema.
    """
    if f.type == "geopoint":
        point = geopoint_value(f, entry) if isinstance(entry, str) else _pair(entry)
        if point is None:
            form = f.raw.get("format", "default")
            raise ValueError(f"{entry!r} is not a point in the field's format ({form})")
        return point
    kind = _JSON_KINDS[f.type]
    value = entry
    if isinstance(entry, str):
        try:
            value = json.loads(entry)
        except ValueError:
            value = None
    if not isinstance(value, kind) or (f.type == "geojson" and "type" not in value):
        raise ValueError(f"{entry!r} is not {'an array' if kind is list else 'an object'}")
    return value


def enum_sql(f: Field, col: str) -> str:
    """SQL true when the valid cell `col` (NULL: not checked) equals no enum entry."""
    entries = [enum_entry(f, e) for e in f.constraints["enum"]]
    if f.type == "geopoint":
        lon, lat = geopoint_sql(f, col)
        points = ", ".join(f"[{_double(x)}, {_double(y)}]" for x, y in entries)
        return f"({col} IS NOT NULL AND [{lon}, {lat}] NOT IN ({points}))"
    cell = f"TRY_CAST({col} AS JSON)"
    equal = " OR ".join(f"coalesce({json_equal_sql(cell, e)}, false)" for e in entries)
    return f"({col} IS NOT NULL AND NOT ({equal}))"


def enum_words(f: Field) -> str:
    """The enum's entries as written in the schema, in JSON (a string entry quoted, as
    `"30.5, 40.2"` would read as two entries otherwise)."""
    return ", ".join(json.dumps(e, ensure_ascii=False) for e in f.constraints["enum"])


def json_equal_sql(expr: str, value: Any) -> str:
    """SQL true when the JSON `expr` equals `value` as Python compares parsed JSON."""
    kind = f"json_type({expr})"
    if isinstance(value, dict):
        parts = [f"{kind} = 'OBJECT'", f"len(json_keys({expr})) = {len(value)}"]
        parts += [
            json_equal_sql(f"json_extract({expr}, {quote_literal(_pointer(k))})", v)
            for k, v in value.items()
        ]
    elif isinstance(value, list):
        parts = [f"{kind} = 'ARRAY'", f"json_array_length({expr}) = {len(value)}"]
        parts += [json_equal_sql(f"json_extract({expr}, '$[{i}]')", v) for i, v in enumerate(value)]
    elif value is None:
        parts = [f"{kind} = 'NULL'"]
    elif isinstance(value, str):
        text = f"json_extract_string({expr}, '$')"
        parts = [f"{kind} = 'VARCHAR'", f"{text} = {quote_literal(value)}"]
    elif value != value:  # NaN equals nothing
        parts = ["false"]
    else:  # a number or a boolean: Python has True == 1 == 1.0
        text = f"json_extract_string({expr}, '$')"
        number = (
            f"(CASE {kind} WHEN 'BOOLEAN' THEN CAST({text} = 'true' AS DOUBLE) "
            f"ELSE TRY_CAST({text} AS DOUBLE) END)"
        )
        parts = [
            f"{kind} NOT IN ('VARCHAR', 'NULL', 'ARRAY', 'OBJECT')",
            f"{number} = {_double(value)}",
        ]
    return "(" + " AND ".join(parts) + ")"


def _pointer(key: str) -> str:
    """The JSON pointer of an object key (`~` and `/` escaped, RFC 6901)."""
    return "/" + key.replace("~", "~0").replace("/", "~1")


def _double(value: Any) -> str:
    return f"CAST({quote_literal(repr(_float(value)))} AS DOUBLE)"


def _float(value: int | float) -> float:
    """A JSON number as a double, as DuckDB reads it (an integer past 1.8e308 is infinite)."""
    try:
        return float(value)
    except OverflowError:
        return float("inf") if value > 0 else float("-inf")


def cell_value(f: Field, text: str) -> Any:
    """A valid cell's value as Frictionless compares it (for the pandera contracts)."""
    if f.type == "geopoint":
        return geopoint_value(f, text)
    if f.type == "list":
        return text.split(f.raw.get("delimiter", ","))
    return json.loads(text)


def geopoint_value(f: Field, text: str) -> tuple[float, float] | None:
    """(lon, lat) of a point written in the field's format; None if it is not one."""
    form = f.raw.get("format", "default")
    if form == "default":
        match = re.match(GEOPOINT_TEXT, text)
        return _in_range(match and (float(match[1]), float(match[3])))
    try:
        value = json.loads(text)
    except ValueError:
        return None
    if form == "object":
        ok = isinstance(value, dict) and len(value) == 2 and {"lon", "lat"} <= set(value)
        value = [value["lon"], value["lat"]] if ok else None
    if not isinstance(value, list) or len(value) != 2:
        return None
    return _in_range(tuple(_coordinate(v) for v in value))


def _coordinate(value: Any) -> float | None:
    if isinstance(value, bool | int | float):
        return _float(value)
    match = re.match(COORDINATE_TEXT, value) if isinstance(value, str) else None
    return float(match[1]) if match else None


def _pair(value: Any) -> tuple[float, float] | None:
    """A `[lon, lat]` pair of numbers written as JSON in the schema."""
    numbers = isinstance(value, list) and len(value) == 2
    if not numbers or not all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in value
    ):
        return None
    return _in_range((_float(value[0]), _float(value[1])))


def _in_range(point: Any) -> tuple[float, float] | None:
    if not point or None in point:
        return None
    lon, lat = point
    return point if -180 <= lon <= 180 and -90 <= lat <= 90 else None
