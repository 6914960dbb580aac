"""The catalogue website of one release: static HTML built from the release and its schemas.

Everything a page says about tables and fields comes from the release's own
`datapackage.json` read through `azkz.schema.package` (never a hand-written copy), and every
number comes from the release's Parquet files, the same files the in-browser SQL console
loads, so the pages and the console cannot disagree. The release files are copied into
`download/<version>/` so that links resolve on any static host (GitHub Pages).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from azkz.core.layout import ReleaseError, copy_releases, resolve_local
from azkz.derive.annual_series import SERIES_TABLE, precedence_lines
from azkz.publish.site import wasm
from azkz.publish.site.charts import TURNOVER_INDICATOR, chart_context, timeline_context
from azkz.publish.site.context import (
    Download,
    SiteError,
    TableFacts,
    cell_text,
    changelog_html,
    citation,
    coverage_years,
    json_ld,
    markdown_inline,
    open_release,
    parquet_path,
    release_downloads,
    row_label,
    source_uses,
    table_facts,
)
from azkz.schema.fields import constraint_words, enum_text, missing_value_words
from azkz.schema.package import DescriptorError, Package, Table, read_package

__all__ = ["EXAMPLE_QUERIES", "SiteError", "build_site", "markdown_inline", "row_label"]

SITE_MARKER = ".azkz-site"  # only a directory holding this file may be replaced
TEMPLATES = "templates"
STATIC_FILES = ("style.css", "console.js")

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


# ---------------------------------------------------------------- rendering


def table_page(table: Table) -> str:
    return f"table-{table.name}.html"


def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("azkz.publish.site", TEMPLATES),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals["table_page"] = table_page
    env.globals["precedence_lines"] = precedence_lines
    env.filters["cell"] = cell_text
    env.filters["enum_text"] = enum_text
    env.filters["markdown"] = markdown_inline
    return env


def field_rules(f) -> list[str]:
    """The constraints of a field other than `enum` (shown in a column of its own) and its
    own missing values, in words (`azkz.schema.fields`), as in the data dictionary."""
    missing = missing_value_words(f.missing_values, f.type, show=cell_text, labels=f.missing_labels)
    return constraint_words(f.constraints, show=cell_text, skip=("enum",), type_name=f.type) + (
        [missing] if missing else []
    )


def console_bytes(release: Path, package: Package, wasm_dir: Path) -> int:
    """What the SQL console page downloads: the engine files plus every table's Parquet."""
    engine = sum((wasm_dir / name).stat().st_size for name in wasm.FILES if name != wasm.MANIFEST)
    return engine + sum(parquet_path(release, t).stat().st_size for t in package.tables)


def _release_url(release: Path, table: Table, version: str) -> str:
    return f"download/{version}/" + parquet_path(release, table).relative_to(release).as_posix()


def console_config(release: Path, package: Package) -> Markup:
    """The SQL console's settings: the engine's files and each table's Parquet URL."""
    config = {
        "module": f"assets/duckdb/{wasm.MODULE}",
        "worker": f"assets/duckdb/{wasm.WORKER}",
        "wasm": f"assets/duckdb/{wasm.WASM}",
        "parquetModule": f"assets/duckdb/{wasm.PARQUET_MODULE}",
        "parquetWasm": f"assets/duckdb/{wasm.PARQUET_WASM}",
        "tables": [
            {"name": t.name, "url": _release_url(release, t, package.version)}
            for t in package.tables
        ],
    }
    return Markup(json.dumps(config).replace("</", "<\\/"))


def _attach_downloads(facts: list[TableFacts], downloads: list[Download], release: Path) -> None:
    """Each table's own files (its CSV and its Parquet) among the release's downloads."""
    by_path = {d.path: d for d in downloads}
    for fact in facts:
        own = (fact.table.path, parquet_path(release, fact.table).relative_to(release).as_posix())
        fact.downloads = [by_path[p] for p in own if p in by_path]


def site_context(
    package: Package, release: Path, con, facts: list[TableFacts], downloads: list[Download]
) -> dict[str, Any]:
    """What every page is rendered with: the release, its tables and its files."""
    descriptor = package.descriptor
    tabled = {d.path for f in facts for d in f.downloads}
    return {
        "package": package,
        "descriptor": descriptor,
        "version": package.version,
        "created": descriptor.get("created", ""),
        "licenses": descriptor.get("licenses", []),
        "facts": facts,
        "coverage": coverage_years(package, con),
        "download_root": f"download/{package.version}",
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
        "generated_with": f"azkz site, DuckDB-WASM {wasm.DUCKDB_WASM_VERSION}",
    }


def site_pages(
    package: Package, release: Path, con, facts: list[TableFacts], wasm_dir: Path
) -> dict[str, tuple[str, dict[str, Any]]]:
    """{page file: (template, what that page adds to the shared context)}."""
    pages = {
        "index.html": ("index.html", {}),
        "sources.html": ("sources.html", {"uses": source_uses(con, package)}),
        "indicators.html": ("indicators.html", chart_context(con)),
        "timeline.html": ("timeline.html", timeline_context(con)),
        "sql.html": (
            "sql.html",
            {
                "examples": EXAMPLE_QUERIES,
                "console_mb": round(console_bytes(release, package, wasm_dir) / 1e6),
                "console_config": console_config(release, package),
            },
        ),
    }
    for fact in facts:
        pages[table_page(fact.table)] = ("table.html", {"fact": fact, "field_rules": field_rules})
    return pages


def copy_assets(build: Path, wasm_dir: Path) -> None:
    """The stylesheet, the console's script and the vendored DuckDB-WASM engine."""
    assets = build / "assets"
    (assets / "duckdb").mkdir(parents=True)
    for name in STATIC_FILES:
        shutil.copyfile(Path(__file__).parent / TEMPLATES / "static" / name, assets / name)
    for name in wasm.FILES:
        shutil.copyfile(wasm_dir / name, assets / "duckdb" / name)


def write_site(build: Path, package: Package, release: Path, wasm_dir: Path) -> list[str]:
    """Render every page into `build`; returns the page file names."""
    downloads = release_downloads(release)
    con = open_release(release, package)
    try:
        facts = [table_facts(con, t) for t in package.tables]
        _attach_downloads(facts, downloads, release)
        context = site_context(package, release, con, facts, downloads)
        pages = site_pages(package, release, con, facts, wasm_dir)
    finally:
        con.close()
    env = environment()
    for name, (template, extra) in pages.items():
        html = env.get_template(template).render(**context, **extra, page=name)
        (build / name).write_text(html, encoding="utf-8")
    copy_assets(build, wasm_dir)
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
        wasm_dir = wasm_dir or wasm.ensure_vendored()
    except wasm.VendorError as exc:
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
