"""Whether two release directories hold the same content (a rebuild's no-op check).

Every file is compared by its bytes except where the `.duckdb` file's bytes show: its
header and checksums differ between two builds of the same data, so the file's tables
(DDL, comments, rows) are compared instead, its sha256 is masked in the metadata files
that quote it, and its entry in the zip is left to the file itself.
"""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

from azkz.digest import sha256_file
from azkz.releases import DATA_DIR, release_files
from azkz.sqltext import quote_ident


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
