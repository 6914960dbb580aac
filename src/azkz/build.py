"""Versioned, immutable, checksummed releases: `azkz build` writes `dist/<version>/`.

A build validates the package, loads its typed tables into DuckDB (through
`azkz.typed`, the one place that decides what a cell means) and writes, inside a
staging directory in `dist/`:

    data/<table>.csv          normalised: UTF-8, LF, RFC 4180, sorted by primary key
    data/<table>.parquet      typed, zstd, the Table Schema in the key-value metadata
    <name>.duckdb             typed tables, primary/foreign keys, COMMENT ON everything
    datapackage.json          this release's descriptor: bytes + sha256 per resource
    SHA256SUMS                `sha256sum -c` compatible, every file but itself and the zip
    <name>-<version>.zip      the whole version directory, fixed timestamps and order

then renames the staging directory to `dist/<version>/` (atomic) and rewrites
`dist/index.json`. A version that exists is never overwritten: the same content is a
no-op and different content is refused with a message to bump `version`.

Extension point: a release file is added by appending one step function to
`RELEASE_STEPS`. Each step receives a `ReleaseContext` (staging directory, package,
DuckDB connection holding the typed tables, previous release directory or None, the
`created` timestamp, the progress log) and writes its file(s) inside `ctx.stage_dir`.
The steps run in order before the checksums, the zip and the index are computed, so a
new file is automatically checksummed, zipped and indexed.

Everything is deterministic except the `.duckdb` file, whose header and checksums
differ between two builds of the same data; `release_fingerprint` compares its tables
instead, and compares the other files byte by byte.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from azkz.citation import created_from_data, write_citation_files
from azkz.diff import write_changes
from azkz.digest import sha256_file
from azkz.releases import (
    DATA_DIR,
    Manifest,
    ReleaseError,
    previous_release,
    publish,
    release_files,
    release_summary,
    staging,
    table_file,
    write_checksums,
    write_index,
)
from azkz.report import Report
from azkz.schema import DERIVED_RESOURCES, Package, Table, field_list
from azkz.typed import ident_list, key_order, load_tables, quote_ident, quote_literal

# DuckDB's working memory: past it, sorts and tables spill to a temporary directory
# (never the staging one).  At 1M rows this keeps the build's peak RSS under 1 GB at
# no cost in time (benchmarks/build.md); DuckDB's default is 80% of the machine's RAM.
BUILD_DUCKDB_CONFIG = {"memory_limit": "512MB"}
ZIP_PERMISSIONS = 0o644
# Deflate level 1: at 1M rows the zip takes 1.4 s instead of 4.9 s at level 6 for about
# 13% more bytes (benchmarks/build.md); the files inside are the same either way.
ZIP_LEVEL = 1
CHUNK = 1 << 20


class BuildError(ReleaseError):
    """The release cannot be built; the message says why and what to do."""


class InvalidPackage(BuildError):
    """The package does not validate; `report` is the validator's report."""

    def __init__(self, report: Any):
        self.report = report
        super().__init__("the package is not valid; fix the errors above and build again")


class BuildLog:
    """Progress sink: plain lines by default; `azkz.cli` passes a rich one on a TTY."""

    def __init__(self, echo: Callable[[str], None] = lambda _line: None):
        self.echo = echo

    def __enter__(self) -> BuildLog:
        return self

    def __exit__(self, *_exc) -> None:
        """Nothing to stop; `RichBuildLog` stops its spinner here."""

    def step(self, text: str) -> None:
        self.echo(text)

    def wrote(self, path: Path, stage_dir: Path) -> None:
        self.echo(f"  {path.relative_to(stage_dir).as_posix()}  {path.stat().st_size:,} bytes")


class RichBuildLog(BuildLog):
    """On a terminal: a spinner naming the current step, coloured lines for files."""

    def __init__(self, console):
        self.console = console
        self.status = console.status("starting")

    def __enter__(self) -> RichBuildLog:
        self.status.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.status.stop()

    def step(self, text: str) -> None:
        self.status.update(text)
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


def table_ddl(table: Table, catalog: str) -> str:
    """CREATE TABLE with types, NOT NULL, primary and foreign keys from the Table Schema."""
    lines = [
        f"{quote_ident(f.name)} {f.duckdb_type}{' NOT NULL' if f.required else ''}"
        for f in table.fields
    ]
    if table.primary_key:
        lines.append(f"PRIMARY KEY ({ident_list(table.primary_key)})")
    lines += [f"UNIQUE ({ident_list(key)})" for key in table.unique_keys]
    for fk in table.foreign_keys:
        ref = fk["reference"]
        lines.append(
            f"FOREIGN KEY ({ident_list(field_list(fk['fields']))}) REFERENCES "
            f"{quote_ident(ref.get('resource') or table.name)} "
            f"({ident_list(field_list(ref['fields']))})"
        )
    body = ",\n  ".join(lines)
    return f"CREATE TABLE {catalog}.{quote_ident(table.name)} (\n  {body}\n)"


def comment_statements(table: Table, catalog: str | None = None) -> list[str]:
    """COMMENT ON the table and every column, from the schema's descriptions."""
    qualified = f"{catalog}.{quote_ident(table.name)}" if catalog else quote_ident(table.name)
    statements = [f"COMMENT ON TABLE {qualified} IS {quote_literal(table.description)}"]
    statements += [
        f"COMMENT ON COLUMN {qualified}.{quote_ident(f.name)} IS {quote_literal(f.description)}"
        for f in table.fields
    ]
    return statements


def sorted_select(table: Table, columns: str = "*") -> str:
    return f"SELECT {columns} FROM {quote_ident(table.name)} ORDER BY {key_order(table)}"


def stored_select(table: Table, columns: str = "*") -> str:
    """The build's typed table in the order it is stored: already sorted by key."""
    return f"SELECT {columns} FROM {quote_ident(table.name)}"


def _csv_column(table: Table, name: str) -> str:
    """Canonical text of a typed column: integral numbers without a trailing `.0`."""
    col = quote_ident(name)
    if table.field(name).type == "number":
        return (
            f"CASE WHEN {col} = trunc({col}) AND abs({col}) < 9e18 "
            f"THEN CAST(CAST({col} AS BIGINT) AS VARCHAR) ELSE CAST({col} AS VARCHAR) END AS {col}"
        )
    return col


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
    """data/<table>.parquet: typed columns, zstd, sorted by key (byte-identical reruns)."""
    ctx.data_dir.mkdir(exist_ok=True)
    for table in ctx.package.tables:
        path = ctx.stage_dir / table_file(table.name, "parquet")
        kv = ", ".join(
            f"{quote_literal(k)}: {quote_literal(v)}" for k, v in parquet_metadata(table).items()
        )
        ctx.con.execute(
            f"COPY ({stored_select(table)}) TO {quote_literal(str(path))} "
            f"(FORMAT parquet, COMPRESSION zstd, KV_METADATA {{{kv}}})"
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


def write_release_files(ctx: ReleaseContext) -> None:
    for step in RELEASE_STEPS:
        ctx.log.step(f"{step.__name__.replace('_', ' ')}")
        step(ctx)


# --- checksums, zip, index ---------------------------------------------------------


def zip_name(package: Package) -> str:
    return f"{package.name}-{package.version}.zip"


def write_zip(stage_dir: Path, package: Package, created: str) -> Path:
    """A zip of the directory: sorted entries, fixed time and permissions, one top folder."""
    path = stage_dir / zip_name(package)
    members = release_files(stage_dir)
    timestamp = _zip_time(created)
    folder = f"{package.name}-{package.version}"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for member in members:
            name = f"{folder}/{member.relative_to(stage_dir).as_posix()}"
            info = zipfile.ZipInfo(name, timestamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info._compresslevel = ZIP_LEVEL  # `zf.open(info)` ignores the ZipFile's level
            info.external_attr = (0o100000 | ZIP_PERMISSIONS) << 16
            info.create_system = 3  # Unix, so the permissions are honoured
            with member.open("rb") as src, zf.open(info, "w", force_zip64=True) as dst:
                shutil.copyfileobj(src, dst, CHUNK)
    return path


def _zip_time(created: str) -> tuple[int, int, int, int, int, int]:
    year, month, day = (int(x) for x in created[:10].split("-"))
    return (max(year, 1980), month, day, 0, 0, 0)


# --- comparing releases ------------------------------------------------------------


def duckdb_fingerprint(path: Path) -> str:
    """Digest of a .duckdb file's tables (DDL, comments, rows), not of its bytes."""
    import duckdb

    digest = hashlib.sha256()
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = con.execute(
            "SELECT table_name, sql, comment FROM duckdb_tables() ORDER BY table_name"
        ).fetchall()
        for name, sql, comment in tables:
            columns = con.execute(
                "SELECT column_name, data_type, is_nullable, comment FROM duckdb_columns() "
                "WHERE table_name = ? ORDER BY column_index",
                [name],
            ).fetchall()
            rows = con.execute(
                f"SELECT count(*), bit_xor(hash(t)) FROM {quote_ident(name)} AS t"
            ).fetchall()
            digest.update(repr((name, sql, comment, columns, rows)).encode())
    finally:
        con.close()
    return digest.hexdigest()


DUCKDB_DIGEST_PLACEHOLDER = b"<sha256 of the .duckdb file>"


def _metadata_bytes(data: bytes, duckdb_digests: list[str]) -> bytes:
    """A metadata file's bytes with the .duckdb file's (unreproducible) sha256 masked.

    SHA256SUMS, and any release file a later step adds that lists file hashes (such
    as dataset.jsonld), mention that digest; everything else in them must be equal.
    """
    for digest in duckdb_digests:
        data = data.replace(digest.encode(), DUCKDB_DIGEST_PLACEHOLDER)
    return data


def _zip_fingerprint(path: Path, duckdb_digests: list[str]) -> str:
    digest = hashlib.sha256()
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            facts: tuple = (info.filename, info.date_time, info.external_attr)
            inner = info.filename.split("/", 1)[-1]
            if inner.endswith(".duckdb"):
                pass  # its tables are compared through the file itself
            elif inner.startswith(f"{DATA_DIR}/"):
                facts += (info.CRC, info.file_size)
            else:
                facts += (_metadata_bytes(zf.read(info), duckdb_digests),)
            digest.update(repr(facts).encode())
    return digest.hexdigest()


def release_fingerprint(version_dir: Path) -> dict[str, str]:
    """Per file, what must be equal for two releases to hold the same content.

    Byte digests for every file, except where the `.duckdb` file's non-reproducible
    bytes show: the file itself (its tables are compared instead), its sha256 in
    metadata files (masked) and its entry in the zip.
    """
    files = release_files(version_dir)
    databases = [p for p in files if p.suffix == ".duckdb"]
    duckdb_digests = [sha256_file(p) for p in databases]
    fingerprint = {}
    for path in files:
        name = path.relative_to(version_dir).as_posix()
        if path in databases:
            fingerprint[name] = duckdb_fingerprint(path)
        elif path.suffix == ".zip":
            fingerprint[name] = _zip_fingerprint(path, duckdb_digests)
        elif name.startswith(f"{DATA_DIR}/"):
            fingerprint[name] = sha256_file(path)
        else:
            data = _metadata_bytes(path.read_bytes(), duckdb_digests)
            fingerprint[name] = hashlib.sha256(data).hexdigest()
    return fingerprint


def differing_files(a: Path, b: Path) -> list[str]:
    fa, fb = release_fingerprint(a), release_fingerprint(b)
    return sorted(name for name in fa.keys() | fb.keys() if fa.get(name) != fb.get(name))


# --- the build ---------------------------------------------------------------------


def validate_or_raise(root: Path) -> Package:
    """The package at `root` as the validator read it; `InvalidPackage` if it is not valid."""
    from azkz.validate import validate_package

    report = validate_package(root)
    if not report.valid:
        raise InvalidPackage(report)
    return report.package


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
        log.step("checksums and zip")
        log.wrote(write_checksums(ctx.manifest), stage_dir)
        log.wrote(write_zip(stage_dir, package, ctx.created), stage_dir)
        facts = ctx.manifest.entries()  # the zip is the last file: every file hashed once
        created = _publish(stage_dir, target, version)
    log.step("updating index.json")
    write_index(out, {version: facts} if created else None)
    # From the release on disk: after a no-op rebuild that is the older, kept copy.
    return BuildResult(version, target, created, release_summary(target))


def _stage_release(
    package: Package, stage_dir: Path, previous: Path | None, log: BuildLog
) -> ReleaseContext:
    """Load the typed tables, run every release step and check the tables' contracts.

    The contracts are checked on a second cursor while the steps write (polars and
    DuckDB both work outside the GIL); their failures refuse the release like
    validation errors, and the staged files are then discarded with the staging
    directory.
    """
    import duckdb

    with (
        tempfile.TemporaryDirectory(prefix="azkz-build-") as spill,
        closing(duckdb.connect(config=BUILD_DUCKDB_CONFIG | {"temp_directory": spill})) as con,
    ):
        con.execute("SET enable_progress_bar = false")  # our log reports progress
        log.step(f"loading {len(package.tables)} typed tables")
        # Validated by build_release; sorted once here for every file written below.
        load_tables(package, con, valid=True, ordered=True)
        log.step("checking pandera contracts")
        with ThreadPoolExecutor(1) as background:
            contracts = background.submit(contract_errors, package, con.cursor())
            ctx = ReleaseContext(
                stage_dir=stage_dir,
                package=package,
                con=con,
                previous_release_dir=previous,
                created=created_from_data(con, package),
                log=log,
                manifest=Manifest(stage_dir),
            )
            try:
                write_release_files(ctx)
            finally:
                errors = contracts.result()
        if errors:
            raise InvalidPackage(Report(errors=errors))
    return ctx


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
    """
    from azkz.contracts import check_table

    try:
        return [e for table in package.tables for e in check_table(table, cursor)]
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
