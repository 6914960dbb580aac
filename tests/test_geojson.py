"""GeoJSON cells: `azkz.tables.geojson` accepts exactly what Frictionless's reader
accepts (its GeoJSON profile), shape by shape, here compared cell by cell."""

from __future__ import annotations

import duckdb
import pytest

from azkz.tables.geojson import geojson_sql

POINT = '"type": "Point", "coordinates": [1, 2]'
CELLS = [
    "{" + POINT + "}",
    '{"type": "Point", "coordinates": [1, 2, 3]}',
    '{"type": "Point", "coordinates": [1, true]}',
    '{"type": "Point", "coordinates": "1,2"}',
    '{"type": "Point"}',
    '{"type": "Foo"}',
    '{"type": 1, "coordinates": [1, 2]}',
    '{"coordinates": [1, 2]}',
    "[1, 2]",
    '{"type": "MultiPoint", "coordinates": []}',
    '{"type": "LineString", "coordinates": [[0, 0]]}',
    '{"type": "LineString", "coordinates": [[0, 0], [1, 1]]}',
    '{"type": "MultiLineString", "coordinates": [[[0, 0], [1, 1]], [[0, 0]]]}',
    '{"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 0]]]}',
    '{"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [0, 0]]]}',
    '{"type": "MultiPolygon", "coordinates": [[[[0, 0], [1, 1], [1, 0], [0, 0]]]]}',
    '{"type": "GeometryCollection", "geometries": []}',
    '{"type": "GeometryCollection", "geometries": [{' + POINT + "}]}",
    '{"type": "GeometryCollection", "geometries": [{"type": "Point"}]}',
    '{"type": "Feature", "geometry": null, "properties": null}',
    '{"type": "Feature", "geometry": null}',
    '{"type": "Feature", "geometry": {' + POINT + '}, "properties": {"a": 1}, "id": 7}',
    '{"type": "Feature", "geometry": {"type": "GeometryCollection", "geometries": []}, '
    '"properties": {}}',
    '{"type": "FeatureCollection", "features": [{"geometry": null, "properties": {}}]}',
    '{"type": "FeatureCollection", "features": [{"type": "X", "geometry": null, '
    '"properties": {}}]}',
    '{"type": "FeatureCollection"}',
    "{" + POINT + ', "bbox": [1, 2, "a"]}',
    "{" + POINT + ', "bbox": []}',
    "{" + POINT + ', "crs": null}',
    "{" + POINT + ', "crs": {"type": "name", "properties": {"name": "x"}}}',
    "{" + POINT + ', "crs": {"type": "name", "properties": {"name": "x", "y": 1}}}',
    "{" + POINT + ', "crs": {"type": "name", "properties": {"name": 5}}}',
    "{" + POINT + ', "crs": {"type": "link", "properties": {"href": "x", "type": "proj4"}}}',
    "{" + POINT + ', "crs": {"type": "other", "properties": {}}}',
    "{" + POINT + ', "extra": 5}',
]


@pytest.fixture(scope="module")
def azkz_reads():
    con = duckdb.connect()
    con.execute("CREATE TABLE t (g VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?)", [[c] for c in CELLS])
    rows = con.execute(f"SELECT g, {geojson_sql('g')} FROM t").fetchall()
    return {cell: bool(ok) for cell, ok in rows}


@pytest.mark.parametrize("cell", CELLS)
def test_a_cell_is_geojson_exactly_when_frictionless_reads_it(cell, azkz_reads):
    from frictionless.fields import GeojsonField

    frictionless_reads = GeojsonField(name="g").create_value_reader()(cell) is not None
    assert azkz_reads[cell] is frictionless_reads


def test_both_answers_occur():
    from frictionless.fields import GeojsonField

    read = GeojsonField(name="g").create_value_reader()
    assert {read(c) is not None for c in CELLS} == {True, False}
