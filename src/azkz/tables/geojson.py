"""What makes a cell a GeoJSON object, as SQL: Frictionless's GeoJSON profile, rule by rule.

Frictionless 5 checks a `geojson` cell against the JSON Schema it ships
(`frictionless/assets/profiles/geojson.json`, draft 4).  This writes the same rules as
one DuckDB expression over the cell's JSON, so that validation, profiles and loaders
read the type with no Python in the loop:

- the root is an object with a `type`; an optional `bbox` is an array of numbers; an
  optional `crs` is an object of exactly `type` and `properties`, either named (`name`,
  with `properties` holding only a string `name`) or linked (`link`, with `properties`
  holding a string `href`);
- a geometry (`Point` … `MultiPolygon`) has `coordinates` of its shape, where a
  position is exactly two numbers, a line string two or more positions and a linear
  ring four or more;
- a `GeometryCollection` has `geometries`, an array of geometries;
- a `Feature` has `geometry` (null or a geometry) and `properties` (an object or null);
  a `FeatureCollection` has `features`, an array of features (whose `type`, as in the
  profile, may be left out).
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import count

NUMBER_TYPES = "('BIGINT', 'UBIGINT', 'HUGEINT', 'DOUBLE')"
_names = count()


def geojson_sql(col: str) -> str:
    """True when the text `col` (valid JSON) is a GeoJSON object by the profile's rules."""
    doc = f"TRY_CAST({col} AS JSON)"
    kind = f"json_extract_string({doc}, '$.type')"
    shapes = (
        f"CASE {kind} WHEN 'GeometryCollection' THEN {_collection(doc)} "
        f"WHEN 'Feature' THEN {_feature(doc)} "
        f"WHEN 'FeatureCollection' THEN ({_has(doc, 'features')} "
        f"AND {_array_of(_member(doc, 'features'), _feature)}) ELSE {_geometry(doc)} END"
    )
    bbox = f"(NOT {_has(doc, 'bbox')} OR {_array_of(_member(doc, 'bbox'), _number)})"
    return f"({_object(doc)} AND {_has(doc, 'type')} AND {bbox} AND {_crs(doc)} AND {shapes})"


def _member(doc: str, key: str) -> str:
    return f"json_extract({doc}, '$.\"{key}\"')"


def _has(doc: str, key: str) -> str:
    return f"json_exists({doc}, '$.\"{key}\"')"


def _json_type(doc: str) -> str:
    return f"coalesce(json_type({doc}), 'MISSING')"


def _object(doc: str) -> str:
    return f"({_json_type(doc)} = 'OBJECT')"


def _number(doc: str) -> str:
    return f"({_json_type(doc)} IN {NUMBER_TYPES})"


def _string(doc: str) -> str:
    return f"({_json_type(doc)} = 'VARCHAR')"


def _array_of(doc: str, item: Callable[[str], str], at_least: int = 0) -> str:
    """`doc` is an array of at least `at_least` items, each meeting `item`."""
    name = f"_g{next(_names)}"
    each = (
        f"list_bool_and(list_transform(json_extract({doc}, '$[*]'), lambda {name}: {item(name)}))"
    )
    return (
        f"({_json_type(doc)} = 'ARRAY' AND json_array_length({doc}) >= {at_least} "
        f"AND coalesce({each}, true))"
    )


def _position(doc: str) -> str:
    first, second = f"json_extract({doc}, '$[0]')", f"json_extract({doc}, '$[1]')"
    return (
        f"({_json_type(doc)} = 'ARRAY' AND json_array_length({doc}) = 2 "
        f"AND {_number(first)} AND {_number(second)})"
    )


def _positions(at_least: int) -> Callable[[str], str]:
    return lambda doc: _array_of(doc, _position, at_least)


COORDINATES: dict[str, Callable[[str], str]] = {
    "Point": _position,
    "MultiPoint": _positions(0),
    "LineString": _positions(2),
    "MultiLineString": lambda doc: _array_of(doc, _positions(2)),
    "Polygon": lambda doc: _array_of(doc, _positions(4)),
    "MultiPolygon": lambda doc: _array_of(doc, lambda ring: _array_of(ring, _positions(4))),
}


def _geometry(doc: str) -> str:
    coordinates = _member(doc, "coordinates")
    shapes = " ".join(
        f"WHEN '{kind}' THEN {shape(coordinates)}" for kind, shape in COORDINATES.items()
    )
    kind = f"json_extract_string({doc}, '$.type')"
    return (
        f"({_object(doc)} AND {_has(doc, 'type')} AND {_has(doc, 'coordinates')} "
        f"AND {_string(_member(doc, 'type'))} AND coalesce(CASE {kind} {shapes} END, false))"
    )


def _collection(doc: str) -> str:
    return f"({_has(doc, 'geometries')} AND {_array_of(_member(doc, 'geometries'), _geometry)})"


def _feature(doc: str) -> str:
    kind = _member(doc, "type")
    geometry, properties = _member(doc, "geometry"), _member(doc, "properties")
    return (
        f"({_object(doc)} AND (NOT {_has(doc, 'type')} OR ({_string(kind)} "
        f"AND json_extract_string({doc}, '$.type') = 'Feature')) "
        f"AND {_has(doc, 'geometry')} AND {_has(doc, 'properties')} "
        f"AND ({_json_type(geometry)} = 'NULL' OR {_geometry(geometry)}) "
        f"AND {_json_type(properties)} IN ('OBJECT', 'NULL'))"
    )


def _crs(doc: str) -> str:
    crs = _member(doc, "crs")
    kind, properties = _member(crs, "type"), _member(crs, "properties")
    keys = f"json_keys({crs})"
    named = (
        f"(json_extract_string({crs}, '$.type') = 'name' "
        f"AND json_keys({properties}) = ['name'] AND {_string(_member(properties, 'name'))})"
    )
    linked = (
        f"(json_extract_string({crs}, '$.type') = 'link' AND {_has(properties, 'href')} "
        f"AND {_string(_member(properties, 'href'))} "
        f"AND (NOT {_has(properties, 'type')} OR {_string(_member(properties, 'type'))}))"
    )
    return (
        f"(NOT {_has(doc, 'crs')} OR ({_object(crs)} AND list_sort({keys}) = ['properties', 'type'] "
        f"AND {_string(kind)} AND {_object(properties)} AND ({named} OR {linked})))"
    )
