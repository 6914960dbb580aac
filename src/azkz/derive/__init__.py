"""Derived tables, computed from the typed source tables: `annual_series` (one value per
indicator, reporter and year, chosen by the precedence its schema declares), then from it
`bilateral_trade` and `trade_mirror` (`trade`: the series' trade picks arranged, sums and
shares only of one source). `annual_series.DERIVATIONS` maps each to its SELECT and to
what it reads, which its `derivedFrom` must name.

The callers (the build, `azkz.load`, `azkz query`, diff, docs) compose reading and
deriving: `azkz.tables.typed.load_tables`, then `derive_tables`.
May import: `azkz.tables`, `azkz.schema`, `azkz.core`.
"""
