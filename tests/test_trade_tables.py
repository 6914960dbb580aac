"""`bilateral_trade` and `trade_mirror`: derived from the `annual_series` picks.

Each test adds observations for years no source covers (1901–1903) to a copy of the
package, so the picks are known, and reads the derived tables through `azkz query` on
the working tree (the same derivation as the build's).
"""

from __future__ import annotations

import csv
import json

import pytest

from tests.helpers import copy_package, edit_descriptor, invoke

AZE_DOTS, KAZ_DOTS, NEWS = "imf-dots-aze", "imf-dots-kaz", "azernews-156979"
# (indicator, reporter, from, to, year, value, qualifier, source_id)
OBSERVATIONS = [
    ("exports", "AZE", "AZE", "KAZ", 1901, "10", "", AZE_DOTS),
    ("imports", "AZE", "KAZ", "AZE", 1901, "30", "", NEWS),  # another source than exports
    ("exports", "AZE", "AZE", "WLD", 1901, "1000", "", AZE_DOTS),
    ("imports", "AZE", "WLD", "AZE", 1901, "600", "", AZE_DOTS),
    ("trade_turnover", "AZE", "AZE", "KAZ", 1901, "41", "about", NEWS),
    ("exports", "KAZ", "KAZ", "AZE", 1901, "40", "estimated", KAZ_DOTS),
    ("imports", "KAZ", "AZE", "KAZ", 1901, "11", "", KAZ_DOTS),
    ("exports", "KAZ", "KAZ", "WLD", 1901, "400", "", KAZ_DOTS),
    ("imports", "KAZ", "WLD", "KAZ", 1901, "110", "", KAZ_DOTS),
    ("exports", "AZE", "AZE", "KAZ", 1902, "5", "", AZE_DOTS),
    ("exports", "", "KAZ", "AZE", 1902, "7", "", NEWS),  # no reporter: never used
    ("exports", "AZE", "AZE", "KAZ", 1903, "0", "", AZE_DOTS),
    ("imports", "KAZ", "AZE", "KAZ", 1903, "2", "", KAZ_DOTS),
]


@pytest.fixture(scope="module")
def trade_package(tmp_path_factory):
    """A copy of the package with OBSERVATIONS added (read only: shared by the module)."""
    package_copy = copy_package(tmp_path_factory.mktemp("trade") / "pkg")
    path = package_copy / "data" / "indicators.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        header = next(csv.reader(handle))
    with path.open("a", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, header, lineterminator="\n")
        for (
            indicator,
            reporter,
            origin,
            destination,
            year,
            value,
            qualifier,
            source,
        ) in OBSERVATIONS:
            writer.writerow(
                {
                    "indicator": indicator,
                    "reporter": reporter,
                    "from_country": origin,
                    "to_country": destination,
                    "period_start": f"{year}-01-01",
                    "period_end": f"{year}-12-31",
                    "period_basis": "stated",
                    "value": value,
                    "unit": "USD million",
                    "qualifier": qualifier,
                    "source_id": source,
                    "evidence": "test row",
                }
            )
    return package_copy


def rows(root, sql: str) -> list[dict]:
    result = invoke("query", "--package", str(root), "--format", "json", sql)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


@pytest.fixture(scope="module")
def derived(trade_package) -> dict[str, list[dict]]:
    """Both derived tables' rows of the test years, read once through `azkz query`."""
    return {
        name: rows(trade_package, f"FROM {name} WHERE year < 1910")
        for name in ("bilateral_trade", "trade_mirror")
    }


def bilateral(derived, reporter: str, year: int) -> dict | None:
    found = [
        r for r in derived["bilateral_trade"] if (r["reporter"], r["year"]) == (reporter, year)
    ]
    return found[0] if found else None


def mirror(derived, exporter: str, year: int) -> dict | None:
    found = [r for r in derived["trade_mirror"] if (r["exporter"], r["year"]) == (exporter, year)]
    return found[0] if found else None


def test_turnover_is_empty_with_the_reason_when_the_sources_differ(derived):
    row = bilateral(derived, "AZE", 1901)
    assert (row["exports"], row["imports"]) == (10, 30)
    assert row["turnover"] is None and row["turnover_source_id"] is None
    assert f"turnover: exports ({AZE_DOTS}) and imports ({NEWS}) come from different" in row["note"]
    assert (row["stated_turnover"], row["stated_turnover_source_id"]) == (41, NEWS)
    assert "stated_turnover: about" in row["note"]  # copied with its qualifier named


def test_turnover_and_shares_of_one_source(derived):
    row = bilateral(derived, "KAZ", 1901)
    assert (row["turnover"], row["turnover_source_id"]) == (51, KAZ_DOTS)
    assert row["exports_share_pct"] == 10  # 100 * 40 / 400
    assert row["imports_share_pct"] == 10  # 100 * 11 / 110
    assert row["turnover_share_pct"] == 10  # 100 * 51 / 510
    assert row["partner"] == "AZE"


def test_shares_are_only_of_one_source(derived):
    row = bilateral(derived, "AZE", 1901)
    assert row["exports_share_pct"] == 1  # 100 * 10 / 1000, both AZE DOTS
    assert (row["imports_source_id"], row["world_imports_source_id"]) == (NEWS, AZE_DOTS)
    assert row["imports_share_pct"] is None and row["turnover_share_pct"] is None
    note = row["note"]
    assert "imports_share_pct: imports and world_imports come from different sources" in note
    assert "turnover_share_pct: exports and imports and world_exports and world_imports" in note


def test_estimate_flag(derived):
    assert bilateral(derived, "KAZ", 1901)["estimate"] is True  # exports 'estimated'
    assert "exports: estimated" in bilateral(derived, "KAZ", 1901)["note"]
    assert bilateral(derived, "AZE", 1901)["estimate"] is False
    assert mirror(derived, "KAZ", 1901)["estimate"] is True
    assert mirror(derived, "AZE", 1901)["estimate"] is False


def test_mirror_gap_and_ratio(derived):
    aze = mirror(derived, "AZE", 1901)
    assert (aze["importer"], aze["exports_fob"], aze["imports_cif"]) == ("KAZ", 10, 11)
    assert (aze["exports_fob_source_id"], aze["imports_cif_source_id"]) == (AZE_DOTS, KAZ_DOTS)
    assert (aze["gap"], aze["ratio"]) == (1, 1.1)
    kaz = mirror(derived, "KAZ", 1901)
    assert (kaz["exports_fob"], kaz["imports_cif"], kaz["gap"], kaz["ratio"]) == (40, 30, -10, 0.75)


def test_mirror_is_empty_where_one_side_is_missing(derived):
    row = mirror(derived, "AZE", 1902)
    assert (row["exports_fob"], row["imports_cif"], row["gap"], row["ratio"]) == (
        5,
        None,
        None,
        None,
    )
    assert "imports_cif: the importer's statistics have no figure" in row["note"]
    assert "gap, ratio: one side is missing" in row["note"]
    # the only KAZ -> AZE figure of 1902 names no reporter: it is never used
    assert mirror(derived, "KAZ", 1902) is None


def test_mirror_ratio_is_empty_when_exports_are_zero(derived):
    row = mirror(derived, "AZE", 1903)
    assert (row["gap"], row["ratio"]) == (2, None)
    assert "ratio: exports_fob is 0" in row["note"]


def test_a_year_without_a_figure_of_the_reporter_says_why(derived):
    row = bilateral(derived, "AZE", 1902)
    assert (row["exports"], row["imports"], row["turnover"]) == (5, None, None)
    assert "imports: none of this reporter in annual_series" in row["note"]
    assert "turnover: exports or imports missing" in row["note"]
    assert bilateral(derived, "KAZ", 1902) is None


TRADE_TABLES = ("bilateral_trade", "trade_mirror")


@pytest.mark.parametrize("name", TRADE_TABLES)
def test_in_every_release_format_and_loadable(built_release, name):
    """CSV, Parquet and the .duckdb file hold the same rows, and azkz.load reads them."""
    import duckdb

    import azkz
    from azkz.schema.package import read_package
    from tests.helpers import release_dir

    release = release_dir(built_release)
    package = read_package(release)
    table = package.table(name)
    assert table.derived_from == ["annual_series"]  # the release descriptor says from what
    con = duckdb.connect()
    csv_rows = con.execute(f"SELECT count(*) FROM read_csv('{release / table.path}')").fetchone()
    parquet = release / table.path.replace(".csv", ".parquet")
    parquet_rows = con.execute(f"SELECT count(*) FROM '{parquet}'").fetchone()
    db = duckdb.connect(str(release / f"{package.name}.duckdb"), read_only=True)
    [(db_rows, comment)] = db.execute(
        f"SELECT estimated_size, comment FROM duckdb_tables() WHERE table_name = '{name}'"
    ).fetchall()
    assert csv_rows == parquet_rows == (db_rows,) and db_rows > 0
    assert comment == table.description
    loaded = azkz.load(name, release=package.version, dist=built_release / "dist")
    assert len(loaded) == db_rows


def test_the_trade_tables_cover_both_reporters_1993_to_2020(built_release):
    """From the DOTS rows: both reporters' exports and imports every year 1993–2020."""
    result = invoke(
        "query",
        "--package",
        str(built_release),
        "--format",
        "json",
        "SELECT reporter, count(*) AS years FROM bilateral_trade "
        "WHERE year BETWEEN 1993 AND 2020 AND exports IS NOT NULL AND imports IS NOT NULL "
        "AND turnover IS NOT NULL GROUP BY reporter ORDER BY reporter",
    )
    assert json.loads(result.output) == [
        {"reporter": "AZE", "years": 28},
        {"reporter": "KAZ", "years": 28},
    ]


def test_derived_from_must_name_what_the_derivation_reads(package_copy):
    def change(descriptor):
        entry = next(r for r in descriptor["derivedResources"] if r["name"] == "trade_mirror")
        entry["derivedFrom"] = ["indicators"]

    edit_descriptor(package_copy, change)
    result = invoke("validate", str(package_copy), "--format", "json")
    messages = [e["message"] for e in json.loads(result.output)["errors"]]
    assert result.exit_code == 2  # an unusable descriptor
    assert (
        "trade_mirror: derivedFrom must name what its derivation reads: annual_series" in messages
    )
