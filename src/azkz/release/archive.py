"""The release's zip: every file of the version directory in sorted order, one top folder,
fixed times and permissions, deflated by zlib at level 1 through `zipfile`'s public API.

Each member is a `zipfile.ZipInfo` filled here (its name under the top folder, the day
of `created` at midnight, mode 0644, Unix as the system that made it), written by
`ZipFile.writestr(info, data, compresslevel=ZIP_LEVEL)`.  Before Python 3.13 `writestr`
and `write` are the only public ways to choose a member's deflate level (`open(info,
"w")` deflates at zlib's default, level 6: 2.2x as long here), and `write` takes
the time and mode from the file on disk, so the bytes would depend on the checkout.
`writestr` takes the member's bytes at once: the zip holds at most one file, and its
deflated bytes, in memory (the `.duckdb` file, 161 MB at 1M rows).

The same files and `created` give the same zip, byte for byte, for one zlib version
(tests/test_build.py builds twice).  The bytes are not those of releases zipped with
ISA-L before issue 22 (`isal`, about 4x zlib's speed at level 1, deflated ahead through
`zipfile`'s private internals, which a Python upgrade could break silently): `zipfile`
deflates with zlib and has no public way to add a member deflated elsewhere.  The cost
is in benchmarks/build.md.  A rebuild's no-op check compares the files inside the zip,
not its compressed bytes (`azkz.release.fingerprint`).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from azkz.core.layout import release_files
from azkz.schema.package import Package

ZIP_PERMISSIONS = 0o644
UNIX = 3  # ZipInfo.create_system: the permissions are read as Unix ones
# zlib's fastest level: at 1M rows the zip takes about 2.05 s alone, where level 6
# (zipfile's default) takes 4.4 s for 9% fewer bytes (benchmarks/build.md).
ZIP_LEVEL = 1


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
            info.external_attr = (0o100000 | ZIP_PERMISSIONS) << 16  # a regular file
            info.create_system = UNIX
            zf.writestr(info, member.read_bytes(), compresslevel=ZIP_LEVEL)
    return path


def _zip_time(created: str) -> tuple[int, int, int, int, int, int]:
    year, month, day = (int(x) for x in created[:10].split("-"))
    return (max(year, 1980), month, day, 0, 0, 0)
