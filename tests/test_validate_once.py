"""Validate once: each command reads and validates the working tree's package one time."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import pytest

import azkz
import azkz.schema.package
import azkz.validate.package
from azkz.access import query
from azkz.diff import diff_specs
from azkz.release import build
from azkz.schema.package import Package
from tests.helpers import release_dir


@pytest.fixture
def counted(monkeypatch) -> Counter:
    """Counts, per package directory, descriptor reads ('read') and validations."""
    counts: Counter = Counter()
    load_json, validate = azkz.schema.package._load_json, azkz.validate.package.validate_package

    def counting_load(path, *args, **kwargs):
        if Path(path).name == "datapackage.json":
            counts["read", Path(path).parent.resolve()] += 1
        return load_json(path, *args, **kwargs)

    def counting_validate(root):  # a directory, or a package already read
        where = root.root if isinstance(root, Package) else Path(root)
        counts["validated", where.resolve()] += 1
        return validate(root)

    monkeypatch.setattr(azkz.schema.package, "_load_json", counting_load)
    for module in [m for name, m in sys.modules.items() if name.startswith("azkz.")]:
        if getattr(module, "validate_package", None) is validate:  # each importer's name
            monkeypatch.setattr(module, "validate_package", counting_validate)
    return counts


def once(counts: Counter, root: Path) -> bool:
    root = root.resolve()
    return counts["read", root] == 1 and counts["validated", root] == 1


def test_build_reads_and_validates_once(package_copy, counted):
    build.build_release(package_copy, package_copy / "dist")
    assert once(counted, package_copy), counted


def test_query_and_load_read_and_validate_once(package_copy, counted):
    query.open_working_tree(package_copy).con.close()
    assert once(counted, package_copy), counted
    counted.clear()
    assert len(azkz.load("indicators", root=package_copy, engine="arrow")) > 0
    assert once(counted, package_copy), counted


def test_diff_reads_and_validates_the_working_tree_once(built_release, package_copy, counted):
    diff_specs(str(release_dir(built_release)), str(package_copy))
    assert once(counted, package_copy), counted
    assert counted["validated", release_dir(built_release).resolve()] == 0
