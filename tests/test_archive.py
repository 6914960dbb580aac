"""The release zip (`azkz.release.archive`): public `zipfile` API only, and reproducible."""

from __future__ import annotations

import ast
import io
import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from azkz.release import archive
from azkz.schema.package import read_package
from tests.helpers import release_dir

# The attributes the Python documentation gives `ZipFile` and `ZipInfo` objects
# (https://docs.python.org/3/library/zipfile.html); anything else they have is internal.
DOCUMENTED = {
    # ZipFile
    "close", "getinfo", "infolist", "namelist", "open", "extract", "extractall", "printdir",
    "setpassword", "read", "testzip", "write", "writestr", "mkdir", "filename", "debug",
    "comment",
    # ZipInfo
    "from_file", "is_dir", "date_time", "compress_type", "compress_level", "extra",
    "create_system", "create_version", "extract_version", "reserved", "flag_bits", "volume",
    "internal_attr", "external_attr", "header_offset", "CRC", "compress_size", "file_size",
}  # fmt: skip


def zipfile_internals() -> set[str]:
    """Names a `ZipFile` or `ZipInfo` object has that the documentation does not give it."""
    with zipfile.ZipFile(io.BytesIO(), "w") as zf:
        names = set(dir(zf)) | set(vars(zf)) | set(dir(zipfile.ZipInfo()))
    return {n for n in names - DOCUMENTED if not (n.startswith("__") and n.endswith("__"))}


def private_zipfile_uses(source: str) -> list[str]:
    """Where `source` (a module importing zipfile) reaches into zipfile's internals: a
    name zipfile does not export, any attribute starting with `_`, or an attribute
    `ZipFile`/`ZipInfo` objects have but the documentation does not list."""
    internals = zipfile_internals()
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module == "zipfile":
            found += [
                f"from zipfile import {a.name}" for a in node.names if a.name not in zipfile.__all__
            ]
        elif isinstance(node, ast.Attribute):
            name = node.attr
            module_level = isinstance(node.value, ast.Name) and node.value.id == "zipfile"
            dunder = name.startswith("__") and name.endswith("__")
            if (
                (module_level and name not in zipfile.__all__)
                or (name.startswith("_") and not dunder)
                or name in internals
            ):
                found.append(f"line {node.lineno}: .{name}")
    return found


def test_the_archive_module_uses_only_zipfiles_public_api() -> None:
    source = Path(archive.__file__).read_text(encoding="utf-8")
    assert "zipfile" in source
    assert private_zipfile_uses(source) == []


def test_the_scan_finds_the_internals_the_zip_writer_once_used() -> None:
    """The scan can fail: each internal the ISA-L writer used before issue 22 is found."""
    old_writer = (
        "import zipfile\n"
        "from zipfile import _get_compressor\n"
        "def add(zf, info, stream):\n"
        "    zf.fp.seek(zf.start_dir)\n"
        "    zf._writecheck(info)\n"
        "    zf._didModify = True\n"
        "    zf.fp.write(info.FileHeader(True))\n"
        "    zf.filelist.append(info)\n"
        "    zf.NameToInfo[info.filename] = info\n"
        "    info._compresslevel = zipfile._get_compressor\n"
    )
    found = " ".join(private_zipfile_uses(old_writer))
    for name in ("_get_compressor", ".fp", ".start_dir", "._writecheck", "._didModify"):
        assert name in found
    for name in (".FileHeader", ".filelist", ".NameToInfo", "._compresslevel"):
        assert name in found
    assert ".filename" not in found and ".seek" not in found


def zipped_copy(release: Path, target: Path, mode: int, mtime: float) -> bytes:
    """The zip `write_zip` makes of a copy of `release` whose files have `mode` and
    `mtime` on disk."""
    shutil.copytree(release, target)
    package = read_package(target)
    (target / archive.zip_name(package)).unlink()
    for path in target.rglob("*"):
        if path.is_file():
            path.chmod(mode)
            os.utime(path, (mtime, mtime))
    return archive.write_zip(target, package, "2025-06-01").read_bytes()


def test_the_zip_is_byte_identical_whatever_the_files_times_and_modes(
    built_release, tmp_path
) -> None:
    release = release_dir(built_release)
    first = zipped_copy(release, tmp_path / "a", 0o644, 1_000_000_000)
    second = zipped_copy(release, tmp_path / "b", 0o600, 1_700_000_000)
    assert first == second
    with zipfile.ZipFile(io.BytesIO(first)) as zf:
        assert zf.testzip() is None  # every member inflates and its CRC-32 matches
        for info in zf.infolist():
            assert info.date_time == (2025, 6, 1, 0, 0, 0)
            assert info.external_attr >> 16 == 0o100644
            assert info.compress_type == zipfile.ZIP_DEFLATED
            name = info.filename.split("/", 1)[1]
            assert zf.read(info) == (release / name).read_bytes(), name


def test_the_built_zip_passes_unzip_test(built_release) -> None:
    unzip = shutil.which("unzip")
    if unzip is None:
        pytest.skip("`unzip` is not installed: zipfile's testzip (above) checks the members")
    package = read_package(built_release)
    path = release_dir(built_release) / archive.zip_name(package)
    result = subprocess.run([unzip, "-tq", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No errors detected" in result.stdout


def release_copy(built_release, target: Path) -> tuple[Path, str]:
    """A copy of the built release without its zip, and the release's `created`."""
    release = release_dir(built_release)
    shutil.copytree(release, target)
    (target / archive.zip_name(read_package(built_release))).unlink()
    return target, json.loads((release / "datapackage.json").read_text("utf-8"))["created"]


def test_the_builds_zip_written_ahead_is_the_zip_of_its_finished_directory(
    built_release, tmp_path
) -> None:
    package = read_package(built_release)
    built = (release_dir(built_release) / archive.zip_name(package)).read_bytes()
    copy, created = release_copy(built_release, tmp_path / "copy")
    assert archive.write_zip(copy, package, created).read_bytes() == built


@pytest.mark.parametrize(
    "ahead",
    [
        ["data/agreements.csv", "data/agreements.parquet"],  # the first members
        ["data/agreements.csv", "data/never-written.csv"],  # one is never reported
        ["data/visits.csv"],  # other files come before it
    ],
)
def test_a_zip_written_ahead_of_any_files_is_the_zip_written_at_once(
    built_release, tmp_path, ahead
) -> None:
    package = read_package(built_release)
    stage, created = release_copy(built_release, tmp_path / "stage")
    at_once, _ = release_copy(built_release, tmp_path / "at-once")
    zip_ahead = archive.ZipAhead(stage, package, created, ahead)
    try:
        for name in ahead:
            if (stage / name).exists():
                zip_ahead.finished(stage / name)
        path = zip_ahead.finish()
    finally:
        zip_ahead.stop()
    assert path == stage / archive.zip_name(package)
    assert path.read_bytes() == archive.write_zip(at_once, package, created).read_bytes()
    assert not Path(zip_ahead.work.name).exists()
