"""Schema comparison: tables and fields paired (renames included), each change with its bump.

What a change of each kind needs (patch, minor, major) is the SemVer-for-data policy in
`azkz.diff`'s docstring; this module applies it to two packages' descriptors.
"""

from __future__ import annotations

import json
from typing import Any

from azkz.diff.model import SchemaChange, show
from azkz.schema.fields import tightened
from azkz.schema.package import DESCRIPTOR, Package, Table, field_list


def _signature(table: Table) -> list[tuple[str, str]]:
    return [(f.name, f.type) for f in table.fields]


def pair_tables(
    old: Package, new: Package
) -> tuple[list[tuple[Table, Table]], list[Table], list[Table], list[SchemaChange]]:
    """Tables on both sides (renames included), removed tables, added tables."""
    new_names = {t.name for t in new.tables}
    old_names = {t.name for t in old.tables}
    pairs = [(t, new.table(t.name)) for t in old.tables if t.name in new_names]
    removed = [t for t in old.tables if t.name not in new_names]
    added = [t for t in new.tables if t.name not in old_names]
    changes = []
    for old_table in list(removed):
        twin = next((t for t in added if _signature(t) == _signature(old_table)), None)
        if twin is None:
            continue
        removed.remove(old_table)
        added.remove(twin)
        pairs.append((old_table, twin))
        changes.append(
            SchemaChange(
                "major",
                twin.name,
                None,
                "table renamed",
                f"table {old_table.name!r} renamed to {twin.name!r} (same fields)",
            )
        )
    changes += [
        SchemaChange("major", t.name, None, "table removed", f"table {t.name!r} removed")
        for t in removed
    ]
    changes += [
        SchemaChange("minor", t.name, None, "table added", f"table {t.name!r} added") for t in added
    ]
    return pairs, removed, added, changes


def _pair_fields(old: Table, new: Table) -> tuple[dict[str, str], list[SchemaChange]]:
    """Map old field names to new ones (renames included) and report field changes."""
    new_names = set(new.field_names)
    mapping = {name: name for name in old.field_names if name in new_names}
    changes = []
    gone = [name for name in old.field_names if name not in new_names]
    fresh = {name for name in new.field_names if name not in mapping.values()}
    for position, name in enumerate(old.field_names):
        if name not in gone or position >= len(new.fields):
            continue
        candidate = new.fields[position]
        if candidate.name in fresh and candidate.type == old.fields[position].type:
            mapping[name] = candidate.name
            gone.remove(name)
            fresh.discard(candidate.name)
            changes.append(
                SchemaChange(
                    "major",
                    new.name,
                    candidate.name,
                    "field renamed",
                    f"field {name!r} renamed to {candidate.name!r} (same position and type)",
                )
            )
    changes += [
        SchemaChange("major", new.name, n, "field removed", f"field {n!r} removed") for n in gone
    ]
    changes += [
        SchemaChange("minor", new.name, n, "field added", f"field {n!r} added")
        for n in new.field_names
        if n in fresh
    ]
    common_old_order = [mapping[n] for n in old.field_names if n in mapping]
    common_new_order = [n for n in new.field_names if n in mapping.values()]
    if common_old_order != common_new_order:
        changes.append(
            SchemaChange(
                "major",
                new.name,
                None,
                "fields reordered",
                f"column order changed: {', '.join(common_old_order)} → {', '.join(common_new_order)}",
            )
        )
    return mapping, changes


# Field properties that change how a cell is read or what a value means: changing them is
# major.  Every other property (description, title, example(s), unitField, rdfType, any
# custom property) only documents the field and is a patch.
_FIELD_MEANING = {
    "format",
    "trueValues",
    "falseValues",
    "bareNumber",
    "decimalChar",
    "groupChar",
    "unit",
    "itemType",  # a list's items are read as another type
    "delimiter",  # a list's cells split elsewhere
}


def _constraint_bump(key: str, before: Any, after: Any) -> str:
    """'major' when `after` admits fewer values than `before`, else 'patch'."""
    return "major" if tightened(key, before, after) else "patch"


def _compare_field(table: str, old_f, new_f) -> list[SchemaChange]:
    name = new_f.name
    changes = []
    if old_f.type != new_f.type:
        changes.append(
            SchemaChange("major", table, name, "type changed", f"type {old_f.type} → {new_f.type}")
        )
    for key in sorted(set(old_f.constraints) | set(new_f.constraints)):
        before, after = old_f.constraints.get(key), new_f.constraints.get(key)
        if before != after:
            bump = _constraint_bump(key, before, after)
            word = "tightened" if bump == "major" else "loosened"
            changes.append(
                SchemaChange(
                    bump,
                    table,
                    name,
                    f"constraint {word}",
                    f"{key}: {show(before)} → {show(after)}",
                )
            )
    if "missingValues" in old_f.raw or "missingValues" in new_f.raw:
        # A field's own list, compared with what it replaced or inherits (the schema's).
        changes += _missing_values_change(
            table, name, old_f.missing_values, new_f.missing_values, old_f.raw, new_f.raw
        )
    for key in sorted(set(old_f.raw) | set(new_f.raw)):
        before, after = old_f.raw.get(key), new_f.raw.get(key)
        if before == after or key in {"name", "type", "constraints", "missingValues"}:
            continue
        if key in _FIELD_MEANING:
            changes.append(
                SchemaChange(
                    "major",
                    table,
                    name,
                    "field property changed",
                    f"{key}: {show(before)} → {show(after)}",
                )
            )
        else:
            changes.append(
                SchemaChange(
                    "patch", table, name, "metadata changed", metadata_detail(key, before, after)
                )
            )
    return changes


def _named(value: Any) -> Any:
    """Licences, contributors, sources: by their names, which is what a reader compares."""
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        names = [v.get("name") or v.get("title") for v in value]
        if all(isinstance(n, str) for n in names):
            return ", ".join(names)
    return value


def metadata_detail(key: str, before: Any, after: Any) -> str:
    """Prose is only said to be reworded; short values are shown old → new."""
    if _named(before) != _named(after):
        before, after = _named(before), _named(after)
    if before is None:
        return f"{key} added: {show(after, 80)}"
    if after is None:
        return f"{key} removed"
    if isinstance(before, str) and isinstance(after, str) and len(before) + len(after) > 80:
        return f"{key} reworded"
    return f"{key}: {show(before, 80)} → {show(after, 80)}"


def _normal_foreign_keys(table: Table, rename: dict[str, str]) -> set[str]:
    keys = set()
    for fk in table.foreign_keys:
        fields = field_list(fk.get("fields", []))
        ref = dict(fk.get("reference", {}))
        keys.add(
            json.dumps(
                {"fields": [rename.get(f, f) for f in fields], "reference": ref},
                sort_keys=True,
                ensure_ascii=False,
            )
        )
    return keys


def _compare_keys(old: Table, new: Table, mapping: dict[str, str]) -> list[SchemaChange]:
    changes = []
    old_pk = [mapping.get(f, f) for f in old.primary_key]
    if old_pk != new.primary_key:
        changes.append(
            SchemaChange(
                "major",
                new.name,
                None,
                "primary key changed",
                f"primary key ({', '.join(old.primary_key)}) → ({', '.join(new.primary_key)})",
            )
        )
    before, after = _normal_foreign_keys(old, mapping), _normal_foreign_keys(new, {})
    changes += [
        SchemaChange("major", new.name, None, "foreign key added", fk)
        for fk in sorted(after - before)
    ]
    changes += [
        SchemaChange("patch", new.name, None, "foreign key removed", fk)
        for fk in sorted(before - after)
    ]
    return changes


def table_schema_changes(old: Table, new: Table) -> tuple[dict[str, str], list[SchemaChange]]:
    """Field mapping (old name -> new name) and every schema change within one table."""
    mapping, changes = _pair_fields(old, new)
    for o, n in mapping.items():
        changes += _compare_field(new.name, old.field(o), new.field(n))
    changes += _missing_values_change(
        new.name, None, old.missing_values, new.missing_values, old.schema, new.schema
    )
    return mapping, changes + _compare_keys(old, new, mapping)


def _missing_values_change(
    table: str, field: str | None, before: tuple, after: tuple, old_raw: dict, new_raw: dict
) -> list[SchemaChange]:
    """A schema's or a field's missing values: a value that becomes or stops being
    missing is read differently (major); the same values declared in another order,
    or declared where they were inherited, change nothing read (patch)."""
    if old_raw.get("missingValues") == new_raw.get("missingValues"):
        return []
    where = "schema missingValues" if field is None else "missingValues"
    detail = f"{where}: {show(list(before))} → {show(list(after))}"
    if set(before) != set(after):
        return [SchemaChange("major", table, field, "missing values changed", detail)]
    return [SchemaChange("patch", table, field, "metadata changed", f"{detail} (same values)")]


# Descriptor properties compared, with the bump a change of each needs.  Users rely on
# the licence and the package name (citations, catalogues, `import`), and the dialect
# and encoding say how the CSV bytes are read; the rest is documentation.
PACKAGE_PROPERTIES = {
    "name": "major",
    "licenses": "major",
    "title": "patch",
    "description": "patch",
    "keywords": "patch",
    "contributors": "patch",
    "sources": "patch",
    "homepage": "patch",
}
RESOURCE_PROPERTIES = {
    "dialect": "major",
    "encoding": "major",
    "title": "patch",
    "description": "patch",
}


def _property_changes(
    where: str, before: dict[str, Any], after: dict[str, Any], bumps: dict[str, str], what: str
) -> list[SchemaChange]:
    changes = []
    for key, bump in bumps.items():
        old_value, new_value = before.get(key), after.get(key)
        if old_value != new_value:
            kind = f"{what} {key} changed" if bump == "major" else f"{what} metadata changed"
            detail = metadata_detail(key, old_value, new_value)
            changes.append(SchemaChange(bump, where, None, kind, detail))
    return changes


def descriptor_changes(
    old: Package, new: Package, pairs: list[tuple[Table, Table]]
) -> list[SchemaChange]:
    """Package- and resource-level descriptor changes (licence, name, dialect, prose)."""
    changes = _property_changes(
        DESCRIPTOR, old.descriptor, new.descriptor, PACKAGE_PROPERTIES, "package"
    )
    for old_t, new_t in pairs:
        changes += _property_changes(
            new_t.name, old_t.resource, new_t.resource, RESOURCE_PROPERTIES, "resource"
        )
    return changes
