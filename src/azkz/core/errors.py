"""The one error vocabulary of `azkz validate`: every code, defined once.

Each `ErrorType` carries its code (Frictionless's name where Frictionless has one), a
title, the layer that reports it, the exit status it gives, a message template and a
description.  Error records (`error`, at the end) are made from these objects only, so
no module spells a code as a string, and no code is ever built from a field name.  The
README's error list is generated from `VOCABULARY` (`markdown_list`, kept current by
`azkz docs --check` and a test).

Templates use Frictionless's placeholders (`{note}`, `{cell}`, `{fieldName}`, ...)
to say what a message holds; the messages themselves are written where the problem is
found, with the file, line and field in the record rather than in the text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

LAYERS = {
    "descriptor": "`datapackage.json` and `schemas/*.json` readable and coherent; "
    "nothing else is checked while they are not",
    "file": "the file as a whole and its header",
    "rows": "the rows' structure",
    "fields": "each cell against its field's type and constraints",
    "table": "keys within a table",
    "package": "references between tables",
    "declared": "rules a schema declares with this package's custom properties "
    "(see `docs/data-dictionary.md`); a schema that declares none gets none",
}


@dataclass(frozen=True)
class ErrorType:
    code: str
    title: str
    layer: str
    exit_status: int
    template: str
    description: str

    def __post_init__(self) -> None:
        if self.layer not in LAYERS:
            raise ValueError(f"unknown layer {self.layer!r}")


def _define(
    code: str, title: str, layer: str, template: str, description: str, exit_status: int = 1
) -> ErrorType:
    return ErrorType(code, title, layer, exit_status, template, description)


# ----------------------------------------------------------------------------- descriptor
PACKAGE_ERROR = _define(
    "package-error",
    "Package Error",
    "descriptor",
    "The data package has an error: {note}",
    "`datapackage.json` is missing, not JSON or not a Data Package, or names a resource twice.",
    2,
)
RESOURCE_ERROR = _define(
    "resource-error",
    "Resource Error",
    "descriptor",
    "The data resource has an error: {note}",
    "A resource's path is absolute, a URL, contains `..` or is a symlink leaving the "
    "package (never opened), or a declared encoding is unknown.",
    2,
)
SCHEMA_ERROR = _define(
    "schema-error",
    "Schema Error",
    "descriptor",
    "Schema is not valid: {note}",
    "A schema file is missing or not JSON; a field type, format or property is not "
    "supported (the message names it); a key, reference or declared rule names a missing "
    "field or resource; a pattern is not a valid regular expression.",
    2,
)
DIALECT_ERROR = _define(
    "dialect-error",
    "Dialect Error",
    "descriptor",
    "Dialect is not valid: {note}",
    "A CSV dialect other than comma, double quote and a header row.",
    2,
)

# ----------------------------------------------------------------------------- file
SCHEME_ERROR = _define(
    "scheme-error",
    "Scheme Error",
    "file",
    "The data source could not be successfully loaded: {note}",
    "The resource's file does not exist.",
)
SOURCE_ERROR = _define(
    "source-error",
    "Source Error",
    "file",
    "The data source has not supported or has inconsistent contents: {note}",
    "Not a regular file (a directory or named pipe, never opened), an empty file, a NUL "
    "byte, mixed or lone-CR line endings, a stray quote, or an unterminated quote "
    "(reported at the line where the quote opened).",
)
ENCODING_ERROR = _define(
    "encoding-error",
    "Encoding Error",
    "file",
    "The data source could not be successfully decoded: {note}",
    "Bytes the resource's declared encoding (UTF-8 when none is declared) cannot decode; "
    "a UTF-8 BOM is accepted.",
)
BLANK_LABEL = _define(
    "blank-label",
    "Blank Label",
    "file",
    'Label in the header in field at position "{fieldNumber}" is blank',
    "A header cell is empty.",
)
DUPLICATE_LABEL = _define(
    "duplicate-label",
    "Duplicate Label",
    "file",
    'Label "{label}" in the header at position "{fieldNumber}" is duplicated to a label: {note}',
    "Two header cells have the same text.",
)
INCORRECT_LABEL = _define(
    "incorrect-label",
    "Incorrect Label",
    "file",
    'Label "{label}" in field {fieldName} at position "{fieldNumber}" does not match the field name in the schema',
    "A header cell is not the schema's field name at that position.",
)
MISSING_LABEL = _define(
    "missing-label",
    "Missing Label",
    "file",
    'There is a missing label in the header\'s field "{fieldName}" at position "{fieldNumber}"',
    "The header has fewer cells than the schema has fields.",
)
EXTRA_LABEL = _define(
    "extra-label",
    "Extra Label",
    "file",
    'There is an extra label "{label}" in header at position "{fieldNumber}"',
    "The header has more cells than the schema has fields.",
)

# ----------------------------------------------------------------------------- rows
BLANK_ROW = _define(
    "blank-row",
    "Blank Row",
    "rows",
    'Row at position "{rowNumber}" is completely blank',
    "An empty line, or a row whose cells are all empty.",
)
EXTRA_CELL = _define(
    "extra-cell",
    "Extra Cell",
    "rows",
    'Row at position "{rowNumber}" has an extra value in field at position "{fieldNumber}"',
    "A row has more cells than the header.",
)
MISSING_CELL = _define(
    "missing-cell",
    "Missing Cell",
    "rows",
    'Row at position "{rowNumber}" has a missing cell in field "{fieldName}" at position "{fieldNumber}"',
    "A row has fewer cells than the header.",
)

# ----------------------------------------------------------------------------- fields
TYPE_ERROR = _define(
    "type-error",
    "Type Error",
    "fields",
    'Type error in the cell "{cell}" in row "{rowNumber}" and field "{fieldName}" at position "{fieldNumber}": {note}',
    "A cell is not of its field's type (with its format, `decimalChar`, `groupChar`, "
    "`bareNumber`, `trueValues`/`falseValues`); numbers out of range such as `1e400`, and "
    "`NaN`/`INF`, are refused.",
)
CONSTRAINT_ERROR = _define(
    "constraint-error",
    "Constraint Error",
    "fields",
    'The cell "{cell}" in row at position "{rowNumber}" and field "{fieldName}" at position "{fieldNumber}" does not conform to a constraint: {note}',
    "required, enum, pattern, minimum/maximum, exclusiveMinimum/exclusiveMaximum, "
    "minLength/maxLength.",
)

# ----------------------------------------------------------------------------- table, package
PRIMARY_KEY = _define(
    "primary-key",
    "Primary Key Error",
    "table",
    'Row at position "{rowNumber}" violates the primary key: {note}',
    "A row repeats an earlier row's primary key (the message names that row's line).",
)
UNIQUE_ERROR = _define(
    "unique-error",
    "Unique Error",
    "table",
    'Row at position "{rowNumber}" has unique constraint violation in field "{fieldName}" at position "{fieldNumber}": {note}',
    "A row repeats an earlier row's value of a `unique` field.",
)
FOREIGN_KEY = _define(
    "foreign-key",
    "ForeignKey Error",
    "package",
    'Row at position "{rowNumber}" violates the foreign key: {note}',
    "A reference that is not in the table it refers to (empty references are allowed).",
)

# ----------------------------------------------------------------------------- declared rules
DATE_ORDER = _define(
    "date-order",
    "Date Order Error",
    "declared",
    "{endField} {end} is before {startField} {start}",
    "An end before its start, for the pairs a schema declares in `orderedFields`.",
)
DATE_PRECISION = _define(
    "date-precision",
    "Date Precision Error",
    "declared",
    "{fieldName} {cell} has precision {precision}, so it must be the 1st of the month or 1 January",
    "A date whose `precisionField` says `month` must be the 1st, `year` 1 January.",
)
CODELIST_ERROR = _define(
    "codelist-error",
    "Codelist Error",
    "declared",
    "{cell} is not a code of {codelist}",
    "A value not in the codelist a field declares with `codelist` (`ISO 3166-1 alpha-3`).",
)
BLANK_TEXT = _define(
    "blank-text",
    "Blank Text Error",
    "declared",
    "{fieldName} holds only spaces",
    "A cell of a `notBlank` field that holds only whitespace.",
)
UNUSED_KEY = _define(
    "unused-key",
    "Unused Key Error",
    "declared",
    "{key} is not referenced by any row of {resources}",
    "A row of a table declaring `mustBeReferenced` that no foreign key points to.",
)
FILLED_REQUIRES = _define(
    "filled-requires",
    "Filled Requires Error",
    "declared",
    "{fieldName} is filled, so {otherField} must be one of {allowed}, not {other}",
    "A cell of a field declaring `whenFilled` is filled while the other field it names holds "
    "none of the values it lists (an entry into force needs the status `in force`, `expired` "
    "or `terminated`).",
)
PAIR_ORDER = _define(
    "pair-order",
    "Pair Order Error",
    "declared",
    "{first} {a} and {second} {b} must be in alphabetical order: {note}",
    "A pair a schema declares in `orderedPairs` that is not strictly in alphabetical order "
    "(for the rows its condition selects) or names one thing twice.",
)

VOCABULARY: tuple[ErrorType, ...] = tuple(
    value for value in list(globals().values()) if isinstance(value, ErrorType)
)
BY_CODE = {e.code: e for e in VOCABULARY}
if len(BY_CODE) != len(VOCABULARY):  # pragma: no cover - a definition error, caught on import
    raise RuntimeError("an error code is defined twice")


def by_layer(layer: str) -> list[ErrorType]:
    return [e for e in VOCABULARY if e.layer == layer]


def markdown_list() -> str:
    """The README's error list: one bullet per layer, each code with its description."""
    lines = []
    for layer, about in LAYERS.items():
        codes = by_layer(layer)
        exits = sorted({e.exit_status for e in codes})
        status = ", ".join(str(s) for s in exits)
        lines.append(f"- **{layer}** ({about}; exit {status}):")
        lines += [f"  - `{e.code}` ({e.title}): {e.description}" for e in codes]
    return "\n".join(lines) + "\n"


ERROR_KEYS = ("resource", "path", "line", "field", "code", "message")


def error(
    resource: str | None,
    path: str | None,
    line: int | None,
    field: str | None,
    kind: ErrorType,
    message: str,
) -> dict[str, Any]:
    """One error record; `line` is the physical line in the file (header = 1).

    `kind` comes from the vocabulary (`azkz.core.errors`): a code is never spelled here.
    """
    if not isinstance(kind, ErrorType):
        raise TypeError(f"error kind must be an azkz.core.errors.ErrorType, not {kind!r}")
    return {
        "resource": resource,
        "path": path,
        "line": line,
        "field": field,
        "code": kind.code,
        "message": message,
    }
