"""Field facts in one table (`azkz.schema.fields`): every part of azkz reads the same facts."""

from __future__ import annotations

import dataclasses

import duckdb
import polars as pl
import pytest

from azkz.diff.schema import _constraint_bump
from azkz.publish.docs import allowed_values
from azkz.publish.site.pages import field_rules
from azkz.schema import fields
from azkz.schema.package import DUCKDB_TYPES, read_package
from azkz.validate import contracts
from azkz.validate.package import validate_package
from tests.helpers import ROOT, edit_schema, field_named


def test_duckdb_types_and_polars_dtypes_agree_for_every_type():
    """The polars dtype is what DuckDB's column type becomes in a frame."""
    con = duckdb.connect()
    for name in fields.TYPES:
        frame = con.sql(f"SELECT CAST(NULL AS {DUCKDB_TYPES[name]}) AS x").pl()
        assert frame.schema["x"] == fields.polars_dtype(name), name


def test_the_dictionary_and_the_site_word_constraints_alike():
    package = read_package(ROOT)
    for table in package.tables:
        for f in table.fields:
            dictionary = set(allowed_values(f, table).split("; ")) | {"required"}
            assert set(field_rules(f)) <= dictionary, (table.name, f.name)


@pytest.mark.parametrize(
    ("key", "before", "after", "bump"),
    [
        ("exclusiveMinimum", 0, 1, "major"),
        ("exclusiveMinimum", 1, 0, "patch"),
        ("exclusiveMaximum", 10, 5, "major"),
        ("minLength", 2, 3, "major"),
        ("maxLength", 3, 2, "major"),
        ("maxLength", 2, 3, "patch"),
        ("enum", ["a"], ["a", "b"], "patch"),
        ("pattern", "^a", "^b", "major"),
    ],
)
def test_diff_reads_the_direction_that_tightens(key, before, after, bump):
    assert _constraint_bump(key, before, after) == bump


@pytest.mark.parametrize(
    ("key", "inside", "outside"),
    [("exclusiveMinimum", 5.5, 5.0), ("exclusiveMaximum", 4.5, 5.0), ("minimum", 5.0, 4.5)],
)
def test_value_bounds_are_in_the_pandera_contract_too(key, inside, outside):
    """The SQL rules and the contract take their bounds from the same table."""
    import pandera.errors
    import pandera.polars as pa

    package = read_package(ROOT)
    f = dataclasses.replace(package.table("indicators").field("value"), constraints={key: 5.0})
    schema = pa.DataFrameSchema({"value": pa.Column(pl.Float64, checks=contracts.field_checks(f))})
    schema.validate(pl.DataFrame({"value": [inside]}))
    with pytest.raises(pandera.errors.SchemaError):
        schema.validate(pl.DataFrame({"value": [outside]}))


def test_an_unknown_constraint_is_a_schema_error(package_copy):
    edit_schema(
        package_copy,
        "indicators",
        lambda schema: field_named(schema, "value")["constraints"].update(multipleOf=5),
    )
    report = validate_package(package_copy)
    assert report.fatal
    assert any(
        e["code"] == "schema-error" and "constraint 'multipleOf' is not supported" in e["message"]
        for e in report.errors
    ), report.errors
