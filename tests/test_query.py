"""`azkz query`, `azkz tables`, `azkz describe`: results, formats and refusals."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path

import duckdb
import pytest

from azkz.access import query
from azkz.cli import query as query_command
from azkz.schema.package import read_package
from tests.helpers import invoke

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
    # EXPLAIN ANALYZE executes the statement it explains, in every spelling
    "EXPLAIN ANALYZE DELETE FROM sources",
    "EXPLAIN ANALYSE UPDATE sources SET title = 'x'",
    "EXPLAIN (ANALYZE) DELETE FROM sources",
    "/* c */ EXPLAIN -- c\n /* c */ ANALYZE CREATE TABLE t AS SELECT 1",
    "EXPLAIN ANALYZE COPY sources TO '{tmp}/out.csv'",
    "EXPLAIN ANALYZE EXPLAIN ANALYZE DELETE FROM sources",
    "EXPLAIN ANALYZE SELECT 1; DELETE FROM sources",
    # PRAGMA and CALL: some change state; each has a SELECT form
    "PRAGMA force_checkpoint",
    "PRAGMA create_fts_index('sources', 'source_id', 'title')",
    "CALL checkpoint()",
    "PRAGMA threads = 1",
    "SET VARIABLE x = 1",
    # table functions running SQL text accept only a SELECT
    "SELECT * FROM query('DELETE FROM sources')",
    "SELECT * FROM query('SELECT 1; DELETE FROM sources')",
]


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


def test_refused_statements_leave_the_in_memory_tables_unchanged(built_release, tmp_path):
    """The working tree's tables are writable in memory, so the gate alone protects them."""
    source = query.open_working_tree(built_release)
    counts = "SELECT (SELECT count(*) FROM sources), (SELECT count(*) FROM duckdb_tables())"
    before = source.con.execute(counts).fetchall()
    for sql in REFUSED:
        with pytest.raises(query.QueryError):
            list(query.run(source.con, sql.format(tmp=tmp_path)).rows)
    assert source.con.execute(counts).fetchall() == before


def test_a_refused_statement_is_refused_before_the_working_tree_is_read(package_copy: Path):
    """The gate runs first: an invalid package (exit 1 when read) still gets the refusal."""
    indicators = package_copy / "data" / "indicators.csv"
    indicators.write_text(indicators.read_text(encoding="utf-8") + "broken,row\n", "utf-8")
    assert invoke("query", "SELECT 1", "--package", str(package_copy)).exit_code == 1
    result = invoke("query", "DELETE FROM sources", "--package", str(package_copy))
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: refused: DELETE FROM sources")
    assert "not valid" not in result.output


def test_explain_of_a_select_still_runs(built_release: Path) -> None:
    args = source_args(built_release, "release")
    for sql in ("EXPLAIN SELECT * FROM sources", "EXPLAIN ANALYZE SELECT count(*) FROM sources"):
        result = invoke("query", sql, "--format", "json", *args)
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)[0]["explain_key"].endswith("plan")


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

    table = invoke("query", sql, "--format", "table", *args)
    assert records[0]["source_id"] in table.stdout and "rows" not in table.stdout
    assert table.stderr == "2 rows\n"  # the footer is not data: on stderr


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
    release = built_release / "dist" / package.version  # holds the derived tables' files too
    for table in package.tables:
        with (release / table.path).open(encoding="utf-8", newline="") as f:
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
    assert "unit" in columns["value"]["unit"]  # a release's .duckdb: its datapackage.json


def test_describe_of_a_bare_database_says_units_are_unknown(built_release, tmp_path) -> None:
    package = read_package(built_release)
    database = tmp_path / "copy.duckdb"
    database.write_bytes(
        (built_release / "dist" / package.version / f"{package.name}.duckdb").read_bytes()
    )
    result = invoke("describe", "indicators", "--format", "json", "--db", str(database))
    assert result.exit_code == 0, result.output
    assert {r["unit"] for r in json.loads(result.stdout)} == {""}
    assert "note: units are unknown" in result.stderr


def test_describe_unknown_table_exits_2(built_release: Path) -> None:
    result = invoke("describe", "nope", *source_args(built_release, "release"))
    assert result.exit_code == 2
    assert "no table 'nope'" in result.output and "indicators" in result.output


def test_release_and_db_together_is_a_usage_error(built_release: Path) -> None:
    result = invoke("query", "SELECT 1", "--release", "1.0.0", "--db", "x.duckdb")
    assert result.exit_code == 2 and "not both" in result.output


def empty_database(tmp_path: Path) -> str:
    path = tmp_path / "empty.duckdb"
    duckdb.connect(str(path)).close()
    return str(path)


EVERY_TYPE_SQL = """SELECT interval 1 day + interval 3 hour AS span, -interval 90 minute AS back,
    interval 0 second AS zero, interval 1500 millisecond AS frac,
    '6f9619ff-8b86-d011-b42d-00cf4fc964ff'::uuid AS id,
    'inf'::double AS inf, '-inf'::double AS ninf, 'nan'::float AS nan, 1.25::double AS x,
    12.50::decimal(10, 2) AS amount, 'ab'::blob AS bytes, [1, NULL] AS list,
    {'a': [1.5::decimal(4, 1)], 'b': 'nan'::double} AS struct, map([1], ['x']) AS map,
    [1, 2]::int[2] AS arr, '12:30'::time AS t, '2024-02-29 10:00'::timestamptz AS ts,
    '2024-02-29'::date AS d, 170141183460469231731687303715884105727::hugeint AS big,
    '101'::bit AS bits, true AS flag, NULL AS nothing"""

EVERY_TYPE_JSON = {
    "span": "P1DT3H",
    "back": "-PT1H30M",
    "zero": "PT0S",
    "frac": "PT1.5S",
    "id": "6f9619ff-8b86-d011-b42d-00cf4fc964ff",
    "inf": None,
    "ninf": None,
    "nan": None,
    "x": 1.25,
    "amount": 12.5,
    "bytes": "6162",
    "list": [1, None],
    "struct": {"a": [1.5], "b": None},
    "map": {"1": "x"},
    "arr": [1, 2],
    "t": "12:30:00",
    "d": "2024-02-29",
    "big": 170141183460469231731687303715884105727,
    "bits": "101",
    "flag": True,
    "nothing": None,
}


def test_json_is_valid_for_every_duckdb_type(tmp_path: Path) -> None:
    result = invoke("query", EVERY_TYPE_SQL, "--format", "json", "--db", empty_database(tmp_path))
    assert result.exit_code == 0, result.output
    (record,) = json.loads(result.stdout, parse_constant=lambda c: pytest.fail(f"bare {c}"))
    assert record.pop("ts").startswith("2024-02-29T10:00:00")
    assert record == EVERY_TYPE_JSON


@pytest.mark.parametrize("fmt", ["csv", "markdown", "table"])
def test_text_formats_show_every_duckdb_type(tmp_path: Path, fmt: str) -> None:
    sql = f"SELECT span, id, inf, amount, list FROM ({EVERY_TYPE_SQL})"  # fits 80 columns
    result = invoke("query", sql, "--format", fmt, "--db", empty_database(tmp_path))
    assert result.exit_code == 0, result.output
    for text in ("P1DT3H", "6f9619ff-8b86-d011-b42d-00cf4fc964ff", "inf", "12.50", "[1, null]"):
        assert text in result.stdout, text
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(result.stdout)))
        assert rows[1] == [
            "P1DT3H",
            "6f9619ff-8b86-d011-b42d-00cf4fc964ff",
            "inf",
            "12.50",
            "[1, null]",
        ]


@pytest.mark.parametrize(
    ("fmt", "max_rows", "shown"),
    [("table", None, 10_000), ("markdown", "3", 3), ("csv", "5", 5), ("json", "0", 0)],
)
def test_row_limit_stops_with_a_note(tmp_path: Path, fmt: str, max_rows, shown: int) -> None:
    limit = ["--max-rows", max_rows] if max_rows else []
    result = invoke(
        "query",
        "SELECT * FROM range(20000) r(n)",
        "--format",
        fmt,
        *limit,
        "--db",
        empty_database(tmp_path),
    )
    assert result.exit_code == 0, result.output
    assert f"showing the first {shown:,} rows" in result.stderr and "--max-rows" in result.stderr
    if fmt == "csv":
        assert len(result.stdout.splitlines()) == shown + 1
    if fmt == "json":
        assert json.loads(result.stdout) == []
    if fmt == "table":  # the footer counts as the note does
        assert result.stderr.splitlines()[0] == f"{shown:,} rows"


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_csv_and_json_stream_every_row_by_default(tmp_path: Path, fmt: str) -> None:
    sql = f"SELECT n, n * 0.5 AS half FROM range({query.FETCH_BATCH_ROWS * 3 + 7}) r(n)"
    result = invoke("query", sql, "--format", fmt, "--db", empty_database(tmp_path))
    assert result.exit_code == 0 and result.stderr == ""
    rows = (
        json.loads(result.stdout)
        if fmt == "json"
        else list(csv.DictReader(io.StringIO(result.stdout)))
    )
    assert [int(r["n"]) for r in rows] == list(range(query.FETCH_BATCH_ROWS * 3 + 7))


def test_failure_after_the_first_batch_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    sql = f"SELECT CASE WHEN n < {query.FETCH_BATCH_ROWS * 4} THEN n ELSE error('boom') END AS n FROM range(1000000) r(n)"
    result = invoke("query", sql, "--format", "csv", "--db", empty_database(tmp_path))
    assert result.exit_code == 2
    assert "error: query failed" in result.stderr and "boom" in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_memory_error_is_a_message_and_exit_2(tmp_path: Path, monkeypatch) -> None:
    def exhausted(con, sql):
        raise MemoryError

    monkeypatch.setattr(query_command, "run", exhausted)  # the name the command calls
    result = invoke("query", "SELECT 1", "--db", empty_database(tmp_path))
    assert result.exit_code == 2
    assert "out of memory" in result.stderr and "Traceback" not in result.output


def test_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    """`azkz query … | head -1`: no traceback, no 'Exception ignored' noise."""
    import subprocess
    import sys

    command = [
        str(Path(sys.executable).with_name("azkz")),
        "query",
        "SELECT * FROM range(3000000)",
        "--format",
        "csv",
        "--db",
        empty_database(tmp_path),
    ]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as process:
        assert process.stdout.readline() == b"range\n"
        process.stdout.close()
        stderr = process.stderr.read().decode()
        assert process.wait(timeout=60) == 141
    assert stderr == ""
