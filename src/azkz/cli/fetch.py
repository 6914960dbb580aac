"""`azkz fetch`: download a published release, verified (`azkz.access.remote`)."""

from __future__ import annotations

import click

from azkz.access import remote
from azkz.cli.options import directory_option, progress_log
from azkz.core.layout import CHECKSUMS, ReleaseError, release_summary


@click.command()
@click.argument("version", default="latest")
@directory_option("--to", default="dist", help="Directory receiving <version>/ and index.json.")
def fetch(version: str, to: str) -> None:
    """Download release VERSION (default: latest) into TO/VERSION/, verified.

    Every file's sha256 is checked against the release's index.json before it is kept.
    Releases come from $AZKZ_RELEASES_URL (default: where the project publishes them)
    and are cached in $AZKZ_CACHE_DIR (default: your user cache directory), so fetching
    again needs no network. Exit codes: 0 fetched (or already there), 2 unknown
    version, unreachable server, HTTP error or checksum mismatch.
    """

    progress = progress_log(remote.RichFetchLog, remote.FetchLog)
    try:
        with progress:
            result = remote.fetch_release(version, to, progress=progress)
    except ReleaseError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(2) from None
    files = release_summary(result.path)
    state = "fetched" if result.created else "already there, unchanged"
    click.echo(f"release {result.version}: {state}")
    click.echo(f"path    {result.path}")
    click.echo(f"files   {len(files)}, {sum(files.values()):,} bytes, sha256 verified")
    click.echo(f"check   cd {result.path} && sha256sum -c {CHECKSUMS}")
