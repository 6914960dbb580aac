"""The package as a whole: descriptor, schemas, CSV files, keys (fast, offline)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import frictionless
import pytest

ROOT = Path(__file__).resolve().parents[1]
DESCRIPTOR = json.loads((ROOT / "datapackage.json").read_text(encoding="utf-8"))
RESOURCES = {r["name"]: r for r in DESCRIPTOR["resources"]}
TABLES = list(RESOURCES)


def schema_of(name: str) -> dict:
    return json.loads((ROOT / RESOURCES[name]["schema"]).read_text(encoding="utf-8"))


def rows_of(name: str) -> list[dict]:
    with open(ROOT / RESOURCES[name]["path"], encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_descriptor_loads():
    pkg = frictionless.Package(str(ROOT / "datapackage.json"))
    assert pkg.name == "azerbaijan-kazakhstan-relations"
    assert {r.name for r in pkg.resources} == {
        "sources",
        "indicator_definitions",
        "indicators",
        "agreements",
        "projects",
        "visits",
    }


@pytest.mark.parametrize("name", TABLES)
def test_schema_loads(name):
    schema = frictionless.Schema.from_descriptor(str(ROOT / RESOURCES[name]["schema"]))
    assert schema.field_names, name
    assert schema.primary_key, name
    for field in schema.fields:
        assert field.description, f"{name}.{field.name} has no description"


def test_package_validates():
    report = frictionless.validate(str(ROOT / "datapackage.json"))
    errors = [(t.name, e.type, e.message) for t in report.tasks for e in t.errors]
    assert report.valid, errors[:20]


@pytest.mark.parametrize("name", TABLES)
def test_csv_bytes_utf8_lf_header(name):
    raw = (ROOT / RESOURCES[name]["path"]).read_bytes()
    text = raw.decode("utf-8")  # raises on bad encoding
    assert not raw.startswith(b"\xef\xbb\xbf"), "BOM"
    assert b"\r" not in raw, "CR found: files must use LF line endings"
    assert raw.endswith(b"\n")
    header = next(csv.reader([text.split("\n", 1)[0]]))
    assert header == [f["name"] for f in schema_of(name)["fields"]]


def test_csv_files_are_in_canonical_form():
    """Row order is formatting: `azkz fmt --check` (also run by pre-commit and CI)."""
    from azkz.schema.package import read_package
    from azkz.tables.canonical_csv import format_package

    outcomes, problems = format_package(read_package(ROOT), check=True)
    assert problems == []
    assert [o.path for o in outcomes if o.changed] == [], "run `azkz fmt`"


def test_sources_have_url_and_accessed():
    for r in rows_of("sources"):
        assert r["url"].startswith(("http://", "https://")), r["source_id"]
        assert r["accessed"], r["source_id"]


def test_curation_rules_are_declared_for_azkz_validate():
    """The package's curation rules live in the schemas, so `azkz validate` reports them
    with file, line and code (`unused-key`, `pair-order`, `blank-text`, `date-order`,
    `filled-requires`,
    `codelist-error`) and a pull request sees them as annotations; here we only check
    that the declarations stay; tests/test_validate.py checks that the data passes them
    (`test_the_copied_package_is_valid`) and that each one fires."""
    assert schema_of("sources")["mustBeReferenced"] is True  # every source is used
    assert schema_of("indicator_definitions")["mustBeReferenced"] is True  # codes used
    assert schema_of("indicators")["orderedPairs"] == [
        {
            "fields": ["from_country", "to_country"],
            "unless": {
                "field": "indicator",
                "resource": "indicator_definitions",
                "flag": "directional",
            },
        }
    ]
    assert schema_of("indicators")["orderedFields"] == [["period_start", "period_end"]]
    assert schema_of("visits")["orderedFields"] == [["date_start", "date_end"]]
    entry = next(f for f in schema_of("agreements")["fields"] if f["name"] == "entry_into_force")
    assert entry["whenFilled"] == {
        "field": "status",
        "oneOf": ["in force", "expired", "terminated"],
    }
    for name in ("indicators", "agreements", "projects", "visits"):
        evidence = next(f for f in schema_of(name)["fields"] if f["name"] == "evidence")
        assert evidence["notBlank"] is True and evidence["constraints"]["required"], name


def test_no_catch_all_indicator_codes():
    assert not any(r["indicator"].startswith("other") for r in rows_of("indicator_definitions"))


def test_agreement_ids_resolve():
    agreements = {r["agreement_id"] for r in rows_of("agreements")}
    for r in rows_of("projects"):
        if r["agreement_id"]:
            assert r["agreement_id"] in agreements, r["project_id"]


def test_domain_rules_dates_and_precision():
    for r in rows_of("indicators"):
        assert r["period_end"] >= r["period_start"], r
        assert float(r["value"]) >= 0
    for r in rows_of("visits"):
        assert r["date_end"] >= r["date_start"], r["visit_id"]
        if r["date_precision"] == "month":
            assert r["date_start"].endswith("-01") and r["date_end"] == r["date_start"], r[
                "visit_id"
            ]
        if r["date_precision"] == "year":
            assert r["date_start"].endswith("-01-01") and r["date_end"] == r["date_start"], r[
                "visit_id"
            ]
    for r in rows_of("agreements"):
        if r["date_precision"] == "month":
            assert r["signed_date"].endswith("-01"), r["agreement_id"]
        if r["date_precision"] == "year":
            assert r["signed_date"].endswith("-01-01"), r["agreement_id"]
    for r in rows_of("projects"):
        for col in ("start_date", "planned_completion"):
            assert bool(r[col]) == bool(r[col + "_precision"]), (r["project_id"], col)


# Fields that mean the same thing wherever they appear (DESIGN.md: "one source of truth").
# `status`, `kind`, `description`… share a name but not a meaning, so they are not listed.
SHARED_FIELDS = ("source_id", "evidence", "date_precision", "name_en", "name_ru", "summary_en")
ISO3_FIELDS = ("reporter", "from_country", "to_country", "visitor_country", "host_country")


@pytest.mark.parametrize("fname", SHARED_FIELDS)
def test_shared_fields_identical_across_schemas(fname):
    """Every table's definition of a shared field is the same, byte for byte.

    A table's own key (e.g. `sources.source_id`) is exempt: it carries `unique` and
    describes the identifier itself; every reference to it must match the others.
    """
    defs = [
        (t, f)
        for t in TABLES
        for f in schema_of(t)["fields"]
        if f["name"] == fname and fname not in schema_of(t).get("primaryKey", [])
    ]
    assert len(defs) >= 2
    first_table, first = defs[0]
    for table, field in defs[1:]:
        assert field == first, f"{fname}: {table} differs from {first_table}"


def test_country_fields_share_the_iso3_definition():
    defs = [f for t in TABLES for f in schema_of(t)["fields"] if f["name"] in ISO3_FIELDS]
    assert len(defs) == len(ISO3_FIELDS)
    assert {(f["type"], f["constraints"]["pattern"], f["codelist"]) for f in defs} == {
        ("string", "^[A-Z]{3}$", "ISO 3166-1 alpha-3")
    }


def test_every_shared_name_has_one_type():
    names: dict[str, set] = {}
    for t in TABLES:
        for f in schema_of(t)["fields"]:
            names.setdefault(f["name"], set()).add(
                (f["type"], f.get("constraints", {}).get("pattern"))
            )
    assert {n: v for n, v in names.items() if len(v) > 1} == {}


def test_iso3_fields_identical_constraints():
    iso = []
    for name in TABLES:
        for field in schema_of(name)["fields"]:
            if field["name"] in (
                "reporter",
                "from_country",
                "to_country",
                "visitor_country",
                "host_country",
            ):
                iso.append(field["constraints"]["pattern"])
    assert iso and set(iso) == {"^[A-Z]{3}$"}


def test_native_spellings_preserved():
    text = "".join((ROOT / RESOURCES[n]["path"]).read_text(encoding="utf-8") for n in TABLES)
    for ch in "ТоварооборотКурмангазыü":
        assert ch in text


def test_readme_row_counts_match_the_data():
    """The README's table of tables is written by hand; it must not drift from data/."""
    import re

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    stated = {m[1]: int(m[2]) for m in re.finditer(r"^\| `(\w+)` \| (\d+) \|", readme, re.M)}
    assert stated == {name: len(rows_of(name)) for name in TABLES}
