"""What is generated for readers: the data dictionary and README error list (`docs`),
the coverage tables of docs/curation.md (`coverage`) and the catalogue website of a
release (`site/`).

May import: `azkz.access`, `azkz.release`, `azkz.diff`, `azkz.validate`, `azkz.derive`,
`azkz.tables`, `azkz.schema`, `azkz.core`.
"""
