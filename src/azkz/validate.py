"""`azkz validate`: every error in the package, with its physical line, in one run.

Layers, in order (each with Frictionless error codes, plus named domain rules):

1. descriptor — `datapackage.json` and `schemas/*.json` readable and coherent
   (`package-error`, `schema-error`, `dialect-error`, `source-error` for unsafe paths);
   fatal, exit 2.  Each error names its resource and the file it is in.
2. file — missing file or not a regular one (never opened), empty file, NUL bytes,
   UTF-8, line endings, header exactly as the schema (`scheme-error`, `source-error`,
   `encoding-error`, `missing-label`, `extra-label`, `incorrect-label`,
   `duplicate-label`, `blank-label`).
3. rows — DuckDB's strict parse with stored rejects (`extra-cell`, `missing-cell`,
   `source-error` for an unterminated quote), `blank-row` from the byte scan.
4. fields — generated SQL per Table Schema field (`type-error`, `constraint-error`).
5. table — `primary-key`, `unique-error`.
6. package — `foreign-key`.
7. domain — `period-order`, `date-order`, `iso3-code`, `negative-value`, `date-precision`.

Why this shape: DuckDB's parser is the fast structural gate but it counts records, skips
blank lines silently and accepts NUL bytes, so a vectorised byte scan (numpy) of each
file finds record boundaries outside quotes independently; it gives every record's
physical line (header = 1, embedded newlines counted) and a record count that DuckDB's
result must match.  The scan has two speeds: a quick one (chunked, run while DuckDB
loads the file in another thread) for files with no NUL, CR or stray quote, and the
full one, which names what is wrong, only when the quick one or DuckDB found a problem.
Field, table and domain rules are SQL generated from the schemas (`azkz.rules`).  A
table is either loaded whole as text and checked there, or, when its file is large and
no foreign key points to it, profiled in one streaming pass and only its failing rows
are loaded (`azkz.profile`).  The pandera contract in `azkz.contracts` expresses the
same rules for typed frames but is too slow to import and run for this command (see
benchmarks/validate.md).
"""

from __future__ import annotations

import csv
import io
import re
import stat
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from azkz.coherence import descriptor_errors, encoding_of
from azkz.declared import create_iso3_type, pair_exemptions, set_variables, unused_key_errors
from azkz.errors import (
    BLANK_LABEL,
    BLANK_ROW,
    DUPLICATE_LABEL,
    ENCODING_ERROR,
    EXTRA_CELL,
    EXTRA_LABEL,
    INCORRECT_LABEL,
    MISSING_CELL,
    MISSING_LABEL,
    SCHEME_ERROR,
    SOURCE_ERROR,
    ErrorType,
)
from azkz.profile import EarlyProfile, ProfilePlan, locate_failures, profiled, start_profile
from azkz.report import Report, error
from azkz.rules import (
    foreign_key_errors,
    key_errors,
    load_raw,
    raw_name,
    row_errors,
)
from azkz.schema import DescriptorError, Package, Table, read_package
from azkz.typed import internal_name, quote_ident

BOM = b"\xef\xbb\xbf"
DECODE_CHUNK = 1 << 24
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


# ----------------------------------------------------------------------------- entry point
def validate_package(root: str | Path = ".") -> Report:
    """Validate the package at `root`; never raises for bad input, never writes."""
    started = time.perf_counter()
    report = Report(stats={"tables": 0, "rows": 0})
    try:
        package = read_package(root)
    except DescriptorError as exc:
        report.errors.extend(exc.errors)
        report.fatal = True
        return report
    report.errors.extend(descriptor_errors(package))
    if report.errors:
        report.fatal = True
        return report

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


def file_error(table: Table, kind: ErrorType, message: str) -> dict[str, Any]:
    """An error about a resource's file as a whole (no line, no field)."""
    return error(table.name, table.path, None, None, kind, message)


# ----------------------------------------------------------------------------- file scan
@dataclass
class Scan:
    """What the byte scan learned about one CSV file."""

    errors: list[dict[str, Any]] = field(default_factory=list)
    labels: list[str] | None = None
    record_starts: Any = None  # numpy int64: byte offset of every non-blank data record
    record_lines: Any = None  # numpy int64: its physical line (header = 1)
    usable: bool = False  # True when DuckDB may parse the file
    blank_lines: set[int] = field(default_factory=set)  # rows of empty cells (`,,`)


# Codes after which the table's rows are not checked (and other tables skip FKs to it).
STOPPING_CODES = frozenset(
    e.code for e in (SCHEME_ERROR, ENCODING_ERROR, MISSING_LABEL, EXTRA_LABEL, SOURCE_ERROR)
)


def line_at(data: bytes, position: int) -> int:
    """Physical line (1-based) of a byte position."""
    return data.count(b"\n", 0, position) + 1


def scan_file(table: Table, path: Path, locate: bool = True) -> Scan:
    """Guards DuckDB cannot do: emptiness, NUL, UTF-8, endings, header, records.

    `path` is a regular file (`file_kind_error` is asked first, before anything opens it).

    With `locate=False` the quick chunked scan (`_quick_records`) is tried first: it
    gives each record's line but no byte offsets (`record_starts` stays None), and
    `validate_table` trusts it only when DuckDB rejected nothing and read as many rows;
    otherwise it rescans with `locate=True`, which names and places the problem.
    """
    scan = Scan()

    def fail(line: int | None, code: str, message: str, name: str | None = None) -> Scan:
        scan.errors.append(error(table.name, table.path, line, name, code, message))
        return scan

    if not locate and _quick_records(path, scan):
        return scan
    data = path.read_bytes()
    body = len(BOM) if data.startswith(BOM) else 0
    if len(data) == body:
        return fail(None, SOURCE_ERROR, f"file {table.path} is empty; expected a header row")
    nul = data.find(b"\0")
    if nul >= 0:
        return fail(
            line_at(data, nul),
            SOURCE_ERROR,
            "NUL byte (\\x00) in the file; a CSV file holds text only",
        )
    header_end = data.find(b"\n")
    bad_byte = _first_invalid_utf8(data[: header_end if header_end >= 0 else len(data)])
    if bad_byte is not None:  # the rows' encoding is checked by DuckDB (INVALID ENCODING)
        return fail(
            1,
            ENCODING_ERROR,
            f"byte 0x{data[bad_byte]:02x} in the header is not valid UTF-8; save the file as UTF-8",
        )
    _find_records(data, body, scan, fail, table.field_names)
    return scan


def _quick_records(path: Path, scan: Scan) -> bool:
    """Records' lines from newlines outside quotes, reading the file in chunks.

    Only for a file with a plain UTF-8 header and no NUL, CR or stray quote; False
    = use the full scan, which names the problem.  Blank lines are not looked for
    here: DuckDB skips them, so its row count then differs from the records found and
    the caller rescans.  Chunks keep memory flat while DuckDB loads the same file.
    """
    import numpy as np

    quotes, before, after, newlines, candidates = [], [], [], [], []
    size = path.stat().st_size
    # One reused buffer: [byte before the chunk] + chunk + [byte after it]. Reusing it
    # (and the mask) keeps the allocator from holding freed chunks while DuckDB loads.
    # A bytearray under the numpy view: its `find` (memchr) looks for NUL and CR five
    # times faster than a numpy comparison.
    # Sized to the file when it is smaller: a bytearray is zero-filled, page by page.
    chunk = max(1, min(DECODE_CHUNK, size))
    raw = bytearray(chunk + 2)
    buffer = np.frombuffer(raw, dtype=np.uint8)
    mask = np.empty(chunk, dtype=bool)
    with path.open("rb") as f:
        first = f.readline(DECODE_CHUNK)
        body = len(BOM) if first.startswith(BOM) else 0
        header = first[body:-1]
        if not first.endswith(b"\n") or not header or b'"' in header:
            return False
        try:
            scan.labels = next(csv.reader(io.StringIO(header.decode("utf-8"), newline="")))
        except UnicodeDecodeError:
            return False
        f.seek(0)
        buffer[0] = ord(",")
        for start in range(0, size, chunk):
            n = min(chunk, size - start)
            got = f.readinto(memoryview(raw)[1 : n + 2])  # one byte more, when there is one
            if got < n:
                return False  # the file shrank while being read
            if got == n + 1:
                f.seek(-1, 1)
            else:
                buffer[n + 1] = ord(",")
            if raw.find(b"\0", 1, n + 1) >= 0 or raw.find(b"\r", 1, n + 1) >= 0:
                return False
            empty_first = raw.find(b"\n,", 0, n + 1)  # a row starting with an empty cell
            while empty_first >= 0:
                candidates.append(start + empty_first - 1)  # offset of the newline
                empty_first = raw.find(b"\n,", empty_first + 1, n + 1)
            inner, chunk_mask = buffer[1 : n + 1], mask[:n]
            at = np.flatnonzero(np.equal(inner, ord('"'), out=chunk_mask))
            before.append(buffer[at])  # inner[i] is buffer[i + 1]
            after.append(buffer[2:][at])
            quotes.append(_offsets(at, start, size))
            ends = np.flatnonzero(np.equal(inner, ord("\n"), out=chunk_mask))
            newlines.append(_offsets(ends, start, size))
            buffer[0] = buffer[n]
    quotes, newlines = np.concatenate(quotes), np.concatenate(newlines)
    if (
        _first_stray_quote(quotes, np.concatenate(before), np.concatenate(after), body, size)
        is not None
    ):
        return False
    # Newline number k (0-based) outside quotes ends a record; the next starts on line k + 2.
    terminators = np.flatnonzero((np.searchsorted(quotes, newlines) & 1) == 0)
    if len(terminators) and newlines[terminators[-1]] == size - 1:
        terminators = terminators[:-1]  # the final newline starts no record
    scan.record_lines = terminators + 2
    if candidates:  # rare: only rows whose first cell is empty
        ends = newlines[terminators]
        with path.open("rb") as f:
            for offset in candidates:
                k = int(np.searchsorted(ends, offset))
                if k < len(ends) and ends[k] == offset:
                    f.seek(offset + 1)
                    if _all_empty(f.readline()):
                        scan.blank_lines.add(int(scan.record_lines[k]))
    scan.usable = True
    return True


def _all_empty(record: bytes) -> bool:
    """Whether a record's bytes are cells that are all empty (`,,` or `"",""`)."""
    return record.rstrip(b"\r\n").replace(b'""', b"").strip(b",") == b""


def _positions(raw, byte: int):
    """Offsets of `byte` in `raw`, by chunks: no file-sized temporary mask."""
    import numpy as np

    return np.concatenate(
        [
            _offsets(np.flatnonzero(raw[start : start + DECODE_CHUNK] == byte), start, len(raw))
            for start in range(0, len(raw), DECODE_CHUNK)
        ]
    )


def _offsets(positions, start: int, size: int):
    """`positions + start` as int32 when the file allows (half the memory of int64),
    added in place: no second temporary of the chunk's positions."""
    import numpy as np

    offsets = positions.astype(np.int32) if size < 2**31 else positions
    offsets += start
    return offsets


def _first_invalid_utf8(data: bytes) -> int | None:
    """Offset of the first byte that is not UTF-8, decoding in chunks to bound memory."""
    start = 0
    while start < len(data):
        end = min(start + DECODE_CHUNK, len(data))
        while end < len(data) and 0x80 <= data[end] < 0xC0:  # do not split a character
            end -= 1
        try:
            str(data[start:end], "utf-8")
        except UnicodeDecodeError as exc:
            return start + exc.start
        start = end
    return None


def _find_records(data: bytes, body: int, scan: Scan, fail, fields: list[str]) -> None:
    """Record boundaries = newlines outside quotes (even number of quotes before them)."""
    import numpy as np

    raw = np.frombuffer(data, dtype=np.uint8)
    quotes, newlines = _positions(raw, ord('"')), _positions(raw, ord("\n"))
    stray = _first_stray_quote(
        quotes,
        raw[np.maximum(quotes - 1, 0)],
        raw[np.minimum(quotes + 1, len(raw) - 1)],
        body,
        len(raw),
    )
    if stray is not None or len(quotes) % 2:
        _quote_error(data, quotes, stray, fail, fields)
        return
    terminators = newlines[(np.searchsorted(quotes, newlines) & 1) == 0]
    # A last record without its own terminator (no final newline, or an open quote
    # that runs to the end of the file) ends at the end of the file.
    if len(terminators) == 0 or terminators[-1] != len(data) - 1:
        terminators = np.append(terminators, len(data))
    ends = terminators
    starts = np.concatenate(([body], ends[:-1] + 1))
    lines = np.searchsorted(newlines, starts) + 1

    crlf = np.zeros(len(ends), dtype=bool)
    real = ends[ends < len(data)]
    crlf[: len(real)] = raw[real - 1] == ord("\r")
    if len(real) and crlf[: len(real)].any() and not crlf[: len(real)].all():
        first_odd = int(np.flatnonzero(crlf[: len(real)] != crlf[0])[0])
        kind = "CRLF" if crlf[first_odd] else "LF"
        fail(
            int(lines[first_odd]),
            SOURCE_ERROR,
            f"mixed line endings: this line ends with {kind}, line 1 does not; "
            f"use one kind throughout (LF preferred)",
        )
        return
    if data.count(b"\r") != data.count(b"\r\n"):
        lone = re.search(rb"\r(?!\n)", data).start()
        fail(
            line_at(data, lone),
            SOURCE_ERROR,
            "carriage return (\\r) without a newline; use LF line endings",
        )
        return

    lengths = ends - starts - crlf
    header = data[starts[0] : starts[0] + lengths[0]].decode("utf-8")
    try:
        scan.labels = next(csv.reader(io.StringIO(header, newline="")), [])
    except csv.Error as exc:
        fail(1, SOURCE_ERROR, f"the header row cannot be read as CSV: {exc}")
        return
    blank = np.flatnonzero(lengths[1:] == 0) + 1
    for i in blank:
        fail(int(lines[i]), BLANK_ROW, "row is empty; remove the blank line")
    for i in np.flatnonzero(raw[starts[1:]] == ord(",")) + 1:
        if _all_empty(data[starts[i] : starts[i] + lengths[i]]):
            scan.blank_lines.add(int(lines[i]))
    keep = np.ones(len(starts), dtype=bool)
    keep[0] = False
    keep[blank] = False
    scan.record_starts = starts[keep]
    scan.record_lines = lines[keep]
    scan.usable = True


def _quote_error(data: bytes, quotes, stray: int | None, fail, fields: list[str]) -> None:
    """Report a broken quote at the line a person must fix.

    An unterminated quote makes every later quote read the wrong way round, so the
    first violation (`stray`) is found lines later, at a quote that seems to close the
    cell.  When the quote that opened that cell is on an earlier line, the error is
    reported there, and the message says where the parser gave up.
    """
    import numpy as np

    if stray is None:  # an odd number of quotes: the last one opens a cell never closed
        opened = int(quotes[-1])
        gave_up = f"at the end of the file (line {line_at(data, len(data) - 1)})"
    else:
        index = int(np.searchsorted(quotes, stray))
        opened = int(quotes[index - 1]) if index % 2 else stray
        if not index % 2 or data.find(b"\n", opened, stray) < 0:
            fail(
                line_at(data, stray),
                SOURCE_ERROR,
                'a quote (") inside an unquoted cell, or text right after a closing quote; '
                'quote the whole cell and double the quotes inside it ("")',
            )
            return
        gave_up = f"at line {line_at(data, stray)}"
    fail(
        line_at(data, opened),
        SOURCE_ERROR,
        f"a quote opened here is never closed where its cell ends; the parser gave up "
        f"{gave_up}; close the quote and double the quotes inside the cell",
        _field_at(data, opened, fields),
    )


def _field_at(data: bytes, position: int, fields: list[str]) -> str | None:
    """The field of the cell at `position`, counting commas from the start of its line
    (None when the line holds a quote before it, so commas may be inside a cell)."""
    start = data.rfind(b"\n", 0, position) + 1
    before = data[start:position]
    column = before.count(b",")
    if b'"' in before or column >= len(fields):
        return None
    return fields[column]


# Bytes that may stand before a cell's opening quote / after its closing quote.
BEFORE_OPENING = frozenset(b',\n"')
AFTER_CLOSING = frozenset(b',\n\r"')


def _first_stray_quote(quotes, before, after, body: int, size: int) -> int | None:
    """Byte offset of the first quote that breaks RFC 4180 quoting, if any.

    By parity, even-numbered quotes open a cell and odd ones close it.  An opening
    quote must start a cell (or be the second of a doubled quote `""`); a closing quote
    must end the cell.  Before the first violation the parity is right, so the record
    boundaries found from it are trustworthy up to there.  `before`/`after` hold the
    byte on either side of each quote (`size` = file length); byte lookup tables keep
    this to a few passes over the quote positions.
    """
    import numpy as np

    if not len(quotes):
        return None
    may_precede = np.zeros(256, dtype=bool)
    may_precede[list(BEFORE_OPENING)] = True
    may_follow = np.zeros(256, dtype=bool)
    may_follow[list(AFTER_CLOSING)] = True
    opening, closing = quotes[0::2], quotes[1::2]
    bad_open = ~may_precede[before[0::2]]
    bad_open[0] &= opening[0] > body  # a quote at the very start opens the first cell
    bad_close = ~may_follow[after[1::2]]
    if len(closing) and closing[-1] + 1 >= size:
        bad_close[-1] = False  # a closing quote at the very end of the file
    first = [
        int(where[bad][0])
        for where, bad in ((opening, bad_open), (closing, bad_close))
        if bad.any()
    ]
    return min(first) if first else None


def header_errors(table: Table, labels: list[str]) -> list[dict[str, Any]]:
    """The header must be the schema's field names, in order (Frictionless label codes)."""
    errors = []

    def bad(code: str, message: str, name: str | None) -> None:
        errors.append(error(table.name, table.path, 1, name, code, message))

    expected = table.field_names
    for i, label in enumerate(labels):
        if label == "":
            bad(BLANK_LABEL, f"column {i + 1} has an empty header", None)
        elif labels.index(label) != i:
            bad(DUPLICATE_LABEL, f"column {i + 1} repeats the header {label!r}", label)
        elif i >= len(expected):
            bad(EXTRA_LABEL, f"column {i + 1} {label!r} is not in the schema", label)
        elif label != expected[i]:
            bad(
                INCORRECT_LABEL,
                f"column {i + 1} is {label!r} but the schema expects {expected[i]!r} there "
                f"(expected header: {','.join(expected)})",
                expected[i],
            )
    for i in range(len(labels), len(expected)):
        bad(
            MISSING_LABEL,
            f"column {i + 1} {expected[i]!r} is missing from the header",
            expected[i],
        )
    return errors


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
    """File, row, field, table and domain layers for one table.

    A large table that no other table references is profiled in one streaming pass
    (`profile_table`, started `early`) and, only when that finds something, its failing
    rows are located in a second (`locate_failures`); anything else, and anything the
    profile cannot settle, is loaded whole as `raw_<name>` and checked there.  `lines`
    holds the parent tables' parsed rows, for the profiled table's foreign keys.
    `source` is the file to read (`utf8_source`), or the error that prevents reading it.
    """
    if isinstance(source, dict):
        return TableResult([source])
    path = package.file(table) if source is None else source
    not_a_file = file_kind_error(table, path)
    if not_a_file is not None:
        return TableResult([not_a_file])
    plan = None
    if early is not None:  # numpy scans the bytes while DuckDB profiles them
        plan, con = early.plan, early.con
        scan = scan_file(table, path, locate=False)
        failure = early.failure.result()
    else:
        with ThreadPoolExecutor(1) as pool:  # DuckDB parses while numpy scans the bytes
            loading = pool.submit(load_raw, table, path, con)
            scan = scan_file(table, path, locate=False)
            failure = loading.result()
    errors, checkable = file_errors(table, scan)
    if not checkable:
        return TableResult(errors)
    quick = scan.record_starts is None and failure is None and _parsed_all(table, scan, con, plan)
    if plan is not None:
        if quick:
            located = locate_failures(package, plan, path, con, lines, len(scan.record_lines))
            if located is not None:
                result = _profiled_result(package, table, con, errors, scan, located, lines)
                return without_blank_rows(table, result, scan)
        if quick or scan.record_starts is not None:  # load it for the full path below
            drop_loaded(table, con)  # the profile's rejects, so that none is counted twice
            failure = load_raw(table, path, con)
            quick = quick and failure is None and _parsed_all(table, scan, con)
    good_lines = scan.record_lines if quick else None
    if good_lines is None:
        if scan.record_starts is None:  # the quick path saw something wrong: locate it
            drop_loaded(table, con)  # first: the full scan holds the whole file in memory
            scan = scan_file(table, path)
            errors, checkable = file_errors(table, scan)
            if not checkable:
                return TableResult(errors)
            failure = load_raw(table, path, con)
        rejects, good_lines = parse_rows(table, scan, con, failure)
        errors += rejects
    if good_lines is None:
        return TableResult(errors)
    errors += row_errors(table, con, good_lines)
    errors += key_errors(table, con, good_lines)
    return without_blank_rows(table, TableResult(errors, good_lines, len(good_lines)), scan)


def without_blank_rows(table: Table, result: TableResult, scan: Scan) -> TableResult:
    """A row of empty cells is one `blank-row`, as in Frictionless: the row's other
    errors (required cells, missing cells) are dropped, and its line is kept in
    `result.lines` only so that row positions stay right (its keys are all NULL)."""
    if scan.blank_lines:
        result.errors = [e for e in result.errors if e["line"] not in scan.blank_lines] + [
            error(table.name, table.path, line, None, BLANK_ROW, "every cell of the row is empty")
            for line in sorted(scan.blank_lines)
        ]
    return result


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
    table: Table, scan: Scan, con, failure: str | None
) -> tuple[list[dict[str, Any]], Any]:
    """Map the loaded rows and DuckDB's rejects to the records the byte scan located."""
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
    rejected = set()
    starts = scan.record_starts
    for byte_pos, column, kind, message in found:
        index = int(np.searchsorted(starts, byte_pos, side="right")) - 1
        index = max(index, 0)
        rejected.add(index)
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
    return errors, scan.record_lines[good]


def _dedupe(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen, out = set(), []
    for e in errors:
        key = (e["line"], e["code"])
        if key not in seen:
            seen.add(key)
            out.append(e)
    return out
