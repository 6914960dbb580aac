"""Shared fixtures: tests never touch the real package; they work on copies."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from tests.helpers import copy_package, static_server


@pytest.fixture(autouse=True)
def no_releases_server(monkeypatch) -> None:
    """Tests never reach the network: unless a test serves releases itself, the releases
    URL is a closed port on this machine (connections are refused at once)."""
    monkeypatch.setenv("AZKZ_RELEASES_URL", "http://127.0.0.1:9/")


@pytest.fixture
def empty_dir(tmp_path, monkeypatch) -> Path:
    """A new user's situation: an empty working directory (`tmp_path/work`, the current
    directory) and an empty download cache (`tmp_path/cache`)."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("AZKZ_CACHE_DIR", str(tmp_path / "cache"))
    return work


@pytest.fixture
def package_copy(tmp_path: Path) -> Path:
    """A writable copy of the real package, to mutate in a test."""
    return copy_package(tmp_path / "pkg")


@pytest.fixture(scope="session")
def built_release(tmp_path_factory) -> Path:
    """A copy of the real package with one release built into `<root>/dist`; read only."""
    from azkz.release.build import build_release

    root = copy_package(tmp_path_factory.mktemp("release") / "pkg")
    build_release(root, root / "dist")
    return root


@pytest.fixture(scope="module")
def release_db(built):
    """The `.duckdb` file of the module's `built` (release, site) pair, opened read-only."""
    import duckdb

    release, _ = built
    (db_file,) = release.glob("*.duckdb")
    con = duckdb.connect(str(db_file), read_only=True)
    yield con
    con.close()


@pytest.fixture
def serve():
    """`serve(directory) -> (base URL, stop)`: a static HTTP server on 127.0.0.1, a thread.

    Serves a releases directory (`index.json`, `<version>/...`) as the project's site
    does; `stop()` shuts it down early, to show what then still works offline.
    """
    with contextlib.ExitStack() as servers:
        yield lambda directory: servers.enter_context(static_server(directory))
