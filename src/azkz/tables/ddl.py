"""DuckDB DDL from a Table Schema: CREATE TABLE with its keys, COMMENT ON, key order.

The release's `.duckdb` file (`azkz.release.build`) and the in-memory database of
`azkz query` (`azkz.access.query`) say the same thing about a table, so both take
their statements from here; the site (`azkz.publish.site.context`) reads rows in the
same key order.
"""

from __future__ import annotations

from azkz.core.sql import ident_list, quote_ident, quote_literal
from azkz.schema.package import Table, field_list
from azkz.tables.typed import key_order


def table_ddl(table: Table, catalog: str) -> str:
    """CREATE TABLE with types, NOT NULL, primary and foreign keys from the Table Schema."""
    lines = [
        f"{quote_ident(f.name)} {f.duckdb_type}{' NOT NULL' if f.required else ''}"
        for f in table.fields
    ]
    if table.primary_key:
        lines.append(f"PRIMARY KEY ({ident_list(table.primary_key)})")
    lines += [f"UNIQUE ({ident_list(key)})" for key in table.unique_keys]
    for fk in table.foreign_keys:
        ref = fk["reference"]
        lines.append(
            f"FOREIGN KEY ({ident_list(field_list(fk['fields']))}) REFERENCES "
            f"{quote_ident(ref.get('resource') or table.name)} "
            f"({ident_list(field_list(ref['fields']))})"
        )
    body = ",\n  ".join(lines)
    return f"CREATE TABLE {catalog}.{quote_ident(table.name)} (\n  {body}\n)"


def comment_statements(table: Table, catalog: str | None = None) -> list[str]:
    """COMMENT ON the table and every column, from the schema's descriptions."""
    qualified = f"{catalog}.{quote_ident(table.name)}" if catalog else quote_ident(table.name)
    statements = [f"COMMENT ON TABLE {qualified} IS {quote_literal(table.description)}"]
    statements += [
        f"COMMENT ON COLUMN {qualified}.{quote_ident(f.name)} IS {quote_literal(f.description)}"
        for f in table.fields
    ]
    return statements


def sorted_select(table: Table, columns: str = "*") -> str:
    return f"SELECT {columns} FROM {quote_ident(table.name)} ORDER BY {key_order(table)}"
