"""Helpers shared by the test modules (fixtures live in conftest.py)."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import functools
import hashlib
import http.server
import json
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from click.testing import CliRunner

ROOT = Path(__file__).resolve().parents[1]

# Set by `.ci/run`: there the machine has installed npm, node and chromium first, so a site
# test that cannot run is a broken set-up, not an optional extra.
REQUIRE_SITE_TOOLS = "AZKZ_REQUIRE_SITE_TOOLS"


def skip_without_site_tool(reason: str) -> None:
    """Skip (locally) or fail (in CI) a test whose tool (npm, node, chromium) is missing.

    Locally a missing npm is a choice and the test says why it skipped; in CI a skipped
    browser or wasm test would be a silent pass, so it fails with the same reason.
    """
    import pytest

    if os.environ.get(REQUIRE_SITE_TOOLS) == "1":
        pytest.fail(f"{reason} (required in CI: {REQUIRE_SITE_TOOLS}=1)")
    pytest.skip(reason)


def edit_json(path: Path, change) -> None:
    """Apply `change` to the parsed JSON file and write it back."""
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data), encoding="utf-8")


def field_named(schema: dict, name: str) -> dict:
    return next(f for f in schema["fields"] if f["name"] == name)


def edit_descriptor(root: Path, change) -> None:
    edit_json(root / "datapackage.json", change)


def edit_schema(root: Path, table: str, change) -> None:
    edit_json(root / "schemas" / f"{table}.json", change)


def copy_package(dest: Path) -> Path:
    """Copy the package's descriptor, schemas and data into `dest` and return it."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy2(ROOT / "datapackage.json", dest / "datapackage.json")
    shutil.copytree(ROOT / "schemas", dest / "schemas")
    shutil.copytree(ROOT / "data", dest / "data")
    return dest


def release_dir(root: Path) -> Path:
    """`<root>/dist/<version>`: the release a test built from the package at `root`."""
    from azkz.schema.package import read_package

    return root / "dist" / read_package(root).version


def sha256_hex(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def invoke(*args: str, input: str | bytes | None = None):
    """Run the `azkz` CLI in-process with `args` (and `input` on stdin); the click result."""
    from azkz.cli import main

    return CliRunner().invoke(main, list(args), input=input)


_TYPED = {
    "number": float,
    "integer": int,
    "year": int,
    "date": dt.date.fromisoformat,
    "boolean": lambda text: text == "true",
    "string": str,
}


def csv_records(path: Path, table) -> list[dict[str, Any]]:
    """A table's CSV read with the csv module and typed by hand from its schema.

    An independent reading (no DuckDB, no azkz.tables.typed) to compare what the loaders
    return with; the empty cell is the missing value.
    """
    with Path(path).open(encoding="utf-8", newline="") as f:
        return [
            {
                f.name: (_TYPED[f.type](row[f.name]) if row[f.name] != "" else None)
                for f in table.fields
            }
            for row in csv.DictReader(f)
        ]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *_args) -> None:
        """Keep the test output readable; failures are asserted on, not logged."""


# How often the server's loop looks for `shutdown()`: http.server's default of 0.5 s made
# every test that stops a server wait half a second for it.
SERVER_POLL_SECONDS = 0.01


@contextlib.contextmanager
def static_server(directory: Path) -> Iterator[tuple[str, Any]]:
    """A static HTTP server for `directory` on 127.0.0.1, in a thread: `(base URL, stop)`.

    `stop()` shuts it down early (to show what then still works offline); leaving the
    block stops it too.
    """
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": SERVER_POLL_SECONDS}, daemon=True
    )
    thread.start()
    stopped = threading.Event()

    def stop() -> None:
        if not stopped.is_set():
            stopped.set()
            server.shutdown()
            server.server_close()
            thread.join()

    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", stop
    finally:
        stop()


def synthetic_indicators(root: Path, rows: int, in_key_order: bool = True) -> None:
    """Replace indicators.csv with `rows` valid rows referencing the real codelists,
    sorted by primary key (`in_key_order`) or in the order they were generated
    (scripts/bench_build.py, and tests that need more rows than the package has)."""
    import duckdb

    from azkz.schema.package import read_package
    from azkz.tables.typed import key_order, load_tables

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
