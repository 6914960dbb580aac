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

DESCRIPTOR = "datapackage.json"

# Frictionless field type -> DuckDB column type.  Numbers are DOUBLE: the values are
# as stated by sources (at most a few decimals) and DOUBLE round-trips them exactly.
DUCKDB_TYPES = {
    "string": "VARCHAR",
    "number": "DOUBLE",
    "integer": "BIGINT",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "year": "INTEGER",
}


class DescriptorError(Exception):
    """The descriptor or a schema cannot be used; `errors` are report records."""

    def __init__(self, errors: list[dict[str, Any]]):
        self.errors = errors
        super().__init__("; ".join(e["message"] for e in errors))


def descriptor_error(path: str, message: str, code: str = "package-error") -> DescriptorError:
    return DescriptorError(
        [
            {
                "resource": None,
                "path": path,
                "line": None,
                "field": None,
                "code": code,
                "message": message,
            }
        ]
    )


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    description: str
    constraints: dict[str, Any]
    raw: dict[str, Any]

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
        return self.raw.get("trueValues", ["true"])

    @property
    def false_values(self) -> list[str]:
        return self.raw.get("falseValues", ["false"])


@dataclass(frozen=True)
class Table:
    name: str
    path: str  # relative to the package root, as written in the descriptor
    schema_path: str
    resource: dict[str, Any]
    schema: dict[str, Any]
    fields: tuple[Field, ...]

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
    def primary_key(self) -> list[str]:
        pk = self.schema.get("primaryKey", [])
        return [pk] if isinstance(pk, str) else list(pk)

    @property
    def foreign_keys(self) -> list[dict[str, Any]]:
        return list(self.schema.get("foreignKeys", []))

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


def _load_json(path: Path, shown: str) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise descriptor_error(shown, f"{shown} not found", "source-error") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise descriptor_error(shown, f"{shown} cannot be read: {exc}", "source-error") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise descriptor_error(
            shown, f"{shown} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None
    if not isinstance(data, dict):
        raise descriptor_error(shown, f"{shown} must hold a JSON object")
    return data


def safe_relative_path(root: Path, value: Any, what: str) -> str:
    """Refuse paths that could make validation read outside the package.

    Checked before anything is opened: URLs, absolute paths, `..` and symlinks
    that resolve outside the root are all `source-error`.
    """
    if not isinstance(value, str) or not value:
        raise descriptor_error(what, f"{what}: path must be a non-empty string", "source-error")
    if "://" in value or value.startswith(("/", "\\")) or (len(value) > 1 and value[1] == ":"):
        raise descriptor_error(
            value, f"{what}: path {value!r} must be relative to the package", "source-error"
        )
    if ".." in Path(value).parts:
        raise descriptor_error(
            value, f"{what}: path {value!r} must not contain '..'", "source-error"
        )
    resolved = (root / value).resolve()
    if not resolved.is_relative_to(root.resolve()):
        raise descriptor_error(
            value, f"{what}: path {value!r} resolves outside the package", "source-error"
        )
    return value


def _read_fields(schema: dict[str, Any], shown: str) -> tuple[Field, ...]:
    raw_fields = schema.get("fields")
    if not isinstance(raw_fields, list) or not raw_fields:
        raise descriptor_error(shown, f"{shown}: 'fields' must be a non-empty list", "schema-error")
    fields = []
    for i, raw in enumerate(raw_fields):
        if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
            raise descriptor_error(shown, f"{shown}: field #{i + 1} has no name", "schema-error")
        ftype = raw.get("type", "string")
        if ftype not in DUCKDB_TYPES:
            raise descriptor_error(
                shown,
                f"{shown}: field {raw['name']!r} has unsupported type {ftype!r} "
                f"(expected one of {', '.join(DUCKDB_TYPES)})",
                "schema-error",
            )
        fields.append(
            Field(raw["name"], ftype, raw.get("description", ""), raw.get("constraints", {}), raw)
        )
    return tuple(fields)


def read_package(root: str | Path = ".") -> Package:
    """Read the descriptor and every table schema; raise `DescriptorError` if unusable."""
    root = Path(root)
    if root.name == DESCRIPTOR and not root.is_dir():
        root = root.parent
    descriptor = _load_json(root / DESCRIPTOR, DESCRIPTOR)
    resources = descriptor.get("resources")
    if not isinstance(resources, list) or not resources:
        raise descriptor_error(DESCRIPTOR, f"{DESCRIPTOR}: 'resources' must be a non-empty list")
    package = Package(root=root, descriptor=descriptor)
    for i, res in enumerate(resources):
        if not isinstance(res, dict) or not isinstance(res.get("name"), str):
            raise descriptor_error(DESCRIPTOR, f"{DESCRIPTOR}: resource #{i + 1} has no name")
        if res.get("schema") is None and res.get("type") not in (None, "table"):
            continue  # a non-tabular file, such as a release's Parquet copy of a table
        what = f"resource {res['name']!r}"
        path = safe_relative_path(root, res.get("path"), what)
        schema_ref = res.get("schema")
        if isinstance(schema_ref, dict):
            schema, schema_path = schema_ref, DESCRIPTOR
        else:
            schema_path = safe_relative_path(root, schema_ref, f"{what} schema")
            schema = _load_json(root / schema_path, schema_path)
        package.tables.append(
            Table(res["name"], path, schema_path, res, schema, _read_fields(schema, schema_path))
        )
    return package
