"""Derived tables, computed from the typed source tables: `annual_series` (one value per
indicator, reporter and year, chosen by the precedence its schema declares), then from it
`bilateral_trade` and `trade_mirror` (`trade`: the series' trade picks arranged, sums and
shares only of one source). `DERIVATIONS` maps each to its SELECT; what each reads, which
its `derivedFrom` must name, is metadata (`azkz.schema.derived.DERIVED_READS`).

The callers (the build, `azkz.load`, `azkz query`, diff, docs) compose reading and
deriving: `azkz.tables.typed.load_tables`, then `derive_tables`.
May import: `azkz.validate`, `azkz.tables`, `azkz.schema`, `azkz.core`.
"""

from __future__ import annotations

from azkz.core.sql import quote_ident
from azkz.derive.annual_series import series_sql
from azkz.derive.trade import bilateral_trade_sql, trade_mirror_sql
from azkz.schema.derived import BILATERAL_TABLE, MIRROR_TABLE, SERIES_TABLE
from azkz.schema.package import Package

# Each derived table's SELECT (what it reads is `azkz.schema.derived.DERIVED_READS`).
DERIVATIONS = {
    SERIES_TABLE: series_sql,
    BILATERAL_TABLE: bilateral_trade_sql,
    MIRROR_TABLE: trade_mirror_sql,
}


def derive_tables(package: Package, con) -> None:
    """Create each virtual derived table of `package` in `con` from its typed sources,
    each after the derived tables it is derived from (the trade tables read the series)."""
    done = {t.name for t in package.stored_tables}
    pending = list(package.virtual_tables)
    while pending:
        table = next(t for t in pending if set(t.derived_from) <= done)
        columns = ", ".join(
            f"CAST({quote_ident(f.name)} AS {f.duckdb_type}) AS {quote_ident(f.name)}"
            for f in table.fields
        )
        con.execute(
            f"CREATE OR REPLACE TABLE {quote_ident(table.name)} AS "
            f"SELECT {columns} FROM ({DERIVATIONS[table.name](table)}) ORDER BY ALL"
        )
        pending.remove(table)
        done.add(table.name)
