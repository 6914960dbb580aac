"""Reading the data: `azkz.load` (`load`), read-only SQL (`query`: `azkz query`,
`tables`, `describe`), and published releases fetched, verified and cached (`remote`).

May import: `azkz.validate` (a working tree is validated before it is read),
`azkz.derive`, `azkz.tables`, `azkz.schema`, `azkz.core`; never the release builder,
the zip, the site or the docs (import-linter's contracts in pyproject.toml, and
tests/test_layers.py through `sys.modules`).
"""
