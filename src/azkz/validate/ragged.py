"""Rows with more or fewer cells than the header, checked by position as Frictionless does.

DuckDB rejects such a row whole, and drops empty cells past the header's width without
a word (`a,b,` reads as two cells), so the row's cells would be neither type-checked nor
part of any key, and a trailing comma would pass.  Frictionless reads the row by
position: each cell past the header is an `extra-cell` error, each cell short of it a
`missing-cell` error (and a missing value), and every other rule still runs on the
cells that are there.  So here the byte scan counts each record's cells
(`Scan.record_cells`); a rejected record is read with Python's csv (the reader
Frictionless uses), cut or padded to the header's width and put back into `raw_<name>`
at its place; and the messages of a row with too many cells say so, since a stray
comma shifts every cell after it.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from azkz.core.errors import ENCODING_ERROR, EXTRA_CELL, MISSING_CELL, error
from azkz.core.sql import quote_ident
from azkz.schema.package import Table
from azkz.validate.rules.cell import raw_name
from azkz.validate.rules.table import text_key_hashes
from azkz.validate.scan import Scan

WIDE_ROW_NOTE = " (this row has more cells than the header: look for a stray comma first)"


def width_errors(table: Table, scan: Scan) -> list[dict[str, Any]]:
    """`extra-cell` (once per row) and `missing-cell` (per missing field) errors."""
    errors = []
    width = len(table.fields)
    for line, cells in zip(scan.record_lines.tolist(), scan.record_cells.tolist(), strict=True):
        if line in scan.empty_records or (line in scan.blank_lines and table.empty_is_missing):
            continue  # a row of empty cells is a blank row, whatever its width
        if cells > width:
            errors.append(
                error(
                    table.name,
                    table.path,
                    line,
                    None,
                    EXTRA_CELL,
                    f"row has more cells than the header ({cells} cells, the header has "
                    f"{width}): look for a stray comma, or a comma in a cell left unquoted",
                )
            )
        for f in table.fields[cells:]:
            errors.append(
                error(
                    table.name,
                    table.path,
                    line,
                    f.name,
                    MISSING_CELL,
                    f"row has fewer cells than the header ({cells} of {width}): "
                    f"{f.name} is missing",
                )
            )
    return errors


def noted_wide_rows(table: Table, scan: Scan, errors: list[dict[str, Any]]) -> None:
    """Say in each message of a row with too many cells that the row has them."""
    wide = set(scan.record_lines[scan.record_cells > len(table.fields)].tolist())
    for e in errors:
        if e["line"] in wide and e["code"] != EXTRA_CELL.code:
            e["message"] += WIDE_ROW_NOTE


def restore_rows(
    table: Table, path: Path, con, scan: Scan, parsed: Any, rejected: list[int]
) -> tuple[list[dict[str, Any]], Any]:
    """Put the records at `rejected` (indices into the scan's records, rejected by DuckDB
    for their width only) back into `raw_<name>`, in file order; (errors, the indices
    of every row now loaded).  `parsed` holds the indices of the rows DuckDB loaded, in
    `raw_<name>`'s order.  A record that is not UTF-8 stays out, as an `encoding-error`.
    """
    import numpy as np

    data = path.read_bytes()
    ends = np.append(scan.record_starts[1:], len(data))
    errors, rows = [], []
    for index in rejected:
        record = data[int(scan.record_starts[index]) : int(ends[index])]
        try:
            text = record.decode("utf-8")
        except UnicodeDecodeError:
            line = int(scan.record_lines[index])
            errors.append(
                error(table.name, table.path, line, None, ENCODING_ERROR, "not valid UTF-8")
            )
            continue
        cells = next(csv.reader(io.StringIO(text, newline="")), [])
        rows.append([index, *_cells_by_field(table, cells)])
    if rows:
        _insert_in_order(table, con, parsed, rows)
    restored = [row[0] for row in rows]
    return errors, np.sort(np.concatenate([parsed, np.asarray(restored, dtype=parsed.dtype)]))


def _cells_by_field(table: Table, cells: list[str]) -> list[str | None]:
    """A record's cells, cut or padded to the schema's fields; missing values are NULL,
    as `raw_csv_sql` reads them."""
    padded = cells[: len(table.fields)] + [None] * (len(table.fields) - len(cells))
    return [
        None if cell is None or cell in f.missing_values else cell
        for cell, f in zip(padded, table.fields, strict=True)
    ]


def _insert_in_order(table: Table, con, parsed: Any, rows: list[list[Any]]) -> None:
    """Rebuild `raw_<name>` with `rows` ([record index, cells…]) at their places."""
    import pyarrow as pa

    columns = [quote_ident(f.name) for f in table.fields]
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _restored (_pos BIGINT, "
        + ", ".join(f"{c} VARCHAR" for c in columns)
        + ")"
    )
    marks = ", ".join(["?"] * (len(columns) + 1))
    con.executemany(f"INSERT INTO _restored VALUES ({marks})", rows)
    order = pa.table({"_rid": pa.array(range(len(parsed)), pa.int64()), "_pos": parsed})
    con.register("_parsed_order", order)
    hashes = "".join(f", {expr} AS {name}" for name, expr in text_key_hashes(table))
    raw = raw_name(table)
    con.execute(
        f"CREATE OR REPLACE TABLE {raw} AS SELECT * EXCLUDE (_pos) FROM ("
        f"SELECT r.* EXCLUDE (_rid), o._pos FROM (SELECT *, rowid AS _rid FROM {raw}) r "
        f"JOIN _parsed_order o USING (_rid) "
        f"UNION ALL BY NAME SELECT *{hashes} FROM _restored) ORDER BY _pos"
    )
    con.unregister("_parsed_order")
    con.execute("DROP TABLE _restored")
