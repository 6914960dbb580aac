"""Markdown tables: the data dictionary, reports, query results and diffs all write them.

A leaf module (it imports nothing of azkz), so that the report and the schema layer
can use it without importing the dictionary generator.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any


def md_cell(value: Any) -> str:
    """Text safe inside a Markdown table cell: pipes escaped, line breaks flattened."""
    if value is None:
        return ""
    text = str(value).replace("\r\n", " ").replace("\n", " ").replace("|", "\\|")
    return text.strip()


def md_table(
    header: list[str], rows: Iterable[Iterable[Any]], cell: Callable[[Any], str] = md_cell
) -> list[str]:
    """A Markdown table's lines; `cell` renders each value (the caller's escaping rules)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return lines
