"""Row comparison in DuckDB: a FULL OUTER JOIN on a key both sides share, counted in SQL.

Both sides' typed tables sit in two schemas of one connection (`OLD_SCHEMA`,
`NEW_SCHEMA`, filled by `azkz.diff.sides`); the differing rows of each table pair are
materialised once in a temp table, so counts are exact and only a capped number of
examples ever reaches Python.
"""

from __future__ import annotations

from typing import Any

from azkz.core.sql import ident_list, quote_ident, quote_literal
from azkz.diff.model import TableDiff, json_value
from azkz.schema.package import Table

OLD_SCHEMA, NEW_SCHEMA = "old_side", "new_side"


def relation(schema: str, table: str) -> str:
    return f"{quote_ident(schema)}.{quote_ident(table)}"


def row_count(con, source: str) -> int:
    return con.execute(f"SELECT count(*) FROM {source}").fetchall()[0][0]


def _is_unique(con, source: str, columns: list[str]) -> bool:
    cols = ident_list(columns)
    dupes = con.execute(
        f"SELECT count(*) FROM (SELECT 1 FROM {source} GROUP BY {cols} HAVING count(*) > 1)"
    ).fetchall()[0][0]
    return dupes == 0


def _choose_key(
    con, old: Table, new: Table, comparable: dict[str, str], trusted: bool = False
) -> list[str]:
    """New-side names of a key usable on both sides, or [] to compare whole rows.

    `trusted`: both sides are valid, so a key that is the primary key on both sides is
    unique without counting.
    """
    reverse = {n: o for o, n in comparable.items()}
    for key in (new.row_key, [comparable.get(f) for f in old.row_key]):
        if not key or any(k not in reverse for k in key):
            continue
        old_key = [reverse[k] for k in key]
        if trusted and key == new.primary_key and old_key == old.primary_key:
            return key
        old_unique = _is_unique(con, relation(OLD_SCHEMA, old.name), old_key)
        if old_unique and _is_unique(con, relation(NEW_SCHEMA, new.name), key):
            return key
    return []


def _comparable_fields(old: Table, new: Table, mapping: dict[str, str]) -> dict[str, str]:
    return {o: n for o, n in mapping.items() if old.field(o).type == new.field(n).type}


class TableComparison:
    """The diff rows of one table pair, materialised once in a temp table."""

    def __init__(
        self, con, index: int, old: Table, new: Table, mapping: dict[str, str], trusted=False
    ):
        self.con, self.old, self.new = con, old, new
        self.comparable = _comparable_fields(old, new, mapping)
        self.key = _choose_key(con, old, new, self.comparable, trusted)
        self.temp = f"azkz_diff_{index}"
        self.old_cols = old.field_names
        self.new_cols = new.field_names
        if self.key:
            self._join()
        else:
            self._except()

    def _join(self) -> None:
        reverse = {n: o for o, n in self.comparable.items()}
        on = " AND ".join(
            f"o.{quote_ident(reverse[k])} IS NOT DISTINCT FROM n.{quote_ident(k)}" for k in self.key
        )
        self.value_pairs = [(o, n) for o, n in self.comparable.items() if n not in self.key]
        differs = (
            " OR ".join(
                f"o.{quote_ident(o)} IS DISTINCT FROM n.{quote_ident(n)}"
                for o, n in self.value_pairs
            )
            or "false"
        )
        keys = ", ".join(
            f"coalesce(n.{quote_ident(k)}, o.{quote_ident(reverse[k])}) AS k{i}"
            for i, k in enumerate(self.key)
        )
        olds = ", ".join(f"o.{quote_ident(c)} AS o{i}" for i, c in enumerate(self.old_cols))
        news = ", ".join(f"n.{quote_ident(c)} AS n{i}" for i, c in enumerate(self.new_cols))
        self.con.execute(f"""
            CREATE TEMP TABLE {self.temp} AS
            SELECT CASE WHEN o.azkz_in_old IS NULL THEN 'ADD'
                        WHEN n.azkz_in_new IS NULL THEN 'DEL' ELSE 'MOD' END AS op,
                   {keys}, {olds}, {news}
            FROM (SELECT *, true AS azkz_in_old FROM {relation(OLD_SCHEMA, self.old.name)}) o
            FULL OUTER JOIN (SELECT *, true AS azkz_in_new FROM {relation(NEW_SCHEMA, self.new.name)}) n
              ON {on}
            WHERE o.azkz_in_old IS NULL OR n.azkz_in_new IS NULL OR {differs}""")

    def _except(self) -> None:
        """No usable key: multiset difference of whole rows on the comparable fields."""
        self.key = []
        self.value_pairs = []
        old_cols = ident_list(self.comparable)
        new_cols = ident_list(self.comparable.values())
        aliases = ", ".join(f"k{i}" for i in range(len(self.comparable)))
        old_rel, new_rel = relation(OLD_SCHEMA, self.old.name), relation(NEW_SCHEMA, self.new.name)
        self.con.execute(f"""
            CREATE TEMP TABLE {self.temp} AS
            SELECT 'DEL' AS op, * FROM (SELECT {old_cols} FROM {old_rel}
                                        EXCEPT ALL SELECT {new_cols} FROM {new_rel}) d({aliases})
            UNION ALL
            SELECT 'ADD' AS op, * FROM (SELECT {new_cols} FROM {new_rel}
                                        EXCEPT ALL
                                        SELECT {old_cols} FROM {old_rel}) a({aliases})""")

    @property
    def key_names(self) -> list[str]:
        return self.key or list(self.comparable.values())

    def counts(self) -> dict[str, int]:
        rows = self.con.execute(f"SELECT op, count(*) FROM {self.temp} GROUP BY op").fetchall()
        return {op: n for op, n in rows}

    def field_changes(self) -> dict[str, int]:
        if not self.value_pairs:
            return {}
        sums = ", ".join(
            f"count(*) FILTER (WHERE o{self.old_cols.index(o)} IS DISTINCT FROM "
            f"n{self.new_cols.index(n)})"
            for o, n in self.value_pairs
        )
        counts = self.con.execute(f"SELECT {sums} FROM {self.temp} WHERE op = 'MOD'").fetchall()[0]
        return {n: c for (_, n), c in zip(self.value_pairs, counts, strict=True) if c}

    def entries(self, op: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        """Diff rows as JSON-ready dicts, sorted by key (all ops when `op` is None)."""
        where = f"WHERE op = {quote_literal(op)}" if op else ""
        order = ", ".join(f"k{i}" for i in range(len(self.key_names))) + ", op"
        cursor = self.con.execute(
            f"SELECT * FROM {self.temp} {where} ORDER BY {order}"
            + (f" LIMIT {int(limit)}" if limit is not None else "")
        )
        names = [d[0] for d in cursor.description]
        return [self._entry(dict(zip(names, row, strict=True))) for row in cursor.fetchall()]

    def _entry(self, row: dict[str, Any]) -> dict[str, Any]:
        key = {k: json_value(row[f"k{i}"]) for i, k in enumerate(self.key_names)}
        entry: dict[str, Any] = {"op": row["op"], "key": key}
        if not self.key:
            return entry
        if row["op"] == "ADD":
            entry["row"] = {c: json_value(row[f"n{i}"]) for i, c in enumerate(self.new_cols)}
        elif row["op"] == "DEL":
            entry["row"] = {c: json_value(row[f"o{i}"]) for i, c in enumerate(self.old_cols)}
        else:
            entry["changes"] = {
                n: [
                    json_value(row[f"o{self.old_cols.index(o)}"]),
                    json_value(row[f"n{self.new_cols.index(n)}"]),
                ]
                for o, n in self.value_pairs
                if row[f"o{self.old_cols.index(o)}"] != row[f"n{self.new_cols.index(n)}"]
            }
        return entry

    def notes(self, mapping: dict[str, str]) -> list[str]:
        notes = []
        if not self.key:
            notes.append(
                "no primary key usable on both sides (missing, changed type or not unique): "
                "whole rows compared, so a changed row counts as one removed and one added"
            )
        skipped = sorted(set(mapping.values()) - set(self.comparable.values()))
        if skipped:
            which = "field whose type" if len(skipped) == 1 else "fields whose types"
            notes.append(f"values not compared for the {which} changed: {', '.join(skipped)}")
        one_sided = sorted(set(self.old_cols) - set(mapping)) + sorted(
            set(self.new_cols) - set(mapping.values())
        )
        if one_sided:
            notes.append(
                "compared on the common fields only; not on "
                + ", ".join(one_sided)
                + " (present on one side)"
            )
        return notes


def table_diff(comparison: TableComparison, mapping: dict[str, str], examples: int):
    con, old, new = comparison.con, comparison.old, comparison.new
    counts = comparison.counts()
    return TableDiff(
        name=new.name,
        old_name=old.name,
        old_rows=row_count(con, relation(OLD_SCHEMA, old.name)),
        new_rows=row_count(con, relation(NEW_SCHEMA, new.name)),
        matched_on=comparison.key,
        added=counts.get("ADD", 0),
        removed=counts.get("DEL", 0),
        changed=counts.get("MOD", 0),
        field_changes=comparison.field_changes(),
        examples={
            op: comparison.entries(op, examples) for op in ("ADD", "DEL", "MOD") if counts.get(op)
        },
        notes=comparison.notes(mapping),
    )
