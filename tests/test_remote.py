"""Published releases over HTTP: `azkz.load`, `azkz fetch`, `azkz query --release` with no clone.

A built `dist/` is served from 127.0.0.1 (the `serve` fixture); nothing else is reached.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import azkz
from azkz.access import remote
from azkz.core.layout import ReleaseError, parse_index, write_index
from azkz.schema.package import read_package
from tests.helpers import invoke


@pytest.fixture
def empty_dir(tmp_path, monkeypatch) -> Path:
    """A new user's situation: an empty working directory and an empty cache."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("AZKZ_CACHE_DIR", str(tmp_path / "cache"))
    return work


@pytest.fixture
def served(built_release, serve, monkeypatch) -> tuple[str, object]:
    """The built release's dist/ on a local server, named by AZKZ_RELEASES_URL."""
    url, stop = serve(built_release / "dist")
    monkeypatch.setenv("AZKZ_RELEASES_URL", url)
    return url, stop


def served_version(built_release: Path) -> str:
    return read_package(built_release).version


def cached_files(tmp_path: Path) -> list[str]:
    cache = tmp_path / "cache"
    return sorted(p.relative_to(cache).as_posix() for p in cache.rglob("*") if p.is_file())


def tampered_dist(built_release: Path, tmp_path: Path) -> Path:
    """A copy of dist/ whose indicators.parquet differs by one byte; index.json as published."""
    dist = tmp_path / "tampered"
    shutil.copytree(built_release / "dist", dist)
    parquet = dist / served_version(built_release) / "data" / "indicators.parquet"
    data = bytearray(parquet.read_bytes())
    data[len(data) // 2] ^= 0x01
    parquet.write_bytes(bytes(data))
    return dist


def test_first_load_downloads_and_verifies_only_what_it_needs(
    built_release, served, empty_dir, tmp_path
) -> None:
    version = served_version(built_release)
    table = azkz.load("indicators", release="latest", engine="arrow")
    local = pq.read_table(built_release / "dist" / version / "data" / "indicators.parquet")
    assert table.num_rows == local.num_rows > 0
    assert table.to_pylist() == local.to_pylist()
    host = served[0].split("://")[1].strip("/").replace(":", "_")
    assert cached_files(tmp_path) == sorted(
        [
            f"releases/{host}/index.json",
            f"releases/{host}/{version}/data/indicators.parquet",
            f"releases/{host}/{version}/datapackage.json",
        ]
    )
    assert not (empty_dir / "dist").exists()  # nothing written where the user is


def test_second_load_works_offline_from_the_cache(built_release, served, empty_dir) -> None:
    _url, stop = served
    first = azkz.load("indicators", release="latest", engine="polars")
    pinned = azkz.load("visits", release=served_version(built_release), engine="polars")
    stop()
    assert azkz.load("indicators", release="latest", engine="polars").equals(first)
    assert azkz.load("visits", release=served_version(built_release), engine="polars").equals(
        pinned
    )
    with pytest.raises(ReleaseError, match="connection refused"):  # never cached: needs the server
        azkz.load("agreements", release=served_version(built_release))


def test_latest_is_the_highest_version_the_index_names(
    built_release, serve, empty_dir, tmp_path, monkeypatch
) -> None:
    """An older version listed after the newer one does not become `latest`."""
    dist = tmp_path / "served"
    shutil.copytree(built_release / "dist", dist)
    version = served_version(built_release)
    shutil.copytree(dist / version, dist / "0.0.1")
    write_index(dist)
    index = parse_index((dist / "index.json").read_text("utf-8"), "index.json")
    assert list(index.versions) == ["0.0.1", version] and index.latest == version
    url, _stop = serve(dist)
    result = remote.fetch_release("latest", empty_dir / "releases", base_url=url)
    assert result.version == version and result.path == empty_dir / "releases" / version


def test_a_tampered_file_is_refused_by_load_and_nothing_corrupt_is_kept(
    built_release, serve, empty_dir, tmp_path
) -> None:
    url, _stop = serve(tampered_dist(built_release, tmp_path))
    version = served_version(built_release)
    index = parse_index((built_release / "dist" / "index.json").read_text("utf-8"), "index")
    expected = index.versions[version]["data/indicators.parquet"].sha256
    with pytest.raises(remote.ChecksumMismatch) as caught:
        azkz.load("indicators", release=version, base_url=url)
    message = str(caught.value)
    assert (
        f"{version}/data/indicators.parquet: sha256 mismatch: expected {expected}, got " in message
    )
    actual = message.split(", got ")[1].split()[0]
    assert len(actual) == 64 and actual != expected
    assert not any(name.endswith(".parquet") for name in cached_files(tmp_path))
    assert all("tmp" not in name for name in cached_files(tmp_path))  # no partial download left


def test_a_tampered_file_is_refused_by_fetch_without_a_traceback(
    built_release, serve, empty_dir, tmp_path, monkeypatch
) -> None:
    url, _stop = serve(tampered_dist(built_release, tmp_path))
    monkeypatch.setenv("AZKZ_RELEASES_URL", url)
    result = invoke("fetch", "latest", "--to", "releases")
    assert result.exit_code == 2
    assert "data/indicators.parquet: sha256 mismatch: expected" in result.output
    assert "Traceback" not in result.output and result.exception.__class__ is SystemExit
    assert not (empty_dir / "releases" / served_version(built_release)).exists()
    assert not any(name.endswith("indicators.parquet") for name in cached_files(tmp_path))


def test_fetch_gives_a_directory_sha256sum_accepts_then_needs_no_network(
    built_release, served, empty_dir
) -> None:
    version = served_version(built_release)
    result = invoke("fetch", "latest", "--to", "releases")
    assert result.exit_code == 0, result.output
    target = empty_dir / "releases" / version
    assert f"release {version}: fetched" in result.output
    assert "data/indicators.csv" in result.output and "sha256 ok (downloaded)" in result.output
    check = subprocess.run(
        ["sha256sum", "-c", "--quiet", "SHA256SUMS"], cwd=target, capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout + check.stderr
    published = sorted(
        p.relative_to(built_release / "dist" / version).as_posix()
        for p in (built_release / "dist" / version).rglob("*")
        if p.is_file()
    )
    assert sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file()) == (
        published
    )
    listed = json.loads((empty_dir / "releases" / "index.json").read_text("utf-8"))
    assert listed["latest"] == version
    served[1]()  # the server stops: the same version again is a no-op, and into another
    again = invoke("fetch", version, "--to", "releases")  # directory it comes from the cache
    assert again.exit_code == 0 and "already there" in again.output
    other = invoke("fetch", version, "--to", "elsewhere")
    assert other.exit_code == 0 and "sha256 ok (cached)" in other.output


def test_fetch_refuses_to_overwrite_a_different_directory(built_release, served, empty_dir):
    version = served_version(built_release)
    assert invoke("fetch", version, "--to", "releases").exit_code == 0
    (empty_dir / "releases" / version / "CHANGELOG.md").write_text("edited\n")
    result = invoke("fetch", version, "--to", "releases")
    assert result.exit_code == 2
    assert "exists and differs" in result.output and "CHANGELOG.md" in result.output


def test_query_release_latest_downloads_the_duckdb_file(built_release, served, empty_dir):
    result = invoke(
        "query", "SELECT count(*) AS n FROM indicators", "--release", "latest", "--format", "csv"
    )
    assert result.exit_code == 0, result.output
    expected = pq.read_metadata(
        built_release / "dist" / served_version(built_release) / "data" / "indicators.parquet"
    ).num_rows
    assert result.output.splitlines() == ["n", str(expected)]


def test_unknown_version_lists_the_published_ones(built_release, served, empty_dir) -> None:
    version = served_version(built_release)
    with pytest.raises(
        ReleaseError,
        match=rf"no release '9\.9\.9' at {served[0]} .available: "
        rf"{version}\)",
    ):
        azkz.load("indicators", release="9.9.9")
    for args in (["fetch", "9.9.9"], ["query", "SELECT 1", "--release", "9.9.9"]):
        result = invoke(*args)
        assert result.exit_code == 2, args
        assert "no release '9.9.9'" in result.output and version in result.output
        assert "Traceback" not in result.output
    result = invoke("fetch", "../../etc")
    assert result.exit_code == 2 and "is not SemVer" in result.output


def test_refused_connection_names_the_url_and_the_variable(empty_dir, monkeypatch) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/releases/"
    monkeypatch.setenv("AZKZ_RELEASES_URL", url)
    with pytest.raises(remote.ReleaseUnreachable) as caught:
        azkz.load("indicators", release="latest")
    assert f"cannot connect to {url}index.json (connection refused)" in str(caught.value)
    assert "set AZKZ_RELEASES_URL" in str(caught.value)
    result = invoke("fetch")
    assert result.exit_code == 2 and "connection refused" in result.output
    assert "AZKZ_RELEASES_URL" in result.output and "Traceback" not in result.output


def test_a_silent_server_times_out_with_the_url(empty_dir, monkeypatch) -> None:
    with socket.socket() as sock:  # accepts connections (backlog) but never answers
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/"
        monkeypatch.setattr(remote, "TIMEOUT", 0.3)
        with pytest.raises(
            remote.ReleaseUnreachable,
            match=rf"{url}index.json did not answer "
            r"within 0.3 s; set AZKZ_RELEASES_URL",
        ):
            remote.fetch_release("latest", empty_dir, base_url=url)


def test_an_http_error_names_the_status(built_release, served, empty_dir) -> None:
    result = invoke("fetch", "latest")
    assert result.exit_code == 0
    with pytest.raises(ReleaseError, match=rf"{served[0]}nowhere/index.json: HTTP 404"):
        remote.fetch_release("latest", empty_dir / "x", base_url=served[0] + "nowhere")


def test_a_local_dist_with_the_version_is_used_without_the_network(built_release) -> None:
    """The default releases URL in tests refuses connections: this needs none."""
    version = served_version(built_release)
    data = azkz.load("visits", release=version, engine="arrow", dist=built_release / "dist")
    assert data.num_rows > 0


def test_the_rich_progress_shows_each_file(built_release, served, empty_dir) -> None:
    import io

    from rich.console import Console

    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=120)
    with remote.RichFetchLog(console) as progress:
        remote.fetch_release("latest", empty_dir / "r", progress=progress)
    text = out.getvalue()
    assert "data/indicators.parquet" in text and "datapackage.json" in text


def test_default_releases_url_is_the_sites_download_directory(monkeypatch) -> None:
    """The project publishes to GitHub Pages of its homepage repository, under download/."""
    monkeypatch.delenv("AZKZ_RELEASES_URL")
    homepage = json.loads((Path(__file__).parents[1] / "datapackage.json").read_text())["homepage"]
    owner, repo = homepage.removeprefix("https://github.com/").split("/")
    assert remote.releases_url() == f"https://{owner}.github.io/{repo}/download/"
    assert remote.releases_url("http://h/x") == "http://h/x/"
