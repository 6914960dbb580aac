"""Table-scope rules: primary keys, unique fields and keys, foreign keys.

Each key is checked on the typed values of the table's rows (`typed_source`), so two
spellings of one value (`1` and `1.0`) repeat a key as Frictionless says; a key whose
type has one spelling is first ruled out cheaply by the hashes of its text, stored while
the rows are loaded (`text_key_hashes`).  A foreign key is checked against its parent's
typed rows, so a table must be loaded with the tables it references.
"""

from __future__ import annotations

from typing import Any

from azkz.core.errors import FOREIGN_KEY, PRIMARY_KEY, UNIQUE_ERROR, ErrorType, error
from azkz.core.sql import ident_list, quote_ident
from azkz.schema.package import Package, Table
from azkz.validate.rules.cell import as_list, raw_name, typed, typed_source


def text_key_hashes(table: Table) -> list[tuple[str, str]]:
    """(column, expression) hashing the text of each key with one spelling per value."""
    return [
        (key_hash(i), f"hash({ident_list(names)})")
        for i, (_code, names) in enumerate(table_keys(table))
        if one_spelling(table, names)
    ]


def key_errors(table: Table, con, lines) -> list[dict[str, Any]]:
    """Primary key and unique fields: every row after the first with the same key."""
    errors = []
    for i, (code, names) in enumerate(table_keys(table)):
        fields = [table.field(n) for n in names]
        if one_spelling(table, names) and not _text_may_repeat(table, i, con):
            continue
        cols = ", ".join(typed(f) for f in fields)
        not_null = " AND ".join(f"{typed(f)} IS NOT NULL" for f in fields)
        duplicates = con.execute(
            f"WITH t AS (SELECT * FROM {typed_source(table)} WHERE {not_null}), "
            f"d AS (SELECT {cols} FROM t GROUP BY ALL HAVING count(*) > 1) "
            f"SELECT _row, first_row, {cols} FROM (SELECT _row, {cols}, "
            f"min(_row) OVER (PARTITION BY {cols}) AS first_row FROM t SEMI JOIN d "
            f"USING ({cols})) WHERE _row <> first_row ORDER BY _row"
        ).fetchall()
        label = "primary key" if code is PRIMARY_KEY else "unique field"
        messages = [
            (row, f"{label} ({key_text(names, values)}) repeats line {int(lines[first])}")
            for row, first, *values in duplicates
        ]
        errors += key_row_errors(table, lines, names, code, messages)
    return errors


def key_text(names: list[str], values) -> str:
    """A key's value as messages quote it: `indicator=exports, year=2020`."""
    return ", ".join(f"{n}={v}" for n, v in zip(names, values, strict=True))


def key_row_errors(
    table: Table, lines, names: list[str], kind: ErrorType, messages: list[tuple[int, str]]
) -> list[dict[str, Any]]:
    """One `kind` error per (row, message) about the key of `names`, at the row's physical
    line (`lines`), naming the field when the key has one (primary, unique, foreign and
    unreferenced keys all report so)."""
    field = names[0] if len(names) == 1 else None
    return [
        error(table.name, table.path, int(lines[row]), field, kind, message)
        for row, message in messages
    ]


def table_keys(table: Table) -> list[tuple[ErrorType, list[str]]]:
    """(error type, field names) of the primary key and of each unique field."""
    keys = []
    if table.primary_key:
        keys.append((PRIMARY_KEY, table.primary_key))
    for f in table.fields:  # a unique primary key field has both errors, as in Frictionless
        if f.constraints.get("unique"):
            keys.append((UNIQUE_ERROR, [f.name]))
    for names in table.schema.get("uniqueKeys", []):  # Table Schema v2: composite unique
        keys.append((UNIQUE_ERROR, as_list(names)))
    return keys


def key_hash(index: int) -> str:
    """Column of `raw_<name>` holding the hash of key number `index`'s text."""
    return quote_ident(f"_key_hash_{index}")


def one_spelling(table: Table, names: list[str]) -> bool:
    """Whether equal typed keys always have equal text, so the text can rule out repeats.

    True for strings and dates (one lexical form, YYYY-MM-DD); other types may spell
    one value two ways (`1` and `1.0`) and always get the exact check.
    """
    return all(table.field(n).type in ("string", "date") for n in names)


def _text_may_repeat(table: Table, index: int, con) -> bool:
    """False when no two rows can share key number `index`: distinct hashes of its text.

    A hash collision only sends the key to the exact check.
    """
    return bool(
        con.execute(
            f"SELECT count(*) > count(DISTINCT {key_hash(index)}) FROM {raw_name(table)}"
        ).fetchall()[0][0]
    )


def foreign_key_errors(
    package: Package, table: Table, lines: dict[str, Any], con, foreign_keys=None
) -> list[dict[str, Any]]:
    """Rows whose reference is not in the parent table (empty references are allowed).

    `foreign_keys` limits the check to some of the table's (those a profile saw fail).
    """
    errors = []
    for fk in table.foreign_keys if foreign_keys is None else foreign_keys:
        names = as_list(fk["fields"])
        ref = fk["reference"]
        parent = package.table(ref.get("resource") or table.name)
        if parent.name not in lines:
            continue  # the parent's own errors are reported; its keys are unknown
        ref_names = as_list(ref["fields"])
        child_cols = [typed(table.field(n)) for n in names]
        parent_cols = [typed(parent.field(n)) for n in ref_names]
        on = " AND ".join(f"c.{c} = p.{p}" for c, p in zip(child_cols, parent_cols, strict=True))
        not_null = " AND ".join(f"c.{c} IS NOT NULL" for c in child_cols)
        missing = con.execute(
            f"SELECT c._row, {', '.join('c.' + c for c in child_cols)} "
            f"FROM {typed_source(table)} c ANTI JOIN {typed_source(parent)} p ON {on} "
            f"WHERE {not_null} ORDER BY c._row"
        ).fetchall()
        target = f"{parent.name}.{','.join(ref_names)}"
        messages = [
            (row, f"{','.join(names)} {', '.join(str(v) for v in values)!r} is not in {target}")
            for row, *values in missing
        ]
        errors += key_row_errors(table, lines[table.name], names, FOREIGN_KEY, messages)
    return errors
