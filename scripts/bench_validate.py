"""Benchmark `azkz validate` against `frictionless validate` and the DuckDB floor.

Generates synthetic `indicators` tables (100k and 1M rows, valid and with 1% bad
cells) in copies of the package, using the project's own schema and real source and
indicator codes, then times each command in a fresh process (wall time including
interpreter start-up; peak RSS of that process from wait4).  Writes
benchmarks/validate.md and prints it.  Not part of the test suite.

    .venv/bin/python scripts/bench_validate.py [--sizes 100000,1000000] [--frictionless-max 100000]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_build import write_keeping_notes

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
OUT = ROOT / "benchmarks" / "validate.md"
# Each bad row gets exactly one bad cell of one kind, so every one must be reported once.
BAD_KINDS = [
    ("value", "'n/a'", "type-error"),
    ("period_start", "'2025-02-30'", "type-error"),
    ("unit", "'USD bn'", "constraint-error"),
    ("evidence", "''", "constraint-error"),
    ("source_id", "'no-such-source'", "foreign-key"),
]
NOTES = [
    'rail and sea, Қазақстан–Azərbaycan, "Middle Corridor"',
    "по данным таможни; şəhər ğ ı ö ü ç қ ә ң ө ұ ү і",
    "two lines:\nfirst, then second",
    "",
]


def sql_list(values: list[str]) -> str:
    """SQL list literal; newlines become chr(10) (SQL string literals have no escapes)."""
    items = ("'" + v.replace("'", "''").replace("\n", "' || chr(10) || '") + "'" for v in values)
    return "[" + ", ".join(items) + "]"


def make_package(dest: Path, rows: int, bad: bool) -> Path:
    """A copy of the package whose indicators table has `rows` synthetic rows."""
    import duckdb

    dest.mkdir(parents=True)
    shutil.copy2(ROOT / "datapackage.json", dest / "datapackage.json")
    shutil.copytree(ROOT / "schemas", dest / "schemas")
    shutil.copytree(ROOT / "data", dest / "data")
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    sources = [
        r[0]
        for r in con.execute(
            f"SELECT source_id FROM read_csv('{ROOT}/data/sources.csv', all_varchar=true)"
        ).fetchall()
    ]
    codes = [
        r[0]
        for r in con.execute(
            f"SELECT indicator FROM read_csv('{ROOT}/data/indicator_definitions.csv', "
            f"all_varchar=true)"
        ).fetchall()
    ]
    fields = json.loads((ROOT / "schemas/indicators.json").read_text())["fields"]
    units = next(f for f in fields if f["name"] == "unit")["constraints"]["enum"]
    pick = "list_extract({list}, (hash(i, {salt}) % len({list}))::INTEGER + 1)"
    columns = {
        "indicator": pick.format(list=codes, salt=1),
        "reporter": "CASE WHEN i % 3 = 0 THEN '' ELSE 'KAZ' END",
        "from_country": "'AZE'",
        "to_country": "'KAZ'",
        "period_start": "strftime(DATE '1000-01-01' + i::INTEGER, '%Y-%m-%d')",
        "period_end": "strftime(DATE '1000-01-01' + i::INTEGER + 30, '%Y-%m-%d')",
        "period_basis": "'stated'",
        "value": "round((hash(i, 2) % 100000000) / 100.0, 2)::VARCHAR",
        "unit": pick.format(list=units, salt=3),
        "qualifier": "CASE WHEN i % 5 = 0 THEN 'about' ELSE '' END",
        "source_id": pick.format(list=sources, salt=4),
        "note": pick.format(list=sql_list(NOTES), salt=5),
        "evidence": "'the source says so, ' || i::VARCHAR",
        "exclude_from_series": "''",
    }
    if bad:
        for k, (name, value, _code) in enumerate(BAD_KINDS):
            columns[name] = (
                f"CASE WHEN i % 100 = 50 AND (i // 100) % {len(BAD_KINDS)} = {k} "
                f"THEN {value} ELSE {columns[name]} END"
            )
    select = ", ".join(f"{expr} AS {name}" for name, expr in columns.items())
    con.execute(
        f"COPY (SELECT {select} FROM range({rows}) t(i) ORDER BY i) "
        f"TO '{dest}/data/indicators.csv' (HEADER, DELIMITER ',', QUOTE '\"')"
    )
    return dest


def measure(command: list[str], cwd: Path) -> dict:
    """Wall seconds, peak RSS (MiB), exit status and stdout of one fresh process.

    Peak RSS comes from GNU time: Linux carries a process's high-water mark across
    fork+exec, so measuring children of this (large) script directly would overstate it.
    """
    with tempfile.NamedTemporaryFile("r") as rss_file:
        started = time.perf_counter()
        proc = subprocess.run(
            ["/usr/bin/time", "-f", "%M", "-o", rss_file.name, *command],
            cwd=cwd,
            capture_output=True,
        )
        seconds = time.perf_counter() - started
        rss_kib = int(rss_file.read().split()[-1])
    return {
        "seconds": seconds,
        "rss": rss_kib / 1024,
        "status": proc.returncode,
        "stdout": proc.stdout,
    }


def best_of(runs: int, command: list[str], cwd: Path) -> dict:
    results = [measure(command, cwd) for _ in range(runs)]
    return min(results, key=lambda r: r["seconds"])


def paired(runs: int, floor: list[str], command: list[str], cwd: Path) -> tuple[dict, dict, float]:
    """Best of `runs` for both commands, run in turns so that both see the same machine
    (it is shared: a slow minute would otherwise land on one side only), and the median
    of the per-turn ratios command / floor."""
    turns = [(measure(floor, cwd), measure(command, cwd)) for _ in range(runs)]
    ratios = sorted(c["seconds"] / f["seconds"] for f, c in turns)
    best = [min((t[k] for t in turns), key=lambda r: r["seconds"]) for k in (0, 1)]
    return best[0], best[1], ratios[len(ratios) // 2]


FLOOR = (
    "import duckdb; duckdb.sql(\"SELECT count(*) FROM read_csv('data/indicators.csv')\").fetchall()"
)
PANDERA = """
import duckdb
from azkz.validate.contracts import check_frame
from azkz.schema.package import read_package
from azkz.tables.typed import raw_csv_sql, typed_select_sql
package = read_package('.')
table = package.table('indicators')
frame = duckdb.sql(typed_select_sql(table, raw_csv_sql(package.file(table), table))).pl()
print(len(check_frame(table, frame)))
"""


def expected_errors(rows: int) -> int:
    return sum(1 for i in range(rows) if i % 100 == 50)


def bad_row_lines(path: Path) -> set[int]:
    """Physical first line of every row given a bad cell, read independently (Python's
    csv module), so the benchmark also checks the lines `azkz validate` reports."""
    import csv

    lines, end = set(), 1  # the header ends on line 1
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        next(reader)
        for i, _record in enumerate(reader):
            if i % 100 == 50:
                lines.add(end + 1)
            end = reader.line_num
    return lines


def run(sizes: list[int], frictionless_max: int, runs: int) -> str:
    lines = []
    help_time = best_of(5, [str(BIN / "azkz"), "--help"], ROOT)
    lines += [
        "# `azkz validate` benchmark",
        "",
        f"Machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}. "
        f"Wall time of a fresh process (interpreter start-up included), best of "
        f"{runs}, the floor and `azkz validate` run in turns; peak RSS of that process. Synthetic `indicators` tables with the "
        f"project's schema (quoted notes with Cyrillic/Azerbaijani/Kazakh letters and "
        f"embedded newlines), plus the real small tables. Generated by "
        f"`scripts/bench_validate.py`.",
        "",
        f"`azkz --help`: **{help_time['seconds']:.3f} s**",
        "",
        "| rows | data | command | seconds | peak RSS MiB | exit | errors reported "
        "| vs floor | frictionless / azkz |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    frictionless_per_row = None  # seconds per row, from the largest size it ran on
    valid_seconds = {}  # rows -> best `azkz validate` time on the valid table
    with tempfile.TemporaryDirectory() as tmp:
        shipped_azkz = best_of(runs, [str(BIN / "azkz"), "validate"], ROOT)
        shipped_fl = best_of(1, [str(BIN / "frictionless"), "validate", "datapackage.json"], ROOT)
        real = {"azkz": shipped_azkz, "frictionless": shipped_fl}
        for rows in sizes:
            for bad in (False, True):
                pkg = make_package(Path(tmp) / f"pkg-{rows}-{bad}", rows, bad)
                size = (pkg / "data/indicators.csv").stat().st_size / 2**20
                floor, azkz, median_ratio = paired(
                    runs,
                    [str(BIN / "python"), "-c", FLOOR],
                    [str(BIN / "azkz"), "validate", "--format", "json"],
                    pkg,
                )
                report = json.loads(azkz["stdout"])
                found = len(report["errors"])
                expected = expected_errors(rows) if bad else 0
                assert found == expected, f"{rows} rows, bad={bad}: {found} != {expected}"
                if bad:
                    reported = {e["line"] for e in report["errors"]}
                    assert reported == bad_row_lines(pkg / "data/indicators.csv"), "wrong lines"
                pandera = best_of(1, [str(BIN / "python"), "-c", PANDERA], pkg)
                fl = None
                if rows <= frictionless_max and not bad:
                    fl = best_of(
                        1, [str(BIN / "frictionless"), "validate", "datapackage.json"], pkg
                    )
                    frictionless_per_row = fl["seconds"] / rows
                label = "1% bad cells" if bad else "valid"
                head = f"| {rows:,} | {label} ({size:.0f} MB)"
                lines.append(
                    f"{head} | floor: DuckDB `count(*)` | {floor['seconds']:.2f} | "
                    f"{floor['rss']:.0f} | {floor['status']} | | 1.0× | |"
                )
                ratio_fl = ""
                if fl is not None:
                    ratio_fl = f"{fl['seconds'] / azkz['seconds']:.0f}×"
                elif frictionless_per_row is not None:
                    estimate = frictionless_per_row * rows
                    ratio_fl = (
                        f"{estimate / azkz['seconds']:.0f}× (frictionless "
                        f"extrapolated linearly: {estimate:.0f} s)"
                    )
                lines.append(
                    f"{head} | `azkz validate` | **{azkz['seconds']:.2f}** | "
                    f"{azkz['rss']:.0f} | {azkz['status']} | {found:,} of {expected:,} | "
                    f"{azkz['seconds'] / floor['seconds']:.1f}× (median of turns "
                    f"{median_ratio:.1f}×) | {ratio_fl} |"
                )
                if bad:
                    lines.append(
                        f"| {rows:,} | | **1% bad / valid** (best `azkz validate` times) | "
                        f"**{azkz['seconds'] / valid_seconds[rows]:.2f}×** | | | | | |"
                    )
                else:
                    valid_seconds[rows] = azkz["seconds"]
                lines.append(
                    f"{head} | pandera contract (DuckDB typed read → polars → "
                    f"`check_frame`) | {pandera['seconds']:.2f} | {pandera['rss']:.0f} "
                    f"| {pandera['status']} | | "
                    f"{pandera['seconds'] / floor['seconds']:.1f}× | |"
                )
                if fl is not None:
                    lines.append(
                        f"{head} | `frictionless validate` | {fl['seconds']:.2f} | "
                        f"{fl['rss']:.0f} | {fl['status']} | | "
                        f"{fl['seconds'] / floor['seconds']:.1f}× | |"
                    )
                shutil.rmtree(pkg)
    lines += [
        "",
        f"Shipped package (`azkz validate` vs `frictionless validate` in the repo): "
        f"{real['azkz']['seconds']:.2f} s vs {real['frictionless']['seconds']:.2f} s.",
        "",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument(
        "--frictionless-max",
        type=int,
        default=100_000,
        help="run frictionless only up to this many rows; extrapolate above",
    )
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    text = run([int(s) for s in args.sizes.split(",")], args.frictionless_max, args.runs)
    write_keeping_notes(OUT, text)
    print(text)


if __name__ == "__main__":
    main()
