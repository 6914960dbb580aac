"""The CLI's entry points that belong to no single stage."""

import json

from click.testing import CliRunner

from azkz import __version__
from azkz.cli import main
from tests.helpers import ROOT


def test_version_names_tool_and_data_versions(monkeypatch):
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(main, ["--version"])
    data_version = json.loads((ROOT / "datapackage.json").read_text())["version"]
    assert result.exit_code == 0
    assert result.output.strip() == f"azkz {__version__} (data package version {data_version})"


def test_version_outside_a_package_says_so(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert "no datapackage.json here" in result.output


def test_help_lists_the_stage_commands():
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    listed = {
        line.split()[0] for line in result.output.split("Commands:")[1].splitlines() if line.strip()
    }
    assert listed == {
        "validate",
        "fmt",
        "build",
        "query",
        "tables",
        "describe",
        "fetch",
        "diff",
        "docs",
        "citation",
        "site",
    }
