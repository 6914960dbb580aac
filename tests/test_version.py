"""One SemVer (issue 22): parsing, ordering and bumps, pre-releases included."""

from __future__ import annotations

import itertools

import pytest

from azkz.core.layout import built_versions, previous_release
from azkz.core.version import LEVELS, NotSemVer, parse_version, sorted_versions
from azkz.diff import DiffError, suggest_version, version_bump


@pytest.mark.parametrize(
    "old, new, bump",
    [
        ("1.0.0", "1.0.0-rc.1", "downgrade"),  # a pre-release comes before its release
        ("1.0.0-rc.2", "1.0.0-rc.1", "downgrade"),
        ("1.0.0-rc.1", "1.0.0", "major"),  # the release a pre-release previews
        ("1.1.0-rc.1", "1.1.0", "minor"),
        ("1.1.1-rc.1", "1.1.1", "patch"),
        ("1.0.0-rc.1", "1.0.0-rc.2", "major"),  # within the series: its level
        ("1.1.0-alpha", "1.1.0-beta", "minor"),
        ("1.1.0-rc.1", "1.1.1", "minor"),  # past the release: at least its level
        ("1.1.0-rc.1", "2.0.0", "major"),
        ("1.0.0", "1.1.0-rc.1", "minor"),  # towards a pre-release: as its core says
        ("1.0.0", "2.0.0-rc.1", "major"),
        ("1.0.0", "1.0.1-alpha.1", "patch"),
        ("1.0.0+build.1", "1.0.0+build.2", "none"),  # build metadata is no version
        ("0.2.0", "0.2.0", "none"),
    ],
)
def test_version_bump_orders_pre_releases(old, new, bump):
    assert version_bump(old, new) == bump


@pytest.mark.parametrize(
    "old, bump, suggested",
    [
        ("1.0.0-rc.1", "major", "1.0.0"),
        ("1.0.0-rc.1", "patch", "1.0.0"),
        ("1.1.0-rc.1", "minor", "1.1.0"),
        ("1.1.0-rc.1", "major", "2.0.0"),
        ("1.1.1-rc.1", "minor", "1.2.0"),
        ("1.2.3", "minor", "1.3.0"),
        ("1.2.3", "patch", "1.2.4"),
        ("1.2.3+build.9", "major", "2.0.0"),
    ],
)
def test_suggested_version_is_the_lowest_that_is_enough(old, bump, suggested):
    assert suggest_version(old, bump) == suggested
    assert LEVELS.index(version_bump(old, suggested)) >= LEVELS.index(bump)


def test_a_side_that_is_not_semver_is_named():
    with pytest.raises(DiffError, match=r"^new side: version 'v1.0.0' is not SemVer"):
        version_bump("1.0.0", "v1.0.0")
    with pytest.raises(NotSemVer):
        parse_version("1.0.0-rc..1")


def test_releases_on_disk_sort_as_the_diff_compares(tmp_path):
    """The release directories' order and `version_bump` agree (one comparison)."""
    versions = ["1.0.0", "1.0.0-rc.1", "0.9.0", "1.0.0-rc.10", "1.0.0-rc.2", "1.0.1-alpha"]
    for version in versions:
        (tmp_path / version).mkdir()
        (tmp_path / version / "datapackage.json").write_text("{}", encoding="utf-8")
    ordered = built_versions(tmp_path)
    assert ordered == ["0.9.0", "1.0.0-rc.1", "1.0.0-rc.2", "1.0.0-rc.10", "1.0.0", "1.0.1-alpha"]
    assert ordered == sorted_versions(versions)
    assert all(version_bump(a, b) != "downgrade" for a, b in itertools.pairwise(ordered))
    assert previous_release(tmp_path, "1.0.0").name == "1.0.0-rc.10"
