"""`azkz validate`: every error of the package, with file, line and field (`azkz.validate`)."""

from __future__ import annotations

import sys

import click

from azkz.cli.options import format_option, silence_stdout
from azkz.validate.package import validate_package
from azkz.validate.report import render


@click.command()
@click.argument("path", default=".", type=click.Path(file_okay=True, dir_okay=True))
@format_option("text", "json", "github", help="text for people, json for machines, github for CI.")
@click.option("--debug", is_flag=True, help="Show a traceback for unexpected failures.")
def validate(path: str, fmt: str, debug: bool) -> None:
    """Check the data package at PATH: every error, with file, line and field.

    Exit status: 0 valid, 1 invalid data, 2 unusable package or usage error.
    """

    try:
        report = validate_package(path)
        render(report, fmt, sys.stdout)
    except BrokenPipeError:
        silence_stdout()  # the reader stopped early (`| head`): the result stands
        sys.exit(report.exit_code)
    except Exception as exc:
        if debug:
            raise
        click.echo(
            f"azkz validate: unexpected failure: {type(exc).__name__}: {exc} "
            f"(run with --debug for a traceback)",
            err=True,
        )
        sys.exit(2)
    sys.exit(report.exit_code)
