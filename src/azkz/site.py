"""The catalogue website of one release: static HTML built from the release and its schemas.

Everything a page says about tables and fields comes from the release's own
`datapackage.json` read through `azkz.schema` (never a hand-written copy), and every
number comes from the release's Parquet files, the same files the in-browser SQL console
loads, so the pages and the console cannot disagree. The release files are copied into
`download/<version>/` so that links resolve on any static host (GitHub Pages).
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import yaml
from jinja2 import Environment, PackageLoader, select_autoescape
from markdown_it import MarkdownIt
from markupsafe import Markup

from azkz import duckdb_wasm
from azkz.build import sorted_select
from azkz.charts import TURNOVER_INDICATOR, chart_context, timeline_context
from azkz.citation import temporal_coverage
from azkz.digest import sha256_file
from azkz.releases import (
    CHECKSUMS,
    ReleaseError,
    copy_releases,
    release_files,
    resolve_local,
    table_file,
)
from azkz.schema import DescriptorError, Package, Table, field_list, read_package
from azkz.series import SERIES_TABLE, precedence_lines
from azkz.typed import ident_list, quote_ident, quote_literal

SITE_MARKER = ".azkz-site"  # only a directory holding this file may be replaced
TEMPLATES = "templates/site"
STATIC_FILES = ("style.css", "console.js")
SOURCES_TABLE = "sources"
PREVIEW_ROWS = 10

# Example queries of the SQL console; a test runs each one against the release.
EXAMPLE_QUERIES = (
    (
        "Yearly trade turnover, one value per reporter",
        "SELECT year, reporter, value, unit, source_id, candidates, rule\n"
        f"FROM {SERIES_TABLE}\n"
        f"WHERE indicator = '{TURNOVER_INDICATOR}'\n"
        "ORDER BY year, reporter;",
    ),
    (
        "Agreements by kind",
        "SELECT kind, count(*) AS agreements\nFROM agreements\nGROUP BY kind\n"
        "ORDER BY agreements DESC, kind;",
    ),
    (
        "Visits per year and host",
        "SELECT year(date_start) AS year, host_country, count(*) AS visits\nFROM visits\n"
        "GROUP BY ALL\nORDER BY year, host_country;",
    ),
    (
        "Rows per source",
        "SELECT s.publisher, s.source_id, count(i.source_id) AS indicator_rows\n"
        "FROM sources s LEFT JOIN indicators i USING (source_id)\n"
        "GROUP BY ALL\nORDER BY indicator_rows DESC, s.source_id\nLIMIT 20;",
    ),
)


class SiteError(Exception):
    """The site cannot be built from what is on disk; the message names the file."""


# ---------------------------------------------------------------- release on disk


def read_checksums(release: Path) -> dict[str, str]:
    """`SHA256SUMS` as {relative path: hex digest}; empty when the release has none."""
    sums_path = release / CHECKSUMS
    if not sums_path.is_file():
        return {}
    sums = {}
    for number, line in enumerate(sums_path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        digest, sep, name = line.partition(" ")
        if not sep or len(digest) != 64:
            raise SiteError(f"{sums_path}, line {number}: expected '<sha256>  <path>'")
        sums[name.strip().lstrip("*")] = digest
    return sums


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
    sums = read_checksums(release)
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


# ---------------------------------------------------------------- rendering


def table_page(table: Table) -> str:
    return f"table-{table.name}.html"


def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("azkz", TEMPLATES),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals["table_page"] = table_page
    env.globals["precedence_lines"] = precedence_lines
    env.filters["cell"] = cell_text
    env.filters["markdown"] = markdown_inline
    return env


def field_rules(f) -> list[str]:
    """The constraints of a field other than `enum` (shown in a column of its own), in words."""
    c = f.constraints
    rules = []
    if c.get("required"):
        rules.append("required")
    if c.get("unique"):
        rules.append("unique")
    for key, word in (("minimum", "≥"), ("maximum", "≤")):
        if key in c:
            rules.append(f"{word} {cell_text(c[key])}")
    for key in ("minLength", "maxLength", "pattern"):
        if key in c:
            rules.append(f"{key} {c[key]}")
    return rules


def console_bytes(release: Path, package: Package, wasm_dir: Path) -> int:
    """What the SQL console page downloads: the engine files plus every table's Parquet."""
    engine = sum(
        (wasm_dir / name).stat().st_size
        for name in duckdb_wasm.FILES
        if name != duckdb_wasm.MANIFEST
    )
    return engine + sum(parquet_path(release, t).stat().st_size for t in package.tables)


def write_site(build: Path, package: Package, release: Path, wasm_dir: Path) -> list[str]:
    """Render every page into `build`; returns the page file names."""
    downloads = release_downloads(release)
    by_path = {d.path: d for d in downloads}
    con = open_release(release, package)
    facts = [table_facts(con, t) for t in package.tables]
    for fact in facts:
        fact.downloads = [
            by_path[p]
            for p in (
                fact.table.path,
                parquet_path(release, fact.table).relative_to(release).as_posix(),
            )
            if p in by_path
        ]
    descriptor = package.descriptor
    version = package.version
    tabled = {d.path for f in facts for d in f.downloads}
    context = {
        "package": package,
        "descriptor": descriptor,
        "version": version,
        "created": descriptor.get("created", ""),
        "licenses": descriptor.get("licenses", []),
        "facts": facts,
        "coverage": coverage_years(package, con),
        "download_root": f"download/{version}",
        "zip": [d for d in downloads if d.path.endswith(".zip")],
        "duckdb_files": [d for d in downloads if d.path.endswith(".duckdb")],
        "metadata_files": [
            d
            for d in downloads
            if d.path not in tabled and not d.path.endswith((".zip", ".duckdb"))
        ],
        "changelog": changelog_html(release),
        "citation": citation(release),
        "json_ld": json_ld(release),
        "generated_with": f"azkz site, DuckDB-WASM {duckdb_wasm.DUCKDB_WASM_VERSION}",
    }
    env = environment()
    pages = {
        "index.html": ("index.html", {}),
        "sources.html": (
            "sources.html",
            {"uses": source_uses(con, package)},
        ),
        "indicators.html": ("indicators.html", chart_context(con)),
        "timeline.html": ("timeline.html", timeline_context(con)),
        "sql.html": (
            "sql.html",
            {
                "examples": EXAMPLE_QUERIES,
                "console_mb": round(console_bytes(release, package, wasm_dir) / 1e6),
                "console_config": Markup(
                    json.dumps(
                        {
                            "module": f"assets/duckdb/{duckdb_wasm.MODULE}",
                            "worker": f"assets/duckdb/{duckdb_wasm.WORKER}",
                            "wasm": f"assets/duckdb/{duckdb_wasm.WASM}",
                            "parquetModule": f"assets/duckdb/{duckdb_wasm.PARQUET_MODULE}",
                            "parquetWasm": f"assets/duckdb/{duckdb_wasm.PARQUET_WASM}",
                            "tables": [
                                {
                                    "name": t.name,
                                    "url": f"download/{version}/"
                                    + parquet_path(release, t).relative_to(release).as_posix(),
                                }
                                for t in package.tables
                            ],
                        }
                    ).replace("</", "<\\/")
                ),
            },
        ),
    }
    for fact in facts:
        pages[table_page(fact.table)] = ("table.html", {"fact": fact, "field_rules": field_rules})
    con.close()
    for name, (template, extra) in pages.items():
        html = env.get_template(template).render(**context, **extra, page=name)
        (build / name).write_text(html, encoding="utf-8")
    assets = build / "assets"
    (assets / "duckdb").mkdir(parents=True)
    for name in STATIC_FILES:
        shutil.copyfile(Path(__file__).parent / TEMPLATES / "static" / name, assets / name)
    for name in duckdb_wasm.FILES:
        shutil.copyfile(wasm_dir / name, assets / "duckdb" / name)
    # Every release and index.json: `download/` is what AZKZ_RELEASES_URL points to.
    copy_releases(release.parent, build / "download")
    return list(pages)


def replace_dir(built: Path, out: Path) -> None:
    """Put the new site at `out`, refusing to delete a directory that is not a site."""
    if out.exists():
        if not out.is_dir() or (any(out.iterdir()) and not (out / SITE_MARKER).is_file()):
            raise SiteError(
                f"{out} exists and is not a site built by `azkz site` "
                f"(no {SITE_MARKER}); choose another --out or remove it"
            )
        old = out.with_name(f".{out.name}.old")
        if old.exists():
            shutil.rmtree(old)
        out.rename(old)
        built.rename(out)
        shutil.rmtree(old)
    else:
        built.rename(out)


@dataclass(frozen=True)
class SiteResult:
    out: Path
    version: str
    pages: list[str]
    bytes: int


def build_site(
    dist: Path, out: Path, version: str | None = None, wasm_dir: Path | None = None
) -> SiteResult:
    """Generate the site of one release (latest by default) into `out`, atomically."""
    try:
        release = resolve_local(Path(dist), version)
    except ReleaseError as exc:
        raise SiteError(str(exc)) from None
    try:
        package = read_package(release)
    except DescriptorError as exc:
        raise SiteError(f"{release}: {exc}") from None
    try:
        wasm_dir = wasm_dir or duckdb_wasm.ensure_vendored()
    except duckdb_wasm.VendorError as exc:
        raise SiteError(str(exc)) from None
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=f".{out.name}.tmp-") as tmp:
        build = Path(tmp) / "site"
        build.mkdir()
        (build / SITE_MARKER).write_text(f"release {package.version}\n", encoding="utf-8")
        pages = write_site(build, package, release, wasm_dir)
        replace_dir(build, out)
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    return SiteResult(out, package.version, pages, size)
