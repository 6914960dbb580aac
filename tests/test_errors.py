"""The error vocabulary (`azkz.core.errors`): defined once, used everywhere, documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from azkz.core import errors
from azkz.core.errors import error
from azkz.publish.docs import readme_with_error_list
from azkz.validate.report import Report

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted((ROOT / "src" / "azkz").glob("*.py"))


def test_each_code_once_with_every_attribute():
    codes = [e.code for e in errors.VOCABULARY]
    assert len(codes) == len(set(codes))
    for kind in errors.VOCABULARY:
        assert kind.title and kind.template and kind.description, kind.code
        assert kind.exit_status in (1, 2), kind.code
        assert kind.layer in errors.LAYERS, kind.code
    assert {e.exit_status for e in errors.by_layer("descriptor")} == {2}


def test_readme_error_list_is_generated_from_the_vocabulary():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert readme_with_error_list(readme) == readme, "run `azkz docs`"
    for kind in errors.VOCABULARY:
        assert f"`{kind.code}`" in readme


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_no_code_literal_outside_the_vocabulary(path):
    if path.name == "errors.py":
        return
    text = path.read_text(encoding="utf-8")
    for kind in errors.VOCABULARY:
        assert not re.search(rf"[\"']{re.escape(kind.code)}[\"']", text), (path.name, kind.code)


def test_a_record_needs_a_vocabulary_entry():
    with pytest.raises(TypeError):
        error("t", "data/t.csv", 2, None, "type-error", "a code spelled as text")


def test_exit_status_comes_from_the_codes():
    row = error("t", "data/t.csv", 2, None, errors.TYPE_ERROR, "x")
    schema = error("t", "schemas/t.json", None, None, errors.SCHEMA_ERROR, "x")
    assert Report().exit_code == 0
    assert Report(errors=[row]).exit_code == 1
    assert Report(errors=[row, schema]).exit_code == 2
