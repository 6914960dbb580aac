"""The trade page's charts, drawn at build time as inline SVG like `azkz.publish.site.charts`.

`bilateral_trade` is drawn as three stacked panels (exports, imports, turnover), one
line per reporter, so Azerbaijan's and Kazakhstan's statistics of the same trade stand
side by side from the first year to the last. `trade_mirror` is drawn as one panel per
direction: the exporter's reported exports (FOB) and the importer's reported imports
(CIF) of the same goods, with a dashed segment for their gap in each year both report.
The panels of a chart share their years and their value scale, so heights compare.

Each point's `<title>` (a tooltip, also read by screen readers) names the reporter, the
value, its source and, where the series says so, that it is an estimate or approximate
(`annual_series.qualifier`, e.g. an IMF estimate); such a point is drawn hollow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

from azkz.core.cells import cell_text
from azkz.publish.site.charts import (
    CHART_UNIT,
    LEFT,
    MIRROR,
    SERIES_STYLE,
    UNKNOWN_REPORTER,
    WIDTH,
    Frame,
    line_path,
    marker,
)
from azkz.release.citation import SUBJECT_COUNTRIES
from azkz.schema.derived import BILATERAL_TABLE, MIRROR_TABLE, SERIES_TABLE

STATED_TURNOVER = "stated_turnover"
ESTIMATE = "estimated"  # annual_series.qualifier of a value its source marks as an estimate
PANEL_TOP = 44  # the first panel's plot area starts below the SVG's own heading room
PANEL_HEIGHT = 170  # plot area of one panel
PANEL_GAP = 64  # year labels of one panel and the title of the next
PANEL_BOTTOM = 34  # year labels of the last panel


def flag_words(qualifier: str) -> str:
    """What a point's qualifier means, for its tooltip ('' for a value stated exactly)."""
    if not qualifier:
        return ""
    if ESTIMATE in qualifier.split(", "):
        return "; an estimate, not a reported figure" + (
            f" ({qualifier})" if qualifier != ESTIMATE else ""
        )
    return f"; stated as “{qualifier}” the value"


@dataclass(frozen=True)
class TradePoint:
    """One value drawn: who reports it, what flow it is, and where it comes from."""

    reporter: str
    year: int
    value: float
    source_id: str
    qualifier: str  # '' when stated exactly; `estimated`, `about`, ... as in annual_series
    measure: str  # exports | imports | turnover (bilateral) or fob | cif (mirror)
    flow: str  # the value in words, e.g. "exports to Kazakhstan (FOB)"

    @property
    def flagged(self) -> bool:
        return bool(self.qualifier)

    @property
    def tooltip(self) -> str:
        label = SERIES_STYLE.get(self.reporter, SERIES_STYLE[UNKNOWN_REPORTER])[2]
        return (
            f"{label}, {self.flow}, {self.year}: {cell_text(float(self.value))} {CHART_UNIT}; "
            f"source {self.source_id}{flag_words(self.qualifier)}"
        )


@dataclass(frozen=True)
class Gap:
    """A year where both sides report one flow: the segment joining their two values."""

    year: int
    low: float
    high: float
    text: str


@dataclass(frozen=True)
class Panel:
    key: str  # data-panel: the measure or the direction
    title: str
    points: list[TradePoint]
    gaps: list[Gap]


def panel_frames(panels: list[Panel]) -> tuple[list[Frame], int]:
    """One frame per panel, stacked, on the years and values of all; and the SVG height."""
    points = [p for panel in panels for p in panel.points]
    years = [p.year for p in points]
    top_value = max(
        max(p.value for p in points),
        max((g.high for panel in panels for g in panel.gaps), default=0),
    )
    frames = []
    for i in range(len(panels)):
        top = PANEL_TOP + i * (PANEL_HEIGHT + PANEL_GAP)
        frames.append(Frame(years, top_value, top, top + PANEL_HEIGHT))
    return frames, int(frames[-1].bottom + PANEL_BOTTOM)


def gap_lines(frame: Frame, panel: Panel) -> list[str]:
    return [
        f'<line class="gap" data-panel="{escape(panel.key)}" data-year="{g.year}" '
        f'x1="{frame.x(g.year):.1f}" x2="{frame.x(g.year):.1f}" y1="{frame.y(g.low):.1f}" '
        f'y2="{frame.y(g.high):.1f}"><title>{escape(g.text)}</title></line>'
        for g in panel.gaps
    ]


def reporter_lines(frame: Frame, panel: Panel, reporter: str, measure: str) -> list[str]:
    """One reporter's line of one measure in a panel, cut at missing years, and its points.

    A turnover as a source states it is drawn dashed with triangles, apart from the sum of
    exports and imports beside it: the two are different figures, never merged.
    """
    colour, shape, label = SERIES_STYLE.get(reporter, SERIES_STYLE[UNKNOWN_REPORTER])
    stated = measure == STATED_TURNOVER
    shape, dashes = ("triangle", ' stroke-dasharray="5 3"') if stated else (shape, "")
    series = [p for p in panel.points if p.reporter == reporter and p.measure == measure]
    if not series:
        return []
    parts = [
        f'<g class="series" data-panel="{escape(panel.key)}" data-reporter="{escape(reporter)}" '
        f'data-measure="{measure}" fill="{colour}" stroke="{colour}">'
        f"<title>{escape(label)}{', turnover as stated' if stated else ''}</title>"
    ]
    parts += line_path(frame, series, dashes)
    for p in series:
        hollow = ' fill="#ffffff" stroke-width="2"' if p.flagged else ""
        parts.append(
            marker(
                shape,
                frame.x(p.year),
                frame.y(p.value),
                f'class="point{" flagged" if p.flagged else ""}" data-panel="{escape(panel.key)}" '
                f'data-reporter="{escape(reporter)}" data-measure="{measure}" data-year="{p.year}" '
                f'data-value="{p.value}" data-source="{escape(p.source_id)}" '
                f'data-qualifier="{escape(p.qualifier)}"{hollow}',
                p.tooltip,
            )
        )
    return parts + ["</g>"]


def reporters_in(points: list[TradePoint]) -> list[str]:
    present = {p.reporter for p in points}
    return [r for r in SERIES_STYLE if r in present] + sorted(present - set(SERIES_STYLE))


def panel_chart_svg(panels: list[Panel], chart_id: str, title: str) -> Markup:
    """Panels stacked in one SVG, sharing the years (x) and the value scale (y)."""
    frames, height = panel_frames(panels)
    points = [p for panel in panels for p in panel.points]
    flagged = sum(p.flagged for p in points)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" class="chart" id="{chart_id}">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{len(points)} yearly values from {frames[0].first} to '
        f"{frames[0].last} in {len(panels)} panels ({', '.join(p.title for p in panels)}); "
        f"{flagged} estimated or approximate values are drawn hollow; the tables below the "
        "chart list each value with its source.</desc>",
    ]
    for frame, panel in zip(frames, panels, strict=True):
        parts.append(
            f'<text class="panel-title" x="{LEFT}" y="{frame.top - 14:.0f}">'
            f"{escape(panel.title)}</text>"
        )
        parts += frame.axes(CHART_UNIT)
        parts += gap_lines(frame, panel)
        for reporter in reporters_in(panel.points):
            for measure in dict.fromkeys(p.measure for p in panel.points):
                parts += reporter_lines(frame, panel, reporter, measure)
    parts.append("</svg>")
    return Markup("".join(parts))


# ---------------------------------------------------------------- from the release


def has_table(con, name: str) -> bool:
    """Whether the release has `name`: releases before 0.3.0 have no trade tables."""
    return bool(
        con.execute(
            "SELECT 1 FROM information_schema.tables WHERE table_name = ?", [name]
        ).fetchall()
    )


def qualifier_sql(indicator: str, reporter: str, origin: str, destination: str) -> str:
    """The series qualifier of the pick a derived value was copied from."""
    return (
        f"(SELECT coalesce(s.qualifier, '') FROM {SERIES_TABLE} s WHERE s.indicator = "
        f"'{indicator}' AND s.reporter = {reporter} AND s.from_country = {origin} "
        f"AND s.to_country = {destination} AND s.year = t.year AND s.unit = '{CHART_UNIT}')"
    )


def country(code: str) -> str:
    return SUBJECT_COUNTRIES.get(code, code)


@dataclass(frozen=True)
class TradeRow:
    """A row of a trade table as the page's table shows it: its drawn values and the rest."""

    group: str  # the reporter (bilateral) or the direction (mirror) the row belongs to
    year: int
    values: dict[str, TradePoint | None]  # measure -> the point drawn, None when empty
    extra: dict[str, float | None]  # shares (bilateral) or gap and ratio (mirror)
    note: str


@dataclass(frozen=True)
class TradeChart:
    table: str
    title: str
    panels: list[Panel]
    rows: list[TradeRow]
    svg: Markup | None

    @property
    def points(self) -> list[TradePoint]:
        return [p for panel in self.panels for p in panel.points]

    @property
    def flagged(self) -> int:
        return sum(p.flagged for p in self.points)

    @property
    def groups(self) -> list[str]:
        return list(dict.fromkeys(r.group for r in self.rows))

    @property
    def years(self) -> str:
        years = [r.year for r in self.rows]
        return f"{min(years)}–{max(years)}" if years else ""


def value_point(reporter, year, value, source_id, qualifier, measure, flow) -> TradePoint | None:
    if value is None:
        return None
    return TradePoint(reporter, year, value, source_id or "", qualifier or "", measure, flow)


def combined_qualifier(*points: TradePoint | None) -> str:
    """A sum's qualifier: every distinct qualifier of its parts (a sum of an estimate is one)."""
    return ", ".join(dict.fromkeys(p.qualifier for p in points if p and p.qualifier))


# trade_turnover is not directional: its pair is written in alphabetical order.
PAIR_FIRST, PAIR_SECOND = "least(t.reporter, t.partner)", "greatest(t.reporter, t.partner)"
BILATERAL_PANELS = {
    "exports": "Exports: each country's reported exports to the other",
    "imports": "Imports: each country's reported imports from the other",
    "turnover": "Turnover: exports + imports from one source; triangles: as a source states it",
}
BILATERAL_SQL = f"""
    SELECT t.reporter, t.partner, t.year,
           t.exports, t.exports_source_id,
           {qualifier_sql("exports", "t.reporter", "t.reporter", "t.partner")},
           t.imports, t.imports_source_id,
           {qualifier_sql("imports", "t.reporter", "t.partner", "t.reporter")},
           t.turnover, t.turnover_source_id,
           t.stated_turnover, t.stated_turnover_source_id,
           {qualifier_sql("trade_turnover", "t.reporter", PAIR_FIRST, PAIR_SECOND)},
           t.exports_share_pct, t.imports_share_pct, t.turnover_share_pct,
           coalesce(t.note, '')
    FROM {BILATERAL_TABLE} t ORDER BY t.reporter, t.year
"""


def bilateral_row(row: tuple) -> TradeRow:
    reporter, partner, year, *values, shares_e, shares_i, shares_t, note = row
    exports = value_point(reporter, year, *values[0:3], "exports", f"exports to {country(partner)}")
    imports = value_point(
        reporter, year, *values[3:6], "imports", f"imports from {country(partner)}"
    )
    turnover = value_point(
        reporter,
        year,
        *values[6:8],
        combined_qualifier(exports, imports),
        "turnover",
        f"turnover with {country(partner)} (exports + imports)",
    )
    stated = value_point(
        reporter,
        year,
        *values[8:11],
        STATED_TURNOVER,
        f"turnover with {country(partner)} as the source states it",
    )
    return TradeRow(
        reporter,
        year,
        {"exports": exports, "imports": imports, "turnover": turnover, STATED_TURNOVER: stated},
        {"exports": shares_e, "imports": shares_i, "turnover": shares_t},
        note,
    )


def panel_points(rows: list[TradeRow], measure: str) -> list[TradePoint]:
    """The points of a bilateral panel: the turnover panel also draws the stated turnover."""
    measures = (measure, STATED_TURNOVER) if measure == "turnover" else (measure,)
    return [r.values[m] for m in measures for r in rows if r.values[m]]


def bilateral_chart(con) -> TradeChart:
    rows = [bilateral_row(r) for r in con.execute(BILATERAL_SQL).fetchall()]
    panels = [
        Panel(measure, title, panel_points(rows, measure), [])
        for measure, title in BILATERAL_PANELS.items()
    ]
    title = "Azerbaijan–Kazakhstan trade by reporter: exports, imports and turnover"
    svg = (
        panel_chart_svg(panels, "bilateral-chart", title) if any(p.points for p in panels) else None
    )
    return TradeChart(BILATERAL_TABLE, title, panels, rows, svg)


MIRROR_SQL = f"""
    SELECT t.exporter, t.importer, t.year,
           t.exports_fob, t.exports_fob_source_id,
           {qualifier_sql("exports", "t.exporter", "t.exporter", "t.importer")},
           t.imports_cif, t.imports_cif_source_id,
           {qualifier_sql("imports", "t.importer", "t.exporter", "t.importer")},
           t.gap, t.ratio, coalesce(t.note, '')
    FROM {MIRROR_TABLE} t ORDER BY t.exporter, t.importer, t.year
"""


def direction(exporter: str, importer: str) -> str:
    return f"{exporter}→{importer}"


def mirror_row(row: tuple) -> TradeRow:
    exporter, importer, year, *values, gap, ratio, note = row
    fob = value_point(exporter, year, *values[0:3], "fob", f"exports to {country(importer)} (FOB)")
    cif = value_point(
        importer, year, *values[3:6], "cif", f"imports from {country(exporter)} (CIF)"
    )
    return TradeRow(
        direction(exporter, importer),
        year,
        {"fob": fob, "cif": cif},
        {"gap": gap, "ratio": ratio},
        note,
    )


def mirror_gap(row: TradeRow) -> Gap | None:
    fob, cif = row.values["fob"], row.values["cif"]
    if fob is None or cif is None:
        return None
    ratio = row.extra["ratio"]
    text = (
        f"{row.year}, {row.group}: exports reported by {fob.reporter} (FOB) "
        f"{cell_text(float(fob.value))} vs imports reported by {cif.reporter} (CIF) "
        f"{cell_text(float(cif.value))} {CHART_UNIT}; gap CIF − FOB {cell_text(float(row.extra['gap']))}"
        + (f", ratio CIF / FOB {ratio:.3f}" if ratio is not None else "")
    )
    return Gap(row.year, min(fob.value, cif.value), max(fob.value, cif.value), text)


def mirror_panel(rows: list[TradeRow], group: str) -> Panel:
    exporter, importer = group.split("→")
    own = [r for r in rows if r.group == group]
    return Panel(
        group,
        f"{country(exporter)} → {country(importer)}: exports reported by {exporter} (FOB), "
        f"imports reported by {importer} (CIF)",
        [p for r in own for p in (r.values["fob"], r.values["cif"]) if p],
        [g for g in map(mirror_gap, own) if g],
    )


def mirror_chart(con) -> TradeChart:
    rows = [mirror_row(r) for r in con.execute(MIRROR_SQL).fetchall()]
    groups = [direction(*MIRROR), direction(*reversed(MIRROR))]
    groups += sorted({r.group for r in rows} - set(groups))
    panels = [mirror_panel(rows, g) for g in groups if any(r.group == g for r in rows)]
    title = "Mirror statistics: each direction's exports (FOB) against the partner's imports (CIF)"
    svg = panel_chart_svg(panels, "mirror-chart", title) if any(p.points for p in panels) else None
    return TradeChart(MIRROR_TABLE, title, panels, rows, svg)


def trade_context(con) -> dict[str, Any]:
    """The trade page: both charts, or None for a table the release does not have."""
    return {
        "bilateral": bilateral_chart(con) if has_table(con, BILATERAL_TABLE) else None,
        "mirror": mirror_chart(con) if has_table(con, MIRROR_TABLE) else None,
    }
