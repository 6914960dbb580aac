"""Benchmark `azkz diff`: a 1,000,000-row indicators table with 1% of rows changed.

Writes two packages with the real `schemas/indicators.json` minus its foreign keys (generated with DuckDB,
not timed): the new side has 1/300 of the rows removed, 1/300 changed (value; every
other one also its note) and 3,333 rows added, i.e. about 1% of rows touched.  Each
measurement runs in a fresh subprocess so wall time includes start-up and peak RSS
is the child's own.  The counts are checked against the generator before the results
are written to benchmarks/diff.md.

    .venv/bin/python scripts/bench_diff.py [--rows N]
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "diff.md"
AZKZ = Path(sys.executable).with_name("azkz")


def write_side(root: Path, rows: int, new: bool) -> Path:
    """A one-table package; `new` applies the removals, changes and additions."""
    (root / "data").mkdir(parents=True)
    (root / "schemas").mkdir()
    # The real schema, less its foreign keys: the benchmark package has only this table,
    # and `azkz diff` validates each side before comparing.
    schema = json.loads((ROOT / "schemas" / "indicators.json").read_text(encoding="utf-8"))
    schema.pop("foreignKeys", None)
    (root / "schemas" / "indicators.json").write_text(json.dumps(schema), encoding="utf-8")
    descriptor = {
        "name": "bench",
        "version": "1.0.1" if new else "1.0.0",
        "resources": [
            {
                "name": "indicators",
                "path": "data/indicators.csv",
                "type": "table",
                "schema": "schemas/indicators.json",
            }
        ],
    }
    (root / "datapackage.json").write_text(json.dumps(descriptor))
    total = rows + (rows // 300 if new else 0)
    keep = f"WHERE i >= {rows} OR i % 300 <> 1" if new else ""
    changed_value = "i % 300 = 2" if new else "false"
    changed_note = "i % 600 = 2" if new else "false"
    duckdb.sql(f"""
        COPY (
          SELECT 'ind_' || (i % 50) AS indicator,
                 CASE WHEN i % 7 = 0 THEN '' ELSE 'KAZ' END AS reporter,
                 CASE WHEN i % 2 = 0 THEN 'AZE' ELSE 'KAZ' END AS from_country,
                 CASE WHEN i % 2 = 0 THEN 'KAZ' ELSE 'AZE' END AS to_country,
                 DATE '1990-01-01' + CAST(i // 1000 AS INTEGER) AS period_start,
                 DATE '1990-01-01' + CAST(i // 1000 AS INTEGER) + 30 AS period_end,
                 (i % 100000) / 4 + CASE WHEN {changed_value} THEN 1 ELSE 0 END AS value,
                 'USD million' AS unit,
                 CASE WHEN i % 5 = 0 THEN 'about' ELSE '' END AS qualifier,
                 'src-' || (i % 1000) AS source_id,
                 CASE WHEN {changed_note} THEN 'пересмотрено, Bakı–Astana'
                      ELSE 'товарооборот, Azərbaycan–Қазақстан' END AS note,
                 'evidence ' || i AS evidence
          FROM range({total}) t(i) {keep}
        ) TO '{root / "data" / "indicators.csv"}' (HEADER, DELIMITER ',')""")
    return root


# Runs the command as its only child, so RUSAGE_CHILDREN is that command's own peak.
_WRAPPER = (
    "import resource, subprocess, sys\n"
    "code = subprocess.run(sys.argv[1:]).returncode\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)\n"
    "sys.exit(code)\n"
)


def measure(args: list[str]) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MB) and stdout of one fresh child process."""
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", _WRAPPER, *args], capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode:
        raise SystemExit(f"{' '.join(args)} failed:\n{proc.stderr}")
    peak_kb = int(proc.stderr.strip().splitlines()[-1])
    return seconds, peak_kb / 1024, proc.stdout


CHANGES = """
import json, sys
from azkz.diff import changes_document
from azkz.schema import read_package
doc = changes_document(read_package(sys.argv[1]), read_package(sys.argv[2]))
print(len(json.dumps(doc, sort_keys=True)))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    rows = parser.parse_args().rows
    with tempfile.TemporaryDirectory() as tmp:
        old = write_side(Path(tmp) / "old", rows, new=False)
        new = write_side(Path(tmp) / "new", rows, new=True)
        csv_mb = (new / "data" / "indicators.csv").stat().st_size / 1e6
        diff_s, diff_mb, out = measure([str(AZKZ), "diff", str(old), str(new), "--format", "json"])
        table = json.loads(out)["tables"][0]
        expected = {
            "added": rows // 300,
            "removed": len(range(1, rows, 300)),
            "changed": len(range(2, rows, 300)),
        }
        got = {k: table[k] for k in expected}
        if got != expected:
            raise SystemExit(f"wrong counts: {got} != {expected}")
        changes_s, changes_mb, size = measure([sys.executable, "-c", CHANGES, str(old), str(new)])
        check_s, check_mb, _ = measure([str(AZKZ), "diff", "--check-version", str(old), str(new)])
    touched = sum(expected.values())
    runs = [
        (
            "`azkz diff OLD NEW --format json` (exact counts, per-field counts, 10 examples "
            "per kind)",
            diff_s,
            diff_mb,
        ),
        ("`azkz diff --check-version OLD NEW`", check_s, check_mb),
        (
            f"`changes_document` (every ADD/MOD/DEL entry, as written to a release's "
            f"changes.json: {int(size) / 1e6:.1f} MB of JSON)",
            changes_s,
            changes_mb,
        ),
    ]
    results = "".join(f"| {name} | {sec:.2f} | {mb:.0f} |\n" for name, sec, mb in runs)
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(
        f"""# Benchmark: `azkz diff`

Generated by `scripts/bench_diff.py` (do not edit by hand).  Machine: {platform.machine()},
{_cores()} cores, Python {platform.python_version()}, DuckDB {duckdb.__version__}.

Table: `indicators` (the real schema, 12 columns), {rows:,} rows old,
{rows + expected["added"] - expected["removed"]:,} rows new ({csv_mb:.0f} MB of CSV);
{expected["added"]:,} added, {expected["removed"]:,} removed, {expected["changed"]:,} changed
= {touched:,} rows touched ({touched / rows:.1%}).  Counts verified against the generator.
Each run is a fresh process: wall time includes interpreter start-up and reading both
CSVs with the schema's typed casts.

| run | wall (s) | peak RSS (MB) |
|---|---:|---:|
{results}""",
        encoding="utf-8",
    )
    print(OUT.read_text(encoding="utf-8"))


def _cores() -> int:
    import os

    return len(os.sched_getaffinity(0))


if __name__ == "__main__":
    main()
