"""The release's zip: every file of the version directory under one top folder, in a
fixed order, with fixed times and permissions, deflated by zlib at level 1 through
`zipfile`'s public API.

The order (`member_order`): the data files (`data/`, sorted), then the `.duckdb` file,
then the other files (sorted).  The build zips ahead (`ZipAhead`, which
`azkz.release.build` tells of each file as it is finished): the data files are deflated while the `.duckdb` file is still
being written, and that file as soon as it is finished, so these come first; the small
files written last (the descriptor, the changelog, the citation files, SHA256SUMS)
follow.  Releases before issue 22's second pass had every member in sorted order.

Each member is a `zipfile.ZipInfo` filled here (its name under the top folder, the day
of `created` at midnight, mode 0644, Unix as the system that made it), written by
`ZipFile.writestr(info, data, compresslevel=ZIP_LEVEL)`.  Before Python 3.13 `writestr`
and `write` are the only public ways to choose a member's deflate level (`open(info,
"w")` deflates at zlib's default, level 6: 2.2x as long here), and `write` takes
the time and mode from the file on disk, so the bytes would depend on the checkout.
`writestr` takes the member's bytes at once: the zip holds at most one file, and its
deflated bytes, in memory (the `.duckdb` file, 161 MB at 1M rows).

The same files and `created` give the same zip, byte for byte, for one zlib version
(tests/test_build.py builds twice), whether written ahead member by member or at once
(`write_zip`).  The bytes are not those of releases zipped with ISA-L before issue 22
(`isal`, about 4x zlib's speed at level 1, deflated ahead through `zipfile`'s private
internals, which a Python upgrade could break silently): `zipfile` deflates with zlib
and has no public way to add a member deflated elsewhere.  The cost is in
benchmarks/build.md.  A rebuild's no-op check compares the files inside the zip, not
its compressed bytes (`azkz.release.fingerprint`).
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import zipfile
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from azkz.core.layout import DATA_DIR, release_files
from azkz.schema.package import Package

ZIP_PERMISSIONS = 0o644
UNIX = 3  # ZipInfo.create_system: the permissions are read as Unix ones
# zlib's fastest level: at 1M rows the zip takes about 2.05 s alone, where level 6
# (zipfile's default) takes 4.4 s for 9% fewer bytes (benchmarks/build.md).
ZIP_LEVEL = 1


def zip_name(package: Package) -> str:
    return f"{package.name}-{package.version}.zip"


def member_order(names: Iterable[str]) -> list[str]:
    """Relative paths in the zip's order: data files, `.duckdb` files, the rest; each
    group sorted."""

    def key(name: str) -> tuple[int, str]:
        group = 0 if name.startswith(f"{DATA_DIR}/") else 1 if name.endswith(".duckdb") else 2
        return group, name

    return sorted(names, key=key)


def zip_members(stage_dir: Path, package: Package) -> list[str]:
    """Every file of the directory but the zip itself, in `member_order`."""
    names = (p.relative_to(stage_dir).as_posix() for p in release_files(stage_dir))
    return member_order(n for n in names if n != zip_name(package))


class ReleaseZip:
    """The zip of `stage_dir`, written one member at a time (by one thread at a time)."""

    def __init__(self, stage_dir: Path, package: Package, created: str, path: Path | None = None):
        self.stage_dir = stage_dir
        self.path = path or stage_dir / zip_name(package)  # elsewhere while files are added
        self.folder = f"{package.name}-{package.version}"
        self.timestamp = _zip_time(created)
        self.zipfile = zipfile.ZipFile(self.path, "w", compression=zipfile.ZIP_DEFLATED)
        self.names: list[str] = []  # the members written, in order

    def add(self, name: str) -> None:
        """Deflate the file `name` (relative to the directory) into the zip."""
        data = (self.stage_dir / name).read_bytes()
        info = zipfile.ZipInfo(f"{self.folder}/{name}", self.timestamp)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = (0o100000 | ZIP_PERMISSIONS) << 16  # a regular file
        info.create_system = UNIX
        self.zipfile.writestr(info, data, compresslevel=ZIP_LEVEL)
        self.names.append(name)

    def close(self) -> Path:
        self.zipfile.close()
        return self.path


def write_zip(stage_dir: Path, package: Package, created: str) -> Path:
    """The zip of the directory at once: every member in `member_order`."""
    archive = ReleaseZip(stage_dir, package, created)
    try:
        for name in zip_members(stage_dir, package):
            archive.add(name)
    finally:
        archive.close()
    return archive.path


class ZipAhead:
    """The zip written while the files are: a thread deflates the members `ahead` (the
    first ones in `member_order`) in order, each once it is reported `finished`, and
    `finish` adds the rest when every file is written and moves the zip into the
    directory (until then it is in a temporary directory of its own, since the build
    lists and hashes the directory's files meanwhile).

    zlib deflates outside the GIL, so the data files deflate on one core while DuckDB
    writes the `.duckdb` file (its key checks mostly on one core).  The result is the
    zip `write_zip` makes of the finished directory, byte for byte: if the files ahead
    are not the first members of the directory's `member_order` (one was not written,
    or another file sorts among them), `finish` writes the zip again at once.
    """

    def __init__(self, stage_dir: Path, package: Package, created: str, ahead: list[str]):
        self.stage_dir, self.package, self.created = stage_dir, package, created
        # Outside the directory until complete: the build lists and hashes its files.
        self.work = tempfile.TemporaryDirectory(prefix="azkz-zip-")
        part = Path(self.work.name) / zip_name(package)
        self.archive = ReleaseZip(stage_dir, package, created, path=part)
        self.ahead = member_order(ahead)
        self.reported: set[str] = set()
        self.signal = threading.Condition()
        self.all_written = False
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="azkz-zip")
        self.zipping = self.pool.submit(self.zip_ahead)

    def finished(self, path: Path) -> None:
        """The file at `path` (in the directory) is final: it may be zipped now."""
        with self.signal:
            self.reported.add(path.relative_to(self.stage_dir).as_posix())
            self.signal.notify()

    def zip_ahead(self) -> None:
        for name in self.ahead:
            with self.signal:
                self.signal.wait_for(lambda name=name: name in self.reported or self.all_written)
                if name not in self.reported:
                    return  # never written, or the build stopped: `finish` decides
            self.archive.add(name)

    def stop_zipping_ahead(self) -> None:
        with self.signal:
            self.all_written = True
            self.signal.notify()
        self.pool.shutdown()

    def finish(self) -> Path:
        """The zip, complete; call once every file of the directory is written."""
        self.stop_zipping_ahead()
        self.zipping.result()
        members, done = zip_members(self.stage_dir, self.package), self.archive.names
        if members[: len(done)] != done:
            self.archive.close()
            return write_zip(self.stage_dir, self.package, self.created)
        for name in members[len(done) :]:
            self.archive.add(name)
        return Path(shutil.move(self.archive.close(), self.stage_dir / zip_name(self.package)))

    def stop(self) -> None:
        """Stop the thread and close the zip (after `finish`, or when the build failed)."""
        self.stop_zipping_ahead()
        self.archive.close()
        self.work.cleanup()


def _zip_time(created: str) -> tuple[int, int, int, int, int, int]:
    year, month, day = (int(x) for x in created[:10].split("-"))
    return (max(year, 1980), month, day, 0, 0, 0)
