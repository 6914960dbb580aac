"""Derived trade tables: `bilateral_trade` and `trade_mirror`, both from `annual_series`.

The series holds one figure per indicator, reporter, direction and year, picked by its
precedence rule. These two tables only arrange those picks for the two questions users
ask first: each country's trade with the other and its share of the country's total
trade (`bilateral_trade`), and each direction's exports as the exporter reports them
beside the imports as the importer reports them (`trade_mirror`, mirror statistics).

They compute nothing the picks do not give: a sum or a share is taken only of figures
of one source (two statistics are never added), a mirror gap only where both sides
exist, and every empty value says why in `note`. The pair of countries is the
`reporter` (or `exporter`) field's `enum` in the table's schema; a figure without a
reporter is never used, since whose statistics it is would be a guess.
"""

from __future__ import annotations

from azkz.core.sql import quote_literal
from azkz.schema.derived import SERIES_TABLE as SERIES
from azkz.schema.package import Table

WORLD = "WLD"  # the partner of a reporter's total trade (indicators' codelistAdditions)
ESTIMATED = "estimated"  # the `qualifier` of an estimate (e.g. an IMF DOTS cell marked " e")
UNIT = "USD million"  # picks in another unit are never converted, so never used
SUM_DECIMALS, SHARE_DECIMALS, RATIO_DECIMALS = 6, 4, 4


def _pairs_sql(table: Table, first: str, second: str) -> str:
    """Every ordered pair of distinct countries of `first`'s enum, as a VALUES list."""
    codes = table.field(first).enum or []
    rows = ", ".join(
        f"({quote_literal(a)}, {quote_literal(b)})" for a in codes for b in codes if a != b
    )
    return f"SELECT * FROM (VALUES {rows}) AS pair({first}, {second})"


def _pick(name: str, condition: str) -> str:
    """The value, source and qualifier of the one pick matching `condition` (or NULLs)."""
    return ", ".join(
        f"any_value({column}) FILTER (WHERE {condition}) AS {name}{suffix}"
        for column, suffix in (("value", ""), ("source_id", "_source_id"), ("qualifier", "_q"))
    )


def _reasons(*cases: tuple[str, str]) -> str:
    """`note`: the text of every (condition, text) case that holds, joined by '; '."""
    parts = ", ".join(f"CASE WHEN {condition} THEN {text} END" for condition, text in cases)
    return f"NULLIF(concat_ws('; ', {parts}), '')"


def _qualified(*names: str) -> list[tuple[str, str]]:
    """Note cases naming the qualifier of each value used that is not stated exactly."""
    return [(f"{n}_q IS NOT NULL", f"'{n}: ' || {n}_q") for n in names]


def _estimate(*names: str) -> str:
    return f"list_contains([{', '.join(f'{n}_q' for n in names)}], {quote_literal(ESTIMATED)})"


def _same(*names: str) -> str:
    """All the named values exist and come from one source (false, never NULL, otherwise)."""
    first, *rest = names
    same = [f"{n}_source_id = {first}_source_id" for n in rest]
    return f"coalesce({' AND '.join([f'{first}_source_id IS NOT NULL', *same])}, false)"


def _share(name: str, part: str, whole: str, *sources: str) -> tuple[str, str, tuple[str, str]]:
    """(share column, its SQL, its note case): only of figures of one source."""
    sql = (
        f"CASE WHEN {_same(*sources)} AND ({whole}) > 0 "
        f"THEN round(100 * {part} / ({whole}), {SHARE_DECIMALS}) END"
    )
    missing = " OR ".join(f"{s} IS NULL" for s in sources)
    reason = (
        f"CASE WHEN {missing} THEN '{name}: {' or '.join(sources)} missing' "
        f"ELSE '{name}: {' and '.join(sources)} come from different sources' END"
    )
    return name, sql, (f"NOT ({_same(*sources)})", reason)


def bilateral_trade_sql(table: Table) -> str:
    """SELECT deriving `bilateral_trade` from the typed `annual_series`."""
    world = quote_literal(WORLD)
    values = ("exports", "imports", "stated_turnover", "world_exports", "world_imports")
    shares = [
        _share("exports_share_pct", "exports", "world_exports", "exports", "world_exports"),
        _share("imports_share_pct", "imports", "world_imports", "imports", "world_imports"),
        _share(
            "turnover_share_pct",
            "(exports + imports)",
            "world_exports + world_imports",
            "exports",
            "imports",
            "world_exports",
            "world_imports",
        ),
    ]
    missing = [(f"{n} IS NULL", f"'{n}: none of this reporter in {SERIES}'") for n in values]
    turnover_reason = (
        "CASE WHEN exports IS NULL OR imports IS NULL THEN 'turnover: exports or imports missing' "
        "ELSE 'turnover: exports (' || exports_source_id || ') and imports (' || "
        "imports_source_id || ') come from different sources, never added' END"
    )
    note = _reasons(
        *missing[:2],
        (f"NOT ({_same('exports', 'imports')})", turnover_reason),
        *missing[2:],
        *(case for _, _, case in shares),
        *_qualified(*values),
    )
    return f"""
        WITH pair AS ({_pairs_sql(table, "reporter", "partner")}),
        picks AS (
            SELECT pair.reporter, pair.partner, s.year,
                   {_pick("exports", "indicator = 'exports' AND to_country = pair.partner")},
                   {_pick("imports", "indicator = 'imports' AND from_country = pair.partner")},
                   {_pick("stated_turnover", "indicator = 'trade_turnover'")},
                   {_pick("world_exports", f"indicator = 'exports' AND to_country = {world}")},
                   {_pick("world_imports", f"indicator = 'imports' AND from_country = {world}")}
            FROM {SERIES} s JOIN pair ON s.reporter = pair.reporter
            WHERE s.unit = {quote_literal(UNIT)} AND (
                (s.indicator = 'exports' AND s.from_country = pair.reporter
                 AND s.to_country IN (pair.partner, {world}))
             OR (s.indicator = 'imports' AND s.to_country = pair.reporter
                 AND s.from_country IN (pair.partner, {world}))
             OR (s.indicator = 'trade_turnover'
                 AND s.from_country = least(pair.reporter, pair.partner)
                 AND s.to_country = greatest(pair.reporter, pair.partner)))
            GROUP BY ALL
        )
        SELECT *,
               CASE WHEN {_same("exports", "imports")}
                    THEN round(exports + imports, {SUM_DECIMALS}) END AS turnover,
               CASE WHEN {_same("exports", "imports")} THEN exports_source_id END
                    AS turnover_source_id,
               {", ".join(f"{sql} AS {name}" for name, sql, _ in shares)},
               {_estimate(*values)} AS estimate,
               {note} AS note
        FROM picks
    """


def trade_mirror_sql(table: Table) -> str:
    """SELECT deriving `trade_mirror` from the typed `annual_series`."""
    both = "exports_fob IS NOT NULL AND imports_cif IS NOT NULL"
    note = _reasons(
        ("exports_fob IS NULL", "'exports_fob: the exporter''s statistics have no figure'"),
        ("imports_cif IS NULL", "'imports_cif: the importer''s statistics have no figure'"),
        (f"NOT ({both})", "'gap, ratio: one side is missing'"),
        (f"{both} AND exports_fob = 0", "'ratio: exports_fob is 0'"),
        *_qualified("exports_fob", "imports_cif"),
    )
    return f"""
        WITH pair AS ({_pairs_sql(table, "exporter", "importer")}),
        picks AS (
            SELECT s.year, pair.exporter, pair.importer,
                   {_pick("exports_fob", "indicator = 'exports'")},
                   {_pick("imports_cif", "indicator = 'imports'")}
            FROM {SERIES} s
            JOIN pair ON s.from_country = pair.exporter AND s.to_country = pair.importer
            WHERE s.unit = {quote_literal(UNIT)} AND (
                (s.indicator = 'exports' AND s.reporter = pair.exporter)
             OR (s.indicator = 'imports' AND s.reporter = pair.importer))
            GROUP BY ALL
        )
        SELECT *,
               CASE WHEN {both} THEN round(imports_cif - exports_fob, {SUM_DECIMALS}) END AS gap,
               CASE WHEN {both} AND exports_fob > 0
                    THEN round(imports_cif / exports_fob, {RATIO_DECIMALS}) END AS ratio,
               {_estimate("exports_fob", "imports_cif")} AS estimate,
               {note} AS note
        FROM picks
    """
