"""Validation reports: a package's error records and the three ways of showing them.

An error is a plain dict with the keys in `azkz.core.errors.ERROR_KEYS` (made by
`azkz.core.errors.error`, so that reading a schema needs no validator), so that it
serialises to JSON as is and other stages (the build refusing an invalid package) can
print it too.
Formats: `text` for people (grouped by file, coloured on a terminal), `json` for
machines (every error, nothing truncated), `github` for workflow annotations plus a
full Markdown table in `$GITHUB_STEP_SUMMARY` (GitHub shows only 10 annotations a step).
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, TextIO

from azkz.core.errors import BY_CODE
from azkz.core.markdown import md_table

FORMATS = ("text", "json", "github")
TEXT_LIMIT_PER_CODE = 20  # text output shows this many errors per code and file


@dataclass
class Report:
    """Outcome of validating a package: every error found, plus counts."""

    errors: list[dict[str, Any]] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)
    fatal: bool = False  # the descriptor or a schema was unusable
    # The package as the validator read it (None when the descriptor could not be read):
    # commands use it rather than reading the package a second time.
    package: Any = None

    @property
    def valid(self) -> bool:
        return not self.errors

    @property
    def exit_code(self) -> int:
        """0 valid, 1 invalid data, 2 unusable descriptor/schemas (each code's own status)."""
        status = max((BY_CODE[e["code"]].exit_status for e in self.errors), default=0)
        return max(status, 2 if self.fatal else 0)

    def counts(self) -> dict[str, int]:
        return dict(Counter(e["code"] for e in self.errors).most_common())

    def as_dict(self) -> dict[str, Any]:
        stats = dict(self.stats, errors=len(self.errors), by_code=self.counts())
        return {"valid": self.valid, "errors": self.errors, "stats": stats}


def render(
    report: Report, fmt: str = "text", stream: TextIO | None = None, color: bool | None = None
) -> None:
    """Write `report` to `stream` (stdout by default) in one of `FORMATS`."""
    import sys

    stream = stream or sys.stdout
    if fmt == "json":
        stream.write(_json_text(report))
    elif fmt == "github":
        _render_github(report, stream)
    elif fmt == "text":
        if color is None:
            color = stream.isatty() and "NO_COLOR" not in os.environ
        _render_text(report, stream, color)
    else:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")


def _json_text(report: Report) -> str:
    """The report as JSON with one error per line, built in one string and written once.

    Compact items keep `json.dumps` on its C encoder (`indent` switches to the Python
    one: 0.05 s for 10,000 errors, against 0.01 s), and a line per error still reads
    and greps well.
    """
    whole = report.as_dict()
    errors = ",\n  ".join(json.dumps(e, ensure_ascii=False) for e in whole["errors"])
    return (
        f'{{"valid": {json.dumps(whole["valid"])},\n'
        f' "errors": [{f"{chr(10)}  {errors}{chr(10)} " if errors else ""}],\n'
        f' "stats": {json.dumps(whole["stats"], ensure_ascii=False)}}}\n'
    )


def _where(err: dict[str, Any]) -> str:
    parts = []
    if err["line"] is not None:
        parts.append(f"line {err['line']}")
    if err["field"]:
        parts.append(f"field {err['field']}")
    return ", ".join(parts)


def plural(count: int, noun: str) -> str:
    """`1 error`, `2 errors`: counts in messages people read."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def summary_line(report: Report) -> str:
    stats = report.stats
    checked = f"{plural(stats.get('tables', 0), 'table')}, {plural(stats.get('rows', 0), 'row')}"
    if report.valid:
        return f"valid: {checked}, no errors"
    per_code = ", ".join(f"{code} {n}" for code, n in report.counts().items())
    return f"invalid: {plural(len(report.errors), 'error')} in {checked} ({per_code})"


def _render_text(report: Report, stream: TextIO, color: bool) -> None:
    def paint(text: str, style: str) -> str:
        if not color:
            return text
        codes = {"bold": "1", "red": "31", "green": "32", "dim": "2", "yellow": "33"}
        return f"\033[{codes[style]}m{text}\033[0m"

    by_file: dict[str, list[dict[str, Any]]] = {}
    for err in report.errors:
        by_file.setdefault(err["path"] or err["resource"] or "datapackage.json", []).append(err)
    for path, errs in by_file.items():
        stream.write(paint(f"{path}: {plural(len(errs), 'error')}", "bold") + "\n")
        shown: Counter[str] = Counter()
        for err in errs:
            shown[err["code"]] += 1
            if shown[err["code"]] > TEXT_LIMIT_PER_CODE:
                continue
            where = _where(err)
            where = f" {where}:" if where else ""
            stream.write(f"  {paint(err['code'], 'red')}{where} {err['message']}\n")
        for code, n in shown.items():
            if n > TEXT_LIMIT_PER_CODE:
                more = n - TEXT_LIMIT_PER_CODE
                stream.write(
                    paint(f"  {code}: and {more} more (use --format json for all)", "yellow") + "\n"
                )
    style = "green" if report.valid else "red"
    stream.write(paint(summary_line(report), style) + "\n")


def _escape_data(text: str) -> str:
    """GitHub workflow-command escaping for the message part."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _render_github(report: Report, stream: TextIO) -> None:
    for err in report.errors:
        props = [f"file={_escape_property(err['path'] or 'datapackage.json')}"]
        if err["line"] is not None:
            props.append(f"line={err['line']}")
        props.append(f"title={_escape_property(err['code'])}")
        where = f"{err['field']}: " if err["field"] else ""
        stream.write(f"::error {','.join(props)}::{_escape_data(where + err['message'])}\n")
    stream.write(summary_line(report) + "\n")
    summary_path = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary_path:
        _append_step_summary(report, summary_path)


def _append_step_summary(report: Report, summary_path: str) -> None:
    """Append the Markdown table; a summary that cannot be written is a warning only,
    because the annotations are out and the exit status must stay the data's."""
    import sys

    try:
        with open(summary_path, "a", encoding="utf-8") as out:
            out.write(markdown_table(report))
    except OSError as exc:
        sys.stderr.write(
            f"azkz validate: warning: could not write the job summary to "
            f"{summary_path} ({exc.strerror or exc}); the annotations above list the errors\n"
        )


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return text.replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def markdown_table(report: Report) -> str:
    """All errors as a Markdown table (for the job summary, which has no 10-item limit)."""
    lines = ["## azkz validate", "", summary_line(report), ""]
    if report.errors:
        lines += md_table(
            ["file", "line", "field", "code", "message"],
            (
                [err[k] for k in ("path", "line", "field", "code", "message")]
                for err in report.errors
            ),
            cell=_cell,
        )
    return "\n".join(lines) + "\n\n"
