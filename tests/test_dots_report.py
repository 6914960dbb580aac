"""scripts/dots_report.py: the DOTS rows' competition and the trade tables, from a release."""

from __future__ import annotations

import importlib.util
import sys

from tests.helpers import ROOT, release_dir


def load_script():
    spec = importlib.util.spec_from_file_location("dots_report", ROOT / "scripts/dots_report.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


report = load_script()


def database(built_release):
    return next(release_dir(built_release).glob("*.duckdb"))


def table_rows(text: str, title: str) -> list[list[str]]:
    """The body rows of the Markdown table under the section `title`."""
    section = text.split(f"### {title}", 1)[1].split("<details>", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("|")][2:]
    return [[c.strip() for c in line.strip("|").split("|")] for line in lines]


def test_every_competition_of_a_dots_row_names_its_winner(built_release):
    text = report.report(database(built_release), report.SECTIONS)
    rows = table_rows(text, "Where a DOTS row competes in `annual_series`")
    winners = {(r[0], r[1], r[2]): r[4] for r in rows if r[9] == "true"}
    groups = {(r[0], r[1], r[2]) for r in rows}
    assert groups == set(winners)  # one winner per group
    assert all(r[10] for r in rows)  # the step that decided is named
    assert len(rows) == 2 * len(groups)


def test_disagreements_are_flagged_at_five_percent(built_release):
    text = report.report(database(built_release), report.SECTIONS)
    rows = table_rows(text, "Other full-year figures against the DOTS figure")
    assert rows
    for r in rows:
        figure, dots_value = float(r[5]), float(r[10])
        assert (r[12] == "true") == (abs(figure - dots_value) / dots_value > 0.05), r


def test_trade_part_has_both_tables(built_release):
    text = report.report(database(built_release), report.TRADE_SECTIONS)
    bilateral = table_rows(text, "`bilateral_trade`, AZE and KAZ, 1992–2024")
    mirror = table_rows(text, "`trade_mirror`, 2010–2020")
    assert {r[0] for r in bilateral} == {"AZE", "KAZ"}
    assert {r[0] for r in mirror} == {str(y) for y in range(2010, 2021)}
