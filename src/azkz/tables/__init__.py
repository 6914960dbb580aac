"""Typed tables: a resource's CSV read into DuckDB with Frictionless semantics (`typed`,
`structured` for JSON, list and geopoint cells), the DDL a typed table is stored with
(`ddl`), and the canonical form of a data file (`canonical_csv`, `azkz fmt`).

Knows nothing of derived tables, of validation or of releases.
May import: `azkz.schema`, `azkz.core`.
"""
