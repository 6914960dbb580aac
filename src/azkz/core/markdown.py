"""Markdown tables: the data dictionary, reports, query results and diffs all write them.

It imports only `azkz.core.cells`, so that the report and the schema layer can use it
without importing the dictionary generator.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from azkz.core.cells import cell_text


def md_cell(value: Any) -> str:
    """A value as Markdown table cell text (`cell_text`: empty for NULL), pipes escaped and
    line breaks flattened."""
    text = " ".join(cell_text(value).splitlines()).replace("|", "\\|")
    return text.strip()


def md_table(
    header: list[str], rows: Iterable[Iterable[Any]], cell: Callable[[Any], str] = md_cell
) -> list[str]:
    """A Markdown table's lines; `cell` renders each value (the caller's escaping rules)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return lines
