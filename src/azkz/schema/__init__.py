"""The package's metadata, the one source of truth: `datapackage.json` and its Table
Schemas read (`package`), and what each Frictionless field type and constraint means
(`fields`).

May import: `azkz.core`.
"""
