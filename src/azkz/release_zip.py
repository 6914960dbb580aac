"""The release's zip: every file of the version directory in sorted order, one top folder,
fixed times and permissions, deflated at level 1.

Most of the zip's work is deflating the data files and the `.duckdb` file.  A file can be
deflated as soon as it is final (`ZipParts.deflate`): the build does it for the data files
while the `.duckdb` file is still being written, keeping the compressed bytes in a scratch
directory with their CRC-32 and sizes, and takes the file's sha256 in the same read.
`write_zip` copies those bytes into the zip instead of deflating the file again and
deflates the others itself.  The same `zlib` stream with the same settings gives the same
bytes either way (tests/test_build.py compares the two).
"""

from __future__ import annotations

import hashlib
import shutil
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from azkz.releases import FileFacts, release_files
from azkz.schema import Package

ZIP_PERMISSIONS = 0o644
# Deflate level 1: at 1M rows the zip takes 1.4 s instead of 4.9 s at level 6 for about
# 13% more bytes (benchmarks/build.md); the files inside are the same either way.
ZIP_LEVEL = 1
CHUNK = 1 << 20


@dataclass(frozen=True)
class Deflated:
    """A file's raw deflate stream (`path`) and what the zip's headers say about it."""

    path: Path
    crc: int
    size: int
    compressed: int
    sha256: str

    @property
    def facts(self) -> FileFacts:
        return FileFacts(self.size, self.sha256)


def _compressor():
    """What `zipfile` deflates a member with: a raw stream (no zlib header) at ZIP_LEVEL."""
    return zlib.compressobj(ZIP_LEVEL, zlib.DEFLATED, -15)


def deflate_file(source: Path, target: Path) -> Deflated:
    """Deflate `source` into `target`, with its CRC-32 and sha256 from the same read."""
    compressor, crc, size, compressed = _compressor(), 0, 0, 0
    digest = hashlib.sha256()
    with source.open("rb") as src, target.open("wb") as dst:
        while chunk := src.read(CHUNK):
            crc = zlib.crc32(chunk, crc)
            size += len(chunk)
            digest.update(chunk)
            compressed += dst.write(compressor.compress(chunk))
        compressed += dst.write(compressor.flush())
    return Deflated(target, crc, size, compressed, digest.hexdigest())


class ZipParts:
    """Files of `stage_dir` deflated ahead of the zip, kept in `scratch` (not the release)."""

    def __init__(self, stage_dir: Path, scratch: Path):
        self.stage_dir, self.scratch = Path(stage_dir), Path(scratch)
        self.parts: dict[str, Deflated] = {}

    def deflate(self, names: list[str]) -> dict[str, FileFacts]:
        """Deflate the final files `names` (relative POSIX paths); their size and sha256."""
        for name in names:
            if name not in self.parts:
                target = self.scratch / f"{len(self.parts)}.deflate"
                self.parts[name] = deflate_file(self.stage_dir / name, target)
        return {name: self.parts[name].facts for name in names}


def zip_name(package: Package) -> str:
    return f"{package.name}-{package.version}.zip"


def write_zip(
    stage_dir: Path, package: Package, created: str, parts: ZipParts | None = None
) -> Path:
    """A zip of the directory: sorted entries, fixed time and permissions, one top folder.

    Files in `parts` are copied as deflated there; the others are deflated here.
    """
    path = stage_dir / zip_name(package)
    members = release_files(stage_dir)
    timestamp = _zip_time(created)
    folder = f"{package.name}-{package.version}"
    ready = parts.parts if parts is not None else {}
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for member in members:
            relative = member.relative_to(stage_dir).as_posix()
            info = zipfile.ZipInfo(f"{folder}/{relative}", timestamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info._compresslevel = ZIP_LEVEL  # `zf.open(info)` ignores the ZipFile's level
            info.external_attr = (0o100000 | ZIP_PERMISSIONS) << 16
            info.create_system = 3  # Unix, so the permissions are honoured
            if relative in ready:
                _write_deflated(zf, info, ready[relative])
                continue
            with member.open("rb") as src, zf.open(info, "w", force_zip64=True) as dst:
                shutil.copyfileobj(src, dst, CHUNK)
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
