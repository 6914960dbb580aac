"""`azkz diff` with a release side: trusted by its SHA256SUMS, read from its Parquet."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import duckdb
import pytest

from azkz.diff import diff_specs
from tests.helpers import copy_package, invoke, release_dir


@pytest.fixture
def dist(built_release: Path, tmp_path: Path) -> Path:
    """A writable copy of the session's release directory (`dist/<version>`)."""
    release = release_dir(built_release)
    return Path(shutil.copytree(release, tmp_path / "dist" / release.name))


def rewrite_parquet(release: Path, sql: str) -> None:
    """Rewrite data/indicators.parquet as `sql` over its rows (`rows`)."""
    path = release / "data" / "indicators.parquet"
    con = duckdb.connect()
    con.execute(f"CREATE TABLE rows AS SELECT * FROM read_parquet('{path}')")
    con.execute(f"COPY ({sql}) TO '{path}' (FORMAT parquet)")
    con.close()


def resum(release: Path, name: str) -> None:
    """Write `name`'s new sha256 into SHA256SUMS, as a release built so would have."""
    sums = release / "SHA256SUMS"
    digest = hashlib.sha256((release / name).read_bytes()).hexdigest()
    lines = [
        f"{digest}  {name}" if line.endswith(f"  {name}") else line
        for line in sums.read_text("utf-8").splitlines()
    ]
    sums.write_text("\n".join(lines) + "\n", "utf-8")


def test_release_and_its_source_tree_are_identical(built_release: Path, tmp_path) -> None:
    """The Parquet side and the CSV side type every cell alike: nothing differs."""
    package = copy_package(tmp_path / "pkg")
    diff = diff_specs(str(release_dir(built_release)), str(package))
    assert diff.bump == "none"
    assert not any(t.has_changes for t in diff.tables)
    assert not diff.schema_changes
    assert {t.name for t in diff.tables} >= {"indicators", "annual_series"}


def test_a_changed_parquet_file_is_refused_by_its_checksum(dist: Path) -> None:
    rewrite_parquet(dist, "SELECT * REPLACE (value + 1 AS value) FROM rows")
    result = invoke("diff", str(dist), str(dist))
    assert result.exit_code == 2
    assert "indicators.parquet" in result.output and "SHA256SUMS" in result.output
    assert "Traceback" not in result.output


def test_rows_come_from_the_parquet_the_checksums_vouch_for(built_release, dist) -> None:
    rewrite_parquet(dist, "SELECT * REPLACE (value * 2 AS value) FROM rows")
    resum(dist, "data/indicators.parquet")
    result = invoke("diff", str(release_dir(built_release)), str(dist), "--format", "json")
    assert result.exit_code == 0, result.output
    tables = {t["name"]: t for t in json.loads(result.output)["tables"]}
    changed = tables["indicators"]
    assert changed["changed"] > 0 and changed["added"] == changed["removed"] == 0
    assert set(changed["field_changes"]) == {"value"}


@pytest.mark.parametrize(
    ("damage", "named"),
    [
        (lambda r: (r / "data" / "visits.parquet").unlink(), "visits.parquet"),
        (lambda r: (r / "SHA256SUMS").write_text("not a checksum line\n", "utf-8"), "line 1"),
        (
            lambda r: (r / "SHA256SUMS").write_text(
                "".join(
                    line + "\n"
                    for line in (r / "SHA256SUMS").read_text("utf-8").splitlines()
                    if not line.endswith("data/sources.parquet")
                ),
                "utf-8",
            ),
            "sources.parquet: not listed in SHA256SUMS",
        ),
    ],
)
def test_a_damaged_release_is_refused_naming_what_is_wrong(dist: Path, damage, named) -> None:
    damage(dist)
    result = invoke("diff", str(dist), str(dist))
    assert result.exit_code == 2, result.output
    assert named in result.output and "old side" in result.output
    assert "Traceback" not in result.output


def strict_json(text: str):
    """JSON as a strict parser reads it: `NaN`, `Infinity` and `-Infinity` are refused."""

    def refuse(constant: str):
        raise ValueError(f"not JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        # NaN and ±Infinity: JSON has no such numbers, so they are null
        (
            "CASE WHEN value > 100 THEN 'NaN'::DOUBLE WHEN value < 1 THEN 'inf'::DOUBLE "
            "ELSE '-inf'::DOUBLE END",
            None,
        ),
        # DECIMAL (a Parquet file written by another tool): a JSON number
        ("CAST(value + 0.125 AS DECIMAL(18, 3))", float),
    ],
)
def test_diff_json_is_strict_json_whatever_the_cells(built_release, dist, cells, expected):
    rewrite_parquet(dist, f"SELECT * REPLACE ({cells} AS value) FROM rows")
    resum(dist, "data/indicators.parquet")
    old = str(release_dir(built_release))
    result = invoke("diff", old, str(dist), "--format", "json", "--examples", "3")
    assert result.exit_code == 0, result.output
    tables = {t["name"]: t for t in strict_json(result.output)["tables"]}
    examples = tables["indicators"]["examples"]["MOD"]
    assert examples, tables["indicators"]
    for entry in examples:
        before, after = entry["changes"]["value"]
        assert isinstance(before, float)
        assert after is None if expected is None else isinstance(after, expected)
    for fmt in ("text", "markdown"):  # the other formats show the same cells as text
        shown = invoke("diff", old, str(dist), "--format", fmt)
        assert shown.exit_code == 0 and "Traceback" not in shown.output, shown.output
