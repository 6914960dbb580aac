"""A derived table's declared rules are usable: `derivedFrom` names what its derivation
reads, and the annual series' precedence ranks every kind once and always decides.

Reported as `schema-error`s in the derived table's schema file, before any data is read.
May import: `azkz.schema`, `azkz.core`.
"""

from __future__ import annotations

from typing import Any

from azkz.schema.derived import (
    COPIED,
    DERIVED_READS,
    KIND_FIELD,
    KIND_RULE,
    OBSERVATIONS,
    ONLY_RULE,
    ORDERS,
    PREFERENCES,
    SERIES_TABLE,
    SOURCES,
    precedence_of,
)
from azkz.schema.package import Package, Table


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
        if table.name not in DERIVED_READS:
            bad(f"no derivation is known for a derived table named {table.name!r}")
            continue
        reads = DERIVED_READS[table.name]
        if sorted(table.derived_from) != sorted(reads):
            bad(f"derivedFrom must name what its derivation reads: {', '.join(reads)}")
            continue
        if table.name != SERIES_TABLE:
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
