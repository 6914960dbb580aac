"""The data dictionary (`docs/data-dictionary.md`), generated from the schemas and the data.

Nothing in it is written by hand: descriptions, types and constraints come from
`schemas/*.json`, row counts and the sources table from `data/*.csv` read through the
same typed DuckDB tables as the release. The output depends only on those files (no
clock, no machine), so a test can regenerate it and fail when the committed copy is stale.
"""

from __future__ import annotations

from azkz.core.errors import markdown_list
from azkz.core.markdown import md_table
from azkz.core.sql import ident_list, quote_ident
from azkz.derive.annual_series import derive_tables, excluded_rows, precedence_lines
from azkz.schema.fields import constraint_words, missing_value_words
from azkz.schema.package import Field, Package, Table, field_list
from azkz.tables.typed import load_tables

DICTIONARY_PATH = "docs/data-dictionary.md"
SOURCES_TABLE = "sources"
# Columns of the sources table shown in the dictionary, in this order when present.
SOURCE_COLUMNS = ("source_id", "publisher", "title", "published", "language", "url")


def allowed_values(field: Field, table: Table) -> str:
    """Every constraint a contributor must satisfy, in words, beyond the type.

    The constraints are worded by `azkz.schema.fields.constraint_words`, as on the site;
    `required` has a column of its own.
    """
    parts = constraint_words(field.constraints, skip=("required", "unique"), type_name=field.type)
    if field.type == "boolean":
        parts.append(" / ".join(f"`{v}`" for v in field.true_values + field.false_values))
    if field.type == "date":
        parts.append("`YYYY-MM-DD`")
    if field.constraints.get("unique") or table.primary_key == [field.name]:
        parts.append("unique")
    missing = missing_value_words(field.missing_values, field.type, labels=field.missing_labels)
    return "; ".join(parts + ([missing] if missing else []))


def _keys_lines(table: Table) -> list[str]:
    lines = []
    if table.primary_key:
        lines.append("- Primary key: " + ", ".join(f"`{k}`" for k in table.primary_key))
    for key in table.unique_keys:
        lines.append("- Unique key (may be empty): " + ", ".join(f"`{k}`" for k in key))
    for fk in table.foreign_keys:
        ref = fk["reference"]
        lines.append(
            "- Foreign key: "
            + ", ".join(f"`{k}`" for k in field_list(fk["fields"]))
            + f" → `{ref['resource']}`."
            + ", ".join(f"`{k}`" for k in field_list(ref["fields"]))
        )
    return lines


def _file_line(table: Table) -> str:
    if table.derived_from:
        sources = ", ".join(f"`{n}`" for n in table.derived_from)
        return (
            f"- Derived by `azkz build` from {sources}, never edited by hand: "
            f"`{table.path}` in each release (schema `{table.schema_path}`)"
        )
    return f"- File: `{table.path}` (schema `{table.schema_path}`)"


def _derivation_lines(table: Table, con) -> list[str]:
    """How a derived table is computed (its schema's `precedence`) and what is kept out."""

    lines = [f"## How `{table.name}` is derived", "", table.schema["precedence"]["description"]]
    lines += ["", *md_table(["Step", "Wins"], precedence_lines(table)), ""]
    header, rows = excluded_rows(con)
    lines += [f"### Observations excluded from `{table.name}`", ""]
    if not rows:
        return lines + ["None: every full-year observation may be picked.", ""]
    lines += [f"{len(rows):,} observations stay in `indicators` but are never picked:", ""]
    return lines + md_table(header, rows) + [""]


def _table_section(table: Table, row_count: int) -> list[str]:
    lines = [
        f"## `{table.name}` — {table.title}",
        "",
        table.description,
        "",
        _file_line(table),
        f"- Rows: {row_count:,}",
        *_keys_lines(table),
        "",
    ]
    rows = [
        [
            f"`{f.name}`",
            f.type,
            f.unit,
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
        f"SELECT {ident_list(columns)} "
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
    derive_tables(package, con)
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
        f"- Missing values are empty cells{_missing_exceptions(package)}; dates are ISO 8601 "
        "(`YYYY-MM-DD`); files are UTF-8 CSV with a header row.",
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
        if table.derived_from:
            lines += _derivation_lines(table, con)
    if SOURCES_TABLE in [t.name for t in package.tables]:
        lines += _sources_section(package, con)
    con.close()
    return "\n".join(lines).rstrip("\n") + "\n"


def _missing_exceptions(package: Package) -> str:
    """Words after "Missing values are empty cells" when some field has its own."""
    if all(
        f.missing_values == ("",) and not f.missing_labels for t in package.tables for f in t.fields
    ):
        return ""
    return " unless a field's allowed values say otherwise"


def _anchor(table: Table) -> str:
    """GitHub's heading anchor for `_table_section`'s heading."""
    heading = f"{table.name} — {table.title}".lower()
    kept = "".join(ch for ch in heading if ch.isalnum() or ch in " -_")
    return kept.replace(" ", "-")


README_PATH = "README.md"
ERRORS_START = "<!-- error list: generated by `azkz docs` from azkz.core.errors -->"
ERRORS_END = "<!-- end of error list -->"


def readme_with_error_list(readme: str) -> str:
    """README.md with its error list replaced by the vocabulary's (`azkz.core.errors`)."""

    before, found, rest = readme.partition(ERRORS_START)
    _old, ended, after = rest.partition(ERRORS_END)
    if not found or not ended:
        raise ValueError(
            f"{README_PATH} has no error list markers ({ERRORS_START} ... {ERRORS_END})"
        )
    return f"{before}{ERRORS_START}\n{markdown_list()}{ERRORS_END}{after}"
