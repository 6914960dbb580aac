"""The rules a table's rows are checked against, as SQL, by scope as frictionless-py's
`checks/cell|row|table`: `cell` (each field's type and constraints, one cell at a time),
`declared` (the rules a schema declares across fields and tables: date order and
precision, ordered pairs, codelists, keys that must be referenced), `row` (the text
tables, and the runner that evaluates those rules on every row) and `table` (primary,
unique and foreign keys).

May import: as `azkz.validate`.
"""
