"""The conformance suite: one small package per rule and per defect (tests/conformance/).

Each package's `expected.json` gives the (code, line) pairs `azkz validate` must report.
The same packages go through `frictionless validate`: it must give the same verdict and
the same (code, row) set, except in the packages whose `expected.json` records a kept
difference (listed with its reason in docs/decisions.md).  Rows and lines are the same
number in these one-line-per-row files; header errors have line 1 here and no row there.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest

from azkz.core.errors import by_layer
from azkz.validate import profile
from azkz.validate.package import validate_package

CASES = sorted(p for p in (Path(__file__).parent / "conformance").iterdir() if p.is_dir())
LABELS = {e.code for e in by_layer("file") if e.code.endswith("-label")}


def expected(case: Path) -> dict:
    return json.loads((case / "expected.json").read_text(encoding="utf-8"))


def pairs(errors) -> set[tuple[str, int | None]]:
    return {(code, None if code in LABELS else line) for code, line in errors}


@pytest.mark.parametrize("path", ["loaded", "profiled"])
@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_azkz_reports_the_expected_codes_and_lines(case, path, monkeypatch):
    if path == "profiled":  # every table no foreign key points to takes the large-table path
        monkeypatch.setattr(profile, "PROFILE_MIN_BYTES", 0)
    report = validate_package(case)
    want = expected(case)
    assert report.valid is want["valid"]
    assert {(e["code"], e["line"]) for e in report.errors} == {tuple(p) for p in want["errors"]}


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_frictionless_agrees_or_the_difference_is_recorded(case):
    import frictionless

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = frictionless.validate(str(case / "datapackage.json"))
    found = {(e.type, getattr(e, "row_number", None)) for t in result.tasks for e in t.errors}
    found |= {(e.type, None) for e in result.errors}
    want = expected(case)
    kept = want.get("frictionless")
    if kept is None:
        assert result.valid is want["valid"]
        assert pairs(found) == pairs(want["errors"])
    else:
        assert kept["difference"]
        assert result.valid is kept["valid"]
        assert pairs(found) == pairs(kept["errors"])


def test_every_kept_difference_is_in_the_decisions():
    decisions = (Path(__file__).parents[1] / "docs" / "decisions.md").read_text(encoding="utf-8")
    for case in CASES:
        if "frictionless" in expected(case):
            assert f"`{case.name}`" in decisions, case.name
