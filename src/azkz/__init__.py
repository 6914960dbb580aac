"""azkz: open data on Azerbaijan–Kazakhstan relations.

The subpackages are the stages of the pipeline, each importing only those below it
(README "Code layout"; import-linter's contracts in pyproject.toml):

    cli → publish → access | release → diff → validate → derive → tables → schema → core

`azkz.load` is the one import done on first use rather than at the top (PEP 562
`__getattr__`): `import azkz` then loads no engine (DuckDB, pandas, polars), only this
file.  It is for start-up time, not to dodge a cycle (tests/test_code_shape.py allows
no other).
"""

__version__ = "0.1.0"


def __getattr__(name: str):
    """`azkz.load` is imported on first use, keeping `import azkz` (and the CLI) light."""
    if name == "load":
        from azkz.access.load import load

        return load
    raise AttributeError(f"module 'azkz' has no attribute {name!r}")
