"""`azkz validate`: one test per bad input (code, resource, line, exit status, files
unchanged), the valid variants that must pass, and random mutations of real rows.

Every test works on a copy of the real package and changes one thing in it, so the
expected line numbers are computed from the copy rather than written down.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from azkz.cli import main
from azkz.validate import profile
from azkz.validate.package import validate_package
from azkz.validate.rules.declared import iso3_codes
from tests.helpers import edit_descriptor, edit_schema, field_named

NASTY_TEXT = 'Қазақстан, "Azərbaycan" — şəhər ğ ı ö ü ç қ ә ң ө ұ ү і\nвторая строка, Баку'


VALIDATION_PATHS = ("loaded", "profiled")


def pytest_generate_tests(metafunc):
    """Every test runs on both paths: tables loaded whole, and tables profiled in a
    streaming pass with failing rows located afterwards (`azkz.validate.profile`),
    which the real files are too small to take; a test marked `one_validation_path`
    (with the reason the path plays no part) runs on the loaded path only."""
    one = metafunc.definition.get_closest_marker("one_validation_path")
    paths = VALIDATION_PATHS[:1] if one else VALIDATION_PATHS
    metafunc.parametrize("validation_path", paths, indirect=True)


# The marks for the tests the path plays no part in.
DESCRIPTOR_ONLY = pytest.mark.one_validation_path(reason="no table is read: a descriptor error")
OUTPUT_ONLY = pytest.mark.one_validation_path(reason="how the CLI writes a report")


@pytest.fixture(autouse=True)
def validation_path(request, monkeypatch):
    if request.param == "profiled":
        monkeypatch.setattr(profile, "PROFILE_MIN_BYTES", 0)


# ----------------------------------------------------------------------------- helpers
def snapshot(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def run(root: Path, *args: str, env: dict[str, str] | None = None):
    """Run `azkz validate --format json` on `root`; check it changed no file."""
    before = snapshot(root)
    result = CliRunner().invoke(main, ["validate", str(root), "--format", "json", *args], env=env)
    assert snapshot(root) == before, "validation must never modify the package"
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, json.loads(result.output)


def csv_path(root: Path, table: str) -> Path:
    return root / "data" / f"{table}.csv"


def first_row(root: Path, table: str) -> dict[str, str]:
    with csv_path(root, table).open(newline="", encoding="utf-8") as f:
        return next(csv.DictReader(f))


def to_csv(values: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(values)
    return out.getvalue()


def append_text(root: Path, table: str, text: str | bytes) -> int:
    """Append raw text at the end of a table; return the physical line it starts on."""
    path = csv_path(root, table)
    data = path.read_bytes()
    if not data.endswith(b"\n"):
        data += b"\n"
    line = data.count(b"\n") + 1
    path.write_bytes(data + (text.encode("utf-8") if isinstance(text, str) else text))
    return line


def append_row(root: Path, table: str, **changes: str) -> int:
    """Append a copy of the table's first row with `changes`, made unique where needed."""
    row = first_row(root, table) | changes
    return append_text(root, table, to_csv(list(row.values())))


def unique_indicator_row(**changes: str) -> dict[str, str]:
    """Changes that give a copied indicators row a primary key of its own."""
    return {"period_start": "1901-01-01", "period_end": "1901-12-31"} | changes


def located(err: dict) -> tuple[str | None, str | None]:
    """The error's resource and the file it points to."""
    return err["resource"], err["path"]


def errors_of(output: dict, code: str) -> list[dict]:
    return [e for e in output["errors"] if e["code"] == code]


def assert_error(
    root: Path,
    code: str,
    resource: str | None,
    line: int | None,
    field: str | None = None,
    status: int = 1,
) -> dict:
    status_found, output = run(root)
    assert status_found == status, output
    matches = [
        e
        for e in errors_of(output, code)
        if e["resource"] == resource
        and e["line"] == line
        and (field is None or e["field"] == field)
    ]
    assert matches, f"no {code} at {resource}:{line} in {output['errors']}"
    assert output["valid"] is False
    return matches[0]


# ----------------------------------------------------------------------------- baseline
def test_the_copied_package_is_valid(package_copy):
    status, output = run(package_copy)
    assert (status, output["errors"]) == (0, [])
    assert output["stats"]["tables"] == 6 and output["stats"]["rows"] > 0


# ----------------------------------------------------------------------------- fields
def test_blank_required_cell(package_copy):
    line = append_row(package_copy, "indicators", **unique_indicator_row(evidence=""))
    err = assert_error(package_copy, "constraint-error", "indicators", line, "evidence")
    assert "required" in err["message"]


def test_text_in_number_field(package_copy):
    line = append_row(package_copy, "indicators", **unique_indicator_row(value="12,5 mln"))
    err = assert_error(package_copy, "type-error", "indicators", line, "value")
    assert "'12,5 mln'" in err["message"] and "number" in err["message"]


@pytest.mark.parametrize(
    "date",
    [
        "2025-02-30",
        "2023-02-29",
        "0000-01-01",
        "2025-1-01",
        "2025/01/01",
        " 2025-01-01",
        "２０２５-01-01",
    ],
)
def test_impossible_date(package_copy, date):
    """Impossible days, year 0 (none in Frictionless), other shapes, non-ASCII digits."""
    line = append_row(
        package_copy,
        "indicators",
        **unique_indicator_row(period_start=date, period_end="2025-03-31"),
    )
    err = assert_error(package_copy, "type-error", "indicators", line, "period_start")
    assert repr(date) in err["message"]


def test_value_outside_enum(package_copy):
    line = append_row(package_copy, "indicators", **unique_indicator_row(unit="USD billion"))
    err = assert_error(package_copy, "constraint-error", "indicators", line, "unit")
    assert "USD billion" in err["message"] and "USD million" in err["message"]


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("1e400", "out of range"),
        ("-1e400", "out of range"),
        ("NaN", "NaN and infinities are refused"),
        ("INF", "NaN and infinities are refused"),
        ("-INF", "NaN and infinities are refused"),
    ],
)
def test_non_finite_number_is_a_type_error(package_copy, value, reason):
    line = append_row(package_copy, "indicators", **unique_indicator_row(value=value))
    status, output = run(package_copy)
    assert status == 1
    (err,) = output["errors"]  # one error per cell: the reason, not also "not a number"
    assert (err["code"], err["resource"], err["line"], err["field"]) == (
        "type-error",
        "indicators",
        line,
        "value",
    )
    assert repr(value) in err["message"] and reason in err["message"]


def test_largest_finite_number_is_valid(package_copy):
    append_row(package_copy, "indicators", **unique_indicator_row(value="1.7e308"))
    status, output = run(package_copy)
    assert (status, output["errors"]) == (0, [])


def test_pattern_and_minimum(package_copy):
    line = append_row(
        package_copy, "indicators", **unique_indicator_row(from_country="aze", value="-3")
    )
    assert_error(package_copy, "constraint-error", "indicators", line, "from_country")
    assert_error(package_copy, "constraint-error", "indicators", line, "value")


# ----------------------------------------------------------------------------- table, package
def test_duplicate_primary_key(package_copy):
    line = append_row(package_copy, "indicators")
    err = assert_error(package_copy, "primary-key", "indicators", line)
    assert "repeats line 2" in err["message"]


def test_broken_foreign_key(package_copy):
    line = append_row(
        package_copy, "indicators", **unique_indicator_row(source_id="no-such-source")
    )
    err = assert_error(package_copy, "foreign-key", "indicators", line, "source_id")
    assert "no-such-source" in err["message"] and "sources.source_id" in err["message"]


# ----------------------------------------------------------------------------- rows
def test_extra_cell(package_copy):
    row = list(first_row(package_copy, "visits").values())
    line = append_text(package_copy, "visits", to_csv([*row, "surplus"]))
    assert_error(package_copy, "extra-cell", "visits", line)


def test_missing_cell(package_copy):
    row = list(first_row(package_copy, "visits").values())
    line = append_text(package_copy, "visits", to_csv(row[:-1]))
    assert_error(package_copy, "missing-cell", "visits", line)


def test_unterminated_quote(package_copy):
    row = list(first_row(package_copy, "visits").values())
    line = append_text(package_copy, "visits", to_csv(row[:-1])[:-1] + ',"no closing quote\n')
    err = assert_error(package_copy, "source-error", "visits", line)
    assert "quote" in err["message"]


def test_blank_row(package_copy):
    row = first_row(package_copy, "visits") | {"visit_id": "blank-row-test"}
    line = append_text(package_copy, "visits", "\n" + to_csv(list(row.values())))
    assert_error(package_copy, "blank-row", "visits", line)


VISIT_DOMAIN_RULES = {  # bad visit rows: (changes, code, field reported)
    "end-before-start": (
        {"date_start": "2020-05-10", "date_end": "2020-05-09", "date_precision": "day"},
        "date-order",
        "date_end",
    ),
    "unknown-country-code": ({"host_country": "XKZ"}, "codelist-error", "host_country"),
    # a word of the code list's comment line, once read as a code
    "word-of-the-codelist-comment": ({"host_country": "ISO"}, "codelist-error", "host_country"),
    "month-precision-not-first-of-month": (
        {"date_start": "2020-05-10", "date_end": "2020-05-10", "date_precision": "month"},
        "date-precision",
        "date_start",
    ),
}


@pytest.mark.parametrize("case", list(VISIT_DOMAIN_RULES))
def test_visit_domain_rules(package_copy, case):
    changes, code, field = VISIT_DOMAIN_RULES[case]
    line = append_row(package_copy, "visits", visit_id=case, **changes)
    assert_error(package_copy, code, "visits", line, field)


@pytest.mark.one_validation_path(reason="no package is validated")
def test_the_shipped_country_codes_are_iso_3166_alpha_3_codes_only():
    codes = iso3_codes()
    assert all(re.fullmatch("[A-Z]{3}", code) for code in codes), codes
    assert len(codes) == len(set(codes)) == 249  # Debian iso-codes' ISO 3166-1 entries
    assert {"AZE", "KAZ", "XKX"} - set(codes) == {"XKX"}  # Kosovo has no ISO code


def test_world_is_accepted_as_an_indicators_partner(package_copy):
    """`WLD` (the world, declared in the schema's `codelistAdditions`) is a valid partner."""
    append_row(package_copy, "indicators", **unique_indicator_row(to_country="WLD"))
    status, output = run(package_copy)
    assert (status, output["errors"]) == (0, [])


@pytest.mark.parametrize(
    ("table", "field", "changes"),
    [
        ("indicators", "to_country", unique_indicator_row(to_country="WLX")),  # not ISO, not WLD
        ("indicators", "reporter", unique_indicator_row(reporter="WLD")),  # not widened
        ("visits", "host_country", {"visit_id": "world-visit", "host_country": "WLD"}),
    ],
)
def test_world_code_widens_only_the_partner_fields(package_copy, table, field, changes):
    line = append_row(package_copy, table, **changes)
    assert_error(package_copy, "codelist-error", table, line, field)


def test_period_end_before_start(package_copy):
    line = append_row(package_copy, "indicators", **unique_indicator_row(period_start="1902-01-01"))
    assert_error(package_copy, "date-order", "indicators", line, "period_end")


def test_no_rule_is_inferred_from_a_field_name(package_copy):
    """Rules are declared: without `minimum`, a field named `value` may be negative."""
    for table in ("indicators", "annual_series"):  # a shared field is edited everywhere
        edit_schema(
            package_copy,
            table,
            lambda s: field_named(s, "value")["constraints"].pop("minimum", None),
        )
    append_row(package_copy, "indicators", **unique_indicator_row(value="-5"))
    status, output = run(package_copy)
    assert (status, output["errors"]) == (0, [])


# ----------------------------------------------------------------------------- file
def replace_header(root: Path, table: str, labels: list[str]) -> None:
    path = csv_path(root, table)
    data = path.read_text(encoding="utf-8")
    path.write_text(",".join(labels) + data[data.index("\n") :], encoding="utf-8")


def test_renamed_header(package_copy):
    labels = list(first_row(package_copy, "visits"))
    labels[labels.index("city")] = "town"
    replace_header(package_copy, "visits", labels)
    err = assert_error(package_copy, "incorrect-label", "visits", 1, "city")
    assert "'town'" in err["message"]


def test_swapped_header_columns(package_copy):
    labels = list(first_row(package_copy, "visits"))
    i, j = labels.index("date_start"), labels.index("date_end")
    labels[i], labels[j] = labels[j], labels[i]
    replace_header(package_copy, "visits", labels)
    assert_error(package_copy, "incorrect-label", "visits", 1, "date_start")
    assert_error(package_copy, "incorrect-label", "visits", 1, "date_end")


def test_missing_and_duplicate_labels(package_copy):
    labels = list(first_row(package_copy, "visits"))
    replace_header(package_copy, "visits", labels[:-2] + [labels[0]])
    assert_error(package_copy, "duplicate-label", "visits", 1)
    assert_error(package_copy, "missing-label", "visits", 1, labels[-1])


def test_invalid_utf8_byte(package_copy):
    row = to_csv(list((first_row(package_copy, "visits") | {"visit_id": "bad-byte"}).values()))
    line = append_text(package_copy, "visits", row.encode().replace(b"President", b"Pr\xe9sident"))
    assert_error(package_copy, "encoding-error", "visits", line)


def test_nul_byte(package_copy):
    row = to_csv(list((first_row(package_copy, "visits") | {"visit_id": "nul-byte"}).values()))
    line = append_text(package_copy, "visits", row.replace("President", "Pres\0ident"))
    err = assert_error(package_copy, "source-error", "visits", line)
    assert "NUL" in err["message"]


def test_empty_file(package_copy):
    csv_path(package_copy, "visits").write_bytes(b"")
    err = assert_error(package_copy, "source-error", "visits", None)
    assert "empty" in err["message"]


def test_missing_file(package_copy):
    csv_path(package_copy, "visits").unlink()
    assert_error(package_copy, "scheme-error", "visits", None)


def test_directory_at_resource_path(package_copy):
    csv_path(package_copy, "visits").unlink()
    csv_path(package_copy, "visits").mkdir()
    err = assert_error(package_copy, "source-error", "visits", None)
    assert err["path"] == "data/visits.csv"
    assert "is a directory" in err["message"] and "does not exist" not in err["message"]


def test_named_pipe_at_resource_path_is_never_opened(package_copy):
    """Opening a FIFO blocks until a writer comes; validation must not open it."""
    csv_path(package_copy, "visits").unlink()
    os.mkfifo(csv_path(package_copy, "visits"))
    err = assert_error(package_copy, "source-error", "visits", None)
    assert err["path"] == "data/visits.csv"
    assert "is not a regular file (a named pipe)" in err["message"]


def test_mixed_line_endings(package_copy):
    row = first_row(package_copy, "visits") | {"visit_id": "crlf-row"}
    line = append_text(package_copy, "visits", to_csv(list(row.values()))[:-1] + "\r\n")
    assert_error(package_copy, "source-error", "visits", line)


# ----------------------------------------------------------------------------- descriptor
def schema_errors(root: Path, table: str) -> list[dict]:
    """Validate `root`: exit 2, the first error a schema-error in `schemas/<table>.json`."""
    status, output = run(root)
    assert status == 2
    first = output["errors"][0]
    assert (first["code"], *located(first)) == ("schema-error", table, f"schemas/{table}.json")
    return output["errors"]


def resource(descriptor: dict, name: str) -> dict:
    return next(r for r in descriptor["resources"] if r["name"] == name)


@pytest.mark.parametrize(
    "bad_path",
    ["../outside.csv", "data/../../outside.csv", "/etc/passwd", "https://example.org/visits.csv"],
)
def test_unsafe_resource_path_is_never_opened(package_copy, bad_path):
    edit_descriptor(package_copy, lambda d: resource(d, "visits").update(path=bad_path))
    status, output = run(package_copy)
    assert status == 2
    assert [e["code"] for e in output["errors"]] == ["resource-error"]
    assert bad_path in output["errors"][0]["message"]
    assert located(output["errors"][0]) == ("visits", "datapackage.json")


def test_symlink_escaping_the_package(package_copy, tmp_path):
    outside = tmp_path / "outside.csv"
    outside.write_text("x\n", encoding="utf-8")
    csv_path(package_copy, "visits").unlink()
    csv_path(package_copy, "visits").symlink_to(outside)
    status, output = run(package_copy)
    assert status == 2
    (err,) = errors_of(output, "resource-error")
    assert located(err) == ("visits", "datapackage.json")
    assert "resolves outside the package" in err["message"]


@DESCRIPTOR_ONLY
def test_malformed_datapackage_json(package_copy):
    path = package_copy / "datapackage.json"
    path.write_text(path.read_text(encoding="utf-8")[:-20], encoding="utf-8")
    status, output = run(package_copy)
    assert status == 2
    assert output["errors"][0]["code"] == "package-error"
    assert "not valid JSON" in output["errors"][0]["message"]
    assert located(output["errors"][0]) == (None, "datapackage.json")  # no resource is known


@DESCRIPTOR_ONLY
def test_malformed_schema_json(package_copy):
    schema_path = package_copy / "schemas" / "visits.json"
    schema_path.write_text(schema_path.read_text(encoding="utf-8")[:-20], encoding="utf-8")
    (err,) = schema_errors(package_copy, "visits")
    assert "not valid JSON" in err["message"]


@DESCRIPTOR_ONLY
def test_missing_schema_file(package_copy):
    (package_copy / "schemas" / "visits.json").unlink()
    (err,) = schema_errors(package_copy, "visits")
    assert "not found" in err["message"]


@DESCRIPTOR_ONLY
def test_primary_key_naming_no_field(package_copy):
    edit_schema(package_copy, "visits", lambda s: s.update(primaryKey=["no_such_field"]))
    (err,) = schema_errors(package_copy, "visits")
    assert err["field"] == "no_such_field" and "primaryKey" in err["message"]


@DESCRIPTOR_ONLY
def test_unknown_field_type(package_copy):
    edit_schema(package_copy, "visits", lambda s: s["fields"][1].update(type="datetime-ish"))
    assert "datetime-ish" in schema_errors(package_copy, "visits")[0]["message"]


@DESCRIPTOR_ONLY
def test_foreign_key_to_unknown_resource(package_copy):
    edit_schema(
        package_copy,
        "visits",
        lambda s: s["foreignKeys"][0]["reference"].update(resource="nowhere"),
    )
    assert "nowhere" in schema_errors(package_copy, "visits")[0]["message"]


@DESCRIPTOR_ONLY
def test_unit_field_naming_no_column(package_copy):
    edit_schema(
        package_copy, "indicators", lambda s: field_named(s, "value").update(unitField="units")
    )
    assert "unitField 'units'" in schema_errors(package_copy, "indicators")[0]["message"]


@DESCRIPTOR_ONLY
@pytest.mark.parametrize(
    ("resource_change", "expected"),
    [
        ({"dialect": {"delimiter": ";"}}, "delimiter = ';' is not supported"),
        ({"dialect": {"skipInitialSpace": True}}, "'skipInitialSpace' is not supported"),
    ],
)
def test_dialect_other_than_the_packages_csv_is_refused(package_copy, resource_change, expected):
    descriptor_path = package_copy / "datapackage.json"
    before = {p: p.read_bytes() for p in (package_copy / "data").iterdir()}
    descriptor = json.loads(descriptor_path.read_text(encoding="utf-8"))
    resource = next(r for r in descriptor["resources"] if r["name"] == "visits")
    for key, value in resource_change.items():
        resource[key] = {**resource.get(key, {}), **value} if isinstance(value, dict) else value
    descriptor_path.write_text(json.dumps(descriptor), encoding="utf-8")
    status, output = run(package_copy)
    assert status == 2
    (err,) = output["errors"]
    assert (err["code"], err["resource"], err["path"]) == (
        "dialect-error",
        "visits",
        "datapackage.json",
    )
    assert expected in err["message"]
    assert before == {p: p.read_bytes() for p in (package_copy / "data").iterdir()}


@DESCRIPTOR_ONLY
def test_missing_package_is_exit_2(tmp_path):
    status, output = run(tmp_path)
    assert status == 2 and output["errors"][0]["code"] == "package-error"


# ----------------------------------------------------------------------------- valid variants
def test_crlf_line_endings_are_valid(package_copy):
    for path in (package_copy / "data").glob("*.csv"):
        path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    status, output = run(package_copy)
    assert (status, output["errors"]) == (0, [])


def test_utf8_bom_is_valid(package_copy):
    path = csv_path(package_copy, "visits")
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    status, output = run(package_copy)
    assert (status, output["errors"]) == (0, [])


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_quoted_cells_keep_physical_lines(package_copy, newline):
    """A cell with comma, quote, newline and non-Latin letters is valid; an error on a
    later row is reported at its physical line, counting the embedded newlines."""
    append_row(package_copy, "indicators", **unique_indicator_row(note=NASTY_TEXT))
    status, output = run(package_copy)
    assert (status, output["errors"]) == (0, [])
    bad_line = append_row(
        package_copy,
        "indicators",
        **unique_indicator_row(period_start="1903-01-01", period_end="1903-12-32", note=NASTY_TEXT),
    )
    path = csv_path(package_copy, "indicators")
    path.write_bytes(path.read_bytes().replace(b"\n", newline.encode()))
    physical = path.read_bytes()[: path.read_bytes().index(b"1903-12-32")].count(b"\n") + 1
    assert physical == bad_line
    status, output = run(package_copy)
    assert status == 1
    assert [(e["code"], e["line"], e["field"]) for e in output["errors"]] == [
        ("type-error", bad_line, "period_end")
    ]


# ----------------------------------------------------------------------------- formats
def test_every_bad_cell_is_reported(package_copy):
    lines = [
        append_row(
            package_copy,
            "indicators",
            **unique_indicator_row(
                period_start=f"19{i:02d}-01-01", period_end=f"19{i:02d}-12-31", value="n/a"
            ),
        )
        for i in range(10, 40)
    ]
    status, output = run(package_copy)
    assert status == 1
    assert [e["line"] for e in errors_of(output, "type-error")] == lines


@OUTPUT_ONLY
def test_text_format_groups_and_truncates(package_copy):
    for i in range(10, 40):
        append_row(
            package_copy,
            "indicators",
            **unique_indicator_row(
                period_start=f"19{i:02d}-01-01", period_end=f"19{i:02d}-12-31", value="n/a"
            ),
        )
    result = CliRunner().invoke(main, ["validate", str(package_copy)])
    assert result.exit_code == 1
    assert "data/indicators.csv: 30 errors" in result.output
    assert "type-error: and 10 more" in result.output
    assert "\033[" not in result.output  # plain when not a terminal
    assert result.output.rstrip().endswith("(type-error 30)")


@OUTPUT_ONLY
def test_github_format_and_step_summary(package_copy, tmp_path):
    line = append_row(package_copy, "visits", visit_id="gh-test", date_end="not a date")
    summary = tmp_path / "summary.md"
    result = CliRunner().invoke(
        main,
        ["validate", str(package_copy), "--format", "github"],
        env={"GITHUB_STEP_SUMMARY": str(summary)},
    )
    assert result.exit_code == 1
    assert f"::error file=data/visits.csv,line={line},title=type-error::date_end: " in result.output
    table = summary.read_text(encoding="utf-8")
    assert f"| data/visits.csv | {line} |  | date_end | type-error |" in table


@OUTPUT_ONLY
def test_unwritable_step_summary_is_a_warning(package_copy, tmp_path):
    line = append_row(package_copy, "visits", visit_id="gh-test", date_end="not a date")
    summary = tmp_path / "no_such_dir" / "summary.md"
    result = CliRunner().invoke(
        main,
        ["validate", str(package_copy), "--format", "github"],
        env={"GITHUB_STEP_SUMMARY": str(summary)},
    )
    assert result.exit_code == 1  # the data's status, not a failure of the tool
    assert f"::error file=data/visits.csv,line={line},title=type-error::" in result.stdout
    assert f"warning: could not write the job summary to {summary}" in result.stderr
    assert "unexpected failure" not in result.output and not summary.parent.exists()


@pytest.mark.one_validation_path(reason="a child process: the path setting does not reach it")
def test_closed_pipe_exits_quietly_with_the_validation_status(package_copy):
    """`azkz validate | head`: output larger than the pipe buffer, reader gone after a line."""
    for i in range(1000):
        append_row(
            package_copy,
            "indicators",
            **unique_indicator_row(
                period_start=f"{1000 + i}-01-01", period_end=f"{1000 + i}-12-31", value="n/a"
            ),
        )
    process = subprocess.Popen(
        [sys.executable, "-c", "from azkz.cli import main; main()", "validate", str(package_copy)]
        + ["--format", "json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout.readline() == b'{"valid": false,\n'
    process.stdout.close()
    stderr = process.stderr.read()
    assert process.wait(timeout=60) == 1
    assert stderr == b""


@DESCRIPTOR_ONLY
def test_validate_package_api_never_raises(tmp_path):
    (tmp_path / "datapackage.json").write_bytes(b"\xff\xfe not json")
    report = validate_package(tmp_path)
    assert report.exit_code == 2 and not report.valid
    assert set(report.errors[0]) == {
        "resource",
        "path",
        "line",
        "column",
        "field",
        "code",
        "message",
    }


# ----------------------------------------------------------------------------- random mutations
MUTATION_BYTES = st.binary(min_size=0, max_size=12) | st.sampled_from(
    [b'"', b",", b"\n", b"\r\n", b"\r", b"\x00", b"\xff", b'""', "ə қ ю".encode(), b"2025-02-30"]
)


def mutation_examples(count: int):
    """Hypothesis settings for a test that mutates the (function-scoped) package copy."""
    return settings(
        max_examples=count,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )


def mutate_table(data, root: Path, tables: list[str]) -> tuple[Path, bytes]:
    """Replace up to 20 bytes at a random place of one of `tables` by awkward ones;
    return the file and its original bytes, to put back."""
    path = csv_path(root, data.draw(st.sampled_from(tables)))
    original = path.read_bytes()
    position = data.draw(st.integers(0, len(original)))
    cut = data.draw(st.integers(0, 20))
    path.write_bytes(original[:position] + data.draw(MUTATION_BYTES) + original[position + cut :])
    return path, original


@pytest.mark.one_validation_path(
    reason="test_random_mutations_give_the_same_errors_on_both_paths compares the paths"
)
@mutation_examples(30)
@given(data=st.data())
def test_random_mutations_never_crash(package_copy, data):
    path, original = mutate_table(data, package_copy, ["indicators", "visits", "sources"])
    status, output = run(package_copy)
    assert status in (0, 1, 2)
    assert output["valid"] == (status == 0)
    path.write_bytes(original)


# ----------------------------------------------------------------------------- declared curation rules
def rows_where(root: Path, table: str, **wanted: str) -> list[dict[str, str]]:
    with csv_path(root, table).open(newline="", encoding="utf-8") as f:
        return [r for r in csv.DictReader(f) if all(r[k] == v for k, v in wanted.items())]


def test_a_source_no_row_uses(package_copy):
    line = append_row(package_copy, "sources", source_id="zz-never-cited")
    err = assert_error(package_copy, "unused-key", "sources", line, "source_id")
    assert "zz-never-cited" in err["message"] and "indicators" in err["message"]


def test_an_indicator_code_no_row_uses(package_copy):
    line = append_row(package_copy, "indicator_definitions", indicator="zz_never_used")
    assert_error(package_copy, "unused-key", "indicator_definitions", line, "indicator")


def test_non_directional_pairs_are_alphabetical(package_copy):
    code = rows_where(package_copy, "indicator_definitions", directional="false")[0]["indicator"]
    changes = unique_indicator_row(indicator=code, from_country="KAZ", to_country="AZE")
    line = append_row(package_copy, "indicators", **changes)
    err = assert_error(package_copy, "pair-order", "indicators", line, "to_country")
    assert "alphabetical" in err["message"]


def test_directional_pairs_may_go_either_way_but_not_to_themselves(package_copy):
    code = rows_where(package_copy, "indicator_definitions", directional="true")[0]["indicator"]
    append_row(
        package_copy,
        "indicators",
        **unique_indicator_row(indicator=code, from_country="KAZ", to_country="AZE"),
    )
    status, output = run(package_copy)
    assert (status, output["errors"]) == (0, [])
    same = unique_indicator_row(
        indicator=code, from_country="AZE", to_country="AZE", period_start="1902-01-01"
    )
    line = append_row(package_copy, "indicators", **same)
    err = assert_error(package_copy, "pair-order", "indicators", line, "to_country")
    assert "same thing" in err["message"]


def test_evidence_of_spaces_only(package_copy):
    line = append_row(package_copy, "visits", visit_id="zz-visit", evidence="   ")
    assert_error(package_copy, "blank-text", "visits", line, "evidence")


@pytest.mark.parametrize("status", ["signed", ""])
def test_an_entry_into_force_needs_a_status_that_says_so(package_copy, status):
    line = append_row(
        package_copy,
        "agreements",
        agreement_id="zz-eif",
        status=status,
        entry_into_force="2001-01-01",
    )
    err = assert_error(package_copy, "filled-requires", "agreements", line, "entry_into_force")
    assert "status must be one of in force, expired, terminated" in err["message"]


def test_an_entry_into_force_with_a_status_that_says_so_passes(package_copy):
    append_row(
        package_copy,
        "agreements",
        agreement_id="zz-eif",
        status="expired",
        entry_into_force="2001-01-01",
    )
    status, output = run(package_copy)
    assert (status, output["errors"]) == (0, [])


@DESCRIPTOR_ONLY
@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda s: s.update(orderedFields=[["period_start", "nope"]]), "orderedFields entry"),
        (
            lambda s: s["orderedPairs"][0]["unless"].update(flag="nope"),
            "'unless' flag 'nope' is not a field",
        ),
        (lambda s: field_named(s, "reporter").update(codelist="ISO 639"), "codelist 'ISO 639'"),
        (
            lambda s: field_named(s, "to_country").update(codelistAdditions=["WLD"]),
            "codelistAdditions must be an object",
        ),
        (
            lambda s: field_named(s, "note").update(codelistAdditions={"WLD": "World"}),
            "beside a codelist",
        ),
        (lambda s: field_named(s, "period_end").update(precisionField="nope"), "precisionField"),
        (lambda s: field_named(s, "note").update(whenFilled={"field": "nope"}), "whenFilled"),
        (lambda s: s.update(foo=1), "schema property 'foo' is not supported"),
        (lambda s: field_named(s, "value").update(jsonSchema={}), "property 'jsonSchema'"),
    ],
)
def test_a_declaration_naming_nothing_is_a_schema_error(package_copy, change, expected):
    edit_schema(package_copy, "indicators", change)
    messages = [e["message"] for e in schema_errors(package_copy, "indicators")]
    assert any(expected in m for m in messages), messages


@DESCRIPTOR_ONLY
@pytest.mark.parametrize(
    "bad",
    [
        "NA",
        [1],
        {"value": "NA"},
        None,
        [{"value": "NA"}, "-"],
        [{"value": "NA", "note": "x"}],
        [{"value": "NA"}, {"value": "NA", "label": "n/a"}],
        [{"value": "NA", "label": "x"}, {"value": "-", "label": "x"}],
        [{"label": "x"}],
    ],
    ids=[
        "text",
        "number",
        "object",
        "null",
        "mixed-forms",
        "other-key",
        "repeated-value",
        "repeated-label",
        "no-value",
    ],
)
@pytest.mark.parametrize("level", ["field", "schema"])
def test_missing_values_that_are_not_a_list_of_strings_are_a_schema_error(package_copy, bad, level):
    holder = (lambda s: field_named(s, "note")) if level == "field" else (lambda s: s)
    edit_schema(package_copy, "indicators", lambda s: holder(s).update(missingValues=bad))
    [problem] = schema_errors(package_copy, "indicators")
    assert problem["field"] == ("note" if level == "field" else None)
    where = "indicators.note" if level == "field" else "indicators"
    assert problem["message"] == (
        f'{where}: missingValues must be a list of strings (such as ["", "NA"]; [] for none) '
        f'or of objects (such as {{"value": "NA", "label": "not available"}}) with distinct '
        f"values and labels, not {json.dumps(bad)}"
    )


@DESCRIPTOR_ONLY
@pytest.mark.parametrize(
    ("field", "expected"),
    [
        # Frictionless has no length for points and GeoJSON, and no enum for lists.
        ({"type": "geopoint", "constraints": {"maxLength": 2}}, "maxLength is not supported"),
        ({"type": "geojson", "constraints": {"minLength": 1}}, "minLength is not supported"),
        ({"type": "list", "constraints": {"enum": ["a"]}}, "enum is not supported"),
        ({"type": "object", "constraints": {"enum": ["[1]"]}}, "enum entry '[1]' is not an object"),
        ({"type": "geopoint", "constraints": {"enum": [{"lon": 1, "lat": 2}]}}, "is not a point"),
        ({"type": "geopoint", "format": "lonlat"}, "format 'lonlat' is not supported"),
        ({"type": "date", "format": "any"}, "format 'any' is not supported"),
        ({"type": "string", "unknownProperty": ["NA"]}, "property 'unknownProperty'"),
        ({"type": "list", "itemType": "year"}, "itemType 'year' is not supported"),
    ],
)
def test_what_the_validator_cannot_check_is_refused(package_copy, field, expected):
    edit_schema(
        package_copy, "indicators", lambda s: field_named(s, "note").update(field, name="note")
    )
    messages = [e["message"] for e in schema_errors(package_copy, "indicators")]
    assert any(expected in m for m in messages), messages
