"""`row_errors` has two plans: one query per group of fields (large tables) and one
query with every rule (tables up to `SMALL_TABLE_ROWS`).  The real tables are small, so
the other tests only see the second plan; here the same bad rows go through both, which
must report exactly the same errors at the same lines.
"""

from __future__ import annotations

import pytest

from azkz import validate
from tests.test_validate import append_row, unique_indicator_row

BAD_INDICATOR_ROWS = [
    {"evidence": ""},  # required
    {"value": "12,5 mln"},  # type-error, number
    {"value": "12,5 mln"},  # the same failing value on a second row: both reported
    {"value": "1e400"},  # type-error, overflow
    {"period_start": "2025-02-30", "period_end": "2025-03-31"},  # impossible date
    {"period_start": "1902-01-01"},  # period-order
    {"unit": "USD billion"},  # enum
    {"from_country": "XKZ"},  # iso3-code
    {"indicator": "Bad Code"},  # pattern (and foreign key)
]
BAD_VISIT_ROWS = [
    {"visit_id": "order", "date_start": "2020-05-10", "date_end": "2020-05-09"},
    {"visit_id": "precision", "date_start": "2020-05-10", "date_precision": "month"},
    {"visit_id": "iso3", "host_country": "XKZ"},
]


def test_grouped_and_single_query_plans_report_the_same_errors(package_copy, monkeypatch):
    lines = []
    for k, changes in enumerate(BAD_INDICATOR_ROWS):
        unique = unique_indicator_row(period_end=f"1901-12-{10 + k}") | changes
        lines.append(append_row(package_copy, "indicators", **unique))
    for changes in BAD_VISIT_ROWS:
        lines.append(append_row(package_copy, "visits", **changes))

    single = validate.validate_package(package_copy).errors
    monkeypatch.setattr(validate, "SMALL_TABLE_ROWS", 0)
    grouped = validate.validate_package(package_copy).errors

    assert grouped == single
    assert {e["line"] for e in single} == set(lines)
    codes = {e["code"] for e in single}
    assert {"constraint-error", "type-error", "period-order", "iso3-code"} <= codes
    assert {"date-order", "date-precision", "foreign-key"} <= codes


@pytest.mark.parametrize("rows", [0, 10_000])
def test_valid_package_passes_both_plans(package_copy, monkeypatch, rows):
    monkeypatch.setattr(validate, "SMALL_TABLE_ROWS", rows)
    assert validate.validate_package(package_copy).errors == []
