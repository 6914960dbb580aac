"""Published releases over HTTP: find a version, download it, verify it, keep it in a cache.

A releases URL serves the layout of `azkz.core.layout` (`index.json` and `<version>/...`);
the project publishes it beside the catalogue site, and `AZKZ_RELEASES_URL` (or
`base_url=`) names another. Files go into `AZKZ_CACHE_DIR` (default: the platform's
user cache directory) under `releases/<url>/<version>/`, through pooch, which
downloads into a temporary file and keeps it only when its sha256 is the one
`index.json` gives. A cached file is re-hashed on every use and downloaded again if
it changed, so nothing corrupt is ever read; a version whose files are all cached
needs no network at all.

`locate` is what `azkz.load` and `azkz query --release` call: a local `dist/` that
has the version wins, otherwise the needed files come from the releases URL.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from azkz.core.layout import (
    INDEX,
    LATEST,
    FileFacts,
    Manifest,
    ReleaseError,
    ReleaseIndex,
    Version,
    built_versions,
    local_release,
    parse_index,
    publish,
    staging,
    unknown_version,
    write_index,
)

URL_ENV = "AZKZ_RELEASES_URL"
CACHE_ENV = "AZKZ_CACHE_DIR"
# GitHub Pages of the repository (datapackage.json `homepage`): the release workflow
# deploys every release and index.json to the catalogue site's `download/`.
DEFAULT_RELEASES_URL = "https://azkz.github.io/azerbaijan-kazakhstan-relations/download/"
TIMEOUT = 30  # seconds to connect, and between bytes received

log = logging.getLogger("azkz")


class ReleaseUnreachable(ReleaseError):
    """The releases URL did not answer (refused, unresolvable, timed out)."""


class ChecksumMismatch(ReleaseError):
    """A downloaded file's sha256 is not the one `index.json` gives; it was not kept."""


def releases_url(base_url: str | None = None) -> str:
    """`base_url`, else `$AZKZ_RELEASES_URL`, else the project's; always ending in `/`."""
    url = base_url or os.environ.get(URL_ENV) or DEFAULT_RELEASES_URL
    return url.rstrip("/") + "/"


def cache_root() -> Path:
    """`$AZKZ_CACHE_DIR`, else the platform's user cache directory for azkz."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    import pooch

    return Path(pooch.os_cache("azkz"))


# --- progress ------------------------------------------------------------------------


class FetchLog:
    """Progress sink for downloads: one plain line per file (what `azkz fetch` prints piped)."""

    def __init__(self, echo: Callable[[str], None] = lambda _line: None):
        self.echo = echo

    def __enter__(self) -> FetchLog:
        return self

    def __exit__(self, *_exc) -> None:
        """Nothing to stop; `RichFetchLog` stops its bars here."""

    def bar(self, name: str, facts: FileFacts) -> Any:
        """A tqdm-like object pooch drives while downloading `name`, or None."""
        return None

    def done(self, name: str, facts: FileFacts, downloaded: bool) -> None:
        how = "downloaded" if downloaded else "cached"
        self.echo(f"  {name}  {facts.bytes:,} bytes  sha256 ok ({how})")


class _TaskBar:
    """The tqdm interface pooch's HTTP downloader uses, over one rich progress task."""

    def __init__(self, progress, task):
        self.progress, self.task = progress, task

    @property
    def total(self) -> float | None:
        return self.progress.tasks[self.task].total

    @total.setter
    def total(self, value: float) -> None:
        self.progress.update(self.task, total=value or None)

    def update(self, n: float) -> None:
        self.progress.advance(self.task, n)

    def reset(self) -> None:
        self.progress.reset(self.task)

    def close(self) -> None:
        """The task stays on screen, complete."""


class RichFetchLog(FetchLog):
    """On a terminal: a progress bar per file, in bytes."""

    def __init__(self, console):
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TransferSpeedColumn,
        )

        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            console=console,
        )

    def __enter__(self) -> RichFetchLog:
        self.progress.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.progress.stop()

    def bar(self, name: str, facts: FileFacts) -> Any:
        return _TaskBar(self.progress, self.progress.add_task(name, total=facts.bytes))

    def done(self, name: str, facts: FileFacts, downloaded: bool) -> None:
        if not downloaded:
            self.progress.add_task(f"{name} (cached)", total=facts.bytes, completed=facts.bytes)


# --- downloading -----------------------------------------------------------------------


class _HashingFile:
    """A binary file that hashes what is written to it."""

    def __init__(self, path: str):
        self.file = open(path, "wb")  # noqa: SIM115 - closed by close()
        self.digest = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        return self.file.write(data)

    def flush(self) -> None:
        self.file.flush()

    def close(self) -> None:
        self.file.close()


class _VerifyingDownloader:
    """pooch's HTTP downloader, hashing while it writes; raises on a wrong sha256.

    pooch writes into a temporary file and deletes it when this raises, so a file
    with the wrong bytes never reaches the cache.
    """

    def __init__(self, label: str, expected: str, bar: Any):
        import pooch

        self.label, self.expected = label, expected
        self.http = pooch.HTTPDownloader(progressbar=bar or False, timeout=TIMEOUT)

    def __call__(self, url: str, output_file: str, pooch_: Any) -> None:
        sink = _HashingFile(output_file)
        try:
            self.http(url, sink, pooch_)
        finally:
            sink.close()
        actual = sink.digest.hexdigest()
        if actual != self.expected:
            raise ChecksumMismatch(
                f"{self.label}: sha256 mismatch: expected {self.expected}, got {actual} "
                f"(downloaded from {url}); the file was not kept"
            )


def _failure_reason(exc: Exception) -> str:
    text = str(exc).lower()
    if "refused" in text:
        return "connection refused"
    if "name or service not known" in text or "resolve" in text or "nodename" in text:
        return "host not found"
    return "connection failed"


class Remote:
    """The releases served at one URL, with their cache directory."""

    def __init__(self, base_url: str | None = None, cache_dir: str | Path | None = None):
        import pooch

        pooch.get_logger().setLevel(logging.WARNING)  # we report downloads ourselves
        self.url = releases_url(base_url)
        slug = re.sub(r"[^A-Za-z0-9.-]+", "_", self.url.split("://", 1)[-1]).strip("_")
        self.cache = Path(cache_dir or cache_root()) / "releases" / slug

    @contextlib.contextmanager
    def _network(self, url: str) -> Iterator[None]:
        """requests' failures as `ReleaseError`s that name the URL and what to do."""
        import requests

        hint = f"set {URL_ENV} to the base URL that serves {INDEX} and <version>/ (now {self.url})"
        try:
            yield
        except requests.exceptions.HTTPError as exc:
            response = exc.response
            status = f"{response.status_code} {response.reason}" if response is not None else exc
            raise ReleaseError(f"{url}: HTTP {status}") from None
        except requests.exceptions.Timeout:
            raise ReleaseUnreachable(f"{url} did not answer within {TIMEOUT} s; {hint}") from None
        except requests.exceptions.ConnectionError as exc:
            reason = _failure_reason(exc)
            raise ReleaseUnreachable(f"cannot connect to {url} ({reason}); {hint}") from None
        except requests.exceptions.RequestException as exc:
            raise ReleaseError(f"{url}: {type(exc).__name__}: {exc}") from None

    # index.json
    def cached_index(self) -> ReleaseIndex | None:
        path = self.cache / INDEX
        return parse_index(path.read_text("utf-8"), str(path)) if path.is_file() else None

    def fetch_index(self) -> ReleaseIndex:
        """Download `index.json` (always fresh: `latest` moves) and keep it in the cache."""
        import pooch

        url = self.url + INDEX
        fd, tmp = tempfile.mkstemp(prefix=f"azkz-{INDEX}.")  # the cache only gets a good one
        os.close(fd)
        try:
            with self._network(url):
                pooch.HTTPDownloader(timeout=TIMEOUT)(url, tmp, None)
            index = parse_index(Path(tmp).read_text("utf-8"), url)
            self.cache.mkdir(parents=True, exist_ok=True)
            shutil.move(tmp, self.cache / f".{INDEX}.new")
            os.replace(self.cache / f".{INDEX}.new", self.cache / INDEX)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.remove(tmp)
        return index

    def files_of(self, version: str, local: Iterable[str] = ()) -> tuple[str, dict]:
        """(version, {file: facts}) of `version` or `latest` as the releases URL lists them.

        A pinned version already in the cached index needs no network (releases are
        immutable). `latest` asks the server; when it cannot be reached, the cached
        index answers, with a warning. `local` versions are named in "no such release".
        """
        cached = self.cached_index()
        if version != LATEST and cached and version in cached.versions:
            return version, cached.versions[version]
        try:
            index = self.fetch_index()
        except ReleaseUnreachable as exc:
            if version != LATEST or not cached or not cached.latest:
                raise
            log.warning("%s; using the latest release known from the cache", exc)
            index = cached
        if version == LATEST:
            if not index.latest:
                raise ReleaseError(f"{self.url}{INDEX} names no 'latest' release")
            version = index.latest
        if version not in index.versions:
            where = f"at {self.url}" + (" or locally" if local else "")
            raise ReleaseError(unknown_version(version, where, [*index.versions, *local]))
        return version, index.versions[version]

    def retrieve(self, version: str, files: dict[str, FileFacts], progress: FetchLog) -> Path:
        """Cached and verified copies of `files` of `version`; returns the version's cache dir."""
        import pooch

        target = self.cache / version
        manifest = Manifest(target)
        for name, facts in files.items():
            path = target / name
            if path.is_file() and manifest.facts(name) == facts:
                progress.done(name, facts, downloaded=False)
                continue
            url = f"{self.url}{version}/{name}"
            bar = progress.bar(name, facts)
            with self._network(url):
                pooch.retrieve(
                    url,
                    known_hash=f"sha256:{facts.sha256}",
                    fname=path.name,
                    path=path.parent,
                    downloader=_VerifyingDownloader(f"{version}/{name}", facts.sha256, bar),
                )
            progress.done(name, facts, downloaded=True)
        return target


# --- what load, query and fetch call ---------------------------------------------------


def locate(
    version: str,
    wanted: Callable[[dict[str, FileFacts]], list[str]],
    dist: str | Path = "dist",
    base_url: str | None = None,
    cache_dir: str | Path | None = None,
) -> Path:
    """A directory holding `version`'s files: `dist/<version>/`, or the cache after download.

    `wanted` picks the file names needed from the release's file list (and raises
    `ReleaseError` for a name the release does not have). `latest` is the latest
    published release; without a network, the cached index's, else `dist`'s.
    """
    dist = Path(dist)
    if version != LATEST:
        Version.parse(version)  # also keeps path tricks out of dist/ and the cache
        found = local_release(dist, version)
        if found is not None:
            return found
    remote = Remote(base_url, cache_dir)
    local = built_versions(dist)
    try:
        version, files = remote.files_of(version, local)
    except ReleaseUnreachable as exc:
        if version != LATEST:
            where = f"in {dist}"
            raise ReleaseUnreachable(f"{unknown_version(version, where, local)}; {exc}") from None
        if not local:
            raise
        log.warning("%s; using the latest release in %s", exc, dist)
        return dist / local[-1]
    found = local_release(dist, version)
    if found is not None:
        return found
    names = wanted(files)
    return remote.retrieve(version, {n: files[n] for n in names}, FetchLog())


@dataclass
class FetchResult:
    version: str
    path: Path
    created: bool  # False when the directory already held this release


def fetch_release(
    version: str,
    to: str | Path,
    base_url: str | None = None,
    cache_dir: str | Path | None = None,
    progress: FetchLog | None = None,
) -> FetchResult:
    """Download every file of `version` (or `latest`), verified, into `to/<version>/`.

    The files pass through the cache, then are staged and renamed into place, so
    `to/<version>/` is either complete or absent; `to/index.json` lists it afterwards.
    """
    if version != LATEST:
        Version.parse(version)
    remote = Remote(base_url, cache_dir)
    version, files = remote.files_of(version)
    to = Path(to)
    target = to / version
    if target.exists():
        present = Manifest(target).entries()
        differing = sorted(n for n, facts in present.items() if files.get(n) != facts)
        missing = sorted(set(files) - set(present))
        if differing or missing:
            raise ReleaseError(
                f"{target} exists and differs from release {version} "
                f"({', '.join(differing + missing)}); remove it or fetch --to another directory"
            )
        return FetchResult(version, target, False)
    cached = remote.retrieve(version, files, progress or FetchLog())
    with staging(to, version) as stage_dir:
        for name in files:
            (stage_dir / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(cached / name, stage_dir / name)
        publish(stage_dir, target)
    write_index(to, {version: files})
    return FetchResult(version, target, True)
