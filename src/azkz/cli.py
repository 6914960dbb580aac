"""Command-line interface: thin wrappers over the stage modules."""

from __future__ import annotations

import click

from azkz import __version__


def _data_version() -> str:
    from azkz.schema import DescriptorError, read_package

    try:
        return read_package(".").version
    except DescriptorError:
        return "unknown (no datapackage.json here)"


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(f"azkz {__version__} (data package version {_data_version()})")
        ctx.exit()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print_version,
    help="Show the tool's and the data package's version.",
)
def main() -> None:
    """Azerbaijan–Kazakhstan relations open data: validate, build, query, diff."""


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


def _silence_stdout() -> None:
    """Point stdout at /dev/null so Python's exit-time flush cannot fail on the pipe."""
    import contextlib
    import os
    import sys

    # Not a real file descriptor (e.g. a test runner's buffer): nothing to flush.
    with contextlib.suppress(OSError, ValueError, AttributeError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _progress_log(rich_log, plain_log):
    """Progress on stderr: `rich_log(console)` on a terminal, else plain lines."""
    from rich.console import Console

    console = Console(stderr=True)
    if console.is_terminal:
        return rich_log(console)
    return plain_log(lambda line: click.echo(line, err=True))


# Commands are grouped by stage; each block only parses options and calls its module.
# --- validate (azkz.validate) ---
@main.command()
@click.argument("path", default=".", type=click.Path(file_okay=True, dir_okay=True))
@format_option("text", "json", "github", help="text for people, json for machines, github for CI.")
@click.option("--debug", is_flag=True, help="Show a traceback for unexpected failures.")
def validate(path: str, fmt: str, debug: bool) -> None:
    """Check the data package at PATH: every error, with file, line and field.

    Exit status: 0 valid, 1 invalid data, 2 unusable package or usage error.
    """
    import sys

    from azkz.report import render
    from azkz.validate import validate_package

    try:
        report = validate_package(path)
        render(report, fmt, sys.stdout)
    except BrokenPipeError:
        _silence_stdout()  # the reader stopped early (`| head`): the result stands
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


# --- build, query, tables, describe (azkz.build, azkz.query) ---
_PACKAGE_OPTION = directory_option(
    "--package", "package_dir", default=".", help="Directory holding datapackage.json."
)


@main.command()
@directory_option("--out", default="dist", help="Directory receiving <version>/ and index.json.")
@_PACKAGE_OPTION
def build(out: str, package_dir: str) -> None:
    """Validate the package and write the release dist/<version>/.

    Exit codes: 0 built (or identical release already there), 1 invalid package or
    version already released with different content, 2 unreadable package.
    """
    import sys

    import duckdb

    from azkz import build as building
    from azkz.releases import ReleaseError
    from azkz.report import render
    from azkz.schema import DescriptorError

    log = _progress_log(building.RichBuildLog, building.BuildLog)
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


def _source_options(command):
    """--release / --db / --dist / --package: where the tables come from."""
    options = [
        click.option(
            "--release",
            metavar="VERSION",
            help="Query release VERSION (or latest) instead of the working tree: "
            "DIST/VERSION/ if it is there, else downloaded from $AZKZ_RELEASES_URL "
            "(sha256-checked, cached).",
        ),
        click.option(
            "--db",
            type=click.Path(dir_okay=False),
            help="Query this .duckdb file instead of the working tree.",
        ),
        directory_option("--dist", default="dist", help="Where releases are (--release)."),
        _PACKAGE_OPTION,
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _open_source(release: str | None, db: str | None, dist: str, package_dir: str):
    """Open the requested tables read-only; bad input exits 1 (invalid data) or 2."""
    import sys

    from azkz import query
    from azkz.build import InvalidPackage
    from azkz.releases import ReleaseError
    from azkz.report import render
    from azkz.schema import DescriptorError

    if release and db:
        raise click.UsageError("give --release or --db, not both")
    try:
        if release:
            return query.open_release(release, dist)
        if db:
            return query.open_database(db)
        return query.open_working_tree(package_dir)
    except InvalidPackage as exc:
        render(exc.report, "text", stream=sys.stderr)
        click.echo(
            "error: the package is not valid; fix it, or query a release with --release VERSION",
            err=True,
        )
        raise SystemExit(exc.report.exit_code or 1) from None
    except (query.QueryError, DescriptorError, ReleaseError) as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(2) from None


def _emit(make_result, fmt: str, max_rows: int | None = None) -> None:
    """Render a result to stdout; every failure is a message and exit 2, never a traceback.

    A closed pipe (`azkz query … | head`) ends the command quietly, as other tools do.
    """
    import sys

    from azkz import query

    limit = max_rows if max_rows is not None else query.default_row_limit(fmt)
    try:
        result = make_result()
        rendered = query.render(result, fmt, sys.stdout, limit)
        sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()
        raise SystemExit(141) from None  # 128 + SIGPIPE, what `head`'s writers get
    except query.QueryError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(2) from None
    except MemoryError:
        click.echo(
            "error: out of memory while reading the result; select fewer rows or columns, "
            "or use --format csv (streamed) with --max-rows",
            err=True,
        )
        raise SystemExit(2) from None
    if result.note:
        click.echo(f"note: {result.note}", err=True)
    if rendered.truncated:
        click.echo(
            f"note: showing the first {rendered.rows:,} rows; there are more "
            f"(use --format csv or json to stream all rows, or --max-rows N)",
            err=True,
        )


_QUERY_FORMAT = format_option("table", "csv", "json", "markdown", help="Output format.")


@main.command()
@click.argument("sql")
@_source_options
@_QUERY_FORMAT
@click.option(
    "--max-rows",
    type=click.IntRange(min=0),
    help="Write at most N rows. Default: 10,000 for table and markdown, "
    "all rows (streamed) for csv and json.",
)
def query(
    sql: str,
    release: str | None,
    db: str | None,
    dist: str,
    package_dir: str,
    fmt: str,
    max_rows: int | None,
) -> None:
    """Run read-only SQL on the typed tables (working tree, or a release).

    Only SELECT (and EXPLAIN of a SELECT) runs, and no statement can read or write
    files. JSON: dates ISO 8601, intervals ISO 8601 durations, NaN/Infinity null,
    BLOBs hex. Exit codes: 0 ok, 1 invalid package, 2 refused or failed query,
    unreadable source.
    """
    from azkz.query import run

    source = _open_source(release, db, dist, package_dir)
    _emit(lambda: run(source.con, sql), fmt, max_rows)


@main.command()
@_source_options
@_QUERY_FORMAT
def tables(release: str | None, db: str | None, dist: str, package_dir: str, fmt: str) -> None:
    """List the tables with their row counts and descriptions."""
    from azkz.query import table_list

    source = _open_source(release, db, dist, package_dir)
    _emit(lambda: table_list(source), fmt)


@main.command()
@click.argument("table")
@_source_options
@_QUERY_FORMAT
def describe(
    table: str, release: str | None, db: str | None, dist: str, package_dir: str, fmt: str
) -> None:
    """List TABLE's columns: type, unit, whether required, description."""
    from azkz.query import describe as describe_table

    source = _open_source(release, db, dist, package_dir)
    _emit(lambda: describe_table(source, table), fmt)


# --- fetch (azkz.remote) ---
@main.command()
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
    from azkz import remote
    from azkz.releases import CHECKSUMS, ReleaseError, release_summary

    progress = _progress_log(remote.RichFetchLog, remote.FetchLog)
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


# --- diff (azkz.diff) ---
@main.command()
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
    import json
    from pathlib import Path

    from azkz import diff as diffing
    from azkz.schema import DescriptorError

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


# --- docs, citation (azkz.docs, azkz.citation) ---
def _generated_files(package_dir: str, make) -> dict:
    """{path: text} from `make(package)`; bad input becomes a message and exit 1 or 2.

    The generators assume a valid package; unreadable CSV is pointed to `azkz validate`,
    which names the file, line and field.
    """
    import duckdb

    from azkz.releases import ReleaseError
    from azkz.schema import DescriptorError, read_package

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


def _write_or_check(files: dict, check: bool) -> None:
    """Write the generated files, or with `check` exit 1 naming those that are stale."""
    from pathlib import Path

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


_CHECK_OPTION = click.option(
    "--check", is_flag=True, help="Write nothing; exit 1 if the committed file is stale."
)


@main.command()
@_PACKAGE_OPTION
@_CHECK_OPTION
def docs(package_dir: str, check: bool) -> None:
    """Generate docs/data-dictionary.md, docs/curation.md's coverage tables and README.md's
    error list."""
    from azkz.coverage import curation_notes
    from azkz.docs import DICTIONARY_PATH, README_PATH, data_dictionary, readme_with_error_list

    def generated(pkg) -> dict:
        files = {pkg.root / DICTIONARY_PATH: data_dictionary(pkg)} | curation_notes(pkg)
        readme = pkg.root / README_PATH
        if readme.is_file():  # a package without the project's README has no error list
            files[readme] = readme_with_error_list(readme.read_text(encoding="utf-8"))
        return files

    files = _generated_files(package_dir, generated)
    _write_or_check(files, check)


@main.command()
@_PACKAGE_OPTION
@_CHECK_OPTION
def citation(package_dir: str, check: bool) -> None:
    """Generate CITATION.cff and dataset.jsonld from datapackage.json and the data."""
    from azkz.citation import repository_metadata

    files = _generated_files(
        package_dir,
        lambda pkg: {pkg.root / name: text for name, text in repository_metadata(pkg).items()},
    )
    _write_or_check(files, check)


# --- site (azkz.site) ---
@main.command("site")
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
    import sys
    from pathlib import Path

    from azkz import duckdb_wasm
    from azkz.site import SiteError, build_site

    if not duckdb_wasm.is_vendored():
        click.echo(
            f"fetching DuckDB-WASM {duckdb_wasm.DUCKDB_WASM_VERSION} with npm into "
            f"{duckdb_wasm.vendored_dir()} (once per machine)",
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


# --- fmt (azkz.fmt) ---
@main.command()
@_PACKAGE_OPTION
@click.option(
    "--check", is_flag=True, help="Write nothing; exit 1 naming each file that would change."
)
def fmt(package_dir: str, check: bool) -> None:
    """Write data/*.csv in canonical form: sorted by primary key, minimal quoting, LF, UTF-8."""
    from azkz.fmt import format_package
    from azkz.schema import DescriptorError, read_package

    try:
        package = read_package(package_dir)
    except DescriptorError as exc:
        raise click.ClickException(f"{exc}; run `azkz validate` for details") from None
    outcomes, problems = format_package(package, check)
    for problem in problems:
        click.echo(f"azkz fmt: not formatted: {problem}", err=True)
    changed = [o.path for o in outcomes if o.changed]
    for path in changed:
        click.echo(f"{'would reformat' if check else 'reformatted'} {path}")
    left = len(outcomes) - len(changed)
    click.echo(
        f"{len(changed)} file(s) {'would be ' if check else ''}reformatted, {left} unchanged",
        err=True,
    )
    if problems or (check and changed):
        raise SystemExit(1)
