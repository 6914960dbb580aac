"""Versions: SemVer 2.0.0 through the `semver` package, one parser and one ordering.

Release directories are sorted by it (`azkz.core.layout`), `azkz fetch` and `azkz.load`
refuse what it refuses, and `azkz diff --check-version` measures a bump with it, so a
version compares the same everywhere: `1.0.0-rc.1` is below `1.0.0`, build metadata
(`+build.7`) changes nothing.

A bump from a pre-release counts at least as the level the pre-release previews:
`1.0.0-rc.1 → 1.0.0` (or `→ 1.0.0-rc.2`) is a major bump, as the step from `0.x` that
the pre-release series began is; `1.1.0-rc.1 → 1.1.0` a minor one, `1.1.1-rc.1 → 1.1.1`
a patch.  The changes made during a pre-release series belong to the version it previews
(SemVer promises nothing between pre-releases).
"""

from __future__ import annotations

import semver

LEVELS = ("none", "patch", "minor", "major")  # a bump's size, smallest first
DOWNGRADE = "downgrade"


class NotSemVer(ValueError):
    """A version that is not SemVer 2.0.0; the message quotes it."""


def parse_version(text: str) -> semver.Version:
    """`text` as a SemVer version; `NotSemVer` for anything else (`v1.0.0`, `1.0`, `01.0.0`)."""
    if not isinstance(text, str) or not semver.Version.is_valid(text):
        raise NotSemVer(f"version {text!r} is not SemVer (MAJOR.MINOR.PATCH)")
    return semver.Version.parse(text)


def version_key(text: str) -> tuple:
    """Sort key for version strings by SemVer precedence; anything that is not SemVer
    sorts first, by text (as does, among equal versions, the build metadata's text)."""
    try:
        return (1, parse_version(text), text)
    except NotSemVer:
        return (0, None, text)


def sorted_versions(versions) -> list[str]:
    return sorted(versions, key=version_key)


def previewed_level(version: semver.Version) -> str:
    """The level of the release `version`'s core is: major for X.0.0, minor for X.Y.0."""
    if version.minor == version.patch == 0:
        return "major"
    return "minor" if version.patch == 0 else "patch"


def bump_level(old: semver.Version, new: semver.Version) -> str:
    """How far `new` is from `old`: one of `LEVELS`, or `DOWNGRADE` when it is lower."""
    if new < old:
        return DOWNGRADE
    if new == old:
        return "none"
    cores = zip(("major", "minor", "patch"), old.to_tuple()[:3], new.to_tuple()[:3], strict=True)
    level = next((name for name, a, b in cores if a != b), "none")
    if old.prerelease:
        level = max(level, previewed_level(old), key=LEVELS.index)
    return level


def next_version(old: semver.Version, level: str) -> str:
    """The lowest version above `old` that is a bump of at least `level` (patch at least)."""
    if old.prerelease and LEVELS.index(level) <= LEVELS.index(previewed_level(old)):
        return str(old.finalize_version())
    if level == "major":
        return str(old.bump_major())
    if level == "minor":
        return str(old.bump_minor())
    return str(old.bump_patch())
