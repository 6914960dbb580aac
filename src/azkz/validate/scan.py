"""The byte scan of `azkz validate`: what DuckDB's CSV parser cannot tell.

DuckDB counts records, skips blank lines silently and accepts NUL bytes, so a
vectorised byte scan (numpy) of each file finds record boundaries outside quotes
independently; it gives every record's physical line (header = 1, embedded newlines
counted) and a record count that DuckDB's result must match.  It has two speeds: a
quick one (chunked, run while DuckDB reads the file in another thread) for files with
no NUL, CR or stray quote, and the full one, which names what is wrong, only when the
quick one or DuckDB found a problem.  It also finds rows of empty cells (`blank-row`)
and checks the header against the schema (label errors).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from azkz.core.errors import (
    BLANK_LABEL,
    BLANK_ROW,
    DUPLICATE_LABEL,
    ENCODING_ERROR,
    EXTRA_LABEL,
    INCORRECT_LABEL,
    MISSING_LABEL,
    SOURCE_ERROR,
    error,
)
from azkz.schema.package import Table
from azkz.tables.typed import reads_empty_lines

BOM = b"\xef\xbb\xbf"
DECODE_CHUNK = 1 << 24


@dataclass
class Scan:
    """What the byte scan learned about one CSV file."""

    errors: list[dict[str, Any]] = field(default_factory=list)
    labels: list[str] | None = None
    record_starts: Any = None  # numpy int64: byte offset of every non-blank data record
    record_lines: Any = None  # numpy int64: its physical line (header = 1)
    usable: bool = False  # True when DuckDB may parse the file
    blank_lines: set[int] = field(default_factory=set)  # rows of empty cells (`,,`)
    record_cells: Any = None  # numpy int64: cells of each record (full scan only)
    # Empty lines of a one-column table that DuckDB reads as rows: blank rows.
    empty_records: set[int] = field(default_factory=set)


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

    if not locate and _quick_records(path, scan, table):
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
    _find_records(data, body, scan, fail, table)
    return scan


def _quick_records(path: Path, scan: Scan, table: Table) -> bool:
    """Records' lines from newlines outside quotes, reading the file in chunks.

    Only for a file with a plain UTF-8 header and no NUL, CR or stray quote; False
    = use the full scan, which names the problem.  Blank lines are not looked for
    here: DuckDB skips them, so its row count then differs from the records found and
    the caller rescans.  Chunks keep memory flat while DuckDB loads the same file.
    """
    import numpy as np

    quotes, before, after, newlines, candidates = [], [], [], [], []
    width = len(table.field_names)
    commas = quotes_seen = 0
    size = path.stat().st_size
    # One reused buffer: [byte before the chunk] + chunk + [byte after it]. Reusing it
    # (and the mask) keeps the allocator from holding freed chunks while DuckDB loads.
    # A bytearray under the numpy view (its `find`, memchr, finds NUL and CR five times
    # faster than numpy), sized to the file when smaller: it is zero-filled page by page.
    chunk = max(1, min(DECODE_CHUNK, size))
    raw = bytearray(chunk + 2)
    buffer = np.frombuffer(raw, dtype=np.uint8)
    mask = np.empty(chunk, dtype=bool)
    with path.open("rb") as f:
        body = _plain_header(f, scan)
        if body is None:
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
            commas += _commas_outside_quotes(inner, chunk_mask, at, quotes_seen)
            quotes_seen += len(at)
            quotes.append(_offsets(at, start, size))
            ends = np.flatnonzero(np.equal(inner, ord("\n"), out=chunk_mask))
            newlines.append(_offsets(ends, start, size))
            # Rows starting with an empty cell (`\n,` or `\n""`) may be blank rows: few,
            # checked below.  (A gather over the newlines: `bytearray.find(b"\n,")` took
            # 0.21 s at 1M rows.)
            after_newline = buffer[ends + 2]
            quoted = (after_newline == ord('"')) & (buffer[np.minimum(ends + 3, n + 1)] == ord('"'))
            first_empty = ends[(after_newline == ord(",")) | quoted]
            candidates += (first_empty + start).tolist()
            buffer[0] = buffer[n]
    quotes, newlines = np.concatenate(quotes), np.concatenate(newlines)
    if (
        _first_stray_quote(quotes, np.concatenate(before), np.concatenate(after), body, size)
        is not None
    ):
        return False
    # Newline number k (0-based) outside quotes ends a record; the next starts on line k + 2.
    terminators = np.flatnonzero((np.searchsorted(quotes, newlines) & 1) == 0)
    # Record k starts after terminator k; it is an empty line when terminator k + 1
    # follows at once.  In a one-column table that is a row of one empty cell (DuckDB
    # reads it); elsewhere DuckDB skips it, the counts differ and the caller rescans.
    empty = np.flatnonzero(np.diff(newlines[terminators]) == 1) if width == 1 else []
    if len(empty) and not reads_empty_lines(table):
        return False  # DuckDB skips these lines: the full scan drops them too
    if len(terminators) and newlines[terminators[-1]] == size - 1:
        terminators = terminators[:-1]  # the final newline starts no record
    scan.record_lines = terminators + 2
    if commas != (width - 1) * (len(terminators) + 1):
        return False  # a row has more or fewer cells than the header: the full scan counts
    scan.empty_records.update(int(scan.record_lines[k]) for k in empty)
    if candidates:  # rare: only rows whose first cell is empty
        _mark_blank_rows(path, scan, candidates, newlines[terminators], width)
    scan.usable = True
    return True


def _plain_header(f, scan: Scan) -> int | None:
    """The header's labels into `scan`; the body's first byte (after a BOM), or None when
    the header is not plain (unquoted UTF-8 ending in LF) and the full scan must read it."""
    first = f.readline(DECODE_CHUNK)
    body = len(BOM) if first.startswith(BOM) else 0
    header = first[body:-1]
    if not first.endswith(b"\n") or not header or b'"' in header:
        return None
    try:
        scan.labels = next(csv.reader(io.StringIO(header.decode("utf-8"), newline="")))
    except UnicodeDecodeError:
        return None
    return body


def _mark_blank_rows(path: Path, scan: Scan, candidates: list[int], ends, width: int) -> None:
    """Of the records starting with an empty cell (`candidates`: offsets of the newline
    before them), those whose every cell is empty are blank rows."""
    import numpy as np

    size = path.stat().st_size
    with path.open("rb") as f:
        for offset in candidates:
            k = int(np.searchsorted(ends, offset))
            if offset + 1 < size and k < len(ends) and ends[k] == offset:
                f.seek(offset + 1)
                if _all_empty(f.readline(), width):
                    scan.blank_lines.add(int(scan.record_lines[k]))


def _commas_outside_quotes(inner, mask, quotes, quotes_before: int) -> int:
    """Delimiters of a chunk that separate cells (an even number of quotes before them).

    DuckDB drops empty cells past the header's width without a word (`a,b,` reads as
    two cells), so the file's count of delimiters is the only sign of them: it must be
    the header's width less one, times the records.  The commas inside quoted spans are
    counted span by span (a lookup per quote, not per comma: 9 ms per 16 MiB chunk of
    this package's rows instead of 30; docs/decisions.md has the whole cost).
    """
    import numpy as np

    found = np.flatnonzero(np.equal(inner, ord(","), out=mask))
    bounds = quotes
    if quotes_before % 2:  # the chunk starts inside a quoted cell
        bounds = np.concatenate(([-1], bounds))
    if len(bounds) % 2:  # and a quoted cell runs past its end
        bounds = np.concatenate((bounds, [len(inner)]))
    opened, closed = bounds[0::2], bounds[1::2]
    inside = np.searchsorted(found, closed) - np.searchsorted(found, opened, side="right")
    return len(found) - int(inside.sum())


def _all_empty(record: bytes, width: int) -> bool:
    """Whether a record's cells within the header's width are all empty (`,,`,
    `"",""`, or `,,x` in a two-column table): a blank row, as in Frictionless, whatever
    lies past the header."""
    text = record.rstrip(b"\r\n")
    if text.replace(b'""', b"").strip(b",") == b"":
        return True
    try:
        cells = next(csv.reader(io.StringIO(text.decode("utf-8", "replace"), newline="")))
    except csv.Error:
        return False
    return all(cell == "" for cell in cells[:width])


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


def _find_records(data: bytes, body: int, scan: Scan, fail, table: Table) -> None:
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
        _quote_error(data, quotes, stray, fail, table.field_names)
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
    if len(table.field_names) == 1 and reads_empty_lines(table):
        # An empty line is then a row of one empty cell, which DuckDB reads: a blank row.
        scan.empty_records.update(int(lines[i]) for i in blank)
        blank = blank[:0]
    for i in blank:
        fail(int(lines[i]), BLANK_ROW, "row is empty; remove the blank line")
    first = raw[starts[1:]]
    second = raw[np.minimum(starts[1:] + 1, len(raw) - 1)]
    may_be_blank = (first == ord(",")) | ((first == ord('"')) & (second == ord('"')))
    for i in np.flatnonzero(may_be_blank) + 1:
        if _all_empty(data[starts[i] : starts[i] + lengths[i]], len(table.field_names)):
            scan.blank_lines.add(int(lines[i]))
    keep = np.ones(len(starts), dtype=bool)
    keep[0] = False
    keep[blank] = False
    scan.record_starts = starts[keep]
    scan.record_lines = lines[keep]
    scan.record_cells = _cells_per_record(raw, quotes, starts)[keep]
    scan.usable = True


def _cells_per_record(raw, quotes, starts):
    """Cells of each record: its delimiters outside quotes, plus one."""
    import numpy as np

    commas = _positions(raw, ord(","))
    outside = commas[(np.searchsorted(quotes, commas) & 1) == 0]
    bounds = np.searchsorted(outside, np.append(starts, len(raw)))
    return np.diff(bounds) + 1


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
