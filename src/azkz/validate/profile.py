"""Large tables checked without loading them (see docs/decisions.md, "Validation").

A table whose file is large and that no foreign key points to is summarised by one
streaming query (`profile_table`): its row count, the distinct values of fields with
costly rules, a flag per other rule group, failing rows' hashes, foreign-key values and
repeated key hashes.  Only when that finds something does a second pass
(`locate_failures`) keep the failing rows, in file order, for the rules of
`azkz.validate.rules.row` to report them exactly as for a loaded table.
"""

from __future__ import annotations

import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from azkz.core.sql import ident_list, quote_ident, quote_literal
from azkz.schema.package import Package, Table
from azkz.tables.typed import cast_sql, internal_name, raw_csv_sql
from azkz.validate.rules.cell import RowCheck, as_list, raw_name, typed, typed_source
from azkz.validate.rules.declared import set_variables
from azkz.validate.rules.row import (
    check_groups,
    failing_values_sql,
    message_fields,
    rejects_source,
    row_checks,
    run_parse,
)
from azkz.validate.rules.table import key_hash, table_keys, text_key_hashes

# ----------------------------------------------------------------------------- profile
# Files from this size on are profiled first (`profile_table`); tests set it to 0 so
# that every bad input also goes through this path.
PROFILE_MIN_BYTES = 8 << 20
FLAG = "_azkz_flag_{}"
READ_ALL = "_azkz_read"
BAD_ROW = "_azkz_bad_row"
# Bits in a filter of failing hashes (`_hash_filter`): 1,024 per hash, so about one
# row in a thousand that does not fail is located too (and then passes the rules).
FILTER = "_azkz_filter"
FILTER_BITS_PER_ROW = 1024
FILTER_MIN_BITS = 1 << 16  # 8 KiB: one failing value locates ~15 other rows per 1M
FILTER_MAX_BITS = 1 << 24


def profiled(package: Package, table: Table) -> bool:
    """Whether `table` is checked by the streaming profile rather than loaded whole.

    Only large files, and only tables that no foreign key points to: a parent's keys
    must be at hand, as a table, for its children's checks.
    """
    parents = {
        fk["reference"].get("resource") or t.name
        for t in package.stored_tables  # a derived table is computed after validation
        for fk in t.foreign_keys
    }
    if table.name in parents:
        return False
    try:
        about = package.file(table).stat()
    except OSError:
        return False
    return stat.S_ISREG(about.st_mode) and about.st_size >= PROFILE_MIN_BYTES


@dataclass(frozen=True)
class ProfilePlan:
    """How one streaming pass summarises a table, from its schema.

    * `value_groups`: string fields with costly rules; their distinct values are kept
      and the rules run on those (as `row_errors` does on a loaded table).
    * `row_groups`: every other rule group; one flag per group tells whether any row
      fails it, and the hash of each failing row's fields (`row_hash`) is kept.
    * `reference_fields`: their distinct values, looked up in the parent.
    * `key_hashes`: only hashes seen more than once are kept.
    """

    table: Table
    checks: list[RowCheck]
    value_groups: list[tuple[tuple[str, ...], list[int]]]
    row_groups: list[tuple[tuple[str, ...], list[int]]]
    reference_fields: list[tuple[str, ...]]  # the fields of each foreign key
    key_hashes: list[tuple[str, str, tuple[str, ...]]]  # column, expression, fields it casts

    @property
    def value_fields(self) -> list[str]:
        """Fields whose distinct values the profile keeps, in schema order."""
        kept = {n for names, _ in self.value_groups for n in names}
        kept |= {n for names in self.reference_fields for n in names}
        return [n for n in self.table.field_names if n in kept]

    @property
    def flags(self) -> list[str]:
        return [FLAG.format(j) for j in range(len(self.row_groups))]

    @property
    def unread(self) -> list[str]:
        """Fields no rule reads.  DuckDB checks UTF-8 only in the columns a query
        uses, so the profile still reads these (`READ_ALL`)."""
        read = set(self.value_fields)
        read |= {n for names, _ in self.row_groups for n in names}
        read |= {n for _code, names in table_keys(self.table) for n in names}
        return [n for n in self.table.field_names if n not in read]

    @property
    def row_fields(self) -> list[str]:
        """Fields the row groups read, in schema order: a failing row's are hashed."""
        read = {n for names, _ in self.row_groups for n in names}
        return [n for n in self.table.field_names if n in read]

    @property
    def row_hash(self) -> str:
        return f"hash({ident_list(self.row_fields)})"

    @property
    def flag_set(self) -> list[str]:
        """The grouping set of the row groups' flags, with the hash of each row that
        fails one (a later pass finds those rows by it, without casting again)."""
        if not self.row_groups:
            return [READ_ALL] if self.unread else []
        return self.flags + [BAD_ROW] + ([READ_ALL] if self.unread else [])

    @property
    def columns(self) -> list[str]:
        """The grouping columns, in the order `grouping_id` numbers them."""
        hashes = [name for name, _expr, _typed in self.key_hashes]
        return [quote_ident(n) for n in self.value_fields] + self.flag_set + hashes

    @property
    def result(self) -> str:
        return quote_ident(internal_name("profile", self.table))

    def set_id(self, columns) -> int:
        """DuckDB's `grouping_id` of the grouping set `columns`: a bit per absent column."""
        n = len(self.columns)
        return sum(1 << (n - 1 - i) for i, c in enumerate(self.columns) if c not in columns)

    def rows_of(self, columns: list[str], select: str | None = None) -> str:
        """SELECT of `columns` (or `select`) from the profile rows of that grouping set."""
        return (
            f"SELECT {select or ', '.join(columns)} FROM {self.result} "
            f"WHERE _set = {self.set_id(columns)}"
        )

    def flag_condition(self, index: int) -> str:
        """True when a row may fail a rule of row group `index` (NULL counts as false)."""
        _fields, indices = self.row_groups[index]
        screens = dict.fromkeys(self.checks[i].screen or self.checks[i].condition for i in indices)
        return " OR ".join(f"({screen})" for screen in screens)

    def casts(self, names) -> str:
        names = set(names)
        fields = [self.table.field(n) for n in self.table.field_names if n in names]
        return "".join(f", {cast_sql(f)} AS {typed(f)}" for f in fields)


def profile_plan(table: Table) -> ProfilePlan:
    checks = row_checks(table)
    group_of = check_groups(table, checks)
    groups: dict[tuple[str, ...], list[int]] = {}
    for i, check in enumerate(checks):
        groups.setdefault(group_of[check.reads[0]], []).append(i)
    value_groups, row_groups = [], []
    for names, indices in groups.items():
        strings = all(table.field(n).type == "string" for n in names)
        costly = any(checks[i].costly for i in indices)
        (value_groups if strings and costly else row_groups).append((names, indices))
    reference_fields = [tuple(as_list(fk["fields"])) for fk in table.foreign_keys]
    text_hashes = dict(text_key_hashes(table))  # what a loaded table stores
    key_hashes = []
    for i, (_code, names) in enumerate(table_keys(table)):
        if key_hash(i) in text_hashes:
            key_hashes.append((key_hash(i), text_hashes[key_hash(i)], ()))
        else:  # `1` and `1.0` are one key: hash the typed values
            typed_key = ", ".join(typed(table.field(n)) for n in names)
            key_hashes.append((key_hash(i), f"hash({typed_key})", tuple(names)))
    return ProfilePlan(table, checks, value_groups, row_groups, reference_fields, key_hashes)


def profile_table(plan: ProfilePlan, path: Path, con) -> str | None:
    """One streaming pass: row count, distinct values, rule flags, repeated key hashes;
    the parser's message if it gives up.

    No table of the rows is kept: DuckDB feeds the rows to one hash aggregate per
    grouping set, and only the groups are stored (a few hundred rows, plus repeated
    keys and failing rows).  At 1M rows this takes less than loading the text table
    alone did, rules included.
    """
    table = plan.table
    source = rejects_source(table, path)
    if not plan.columns:
        return run_parse(
            con,
            f"CREATE OR REPLACE TEMP TABLE {plan.result} AS "
            f"SELECT {plan.set_id(())} AS _set, count(*) AS _rows FROM {source}",
        )
    typed_keys = {n for _name, _expr, names in plan.key_hashes for n in names}
    hashes = "".join(f", {expr} AS {name}" for name, expr, _typed in plan.key_hashes)
    inner = f"SELECT *{plan.casts(set(plan.row_fields) | typed_keys)}{hashes} FROM {source}"
    kept = [quote_ident(n) for n in plan.value_fields]
    hashed = [name for name, _expr, _typed in plan.key_hashes]
    flags = [f"{plan.flag_condition(j)} AS {flag}" for j, flag in enumerate(plan.flags)]
    if plan.unread:
        flags.append(
            " AND ".join(f"{quote_ident(n)} IS NULL" for n in plan.unread) + f" AS {READ_ALL}"
        )
    row_fields = [quote_ident(n) for n in plan.row_fields]
    flagged = f"SELECT {', '.join(kept + row_fields + flags + hashed)} FROM ({inner})"
    if plan.row_groups:  # the hash of a failing row, else NULL: cheap while rows pass
        bad_row = f"CASE WHEN {' OR '.join(plan.flags)} THEN {plan.row_hash} END AS {BAD_ROW}"
        others = [c for c in plan.flag_set if c != BAD_ROW]
        flagged = f"SELECT {', '.join(kept + others + [bad_row] + hashed)} FROM ({flagged})"
    sets = ["()"]
    sets += [f"({ident_list(names)})" for names, _ in plan.value_groups]
    sets += [f"({ident_list(names)})" for names in plan.reference_fields]
    if plan.flag_set:
        sets.append(f"({', '.join(plan.flag_set)})")
    sets += [f"({name})" for name in hashed]
    # A key hash seen once is the usual case: only repeated ones are kept.
    having = " AND ".join(f"(grouping({name}) = 1 OR count(*) > 1)" for name in hashed)
    columns = ", ".join(plan.columns)
    return run_parse(
        con,
        f"CREATE OR REPLACE TEMP TABLE {plan.result} AS "
        f"SELECT grouping_id({columns}) AS _set, {columns}, count(*) AS _rows "
        f"FROM ({flagged}) GROUP BY GROUPING SETS ({', '.join(dict.fromkeys(sets))})"
        + (f" HAVING {having}" if having else ""),
    )


def locate_failures(
    package: Package, plan: ProfilePlan, path: Path, con, lines: dict[str, Any], rows: int
):
    """Positions of the rows failing a rule, loaded in file order as `raw_<name>`.

    An empty array when the profile found nothing to fail (no second pass), None when
    the file changed since the profile read it (the caller then loads it whole).  The
    second pass builds a table of every row, NULL except on the rows that meet one of
    the conditions the profile gave: without joins, DuckDB keeps the file's order, so
    `rowid` is the row's position.
    """
    import numpy as np

    failures = _failures(package, plan, con, lines)
    if not failures.conditions:
        return np.empty(0, dtype=np.int64), failures
    table = plan.table
    inner = f"SELECT *{plan.casts(failures.typed)} FROM {raw_csv_sql(path, table)}"
    failing = " OR ".join(f"({c})" for c in failures.conditions)
    # A list of the row's text, not a struct: NULL lists cost far less to store.  Only
    # the fields the failing rules read or quote are kept (the others are NULL below).
    kept = failures.fields(plan)
    located = run_parse(
        con,
        f"CREATE OR REPLACE TEMP TABLE _hits AS SELECT CASE WHEN {failing} "
        f"THEN [{ident_list(kept)}] END AS _hit FROM ({inner})",
    )
    if located is not None or _row_count(con, "_hits") != rows:
        return None  # the file changed since the profile read it: the full path says how
    fields = ", ".join(
        f"_hit[{kept.index(n) + 1}] AS {quote_ident(n)}"
        if n in kept
        else f"NULL::VARCHAR AS {quote_ident(n)}"
        for n in table.field_names
    )
    hashes = "".join(f", {expr} AS {name}" for name, expr in text_key_hashes(table))
    con.execute(
        f"CREATE OR REPLACE TABLE {raw_name(table)} AS SELECT *{hashes} FROM "
        f"(SELECT {fields} FROM _hits WHERE _hit IS NOT NULL ORDER BY rowid)"
    )
    hits = con.execute("SELECT rowid FROM _hits WHERE _hit IS NOT NULL ORDER BY rowid")
    return hits.fetchnumpy()["rowid"], failures


@dataclass
class Failures:
    """What a profile found failing, and the conditions that find those rows again."""

    conditions: list[str] = field(default_factory=list)  # SQL, true on the failing rows
    typed: set[str] = field(default_factory=set)  # fields the conditions cast
    checks: set[int] = field(default_factory=set)  # rules (`ProfilePlan.checks`) that fail
    references: list[dict[str, Any]] = field(default_factory=list)  # foreign keys that fail
    keys: bool = False  # a key hash repeats

    def fields(self, plan: ProfilePlan) -> list[str]:
        """Fields the failing rules read or quote, in schema order."""
        checks = [plan.checks[i] for i in self.checks]
        needed = {n for c in checks for n in c.reads} | set(message_fields(checks))
        needed |= {n for fk in self.references for n in as_list(fk["fields"])}
        if self.keys:
            needed |= {n for _code, names in table_keys(plan.table) for n in names}
        return [n for n in plan.table.field_names if n in needed]


def _failures(package: Package, plan: ProfilePlan, con, lines: dict[str, Any]) -> Failures:
    """Read the profile: which rules fail, and SQL true on every row that fails one."""
    table, found = plan.table, Failures()

    def locate_by(hashes_sql: str, expression: str) -> bool:
        """Locate the rows whose `expression` is among the hashes `hashes_sql` gives."""
        name = internal_name(f"{FILTER}_{len(found.conditions)}", table)
        condition = _hash_filter(con, name, expression, hashes_sql)
        if condition is not None:
            found.conditions.append(condition)
        return condition is not None

    for names, indices in plan.value_groups:
        columns = [quote_ident(n) for n in names]
        values = f"({plan.rows_of(columns)})"
        [(failing,)] = con.execute(
            f"CREATE OR REPLACE TEMP TABLE _failing AS "
            f"{failing_values_sql(table, plan.checks, names, indices, values)}"
        ).fetchall()
        text_hash = f"hash({ident_list(names)})"
        if failing and locate_by(f"SELECT {text_hash} FROM _failing", text_hash):
            found.checks |= set(indices)
    for fk in table.foreign_keys:
        names, ref = as_list(fk["fields"]), fk["reference"]
        parent_name = ref.get("resource") or table.name
        if parent_name not in lines:
            continue  # the parent's own errors are reported; its keys are unknown
        parent = package.table(parent_name)
        child = [typed(table.field(n)) for n in names]
        on = " AND ".join(
            f"c.{c} = p.{typed(parent.field(r))}"
            for c, r in zip(child, as_list(ref["fields"]), strict=True)
        )
        not_null = " AND ".join(f"c.{c} IS NOT NULL" for c in child)
        columns = [quote_ident(n) for n in names]
        values = plan.rows_of(columns, ", ".join(columns) + plan.casts(names))
        missing = (
            f"SELECT hash({', '.join('c.' + c for c in columns)}) FROM ({values}) c "
            f"ANTI JOIN {typed_source(parent)} p ON {on} WHERE {not_null}"
        )
        if locate_by(missing, f"hash({ident_list(names)})"):
            found.references.append(fk)
    if plan.flags:
        flagged = con.execute(plan.rows_of(plan.flag_set)).fetchall()
        for j, (_names, indices) in enumerate(plan.row_groups):
            if any(row[j] for row in flagged):
                found.checks |= set(indices)
        locate_by(plan.rows_of(plan.flag_set, BAD_ROW), plan.row_hash)
    for name, expr, key_fields in plan.key_hashes:
        if locate_by(plan.rows_of([name]), expr):
            found.keys = True
            found.typed |= set(key_fields)
    return found


def _hash_filter(con, name: str, expression: str, hashes_sql: str) -> str | None:
    """Condition true on every row whose `expression` hashes like one of `hashes_sql`'s
    (None when there are none): a bit filter held in the DuckDB variable `name`.

    Looking a row up costs one hash and one bit.  Re-running the rules would cast every
    value again (0.14 s of 0.32 s for the failing rows of the 1M-row benchmark), a list
    of literals is searched row by row, and a semi-join would let DuckDB reorder the
    rows.  Rows that only share a bucket with a failing one are located too (about one
    in `FILTER_BITS_PER_ROW` per failing hash) and pass the exact rules there.
    """
    [(count,)] = con.execute(
        f"CREATE OR REPLACE TEMP TABLE _hashes AS "
        f"SELECT DISTINCT h FROM ({hashes_sql}) t(h) WHERE h IS NOT NULL"
    ).fetchall()
    if not count:
        return None
    wanted = max(count * FILTER_BITS_PER_ROW, FILTER_MIN_BITS, 1)
    bits = min(FILTER_MAX_BITS, 1 << (wanted - 1).bit_length())  # a power of two
    con.execute(
        f"SET VARIABLE {name} = "
        f"(SELECT bitstring_agg((h % {bits})::INTEGER, 0, {bits - 1}) FROM _hashes)"
    )
    return f"get_bit(getvariable({quote_literal(name)}), ({expression} % {bits})::INTEGER) = 1"


def _row_count(con, relation: str) -> int:
    return con.execute(f"SELECT count(*) FROM {relation}").fetchall()[0][0]


@dataclass(frozen=True)
class EarlyProfile:
    """A profile started before its table's turn (`start_profile`)."""

    plan: ProfilePlan
    con: Any  # the cursor it runs on: its temporary tables live there
    failure: Any  # Future of `profile_table`'s result


def start_profile(
    package: Package, table: Table, con, pool, variables: dict[str, Any]
) -> EarlyProfile:
    cursor = con.cursor()
    set_variables(cursor, variables)
    plan = profile_plan(table)
    return EarlyProfile(plan, cursor, pool.submit(profile_table, plan, package.file(table), cursor))
