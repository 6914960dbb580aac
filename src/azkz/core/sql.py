"""SQL text from names and values: identifiers and literals quoted for DuckDB.

Every module that writes SQL quotes through these (they are re-exported by
`azkz.tables.typed`); they import nothing of azkz, so any module can use them.
"""

from __future__ import annotations

from collections.abc import Iterable


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def ident_list(names: Iterable[str]) -> str:
    """`"a", "b"`: a column list for SELECT, GROUP BY, ORDER BY or a key clause."""
    return ", ".join(quote_ident(n) for n in names)


def quote_literal(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"
