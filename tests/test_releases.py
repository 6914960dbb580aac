"""The release layer: versions, the layout on disk, file facts computed once, staging."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from azkz.core import layout
from azkz.core.layout import ReleaseError, Version, version_key
from azkz.diff import DiffError, parse_version
from azkz.release import archive, build
from azkz.schema.package import read_package


def test_versions_sort_by_semver_precedence() -> None:
    texts = [
        "1.0.0",
        "0.10.0",
        "1.0.0-rc.1",
        "0.2.0",
        "1.0.0-alpha",
        "1.0.0-alpha.10",
        "1.0.0-alpha.2",
        "1.0.0-alpha.beta",
        "not-a-version",
        "0.2.0+build.7",
    ]
    assert sorted(texts, key=version_key) == [
        "not-a-version",
        "0.2.0",
        "0.2.0+build.7",
        "0.10.0",
        "1.0.0-alpha",
        "1.0.0-alpha.2",
        "1.0.0-alpha.10",
        "1.0.0-alpha.beta",
        "1.0.0-rc.1",
        "1.0.0",
    ]
    assert Version.parse("2.3.4-rc.1+x").core == (2, 3, 4)


@pytest.mark.parametrize("text", ["1.0", "01.0.0", "1.0.0-", "v1.0.0", "../1.0.0", "1.0.0/x", ""])
def test_what_is_not_semver_is_refused_with_one_message(text: str) -> None:
    with pytest.raises(ReleaseError, match=r"is not SemVer \(MAJOR.MINOR.PATCH\)"):
        Version.parse(text)
    with pytest.raises(DiffError, match=r"^old side: version .* is not SemVer"):
        parse_version(text, "old side")  # azkz diff reads versions with the same parser


def test_resolve_local_names_what_is_there(built_release: Path, tmp_path: Path) -> None:
    dist = built_release / "dist"
    version = read_package(built_release).version
    assert layout.resolve_local(dist, "latest") == dist / version
    assert layout.resolve_local(dist, None) == dist / version
    with pytest.raises(
        ReleaseError, match=rf"no release '9.9.9' in {dist} \(available: {version}\)"
    ):
        layout.resolve_local(dist, "9.9.9")
    with pytest.raises(ReleaseError, match="available: none"):
        layout.resolve_local(tmp_path, "0.1.0")


def test_every_file_fact_is_the_same_in_all_four_places(built_release: Path) -> None:
    """datapackage.json, dataset.jsonld, SHA256SUMS and index.json quote one manifest."""
    dist = built_release / "dist"
    version = read_package(built_release).version
    release = dist / version
    index = layout.parse_index((dist / "index.json").read_text("utf-8"), "index.json")
    facts = index.versions[version]
    sums = dict(
        reversed(line.split("  ", 1))
        for line in (release / "SHA256SUMS").read_text("utf-8").splitlines()
    )
    assert set(facts) == set(sums) | {
        "SHA256SUMS",
        f"{read_package(built_release).name}-{version}.zip",
    }
    for name, digest in sums.items():
        assert facts[name].sha256 == digest, name
    descriptor = json.loads((release / "datapackage.json").read_text("utf-8"))
    for resource in descriptor["resources"]:
        fact = facts[resource["path"]]
        assert resource["hash"] == f"sha256:{fact.sha256}" and resource["bytes"] == fact.bytes
    jsonld = json.loads((release / "dataset.jsonld").read_text("utf-8"))
    for download in jsonld["distribution"]:
        fact = facts[download["name"]]
        assert download["contentSize"] == f"{fact.bytes} B"
        assert download.get("sha256", fact.sha256) == fact.sha256
    assert sum("sha256" in d for d in jsonld["distribution"]) >= len(descriptor["resources"])


def test_a_build_hashes_each_file_once(package_copy: Path, monkeypatch) -> None:
    hashed: Counter = Counter()
    original = layout.sha256_file

    def counting(path):
        hashed[Path(path).name] += 1
        return original(path)

    def deflating(source, target, hashing=True):  # data files: hashed as deflated for the zip
        hashed[Path(source).name] += hashing
        return deflate(source, target, hashing)

    deflate = archive.deflate_file
    monkeypatch.setattr(layout, "sha256_file", counting)
    monkeypatch.setattr(archive, "deflate_file", deflating)
    result = build.build_release(package_copy, package_copy / "dist")
    assert set(hashed) == {Path(name).name for name in result.files}
    assert set(hashed.values()) == {1}, hashed


def test_a_killed_builds_staging_directory_is_removed_by_the_next_run(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    code = (
        "import sys, time\n"
        "from azkz.core.layout import staging\n"
        f"with staging({str(dist)!r}, '0.1.0') as d:\n"
        "    print(d, flush=True)\n"
        "    time.sleep(60)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        stage_dir = Path(child.stdout.readline().strip())
        assert stage_dir.name.startswith(".building-0.1.0-") and stage_dir.is_dir()
        assert layout.remove_stale_staging(dist) == []  # still held by a live build
        assert stage_dir.is_dir()
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    finally:
        child.kill()
        child.stdout.close()
    assert stage_dir.is_dir()  # what SIGKILL leaves behind
    with layout.staging(dist, "0.1.0") as mine:
        assert not stage_dir.exists()
        assert layout.remove_stale_staging(dist) == [] and mine.is_dir()
    assert not mine.exists()


def test_build_and_citation_no_longer_import_each_other() -> None:
    code = "import sys, azkz.release.citation; print('azkz.release.build' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_copy_releases_gives_the_layout_a_releases_url_serves(built_release, tmp_path) -> None:
    """Every release and an index.json (rebuilt from the files when the old one is gone)."""
    import shutil

    dist = tmp_path / "dist"
    shutil.copytree(built_release / "dist", dist)
    (dist / "index.json").unlink()
    layout.copy_releases(dist, tmp_path / "download")
    published = (built_release / "dist" / "index.json").read_bytes()
    assert (tmp_path / "download" / "index.json").read_bytes() == published
    version = read_package(built_release).version
    assert layout.built_versions(tmp_path / "download") == [version]
