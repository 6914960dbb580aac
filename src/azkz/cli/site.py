"""`azkz site`: the catalogue website of a release (`azkz.publish.site`)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from azkz.publish.site import wasm
from azkz.publish.site.pages import SiteError, build_site


@click.command("site")
@click.option(
    "--release",
    "version",
    default=None,
    metavar="VERSION",
    help="Release to publish (default: latest, as DIST/index.json says).",
)
@click.option(
    "--out",
    default="dist/site",
    show_default=True,
    help="Directory to write the site into (replaced if it holds an earlier site).",
)
@click.option(
    "--dist",
    default="dist",
    show_default=True,
    help="Directory holding the releases and index.json.",
)
def site(version: str | None, out: str, dist: str) -> None:
    """Build the static catalogue website of a release, with an in-browser SQL console.

    The first run fetches DuckDB-WASM with npm into ~/.cache/azkz (or $AZKZ_CACHE_DIR);
    later runs are offline.
    """

    if not wasm.is_vendored():
        click.echo(
            f"fetching DuckDB-WASM {wasm.DUCKDB_WASM_VERSION} with npm into "
            f"{wasm.vendored_dir()} (once per machine)",
            err=True,
        )
    try:
        result = build_site(Path(dist), Path(out), version)
    except SiteError as exc:
        click.echo(f"azkz site: {exc}", err=True)
        sys.exit(2)
    click.echo(
        f"site of release {result.version} written to {result.out}: "
        f"{len(result.pages)} pages, {result.bytes / 1e6:.1f} MB with downloads"
    )
