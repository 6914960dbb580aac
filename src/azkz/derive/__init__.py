"""Derived tables, computed from the typed source tables: `annual_series` (one value per
indicator, reporter and year, chosen by the precedence its schema declares).

The callers (the build, `azkz.load`, `azkz query`, diff, docs) compose reading and
deriving: `azkz.tables.typed.load_tables`, then `derive_tables`.
May import: `azkz.tables`, `azkz.schema`, `azkz.core`.
"""
