"""`missingValues` at every level Table Schema v2 allows: the schema's list, a field's own
list (which replaces the schema's for that field) and `[]` (nothing is missing).

Validation of each is in the conformance suite (tests/conformance/missing-values*,
both paths, compared with Frictionless); here: every type's empty cell when nothing
is missing, the read path each schema takes, and a package with fields of their own
through build, query and the data dictionary.
"""

from __future__ import annotations

import csv
import io
import json
import warnings
from pathlib import Path

import duckdb
import pytest

from azkz.publish.docs import data_dictionary
from azkz.release import build
from azkz.schema import fields
from azkz.schema.package import read_package
from azkz.tables.typed import raw_csv_sql
from azkz.validate import profile
from azkz.validate.package import validate_package
from tests.helpers import ROOT, copy_package, edit_schema, field_named, invoke, release_dir

TYPES = list(fields.TYPES)  # every Table Schema type


def every_type_package(root: Path) -> Path:
    """One row of empty cells, one field per type (and constraints), `missingValues: []`."""
    columns = [{"name": t, "type": t} for t in TYPES] + [
        {"name": "int_list", "type": "list", "itemType": "integer"},
        {"name": "email", "type": "string", "format": "email"},
        {"name": "min_length", "type": "string", "constraints": {"minLength": 1}},
        {"name": "enum", "type": "string", "constraints": {"enum": ["a"]}},
        {"name": "pattern", "type": "string", "constraints": {"pattern": "a+"}},
        {"name": "required", "type": "string", "constraints": {"required": True}},
    ]
    schema = {"fields": columns, "missingValues": []}
    resource = {"name": "t", "path": "data/t.csv", "schema": schema}
    descriptor = {"name": "every-type", "resources": [resource]}
    (root / "data").mkdir(parents=True)
    (root / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
    header = ",".join(f["name"] for f in columns)
    (root / "data" / "t.csv").write_text(f"{header}\n{',' * (len(columns) - 1)}\n", "utf-8")
    return root


@pytest.mark.parametrize("path", ["loaded", "profiled"])
def test_with_nothing_missing_an_empty_cell_is_read_as_frictionless_reads_it(
    tmp_path, path, monkeypatch
):
    import frictionless

    if path == "profiled":
        monkeypatch.setattr(profile, "PROFILE_MIN_BYTES", 0)
    root = every_type_package(tmp_path / "pkg")
    found = {(e["code"], e["field"]) for e in validate_package(root).errors}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = frictionless.validate(str(root / "datapackage.json"))
    theirs = {(e.type, e.field_name) for t in result.tasks for e in t.errors}
    assert found == theirs
    # An empty text is a string, a list of one empty string and an `any`; it meets
    # `required`; it breaks a minimum length, an enum and a pattern it does not match.
    valid = {"string", "list", "any", "required"}
    constrained = {"min_length", "enum", "pattern"}
    assert {name for _code, name in found} == set(TYPES) - valid | {"int_list", "email"} | (
        constrained
    )
    assert {name for code, name in found if code == "constraint-error"} == constrained


def test_the_shipped_tables_are_read_on_the_fast_path():
    """Every table here uses the schema's list: DuckDB's `nullstr`, no projection (the
    speed target in benchmarks/validate.md is measured on it)."""
    package = read_package(ROOT)
    for table in package.stored_tables:
        sql = raw_csv_sql(package.file(table), table)
        assert sql.startswith("read_csv(") and "nullstr=[''" in sql, table.name


def test_a_fields_own_list_is_applied_to_that_column_only(tmp_path):
    root = tmp_path / "pkg"
    (root / "data").mkdir(parents=True)
    schema = {
        "fields": [
            {"name": "a", "type": "string", "missingValues": ["-"]},
            {"name": "b", "type": "string"},
            {"name": "c", "type": "string", "missingValues": []},
        ],
        "missingValues": ["", "NA"],
    }
    descriptor = {"name": "p", "resources": [{"name": "t", "path": "data/t.csv", "schema": schema}]}
    (root / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
    (root / "data" / "t.csv").write_text('a,b,c\n-,-,-\nNA,NA,NA\n,,\n"-","NA",""\n', "utf-8")
    table = read_package(root).table("t")
    rows = duckdb.sql(f"SELECT * FROM {raw_csv_sql(root / 'data' / 't.csv', table)}").fetchall()
    assert rows == [
        (None, "-", "-"),
        ("NA", None, "NA"),
        ("", None, ""),
        (None, None, ""),  # quoted or not, a missing value is missing (as in Frictionless)
    ]


# --- a package whose fields have lists of their own, built and queried -----------------

# `projects.capacity_value` is missing where it says "n/a"; `projects.name_ru` is never
# missing, so its empty cells are empty texts.
CAPACITY_MISSING = ["n/a"]


@pytest.fixture(scope="module")
def own_lists(tmp_path_factory) -> Path:
    root = copy_package(tmp_path_factory.mktemp("own-lists") / "pkg")

    def own_lists(schema):
        field_named(schema, "capacity_value")["missingValues"] = CAPACITY_MISSING
        field_named(schema, "name_ru")["missingValues"] = []

    edit_schema(root, "projects", own_lists)
    data = root / "data" / "projects.csv"
    rows = list(csv.DictReader(io.StringIO(data.read_text("utf-8"), newline="")))
    for row in rows:
        row["capacity_value"] = row["capacity_value"] or "n/a"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    data.write_text(out.getvalue(), "utf-8")
    build.build_release(root, root / "dist")
    return root


def source_counts(root: Path) -> tuple[int, int]:
    """(cells "n/a" in capacity_value, empty name_ru cells) in the working tree's CSV."""
    with (root / "data" / "projects.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    return (
        sum(r["capacity_value"] == "n/a" for r in rows),
        sum(r["name_ru"] == "" for r in rows),
    )


COUNTS = (
    "SELECT count(*) FILTER (WHERE capacity_value IS NULL) AS no_capacity, "
    "count(*) FILTER (WHERE name_ru = '') AS empty_name, "
    "count(*) FILTER (WHERE name_ru IS NULL) AS no_name FROM {}"
)


def test_parquet_and_duckdb_hold_null_for_missing_and_empty_text_for_a_value(own_lists):
    not_available, empty_names = source_counts(own_lists)
    assert not_available > 0 and empty_names > 0  # the fixture exercises both
    release = release_dir(own_lists)
    parquet = release / "data" / "projects.parquet"
    db = duckdb.connect(str(next(release.glob("*.duckdb"))), read_only=True)
    expected = [(not_available, empty_names, 0)]
    assert duckdb.sql(COUNTS.format(f"read_parquet('{parquet}')")).fetchall() == expected
    assert db.execute(COUNTS.format("projects")).fetchall() == expected


def test_the_release_csv_writes_a_missing_value_as_its_field_reads_it(own_lists):
    release = release_dir(own_lists)
    with (release / "data" / "projects.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert sum(r["capacity_value"] == "n/a" for r in rows) == source_counts(own_lists)[0]
    assert "" not in {r["capacity_value"] for r in rows}
    text = (release / "data" / "projects.csv").read_text("utf-8")
    assert ',"",' in text  # an empty name_ru is quoted: a value, not an empty cell
    report = validate_package(release)
    assert report.valid, report.errors


def test_query_sees_the_same_values_as_the_release(own_lists):
    not_available, empty_names = source_counts(own_lists)
    result = invoke(
        "query", COUNTS.format("projects"), "--format", "json", "--package", str(own_lists)
    )
    assert result.exit_code == 0, result.output
    assert list(json.loads(result.output)[0].values()) == [not_available, empty_names, 0]


def test_the_data_dictionary_shows_a_fields_own_missing_values(own_lists):
    text = data_dictionary(read_package(own_lists))
    assert "Missing values are empty cells unless a field's allowed values say otherwise" in text
    projects = text.split("## `projects`")[1].split("\n## ")[0].splitlines()
    capacity = next(line for line in projects if line.startswith("| `capacity_value`"))
    assert "missing: `n/a`" in capacity
    name_ru = next(line for line in projects if line.startswith("| `name_ru`"))
    assert "never missing: an empty cell is an empty text" in name_ru
