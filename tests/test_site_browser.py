"""The catalogue site in a real browser: Debian's chromium driven by Playwright.

Run with `make test-browser` (installs chromium if missing) or `pytest -m browser`.
The site of a real `azkz build` is served by http.server on 127.0.0.1; expected numbers
come from the release's DuckDB file, not from the Parquet files the console loads.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from azkz.core.cells import cell_text
from tests.helpers import ROOT, static_server
from tests.test_site import SERIES_TURNOVER_SQL, site_of

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = ROOT / "test-artifacts"
CONSOLE_READY_MS = 60_000


@pytest.fixture(scope="module")
def built(built_release, tmp_path_factory):
    return site_of(built_release, tmp_path_factory.mktemp("browser-site") / "site")


@pytest.fixture(scope="module")
def base_url(built):
    _, site = built
    with static_server(site) as (url, _stop):
        yield url


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} not found: apt-get install -y chromium (or make test-browser)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A fresh page that records console errors, page errors and failed requests."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.problems = []
    page.on("console", lambda m: m.type == "error" and page.problems.append(f"console: {m.text}"))
    page.on("pageerror", lambda e: page.problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: page.problems.append(f"failed: {r.url} {r.failure}"))
    page.on(
        "response", lambda r: r.status >= 400 and page.problems.append(f"HTTP {r.status}: {r.url}")
    )
    yield page
    context.close()


def open_console(page, base_url: str) -> None:
    page.goto(base_url + "sql.html")
    page.wait_for_selector("#console-status[data-ready]", timeout=CONSOLE_READY_MS)


def run_query(page, sql: str | None = None, example: int | None = None) -> int:
    """Run SQL typed into the textarea (or click an example); returns the result's row count."""
    page.evaluate("document.getElementById('result-summary').removeAttribute('data-rows')")
    if example is None:
        page.get_by_label("SQL query").fill(sql)
        page.get_by_role("button", name="Run").click()
    else:
        page.locator("button.example").nth(example).click()
    summary = page.wait_for_selector("#result-summary[data-rows]", timeout=CONSOLE_READY_MS)
    return int(summary.get_attribute("data-rows"))


def texts_outside_viewbox(page, selector: str) -> list[str]:
    """The `<text>` elements of an SVG whose rendered box (getBBox, in user units, after
    any rotation) reaches outside its viewBox: what a reader would see clipped."""
    return page.eval_on_selector(
        selector,
        """svg => {
        const view = svg.viewBox.baseVal;
        return [...svg.querySelectorAll('text')].filter(t => {
            const b = t.getBBox();
            const m = t.getCTM().inverse().multiply(svg.getCTM());
            const corners = [[b.x, b.y], [b.x + b.width, b.y + b.height]].map(([x, y]) =>
                new DOMPoint(x, y).matrixTransform(m.inverse()));
            return corners.some(c => c.x < view.x || c.x > view.x + view.width
                || c.y < view.y || c.y > view.y + view.height);
        }).map(t => t.textContent);
    }""",
    )


def test_every_page_loads_without_console_errors(built, base_url, page):
    _, site = built
    names = sorted(p.name for p in site.glob("*.html"))
    assert len(names) >= 10
    for name in names:
        page.goto(base_url + name, wait_until="load")
        assert page.locator("h1").count() == 1, name
        if name == "sql.html":
            page.wait_for_selector("#console-status[data-ready]", timeout=CONSOLE_READY_MS)
    assert page.problems == []


def test_every_download_link_resolves_with_its_size(built, base_url, page):
    release, _ = built
    page.goto(base_url + "index.html")
    links = page.eval_on_selector_all(
        "a[download]",
        "els => els.map(a => [a.getAttribute('href'), "
        "a.closest('tr').querySelector('td.num').title])",
    )
    results = page.evaluate(
        """async (hrefs) => Promise.all(hrefs.map(async (h) => {
        const r = await fetch(h);
        return [h, r.status, (await r.arrayBuffer()).byteLength];
    }))""",
        [href for href, _ in links],
    )
    expected = {
        f"download/{release.name}/{p.relative_to(release).as_posix()}": p.stat().st_size
        for p in release.rglob("*")
        if p.is_file()
    }
    assert {href for href, _ in links} == set(expected)
    shown = dict(links)
    for href, status, size in results:
        assert status == 200, href
        assert size == expected[href] == int(shown[href].split()[0]), href
    assert page.problems == []


def test_chart_svg_renders_one_point_per_turnover_row_of_the_series(base_url, page, release_db):
    page.goto(base_url + "indicators.html")
    chart = page.locator("svg#turnover-chart")
    box = chart.bounding_box()
    assert box["width"] > 300 and box["height"] > 150
    expected = release_db.execute(SERIES_TURNOVER_SQL).fetchall()[0][0]
    points = chart.locator(".point")
    assert points.count() == expected > 0
    assert all(points.nth(i).bounding_box()["width"] > 0 for i in range(points.count()))
    lines = chart.locator("path.line")
    assert lines.count() > 0
    assert all(lines.nth(i).bounding_box()["width"] > 0 for i in range(lines.count()))
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "site-indicators.png", full_page=True)
    assert page.problems == []


def test_sources_page_opens_a_source_row_list(base_url, page, release_db):
    page.goto(base_url + "sources.html")
    source_id, n = release_db.execute(
        "SELECT source_id, count(*) FROM indicators GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1"
    ).fetchall()[0]
    cell = page.locator(f'tr[id="{source_id}"] td.citing')
    first_row = cell.locator('ul[data-table="indicators"] li').first
    assert not first_row.is_visible()
    cell.locator("summary").click()
    assert first_row.is_visible()
    assert cell.locator('ul[data-table="indicators"] li').count() == n
    first_row.locator("a").click()
    page.wait_for_url("**/table-indicators.html")
    assert page.locator("h1").inner_text().endswith("indicators")
    assert page.problems == []


def test_console_example_and_typed_queries_match_the_release_database(base_url, page, release_db):
    open_console(page, base_url)
    example_sql = page.locator("button.example").first.get_attribute("data-sql")
    expected = len(release_db.execute(example_sql).fetchall())
    assert run_query(page, example=0) == expected > 0
    assert page.get_by_label("SQL query").input_value() == example_sql
    assert page.locator("#results tbody tr").count() == expected
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "site-sql-console.png", full_page=True)

    n_indicators = release_db.execute("SELECT count(*) FROM indicators").fetchall()[0][0]
    assert run_query(page, "SELECT count(*) AS n FROM indicators") == 1
    assert page.locator("#results tbody td").first.inner_text() == str(n_indicators)
    typed = "SELECT typeof(period_start) AS t, typeof(value) AS v FROM indicators LIMIT 1"
    assert run_query(page, typed) == 1
    assert page.locator("#results tbody td").all_inner_texts() == ["DATE", "DOUBLE"]
    assert page.problems == []


def test_console_reports_sql_errors_in_the_page(base_url, page):
    open_console(page, base_url)
    page.get_by_label("SQL query").fill("SELECT * FROM no_such_table")
    page.get_by_role("button", name="Run").click()
    page.wait_for_function(
        "document.getElementById('result-summary').textContent.startsWith('Error:')"
    )
    assert "no_such_table" in page.locator("#result-summary").inner_text()


def test_home_page_screenshot(base_url, page):
    page.goto(base_url + "index.html")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator('script[type="application/ld+json"]').count() == 1
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "site-home.png", full_page=True)
    assert (ARTIFACTS / "site-home.png").stat().st_size > 10_000


def test_series_points_tell_their_source_and_candidates(base_url, page, release_db):
    page.goto(base_url + "indicators.html")
    reporter, year, source_id, candidates = release_db.execute(
        "SELECT coalesce(reporter, 'unknown'), year, source_id, candidates FROM annual_series "
        "WHERE indicator = 'trade_turnover' ORDER BY candidates DESC, year LIMIT 1"
    ).fetchall()[0]
    point = page.locator(
        f'svg#turnover-chart .point[data-reporter="{reporter}"][data-year="{year}"]'
    )
    tooltip = point.locator("title").text_content()
    assert f"source {source_id}" in tooltip
    assert ("the only candidate" if candidates == 1 else f"from {candidates} candidates") in tooltip
    second = page.locator("svg#second-chart")
    assert second.bounding_box()["width"] > 300
    assert second.locator(".point").count() > 0
    row = page.locator(f'table[data-indicator="trade_turnover"] tr[data-year="{year}"]')
    assert source_id in row.inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator("svg#second-chart").screenshot(path=ARTIFACTS / "site-second-chart.png")
    assert page.problems == []


def test_timeline_draws_every_agreement_and_visit(base_url, page, release_db):
    page.goto(base_url + "timeline.html")
    chart = page.locator("svg#timeline-chart")
    assert chart.bounding_box()["width"] > 300
    n = release_db.execute(
        "SELECT (SELECT count(*) FROM agreements) + (SELECT count(*) FROM visits)"
    ).fetchall()[0][0]
    events = chart.locator(".event")
    assert events.count() == n > 0
    assert all(events.nth(i).bounding_box()["width"] > 0 for i in range(events.count()))
    assert page.locator("table.timeline-list tbody tr").count() == n
    assert chart.locator("text", has_text="agreements").count() == 1
    assert texts_outside_viewbox(page, "svg#timeline-chart") == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "site-timeline.png", full_page=True)
    assert page.problems == []


TRADE_VALUES_SQL = {
    "bilateral-chart": """
        SELECT count(exports) + count(imports) + count(turnover) + count(stated_turnover)
        FROM bilateral_trade""",
    "mirror-chart": "SELECT count(exports_fob) + count(imports_cif) FROM trade_mirror",
}
# Values whose series pick carries a qualifier (an IMF estimate, `about`, ...), asked of
# the release database independently of the page: the chart must draw exactly these hollow.
FLAGGED_SQL = {
    "bilateral-chart": """
        WITH q AS (SELECT indicator, reporter, from_country, to_country, year, qualifier
                   FROM annual_series WHERE qualifier IS NOT NULL),
        v AS (
            SELECT b.exports IS NOT NULL AND e.qualifier IS NOT NULL AS ex,
                   b.imports IS NOT NULL AND i.qualifier IS NOT NULL AS im,
                   b.turnover IS NOT NULL AND (e.qualifier IS NOT NULL OR i.qualifier IS NOT NULL)
                       AS tu,
                   b.stated_turnover IS NOT NULL AND t.qualifier IS NOT NULL AS st
            FROM bilateral_trade b
            LEFT JOIN q e ON e.indicator = 'exports' AND e.reporter = b.reporter
                AND e.from_country = b.reporter AND e.to_country = b.partner AND e.year = b.year
            LEFT JOIN q i ON i.indicator = 'imports' AND i.reporter = b.reporter
                AND i.from_country = b.partner AND i.to_country = b.reporter AND i.year = b.year
            LEFT JOIN q t ON t.indicator = 'trade_turnover' AND t.reporter = b.reporter
                AND t.year = b.year)
        SELECT count(*) FILTER (ex) + count(*) FILTER (im) + count(*) FILTER (tu)
             + count(*) FILTER (st) FROM v""",
    "mirror-chart": """
        WITH q AS (SELECT indicator, reporter, from_country, to_country, year
                   FROM annual_series WHERE qualifier IS NOT NULL)
        SELECT count(*) FILTER (m.exports_fob IS NOT NULL AND e.year IS NOT NULL)
             + count(*) FILTER (m.imports_cif IS NOT NULL AND i.year IS NOT NULL)
        FROM trade_mirror m
        LEFT JOIN q e ON e.indicator = 'exports' AND e.reporter = m.exporter
            AND e.from_country = m.exporter AND e.to_country = m.importer AND e.year = m.year
        LEFT JOIN q i ON i.indicator = 'imports' AND i.reporter = m.importer
            AND i.from_country = m.exporter AND i.to_country = m.importer AND i.year = m.year""",
}


@pytest.mark.parametrize("chart_id", ["bilateral-chart", "mirror-chart"])
def test_trade_charts_draw_every_value_of_the_release_with_estimates_hollow(
    base_url, page, release_db, chart_id
):
    page.goto(base_url + "trade.html")
    chart = page.locator(f"svg#{chart_id}")
    box = chart.bounding_box()
    assert box["width"] > 300 and box["height"] > 300
    points = chart.locator(".point")
    expected = release_db.execute(TRADE_VALUES_SQL[chart_id]).fetchall()[0][0]
    assert points.count() == expected > 0
    assert all(points.nth(i).bounding_box()["width"] > 0 for i in range(points.count()))
    flagged = release_db.execute(FLAGGED_SQL[chart_id]).fetchall()[0][0]
    hollow = chart.locator(".point.flagged")
    assert hollow.count() == flagged > 0
    assert all(
        hollow.nth(i).evaluate("e => getComputedStyle(e).fill") == "rgb(255, 255, 255)"
        for i in range(hollow.count())
    )
    assert chart.locator("path.line").count() > 0
    assert texts_outside_viewbox(page, f"svg#{chart_id}") == []
    ARTIFACTS.mkdir(exist_ok=True)
    chart.locator("xpath=..").screenshot(path=ARTIFACTS / f"site-trade-{chart_id[:-6]}.png")
    assert page.problems == []


def test_trade_points_name_the_source_of_their_release_row(base_url, page, release_db):
    page.goto(base_url + "trade.html")
    reporter, year, value, source_id = release_db.execute(
        "SELECT reporter, year, exports, exports_source_id FROM bilateral_trade "
        "WHERE exports IS NOT NULL ORDER BY year DESC, reporter LIMIT 1"
    ).fetchall()[0]
    point = page.locator(
        f'svg#bilateral-chart .point[data-panel="exports"][data-reporter="{reporter}"]'
        f'[data-year="{year}"]'
    )
    assert float(point.get_attribute("data-value")) == value
    assert f"source {source_id}" in point.locator("title").text_content()
    gap_year, exporter, importer, gap = release_db.execute(
        "SELECT year, exporter, importer, gap FROM trade_mirror WHERE gap IS NOT NULL "
        "ORDER BY year DESC, exporter LIMIT 1"
    ).fetchall()[0]
    segment = page.locator(f'svg#mirror-chart line.gap[data-panel="{exporter}→{importer}"]')
    tooltip = (
        segment.and_(page.locator(f'[data-year="{gap_year}"]')).locator("title").text_content()
    )
    assert f"gap CIF − FOB {cell_text(gap)}" in tooltip
    row = page.locator(
        f'table[data-table="bilateral_trade"][data-reporter="{reporter}"] tr[data-year="{year}"]'
    )
    assert source_id in row.inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "site-trade.png", full_page=True)
    assert page.problems == []
