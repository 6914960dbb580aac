"""SHA-256 of files and of bytes, as lowercase hex.

Releases (SHA256SUMS, index.json, datapackage.json `hash`), the citation metadata, the
rebuild check and the catalogue site all quote these digests, so they are computed in one
place: a file through `hashlib.file_digest` (Python 3.11+, which reads it in blocks
without a copy per block), bytes already read through `sha256_bytes`.  Code that hashes
while it streams a file for another purpose (the zip's deflate, a download) updates a
`hashlib.sha256()` of its own instead of reading the file twice.
"""

from __future__ import annotations

import hashlib
from pathlib import Path


def sha256_file(path: Path) -> str:
    with Path(path).open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
