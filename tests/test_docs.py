"""`azkz docs`: the data dictionary generated from the schemas and the data."""

from __future__ import annotations

import csv
import re

from click.testing import CliRunner

from azkz.cli import main
from azkz.publish.coverage import CURATION_PATH, coverage_block, curation_notes
from azkz.publish.docs import DICTIONARY_PATH, data_dictionary
from azkz.schema.package import read_package
from tests.helpers import ROOT, edit_schema


def record_count(path) -> int:
    """Records after the header, counted by the csv module (independently of DuckDB)."""
    with open(path, newline="", encoding="utf-8") as fh:
        return sum(1 for _ in csv.reader(fh)) - 1


def section(markdown: str, heading_start: str) -> str:
    """The text from the heading starting with `heading_start` to the next `## `."""
    match = re.search(rf"^{re.escape(heading_start)}.*?(?=^## |\Z)", markdown, re.M | re.S)
    assert match, f"no section {heading_start!r}"
    return match.group(0)


def table_rows(markdown: str) -> list[list[str]]:
    """Cells of every Markdown table row, split on unescaped pipes."""
    rows = []
    for line in markdown.splitlines():
        if line.startswith("|") and not line.startswith("|---"):
            cells = re.split(r"(?<!\\)\|", line)[1:-1]
            rows.append([c.strip() for c in cells])
    return rows


def test_committed_dictionary_is_current():
    committed = (ROOT / DICTIONARY_PATH).read_text(encoding="utf-8")
    assert committed == data_dictionary(read_package(ROOT)), (
        "docs/data-dictionary.md is stale: run `azkz docs` and commit it"
    )


def test_every_table_has_its_row_count_keys_and_every_field(package_copy):
    package = read_package(package_copy)
    text = data_dictionary(package)
    for table in package.tables:
        part = section(text, f"## `{table.name}`")
        if not table.virtual:  # a derived table's rows: see tests/test_series.py
            assert f"- Rows: {record_count(package.file(table)):,}\n" in part
        key_line = "- Primary key: " if table.primary_key else "- Unique key (may be empty): "
        assert key_line + ", ".join(f"`{k}`" for k in table.row_key) in part
        for fk in table.foreign_keys:
            assert f"→ `{fk['reference']['resource']}`." in part
        rows = {r[0]: r for r in table_rows(part)[1:]}
        assert list(rows) == [f"`{f.name}`" for f in table.fields]
        for f in table.fields:
            name, ftype, _unit, required, allowed, description = rows[f"`{f.name}`"]
            assert (ftype, required) == (f.type, "yes" if f.required else "no")
            assert description == f.description.replace("|", "\\|")
            for value in f.enum or []:
                assert f"`{value}`" in allowed


def test_units_point_to_the_column_that_carries_them(package_copy):
    text = data_dictionary(read_package(package_copy))
    value_row = next(r for r in table_rows(section(text, "## `indicators`")) if r[0] == "`value`")
    assert value_row[2] == "per row, in `unit`"


def test_sources_table_lists_every_source(package_copy):
    package = read_package(package_copy)
    text = data_dictionary(package)
    rows = table_rows(section(text, "## Sources"))
    with open(package_copy / "data" / "sources.csv", newline="", encoding="utf-8") as fh:
        ids = sorted(r["source_id"] for r in csv.DictReader(fh))
    assert [r[0] for r in rows[1:]] == [f"`{i}`" for i in ids]


def test_pipes_and_line_breaks_in_cells_do_not_break_a_table(package_copy):
    path = package_copy / "data" / "sources.csv"
    with open(path, newline="", encoding="utf-8") as fh:
        header = next(csv.reader(fh))
    row = {
        "source_id": "zz-test",
        "title": "Trade | transit\nsecond line",
        "publisher": "X",
        "url": "https://example.org/a",
        "published": "",
        "accessed": "2025-01-01",
        "language": "en",
        "kind": "other",
    }
    with open(path, "a", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerow([row[h] for h in header])
    rows = table_rows(section(data_dictionary(read_package(package_copy)), "## Sources"))
    assert {len(r) for r in rows} == {len(rows[0])}
    assert rows[-1][rows[0].index("title")] == "Trade \\| transit second line"


def test_a_schema_edit_shows_up_in_the_dictionary(package_copy):
    edit_schema(
        package_copy,
        "visits",
        lambda schema: schema["fields"][0].update(description="Changed in one place only."),
    )
    assert "| Changed in one place only. |" in data_dictionary(read_package(package_copy))


def test_cli_writes_then_check_passes_and_catches_a_stale_file(package_copy):
    runner = CliRunner()
    args = ["--package", str(package_copy)]
    assert runner.invoke(main, ["docs", *args]).exit_code == 0
    assert runner.invoke(main, ["docs", "--check", *args]).exit_code == 0
    with open(package_copy / "data" / "visits.csv", encoding="utf-8") as fh:
        lines = fh.readlines()
    (package_copy / "data" / "visits.csv").write_text("".join(lines[:-1]), encoding="utf-8")
    stale = runner.invoke(main, ["docs", "--check", *args])
    assert stale.exit_code == 1
    assert f"stale: {package_copy / DICTIONARY_PATH}" in stale.output


def test_cli_on_unreadable_data_points_to_validate_without_a_traceback(package_copy):
    path = package_copy / "data" / "visits.csv"
    path.write_text(path.read_text(encoding="utf-8") + "a,b\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["docs", "--package", str(package_copy)])
    assert result.exit_code == 1
    assert "run `azkz validate`" in result.output
    assert "Traceback" not in result.output


def test_cli_without_a_package_exits_2(tmp_path):
    result = CliRunner().invoke(main, ["docs", "--package", str(tmp_path)])
    assert result.exit_code == 2
    assert "datapackage.json not found" in result.output


# --- coverage tables of docs/curation.md (azkz.publish.coverage) ------------------------------


def test_committed_coverage_tables_are_current():
    assert curation_notes(read_package(ROOT)) == {
        ROOT / CURATION_PATH: (ROOT / CURATION_PATH).read_text(encoding="utf-8")
    }, "the coverage block of docs/curation.md is stale: run `azkz docs` and commit it"


def coverage_cells(package_dir) -> tuple[dict, dict]:
    """{year: {theme: cell}} and {year: {reporter: cell}} from the generated block."""
    themes, trade, _ = coverage_block(read_package(package_dir)).split("### ")[1:]

    def by_year(markdown: str) -> dict:
        header, *rows = table_rows(markdown)
        return {r[0]: dict(zip(header, r, strict=True)) for r in rows}

    return by_year(themes), by_year(trade)


def test_coverage_counts_follow_the_data(package_copy):
    """One more visit in 1996 and a full-year trade row by AZE for 1990 show up where expected."""
    themes_before, _ = coverage_cells(package_copy)
    with open(package_copy / "data" / "visits.csv", newline="", encoding="utf-8") as fh:
        visits = list(csv.DictReader(fh))
    extra = visits[0] | {
        "visit_id": "zz-1996",
        "date_start": "1996-09-16",
        "date_end": "1996-09-16",
    }
    with open(package_copy / "data" / "indicators.csv", newline="", encoding="utf-8") as fh:
        indicators = list(csv.DictReader(fh))
    trade = next(r for r in indicators if r["indicator"] == "trade_turnover")
    trade |= {"reporter": "AZE", "period_start": "1990-01-01", "period_end": "1990-12-31"}
    for name, row in (("visits", extra), ("indicators", trade)):
        with open(package_copy / "data" / f"{name}.csv", "a", newline="", encoding="utf-8") as fh:
            csv.DictWriter(fh, fieldnames=list(row), lineterminator="\n").writerow(row)
    themes, trade_rows = coverage_cells(package_copy)
    assert int(themes["1996"]["visits"]) == int(themes_before["1996"]["visits"] or 0) + 1
    assert trade_rows["1990"]["AZE"] == "1 (1)"


def test_a_package_without_curation_markers_gets_no_curation_file(package_copy):
    assert curation_notes(read_package(package_copy)) == {}  # no docs/ at all
    (package_copy / "docs").mkdir()
    (package_copy / CURATION_PATH).write_text("# notes\n", encoding="utf-8")
    assert curation_notes(read_package(package_copy)) == {}
