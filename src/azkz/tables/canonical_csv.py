"""`azkz fmt`: the package's CSV files in one canonical form, as `ruff format` is for code.

Canonical = rows sorted by the primary key, minimal RFC 4180 quoting (a cell is quoted
only when it holds a comma, a quote or a line break), LF line endings, UTF-8 without a
BOM, a final newline, no blank lines.  Row order is formatting, not validity: `azkz
validate` accepts any order, and this command (or `--check` in CI) keeps diffs small.

A file that cannot be read as CSV with its schema's header width is left untouched and
reported: formatting must never lose or invent a cell (`azkz validate` says what is wrong).
"""

from __future__ import annotations

import csv
import io
import math
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from azkz.schema.package import Package, Table

NUMERIC = ("number", "integer", "year")


class Unformattable(Exception):
    """A file `azkz fmt` will not rewrite; the message names the file and line."""


@dataclass(frozen=True)
class Outcome:
    path: str  # as written in the descriptor
    changed: bool


def canonical_text(table: Table, data: bytes) -> str:
    """The canonical text of `table`'s file `data` (raises `Unformattable`)."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Unformattable(f"{table.path}: byte {exc.start} is not UTF-8") from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        rows = [(reader.line_num, row) for row in reader]
    except csv.Error as exc:
        raise Unformattable(f"{table.path} line {reader.line_num}: {exc}") from None
    if not rows:
        raise Unformattable(f"{table.path} is empty")
    (_, header), body = rows[0], [(n, r) for n, r in rows[1:] if r]
    for line, row in body:
        if len(row) != len(header):
            raise Unformattable(
                f"{table.path} line {line}: {len(row)} cells, the header has {len(header)}"
            )
    positions = [header.index(n) for n in table.primary_key if n in header]
    kinds = [
        table.field(header[i]).type if header[i] in table.field_names else "" for i in positions
    ]
    body = [row for _line, row in body]
    body.sort(
        key=lambda row: [_sort_part(row[i], kind) for i, kind in zip(positions, kinds, strict=True)]
    )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(header)
    writer.writerows(body)
    return out.getvalue()


def _sort_part(cell: str, kind: str) -> tuple:
    """Sort numbers by value (`9` before `10`), everything else by its text."""
    if kind in NUMERIC:
        try:
            value = float(cell)
        except ValueError:
            return (1, 0.0, cell)
        if not math.isnan(value):
            return (0, value, cell)
    return (1, 0.0, cell)


def format_package(package: Package, check: bool) -> tuple[list[Outcome], list[str]]:
    """Format (or with `check`, only compare) every UTF-8 resource file of `package`.

    Returns each file's outcome and the problems of files left untouched.
    """
    outcomes, problems = [], []
    for table in package.stored().tables:  # derived tables have no file to format
        declared = str(table.resource.get("encoding", "utf-8")).lower().replace("_", "-")
        if declared not in ("utf-8", "utf8"):
            problems.append(f"{table.path}: declared encoding {declared} is kept; not formatted")
            continue
        path = package.file(table)
        try:
            data = path.read_bytes()
            text = canonical_text(table, data)
        except OSError as exc:
            problems.append(f"{table.path}: {exc.strerror or exc}")
            continue
        except Unformattable as exc:
            problems.append(str(exc))
            continue
        new = text.encode("utf-8")
        changed = new != data
        if changed and not check:
            _replace(path, new)
        outcomes.append(Outcome(table.path, changed))
    return outcomes, problems


def _replace(path: Path, data: bytes) -> None:
    """Write `data` to a temporary file beside `path`, then rename it over `path`."""
    handle, temporary = tempfile.mkstemp(prefix=".azkz-fmt-", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chmod(temporary, path.stat().st_mode & 0o777)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
