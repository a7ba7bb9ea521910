"""`flask --app server places boundaries …`: loading a file (good, broken, hostile), showing, clearing."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from server.extensions import db
from server.models import AuditEntry
from server.models import BoundarySet
from server.reports import boundaries
from tests.boundary_files import geojson

OSM = "© OpenStreetMap contributors (ODbL)"


@pytest.fixture
def write(tmp_path):
    def make(data: bytes, name: str = "cantho.geojson"):
        path = tmp_path / name
        path.write_bytes(data)
        return str(path)
    return make


def _load(runner, path, attribution=OSM):
    return runner.invoke(args=["places", "boundaries", "load", path, "--attribution", attribution])


def test_load_show_and_clear(app, runner, places, write):
    assert "No boundaries loaded" in runner.invoke(args=["places", "boundaries", "show"]).output
    result = _load(runner, write(geojson(commune_limit=3)))
    assert result.exit_code == 0, result.output
    assert "Loaded 9 district and 27 commune boundaries from cantho.geojson." in result.output
    assert "No boundary for 58 communes:" in result.output and "31135" in result.output
    shown = runner.invoke(args=["places", "boundaries", "show"]).output
    assert "cantho.geojson" in shown and f"Attribution: {OSM}" in shown
    assert "9 districts, 27 communes" in shown
    with app.app_context():
        loaded = boundaries.current(db.session)
        assert loaded.attribution == OSM and len(loaded.boundaries.communes) == 27
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "boundaries.load"))
        assert entry.actor_cli and entry.details["communes"] == 27 and entry.details["missing_communes"] == 58
    # loading again replaces the set
    assert _load(runner, write(geojson()), "Synthetic test squares").exit_code == 0
    with app.app_context():
        assert len(db.session.scalars(select(BoundarySet)).all()) == 1
        assert len(boundaries.current(db.session).boundaries.communes) == 85
    assert "Boundaries removed." in runner.invoke(args=["places", "boundaries", "clear"]).output
    assert "No boundaries were loaded." in runner.invoke(args=["places", "boundaries", "clear"]).output
    with app.app_context():
        assert boundaries.current(db.session) is None


def _feature(props, ring):
    return {"type": "Feature", "properties": props, "geometry": {"type": "Polygon", "coordinates": [ring]}}


SQUARE = [[105.7, 10.0], [105.8, 10.0], [105.8, 9.9], [105.7, 9.9], [105.7, 10.0]]


@pytest.mark.parametrize("data, says", [
    (json.dumps({"type": "FeatureCollection", "features": [_feature({"commune_code": "99999"}, SQUARE)]}),
     "No commune has the code 99999"),
    (json.dumps({"type": "FeatureCollection", "features": [_feature({"ref:gso": "31240"}, SQUARE)]}),
     "use their keys: 31240-town, 31240-commune"),
    ('{"type": "FeatureCollection", "features": [{"type": "Feature", '
     '"properties": {"commune_code": "31117"}, '
     '"geometry": {"type": "Polygon", "coordinates": [[[NaN, 10], [1, 1], [2, 2], [NaN, 10]]]}}]}',
     "NaN is not a number GeoJSON allows"),
    ("[" * 100_000 + "]" * 100_000, "nests deeper"),
    (json.dumps({"type": "FeatureCollection", "features": [_feature({"commune_code": "31117"},
                                                                     [[1e308, 1e308]] * 4)]}),
     "/features/0/geometry/coordinates/0/0: Longitude must lie in [-180, 180]"),
    (json.dumps({"type": "FeatureCollection", "features": [_feature({"commune_code": "31117"}, SQUARE[:4])]}),
     "must end where it starts"),
    ("not json at all", "not valid JSON"),
])
def test_broken_and_hostile_files_are_refused_with_their_reason_and_nothing_stored(app, runner, places, write,
                                                                                   data, says):
    result = _load(runner, write(data.encode()))
    assert result.exit_code == 1 and says in result.output, result.output
    assert "Traceback" not in result.output
    with app.app_context():
        assert boundaries.current(db.session) is None


def test_caps_and_a_missing_attribution_are_refused(app, runner, places, write):
    app.config["BOUNDARY_MAX_BYTES"] = 1000
    result = _load(runner, write(geojson()))
    assert result.exit_code == 1 and "at most 1,000 are accepted" in result.output
    app.config["BOUNDARY_MAX_BYTES"] = 5_000_000
    app.config["BOUNDARY_MAX_POSITIONS"] = 100
    result = _load(runner, write(geojson()))
    assert result.exit_code == 1 and "more than 100 positions" in result.output
    app.config["BOUNDARY_MAX_POSITIONS"] = 200_000
    result = _load(runner, write(geojson()), attribution="   ")
    assert result.exit_code == 1 and "© OpenStreetMap contributors" in result.output
    assert runner.invoke(args=["places", "boundaries", "load", write(geojson())]).exit_code == 2  # required


def test_loading_before_the_places_says_to_run_init(runner, write):
    result = _load(runner, write(geojson()))
    assert result.exit_code == 1 and "flask --app server init" in result.output
