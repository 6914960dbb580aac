"""Derived tables: `annual_series`, one value per indicator, reporter, countries and year.

The register (`indicators`) keeps every figure every source gave; the series picks one
per group by the precedence rule written once, as data, in the derived table's schema
(`precedence`: steps that come first, then ranks of `sources.kind`, then tie-breaks,
each naming the `rule` code it stands for). This module turns that property into one DuckDB statement, so the build,
`azkz query`, `azkz.load` and `azkz diff` all derive the table the same way, and checks
the property when the package is validated.

Eligible: a full calendar year (`period_start` 1 January, `period_end` 31 December of
the same year) whose `exclude_from_series` is empty. Groups are the table's unique key;
an empty `reporter` is a group of its own (NULL groups with NULL). `min_value` and
`max_value` are taken over the candidates in the chosen row's unit (other units cannot
be compared and are never converted); `candidates` counts them all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from azkz.core.sql import ident_list, quote_ident, quote_literal
from azkz.schema.package import Package, Table

SERIES_TABLE = "annual_series"
OBSERVATIONS = "indicators"
SOURCES = "sources"
EXCLUDE_FIELD = "exclude_from_series"
KIND_FIELD = "kind"
ONLY_RULE = "only"  # one candidate: nothing was decided
KIND_RULE = "kind"  # decided by the rank of the source's kind
# The observation's columns copied verbatim; the rest are computed here.
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


def full_year_sql(start: str, end: str) -> str:
    """True when the period `start`..`end` is one calendar year: what the series accepts."""
    return (
        f"({start} = make_date(year({start}), 1, 1) AND {end} = make_date(year({start}), 12, 31))"
    )


def _candidate_column(name: str) -> str:
    """`sources.published` -> `s."published"`; a bare name is the observation's column."""
    table, _, column = name.rpartition(".")
    return f"{'s' if table == SOURCES else 'i'}.{quote_ident(column)}"


def _alone(partition: list[str]) -> str:
    return f"count(*) OVER (PARTITION BY {', '.join(partition)}) = 1"


def series_sql(table: Table) -> str:
    """SELECT deriving `table` (an annual series) from typed `indicators` and `sources`."""
    precedence = precedence_of(table)
    rank = " ".join(
        f"WHEN {quote_literal(kind)} THEN {rank}" for kind, rank in precedence.kind_rank.items()
    )
    group = ident_list(["indicator", "reporter", "from_country", "to_country", "year"])
    # Every step in reading order: the steps before the kind, the kind's rank, the ties.
    steps = [*((f"f{i}", t) for i, t in enumerate(precedence.first)), ("kind_rank", None)]
    steps += [(f"tb{i}", t) for i, t in enumerate(precedence.tie_breaks)]
    picked_first = ", ".join(f"{name} {t.direction if t else 'ASC'}" for name, t in steps)
    # A step decided the pick when no other candidate ties with the winner on that step
    # and every earlier one: the winner is alone in the partition of all those columns.
    partition = [group]
    decided = []
    for name, t in steps:
        partition.append(name)
        decided.append(f"WHEN {_alone(partition)} THEN {quote_literal(t.rule if t else KIND_RULE)}")
    tie_columns = ", ".join(
        f"{t.sort_key(_candidate_column(t.column))} AS {name}" for name, t in steps if t
    )
    copied = ", ".join(f"i.{quote_ident(c)}" for c in COPIED)
    return f"""
        WITH candidate AS (
            SELECT {copied}, year(i.period_start) AS "year",
                   CASE s.{quote_ident(KIND_FIELD)} {rank} END AS kind_rank, {tie_columns}
            FROM {quote_ident(OBSERVATIONS)} i
            JOIN {quote_ident(SOURCES)} s ON s.source_id = i.source_id
            WHERE {full_year_sql("i.period_start", "i.period_end")}
              AND i.{quote_ident(EXCLUDE_FIELD)} IS NULL
        ), ranked AS (
            SELECT *,
                   row_number() OVER (PARTITION BY {group} ORDER BY {picked_first}) AS place,
                   count(*) OVER (PARTITION BY {group}) AS candidates,
                   min(value) OVER (PARTITION BY {group}, unit) AS min_value,
                   max(value) OVER (PARTITION BY {group}, unit) AS max_value,
                   CASE WHEN {_alone([group])} THEN {quote_literal(ONLY_RULE)}
                        {" ".join(decided)} END AS rule
            FROM candidate
        )
        SELECT {ident_list(table.field_names)} FROM ranked WHERE place = 1
    """


def derive_tables(package: Package, con) -> None:
    """Create each virtual derived table of `package` in `con` from its typed sources."""
    for table in package.virtual_tables:
        columns = ", ".join(
            f"CAST({quote_ident(f.name)} AS {f.duckdb_type}) AS {quote_ident(f.name)}"
            for f in table.fields
        )
        con.execute(
            f"CREATE OR REPLACE TABLE {quote_ident(table.name)} AS "
            f"SELECT {columns} FROM ({series_sql(table)}) ORDER BY ALL"
        )


def precedence_errors(package: Package, schema_error) -> list[dict[str, Any]]:
    """What makes a derived table's rule unusable, as `schema-error`s in its schema file.

    Every kind the sources may have must have exactly one rank (a new kind would otherwise
    silently lose to all others), tie-breaks name existing columns and known orders, and
    the last one is `source_id`, unique within a group, so the pick is always determined.
    """
    errors = []
    for table in package.tables:
        if not table.derived_from:
            continue

        def bad(message: str, table: Table = table) -> None:
            errors.append(schema_error(table, None, f"{table.name}: {message}"))

        missing = [n for n in table.derived_from if n not in {t.name for t in package.tables}]
        if missing:
            bad(f"derivedFrom names unknown resource(s) {', '.join(missing)}")
            continue
        if table.name != SERIES_TABLE:
            bad(f"no derivation is known for a derived table named {table.name!r}")
            continue
        try:
            precedence = precedence_of(table)
        except (KeyError, TypeError, ValueError) as exc:
            bad(
                f"'precedence' needs 'ranks' (rank, kinds) and 'tieBreaks' (field, order, rule): {exc!r}"
            )
            continue
        kinds = package.table(SOURCES).field(KIND_FIELD).enum or []
        ranked = [k for r in table.schema["precedence"]["ranks"] for k in r["kinds"]]
        for kind in sorted({k for k in ranked if ranked.count(k) > 1}):
            bad(f"precedence ranks kind {kind!r} twice")
        for kind in [k for k in kinds if k not in precedence.kind_rank]:
            bad(f"precedence gives no rank to sources.kind {kind!r}")
        for kind in [k for k in precedence.kind_rank if k not in kinds]:
            bad(f"precedence ranks {kind!r}, which is not a sources.kind value")
        known = set(package.table(OBSERVATIONS).field_names) | {
            f"{SOURCES}.{n}" for n in package.table(SOURCES).field_names
        }
        for tie in (*precedence.first, *precedence.tie_breaks):
            if tie.column not in known:
                bad(f"step field {tie.column!r} is not an indicators or sources column")
            if tie.order not in (*ORDERS, *PREFERENCES):
                bad(f"step order {tie.order!r} is not one of {', '.join((*ORDERS, *PREFERENCES))}")
            if (tie.order == "value first") != (tie.value is not None):
                bad(f"step {tie.rule!r}: a 'value' is given with order 'value first' and only then")
        if not precedence.tie_breaks or precedence.tie_breaks[-1].column != "source_id":
            bad("the last tie-break must be source_id, so that every pick is determined")
        observations = package.table(OBSERVATIONS)
        for name in COPIED:
            copied = next((f for f in table.fields if f.name == name), None)
            if copied is None or copied.raw != observations.field(name).raw:
                bad(
                    f"field {name!r} is copied verbatim from indicators, so it must be defined "
                    f"exactly as in {observations.schema_path} (copy that definition here)"
                )
        rules = {
            ONLY_RULE,
            KIND_RULE,
            *(t.rule for t in (*precedence.first, *precedence.tie_breaks)),
        }
        enum = set(table.field("rule").enum or []) if "rule" in table.field_names else set()
        if rules != enum:
            bad(f"rule enum {sorted(enum)} must list the precedence's codes {sorted(rules)}")
    return errors


EXCLUDED_COLUMNS = (
    "indicator",
    "reporter",
    "from_country",
    "to_country",
    "period_start",
    "period_end",
    "value",
    "unit",
    "source_id",
    EXCLUDE_FIELD,
)


def excluded_rows(con) -> tuple[list[str], list[tuple]]:
    """The observations a curator kept out of the series, with the reason, in key order."""
    rows = con.execute(
        f"SELECT {ident_list(EXCLUDED_COLUMNS)} FROM {quote_ident(OBSERVATIONS)} "
        f"WHERE {quote_ident(EXCLUDE_FIELD)} IS NOT NULL ORDER BY ALL"
    ).fetchall()
    return list(EXCLUDED_COLUMNS), rows


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
