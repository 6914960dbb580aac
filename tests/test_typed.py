"""Typed loads of validated text (`valid_cast_sql`) give the values `cast_sql` gives."""

from __future__ import annotations

import duckdb
import pytest

from azkz.derive.annual_series import derive_tables
from azkz.schema.package import Field, read_package
from azkz.tables.typed import (
    STRING_FORMATS,
    TRUSTED_CASTS,
    cast_sql,
    in_key_order,
    load_tables,
    sort_tables,
    valid_cast_sql,
)
from tests.helpers import ROOT

UUID = "123e4567-e89b-12d3-a456-426614174000"
# Cells of each kind of field, valid and not: only the valid ones (where `cast_sql` gives a
# value) are compared, so the invalid ones check that the test does not compare nothing.
CELLS = {
    ("number", ()): ["1", "+1.5", "-0", ".5", "5.", "1e3", "1E-3", "00012.50", "x", "1e400"],
    ("number", (("groupChar", ","), ("decimalChar", ";"))): ["1,234;5", "12", "1.5"],
    ("number", (("bareNumber", False),)): ["€ 12", "95%", "-3.5 t", "n/a"],
    ("integer", ()): ["7", "+5", "007", "-0", "9223372036854775807", "1.5", "1e3"],
    ("integer", (("groupChar", " "),)): ["1 000 000", "12"],
    ("date", ()): ["2024-02-29", "1990-01-01", "2023-02-29", "0000-01-01", "2024-1-5"],
    ("date", (("format", "%d/%m/%Y"),)): ["29/02/2024", "2024-02-29"],
    ("year", ()): ["2024", "0001", "24", "abcd"],
    **{
        ("string", (("format", form),)): ["", "a@b.io", "https://x.org/y", "abc=", UUID, "a b"]
        for form in STRING_FORMATS
    },
    ("string", ()): ["", "text", " "],
    ("boolean", ()): ["true", "false", "yes"],
    ("datetime", ()): ["2024-01-01T10:00:00Z", "2024-01-01T10:00:00+05:00", "2024-01-01"],
}


@pytest.mark.parametrize(("kind", "props"), list(CELLS))
def test_valid_text_is_read_the_same_without_lexical_checks(kind, props):
    field = Field("x", kind, "", {}, {"name": "x", "type": kind, **dict(props)})
    cells = ", ".join(f"('{c}')" for c in CELLS[kind, props])
    rows = duckdb.sql(
        f"SELECT x, {cast_sql(field)} AS checked, {valid_cast_sql(field)} AS trusted "
        f"FROM (VALUES {cells}) t(x)"
    ).fetchall()
    valid = [(cell, checked, trusted) for cell, checked, trusted in rows if checked is not None]
    assert valid, "no valid cell compared"
    assert [(c, type(t), t) for c, _, t in valid] == [(c, type(v), v) for c, v, _ in valid]


def test_every_type_without_lexical_checks_is_compared():
    assert {kind for kind, _ in CELLS} >= set(TRUSTED_CASTS)


def test_the_shipped_package_loads_the_same_with_valid_casts():
    package = read_package(ROOT)
    con = duckdb.connect()
    for schema, valid in (("checked", False), ("trusted", True)):
        con.execute(f"CREATE SCHEMA {schema}; USE {schema}")
        load_tables(package, con, valid)
        derive_tables(package, con)
    con.execute("USE memory.main")
    for table in package.tables:
        name = f'"{table.name}"'
        rows = con.execute(f"SELECT count(*) FROM checked.{name}").fetchall()[0][0]
        differing = con.execute(
            f"SELECT count(*) FROM (SELECT * FROM checked.{name} "
            f"EXCEPT ALL SELECT * FROM trusted.{name})"
        ).fetchall()[0][0]
        assert rows and differing == 0, table.name


def test_in_key_order_tells_stored_order_from_key_order():
    """The build sorts a table only when its rows are not in key order already."""
    package = read_package(ROOT)
    con = duckdb.connect()
    load_tables(package, con, valid=True)
    derive_tables(package, con)
    sort_tables(package.tables, con)
    for table in package.tables:
        assert in_key_order(table, con) == bool(table.row_key), table.name
    indicators = package.table("indicators")
    [(rows,)] = con.execute("SELECT count(*) FROM indicators").fetchall()
    con.execute("CREATE TABLE sorted AS FROM indicators")
    for first in (0, rows // 2, rows - 2):  # one pair of neighbours swapped, anywhere
        con.execute(
            "CREATE OR REPLACE TABLE indicators AS FROM sorted ORDER BY CASE rowid "
            f"WHEN {first} THEN {first + 1} WHEN {first + 1} THEN {first} ELSE rowid END"
        )
        assert not in_key_order(indicators, con), first
