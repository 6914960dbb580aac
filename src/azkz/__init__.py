"""azkz: open data on Azerbaijan–Kazakhstan relations.

Imports stay lazy so that `azkz --help` starts fast; heavy engines load on use.
"""

__version__ = "0.1.0"
