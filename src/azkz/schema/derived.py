"""What a derived table's schema declares: what it is derived from, and for the annual
series the precedence rule that picks one figure per group.

This is metadata, read here once: `azkz.validate` checks it (`rules/derived.py`), and
`azkz.derive` applies it, `azkz.publish` shows it. Nothing here runs a query.
May import: `azkz.core` (nothing else of azkz is needed to read a schema property).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from azkz.core.sql import quote_literal
from azkz.schema.package import Table

SERIES_TABLE = "annual_series"
OBSERVATIONS = "indicators"
SOURCES = "sources"
EXCLUDE_FIELD = "exclude_from_series"
KIND_FIELD = "kind"
ONLY_RULE = "only"  # one candidate: nothing was decided
KIND_RULE = "kind"  # decided by the rank of the source's kind
# The observation's columns the series copies verbatim; the rest it computes.
COPIED = (
    "indicator",
    "reporter",
    "from_country",
    "to_country",
    "value",
    "unit",
    "qualifier",
    "period_start",
    "period_end",
    "source_id",
)
ORDERS = {"ascending": "ASC NULLS LAST", "descending": "DESC NULLS LAST"}
# Orders that prefer rows by a condition, not by sorting values: `empty first` (a value
# stated exactly has no `qualifier`) and `value first` (the step's `value`, e.g. `stated`).
PREFERENCES = ("empty first", "value first")


@dataclass(frozen=True)
class Step:
    """One step of the rule that orders candidates on a column: a step before the kind's
    rank (`precedence.first`) or a tie-break after it; `rule` names it in the output."""

    column: str  # a column of the candidate rows: `source_id` or `sources.<field>`
    order: str  # ascending | descending | empty first | value first
    rule: str
    value: str | None = None  # the preferred value, for `value first`

    def sort_key(self, column_sql: str) -> str:
        """The candidate's key for this step; with ORDERS[...] it sorts the winner first."""
        if self.order == "empty first":
            return f"({column_sql} IS NOT NULL)"
        if self.order == "value first":
            return f"({column_sql} IS DISTINCT FROM {quote_literal(self.value)})"
        return column_sql

    @property
    def direction(self) -> str:
        return ORDERS.get(self.order, ORDERS["ascending"])


@dataclass(frozen=True)
class Precedence:
    first: tuple[Step, ...]  # steps that decide before the source's kind
    kind_rank: dict[str, int]
    tie_breaks: tuple[Step, ...]


def _steps(raw: list[dict[str, Any]]) -> tuple[Step, ...]:
    return tuple(Step(t["field"], t["order"], t["rule"], t.get("value")) for t in raw)


def precedence_of(table: Table) -> Precedence:
    """The `precedence` property of a derived table's schema (checked by `precedence_errors`)."""
    raw = table.schema["precedence"]
    kind_rank = {kind: int(r["rank"]) for r in raw["ranks"] for kind in r["kinds"]}
    return Precedence(_steps(raw.get("first", [])), kind_rank, _steps(raw["tieBreaks"]))


BILATERAL_TABLE = "bilateral_trade"
MIRROR_TABLE = "trade_mirror"
# What each derived table is computed from: its `derivedFrom` must name exactly these.
DERIVED_READS = {
    SERIES_TABLE: (OBSERVATIONS, SOURCES),
    BILATERAL_TABLE: (SERIES_TABLE,),
    MIRROR_TABLE: (SERIES_TABLE,),
}


def precedence_lines(table: Table) -> list[tuple[str, str]]:
    """The rule in reading order, as (step, what wins) pairs, for the docs and the site."""
    raw = table.schema["precedence"]
    steps = [(f"first `{t['rule']}`", t["label"]) for t in raw.get("first", [])]
    steps += [
        (f"rank {r['rank']}", f"{r['label']}: " + ", ".join(f"`{k}`" for k in r["kinds"]))
        for r in raw["ranks"]
    ]
    steps += [(f"then `{t['rule']}`", t["label"]) for t in raw["tieBreaks"]]
    return steps
