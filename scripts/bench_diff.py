"""Benchmark `azkz diff` of a release against the working tree: 1,000,000 rows, 1% changed.

The old side is the real package with a synthetic 1,000,000-row indicators table (the
generator of scripts/bench_build.py), built into a release (not timed); the new side is
the same working tree with 1/300 of the indicator rows removed, 1/300 changed (value;
every other one also its note) and 1/300 added: 1% of rows touched.  `azkz validate
NEW` and the diffs take turns (--rounds, 3 by default) in fresh processes: seconds are
medians, ratios are to `azkz validate NEW` of the same run, peak RSS is the highest.
The counts are checked against the generator.  Writes benchmarks/diff.md.

    .venv/bin/python scripts/bench_diff.py [--rows N] [--rounds N]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench_build import run, synthetic_indicators, write_keeping_notes  # noqa: E402

from azkz.schema.package import read_package  # noqa: E402
from tests.helpers import copy_package  # noqa: E402

OUT = ROOT / "benchmarks" / "diff.md"
EVERY = 300  # one row in EVERY is removed, one changed, one added


def changed_copy(old: Path, new: Path) -> dict[str, int]:
    """`new`: `old` with 1/EVERY of the indicator rows removed, changed and added."""
    copy_package(new)
    table = read_package(old).table("indicators")
    source, target = old / table.path, new / table.path
    con = duckdb.connect()
    con.execute(
        f"CREATE TABLE t AS SELECT *, row_number() OVER () - 1 AS i "
        f"FROM read_csv('{source}', all_varchar=true, header=true)"
    )
    shifted = "CAST(CAST({0} AS DATE) + 40000 AS VARCHAR) AS {0}"  # new keys, same shape
    con.execute(f"""
        COPY (
          SELECT * EXCLUDE (i) REPLACE (
                   CASE WHEN i % {EVERY} = 2 THEN CAST(CAST(value AS DOUBLE) + 1 AS VARCHAR)
                        ELSE value END AS value,
                   CASE WHEN i % {2 * EVERY} = 2 THEN 'пересмотрено, Bakı–Astana'
                        ELSE note END AS note)
          FROM t WHERE i % {EVERY} <> 1
          UNION ALL
          SELECT * EXCLUDE (i) REPLACE ({shifted.format("period_start")},
                                        {shifted.format("period_end")})
          FROM t WHERE i % {EVERY} = 3
        ) TO '{target}' (FORMAT csv, HEADER true, NULL '')""")
    descriptor = json.loads((new / "datapackage.json").read_text("utf-8"))
    major, minor, patch = descriptor["version"].split(".")
    descriptor["version"] = f"{major}.{minor}.{int(patch) + 1}"  # data changes: a patch
    (new / "datapackage.json").write_text(json.dumps(descriptor, ensure_ascii=False), "utf-8")
    counts = con.execute(
        f"SELECT count(*) FILTER (WHERE i % {EVERY} = 3), count(*) FILTER (WHERE i % {EVERY} = 1),"
        f" count(*) FILTER (WHERE i % {EVERY} = 2) FROM t"
    ).fetchall()[0]
    con.close()
    return dict(zip(("added", "removed", "changed"), counts, strict=True))


def output(args: list[str]) -> str:
    azkz = Path(sys.executable).with_name("azkz")
    return subprocess.run([azkz, *args], capture_output=True, text=True, check=True).stdout


def measure(commands: dict[str, list[str]], rounds: int) -> dict[str, tuple[float, float]]:
    """{label: (median seconds, highest peak RSS MB)}, the commands taking turns."""
    runs: dict[str, list[tuple[float, float]]] = {label: [] for label in commands}
    for _ in range(rounds):
        for label, args in commands.items():
            runs[label].append(run(args))
    return {
        label: (statistics.median(s for s, _ in got), max(mb for _, mb in got))
        for label, got in runs.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        old, new, dist = Path(tmp) / "old", Path(tmp) / "new", Path(tmp) / "dist"
        synthetic_indicators(copy_package(old), args.rows)
        expected = changed_copy(old, new)
        run(["build", "--package", str(old), "--out", str(dist)])
        release = str(dist / read_package(old).version)
        tables = json.loads(output(["diff", release, str(new), "--format", "json"]))["tables"]
        got = next(t for t in tables if t["name"] == "indicators")
        if {k: got[k] for k in expected} != expected:
            raise SystemExit(f"wrong counts: {got} != {expected}")
        results = measure(
            {
                "`azkz validate NEW`": ["validate", str(new)],
                "`azkz diff RELEASE NEW --format json`": [
                    "diff",
                    release,
                    str(new),
                    "--format",
                    "json",
                ],
                "`azkz diff --check-version RELEASE NEW`": [
                    "diff",
                    "--check-version",
                    release,
                    str(new),
                ],
                "`azkz diff OLD NEW` (two working trees, both validated)": [
                    "diff",
                    str(old),
                    str(new),
                    "--format",
                    "json",
                ],
            },
            args.rounds,
        )
        csv_mb = (new / "data" / "indicators.csv").stat().st_size / 1e6
    write_report(args, expected, results, csv_mb)


def write_report(args, expected: dict[str, int], results, csv_mb: float) -> None:
    validate_s = results["`azkz validate NEW`"][0]
    rows = "".join(
        f"| {label} | {s:.2f} | {s / validate_s:.1f}× | {mb:.0f} |\n"
        for label, (s, mb) in results.items()
    )
    touched = sum(expected.values())
    write_keeping_notes(
        OUT,
        f"""# Benchmark: `azkz diff`

Generated by `scripts/bench_diff.py` (do not edit by hand).  Machine: {platform.machine()},
{len(os.sched_getaffinity(0))} cores, Python {platform.python_version()}, DuckDB
{duckdb.__version__}.

RELEASE: the real package with {args.rows:,} synthetic indicator rows, built by `azkz build`.
NEW: that working tree with {expected["added"]:,} rows added, {expected["removed"]:,} removed
and {expected["changed"]:,} changed ({touched / args.rows:.1%} of rows; {csv_mb:.0f} MB of
indicators CSV); counts verified against the generator.  OLD: the working tree RELEASE was
built from.  Each run is a fresh process (interpreter start-up included); the commands
take turns, {args.rounds} rounds: seconds are medians, the ratio is to `azkz validate NEW`
in the same run.  Target (issue 15): a release against the working tree ≤ 2× validate.

A release side is not validated again: the files the diff reads (`datapackage.json`,
`data/<table>.parquet`) are checked against its `SHA256SUMS` and its rows come from its
Parquet files.  The working tree is validated once and read as typed tables.

| run | wall (s) | × validate | peak RSS (MB) |
|---|---:|---:|---:|
{rows}""",
    )
    print(OUT.read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
