"""The console's boundaries page: admins load a GeoJSON file (or remove it); every other role gets 403."""

from __future__ import annotations

import io

import pytest
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from tests.boundary_files import geojson
from tests.web.conftest import PASSWORD
from tests.web.conftest import csrf_token
from tests.web.conftest import sign_in

HTML = {"Accept": "text/html"}
OSM = "© OpenStreetMap contributors"


@pytest.fixture
def signed_in(app, places):
    """A function returning a browser signed in with a new user of ``role``."""
    from server.accounts import users as accounts
    from server.extensions import db

    def make(role: str):
        with app.app_context():
            accounts.create_user(db.session, f"b-{role}", PASSWORD, role)
            db.session.commit()
        client = app.test_client()
        assert sign_in(client, f"b-{role}", lang="en").status_code == 303
        return client

    return make


def _post(client, data: bytes | None, attribution: str = OSM, *, name: str = "cantho.geojson"):
    token = csrf_token(client.get("/console/boundaries?lang=en").get_data(as_text=True))
    form = {"csrf_token": token, "attribution": attribution}
    if data is not None:
        form["file"] = FileStorage(io.BytesIO(data), name)
    # encoded in memory: the test client spools a large body to a file it never closes
    boundary, body = encode_multipart(form)
    return client.post("/console/boundaries?lang=en", data=body, headers=HTML,
                       content_type=f"multipart/form-data; boundary={boundary}")


@pytest.mark.parametrize("role", ["coordinator", "analyst", "planner", "enumerator"])
def test_only_admins_may_see_or_load_boundaries(signed_in, role):
    client = signed_in(role)
    token = csrf_token(client.get("/login").get_data(as_text=True))
    assert client.get("/console/boundaries", headers=HTML).status_code == 403
    form = {"csrf_token": token, "attribution": OSM, "file": (io.BytesIO(geojson()), "x.geojson")}
    assert client.post("/console/boundaries", data=form, content_type="multipart/form-data",
                       headers=HTML).status_code == 403
    cleared = client.post("/console/boundaries/clear", data={"csrf_token": token}, headers=HTML)
    assert cleared.status_code == 403
    if role == "coordinator":
        assert "/console/boundaries" not in client.get("/console/forms").get_data(as_text=True)


def test_an_admin_loads_then_removes_boundaries(app, signed_in):
    client = signed_in("admin")
    page = client.get("/console/boundaries?lang=en").get_data(as_text=True)
    assert "No boundaries loaded: the maps are tile maps." in page and 'href="/console/boundaries"' in page
    response = _post(client, geojson(commune_limit=3))
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Boundaries loaded." in html
    assert "In use: cantho.geojson" in html and "9 districts, 27 communes" in html
    assert f'<span class="attribution">{OSM}</span>' in html and "No boundary for: 31135" in html
    audit = client.get("/console/audit?family=places").get_data(as_text=True)
    assert "boundaries.load" in audit
    token = csrf_token(html)
    html = client.post("/console/boundaries/clear?lang=en", data={"csrf_token": token}).get_data(as_text=True)
    assert "Boundaries removed." in html and "No boundaries loaded" in html


def test_posts_need_the_csrf_token(signed_in):
    client = signed_in("admin")
    form = {"attribution": OSM, "file": (io.BytesIO(geojson()), "x")}
    response = client.post("/console/boundaries", data=form, content_type="multipart/form-data", headers=HTML)
    assert response.status_code == 400 and response.headers["Ferry-Problem"] == "csrf-failed"


@pytest.mark.parametrize("data, attribution, status, says", [
    (None, OSM, 422, "Choose a GeoJSON file."),
    (geojson(), "  ", 422, "© OpenStreetMap contributors"),
    (b'{"type": "FeatureCollection", "features": [{"type": "Feature", '
     b'"properties": {"commune_code": "31117"}, '
     b'"geometry": {"type": "Polygon", "coordinates": [[[NaN, 1], [1, 1], [2, 2], [NaN, 1]]]}}]}', OSM, 422,
     "NaN is not a number GeoJSON allows"),
    (b"[" * 500_000 + b"]" * 500_000, OSM, 422, "nests deeper"),
    (b'{"type": "FeatureCollection", "features": [{"type": "Feature", '
     b'"properties": {"commune_code": "99999"}, '
     b'"geometry": {"type": "Polygon", "coordinates": [[[1, 1], [1, 2], [2, 2], [1, 1]]]}}]}', OSM, 422,
     "No commune has the code 99999"),
    (b"\x00" * 5_300_000, OSM, 413, "at most 5,242,880 are accepted"),
])
def test_bad_files_are_refused_with_their_problems_and_nothing_changes(signed_in, data, attribution, status,
                                                                       says):
    client = signed_in("admin")
    response = _post(client, data, attribution)
    html = response.get_data(as_text=True)
    assert response.status_code == status and says in html, html[-1500:]
    assert 'id="load-problems"' in html and "No boundaries loaded" in html
