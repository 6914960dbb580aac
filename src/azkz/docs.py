"""The data dictionary (`docs/data-dictionary.md`), generated from the schemas and the data.

Nothing in it is written by hand: descriptions, types and constraints come from
`schemas/*.json`, row counts and the sources table from `data/*.csv` read through the
same typed DuckDB tables as the release. The output depends only on those files (no
clock, no machine), so a test can regenerate it and fail when the committed copy is stale.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from azkz.schema import Field, Package, Table
from azkz.typed import load_tables, quote_ident

DICTIONARY_PATH = "docs/data-dictionary.md"
SOURCES_TABLE = "sources"
# Columns of the sources table shown in the dictionary, in this order when present.
SOURCE_COLUMNS = ("source_id", "publisher", "title", "published", "language", "url")


def md_cell(value: Any) -> str:
    """Text safe inside a Markdown table cell: pipes escaped, line breaks flattened."""
    if value is None:
        return ""
    text = str(value).replace("\r\n", " ").replace("\n", " ").replace("|", "\\|")
    return text.strip()


def md_table(header: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(md_cell(c) for c in row) + " |" for row in rows]
    return lines


def unit_of(field: Field, table: Table) -> str:
    """The field's unit: its own `unit` property, or the column that carries it per row.

    By the package's naming convention a number `value` is measured in the row's `unit`
    and `<stem>_value` in `<stem>_unit`.
    """
    if field.raw.get("unit"):
        return str(field.raw["unit"])
    if field.type not in ("number", "integer"):
        return ""
    stem = field.name.removesuffix("value")
    unit_column = f"{stem}unit"
    if unit_column in table.field_names and unit_column != field.name:
        return f"per row, in `{unit_column}`"
    return ""


def allowed_values(field: Field, table: Table) -> str:
    """Every constraint a contributor must satisfy, in words, beyond the type."""
    c = field.constraints
    parts = []
    if field.enum:
        parts.append(", ".join(f"`{v}`" for v in field.enum))
    if "pattern" in c:
        parts.append(f"pattern `{c['pattern']}`")
    if "minimum" in c:
        parts.append(f"≥ {c['minimum']}")
    if "maximum" in c:
        parts.append(f"≤ {c['maximum']}")
    if "minLength" in c:
        parts.append(f"length ≥ {c['minLength']}")
    if "maxLength" in c:
        parts.append(f"length ≤ {c['maxLength']}")
    if field.type == "boolean":
        parts.append(" / ".join(f"`{v}`" for v in field.true_values + field.false_values))
    if field.type == "date":
        parts.append("`YYYY-MM-DD`")
    if c.get("unique") or table.primary_key == [field.name]:
        parts.append("unique")
    return "; ".join(parts)


def _keys_lines(table: Table) -> list[str]:
    lines = []
    if table.primary_key:
        lines.append("- Primary key: " + ", ".join(f"`{k}`" for k in table.primary_key))
    for fk in table.foreign_keys:
        ref = fk["reference"]
        lines.append(
            "- Foreign key: "
            + ", ".join(f"`{k}`" for k in _as_list(fk["fields"]))
            + f" → `{ref['resource']}`."
            + ", ".join(f"`{k}`" for k in _as_list(ref["fields"]))
        )
    return lines


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _table_section(table: Table, row_count: int) -> list[str]:
    lines = [
        f"## `{table.name}` — {table.title}",
        "",
        table.description,
        "",
        f"- File: `{table.path}` (schema `{table.schema_path}`)",
        f"- Rows: {row_count:,}",
        *_keys_lines(table),
        "",
    ]
    rows = [
        [
            f"`{f.name}`",
            f.type,
            unit_of(f, table),
            "yes" if f.required else "no",
            allowed_values(f, table),
            f.description,
        ]
        for f in table.fields
    ]
    lines += md_table(["Field", "Type", "Unit", "Required", "Allowed values", "Description"], rows)
    return lines + [""]


def _sources_section(package: Package, con) -> list[str]:
    table = package.table(SOURCES_TABLE)
    columns = [c for c in SOURCE_COLUMNS if c in table.field_names]
    rows = con.execute(
        f"SELECT {', '.join(quote_ident(c) for c in columns)} "
        f"FROM {quote_ident(table.name)} ORDER BY {quote_ident(table.primary_key[0])}"
    ).fetchall()
    lines = [
        "## Sources",
        "",
        f"Every row of every other table points to one of these {len(rows):,} sources "
        "through `source_id`.",
        "",
    ]
    shown = [[f"`{r[0]}`", *r[1:]] for r in rows]
    return lines + md_table(columns, shown) + [""]


def data_dictionary(package: Package) -> str:
    """The Markdown data dictionary of `package` (which must be valid)."""
    import duckdb

    con = duckdb.connect()
    load_tables(package, con)
    counts = {
        t.name: con.execute(f"SELECT count(*) FROM {quote_ident(t.name)}").fetchone()[0]
        for t in package.tables
    }
    d = package.descriptor
    licenses = ", ".join(
        f"[{lic.get('title') or lic['name']}]({lic['path']})"
        if lic.get("path")
        else str(lic.get("title") or lic.get("name"))
        for lic in d.get("licenses", [])
    )
    lines = [
        "<!-- Generated by `azkz docs` from datapackage.json, schemas/ and data/. "
        "Do not edit by hand: edit the schemas or data and run `azkz docs`. -->",
        "",
        f"# Data dictionary: {d.get('title', package.name)}",
        "",
        d.get("description", ""),
        "",
        f"- Package: `{package.name}`, version {package.version}",
        f"- License: {licenses}" if licenses else "- License: not stated",
        "- Missing values are empty cells; dates are ISO 8601 (`YYYY-MM-DD`); files are "
        "UTF-8 CSV with a header row.",
        "",
        "## Tables",
        "",
    ]
    lines += md_table(
        ["Table", "Rows", "Description"],
        [[f"[`{t.name}`](#{_anchor(t)})", f"{counts[t.name]:,}", t.title] for t in package.tables],
    )
    lines.append("")
    for table in package.tables:
        lines += _table_section(table, counts[table.name])
    if SOURCES_TABLE in [t.name for t in package.tables]:
        lines += _sources_section(package, con)
    con.close()
    return "\n".join(lines).rstrip("\n") + "\n"


def _anchor(table: Table) -> str:
    """GitHub's heading anchor for `_table_section`'s heading."""
    heading = f"{table.name} — {table.title}".lower()
    kept = "".join(ch for ch in heading if ch.isalnum() or ch in " -_")
    return kept.replace(" ", "-")


def write_data_dictionary(package: Package, out: Path | None = None) -> Path:
    """Write the dictionary (default `docs/data-dictionary.md` in the package) and return it."""
    out = out or package.root / DICTIONARY_PATH
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(data_dictionary(package), encoding="utf-8", newline="\n")
    return out
