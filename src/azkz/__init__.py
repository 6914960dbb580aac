"""azkz: open data on Azerbaijan–Kazakhstan relations.

Imports stay lazy so that `azkz --help` starts fast; heavy engines load on use.
"""

__version__ = "0.1.0"


def __getattr__(name: str):
    """`azkz.load` is imported on first use, keeping `import azkz` (and the CLI) light."""
    if name == "load":
        from azkz.loader import load

        return load
    raise AttributeError(f"module 'azkz' has no attribute {name!r}")
