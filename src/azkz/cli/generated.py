"""Files generated from the package (`azkz docs`, `azkz citation`): written, or checked
with `--check`; bad input becomes a message and an exit status.
"""

from __future__ import annotations

from pathlib import Path

import click
import duckdb

from azkz.core.layout import ReleaseError
from azkz.schema.package import DescriptorError, read_package


def generated_files(package_dir: str, make) -> dict:
    """{path: text} from `make(package)`; bad input becomes a message and exit 1 or 2.

    The generators assume a valid package; unreadable CSV is pointed to `azkz validate`,
    which names the file, line and field.
    """

    try:
        return make(read_package(package_dir))
    except DescriptorError as exc:
        click.echo(f"error: cannot read the package: {exc}", err=True)
        raise SystemExit(2) from None
    except ReleaseError as exc:  # e.g. no `accessed` dates to date the release by
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(1) from None
    except duckdb.Error as exc:
        click.echo(
            f"error: the data cannot be read ({exc.__class__.__name__}); "
            "run `azkz validate` for the file, line and field",
            err=True,
        )
        raise SystemExit(1) from None


def write_or_check(files: dict, check: bool) -> None:
    """Write the generated files, or with `check` exit 1 naming those that are stale."""

    stale = [
        p
        for p, text in files.items()
        if not Path(p).is_file() or Path(p).read_text(encoding="utf-8") != text
    ]
    if check:
        for path in stale:
            click.echo(f"stale: {path} (regenerate it and commit the result)", err=True)
        if stale:
            raise SystemExit(1)
        click.echo(f"up to date: {', '.join(str(p) for p in files)}")
        return
    for path, text in files.items():
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(text, encoding="utf-8", newline="\n")
        click.echo(f"wrote {path}")
