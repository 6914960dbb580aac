"""scripts/import_dots.py: the IMF DOTS workbooks to `indicators` and `sources` rows.

The bad-input and idempotence tests build small workbooks with openpyxl in the DOTS
layout, so they need no research files. The tests that compare data/indicators.csv with
the real workbooks read them from ../shared/research/imf-dots/ and skip when it is absent
(the research files never go into the project).
"""

from __future__ import annotations

import csv
import dataclasses
import importlib.util
import math
import re
import sys
from pathlib import Path

import openpyxl
import pytest

from tests.helpers import ROOT, invoke, sha256_hex

SHARED = ROOT.parent / "shared" / "research" / "imf-dots"
REAL_FILES = {"AZE": SHARED / "DOTS_13.xlsx", "KAZ": SHARED / "DOTS_103.xlsx"}
needs_shared = pytest.mark.skipif(
    not all(p.is_file() for p in REAL_FILES.values()),
    reason=f"the IMF DOTS research files are not in {SHARED} (they are never in the project)",
)


def load_script():
    spec = importlib.util.spec_from_file_location("import_dots", ROOT / "scripts/import_dots.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


dots = load_script()
LABELS = {"AZE": "Azerbaijan, Rep. of", "KAZ": "Kazakhstan, Rep. of"}
PARTNER = {"AZE": "KAZ", "KAZ": "AZE"}


def write_workbook(path: Path, reporter: str, cells: dict | None = None, **layout) -> Path:
    """A workbook in the DOTS layout: years 2018–2020, a filler row, the partner, World.

    `cells` overrides values by (sheet, row label, year); `layout` may set `reporter_label`,
    `year_row` (7 in the real files) or `sheets` (the sheet names to create).
    """
    cells = cells or {}
    year_row = layout.get("year_row", dots.YEAR_ROW)
    shift = year_row - dots.YEAR_ROW
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for sheet in dots.SHEETS:
        if sheet.name not in layout.get("sheets", [s.name for s in dots.SHEETS]):
            continue
        ws = workbook.create_sheet(sheet.name)
        ws.cell(dots.FLOW_ROW + shift, 2, sheet.flow_title)
        ws.cell(dots.REPORTER_ROW + shift, 2, layout.get("reporter_label", LABELS[reporter]))
        ws.cell(dots.UNIT_ROW + shift, 2, dots.UNIT_TEXT)
        for i, year in enumerate((2018, 2019, 2020)):
            ws.cell(year_row, 3 + i, str(year))
        for r, label in enumerate(("Australia", LABELS[PARTNER[reporter]], "World")):
            ws.cell(year_row + 1 + r, 2, label)
            for i, year in enumerate((2018, 2019, 2020)):
                default = 1000.5 + i if label == "World" else 10.25 + i
                value = cells.get((sheet.name, label, year), default)
                ws.cell(year_row + 1 + r, 3 + i, value)
    workbook.save(path)
    return path


def reporters_for(*paths: Path) -> tuple:
    """The script's reporters, each expecting the sha256 of the test's own workbook."""
    digests = {
        dots.identify(p, openpyxl.load_workbook(p)["Exports, FOB"]).code: sha256_hex(p)
        for p in paths
    }
    return tuple(dataclasses.replace(r, sha256=digests[r.code]) for r in dots.REPORTERS)


def rows_of(root: Path, table: str) -> list[dict[str, str]]:
    with (root / "data" / f"{table}.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def data_bytes(root: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((root / "data").glob("*.csv"))}


def dots_rows(root: Path) -> list[dict[str, str]]:
    ids = {r.source_id for r in dots.REPORTERS}
    return [r for r in rows_of(root, "indicators") if r["source_id"] in ids]


@pytest.fixture
def workbooks(tmp_path):
    cells = {
        ("Exports, FOB", "Kazakhstan, Rep. of", 2018): 34.29219999999999,
        ("Exports, FOB", "Kazakhstan, Rep. of", 2019): 3e-05,
        ("Exports, FOB", "Kazakhstan, Rep. of", 2020): None,
        ("Imports, CIF", "Kazakhstan, Rep. of", 2019): "0.14 e",
    }
    return (
        write_workbook(tmp_path / "aze.xlsx", "AZE", cells),
        write_workbook(tmp_path / "kaz.xlsx", "KAZ"),
    )


def test_rows_state_each_cell_and_other_sources_are_untouched(package_copy, workbooks):
    before = [
        r for r in rows_of(package_copy, "indicators") if not r["source_id"].startswith("imf-")
    ]
    dots.import_dots(list(workbooks), package_copy, reporters_for(*workbooks))
    rows = {
        (r["indicator"], r["from_country"], r["to_country"], r["period_start"][:4]): r
        for r in dots_rows(package_copy)
    }
    # 2 files x 2 sheets x 2 labels x 3 years, less the empty 2020 cell
    assert len(rows) == 23
    assert rows["exports", "AZE", "KAZ", "2018"]["value"] == "34.2922"  # float artefact rounded
    assert rows["exports", "AZE", "KAZ", "2019"]["value"] == "0.00003"  # never 3e-05
    assert ("exports", "AZE", "KAZ", "2020") not in rows  # no cell, no row
    estimate = rows["imports", "KAZ", "AZE", "2019"]
    assert (estimate["value"], estimate["qualifier"]) == ("0.14", "estimated")
    assert estimate["note"].startswith(dots.ESTIMATE_NOTE)
    assert "row 'Kazakhstan, Rep. of', year 2019 (cell D9): 0.14 e" in estimate["evidence"]
    world = rows["imports", "WLD", "AZE", "2020"]
    assert (world["reporter"], world["value"], world["unit"]) == ("AZE", "1002.5", "USD million")
    assert rows["exports", "KAZ", "AZE", "2020"]["reporter"] == "KAZ"
    after = [
        r for r in rows_of(package_copy, "indicators") if not r["source_id"].startswith("imf-")
    ]
    assert after == before
    sources = {r["source_id"]: r for r in rows_of(package_copy, "sources")}
    assert sources["imf-dots-kaz"]["url"].endswith(
        "/a769819d9b25a21a362d6cabfb10f150903f834d/data/DOTS/DOTS_103.xlsx"
    )
    assert sources["imf-dots-aze"]["kind"] == "international organisation"
    assert invoke("validate", str(package_copy)).exit_code == 0
    assert invoke("fmt", "--check", "--package", str(package_copy)).exit_code == 0


def test_running_twice_changes_nothing(package_copy, workbooks):
    reporters = reporters_for(*workbooks)
    dots.import_dots(list(workbooks), package_copy, reporters)
    first = data_bytes(package_copy)
    dots.import_dots(list(reversed(workbooks)), package_copy, reporters)
    assert data_bytes(package_copy) == first


def bad_workbooks(tmp_path: Path, case: str) -> tuple[list[Path], str]:
    """(workbooks, the place the error must name) for each kind of bad input."""
    aze = tmp_path / "aze.xlsx"
    kaz = write_workbook(tmp_path / "kaz.xlsx", "KAZ")
    if case == "another reporter":
        write_workbook(aze, "AZE", reporter_label="Armenia, Rep. of")
        return [aze, kaz], f"{aze}: sheet 'Exports, FOB': cell B4: reporter 'Armenia, Rep. of'"
    if case == "moved header row":
        write_workbook(aze, "AZE", year_row=8)
        return [aze, kaz], f"{aze}: sheet 'Exports, FOB': cell B2: expected"
    if case == "non-numeric cell":
        write_workbook(aze, "AZE", {("Imports, CIF", "World", 2019): "n/a"})
        return [aze, kaz], f"{aze}: sheet 'Imports, CIF': cell D10: 'n/a' is not"
    if case == "negative cell":
        write_workbook(aze, "AZE", {("Exports, FOB", "Kazakhstan, Rep. of", 2020): -1.5})
        return [aze, kaz], f"{aze}: sheet 'Exports, FOB': cell E9: -1.5 is not"
    if case == "missing sheet":
        write_workbook(aze, "AZE", sheets=["Exports, FOB"])
        return [aze, kaz], f"{aze}: sheet 'Imports, CIF': the sheet is missing"
    if case == "the same reporter twice":
        write_workbook(aze, "KAZ")
        return [aze, kaz], "expected one workbook of each reporter (AZE, KAZ), got KAZ, KAZ"
    if case == "not a workbook":
        aze.write_text("year,value\n", encoding="utf-8")
        return [aze, kaz], f"{aze}: cannot be read as an xlsx workbook"
    raise AssertionError(case)


BAD_CASES = [
    "another reporter",
    "moved header row",
    "non-numeric cell",
    "negative cell",
    "missing sheet",
    "the same reporter twice",
    "not a workbook",
]


@pytest.mark.parametrize("case", BAD_CASES)
def test_bad_input_names_file_sheet_and_cell_and_writes_nothing(
    package_copy, tmp_path, capsys, case
):
    paths, expected = bad_workbooks(tmp_path, case)
    before = data_bytes(package_copy)
    status = dots.main([*map(str, paths), "--package", str(package_copy)])
    message = capsys.readouterr().err
    assert status == 1
    assert message.startswith(f"error: {expected}"), message
    assert message.rstrip().endswith("nothing was written")
    assert data_bytes(package_copy) == before


def test_a_workbook_other_than_the_cited_file_is_refused(package_copy, workbooks, capsys):
    """The source rows cite the files at one commit: a workbook with other bytes is refused."""
    before = data_bytes(package_copy)
    assert dots.main([*map(str, workbooks), "--package", str(package_copy)]) == 1
    assert f"{workbooks[0]}: sha256 " in capsys.readouterr().err
    assert data_bytes(package_copy) == before


# ------------------------------------------------------------------ the real workbooks
def real_cells() -> dict[tuple[str, str, str, int], tuple[object, str]]:
    """{(indicator, from, to, year): (cell value, coordinate)} read straight from the files."""
    expected = {}
    for reporter, path in REAL_FILES.items():
        workbook = openpyxl.load_workbook(path, data_only=True)
        for sheet, indicator in (("Exports, FOB", "exports"), ("Imports, CIF", "imports")):
            ws = workbook[sheet]
            assert ws["B4"].value == LABELS[reporter]
            years = {c: int(str(ws.cell(7, c).value)) for c in range(3, ws.max_column + 1)}
            for row in range(8, ws.max_row + 1):
                label = ws.cell(row, 2).value
                partner = {"World": "WLD", LABELS[PARTNER[reporter]]: PARTNER[reporter]}.get(label)
                for column, year in years.items() if partner else ():
                    cell = ws.cell(row, column)
                    pair = (reporter, partner) if indicator == "exports" else (partner, reporter)
                    if cell.value is not None:
                        expected[indicator, *pair, year] = (cell.value, cell.coordinate)
    return expected


@needs_shared
def test_every_dots_row_is_its_cell():
    cells = real_cells()
    rows = {
        (r["indicator"], r["from_country"], r["to_country"], int(r["period_start"][:4])): r
        for r in dots_rows(ROOT)
    }
    assert set(rows) == set(cells)
    for key, (cell, coordinate) in cells.items():
        row = rows[key]
        estimate = isinstance(cell, str)
        number = float(cell.removesuffix(" e")) if estimate else cell
        assert math.isclose(float(row["value"]), number, rel_tol=0, abs_tol=5e-7), key
        decimals = len(row["value"].partition(".")[2])
        assert decimals <= 6 and float(row["value"]) == round(number, decimals), key
        assert (row["qualifier"] == "estimated") == estimate, key
        assert (dots.ESTIMATE_NOTE in row["note"]) == estimate, key
        assert row["reporter"] == (key[1] if key[0] == "exports" else key[2])
        assert row["period_end"] == f"{key[3]}-12-31" and row["period_basis"] == "stated"
        assert re.search(rf"year {key[3]} \(cell {coordinate}\): ", row["evidence"]), key


@needs_shared
def test_the_1993_kazakh_estimates_are_flagged():
    rows = [r for r in dots_rows(ROOT) if r["reporter"] == "KAZ" and r["qualifier"]]
    assert {(r["indicator"], r["period_start"], r["value"]) for r in rows} == {
        ("exports", "1993-01-01", "34.46"),
        ("imports", "1993-01-01", "37.72"),
    }


@needs_shared
def test_the_committed_rows_are_what_the_script_writes(package_copy):
    before = data_bytes(package_copy)
    status = dots.main(
        [str(REAL_FILES["AZE"]), str(REAL_FILES["KAZ"]), "--package", str(package_copy)]
    )
    assert status == 0
    assert data_bytes(package_copy) == before
