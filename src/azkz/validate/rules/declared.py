"""Rules a schema declares with this package's custom properties, as `RowCheck`s.

Declared, never inferred from names or descriptions: a schema that declares none gets
none, so another package gets none of this one's rules (docs/data-dictionary.md lists
the properties).  Field properties: `precisionField` (date precision), `codelist`
(ISO 3166-1 alpha-3), `notBlank`.  Schema properties: `orderedFields` (start before
end), `orderedPairs` (two fields in alphabetical order unless a flag in another table
exempts the row) and `mustBeReferenced` (every key used by some foreign key).
`azkz.validate.descriptor` refuses a declaration that names a missing field or resource.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from azkz.core.errors import (
    BLANK_TEXT,
    CODELIST_ERROR,
    DATE_ORDER,
    DATE_PRECISION,
    FILLED_REQUIRES,
    PAIR_ORDER,
    UNUSED_KEY,
)
from azkz.core.sql import quote_ident, quote_literal
from azkz.schema.package import Field, Package, Table
from azkz.tables.typed import cast_sql, internal_name, raw_csv_sql
from azkz.validate.rules.cell import (
    RowCheck,
    as_list,
    literal_text,
    raw_name,
    typed,
    typed_source,
    value_check,
)
from azkz.validate.rules.table import key_row_errors, key_text

ISO3_TYPE = "azkz_iso3"
# Codelists a field may declare with the custom property `codelist`.
CODELISTS = {"ISO 3166-1 alpha-3": ISO3_TYPE}


def create_iso3_type(con) -> None:
    """Give the connection the ENUM type of ISO3 codes that `codelist` rules cast to.

    A cast to an ENUM is a hash lookup and costs nothing to plan: with the ~250 codes as
    a literal list in every condition, planning the rule queries took longer than
    running them (≈25 ms for the indicators table's query), and even as one list in a
    DuckDB variable each condition took ≈2.5 ms to plan (the three country fields
    of the indicators table: 20 ms -> 9 ms for the whole query).
    """
    codes = ", ".join(quote_literal(code) for code in iso3_codes())
    con.execute(f"CREATE TYPE {ISO3_TYPE} AS ENUM ({codes})")


@cache
def iso3_codes() -> tuple[str, ...]:
    """ISO 3166-1 alpha-3 codes shipped with the package (from Debian iso-codes)."""
    text = (
        resources.files("azkz.validate.rules").joinpath("iso3166.txt").read_text(encoding="utf-8")
    )
    # One code per line; a line starting with `#` is a comment.  (Splitting the text on
    # whitespace once took the words of the comment, `ISO`, `country`, `codes` and
    # `Debian`, for codes, so `ISO` passed as a country.)
    lines = [line.strip() for line in text.splitlines()]
    return tuple(line for line in lines if line and not line.startswith("#"))


def codelist_additions(f: Field) -> list[str]:
    """Codes a field accepts beyond its `codelist`, each declared with its meaning in
    `codelistAdditions` (e.g. `WLD`, the world as a trade partner): one field widened,
    the codelist itself never edited, so no other country field accepts them."""
    additions = f.raw.get("codelistAdditions")
    return sorted(additions) if isinstance(additions, dict) else []


def precision_pairs(table: Table) -> list[tuple[Field, Field]]:
    """(precision field, date field it qualifies), as each date field declares it.

    A date field names its precision column in the custom property `precisionField`; a
    date without one (such as `entry_into_force`, always stated to the day) has no such
    rule. Declared, not guessed from names, so a new date column gets no rule by accident.
    """
    names = {f.name: f for f in table.fields}
    return [
        (names[f.raw["precisionField"]], f)
        for f in table.fields
        if f.type == "date" and f.raw.get("precisionField") in names
    ]


def filled_rules(table: Table) -> list[tuple[Field, Field, list[str]]]:
    """(field, other field, values allowed there) for each field declaring `whenFilled`:
    {"field": other, "oneOf": [...]}; malformed declarations are coherence's schema-errors."""
    names = {f.name: f for f in table.fields}
    return [
        (f, names[f.raw["whenFilled"]["field"]], [str(v) for v in f.raw["whenFilled"]["oneOf"]])
        for f in table.fields
        if well_formed_when_filled(f.raw.get("whenFilled"), names)
    ]


def well_formed_when_filled(rule: Any, names: Any) -> bool:
    """`{"field": <one of names>, "oneOf": [at least one value]}`: the only shape checked."""
    return (
        isinstance(rule, dict)
        and rule.get("field") in names
        and isinstance(rule.get("oneOf"), list)
        and bool(rule["oneOf"])
    )


def _filled_requires_check(f: Field, other: Field, allowed: list[str]) -> RowCheck:
    shown = ", ".join(allowed)
    listed = ", ".join(quote_literal(v) for v in allowed)
    return RowCheck(
        FILLED_REQUIRES,
        f.name,
        f"({typed(f)} IS NOT NULL AND ({typed(other)} IS NULL OR "
        f"{typed(other)}::VARCHAR NOT IN ({listed})))",
        f"{literal_text(f.name)} {{0}} is filled, so {literal_text(other.name)} must be one of "
        f"{literal_text(shown)}, not {{1!r}}",
        (f.name, other.name),
        (f.name, other.name),
    )


def ordered_fields(table: Table) -> list[tuple[Field, Field]]:
    """(start, end) pairs the schema declares in `orderedFields`: [[start, end], ...]."""
    names = {f.name: f for f in table.fields}
    return [
        (names[pair[0]], names[pair[1]])
        for pair in table.schema.get("orderedFields", [])
        if isinstance(pair, list) and len(pair) == 2 and all(p in names for p in pair)
    ]


def ordered_pairs(table: Table) -> list[dict[str, Any]]:
    """Pairs declared in `orderedPairs` whose field names all exist (others: schema-error)."""
    names = set(table.field_names)
    return [
        rule
        for rule in table.schema.get("orderedPairs", [])
        if isinstance(rule, dict)
        and isinstance(rule.get("fields"), list)
        and len(rule["fields"]) == 2
        and set(rule["fields"]) <= names
        and (not isinstance(rule.get("unless"), dict) or rule["unless"].get("field") in names)
    ]


def pair_variable(table: Table, index: int) -> str:
    """DuckDB variable holding the keys an `orderedPairs` rule's `unless` exempts."""
    return internal_name(f"_azkz_exempt_{index}", table)


def pair_exemptions(package: Package, sources: dict[str, Path], con) -> dict[str, list]:
    """The keys each `orderedPairs` rule's `unless` exempts: {DuckDB variable: keys}.

    Read from the parent's file before any table is checked, because the conditions
    that use them also run inside a large table's profile.  A parent that cannot be
    read exempts every row (NULL list): its own errors are reported instead.
    """
    exemptions: dict[str, Any] = {}
    for table in package.tables:
        for index, rule in enumerate(table.schema.get("orderedPairs", [])):
            if rule not in ordered_pairs(table) or not isinstance(rule.get("unless"), dict):
                continue
            parent = package.table(rule["unless"]["resource"])
            flag = parent.field(rule["unless"]["flag"])
            source = sources.get(parent.name)
            keys = None
            if isinstance(source, Path):
                try:
                    keys = con.execute(
                        f"SELECT list({quote_ident(parent.primary_key[0])}) "
                        f"FROM {raw_csv_sql(source, parent)} WHERE {cast_sql(flag)}"
                    ).fetchall()[0][0]
                except Exception:  # noqa: BLE001 - any parse failure: the parent reports it
                    keys = None
            exemptions[pair_variable(table, index)] = keys
    return exemptions


def set_variables(con, variables: dict[str, Any]) -> None:
    """Give a connection (or a cursor: variables are per connection) the rule variables."""
    for name, value in variables.items():
        con.execute(f"SET VARIABLE {name} = ?::VARCHAR[]", [value])


def declared_checks(table: Table) -> list[RowCheck]:
    """Rules a schema declares with custom properties (docs/data-dictionary.md)."""
    checks = []
    for start, end in ordered_fields(table):
        checks.append(
            RowCheck(
                DATE_ORDER,
                end.name,
                f"({typed(end)} < {typed(start)})",
                f"{literal_text(end.name)} {{0}} is before {literal_text(start.name)} {{1}}",
                (end.name, start.name),
                (start.name, end.name),
            )
        )
    for f in table.fields:
        codelist = CODELISTS.get(f.raw.get("codelist"))
        if codelist is not None and f.type == "string":
            extra = codelist_additions(f)
            also = (
                f" AND {typed(f)} NOT IN ({', '.join(map(quote_literal, extra))})" if extra else ""
            )
            checks.append(
                value_check(
                    f,
                    CODELIST_ERROR,
                    f"({typed(f)} IS NOT NULL AND TRY_CAST({typed(f)} AS {codelist}) IS NULL{also})",
                    f"{{0!r}} is not a code of {literal_text(f.raw['codelist'])}"
                    + (f" nor one of {literal_text(', '.join(extra))}" if extra else ""),
                    costly=True,
                )
            )
        if f.raw.get("notBlank") is True and f.type == "string":
            raw = quote_ident(f.name)
            checks.append(
                RowCheck(
                    BLANK_TEXT,
                    f.name,
                    # RE2 stops at the first other character: 0.04 s at 1M rows, where
                    # trim() = '' took 0.17 s (it copies every cell).
                    f"regexp_full_match({raw}, '\\s+')",
                    f"{literal_text(f.name)} holds only spaces; write the text or leave it out",
                    # What a profile tests on every row: such a cell starts below '!'
                    # (0.004 s at 1M rows against the expression's 0.02 s).
                    screen=f"({raw} < '!' AND {raw} <> '')",
                )
            )
    checks += [
        _filled_requires_check(f, other, allowed) for f, other, allowed in filled_rules(table)
    ]
    for precision, date in precision_pairs(table):
        p, d = typed(precision), typed(date)
        checks.append(
            RowCheck(
                DATE_PRECISION,
                date.name,
                f"(({p} = 'month' AND day({d}) <> 1) OR "
                f"({p} = 'year' AND (month({d}) <> 1 OR day({d}) <> 1)))",
                f"{literal_text(date.name)} {{0}} has {literal_text(precision.name)} "
                f"{{1}}, so it must be the 1st of the month (month) or 1 January (year)",
                (date.name, precision.name),
                (precision.name, date.name),
            )
        )
    for index, rule in enumerate(table.schema.get("orderedPairs", [])):
        if rule in ordered_pairs(table):
            checks += _pair_checks(table, index, rule)
    return checks


def _pair_checks(table: Table, index: int, rule: dict[str, Any]) -> list[RowCheck]:
    """`orderedPairs`: the two fields differ and, unless exempt, are in alphabetical order."""
    first, second = (table.field(n) for n in rule["fields"])
    a, b = typed(first), typed(second)
    names = (first.name, second.name)
    shown = f"{literal_text(first.name)} {{0}} and {literal_text(second.name)} {{1}}"
    checks = [
        RowCheck(PAIR_ORDER, second.name, f"({a} = {b})", f"{shown} name the same thing", names)
    ]
    unless = rule.get("unless")
    exempt, inputs = "false", names
    if isinstance(unless, dict):
        key = typed(table.field(unless["field"]))
        variable = quote_literal(pair_variable(table, index))
        exempt = f"coalesce(list_contains(getvariable({variable}), {key}::VARCHAR), true)"
        inputs = (*names, unless["field"])
    checks.append(
        RowCheck(
            PAIR_ORDER,
            second.name,
            f"({a} > {b} AND NOT {exempt})",
            f"{shown} must be in alphabetical order",
            names,
            inputs,
            costly=True,
        )
    )
    return checks


def unused_key_errors(
    package: Package, parent: Table, lines: dict[str, Any], con, profiles: dict[str, Any]
) -> list[dict[str, Any]]:
    """`mustBeReferenced`: rows of `parent` that no foreign key of the package points to.

    A child's referenced values come from its loaded rows, or from a large table's
    profile (which keeps the distinct values of every foreign key).  When any child's
    rows could not be read, the rule is not decided (that child's errors are reported).
    """
    children = [
        (child, fk)
        for child in package.tables
        for fk in child.foreign_keys
        if (fk["reference"].get("resource") or child.name) == parent.name
    ]
    used: list[tuple[list[str], set]] = []  # (parent fields, referenced value tuples)
    for child, fk in children:
        names = as_list(fk["fields"])
        casts = ", ".join(cast_sql(child.field(n)) for n in names)
        if child.name in lines:
            rows = con.execute(f"SELECT DISTINCT {casts} FROM {raw_name(child)}").fetchall()
        elif child.name in profiles:
            profile = profiles[child.name]
            columns = [quote_ident(n) for n in names]
            rows = profile.con.execute(profile.plan.rows_of(columns, casts)).fetchall()
        else:
            return []
        used.append((as_list(fk["reference"]["fields"]), {tuple(row) for row in rows}))
    if not children:
        return []
    key = parent.primary_key
    wanted = list(dict.fromkeys(key + [n for fields, _ in used for n in fields]))
    rows = con.execute(
        f"SELECT _row, {', '.join(typed(parent.field(n)) for n in wanted)} "
        f"FROM {typed_source(parent)} ORDER BY _row"
    ).fetchall()
    referrers = ", ".join(sorted({child.name for child, _fk in children}))
    messages = []
    for row, *values in rows:
        value = dict(zip(wanted, values, strict=True))
        if any(tuple(value[n] for n in fields) in seen for fields, seen in used):
            continue
        if any(value[n] is None for n in key):
            continue
        shown = key_text(key, [value[n] for n in key])
        messages.append((row, f"{shown} is not referenced by any row of {referrers}"))
    return key_row_errors(parent, lines[parent.name], key, UNUSED_KEY, messages)
