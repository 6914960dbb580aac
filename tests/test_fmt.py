"""`azkz fmt`: canonical CSV (sorted by primary key, minimal quoting, LF, UTF-8, no BOM)."""

from __future__ import annotations

import random

from click.testing import CliRunner

from azkz.cli import main
from azkz.schema.package import read_package


def fmt(root, *args: str):
    return CliRunner().invoke(main, ["fmt", "--package", str(root), *args])


def test_the_package_is_canonical(package_copy):
    result = fmt(package_copy, "--check")
    assert result.exit_code == 0, result.output
    assert "would reformat" not in result.output


def test_a_shuffled_crlf_copy_is_named_then_restored(package_copy):
    path = package_copy / "data" / "visits.csv"
    canonical = path.read_bytes()
    header, *rows = canonical.decode("utf-8").split("\n")[:-1]
    assert all('"' not in r or "\n" not in r for r in rows)  # one line per row here
    random.Random(14).shuffle(rows)
    path.write_bytes(("\r\n".join([header, *rows]) + "\r\n").encode("utf-8"))
    other = (package_copy / "data" / "sources.csv").read_bytes()

    checked = fmt(package_copy, "--check")
    assert checked.exit_code == 1
    assert "would reformat data/visits.csv" in checked.output
    assert "sources.csv" not in checked.output
    assert path.read_bytes() != canonical  # --check writes nothing

    assert fmt(package_copy).exit_code == 0
    assert path.read_bytes() == canonical
    assert (package_copy / "data" / "sources.csv").read_bytes() == other
    again = fmt(package_copy)
    assert again.exit_code == 0 and "reformatted data" not in again.output
    assert path.read_bytes() == canonical


def test_quoting_bom_blank_lines_and_numeric_keys(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "datapackage.json").write_text(
        '{"name": "t", "resources": [{"name": "t", "path": "data/t.csv", "schema": '
        '{"fields": [{"name": "n", "type": "integer"}, {"name": "s"}], "primaryKey": "n"}}]}',
        encoding="utf-8",
    )
    path = tmp_path / "data" / "t.csv"
    path.write_bytes('\ufeffn,s\n10,"plain"\n\n9,"a, b"\n2,"say ""hi"""\n1,"two\nlines"'.encode())
    assert fmt(tmp_path).exit_code == 0
    assert path.read_bytes() == (b'n,s\n1,"two\nlines"\n2,"say ""hi"""\n9,"a, b"\n10,plain\n')


def test_a_ragged_file_is_left_untouched(package_copy):
    path = package_copy / "data" / "visits.csv"
    path.write_bytes(path.read_bytes() + b"only,three,cells\n")
    before = path.read_bytes()
    result = fmt(package_copy)
    assert result.exit_code == 1
    assert "data/visits.csv line" in result.output and "3 cells" in result.output
    assert path.read_bytes() == before
    assert read_package(package_copy)  # the package is still readable
