"""`azkz validate`: every error in the package, with its physical line, in one run.

Layers, in order; every code comes from the vocabulary in `azkz.core.errors`, which says
which layer reports it (README's error list is generated from it):

1. descriptor — `datapackage.json` and the schemas readable, coherent and fully
   understood (`azkz.validate.descriptor`); fatal, exit 2.  Each error names its resource and
   the file it is in.
2. file — missing file or not a regular one (never opened), empty file, NUL bytes,
   the declared encoding (a UTF-8 copy is read for any other), line endings, quotes,
   and the header against the schema (`azkz.validate.scan`).  Label errors stop the rows only
   when the header's width differs from the schema's.
3. rows — DuckDB's strict parse with stored rejects, blank rows from the byte scan.
4. fields — generated SQL per Table Schema field (`azkz.validate.rules.cell`, run by
   `azkz.validate.rules.row`).
5. table — primary key and unique fields.
6. package — foreign keys, and `mustBeReferenced` (`azkz.validate.rules.declared`).
7. declared rules — what a schema declares with this package's custom properties.

Why this shape: DuckDB's parser is the fast structural gate, and the byte scan
(`azkz.validate.scan`) finds what it cannot: physical lines, blank lines, NUL bytes, stray
quotes.  Field, table and declared rules are SQL generated from the schemas.  A
table is either loaded whole as text and checked there, or, when its file is large and
no foreign key points to it, profiled in one streaming pass and only its failing rows
are loaded (`azkz.validate.profile`).  The pandera contract in `azkz.validate.contracts`
expresses the same rules for typed frames but is too slow to import and run for this command (see
benchmarks/validate.md).
"""

from __future__ import annotations

import stat
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from azkz.core.errors import (
    BLANK_ROW,
    ENCODING_ERROR,
    EXTRA_CELL,
    EXTRA_LABEL,
    MISSING_CELL,
    MISSING_LABEL,
    PRIMARY_KEY,
    SCHEME_ERROR,
    SOURCE_ERROR,
    ErrorType,
    error,
)
from azkz.core.layout import ReleaseError
from azkz.core.sql import quote_ident
from azkz.schema.package import DescriptorError, Package, Table, read_package
from azkz.tables.typed import internal_name
from azkz.validate.descriptor import descriptor_errors, encoding_of, schema_error
from azkz.validate.profile import (
    EarlyProfile,
    ProfilePlan,
    locate_failures,
    profiled,
    start_profile,
)
from azkz.validate.ragged import noted_wide_rows, restore_rows, width_errors
from azkz.validate.report import Report
from azkz.validate.rules.cell import empty_key_checks, raw_name
from azkz.validate.rules.declared import (
    create_iso3_type,
    pair_exemptions,
    set_variables,
    unused_key_errors,
)
from azkz.validate.rules.derived import precedence_errors
from azkz.validate.rules.row import load_raw, row_errors
from azkz.validate.rules.table import foreign_key_errors, key_errors
from azkz.validate.scan import Scan, header_errors, scan_file

# DuckDB reject types -> (Frictionless code, message)
REJECT_CODES = {
    "TOO MANY COLUMNS": (EXTRA_CELL, "row has more cells than the header ({detail})"),
    "MISSING COLUMNS": (MISSING_CELL, "row has fewer cells than the header ({detail})"),
    "UNQUOTED VALUE": (
        SOURCE_ERROR,
        "a quoted cell is not closed properly: unterminated quote or text after the closing quote",
    ),
    "INVALID ENCODING": (ENCODING_ERROR, "not valid UTF-8; save the file as UTF-8"),
}


# Rejects for a row's width: the scan counts its cells instead (`azkz.ragged`).
WIDTH_REJECTS = ("TOO MANY COLUMNS", "MISSING COLUMNS")


# ----------------------------------------------------------------------------- entry point
def validate_package(root: str | Path | Package = ".") -> Report:
    """Validate the package at `root` (or a package already read); never raises for bad
    input, never writes."""
    started = time.perf_counter()
    report = Report(stats={"tables": 0, "rows": 0})
    try:
        package = root if isinstance(root, Package) else read_package(root)
    except DescriptorError as exc:
        report.errors.extend(exc.errors)
        report.fatal = True
        return report
    report.package = package
    report.errors.extend(descriptor_errors(package))
    report.errors.extend(precedence_errors(package, schema_error))
    if report.errors:
        report.fatal = True
        return report
    # A derived table without a file is the build's to compute: only files are checked.
    report.errors.extend(stray_derived_files(package))
    package = package.stored()

    import duckdb

    con = duckdb.connect(":memory:")
    create_iso3_type(con)
    with tempfile.TemporaryDirectory(prefix="azkz-validate-") as scratch:
        # Files in another declared encoding are read through a UTF-8 copy in `scratch`.
        sources = {t.name: utf8_source(package, t, Path(scratch)) for t in package.tables}
        variables = pair_exemptions(package, sources, con)
        set_variables(con, variables)
        results = _validate_tables(package, con, sources, variables)
    for table in package.tables:  # each table's errors by line, foreign keys included
        report.errors.extend(sorted(results[table.name].errors, key=lambda e: e["line"] or 0))
    con.close()
    rows = {name: r.rows for name, r in results.items() if r.rows is not None}
    report.stats.update(
        tables=len(package.tables),
        rows=sum(rows.values()),
        rows_per_table={t.name: rows[t.name] for t in package.tables if t.name in rows},
        seconds=round(time.perf_counter() - started, 3),
    )
    return report


def _validate_tables(
    package: Package, con, sources: dict[str, Any], variables: dict[str, Any]
) -> dict[str, TableResult]:
    """Every table's layers, then the package layer (foreign keys, declared references)."""
    results: dict[str, TableResult] = {}
    lines: dict[str, Any] = {}  # table name -> physical line of each parsed row
    with ThreadPoolExecutor(1) as background:
        # Large tables' profiles start at once, on cursors of their own, and use the
        # second core while the other tables are checked here.  Profiled tables are
        # never parents (`profiled`), so they finish last: their foreign keys are
        # checked against parents already loaded.
        early = {
            t.name: start_profile(package, t, con, background, variables)
            for t in package.tables
            if sources[t.name] == package.file(t) and profiled(package, t)
        }
        loaded = [t for t in package.tables if t.name not in early]
        for table in loaded:
            result = results[table.name] = validate_table(
                package, table, con, lines, source=sources[table.name]
            )
            if result.lines is not None:
                lines[table.name] = result.lines
        for table in loaded:  # while the profiles still run
            if table.name in lines:
                results[table.name].errors += foreign_key_errors(package, table, lines, con)
        for name, profile in early.items():
            table = package.table(name)
            result = results[name] = validate_table(
                package, table, con, lines, profile, sources[name]
            )
            if result.lines is not None:  # it was loaded after all: check its references
                lines[name] = result.lines
                result.errors += foreign_key_errors(package, table, lines, con)
        profiles = {name: p for name, p in early.items() if results[name].rows is not None}
        for table in package.tables:
            if table.schema.get("mustBeReferenced") and table.name in lines:
                results[table.name].errors += unused_key_errors(
                    package, table, lines, con, profiles
                )
    return results


def utf8_source(package: Package, table: Table, scratch: Path) -> Path | dict[str, Any]:
    """The file to read `table` from: its own when UTF-8, else a UTF-8 copy in `scratch`.

    Bytes the declared encoding cannot decode are an `encoding-error` at their line
    (the copy keeps every line break where it was, so lines stay the file's own).
    """
    path = package.file(table)
    encoding = encoding_of(table)
    if encoding in ("utf-8", "utf-8-sig") or file_kind_error(table, path) is not None:
        return path
    data = path.read_bytes()
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].decode(encoding, errors="replace").count("\n") + 1
        return error(
            table.name,
            table.path,
            line,
            None,
            ENCODING_ERROR,
            f"byte 0x{data[exc.start]:02x} cannot be decoded as {table.resource['encoding']} "
            f"(the resource's declared encoding)",
        )
    copy = scratch / f"{internal_name('source', table)}.csv"
    copy.write_text(text, encoding="utf-8", newline="")
    return copy


def stray_derived_files(package: Package) -> list[dict[str, Any]]:
    """A file where only a release keeps a derived table: hand-made or left over, never read."""
    return [
        file_error(
            table,
            SOURCE_ERROR,
            f"{table.path} is derived by `azkz build` from {', '.join(table.derived_from)} and "
            "is never edited by hand: delete it (releases carry it)",
        )
        for table in package.virtual_tables
        if package.file(table).exists()
    ]


def file_error(table: Table, kind: ErrorType, message: str) -> dict[str, Any]:
    """An error about a resource's file as a whole (no line, no field)."""
    return error(table.name, table.path, None, None, kind, message)


# Codes after which the table's rows are not checked (and other tables skip FKs to it).
STOPPING_CODES = frozenset(
    e.code for e in (SCHEME_ERROR, ENCODING_ERROR, MISSING_LABEL, EXTRA_LABEL, SOURCE_ERROR)
)


# ----------------------------------------------------------------------------- rows
@dataclass
class TableResult:
    """One table's errors and what the package layer needs from it."""

    errors: list[dict[str, Any]]
    lines: Any = None  # physical line of each parsed row; None: no foreign-key check left
    rows: int | None = None  # rows parsed; None when the rows could not be read


def validate_table(
    package: Package,
    table: Table,
    con,
    lines: dict[str, Any],
    early: EarlyProfile | None = None,
    source: Path | dict[str, Any] | None = None,
) -> TableResult:
    """File, row, field, table and domain layers for one table, by one of three paths.

    1. **profiled**: a large table that no other table references was profiled in one
       streaming pass (`profile_table`, started `early`); when the quick scan and the
       parse saw nothing wrong, the profile settles it and only the rows it found
       failing are located and checked (`locate_failures`).
    2. **loaded**: the table is loaded whole as `raw_<name>` text (at once, or because
       the profile could not settle it) and, when every record parsed cleanly, every
       rule runs on it.
    3. **rescan**: the quick scan or the parse saw something wrong, so the file is
       scanned again to place every record and DuckDB's rejects are mapped to lines;
       the rules run on the rows that parsed.

    `lines` holds the parent tables' parsed rows, for the profiled table's foreign
    keys.  `source` is the file to read (`utf8_source`), or the error that prevents
    reading it.
    """
    if isinstance(source, dict):
        return TableResult([source])
    path = package.file(table) if source is None else source
    not_a_file = file_kind_error(table, path)
    if not_a_file is not None:
        return TableResult([not_a_file])
    plan = early.plan if early is not None else None
    con, scan, failure = _first_pass(table, path, con, early)
    errors, checkable = file_errors(table, scan)
    if not checkable:
        return TableResult(errors)
    clean = scan.record_starts is None and failure is None and _parsed_all(table, scan, con, plan)
    if plan is not None:
        if clean:  # path 1
            located = locate_failures(package, plan, path, con, lines, len(scan.record_lines))
            if located is not None:
                result = _profiled_result(package, table, con, errors, scan, located, lines)
                return without_blank_rows(table, result, scan)
        if clean or scan.record_starts is not None:  # the profile could not settle it
            drop_loaded(table, con)  # the profile's rejects, so that none is counted twice
            failure = load_raw(table, path, con)
            clean = clean and failure is None and _parsed_all(table, scan, con)
    if clean:  # path 2
        return _checked_rows(table, con, errors, scan.record_lines, scan)
    return _rescanned(table, path, con, errors, scan, failure)  # path 3


def _first_pass(table: Table, path: Path, con, early: EarlyProfile | None):
    """(connection, quick scan, parser failure) of the profile, or of a load into `con`;
    numpy scans the bytes while DuckDB profiles or loads them."""
    if early is not None:
        scan = scan_file(table, path, locate=False)
        return early.con, scan, early.failure.result()
    with ThreadPoolExecutor(1) as pool:
        loading = pool.submit(load_raw, table, path, con)
        scan = scan_file(table, path, locate=False)
        return con, scan, loading.result()


def _rescanned(
    table: Table, path: Path, con, errors: list, scan: Scan, failure: str | None
) -> TableResult:
    """Path 3: place every record (scanning again unless the scan already did), map
    DuckDB's rejects to them and check the rows that parsed."""
    if scan.record_starts is None:  # the quick scan gave lines only: locate them
        drop_loaded(table, con)  # first: the full scan holds the whole file in memory
        scan = scan_file(table, path)
        errors, checkable = file_errors(table, scan)
        if not checkable:
            return TableResult(errors)
        failure = load_raw(table, path, con)
    rejects, good_lines = parse_rows(table, path, scan, con, failure)
    errors += rejects
    if good_lines is None:
        return TableResult(errors)
    result = _checked_rows(table, con, errors, good_lines, scan)
    noted_wide_rows(table, scan, result.errors)
    return result


def _checked_rows(table: Table, con, errors: list, good_lines, scan: Scan) -> TableResult:
    """Field and table rules on the loaded rows at `good_lines`."""
    errors += row_errors(table, con, good_lines)
    errors += key_errors(table, con, good_lines)
    return without_blank_rows(table, TableResult(errors, good_lines, len(good_lines)), scan)


def without_blank_rows(table: Table, result: TableResult, scan: Scan) -> TableResult:
    """A row of empty cells is one `blank-row`, as in Frictionless: the row's other
    errors (required cells, missing cells) are dropped, and its line is kept in
    `result.lines` only so that row positions stay right (its keys are all NULL).
    Only where every field counts the empty cell as missing: otherwise such a row
    holds values (empty text, or type errors).  A blank row of a table with a primary
    key also has an empty key, a `primary-key` error there too; an empty line, which
    the scan reports and DuckDB skips, gets that error here."""
    empty = (scan.blank_lines if table.empty_is_missing else set()) | scan.empty_records
    # Rows of missing values (`missing_row_checks`), and the scan's empty lines.
    reported = {e["line"] for e in result.errors if e["code"] == BLANK_ROW.code}
    if empty or reported:
        kept = (BLANK_ROW.code, PRIMARY_KEY.code)
        result.errors = [
            e for e in result.errors if e["line"] not in empty | reported or e["code"] in kept
        ] + [
            error(table.name, table.path, line, None, BLANK_ROW, "every cell of the row is empty")
            for line in sorted(empty - reported)
        ]
    if table.primary_key:
        empty_lines = sorted(e["line"] for e in scan.errors if e["code"] == BLANK_ROW.code)
        result.errors += [_empty_key_error(table, line) for line in empty_lines]
    return result


def _empty_key_error(table: Table, line: int) -> dict[str, Any]:
    """The `primary-key` error of an empty line (its key, like every cell, is missing)."""
    check = empty_key_checks(table)[0]
    return error(table.name, table.path, line, check.field, check.kind, check.message)


def drop_loaded(table: Table, con) -> None:
    """Drop what parsing `table` left: its text table and DuckDB's rejects."""
    for prefix in ("raw", "rejects", "scans"):
        con.execute(f"DROP TABLE IF EXISTS {quote_ident(internal_name(prefix, table))}")


def _profiled_result(
    package: Package, table: Table, con, errors: list, scan: Scan, located, lines: dict[str, Any]
) -> TableResult:
    """Errors of a profiled table: the rules that can fail, run on the located rows only."""
    hits, failures = located
    if len(hits):
        hit_lines = scan.record_lines[hits]
        errors += row_errors(table, con, hit_lines, failures.checks)
        if failures.keys:
            errors += key_errors(table, con, hit_lines)
        errors += foreign_key_errors(
            package, table, {**lines, table.name: hit_lines}, con, failures.references
        )
    return TableResult(errors, rows=len(scan.record_lines))


PATH_KINDS = (
    (stat.S_ISDIR, "is a directory"),
    (stat.S_ISFIFO, "is not a regular file (a named pipe)"),
    (stat.S_ISSOCK, "is not a regular file (a socket)"),
    (stat.S_ISCHR, "is not a regular file (a device)"),
    (stat.S_ISBLK, "is not a regular file (a device)"),
)


def file_kind_error(table: Table, path: Path) -> dict[str, Any] | None:
    """A resource path that is not a regular file, found before anything opens it.

    Opening a named pipe blocks until someone writes to it, so the kind is taken from
    `stat` (following symlinks inside the package) and only a regular file is read.
    """
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return file_error(table, SCHEME_ERROR, f"file {table.path} does not exist")
    except OSError as exc:
        return file_error(table, SOURCE_ERROR, f"{table.path} cannot be read: {exc.strerror}")
    if stat.S_ISREG(mode):
        return None
    kind = next((what for test, what in PATH_KINDS if test(mode)), "not a regular file")
    return file_error(
        table, SOURCE_ERROR, f"{table.path} {kind}; a resource path must name a CSV file"
    )


def file_errors(table: Table, scan: Scan) -> tuple[list[dict[str, Any]], bool]:
    """The scan's and the header's errors, and whether the rows can be checked."""
    if not scan.usable:
        return scan.errors, False
    errors = scan.errors + header_errors(table, scan.labels)
    return errors, not any(e["code"] in STOPPING_CODES for e in errors)


def _parsed_all(table: Table, scan: Scan, con, plan: ProfilePlan | None = None) -> bool:
    """DuckDB rejected nothing and read as many rows as the quick scan found records."""
    rejects = quote_ident(internal_name("rejects", table))
    rejected = con.execute(f"SELECT count(*) FROM {rejects}").fetchall()
    if plan is not None:
        parsed = con.execute(plan.rows_of([], "_rows")).fetchall()
    else:
        parsed = con.execute(f"SELECT count(*) FROM {raw_name(table)}").fetchall()
    return rejected[0][0] == 0 and parsed[0][0] == len(scan.record_lines)


def parse_rows(
    table: Table, path: Path, scan: Scan, con, failure: str | None
) -> tuple[list[dict[str, Any]], Any]:
    """Map the loaded rows and DuckDB's rejects to the records the byte scan located.

    A record rejected only for its width is reported by the scan's count of its cells
    and loaded after all, cut or padded to the header (`azkz.ragged`)."""
    import numpy as np

    rejects = quote_ident(internal_name("rejects", table))
    if failure is not None:
        return [file_error(table, SOURCE_ERROR, f"the CSV parser gave up: {failure}")], None
    parsed = con.execute(f"SELECT count(*) FROM {raw_name(table)}").fetchall()[0][0]
    found = con.execute(
        f"SELECT line_byte_position, column_name, error_type, error_message FROM {rejects} "
        f"ORDER BY line_byte_position"
    ).fetchall()
    errors = []
    rejected, by_width, other = set(), set(), set()
    starts = scan.record_starts
    for byte_pos, column, kind, message in found:
        index = _record_at(path, scan, byte_pos)
        rejected.add(index)
        if kind in WIDTH_REJECTS and scan.record_cells[index] != len(table.fields):
            by_width.add(index)  # `width_errors` reports it
            continue
        other.add(index)
        code, text = REJECT_CODES.get(kind, (SOURCE_ERROR, "{detail}"))
        column = None if code is EXTRA_CELL else column
        errors.append(
            error(
                table.name,
                table.path,
                int(scan.record_lines[index]),
                column,
                code,
                text.format(detail=message.rstrip(".")),
            )
        )
    errors = _dedupe(errors)
    if parsed + len(rejected) != len(starts):
        errors.append(
            file_error(
                table,
                SOURCE_ERROR,
                f"the file has {len(starts)} records but the CSV parser read {parsed} "
                f"(+{len(rejected)} rejected); look for a stray or unbalanced quote '\"'",
            )
        )
        return errors, None
    good = np.ones(len(starts), dtype=bool)
    good[list(rejected)] = False
    errors += width_errors(table, scan)
    if not by_width - other:
        return errors, scan.record_lines[good]
    more, loaded = restore_rows(
        table, path, con, scan, np.flatnonzero(good), sorted(by_width - other)
    )
    return errors + more, scan.record_lines[loaded]


def _record_at(path: Path, scan: Scan, byte_pos: int) -> int:
    """The record a reject's byte position is in.  DuckDB gives the position where it
    started reading the row, which is the start of any empty lines before it (skipped,
    or read as rows of a one-column table): then the record is the next non-empty one."""
    import numpy as np

    starts = scan.record_starts
    index = max(int(np.searchsorted(starts, byte_pos, side="right")) - 1, 0)
    if index + 1 < len(starts) and byte_pos > starts[index]:
        with path.open("rb") as f:
            f.seek(byte_pos - 1)
            between = f.read(int(starts[index + 1]) - byte_pos + 1)
        if between.startswith(b"\n") and not between.strip(b"\r\n"):  # empty lines
            index += 1
    while index + 1 < len(starts) and int(scan.record_lines[index]) in scan.empty_records:
        index += 1
    return index


def _dedupe(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen, out = set(), []
    for e in errors:
        key = (e["line"], e["code"])
        if key not in seen:
            seen.add(key)
            out.append(e)
    return out


class InvalidPackage(ReleaseError):
    """The package does not validate; `report` is the validator's report."""

    def __init__(self, report: Any):
        self.report = report
        super().__init__("the package is not valid; fix the errors above and build again")


def validate_or_raise(root: Path) -> Package:
    """The package at `root` as the validator read it; `InvalidPackage` if it is not valid."""
    report = validate_package(root)
    if not report.valid:
        raise InvalidPackage(report)
    return report.package
