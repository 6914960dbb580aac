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
Cell rules are generated SQL evaluated once per distinct value (or value combination)
and joined back to the failing rows only; the pandera contract in `azkz.contracts`
expresses the same rules for typed frames but is too slow to import and run for this
command (see benchmarks/validate.md).
"""

from __future__ import annotations

import csv
import io
import re
import stat
import string
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from azkz.report import Report, error
from azkz.schema import DESCRIPTOR, DescriptorError, Field, Package, Table, read_package
from azkz.typed import (
    NUMBER_PATTERN,
    cast_sql,
    ident_list,
    quote_ident,
    quote_literal,
    raw_csv_sql,
)

BOM = b"\xef\xbb\xbf"
DECODE_CHUNK = 1 << 24
# DuckDB reject types -> (Frictionless code, message)
REJECT_CODES = {
    "TOO MANY COLUMNS": ("extra-cell", "row has more cells than the header ({detail})"),
    "MISSING COLUMNS": ("missing-cell", "row has fewer cells than the header ({detail})"),
    "UNQUOTED VALUE": (
        "source-error",
        "a quoted cell is not closed properly: unterminated quote or text after the closing quote",
    ),
    "INVALID ENCODING": ("encoding-error", "not valid UTF-8; save the file as UTF-8"),
}
TYPE_FORMS = {
    "number": "a number such as 12 or 3.5",
    "integer": "an integer",
    "date": "a real date as YYYY-MM-DD",
    "year": "a year as YYYY",
    "boolean": "one of {true_false}",
}
ISO3_MARKER = "ISO 3166-1 alpha-3"


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
    results: dict[str, TableResult] = {}
    lines: dict[str, Any] = {}  # table name -> physical line of each parsed row
    with ThreadPoolExecutor(1) as background:
        # Large tables' profiles start at once, on cursors of their own, and use the
        # second core while the other tables are checked here.  Profiled tables are
        # never parents (`profiled`), so they finish last: their foreign keys are
        # checked against parents already loaded.
        early = {
            t.name: start_profile(package, t, con, background)
            for t in package.tables
            if profiled(package, t)
        }
        loaded = [t for t in package.tables if t.name not in early]
        for table in loaded:
            result = results[table.name] = validate_table(package, table, con, lines)
            if result.lines is not None:
                lines[table.name] = result.lines
        for table in loaded:  # while the profiles still run
            if table.name in lines:
                results[table.name].errors += foreign_key_errors(package, table, lines, con)
        for table in package.tables:
            if table.name in early:
                result = validate_table(package, table, con, lines, early[table.name])
                results[table.name] = result
                if result.lines is not None:  # it was loaded after all: check its references
                    lines[table.name] = result.lines
                    result.errors += foreign_key_errors(package, table, lines, con)
    for table in package.tables:
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


# ----------------------------------------------------------------------------- descriptor
def file_error(table: Table, code: str, message: str) -> dict[str, Any]:
    """An error about a resource's file as a whole (no line, no field)."""
    return error(table.name, table.path, None, None, code, message)


def schema_error(table: Table, field: str | None, message: str) -> dict[str, Any]:
    """A problem in `table`'s schema, reported in the file that holds the schema."""
    return error(table.name, table.schema_path, None, field, "schema-error", message)


def descriptor_errors(package: Package) -> list[dict[str, Any]]:
    """Schema coherence that `read_package` does not check: keys, references, regexes."""
    errors = []
    names = [t.name for t in package.tables]
    for dup in {n for n in names if names.count(n) > 1}:
        errors.append(
            error(
                dup, DESCRIPTOR, None, None, "package-error", f"resource name {dup!r} is used twice"
            )
        )
    for table in package.tables:
        errors.extend(_dialect_errors(table))
        fields = table.field_names
        for dup in {n for n in fields if fields.count(n) > 1}:
            errors.append(schema_error(table, dup, f"{table.name}: field {dup!r} is defined twice"))
        for name in table.primary_key:
            if name not in fields:
                errors.append(
                    schema_error(
                        table, name, f"{table.name}: primaryKey field {name!r} is not in the schema"
                    )
                )
        for f in table.fields:
            errors.extend(_constraint_errors(table, f))
            unit_field = f.raw.get("unitField")
            if unit_field is not None and unit_field not in fields:
                errors.append(
                    schema_error(
                        table,
                        f.name,
                        f"{table.name}.{f.name}: unitField {unit_field!r} is not in the schema",
                    )
                )
        for fk in table.foreign_keys:
            errors.extend(_foreign_key_descriptor_errors(package, table, fk))
    return errors


# The one CSV dialect the package uses (typed.raw_csv_sql reads exactly this): a resource
# that declares another would be parsed wrongly, so it is refused rather than misread.
SUPPORTED_DIALECT = {"delimiter": ",", "quoteChar": '"', "doubleQuote": True, "header": True}
DIALECT_PROPERTIES = {"$schema", *SUPPORTED_DIALECT}


def _dialect_errors(table: Table) -> list[dict[str, Any]]:
    resource = table.resource
    errors = []

    def bad(message: str) -> None:
        errors.append(error(table.name, DESCRIPTOR, None, None, "dialect-error", message))

    encoding = resource.get("encoding", "utf-8")
    if str(encoding).lower().replace("_", "-") not in ("utf-8", "utf8"):
        bad(f"resource {table.name!r}: encoding {encoding!r} is not supported (use utf-8)")
    dialect = resource.get("dialect", {})
    if not isinstance(dialect, dict):
        bad(f"resource {table.name!r}: dialect must be an object")
        return errors
    for key, value in dialect.items():
        if key not in DIALECT_PROPERTIES:
            bad(f"resource {table.name!r}: dialect property {key!r} is not supported")
        elif key in SUPPORTED_DIALECT and value != SUPPORTED_DIALECT[key]:
            bad(
                f"resource {table.name!r}: dialect {key} = {value!r} is not supported "
                f"(the package's CSV files use {key} = {SUPPORTED_DIALECT[key]!r})"
            )
    return errors


def _constraint_errors(table: Table, f: Field) -> list[dict[str, Any]]:
    errors = []
    if not isinstance(f.constraints, dict):
        return [
            schema_error(table, f.name, f"{table.name}.{f.name}: 'constraints' must be an object")
        ]
    pattern = f.constraints.get("pattern")
    if pattern is not None:
        try:
            re.compile(pattern)
        except (re.error, TypeError) as exc:
            errors.append(
                schema_error(
                    table,
                    f.name,
                    f"{table.name}.{f.name}: pattern {pattern!r} is not a valid "
                    f"regular expression ({exc})",
                )
            )
    enum = f.constraints.get("enum")
    if enum is not None and (not isinstance(enum, list) or not enum):
        errors.append(
            schema_error(table, f.name, f"{table.name}.{f.name}: enum must be a non-empty list")
        )
    for key in ("minimum", "maximum", "minLength", "maxLength"):
        value = f.constraints.get(key)
        if value is None:
            continue
        numeric = isinstance(value, int | float) and not isinstance(value, bool)
        if key.endswith("Length") or f.type in ("number", "integer", "year"):
            if not numeric:
                errors.append(
                    schema_error(table, f.name, f"{table.name}.{f.name}: {key} must be a number")
                )
        elif f.type != "date" or not isinstance(value, str):
            errors.append(
                schema_error(
                    table,
                    f.name,
                    f"{table.name}.{f.name}: {key} is not supported for type {f.type!r}",
                )
            )
    return errors


def _foreign_key_descriptor_errors(package: Package, table: Table, fk: Any) -> list[dict[str, Any]]:
    if not isinstance(fk, dict) or not isinstance(fk.get("reference"), dict):
        return [
            schema_error(
                table, None, f"{table.name}: foreign key {fk!r} needs 'fields' and 'reference'"
            )
        ]
    fields = _as_list(fk.get("fields"))
    ref = fk["reference"]
    ref_fields = _as_list(ref.get("fields"))
    target = ref.get("resource") or table.name
    errors = []
    if not fields or len(fields) != len(ref_fields):
        errors.append(
            schema_error(
                table,
                None,
                f"{table.name}: foreign key fields {fields} and reference fields "
                f"{ref_fields} must be non-empty and of equal length",
            )
        )
    for name in fields:
        if name not in table.field_names:
            errors.append(
                schema_error(
                    table, name, f"{table.name}: foreign key field {name!r} is not in the schema"
                )
            )
    try:
        parent = package.table(target)
    except KeyError:
        return errors + [
            schema_error(
                table, None, f"{table.name}: foreign key refers to unknown resource {target!r}"
            )
        ]
    for name in ref_fields:
        if name not in parent.field_names:
            errors.append(
                schema_error(
                    table,
                    name,
                    f"{table.name}: foreign key refers to {target}.{name}, which "
                    f"is not a field of {target!r}",
                )
            )
    return errors


def _as_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return list(value) if isinstance(value, list) else []


# ----------------------------------------------------------------------------- file scan
@dataclass
class Scan:
    """What the byte scan learned about one CSV file."""

    errors: list[dict[str, Any]] = field(default_factory=list)
    labels: list[str] | None = None
    record_starts: Any = None  # numpy int64: byte offset of every non-blank data record
    record_lines: Any = None  # numpy int64: its physical line (header = 1)
    usable: bool = False  # True when DuckDB may parse the file


# Codes after which the table's rows are not checked (and other tables skip FKs to it).
STOPPING_CODES = frozenset(
    {
        "scheme-error",
        "encoding-error",
        "missing-label",
        "extra-label",
        "incorrect-label",
        "duplicate-label",
        "blank-label",
        "source-error",
    }
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
        return fail(None, "source-error", f"file {table.path} is empty; expected a header row")
    nul = data.find(b"\0")
    if nul >= 0:
        return fail(
            line_at(data, nul),
            "source-error",
            "NUL byte (\\x00) in the file; a CSV file holds text only",
        )
    header_end = data.find(b"\n")
    bad_byte = _first_invalid_utf8(data[: header_end if header_end >= 0 else len(data)])
    if bad_byte is not None:  # the rows' encoding is checked by DuckDB (INVALID ENCODING)
        return fail(
            1,
            "encoding-error",
            f"byte 0x{data[bad_byte]:02x} in the header is not valid UTF-8; save the file as UTF-8",
        )
    _find_records(data, body, scan, fail)
    return scan


def _quick_records(path: Path, scan: Scan) -> bool:
    """Records' lines from newlines outside quotes, reading the file in chunks.

    Only for a file with a plain UTF-8 header and no NUL, CR or stray quote; False
    = use the full scan, which names the problem.  Blank lines are not looked for
    here: DuckDB skips them, so its row count then differs from the records found and
    the caller rescans.  Chunks keep memory flat while DuckDB loads the same file.
    """
    import numpy as np

    quotes, before, after, newlines = [], [], [], []
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
    scan.usable = True
    return True


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


def _find_records(data: bytes, body: int, scan: Scan, fail) -> None:
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
    if stray is not None:
        fail(
            line_at(data, stray),
            "source-error",
            'a quote (") inside an unquoted cell, or text right after a closing quote; '
            'quote the whole cell and double the quotes inside it ("")',
        )
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
            "source-error",
            f"mixed line endings: this line ends with {kind}, line 1 does not; "
            f"use one kind throughout (LF preferred)",
        )
        return
    if data.count(b"\r") != data.count(b"\r\n"):
        lone = re.search(rb"\r(?!\n)", data).start()
        fail(
            line_at(data, lone),
            "source-error",
            "carriage return (\\r) without a newline; use LF line endings",
        )
        return

    lengths = ends - starts - crlf
    header = data[starts[0] : starts[0] + lengths[0]].decode("utf-8")
    try:
        scan.labels = next(csv.reader(io.StringIO(header, newline="")), [])
    except csv.Error as exc:
        fail(1, "source-error", f"the header row cannot be read as CSV: {exc}")
        return
    blank = np.flatnonzero(lengths[1:] == 0) + 1
    for i in blank:
        fail(int(lines[i]), "blank-row", "row is empty; remove the blank line")
    keep = np.ones(len(starts), dtype=bool)
    keep[0] = False
    keep[blank] = False
    scan.record_starts = starts[keep]
    scan.record_lines = lines[keep]
    scan.usable = True


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
            bad("blank-label", f"column {i + 1} has an empty header", None)
        elif labels.index(label) != i:
            bad("duplicate-label", f"column {i + 1} repeats the header {label!r}", label)
        elif i >= len(expected):
            bad("extra-label", f"column {i + 1} {label!r} is not in the schema", label)
        elif label != expected[i]:
            bad(
                "incorrect-label",
                f"column {i + 1} is {label!r} but the schema expects {expected[i]!r} there "
                f"(expected header: {','.join(expected)})",
                expected[i],
            )
    for i in range(len(labels), len(expected)):
        bad(
            "missing-label",
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


@dataclass(frozen=True)
class EarlyProfile:
    """A profile started before its table's turn (`start_profile`)."""

    plan: ProfilePlan
    con: Any  # the cursor it runs on: its temporary tables live there
    failure: Any  # Future of `profile_table`'s result


def start_profile(package: Package, table: Table, con, pool) -> EarlyProfile:
    cursor = con.cursor()
    plan = profile_plan(table)
    return EarlyProfile(plan, cursor, pool.submit(profile_table, plan, package.file(table), cursor))


def validate_table(
    package: Package, table: Table, con, lines: dict[str, Any], early: EarlyProfile | None = None
) -> TableResult:
    """File, row, field, table and domain layers for one table.

    A large table that no other table references is profiled in one streaming pass
    (`profile_table`, started `early`) and, only when that finds something, its failing
    rows are located in a second (`locate_failures`); anything else, and anything the
    profile cannot settle, is loaded whole as `raw_<name>` and checked there.  `lines`
    holds the parent tables' parsed rows, for the profiled table's foreign keys.
    """
    path = package.file(table)
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
                return _profiled_result(package, table, con, errors, scan, located, lines)
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
    errors.sort(key=lambda e: e["line"] or 0)
    return TableResult(errors, good_lines, len(good_lines))


def drop_loaded(table: Table, con) -> None:
    """Drop what parsing `table` left: its text table and DuckDB's rejects."""
    for name in ("raw_{}", "rejects_{}", "scans_{}"):
        con.execute(f"DROP TABLE IF EXISTS {quote_ident(name.format(table.name))}")


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
        errors.sort(key=lambda e: e["line"] or 0)
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
        return file_error(table, "scheme-error", f"file {table.path} does not exist")
    except OSError as exc:
        return file_error(table, "source-error", f"{table.path} cannot be read: {exc.strerror}")
    if stat.S_ISREG(mode):
        return None
    kind = next((what for test, what in PATH_KINDS if test(mode)), "not a regular file")
    return file_error(
        table, "source-error", f"{table.path} {kind}; a resource path must name a CSV file"
    )


def file_errors(table: Table, scan: Scan) -> tuple[list[dict[str, Any]], bool]:
    """The scan's and the header's errors, and whether the rows can be checked."""
    if not scan.usable:
        return scan.errors, False
    errors = scan.errors + header_errors(table, scan.labels)
    return errors, not any(e["code"] in STOPPING_CODES for e in errors)


def raw_name(table: Table) -> str:
    return quote_ident(f"raw_{table.name}")


def rejects_source(table: Table, path: Path) -> str:
    """`raw_csv_sql` storing DuckDB's rejects in `rejects_<name>` / `scans_<name>`."""
    return raw_csv_sql(path, table)[:-1] + (
        f", store_rejects=true, rejects_table={quote_literal(f'rejects_{table.name}')}, "
        f"rejects_scan={quote_literal(f'scans_{table.name}')})"
    )


def load_raw(table: Table, path: Path, con) -> str | None:
    """Load the text table `raw_<name>` with stored rejects; the parser's message if it fails.

    It also stores the hash of each key's text (see `_text_may_repeat`): computed
    while the rows stream in, it costs nothing measurable there, and counting distinct
    stored hashes afterwards takes 0.04 s at 1M rows instead of 0.09 s.
    """
    hashes = "".join(f", {expr} AS {name}" for name, expr in text_key_hashes(table))
    return _run_parse(
        con,
        f"CREATE OR REPLACE TABLE {raw_name(table)} AS SELECT *{hashes} "
        f"FROM {rejects_source(table, path)}",
    )


def _run_parse(con, sql: str) -> str | None:
    """Run a statement that parses a CSV file; the parser's message if it gives up."""
    import duckdb

    try:
        con.execute(sql)
    except duckdb.Error as exc:
        return str(exc).splitlines()[0]
    return None


def text_key_hashes(table: Table) -> list[tuple[str, str]]:
    """(column, expression) hashing the text of each key with one spelling per value."""
    return [
        (key_hash(i), f"hash({ident_list(names)})")
        for i, (_code, names) in enumerate(table_keys(table))
        if _one_spelling(table, names)
    ]


def _parsed_all(table: Table, scan: Scan, con, plan: ProfilePlan | None = None) -> bool:
    """DuckDB rejected nothing and read as many rows as the quick scan found records."""
    rejects = quote_ident(f"rejects_{table.name}")
    rejected = con.execute(f"SELECT count(*) FROM {rejects}").fetchall()
    if plan is not None:
        parsed = con.execute(
            f"SELECT _rows FROM {plan.result} WHERE _set = {plan.set_id(())}"
        ).fetchall()
    else:
        parsed = con.execute(f"SELECT count(*) FROM {raw_name(table)}").fetchall()
    return rejected[0][0] == 0 and parsed[0][0] == len(scan.record_lines)


def parse_rows(
    table: Table, scan: Scan, con, failure: str | None
) -> tuple[list[dict[str, Any]], Any]:
    """Map the loaded rows and DuckDB's rejects to the records the byte scan located."""
    import numpy as np

    rejects = quote_ident(f"rejects_{table.name}")
    if failure is not None:
        return [file_error(table, "source-error", f"the CSV parser gave up: {failure}")], None
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
        code, text = REJECT_CODES.get(kind, ("source-error", "{detail}"))
        column = None if code == "extra-cell" else column
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
                "source-error",
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


@dataclass(frozen=True)
class RowCheck:
    """One rule evaluated on every row: SQL condition true = error in `field`."""

    code: str
    field: str
    condition: str
    message: str  # str.format template over the row's raw values by field name
    inputs: tuple[str, ...] = ()  # fields the condition reads, when not just `field`
    # A regular expression or a list lookup: on a large table, worth running once per
    # distinct value rather than once per row (`profile_plan`).
    costly: bool = False
    # A cheaper condition true on every row the check fails (and maybe a few more):
    # what a profile evaluates on every row to learn whether the check can fail.
    screen: str | None = None

    @property
    def reads(self) -> tuple[str, ...]:
        return self.inputs or (self.field,)


def typed(f: Field) -> str:
    return quote_ident(f"_typed_{f.name}")


def row_checks(table: Table) -> list[RowCheck]:
    """Field constraints and domain rules of a table, generated from its schema."""
    checks = []
    for f in table.fields:
        checks += field_checks(f)
    checks += domain_checks(table)
    return checks


def _literal_of(f: Field, value: Any) -> str:
    return f"CAST({quote_literal(value)} AS {f.duckdb_type})"


def _literal_text(value: Any) -> str:
    """Schema text inside a message template: braces are not placeholders."""
    return str(value).replace("{", "{{").replace("}", "}}")


def field_checks(f: Field) -> list[RowCheck]:
    raw, t = quote_ident(f.name), typed(f)
    name = f.name
    value = "{" + name + "!r}"
    checks = []
    if f.required:
        checks.append(
            RowCheck(
                "constraint-error",
                name,
                f"({raw} IS NULL OR {raw} = '')",
                f"{name} is required but the cell is empty",
            )
        )
    if f.type == "number":
        checks += number_type_checks(f)
    elif f.type != "string":
        form = TYPE_FORMS[f.type].format(true_false=", ".join(f.true_values + f.false_values))
        checks.append(
            RowCheck(
                "type-error",
                name,
                f"({raw} <> '' AND {t} IS NULL)",
                f"{value} is not of type {f.type}: expected {form}",
            )
        )
    c = f.constraints
    if c.get("enum"):
        allowed = ", ".join(_literal_of(f, v) for v in c["enum"])
        shown = _literal_text(", ".join(str(v) for v in c["enum"]))
        checks.append(
            RowCheck(
                "constraint-error",
                name,
                f"({t} NOT IN ({allowed}))",
                f"{value} is not one of the allowed values: {shown}",
                costly=True,
            )
        )
    if c.get("pattern") is not None and f.type == "string":
        checks.append(
            RowCheck(
                "constraint-error",
                name,
                f"NOT regexp_full_match({t}, {quote_literal(c['pattern'])})",
                f"{value} does not match the pattern {_literal_text(c['pattern'])}",
                costly=True,
            )
        )
    for key, op, words in (
        ("minimum", "<", "less than the minimum"),
        ("maximum", ">", "more than the maximum"),
    ):
        if c.get(key) is not None:
            checks.append(
                RowCheck(
                    "constraint-error",
                    name,
                    f"({t} {op} {_literal_of(f, c[key])})",
                    f"{value} is {words} {_literal_text(c[key])}",
                )
            )
    for key, op, words in (("minLength", "<", "shorter than"), ("maxLength", ">", "longer than")):
        if c.get(key) is not None:
            checks.append(
                RowCheck(
                    "constraint-error",
                    name,
                    f"(length({raw}) {op} {int(c[key])} AND {raw} <> '')",
                    f"{value} is {words} {c[key]} characters",
                )
            )
    return checks


# Frictionless's literal non-finite numbers (its cast also takes other spellings).
NON_FINITE = r"^[+-]?(nan|inf|infinity)$"


def number_type_checks(f: Field) -> list[RowCheck]:
    """`type-error`s of a number, one message per reason: the cast gives NULL for all three.

    `NaN`/`INF` are valid Frictionless numbers but refused here (docs/decisions.md):
    the message says so, rather than calling them "not a number".
    """
    raw, t, name = quote_ident(f.name), typed(f), f.name
    value = "{" + name + "!r}"
    failed = f"({raw} <> '' AND {t} IS NULL)"
    literal = f"regexp_matches({raw}, {quote_literal(NUMBER_PATTERN)})"
    non_finite = f"regexp_matches({raw}, {quote_literal(NON_FINITE)}, 'i')"
    return [
        RowCheck(
            "type-error",
            name,
            f"({failed} AND NOT {literal} AND NOT {non_finite})",
            f"{value} is not of type number: expected {TYPE_FORMS['number']}",
            screen=failed,
        ),
        RowCheck(
            "type-error",
            name,
            f"({failed} AND {literal})",
            f"{value} is out of range: a number must be finite (at most about 1.8e308)",
            screen=failed,
        ),
        RowCheck(
            "type-error",
            name,
            f"({failed} AND {non_finite})",
            f"{value} is not accepted: NaN and infinities are refused, because values are "
            f"amounts as sources state them (write the number the source gives)",
            screen=failed,
        ),
    ]


ISO3_TYPE = "azkz_iso3"


def create_iso3_type(con) -> None:
    """Give the connection the ENUM type of ISO3 codes that the `iso3-code` rules cast to.

    A cast to an ENUM is a hash lookup and costs nothing to plan: with the ~250 codes as
    a literal list in every condition, planning the rule queries took longer than
    running them (≈25 ms for the indicators table's query), and even as one list in a
    DuckDB variable each condition took ≈2.5 ms to plan (the three country fields
    of the indicators table: 20 ms -> 9 ms for the whole query).
    """
    codes = ", ".join(quote_literal(code) for code in iso3_codes())
    con.execute(f"CREATE TYPE {ISO3_TYPE} AS ENUM ({codes})")


@cache
def iso3_codes() -> tuple[str, ...]:
    """ISO 3166-1 alpha-3 codes shipped with the package (from Debian iso-codes)."""
    text = resources.files("azkz").joinpath("iso3166.txt").read_text(encoding="utf-8")
    return tuple(line for line in text.split() if not line.startswith("#") and line.isalpha())


def precision_pairs(table: Table) -> list[tuple[Field, Field]]:
    """(`*_precision` field, date field it qualifies), derived from the names.

    `date_precision` qualifies every date field of its table; `X_precision` qualifies X.
    """
    pairs = []
    dates = [f for f in table.fields if f.type == "date"]
    for f in table.fields:
        if not f.name.endswith("_precision"):
            continue
        target = f.name.removesuffix("_precision")
        pairs += [(f, d) for d in dates if target == "date" or d.name == target]
    return pairs


def domain_checks(table: Table) -> list[RowCheck]:
    """Rules a Table Schema cannot express; each has its own code."""
    checks = []
    names = {f.name: f for f in table.fields}
    for f in table.fields:
        prefix = f.name.removesuffix("_start")
        end = names.get(f"{prefix}_end")
        if (
            f.name.endswith("_start")
            and f.type == "date"
            and end is not None
            and end.type == "date"
        ):
            checks.append(
                RowCheck(
                    f"{prefix}-order",
                    end.name,
                    f"({typed(end)} < {typed(f)})",
                    f"{end.name} {{{end.name}}} is before {f.name} {{{f.name}}}",
                    (f.name, end.name),
                )
            )
        if f.type == "string" and ISO3_MARKER in f.description:
            checks.append(
                RowCheck(
                    "iso3-code",
                    f.name,
                    f"(regexp_full_match({typed(f)}, '[A-Z]{{3}}') AND "
                    f"TRY_CAST({typed(f)} AS {ISO3_TYPE}) IS NULL)",  # see `create_iso3_type`
                    f"{{{f.name}!r}} is not an ISO 3166-1 alpha-3 country code",
                    costly=True,
                )
            )
        minimum = f.constraints.get("minimum")
        if (
            f.type in ("number", "integer")
            and (f.name == "value" or f.name.endswith("_value"))
            and not (isinstance(minimum, int | float) and minimum >= 0)
        ):
            checks.append(
                RowCheck(
                    "negative-value",
                    f.name,
                    f"({typed(f)} < 0)",
                    f"{{{f.name}}} is negative; amounts and counts cannot be",
                )
            )
    for precision, date in precision_pairs(table):
        p, d = typed(precision), typed(date)
        checks.append(
            RowCheck(
                "date-precision",
                date.name,
                f"(({p} = 'month' AND day({d}) <> 1) OR "
                f"({p} = 'year' AND (month({d}) <> 1 OR day({d}) <> 1)))",
                f"{date.name} {{{date.name}}} has {precision.name} "
                f"{{{precision.name}}}, so it must be the 1st of the month (month) or "
                f"1 January (year)",
                (precision.name, date.name),
            )
        )
    return checks


def typed_source(table: Table) -> str:
    """Raw text columns, their typed values and the row number, from the loaded table."""
    columns = ", ".join(
        [quote_ident(f.name) for f in table.fields]
        + [f"{cast_sql(f)} AS {typed(f)}" for f in table.fields]
    )
    return f"(SELECT rowid AS _row, {columns} FROM {raw_name(table)})"


# Up to this many rows, all of a table's rules run in one query (see `row_errors`).
SMALL_TABLE_ROWS = 10_000


def row_errors(table: Table, con, lines, only: set[int] | None = None) -> list[dict[str, Any]]:
    """Every field and domain rule; only failing rows come back to Python.

    Rules are grouped by the fields they read and evaluated once per distinct value
    (or combination) of those fields, then joined back to the rows holding the failing
    ones: most columns have a handful of distinct values, so the regular expressions
    and casts run thousands of times instead of once per row.  A small table (or the
    failing rows a profile located) gets one query with every rule on every row: there
    the cost is the number of queries, not the rows.  `only` names the rules to run
    (by position in `row_checks`), when the others are known to pass.
    """
    checks = row_checks(table)
    if only is not None:
        checks = [checks[i] for i in sorted(only)]
    shown = message_fields(checks)
    if len(lines) <= SMALL_TABLE_ROWS:
        everything = list(range(len(checks)))
        found = [(everything, con.execute(_small_failing_rows_sql(table, checks, shown)))]
    else:
        found = _grouped_failing_rows(table, checks, shown, con)
    failures = []  # (row, check index, raw values the messages quote)
    for indices, rows in found:
        for row, failed, *quoted in rows.fetchall():
            values = {n: ("" if v is None else v) for n, v in zip(shown, quoted, strict=True)}
            failures += [(row, indices[k], values) for k in failed]
    failures.sort(key=lambda failure: failure[:2])
    return [
        error(
            table.name,
            table.path,
            int(lines[row]),
            checks[i].field,
            checks[i].code,
            checks[i].message.format(**values),
        )
        for row, i, values in failures
    ]


def message_fields(checks: list[RowCheck]) -> list[str]:
    """Fields whose raw values the checks' messages quote: all a failing row returns."""
    names = (
        name
        for check in checks
        for _text, name, _spec, _conversion in string.Formatter().parse(check.message)
        if name
    )
    return list(dict.fromkeys(names))


def _small_failing_rows_sql(table: Table, checks: list[RowCheck], shown: list[str]) -> str:
    """Failing rows of a small table in one query: every rule on every row."""
    read = {name for check in checks for name in check.reads}
    casts = "".join(f", {cast_sql(f)} AS {typed(f)}" for f in table.fields if f.name in read)
    failed = _failed_list([f"coalesce({c.condition}, false)" for c in checks])
    any_check = " OR ".join(f"({c.condition})" for c in checks) or "false"
    return (
        f"SELECT rowid, {failed}{''.join(', ' + quote_ident(n) for n in shown)} "
        f"FROM (SELECT rowid, *{casts} FROM {raw_name(table)}) WHERE {any_check} ORDER BY rowid"
    )


def _failed_list(flags: list[str]) -> str:
    """SQL list of the positions (0-based) of the true `flags`: one small value per row
    instead of a column per rule (a third of the fetch for 10,000 failing rows)."""
    items = ", ".join(f"CASE WHEN {flag} THEN {k} END" for k, flag in enumerate(flags))
    return f"list_filter([{items}], lambda k: k IS NOT NULL)"


def _grouped_failing_rows(table: Table, checks: list[RowCheck], shown: list[str], con):
    """(check indices, failing rows) per group of fields, from their distinct values."""
    group_of = _check_group(table, checks)
    groups: dict[tuple[str, ...], list[int]] = {}
    for i, check in enumerate(checks):
        groups.setdefault(group_of[check.reads[0]], []).append(i)
    for inputs, indices in groups.items():
        # CREATE TABLE AS answers with the number of rows it stored.
        [(failing,)] = con.execute(
            f"CREATE OR REPLACE TEMP TABLE _failing AS "
            f"{_failing_values_sql(table, checks, inputs, indices)}"
        ).fetchall()
        if failing:  # usually not: then there is no need to look for the rows
            yield indices, con.execute(_failing_rows_sql(table, inputs, indices, shown))


def _check_group(table: Table, checks: list[RowCheck]) -> dict[str, tuple[str, ...]]:
    """Field -> the fields evaluated together with it: those that rules read together.

    Merging a cross-field rule's fields with their own single-field rules casts each
    value once (one pass over distinct pairs instead of three passes).
    """
    group = {f.name: (f.name,) for f in table.fields}
    for check in checks:
        merged = {name for read in check.reads for name in group[read]}
        fields = tuple(name for name in table.field_names if name in merged)
        for name in fields:
            group[name] = fields
    return group


def _failing_values_sql(
    table: Table,
    checks: list[RowCheck],
    inputs: tuple[str, ...],
    indices: list[int],
    values: str | None = None,
) -> str:
    """Distinct values of `inputs` failing a check of the group, one flag per check.

    Two things keep this to about one cast per distinct value (measured with EXPLAIN
    ANALYZE at 1M rows: the date pair 0.20 s -> 0.10 s, `value` 0.17 s -> 0.08 s):
    the typed values are a MATERIALIZED CTE, because otherwise the optimizer inlines
    each cast into every condition that reads it; and the WHERE clause is the plain OR
    of the conditions (NULL counts as false there), which DuckDB short-circuits, so the
    `coalesce`d flags — evaluated in full for every row — are computed only for the few
    failing values.

    Only string groups (codes, enums, patterns: few distinct values, costly regular
    expressions) are made distinct first; dates and numbers usually differ from row to
    row, so there the DISTINCT costs more than the cheap casts it saves (date pair
    0.16 s -> 0.11 s, `value` 0.09 s -> 0.05 s per row), and only the failing values
    are made distinct.  `values` replaces that relation (a profile passes its own).
    """
    columns = ident_list(inputs)
    typed_columns = ", ".join(
        f"{cast_sql(table.field(name))} AS {typed(table.field(name))}" for name in inputs
    )
    flags = ", ".join(f"coalesce({checks[i].condition}, false) AS _c{i}" for i in indices)
    any_check = " OR ".join(f"({checks[i].condition})" for i in indices)
    if values is None:
        few_values = all(table.field(name).type == "string" for name in inputs)
        values = f"(SELECT {'DISTINCT ' if few_values else ''}{columns} FROM {raw_name(table)})"
    return (
        f"WITH _typed AS MATERIALIZED (SELECT {columns}, {typed_columns} FROM {values}) "
        f"SELECT DISTINCT {columns}, {flags} FROM _typed WHERE {any_check}"
    )


def _failing_rows_sql(
    table: Table, inputs: tuple[str, ...], indices: list[int], shown: list[str]
) -> str:
    """Rows (rowid, failing checks, quoted raw values) holding a value in `_failing`."""
    on = " AND ".join(
        f"r.{quote_ident(name)} IS NOT DISTINCT FROM f.{quote_ident(name)}" for name in inputs
    )
    raw_columns = "".join(f", r.{quote_ident(n)}" for n in shown)
    failed = _failed_list([f"f._c{i}" for i in indices])
    return f"SELECT r.rowid, {failed}{raw_columns} FROM {raw_name(table)} r JOIN _failing f ON {on}"


def key_errors(table: Table, con, lines) -> list[dict[str, Any]]:
    """Primary key and unique fields: every row after the first with the same key."""
    errors = []
    for i, (code, names) in enumerate(table_keys(table)):
        fields = [table.field(n) for n in names]
        if _one_spelling(table, names) and not _text_may_repeat(table, i, con):
            continue
        cols = ", ".join(typed(f) for f in fields)
        not_null = " AND ".join(f"{typed(f)} IS NOT NULL" for f in fields)
        duplicates = con.execute(
            f"WITH t AS (SELECT * FROM {typed_source(table)} WHERE {not_null}), "
            f"d AS (SELECT {cols} FROM t GROUP BY ALL HAVING count(*) > 1) "
            f"SELECT _row, first_row, {cols} FROM (SELECT _row, {cols}, "
            f"min(_row) OVER (PARTITION BY {cols}) AS first_row FROM t SEMI JOIN d "
            f"USING ({cols})) WHERE _row <> first_row ORDER BY _row"
        ).fetchall()
        label = "primary key" if code == "primary-key" else "unique field"
        for row, first, *values in duplicates:
            shown = ", ".join(f"{n}={v}" for n, v in zip(names, values, strict=True))
            errors.append(
                error(
                    table.name,
                    table.path,
                    int(lines[row]),
                    names[0] if len(names) == 1 else None,
                    code,
                    f"{label} ({shown}) repeats line {int(lines[first])}",
                )
            )
    return errors


def table_keys(table: Table) -> list[tuple[str, list[str]]]:
    """(error code, field names) of the primary key and of each unique field."""
    keys = []
    if table.primary_key:
        keys.append(("primary-key", table.primary_key))
    for f in table.fields:
        if f.constraints.get("unique") and [f.name] != table.primary_key:
            keys.append(("unique-error", [f.name]))
    return keys


def key_hash(index: int) -> str:
    """Column of `raw_<name>` holding the hash of key number `index`'s text."""
    return quote_ident(f"_key_hash_{index}")


def _one_spelling(table: Table, names: list[str]) -> bool:
    """Whether equal typed keys always have equal text, so the text can rule out repeats.

    True for strings and dates (one lexical form, YYYY-MM-DD); other types may spell
    one value two ways (`1` and `1.0`) and always get the exact check.
    """
    return all(table.field(n).type in ("string", "date") for n in names)


def _text_may_repeat(table: Table, index: int, con) -> bool:
    """False when no two rows can share key number `index`: distinct hashes of its text.

    A hash collision only sends the key to the exact check.
    """
    return bool(
        con.execute(
            f"SELECT count(*) > count(DISTINCT {key_hash(index)}) FROM {raw_name(table)}"
        ).fetchall()[0][0]
    )


# ----------------------------------------------------------------------------- profile
# Files from this size on are profiled first (`profile_table`); tests set it to 0 so
# that every bad input also goes through this path.
PROFILE_MIN_BYTES = 8 << 20
FLAG = "_azkz_flag_{}"
READ_ALL = "_azkz_read"
BAD_ROW = "_azkz_bad_row"
# Bits in a filter of failing hashes (`_hash_filter`): 1,024 per hash, so about one
# row in a thousand that does not fail is located too (and then passes the rules).
FILTER = "_azkz_filter"
FILTER_BITS_PER_ROW = 1024
FILTER_MIN_BITS = 1 << 16  # 8 KiB: one failing value locates ~15 other rows per 1M
FILTER_MAX_BITS = 1 << 24


def profiled(package: Package, table: Table) -> bool:
    """Whether `table` is checked by the streaming profile rather than loaded whole.

    Only large files, and only tables that no foreign key points to: a parent's keys
    must be at hand, as a table, for its children's checks.
    """
    parents = {
        fk["reference"].get("resource") or t.name for t in package.tables for fk in t.foreign_keys
    }
    if table.name in parents:
        return False
    try:
        about = package.file(table).stat()
    except OSError:
        return False
    return stat.S_ISREG(about.st_mode) and about.st_size >= PROFILE_MIN_BYTES


@dataclass(frozen=True)
class ProfilePlan:
    """How one streaming pass summarises a table, from its schema.

    * `value_groups`: string fields with costly rules; their distinct values are kept
      and the rules run on those (as `row_errors` does on a loaded table).
    * `row_groups`: every other rule group; one flag per group tells whether any row
      fails it, and the hash of each failing row's fields (`row_hash`) is kept.
    * `reference_fields`: their distinct values, looked up in the parent.
    * `key_hashes`: only hashes seen more than once are kept.
    """

    table: Table
    checks: list[RowCheck]
    value_groups: list[tuple[tuple[str, ...], list[int]]]
    row_groups: list[tuple[tuple[str, ...], list[int]]]
    reference_fields: list[tuple[str, ...]]  # the fields of each foreign key
    key_hashes: list[tuple[str, str, tuple[str, ...]]]  # column, expression, fields it casts

    @property
    def value_fields(self) -> list[str]:
        """Fields whose distinct values the profile keeps, in schema order."""
        kept = {n for names, _ in self.value_groups for n in names}
        kept |= {n for names in self.reference_fields for n in names}
        return [n for n in self.table.field_names if n in kept]

    @property
    def flags(self) -> list[str]:
        return [FLAG.format(j) for j in range(len(self.row_groups))]

    @property
    def unread(self) -> list[str]:
        """Fields no rule reads.  DuckDB checks UTF-8 only in the columns a query
        uses, so the profile still reads these (`READ_ALL`)."""
        read = set(self.value_fields)
        read |= {n for names, _ in self.row_groups for n in names}
        read |= {n for _code, names in table_keys(self.table) for n in names}
        return [n for n in self.table.field_names if n not in read]

    @property
    def row_fields(self) -> list[str]:
        """Fields the row groups read, in schema order: a failing row's are hashed."""
        read = {n for names, _ in self.row_groups for n in names}
        return [n for n in self.table.field_names if n in read]

    @property
    def row_hash(self) -> str:
        return f"hash({ident_list(self.row_fields)})"

    @property
    def flag_set(self) -> list[str]:
        """The grouping set of the row groups' flags, with the hash of each row that
        fails one (a later pass finds those rows by it, without casting again)."""
        if not self.row_groups:
            return [READ_ALL] if self.unread else []
        return self.flags + [BAD_ROW] + ([READ_ALL] if self.unread else [])

    @property
    def columns(self) -> list[str]:
        """The grouping columns, in the order `grouping_id` numbers them."""
        hashes = [name for name, _expr, _typed in self.key_hashes]
        return [quote_ident(n) for n in self.value_fields] + self.flag_set + hashes

    @property
    def result(self) -> str:
        return quote_ident(f"profile_{self.table.name}")

    def set_id(self, columns) -> int:
        """DuckDB's `grouping_id` of the grouping set `columns`: a bit per absent column."""
        n = len(self.columns)
        return sum(1 << (n - 1 - i) for i, c in enumerate(self.columns) if c not in columns)

    def rows_of(self, columns: list[str], select: str | None = None) -> str:
        """SELECT of `columns` (or `select`) from the profile rows of that grouping set."""
        return (
            f"SELECT {select or ', '.join(columns)} FROM {self.result} "
            f"WHERE _set = {self.set_id(columns)}"
        )

    def flag_condition(self, index: int) -> str:
        """True when a row may fail a rule of row group `index` (NULL counts as false)."""
        _fields, indices = self.row_groups[index]
        screens = dict.fromkeys(self.checks[i].screen or self.checks[i].condition for i in indices)
        return " OR ".join(f"({screen})" for screen in screens)

    def casts(self, names) -> str:
        fields = [self.table.field(n) for n in self.table.field_names if n in set(names)]
        return "".join(f", {cast_sql(f)} AS {typed(f)}" for f in fields)


def profile_plan(table: Table) -> ProfilePlan:
    checks = row_checks(table)
    group_of = _check_group(table, checks)
    groups: dict[tuple[str, ...], list[int]] = {}
    for i, check in enumerate(checks):
        groups.setdefault(group_of[check.reads[0]], []).append(i)
    value_groups, row_groups = [], []
    for names, indices in groups.items():
        strings = all(table.field(n).type == "string" for n in names)
        costly = any(checks[i].costly for i in indices)
        (value_groups if strings and costly else row_groups).append((names, indices))
    reference_fields = [tuple(_as_list(fk["fields"])) for fk in table.foreign_keys]
    key_hashes = []
    for i, (_code, names) in enumerate(table_keys(table)):
        if _one_spelling(table, names):
            key_hashes.append((key_hash(i), f"hash({ident_list(names)})", ()))
        else:  # `1` and `1.0` are one key: hash the typed values
            typed_key = ", ".join(typed(table.field(n)) for n in names)
            key_hashes.append((key_hash(i), f"hash({typed_key})", tuple(names)))
    return ProfilePlan(table, checks, value_groups, row_groups, reference_fields, key_hashes)


def profile_table(plan: ProfilePlan, path: Path, con) -> str | None:
    """One streaming pass: row count, distinct values, rule flags, repeated key hashes;
    the parser's message if it gives up.

    No table of the rows is kept: DuckDB feeds the rows to one hash aggregate per
    grouping set, and only the groups are stored (a few hundred rows, plus repeated
    keys and failing rows).  At 1M rows this takes less than loading the text table
    alone did, rules included.
    """
    table = plan.table
    source = rejects_source(table, path)
    if not plan.columns:
        return _run_parse(
            con,
            f"CREATE OR REPLACE TEMP TABLE {plan.result} AS "
            f"SELECT {plan.set_id(())} AS _set, count(*) AS _rows FROM {source}",
        )
    typed_keys = {n for _name, _expr, names in plan.key_hashes for n in names}
    hashes = "".join(f", {expr} AS {name}" for name, expr, _typed in plan.key_hashes)
    inner = f"SELECT *{plan.casts(set(plan.row_fields) | typed_keys)}{hashes} FROM {source}"
    kept = [quote_ident(n) for n in plan.value_fields]
    hashed = [name for name, _expr, _typed in plan.key_hashes]
    flags = [f"{plan.flag_condition(j)} AS {flag}" for j, flag in enumerate(plan.flags)]
    if plan.unread:
        flags.append(
            " AND ".join(f"{quote_ident(n)} IS NULL" for n in plan.unread) + f" AS {READ_ALL}"
        )
    row_fields = [quote_ident(n) for n in plan.row_fields]
    flagged = f"SELECT {', '.join(kept + row_fields + flags + hashed)} FROM ({inner})"
    if plan.row_groups:  # the hash of a failing row, else NULL: cheap while rows pass
        bad_row = f"CASE WHEN {' OR '.join(plan.flags)} THEN {plan.row_hash} END AS {BAD_ROW}"
        others = [c for c in plan.flag_set if c != BAD_ROW]
        flagged = f"SELECT {', '.join(kept + others + [bad_row] + hashed)} FROM ({flagged})"
    sets = ["()"]
    sets += [f"({ident_list(names)})" for names, _ in plan.value_groups]
    sets += [f"({ident_list(names)})" for names in plan.reference_fields]
    if plan.flag_set:
        sets.append(f"({', '.join(plan.flag_set)})")
    sets += [f"({name})" for name in hashed]
    # A key hash seen once is the usual case: only repeated ones are kept.
    having = " AND ".join(f"(grouping({name}) = 1 OR count(*) > 1)" for name in hashed)
    columns = ", ".join(plan.columns)
    return _run_parse(
        con,
        f"CREATE OR REPLACE TEMP TABLE {plan.result} AS "
        f"SELECT grouping_id({columns}) AS _set, {columns}, count(*) AS _rows "
        f"FROM ({flagged}) GROUP BY GROUPING SETS ({', '.join(dict.fromkeys(sets))})"
        + (f" HAVING {having}" if having else ""),
    )


def locate_failures(
    package: Package, plan: ProfilePlan, path: Path, con, lines: dict[str, Any], rows: int
):
    """Positions of the rows failing a rule, loaded in file order as `raw_<name>`.

    An empty array when the profile found nothing to fail (no second pass), None when
    the file changed since the profile read it (the caller then loads it whole).  The
    second pass builds a table of every row, NULL except on the rows that meet one of
    the conditions the profile gave: without joins, DuckDB keeps the file's order, so
    `rowid` is the row's position.
    """
    import numpy as np

    failures = _failures(package, plan, con, lines)
    if not failures.conditions:
        return np.empty(0, dtype=np.int64), failures
    table = plan.table
    inner = f"SELECT *{plan.casts(failures.typed)} FROM {raw_csv_sql(path, table)}"
    failing = " OR ".join(f"({c})" for c in failures.conditions)
    # A list of the row's text, not a struct: NULL lists cost far less to store.  Only
    # the fields the failing rules read or quote are kept (the others are NULL below).
    kept = failures.fields(plan)
    located = _run_parse(
        con,
        f"CREATE OR REPLACE TEMP TABLE _hits AS SELECT CASE WHEN {failing} "
        f"THEN [{ident_list(kept)}] END AS _hit FROM ({inner})",
    )
    if located is not None or _row_count(con, "_hits") != rows:
        return None  # the file changed since the profile read it: the full path says how
    fields = ", ".join(
        f"_hit[{kept.index(n) + 1}] AS {quote_ident(n)}"
        if n in kept
        else f"NULL::VARCHAR AS {quote_ident(n)}"
        for n in table.field_names
    )
    hashes = "".join(f", {expr} AS {name}" for name, expr in text_key_hashes(table))
    con.execute(
        f"CREATE OR REPLACE TABLE {raw_name(table)} AS SELECT *{hashes} FROM "
        f"(SELECT {fields} FROM _hits WHERE _hit IS NOT NULL ORDER BY rowid)"
    )
    hits = con.execute("SELECT rowid FROM _hits WHERE _hit IS NOT NULL ORDER BY rowid")
    return hits.fetchnumpy()["rowid"], failures


@dataclass
class Failures:
    """What a profile found failing, and the conditions that find those rows again."""

    conditions: list[str] = field(default_factory=list)  # SQL, true on the failing rows
    typed: set[str] = field(default_factory=set)  # fields the conditions cast
    checks: set[int] = field(default_factory=set)  # rules (`ProfilePlan.checks`) that fail
    references: list[dict[str, Any]] = field(default_factory=list)  # foreign keys that fail
    keys: bool = False  # a key hash repeats

    def fields(self, plan: ProfilePlan) -> list[str]:
        """Fields the failing rules read or quote, in schema order."""
        checks = [plan.checks[i] for i in self.checks]
        needed = {n for c in checks for n in c.reads} | set(message_fields(checks))
        needed |= {n for fk in self.references for n in _as_list(fk["fields"])}
        if self.keys:
            needed |= {n for _code, names in table_keys(plan.table) for n in names}
        return [n for n in plan.table.field_names if n in needed]


def _failures(package: Package, plan: ProfilePlan, con, lines: dict[str, Any]) -> Failures:
    """Read the profile: which rules fail, and SQL true on every row that fails one."""
    table, found = plan.table, Failures()

    def locate_by(hashes_sql: str, expression: str) -> bool:
        """Locate the rows whose `expression` is among the hashes `hashes_sql` gives."""
        name = f"{FILTER}_{table.name}_{len(found.conditions)}"
        condition = _hash_filter(con, name, expression, hashes_sql)
        if condition is not None:
            found.conditions.append(condition)
        return condition is not None

    for names, indices in plan.value_groups:
        columns = [quote_ident(n) for n in names]
        values = f"({plan.rows_of(columns)})"
        [(failing,)] = con.execute(
            f"CREATE OR REPLACE TEMP TABLE _failing AS "
            f"{_failing_values_sql(table, plan.checks, names, indices, values)}"
        ).fetchall()
        text_hash = f"hash({ident_list(names)})"
        if failing and locate_by(f"SELECT {text_hash} FROM _failing", text_hash):
            found.checks |= set(indices)
    for fk in table.foreign_keys:
        names, ref = _as_list(fk["fields"]), fk["reference"]
        parent_name = ref.get("resource") or table.name
        if parent_name not in lines:
            continue  # the parent's own errors are reported; its keys are unknown
        parent = package.table(parent_name)
        child = [typed(table.field(n)) for n in names]
        on = " AND ".join(
            f"c.{c} = p.{typed(parent.field(r))}"
            for c, r in zip(child, _as_list(ref["fields"]), strict=True)
        )
        not_null = " AND ".join(f"c.{c} IS NOT NULL" for c in child)
        columns = [quote_ident(n) for n in names]
        values = plan.rows_of(columns, ", ".join(columns) + plan.casts(names))
        missing = (
            f"SELECT hash({', '.join('c.' + c for c in columns)}) FROM ({values}) c "
            f"ANTI JOIN {typed_source(parent)} p ON {on} WHERE {not_null}"
        )
        if locate_by(missing, f"hash({ident_list(names)})"):
            found.references.append(fk)
    if plan.flags:
        flagged = con.execute(plan.rows_of(plan.flag_set)).fetchall()
        for j, (_names, indices) in enumerate(plan.row_groups):
            if any(row[j] for row in flagged):
                found.checks |= set(indices)
        locate_by(plan.rows_of(plan.flag_set, BAD_ROW), plan.row_hash)
    for name, expr, key_fields in plan.key_hashes:
        if locate_by(plan.rows_of([name]), expr):
            found.keys = True
            found.typed |= set(key_fields)
    return found


def _hash_filter(con, name: str, expression: str, hashes_sql: str) -> str | None:
    """Condition true on every row whose `expression` hashes like one of `hashes_sql`'s
    (None when there are none): a bit filter held in the DuckDB variable `name`.

    Looking a row up costs one hash and one bit.  Re-running the rules would cast every
    value again (0.14 s of 0.32 s for the failing rows of the 1M-row benchmark), a list
    of literals is searched row by row, and a semi-join would let DuckDB reorder the
    rows.  Rows that only share a bucket with a failing one are located too (about one
    in `FILTER_BITS_PER_ROW` per failing hash) and pass the exact rules there.
    """
    [(count,)] = con.execute(
        f"CREATE OR REPLACE TEMP TABLE _hashes AS "
        f"SELECT DISTINCT h FROM ({hashes_sql}) t(h) WHERE h IS NOT NULL"
    ).fetchall()
    if not count:
        return None
    wanted = max(count * FILTER_BITS_PER_ROW, FILTER_MIN_BITS, 1)
    bits = min(FILTER_MAX_BITS, 1 << (wanted - 1).bit_length())  # a power of two
    con.execute(
        f"SET VARIABLE {name} = "
        f"(SELECT bitstring_agg((h % {bits})::INTEGER, 0, {bits - 1}) FROM _hashes)"
    )
    return f"get_bit(getvariable({quote_literal(name)}), ({expression} % {bits})::INTEGER) = 1"


def _row_count(con, relation: str) -> int:
    return con.execute(f"SELECT count(*) FROM {relation}").fetchall()[0][0]


# ----------------------------------------------------------------------------- package
def foreign_key_errors(
    package: Package, table: Table, lines: dict[str, Any], con, foreign_keys=None
) -> list[dict[str, Any]]:
    """Rows whose reference is not in the parent table (empty references are allowed).

    `foreign_keys` limits the check to some of the table's (those a profile saw fail).
    """
    errors = []
    for fk in table.foreign_keys if foreign_keys is None else foreign_keys:
        names = _as_list(fk["fields"])
        ref = fk["reference"]
        parent = package.table(ref.get("resource") or table.name)
        if parent.name not in lines:
            continue  # the parent's own errors are reported; its keys are unknown
        ref_names = _as_list(ref["fields"])
        child_cols = [typed(table.field(n)) for n in names]
        parent_cols = [typed(parent.field(n)) for n in ref_names]
        on = " AND ".join(f"c.{c} = p.{p}" for c, p in zip(child_cols, parent_cols, strict=True))
        not_null = " AND ".join(f"c.{c} IS NOT NULL" for c in child_cols)
        missing = con.execute(
            f"SELECT c._row, {', '.join('c.' + c for c in child_cols)} "
            f"FROM {typed_source(table)} c ANTI JOIN {typed_source(parent)} p ON {on} "
            f"WHERE {not_null} ORDER BY c._row"
        ).fetchall()
        target = f"{parent.name}.{','.join(ref_names)}"
        for row, *values in missing:
            shown = ", ".join(str(v) for v in values)
            errors.append(
                error(
                    table.name,
                    table.path,
                    int(lines[table.name][row]),
                    names[0] if len(names) == 1 else None,
                    "foreign-key",
                    f"{','.join(names)} {shown!r} is not in {target}",
                )
            )
    return errors
