"""The catalogue site, checked without a browser: pages, links, downloads and metadata.

The release is a real `azkz build` of a copy of the package; every expected number is
asked of the release's DuckDB file, independently of the Parquet files the site reads.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import itertools
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from azkz.cli import main
from azkz.publish.site import wasm
from azkz.publish.site.charts import SeriesPoint, series_chart_svg
from azkz.publish.site.pages import (
    EXAMPLE_QUERIES,
    SiteError,
    build_site,
    markdown_inline,
    row_label,
)
from azkz.release.build import build_release
from azkz.schema.package import read_package
from tests.helpers import copy_package, release_dir, skip_without_site_tool

SERIES_TURNOVER_SQL = """
    SELECT count(*) FROM annual_series
    WHERE indicator = 'trade_turnover' AND unit = 'USD million'
"""


def wasm_cache() -> Path:
    """The vendored DuckDB-WASM: `make setup` fetches it with npm; tests stay offline."""
    if not wasm.is_vendored():
        skip_without_site_tool(
            "DuckDB-WASM is not vendored here: run `make wasm` (needs npm) first"
        )
    return wasm.vendored_dir()


def site_of(built_release: Path, out: Path) -> tuple[Path, Path]:
    """The site of the session's shared release (`built_release`), written to `out`."""
    site = build_site(built_release / "dist", out, wasm_dir=wasm_cache()).out
    return release_dir(built_release), site


@pytest.fixture(scope="module")
def built(built_release, tmp_path_factory) -> tuple[Path, Path]:
    return site_of(built_release, tmp_path_factory.mktemp("site") / "site")


class Links(HTMLParser):
    """hrefs/srcs, element ids and `<tr>` download rows of one page."""

    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        for key in ("href", "src"):
            if attrs.get(key):
                self.links.append(attrs[key])


def parse(path: Path) -> Links:
    parser = Links()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def pages(site: Path) -> list[Path]:
    return sorted(site.glob("*.html"))


def test_one_page_per_table_plus_home_sources_chart_and_console(built):
    release, site = built
    tables = [t.name for t in read_package(release).tables]
    names = {p.name for p in pages(site)}
    assert names == {
        "index.html",
        "sources.html",
        "indicators.html",
        "trade.html",
        "timeline.html",
        "sql.html",
    } | {f"table-{t}.html" for t in tables}


def test_every_local_link_and_fragment_resolves(built):
    _, site = built
    parsed = {page: parse(page) for page in pages(site)}  # each page parsed once
    checked = 0
    for page, links in parsed.items():
        for link in links.links:
            if link.startswith(("http://", "https://", "data:", "mailto:")):
                continue
            target, _, fragment = link.partition("#")
            target_path = site / target if target else page
            assert target_path.is_file(), f"{page.name}: broken link {link}"
            if fragment:
                ids = (parsed.get(target_path) or parse(target_path)).ids
                assert fragment in ids, f"{page.name}: no #{fragment}"
            checked += 1
    assert checked > 50


def test_the_download_directory_is_a_releases_url(built, serve, tmp_path) -> None:
    """`download/` holds every release and index.json: `azkz fetch` works against it."""
    from azkz.access.remote import fetch_release

    release, site = built
    url, _stop = serve(site / "download")
    result = fetch_release("latest", tmp_path / "fetched", url, cache_dir=tmp_path / "cache")
    assert result.version == release.name
    assert (result.path / "SHA256SUMS").read_bytes() == (release / "SHA256SUMS").read_bytes()


def test_download_rows_give_the_true_size_and_sha256_of_every_release_file(built):
    release, site = built
    html = (site / "index.html").read_text(encoding="utf-8")
    rows = re.findall(
        r'href="(download/[^"]+)" download>.*?title="(\d+) bytes".*?'
        r'<code class="hash">([0-9a-f]{64})</code>',
        html,
        re.S,
    )
    linked = {href for href, _, _ in rows}
    version = release.name
    expected = {
        f"download/{version}/{p.relative_to(release).as_posix()}"
        for p in release.rglob("*")
        if p.is_file()
    }
    assert linked == expected
    for href, size, digest in rows:
        data = (site / href).read_bytes()
        assert len(data) == int(size), href
        assert hashlib.sha256(data).hexdigest() == digest, href
        assert data == (release / href.split("/", 2)[2]).read_bytes()


def test_home_page_states_release_metadata_and_embeds_the_json_ld(built):
    release, site = built
    descriptor = json.loads((release / "datapackage.json").read_text(encoding="utf-8"))
    html = (site / "index.html").read_text(encoding="utf-8")
    assert '<html lang="en">' in html
    assert f"<dd>{descriptor['version']}</dd>" in html
    assert f'datetime="{descriptor["created"]}">{descriptor["created"][:10]}<' in html
    assert descriptor["licenses"][0]["title"] in html
    embedded = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert json.loads(embedded.group(1)) == json.loads(
        (release / "dataset.jsonld").read_text(encoding="utf-8")
    )
    cff_title = re.search(r"^title: (.*)$", (release / "CITATION.cff").read_text(), re.M)
    assert cff_title.group(1).strip("'\"") in html.split('id="cite"')[1]


def test_coverage_years_and_row_counts_come_from_the_data(built, release_db):
    release, site = built
    html = (site / "index.html").read_text(encoding="utf-8")
    for table in read_package(release).tables:
        n = release_db.execute(f'SELECT count(*) FROM "{table.name}"').fetchall()[0][0]
        assert f'data-table="{table.name}" data-rows="{n}"' in html
    first, last = re.search(
        r'"temporalCoverage": "(\d{4})-[^/]*/(\d{4})', (release / "dataset.jsonld").read_text()
    ).groups()
    assert f"<dt>Coverage</dt><dd>{first}–{last}</dd>" in html


def test_table_pages_show_every_field_enum_and_key_from_the_schemas(built, release_db):
    release, site = built
    for table in read_package(release).tables:
        html = (site / f"table-{table.name}.html").read_text(encoding="utf-8")
        for f in table.fields:
            assert f'<th scope="row"><code>{f.name}</code></th>\n    <td>{f.type}</td>' in html
            assert f"<td>{markdown_inline(f.description)}</td>" in html
            for value in f.enum or []:
                assert f"<li><code>{value}</code></li>" in html
        for key in table.primary_key:
            assert f"<code>{key}</code>" in html.split("Primary key")[1].split("</dd>")[0]
        n = release_db.execute(f'SELECT count(*) FROM "{table.name}"').fetchall()[0][0]
        assert f'data-rows="{n}"' in html
        preview_rows = html.split('class="preview"')[1].split("</tbody>")[0].count("<tr>") - 1
        assert preview_rows == min(n, 10)


def source_cell(html: str, source_id: str) -> str:
    """The "Rows that use it" cell of one source on the sources page."""
    row = html.split(f'<tr id="{source_id}">')[1].split("</tr>")[0]
    return row.split('<td class="citing"')[1]


def listed_rows(cell: str, table: str) -> list[str]:
    """Row labels listed for one table in a source's cell; [] when the table is absent."""
    if f'data-table="{table}"' not in cell:
        return []
    block = cell.split(f'data-table="{table}"')[1].split("</ul>")[0]
    return re.findall(rf'<a href="table-{table}.html"><code>([^<]*)</code></a>', block)


@pytest.mark.parametrize(
    "table,key",
    [("agreements", "agreement_id"), ("visits", "visit_id"), ("projects", "project_id")],
)
def test_sources_page_lists_rows_by_their_primary_key(built, release_db, table, key):
    _, site = built
    html = (site / "sources.html").read_text(encoding="utf-8")
    by_source = release_db.execute(
        f"SELECT source_id, list({key} ORDER BY {key}) FROM {table} GROUP BY 1"
    ).fetchall()
    assert by_source
    for source_id, ids in by_source:
        assert listed_rows(source_cell(html, source_id), table) == ids, source_id
    quiet = release_db.execute(
        f"SELECT source_id FROM sources WHERE source_id NOT IN (SELECT source_id FROM {table})"
    ).fetchall()
    for (source_id,) in quiet:
        assert listed_rows(source_cell(html, source_id), table) == [], source_id


def test_sources_page_lists_indicator_rows_with_compact_labels(built, release_db):
    _, site = built
    cell = source_cell((site / "sources.html").read_text(encoding="utf-8"), "seed-2025-10-20")
    indicator_rows = release_db.execute(
        "SELECT indicator, from_country, to_country, period_start, period_end FROM indicators "
        "WHERE source_id = 'seed-2025-10-20' ORDER BY ALL"
    ).fetchall()
    assert indicator_rows
    expected = [f"{i} {a}–{b} {s}..{e}" for i, a, b, s, e in indicator_rows]
    assert listed_rows(cell, "indicators") == expected


def test_sources_page_row_totals_match_the_release(built, release_db):
    _, site = built
    html = (site / "sources.html").read_text(encoding="utf-8")
    totals = dict(
        release_db.execute(
            "SELECT s.source_id, count(u.source_id) FROM sources s LEFT JOIN ("
            "SELECT source_id FROM agreements UNION ALL SELECT source_id FROM visits "
            "UNION ALL SELECT source_id FROM projects UNION ALL SELECT source_id FROM indicators"
            ") u USING (source_id) GROUP BY 1"
        ).fetchall()
    )
    assert html.count("<tr id=") == len(totals)
    for source_id, n in totals.items():
        cell = source_cell(html, source_id)
        assert cell.startswith(f' data-rows="{n}">'), source_id
        assert cell.count("<li>") == n, source_id


def test_row_labels_join_paired_key_fields_into_ranges():
    names = ["indicator", "from_country", "to_country", "period_start", "period_end"]
    values = ["trade_turnover", "AZE", "KAZ", dt.date(2025, 1, 1), dt.date(2025, 8, 31)]
    assert row_label(names, values) == "trade_turnover AZE–KAZ 2025-01-01..2025-08-31"
    assert row_label(["visit_id"], ["2005-05-nazarbayev-baku"]) == "2005-05-nazarbayev-baku"
    assert row_label(["to_country", "from_country"], ["KAZ", "AZE"]) == "KAZ AZE"


def test_unit_column_renders_markdown_like_the_descriptions(built):
    release, site = built
    for name in ("projects", "indicators"):
        table = read_package(release).table(name)
        unit_fields = [f for f in table.fields if f.unit]
        assert unit_fields, name
        html = (site / f"table-{name}.html").read_text(encoding="utf-8")
        dictionary = html.split('class="dictionary"')[1].split("</table>")[0]
        assert "`" not in dictionary, name
        for f in unit_fields:
            assert f"<td>{markdown_inline(f.unit)}</td>" in dictionary
    html = (site / "table-projects.html").read_text(encoding="utf-8")
    assert "<td>per row, in <code>capacity_unit</code></td>" in html


def test_chart_has_one_point_per_turnover_row_of_the_series(built, release_db):
    _, site = built
    html = (site / "indicators.html").read_text(encoding="utf-8")
    chart = html.split('id="turnover-chart"')[1].split("</svg>")[0]
    expected = release_db.execute(SERIES_TURNOVER_SQL).fetchall()[0][0]
    assert expected > 0
    assert chart.count('class="point"') == expected
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in html and 'role="img"' in html


def test_each_point_names_its_source_and_candidates_in_chart_and_table(built, release_db):
    _, site = built
    html = (site / "indicators.html").read_text(encoding="utf-8")
    rows = release_db.execute(
        "SELECT coalesce(reporter, 'unknown'), year, source_id, candidates FROM annual_series "
        "WHERE indicator = 'trade_turnover' AND unit = 'USD million'"
    ).fetchall()
    table = html.split('data-indicator="trade_turnover"')[1].split("</table>")[0]
    for reporter, year, source_id, candidates in rows:
        assert (
            f'data-reporter="{reporter}" data-year="{year}" ' in html
            and f'data-source="{source_id}" data-candidates="{candidates}"' in html
        )
        assert f'<a href="sources.html#{source_id}">{source_id}</a>' in table


def point(reporter, year, value, source_id="s", candidates=1, low=None, high=None, **kw):
    return SeriesPoint(
        reporter,
        year,
        value,
        kw.get("unit", "USD million"),
        kw.get("qualifier", ""),
        source_id,
        candidates,
        value if low is None else low,
        value if high is None else high,
        "only" if candidates == 1 else "latest",
    )


def chart(points) -> str:
    return str(series_chart_svg(points, "c", "title", "USD million"))


def test_the_two_countries_disagreement_is_drawn_for_each_year_both_report():
    svg = chart(
        [
            point("KAZ", 2022, 463.3, "trend", candidates=2, low=461.9),
            point("AZE", 2022, 400, "azstat", qualifier="about"),
            point("KAZ", 2023, 529.4),
        ]
    )
    assert svg.count('class="gap"') == 1
    assert "2022: AZE 400 vs KAZ 463.3 USD million, a difference of 63.3 (16%)" in svg
    assert svg.count('class="spread"') == 1
    assert "source trend; chosen from 2 candidates (latest; range 461.9–463.3)" in svg
    assert "about 400 USD million; source azstat; the only candidate" in svg
    assert line_segments(svg, "KAZ") == [2] and line_segments(svg, "AZE") == []


def line_segments(svg: str, reporter: str) -> list[int]:
    """Number of points of each separate segment of one reporter's line."""
    series = svg.split(f'<g class="series" data-reporter="{reporter}"')[1].split("</g>")[0]
    line = re.search(r'<path class="line"[^>]* d="([^"]*)"', series)
    if line is None:
        return []
    return [len(segment.split("L")) for segment in line.group(1).split("M")[1:]]


def test_a_year_without_observation_breaks_the_line():
    years = [2019, 2020, 2021, 2023, 2025, 2026]
    svg = chart(
        [point("unknown", y, 100 + i) for i, y in enumerate(years)] + [point("KAZ", 2022, 90)]
    )
    assert line_segments(svg, "unknown") == [3, 2]  # 2023 stands alone: a point, no line
    assert line_segments(svg, "KAZ") == []
    assert svg.count('class="point"') == 7


def test_the_release_chart_breaks_each_line_at_its_missing_years(built, release_db):
    _, site = built
    html = (site / "indicators.html").read_text(encoding="utf-8")
    svg = html.split('id="turnover-chart"')[1].split("</svg>")[0]
    years_by_reporter = release_db.execute(
        f"SELECT coalesce(reporter, 'unknown'), list(year ORDER BY year) "
        f"FROM ({SERIES_TURNOVER_SQL.replace('count(*)', '*')}) GROUP BY 1"
    ).fetchall()
    assert years_by_reporter
    for reporter, years in years_by_reporter:
        gaps = [i for i in range(1, len(years)) if years[i] - years[i - 1] > 1]
        bounds = [0, *gaps, len(years)]
        run_sizes = [b - a for a, b in itertools.pairwise(bounds)]
        assert line_segments(svg, reporter) == [n for n in run_sizes if n > 1], reporter


def test_the_second_chart_is_the_longest_other_series(built, release_db):
    _, site = built
    html = (site / "indicators.html").read_text(encoding="utf-8")
    indicator, origin, destination, unit, years = release_db.execute(
        "SELECT indicator, from_country, to_country, unit, count(DISTINCT year) "
        "FROM annual_series WHERE indicator <> 'trade_turnover' "
        "GROUP BY ALL ORDER BY 5 DESC, 1, 2, 3, 4 LIMIT 1"
    ).fetchall()[0]
    second = html.split('id="second-chart"')[1].split("</svg>")[0]
    expected = release_db.execute(
        "SELECT count(*) FROM annual_series "
        "WHERE indicator = ? AND from_country = ? AND to_country = ? AND unit = ?",
        [indicator, origin, destination, unit],
    ).fetchall()[0][0]
    assert second.count('class="point"') == expected
    assert f'data-indicator="{indicator}"' in html and f"over {years} years, in {unit}" in html


def test_the_timeline_marks_every_agreement_and_visit_in_its_year(built, release_db):
    _, site = built
    html = (site / "timeline.html").read_text(encoding="utf-8")
    svg = html.split('id="timeline-chart"')[1].split("</svg>")[0]
    for kind, table, column in (
        ("agreement", "agreements", "signed_date"),
        ("visit", "visits", "date_start"),
    ):
        per_year = release_db.execute(
            f"SELECT year({column}), count(*) FROM {table} GROUP BY 1"
        ).fetchall()
        assert per_year
        assert svg.count(f'class="event {kind}" fill=') == sum(n for _, n in per_year)
        for year, n in per_year:
            assert len(re.findall(rf'class="event {kind}"[^>]*data-year="{year}"', svg)) == n
    assert "cdn" not in html.lower() and "<script" not in html


def test_exclusions_show_on_the_site_with_their_reason(tmp_path):
    package = copy_package(tmp_path / "pkg")
    path = package / "data" / "indicators.csv"
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    full_year = next(
        r
        for r in rows
        if r["period_start"].endswith("-01-01") and r["period_end"].endswith("-12-31")
    )
    full_year["exclude_from_series"] = "matches no statistics of either side"
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    build_release(package, tmp_path / "dist")
    site = build_site(tmp_path / "dist", tmp_path / "site", wasm_dir=wasm_cache()).out
    excluded = (site / "indicators.html").read_text(encoding="utf-8").split('id="excluded"')[1]
    assert "matches no statistics of either side" in excluded
    assert full_year["source_id"] in excluded.split("</table>")[0]


@pytest.mark.parametrize("label,sql", EXAMPLE_QUERIES, ids=[q[0] for q in EXAMPLE_QUERIES])
def test_console_example_queries_run_on_the_release(release_db, label, sql):
    assert release_db.execute(sql).fetchall(), f"example {label!r} returns no rows"


def test_console_ships_only_the_eh_bundle_and_parquet_reader(built):
    _, site = built
    shipped = {p.name for p in (site / "assets" / "duckdb").iterdir()}
    assert shipped == set(wasm.FILES)
    config = json.loads(
        re.search(
            r'id="console-config">(.*?)</script>', (site / "sql.html").read_text(), re.S
        ).group(1)
    )
    for table in config["tables"]:
        assert (site / table["url"]).is_file()
    assert '<label for="sql">' in (site / "sql.html").read_text()


def test_missing_release_is_a_usage_error(built):
    release, _ = built
    result = CliRunner().invoke(
        main,
        [
            "site",
            "--dist",
            str(release.parent),
            "--release",
            "9.9.9",
            "--out",
            str(release.parent / "x"),
        ],
    )
    assert result.exit_code == 2
    assert "no release '9.9.9' in" in result.output


def test_missing_index_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(main, ["site", "--dist", str(tmp_path)])
    assert result.exit_code == 2
    assert f"{tmp_path / 'index.json'} not found" in result.output


def test_refuses_to_replace_a_directory_that_is_not_a_site(built, tmp_path):
    release, _ = built
    out = tmp_path / "precious"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    with pytest.raises(SiteError, match="is not a site built by"):
        build_site(release.parent, out, wasm_dir=wasm_cache())
    assert (out / "notes.txt").read_text() == "keep me"


def copy_release(release: Path, base: Path) -> Path:
    dist = base / "dist"
    shutil.copytree(release, dist / release.name)
    (dist / "index.json").write_text(json.dumps({"latest": release.name, "versions": []}))
    return dist


def rewrite_checksum(release: Path, name: str) -> None:
    """Record the new sha256 of a file changed on purpose, as a rebuilt release would."""
    sums = release / "SHA256SUMS"
    digest = hashlib.sha256((release / name).read_bytes()).hexdigest()
    lines = [line for line in sums.read_text().splitlines() if not line.endswith(f"  {name}")]
    sums.write_text("".join(f"{line}\n" for line in [*lines, f"{digest}  {name}"]))


def test_corrupt_release_file_is_refused(built, tmp_path):
    release, _ = built
    dist = copy_release(release, tmp_path)
    with (dist / release.name / "data" / "visits.csv").open("a") as fh:
        fh.write("\n")
    with pytest.raises(SiteError, match=r"visits.csv: sha256 .* does not match SHA256SUMS"):
        build_site(dist, dist / "site", wasm_dir=wasm_cache())


def test_optional_release_files_absent_give_notes_not_placeholders(built, tmp_path):
    release, _ = built
    dist = copy_release(release, tmp_path)
    for name in ("CITATION.cff", "dataset.jsonld", "CHANGELOG.md"):
        (dist / release.name / name).unlink(missing_ok=True)
    site = build_site(dist, dist / "site", wasm_dir=wasm_cache()).out
    html = (site / "index.html").read_text(encoding="utf-8")
    assert "This release does not include a CITATION.cff file." in html
    assert "This release does not include a CHANGELOG.md file." in html
    assert "application/ld+json" not in html


def test_changelog_is_rendered_below_the_page_headings_without_raw_html(built, tmp_path):
    release, _ = built
    dist = copy_release(release, tmp_path)
    (dist / release.name / "CHANGELOG.md").write_text(
        "# Changelog\n\n## 0.1.0\n\n- first release <script>alert(1)</script>\n"
    )
    rewrite_checksum(dist / release.name, "CHANGELOG.md")
    site = build_site(dist, dist / "site", wasm_dir=wasm_cache()).out
    changelog = (site / "index.html").read_text().split('class="changelog"')[1]
    assert "<h3>0.1.0</h3>" in changelog and "Changelog</h" not in changelog
    assert "<script>alert" not in changelog and "&lt;script&gt;" in changelog


def test_rebuilding_replaces_the_previous_site(built, tmp_path):
    release, _ = built
    dist = copy_release(release, tmp_path)
    first = build_site(dist, dist / "site", wasm_dir=wasm_cache())
    (first.out / "stale.html").write_text("old")
    second = build_site(dist, dist / "site", wasm_dir=wasm_cache())
    assert not (second.out / "stale.html").exists()
    assert (second.out / "index.html").is_file()


def test_vendoring_without_npm_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("AZKZ_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(wasm.shutil, "which", lambda _name: None)
    with pytest.raises(wasm.VendorError, match="`npm` was not found"):
        wasm.ensure_vendored()
