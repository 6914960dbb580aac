"""The pandera contracts generated from the schemas: the real typed tables honour them,
and each kind of violation is reported with its Frictionless code."""

from __future__ import annotations

import duckdb
import polars as pl
import pytest

from azkz.derive import derive_tables
from azkz.schema.package import read_package
from azkz.tables.typed import load_tables, raw_csv_sql, typed_select_sql
from azkz.validate import contracts
from azkz.validate.contracts import check_frame, pandera_schema
from tests.helpers import ROOT


@pytest.fixture(scope="module")
def package():
    return read_package(ROOT)


def typed_frame(package, name: str) -> pl.DataFrame:
    """The typed table as `azkz.load` gives it (a derived table computed from the others)."""
    table = package.table(name)
    if not table.virtual:
        return duckdb.sql(typed_select_sql(table, raw_csv_sql(package.file(table), table))).pl()
    con = duckdb.connect()
    load_tables(package, con)
    derive_tables(package, con)
    return con.table(name).pl()


def replace(frame: pl.DataFrame, column: str, row: int, value) -> pl.DataFrame:
    return frame.with_columns(
        pl.when(pl.int_range(pl.len()) == row)
        .then(pl.lit(value, dtype=frame[column].dtype))
        .otherwise(pl.col(column))
        .alias(column)
    )


def test_every_real_table_honours_its_contract(package):
    for table in package.tables:
        assert check_frame(table, typed_frame(package, table.name)) == [], table.name


def test_schema_mirrors_the_table_schema(package):
    table = package.table("indicators")
    schema = pandera_schema(table)
    assert list(schema.columns) == table.field_names
    assert schema.unique == table.primary_key
    assert str(schema.columns["period_start"].dtype) == "Date"
    assert schema.columns["reporter"].nullable and not schema.columns["value"].nullable


@pytest.mark.parametrize(
    ("column", "value", "code"),
    [
        ("unit", "USD bn", "constraint-error"),
        ("from_country", "aze", "constraint-error"),
        ("value", -1.0, "constraint-error"),
        ("evidence", None, "constraint-error"),
    ],
)
def test_cell_violations(package, column, value, code):
    table = package.table("indicators")
    frame = replace(typed_frame(package, "indicators"), column, 3, value)
    errors = check_frame(table, frame)
    assert [(e["code"], e["field"]) for e in errors] == [(code, column)]
    assert errors[0]["message"].startswith("row 3:")


def test_duplicate_key_missing_column_and_wrong_dtype(package):
    table = package.table("visits")
    frame = typed_frame(package, "visits")
    codes = {e["code"] for e in check_frame(table, pl.concat([frame, frame.head(1)]))}
    assert codes == {"primary-key"}
    assert {e["code"] for e in check_frame(table, frame.drop("city"))} == {"missing-label"}
    wrong = frame.with_columns(pl.col("date_start").cast(pl.String))
    assert {e["code"] for e in check_frame(table, wrong)} == {"type-error"}


def test_a_table_checked_in_parts_names_the_rows_of_the_whole_table(package, monkeypatch):
    """Batches and key partitions give the same errors, by table row, as the whole frame."""
    table = package.table("indicators")
    frame = typed_frame(package, "indicators")
    last = frame.height  # the appended copy of row 5: a duplicate primary key
    frame = replace(pl.concat([frame, frame.slice(5, 1)]), "value", last - 2, -1.0)
    con = duckdb.connect()
    con.execute("CREATE TABLE indicators AS SELECT * FROM frame")
    monkeypatch.setattr(contracts, "BATCH_ROWS", 7)  # many batches, many key partitions
    parts = contracts.check_table(table, con)
    whole = check_frame(table, frame)

    def where(errors):  # a key's failure case shows the key columns only when in parts
        return sorted((e["code"], e["field"], e["message"].split(":")[0]) for e in errors)

    assert where(parts) == where(whole)
    assert {(e["code"], e["message"].split(":")[0]) for e in parts} == {
        ("constraint-error", f"row {last - 2}"),
        ("primary-key", "row 5"),
        ("primary-key", f"row {last}"),
    }


def test_the_contract_of_the_cast_columns_reads_and_checks_only_those(package):
    """The build checks the columns a cast made; text columns hold the validated text."""
    table = package.table("indicators")
    frame = replace(typed_frame(package, "indicators"), "value", 3, -1.0)  # minimum 0
    frame = replace(frame, "from_country", 4, "azerbaijan")  # pattern ^[A-Z]{3}$
    con = duckdb.connect()
    con.execute("CREATE TABLE indicators AS SELECT * FROM frame")
    cast = contracts.cast_fields(table)
    assert {f.name for f in cast} == {"period_start", "period_end", "value"}
    every = {(e["field"], e["message"].split(":")[0]) for e in contracts.check_table(table, con)}
    assert every == {("value", "row 3"), ("from_country", "row 4")}
    only_cast = contracts.check_table(table, con, primary_key=False, fields=cast)
    assert {(e["field"], e["message"].split(":")[0]) for e in only_cast} == {("value", "row 3")}


def test_bounds_and_enum_entries_written_as_text_are_read_as_the_field_s_type():
    """The conformance package's string constraints, on its typed rows: the same rows
    fail the contract as fail `azkz validate` (and Frictionless)."""
    root = ROOT / "tests" / "conformance" / "string-constraints"
    pkg = read_package(root)
    table = pkg.table("t")
    frame = duckdb.sql(typed_select_sql(table, raw_csv_sql(pkg.file(table), table))).pl()
    found = {(e["field"], e["message"].split(":")[0]) for e in check_frame(table, frame)}
    assert found == {
        ("value", "row 1"),
        ("year", "row 1"),
        ("day", "row 1"),
        ("stamp", "row 1"),
        ("value", "row 2"),
        ("count", "row 2"),
    }
