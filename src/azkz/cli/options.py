"""Options and helpers the commands share: `--format`, directories, `--package`, `--check`,
progress on stderr, and a quiet end when the reader of stdout goes away.
"""

from __future__ import annotations

import contextlib
import os
import sys

import click
from rich.console import Console


def format_option(default: str, *others: str, help: str):
    """`--format` (stored as `fmt`): the first choice is the default."""
    return click.option(
        "--format",
        "fmt",
        type=click.Choice([default, *others]),
        default=default,
        show_default=True,
        help=help,
    )


def directory_option(*names: str, default: str, help: str):
    """A directory option (`--package`, `--out`, …), shown with its default."""
    return click.option(
        *names, default=default, show_default=True, type=click.Path(file_okay=False), help=help
    )


def silence_stdout() -> None:
    """Point stdout at /dev/null so Python's exit-time flush cannot fail on the pipe."""

    # Not a real file descriptor (e.g. a test runner's buffer): nothing to flush.
    with contextlib.suppress(OSError, ValueError, AttributeError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def progress_log(rich_log, plain_log):
    """Progress on stderr: `rich_log(console)` on a terminal, else plain lines."""

    console = Console(stderr=True)
    if console.is_terminal:
        return rich_log(console)
    return plain_log(lambda line: click.echo(line, err=True))


PACKAGE_OPTION = directory_option(
    "--package", "package_dir", default=".", help="Directory holding datapackage.json."
)
CHECK_OPTION = click.option(
    "--check", is_flag=True, help="Write nothing; exit 1 if the committed file is stale."
)
