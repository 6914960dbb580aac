"""`azkz.load`: typed data from a release or the working tree, for each engine."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import azkz
from azkz.core.layout import ReleaseError
from azkz.schema.package import read_package
from azkz.validate.package import InvalidPackage
from tests.helpers import csv_records, release_dir


def as_records(data, engine: str) -> list[dict]:
    """Rows as plain Python values, to compare engines with each other."""
    if engine == "pandas":
        data = pa.Table.from_pandas(data, preserve_index=False)
    elif engine == "polars":
        data = data.to_arrow()
    elif engine == "duckdb":
        data = data.to_arrow_table()
    return data.to_pylist()


def in_key_order(records: list[dict], table) -> list[dict]:
    return sorted(records, key=lambda r: [str(r[k]) for k in table.primary_key])


@pytest.mark.parametrize("release", [True, False])
@pytest.mark.parametrize("engine", ["pandas", "polars", "duckdb", "arrow"])
def test_each_engine_returns_typed_equal_data(built_release: Path, engine, release) -> None:
    package = read_package(built_release)
    version = package.version if release else None
    where = {"root": built_release, "dist": built_release / "dist"}
    data = azkz.load("indicators", release=version, engine=engine, **where)
    if engine == "pandas":
        assert isinstance(data, pd.DataFrame)
        assert data["period_start"].dtype == pd.ArrowDtype(pa.date32())
        assert type(data["period_end"].iloc[0]) is dt.date  # not a midnight Timestamp
        assert data["value"].dtype == "float64"
        assert data["indicator"].dtype == "str"  # other columns keep pandas' own dtypes
        assert (data["period_start"].dt.year == [d.year for d in data["period_start"]]).all()
    elif engine == "polars":
        assert isinstance(data, pl.DataFrame)
        assert data.schema["period_start"] == pl.Date
        assert data.schema["value"] == pl.Float64
    elif engine == "duckdb":
        assert isinstance(data, duckdb.DuckDBPyRelation)
        assert dict(zip(data.columns, map(str, data.types), strict=True))["period_end"] == "DATE"
    else:
        assert isinstance(data, pa.Table)
        assert data.schema.field("period_start").type == pa.date32()
    # Compared with the CSV read by the csv module and typed by hand: every engine, from
    # the release's Parquet or the working tree's CSV, holds the same typed rows.
    table = package.table("indicators")
    source = (release_dir(built_release) if release else built_release) / table.path
    assert in_key_order(as_records(data, engine), table) == in_key_order(
        csv_records(source, table), table
    )


def test_release_and_working_tree_hold_the_same_rows(built_release: Path) -> None:
    version = read_package(built_release).version
    for table in read_package(built_release).tables:
        order = table.primary_key
        released = azkz.load(
            table.name, release=version, engine="polars", dist=built_release / "dist"
        )
        working = azkz.load(table.name, engine="polars", root=built_release)
        assert released.sort(order).equals(working.sort(order)), table.name
        assert released.height > 0


def test_booleans_are_booleans(built_release: Path) -> None:
    data = azkz.load("indicator_definitions", engine="polars", root=built_release)
    assert data.schema["directional"] == pl.Boolean


def test_clear_errors_for_unknown_engine_table_and_release(built_release: Path) -> None:
    with pytest.raises(ValueError, match="unknown engine 'spark'"):
        azkz.load("indicators", engine="spark", root=built_release)
    with pytest.raises(ValueError, match="no table 'nope'; tables: .*indicators"):
        azkz.load("nope", root=built_release)
    version = read_package(built_release).version
    dist = built_release / "dist"
    with pytest.raises(ValueError, match="no table 'nope'.*in release"):
        azkz.load("nope", release=version, dist=dist)
    with pytest.raises(ReleaseError, match=f"no release '9.9.9' in {dist} .available: {version}"):
        azkz.load("indicators", release="9.9.9", dist=dist)


def test_invalid_working_tree_is_refused(package_copy: Path) -> None:
    path = package_copy / "data" / "indicators.csv"
    text = path.read_text("utf-8")
    first_row = text.split("\n")[1]
    path.write_text(text.replace(first_row, first_row.replace(",AZE,", ",XYZW,", 1), 1), "utf-8")
    with pytest.raises(InvalidPackage) as caught:
        azkz.load("indicators", root=package_copy)
    assert any(e["line"] == 2 for e in caught.value.report.errors)


def test_a_release_file_that_breaks_the_schema_contract_is_refused(
    built_release: Path, tmp_path: Path
) -> None:
    """An edited release Parquet file (unit outside the enum) is caught by the pandera contract."""
    import shutil

    dist = tmp_path / "dist"
    shutil.copytree(built_release / "dist", dist)
    version = read_package(built_release).version
    parquet = dist / version / "data" / "indicators.parquet"
    con = duckdb.connect()
    edited = con.sql(
        f"SELECT * REPLACE (CASE WHEN row_number() OVER () = 1 THEN 'USD billion' ELSE unit END "
        f"AS unit) FROM read_parquet('{parquet}')"
    ).to_arrow_table()
    con.close()
    import pyarrow.parquet as pq

    pq.write_table(edited, parquet)
    with pytest.raises(ValueError, match=r"indicators breaks its schema's contract .*unit"):
        azkz.load("indicators", release=version, root=built_release, dist=dist)
    assert isinstance(
        azkz.load("visits", release=version, root=built_release, dist=dist), pd.DataFrame
    )


def test_import_azkz_stays_light() -> None:
    """`azkz.load` is resolved lazily, so importing the package loads no data engine."""
    code = "import sys, azkz; print(sorted({'duckdb', 'pandas', 'polars'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    from azkz.access.load import load

    assert azkz.load is load
