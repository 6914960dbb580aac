"""Structured cells (geopoint formats, lists of dates, JSON enums and lengths) and
`missingValues` objects, beyond `azkz validate`: the SQL and Python readings agree, and
a package using them builds, loads, queries and diffs as its schema says."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import polars as pl
import pytest

from azkz.access.load import load
from azkz.diff.schema import table_schema_changes
from azkz.publish.docs import allowed_values
from azkz.publish.site.pages import environment as site_environment
from azkz.publish.site.pages import field_rules
from azkz.release import build
from azkz.schema.package import Field, read_package
from azkz.tables.structured import cell_value, enum_entry, enum_sql, length_sql
from azkz.tables.typed import cast_sql
from azkz.validate import contracts
from azkz.validate.package import validate_package
from tests.helpers import invoke, release_dir

V2 = "https://datapackage.org/profiles/2.0/datapackage.json"
FIELDS = [
    {"name": "id", "type": "integer"},
    {"name": "point", "type": "geopoint", "format": "object", "constraints": {"enum": [[1, 2]]}},
    {"name": "pair", "type": "geopoint", "format": "array"},
    {"name": "days", "type": "list", "itemType": "date", "delimiter": ";"},
    {"name": "tags", "type": "array", "constraints": {"minLength": 1, "maxLength": 2}},
    {"name": "meta", "type": "object", "constraints": {"enum": [{"a": 1, "b": [1]}, "{}"]}},
    {"name": "n", "type": "integer"},
]
ROWS = [
    "id,point,pair,days,tags,meta,n",
    '1,"{""lat"": 2, ""lon"": 1}","[30.5, 40.2]",2020-01-01;2020-02-29,"[""x""]","{""b"": [1.0], ""a"": 1}",NA',
    '2,"{""lon"": 1.0, ""lat"": ""2""}","[""-1"", 0]",2021-12-31,"[1, 2]",{},-',
    "3,,,,,,7",
]
MISSING = [{"value": "", "label": "not stated"}, {"value": "NA", "label": "not available"}]
MISSING += [{"value": "-"}]


def write_package(root: Path, fields=FIELDS, rows=ROWS) -> Path:
    (root / "data").mkdir(parents=True, exist_ok=True)
    (root / "data" / "t.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    schema = {"fields": fields, "primaryKey": ["id"], "missingValues": MISSING}
    resource = {"name": "t", "path": "data/t.csv", "schema": schema}
    # A release's `created` date is the latest `sources.accessed`.
    (root / "data" / "sources.csv").write_text("id,accessed\ns1,2026-01-15\n", encoding="utf-8")
    sources_schema = {"fields": [{"name": "id"}, {"name": "accessed", "type": "date"}]}
    sources_schema["primaryKey"] = ["id"]
    sources = {"name": "sources", "path": "data/sources.csv", "schema": sources_schema}
    descriptor = {"$schema": V2, "name": "structured", "version": "1.0.0"}
    descriptor["resources"] = [resource, sources]
    (root / "datapackage.json").write_text(json.dumps(descriptor, indent=2), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    root = write_package(tmp_path_factory.mktemp("structured") / "pkg")
    build.build_release(root, root / "dist")
    return root


def test_the_package_is_valid_and_its_release_too(built):
    assert validate_package(built).valid
    report = validate_package(release_dir(built))
    assert report.valid, report.errors


def test_parquet_holds_the_cells_text_and_null_for_missing(built):
    parquet = release_dir(built) / "data" / "t.parquet"
    relation = duckdb.sql(f"SELECT * FROM read_parquet('{parquet}') ORDER BY id")
    assert dict(zip(relation.columns, relation.types, strict=True)) == {
        "id": "BIGINT",
        **{name: "VARCHAR" for name in ("point", "pair", "days", "tags", "meta")},
        "n": "BIGINT",
    }
    rows = relation.fetchall()
    assert rows[1][1:6] == ('{"lon": 1.0, "lat": "2"}', '["-1", 0]', "2021-12-31", "[1, 2]", "{}")
    assert rows[2][1:] == (None, None, None, None, None, 7)
    assert [r[6] for r in rows] == [None, None, 7]  # NA and - are missing values


def test_load_honours_the_contract_and_query_reads_the_same(built):
    frame = load("t", root=built, engine="polars")
    assert frame["days"].to_list() == ["2020-01-01;2020-02-29", "2021-12-31", None]
    result = invoke(
        "query",
        "SELECT count(*) AS n FROM t WHERE meta IS NOT NULL",
        "--format",
        "json",
        "--package",
        str(built),
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == [{"n": 2}]


def test_the_contract_compares_as_frictionless_does(tmp_path):
    table = read_package(write_package(tmp_path)).table("t")
    frame = pl.DataFrame(
        {
            "id": [1, 2],
            "point": ['{"lon": 1, "lat": 2}', '{"lon": 2, "lat": 1}'],  # second: not in enum
            "pair": ["[0, 0]", "[0, 0]"],
            "days": ["2020-01-01", "2020-01-01"],
            "tags": ['["a"]', '["a", "b", "c"]'],  # second: more than 2 items
            "meta": [
                '{"b": [true], "a": 1.0}',
                '{"a": 1}',
            ],  # True == 1 == 1.0; second: not in enum
            "n": [None, None],
        },
        schema_overrides={"n": pl.Int64},
    )
    failures = {
        (e["field"], e["message"].split(": ")[0]) for e in contracts.check_frame(table, frame)
    }
    assert failures == {("point", "row 1"), ("tags", "row 1"), ("meta", "row 1")}


# Cells and the enum/length answers Python gives on Frictionless's reading of them.
ENUM_CASES = [
    (
        Field("a", "array", "", {"enum": [[1, 2], '["x", {"k": null}]']}, {"type": "array"}),
        [
            "[1, 2]",
            "[1.0, true]",
            "[2, 1]",
            '["x", {"k": null}]',
            '["x", {"k": 0}]',
            "[]",
            "[1, 2, 3]",
        ],
    ),
    (
        Field("o", "object", "", {"enum": [{"a/b": {"~": "x"}, "n": 1.5}]}, {"type": "object"}),
        ['{"n": 1.5, "a/b": {"~": "x"}}', '{"a/b": {"~": "y"}, "n": 1.5}', '{"n": 1.5}', "{}"],
    ),
    (
        Field("g", "geopoint", "", {"enum": ["1.5, -2", [0, 0]]}, {"type": "geopoint"}),
        ["1.50, -2.0", "0,0", "0, 1", "-2, 1.5"],
    ),
]


@pytest.mark.parametrize(("field", "cells"), ENUM_CASES, ids=lambda v: getattr(v, "type", ""))
def test_the_enum_sql_agrees_with_python_equality(field, cells):
    entries = [enum_entry(field, e) for e in field.constraints["enum"]]
    expected = [cell_value(field, c) not in entries for c in cells]
    assert True in expected and False in expected  # both answers are exercised
    con = duckdb.connect()
    con.execute("CREATE TABLE t (x VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?)", [[c] for c in cells])
    typed = cast_sql(field, "x")
    found = con.execute(f"SELECT {enum_sql(field, f'({typed})')} FROM t ORDER BY rowid").fetchall()
    assert [bool(r[0]) for r in found] == expected


@pytest.mark.parametrize("kind", ["array", "object", "list"])
def test_a_length_counts_items_or_keys(kind):
    field = Field("x", kind, "", {}, {"type": kind, "delimiter": "|"})
    cells = {"array": ["[1, [2, 3]]", "[]"], "object": ['{"a": {"b": 1}}', "{}"]}
    cells["list"] = ["a|b|c", ""]
    con = duckdb.connect()
    rows = con.execute(
        f"SELECT {length_sql(field, 'x')} FROM (SELECT unnest(?) AS x)", [cells[kind]]
    ).fetchall()
    assert [r[0] for r in rows] == [len(cell_value(field, c)) for c in cells[kind]]


def test_the_data_dictionary_shows_the_labels_of_missing_values(tmp_path):
    table = read_package(write_package(tmp_path)).table("t")
    words = allowed_values(table.field("n"), table)
    assert words == "missing: an empty cell (not stated), `NA` (not available), `-`"
    tags = allowed_values(table.field("tags"), table)
    assert tags.startswith("at least 1 item; at most 2 items")


def test_the_site_shows_labels_and_enum_entries_as_json(tmp_path):
    table = read_package(write_package(tmp_path)).table("t")
    assert field_rules(table.field("n"))[-1].startswith("missing: an empty cell (not stated)")
    env = site_environment()
    entries = env.from_string("{% for v in e %}{{ v | enum_text }};{% endfor %}")
    assert entries.render(e=table.field("meta").enum) == "{&#34;a&#34;: 1, &#34;b&#34;: [1]};{};"


def changed(tmp_path: Path, edit) -> list[tuple[str, str]]:
    old = read_package(write_package(tmp_path / "old"))
    fields = json.loads(json.dumps(FIELDS))
    schema_missing = edit(fields)
    root = write_package(tmp_path / "new", fields)
    if schema_missing is not None:
        descriptor = json.loads((root / "datapackage.json").read_text())
        descriptor["resources"][0]["schema"]["missingValues"] = schema_missing
        (root / "datapackage.json").write_text(json.dumps(descriptor))
    _, changes = table_schema_changes(old.table("t"), read_package(root).table("t"))
    return [(c.bump, c.kind) for c in changes]


def test_a_new_item_type_is_major_and_a_new_label_a_patch(tmp_path):
    def item_type(fields):
        fields[3]["itemType"] = "string"

    assert changed(tmp_path / "a", item_type) == [("major", "field property changed")]
    relabelled = [dict(m, label=m.get("label", "") + "!") if m["value"] else m for m in MISSING]
    assert changed(tmp_path / "b", lambda fields: relabelled) == [("patch", "metadata changed")]


def test_a_package_using_them_is_valid_for_frictionless_too(tmp_path):
    import warnings

    import frictionless

    root = write_package(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = frictionless.validate(str(root / "datapackage.json"))
    assert report.valid, report.flatten(["type", "rowNumber", "note"])
