"""`release="latest"` with and without the releases site: what is used, and what is said.

`latest` is the newest *published* release, so the site is asked first (a local server on
127.0.0.1 here). When it cannot be reached, the newest release this machine holds is used
(`dist/`, or the download cache) with one note on stderr naming that version and where it
came from; nothing is said when the site answers.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import shutil
import socket
from pathlib import Path

import pytest

import azkz
from tests.helpers import invoke

NEWER = "9.0.0"


def closed_port_url() -> str:
    """A URL on this machine where nothing listens: connections are refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/releases/"


def built_version(built_release: Path) -> str:
    return json.loads((built_release / "datapackage.json").read_text("utf-8"))["version"]


@pytest.fixture
def local_dist(built_release, empty_dir) -> Path:
    """`dist/` in the working directory holding the built release (as `azkz fetch` leaves it)."""
    dist = empty_dir / "dist"
    shutil.copytree(built_release / "dist", dist)
    return dist


@pytest.fixture
def published(built_release, tmp_path) -> Path:
    """A releases directory publishing the built release and a newer one, `NEWER`."""
    site = tmp_path / "site"
    shutil.copytree(built_release / "dist", site)
    version = built_version(built_release)
    shutil.copytree(site / version, site / NEWER)
    index = json.loads((site / "index.json").read_text("utf-8"))
    (entry,) = index["versions"]
    index["versions"].append(dict(entry, version=NEWER, path=f"{NEWER}/"))
    index["latest"] = NEWER
    (site / "index.json").write_text(json.dumps(index), "utf-8")
    return site


def cached(tmp_path: Path) -> list[str]:
    cache = tmp_path / "cache"
    return sorted(p.relative_to(cache).as_posix() for p in cache.rglob("*") if p.is_file())


def count_indicators(dist: Path) -> str:
    (path,) = dist.glob("*/data/indicators.csv")
    return str(sum(1 for _ in csv.DictReader(io.StringIO(path.read_text("utf-8")))))


COUNT_SQL = "SELECT count(*) AS n FROM indicators"


# --- offline ------------------------------------------------------------------------------


def test_offline_latest_uses_the_local_dist_and_says_so_once(
    built_release, local_dist, monkeypatch
) -> None:
    url = closed_port_url()
    monkeypatch.setenv("AZKZ_RELEASES_URL", url)
    version = built_version(built_release)
    result = invoke("query", COUNT_SQL, "--release", "latest", "--format", "csv")
    assert result.exit_code == 0, result.output
    assert result.stdout == f"n\n{count_indicators(local_dist)}\n"
    assert result.stderr.splitlines() == [
        f"note: using release {version} from dist, the newest here: the releases site {url} "
        f"cannot be reached (connection refused), so a newer release may be published"
    ]
    assert "AZKZ_RELEASES_URL" not in result.stderr  # not a configuration problem


def test_offline_latest_in_python_logs_one_warning(
    built_release, local_dist, monkeypatch, caplog
) -> None:
    url = closed_port_url()
    monkeypatch.setenv("AZKZ_RELEASES_URL", url)
    with caplog.at_level(logging.WARNING, logger="azkz"):
        table = azkz.load("indicators", release="latest", engine="arrow")
    assert table.num_rows == int(count_indicators(local_dist))
    (record,) = caplog.records
    assert record.levelno == logging.WARNING
    assert record.getMessage().startswith(
        f"using release {built_version(built_release)} from dist, the newest here: "
        f"the releases site {url} cannot be reached (connection refused)"
    )


def test_offline_latest_prefers_a_newer_release_in_the_cache(
    built_release, local_dist, published, serve, monkeypatch, tmp_path, caplog
) -> None:
    url, stop = serve(published)
    monkeypatch.setenv("AZKZ_RELEASES_URL", url)
    online = azkz.load("indicators", release="latest", engine="arrow")  # caches NEWER's file
    assert any(p.endswith(f"/{NEWER}/data/indicators.parquet") for p in cached(tmp_path))
    stop()
    with caplog.at_level(logging.WARNING, logger="azkz"):
        offline = azkz.load("indicators", release="latest", engine="arrow")
    assert offline.equals(online)
    (record,) = caplog.records
    assert record.getMessage().startswith(
        f"using release {NEWER} from the download cache, the newest here: the releases site"
    )
    # NEWER's .duckdb file was never downloaded: the newest release here that has it is dist's
    result = invoke("query", COUNT_SQL, "--release", "latest", "--format", "csv")
    assert result.exit_code == 0, result.output
    assert f"note: using release {built_version(built_release)} from dist," in result.stderr


def test_offline_latest_in_both_dist_and_the_cache_is_read_from_dist(
    built_release, local_dist, serve, monkeypatch, caplog, tmp_path
) -> None:
    url, stop = serve(built_release / "dist")
    monkeypatch.setenv("AZKZ_RELEASES_URL", url)
    monkeypatch.chdir(local_dist.parent.parent)  # no dist/ here: the download goes to the cache
    azkz.load("indicators", release="latest", engine="arrow")
    version = built_version(built_release)
    assert any(p.endswith(f"/{version}/data/indicators.parquet") for p in cached(tmp_path))
    monkeypatch.chdir(local_dist.parent)
    stop()
    with caplog.at_level(logging.WARNING, logger="azkz"):
        azkz.load("indicators", release="latest", engine="arrow")
    (record,) = caplog.records
    assert record.getMessage().startswith(f"using release {version} from dist, the newest here:")


def test_offline_with_nothing_local_is_an_error_naming_the_site(empty_dir, monkeypatch) -> None:
    url = closed_port_url()
    monkeypatch.setenv("AZKZ_RELEASES_URL", url)
    result = invoke("query", COUNT_SQL, "--release", "latest")
    assert result.exit_code == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"error: cannot connect to {url}index.json (connection refused)")
    assert "AZKZ_RELEASES_URL" in line and "no release in dist or the download cache" in line


# --- online -------------------------------------------------------------------------------


def test_online_latest_is_the_sites_newest_even_with_an_older_dist(
    local_dist, published, serve, monkeypatch, tmp_path
) -> None:
    url, _stop = serve(published)
    monkeypatch.setenv("AZKZ_RELEASES_URL", url)
    result = invoke("query", COUNT_SQL, "--release", "latest", "--format", "csv")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert any(f"/{NEWER}/" in p and p.endswith(".duckdb") for p in cached(tmp_path))


def test_online_latest_that_dist_has_is_read_from_dist(
    built_release, local_dist, serve, monkeypatch, tmp_path
) -> None:
    url, _stop = serve(built_release / "dist")
    monkeypatch.setenv("AZKZ_RELEASES_URL", url)
    result = invoke("query", COUNT_SQL, "--release", "latest", "--format", "csv")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert [Path(p).name for p in cached(tmp_path)] == ["index.json"]  # nothing downloaded
