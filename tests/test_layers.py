"""The pipeline's one import direction (issue 22), enforced two ways.

import-linter checks the contracts of pyproject.toml statically (`make test` runs it on
the tree); these tests show that it fails on a backward import, and check at run time,
through `sys.modules`, that reading the data loads no builder, zip, site or docs module.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from azkz.schema.package import read_package
from tests.helpers import ROOT

LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
# What reading the data must never load: the release builder (and every other writer of a
# release: zip, citation, changes, fingerprint) and the generated docs and site.
WRITERS = ("azkz.release", "azkz.publish")


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    """`lint-imports` with `root`'s pyproject.toml, on the package under `root/src`."""
    env = {**os.environ, "PYTHONPATH": str(root / "src")}  # before the editable install
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo", str(root / "pyproject.toml")],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def package_tree(tmp_path: Path) -> Path:
    """A copy of the source package and its pyproject.toml, to break on purpose."""
    shutil.copytree(
        ROOT / "src" / "azkz",
        tmp_path / "src" / "azkz",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    shutil.copy2(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def add_import(module: Path, statement: str) -> None:
    module.write_text(module.read_text(encoding="utf-8") + f"\n{statement}\n", encoding="utf-8")


def test_the_contracts_hold_on_the_tree():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 kept, 0 broken" in result.stdout


def test_the_copy_passes_untouched(package_tree):
    result = lint_imports(package_tree)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_backward_import_breaks_the_layers_contract(package_tree):
    add_import(package_tree / "src/azkz/core/sql.py", "from azkz.validate import report")
    result = lint_imports(package_tree)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Stages import downwards only BROKEN" in result.stdout
    assert "azkz.core.sql -> azkz.validate.report" in result.stdout


def test_a_function_level_import_breaks_it_too(package_tree):
    """A lazy import is still a dependency: hiding one in a function does not dodge it."""
    add_import(
        package_tree / "src/azkz/tables/typed.py",
        "def _later():\n    from azkz.derive import annual_series\n\n    return annual_series",
    )
    result = lint_imports(package_tree)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "azkz.tables.typed -> azkz.derive.annual_series" in result.stdout


def test_reading_the_data_may_not_import_the_builder(package_tree):
    add_import(package_tree / "src/azkz/access/query.py", "from azkz.release import build")
    result = lint_imports(package_tree)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "the zip, the site or the docs BROKEN" in result.stdout


def loaded_modules(code: str) -> list[str]:
    """The azkz modules a fresh interpreter holds after running `code` (which prints nothing)."""
    show = "import json, sys; print(json.dumps(sorted(m for m in sys.modules if m.startswith('azkz'))))"
    result = subprocess.run(
        [sys.executable, "-c", f"{code}\n{show}"],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def writers_among(modules: list[str]) -> list[str]:
    return [m for m in modules if m.startswith(WRITERS)]


def test_azkz_load_from_the_working_tree_imports_no_writer():
    modules = loaded_modules(
        f"import azkz; assert len(azkz.load('sources', root={str(ROOT)!r}, engine='arrow'))"
    )
    assert "azkz.access.load" in modules
    assert writers_among(modules) == []


def test_azkz_load_from_a_release_imports_no_writer(built_release):
    dist = built_release / "dist"
    version = read_package(built_release).version
    modules = loaded_modules(
        f"import azkz; assert len(azkz.load('annual_series', release={version!r}, "
        f"dist={str(dist)!r}, engine='arrow'))"
    )
    assert writers_among(modules) == []


@pytest.mark.parametrize("source", ["working tree", "release"])
def test_azkz_query_imports_no_writer(built_release, source):
    where = ["--package", str(ROOT)]
    if source == "release":
        version = read_package(built_release).version  # not "latest": no index to ask
        where = ["--release", version, "--dist", str(built_release / "dist")]
    args = ["query", "SELECT count(*) FROM indicators", *where, "--format", "csv"]
    modules = loaded_modules(
        "from click.testing import CliRunner\n"
        "from azkz.cli import main\n"
        f"result = CliRunner().invoke(main, {args!r})\n"
        "assert result.exit_code == 0, result.output\n"
        "assert any(line.isdigit() for line in result.output.splitlines()), result.output"
    )
    assert "azkz.access.query" in modules
    assert writers_among(modules) == []
