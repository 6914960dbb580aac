"""The site's charts, drawn at build time as inline SVG (no script, no CDN).

Series charts draw `annual_series`: one line per reporter, one point per year, each
point's `<title>` (a tooltip, also read by screen readers) naming the value, its source,
how many candidates competed and the rule that chose it. Where several sources
disagreed for one reporter and year, a bar spans their range; where both countries'
statistics give a year, a dashed segment joins the two values, so a disagreement
between them shows at a glance. The timeline places agreements and visits by year.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

from azkz.derive.annual_series import SERIES_TABLE, excluded_rows

TURNOVER_INDICATOR = "trade_turnover"
CHART_UNIT = "USD million"
UNKNOWN_REPORTER = "unknown"
MIRROR = ("AZE", "KAZ")  # the two statistics whose disagreement is drawn
SERIES_STYLE = {  # Okabe–Ito colours (colour-blind safe) plus a distinct marker shape each
    "AZE": ("#0072B2", "circle", "Azerbaijan's statistics (AZE)"),
    "KAZ": ("#D55E00", "square", "Kazakhstan's statistics (KAZ)"),
    UNKNOWN_REPORTER: ("#555555", "diamond", "Reporter not stated"),
}
WIDTH, HEIGHT = 760, 380
LEFT, RIGHT, TOP, BOTTOM = 64, 24, 20, 44


def number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


@dataclass(frozen=True)
class SeriesPoint:
    """One `annual_series` row as the chart and its table show it."""

    reporter: str  # ISO3, or UNKNOWN_REPORTER
    year: int
    value: float
    unit: str
    qualifier: str
    source_id: str
    candidates: int
    min_value: float
    max_value: float
    rule: str

    @property
    def label(self) -> str:
        return SERIES_STYLE.get(self.reporter, SERIES_STYLE[UNKNOWN_REPORTER])[2]

    @property
    def tooltip(self) -> str:
        qualifier = f"{self.qualifier} " if self.qualifier else ""
        text = (
            f"{self.label}, {self.year}: {qualifier}{number_text(self.value)} {self.unit}; "
            f"source {self.source_id}; "
        )
        if self.candidates == 1:
            return text + "the only candidate"
        spread = f"{number_text(self.min_value)}–{number_text(self.max_value)}"
        return text + f"chosen from {self.candidates} candidates ({self.rule}; range {spread})"


@dataclass(frozen=True)
class Flow:
    """What one chart draws: an indicator between two countries in one unit."""

    indicator: str
    from_country: str
    to_country: str
    unit: str


def series_points(con, flow: Flow) -> tuple[list[SeriesPoint], int]:
    """The series of `flow`, and how many of that indicator's rows are in other units.

    Other units are not drawn rather than converted (the package never converts).
    """
    rows = con.execute(
        f"SELECT coalesce(reporter, '{UNKNOWN_REPORTER}'), year, value, unit, "
        f"coalesce(qualifier, ''), source_id, candidates, min_value, max_value, rule "
        f"FROM {SERIES_TABLE} WHERE indicator = ? AND from_country = ? AND to_country = ? "
        "ORDER BY year, 1",
        [flow.indicator, flow.from_country, flow.to_country],
    ).fetchall()
    points = [SeriesPoint(*r) for r in rows if r[3] == flow.unit]
    return points, len(rows) - len(points)


def longest_flow(con, condition: str, parameters: list) -> Flow | None:
    """The flow with the most years in `annual_series` among the rows meeting `condition`.

    Chosen when the site is built, so the chart follows the data; ties go to the
    alphabetically first indicator, countries, then unit. Directions are kept apart: a
    directional indicator's exports from AZE and from KAZ are two flows.
    """
    row = con.execute(
        f"SELECT indicator, from_country, to_country, unit FROM {SERIES_TABLE} "
        f"WHERE {condition} GROUP BY ALL ORDER BY count(DISTINCT year) DESC, 1, 2, 3, 4 LIMIT 1",
        parameters,
    ).fetchall()
    return Flow(*row[0]) if row else None


@dataclass(frozen=True)
class YearRow:
    """A year of the series table: each reporter's point, and the mirror gap if both exist."""

    year: int
    points: dict[str, SeriesPoint]

    @property
    def gap(self) -> float | None:
        if all(r in self.points for r in MIRROR):
            return round(self.points[MIRROR[1]].value - self.points[MIRROR[0]].value, 6)
        return None


def year_rows(points: list[SeriesPoint]) -> list[YearRow]:
    by_year: dict[int, dict[str, SeriesPoint]] = {}
    for p in points:
        by_year.setdefault(p.year, {})[p.reporter] = p
    return [YearRow(year, by_year[year]) for year in sorted(by_year)]


def reporters_of(points: list[SeriesPoint]) -> list[str]:
    """Reporters in the legend's order (AZE, KAZ, unknown, then any other)."""
    present = {p.reporter for p in points}
    return [r for r in SERIES_STYLE if r in present] + sorted(present - set(SERIES_STYLE))


def nice_step(span: float, ticks: int = 5) -> float:
    raw = span / ticks
    magnitude = 10 ** (len(str(int(raw))) - 1) if raw >= 1 else 1
    return next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)


def marker(shape: str, x: float, y: float, attributes: str, title: str) -> str:
    """One data point as an SVG shape with a tooltip (`<title>`, also read by screen readers)."""
    if shape == "circle":
        tag, geometry = "circle", f'cx="{x:.1f}" cy="{y:.1f}" r="4.5"'
    elif shape == "square":
        tag, geometry = "rect", f'x="{x - 4:.1f}" y="{y - 4:.1f}" width="8" height="8"'
    else:
        tag, geometry = (
            "path",
            (
                f'd="M{x:.1f} {y - 5.5:.1f}L{x + 5.5:.1f} {y:.1f}'
                f'L{x:.1f} {y + 5.5:.1f}L{x - 5.5:.1f} {y:.1f}Z"'
            ),
        )
    return f"<{tag} {geometry} {attributes}><title>{escape(title)}</title></{tag}>"


def consecutive_year_runs(series: list[SeriesPoint]) -> list[list[SeriesPoint]]:
    """A year-ordered series cut wherever a calendar year has no value.

    Each run is drawn as its own line segment: a line across a missing year would suggest
    a value for that year that no source gives.
    """
    runs: list[list[SeriesPoint]] = []
    for point in series:
        if runs and point.year - runs[-1][-1].year <= 1:
            runs[-1].append(point)
        else:
            runs.append([point])
    return runs


class Frame:
    """Scales and axes of a year × value chart."""

    def __init__(self, years: Iterable[int], top_value: float):
        years = list(years)
        self.first, self.last = min(years), max(years)
        self.step = nice_step(top_value) if top_value > 0 else 1
        self.y_max = self.step * (int(top_value // self.step) + 1)

    def x(self, year: float) -> float:
        if self.first == self.last:
            return LEFT + (WIDTH - LEFT - RIGHT) / 2
        return LEFT + (year - self.first) * (WIDTH - LEFT - RIGHT) / (self.last - self.first)

    def y(self, value: float) -> float:
        return TOP + (1 - value / self.y_max) * (HEIGHT - TOP - BOTTOM)

    def axes(self, unit: str) -> list[str]:
        parts = []
        tick = 0.0
        while tick <= self.y_max + 1e-9:
            y = self.y(tick)
            parts.append(
                f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" '
                f'y2="{y:.1f}"/><text class="tick" x="{LEFT - 8}" y="{y + 4:.1f}" '
                f'text-anchor="end">{number_text(tick)}</text>'
            )
            tick += self.step
        year_step = max(1, (self.last - self.first) // 10 + 1)
        for year in range(self.first, self.last + 1, year_step):
            parts.append(
                f'<text class="tick" x="{self.x(year):.1f}" y="{HEIGHT - BOTTOM + 18}" '
                f'text-anchor="middle">{year}</text>'
            )
        middle = TOP + (HEIGHT - TOP - BOTTOM) / 2
        parts.append(
            f'<text class="axis-label" x="14" y="{middle:.0f}" '
            f'transform="rotate(-90 14 {middle:.0f})" text-anchor="middle">{escape(unit)}</text>'
        )
        return parts


def _mirror_gaps(frame: Frame, points: list[SeriesPoint], unit: str) -> list[str]:
    """A dashed segment joining AZE's and KAZ's values of each year both report."""
    parts = []
    for row in year_rows(points):
        if row.gap is None:
            continue
        low, high = (row.points[r].value for r in MIRROR)
        x = frame.x(row.year)
        share = f" ({abs(row.gap) / min(low, high):.0%})" if min(low, high) > 0 else ""
        parts.append(
            f'<line class="gap" data-year="{row.year}" x1="{x:.1f}" x2="{x:.1f}" '
            f'y1="{frame.y(low):.1f}" y2="{frame.y(high):.1f}"><title>{row.year}: '
            f"{MIRROR[0]} {number_text(low)} vs {MIRROR[1]} {number_text(high)} {escape(unit)}, "
            f"a difference of {number_text(abs(row.gap))}{share}</title></line>"
        )
    return parts


def _reporter_group(frame: Frame, reporter: str, series: list[SeriesPoint]) -> list[str]:
    colour, shape, label = SERIES_STYLE.get(reporter, SERIES_STYLE[UNKNOWN_REPORTER])
    parts = [
        f'<g class="series" data-reporter="{escape(reporter)}" fill="{colour}" '
        f'stroke="{colour}"><title>{escape(label)}</title>'
    ]
    lines = [
        "M" + " L".join(f"{frame.x(p.year):.1f},{frame.y(p.value):.1f}" for p in run)
        for run in consecutive_year_runs(series)
        if len(run) > 1
    ]
    if lines:
        parts.append(f'<path class="line" fill="none" stroke-width="2" d="{" ".join(lines)}"/>')
    for p in series:
        x = frame.x(p.year)
        if p.max_value > p.min_value:
            parts.append(
                f'<line class="spread" x1="{x:.1f}" x2="{x:.1f}" y1="{frame.y(p.min_value):.1f}" '
                f'y2="{frame.y(p.max_value):.1f}"><title>{escape(p.tooltip)}</title></line>'
            )
        parts.append(
            marker(
                shape,
                x,
                frame.y(p.value),
                f'class="point" data-reporter="{escape(reporter)}" data-year="{p.year}" '
                f'data-value="{p.value}" data-source="{escape(p.source_id)}" '
                f'data-candidates="{p.candidates}"',
                p.tooltip,
            )
        )
    return parts + ["</g>"]


def series_chart_svg(points: list[SeriesPoint], chart_id: str, title: str, unit: str) -> Markup:
    """Line chart of one indicator's annual series, one line per reporter."""
    frame = Frame((p.year for p in points), max(p.max_value for p in points))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" class="chart" id="{chart_id}">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{len(points)} yearly values from {frame.first} to '
        f"{frame.last}; the table below the chart lists each with its source.</desc>",
        *frame.axes(unit),
        *_mirror_gaps(frame, points, unit),
    ]
    for reporter in reporters_of(points):
        parts += _reporter_group(frame, reporter, [p for p in points if p.reporter == reporter])
    parts.append("</svg>")
    return Markup("".join(parts))


@dataclass(frozen=True)
class IndicatorChart:
    """One indicator's series chart with what its page says around it."""

    indicator: str
    title: str
    unit: str
    points: list[SeriesPoint]
    other_unit_rows: int  # series rows of the indicator in other units, not drawn
    svg: Markup | None

    @property
    def rows(self) -> list[YearRow]:
        return year_rows(self.points)

    @property
    def reporters(self) -> list[str]:
        return reporters_of(self.points)

    @property
    def years(self) -> int:
        return len({p.year for p in self.points})


def indicator_chart(con, flow: Flow, chart_id: str) -> IndicatorChart:
    definition = con.execute(
        "SELECT name_en, directional FROM indicator_definitions WHERE indicator = ?",
        [flow.indicator],
    ).fetchall()
    name, directional = definition[0] if definition else (flow.indicator, True)
    pair = f"{flow.from_country} → {flow.to_country}" if directional else "Azerbaijan–Kazakhstan"
    title = f"{name}, {pair}, {flow.unit}, by reporter"
    points, other = series_points(con, flow)
    svg = series_chart_svg(points, chart_id, title, flow.unit) if points else None
    return IndicatorChart(flow.indicator, title, flow.unit, points, other, svg)


def chart_context(con) -> dict[str, Any]:
    """The charts page: trade turnover, the longest other series, and the exclusions."""
    trade_flow = longest_flow(
        con, "indicator = ? AND unit = ?", [TURNOVER_INDICATOR, CHART_UNIT]
    ) or Flow(TURNOVER_INDICATOR, "", "", CHART_UNIT)
    trade = indicator_chart(con, trade_flow, "turnover-chart")
    second_flow = longest_flow(con, "indicator <> ?", [TURNOVER_INDICATOR])
    second = indicator_chart(con, second_flow, "second-chart") if second_flow else None
    header, excluded = excluded_rows(con)
    return {
        "trade": trade,
        "second": second,
        "excluded_header": header,
        "excluded": excluded,
        "definitions": con.execute(
            "SELECT d.indicator, d.name_en, count(i.indicator) FROM "
            "indicator_definitions d LEFT JOIN indicators i USING (indicator) "
            "GROUP BY ALL ORDER BY 1"
        ).fetchall(),
    }


# ---------------------------------------------------------------- timeline


@dataclass(frozen=True)
class Event:
    kind: str  # "agreement" | "visit"
    date: dt.date
    text: str
    anchor: str  # the row's key, for the link to its table page


def timeline_events(con) -> list[Event]:
    """Agreements by signing date and visits by first day, in date order."""
    agreements = con.execute(
        "SELECT signed_date, title_en || ' (' || kind || ')', agreement_id FROM agreements"
    ).fetchall()
    visits = con.execute(
        "SELECT date_start, visitor || ' in ' || coalesce(city || ', ', '') || host_country "
        "|| ' (' || visit_type || ')', visit_id FROM visits"
    ).fetchall()
    events = [Event("agreement", *row) for row in agreements]
    events += [Event("visit", *row) for row in visits]
    return sorted(events, key=lambda e: (e.date, e.kind, e.anchor))


ROW_HEIGHT = 11  # one stacked marker
EVENT_KINDS = ("agreement", "visit")


def timeline_svg(events: list[Event]) -> Markup:
    """Years along the axis; agreements stack above it (squares), visits below (circles)."""
    years = [e.date.year for e in events]
    first, last = min(years), max(years)
    per_year = Counter((e.kind, e.date.year) for e in events)
    most = {
        kind: max((n for (k, _), n in per_year.items() if k == kind), default=0)
        for kind in EVENT_KINDS
    }
    axis_y = TOP + 16 + most["agreement"] * ROW_HEIGHT
    height = axis_y + 34 + most["visit"] * ROW_HEIGHT
    span = max(1, last - first)

    def x_of(year: int) -> float:
        return LEFT + (year - first + 0.5) * (WIDTH - LEFT - RIGHT) / (span + 1)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" role="img" '
        'aria-labelledby="timeline-title timeline-desc" class="chart" id="timeline-chart">',
        '<title id="timeline-title">Agreements and visits by year</title>',
        f'<desc id="timeline-desc">{len(events)} events from {first} to {last}: agreements '
        "above the axis, visits below; the list below the chart names each.</desc>",
        f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{axis_y}" y2="{axis_y}"/>',
        f'<text class="tick" x="{LEFT - 8}" y="{axis_y - 8}" text-anchor="end">agreements</text>',
        f'<text class="tick" x="{LEFT - 8}" y="{axis_y + 30}" text-anchor="end">visits</text>',
    ]
    year_step = max(1, span // 12 + 1)
    for year in range(first, last + 1, year_step):
        parts.append(
            f'<text class="tick" x="{x_of(year):.1f}" y="{axis_y + 14}" '
            f'text-anchor="middle">{year}</text>'
        )
    stacked: dict[tuple[str, int], int] = {}
    for e in events:
        level = stacked.get((e.kind, e.date.year), 0)
        stacked[(e.kind, e.date.year)] = level + 1
        x = x_of(e.date.year)
        if e.kind == "agreement":
            shape, y, colour = "square", axis_y - 8 - level * ROW_HEIGHT, "#009E73"
        else:
            shape, y, colour = "circle", axis_y + 22 + level * ROW_HEIGHT, "#CC79A7"
        parts.append(
            marker(
                shape,
                x,
                y,
                f'class="event {e.kind}" fill="{colour}" data-year="{e.date.year}"',
                f"{e.date.isoformat()}: {e.text}",
            )
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def timeline_context(con) -> dict[str, Any]:
    events = timeline_events(con)
    by_year: dict[int, list] = {}
    for event in events:
        by_year.setdefault(event.date.year, []).append(event)
    return {"timeline": timeline_svg(events) if events else None, "by_year": by_year}
