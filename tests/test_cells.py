"""One text of a cell (issue 22): every output writes a cell through `azkz.core.cells`."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math

import pytest

from azkz.access.query import Result, render
from azkz.core.cells import cell_text, json_value
from azkz.core.markdown import md_cell
from azkz.diff.render import cell as diff_cell
from azkz.publish.site.charts import SeriesPoint
from azkz.publish.site.pages import environment


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        (True, "true"),
        (False, "false"),
        (845.0, "845"),  # as the release's CSV writes a whole number
        (1.25, "1.25"),
        (0.1 + 0.2, "0.30000000000000004"),  # every digit of the double
        (1e16, "1e+16"),  # past 1e16 an integer would invent digits
        (math.inf, "inf"),
        (math.nan, "nan"),
        (decimal.Decimal("12.50"), "12.50"),  # its declared scale
        (7, "7"),
        (dt.date(2024, 2, 29), "2024-02-29"),
        (dt.timedelta(days=1, hours=3), "P1DT3H"),
        (b"\x00\xff", "00ff"),
        ([1, None, "a"], '[1, null, "a"]'),
        ([1.0, 2.5], "[1, 2.5]"),  # whole numbers alike inside a list
        ({"k": dt.date(2020, 1, 1)}, '{"k": "2020-01-01"}'),
        ("text", "text"),
    ],
)
def test_cell_text(value, text):
    assert cell_text(value) == text


def test_json_value_is_always_strict_json():
    cells = [math.nan, -math.inf, decimal.Decimal("1.5"), decimal.Decimal("NaN"), dt.time(1, 2)]
    assert json.dumps(json_value(cells), allow_nan=False) == '[null, null, 1.5, null, "01:02:00"]'
    assert json_value([845.0, decimal.Decimal("2.00")]) == [845.0, 2.0]  # floats stay floats
    assert json_value([845.0, decimal.Decimal("2.00")], whole=True) == [845, 2]  # azkz query


def test_each_output_spells_null_its_own_way_and_the_rest_alike():
    assert md_cell(None) == "" and md_cell(True) == "true" and md_cell("a|b\nc") == "a\\|b c"
    assert diff_cell(None) == "∅" and diff_cell(99.0) == "99" and diff_cell(False) == "false"
    assert environment().filters["cell"] is cell_text  # the site's pages
    point = SeriesPoint("AZE", 2020, 845.0, "USD million", "", "s1", 2, 845.0, 1000.5, "kind")
    assert "845 USD million" in point.tooltip and "range 845–1000.5" in point.tooltip


def test_query_writes_cells_with_the_same_text(tmp_path):
    rows = [(None, True, 845.0, decimal.Decimal("12.50"))]
    for fmt, expected in (("csv", ",true,845,12.50"), ("markdown", "| ∅ | true | 845 | 12.50 |")):
        out = tmp_path / f"{fmt}.txt"
        with out.open("w", encoding="utf-8") as stream:
            render(Result(["a", "b", "c", "d"], iter(rows)), fmt, stream)
        assert expected in out.read_text(encoding="utf-8").splitlines()
