"""Messages that must say where: broken JSON's line and column in every `validate` format,
a missing package folder named, and an `azkz fmt` summary that counts every file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import invoke

DESCRIPTOR = "datapackage.json"


def break_descriptor(root: Path) -> tuple[int, int]:
    """Add a stray comma after line 3 of datapackage.json; (line, column) of that comma."""
    path = root / DESCRIPTOR
    lines = path.read_text(encoding="utf-8").split("\n")
    assert lines[2].endswith(","), lines[2]  # `"name": "…",`: a second comma is an error
    column = len(lines[2]) + 1
    lines[2] += ","
    path.write_text("\n".join(lines), encoding="utf-8")
    return 3, column


def stored_resources(root: Path) -> int:
    return len(json.loads((root / DESCRIPTOR).read_text(encoding="utf-8"))["resources"])


# --- validate: broken JSON ------------------------------------------------------------------


def test_broken_json_line_and_column_in_the_json_format(package_copy: Path) -> None:
    line, column = break_descriptor(package_copy)
    result = invoke("validate", str(package_copy), "--format", "json")
    assert result.exit_code == 2
    (record,) = json.loads(result.stdout)["errors"]
    assert (record["path"], record["line"], record["column"]) == (DESCRIPTOR, line, column)
    assert record["code"] == "package-error" and "not valid JSON" in record["message"]


def test_broken_json_line_and_column_in_the_github_format(package_copy: Path) -> None:
    line, column = break_descriptor(package_copy)
    result = invoke("validate", str(package_copy), "--format", "github")
    assert result.exit_code == 2
    annotation = result.stdout.splitlines()[0]
    assert annotation.startswith(
        f"::error file={DESCRIPTOR},line={line},col={column},title=package-error::"
    ), annotation


def test_broken_json_line_and_column_in_the_text_format(package_copy: Path) -> None:
    line, column = break_descriptor(package_copy)
    result = invoke("validate", str(package_copy))
    assert result.exit_code == 2
    assert f"package-error line {line}, column {column}: " in result.stdout
    assert result.stdout.count(f"line {line}") == 1  # said once, not again in the message


def test_broken_schema_json_has_its_line_too(package_copy: Path) -> None:
    path = package_copy / "schemas" / "visits.json"
    path.write_text(path.read_text(encoding="utf-8").replace("{", "{,", 1), encoding="utf-8")
    result = invoke("validate", str(package_copy), "--format", "json")
    (record,) = json.loads(result.stdout)["errors"]
    assert record["path"] == "schemas/visits.json" and record["code"] == "schema-error"
    assert (record["line"], record["column"]) == (1, 2)


def test_other_errors_have_a_null_column(package_copy: Path) -> None:
    path = package_copy / "data" / "visits.csv"
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[1] = lines[1] + ",extra"
    path.write_text("\n".join(lines), encoding="utf-8")
    result = invoke("validate", str(package_copy), "--format", "json")
    errors = json.loads(result.stdout)["errors"]
    assert errors and {e["column"] for e in errors} == {None}
    assert all(list(e) == list(errors[0]) for e in errors)  # every record has the same keys


# --- validate: where the package should be -------------------------------------------------


@pytest.mark.parametrize("fmt", ["text", "json", "github"])
def test_a_missing_package_folder_is_named(tmp_path: Path, fmt: str) -> None:
    missing = tmp_path / "no-such-folder"
    result = invoke("validate", str(missing), "--format", fmt)
    assert result.exit_code == 2
    assert f"{missing}: no such folder" in result.stdout, result.stdout
    assert "Traceback" not in result.output


def test_a_folder_without_a_descriptor_is_named(tmp_path: Path) -> None:
    result = invoke("validate", str(tmp_path), "--format", "json")
    assert result.exit_code == 2
    (record,) = json.loads(result.stdout)["errors"]
    assert record["message"] == f"{DESCRIPTOR} not found in {tmp_path}"


def test_a_file_given_as_the_package_is_named(package_copy: Path) -> None:
    csv_file = package_copy / "data" / "visits.csv"
    result = invoke("validate", str(csv_file))
    assert result.exit_code == 2
    assert f"{csv_file} is a file, not a package folder" in result.stdout
    assert invoke("validate", str(package_copy / DESCRIPTOR)).exit_code == 0  # the descriptor


def test_other_commands_name_the_missing_folder_too(tmp_path: Path) -> None:
    missing = str(tmp_path / "gone")
    for args in (["fmt", "--package", missing], ["query", "SELECT 1", "--package", missing]):
        result = invoke(*args)
        assert result.exit_code != 0, args
        assert f"{missing}: no such folder" in result.output, (args, result.output)


# --- fmt --check: a summary that counts every file ---------------------------------------


def test_fmt_summary_counts_the_file_it_could_not_format(package_copy: Path) -> None:
    path = package_copy / "data" / "visits.csv"
    path.write_bytes(path.read_bytes() + b"only,three,cells\n")
    result = invoke("fmt", "--check", "--package", str(package_copy))
    assert result.exit_code == 1
    total = stored_resources(package_copy)
    assert result.stderr.splitlines()[-1] == (
        f"{total} files: 0 would be reformatted, {total - 1} unchanged, 1 not formatted"
    )


def test_fmt_summary_counts_each_kind(package_copy: Path) -> None:
    ragged = package_copy / "data" / "visits.csv"
    ragged.write_bytes(ragged.read_bytes() + b"only,three,cells\n")
    shuffled = package_copy / "data" / "sources.csv"
    header, first, second, *rest = shuffled.read_text(encoding="utf-8").split("\n")
    shuffled.write_text("\n".join([header, second, first, *rest]), encoding="utf-8")
    total = stored_resources(package_copy)

    checked = invoke("fmt", "--check", "--package", str(package_copy))
    assert checked.exit_code == 1
    assert "would reformat data/sources.csv" in checked.stdout
    assert checked.stderr.splitlines()[-1] == (
        f"{total} files: 1 would be reformatted, {total - 2} unchanged, 1 not formatted"
    )
    written = invoke("fmt", "--package", str(package_copy))
    assert written.stderr.splitlines()[-1] == (
        f"{total} files: 1 reformatted, {total - 2} unchanged, 1 not formatted"
    )


def test_fmt_summary_of_a_canonical_package(package_copy: Path) -> None:
    result = invoke("fmt", "--check", "--package", str(package_copy))
    assert result.exit_code == 0
    total = stored_resources(package_copy)
    assert result.stderr == f"{total} files: 0 would be reformatted, {total} unchanged\n"
