"""Import the IMF Direction of Trade Statistics (DOTS) country tables into data/.

The two workbooks (Azerbaijan's DOTS_13.xlsx and Kazakhstan's DOTS_103.xlsx, research
material in ../shared/research/imf-dots/, never copied into the project) give each
country's own annual trade with every partner as it reported it to the IMF. This script
writes, for each reporter, flow and year that has a cell, one `indicators` row for the
trade with the other country and one for the "World" row (partner `WLD`), exactly as the
cell states it, and one `sources` row per file. Reading the files here, instead of
copying numbers by hand, lets anyone produce the rows again and check them cell by cell.

    .venv/bin/python scripts/import_dots.py ../shared/research/imf-dots/DOTS_13.xlsx \\
        ../shared/research/imf-dots/DOTS_103.xlsx

Every check is made before anything is written: a file of another reporter, a layout
that moved, a cell that is not a number, a missing sheet or a file that is not the one
the source row cites stops the run with the file, sheet and cell, and data/ is left as it
was. Rows of other sources are never touched; running it twice changes nothing.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import io
import os
import re
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import openpyxl
from openpyxl.utils import get_column_letter

from azkz.schema.package import read_package
from azkz.tables.canonical_csv import canonical_text

ROOT = Path(__file__).resolve().parents[1]
REPOSITORY = "https://github.com/SamLeBlanc/Direction-of-Trade-Map"
COMMIT = "a769819d9b25a21a362d6cabfb10f150903f834d"
PUBLISHED = "2022-02-02"  # the commit that added both files, unchanged since
WORLD = "WLD"  # partner code of a reporter's total trade (indicators.from/to_country)
WORLD_LABEL = "World"
UNIT_TEXT, UNIT = "US Dollars, Millions", "USD million"
ESTIMATE_QUALIFIER = "estimated"  # indicators.qualifier of a cell marked " e"
ESTIMATE_NOTE = "IMF estimate (cell marked e)"
DECIMALS = 6  # binary-float artefacts (34.29219999999999) are rounded to 6 decimals, never fewer
# Layout of each sheet (SOURCE.md): row 2 the flow, 4 the reporter, 5 the unit, 7 the years.
FLOW_ROW, REPORTER_ROW, UNIT_ROW, YEAR_ROW = 2, 4, 5, 7
LABEL_COLUMN, FIRST_YEAR_COLUMN = 2, 3  # B: partner labels; C: the first year
ESTIMATE_CELL = re.compile(r"(\d+(?:\.\d+)?) e")


@dataclass(frozen=True)
class Sheet:
    name: str
    flow_title: str  # cell B2
    indicator: str
    valuation: str  # FOB or CIF
    outward: bool  # exports run reporter -> partner, imports partner -> reporter


SHEETS = (
    Sheet("Exports, FOB", "Exports, FOB to Partner Countries", "exports", "FOB", True),
    Sheet("Imports, CIF", "Imports, CIF from Partner Countries", "imports", "CIF", False),
)


@dataclass(frozen=True)
class Reporter:
    """One country table: who reports, its label in the workbook, the file a reader opens."""

    code: str
    label: str  # cell B4, and the row label of this country in the other's table
    name: str
    file_name: str
    sha256: str
    partner: str  # the other country's code

    @property
    def source_id(self) -> str:
        return f"imf-dots-{self.code.lower()}"

    @property
    def url(self) -> str:
        return f"{REPOSITORY}/blob/{COMMIT}/data/DOTS/{self.file_name}"


REPORTERS = (
    Reporter(
        "AZE",
        "Azerbaijan, Rep. of",
        "Azerbaijan",
        "DOTS_13.xlsx",
        "24c40cfb03919f265f5466505722ed24ca4f108e9c1bd07bdc148ca342829892",
        "KAZ",
    ),
    Reporter(
        "KAZ",
        "Kazakhstan, Rep. of",
        "Kazakhstan",
        "DOTS_103.xlsx",
        "295bd2d6c4ed85705b0806f591c03c1c6e6c05149dc691c7d8ef036389e70903",
        "AZE",
    ),
)


class BadInput(Exception):
    """A workbook this script will not import; the message names file, sheet and cell."""


def where(path: Path, sheet: str | None = None, cell: str | None = None) -> str:
    parts = (
        [str(path)] + ([f"sheet {sheet!r}"] if sheet else []) + ([f"cell {cell}"] if cell else [])
    )
    return ": ".join(parts)


def open_workbook(path: Path):
    try:
        return openpyxl.load_workbook(path, data_only=True)
    except (OSError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise BadInput(f"{path}: cannot be read as an xlsx workbook ({exc})") from None


def expect_text(path: Path, ws, row: int, expected: str) -> None:
    cell = ws.cell(row, LABEL_COLUMN)
    if cell.value != expected:
        raise BadInput(
            f"{where(path, ws.title, cell.coordinate)}: expected {expected!r}, found {cell.value!r} "
            "(the layout is not the DOTS country table's)"
        )


def year_columns(path: Path, ws) -> dict[int, int]:
    """{column: year} of row 7: consecutive years from column C to the last filled cell."""
    columns = {}
    for column in range(FIRST_YEAR_COLUMN, ws.max_column + 1):
        cell = ws.cell(YEAR_ROW, column)
        text = "" if cell.value is None else str(cell.value).strip()
        if not text and columns:
            break
        expected = next(iter(columns.values())) + len(columns) if columns else None
        if not re.fullmatch(r"\d{4}", text) or (expected is not None and int(text) != expected):
            wanted = f"the year {expected}" if expected else "a year"
            raise BadInput(
                f"{where(path, ws.title, cell.coordinate)}: expected {wanted} in the header row "
                f"{YEAR_ROW}, found {cell.value!r}"
            )
        columns[column] = int(text)
    return columns


def label_row(path: Path, ws, label: str) -> int:
    rows = [
        r for r in range(YEAR_ROW + 1, ws.max_row + 1) if ws.cell(r, LABEL_COLUMN).value == label
    ]
    if len(rows) != 1:
        found = "no row" if not rows else f"{len(rows)} rows ({', '.join(f'B{r}' for r in rows)})"
        raise BadInput(f"{where(path, ws.title)}: column B has {found} labelled {label!r}")
    return rows[0]


def number_text(value: float | int) -> str:
    """The cell's number in plain decimal notation, rounded to at most 6 decimals."""
    text = format(Decimal(repr(round(float(value), DECIMALS))), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def read_cell(path: Path, ws, row: int, column: int) -> tuple[str, bool, str] | None:
    """(value text, is an estimate, the cell as stored), or None for an empty cell."""
    cell = ws.cell(row, column)
    value = cell.value
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
        return number_text(value), False, repr(value)
    if isinstance(value, str) and (match := ESTIMATE_CELL.fullmatch(value.strip())):
        return match.group(1), True, value
    raise BadInput(
        f"{where(path, ws.title, cell.coordinate)}: {value!r} is not a non-negative number "
        "(optionally followed by ' e', the IMF's estimate mark)"
    )


def identify(path: Path, first) -> Reporter:
    """The reporter of a workbook, from cell B4 of its exports sheet `first`."""
    label = first.cell(REPORTER_ROW, LABEL_COLUMN).value
    for reporter in REPORTERS:
        if label == reporter.label:
            return reporter
    known = " or ".join(repr(r.label) for r in REPORTERS)
    raise BadInput(
        f"{where(path, first.title, f'B{REPORTER_ROW}')}: reporter {label!r} is not {known}"
    )


def sheet_rows(path: Path, ws, sheet: Sheet, reporter: Reporter) -> list[dict[str, str]]:
    """The rows of one sheet: the trade with the partner and with the world, year by year."""
    expect_text(path, ws, REPORTER_ROW, reporter.label)
    expect_text(path, ws, UNIT_ROW, UNIT_TEXT)
    other = next(r for r in REPORTERS if r.code == reporter.partner)
    years = year_columns(path, ws)
    rows = []
    for label, partner, whom in (
        (other.label, other.code, other.name),
        (WORLD_LABEL, WORLD, "all partners"),
    ):
        row = label_row(path, ws, label)
        for column, year in years.items():
            cell = read_cell(path, ws, row, column)
            if cell is not None:
                where_found = (label, year, f"{get_column_letter(column)}{row}")
                rows.append(observation(sheet, reporter, partner, whom, where_found, cell))
    return rows


def observation(sheet, reporter, partner, whom, where_found, cell) -> dict[str, str]:
    """One `indicators` row; `where_found` is (row label, year, cell), `cell` read_cell's."""
    (label, year, coordinate), (value, estimate, stored) = where_found, cell
    origin, destination = (reporter.code, partner) if sheet.outward else (partner, reporter.code)
    flow = f"exports to {whom}" if sheet.outward else f"imports from {whom}"
    note = (
        f"IMF Direction of Trade Statistics, {reporter.name}'s own figures ({flow}, "
        f"{sheet.valuation}), republished in SamLeBlanc/Direction-of-Trade-Map "
        f"({reporter.file_name})"
    )
    if Decimal(value) != Decimal(stored.removesuffix(" e")):
        note += f"; the cell's {stored} rounded to {DECIMALS} decimals"
    return {
        "indicator": sheet.indicator,
        "reporter": reporter.code,
        "from_country": origin,
        "to_country": destination,
        "period_start": f"{year}-01-01",
        "period_end": f"{year}-12-31",
        "period_basis": "stated",
        "value": value,
        "unit": UNIT,
        "qualifier": ESTIMATE_QUALIFIER if estimate else "",
        "source_id": reporter.source_id,
        "note": f"{ESTIMATE_NOTE}; {note}" if estimate else note,
        "evidence": (
            f"{reporter.file_name}, sheet {sheet.name!r} ({sheet.flow_title}, {UNIT_TEXT}), "
            f"row {label!r}, year {year} (cell {coordinate}): {stored}"
        ),
        "exclude_from_series": "",
    }


def source_row(reporter: Reporter, accessed: str) -> dict[str, str]:
    return {
        "source_id": reporter.source_id,
        "title": (
            f"Direction of Trade Statistics: {reporter.label}, "
            f"{' and '.join(s.flow_title for s in SHEETS)} ({reporter.file_name})"
        ),
        "publisher": (
            "International Monetary Fund, Direction of Trade Statistics (the IMF's country table, "
            "republished in the GitHub repository SamLeBlanc/Direction-of-Trade-Map)"
        ),
        "url": reporter.url,
        "published": PUBLISHED,
        "accessed": accessed,
        "language": "en",
        "kind": "international organisation",
    }


def read_workbook(path: Path) -> tuple[Reporter, list[dict]]:
    workbook = open_workbook(path)
    for sheet in SHEETS:
        if sheet.name not in workbook.sheetnames:
            raise BadInput(
                f"{where(path, sheet.name)}: the sheet is missing "
                f"(the workbook has {', '.join(map(repr, workbook.sheetnames))})"
            )
        expect_text(path, workbook[sheet.name], FLOW_ROW, sheet.flow_title)
    reporter = identify(path, workbook[SHEETS[0].name])
    rows = []
    for sheet in SHEETS:
        rows += sheet_rows(path, workbook[sheet.name], sheet, reporter)
    return reporter, rows


def check_digest(path: Path, reporter: Reporter) -> None:
    """The rows cite the file at one commit: a workbook with other bytes is not that file."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != reporter.sha256:
        raise BadInput(
            f"{path}: sha256 {digest} is not that of {reporter.file_name} at {REPOSITORY} "
            f"commit {COMMIT} ({reporter.sha256}), the file the source row cites"
        )


def merged_text(table, path: Path, owned: set[str], new_rows: list[dict[str, str]]) -> str:
    """`path`'s canonical text with the rows of the `owned` sources replaced by `new_rows`."""
    data = path.read_bytes()
    text = data.decode("utf-8")
    if canonical_text(table, data) != text:
        raise BadInput(f"{path}: not in canonical form; run `azkz fmt` first, then this script")
    header, *body = list(csv.reader(io.StringIO(text, newline="")))
    position = header.index("source_id")
    kept = [row for row in body if row[position] not in owned]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerows([header, *kept, *([row[name] for name in header] for row in new_rows)])
    return canonical_text(table, out.getvalue().encode("utf-8"))


def existing_accessed(path: Path, source_id: str) -> str | None:
    with path.open(encoding="utf-8", newline="") as handle:
        row = next((r for r in csv.DictReader(handle) if r["source_id"] == source_id), None)
    return row["accessed"] if row else None


def write_all(contents: dict[Path, str]) -> None:
    """Write every file or none: each to a temporary file first, then rename them all."""
    temporaries = {}
    try:
        for path, text in contents.items():
            handle, temporary = tempfile.mkstemp(prefix=".import-dots-", dir=path.parent)
            temporaries[path] = temporary
            with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
                out.write(text)
            os.chmod(temporary, path.stat().st_mode & 0o777)
    except BaseException:
        for temporary in temporaries.values():
            Path(temporary).unlink(missing_ok=True)
        raise
    for path, temporary in temporaries.items():
        os.replace(temporary, path)


def import_dots(
    paths: list[Path], root: Path = ROOT, reporters: tuple[Reporter, ...] = REPORTERS
) -> dict[str, int]:
    """Read the workbooks, then rewrite data/indicators.csv and data/sources.csv.

    Returns the number of rows per source. `reporters` carries each file's expected sha256
    (tests pass workbooks of their own).
    """
    read = [read_workbook(Path(p)) for p in paths]
    codes = sorted(r.code for r, _ in read)
    if codes != sorted(r.code for r in reporters):
        raise BadInput(
            f"expected one workbook of each reporter ({', '.join(r.code for r in reporters)}), "
            f"got {', '.join(codes) or 'none'} from {', '.join(map(str, paths))}"
        )
    expected = {r.code: r for r in reporters}
    for path, (reporter, _) in zip(paths, read, strict=True):
        check_digest(Path(path), expected[reporter.code])
    package = read_package(root)
    indicators, sources = package.table("indicators"), package.table("sources")
    owned = {r.source_id for r in reporters}
    today = dt.date.today().isoformat()
    source_path = package.file(sources)
    source_rows = [
        source_row(r, existing_accessed(source_path, r.source_id) or today) for r, _ in read
    ]
    rows = [row for _, rs in read for row in rs]
    indicator_path = package.file(indicators)
    write_all(
        {
            indicator_path: merged_text(indicators, indicator_path, owned, rows),
            source_path: merged_text(sources, source_path, owned, source_rows),
        }
    )
    return {r.source_id: len(rs) for r, rs in read}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("workbooks", nargs=2, type=Path, help="DOTS_13.xlsx and DOTS_103.xlsx")
    parser.add_argument("--package", type=Path, default=ROOT, help="the data package's folder")
    args = parser.parse_args(argv)
    try:
        counts = import_dots(args.workbooks, args.package)
    except BadInput as exc:
        print(f"error: {exc}; nothing was written", file=sys.stderr)
        return 1
    for source_id, count in counts.items():
        print(f"{source_id}: {count} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
