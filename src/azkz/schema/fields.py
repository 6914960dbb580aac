"""Field facts, in one table: what each Table Schema type and constraint means here.

For each type: its DuckDB column type, its polars dtype and how a cell of it is written
(for type-error messages).  For each constraint: its SQL check (the operator true when
a cell breaks a bound), its pandera check, its wording for readers and which change of
its value tightens it (for `azkz diff`).  `azkz.schema.package`,
`azkz.validate.rules.cell`, `azkz.validate.contracts`, `azkz.publish.docs`,
`azkz.publish.site.pages`, `azkz.diff` and `azkz.validate.descriptor` (which refuses any
constraint not listed here as a schema-error) all read these tables; turning text into
a type is SQL of its own, in `azkz.tables.typed.cast_sql`.  A leaf module: it imports
nothing of azkz.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class TypeFacts:
    duckdb: str  # the column type in DuckDB, Parquet and the release's .duckdb file
    polars: tuple[str, ...]  # the polars dtype: its name in `polars`, then its arguments
    form: str | None = None  # how a cell is written, for messages (None: any text)


# Types kept as VARCHAR hold their validated text: DuckDB has no type that round-trips
# them as written.
TYPES = {
    "string": TypeFacts("VARCHAR", ("String",)),
    "number": TypeFacts("DOUBLE", ("Float64",)),  # its form depends on the field (rules)
    "integer": TypeFacts("BIGINT", ("Int64",), "an integer"),
    "boolean": TypeFacts("BOOLEAN", ("Boolean",), "one of {true_false}"),
    "date": TypeFacts("DATE", ("Date",), "a real date as YYYY-MM-DD"),
    "year": TypeFacts("INTEGER", ("Int32",), "a year as YYYY"),
    # UTC: an offset in the text is applied.
    "datetime": TypeFacts(
        "TIMESTAMP",
        ("Datetime", "us"),
        "a date and time as YYYY-MM-DDThh:mm:ss (optionally Z or +hh:mm)",
    ),
    "time": TypeFacts("TIME", ("Time",), "a time as hh:mm:ss"),
    "yearmonth": TypeFacts("VARCHAR", ("String",), "a year and month as YYYY-MM"),
    "duration": TypeFacts("VARCHAR", ("String",), "an ISO 8601 duration such as P1Y2M or PT36H"),
    "geopoint": TypeFacts("VARCHAR", ("String",), "a point as 'longitude, latitude'"),
    "geojson": TypeFacts("VARCHAR", ("String",), "a GeoJSON object"),
    "object": TypeFacts("VARCHAR", ("String",), "a JSON object"),
    "array": TypeFacts("VARCHAR", ("String",), "a JSON array"),
    "list": TypeFacts(
        "VARCHAR", ("String",), "a list of values separated by the field's delimiter"
    ),
    "any": TypeFacts("VARCHAR", ("String",)),
}


def polars_dtype(type_name: str):
    """The polars dtype of a Table Schema type (imports polars)."""
    import polars as pl

    name, *args = TYPES[type_name].polars
    dtype = getattr(pl, name)
    return dtype(*args) if args else dtype


@dataclass(frozen=True)
class ConstraintFacts:
    """What one Table Schema constraint means, for each part of azkz that uses it."""

    words: str  # for readers (data dictionary, site): `{}` is the constraint's value
    # Which change of its value admits fewer cells (`azkz diff`: a major bump):
    # "higher", "lower", "fewer" (enum values), or "any" (any new or changed value).
    tightens: str
    measures: str | None = None  # "value" or "length": what a bound compares
    breaks: str | None = None  # SQL operator true when the cell breaks the bound
    breaking: str | None = None  # a cell that breaks the bound "is ..." (messages)
    pandera: str | None = None  # the `pandera.Check` of a value bound


CONSTRAINTS = {
    "required": ConstraintFacts("required", "any"),
    "enum": ConstraintFacts("one of {}", "fewer"),
    "pattern": ConstraintFacts("pattern `{}`", "any"),
    "minimum": ConstraintFacts("≥ {}", "higher", "value", "<", "less than the minimum", "ge"),
    "maximum": ConstraintFacts("≤ {}", "lower", "value", ">", "more than the maximum", "le"),
    "exclusiveMinimum": ConstraintFacts(
        "> {}", "higher", "value", "<=", "not more than the exclusive minimum", "gt"
    ),
    "exclusiveMaximum": ConstraintFacts(
        "< {}", "lower", "value", ">=", "not less than the exclusive maximum", "lt"
    ),
    "minLength": ConstraintFacts("at least {} {unit}", "higher", "length", "<", "shorter than"),
    "maxLength": ConstraintFacts("at most {} {unit}", "lower", "length", ">", "longer than"),
    "unique": ConstraintFacts("unique", "any"),
}
VALUE_BOUNDS = tuple(k for k, c in CONSTRAINTS.items() if c.measures == "value")
LENGTH_BOUNDS = tuple(k for k, c in CONSTRAINTS.items() if c.measures == "length")


def length_unit(type_name: str, count: Any = 2) -> str:
    """What minLength/maxLength count in a cell of this type (as Frictionless does),
    in the plural unless `count` is 1."""
    unit = {"array": "items", "list": "items", "object": "keys"}.get(type_name, "characters")
    return unit.removesuffix("s") if count == 1 else unit


def tightened(key: str, before: Any, after: Any) -> bool:
    """Does changing constraint `key` from `before` to `after` admit fewer cells?

    None or False is the constraint's absence.  An unknown key, or values that cannot
    be compared, count as tighter: the change may reject existing cells.
    """
    if after is None or after is False:
        return False  # dropped: looser
    if before is None or before is False:
        return True  # new
    facts = CONSTRAINTS.get(key)
    direction = facts.tightens if facts else "any"
    try:
        if direction == "fewer":
            return not set(map(str, before)) <= set(map(str, after))
        if direction == "higher":
            return after > before
        if direction == "lower":
            return after < before
    except TypeError:
        return True
    return True


def constraint_words(
    constraints: dict[str, Any], show=str, skip: tuple[str, ...] = (), type_name: str = "string"
) -> list[str]:
    """Each constraint in words (Markdown), in the order of `CONSTRAINTS`.

    `show` renders a value; enum values are code spans (JSON for arrays and objects);
    lengths count what `length_unit` says for `type_name`.  The data dictionary and the
    site both word constraints with this, so they cannot disagree.
    """
    words = []
    for key, facts in CONSTRAINTS.items():
        value = constraints.get(key)
        if key in skip or value is None or value is False:
            continue
        if key == "enum":
            value = ", ".join(f"`{show(enum_text(v))}`" for v in value)
        elif "{}" in facts.words:
            value = show(value)
        words.append(facts.words.format(value, unit=length_unit(type_name, constraints[key])))
    return words


def enum_text(value: Any) -> Any:
    """An enum entry as written: JSON for an array or object entry."""
    import json

    return json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else value


def missing_value_words(
    missing_values: tuple[str, ...], kind: str, show=str, labels: tuple[tuple[str, str], ...] = ()
) -> str | None:
    """A field's missing values in words (Markdown), each with its label if it has one
    (`{"value": "NA", "label": "not available"}`), or None for the default (an empty
    cell, unlabelled).  The data dictionary and the site both say it with this."""
    if missing_values == ("",) and not labels:
        return None
    if not missing_values:
        held = "an empty cell is an empty text" if kind == "string" else "every cell holds a value"
        return f"never missing: {held}"
    named = dict(labels)
    shown = (
        ("an empty cell" if v == "" else f"`{show(v)}`")
        + (f" ({show(named[v])})" if v in named else "")
        for v in missing_values
    )
    return "missing: " + ", ".join(shown)
