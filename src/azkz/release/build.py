"""Versioned, immutable, checksummed releases: `azkz build` writes `dist/<version>/`.

A build validates the package, loads its typed tables into DuckDB (through
`azkz.tables.typed`, the one place that decides what a cell means) and writes, inside a
staging directory in `dist/`:

    data/<table>.csv          normalised: UTF-8, LF, RFC 4180, sorted by primary key
    data/<table>.parquet      typed, zstd, the Table Schema in the key-value metadata
    <name>.duckdb             typed tables, primary/foreign keys, COMMENT ON everything
    datapackage.json          this release's descriptor: bytes + sha256 per resource
    SHA256SUMS                `sha256sum -c` compatible, every file but itself and the zip
    <name>-<version>.zip      the whole version directory, fixed timestamps and order,
                              written ahead as the files are finished (`zip_release_ahead`)

then renames the staging directory to `dist/<version>/` (atomic) and rewrites
`dist/index.json`. A version that exists is never overwritten: the same content is a
no-op and different content is refused with a message to bump `version`.

Extension point: a release file is added by appending one step function to
`RELEASE_STEPS`. Each step receives a `ReleaseContext` (staging directory, package,
DuckDB connection holding the typed tables, previous release directory or None, the
`created` timestamp, the progress log) and writes its file(s) inside `ctx.stage_dir`.
The steps run in order before the checksums, the zip and the index are computed, so a
new file is automatically checksummed, zipped and indexed.  A step in `CONCURRENT_STEPS`
(the `.duckdb` file) starts at once on a cursor of its own and runs beside the steps
listed before it; the files finished meanwhile are hashed while it runs.  Each typed
table is sorted by key once, when it is loaded, and every writer reads it as stored.

Everything is deterministic except the `.duckdb` file, whose header and checksums
differ between two builds of the same data; `azkz.release.fingerprint` compares its tables
instead, and compares the other files byte by byte.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from azkz.core.layout import (
    DATA_DIR,
    Manifest,
    ReleaseError,
    previous_release,
    publish,
    release_summary,
    staging,
    table_file,
    write_checksums,
    write_index,
)
from azkz.core.progress import ProgressLog
from azkz.core.sql import quote_ident, quote_literal
from azkz.derive import derive_tables
from azkz.release.archive import ZipAhead
from azkz.release.changes import write_changes
from azkz.release.citation import created_from_data, write_citation_files
from azkz.release.fingerprint import differing_files
from azkz.schema.package import DERIVED_RESOURCES, Package, Table
from azkz.tables.ddl import comment_statements, table_ddl
from azkz.tables.typed import load_tables, sort_tables
from azkz.validate.contracts import cast_fields, check_table
from azkz.validate.package import InvalidPackage, validate_or_raise
from azkz.validate.report import Report

# DuckDB's working memory: past it, sorts and tables spill to a temporary directory
# (never the staging one).  At 1M rows this keeps the build's peak RSS under 1 GB at
# no cost in time (benchmarks/build.md); DuckDB's default is 80% of the machine's RAM.
BUILD_DUCKDB_CONFIG = {"memory_limit": "512MB"}

# Rows per row group of the Parquet files: DuckDB's own row group size (its Parquet
# writer's default, written out), so each full row group of a typed table the build
# loaded (`load_release_tables`) becomes one Parquet row group as it is.
PARQUET_ROW_GROUP_SIZE = 122_880


class BuildError(ReleaseError):
    """The release cannot be built; the message says why and what to do."""


class BuildLog(ProgressLog):
    """The build's progress: each step, and each file written with its size (`azkz.cli`
    passes a rich one on a terminal)."""

    def step(self, text: str) -> None:
        self.echo(text)

    def wrote(self, path: Path, stage_dir: Path) -> None:
        self.echo(f"  {path.relative_to(stage_dir).as_posix()}  {path.stat().st_size:,} bytes")


class RecordedLog(BuildLog):
    """Progress kept to be replayed later in its place (a step run in another thread), or
    passed on to `forward` at once; either way `written` lists each file reported
    written, which its step has finished."""

    def __init__(
        self, forward: BuildLog | None = None, on_written: Callable[[Path], None] | None = None
    ):
        self.forward, self.on_written = forward, on_written
        self.calls: list[tuple[str, tuple]] = []
        self.written: list[Path] = []

    def step(self, text: str) -> None:
        self._keep("step", (text,))

    def wrote(self, path: Path, stage_dir: Path) -> None:
        self.written.append(path)
        self._keep("wrote", (path, stage_dir))
        if self.on_written is not None:
            self.on_written(path)

    def _keep(self, method: str, args: tuple) -> None:
        if self.forward is not None:
            getattr(self.forward, method)(*args)
        else:
            self.calls.append((method, args))

    def replay(self, log: BuildLog) -> None:
        for method, args in self.calls:
            getattr(log, method)(*args)


class RichBuildLog(BuildLog):
    """On a terminal: a spinner naming the current step, coloured lines for files."""

    def __init__(self, console):
        self.console = console
        self.display = console.status("starting")

    def step(self, text: str) -> None:
        self.display.update(text)
        self.console.print(f"[bold cyan]•[/] {text}")

    def wrote(self, path: Path, stage_dir: Path) -> None:
        name = path.relative_to(stage_dir).as_posix()
        self.console.print(f"    [green]{name}[/]  [dim]{path.stat().st_size:,} bytes[/]")


@dataclass
class ReleaseContext:
    stage_dir: Path
    package: Package
    con: Any  # duckdb connection with one typed table per resource
    previous_release_dir: Path | None
    created: str
    log: BuildLog
    manifest: Manifest  # size and sha256 of each staged file, computed once

    @property
    def data_dir(self) -> Path:
        return self.stage_dir / DATA_DIR

    @property
    def duckdb_name(self) -> str:
        return f"{self.package.name}.duckdb"


@dataclass
class BuildResult:
    version: str
    path: Path
    created: bool  # False when an identical release already existed (no-op)
    files: dict[str, int] = field(default_factory=dict)  # relative path -> bytes


# --- schema-driven SQL -------------------------------------------------------------


def tables_in_dependency_order(package: Package) -> list[Table]:
    """Referenced tables first, so foreign keys can be declared and filled in order."""
    ordered: list[Table] = []
    visiting: set[str] = set()

    def visit(table: Table) -> None:
        if table in ordered:
            return
        if table.name in visiting:
            raise BuildError(f"foreign keys form a cycle through table {table.name!r}")
        visiting.add(table.name)
        for fk in table.foreign_keys:
            target = fk["reference"].get("resource") or table.name
            if target != table.name:
                visit(package.table(target))
        visiting.discard(table.name)
        ordered.append(table)

    for table in package.tables:
        visit(table)
    return ordered


def stored_select(table: Table, columns: str = "*") -> str:
    """The build's typed table in the order it is stored: already sorted by key."""
    return f"SELECT {columns} FROM {quote_ident(table.name)}"


def _csv_column(table: Table, name: str) -> str:
    """Canonical text of a typed column: integral numbers without a trailing `.0`, and
    a missing value written as the field reads it back: an empty cell where that is
    one of its missing values, else its first one (as Frictionless writes).  COPY
    quotes an empty string (`""`), so an empty text stays apart from an empty cell."""
    col = quote_ident(name)
    field = table.field(name)
    text = col
    if field.type == "number":
        text = (
            f"CASE WHEN {col} = trunc({col}) AND abs({col}) < 9e18 "
            f"THEN CAST(CAST({col} AS BIGINT) AS VARCHAR) ELSE CAST({col} AS VARCHAR) END"
        )
    if field.missing_values and "" not in field.missing_values:
        text = f"coalesce(CAST({text} AS VARCHAR), {quote_literal(field.missing_values[0])})"
    return text if text == col else f"{text} AS {col}"


# --- release steps -----------------------------------------------------------------


def write_csv_files(ctx: ReleaseContext) -> None:
    """data/<table>.csv: RFC 4180 with LF, quoted only where needed, sorted by key."""
    ctx.data_dir.mkdir(exist_ok=True)
    for table in ctx.package.tables:
        path = ctx.stage_dir / table_file(table.name, "csv")
        columns = ", ".join(_csv_column(table, n) for n in table.field_names)
        ctx.con.execute(
            f"COPY ({stored_select(table, columns)}) TO {quote_literal(str(path))} "
            "(FORMAT csv, HEADER true, DELIMITER ',', QUOTE '\"', ESCAPE '\"', NULL '')"
        )
        ctx.log.wrote(path, ctx.stage_dir)


def parquet_metadata(table: Table) -> dict[str, str]:
    """Parquet key-value metadata: the Table Schema (descriptions, units, keys) as JSON."""
    return {
        "frictionless:schema": json.dumps(table.schema, ensure_ascii=False, sort_keys=True),
        "description": table.description,
    }


def write_parquet_files(ctx: ReleaseContext) -> None:
    """data/<table>.parquet: typed columns, zstd, sorted by key (byte-identical reruns).

    DuckDB's Parquet writer cuts its row groups where the row groups of the table it
    reads end (merging short ones as the threads deliver them), so the bytes are only
    reproducible from a table whose row groups are: `load_release_tables` fills each to
    `PARQUET_ROW_GROUP_SIZE` rows in order, and each is written as one row group."""
    ctx.data_dir.mkdir(exist_ok=True)
    for table in ctx.package.tables:
        path = ctx.stage_dir / table_file(table.name, "parquet")
        kv = ", ".join(
            f"{quote_literal(k)}: {quote_literal(v)}" for k, v in parquet_metadata(table).items()
        )
        ctx.con.execute(
            f"COPY ({stored_select(table)}) TO {quote_literal(str(path))} (FORMAT parquet, "
            f"COMPRESSION zstd, ROW_GROUP_SIZE {PARQUET_ROW_GROUP_SIZE}, KV_METADATA {{{kv}}})"
        )
        ctx.log.wrote(path, ctx.stage_dir)


def write_duckdb_file(ctx: ReleaseContext) -> None:
    """<name>.duckdb: DDL generated from the schemas, filled in foreign-key order."""
    path = ctx.stage_dir / ctx.duckdb_name
    ctx.con.execute(f"ATTACH {quote_literal(str(path))} AS release")
    try:
        for table in tables_in_dependency_order(ctx.package):
            ctx.con.execute(table_ddl(table, "release"))
            ctx.con.execute(f"INSERT INTO release.{quote_ident(table.name)} {stored_select(table)}")
            for statement in comment_statements(table, "release"):
                ctx.con.execute(statement)
    finally:
        ctx.con.execute("DETACH release")
    ctx.log.wrote(path, ctx.stage_dir)


def _file_facts(ctx: ReleaseContext, name: str) -> dict[str, Any]:
    facts = ctx.manifest.facts(name)
    return {"bytes": facts.bytes, "hash": f"sha256:{facts.sha256}"}


def release_descriptor(ctx: ReleaseContext) -> dict[str, Any]:
    """The source descriptor with inline schemas, file facts, version and `created`.

    Schemas are inlined so the release directory is self-contained; each table is
    listed twice, as its CSV and as `<table>-parquet`. Derived tables join `resources`
    (keeping `derivedFrom`): in a release their files exist like any other's.
    """
    source = ctx.package.descriptor
    descriptor = {k: v for k, v in source.items() if k not in ("resources", DERIVED_RESOURCES)}
    descriptor["version"] = ctx.package.version
    descriptor["created"] = ctx.created
    resources = []
    for table in ctx.package.tables:
        csv_path = table_file(table.name, "csv")
        parquet_path = table_file(table.name, "parquet")
        csv_resource = {k: v for k, v in table.resource.items() if k != "schema"}
        csv_resource.update(path=csv_path, schema=table.schema)
        csv_resource.update(_file_facts(ctx, csv_path))
        resources.append(csv_resource)
        resources.append(
            {
                "name": f"{table.name}-parquet",
                "title": f"{table.title} (Parquet)",
                "description": f"The `{table.name}` table, typed, as Apache Parquet "
                f"(zstd); its Table Schema is in the file's key-value metadata.",
                "path": parquet_path,
                "type": "file",
                "scheme": "file",
                "format": "parquet",
                "mediatype": "application/vnd.apache.parquet",
                **_file_facts(ctx, parquet_path),
            }
        )
    descriptor["resources"] = resources
    return descriptor


def write_datapackage(ctx: ReleaseContext) -> None:
    path = ctx.stage_dir / "datapackage.json"
    text = json.dumps(release_descriptor(ctx), ensure_ascii=False, indent=2) + "\n"
    path.write_text(text, encoding="utf-8", newline="\n")
    ctx.log.wrote(path, ctx.stage_dir)


# Add a release file here: one function taking a ReleaseContext, writing in stage_dir.
RELEASE_STEPS: list[Callable[[ReleaseContext], None]] = [
    write_csv_files,
    write_parquet_files,
    write_duckdb_file,
    write_datapackage,
    write_changes,  # changes.json + CHANGELOG.md against the previous release
    # Keep last: dataset.jsonld lists (with sha256) every file the steps above wrote.
    write_citation_files,
]


# Steps that only read the typed tables and write a file no earlier step reads: each
# starts at once on a cursor of its own, beside the steps listed before it, and is
# waited for (and its progress reported) in its place in RELEASE_STEPS.  The .duckdb
# file's keys are checked mostly on one core, so the CSV and Parquet files are written
# meanwhile (benchmarks/build.md).
CONCURRENT_STEPS = (write_duckdb_file,)


def write_release_files(
    ctx: ReleaseContext, on_finished: Callable[[Path], None] | None = None
) -> None:
    """Run the release steps; `on_finished` is told each file once it is final (its step
    reported it written), as the zip written ahead needs."""
    finished = RecordedLog(forward=ctx.log, on_written=on_finished)  # each file, once final
    ctx = replace(ctx, log=finished)
    with ThreadPoolExecutor(len(CONCURRENT_STEPS)) as pool:
        started = {
            step: pool.submit(_run_beside, step, ctx)
            for step in RELEASE_STEPS
            if step in CONCURRENT_STEPS
        }
        for step in RELEASE_STEPS:
            if step in started:
                _hash(ctx, finished.written)  # while the concurrent step still runs
                started[step].result().replay(finished)
                continue
            ctx.log.step(_step_name(step))
            step(ctx)


def _hash(ctx: ReleaseContext, written: list[Path]) -> None:
    """Hash the finished files `written` into the manifest now, off the critical path (a
    step never changes a file it reported written: the manifest's hashes rely on it)."""
    for path in written:
        ctx.manifest.facts(path.relative_to(ctx.stage_dir).as_posix())


def _step_name(step: Callable[[ReleaseContext], None]) -> str:
    return step.__name__.replace("_", " ")


def _run_beside(step: Callable[[ReleaseContext], None], ctx: ReleaseContext) -> RecordedLog:
    """Run `step` on its own cursor; its progress is kept for `write_release_files`."""
    log = RecordedLog()
    log.step(_step_name(step))
    with closing(ctx.con.cursor()) as cursor:
        step(replace(ctx, con=cursor, log=log))
    return log


# --- the build ---------------------------------------------------------------------


def build_release(
    root: str | Path = ".", out: str | Path = "dist", log: BuildLog | None = None
) -> BuildResult:
    """Validate `root`, write `out/<version>/` atomically, refresh `out/index.json`."""
    root, out = Path(root), Path(out)
    log = log or BuildLog()
    log.step("validating the package")
    package = validate_or_raise(root)
    version = package.version
    target = out / version
    with staging(out, version) as stage_dir:
        ctx = _stage_release(package, stage_dir, previous_release(out, version), log)
        facts = ctx.manifest.entries()  # the zip is the last file: every file hashed once
        created = _publish(stage_dir, target, version)
    log.step("updating index.json")
    write_index(out, {version: facts} if created else None)
    # From the release on disk: after a no-op rebuild that is the older, kept copy.
    return BuildResult(version, target, created, release_summary(target))


def load_release_tables(package: Package, con) -> None:
    """The typed tables of a validated package in `con`, the derived ones computed from
    them, each sorted once by key for every file the build writes.

    One thread creates them, whatever `con`'s setting.  A parallel insert stores a table
    in row groups sized by the CSV reader's batches and merged as the threads finish
    them, and the Parquet files' row groups follow those: two builds of the same 1M rows
    once gave different Parquet files (issue 22).  One thread appends the rows in order
    and fills each row group to DuckDB's size, `PARQUET_ROW_GROUP_SIZE`.  Nothing else
    runs on the connection meanwhile.  At 1M rows the load takes 0.68 s instead of 0.50,
    yet the build no longer (6.63 → 6.60 s, in turns); with rows not in key order, which
    one thread sorts too, the load takes 1.4 s instead of 0.9 (benchmarks/build.md).
    """
    with _threads(con, 1):
        load_tables(package, con, valid=True)
        derive_tables(package, con)
        sort_tables(package.tables, con)


@contextmanager
def _threads(con, threads: int) -> Iterator[None]:
    """DuckDB's `threads` (a setting of the whole database) at `threads`, then as it was."""
    [(before,)] = con.execute("SELECT current_setting('threads')").fetchall()
    con.execute(f"SET threads = {int(threads)}")
    try:
        yield
    finally:
        con.execute(f"SET threads = {int(before)}")


def _stage_release(
    package: Package, stage_dir: Path, previous: Path | None, log: BuildLog
) -> ReleaseContext:
    """Load the typed tables, run every release step, write the checksums and the zip, and
    check the tables' contracts.

    The zip is written ahead, on a thread of its own, as the files are finished
    (`zip_release_ahead`).  The contracts are checked on a second cursor while the
    checksums and the rest of the zip are written: zlib deflates the `.duckdb` file on
    one core, and the contracts (polars and DuckDB, both outside the GIL) take the
    other, which the release steps keep busy before (benchmarks/build.md).  Their failures refuse the release like validation errors,
    and the staged files are then discarded with the staging directory.
    """
    import duckdb

    with (
        tempfile.TemporaryDirectory(prefix="azkz-build-") as spill,
        closing(duckdb.connect(config=BUILD_DUCKDB_CONFIG | {"temp_directory": spill})) as con,
    ):
        con.execute("SET enable_progress_bar = false")  # our log reports progress
        log.step(f"loading {len(package.tables)} typed tables")
        load_release_tables(package, con)
        ctx = ReleaseContext(
            stage_dir=stage_dir,
            package=package,
            con=con,
            previous_release_dir=previous,
            created=created_from_data(con, package),
            log=log,
            manifest=Manifest(stage_dir),
        )
        zip_ahead = zip_release_ahead(ctx)
        try:
            write_release_files(ctx, on_finished=zip_ahead.finished)
            log.step("checksums, zip and pandera contracts")
            with ThreadPoolExecutor(1) as background:
                contracts = background.submit(contract_errors, package, con.cursor())
                try:
                    log.wrote(write_checksums(ctx.manifest), stage_dir)
                    log.wrote(zip_ahead.finish(), stage_dir)
                finally:
                    errors = contracts.result()
        finally:
            zip_ahead.stop()
        if errors:
            raise InvalidPackage(Report(errors=errors))
    return ctx


def zip_release_ahead(ctx: ReleaseContext) -> ZipAhead:
    """The release's zip, started now: the CSV and Parquet files and the `.duckdb` file
    are deflated as each is finished, the data files while the `.duckdb` file is written
    (benchmarks/build.md), the small files written last once all are written."""
    tables = ctx.package.tables
    data = [table_file(t.name, ext) for t in tables for ext in ("csv", "parquet")]
    return ZipAhead(ctx.stage_dir, ctx.package, ctx.created, [*data, ctx.duckdb_name])


def _publish(stage_dir: Path, target: Path, version: str) -> bool:
    """Rename the staged release into place; an existing version must be identical."""
    if target.exists():
        changed = differing_files(target, stage_dir)
        if changed:
            raise BuildError(
                f"version {version} already exists in {target} with different content "
                f"({', '.join(changed)}); releases are immutable: bump `version` in "
                f"datapackage.json and build again"
            )
        return False
    publish(stage_dir, target)
    return True


def contract_errors(package: Package, cursor) -> list[dict[str, Any]]:
    """The typed tables checked against the pandera contracts generated from the schemas.

    A second, independent opinion after the validator: a release is only written when
    both agree.  `cursor` is this check's own (it runs in a thread) and is closed here.

    The contracts check what could still be wrong after validation read the text:
    the values of the columns a cast made (`contracts.cast_fields`: numbers, dates,
    booleans...) against their type, `required` and bounds, and their `unique` rules.
    A derived table was never validated: all its columns are checked.  Left out,
    because they would repeat a check on the very same values: the text columns of a
    table read from its file (they hold the validated text itself), and the primary
    key, which the `.duckdb` file declares on these typed tables, so DuckDB refuses a
    duplicate while that file is written and fails the build before the contracts'
    result is read.
    """

    def fields(table: Table):
        return None if table.virtual else cast_fields(table)

    try:
        return [
            e
            for table in package.tables
            for e in check_table(table, cursor, primary_key=False, fields=fields(table))
        ]
    finally:
        cursor.close()


def summary_lines(result: BuildResult) -> Iterable[str]:
    """Version, state, path and the sizes of the files in `result.path` as they are."""
    total = sum(result.files.values())
    state = "built" if result.created else "unchanged (identical release exists)"
    yield f"version {result.version}: {state}"
    yield f"path    {result.path}"
    yield f"files   {len(result.files)}, {total:,} bytes"
    for name, size in result.files.items():
        yield f"  {name:<50} {size:>14,}"
