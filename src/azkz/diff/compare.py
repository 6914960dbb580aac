"""The comparison itself: both sides' typed tables in one DuckDB connection, then the
schema changes (`azkz.diff.schema`) and the row changes (`azkz.diff.rows`) of each pair.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import duckdb

from azkz.diff.model import EXAMPLES, Diff, Side
from azkz.diff.rows import NEW_SCHEMA, OLD_SCHEMA, TableComparison, relation, row_count, table_diff
from azkz.diff.schema import descriptor_changes, pair_tables, table_schema_changes
from azkz.diff.sides import load_side, open_side, trust
from azkz.schema.package import Package, read_package

# Fills a schema of the connection with one side's typed tables:
# (package, schema, label, con, valid: the side is validated before the result is used).
Loader = Callable[[Package, str, str, Any, bool], None]


def compare(
    old: Package,
    new: Package,
    examples: int,
    full: bool,
    con=None,
    loaders: tuple[Loader, Loader] = (load_side, load_side),
    trusted: bool = False,
) -> tuple[Diff, dict[str, list[dict[str, Any]]]]:
    """The Diff and, with `full`, every row entry per table (for changes.json).

    With `con` the comparison runs on a cursor of it and its schemas are dropped
    afterwards; `loaders` (old, new) then may find tables `con` already holds instead
    of reading files again.  `trusted`: both sides were validated or verified, so their
    primary keys are known to be unique.
    """
    pairs, removed, added, changes = pair_tables(old, new)
    changes = descriptor_changes(old, new, pairs) + changes
    cursor = con.cursor() if con is not None else _connection()
    try:
        loaders[0](old, OLD_SCHEMA, "old side", cursor, trusted)
        loaders[1](new, NEW_SCHEMA, "new side", cursor, trusted)
        tables, all_entries = [], {}
        for index, (old_t, new_t) in enumerate(pairs):
            mapping, table_changes = table_schema_changes(old_t, new_t)
            changes += table_changes
            comparison = TableComparison(cursor, index, old_t, new_t, mapping, trusted)
            tables.append(table_diff(comparison, mapping, examples))
            if full:
                all_entries[new_t.name] = comparison.entries()
        diff = Diff(
            old=Side("", old.version),
            new=Side("", new.version),
            tables=tables,
            schema_changes=changes,
            added_tables={t.name: row_count(cursor, relation(NEW_SCHEMA, t.name)) for t in added},
            removed_tables={
                t.name: row_count(cursor, relation(OLD_SCHEMA, t.name)) for t in removed
            },
        )
    finally:
        if con is not None:
            for schema in (OLD_SCHEMA, NEW_SCHEMA):
                cursor.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        cursor.close()
    return diff, all_entries


def _connection():
    """A connection of the comparison's own: rows keep no order.

    Every result is sorted by key when it is read (the examples, changes.json) and a
    derived table orders its rows itself, so the sides' tables need no insertion order;
    without it DuckDB reads a large CSV with about a fifth less CPU.
    """
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = false")
    return con


def diff_packages(old: Package, new: Package, examples: int = EXAMPLES) -> Diff:
    """Compare two packages: schema changes, row counts per table, the bump needed."""
    diff, _ = compare(old, new, examples, full=False)
    diff.old.label, diff.new.label = str(old.root), str(new.root)
    return diff


def diff_specs(old: str, new: str, repo: Path = Path("."), examples: int = EXAMPLES) -> Diff:
    """`diff_packages` for what the user typed: paths, `WORKTREE` or git refs.

    Each package is read once.  The sides are loaded and compared on another thread
    while they are validated (or their checksums verified) here; the comparison is only
    used once both sides are trusted, so an untrusted side is refused as before.
    """
    labels = ("old side", "new side")
    with ExitStack() as stack:
        sides = [open_side(old, repo, stack), open_side(new, repo, stack)]
        packages = [read_package(side.root) for side in sides]
        background = stack.enter_context(ThreadPoolExecutor(1))
        comparing = background.submit(_trusted_diff, *packages, examples)
        for side, package, label in zip(sides, packages, labels, strict=True):
            trust(side, package, label)
        diff = comparing.result()
    diff.old.label, diff.new.label = old, new
    return diff


def _trusted_diff(old: Package, new: Package, examples: int) -> Diff:
    """`diff_packages` for sides that are (being) checked: their primary keys are unique."""
    diff, _ = compare(old, new, examples, False, trusted=True)
    return diff
