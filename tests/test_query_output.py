"""`azkz query` fit for pipes: a table on a terminal, CSV when piped, values printed as data.

A terminal is a real pseudo-terminal (`pty`), a pipe a real file, each in a subprocess; the
CliRunner tests are the non-terminal case (click's runner is not a TTY), and one of them
makes the command's terminal check say yes.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import click
import duckdb
import pytest

from azkz.cli import query as query_command
from azkz.cli import sources
from tests.helpers import invoke

AZKZ = str(Path(sys.executable).with_name("azkz"))
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")

# One row holding the values whose text the formats must agree on.
VALUES_SQL = """SELECT 845.0::DOUBLE AS whole, 1.5::DOUBLE AS half, 0.1::DOUBLE + 0.2 AS sum,
    -3.0::DOUBLE AS negative, 1e16::DOUBLE AS huge, 2.0::FLOAT AS single, 12::INTEGER AS int,
    845.00::DECIMAL(6, 2) AS amount, true AS yes, false AS no, NULL AS nothing,
    'NULL' AS word, '' AS empty, [1.0::DOUBLE, 2.5] AS list"""
VALUES_CSV = [
    "845",
    "1.5",
    "0.30000000000000004",
    "-3",
    "1e+16",
    "2",
    "12",
    "845.00",
    "true",
    "false",
    "",
    "NULL",
    "",
    "[1, 2.5]",
]


def empty_database(tmp_path: Path) -> str:
    path = tmp_path / "empty.duckdb"
    duckdb.connect(str(path)).close()
    return str(path)


def indicator_count(root: Path) -> int:
    with (root / "data" / "indicators.csv").open(encoding="utf-8", newline="") as f:
        return sum(1 for _ in csv.DictReader(f))


def run_on_terminal(args: list[str], tmp_path: Path) -> tuple[str, str, int]:
    """Run `azkz args` with stdout on a pseudo-terminal and stderr on a pipe.

    Returns (terminal text without colour codes or carriage returns, stderr, exit status).
    """
    import pty

    leader, follower = pty.openpty()
    env = dict(os.environ, COLUMNS="120", TERM="xterm")
    env.pop("NO_COLOR", None)
    with subprocess.Popen(
        [AZKZ, *args],
        stdin=subprocess.DEVNULL,
        stdout=follower,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
        env=env,
    ) as process:
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        stderr = process.stderr.read().decode()
        status = process.wait(timeout=60)
    os.close(leader)
    text = ANSI.sub("", b"".join(chunks).decode()).replace("\r", "")
    return text, stderr, status


# --- where the output goes ------------------------------------------------------------------


def test_piped_count_is_csv_with_a_header_and_an_integer(built_release: Path) -> None:
    """The issue's acceptance: `azkz query "select count(*) as n from indicators" | cat`."""
    result = invoke(
        "query", "select count(*) as n from indicators", "--package", str(built_release)
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == f"n\n{indicator_count(built_release)}\n"
    assert result.stderr == ""  # no footer, no note: nothing but the data on either stream


def test_a_real_pipe_to_a_file_gets_csv(built_release: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    with out.open("w", encoding="utf-8") as sink:
        completed = subprocess.run(
            [AZKZ, "query", "select count(*) as n from indicators"],
            cwd=built_release,
            stdout=sink,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            check=False,
        )
    assert completed.returncode == 0, completed.stderr
    assert out.read_text(encoding="utf-8") == f"n\n{indicator_count(built_release)}\n"
    assert completed.stderr == ""


def test_a_terminal_gets_a_table_and_the_row_count_on_stderr(tmp_path: Path) -> None:
    sql = "SELECT 'Astana' AS city, 845.0::DOUBLE AS n UNION ALL SELECT 'Baku', NULL"
    text, stderr, status = run_on_terminal(
        ["query", sql, "--db", empty_database(tmp_path)], tmp_path
    )
    assert status == 0, stderr
    lines = [line for line in text.splitlines() if line.strip()]
    assert lines[0].startswith("┏") and any("┃ city" in line for line in lines)
    assert any("│ Astana │ 845 │" in line for line in lines), text
    assert any("│ Baku   │ ∅   │" in line for line in lines), text
    assert "rows" not in text  # the footer is not data: stderr
    assert stderr == "2 rows\n"


def test_format_overrides_the_terminal_default(tmp_path: Path) -> None:
    text, stderr, status = run_on_terminal(
        ["query", "SELECT 1 AS a, true AS b", "--format", "csv", "--db", empty_database(tmp_path)],
        tmp_path,
    )
    assert status == 0, stderr
    assert text == "a,b\n1,true\n" and stderr == ""


def test_format_table_overrides_the_pipe_default(tmp_path: Path) -> None:
    result = invoke("query", "SELECT 1 AS a", "--format", "table", "--db", empty_database(tmp_path))
    assert result.exit_code == 0, result.output
    assert "┃ a ┃" in result.stdout and "│ 1 │" in result.stdout
    assert "row" not in result.stdout
    assert result.stderr == "1 row\n"


def test_stdout_that_says_it_is_a_terminal_gets_the_table(tmp_path: Path, monkeypatch) -> None:
    """The terminal branch in-process (click's runner is not a TTY): the check says yes."""
    monkeypatch.setattr(sources, "stdout_is_terminal", lambda: True)
    result = invoke("query", "SELECT 7 AS a", "--db", empty_database(tmp_path))
    assert result.exit_code == 0, result.output
    assert "┃ a ┃" in result.stdout and "│ 7 │" in result.stdout
    assert result.stderr == "1 row\n"


@pytest.mark.parametrize("command", [["tables"], ["describe", "indicators"]])
def test_tables_and_describe_follow_the_same_rule(built_release: Path, command) -> None:
    release = built_release / "dist"
    version = next(p.name for p in release.iterdir() if p.is_dir())
    result = invoke(*command, "--release", version, "--dist", str(release))
    assert result.exit_code == 0, result.output
    header = next(csv.reader(io.StringIO(result.stdout)))
    assert header[0] in ("table", "column") and "┃" not in result.stdout


# --- values ---------------------------------------------------------------------------------


def test_csv_values_integers_booleans_and_null(tmp_path: Path) -> None:
    result = invoke("query", VALUES_SQL, "--format", "csv", "--db", empty_database(tmp_path))
    assert result.exit_code == 0, result.output
    header, row = csv.reader(io.StringIO(result.stdout))
    assert len(header) == len(VALUES_CSV)
    assert dict(zip(header, row, strict=True)) == dict(zip(header, VALUES_CSV, strict=True))


def test_json_values_integers_stay_numbers(tmp_path: Path) -> None:
    result = invoke("query", VALUES_SQL, "--format", "json", "--db", empty_database(tmp_path))
    assert result.exit_code == 0, result.output
    (record,) = json.loads(result.stdout)
    assert record["whole"] == 845 and isinstance(record["whole"], int)
    assert isinstance(record["single"], int) and record["negative"] == -3
    assert record["sum"] == 0.30000000000000004 and record["half"] == 1.5
    assert record["huge"] == 1e16
    assert record["yes"] is True and record["no"] is False
    assert record["nothing"] is None and record["word"] == "NULL" and record["empty"] == ""
    assert record["list"] == [1, 2.5] and isinstance(record["list"][0], int)
    assert '"whole": 845,' in result.stdout  # the text, not only the parsed value


def test_markdown_and_table_values_and_a_visible_null(tmp_path: Path) -> None:
    database = empty_database(tmp_path)
    markdown = invoke("query", VALUES_SQL, "--format", "markdown", "--db", database)
    assert markdown.exit_code == 0, markdown.output
    cells = [c.strip() for c in markdown.stdout.splitlines()[2].strip("|").split("|")]
    assert cells == [*VALUES_CSV[:10], "∅", "NULL", "", "[1, 2.5]"]

    sql = "SELECT 845.0::DOUBLE AS d, true AS b, NULL AS x, 'NULL' AS s, '' AS e"
    table = invoke("query", sql, "--format", "table", "--db", database)
    assert table.exit_code == 0, table.output
    (row,) = [line for line in table.stdout.splitlines() if line.startswith("│")]
    assert [c.strip() for c in row.strip("│").split("│")] == ["845", "true", "∅", "NULL", ""]


def test_a_double_column_of_the_data_prints_its_whole_numbers_as_integers(
    built_release: Path,
) -> None:
    sql = (
        "SELECT value FROM indicators WHERE value = floor(value) AND abs(value) < 1e15 "
        "ORDER BY value LIMIT 3"
    )
    result = invoke("query", sql, "--package", str(built_release))
    assert result.exit_code == 0, result.output
    header, *values = result.stdout.splitlines()
    assert header == "value" and len(values) == 3
    assert all(re.fullmatch(r"-?\d+", v) for v in values), values


# --- one count style ------------------------------------------------------------------------


def test_footer_and_truncation_note_count_alike(tmp_path: Path) -> None:
    result = invoke(
        "query",
        "SELECT * FROM range(12345) r(n)",
        "--format",
        "table",
        "--max-rows",
        "1500",
        "--db",
        empty_database(tmp_path),
    )
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        "1,500 rows",
        "note: showing the first 1,500 rows; there are more "
        "(use --format csv or json to stream all rows, or --max-rows N)",
    ]


# --- refusals name what was written -----------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "named"),
    [
        ("INSTALL httpfs", "INSTALL httpfs"),
        ("force   install\n  httpfs", "force install httpfs"),
        ("/* why */ LOAD httpfs", "LOAD httpfs"),
        ("PRAGMA threads = 1", "PRAGMA threads = 1"),
        ("CHECKPOINT", "CHECKPOINT"),
        ("SELECT 1; DELETE FROM t", "DELETE FROM t"),
        ("WITH x AS (SELECT 1) DELETE FROM t", "WITH x AS (SELECT 1) DELETE FROM t"),
        ("PIVOT t ON a", "PIVOT t ON a"),
        ("UPDATE EXTENSIONS", "UPDATE EXTENSIONS"),
        (
            "INSERT INTO t SELECT * FROM range(100000000) r(n) WHERE n % 7 = 3 ORDER BY n DESC",
            "INSERT INTO t SELECT * FROM range(100000000) r(n) WHERE n % …",
        ),
    ],
)
def test_refusal_names_the_statement_written(tmp_path: Path, sql: str, named: str) -> None:
    result = invoke("query", sql, "--db", empty_database(tmp_path))
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"error: refused: {named} (queries are read-only:"), line
    assert "LOAD statements" not in line and "MULTI" not in line


def test_pragma_refusal_says_what_to_write_instead(tmp_path: Path) -> None:
    database = empty_database(tmp_path)
    for sql in ("PRAGMA show_tables", "PRAGMA threads = 1", "CHECKPOINT"):  # PRAGMA, SET, CALL
        result = invoke("query", sql, "--db", database)
        assert result.exit_code == 2
        assert "SHOW TABLES" in result.stderr and "pragma_table_info" in result.stderr, sql
    result = invoke("query", "DROP TABLE t", "--db", database)
    assert result.exit_code == 2 and "pragma_table_info" not in result.stderr


def test_sql_from_standard_input(built_release):
    """`azkz query -` and `azkz query` on a pipe read the statements from stdin."""
    package = ["--package", str(built_release), "--format", "csv"]
    for args in (["query", "-", *package], ["query", *package]):
        result = invoke(*args, input="SELECT 1 AS a;\nSELECT 2 AS b\n")
        assert (result.exit_code, result.stdout) == (0, "b\n2\n"), result.output
    bom_and_names = invoke("query", "-", *package, input='\ufeffSELECT 1 AS "Қазақ ə"'.encode())
    assert (bom_and_names.exit_code, bom_and_names.stdout) == (0, "Қазақ ə\n1\n")
    refused = invoke("query", "-", *package, input="DELETE FROM sources")
    assert refused.exit_code == 2 and "refused: DELETE FROM sources" in refused.stderr


def test_sql_from_standard_input_that_is_not_utf8_is_named(built_release):
    result = invoke("query", "-", "--package", str(built_release), input=b"SELECT 1;\n\xff")
    assert result.exit_code == 2
    assert "standard input, line 2: the SQL is not UTF-8" in result.stderr
    assert "Traceback" not in result.output


def test_no_sql_on_a_terminal_says_how_to_give_it(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"")))
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    with pytest.raises(click.UsageError, match="or - to read it from standard input"):
        query_command.statements_given(None)
