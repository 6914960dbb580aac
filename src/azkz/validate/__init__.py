"""`azkz validate`: every error of a package, with its file, line and field, in one run.

`package` runs the layers in order (descriptor, then each file's bytes, header, cells,
rows and keys) and is the entry point (`validate_package`, `validate_or_raise`);
`descriptor` checks the schemas, `scan` the bytes, `rules/` the cells, rows and tables
(as frictionless-py's `checks/`), `profile` streams large files through the same rules,
`contracts` states them as pandera contracts for typed frames, and `report` renders the
errors (text, JSON, GitHub).

May import: `azkz.derive` (a derived table's precedence rule is checked where it is
defined), `azkz.tables`, `azkz.schema`, `azkz.core`.
"""
