"""Benchmark `azkz build`: the shipped package and a 1,000,000-row synthetic indicators table.

Each measurement runs `azkz build` in its own child process (interpreter start-up
included) and reads that child's peak RSS from `os.wait4`. The synthetic package is
a copy of the real one whose indicators.csv is replaced by generated rows with valid
foreign keys (real indicator codes and source ids), unique primary keys and Cyrillic,
Azerbaijani and Kazakh letters in the notes, written sorted by primary key as `azkz fmt`
writes every file of this package (CI checks it); a second copy holds the same rows in
generated order, which the build must sort. Writes benchmarks/build.md and prints it.

    .venv/bin/python scripts/bench_build.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
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
from azkz.schema.package import read_package  # noqa: E402
from azkz.tables.typed import key_order, load_tables  # noqa: E402
from tests.helpers import copy_package  # noqa: E402

AZKZ = str(Path(sys.executable).with_name("azkz"))
NOTES_HEADING = "## Notes"


def write_keeping_notes(path: Path, text: str) -> None:
    """Write a generated report; the hand-written `## Notes` at its end survive a re-run."""
    path.parent.mkdir(exist_ok=True)
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    if NOTES_HEADING in old:
        text = text.rstrip("\n") + "\n\n" + NOTES_HEADING + old.split(NOTES_HEADING, 1)[1]
    path.write_text(text, encoding="utf-8")


def run(args: list[str]) -> tuple[float, float]:
    """(seconds, peak RSS in MB) of one `azkz` child process."""
    start = time.perf_counter()
    proc = subprocess.Popen([AZKZ, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"azkz {' '.join(args)} failed:\n{proc.stderr.read().decode()}")
    return seconds, usage.ru_maxrss / 1024


def synthetic_indicators(root: Path, rows: int, in_key_order: bool = True) -> None:
    """Replace indicators.csv with `rows` valid rows referencing the real codelists,
    sorted by primary key (`in_key_order`) or in the order they were generated."""
    package = read_package(root)
    con = duckdb.connect()
    load_tables(package, con)
    con.execute(
        "CREATE TABLE ind AS SELECT indicator, row_number() OVER () - 1 AS k "
        "FROM indicator_definitions"
    )
    con.execute("CREATE TABLE src AS SELECT source_id, row_number() OVER () - 1 AS k FROM sources")
    n_ind, n_src = (
        con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in ("ind", "src")
    )
    path = package.file(package.table("indicators"))
    con.execute(f"""
        COPY (
          SELECT ind.indicator,
                 CASE WHEN i % 3 = 0 THEN NULL ELSE 'KAZ' END AS reporter,
                 'AZE' AS from_country, 'KAZ' AS to_country,
                 DATE '1990-01-01' + CAST(i // {n_ind * n_src} AS INTEGER) AS period_start,
                 DATE '1990-01-01' + CAST(i // {n_ind * n_src} AS INTEGER) + 30 AS period_end,
                 'stated' AS period_basis,
                 round((i % 100000) * 1.37, 2) AS value,
                 'USD million' AS unit,
                 CASE WHEN i % 5 = 0 THEN 'about' END AS qualifier,
                 src.source_id,
                 CASE WHEN i % 4 = 0 THEN 'товарооборот, Bakı–Aqtau, қазақ "note" ' || i END
                   AS note,
                 'synthetic row ' || i AS evidence,
                 NULL AS exclude_from_series
          FROM range({rows}) AS r(i)
          JOIN ind ON ind.k = i % {n_ind}
          JOIN src ON src.k = (i // {n_ind}) % {n_src}
          ORDER BY {key_order(package.table("indicators")) if in_key_order else "i"}
        ) TO '{path}' (FORMAT csv, HEADER true, NULL '')
    """)


def measure(root: Path, label: str, rows: int, work: Path, rounds: int) -> list[str]:
    """Validate and build in turns, `rounds` times; medians and their ratio.

    Taking turns exposes both commands to the same noise of a shared machine, so the
    ratio is steadier than either time.
    """
    out = work / f"dist-{label}"
    validations, builds, rebuilds = [], [], []
    for _ in range(rounds):
        validations.append(run(["validate", str(root)]))
        shutil.rmtree(out, ignore_errors=True)
        builds.append(run(["build", "--package", str(root), "--out", str(out)]))
        rebuilds.append(run(["build", "--package", str(root), "--out", str(out)]))
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
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
        lines += measure(synthetic, "synthetic indicators", args.rows, work, args.rounds)
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
        ]
    )
    write_keeping_notes(ROOT / "benchmarks" / "build.md", report)
    print(report)


if __name__ == "__main__":
    main()
