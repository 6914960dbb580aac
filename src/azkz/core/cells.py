"""A cell as text, and as a value JSON can hold: one spelling for every output.

`azkz query` (CSV, Markdown, the table), the catalogue site, its charts, `azkz diff` and
the release's CHANGELOG.md all write a cell through `cell_text`, and every JSON output
(`azkz query --format json`, `azkz diff --format json`, changes.json) through
`json_value`, so that a value reads the same wherever it is shown.  Only the spelling of
NULL belongs to the output (`null`): empty in CSV and on the site, as the data files
write a missing value; a sign in a table or a diff, where an empty cell would be missed.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
import uuid
from typing import Any

WHOLE_LIMIT = 1e16  # whole floats below it are written as integers (`whole_as_int`)


def iso_duration(value: dt.timedelta) -> str:
    """ISO 8601 duration (`P1DT3H`, `-PT1H30M`, `PT0.5S`) of a DuckDB INTERVAL.

    A string rather than seconds so that days stay visible; DuckDB hands Python a
    `timedelta`, in which a month is already 30 days.
    """
    micros = (value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds
    sign, micros = ("-" if micros < 0 else ""), abs(micros)
    days, micros = divmod(micros, 86_400_000_000)
    hours, micros = divmod(micros, 3_600_000_000)
    minutes, micros = divmod(micros, 60_000_000)
    seconds = f"{micros // 1_000_000}.{micros % 1_000_000:06d}".rstrip("0").rstrip(".")
    time = "".join(
        f"{n}{unit}"
        for n, unit in ((hours, "H"), (minutes, "M"), (seconds, "S"))
        if n not in (0, "0")
    )
    text = (f"{days}D" if days else "") + (f"T{time}" if time else "")
    return f"{sign}P{text or 'T0S'}"


def json_value(value: Any, whole: bool = False) -> Any:
    """A value JSON can hold, for every type DuckDB returns.

    Dates and times: ISO 8601 text; INTERVAL: ISO 8601 duration; UUID: text; NaN and
    ±Infinity: null (JSON has no such numbers); DECIMAL: a number (double precision);
    BLOB: hex; LIST/ARRAY/STRUCT/MAP: recursively; anything else: its text.  `whole`:
    whole floats become integers (`whole_as_int`), as `azkz query` writes them; the diff
    and changes.json keep a float a float, so a release's files do not change with it.
    """
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float | decimal.Decimal):
        finite = value.is_finite() if isinstance(value, decimal.Decimal) else math.isfinite(value)
        if not finite:
            return None
        return whole_as_int(float(value)) if whole else float(value)
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return iso_duration(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, list | tuple):
        return [json_value(v, whole) for v in value]
    if isinstance(value, dict):
        return {str(k): json_value(v, whole) for k, v in value.items()}
    if isinstance(value, uuid.UUID):
        return str(value)
    return str(value)


def whole_as_int(value: float) -> int | float:
    """845.0 as 845: a number column's whole values read as integers, as the release's CSV
    writes them.  Only below 1e16, where `repr` still writes every digit; from there on a
    double's repr is an exponent (`1e+16`), and the digits an int would add are not in the
    data."""
    return int(value) if value.is_integer() and abs(value) < WHOLE_LIMIT else value


def cell_text(value: Any, null: str = "") -> str:
    """The one text of a cell; `null` for NULL (the output's own spelling).

    Whole floats without `.0` (`whole_as_int`), other floats in full (`repr`: the shortest
    text that reads back as the same double; `inf`, `nan`); DECIMAL with its declared scale
    (`12.50`); booleans `true`/`false` as the data files write them; dates and times ISO
    8601, intervals ISO 8601 durations, BLOBs hex; nested values as JSON.
    """
    if value is None:
        return null
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(whole_as_int(value))
    if isinstance(value, decimal.Decimal):
        return str(value)
    converted = json_value(value, whole=True)
    if isinstance(converted, list | dict):
        return json.dumps(converted, ensure_ascii=False)
    return str(converted)
