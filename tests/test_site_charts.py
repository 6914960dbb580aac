"""The site's charts without a browser: every label inside its SVG, and the trade page.

The trade charts are checked twice: on a small fixture database whose estimates and gaps
are known, and on a real `azkz build`, where every expected value is asked of the
release's DuckDB file (the site reads the Parquet files). tests/test_site_browser.py
measures the same charts in chromium.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from azkz.publish.site.trade_charts import trade_context
from tests.helpers import ROOT
from tests.test_site import site_of


@pytest.fixture(scope="module")
def built(built_release, tmp_path_factory) -> tuple[Path, Path]:
    return site_of(built_release, tmp_path_factory.mktemp("chart-site") / "site")


CHART_CSS = ROOT / "src" / "azkz" / "publish" / "site" / "templates" / "static" / "style.css"
GLYPH_EM = 0.65  # per character, above DejaVu Sans (chromium measures "agreements" at 0.60 em)


def chart_font_px() -> float:
    """The charts' font size, as the site's stylesheet sets it on `svg.chart`."""
    rule = re.search(r"svg\.chart \{[^}]*font-size: (\d+(?:\.\d+)?)px", CHART_CSS.read_text())
    assert rule, f"{CHART_CSS}: no font-size on svg.chart"
    return float(rule.group(1))


def text_boxes(svg: str) -> list[tuple[str, float, float, float, float]]:
    """(text, left, top, right, bottom) of each unrotated `<text>`, from its attributes.

    The width is a generous estimate (GLYPH_EM per character); the browser test measures
    the real boxes with getBBox.
    """
    size = chart_font_px()
    boxes = []
    for attributes, text in re.findall(r"<text ([^>]*)>([^<]*)</text>", svg):
        if "transform=" in attributes:
            continue
        x, y = (float(re.search(rf'\b{a}="([-\d.]+)"', attributes).group(1)) for a in "xy")
        anchor = re.search(r'text-anchor="(\w+)"', attributes)
        width = len(text) * GLYPH_EM * size
        shift = {"start": 0, "middle": width / 2, "end": width}[
            anchor.group(1) if anchor else "start"
        ]
        boxes.append((text, x - shift, y - size, x - shift + width, y + size * 0.25))
    return boxes


def assert_texts_inside_viewbox(svg: str) -> None:
    _, _, width, height = (float(v) for v in re.search(r'viewBox="([^"]+)"', svg).group(1).split())
    boxes = text_boxes(svg)
    assert boxes
    for text, left, top, right, bottom in boxes:
        assert 0 <= left < right <= width and 0 <= top < bottom <= height, (text, left, right)


def test_the_timeline_labels_lie_inside_the_chart(built):
    _, site = built
    html = (site / "timeline.html").read_text(encoding="utf-8")
    svg = html.split('<svg xmlns="http://www.w3.org/2000/svg"')[1].split("</svg>")[0]
    assert ">agreements</text>" in svg and ">visits</text>" in svg
    assert_texts_inside_viewbox(svg)


def trade_fixture():
    """A small release-like database: the two trade tables and the series picks they cite.

    KAZ's 1993 exports are an IMF estimate, AZE's 1992 imports are `about`; KAZ's 1993
    imports are missing, so that year has no turnover and its mirror has no gap. KAZ's
    stated turnover of 2024 and 2025 (the latter `about`) stands beside its sums.
    """
    import duckdb

    con = duckdb.connect()
    con.execute(
        "CREATE TABLE annual_series AS SELECT * FROM (VALUES "
        "('exports', 'KAZ', 'KAZ', 'AZE', 1993, 'USD million', 'estimated'), "
        "('imports', 'AZE', 'KAZ', 'AZE', 1992, 'USD million', 'about'), "
        "('imports', 'AZE', 'KAZ', 'AZE', 1993, 'USD million', NULL), "
        "('trade_turnover', 'KAZ', 'AZE', 'KAZ', 2025, 'USD million', 'about')) "
        "t(indicator, reporter, from_country, to_country, year, unit, qualifier)"
    )
    con.execute(
        "CREATE TABLE bilateral_trade AS SELECT * FROM (VALUES "
        "('AZE', 'KAZ', 1992, 10.5, 'dots-aze', 20.0, 'dots-aze', 30.5, 'dots-aze', NULL, "
        "NULL, 1.0, 2.0, 1.5, NULL), "
        "('AZE', 'KAZ', 1993, 11.0, 'dots-aze', 21.0, 'dots-aze', 32.0, 'dots-aze', NULL, "
        "NULL, 1.0, 2.0, 1.5, NULL), "
        "('KAZ', 'AZE', 1993, 15.0, 'dots-kaz', NULL, NULL, NULL, NULL, NULL, NULL, 0.5, "
        "NULL, NULL, 'imports: no cell'), "
        "('KAZ', 'AZE', 2024, 300.0, 'stat-kz', 200.0, 'stat-kz', 500.0, 'stat-kz', 505.0, "
        "'news-kz', NULL, NULL, NULL, NULL), "
        "('KAZ', 'AZE', 2025, NULL, NULL, NULL, NULL, NULL, NULL, 520.0, 'news-kz', "
        "NULL, NULL, NULL, NULL)) "
        "t(reporter, partner, year, exports, exports_source_id, imports, imports_source_id, "
        "turnover, turnover_source_id, stated_turnover, stated_turnover_source_id, exports_share_pct, imports_share_pct, "
        "turnover_share_pct, note)"
    )
    con.execute(
        "CREATE TABLE trade_mirror AS SELECT * FROM (VALUES "
        "(1993, 'KAZ', 'AZE', 15.0, 'dots-kaz', 21.0, 'dots-aze', 6.0, 1.4, NULL), "
        "(1993, 'AZE', 'KAZ', 11.0, 'dots-aze', NULL, NULL, NULL, NULL, 'no KAZ cell')) "
        "t(year, exporter, importer, exports_fob, exports_fob_source_id, imports_cif, "
        "imports_cif_source_id, gap, ratio, note)"
    )
    return con


def points_of(svg: str) -> list[dict[str, str]]:
    """The attributes of every data point of a chart."""
    return [
        dict(re.findall(r'([\w-]+)="([^"]*)"', attributes)) | {"title": title}
        for attributes, title in re.findall(
            r'<(?:circle|rect|path) ([^>]*class="point[^>]*)><title>([^<]*)</title>', svg
        )
    ]


def point_key(p: dict[str, str]) -> tuple[str, str, str, str]:
    return (p["data-panel"], p["data-measure"], p["data-reporter"], p["data-year"])


def test_the_bilateral_chart_draws_each_value_once_and_marks_estimates_hollow():
    svg = str(trade_context(trade_fixture())["bilateral"].svg)
    points = {point_key(p): p for p in points_of(svg)}
    assert len(points_of(svg)) == len(points) == 12  # 5 rows: 3 + 3 + 1 + 4 + 1 values
    assert ("imports", "imports", "KAZ", "1993") not in points
    assert ("turnover", "turnover", "KAZ", "1993") not in points
    hollow = {k for k, p in points.items() if p["class"].split() == ["point", "flagged"]}
    assert hollow == {
        ("exports", "exports", "KAZ", "1993"),
        ("imports", "imports", "AZE", "1992"),
        ("turnover", "turnover", "AZE", "1992"),
        ("turnover", "stated_turnover", "KAZ", "2025"),
    }
    assert all(points[k]["fill"] == "#ffffff" for k in hollow)
    assert "exports to Azerbaijan, 1993: 15 USD million; source dots-kaz; an estimate" in svg
    assert "imports from Kazakhstan, 1992: 20 USD million; source dots-aze; stated as" in svg
    assert "as the source states it, 2024: 505 USD million; source news-kz" in svg
    assert "; 4 estimated or approximate values are drawn hollow" in svg
    stated = re.findall(r'<g class="series" [^>]*data-measure="stated_turnover".*?</g>', svg)
    assert len(stated) == 1 and 'data-reporter="KAZ"' in stated[0]  # no empty AZE group
    line = re.search(r'<path class="line"[^>]*stroke-dasharray="5 3" d="M[^"L]*L[^"L]*"', stated[0])
    assert line and stated[0].count('<path d="M') == 2  # one dashed segment, two triangles
    titles = re.findall(r'<text class="panel-title"[^>]*>(\w+):', svg)
    assert titles == ["Exports", "Imports", "Turnover"]
    assert_texts_inside_viewbox(svg)


def test_the_mirror_chart_draws_fob_and_cif_with_the_gap_of_each_year_both_report():
    chart = trade_context(trade_fixture())["mirror"]
    svg = str(chart.svg)
    points = points_of(svg)
    assert sorted((p["data-panel"], p["data-reporter"]) for p in points) == [
        ("AZE→KAZ", "AZE"),
        ("KAZ→AZE", "AZE"),
        ("KAZ→AZE", "KAZ"),
    ]
    assert svg.index('data-panel="AZE→KAZ"') < svg.index('data-panel="KAZ→AZE"')
    assert svg.count('class="gap"') == 1
    assert (
        "1993, KAZ→AZE: exports reported by KAZ (FOB) 15 vs imports reported by AZE (CIF) 21 "
        "USD million; gap CIF − FOB 6, ratio CIF / FOB 1.400"
    ) in svg
    assert "exports to Azerbaijan (FOB), 1993: 15 USD million; source dots-kaz; an estimate" in svg
    assert (
        ">Kazakhstan → Azerbaijan: exports reported by KAZ (FOB), imports reported by AZE (CIF)<"
        in svg
    )
    assert_texts_inside_viewbox(svg)


RELEASE_TRADE_VALUES = {
    "bilateral-chart": " UNION ALL ".join(
        f"SELECT '{measure}', reporter, year, {measure}, {measure}_source_id "
        f"FROM bilateral_trade WHERE {measure} IS NOT NULL"
        for measure in ("exports", "imports", "turnover", "stated_turnover")
    ),
    "mirror-chart": (
        "SELECT 'fob', exporter, year, exports_fob, exports_fob_source_id FROM trade_mirror "
        "WHERE exports_fob IS NOT NULL UNION ALL "
        "SELECT 'cif', importer, year, imports_cif, imports_cif_source_id FROM trade_mirror "
        "WHERE imports_cif IS NOT NULL"
    ),
}


def trade_svg(site: Path, chart_id: str) -> str:
    html = (site / "trade.html").read_text(encoding="utf-8")
    return re.search(rf'<svg [^>]*id="{chart_id}".*?</svg>', html, re.S).group(0)


@pytest.mark.parametrize("chart_id", list(RELEASE_TRADE_VALUES))
def test_the_trade_charts_draw_each_value_of_the_release_once_with_its_source(
    built, release_db, chart_id
):
    _, site = built
    svg = trade_svg(site, chart_id)
    drawn = [
        (p["data-measure"], p["data-reporter"], int(p["data-year"]), float(p["data-value"]))
        + (p["data-source"],)
        for p in points_of(svg)
    ]
    expected = release_db.execute(RELEASE_TRADE_VALUES[chart_id]).fetchall()
    assert len(expected) > 50
    assert sorted(drawn) == sorted(expected)
    assert all(f"source {p['data-source']}" in p["title"] for p in points_of(svg))
    assert_texts_inside_viewbox(svg)
    table = "bilateral_trade" if chart_id == "bilateral-chart" else "trade_mirror"
    html = (site / "trade.html").read_text(encoding="utf-8")
    rows = sum(
        part.split("</table>")[0].count("<tr data-")
        for part in html.split(f'<table class="trade-data" data-table="{table}"')[1:]
    )
    assert rows == release_db.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]


def test_the_release_estimates_are_drawn_hollow_and_named_in_their_tooltip(built, release_db):
    _, site = built
    estimated = release_db.execute(
        "SELECT indicator, reporter, year FROM annual_series WHERE qualifier = 'estimated' "
        "AND from_country <> 'WLD' AND to_country <> 'WLD'"
    ).fetchall()
    assert ("exports", "KAZ", 1993) in estimated  # the 1993 Kazakh estimates
    for chart_id, measures in (("bilateral-chart", {}), ("mirror-chart", {"exports": "fob"})):
        points = points_of(trade_svg(site, chart_id))
        flagged = {
            (p["data-measure"], p["data-reporter"], int(p["data-year"]))
            for p in points
            if "flagged" in p["class"]
        }
        for indicator, reporter, year in estimated:
            measure = measures.get(indicator, indicator if chart_id == "bilateral-chart" else "cif")
            assert (measure, reporter, year) in flagged, (chart_id, indicator, reporter, year)
        assert all(
            "; an estimate" in p["title"] or "; stated as" in p["title"]
            for p in points
            if "flagged" in p["class"]
        )
        assert all(p["fill"] == "#ffffff" for p in points if "flagged" in p["class"])


def test_a_release_without_the_trade_tables_has_no_trade_charts():
    import duckdb

    assert trade_context(duckdb.connect()) == {"bilateral": None, "mirror": None}
