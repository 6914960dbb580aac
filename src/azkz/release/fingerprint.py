"""Whether two release directories hold the same content (a rebuild's no-op check).

Every file is compared by its bytes except where the `.duckdb` file's bytes show: its
header and checksums differ between two builds of the same data, so the file's tables
(DDL, comments, rows) are compared instead, its sha256 is masked in the metadata files
that quote it, and its entry in the zip is left to the file itself.  Its size may
differ too (DuckDB's block layout follows the parallel insert), and a metadata file that
quotes its sha256 or size (dataset.jsonld) then has a sha256 of its own that differs
between builds, which SHA256SUMS quotes in turn: all of these are masked (`Unstable`),
each file still being compared by its own masked bytes.
"""

from __future__ import annotations

import hashlib
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from azkz.core.digest import sha256_bytes, sha256_file
from azkz.core.layout import DATA_DIR, release_files
from azkz.core.sql import quote_ident


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


@dataclass
class Unstable:
    """What differs between two builds of the same content, masked in metadata files:
    each `.duckdb` file's sha256 and size, and the sha256 of each metadata file quoting
    one of them (dataset.jsonld quotes the `.duckdb` file's, SHA256SUMS quotes
    dataset.jsonld's)."""

    digests: list[str]
    sizes: list[int]

    def mask(self, data: bytes) -> bytes:
        for digest in self.digests:
            data = data.replace(digest.encode(), b"<sha256 of a file that differs>")
        for size in self.sizes:
            data = re.sub(rb"(?<![0-9])%d(?![0-9])" % size, b"<size of the .duckdb file>", data)
        return data


def unstable_facts(databases: list[Path], metadata: list[Path]) -> Unstable:
    """The `Unstable` facts of a release, found until no other metadata file quotes one."""
    unstable = Unstable([sha256_file(p) for p in databases], [p.stat().st_size for p in databases])
    contents = {p: p.read_bytes() for p in metadata}
    while quoting := [p for p, data in contents.items() if unstable.mask(data) != data]:
        unstable.digests += [sha256_bytes(contents.pop(p)) for p in quoting]
    return unstable


def _zip_fingerprint(path: Path, unstable: Unstable) -> str:
    """The zip's members by name, whatever their order in the file: releases zipped before
    issue 22's second pass have them sorted, later ones the data files first
    (`azkz.release.archive.member_order`), and a rebuild of one is still a no-op."""
    digest = hashlib.sha256()
    with zipfile.ZipFile(path) as zf:
        for info in sorted(zf.infolist(), key=lambda info: info.filename):
            facts: tuple = (info.filename, info.date_time, info.external_attr)
            inner = info.filename.split("/", 1)[-1]
            if inner.endswith(".duckdb"):
                pass  # its tables are compared through the file itself
            elif inner.startswith(f"{DATA_DIR}/"):
                facts += (info.CRC, info.file_size)
            else:
                facts += (unstable.mask(zf.read(info)),)
            digest.update(repr(facts).encode())
    return digest.hexdigest()


def release_fingerprint(version_dir: Path) -> dict[str, str]:
    """Per file, what must be equal for two releases to hold the same content.

    Byte digests for every file, except where the `.duckdb` file's non-reproducible
    bytes show: the file itself (its tables are compared instead), its sha256 and size
    in metadata files, and the digests of those (masked), and its entry in the zip.
    """
    files = release_files(version_dir)
    databases = [p for p in files if p.suffix == ".duckdb"]
    metadata = [
        p
        for p in files
        if p not in databases
        and p.suffix != ".zip"
        and not p.relative_to(version_dir).as_posix().startswith(f"{DATA_DIR}/")
    ]
    unstable = unstable_facts(databases, metadata)
    fingerprint = {}
    for path in files:
        name = path.relative_to(version_dir).as_posix()
        if path in databases:
            fingerprint[name] = duckdb_fingerprint(path)
        elif path.suffix == ".zip":
            fingerprint[name] = _zip_fingerprint(path, unstable)
        elif name.startswith(f"{DATA_DIR}/"):
            fingerprint[name] = sha256_file(path)
        else:
            data = unstable.mask(path.read_bytes())
            fingerprint[name] = sha256_bytes(data)
    return fingerprint


def differing_files(a: Path, b: Path) -> list[str]:
    fa, fb = release_fingerprint(a), release_fingerprint(b)
    return sorted(name for name in fa.keys() | fb.keys() if fa.get(name) != fb.get(name))
