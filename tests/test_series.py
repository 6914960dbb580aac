"""`annual_series`: the precedence rule, read as a specification.

Each test builds a small package (the real schemas, a handful of rows) and derives the
series the way `azkz build` does. The order of the rule is read from the schema's
`precedence` property, so these tests follow the rule if a curator re-ranks a kind.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import random
import shutil
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from azkz import load
from azkz.derive.annual_series import COPIED, SERIES_TABLE, derive_tables
from azkz.diff import diff_specs
from azkz.release.build import build_release
from azkz.release.changes import changelog_section, changes_document
from azkz.schema.package import read_package
from azkz.tables.typed import load_tables
from azkz.validate.package import validate_package
from tests.helpers import ROOT, edit_schema, field_named

RESOURCES = ("sources", "indicator_definitions", "indicators")
SERIES_SCHEMA = json.loads((ROOT / "schemas" / "annual_series.json").read_text("utf-8"))
RANKS = SERIES_SCHEMA["precedence"]["ranks"]
KEY = ("indicator", "reporter", "from_country", "to_country", "year")


def source(source_id: str, kind: str = "news media", published: str = "2024-01-01") -> dict:
    return {
        "source_id": source_id,
        "title": f"Page {source_id}",
        "publisher": "Publisher",
        "url": f"https://example.org/{source_id}",
        "published": published,
        "accessed": "2026-01-01",
        "language": "en",
        "kind": kind,
    }


def observation(source_id: str, value: float = 100, **fields) -> dict:
    return {
        "indicator": "trade_turnover",
        "reporter": "KAZ",
        "from_country": "AZE",
        "to_country": "KAZ",
        "period_start": "2022-01-01",
        "period_end": "2022-12-31",
        "period_basis": "stated",
        "value": str(value),
        "unit": "USD million",
        "qualifier": "",
        "source_id": source_id,
        "note": "",
        "evidence": f"{value} million",
        "exclude_from_series": "",
    } | fields


DEFINITIONS = [
    {
        "indicator": code,
        "name_en": code,
        "name_ru": "",
        "description": code,
        "directional": "false",
    }
    for code in ("trade_turnover", "oil_transit")
]


FILLERS = {"boolean": "false", "date": "2024-01-01", "number": "1", "integer": "1"}


def filler(field: dict) -> str:
    """A valid cell for a required field these tests do not care about (new columns)."""
    if not field.get("constraints", {}).get("required"):
        return ""
    enum = field["constraints"].get("enum")
    return str(enum[0]) if enum else FILLERS.get(field.get("type", "string"), "x")


def write_table(root: Path, name: str, rows: list[dict]) -> None:
    schema = json.loads((root / "schemas" / f"{name}.json").read_text("utf-8"))
    defaults = {f["name"]: filler(f) for f in schema["fields"]}
    with (root / "data" / f"{name}.csv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(defaults), lineterminator="\n")
        writer.writeheader()
        writer.writerows(defaults | row for row in rows)


def make_package(root: Path, sources: list[dict], observations: list[dict]) -> Path:
    """A package of sources, definitions and indicators, with the real `annual_series`."""
    descriptor = json.loads((ROOT / "datapackage.json").read_text("utf-8"))
    descriptor["resources"] = [r for r in descriptor["resources"] if r["name"] in RESOURCES]
    (root / "data").mkdir(parents=True, exist_ok=True)
    shutil.copytree(ROOT / "schemas", root / "schemas", dirs_exist_ok=True)
    for name in ("sources", "indicator_definitions"):  # curation rules, not this file's topic:
        edit_schema(root, name, lambda schema: schema.pop("mustBeReferenced", None))  # unused ok
    (root / "datapackage.json").write_text(json.dumps(descriptor, indent=2), encoding="utf-8")
    write_table(root, "sources", sources)
    write_table(root, "indicator_definitions", DEFINITIONS)
    write_table(root, "indicators", observations)
    return root


def derive(root: Path) -> list[dict]:
    """The series as every reader gets it, after the package validated."""
    report = validate_package(root)
    assert report.valid, report.errors
    con = duckdb.connect()
    package = read_package(root)
    load_tables(package, con)
    derive_tables(package, con)
    cursor = con.execute(f"SELECT * FROM {SERIES_TABLE}")
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def pick(root: Path) -> dict:
    (row,) = derive(root)
    return row


# --- each step of the rule -------------------------------------------------------------


def test_a_single_observation_is_taken_verbatim(tmp_path):
    root = make_package(
        tmp_path,
        [source("a")],
        [observation("a", 461.9, qualifier="about")],
    )
    row = pick(root)
    assert row | {
        "period_start": str(row["period_start"]),
        "period_end": str(row["period_end"]),
    } == {
        "indicator": "trade_turnover",
        "reporter": "KAZ",
        "from_country": "AZE",
        "to_country": "KAZ",
        "year": 2022,
        "value": 461.9,
        "unit": "USD million",
        "qualifier": "about",
        "period_start": "2022-01-01",
        "period_end": "2022-12-31",
        "source_id": "a",
        "candidates": 1,
        "min_value": 461.9,
        "max_value": 461.9,
        "rule": "only",
    }


ADJACENT_RANKS = [(RANKS[i], RANKS[i + 1]) for i in range(len(RANKS) - 1)]


def test_an_exact_value_beats_an_approximation_even_from_a_higher_kind(tmp_path):
    """'Approached half a billion' from a president does not replace the statistics' 463.3."""
    root = make_package(
        tmp_path,
        [source("president", RANKS[0]["kinds"][0]), source("agency", RANKS[-1]["kinds"][0])],
        [observation("president", 500, qualifier="less than"), observation("agency", 463.3)],
    )
    row = pick(root)
    assert (row["source_id"], row["value"], row["rule"]) == ("agency", 463.3, "exact")
    assert (row["candidates"], row["min_value"], row["max_value"]) == (2, 463.3, 500)


def test_a_stated_year_beats_an_inferred_one_even_from_a_higher_kind(tmp_path):
    root = make_package(
        tmp_path,
        [source("official", RANKS[0]["kinds"][0]), source("agency", RANKS[-1]["kinds"][0])],
        [
            observation("official", 460, period_basis="inferred"),
            observation("agency", 461.9),
        ],
    )
    assert (pick(root)["source_id"], pick(root)["rule"]) == ("agency", "stated")


def test_exactness_is_weighed_before_the_stated_year(tmp_path):
    root = make_package(
        tmp_path,
        [source("approximate"), source("inferred")],
        [
            observation("approximate", 500, qualifier="about"),
            observation("inferred", 470, period_basis="inferred"),
        ],
    )
    assert (pick(root)["source_id"], pick(root)["rule"]) == ("inferred", "exact")


@pytest.mark.parametrize(
    ("higher", "lower"),
    ADJACENT_RANKS,
    ids=[f"{h['kinds'][0]} > {lo['kinds'][0]}" for h, lo in ADJACENT_RANKS],
)
def test_each_rank_beats_the_next_even_when_older(tmp_path, higher, lower):
    root = make_package(
        tmp_path,
        [
            source("higher", higher["kinds"][-1], published="2020-01-01"),
            source("lower", lower["kinds"][0], published="2025-01-01"),
        ],
        [observation("higher", 547.6), observation("lower", 548)],
    )
    row = pick(root)
    assert (row["source_id"], row["value"], row["rule"]) == ("higher", 547.6, "kind")
    assert (row["candidates"], row["min_value"], row["max_value"]) == (2, 547.6, 548)


def test_kinds_of_one_rank_are_equals(tmp_path):
    tied = next(r for r in RANKS if len(r["kinds"]) > 1)
    root = make_package(
        tmp_path,
        [
            source("first", tied["kinds"][0], published="2023-01-01"),
            source("second", tied["kinds"][1], published="2024-01-01"),
        ],
        [observation("first", 1), observation("second", 2)],
    )
    assert (pick(root)["source_id"], pick(root)["rule"]) == ("second", "latest")


def test_among_equals_the_latest_published_wins_a_revision(tmp_path):
    root = make_package(
        tmp_path,
        [source("first", published="2023-04-11"), source("revised", published="2024-03-05")],
        [observation("first", 461.9), observation("revised", 463.3)],
    )
    row = pick(root)
    assert (row["source_id"], row["value"], row["rule"]) == ("revised", 463.3, "latest")
    assert (row["min_value"], row["max_value"]) == (461.9, 463.3)


def test_an_unknown_publication_date_counts_as_the_oldest(tmp_path):
    root = make_package(
        tmp_path,
        [source("a-undated", published=""), source("z-dated", published="1999-01-01")],
        [observation("a-undated", 1), observation("z-dated", 2)],
    )
    assert (pick(root)["source_id"], pick(root)["rule"]) == ("z-dated", "latest")


@pytest.mark.parametrize("published", ["2024-03-05", ""])
def test_a_final_tie_goes_to_the_lowest_source_id_whatever_the_row_order(tmp_path, published):
    sources = [source(s, published=published) for s in ("b-source", "a-source", "c-source")]
    observations = [observation(s["source_id"], i) for i, s in enumerate(sources, 1)]
    picks = set()
    for attempt in range(3):
        random.Random(attempt).shuffle(observations)
        root = make_package(tmp_path / str(attempt), sources, observations)
        row = pick(root)
        picks.add((row["source_id"], row["value"], row["rule"], row["candidates"]))
    assert picks == {("a-source", 2, "tiebreak", 3)}


# --- what competes ---------------------------------------------------------------------


def test_an_excluded_row_is_never_picked_and_not_counted(tmp_path):
    root = make_package(
        tmp_path,
        [source("stats", "official statistics"), source("news")],
        [
            observation("stats", 900, exclude_from_series="matches no statistics of either side"),
            observation("news", 463.3),
        ],
    )
    row = pick(root)
    assert (row["source_id"], row["candidates"], row["max_value"], row["rule"]) == (
        "news",
        1,
        463.3,
        "only",
    )


def test_a_group_whose_only_row_is_excluded_has_no_row(tmp_path):
    root = make_package(
        tmp_path,
        [source("a")],
        [observation("a", exclude_from_series="a typo in the source")],
    )
    assert derive(root) == []


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("2022-01-01", "2022-08-31"),  # Jan–Aug
        ("2022-07-01", "2023-06-30"),  # a fiscal year
        ("2022-01-01", "2023-12-31"),  # two years
        ("2022-12-31", "2022-12-31"),  # a stock at a date
        ("2022-01-02", "2022-12-31"),
    ],
)
def test_part_year_observations_never_enter(tmp_path, start, end):
    root = make_package(
        tmp_path,
        [source("stats", "official statistics"), source("news")],
        [
            observation("stats", 999, period_start=start, period_end=end),
            observation("news", 463.3),
        ],
    )
    row = pick(root)
    assert (row["source_id"], row["candidates"], row["rule"]) == ("news", 1, "only")


def test_groups_are_indicator_reporter_countries_and_year(tmp_path):
    """An empty reporter is a group of its own; so is each direction and each year."""
    root = make_package(
        tmp_path,
        [source("a"), source("b", "official statistics")],
        [
            observation("a", 1, reporter="KAZ"),
            observation("a", 2, reporter="", period_start="2023-01-01", period_end="2023-12-31"),
            observation("b", 3, reporter="AZE", period_start="2023-01-01", period_end="2023-12-31"),
            observation("a", 4, indicator="oil_transit", from_country="KAZ", to_country="AZE"),
            observation("b", 5, indicator="oil_transit", from_country="AZE", to_country="KAZ"),
        ],
    )
    rows = derive(root)
    assert sorted(
        (r["indicator"], r["reporter"] or "", r["from_country"], r["year"]) for r in rows
    ) == [
        ("oil_transit", "KAZ", "AZE", 2022),
        ("oil_transit", "KAZ", "KAZ", 2022),
        ("trade_turnover", "", "AZE", 2023),
        ("trade_turnover", "AZE", "AZE", 2023),
        ("trade_turnover", "KAZ", "AZE", 2022),
    ]
    assert {r["candidates"] for r in rows} == {1}


def test_the_spread_is_taken_in_the_chosen_rows_unit_only(tmp_path):
    root = make_package(
        tmp_path,
        [
            source("stats", "official statistics"),
            source("news"),
            source("other-unit", "analyst"),
        ],
        [
            observation("stats", 1.7, indicator="oil_transit", unit="million tonnes"),
            observation("news", 1.5, indicator="oil_transit", unit="million tonnes"),
            observation("other-unit", 1_700_000, indicator="oil_transit", unit="tonnes"),
        ],
    )
    row = pick(root)
    assert (row["source_id"], row["unit"], row["candidates"]) == ("stats", "million tonnes", 3)
    assert (row["min_value"], row["max_value"]) == (1.5, 1.7)


# --- the rule over time ------------------------------------------------------------------


def test_a_more_authoritative_row_added_later_takes_over_and_the_diff_says_so(tmp_path):
    sources = [source("news", published="2025-03-13")]
    first = make_package(tmp_path / "old", sources, [observation("news", 533.4)])
    assert pick(first)["source_id"] == "news"
    later = make_package(
        tmp_path / "new",
        [*sources, source("stat-gov-kz", "official statistics", published="2025-02-01")],
        [observation("news", 533.4), observation("stat-gov-kz", 533.41)],
    )
    row = pick(later)
    assert (row["source_id"], row["rule"], row["candidates"]) == ("stat-gov-kz", "kind", 2)

    diff = diff_specs(str(first), str(later))
    series = next(t for t in diff.tables if t.name == SERIES_TABLE)
    assert (series.added, series.removed, series.changed) == (0, 0, 1)
    (entry,) = series.examples["MOD"]
    assert entry["changes"]["source_id"] == ["news", "stat-gov-kz"]
    assert entry["changes"]["value"] == [533.4, 533.41]

    document = changes_document(read_package(first), read_package(later))
    (entry,) = document["tables"][SERIES_TABLE]["entries"]
    assert entry["op"] == "MOD" and entry["changes"]["rule"] == ["only", "kind"]
    section = changelog_section(document, "0.2.1")
    assert (
        "  - trade_turnover KAZ AZE KAZ 2022: source `news` → `stat-gov-kz`, "
        "value 533.4 → 533.41." in section
    )


def test_the_release_is_deterministic_and_loads_everywhere(tmp_path):
    sources = [source("a"), source("b", "government", published=""), source("c")]
    observations = [observation("a", 1), observation("b", 2), observation("c", 3, reporter="")]
    root = make_package(tmp_path / "pkg", sources, observations)
    shuffled = make_package(tmp_path / "shuffled", sources, observations[::-1])
    built = [build_release(r, tmp_path / f"dist-{r.name}").path for r in (root, shuffled)]
    for suffix in ("csv", "parquet"):
        a, b = (p / "data" / f"{SERIES_TABLE}.{suffix}" for p in built)
        assert a.read_bytes() == b.read_bytes()
    rows = list(csv.DictReader((built[0] / "data" / f"{SERIES_TABLE}.csv").open()))
    assert [(r["reporter"], r["source_id"], r["value"], r["rule"]) for r in rows] == [
        ("KAZ", "b", "2", "kind"),
        ("", "c", "3", "only"),
    ]
    descriptor = json.loads((built[0] / "datapackage.json").read_text("utf-8"))
    resource = next(r for r in descriptor["resources"] if r["name"] == SERIES_TABLE)
    assert resource["derivedFrom"] == ["indicators", "sources"] and resource["hash"]
    assert "derivedResources" not in descriptor
    assert validate_package(built[0]).valid
    from_tree = load(SERIES_TABLE, root=root, engine="polars")
    from_release = load(
        SERIES_TABLE, release=built[0].name, root=root, dist=built[0].parent, engine="polars"
    )
    assert from_tree.equals(from_release) and from_tree.height == 2


# --- the package's own checks ------------------------------------------------------------


def test_a_kind_without_a_rank_is_a_schema_error(tmp_path):
    root = make_package(tmp_path, [source("a")], [observation("a")])

    def drop_rank_3(schema):
        schema["precedence"]["ranks"] = [r for r in schema["precedence"]["ranks"] if r["rank"] != 3]

    edit_schema(root, "annual_series", drop_rank_3)
    report = validate_package(root)
    assert [(e["code"], e["path"]) for e in report.errors] == [
        ("schema-error", "schemas/annual_series.json")
    ]
    assert "gives no rank to sources.kind 'state company'" in report.errors[0]["message"]


def test_a_copied_field_that_drifts_from_indicators_is_a_schema_error(tmp_path):
    """A curator widens the unit enum of indicators and forgets the series: told at once."""
    root = make_package(tmp_path, [source("a")], [observation("a")])
    edit_schema(
        root,
        "indicators",
        lambda schema: field_named(schema, "unit")["constraints"]["enum"].append("EUR million"),
    )
    report = validate_package(root)
    assert [(e["code"], e["path"]) for e in report.errors] == [
        ("schema-error", "schemas/annual_series.json")
    ]
    assert "field 'unit' is copied verbatim from indicators" in report.errors[0]["message"]


def test_a_hand_made_series_file_in_the_working_tree_is_refused(tmp_path):
    root = make_package(tmp_path, [source("a")], [observation("a")])
    (root / "data" / f"{SERIES_TABLE}.csv").write_text("indicator\n", encoding="utf-8")
    report = validate_package(root)
    assert [(e["code"], e["path"], e["line"]) for e in report.errors] == [
        ("source-error", f"data/{SERIES_TABLE}.csv", None)
    ]
    assert "never edited by hand" in report.errors[0]["message"]


# --- invariants, on random packages and on the real data ------------------------------------


def standing(candidate: dict, rank: dict) -> tuple:
    """A candidate's place in the rule, lowest first: exact, stated, kind, newest."""
    return (
        candidate["qualifier"] is not None,
        candidate["period_basis"] != "stated",
        rank[candidate["kind"]],
        -(candidate["published"] or dt.date.min).toordinal(),
    )


def assert_series_invariants(con) -> None:
    """What every series must satisfy, whatever the data.

    One row per eligible group and none for other groups; each row is an eligible
    `indicators` row of its group, copied verbatim; the counts and spread are right;
    and no other candidate ranks strictly above the winner.
    """
    candidates = con.execute("""
        SELECT i.*, year(period_start) AS year, s.kind, s.published
        FROM indicators i JOIN sources s USING (source_id)
        WHERE period_start = make_date(year(period_start), 1, 1)
          AND period_end = make_date(year(period_start), 12, 31)
          AND exclude_from_series IS NULL""")
    names = [d[0] for d in candidates.description]
    groups: dict[tuple, list[dict]] = {}
    for values in candidates.fetchall():
        row = dict(zip(names, values, strict=True))
        groups.setdefault(tuple(row[k] for k in KEY), []).append(row)
    cursor = con.execute(f"SELECT * FROM {SERIES_TABLE}")
    series_names = [d[0] for d in cursor.description]
    series = [dict(zip(series_names, v, strict=True)) for v in cursor.fetchall()]
    keys = [tuple(r[k] for k in KEY) for r in series]
    assert len(keys) == len(set(keys)), "a key repeats"
    assert set(keys) == set(groups), "eligible groups and series rows differ"
    rank = {k: r["rank"] for r in RANKS for k in r["kinds"]}
    for row, key in zip(series, keys, strict=True):
        group = groups[key]
        (chosen,) = [c for c in group if c["source_id"] == row["source_id"]]
        assert {c: row[c] for c in COPIED} == {c: chosen[c] for c in COPIED}
        assert row["candidates"] == len(group)
        same_unit = [c["value"] for c in group if c["unit"] == row["unit"]]
        assert (row["min_value"], row["max_value"]) == (min(same_unit), max(same_unit))
        for other in group:
            assert standing(chosen, rank) <= standing(other, rank)


KINDS = [k for r in RANKS for k in r["kinds"]]


@st.composite
def packages(draw):
    sources = [
        source(
            f"s{i}",
            draw(st.sampled_from(KINDS)),
            draw(st.sampled_from(["", "2023-01-01", "2024-06-30"])),
        )
        for i in range(draw(st.integers(1, 5)))
    ]
    observations, seen = [], set()
    for _ in range(draw(st.integers(0, 12))):
        source_id = draw(st.sampled_from([s["source_id"] for s in sources]))
        year = draw(st.sampled_from([2021, 2022]))
        start, end = draw(st.sampled_from([("01-01", "12-31"), ("01-01", "06-30")]))
        reporter = draw(st.sampled_from(["", "AZE", "KAZ"]))
        key = (source_id, year, start, end)
        if key in seen:  # the primary key of indicators does not include the reporter
            continue
        seen.add(key)
        observations.append(
            observation(
                source_id,
                draw(st.sampled_from([461.9, 463.3, 547, 548])),
                reporter=reporter,
                period_start=f"{year}-{start}",
                period_end=f"{year}-{end}",
                unit=draw(st.sampled_from(["USD million", "USD thousand"])),
                exclude_from_series=draw(st.sampled_from(["", "", "wrong"])),
                qualifier=draw(st.sampled_from(["", "", "about"])),
                period_basis=draw(st.sampled_from(["stated", "stated", "inferred"])),
            )
        )
    return sources, observations


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(packages())
def test_every_eligible_group_has_exactly_one_row_equal_to_an_observation(tmp_path, drawn):
    sources, observations = drawn
    root = make_package(tmp_path / f"p{random.random()}", sources, observations)
    con = duckdb.connect()
    package = read_package(root)
    load_tables(package, con)
    derive_tables(package, con)
    assert_series_invariants(con)


def test_the_real_release_series_holds_the_invariants(built_release):
    release = built_release / "dist" / read_package(built_release).version
    con = duckdb.connect(str(next(release.glob("*.duckdb"))), read_only=True)
    assert_series_invariants(con)
    assert con.execute(f"SELECT count(*) FROM {SERIES_TABLE}").fetchall()[0][0] > 0
