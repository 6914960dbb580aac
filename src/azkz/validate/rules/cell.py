"""Row checks: each field constraint and declared rule of a table as a SQL condition.

A `RowCheck` is evaluated on every row of a table's text columns and their typed values
(`typed_source`); true means the row breaks it.  The facts behind each field check (type
forms, bounds and their words) come from `azkz.schema.fields`;
`azkz.validate.rules.declared` builds the declared rules from these pieces, and
`azkz.validate.rules.row` runs them all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from azkz.core.errors import BLANK_ROW, CONSTRAINT_ERROR, PRIMARY_KEY, TYPE_ERROR, ErrorType
from azkz.core.sql import quote_ident, quote_literal
from azkz.schema.fields import CONSTRAINTS, LENGTH_BOUNDS, TYPES, VALUE_BOUNDS
from azkz.schema.package import Field, Table
from azkz.tables.structured import (
    ENUM_TYPES,
    enum_sql,
    enum_words,
    length_message,
    length_sql,
)
from azkz.tables.typed import (
    NUMBER_PATTERN,
    cast_sql,
    constant_sql,
    internal_name,
    number_text_sql,
)


def as_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return list(value) if isinstance(value, list) else []


def raw_name(table: Table) -> str:
    return quote_ident(internal_name("raw", table))


@dataclass(frozen=True)
class RowCheck:
    """One rule evaluated on every row: SQL condition true = error in `field`.

    `message` is a `str.format` template with positional placeholders only (`{0!r}`),
    filled with the raw values of the fields in `quotes`: a field name never becomes
    a placeholder, and schema text in a template has its braces doubled (`literal_text`).
    """

    kind: ErrorType
    field: str | None  # None: an error about the whole row
    condition: str
    message: str
    quotes: tuple[str, ...] = ()  # fields whose raw values fill {0}, {1}, ...
    inputs: tuple[str, ...] = ()  # fields the condition reads, when not just `field`
    # A regular expression or a list lookup: on a large table, worth running once per
    # distinct value rather than once per row (`profile_plan`).
    costly: bool = False
    # A cheaper condition true on every row the check fails (and maybe a few more):
    # what a profile evaluates on every row to learn whether the check can fail.
    screen: str | None = None

    @property
    def reads(self) -> tuple[str, ...]:
        return self.inputs or (self.field,)

    def text(self, values: dict[str, str]) -> str:
        return self.message.format(*(values[name] for name in self.quotes))


def typed(f: Field) -> str:
    return quote_ident(f"_typed_{f.name}")


def literal_text(value: Any) -> str:
    """Schema or user text inside a message template: braces are not placeholders."""
    return str(value).replace("{", "{{").replace("}", "}}")


def value_check(f: Field, kind: ErrorType, condition: str, message: str, **more) -> RowCheck:
    """A check of one field whose message quotes the cell as {0!r}."""
    return RowCheck(kind, f.name, condition, message, (f.name,), **more)


def field_checks(f: Field) -> list[RowCheck]:
    raw, t = quote_ident(f.name), typed(f)
    name = literal_text(f.name)
    checks = []
    if f.required:
        checks.append(
            RowCheck(
                CONSTRAINT_ERROR,
                f.name,
                f"({raw} IS NULL)",  # a missing value (`raw_csv_sql`)
                f"{name} is required but the cell is {literal_text(missing_words(f))}",
            )
        )
    if f.type == "number":
        checks += number_type_checks(f)
    elif f.type not in ("string", "any") or f.raw.get("format", "default") != "default":
        form = type_form(f)
        checks.append(
            value_check(
                f,
                TYPE_ERROR,
                f"({raw} IS NOT NULL AND {t} IS NULL)",
                f"{{0!r}} is not of type {f.type}: expected {literal_text(form)}",
            )
        )
    c = f.constraints
    if c.get("enum"):
        checks.append(enum_check(f))
    if c.get("pattern") is not None and f.type == "string":
        checks.append(
            value_check(
                f,
                CONSTRAINT_ERROR,
                f"NOT regexp_full_match({t}, {quote_literal(c['pattern'])})",
                f"{{0!r}} does not match the pattern {literal_text(c['pattern'])}",
                costly=True,
            )
        )
    for key in (*VALUE_BOUNDS, *LENGTH_BOUNDS):
        if c.get(key) is None:
            continue
        bound = CONSTRAINTS[key]
        if bound.measures == "length":
            # Read from the valid value: Frictionless checks no constraint of a cell
            # that is not of its type (a string in the wrong `format` included).
            measured = length_sql(f, t)
            condition = f"({measured} {bound.breaks} {int(c[key])})"
            broken = literal_text(length_message(f, key, int(c[key])))
        else:
            condition = f"({t} {bound.breaks} {constant_sql(f, c[key])})"
            broken = f"is {bound.breaking} {literal_text(c[key])}"
        checks.append(value_check(f, CONSTRAINT_ERROR, condition, f"{{0!r}} {broken}"))
    return checks


def missing_row_checks(table: Table) -> list[RowCheck]:
    """A row whose every cell is a missing value (`NA,NA` under `["", "NA"]`) is a
    `blank-row`, as in Frictionless.  Rows of empty cells the byte scan finds (`,,`);
    this is for missing values that are not empty, so only where a field has one."""
    if all(set(f.missing_values) <= {""} for f in table.fields):
        return []
    missing = " AND ".join(f"{quote_ident(f.name)} IS NULL" for f in table.fields)
    return [
        RowCheck(
            BLANK_ROW,
            None,
            f"({missing})",
            "every cell of the row is a missing value",
            inputs=tuple(table.field_names),
        )
    ]


def empty_key_checks(table: Table) -> list[RowCheck]:
    """A row whose primary key cells are all missing or unreadable: a `primary-key`
    error, as in Frictionless ("cells composing the primary keys are all None")."""
    if not table.primary_key:
        return []
    names = table.primary_key
    empty = " AND ".join(f"{typed(table.field(n))} IS NULL" for n in names)
    return [
        RowCheck(
            PRIMARY_KEY,
            names[0],
            f"({empty})",
            f"the primary key ({literal_text(', '.join(names))}) is empty or not of its type: "
            "every row needs one",
            inputs=tuple(names),
        )
    ]


def enum_check(f: Field) -> RowCheck:
    """The cell is one of the enum's entries: compared as typed values, or as parsed
    values for JSON and geopoint fields (`azkz.tables.structured`)."""
    t = typed(f)
    if f.type in ENUM_TYPES:
        condition, shown = enum_sql(f, t), enum_words(f)
    else:
        allowed = ", ".join(constant_sql(f, v) for v in f.constraints["enum"])
        condition = f"({t} NOT IN ({allowed}))"
        shown = ", ".join(str(v) for v in f.constraints["enum"])
    return value_check(
        f,
        CONSTRAINT_ERROR,
        condition,
        f"{{0!r}} is not one of the allowed values: {literal_text(shown)}",
        costly=True,
    )


def missing_words(f: Field) -> str:
    """What a missing cell of `f` looks like, for messages ("empty" by default)."""
    if f.missing_values == ("",):
        return "empty"
    return "a missing value (" + ", ".join(repr(v) for v in f.missing_values) + ")"


# Frictionless's literal non-finite numbers (its cast also takes other spellings).
NON_FINITE = r"^[+-]?(nan|inf|infinity)$"


def number_type_checks(f: Field) -> list[RowCheck]:
    """`type-error`s of a number, one message per reason: the cast gives NULL for all three.

    `NaN`/`INF` are valid Frictionless numbers but refused here (docs/decisions.md):
    the message says so, rather than calling them "not a number".
    """
    raw, t = quote_ident(f.name), typed(f)
    text = number_text_sql(f, raw)
    failed = f"({raw} IS NOT NULL AND {t} IS NULL)"
    literal = f"regexp_matches({text}, {quote_literal(NUMBER_PATTERN)})"
    non_finite = f"regexp_matches({text}, {quote_literal(NON_FINITE)}, 'i')"
    return [
        value_check(
            f,
            TYPE_ERROR,
            f"({failed} AND NOT {literal} AND NOT {non_finite})",
            f"{{0!r}} is not of type number: expected {literal_text(number_form(f))}",
            screen=failed,
        ),
        value_check(
            f,
            TYPE_ERROR,
            f"({failed} AND {literal})",
            "{0!r} is out of range: a number must be finite (at most about 1.8e308)",
            screen=failed,
        ),
        value_check(
            f,
            TYPE_ERROR,
            f"({failed} AND {non_finite})",
            "{0!r} is not accepted: NaN and infinities are refused, because values are "
            "amounts as sources state them (write the number the source gives)",
            screen=failed,
        ),
    ]


def type_form(f: Field) -> str:
    """What a cell of `f` must look like, for type-error messages."""
    if f.type == "string":
        return f"a valid {f.raw['format']}"
    if f.type == "list":
        item = f.raw.get("itemType", "string")
        return f"a list of {item} items separated by {f.raw.get('delimiter', ',')!r}"
    if f.type == "geopoint" and f.raw.get("format") in GEOPOINT_FORMS:
        return GEOPOINT_FORMS[f.raw["format"]]
    if f.raw.get("format", "default") != "default":
        return f"{f.type} written as {f.raw['format']}"
    return TYPES[f.type].form.format(true_false=", ".join(f.true_values + f.false_values))


GEOPOINT_FORMS = {
    "array": "a point as a JSON array [longitude, latitude]",
    "object": 'a point as a JSON object {"lon": longitude, "lat": latitude}',
}


def number_form(f: Field) -> str:
    """How a number of `f` is written, for type-error messages."""
    decimal, group = f.raw.get("decimalChar", "."), f.raw.get("groupChar")
    form = f"a number such as 12 or 3{decimal}5"
    if group:
        form += f" (thousands may be grouped with {group!r})"
    if f.raw.get("bareNumber") is False:
        form += ", with any text before or after it"
    return form


def typed_source(table: Table) -> str:
    """Raw text columns, their typed values and the row number, from the loaded table."""
    columns = ", ".join(
        [quote_ident(f.name) for f in table.fields]
        + [f"{cast_sql(f)} AS {typed(f)}" for f in table.fields]
    )
    return f"(SELECT rowid AS _row, {columns} FROM {raw_name(table)})"
