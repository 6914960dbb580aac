"""`azkz build`: layout, round trip, determinism, immutability, atomicity, refusal."""

from __future__ import annotations

import csv
import json
import math
import shutil
import threading
import time
import zipfile
from contextlib import closing
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from azkz.cli import main
from azkz.core.layout import Manifest
from azkz.core.sql import quote_ident
from azkz.derive import derive_tables
from azkz.release import build, fingerprint
from azkz.schema.package import read_package
from azkz.tables.typed import load_tables
from tests.helpers import (
    copy_package,
    edit_descriptor,
    release_dir,
    sha256_hex,
    synthetic_indicators,
)

TRICKY_NOTE = 'Bakı–Aqtau "ferry"; ə ş ğ ı ö ü ç қ ә ң ө ұ ү і, comma\nsecond line'
TRICKY_VALUES = ["0.1", "1234567.891", "3e-05", "42", "1.50"]


def add_tricky_indicator_rows(root: Path) -> None:
    """Rows exercising non-ASCII, quotes, embedded newlines, empty cells and decimals."""
    path = root / "data" / "indicators.csv"
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    template = rows[0]
    with path.open("a", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(template), lineterminator="\n")
        for i, value in enumerate(TRICKY_VALUES):
            writer.writerow(
                template
                | {
                    "period_start": f"1990-01-{i + 1:02d}",
                    "period_end": f"1990-01-{i + 1:02d}",
                    "value": value,
                    "qualifier": "",
                    "reporter": "",
                    "note": TRICKY_NOTE if i % 2 == 0 else "",
                    "evidence": f"«{value}» — ş",
                }
            )


@pytest.fixture(scope="module")
def tricky_release(tmp_path_factory) -> Path:
    root = copy_package(tmp_path_factory.mktemp("tricky") / "pkg")
    add_tricky_indicator_rows(root)
    build.build_release(root, root / "dist")
    return root


def typed_rows(con, table, source: str) -> list[tuple]:
    order = ", ".join(quote_ident(c) for c in table.row_key)
    return con.execute(f"SELECT * FROM {source} ORDER BY {order}").fetchall()


# --- layout --------------------------------------------------------------------------


def test_release_has_every_file_and_checksums_verify(built_release: Path) -> None:
    release = release_dir(built_release)
    package = read_package(built_release)
    names = {p.relative_to(release).as_posix() for p in release.rglob("*") if p.is_file()}
    for table in package.tables:
        assert f"data/{table.name}.csv" in names
        assert f"data/{table.name}.parquet" in names
    assert {
        f"{package.name}.duckdb",
        "datapackage.json",
        "SHA256SUMS",
        f"{package.name}-{package.version}.zip",
    } <= names

    listed = {}
    for line in (release / "SHA256SUMS").read_text("utf-8").splitlines():
        digest, name = line.split("  ", 1)
        listed[name] = digest
    assert set(listed) == names - {"SHA256SUMS", f"{package.name}-{package.version}.zip"}
    for name, digest in listed.items():
        assert sha256_hex(release / name) == digest, name


def test_zip_holds_every_other_file_with_fixed_time_and_permissions(built_release) -> None:
    release = release_dir(built_release)
    package = read_package(built_release)
    zip_path = release / f"{package.name}-{package.version}.zip"
    with zipfile.ZipFile(zip_path) as zf:
        infos = zf.infolist()
        names = [i.filename for i in infos]
        folder = f"{package.name}-{package.version}/"
        files = sorted(
            p.relative_to(release).as_posix()
            for p in release.rglob("*")
            if p.is_file() and p != zip_path
        )
        # The data files, the .duckdb file, the rest: each group sorted (archive.py).
        data = [n for n in files if n.startswith("data/")]
        rest = [n for n in files if not n.startswith("data/") and n != f"{package.name}.duckdb"]
        assert names == [folder + n for n in [*data, f"{package.name}.duckdb", *rest]]
        created = json.loads((release / "datapackage.json").read_text("utf-8"))["created"]
        day = tuple(int(x) for x in created[:10].split("-"))
        for info in infos:
            assert info.date_time == (*day, 0, 0, 0)
            assert (info.external_attr >> 16) & 0o777 == 0o644
            inner = release / info.filename.removeprefix(folder)
            assert zf.read(info) == inner.read_bytes()


def test_descriptor_has_version_created_and_file_facts(built_release: Path) -> None:
    release = release_dir(built_release)
    descriptor = json.loads((release / "datapackage.json").read_text("utf-8"))
    package = read_package(built_release)
    assert descriptor["version"] == package.version
    con = duckdb.connect()
    load_tables(package, con)
    latest_access = con.execute("SELECT max(accessed) FROM sources").fetchall()[0][0]
    assert descriptor["created"] == f"{latest_access.isoformat()}T00:00:00Z"
    by_name = {r["name"]: r for r in descriptor["resources"]}
    for table in package.tables:
        for name in (table.name, f"{table.name}-parquet"):
            resource = by_name[name]
            path = release / resource["path"]
            assert resource["bytes"] == path.stat().st_size
            assert resource["hash"] == f"sha256:{sha256_hex(path)}"
        assert by_name[table.name]["schema"] == table.schema
        assert by_name[f"{table.name}-parquet"]["format"] == "parquet"


def test_release_passes_frictionless_and_our_validator(built_release: Path) -> None:
    import frictionless

    from azkz.validate.package import validate_package

    release = release_dir(built_release)
    report = frictionless.validate(str(release / "datapackage.json"))
    assert report.valid, report.flatten(["resourceName", "rowNumber", "fieldName", "message"])
    ours = validate_package(release)
    assert ours.valid, ours.errors


def test_index_lists_versions_with_sizes_and_hashes(built_release: Path) -> None:
    index = json.loads((built_release / "dist" / "index.json").read_text("utf-8"))
    version = read_package(built_release).version
    assert index["latest"] == version
    (entry,) = index["versions"]
    release = release_dir(built_release)
    files = {p.relative_to(release).as_posix() for p in release.rglob("*") if p.is_file()}
    assert set(entry["files"]) == files
    for name, facts in entry["files"].items():
        assert facts == {
            "bytes": (release / name).stat().st_size,
            "sha256": sha256_hex(release / name),
        }


# --- contents --------------------------------------------------------------------------


def test_csv_is_lf_rfc4180_sorted_by_primary_key(tricky_release: Path) -> None:
    release = release_dir(tricky_release)
    package = read_package(tricky_release)
    for table in package.tables:
        data = (release / "data" / f"{table.name}.csv").read_bytes()
        assert b"\r" not in data
        data.decode("utf-8")
        with (release / "data" / f"{table.name}.csv").open(encoding="utf-8", newline="") as f:
            rows = list(csv.reader(f, strict=True))
        assert rows[0] == table.field_names
    con = duckdb.connect()
    release_package = read_package(release)
    load_tables(release_package, con)
    for table in release_package.tables:
        in_file_order = con.execute(f"SELECT * FROM {quote_ident(table.name)}").fetchall()
        assert in_file_order == typed_rows(con, table, quote_ident(table.name))


def test_every_value_round_trips_through_csv_parquet_and_duckdb(tricky_release: Path) -> None:
    package = read_package(tricky_release)
    release = release_dir(tricky_release)
    con = duckdb.connect()
    load_tables(package, con)  # the working tree's typed tables
    derive_tables(package, con)
    csv_con = duckdb.connect()
    load_tables(read_package(release), csv_con)  # the release's normalised CSVs, typed
    db = duckdb.connect(str(release / f"{package.name}.duckdb"), read_only=True)
    for table in package.tables:
        expected = typed_rows(con, table, quote_ident(table.name))
        parquet = release / "data" / f"{table.name}.parquet"
        assert typed_rows(csv_con, table, quote_ident(table.name)) == expected
        assert typed_rows(con, table, f"read_parquet('{parquet}')") == expected
        assert typed_rows(db, table, quote_ident(table.name)) == expected

    old_rows = (
        "indicators WHERE evidence LIKE '«%» — ş'"  # the rows add_tricky_indicator_rows wrote
    )
    rows = typed_rows(db, package.table("indicators"), old_rows)
    columns = package.table("indicators").field_names
    tricky = [dict(zip(columns, row, strict=True)) for row in rows]
    assert [r["value"] for r in tricky] == [float(v) for v in TRICKY_VALUES]
    assert tricky[0]["note"] == TRICKY_NOTE and tricky[1]["note"] is None
    assert all(r["qualifier"] is None and r["reporter"] is None for r in tricky)
    assert tricky[0]["period_start"].isoformat() == "1990-01-01"


def test_empty_cells_are_null_never_empty_strings(tricky_release: Path) -> None:
    release = release_dir(tricky_release)
    text = (release / "data" / "indicators.csv").read_text("utf-8")
    assert "1990-01-02,1990-01-02,inferred,1234567.891," in text  # the canonical number text
    assert ",42," in text and ",1.5," in text and ",3e-05," in text
    con = duckdb.connect()
    for table in read_package(tricky_release).tables:
        parquet = release / "data" / f"{table.name}.parquet"
        for f in table.fields:
            if f.type == "string":
                empties = con.execute(
                    f"SELECT count(*) FROM read_parquet('{parquet}') "
                    f"WHERE {quote_ident(f.name)} = ''"
                ).fetchall()[0][0]
                assert empties == 0, (table.name, f.name)


def test_parquet_is_typed_zstd_with_the_schema_in_its_metadata(built_release: Path) -> None:
    release = release_dir(built_release)
    for table in read_package(built_release).tables:
        parquet = pq.ParquetFile(release / "data" / f"{table.name}.parquet")
        metadata = parquet.schema_arrow.metadata
        assert json.loads(metadata[b"frictionless:schema"]) == table.schema
        assert metadata[b"description"].decode() == table.description
        assert parquet.metadata.row_group(0).column(0).compression == "ZSTD"
        arrow_types = {f.name: str(parquet.schema_arrow.field(f.name).type) for f in table.fields}
        for f in table.fields:
            expected = {
                "date": "date32[day]",
                "number": "double",
                "boolean": "bool",
                "string": "string",
                "integer": "int64",
                "year": "int32",
            }[f.type]
            assert arrow_types[f.name] == expected, (table.name, f.name)


def test_duckdb_file_has_keys_and_comments_on_everything(built_release: Path, tmp_path) -> None:
    package = read_package(built_release)
    db_path = tmp_path / "copy.duckdb"
    shutil.copy(release_dir(built_release) / f"{package.name}.duckdb", db_path)
    con = duckdb.connect(str(db_path))
    for table in package.tables:
        comment = con.execute(
            "SELECT comment FROM duckdb_tables() WHERE table_name = ?", [table.name]
        ).fetchall()[0][0]
        assert comment == table.description
        comments = dict(
            con.execute(
                "SELECT column_name, comment FROM duckdb_columns() WHERE table_name = ?",
                [table.name],
            ).fetchall()
        )
        assert comments == {f.name: f.description for f in table.fields}
        kinds = [
            k
            for (k,) in con.execute(
                "SELECT constraint_type FROM duckdb_constraints() WHERE table_name = ?",
                [table.name],
            ).fetchall()
        ]
        assert ("PRIMARY KEY" if table.primary_key else "UNIQUE") in kinds
        assert kinds.count("FOREIGN KEY") == len(table.foreign_keys)
    with pytest.raises(duckdb.ConstraintException):
        con.execute("INSERT INTO indicators SELECT * FROM indicators LIMIT 1")
    with pytest.raises(duckdb.ConstraintException):
        con.execute("UPDATE indicators SET source_id = 'no-such-source'")


def test_tables_are_created_referenced_first() -> None:
    package = read_package(Path(__file__).resolve().parents[1])
    order = [t.name for t in build.tables_in_dependency_order(package)]
    for table in package.tables:
        for fk in table.foreign_keys:
            assert order.index(fk["reference"]["resource"]) < order.index(table.name)


# --- determinism, immutability, atomicity ---------------------------------------------


def test_two_builds_are_byte_identical_except_the_duckdb_file(built_release, tmp_path) -> None:
    build.build_release(built_release, tmp_path / "second")
    first = release_dir(built_release)
    second = tmp_path / "second" / first.name
    package = read_package(built_release)
    database = f"{package.name}.duckdb"
    names = sorted(p.relative_to(first).as_posix() for p in first.rglob("*") if p.is_file())
    assert names == sorted(
        p.relative_to(second).as_posix() for p in second.rglob("*") if p.is_file()
    )
    digests = {sha256_hex(first / database), sha256_hex(second / database)}
    for name in names:
        a, b = (first / name).read_bytes(), (second / name).read_bytes()
        if name.startswith("data/") or name == "datapackage.json":
            assert a == b, name
        elif name.endswith(".zip"):
            continue
        elif name != database:
            # Only mentions of the .duckdb file's digest may differ (SHA256SUMS and the like).
            for digest in digests:
                a, b = a.replace(digest.encode(), b"X"), b.replace(digest.encode(), b"X")
            assert a == b, name
    with (
        zipfile.ZipFile(first / f"{package.name}-{package.version}.zip") as za,
        zipfile.ZipFile(second / f"{package.name}-{package.version}.zip") as zb,
    ):
        infos_a, infos_b = za.infolist(), zb.infolist()
        assert [(i.filename, i.date_time, i.external_attr) for i in infos_a] == [
            (i.filename, i.date_time, i.external_attr) for i in infos_b
        ]
        for ia, ib in zip(infos_a, infos_b, strict=True):
            if ia.filename.startswith(f"{package.name}-{package.version}/data/"):
                assert za.read(ia) == zb.read(ib), ia.filename
    assert fingerprint.duckdb_fingerprint(first / database) == fingerprint.duckdb_fingerprint(
        second / database
    )


def test_rows_in_any_order_give_the_same_data_files(built_release, package_copy) -> None:
    """A table already in key order is not sorted again; one in another order is."""
    for name in ("indicators", "agreements"):
        path = package_copy / "data" / f"{name}.csv"
        header, *rows = path.read_text("utf-8").splitlines(keepends=True)
        path.write_text(header + "".join(reversed(rows)), "utf-8")
    build.build_release(package_copy, package_copy / "dist")
    shuffled, first = release_dir(package_copy), release_dir(built_release)
    for path in sorted((first / "data").iterdir()):
        assert (shuffled / "data" / path.name).read_bytes() == path.read_bytes(), path.name


def parquet_written_on(root: Path, threads: int, stage: Path) -> Path:
    """data/indicators.parquet as the build writes it from the package at `root` loaded
    on a connection of `threads` threads (which the load must leave as it found it)."""
    package = read_package(root)
    stage.mkdir()
    with closing(duckdb.connect(config={"threads": threads})) as con:
        build.load_release_tables(package, con)
        assert con.execute("SELECT current_setting('threads')").fetchall() == [(threads,)]
        ctx = build.ReleaseContext(
            stage, package, con, None, "2025-01-01", build.BuildLog(), Manifest(stage)
        )
        build.write_parquet_files(ctx)
    return stage / "data" / "indicators.parquet"


def test_parquet_row_groups_do_not_follow_the_loads_threads(tmp_path) -> None:
    """Issue 22: a parallel load stored a table in row groups sized by the CSV reader's
    batches (about 16 MB of text each) and by the threads' timing, and the Parquet
    writer's row groups followed them, so two builds of the same 1M rows could differ.
    250,000 rows (three such batches, three row groups) loaded on 1 and on 2 threads give
    the same bytes, in row groups of DuckDB's full size (without the fix 2 threads
    stored 113,828 + 113,175 + 22,997 rows, and the bytes differed in 5 runs of 5)."""
    root = copy_package(tmp_path / "pkg")
    synthetic_indicators(root, 250_000)
    one, two = (parquet_written_on(root, n, tmp_path / f"stage-{n}") for n in (1, 2))
    assert one.read_bytes() == two.read_bytes()
    metadata = pq.ParquetFile(one).metadata
    groups = [metadata.row_group(i).num_rows for i in range(metadata.num_row_groups)]
    full = build.PARQUET_ROW_GROUP_SIZE
    assert groups == [full, full, 250_000 - 2 * full]


def published_copy(built_release: Path, tmp_path: Path) -> tuple[Path, Path]:
    """`(dist, dist/<version>)`: a copy of the session's release of the package (built once,
    by the `built_release` fixture), for a test to rebuild the same package into."""
    out = tmp_path / "dist"
    shutil.copytree(built_release / "dist", out)
    return out, out / read_package(built_release).version


def test_same_content_rebuild_is_a_no_op(built_release: Path, tmp_path: Path) -> None:
    out, version_dir = published_copy(built_release, tmp_path)
    mtimes = {p: p.stat().st_mtime_ns for p in version_dir.rglob("*")}
    again = build.build_release(built_release, out)
    assert not again.created
    assert {p: p.stat().st_mtime_ns for p in version_dir.rglob("*")} == mtimes
    assert sorted(p.name for p in out.iterdir()) == sorted([version_dir.name, "index.json"])


def test_a_release_zipped_in_sorted_order_is_still_a_no_op(built_release, tmp_path) -> None:
    """Releases before issue 22's second pass have their zip's members sorted by name:
    rebuilding one with the same content is a no-op, not a refusal to bump `version`."""
    out, version_dir = published_copy(built_release, tmp_path)
    package = read_package(built_release)
    path = version_dir / f"{package.name}-{package.version}.zip"
    with zipfile.ZipFile(path) as zf:
        members = [(info, zf.read(info)) for info in zf.infolist()]
    assert [i.filename for i, _ in members] != sorted(i.filename for i, _ in members)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for info, data in sorted(members, key=lambda member: member[0].filename):
            zf.writestr(info, data)
    again = build.build_release(built_release, out)
    assert not again.created


def test_a_duckdb_file_with_other_bytes_and_size_is_still_a_no_op(
    built_release, tmp_path, monkeypatch
) -> None:
    """At 1M rows two builds of one package give `.duckdb` files of different bytes and
    sizes; their tables are what counts, and dataset.jsonld quoting both (and SHA256SUMS
    quoting dataset.jsonld's digest) must not make the rebuild differ."""
    out, version_dir = published_copy(built_release, tmp_path)
    write_duckdb_file = build.write_duckdb_file

    def padded(ctx) -> None:  # the same tables after free blocks in the file
        path = str(ctx.stage_dir / ctx.duckdb_name)
        with duckdb.connect(path) as con:
            con.execute("CREATE TABLE padding AS SELECT random() AS r FROM range(300000)")
        write_duckdb_file(ctx)
        with duckdb.connect(path) as con:
            con.execute("DROP TABLE padding")

    padded.__name__ = write_duckdb_file.__name__
    steps = [padded if s is write_duckdb_file else s for s in build.RELEASE_STEPS]
    monkeypatch.setattr(build, "RELEASE_STEPS", steps)
    monkeypatch.setattr(build, "CONCURRENT_STEPS", (padded,))
    stage = tmp_path / "stage"
    publish = build._publish
    monkeypatch.setattr(
        build, "_publish", lambda d, *a: shutil.copytree(d, stage) and publish(d, *a)
    )
    again = build.build_release(built_release, out)
    database = f"{read_package(built_release).name}.duckdb"
    size = (stage / database).stat().st_size
    assert size != (version_dir / database).stat().st_size
    assert f'"{size} B"' in (stage / "dataset.jsonld").read_text("utf-8")
    assert not again.created


def test_no_op_rebuild_reports_the_release_on_disk(built_release, tmp_path, monkeypatch) -> None:
    """The summary describes dist/<version>/ as it is, not the discarded staged copy.

    The second build's zip gets a comment, so its size differs while its entries (all a
    rebuild compares) stay equal, as the .duckdb file's bytes legitimately do.
    """
    out, _ = published_copy(built_release, tmp_path)
    finish = build.ZipAhead.finish

    def zip_with_comment(zip_ahead):
        path = finish(zip_ahead)
        with zipfile.ZipFile(path, "a") as zf:
            zf.comment = b"staged copy"
        return path

    monkeypatch.setattr(build.ZipAhead, "finish", zip_with_comment)
    result = CliRunner().invoke(main, ["build", "--package", str(built_release), "--out", str(out)])
    assert result.exit_code == 0, result.output
    release = out / read_package(built_release).version
    on_disk = {
        p.relative_to(release).as_posix(): p.stat().st_size
        for p in release.rglob("*")
        if p.is_file()
    }
    assert "unchanged" in result.stdout
    assert f"{sum(on_disk.values()):,} bytes" in result.stdout
    for name, size in on_disk.items():
        assert any(line.split() == [name, f"{size:,}"] for line in result.stdout.splitlines())


def test_changed_content_under_the_same_version_is_refused(
    built_release: Path, package_copy: Path
) -> None:
    """The session's release of the package is on disk; the package then changes."""
    out, version_dir = published_copy(built_release, package_copy)
    before = fingerprint.release_fingerprint(version_dir)
    add_tricky_indicator_rows(package_copy)
    with pytest.raises(build.BuildError, match="bump `version`") as caught:
        build.build_release(package_copy, out)
    assert "data/indicators.csv" in str(caught.value)
    assert fingerprint.release_fingerprint(version_dir) == before
    assert not [p for p in out.iterdir() if p.name.startswith(".")]

    edit_descriptor(package_copy, lambda descriptor: descriptor.update(version="0.99.0"))
    seen = []
    original = list(build.RELEASE_STEPS)
    build.RELEASE_STEPS.insert(0, lambda ctx: seen.append(ctx.previous_release_dir))
    try:
        second = build.build_release(package_copy, out)
    finally:
        build.RELEASE_STEPS[:] = original
    assert seen == [version_dir]
    index = json.loads((out / "index.json").read_text("utf-8"))
    assert [v["version"] for v in index["versions"]] == [version_dir.name, "0.99.0"]
    assert index["latest"] == "0.99.0" == second.version


def test_a_concurrent_steps_file_is_zipped_and_hashed_as_finished(package_copy, monkeypatch):
    """A file still being written beside the other steps is not deflated or hashed early."""
    ready = threading.Event()

    def slow_file(ctx) -> None:  # starts its file at once, finishes it once CSVs exist
        path = ctx.stage_dir / "slow.txt"
        with path.open("w", encoding="utf-8") as f:
            f.write("begun\n")
            f.flush()
            ready.wait(timeout=30)
            time.sleep(0.2)  # the main thread has moved on to deflating finished files
            f.write("finished\n")
        ctx.log.wrote(path, ctx.stage_dir)

    def csv_then_signal(ctx) -> None:
        build.write_csv_files(ctx)
        ready.set()

    steps = [slow_file if s is build.write_duckdb_file else s for s in build.RELEASE_STEPS]
    steps = [csv_then_signal if s is build.write_csv_files else s for s in steps]
    monkeypatch.setattr(build, "RELEASE_STEPS", steps)
    monkeypatch.setattr(build, "CONCURRENT_STEPS", (slow_file,))
    release = build.build_release(package_copy, package_copy / "dist").path
    assert (release / "slow.txt").read_text("utf-8") == "begun\nfinished\n"
    assert f"{sha256_hex(release / 'slow.txt')}  slow.txt" in (release / "SHA256SUMS").read_text()
    package = read_package(package_copy)
    with zipfile.ZipFile(release / f"{package.name}-{package.version}.zip") as zf:
        inner = f"{package.name}-{package.version}/slow.txt"
        assert zf.read(inner) == b"begun\nfinished\n"


def test_a_failing_step_leaves_no_partial_version(built_release, package_copy, monkeypatch):
    out, version_dir = published_copy(built_release, package_copy)
    before = fingerprint.release_fingerprint(version_dir)
    index_before = (out / "index.json").read_bytes()
    edit_descriptor(package_copy, lambda descriptor: descriptor.update(version="0.99.0"))

    def fail(ctx) -> None:
        assert (ctx.stage_dir / "datapackage.json").exists()  # ran after real files
        raise OSError("disk full (injected)")

    monkeypatch.setattr(build, "RELEASE_STEPS", [*build.RELEASE_STEPS, fail])
    with pytest.raises(OSError, match="injected"):
        build.build_release(package_copy, out)
    assert sorted(p.name for p in out.iterdir()) == sorted([version_dir.name, "index.json"])
    assert fingerprint.release_fingerprint(version_dir) == before
    assert (out / "index.json").read_bytes() == index_before


def test_invalid_package_is_refused_with_the_validators_report(package_copy: Path) -> None:
    path = package_copy / "data" / "indicators.csv"
    lines = path.read_text("utf-8").split("\n")
    lines[1] = lines[1].replace(lines[1].split(",")[4], "2020-13-45", 1)
    path.write_text("\n".join(lines), "utf-8")
    with pytest.raises(build.InvalidPackage) as caught:
        build.build_release(package_copy, package_copy / "dist")
    assert any(e["line"] == 2 and e["field"] == "period_start" for e in caught.value.report.errors)
    assert not (package_copy / "dist" / read_package(package_copy).version).exists()

    result = CliRunner().invoke(
        main, ["build", "--package", str(package_copy), "--out", str(package_copy / "dist")]
    )
    assert result.exit_code == 1
    assert "indicators" in result.output and "period_start" in result.output
    assert "Traceback" not in result.output


def test_cli_build_prints_progress_and_summary(built_release: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["build", "--package", str(built_release), "--out", str(tmp_path / "dist")]
    )
    assert result.exit_code == 0, result.output
    version = read_package(built_release).version
    assert f"version {version}: built" in result.stdout
    assert "validating the package" in result.output
    assert "data/indicators.parquet" in result.output
    total = sum(p.stat().st_size for p in (tmp_path / "dist" / version).rglob("*") if p.is_file())
    assert f"{total:,} bytes" in result.stdout


def test_numbers_keep_their_value_in_canonical_text() -> None:
    """The CSV text of a number parses back to the same double."""
    con = duckdb.connect()
    package = read_package(Path(__file__).resolve().parents[1])
    table = package.table("indicators")
    expression = build._csv_column(table, "value")
    for value in [0.1, 1e-7, 123456789.123, 1e21, 42.0, 2.5e15, 9.1e18, 0.0]:
        text = con.execute(
            f"SELECT {expression} FROM (SELECT ?::DOUBLE AS value)", [value]
        ).fetchall()[0][0]
        assert float(text) == value and not math.isnan(float(text))
        assert not text.endswith(".0")


def test_contract_failures_are_refused_too(package_copy: Path, monkeypatch) -> None:
    """The pandera contract is checked on the typed tables even if validation passed."""
    path = package_copy / "data" / "indicators.csv"
    lines = path.read_text("utf-8").split("\n")
    cells = lines[1].split(",")
    cells[lines[0].split(",").index("value")] = "-5"  # value: minimum 0
    lines[1] = ",".join(cells)
    path.write_text("\n".join(lines), "utf-8")
    monkeypatch.setattr(build, "validate_or_raise", read_package)  # skips validation
    with pytest.raises(build.InvalidPackage) as caught:
        build.build_release(package_copy, package_copy / "dist")
    assert any(
        e["field"] == "value" and e["code"] == "constraint-error"
        for e in caught.value.report.errors
    )
    assert not (package_copy / "dist" / read_package(package_copy).version).exists()


def test_a_duplicate_key_validation_missed_is_refused_by_the_duckdb_file(
    package_copy: Path, monkeypatch
) -> None:
    """The build's contracts leave the primary key to the `.duckdb` file's declared key."""
    path = package_copy / "data" / "indicators.csv"
    lines = path.read_text("utf-8").rstrip("\n").split("\n")
    path.write_text("\n".join([*lines, lines[1]]) + "\n", "utf-8")
    monkeypatch.setattr(build, "validate_or_raise", read_package)  # skips validation
    with pytest.raises(duckdb.ConstraintException, match="(?i)duplicate key"):
        build.build_release(package_copy, package_copy / "dist")
    assert not (package_copy / "dist" / read_package(package_copy).version).exists()
