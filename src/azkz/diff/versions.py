"""Is a version bumped enough for a diff?  The SemVer arithmetic is `azkz.core.version`'s;
a side whose version is not SemVer is a `DiffError` naming the side."""

from __future__ import annotations

import semver

from azkz.core.version import DOWNGRADE, NotSemVer, bump_level, next_version
from azkz.core.version import parse_version as parse_semver
from azkz.diff.model import BUMPS, Diff, DiffError
from azkz.schema.package import DESCRIPTOR


def parse_version(version: str, label: str) -> semver.Version:
    """One side's version (`label`: "old side", "new side"), else a `DiffError`."""
    try:
        return parse_semver(version)
    except NotSemVer as exc:
        raise DiffError(f"{label}: {exc}") from None


def version_bump(old: str, new: str) -> str:
    """How far `new` is from `old`: none, patch, minor, major, or 'downgrade'."""
    return bump_level(parse_version(old, "old side"), parse_version(new, "new side"))


def check_version(diff: Diff) -> tuple[bool, str]:
    """Is NEW's version bumped at least as much as the change needs? (ok, message)."""
    needed = diff.bump
    done = version_bump(diff.old.version, diff.new.version)
    versions = f"{diff.old.version} → {diff.new.version}"
    if done == DOWNGRADE:
        return False, f"version goes backwards ({versions}); it must increase"
    if BUMPS.index(done) >= BUMPS.index(needed):
        if needed == "none":
            return True, f"no data or schema changes; version {versions} is fine"
        return True, (
            f"version {versions} is a {done} bump, enough for these changes (they need {needed})"
        )
    reasons = [c for c in diff.schema_changes if c.bump == needed] if needed != "patch" else []
    why = "; ".join(f"{c.table}{'.' + c.field if c.field else ''}: {c.detail}" for c in reasons[:5])
    advice = f"bump version in {DESCRIPTOR} to {suggest_version(diff.old.version, needed)}"
    return False, (
        f"version {versions} is {'not bumped' if done == 'none' else 'a ' + done + ' bump'}, "
        f"but the changes need a {needed} bump{' (' + why + ')' if why else ''}: {advice}"
    )


def suggest_version(old: str, bump: str) -> str:
    """The lowest version after `old` that makes a `bump` (a pre-release: its release)."""
    return next_version(parse_version(old, "old side"), bump)
