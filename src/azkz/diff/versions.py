"""Is a version bumped enough for a diff? SemVer arithmetic on `azkz.core.layout.Version`."""

from __future__ import annotations

from azkz.core.layout import ReleaseError, Version
from azkz.diff.model import BUMPS, Diff, DiffError
from azkz.schema.package import DESCRIPTOR


def parse_version(version: str, label: str) -> tuple[int, int, int]:
    """MAJOR, MINOR, PATCH of one side's version (`azkz.core.layout.Version` parses it)."""
    try:
        return Version.parse(version).core
    except ReleaseError as exc:
        raise DiffError(f"{label}: {exc}") from None


def version_bump(old: str, new: str) -> str:
    """How far `new` is from `old`: none, patch, minor, major, or 'downgrade'."""
    a, b = parse_version(old, "old side"), parse_version(new, "new side")
    if b < a:
        return "downgrade"
    if b[0] > a[0]:
        return "major"
    if b[1] > a[1]:
        return "minor"
    return "patch" if b[2] > a[2] else "none"


def check_version(diff: Diff) -> tuple[bool, str]:
    """Is NEW's version bumped at least as much as the change needs? (ok, message)."""
    needed = diff.bump
    done = version_bump(diff.old.version, diff.new.version)
    versions = f"{diff.old.version} → {diff.new.version}"
    if done == "downgrade":
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
    major, minor, patch = parse_version(old, "old side")
    if bump == "major":
        return f"{major + 1}.0.0"
    if bump == "minor":
        return f"{major}.{minor + 1}.0"
    return f"{major}.{minor}.{patch + 1}"
