"""The package's metadata, read once from `datapackage.json` and `schemas/*.json`.

The Table Schemas are the single source of truth: every other stage (checks, DuckDB
DDL, Parquet metadata, docs) asks this module about fields instead of restating them.
Reading is defensive because contributors edit these files by hand; every problem is
raised as a `DescriptorError` carrying frictionless-style error records.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from azkz.core.errors import PACKAGE_ERROR, RESOURCE_ERROR, SCHEMA_ERROR, ErrorType, error
from azkz.schema.fields import TYPES

DESCRIPTOR = "datapackage.json"
# Custom descriptor property: resources the build derives from others (`annual_series`).
# They are not in `resources` because the source package has no file for them (so that
# `frictionless validate` of the source package passes); a release lists them there.
DERIVED_RESOURCES = "derivedResources"

# Frictionless field type -> DuckDB column type.  Numbers are DOUBLE: the values are
# as stated by sources (at most a few decimals) and DOUBLE round-trips them exactly.
DUCKDB_TYPES = {name: facts.duckdb for name, facts in TYPES.items()}  # `azkz.schema.fields`


# Table Schema's default `missingValues`: only the empty cell is missing.
DEFAULT_MISSING_VALUES = ("",)


def missing_value_list(value: Any) -> tuple[str, ...] | None:
    """A `missingValues` property as its strings; None when it is malformed.

    Table Schema v2 allows it on the schema (every field's default) and on a field (that
    field's own list, replacing the schema's), as a list of strings or a list of
    `{"value": ..., "label": ...}` objects (the label documents the value; it changes
    nothing in reading).  A list mixing the two forms, an object with another key, or
    objects repeating a value or a label are malformed (as in Frictionless, except the
    other key: refused, not ignored).  `azkz.validate.descriptor` reports a malformed one.
    """
    if not isinstance(value, list):
        return None
    if all(isinstance(v, str) for v in value):
        return tuple(value)
    if not all(_missing_value_object(v) for v in value):
        return None
    values = [v["value"] for v in value]
    labels = [v["label"] for v in value if "label" in v]
    if len(set(values)) < len(values) or len(set(labels)) < len(labels):
        return None
    return tuple(values)


def _missing_value_object(entry: Any) -> bool:
    """`{"value": text}` or `{"value": text, "label": text}`."""
    return (
        isinstance(entry, dict)
        and set(entry) in ({"value"}, {"value", "label"})
        and all(isinstance(v, str) for v in entry.values())
    )


def missing_value_labels(value: Any) -> tuple[tuple[str, str], ...]:
    """The (value, label) pairs of a well-formed `missingValues` in the object form."""
    if missing_value_list(value) is None:
        return ()
    return tuple((v["value"], v["label"]) for v in value if isinstance(v, dict) and "label" in v)


class DescriptorError(Exception):
    """The descriptor or a schema cannot be used; `errors` are report records."""

    def __init__(self, errors: list[dict[str, Any]]):
        self.errors = errors
        super().__init__("; ".join(e["message"] + _position(e) for e in errors))


def _position(record: dict[str, Any]) -> str:
    """` at line 3, column 45` for a message read without the record's other fields."""
    if record["line"] is None:
        return ""
    column = f", column {record['column']}" if record["column"] is not None else ""
    return f" at line {record['line']}{column}"


def descriptor_error(
    path: str,
    message: str,
    kind: ErrorType = PACKAGE_ERROR,
    resource: str | None = None,
    position: tuple[int, int] | None = None,
) -> DescriptorError:
    """One error in the file `path` (the descriptor or a schema), about `resource` if known,
    at `position` (line, column) when there is one."""
    line, column = position or (None, None)
    return DescriptorError([error(resource, path, line, None, kind, message, column)])


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    description: str
    constraints: dict[str, Any]
    raw: dict[str, Any]
    # The cells that mean "no value" in this field: its own `missingValues`, else the
    # schema's (Table Schema v2), else the empty cell.  Every reader of a cell uses it.
    missing_values: tuple[str, ...] = DEFAULT_MISSING_VALUES
    # (value, label) of the missing values given in the object form, for readers.
    missing_labels: tuple[tuple[str, str], ...] = ()

    @property
    def required(self) -> bool:
        return bool(self.constraints.get("required"))

    @property
    def enum(self) -> list[Any] | None:
        return self.constraints.get("enum")

    @property
    def duckdb_type(self) -> str:
        return DUCKDB_TYPES[self.type]

    @property
    def unit(self) -> str:
        """The unit as a reader should take it: a fixed `unit` property, or the column that
        gives it row by row (`unitField`, a custom property: indicators mix USD and tonnes)."""
        if self.raw.get("unit"):
            return str(self.raw["unit"])
        if self.raw.get("unitField"):
            return f"per row, in `{self.raw['unitField']}`"
        return ""

    @property
    def true_values(self) -> list[str]:
        return self.raw.get("trueValues", DEFAULT_TRUE_VALUES)

    @property
    def false_values(self) -> list[str]:
        return self.raw.get("falseValues", DEFAULT_FALSE_VALUES)


# Table Schema's (and Frictionless's) booleans when a field declares no trueValues/falseValues.
DEFAULT_TRUE_VALUES = ["true", "True", "TRUE", "1"]
DEFAULT_FALSE_VALUES = ["false", "False", "FALSE", "0"]


def field_list(names: str | list[str]) -> list[str]:
    """A key's field names as a list: Table Schema allows one name as a bare string."""
    return [names] if isinstance(names, str) else list(names)


@dataclass(frozen=True)
class Table:
    name: str
    path: str  # relative to the package root, as written in the descriptor
    schema_path: str
    resource: dict[str, Any]
    schema: dict[str, Any]
    fields: tuple[Field, ...]
    # Listed under the descriptor's `derivedResources`: the build computes it and only a
    # release holds its file (see `read_package`).
    virtual: bool = False

    @property
    def title(self) -> str:
        return self.resource.get("title", self.name)

    @property
    def description(self) -> str:
        return self.resource.get("description") or self.schema.get("description", "")

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]

    @property
    def missing_values(self) -> tuple[str, ...]:
        """The schema's `missingValues` (every field's unless it declares its own)."""
        declared = missing_value_list(self.schema.get("missingValues", [""]))
        return DEFAULT_MISSING_VALUES if declared is None else declared

    @property
    def empty_is_missing(self) -> bool:
        """Whether an empty cell is a missing value in every field (a row of empty cells
        is then a blank row)."""
        return all("" in f.missing_values for f in self.fields)

    @property
    def primary_key(self) -> list[str]:
        return field_list(self.schema.get("primaryKey", []))

    @property
    def unique_keys(self) -> list[list[str]]:
        """Table Schema v2 `uniqueKeys`: field sets unique per row, where NULL is allowed."""
        return [field_list(k) for k in self.schema.get("uniqueKeys", [])]

    @property
    def row_key(self) -> list[str]:
        """The fields that name a row: the primary key, else the first unique key.

        `annual_series` has no primary key because its `reporter` may be empty (a primary
        key field never is); its unique key still names each row for sorting and diffs.
        """
        return self.primary_key or next(iter(self.unique_keys), [])

    @property
    def foreign_keys(self) -> list[dict[str, Any]]:
        return list(self.schema.get("foreignKeys", []))

    @property
    def derived_from(self) -> list[str]:
        """Resources this table is computed from (custom `derivedFrom`); empty if curated."""
        value = self.resource.get("derivedFrom") or []
        return field_list(value) if isinstance(value, str | list) else []

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)


@dataclass
class Package:
    root: Path
    descriptor: dict[str, Any]
    tables: list[Table] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.descriptor.get("name", "package")

    @property
    def version(self) -> str:
        return str(self.descriptor.get("version", "0.0.0"))

    def table(self, name: str) -> Table:
        for t in self.tables:
            if t.name == name:
                return t
        raise KeyError(name)

    def file(self, table: Table) -> Path:
        return self.root / table.path

    @property
    def stored_tables(self) -> list[Table]:
        """Tables with a file in this package (all but the virtual derived ones)."""
        return [t for t in self.tables if not t.virtual]

    @property
    def virtual_tables(self) -> list[Table]:
        return [t for t in self.tables if t.virtual]

    def stored(self) -> Package:
        """This package as its files are: without the tables only the build computes."""
        return Package(self.root, self.descriptor, self.stored_tables)


def _load_json(
    path: Path,
    shown: str,
    kind: ErrorType = PACKAGE_ERROR,
    missing: ErrorType = PACKAGE_ERROR,
    resource: str | None = None,
) -> dict[str, Any]:
    """Read a JSON object; a problem with it is `kind` (`missing` if it cannot be read).

    Frictionless reports a schema that is missing or not JSON as `schema-error`, and a
    descriptor that cannot be read as `package-error`.  Anything but a
    regular file (a directory, a named pipe that would block the read) is refused unread.
    """

    def fail(message: str, error_kind: ErrorType, position=None) -> DescriptorError:
        return descriptor_error(shown, message, error_kind, resource, position)

    if path.exists() and not path.is_file():
        raise fail(f"{shown} is not a regular file", missing)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise fail(f"{shown} not found", missing) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(f"{shown} cannot be read: {exc}", missing) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise fail(f"{shown} is not valid JSON: {exc.msg}", kind, (exc.lineno, exc.colno)) from None
    if not isinstance(data, dict):
        raise fail(f"{shown} must hold a JSON object", kind)
    return data


def safe_relative_path(root: Path, value: Any, what: str, resource: str | None = None) -> str:
    """Refuse paths that could make validation read outside the package.

    Checked before anything is opened: URLs, absolute paths, `..` and symlinks
    that resolve outside the root are all `resource-error`, reported in the descriptor
    (where the path is written) for `resource`.
    """

    def fail(message: str) -> DescriptorError:
        return descriptor_error(DESCRIPTOR, f"{what}: {message}", RESOURCE_ERROR, resource)

    if not isinstance(value, str) or not value:
        raise fail("path must be a non-empty string")
    if "://" in value or value.startswith(("/", "\\")) or (len(value) > 1 and value[1] == ":"):
        raise fail(f"path {value!r} must be relative to the package")
    if ".." in Path(value).parts:
        raise fail(f"path {value!r} must not contain '..'")
    resolved = (root / value).resolve()
    if not resolved.is_relative_to(root.resolve()):
        raise fail(f"path {value!r} resolves outside the package")
    return value


def _read_fields(schema: dict[str, Any], shown: str, resource: str) -> tuple[Field, ...]:
    def fail(message: str) -> DescriptorError:
        return descriptor_error(shown, f"{shown}: {message}", SCHEMA_ERROR, resource)

    default = missing_value_list(schema.get("missingValues", [""]))
    raw_fields = schema.get("fields")
    if not isinstance(raw_fields, list) or not raw_fields:
        raise fail("'fields' must be a non-empty list")
    fields = []
    for i, raw in enumerate(raw_fields):
        if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
            raise fail(f"field #{i + 1} has no name")
        ftype = raw.get("type", "string")
        if ftype not in DUCKDB_TYPES:
            raise fail(
                f"field {raw['name']!r} has unsupported type {ftype!r} "
                f"(expected one of {', '.join(DUCKDB_TYPES)})"
            )
        holder = raw if "missingValues" in raw else schema
        own = missing_value_list(raw["missingValues"]) if "missingValues" in raw else default
        fields.append(
            Field(
                raw["name"],
                ftype,
                raw.get("description", ""),
                raw.get("constraints", {}),
                raw,
                DEFAULT_MISSING_VALUES if own is None else own,
                missing_value_labels(holder.get("missingValues")),
            )
        )
    return tuple(fields)


def _check_folder(root: Path) -> None:
    """Name the folder when it is not one, or holds no descriptor: the error is about the
    path the user gave, which a bare "datapackage.json not found" does not say."""
    shown = str(root) if root.is_absolute() else f"{root} ({root.resolve()})"
    if not root.exists():
        raise descriptor_error(str(root), f"{shown}: no such folder")
    if not root.is_dir():
        raise descriptor_error(str(root), f"{shown} is a file, not a package folder")
    if not (root / DESCRIPTOR).exists():
        raise descriptor_error(DESCRIPTOR, f"{DESCRIPTOR} not found in {shown}")


def read_package(root: str | Path = ".") -> Package:
    """Read the descriptor and every table schema; raise `DescriptorError` if unusable."""
    root = Path(root)
    if root.name == DESCRIPTOR and root.is_file():
        root = root.parent
    _check_folder(root)
    descriptor = _load_json(root / DESCRIPTOR, DESCRIPTOR)
    resources = descriptor.get("resources")
    if not isinstance(resources, list) or not resources:
        raise descriptor_error(DESCRIPTOR, f"{DESCRIPTOR}: 'resources' must be a non-empty list")
    package = Package(root=root, descriptor=descriptor)
    derived = descriptor.get(DERIVED_RESOURCES, [])
    if not isinstance(derived, list):
        raise descriptor_error(DESCRIPTOR, f"{DESCRIPTOR}: '{DERIVED_RESOURCES}' must be a list")
    for i, res in enumerate(resources):
        table = _read_table(root, res, f"resource #{i + 1}", virtual=False)
        if table is not None:
            package.tables.append(table)
    for i, res in enumerate(derived):
        table = _read_table(root, res, f"{DERIVED_RESOURCES} #{i + 1}", virtual=True)
        if table is not None:
            package.tables.append(table)
    return package


def _read_table(root: Path, res: Any, position: str, virtual: bool) -> Table | None:
    """One tabular resource with its schema; None for a non-tabular file (a release's Parquet)."""
    if not isinstance(res, dict) or not isinstance(res.get("name"), str):
        raise descriptor_error(DESCRIPTOR, f"{DESCRIPTOR}: {position} has no name")
    if res.get("schema") is None and res.get("type") not in (None, "table"):
        return None
    name = res["name"]
    what = f"resource {name!r}"
    path = safe_relative_path(root, res.get("path"), what, name)
    schema_ref = res.get("schema")
    if isinstance(schema_ref, dict):
        schema, schema_path = schema_ref, DESCRIPTOR
    else:
        schema_path = safe_relative_path(root, schema_ref, f"{what} schema", name)
        schema = _load_json(root / schema_path, schema_path, SCHEMA_ERROR, SCHEMA_ERROR, name)
    fields = _read_fields(schema, schema_path, name)
    return Table(name, path, schema_path, res, schema, fields, virtual)
