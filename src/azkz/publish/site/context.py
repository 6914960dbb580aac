"""What the catalogue site says, read from one release: its files, its Parquet and its metadata.

Every number comes from the release's Parquet files (the files the in-browser SQL
console loads), every file fact from the files themselves checked against
`SHA256SUMS`, and the optional files (CHANGELOG.md, CITATION.cff, dataset.jsonld) are
read as the release holds them.  `azkz.publish.site.pages` renders pages from these facts;
`azkz.publish.site.charts` draws the charts.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import yaml
from markdown_it import MarkdownIt
from markupsafe import Markup

from azkz.core.digest import sha256_file
from azkz.core.layout import ReleaseError, read_checksums, release_files, table_file
from azkz.core.sql import ident_list, quote_ident, quote_literal
from azkz.release.citation import temporal_coverage
from azkz.schema.package import Package, Table, field_list
from azkz.tables.ddl import sorted_select

SOURCES_TABLE = "sources"
PREVIEW_ROWS = 10


class SiteError(Exception):
    """The site cannot be built from what is on disk; the message names the file."""


# ---------------------------------------------------------------- release on disk


@dataclass(frozen=True)
class Download:
    path: str  # relative to the release directory
    label: str
    size: int
    sha256: str

    @property
    def human_size(self) -> str:
        size = float(self.size)
        for unit in ("bytes", "KB", "MB", "GB"):
            if size < 1000 or unit == "GB":
                return f"{self.size} bytes" if unit == "bytes" else f"{size:.1f} {unit}"
            size /= 1000
        raise AssertionError("unreachable")


def release_downloads(release: Path) -> list[Download]:
    """Every file of the release with size and sha256, checked against SHA256SUMS.

    A mismatch means the release on disk is corrupt, and publishing it would hand users
    files that fail their own checksum test, so it stops the build.
    """
    try:
        sums = read_checksums(release)
    except ReleaseError as exc:
        raise SiteError(str(exc)) from None
    downloads = []
    for path in release_files(release):
        rel = path.relative_to(release).as_posix()
        digest = sha256_file(path)
        if rel in sums and sums[rel] != digest:
            raise SiteError(f"{path}: sha256 {digest} does not match SHA256SUMS ({sums[rel]})")
        downloads.append(Download(rel, path.name, path.stat().st_size, digest))
    return downloads


# ---------------------------------------------------------------- facts from the data


def parquet_path(release: Path, table: Table) -> Path:
    return release / table_file(table.name, "parquet")


def open_release(release: Path, package: Package) -> duckdb.DuckDBPyConnection:
    """In-memory DuckDB with one view per table over the release's Parquet files."""
    con = duckdb.connect()
    for table in package.tables:
        path = parquet_path(release, table)
        if not path.is_file():
            raise SiteError(
                f"{path} not found: the release has no Parquet file for table {table.name!r}"
            )
        con.execute(
            f"CREATE VIEW {quote_ident(table.name)} AS "
            f"SELECT * FROM read_parquet({quote_literal(str(path))})"
        )
    return con


def cell_text(value: Any) -> str:
    """How a cell is shown on the pages: empty for NULL, numbers without a spurious `.0`."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def source_references(package: Package) -> list[tuple[Table, str]]:
    """(table, column) pairs whose foreign key points at the sources table."""
    refs = []
    for table in package.tables:
        if table.derived_from:
            continue  # its rows are copies of rows listed already
        for fk in table.foreign_keys:
            fields = field_list(fk["fields"])
            if fk.get("reference", {}).get("resource") == SOURCES_TABLE and len(fields) == 1:
                refs.append((table, fields[0]))
    return refs


@dataclass
class TableFacts:
    table: Table
    rows: int
    preview: list[list[str]]
    downloads: list[Download] = field(default_factory=list)


def table_facts(con, table: Table) -> TableFacts:
    """Row count and the first rows in primary-key order."""
    name = quote_ident(table.name)
    rows = con.execute(f"SELECT count(*) FROM {name}").fetchall()[0][0]
    preview = con.execute(f"{sorted_select(table)} LIMIT {PREVIEW_ROWS}").fetchall()
    return TableFacts(table, rows, [[cell_text(v) for v in r] for r in preview])


def coverage_years(package: Package, con) -> str:
    """ "1996–2025": the years of the data's temporal coverage, as dataset.jsonld states it."""
    interval = temporal_coverage(package, con)
    if interval is None:
        return ""
    first, last = (part[:4] for part in interval.split("/"))
    return first if first == last else f"{first}–{last}"


def row_label(names: list[str], values: list[Any]) -> str:
    """A row named by its key values, e.g. `trade_turnover AZE–KAZ 2025-01-01..2025-08-31`.

    Key fields that form a pair, `from_x`/`to_x` or `x_start`/`x_end`, are written as one
    range so that long composite keys stay short enough to scan in a list.
    """
    parts = []
    i = 0
    while i < len(names):
        name, text = names[i], cell_text(values[i])
        following = names[i + 1] if i + 1 < len(names) else None
        if following is not None and name.startswith("from_") and following == f"to_{name[5:]}":
            parts.append(f"{text}–{cell_text(values[i + 1])}")
            i += 2
        elif following is not None and name.endswith("_start") and following == f"{name[:-6]}_end":
            parts.append(f"{text}..{cell_text(values[i + 1])}")
            i += 2
        else:
            parts.append(text)
            i += 1
    return " ".join(parts)


def citing_rows(con, table: Table, column: str) -> dict[str, list[str]]:
    """{source_id: labels of the rows of `table` citing it}, in primary-key order.

    The label leaves out the source column itself (the list sits under that source); a
    table without a primary key is labelled by its first field.
    """
    key = [k for k in table.primary_key if k != column] or [table.fields[0].name]
    key_sql = ident_list(key)
    rows = con.execute(
        f"SELECT {quote_ident(column)}, {key_sql} FROM {quote_ident(table.name)} "
        f"WHERE {quote_ident(column)} IS NOT NULL ORDER BY {key_sql}"
    ).fetchall()
    by_source: dict[str, list[str]] = {}
    for source_id, *values in rows:
        by_source.setdefault(source_id, []).append(row_label(key, values))
    return by_source


@dataclass(frozen=True)
class CitingRows:
    table: Table
    labels: list[str]  # one per row of `table` citing the source


@dataclass(frozen=True)
class SourceUse:
    row: dict[str, str]
    citing: list[CitingRows]  # tables with at least one row citing the source

    @property
    def total(self) -> int:
        return sum(len(c.labels) for c in self.citing)


def source_uses(con, package: Package) -> list[SourceUse]:
    """Every source with the rows of each fact table that cite it."""
    per_table = [
        (table, citing_rows(con, table, column)) for table, column in source_references(package)
    ]
    sources_table = package.table(SOURCES_TABLE)
    key = sources_table.primary_key[0]
    cursor = con.execute(f"SELECT * FROM {quote_ident(SOURCES_TABLE)} ORDER BY {quote_ident(key)}")
    names = [d[0] for d in cursor.description]
    uses = []
    for values in cursor.fetchall():
        row = {n: cell_text(v) for n, v in zip(names, values, strict=True)}
        citing = [
            CitingRows(table, by_source[row[key]])
            for table, by_source in per_table
            if row[key] in by_source
        ]
        uses.append(SourceUse(row, citing))
    return uses


# ---------------------------------------------------------------- optional release files


MARKDOWN = MarkdownIt("commonmark", {"html": False})  # contributor text: no raw HTML


def markdown_inline(text: str) -> Markup:
    """Descriptions in the schemas use Markdown code spans (`source_id`); render them."""
    return Markup(MARKDOWN.renderInline(text or ""))


def changelog_html(release: Path) -> Markup | None:
    """CHANGELOG.md as HTML under the page's own "Changelog" heading.

    The file's title (a leading h1) is dropped, as the page already has one, and the other
    headings move one level down to nest under the page's h2.
    """
    path = release / "CHANGELOG.md"
    if not path.is_file():
        return None
    tokens = MARKDOWN.parse(path.read_text(encoding="utf-8"))
    if tokens and tokens[0].type == "heading_open" and tokens[0].tag == "h1":
        tokens = tokens[3:]  # heading_open, inline, heading_close
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(6, int(token.tag[1]) + 1)}"
    return Markup(MARKDOWN.renderer.render(tokens, MARKDOWN.options, {}))


@dataclass(frozen=True)
class Citation:
    text: str  # one-line reference a reader can paste
    cff: str  # the file itself, for tools that read CFF


def _cff_author(author: dict[str, Any]) -> str:
    if author.get("name"):
        return str(author["name"])
    return " ".join(str(author[k]) for k in ("given-names", "family-names") if author.get(k))


def citation(release: Path) -> Citation | None:
    path = release / "CITATION.cff"
    if not path.is_file():
        return None
    text = path.read_text(encoding="utf-8")
    try:
        cff = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SiteError(f"{path} is not valid YAML: {exc}") from None
    if not isinstance(cff, dict) or not cff.get("title"):
        raise SiteError(f"{path} has no 'title'")
    authors = ", ".join(_cff_author(a) for a in cff.get("authors", []) if isinstance(a, dict))
    released = str(cff.get("date-released", ""))[:4]
    parts = [f"{authors} ({released})." if released else f"{authors}.", f"{cff['title']}"]
    if cff.get("version"):
        parts[-1] += f" (version {cff['version']})"
    parts[-1] += " [Data set]."
    for key in ("doi", "url", "repository-code"):
        if cff.get(key):
            value = str(cff[key])
            parts.append(f"https://doi.org/{value}" if key == "doi" else value)
            break
    return Citation(" ".join(p for p in parts if p.strip(". ")), text)


def json_ld(release: Path) -> Markup | None:
    """dataset.jsonld re-serialised for a <script> element (no `</` can end it early)."""
    path = release / "dataset.jsonld"
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise SiteError(f"{path} is not valid JSON: {exc}") from None
    return Markup(json.dumps(data, ensure_ascii=False, indent=1).replace("</", "<\\/"))
