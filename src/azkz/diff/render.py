"""A Diff as text (a terminal), Markdown (a pull-request comment) or JSON."""

from __future__ import annotations

import json
from typing import Any

from azkz.core.markdown import md_table
from azkz.diff.model import Diff, SchemaChange, TableDiff, json_value


def _key_text(key: dict[str, Any]) -> str:
    return ", ".join(f"{k}={cell(v)}" for k, v in key.items())


def cell(value: Any, width: int = 60) -> str:
    text = "∅" if value is None else str(value)
    text = text.replace("\n", " ")
    return text if len(text) <= width else text[: width - 1] + "…"


def _example_lines(t: TableDiff) -> list[str]:
    lines = []
    for op, mark, total in (
        ("ADD", "+", t.added),
        ("DEL", "-", t.removed),
        ("MOD", "~", t.changed),
    ):
        for entry in t.examples.get(op, []):
            line = f"{mark} {_key_text(entry['key'])}"
            if op == "MOD":
                line += ": " + "; ".join(
                    f"{f}: {cell(a)} → {cell(b)}" for f, (a, b) in entry["changes"].items()
                )
            lines.append(line)
        shown = len(t.examples.get(op, []))
        if total > shown:
            lines.append(f"{mark} … and {total - shown} more")
    return lines


def _table_rows(diff: Diff) -> list[tuple[str, str, str, str, str, str]]:
    rows = [
        (
            t.name if t.name == t.old_name else f"{t.old_name} → {t.name}",
            str(t.old_rows),
            str(t.new_rows),
            str(t.added),
            str(t.removed),
            str(t.changed),
        )
        for t in diff.tables
    ]
    rows += [
        (f"{n} (new table)", "–", str(c), str(c), "0", "0") for n, c in diff.added_tables.items()
    ]
    rows += [
        (f"{n} (removed table)", str(c), "–", "0", str(c), "0")
        for n, c in diff.removed_tables.items()
    ]
    return rows


_HEADERS = ("table", "old rows", "new rows", "added", "removed", "changed")


def _change_text(c: SchemaChange) -> str:
    where = c.table + (f".{c.field}" if c.field else "")
    return f"[{c.bump}] {where}: {c.kind}: {c.detail}"


def render_text(diff: Diff) -> str:
    out = [
        f"{diff.old.label} ({diff.old.version}) → {diff.new.label} ({diff.new.version})",
        f"Required version bump: {diff.bump}",
        "",
    ]
    rows = [_HEADERS, *_table_rows(diff)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(_HEADERS))]
    for r in rows:
        out.append(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(r, widths, strict=True))
            )
        )
    if diff.schema_changes:
        out += ["", f"Schema changes ({len(diff.schema_changes)}):"]
        out += [f"  {_change_text(c)}" for c in diff.schema_changes]
    for t in diff.tables:
        if not (t.has_changes or t.notes):
            continue
        out += ["", f"{t.name}: matched on {', '.join(t.matched_on) or 'whole rows'}"]
        out += [f"  note: {n}" for n in t.notes]
        if t.field_changes:
            out.append(
                "  changed fields: " + ", ".join(f"{f} ({n})" for f, n in t.field_changes.items())
            )
        out += [f"  {line}" for line in _example_lines(t)]
    return "\n".join(out) + "\n"


def _md(value: Any) -> str:
    return cell(value, 80).replace("|", "\\|")


def render_markdown(diff: Diff) -> str:
    """A pull-request comment: summary table first, details collapsed."""
    out = [
        f"### Data diff: `{diff.old.label}` ({diff.old.version}) → "
        f"`{diff.new.label}` ({diff.new.version})",
        "",
        f"**Required version bump: {diff.bump}**",
        "",
        *md_table(list(_HEADERS), _table_rows(diff), cell=_md),
    ]
    if diff.schema_changes:
        out += [
            "",
            f"<details><summary>Schema changes ({len(diff.schema_changes)})</summary>",
            "",
            *md_table(
                ["bump", "table", "field", "change", "detail"],
                ([c.bump, c.table, c.field or "", c.kind, c.detail] for c in diff.schema_changes),
                cell=_md,  # bump and kind are fixed short words: unchanged by _md
            ),
            "",
            "</details>",
        ]
    for t in diff.tables:
        if not (t.has_changes or t.notes):
            continue
        out += [
            "",
            f"<details><summary>{t.name}: {t.added} added, {t.removed} removed, "
            f"{t.changed} changed</summary>",
            "",
            f"Matched on: {', '.join(f'`{k}`' for k in t.matched_on) or 'whole rows'}",
        ]
        out += [f"> **Note:** {n}" for n in t.notes]
        if t.field_changes:
            rows = ([f"`{f}`", n] for f, n in t.field_changes.items())
            out += ["", *md_table(["field", "values changed"], rows, cell=str)]
        lines = _example_lines(t)
        if lines:
            out += ["", "```diff", *lines, "```"]
        out += ["", "</details>"]
    return "\n".join(out) + "\n"


def render_json(diff: Diff) -> str:
    return json.dumps(diff.to_dict(), indent=2, ensure_ascii=False, default=json_value) + "\n"


RENDERERS = {"text": render_text, "json": render_json, "markdown": render_markdown}


# ---------------------------------------------------------------------------
