"""Validation has several plans that must report exactly the same errors at the same
lines; the real tables are small, so most tests only see one of each pair.

* `row_errors`: one query per group of fields (large tables) or one query with every
  rule (tables up to `SMALL_TABLE_ROWS`).
* tables loaded whole, or profiled in one streaming pass with the failing rows located
  afterwards (files from `PROFILE_MIN_BYTES`; tables no foreign key points to),
  including with bit filters so small that every row is located (and most pass).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from azkz.schema.package import read_package
from azkz.validate import profile
from azkz.validate.package import validate_package
from azkz.validate.rules import row
from tests.test_validate import (
    append_row,
    append_text,
    csv_path,
    mutate_table,
    mutation_examples,
    unique_indicator_row,
)

BAD_INDICATOR_ROWS = [
    {"evidence": ""},  # required
    {"value": "12,5 mln"},  # type-error, number
    {"value": "12,5 mln"},  # the same failing value on a second row: both reported
    {"value": "1e400"},  # type-error, overflow
    {"period_start": "2025-02-30", "period_end": "2025-03-31"},  # impossible date
    {"period_start": "1902-01-01"},  # date-order
    {"unit": "USD billion"},  # enum
    {"from_country": "XKZ"},  # codelist-error
    {"indicator": "Bad Code"},  # pattern (and foreign key)
]
BAD_VISIT_ROWS = [
    {"visit_id": "order", "date_start": "2020-05-10", "date_end": "2020-05-09"},
    {"visit_id": "precision", "date_start": "2020-05-10", "date_precision": "month"},
    {"visit_id": "iso3", "host_country": "XKZ"},
]


def test_grouped_and_single_query_plans_report_the_same_errors(package_copy, monkeypatch):
    lines = []
    for k, changes in enumerate(BAD_INDICATOR_ROWS):
        unique = unique_indicator_row(period_end=f"1901-12-{10 + k}") | changes
        lines.append(append_row(package_copy, "indicators", **unique))
    for changes in BAD_VISIT_ROWS:
        lines.append(append_row(package_copy, "visits", **changes))

    single = validate_package(package_copy).errors
    monkeypatch.setattr(row, "SMALL_TABLE_ROWS", 0)
    grouped = validate_package(package_copy).errors

    assert grouped == single
    assert {e["line"] for e in single} == set(lines)
    codes = {e["code"] for e in single}
    assert {"constraint-error", "type-error", "date-order", "codelist-error"} <= codes
    assert {"date-order", "date-precision", "foreign-key"} <= codes


@pytest.mark.parametrize("rows", [0, 10_000])
def test_valid_package_passes_both_plans(package_copy, monkeypatch, rows):
    monkeypatch.setattr(row, "SMALL_TABLE_ROWS", rows)
    assert validate_package(package_copy).errors == []


# ----------------------------------------------------------------------------- profiled path
def add_bad_rows(root: Path) -> set[int]:
    """Every kind of failure a profile must find, each on a line of its own; their lines."""
    lines = set()
    for k, changes in enumerate(BAD_INDICATOR_ROWS):
        unique = unique_indicator_row(period_end=f"1901-12-{10 + k}") | changes
        lines.add(append_row(root, "indicators", **unique))
    for k in range(3):  # one row three times: the second and third repeat its key
        line = append_row(root, "indicators", **unique_indicator_row(period_end="1901-11-30"))
        if k:
            lines.add(line)
    lines.add(append_row(root, "indicators", **unique_indicator_row(source_id="no-such-source")))
    for changes in BAD_VISIT_ROWS:
        lines.add(append_row(root, "visits", **changes))
    lines.add(append_row(root, "projects", project_id="dup-free", agreement_id="no-such-agreement"))
    return lines


PROFILED_VARIANTS = {
    "profiled": {"PROFILE_MIN_BYTES": 0},
    "profiled, one-bucket filter": {
        "PROFILE_MIN_BYTES": 0,
        "FILTER_BITS_PER_ROW": 0,
        "FILTER_MAX_BITS": 1,
    },
}


@pytest.mark.parametrize("variant", list(PROFILED_VARIANTS))
def test_profiled_and_loaded_paths_report_the_same_errors(package_copy, monkeypatch, variant):
    lines = add_bad_rows(package_copy)
    loaded = validate_package(package_copy)
    for name, value in PROFILED_VARIANTS[variant].items():
        monkeypatch.setattr(profile, name, value)
    profiled = validate_package(package_copy)

    assert profiled.errors == loaded.errors
    assert {e["line"] for e in loaded.errors} == lines
    codes = {e["code"] for e in loaded.errors}
    assert {"type-error", "constraint-error", "primary-key", "foreign-key"} <= codes
    assert profiled.stats["rows_per_table"] == loaded.stats["rows_per_table"]


def test_a_profiled_table_loaded_after_all_still_gets_its_references_checked(
    package_copy, monkeypatch
):
    """A blank line sends a profiled table to the loading path, foreign keys included."""
    monkeypatch.setattr(profile, "PROFILE_MIN_BYTES", 0)
    fk_line = append_row(package_copy, "indicators", **unique_indicator_row(source_id="nope"))
    blank_line = append_text(package_copy, "indicators", "\n")
    found = {(e["code"], e["line"]) for e in validate_package(package_copy).errors}
    # The blank row's key is empty too: `primary-key` there, as Frictionless reports it.
    assert found == {
        ("foreign-key", fk_line),
        ("blank-row", blank_line),
        ("primary-key", blank_line),
    }


def test_a_file_that_changes_between_the_passes_is_loaded_whole(package_copy, monkeypatch):
    """The second pass must read as many rows as the profile; otherwise the table is
    loaded whole and checked as a small one (simulated: the count disagrees)."""
    lines = add_bad_rows(package_copy)
    loaded = validate_package(package_copy)
    monkeypatch.setattr(profile, "PROFILE_MIN_BYTES", 0)
    monkeypatch.setattr(profile, "_row_count", lambda con, relation: -1)
    assert validate_package(package_copy).errors == loaded.errors
    assert {e["line"] for e in loaded.errors} == lines


def test_only_large_tables_without_children_are_profiled(monkeypatch):
    package = read_package(Path(__file__).resolve().parents[1])
    assert not any(profile.profiled(package, t) for t in package.tables)  # all small
    monkeypatch.setattr(profile, "PROFILE_MIN_BYTES", 0)
    profiled = {t.name for t in package.tables if profile.profiled(package, t)}
    assert profiled == {"indicators", "projects", "visits"}  # the others are referenced


def test_text_no_rule_reads_is_still_checked_for_utf8(package_copy, monkeypatch):
    """DuckDB checks UTF-8 only in the columns a query reads; `note` has no rule."""
    monkeypatch.setattr(profile, "PROFILE_MIN_BYTES", 0)
    row = append_row(package_copy, "indicators", **unique_indicator_row(note="Pr_x"))
    path = csv_path(package_copy, "indicators")
    path.write_bytes(path.read_bytes().replace(b"Pr_x", b"Pr\xe9x"))
    errors = validate_package(package_copy).errors
    assert [(e["code"], e["line"], e["field"]) for e in errors] == [("encoding-error", row, "note")]


def test_a_table_without_rules_is_profiled_too(tmp_path, monkeypatch):
    monkeypatch.setattr(profile, "PROFILE_MIN_BYTES", 0)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "notes.csv").write_text("a,b\nx,y\n,z\n", encoding="utf-8")
    schema = {"fields": [{"name": "a", "type": "string"}, {"name": "b", "type": "string"}]}
    resource = {"name": "notes", "path": "data/notes.csv", "schema": schema}
    (tmp_path / "datapackage.json").write_text(json.dumps({"resources": [resource]}))
    report = validate_package(tmp_path)
    assert report.errors == []
    assert report.stats["rows_per_table"] == {"notes": 2}


@mutation_examples(15)  # each validates the package twice; scripts/bench_fuzz.py goes wide
@given(data=st.data())
def test_random_mutations_give_the_same_errors_on_both_paths(package_copy, data):
    path, original = mutate_table(data, package_copy, ["indicators", "visits", "projects"])
    try:
        loaded = validate_package(package_copy)
        profile.PROFILE_MIN_BYTES = 0
        profiled = validate_package(package_copy)
    finally:
        profile.PROFILE_MIN_BYTES = PROFILE_MIN_BYTES
        path.write_bytes(original)
    assert profiled.errors == loaded.errors
    assert profiled.exit_code == loaded.exit_code


PROFILE_MIN_BYTES = profile.PROFILE_MIN_BYTES
