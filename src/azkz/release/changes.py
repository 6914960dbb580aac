"""Release artefacts: `changes.json` (the row-level delta against the previous release)
and the release's `CHANGELOG.md` section, written by a step of `azkz build`.
"""

from __future__ import annotations

import json
import re
from contextlib import closing
from dataclasses import asdict
from typing import Any

import duckdb

from azkz.core.layout import verify_checksums
from azkz.diff.compare import compare
from azkz.diff.render import cell
from azkz.diff.rows import NEW_SCHEMA, relation, row_count
from azkz.diff.sides import BUILD_SCHEMA, build_tables_side, load_side, parquet_file
from azkz.schema.package import DESCRIPTOR, Package, read_package
from azkz.validate.report import plural


def changes_document(old: Package | None, new: Package, con=None) -> dict[str, Any]:
    """The row-level delta of a release against the previous one (None: first release).

    With `con` (the build's connection), the new side's rows are the typed tables it
    already holds, so the build reads no file a second time.
    """
    if old is None:
        return {
            "version": new.version,
            "previous_version": None,
            "initial_release": True,
            "rows": _row_counts(new, con),
            "bump": None,
            "schema_changes": [],
            "added_tables": {},
            "removed_tables": {},
            "tables": {},
        }
    if con is None:
        diff, entries = compare(old, new, 0, full=True)
    else:  # the build's: validated tables in `con`, a verified previous release
        loaders = (load_side, build_tables_side)
        diff, entries = compare(old, new, 0, True, con, loaders, trusted=True)
    rows = {t.name: t.new_rows for t in diff.tables} | diff.added_tables
    return {
        "version": new.version,
        "previous_version": old.version,
        "initial_release": False,
        "rows": {t.name: rows[t.name] for t in new.tables},
        "bump": diff.bump,
        "schema_changes": [asdict(c) for c in diff.schema_changes],
        "added_tables": diff.added_tables,
        "removed_tables": diff.removed_tables,
        "tables": {
            t.name: {
                "old_name": t.old_name,
                "matched_on": t.matched_on,
                "added": t.added,
                "removed": t.removed,
                "changed": t.changed,
                "notes": t.notes,
                "entries": entries[t.name],
            }
            for t in diff.tables
            if t.has_changes
        },
    }


def _row_counts(package: Package, con=None) -> dict[str, int]:
    """Rows per table: of the build's tables in `con`, or of the package's files."""
    if con is not None:
        return {t.name: row_count(con, relation(BUILD_SCHEMA, t.name)) for t in package.tables}
    with closing(duckdb.connect()) as own:
        load_side(package, NEW_SCHEMA, "new side", own)
        return {t.name: row_count(own, relation(NEW_SCHEMA, t.name)) for t in package.tables}


def changelog_section(
    document: dict[str, Any], version: str, date: str = "", curated: str = ""
) -> str:
    """Keep a Changelog section for `version`: the curated notes, then the generated diff."""
    head = f"## [{version}]" + (f" - {date}" if date else "")
    lines = [head, *(["", curated] if curated else []), "", "### Data changes (generated)", ""]
    if document["initial_release"]:
        lines += ["First release: there is no earlier version to compare with. Tables:", ""]
        lines += [f"- `{name}`: {plural(count, 'row')}" for name, count in document["rows"].items()]
        return "\n".join(lines) + "\n"
    lines.append(
        f"Compared with {document['previous_version']} (required version bump: {document['bump']})."
    )
    added = [f"- Table `{n}` ({plural(c, 'row')})." for n, c in document["added_tables"].items()]
    added += [
        f"- {c['table']}: {c['detail']}."
        for c in document["schema_changes"]
        if c["kind"] == "field added"
    ]
    removed = [f"- Table `{n}`." for n in document["removed_tables"]]
    changed = [
        f"- {c['table']}{'.' + c['field'] if c['field'] else ''}: {c['detail']}."
        for c in document["schema_changes"]
        if c["kind"] not in {"field added", "table added", "table removed"}
    ]
    for name, t in document["tables"].items():
        changed.append(
            f"- `{name}`: {plural(t['added'], 'row')} added, {t['removed']} removed, "
            f"{t['changed']} changed."
        )
        changed += _source_changes(t["entries"])
    for title, items in (("Added", added), ("Changed", changed), ("Removed", removed)):
        if items:
            lines += ["", f"#### {title}", "", *items]
    if not (added or changed or removed):
        lines += ["", "No data or schema changes."]
    return "\n".join(lines) + "\n"


def _source_changes(entries: list[dict[str, Any]]) -> list[str]:
    """A table's changed rows whose source changed, one line each (in `annual_series`:
    a new pick, e.g. a statistics office's figure replacing a news report's)."""
    lines = []
    for entry in entries:
        if entry["op"] != "MOD" or "source_id" not in entry["changes"]:
            continue
        old_source, new_source = entry["changes"]["source_id"]
        key = " ".join("∅" if v is None else str(v) for v in entry["key"].values())
        value = entry["changes"].get("value")
        moved = f", value {cell(value[0])} → {cell(value[1])}" if value else ""
        lines.append(f"  - {key}: source `{old_source}` → `{new_source}`{moved}.")
    return lines


def curated_entry(changelog: str, version: str) -> str:
    """The `## [version]` entry of a Keep a Changelog file, without its heading."""
    match = re.search(
        rf"^## \[{re.escape(version)}\][^\n]*\n(.*?)(?=^## |^\[|\Z)", changelog, flags=re.M | re.S
    )
    return match.group(1).strip() if match else ""


CHANGES_NAME = "changes.json"
CHANGELOG_NAME = "CHANGELOG.md"


def write_changes(ctx) -> None:
    """Release step (`azkz.release.build.RELEASE_STEPS`): changes.json and CHANGELOG.md.

    Runs after datapackage.json is staged, so both sides' schemas are release
    descriptors; the new side's rows are the build's typed tables and the previous
    release's rows its Parquet files, checked against its `SHA256SUMS` first.
    """
    previous = None
    if ctx.previous_release_dir is not None:
        previous = read_package(ctx.previous_release_dir)
        names = [DESCRIPTOR, *(parquet_file(t.name) for t in previous.tables)]
        verify_checksums(ctx.previous_release_dir, names)
    document = changes_document(previous, read_package(ctx.stage_dir), ctx.con)
    changes = ctx.stage_dir / CHANGES_NAME
    changes.write_text(
        json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False) + "\n",
        encoding="utf-8",
        newline="\n",
    )
    ctx.log.wrote(changes, ctx.stage_dir)
    repository_changelog = ctx.package.root / CHANGELOG_NAME
    curated = (
        curated_entry(repository_changelog.read_text(encoding="utf-8"), document["version"])
        if repository_changelog.is_file()
        else ""
    )
    section = changelog_section(document, document["version"], ctx.created[:10], curated)
    changelog = ctx.stage_dir / CHANGELOG_NAME
    changelog.write_text(f"# Changelog\n\n{section}", encoding="utf-8", newline="\n")
    ctx.log.wrote(changelog, ctx.stage_dir)
