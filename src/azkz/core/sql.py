"""SQL text from names and values: identifiers and literals quoted for DuckDB, and the
scratch database that evaluates a constant or parses a statement.

Every module that writes SQL quotes through these; they import nothing of azkz, so any
module can use them.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def ident_list(names: Iterable[str]) -> str:
    """`"a", "b"`: a column list for SELECT, GROUP BY, ORDER BY or a key clause."""
    return ", ".join(quote_ident(n) for n in names)


def quote_literal(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def scratch_cursor() -> Any:
    """A cursor on one in-memory DuckDB database of the process that holds no data, for
    statements that create nothing: evaluating a constant, parsing a query.

    A new DuckDB database costs about 10 ms to open (DuckDB 2.0), a cursor on an open one
    nothing; a schema's constraints and each `azkz query` were opening one for a single
    SELECT or parse.  The caller closes the cursor.
    """
    return _scratch_database().cursor()


@cache
def _scratch_database() -> Any:
    import duckdb

    return duckdb.connect(":memory:")
