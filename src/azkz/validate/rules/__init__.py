"""The rules a table's rows are checked against, as SQL, by scope as frictionless-py's
`checks/cell|row|table`: `cell` (each field's type and constraints, one cell at a time),
`declared` (the rules a schema declares across fields and tables: date order and
precision, ordered pairs, codelists, keys that must be referenced) and `run` (the
runner, which evaluates them on a loaded table, plus the table-scope rules: primary,
unique and foreign keys).

May import: as `azkz.validate`.
"""
