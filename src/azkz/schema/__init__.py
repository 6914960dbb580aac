"""The package's metadata, the one source of truth: `datapackage.json` and its Table
Schemas read (`package`), what each Frictionless field type and constraint means
(`fields`), and what a derived table declares: its sources and the series' precedence
(`derived`).

May import: `azkz.core`.
"""
