"""`azkz docs`: the data dictionary, curation coverage and README error list (`azkz.publish`)."""

from __future__ import annotations

import click

from azkz.cli.generated import generated_files, write_or_check
from azkz.cli.options import CHECK_OPTION, PACKAGE_OPTION
from azkz.publish.coverage import curation_notes
from azkz.publish.docs import DICTIONARY_PATH, README_PATH, data_dictionary, readme_with_error_list


@click.command()
@PACKAGE_OPTION
@CHECK_OPTION
def docs(package_dir: str, check: bool) -> None:
    """Generate docs/data-dictionary.md, docs/curation.md's coverage tables and README.md's
    error list."""

    def generated(pkg) -> dict:
        files = {pkg.root / DICTIONARY_PATH: data_dictionary(pkg)} | curation_notes(pkg)
        readme = pkg.root / README_PATH
        if readme.is_file():  # a package without the project's README has no error list
            files[readme] = readme_with_error_list(readme.read_text(encoding="utf-8"))
        return files

    files = generated_files(package_dir, generated)
    write_or_check(files, check)
