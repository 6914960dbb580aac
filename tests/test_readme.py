"""Every command in the README runs as written, in a directory laid out as a fresh clone is.

The clone is a copy of the package with its release built (`make release` made it) and a git
history with `origin/main`, as `git clone` leaves it; "the public site" is a local server
holding that release, named by `AZKZ_RELEASES_URL`, so nothing leaves this machine. Each
shell, Python and SQL block runs and must succeed and print or return something; the blocks
that cannot run here are listed with the reason, and what they depend on is checked instead.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from azkz.schema.package import read_package
from tests.helpers import ROOT, static_server

README = (ROOT / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"^```(sh|python|sql|r)\n(.*?)^```", README, re.DOTALL | re.MULTILINE)
VERSION = read_package(ROOT).version

# Blocks this test does not run, by their first line, and why.
NOT_RUN = {
    "make release": "the set-up itself: .ci/run runs these two commands on a fresh clone",
    "library(arrow)": "R is not installed here: the test checks that the file it reads exists",
}

# Runs the Python blocks one after the other in one interpreter (one start-up and one import
# of pandas, polars and pyarrow, not one per block), each in a namespace of its own, and
# checks that what each ends with (an expression, or the name its last statement assigns)
# holds rows: a README example that returns nothing is a broken example. Each block's
# outcome is one JSON line: its summary, or the error it raised with its traceback.
PYTHON_RUNNER = r"""
import ast, contextlib, io, json, sys, traceback

def run(block):
    tree = ast.parse(block)
    last = tree.body[-1]
    namespace = {}
    if isinstance(last, ast.Expr):
        exec(compile(ast.Module(tree.body[:-1], []), "<readme>", "exec"), namespace)
        result = eval(compile(ast.Expression(last.value), "<readme>", "eval"), namespace)
    else:
        exec(compile(tree, "<readme>", "exec"), namespace)
        result = namespace[last.targets[0].id]
    rows = result.to_arrow_table() if hasattr(result, "to_arrow_table") else result
    assert len(rows) > 0, "the example's result is empty"
    return f"{type(result).__name__} {len(rows)}"

for block in json.load(sys.stdin):
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            outcome = {"ok": True, "out": run(block)}
    except BaseException:
        outcome = {"ok": False, "out": printed.getvalue() + traceback.format_exc()}
    print(json.dumps(outcome), flush=True)
"""
PYTHON_BLOCKS = [block for language, block in BLOCKS if language == "python"]


def first_line(block: str) -> str:
    return block.strip().splitlines()[0]


def is_run(block: str) -> bool:
    return not any(first_line(block).startswith(prefix) for prefix in NOT_RUN)


def git(clone: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=clone, check=True, capture_output=True)


@pytest.fixture(scope="module")
def clone(built_release, tmp_path_factory) -> Path:
    """The package and its built `dist/`, committed, with `origin/main` as a clone has it."""
    clone = tmp_path_factory.mktemp("readme") / "azerbaijan-kazakhstan-relations"
    shutil.copytree(built_release, clone)
    shutil.copy2(ROOT / ".gitignore", clone / ".gitignore")
    git(clone, "init", "-q", "-b", "main")
    git(clone, "add", "-A")
    git(clone, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "clone")
    git(clone, "update-ref", "refs/remotes/origin/main", "HEAD")
    return clone


@pytest.fixture(scope="module")
def environment(clone, tmp_path_factory):
    """The user's shell: the venv's `azkz` on PATH, an empty cache, the site served locally."""
    with static_server(clone / "dist") as (url, _stop):
        yield {
            **os.environ,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
            "AZKZ_RELEASES_URL": url,
            "AZKZ_CACHE_DIR": str(tmp_path_factory.mktemp("cache")),
        }


def run_block(language: str, block: str, clone: Path, env: dict) -> str:
    if language == "sql":
        with duckdb.connect() as con:
            return str(con.execute("SET file_search_path = ?", [str(clone)]).sql(block).fetchall())
    run = subprocess.run(
        ["bash", "-e", "-c", block],
        cwd=clone,
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
    )
    assert run.returncode == 0, f"README block failed:\n{block}\n{run.stdout}\n{run.stderr}"
    return run.stdout


SHELL_AND_SQL = [b for b in BLOCKS if b[0] != "python" and is_run(b[1])]


@pytest.mark.parametrize(
    "language,block",
    SHELL_AND_SQL,
    ids=[f"{lang}:{first_line(b)[:50]}" for lang, b in SHELL_AND_SQL],
)
def test_readme_block_runs_as_written(language, block, clone, environment):
    assert run_block(language, block, clone, environment).strip(), f"no output from:\n{block}"


def test_readme_python_blocks_run_as_written(clone, environment):
    """Every Python block, run by one interpreter in the clone (so by one test: a test per
    block would start the interpreter and import the engines once per xdist worker)."""
    run = subprocess.run(
        [sys.executable, "-c", PYTHON_RUNNER],
        cwd=clone,
        input=json.dumps(PYTHON_BLOCKS),
        capture_output=True,
        text=True,
        env=environment,
        timeout=300,
    )
    outcomes = [json.loads(line) for line in run.stdout.splitlines()]
    assert len(outcomes) == len(PYTHON_BLOCKS) > 0, f"the runner stopped:\n{run.stderr}"
    failed = [
        f"{block}\n{outcome['out']}"
        for block, outcome in zip(PYTHON_BLOCKS, outcomes, strict=True)
        if not outcome["ok"]
    ]
    assert not failed, "README blocks failed:\n\n" + "\n\n".join(failed)


def test_the_blocks_not_run_are_the_listed_ones_and_what_they_need_holds(clone):
    skipped = [b for _, b in BLOCKS if not is_run(b)]
    assert {p for p in NOT_RUN if any(first_line(b).startswith(p) for b in skipped)} == set(NOT_RUN)
    setup = next(b for b in skipped if first_line(b).startswith("make release"))
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    for command in re.findall(r"^(make \w+)", setup, re.MULTILINE):
        assert f"\n{command}\n" in ci, command
    r_block = next(b for b in skipped if first_line(b).startswith("library(arrow)"))
    for path in re.findall(r'read_parquet\("([^"]+)"\)', r_block):
        assert (clone / path).is_file(), path


def test_readme_examples_name_the_current_release():
    """Examples that pin a release name this version, which `make release` builds."""
    named = set(re.findall(r'(?:release="|dist/|--release )(\d+\.\d+\.\d+)', README))
    assert named <= {VERSION}, f"README examples name {named}; the package is {VERSION}"


def test_readme_coverage_line_states_the_datas_years():
    line = next(line for line in README.splitlines() if line.startswith("Coverage:"))
    paragraph = README[README.index(line) :].split("\n\n", 1)[0]
    columns = {
        "indicators": ("period_start", "period_end"),
        "agreements": ("signed_date", "signed_date"),
        "visits": ("date_start", "date_end"),
    }
    with duckdb.connect() as con:
        for table, (start, end) in columns.items():
            first, last = con.execute(
                f"SELECT min(year({start})), max(year({end}))"
                f" FROM read_csv('{ROOT / 'data' / table}.csv', all_varchar=false)"
            ).fetchone()
            assert f"{table} {first}–{last}" in paragraph, (table, first, last)
