"""The report maps with and without loaded boundaries: the boundary map where they can show the level,
the tile map where not, each with its legend, and the attribution under every boundary map."""

from __future__ import annotations

import re

import pytest

from tests.boundary_files import geojson

ATTRIBUTION = "Synthetic test squares & <co> (CC0)"
PLACE = re.compile(r'<path class="place" d="[^"]+" fill="(#[0-9a-f]{6})"[^>]*><title>([^<]*)</title></path>')


def load_boundaries(app, **kwargs) -> None:
    """Load the synthetic boundaries (:mod:`tests.boundary_files`) into ``app``'s database."""
    from server.extensions import db
    from server.reports import boundaries

    with app.app_context():
        boundaries.load(db.session, geojson(**kwargs), source_name="test.geojson", attribution=ATTRIBUTION,
                        max_bytes=app.config["BOUNDARY_MAX_BYTES"],
                        max_positions=app.config["BOUNDARY_MAX_POSITIONS"], cli=True)
        db.session.commit()


def clear_boundaries(app) -> None:
    """Remove them again (the seeded site is shared by every page test)."""
    from server.extensions import db
    from server.reports import boundaries

    with app.app_context():
        boundaries.clear(db.session, cli=True)
        db.session.commit()


@pytest.fixture
def loaded(site):
    """The whole synthetic city's boundaries loaded for the test, removed after it."""
    load_boundaries(site.app)
    yield
    clear_boundaries(site.app)


def test_with_boundaries_the_pages_and_the_full_report_draw_them(site, as_role, loaded, tmp_path):
    from analysis.report_map import TIER_COLOURS

    client = as_role("planner")
    html = client.get("/reports/priorities?lang=en").get_data(as_text=True)
    assert 'class="tile"' not in html and '<svg class="map boundary-map"' in html
    shapes = PLACE.findall(html)
    assert len(shapes) == 85 and {c for c, _ in shapes} <= {*TIER_COLOURS.values(), "#ffffff"}
    assert '<title id="map-title">Map: tiers, round 2018 (Communes)</title>' in html
    assert "Boundary data: Synthetic test squares &amp; &lt;co&gt; (CC0)" in html  # escaped, under the map
    if "Model estimate" in html or "no interviews" in html:
        assert "hatched: model estimate only (no interviews)</text>" in html
    district = client.get("/reports/priorities?lang=en&level=district").get_data(as_text=True)
    assert len(PLACE.findall(district)) == 9 and "Map: tiers, round 2018 (Districts)" in district
    districts = client.get("/reports/districts?lang=vi").get_data(as_text=True)
    assert len(PLACE.findall(districts)) == 9 and "Bản đồ: điểm hiểu biết trung bình" in districts
    assert "Nguồn ranh giới: Synthetic test squares" in districts
    full = client.get("/reports/full?round=2018&lang=en").get_data(as_text=True)
    assert len(PLACE.findall(full)) == 85 and "Map: the communes&#x27; tiers, round 2018" in full
    assert "Boundary data: Synthetic test squares &amp; &lt;co&gt; (CC0)" in full
    out = tmp_path / "report.html"
    result = site.app.test_cli_runner().invoke(args=["report", "html", "--round", "2018", "--language", "vi",
                                                     "--out", str(out)])
    assert result.exit_code == 0, result.output
    written = out.read_text(encoding="utf-8")
    assert len(PLACE.findall(written)) == 85 and "Nguồn ranh giới: Synthetic test squares" in written


def test_without_boundaries_the_pages_draw_tile_maps(as_role):
    client = as_role("planner")
    for path in ("/reports/priorities?lang=en", "/reports/districts?lang=en",
                 "/reports/full?round=2018&lang=en"):
        html = client.get(path).get_data(as_text=True)
        assert html.count('class="tile"') == 85 and "boundary-map" not in html and "Boundary data" not in html


def test_district_boundaries_alone_draw_districts_and_leave_communes_to_the_tile_map(site, as_role):
    load_boundaries(site.app, commune_limit=0)
    try:
        client = as_role("planner")
        communes = client.get("/reports/priorities?lang=en").get_data(as_text=True)
        assert communes.count('class="tile"') == 85 and "Boundary data" not in communes
        districts = client.get("/reports/priorities?lang=en&level=district").get_data(as_text=True)
        assert len(PLACE.findall(districts)) == 9 and "Boundary data: Synthetic" in districts
        full = client.get("/reports/full?round=2018&lang=en").get_data(as_text=True)
        assert full.count('class="tile"') == 85
    finally:
        clear_boundaries(site.app)
