"""The result of a diff: schema changes, per-table row counts, the SemVer bump they need."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from azkz.core.version import LEVELS

BUMPS = LEVELS  # the bump a change needs, smallest first: SemVer as `azkz.core.version` counts
WORKTREE = "WORKTREE"
EXAMPLES = 10


class DiffError(Exception):
    """A side cannot be read (bad path, unknown ref, unreadable data): exit code 2."""


def max_bump(bumps: Iterable[str]) -> str:
    return max(bumps, key=BUMPS.index, default="none")


@dataclass
class SchemaChange:
    """One schema difference and the bump it alone requires."""

    bump: str
    table: str
    field: str | None
    kind: str
    detail: str


@dataclass
class TableDiff:
    """Row-level comparison of one table present on both sides (possibly renamed)."""

    name: str
    old_name: str
    old_rows: int
    new_rows: int
    matched_on: list[str]  # key fields; empty when whole rows were compared
    added: int = 0
    removed: int = 0
    changed: int = 0
    field_changes: dict[str, int] = field(default_factory=dict)
    examples: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def has_changes(self) -> bool:
        return bool(self.added or self.removed or self.changed)


@dataclass
class Side:
    label: str
    version: str


@dataclass
class Diff:
    old: Side
    new: Side
    tables: list[TableDiff]
    schema_changes: list[SchemaChange]
    added_tables: dict[str, int] = field(default_factory=dict)  # name -> rows
    removed_tables: dict[str, int] = field(default_factory=dict)

    @property
    def bump(self) -> str:
        """The least version bump that honestly describes the change."""
        data = "patch" if any(t.has_changes for t in self.tables) else "none"
        return max_bump([data, *(c.bump for c in self.schema_changes)])

    def to_dict(self) -> dict[str, Any]:
        return {
            "old": asdict(self.old),
            "new": asdict(self.new),
            "bump": self.bump,
            "schema_changes": [asdict(c) for c in self.schema_changes],
            "added_tables": self.added_tables,
            "removed_tables": self.removed_tables,
            "tables": [asdict(t) for t in self.tables],
        }


def show(value: Any, width: int | None = None) -> str:
    """A property value as JSON (`none` when absent), cut at `width` characters."""
    text = "none" if value is None else json.dumps(value, ensure_ascii=False)
    return text if width is None or len(text) <= width else text[: width - 1] + "…"
