"""`azkz query`, `azkz tables`, `azkz describe`: results, formats and refusals."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from azkz import query
from azkz.cli import main
from azkz.schema import read_package

REFUSED = [
    "COPY sources TO '{tmp}/out.csv'",
    "COPY (SELECT 1) TO '{tmp}/out.parquet' (FORMAT parquet)",
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM read_text('/etc/passwd')",
    "ATTACH '{tmp}/other.duckdb' AS other",
    "INSTALL httpfs",
    "LOAD httpfs",
    "SET enable_external_access = true",
    "CREATE TABLE t AS SELECT 1",
    "DELETE FROM sources",
    "UPDATE sources SET title = 'x'",
    "DROP TABLE sources",
    "EXPORT DATABASE '{tmp}/export'",
    "SELECT 1; DELETE FROM sources",
]


def invoke(*args: str):
    return CliRunner().invoke(main, list(args))


def source_args(root: Path, where: str) -> list[str]:
    version = read_package(root).version
    if where == "release":
        return ["--release", version, "--dist", str(root / "dist")]
    if where == "db":
        return ["--db", str(root / "dist" / version / f"{read_package(root).name}.duckdb")]
    return ["--package", str(root)]


def files_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(path.as_posix().encode() + path.read_bytes())
    return digest.hexdigest()


@pytest.mark.parametrize("where", ["tree", "release", "db"])
def test_select_gives_the_same_rows_everywhere(built_release: Path, where: str) -> None:
    sql = "SELECT indicator, count(*) AS n FROM indicators GROUP BY ALL ORDER BY ALL"
    result = invoke("query", sql, "--format", "csv", *source_args(built_release, where))
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == ["indicator", "n"]
    with (built_release / "data" / "indicators.csv").open(encoding="utf-8", newline="") as f:
        expected = {}
        for row in csv.DictReader(f):
            expected[row["indicator"]] = expected.get(row["indicator"], 0) + 1
    assert {r[0]: int(r[1]) for r in rows[1:]} == expected


@pytest.mark.parametrize("where", ["tree", "release"])
@pytest.mark.parametrize("sql", REFUSED)
def test_refused_statements_exit_2_and_change_nothing(
    built_release: Path, tmp_path: Path, where: str, sql: str
) -> None:
    before = files_digest(built_release)
    result = invoke("query", sql.format(tmp=tmp_path), *source_args(built_release, where))
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: ")
    assert "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []
    assert files_digest(built_release) == before


@pytest.mark.parametrize("where", ["tree", "release"])
def test_duckdb_itself_refuses_file_access_after_lock_down(built_release, tmp_path, where):
    """The statement gate is not the only layer: the connection cannot touch files."""
    if where == "tree":
        source = query.open_working_tree(built_release)
    else:
        source = query.open_release(read_package(built_release).version, built_release / "dist")
    for sql in (
        f"COPY sources TO '{tmp_path}/x.csv'",
        "SELECT * FROM read_csv('/etc/passwd')",
        f"ATTACH '{tmp_path}/y.duckdb'",
        "SET enable_external_access = true",
    ):
        with pytest.raises(duckdb.Error):
            source.con.execute(sql)
    assert list(tmp_path.iterdir()) == []


def test_syntax_error_and_empty_query_are_clear(built_release: Path) -> None:
    result = invoke("query", "SELEC 1", *source_args(built_release, "release"))
    assert result.exit_code == 2 and "syntax error" in result.output.lower()
    result = invoke("query", "  ", *source_args(built_release, "release"))
    assert result.exit_code == 2 and "empty" in result.output


def test_unknown_release_and_missing_db_exit_2(built_release: Path, tmp_path: Path) -> None:
    result = invoke(
        "query", "SELECT 1", "--release", "9.9.9", "--dist", str(built_release / "dist")
    )
    assert result.exit_code == 2
    assert "9.9.9" in result.output and read_package(built_release).version in result.output
    result = invoke("query", "SELECT 1", "--db", str(tmp_path / "none.duckdb"))
    assert result.exit_code == 2 and "no such database file" in result.output


def test_invalid_working_tree_shows_the_report_and_exits_1(package_copy: Path) -> None:
    path = package_copy / "data" / "sources.csv"
    lines = path.read_text("utf-8").split("\n")
    lines[2] = lines[2].replace(",en", ",english", 1).replace(",ru", ",russian", 1)
    path.write_text("\n".join(lines), "utf-8")
    result = invoke("query", "SELECT 1", "--package", str(package_copy))
    assert result.exit_code == 1
    assert "sources" in result.output and "language" in result.output
    assert "--release" in result.output


def test_formats(built_release: Path) -> None:
    sql = (
        "SELECT source_id, published, accessed FROM sources "
        "WHERE published IS NOT NULL ORDER BY source_id LIMIT 2"
    )
    args = source_args(built_release, "release")
    records = json.loads(invoke("query", sql, "--format", "json", *args).stdout)
    assert len(records) == 2 and set(records[0]) == {"source_id", "published", "accessed"}
    assert len(records[0]["published"]) == 10 and records[0]["published"][4] == "-"

    markdown = invoke("query", sql, "--format", "markdown", *args).stdout.splitlines()
    assert markdown[0] == "| source_id | published | accessed |"
    assert markdown[1] == "|---|---|---|" and len(markdown) == 4
    assert records[0]["source_id"] in markdown[2]

    table = invoke("query", sql, *args).stdout
    assert records[0]["source_id"] in table and "2 rows" in table


def test_null_and_empty_are_distinct_in_json(built_release: Path) -> None:
    args = source_args(built_release, "release")
    out = invoke("query", "SELECT NULL AS a, '' AS b, 'ə' AS c", "--format", "json", *args)
    assert json.loads(out.stdout) == [{"a": None, "b": "", "c": "ə"}]


@pytest.mark.parametrize("where", ["tree", "release"])
def test_tables_lists_rows_and_descriptions(built_release: Path, where: str) -> None:
    result = invoke("tables", "--format", "json", *source_args(built_release, where))
    assert result.exit_code == 0, result.output
    listed = {r["table"]: r for r in json.loads(result.stdout)}
    package = read_package(built_release)
    assert set(listed) == {t.name for t in package.tables}
    for table in package.tables:
        with package.file(table).open(encoding="utf-8", newline="") as f:
            records = sum(1 for _ in csv.reader(f)) - 1
        assert listed[table.name]["rows"] == records
        assert listed[table.name]["description"] == table.description


@pytest.mark.parametrize("where", ["tree", "release", "db"])
def test_describe_lists_columns_with_types_units_and_descriptions(built_release, where) -> None:
    result = invoke(
        "describe", "indicators", "--format", "json", *source_args(built_release, where)
    )
    assert result.exit_code == 0, result.output
    columns = {r["column"]: r for r in json.loads(result.stdout)}
    table = read_package(built_release).table("indicators")
    assert list(columns) == table.field_names
    assert columns["period_start"]["type"] == "DATE"
    assert columns["value"]["type"] == "DOUBLE"
    for f in table.fields:
        assert columns[f.name]["description"] == f.description
        assert columns[f.name]["required"] == ("yes" if f.required else "no"), f.name
    if where != "db":  # units come from the schema, which a bare .duckdb file lacks
        assert "unit" in columns["value"]["unit"]


def test_describe_unknown_table_exits_2(built_release: Path) -> None:
    result = invoke("describe", "nope", *source_args(built_release, "release"))
    assert result.exit_code == 2
    assert "no table 'nope'" in result.output and "indicators" in result.output


def test_release_and_db_together_is_a_usage_error(built_release: Path) -> None:
    result = invoke("query", "SELECT 1", "--release", "1.0.0", "--db", "x.duckdb")
    assert result.exit_code == 2 and "not both" in result.output
