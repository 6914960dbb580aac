"""Benchmark `azkz build`: the shipped package and a 1,000,000-row synthetic indicators table.

Each measurement runs `azkz build` in its own child process (interpreter start-up
included) and reads that child's peak RSS from `os.wait4`. The synthetic package is
a copy of the real one whose indicators.csv is replaced by generated rows with valid
foreign keys (real indicator codes and source ids), unique primary keys and Cyrillic,
Azerbaijani and Kazakh letters in the notes, written sorted by primary key as `azkz fmt`
writes every file of this package (CI checks it); a second copy holds the same rows in
generated order, which the build must sort. Writes benchmarks/build.md and prints it.

Each round also checks that the build is reproducible: the rebuild of the same package
into the same `--out` is refused (and this script stops) unless every file of the fresh
build is the same as the release on disk, the CSV and Parquet files byte for byte
(`azkz.release.fingerprint`; the `.duckdb` file by its tables).

The build's floor (issue 22): for the sorted 1M-row package, a child process of this
script (`--parts ROOT`) loads the typed tables as the build does, then runs the build's
own CSV, Parquet and `.duckdb` writers (`write_csv_files`, `write_parquet_files`,
`write_duckdb_file`: the same COPY, CREATE TABLE with its keys, INSERT and COMMENT
statements) one after the other, each alone; the sum of the three is the floor.  The
same child times the build's other parts alone (validation, typed load, pandera
contracts, hashing, zip), and a child importing what `azkz build` imports times
start-up.  It takes turns with `azkz build` of the same package.

    .venv/bin/python scripts/bench_build.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from azkz.core.digest import sha256_file  # noqa: E402
from azkz.core.layout import Manifest, release_files  # noqa: E402
from azkz.release import build  # noqa: E402
from azkz.release.archive import write_zip  # noqa: E402
from azkz.release.citation import created_from_data  # noqa: E402
from azkz.schema.package import read_package  # noqa: E402
from tests.helpers import copy_package, synthetic_indicators  # noqa: E402

AZKZ = str(Path(sys.executable).with_name("azkz"))
NOTES_HEADING = "## Notes"


def write_keeping_notes(path: Path, text: str) -> None:
    """Write a generated report; the hand-written `## Notes` at its end survive a re-run."""
    path.parent.mkdir(exist_ok=True)
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    if NOTES_HEADING in old:
        text = text.rstrip("\n") + "\n\n" + NOTES_HEADING + old.split(NOTES_HEADING, 1)[1]
    path.write_text(text, encoding="utf-8")


def run(args: list[str], command: list[str] | None = None) -> tuple[float, float]:
    """(seconds, peak RSS in MB) of one child process: `azkz` unless `command` is given."""
    argv = [*(command or [AZKZ]), *args]
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{proc.stderr.read().decode()}")
    return seconds, usage.ru_maxrss / 1024


# Start-up of `azkz build`: the interpreter and the modules it imports before it reads
# the package (the validator and pandera are imported by their parts, timed there).
STARTUP = [sys.executable, "-c", "import azkz.cli, azkz.release.build, duckdb"]


# The build's parts timed alone by `build_parts`, in the order they run; the first three
# are the DuckDB writes whose sum is the build's floor.
FLOOR_PARTS = ("CSV files", "Parquet files", "`.duckdb` file")
OTHER_PARTS = ("validation", "typed load", "pandera contracts", "hashing", "zip")


def build_parts(root: Path) -> dict[str, float]:
    """Seconds of each part of `azkz build` of `root`, run alone in this (fresh) process.

    The writes are the build's own step functions on a connection configured as the
    build's, holding the typed tables loaded as the build loads them (sorted once); each
    part's first call pays its imports, as in the build.
    """
    seconds: dict[str, float] = {}

    def timed(name: str, work):
        start = time.perf_counter()
        result = work()
        seconds[name] = time.perf_counter() - start
        return result

    package = timed("validation", lambda: build.validate_or_raise(root))
    with tempfile.TemporaryDirectory() as tmp:
        stage, spill = Path(tmp, "stage"), Path(tmp, "spill")
        stage.mkdir()
        config = build.BUILD_DUCKDB_CONFIG | {"temp_directory": str(spill)}
        con = duckdb.connect(config=config)
        con.execute("SET enable_progress_bar = false")
        timed("typed load", lambda: build.load_release_tables(package, con))
        ctx = build.ReleaseContext(
            stage_dir=stage,
            package=package,
            con=con,
            previous_release_dir=None,
            created=created_from_data(con, package),
            log=build.BuildLog(),
            manifest=Manifest(stage),
        )
        writers = (build.write_csv_files, build.write_parquet_files, build.write_duckdb_file)
        for name, writer in zip(FLOOR_PARTS, writers, strict=True):
            timed(name, lambda writer=writer: writer(ctx))
        errors = timed("pandera contracts", lambda: build.contract_errors(package, con.cursor()))
        assert not errors, errors
        con.close()
        timed("hashing", lambda: [sha256_file(p) for p in release_files(stage)])
        timed("zip", lambda: write_zip(stage, package, ctx.created))
    return seconds


def run_parts(root: Path) -> dict[str, float]:
    """`build_parts(root)` in a child process of this script."""
    out = subprocess.run(
        [sys.executable, __file__, "--parts", str(root)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out)


def measure(
    root: Path, label: str, rows: int, work: Path, rounds: int, parts: list | None = None
) -> list[str]:
    """Validate and build in turns, `rounds` times; medians and their ratio.

    Taking turns exposes both commands to the same noise of a shared machine, so the
    ratio is steadier than either time.  With `parts` (a list), each round also times
    the build's parts alone and start-up, appending {part: seconds, "build": seconds}.
    """
    out = work / f"dist-{label}"
    validations, builds, rebuilds = [], [], []
    for _ in range(rounds):
        validations.append(run(["validate", str(root)]))
        shutil.rmtree(out, ignore_errors=True)
        builds.append(run(["build", "--package", str(root), "--out", str(out)]))
        rebuilds.append(run(["build", "--package", str(root), "--out", str(out)]))
        if parts is not None:
            timings = run_parts(root)
            timings["start-up"] = run([], STARTUP)[0]
            timings["build"] = builds[-1][0]
            parts.append(timings)
    version_dir = out / read_package(root).version
    size = sum(p.stat().st_size for p in version_dir.rglob("*") if p.is_file())
    shutil.rmtree(out)
    (valid_s, valid_mb), (build_s, build_mb), (again_s, again_mb) = (
        (statistics.median(s for s, _ in runs), max(mb for _, mb in runs))
        for runs in (validations, builds, rebuilds)
    )
    return [
        f"| {label} | {rows:,} | validate | {valid_s:.2f} | 1.0× | {valid_mb:.0f} | |",
        f"| {label} | {rows:,} | build | {build_s:.2f} | {build_s / valid_s:.1f}× | "
        f"{build_mb:.0f} | {size / 1e6:.1f} |",
        f"| {label} | {rows:,} | rebuild, same content (no-op check) | {again_s:.2f} | "
        f"{again_s / valid_s:.1f}× | {again_mb:.0f} | |",
    ]


def floor_lines(parts: list[dict[str, float]]) -> list[str]:
    """The floor table: medians of each part over the rounds, the build against the floor,
    and each round's own build / floor."""
    median = {name: statistics.median(p[name] for p in parts) for name in parts[0]}
    floors = [sum(p[name] for name in FLOOR_PARTS) for p in parts]
    ratios = [p["build"] / floor for p, floor in zip(parts, floors, strict=True)]
    floor = statistics.median(floors)
    rest = [*OTHER_PARTS, "start-up"]
    rounds = ", ".join(
        f"{p['build']:.2f} / {f:.2f} = {r:.2f}×"
        for p, f, r in zip(parts, floors, ratios, strict=True)
    )
    return [
        "| part of `azkz build` (1,000,000 rows), run alone | seconds | × floor |",
        "|---|---:|---:|",
        *(
            f"| {name} (floor) | {median[name]:.2f} | {median[name] / floor:.2f}× |"
            for name in FLOOR_PARTS
        ),
        f"| **floor: the three DuckDB writes, one after the other** | **{floor:.2f}** | 1.00× |",
        f"| **`azkz build`** | **{median['build']:.2f}** | **{statistics.median(ratios):.2f}×** |",
        *(f"| {name} | {median[name]:.2f} | {median[name] / floor:.2f}× |" for name in rest),
        "",
        f"The build's × floor is the median of the {len(parts)} rounds' own ratios, build / "
        f"floor of the same round: {rounds}.",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--parts", type=Path, help=argparse.SUPPRESS)  # see build_parts
    args = parser.parse_args()
    if args.parts:
        print(json.dumps(build_parts(args.parts)))
        return
    parts: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        shipped = copy_package(work / "shipped")
        shipped_rows = sum(
            duckdb.sql(
                f"SELECT count(*) FROM read_csv('{shipped / t.path}', all_varchar=true)"
            ).fetchall()[0][0]
            for t in read_package(shipped).stored_tables
        )
        lines = measure(shipped, "shipped package", shipped_rows, work, args.rounds)
        synthetic = copy_package(work / "synthetic")
        synthetic_indicators(synthetic, args.rows)
        lines += measure(synthetic, "synthetic indicators", args.rows, work, args.rounds, parts)
        unsorted = copy_package(work / "unsorted")
        synthetic_indicators(unsorted, args.rows, in_key_order=False)
        label = "synthetic, rows not in key order"
        lines += measure(unsorted, label, args.rows, work, args.rounds)
    rounds = args.rounds
    report = "\n".join(
        [
            "# `azkz build` benchmark",
            "",
            "Generated by `scripts/bench_build.py`: each run is a separate `azkz` process",
            "(interpreter start-up, validation, typed load, CSV + Parquet + DuckDB + zip, checksums,",
            "index); peak RSS of that process. The rebuild of an existing version compares the",
            "fresh staging build with the release on disk and leaves it untouched.",
            f"`azkz validate`, `azkz build` and the rebuild take turns, {rounds} rounds: seconds are",
            "medians, the ratio is to `azkz validate` of the same package in the same run, peak",
            "RSS the highest. Targets (issue 15): build ≤ 5× validate, peak RSS ≤ 1 GB.",
            "",
            f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
            f"{platform.python_version()}, DuckDB {duckdb.__version__}.",
            "",
            "| package | rows | run | seconds | × validate | peak RSS (MB) | release size (MB) |",
            "|---|---:|---|---:|---:|---:|---:|",
            *lines,
            "",
            "## The build against its floor",
            "",
            "The floor (issue 22) is the sum of the build's own DuckDB writes, each run alone",
            "on the typed tables loaded as the build loads them: the CSV COPYs, the Parquet",
            "COPYs, and the `.duckdb` file's CREATE TABLE (primary, unique and foreign keys",
            "included), INSERT and COMMENT statements. The other rows are the build's other",
            "parts, each alone in the same child process; start-up is a child process importing",
            f"what `azkz build` imports before it reads the package (`{STARTUP[-1]}`). Goal:",
            "build ≤ 1.5× the floor.",
            "",
            *floor_lines(parts),
            "",
        ]
    )
    write_keeping_notes(ROOT / "benchmarks" / "build.md", report)
    print(report)


if __name__ == "__main__":
    main()
