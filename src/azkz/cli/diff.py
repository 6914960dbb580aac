"""`azkz diff`: what changed between two versions, and the SemVer bump it needs (`azkz.diff`)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from azkz import diff as diffing
from azkz.cli.options import directory_option, format_option
from azkz.schema.package import DescriptorError


@click.command()
@click.argument("old")
@click.argument("new")
@format_option("text", "json", "markdown", help="Report format (markdown: for a PR).")
@click.option(
    "--check-version",
    is_flag=True,
    help="Exit 1 unless NEW's version is bumped at least as much as needed.",
)
@directory_option("--repo", default=".", help="Repository in which OLD/NEW git refs are looked up.")
@click.option(
    "--examples",
    default=10,
    show_default=True,
    type=click.IntRange(min=0),
    help="Rows listed per table and kind of change (counts are always exact).",
)
def diff(old: str, new: str, fmt: str, check_version: bool, repo: str, examples: int) -> None:
    """What changed from OLD to NEW, and the SemVer bump it needs.

    OLD and NEW are each a release directory (dist/<version>/), a datapackage.json,
    WORKTREE (the files on disk) or a git ref (v0.1.0, origin/main, HEAD).
    Exit codes: 0 ok, 1 version not bumped enough (--check-version), 2 unreadable input.
    """

    try:
        result = diffing.diff_specs(old, new, Path(repo), examples)
        verdict = diffing.check_version(result) if check_version else None
    except (diffing.DiffError, DescriptorError) as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(2) from None
    if verdict is None:
        click.echo(diffing.RENDERERS[fmt](result), nl=False)
        return
    ok, message = verdict
    if fmt == "json":
        click.echo(
            json.dumps(
                {
                    "ok": ok,
                    "message": message,
                    "bump": result.bump,
                    "old_version": result.old.version,
                    "new_version": result.new.version,
                },
                indent=2,
            )
        )
    else:
        click.echo(f"{'ok' if ok else 'error'}: {message}", err=not ok)
    raise SystemExit(0 if ok else 1)
