"""`pip install .` (not editable) gives a working azkz outside the checkout.

Slow (a wheel and a virtual environment), so not in the default run: `make test-install`
runs it and `.ci/run` calls that. Offline: the wheel is built without build isolation
(the `test` extra installs setuptools), installed with `--no-index --no-deps`, and the
new environment borrows the third-party libraries of the running one through a `.pth`
file, so only azkz itself comes from the wheel.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.conftest import ROOT, copy_package

pytestmark = pytest.mark.install


def run(args: list, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "PIP_NO_INDEX": "1", **env},
        timeout=300,
    )
    assert result.returncode == 0, f"{args}:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh virtual environment with azkz installed from a wheel of this checkout."""
    tmp = tmp_path_factory.mktemp("install")
    source = tmp / "source"  # a copy: an in-tree build would leave build/ in the checkout
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, source / name)
    shutil.copytree(ROOT / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__"))
    python = sys.executable
    run(
        [
            python,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            tmp / "wheel",
            source,
        ],
        tmp,
    )
    venv = tmp / "venv"
    run([python, "-m", "venv", venv], tmp)
    site = Path(
        run(
            [
                venv / "bin" / "python",
                "-c",
                "import sysconfig; print(sysconfig.get_paths()['purelib'])",
            ],
            tmp,
        ).stdout.strip()
    )
    # Third-party libraries from the running environment, after the venv's own site-packages.
    (site / "_azkz_test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    (wheel,) = (tmp / "wheel").glob("azkz-*.whl")
    run([venv / "bin" / "python", "-m", "pip", "install", "-q", "--no-deps", wheel], tmp)
    return venv


def test_everything_the_package_reads_at_run_time_is_installed(installed: Path) -> None:
    code = "import azkz, pathlib; print(pathlib.Path(azkz.__file__).parent)"
    where = Path(run([installed / "bin" / "python", "-c", code], installed.parent).stdout.strip())
    assert where.is_relative_to(installed), where  # the wheel's copy, not the checkout
    source = ROOT / "src" / "azkz"

    def files(root: Path) -> set[str]:
        return {
            p.relative_to(root).as_posix()
            for p in root.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts
        }

    assert files(source) <= files(where)


def test_the_installed_azkz_validates_builds_fetches_and_loads(installed, serve, tmp_path) -> None:
    """From a directory outside the checkout, as a new user would, against a local server."""
    azkz = installed / "bin" / "azkz"
    package = copy_package(tmp_path / "package")
    work = tmp_path / "empty"
    work.mkdir()
    run([azkz, "validate", package], work)
    run([azkz, "build", "--package", package, "--out", "dist"], work)
    url, _stop = serve(work / "dist")
    env = {"AZKZ_RELEASES_URL": url, "AZKZ_CACHE_DIR": str(tmp_path / "cache")}
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    fetched = run([azkz, "fetch", "latest", "--to", "releases"], elsewhere, **env)
    assert "fetched" in fetched.stdout
    (version_dir,) = (elsewhere / "releases").glob("*.*.*")
    run(["sha256sum", "-c", "--quiet", "SHA256SUMS"], version_dir)
    code = "import azkz; print(azkz.load('indicators', release='latest', engine='arrow').num_rows)"
    rows = run([installed / "bin" / "python", "-c", code], elsewhere, **env).stdout.strip()
    import pyarrow.parquet as pq

    every = pq.read_metadata(work / "dist" / version_dir.name / "data" / "indicators.parquet")
    assert int(rows) == every.num_rows > 0
    sql = "SELECT count(*) FROM indicators"
    queried = run([azkz, "query", sql, "--release", "latest", "--format", "csv"], elsewhere, **env)
    assert queried.stdout.splitlines()[1] == rows
