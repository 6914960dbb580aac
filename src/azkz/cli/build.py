"""`azkz build`: validate the package and write the release `dist/<version>/` (`azkz.release`)."""

from __future__ import annotations

import sys

import click
import duckdb

from azkz.cli.options import PACKAGE_OPTION, directory_option, progress_log
from azkz.core.layout import ReleaseError
from azkz.release import build as building
from azkz.schema.package import DescriptorError
from azkz.validate.report import render


@click.command()
@directory_option("--out", default="dist", help="Directory receiving <version>/ and index.json.")
@PACKAGE_OPTION
def build(out: str, package_dir: str) -> None:
    """Validate the package and write the release dist/<version>/.

    Exit codes: 0 built (or identical release already there), 1 invalid package or
    version already released with different content, 2 unreadable package.
    """

    log = progress_log(building.RichBuildLog, building.BuildLog)
    try:
        with log:
            result = building.build_release(package_dir, out, log)
    except building.InvalidPackage as exc:
        render(exc.report, "text", stream=sys.stderr)
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(exc.report.exit_code or 1) from None
    except DescriptorError as exc:
        click.echo(f"error: cannot read the package: {exc}", err=True)
        raise SystemExit(2) from None
    except (ReleaseError, duckdb.Error) as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(1) from None
    for line in building.summary_lines(result):
        click.echo(line)
