"""Issue 23's stray commas, reproduced on the real package: an extra cell is an
`extra-cell` at its physical line, empty or not, with the positional errors Frictionless
reports beside it; the messages point at the stray comma; `azkz build` refuses."""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

from tests.helpers import invoke


def edit_line(root: Path, table: str, line: int, change) -> None:
    path = root / "data" / f"{table}.csv"
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[line - 1] = change(lines[line - 1])
    path.write_text("\n".join(lines), encoding="utf-8")


def azkz_errors(root: Path) -> list[dict]:
    result = invoke("validate", str(root), "--format", "json")
    assert result.exit_code == 1, result.output
    return json.loads(result.stdout)["errors"]


def frictionless_errors(root: Path) -> set[tuple[str, int, str]]:
    import frictionless

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = frictionless.validate(str(root / "datapackage.json"))
    return {(t.name, e.row_number, e.type) for t in report.tasks for e in t.errors}


def test_a_trailing_comma_is_an_extra_cell_as_in_frictionless(package_copy):
    edit_line(package_copy, "visits", 3, lambda text: text + ",")
    errors = azkz_errors(package_copy)
    assert [(e["resource"], e["line"], e["code"]) for e in errors] == [("visits", 3, "extra-cell")]
    assert "more cells than the header" in errors[0]["message"]
    assert frictionless_errors(package_copy) == {("visits", 3, "extra-cell")}


def test_a_stray_comma_inside_a_row_keeps_frictionless_s_error_set(package_copy):
    edit_line(
        package_copy, "indicators", 3, lambda text: text.replace(",16,count,", ",1,600,count,")
    )
    errors = azkz_errors(package_copy)
    found = {(e["resource"], e["line"], e["code"]) for e in errors}
    assert found == frictionless_errors(package_copy)
    assert ("indicators", 3, "extra-cell") in found and len(errors) == 4
    # Every message of the row says it has too many cells: look for the comma first.
    assert all("more cells than the header" in e["message"] for e in errors)


def test_the_build_refuses_a_stray_comma(package_copy):
    edit_line(package_copy, "visits", 3, lambda text: text + ",")
    cwd = os.getcwd()
    os.chdir(package_copy)
    try:
        result = invoke("build", "--out", "dist")
    finally:
        os.chdir(cwd)
    assert result.exit_code != 0
    assert "extra-cell line 3" in result.output
    assert not (package_copy / "dist").exists()


def test_the_quick_scan_counts_delimiters_as_csv_does_wherever_a_chunk_ends():
    """The quick scan's sign of an empty extra cell: delimiters outside quotes, counted
    chunk by chunk, with chunks cut inside quoted cells and between doubled quotes."""
    import csv
    import io

    import numpy as np

    from azkz.validate.scan import _commas_outside_quotes

    text = 'a,b\n"x,\ny",1\n"p,""q""","r,,s"\n,\n' * 20
    want = sum(len(r) - 1 for r in csv.reader(io.StringIO(text, newline="")))
    data = np.frombuffer(text.encode(), dtype=np.uint8)
    for size in (1, 2, 3, 7, 16, len(data)):
        total = quotes_seen = 0
        for start in range(0, len(data), size):
            chunk = data[start : start + size]
            quotes = np.flatnonzero(chunk == ord('"'))
            mask = np.empty(len(chunk), dtype=bool)
            total += _commas_outside_quotes(chunk, mask, quotes, quotes_seen)
            quotes_seen += len(quotes)
        assert total == want, size
