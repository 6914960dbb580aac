"""The release layout, in one place: where releases are, which one is `latest`, what they hold.

A releases directory (`dist/` by default, for the CLI and `azkz.load` alike: relative to
the current directory) holds one directory per version and an index:

    dist/index.json                 {"latest": V, "versions": [{version, created, path, files}]}
    dist/<version>/datapackage.json the release's descriptor (inline schemas, file facts)
    dist/<version>/data/<table>.csv and .parquet, <name>.duckdb, SHA256SUMS, ...
    dist/.building-*/               staging directories of builds in progress

The same layout is served over HTTP (`azkz.access.remote`): `<base>/index.json` and
`<base>/<version>/...`. Every file's size and sha256 are computed once, by a `Manifest`,
and shared by `datapackage.json`, `dataset.jsonld`, `SHA256SUMS` and `index.json`.

Versions are SemVer; `Version` is the one parser and its `key` the one ordering.
Every failure here is a `ReleaseError` with a message that says what to do.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from azkz.core.digest import sha256_file

INDEX = "index.json"
CHECKSUMS = "SHA256SUMS"
DESCRIPTOR = "datapackage.json"
DATA_DIR = "data"
LATEST = "latest"
STAGING_PREFIX = ".building-"


class ReleaseError(Exception):
    """A release cannot be found, read, fetched or trusted; the message says why."""


def table_file(name: str, suffix: str) -> str:
    """Where a release keeps table `name` as `suffix` (csv, parquet): `data/<name>.<suffix>`."""
    return f"{DATA_DIR}/{name}.{suffix}"


# --- versions ------------------------------------------------------------------------

_SEMVER = re.compile(
    r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?"
    r"(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?"
)


@dataclass(frozen=True)
class Version:
    """A SemVer 2.0.0 version; `key` orders versions by SemVer precedence."""

    major: int
    minor: int
    patch: int
    prerelease: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: str) -> Version:
        match = _SEMVER.fullmatch(text) if isinstance(text, str) else None
        if not match:
            raise ReleaseError(f"version {text!r} is not SemVer (MAJOR.MINOR.PATCH)")
        major, minor, patch, pre, _build = match.groups()
        return cls(int(major), int(minor), int(patch), tuple(pre.split(".")) if pre else ())

    @property
    def core(self) -> tuple[int, int, int]:
        return (self.major, self.minor, self.patch)

    @property
    def key(self) -> tuple:
        """A pre-release sorts before its release; numeric identifiers before others."""
        pre = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in self.prerelease)
        return (self.core, not self.prerelease, pre)


def version_key(text: str) -> tuple:
    """Sort key for version strings; anything that is not SemVer sorts first, by text."""
    try:
        return (1, Version.parse(text).key, text)
    except ReleaseError:
        return (0, (), text)


def sorted_versions(versions) -> list[str]:
    return sorted(versions, key=version_key)


# --- the releases on disk --------------------------------------------------------------


def release_dirs(dist: Path) -> list[Path]:
    """Finished release directories (staging directories start with a dot)."""
    if not Path(dist).is_dir():
        return []
    return [
        d
        for d in Path(dist).iterdir()
        if d.is_dir() and not d.name.startswith(".") and (d / DESCRIPTOR).exists()
    ]


def built_versions(dist: Path) -> list[str]:
    """The versions released in `dist`, oldest first."""
    return sorted_versions(d.name for d in release_dirs(dist))


def previous_release(dist: Path, version: str) -> Path | None:
    """The highest release below `version`, for steps that describe what changed."""
    older = [d for d in release_dirs(dist) if version_key(d.name) < version_key(version)]
    return max(older, key=lambda d: version_key(d.name)) if older else None


def release_files(directory: Path) -> list[Path]:
    """Every file of a release directory, in a stable (sorted POSIX path) order."""
    return sorted(
        (p for p in Path(directory).rglob("*") if p.is_file()),
        key=lambda p: p.relative_to(directory).as_posix(),
    )


def local_release(dist: Path, version: str) -> Path | None:
    """`dist/<version>/` when it is a finished release there, else None."""
    directory = Path(dist) / version
    if version.startswith(".") or not (directory / DESCRIPTOR).is_file():
        return None
    return directory


def local_latest(dist: Path) -> str:
    """The version `dist/index.json` names `latest`."""
    index_path = Path(dist) / INDEX
    try:
        text = index_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ReleaseError(
            f"{index_path} not found: build a release first (`azkz build --out {dist}`) or pass --dist"
        ) from None
    except OSError as exc:
        raise ReleaseError(f"{index_path} cannot be read: {exc}") from None
    latest = parse_index(text, str(index_path)).latest
    if not latest:
        raise ReleaseError(f"{index_path} names no 'latest' release")
    return latest


def resolve_local(dist: Path, version: str | None) -> Path:
    """The directory of release `version` in `dist`; None or `latest`: `dist/index.json`'s."""
    if version in (None, LATEST):
        version = local_latest(dist)
    found = local_release(dist, version)
    if found is None:
        raise ReleaseError(unknown_version(version, f"in {dist}", built_versions(dist)))
    return found


def unknown_version(version: str, where: str, available: list[str]) -> str:
    """The one message for a version that is not there, listing those that are."""
    listed = ", ".join(sorted_versions(available)) or "none"
    return f"no release {version!r} {where} (available: {listed})"


# --- index.json ------------------------------------------------------------------------


@dataclass(frozen=True)
class FileFacts:
    """What `index.json`, `SHA256SUMS` and `datapackage.json` say about one file."""

    bytes: int
    sha256: str


@dataclass(frozen=True)
class ReleaseIndex:
    latest: str | None
    versions: dict[str, dict[str, FileFacts]]  # version -> {relative path: facts}


def parse_index(text: str, source: str) -> ReleaseIndex:
    """Read `index.json` text; anything malformed is a `ReleaseError` naming `source`."""
    try:
        data = json.loads(text)
        versions = {
            entry["version"]: {
                name: FileFacts(int(facts["bytes"]), str(facts["sha256"]))
                for name, facts in entry["files"].items()
            }
            for entry in data["versions"]
        }
        latest = data.get("latest")
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ReleaseError(
            f"{source} is not a release index ({type(exc).__name__}: {exc})"
        ) from None
    bad = [n for files in versions.values() for n in files if n.startswith("/") or ".." in n]
    if bad or not isinstance(latest, str | None):
        raise ReleaseError(f"{source} is not a release index (bad file names or latest)")
    for version in versions:
        Version.parse(version)  # a version is a directory name: nothing else gets through
    return ReleaseIndex(latest, versions)


class Manifest:
    """Size and sha256 of the files of one release directory, each hashed once."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self._facts: dict[str, FileFacts] = {}

    def facts(self, name: str) -> FileFacts:
        """Facts of `root/name` (a POSIX relative path); files must not change afterwards."""
        if name not in self._facts:
            path = self.root / name
            self._facts[name] = FileFacts(path.stat().st_size, sha256_file(path))
        return self._facts[name]

    def record(self, name: str, facts: FileFacts) -> None:
        """Facts of `root/name` taken while the file was read for something else."""
        self._facts[name] = facts

    def entries(self) -> dict[str, FileFacts]:
        """{relative path: facts} of every file in the directory now."""
        return {
            name: self.facts(name)
            for name in (p.relative_to(self.root).as_posix() for p in release_files(self.root))
        }


def write_checksums(manifest: Manifest) -> Path:
    """`SHA256SUMS` of every file present (`sha256sum -c` format)."""
    lines = [f"{facts.sha256}  {name}\n" for name, facts in manifest.entries().items()]
    path = manifest.root / CHECKSUMS
    path.write_text("".join(lines), encoding="utf-8", newline="\n")
    return path


def is_release(directory: Path) -> bool:
    """A built release directory: a descriptor and the `SHA256SUMS` the build wrote."""
    return (Path(directory) / DESCRIPTOR).is_file() and (Path(directory) / CHECKSUMS).is_file()


def read_checksums(directory: Path) -> dict[str, str]:
    """`SHA256SUMS` as {relative path: sha256}; empty when the directory has none."""
    path = Path(directory) / CHECKSUMS
    if not path.is_file():
        return {}
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ReleaseError(f"{path} cannot be read: {exc}") from None
    sums = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        digest, sep, name = line.partition(" ")
        if not sep or len(digest) != 64:
            raise ReleaseError(f"{path}, line {number}: expected '<sha256>  <path>'")
        sums[name.strip().lstrip("*")] = digest.lower()
    return sums


def verify_checksums(directory: Path, names: list[str]) -> None:
    """Check that each of `names` is listed in `SHA256SUMS` and has that sha256.

    A release's files were validated when it was built; their checksums prove they are
    still those files, which costs one read of each (no parse, no validation).
    """
    sums = read_checksums(directory)
    for name in names:
        if name not in sums:
            raise ReleaseError(f"{Path(directory) / name}: not listed in {CHECKSUMS}")
        try:
            actual = sha256_file(Path(directory) / name)
        except OSError as exc:
            raise ReleaseError(f"{Path(directory) / name} cannot be read: {exc.strerror}") from None
        if actual != sums[name]:
            raise ReleaseError(
                f"{Path(directory) / name}: sha256 {actual} is not the {sums[name]} that "
                f"{CHECKSUMS} lists; the release was changed after it was built: build or "
                "fetch it again"
            )


def write_index(dist: Path, known: dict[str, dict[str, FileFacts]] | None = None) -> Path:
    """`dist/index.json`: every version, the latest, and per file its size and sha256.

    Versions are immutable, so entries already in the old index (or `known`, from the
    build that just wrote them) are reused instead of re-hashing every file on each build.
    """
    path = Path(dist) / INDEX
    old: dict[str, dict[str, FileFacts]] = {}
    with contextlib.suppress(OSError, ReleaseError):
        old = parse_index(path.read_text("utf-8"), str(path)).versions
    old.update(known or {})
    versions = []
    for version in built_versions(dist):
        directory = Path(dist) / version
        names = {p.relative_to(directory).as_posix() for p in release_files(directory)}
        files = old.get(version)
        if files is None or set(files) != names:
            files = Manifest(directory).entries()
        descriptor = json.loads((directory / DESCRIPTOR).read_text("utf-8"))
        versions.append(
            {
                "version": version,
                "created": descriptor.get("created"),
                "path": f"{version}/",
                "files": {name: asdict(facts) for name, facts in sorted(files.items())},
            }
        )
    index = {"latest": versions[-1]["version"] if versions else None, "versions": versions}
    tmp = path.with_name(f".{INDEX}.tmp")
    tmp.write_text(json.dumps(index, indent=2) + "\n", encoding="utf-8", newline="\n")
    os.replace(tmp, path)
    return path


def copy_releases(dist: Path, dest: Path) -> Path:
    """Copy every release of `dist` into `dest` with an `index.json` that lists them.

    `dest` then has the layout `azkz.access.remote` reads: a static host serving it is a
    releases URL (the catalogue site's `download/`). Entries of `dist/index.json` are
    reused where they still match the files.
    """
    dest.mkdir(parents=True, exist_ok=True)
    for directory in release_dirs(dist):
        shutil.copytree(directory, dest / directory.name)
    with contextlib.suppress(FileNotFoundError):
        shutil.copyfile(Path(dist) / INDEX, dest / INDEX)
    return write_index(dest)


# --- staging ---------------------------------------------------------------------------


def _lock(directory: Path) -> int | None:
    """Hold an exclusive lock on `directory` for as long as the process lives.

    The kernel drops it when the process dies, even by SIGKILL, which is how a later
    run tells a stale staging directory from one still being written.
    """
    try:
        import fcntl
    except ImportError:  # not POSIX: staging directories are left for the user
        return None
    fd = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise
    return fd


def remove_stale_staging(dist: Path) -> list[Path]:
    """Remove staging directories no running process holds (a killed build's leftovers)."""
    removed = []
    for directory in sorted(Path(dist).glob(f"{STAGING_PREFIX}*")):
        try:
            fd = _lock(directory)
        except OSError:
            continue  # another build is writing it
        if fd is None:
            continue
        try:
            shutil.rmtree(directory)
        finally:
            os.close(fd)
        removed.append(directory)
    return removed


@contextlib.contextmanager
def staging(dist: Path, version: str) -> Iterator[Path]:
    """A locked, private directory in `dist` to write a release in, removed afterwards.

    Publish it by renaming it to `dist/<version>` inside the `with` block. Stale staging
    directories of killed runs are removed first.
    """
    Path(dist).mkdir(parents=True, exist_ok=True)
    remove_stale_staging(dist)
    stage_dir = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{version}-", dir=dist))
    fd = _lock(stage_dir)
    try:
        yield stage_dir
    finally:
        if stage_dir.exists():
            shutil.rmtree(stage_dir)
        if fd is not None:
            os.close(fd)


def publish(stage_dir: Path, target: Path) -> None:
    """Make a staged release readable by everyone and rename it into place (atomic)."""
    for directory in [stage_dir, *(d for d in stage_dir.rglob("*") if d.is_dir())]:
        directory.chmod(0o755)  # mkdtemp made it private; a release is for everyone
    os.rename(stage_dir, target)


def release_summary(directory: Path) -> dict[str, Any]:
    """{relative path: bytes} of a release directory as it is on disk."""
    return {p.relative_to(directory).as_posix(): p.stat().st_size for p in release_files(directory)}
