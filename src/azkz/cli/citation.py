"""`azkz citation`: CITATION.cff and dataset.jsonld (`azkz.release.citation`)."""

from __future__ import annotations

import click

from azkz.cli.generated import generated_files, write_or_check
from azkz.cli.options import CHECK_OPTION, PACKAGE_OPTION
from azkz.release.citation import repository_metadata


@click.command()
@PACKAGE_OPTION
@CHECK_OPTION
def citation(package_dir: str, check: bool) -> None:
    """Generate CITATION.cff and dataset.jsonld from datapackage.json and the data."""

    files = generated_files(
        package_dir,
        lambda pkg: {pkg.root / name: text for name, text in repository_metadata(pkg).items()},
    )
    write_or_check(files, check)
