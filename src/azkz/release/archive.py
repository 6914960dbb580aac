"""The release's zip: every file of the version directory in sorted order, one top folder,
fixed times and permissions, deflated by ISA-L at level 1.

Most of the zip's work is deflating the data files and the `.duckdb` file.  A file can be
deflated as soon as it is final (`ZipParts.deflate`): the build does it for the data files
while the `.duckdb` file is still being written, keeping the compressed bytes in a scratch
directory with their CRC-32 and sizes, and takes the file's sha256 in the same read.
`write_zip` copies those bytes into the zip and deflates the other files the same way
first, so a member's bytes do not depend on when it was deflated (tests/test_build.py
compares the two).

Deflate is ISA-L's (`isal`, the library of `python-isal`), not `zlib`'s: at level 1 it
is about four times faster than zlib's level 1 and its output is a little smaller
(benchmarks/build.md), and any zip reader inflates it (a deflate stream is a deflate
stream).  The bytes are deterministic for one ISA-L version; a rebuild's no-op check
compares the files inside the zip, not its compressed bytes.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import zipfile
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from isal import isal_zlib

from azkz.core.layout import FileFacts, release_files
from azkz.schema.package import Package

ZIP_PERMISSIONS = 0o644
# ISA-L's level 1 (of 0-3): at 1M rows it deflates the release in about 0.3 s, where
# zlib took 1.4 s at level 1 and 4.9 s at level 6 (benchmarks/build.md).
ZIP_LEVEL = 1
CHUNK = 1 << 20


@dataclass(frozen=True)
class Deflated:
    """A file's raw deflate stream (`path`) and what the zip's headers say about it."""

    path: Path
    crc: int
    size: int
    compressed: int
    sha256: str | None  # None: not asked for (the manifest already has it)

    @property
    def facts(self) -> FileFacts:
        assert self.sha256 is not None, "deflated without its sha256"
        return FileFacts(self.size, self.sha256)


def _compressor():
    """A zip member's deflate stream: raw (no zlib header), at ZIP_LEVEL."""
    return isal_zlib.compressobj(ZIP_LEVEL, isal_zlib.DEFLATED, -15)


def deflate_file(source: Path, target: Path, hashed: bool = True) -> Deflated:
    """Deflate `source` into `target`, with its CRC-32 and (`hashed`) its sha256 from the
    same read."""
    compressor, crc, size, compressed = _compressor(), 0, 0, 0
    digest = hashlib.sha256() if hashed else None
    with source.open("rb") as src, target.open("wb") as dst:
        while chunk := src.read(CHUNK):
            crc = isal_zlib.crc32(chunk, crc)
            size += len(chunk)
            if digest is not None:
                digest.update(chunk)
            compressed += dst.write(compressor.compress(chunk))
        compressed += dst.write(compressor.flush())
    return Deflated(target, crc, size, compressed, digest.hexdigest() if digest else None)


class ZipParts:
    """Files of `stage_dir` deflated ahead of the zip, kept in `scratch` (not the release)."""

    def __init__(self, stage_dir: Path, scratch: Path):
        self.stage_dir, self.scratch = Path(stage_dir), Path(scratch)
        self.parts: dict[str, Deflated] = {}

    def deflate(self, names: list[str]) -> dict[str, FileFacts]:
        """Deflate the final files `names` (relative POSIX paths); their size and sha256."""
        return {name: self.deflated(name, hashed=True).facts for name in names}

    def deflated(self, name: str, hashed: bool = False) -> Deflated:
        """The file `name` deflated: now, unless it already was."""
        if name not in self.parts:
            target = self.scratch / f"{len(self.parts)}.deflate"
            self.parts[name] = deflate_file(self.stage_dir / name, target, hashed)
        return self.parts[name]


def zip_name(package: Package) -> str:
    return f"{package.name}-{package.version}.zip"


def write_zip(
    stage_dir: Path, package: Package, created: str, parts: ZipParts | None = None
) -> Path:
    """A zip of the directory: sorted entries, fixed time and permissions, one top folder.

    Files in `parts` are copied as deflated there; the others are deflated first.
    """
    path = stage_dir / zip_name(package)
    members = release_files(stage_dir)
    timestamp = _zip_time(created)
    folder = f"{package.name}-{package.version}"
    with ExitStack() as stack:
        if parts is None:
            scratch = stack.enter_context(tempfile.TemporaryDirectory(prefix="azkz-zip-"))
            parts = ZipParts(stage_dir, Path(scratch))
        zf = stack.enter_context(zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED))
        for member in members:
            relative = member.relative_to(stage_dir).as_posix()
            info = zipfile.ZipInfo(f"{folder}/{relative}", timestamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (0o100000 | ZIP_PERMISSIONS) << 16
            info.create_system = 3  # Unix, so the permissions are honoured
            _write_deflated(zf, info, parts.deflated(relative))
    return path


def _write_deflated(zf: zipfile.ZipFile, info: zipfile.ZipInfo, part: Deflated) -> None:
    """Add a member whose deflate stream exists, as `zf.open(info, "w", force_zip64=True)`
    would have written it on a seekable file: the local header with the final CRC and
    sizes (ZIP64 extra included), then the stream.  `zipfile` has no public way to add
    bytes compressed elsewhere; these are the steps of its `_open_to_write` and
    `_ZipWriteFile.close`."""
    info.flag_bits = 0
    info.CRC, info.file_size, info.compress_size = part.crc, part.size, part.compressed
    zf.fp.seek(zf.start_dir)
    info.header_offset = zf.fp.tell()
    zf._writecheck(info)
    zf._didModify = True
    zf.fp.write(info.FileHeader(True))
    with part.path.open("rb") as src:
        shutil.copyfileobj(src, zf.fp, CHUNK)
    zf.start_dir = zf.fp.tell()
    zf.filelist.append(info)
    zf.NameToInfo[info.filename] = info


def _zip_time(created: str) -> tuple[int, int, int, int, int, int]:
    year, month, day = (int(x) for x in created[:10].split("-"))
    return (max(year, 1980), month, day, 0, 0, 0)
