"""The descriptor layer of `azkz validate`: schemas coherent and fully understood.

`azkz.schema.package.read_package` reads the files; this module checks what it read before any
CSV file is opened.  Every property the validator would otherwise ignore is refused as
a `schema-error` (or `dialect-error`) naming it: a rule nobody checks must not look as
if it were checked.  Custom properties (this package's declared rules) naming a field
that is not in the schema are `schema-error`s too.
"""

from __future__ import annotations

import codecs
import json
import re
from typing import Any

from azkz.core.errors import DIALECT_ERROR, PACKAGE_ERROR, RESOURCE_ERROR, SCHEMA_ERROR, error
from azkz.schema import fields
from azkz.schema.package import DESCRIPTOR, Field, Package, Table, missing_value_list
from azkz.tables.structured import ENUM_TYPES, LENGTH_TYPES, enum_entry
from azkz.tables.typed import LIST_ITEM_TYPES, STRING_FORMATS, constant_value
from azkz.validate.rules.cell import as_list
from azkz.validate.rules.declared import CODELISTS, well_formed_when_filled

# Field properties the validator understands, for every type and per type.
COMMON_FIELD_PROPERTIES = frozenset(
    {"name", "title", "description", "example", "type", "format", "constraints", "rdfType"}
    | {"missingValues"}  # Table Schema v2: the field's own list replaces the schema's
    # this package's declared rules and metadata (docs/data-dictionary.md)
    | {"unit", "unitField", "precisionField", "codelist", "codelistAdditions", "notBlank"}
    | {"whenFilled"}
)
TYPE_PROPERTIES = {
    "number": {"decimalChar", "groupChar", "bareNumber"},
    "integer": {"groupChar", "bareNumber"},
    "boolean": {"trueValues", "falseValues"},
    "list": {"delimiter", "itemType"},
}
PATTERN_TYPES = ("date", "time", "datetime")  # `format` may be a strptime pattern
# Formats beyond `default` (string formats are `typed.STRING_FORMATS`).
TYPE_FORMATS = {"geopoint": ("array", "object")}
ORDERED_TEXT_TYPES = ("date", "time", "datetime", "yearmonth")  # bounds written as text
NUMERIC_TYPES = ("number", "integer", "year")  # bounds as JSON numbers or as text
# Types whose enum entries and bounds, when text, are read as a cell of the field.
TEXT_READ_TYPES = (*NUMERIC_TYPES, *ORDERED_TEXT_TYPES, "boolean")
CONSTRAINTS = frozenset(fields.CONSTRAINTS)  # any other constraint is a schema-error
BOUND_CONSTRAINTS = fields.VALUE_BOUNDS
SCHEMA_PROPERTIES = frozenset(
    {"$schema", "name", "title", "description", "fields", "primaryKey", "foreignKeys"}
    | {"missingValues", "uniqueKeys", "orderedFields", "orderedPairs", "mustBeReferenced"}
    | {"precedence"}  # annual_series' selection rule, checked by `azkz.derive.annual_series`
)
# The one CSV dialect the package uses (typed.raw_csv_sql reads exactly this): a resource
# that declares another would be parsed wrongly, so it is refused rather than misread.
SUPPORTED_DIALECT = {"delimiter": ",", "quoteChar": '"', "doubleQuote": True, "header": True}
DIALECT_PROPERTIES = {"$schema", *SUPPORTED_DIALECT}


def _codelist_additions_errors(table: Table, f: Field, where: str) -> list[dict[str, Any]]:
    """`codelistAdditions` widens a field's `codelist` by codes each given a meaning."""
    additions = f.raw.get("codelistAdditions")
    if additions is None or (
        "codelist" in f.raw
        and isinstance(additions, dict)
        and additions
        and all(isinstance(v, str) and v.strip() for v in additions.values())
    ):
        return []
    message = (
        f"{where}: codelistAdditions must be an object of codes and their meanings "
        f"(non-empty text), beside a codelist, not {additions!r}"
    )
    return [schema_error(table, f.name, message)]


def schema_error(table: Table, field: str | None, message: str) -> dict[str, Any]:
    """A problem in `table`'s schema, reported in the file that holds the schema."""
    return error(table.name, table.schema_path, None, field, SCHEMA_ERROR, message)


def descriptor_errors(package: Package) -> list[dict[str, Any]]:
    """Schema coherence that `read_package` does not check: keys, references, properties."""
    errors = []
    names = [t.name for t in package.tables]
    for dup in sorted({n for n in names if names.count(n) > 1}):
        errors.append(
            error(
                dup, DESCRIPTOR, None, None, PACKAGE_ERROR, f"resource name {dup!r} is used twice"
            )
        )
    for table in package.tables:
        errors += dialect_errors(table)
        errors += _schema_property_errors(package, table)
        fields = table.field_names
        for dup in sorted({n for n in fields if fields.count(n) > 1}):
            errors.append(schema_error(table, dup, f"{table.name}: field {dup!r} is defined twice"))
        for name in table.primary_key:
            if name not in fields:
                errors.append(
                    schema_error(
                        table, name, f"{table.name}: primaryKey field {name!r} is not in the schema"
                    )
                )
        for f in table.fields:
            errors += _field_property_errors(table, f)
            errors += _constraint_errors(table, f)
        for fk in table.foreign_keys:
            errors += _foreign_key_descriptor_errors(package, table, fk)
    return errors


def encoding_of(table: Table) -> str:
    """The Python codec of the resource's declared encoding (UTF-8 when none is)."""
    declared = table.resource.get("encoding") or "utf-8"
    return codecs.lookup(str(declared)).name


def dialect_errors(table: Table) -> list[dict[str, Any]]:
    resource = table.resource
    errors = []

    def bad(message: str) -> None:
        errors.append(error(table.name, DESCRIPTOR, None, None, DIALECT_ERROR, message))

    try:
        encoding_of(table)
    except LookupError:
        errors.append(
            error(
                table.name,
                DESCRIPTOR,
                None,
                None,
                RESOURCE_ERROR,
                f"resource {table.name!r}: encoding {resource.get('encoding')!r} is not a "
                f"known encoding (e.g. utf-8, utf-16, latin-1, cp1252, cp1251)",
            )
        )
    dialect = resource.get("dialect", {})
    if not isinstance(dialect, dict):
        bad(f"resource {table.name!r}: dialect must be an object")
        return errors
    for key, value in dialect.items():
        if key not in DIALECT_PROPERTIES:
            bad(f"resource {table.name!r}: dialect property {key!r} is not supported")
        elif key in SUPPORTED_DIALECT and value != SUPPORTED_DIALECT[key]:
            bad(
                f"resource {table.name!r}: dialect {key} = {value!r} is not supported "
                f"(supported: {key} = {SUPPORTED_DIALECT[key]!r})"
            )
    return errors


def _schema_property_errors(package: Package, table: Table) -> list[dict[str, Any]]:
    """Unknown schema properties, missing values, and the declared table-level rules."""
    schema, fields = table.schema, set(table.field_names)
    errors = [
        schema_error(table, None, f"{table.name}: schema property {key!r} is not supported")
        for key in schema
        if key not in SCHEMA_PROPERTIES
    ]
    errors += _missing_values_errors(table, None, schema)
    for key in schema.get("uniqueKeys", []):
        if not (isinstance(key, list) and key and set(key) <= fields):
            errors.append(
                schema_error(
                    table,
                    None,
                    f"{table.name}: uniqueKeys entry {key!r} must list fields of the schema",
                )
            )
    for pair in schema.get("orderedFields", []):
        if not (isinstance(pair, list) and len(pair) == 2 and set(pair) <= fields):
            errors.append(
                schema_error(
                    table,
                    None,
                    f"{table.name}: orderedFields entry {pair!r} must be [start, end], "
                    f"two fields of the schema",
                )
            )
    for rule in schema.get("orderedPairs", []):
        errors += _ordered_pair_errors(package, table, rule)
    if "mustBeReferenced" in schema and not isinstance(schema["mustBeReferenced"], bool):
        errors.append(
            schema_error(table, None, f"{table.name}: mustBeReferenced must be true or false")
        )
    if schema.get("mustBeReferenced") and not table.primary_key:
        errors.append(
            schema_error(table, None, f"{table.name}: mustBeReferenced needs a primaryKey")
        )
    return errors


def _missing_values_errors(table: Table, f: Field | None, holder: dict) -> list[dict[str, Any]]:
    """A schema's or a field's malformed `missingValues` (`schema.missing_value_list`)."""
    if "missingValues" not in holder or missing_value_list(holder["missingValues"]) is not None:
        return []
    where = table.name if f is None else f"{table.name}.{f.name}"
    return [
        schema_error(
            table,
            None if f is None else f.name,
            f'{where}: missingValues must be a list of strings (such as ["", "NA"]; '
            f'[] for none) or of objects (such as {{"value": "NA", "label": "not available"}}) '
            f"with distinct values and labels, not "
            f"{json.dumps(holder['missingValues'], ensure_ascii=False)}",
        )
    ]


def _ordered_pair_errors(package: Package, table: Table, rule: Any) -> list[dict[str, Any]]:
    fields = set(table.field_names)
    shape = (
        isinstance(rule, dict)
        and set(rule) <= {"fields", "unless"}
        and isinstance(rule.get("fields"), list)
        and len(rule["fields"]) == 2
    )
    if not shape or not set(rule["fields"]) <= fields:
        return [
            schema_error(
                table,
                None,
                f"{table.name}: orderedPairs entry {rule!r} must be "
                f'{{"fields": [a, b], "unless": {{...}}}} with two fields of the schema',
            )
        ]
    unless = rule.get("unless")
    if unless is None:
        return []
    wanted = {"field", "resource", "flag"}
    problem = None
    if not isinstance(unless, dict) or set(unless) != wanted:
        problem = f"'unless' must be an object with {sorted(wanted)}"
    elif unless["field"] not in fields:
        problem = f"'unless' field {unless['field']!r} is not in the schema"
    else:
        try:
            parent = package.table(unless["resource"])
        except KeyError:
            problem = f"'unless' resource {unless['resource']!r} is not in the package"
        else:
            if len(parent.primary_key) != 1:
                problem = f"'unless' resource {parent.name!r} needs a one-field primaryKey"
            elif unless["flag"] not in parent.field_names:
                problem = f"'unless' flag {unless['flag']!r} is not a field of {parent.name!r}"
            elif parent.field(unless["flag"]).type != "boolean":
                problem = f"'unless' flag {unless['flag']!r} must be a boolean field"
    if problem is None:
        return []
    return [schema_error(table, None, f"{table.name}: orderedPairs: {problem}")]


def _field_property_errors(table: Table, f: Field) -> list[dict[str, Any]]:
    where = f"{table.name}.{f.name}"
    allowed = COMMON_FIELD_PROPERTIES | TYPE_PROPERTIES.get(f.type, set())
    errors = [
        schema_error(
            table, f.name, f"{where}: property {key!r} is not supported for type {f.type!r}"
        )
        for key in f.raw
        if key not in allowed
    ]
    formats = ["default", *(STRING_FORMATS if f.type == "string" else TYPE_FORMATS.get(f.type, []))]
    if f.type in PATTERN_TYPES:
        formats.append("a strptime pattern such as %d/%m/%Y")
    declared = f.raw.get("format", "default")
    pattern = f.type in PATTERN_TYPES and isinstance(declared, str) and "%" in declared
    if declared not in formats and not pattern:
        errors.append(
            schema_error(
                table,
                f.name,
                f"{where}: format {f.raw['format']!r} is not supported for type {f.type!r} "
                f"(supported: {', '.join(formats)})",
            )
        )
    errors += _missing_values_errors(table, f, f.raw)
    names = set(table.field_names)
    for key in ("unitField", "precisionField"):
        target = f.raw.get(key)
        if target is not None and target not in names:
            errors.append(
                schema_error(table, f.name, f"{where}: {key} {target!r} is not in the schema")
            )
    rule = f.raw.get("whenFilled")
    if rule is not None and not well_formed_when_filled(rule, names):
        errors.append(
            schema_error(
                table,
                f.name,
                f'{where}: whenFilled must be {{"field": <a field of the schema>, '
                f'"oneOf": [values]}}, not {rule!r}',
            )
        )
    if "codelist" in f.raw and f.raw["codelist"] not in CODELISTS:
        errors.append(
            schema_error(
                table,
                f.name,
                f"{where}: codelist {f.raw['codelist']!r} is not known "
                f"(known: {', '.join(CODELISTS)})",
            )
        )
    errors += _codelist_additions_errors(table, f, where)
    if f.raw.get("itemType", "string") not in LIST_ITEM_TYPES:
        errors.append(
            schema_error(
                table,
                f.name,
                f"{where}: itemType {f.raw['itemType']!r} is not supported "
                f"(supported: {', '.join(LIST_ITEM_TYPES)})",
            )
        )
    if "notBlank" in f.raw and not isinstance(f.raw["notBlank"], bool):
        errors.append(schema_error(table, f.name, f"{where}: notBlank must be true or false"))
    for key in ("decimalChar", "groupChar"):
        value = f.raw.get(key)
        if value is not None and (not isinstance(value, str) or len(value) != 1 or value.isdigit()):
            errors.append(
                schema_error(table, f.name, f"{where}: {key} must be one non-digit character")
            )
    for key in ("trueValues", "falseValues"):
        value = f.raw.get(key)
        if value is not None and not (
            isinstance(value, list) and all(isinstance(v, str) for v in value)
        ):
            errors.append(schema_error(table, f.name, f"{where}: {key} must be a list of strings"))
    return errors


def _constraint_errors(table: Table, f: Field) -> list[dict[str, Any]]:
    where = f"{table.name}.{f.name}"
    if not isinstance(f.constraints, dict):
        return [schema_error(table, f.name, f"{where}: 'constraints' must be an object")]
    errors = [
        schema_error(table, f.name, f"{where}: constraint {key!r} is not supported")
        for key in f.constraints
        if key not in CONSTRAINTS
    ]
    pattern = f.constraints.get("pattern")
    if pattern is not None:
        try:
            re.compile(pattern)
        except (re.error, TypeError) as exc:
            errors.append(
                schema_error(
                    table,
                    f.name,
                    f"{where}: pattern {pattern!r} is not a valid regular expression ({exc})",
                )
            )
        if f.type != "string":
            errors.append(schema_error(table, f.name, f"{where}: pattern applies to strings only"))
    enum = f.constraints.get("enum")
    if enum is not None and (not isinstance(enum, list) or not enum):
        errors.append(schema_error(table, f.name, f"{where}: enum must be a non-empty list"))
    errors += _structured_constraint_errors(table, f)
    for key in (*BOUND_CONSTRAINTS, *fields.LENGTH_BOUNDS):
        value = f.constraints.get(key)
        if value is None:
            continue
        numeric = isinstance(value, int | float) and not isinstance(value, bool)
        if key.endswith("Length"):
            if not numeric:
                errors.append(schema_error(table, f.name, f"{where}: {key} must be a number"))
        elif f.type in NUMERIC_TYPES and numeric:
            continue
        elif f.type not in (*NUMERIC_TYPES, *ORDERED_TEXT_TYPES) or not isinstance(value, str):
            must = "a number or text" if f.type in NUMERIC_TYPES else "text"
            unsupported = f.type not in (*NUMERIC_TYPES, *ORDERED_TEXT_TYPES)
            errors.append(
                schema_error(
                    table,
                    f.name,
                    f"{where}: {key} is not supported for type {f.type!r}"
                    if unsupported
                    else f"{where}: {key} must be {must}",
                )
            )
        else:
            errors += _unreadable_constant(table, f, key, value)
    if f.type in TEXT_READ_TYPES and isinstance(f.constraints.get("enum"), list):
        for entry in f.constraints["enum"]:
            if isinstance(entry, str):
                errors += _unreadable_constant(table, f, "enum entry", entry)
    return errors


def _unreadable_constant(table: Table, f: Field, what: str, text: str) -> list[dict[str, Any]]:
    """A constraint written as text must read as a cell of the field does (as
    Frictionless reads it); text that cannot would never compare."""
    if constant_value(f, text) is not None:
        return []
    return [
        schema_error(
            table,
            f.name,
            f"{table.name}.{f.name}: {what} {text!r} is not a {f.type} as this field writes it",
        )
    ]


def _structured_constraint_errors(table: Table, f: Field) -> list[dict[str, Any]]:
    """enum and lengths where Frictionless applies them to JSON, list and geopoint cells
    (`azkz.tables.structured`), and nowhere else among those types."""
    where, errors = f"{table.name}.{f.name}", []
    structured = (*ENUM_TYPES, *LENGTH_TYPES)
    for key, types in (("enum", ENUM_TYPES), *((k, LENGTH_TYPES) for k in fields.LENGTH_BOUNDS)):
        if key in f.constraints and f.type in structured and f.type not in types:
            errors.append(
                schema_error(table, f.name, f"{where}: {key} is not supported for type {f.type!r}")
            )
    enum = f.constraints.get("enum")
    if f.type in ENUM_TYPES and isinstance(enum, list):
        for entry in enum:
            try:
                enum_entry(f, entry)
            except ValueError as exc:
                errors.append(schema_error(table, f.name, f"{where}: enum entry {exc}"))
    return errors


def _foreign_key_descriptor_errors(package: Package, table: Table, fk: Any) -> list[dict[str, Any]]:
    if not isinstance(fk, dict) or not isinstance(fk.get("reference"), dict):
        return [
            schema_error(
                table, None, f"{table.name}: foreign key {fk!r} needs 'fields' and 'reference'"
            )
        ]
    fields = as_list(fk.get("fields"))
    ref = fk["reference"]
    ref_fields = as_list(ref.get("fields"))
    target = ref.get("resource") or table.name
    errors = []
    if not fields or len(fields) != len(ref_fields):
        errors.append(
            schema_error(
                table,
                None,
                f"{table.name}: foreign key fields {fields} and reference fields "
                f"{ref_fields} must be non-empty and of equal length",
            )
        )
    for name in fields:
        if name not in table.field_names:
            errors.append(
                schema_error(
                    table, name, f"{table.name}: foreign key field {name!r} is not in the schema"
                )
            )
    try:
        parent = package.table(target)
    except KeyError:
        return errors + [
            schema_error(
                table, None, f"{table.name}: foreign key refers to unknown resource {target!r}"
            )
        ]
    for name in ref_fields:
        if name not in parent.field_names:
            errors.append(
                schema_error(
                    table,
                    name,
                    f"{table.name}: foreign key refers to {target}.{name}, which "
                    f"is not a field of {target!r}",
                )
            )
    return errors
