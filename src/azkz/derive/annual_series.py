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

from azkz.core.sql import ident_list, quote_ident, quote_literal
from azkz.schema.derived import (
    COPIED,
    EXCLUDE_FIELD,
    KIND_FIELD,
    KIND_RULE,
    OBSERVATIONS,
    ONLY_RULE,
    SOURCES,
    precedence_of,
)
from azkz.schema.package import Table


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
