"""SHA-256 of files, streamed in 1 MiB blocks.

Releases (SHA256SUMS, index.json, datapackage.json `hash`), the citation metadata and
the catalogue site all quote these digests, so they are computed in one place.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

BLOCK = 1 << 20


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as f:
        while block := f.read(BLOCK):
            digest.update(block)
    return digest.hexdigest()
