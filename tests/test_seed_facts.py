"""Every fact of the seed article (Day.Az, 2025-10-20) is in data/, found by SQL (DuckDB).

CSVs are read with all_varchar (no type sniffing); values are cast explicitly.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

ROOT = Path(__file__).resolve().parents[1]
SEED = "seed-2025-10-20"
TABLES = ("sources", "indicators", "agreements", "projects", "visits")


@pytest.fixture(scope="module")
def db():
    con = duckdb.connect()
    for t in TABLES:
        path = str(ROOT / "data" / f"{t}.csv").replace("'", "''")
        con.execute(
            f"CREATE VIEW {t} AS SELECT * FROM read_csv('{path}', header=true, all_varchar=true, "
            "delim=',', quote='\"', escape='\"', auto_detect=false, columns=" + _columns(t) + ")"
        )
    yield con
    con.close()


def _columns(table: str) -> str:
    import json

    fields = json.loads((ROOT / "schemas" / f"{table}.json").read_text(encoding="utf-8"))["fields"]
    return "{" + ", ".join(f"'{f['name']}': 'VARCHAR'" for f in fields) + "}"


def one(db, sql, *params):
    rows = db.execute(sql, list(params)).fetchall()
    assert len(rows) == 1, (sql, params, rows)
    return rows[0]


def indicator(db, code, frm, to, start, end, source=SEED):
    return one(
        db,
        "SELECT CAST(value AS DOUBLE), unit, coalesce(qualifier, ''), evidence FROM indicators "
        "WHERE indicator=? AND from_country=? AND to_country=? AND period_start=? AND period_end=? "
        "AND source_id=?",
        code,
        frm,
        to,
        start,
        end,
        source,
    )


def assert_indicator(db, key, expected, sources=(SEED,)):
    """Each of `sources` gives the indicator row `key` (code, from, to, start, end) the
    (value, unit, qualifier) `expected`; returns the evidence quoted in the first."""
    quotes = []
    for source in sources:
        value, unit, qual, evidence = indicator(db, *key, source)
        assert (value, unit, qual) == expected, source
        quotes.append(evidence)
    return quotes[0]


def test_seed_is_a_source(db):
    url, published, lang = one(
        db, "SELECT url, published, language FROM sources WHERE source_id=?", SEED
    )
    assert url == "https://news.day.az/politics/1789284.html"
    assert published == "2025-10-20" and lang == "ru"


# --- figures ---------------------------------------------------------------


def test_trade_turnover_547_jan_aug_2025(db):
    key = ("trade_turnover", "AZE", "KAZ", "2025-01-01", "2025-08-31")
    assert "547 миллионов долларов" in assert_indicator(db, key, (547.0, "USD million", ""))


def test_trade_turnover_547_has_second_source(db):
    rows = db.execute(
        "SELECT source_id, CAST(value AS DOUBLE) FROM indicators WHERE indicator='trade_turnover' "
        "AND period_start='2025-01-01' AND period_end='2025-08-31' AND source_id<>? ORDER BY 1",
        [SEED],
    ).fetchall()
    assert ("trend-en-4101917", 548.0) in rows and ("azemedia-economic-core", 547.6) in rows


def test_growth_more_than_threefold(db):
    value, unit, qual, ev = indicator(
        db, "trade_turnover_growth", "AZE", "KAZ", "2025-01-01", "2025-08-31"
    )
    assert (value, unit, qual) == (3.0, "times", "more than")
    assert "втрое" in ev
    v2, u2, _, _ = indicator(
        db,
        "trade_turnover_growth",
        "AZE",
        "KAZ",
        "2025-01-01",
        "2025-08-31",
        source="trend-en-4101917",
    )
    assert (v2, u2) == (3.2, "times")


def test_about_250_companies_with_kazakh_capital(db):
    key = ("companies_with_capital", "KAZ", "AZE", "2025-10-20", "2025-10-20")
    assert "250 компаний" in assert_indicator(db, key, (250.0, "count", "about"))


def test_azerbaijan_invested_225_in_kazakhstan(db):
    key = ("investment_outflow_stock", "AZE", "KAZ", "2025-10-20", "2025-10-20")
    assert_indicator(db, key, (225.0, "USD million", ""))


def test_kazakh_investment_in_azerbaijan_136(db):
    key = ("investment_inflow_stock", "KAZ", "AZE", "2025-10-20", "2025-10-20")
    assert_indicator(db, key, (136.0, "USD million", ""))


def test_transit_more_than_3_5_million_tonnes_plus_20_percent(db):
    sources = (SEED, "trend-ru-4105747")
    period = ("AZE", "KAZ", "2024-01-01", "2024-12-31")
    assert_indicator(db, ("cargo_transit", *period), (3.5, "million tonnes", "more than"), sources)
    assert_indicator(db, ("cargo_transit_growth", *period), (20.0, "percent", ""), sources)


def test_oil_transit_agreement_1_5_million_tonnes_per_year(db):
    key = ("oil_transit_contracted", "KAZ", "AZE", "2022-11-01", "2022-11-30")
    expected = (1.5, "million tonnes per year", "")
    assert_indicator(db, key, expected, (SEED, "xalqqazeti-212558"))


def test_about_170_legal_documents(db):
    key = ("legal_documents", "AZE", "KAZ", "2025-10-20", "2025-10-20")
    assert "170 документов" in assert_indicator(db, key, (170.0, "count", "about"))


def test_seven_aliyev_visits_to_kazakhstan_in_three_years(db):
    key = ("presidential_visits", "AZE", "KAZ", "2022-10-01", "2025-10-21")
    assert_indicator(db, key, (7.0, "count", ""), (SEED, "report-ru-2025-10-18-interview"))


def test_six_tokayev_visits_to_azerbaijan_in_three_years(db):
    key = ("presidential_visits", "KAZ", "AZE", "2022-10-01", "2025-10-18")
    assert_indicator(db, key, (6.0, "count", ""), (SEED, "report-ru-2025-10-18-interview"))


# --- agreements -----------------------------------------------------------


def test_2005_treaty_on_strategic_partnership_and_allied_relations(db):
    date, prec, place, kind, status, title_ru = one(
        db,
        "SELECT signed_date, date_precision, signed_place, kind, status, title_ru FROM agreements "
        "WHERE title_en ILIKE '%strategic partnership and allied relations%'",
    )
    assert (date, prec, place, kind, status) == ("2005-05-24", "day", "Baku", "treaty", "ratified")
    assert "союзнических отношениях" in title_ru


def test_2022_middle_corridor_roadmap_2022_2027(db):
    date, prec, kind, parties = one(
        db,
        "SELECT signed_date, date_precision, kind, parties FROM agreements "
        "WHERE kind='roadmap' AND title_en LIKE '%2022-2027%' AND title_en ILIKE '%Middle Corridor%'",
    )
    assert date.startswith("2022") and kind == "roadmap"
    assert "Azerbaijan" in parties and "Kazakhstan" in parties and "Türkiye" in parties


def test_march_2025_baku_contract_caspian_fibre_optic_line(db):
    date, prec, place, ev = one(
        db,
        "SELECT signed_date, date_precision, signed_place, evidence FROM agreements "
        "WHERE agreement_id='contract-2025-03-caspian-focl-construction'",
    )
    assert (date, prec, place) == ("2025-03-01", "month", "Baku")
    assert "конец 2026 года" in ev


def test_socar_kazmunaygas_general_agreement(db):
    parties, kind, date, prec = one(
        db,
        "SELECT parties, kind, signed_date, date_precision FROM agreements "
        "WHERE agreement_id='socar-kmg-2022-general-transit-agreement'",
    )
    assert parties == "SOCAR;KazMunayGas" and kind == "corporate agreement"
    assert (date, prec) == ("2022-11-01", "month")


def test_2024_decision_on_gradual_increase_of_supplies(db):
    date, summary = one(
        db,
        "SELECT signed_date, summary_en FROM agreements WHERE agreement_id='socar-kmg-2024-03-increase-to-2-2mt'",
    )
    assert date.startswith("2024-")
    assert "gradual" in summary.lower() or "step by step" in summary.lower()


# --- projects -------------------------------------------------------------


def test_kurmangazy_childrens_creativity_centre_in_fuzuli(db):
    sector, status, location, done, name_ru = one(
        db,
        "SELECT sector, status, location, planned_completion, name_ru FROM projects "
        "WHERE name_en ILIKE '%Kurmangazy%'",
    )
    assert (sector, status, done) == ("culture", "completed", "2024-03-12")
    assert "Fuzuli" in location and "Курмангазы" in name_ru


def test_caspian_fibre_optic_line_project(db):
    sector, done, prec, agreement = one(
        db,
        "SELECT sector, planned_completion, planned_completion_precision, agreement_id FROM projects "
        "WHERE project_id='trans-caspian-focl'",
    )
    assert (sector, done, prec) == ("digital", "2026-12-01", "month")
    assert agreement == "contract-2025-03-caspian-focl-construction"


def test_green_energy_corridor_kz_az_uz(db):
    sector, partners, cap, unit = one(
        db,
        "SELECT sector, partners, CAST(capacity_value AS DOUBLE), capacity_unit FROM projects "
        "WHERE name_en ILIKE '%Green Energy Corridor%'",
    )
    assert sector == "energy" and (cap, unit) == (7.0, "GW")
    assert all(c in partners for c in ("Azerbaijan", "Kazakhstan", "Uzbekistan"))


def test_aktau_ceyhan_oil_transit(db):
    sector, status, agreement, cap, unit = one(
        db,
        "SELECT sector, status, agreement_id, CAST(capacity_value AS DOUBLE), capacity_unit FROM projects "
        "WHERE project_id='kazakh-oil-transit-aktau-baku-ceyhan'",
    )
    assert (sector, status) == ("energy", "operating")
    assert agreement == "socar-kmg-2022-general-transit-agreement"
    assert unit == "million tonnes per year" and cap == 2.2


def test_ai_intelligent_transport_ml_for_aktau_and_alat_ports(db):
    sector, src, ev = one(
        db,
        "SELECT sector, source_id, evidence FROM projects WHERE project_id='ai-smart-transport-ports-aktau-alat'",
    )
    assert sector == "digital" and src == SEED
    assert "машинного обучения" in ev and "Актау и Алят" in ev


def test_university_it_centre_cooperation_ai_data_cybersecurity(db):
    sector, src, ev = one(
        db,
        "SELECT sector, source_id, evidence FROM projects "
        "WHERE project_id='university-it-cooperation-ai-data-cybersecurity'",
    )
    assert sector == "education" and src == SEED
    assert "кибербезопасности" in ev


# --- visits ---------------------------------------------------------------


def test_aliyev_state_visit_to_kazakhstan_october_2025(db):
    start, end, prec, vtype, city, frm, to = one(
        db,
        "SELECT date_start, date_end, date_precision, visit_type, city, visitor_country, host_country "
        "FROM visits WHERE visitor='Ilham Aliyev' AND date_start LIKE '2025-10-%'",
    )
    assert (start, end, prec, vtype, city, frm, to) == (
        "2025-10-20",
        "2025-10-21",
        "day",
        "state visit",
        "Astana",
        "AZE",
        "KAZ",
    )


def test_tokayev_at_ots_summit_in_gabala_october_2025(db):
    start, vtype, city, occasion = one(
        db,
        "SELECT date_start, visit_type, city, occasion FROM visits "
        "WHERE visitor='Kassym-Jomart Tokayev' AND city='Gabala'",
    )
    assert start.startswith("2025-10-") and vtype == "summit"
    assert "Green Energy Corridor" in occasion
