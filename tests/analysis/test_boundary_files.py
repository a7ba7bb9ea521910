"""Reading boundary files: what is accepted, what is refused (with where), and the simplification."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from analysis.boundaries import Boundaries
from analysis.boundaries import match_places
from analysis.boundaries import read_geojson
from analysis.boundaries import simplify_ring
from analysis.errors import BoundariesInvalid
from analysis.errors import BoundariesTooLarge
from forms.places import read_districts
from tests.boundary_files import features
from tests.boundary_files import geojson

CAPS = {"max_bytes": 5_000_000, "max_coordinates": 200_000}
SQUARE = [[[105.7, 10.0], [105.8, 10.0], [105.8, 9.9], [105.7, 9.9], [105.7, 10.0]]]


def _places() -> pd.DataFrame:
    return pd.DataFrame([{"district_code": d.code, "commune_key": c.key, "commune_code": c.code}
                         for d in read_districts() for c in d.communes])


def _file(*feats, **extra) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": list(feats), **extra}).encode()


def _feature(properties, coordinates=SQUARE, kind="Polygon"):
    return {"type": "Feature", "properties": properties,
            "geometry": {"type": kind, "coordinates": coordinates}}


def _refused(data: bytes, error=BoundariesInvalid, **caps):
    with pytest.raises(error) as info:
        read_geojson(data, **{**CAPS, **caps})
    return info.value


def test_a_whole_synthetic_city_matches_every_district_and_commune():
    matched = match_places(read_geojson(geojson(), **CAPS), _places())
    assert len(matched.districts) == 9 and len(matched.communes) == 85
    assert matched.unknown == [] and matched.missing_districts == [] and matched.missing_communes == []
    # the units without a code of their own and the two sharing 31240 are named by their keys
    assert {"916-an-cu", "31240-town", "31240-commune"} <= set(matched.communes)
    assert Boundaries.from_json(json.loads(json.dumps(matched.to_json()))).communes == matched.communes


def test_codes_may_be_numbers_or_osm_ref_gso_and_places_not_named_are_listed():
    data = _file(_feature({"ref:gso": 31117}), _feature({"ref:gso": "916"}),
                 _feature({"commune_code": "31120"}, [SQUARE], "MultiPolygon"))
    matched = match_places(read_geojson(data, **CAPS), _places())
    assert set(matched.communes) == {"31117", "31120"} and set(matched.districts) == {"916"}
    assert len(matched.missing_communes) == 83 and "31123" in matched.missing_communes
    assert len(matched.missing_districts) == 8


def test_unknown_and_ambiguous_codes_are_reported_with_their_feature():
    data = _file(_feature({"commune_code": "99999"}), _feature({"ref:gso": "31240"}),
                 _feature({"district_code": "31117"}), _feature({"commune_code": "31117"}))
    matched = match_places(read_geojson(data, **CAPS), _places())
    assert [u["pointer"] for u in matched.unknown] == ["/features/0", "/features/1", "/features/2"]
    assert "31240-town" in matched.unknown[1]["detail"]
    # a commune's code under district_code does not name a district
    assert "district" in matched.unknown[2]["detail"]
    assert set(matched.communes) == {"31117"}


@pytest.mark.parametrize("data, says", [
    (b"\xff\xfe not utf-8", "UTF-8"),
    (b"{", "not valid JSON"),
    (b'{"type": "Feature"}', "FeatureCollection"),
    (b'{"type": "FeatureCollection", "features": []}', "no features"),
    (b"[" * 200_000 + b"]" * 200_000, "nests deeper"),
    (_file(_feature({"commune_code": "31117"}, [[[math.nan, 10], [1, 1], [2, 2], [math.nan, 10]]])), "NaN"),
    (_file(_feature({"commune_code": "31117"})).replace(b"105.7", b"Infinity", 1), "Infinity"),
    (_file(_feature({"commune_code": "31117"})).replace(b"105.7", b"1e999", 1), "[-180, 180]"),
    (_file(_feature({"commune_code": "31117"})).replace(b"105.7", b"9" * 5000, 1), "not valid JSON"),
    (_file(_feature({"commune_code": "31117"})).replace(b"105.7", b"9" * 400, 1), "[-180, 180]"),
    (_file(_feature({"commune_code": "31117"})).replace(b"105.7", b"200", 2), "[-180, 180]"),
    (_file(_feature({"commune_code": "31117"}, [SQUARE[0][:4]])), "end where it starts"),
    (_file(_feature({"commune_code": "31117"}, [SQUARE[0][:3]])), "at least 4"),
    (_file(_feature({"commune_code": "31117"}, [[["a", "b"]] * 4])), "numbers"),
    (_file(_feature({"commune_code": "31117"}, [[105.7, 10.0]], "Point")), "not 'Point'"),
    (_file(_feature({"name": "Cái Khế"})), "No GSO code"),
    (_file(_feature({"commune_code": {"nested": 1}})), "short text"),
    (_file(_feature({"commune_code": "31117"}, SQUARE, "MultiPolygon")), "at least 4"),
    (_file({"type": "Feature", "properties": {"commune_code": "1"}, "geometry": None}), "Polygon or Multi"),
    (_file(["not a feature"]), "must be a Feature"),
])
def test_hostile_or_broken_files_are_refused_with_a_reason(data, says):
    error = _refused(data)
    said = [error.detail, *(e["detail"] for e in error.errors)]
    assert any(says in text for text in said), said


def test_problems_carry_json_pointers_and_stop_at_twenty():
    error = _refused(_file(*[_feature({"name": "x"}) for _ in range(50)]))
    assert len(error.errors) == 20 and error.errors[3]["pointer"] == "/features/3/properties"
    bad = _refused(_file(_feature({"commune_code": "31117"}, [SQUARE[0][:4]])))
    assert bad.errors == [{"pointer": "/features/0/geometry/coordinates/0",
                           "detail": "A linear ring must end where it starts (RFC 7946 §3.1.6)."}]


def test_the_byte_and_position_caps_refuse_before_reading_further():
    data = geojson()
    assert _refused(data, BoundariesTooLarge, max_bytes=len(data) - 1).fields["limit"] == len(data) - 1
    positions = sum(len(r) for f in features() for p in ([f["geometry"]["coordinates"]]
                    if f["geometry"]["type"] == "Polygon" else f["geometry"]["coordinates"]) for r in p)
    read_geojson(data, max_bytes=len(data), max_coordinates=positions)
    _refused(data, BoundariesTooLarge, max_coordinates=positions - 1)


def _segment_distance(p, a, b):
    (px, py), (ax, ay), (bx, by) = p, a, b
    dx, dy = bx - ax, by - ay
    t = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / ((dx * dx + dy * dy) or 1)))
    return math.hypot(px - ax - t * dx, py - ay - t * dy)


@pytest.mark.parametrize("tolerance", [0.001, 0.01, 0.05])
def test_douglas_peucker_keeps_every_dropped_point_within_the_tolerance(tolerance):
    # a wobbly circle of 2,000 points: plenty to drop, nothing regular enough to hide a bug
    ring = [(math.cos(2 * math.pi * i / 2000) * (1 + 0.03 * math.sin(37 * i / 2000 * 2 * math.pi)),
             math.sin(2 * math.pi * i / 2000)) for i in range(2000)]
    ring.append(ring[0])
    kept = simplify_ring(tuple(ring), tolerance)
    assert kept[0] == kept[-1] == ring[0] and 4 <= len(kept) < len(ring) / 4
    assert set(kept) <= set(ring)
    edges = list(zip(kept, kept[1:], strict=False))
    worst = max(min(_segment_distance(p, a, b) for a, b in edges) for p in ring)
    assert worst <= tolerance + 1e-12
    assert simplify_ring(tuple(ring[:5]), 1.0) == tuple(ring[:5])  # never below a ring's 4 positions
