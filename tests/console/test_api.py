"""The JSON API keeps the console's district boundaries for devices and the review queue."""

from __future__ import annotations

from server.accounts import users as accounts
from server.api.access import issue_token
from server.extensions import db
from server.models import User


def _bearer(app, username: str) -> dict:
    with app.app_context():
        user = db.session.query(User).filter_by(username=username).one()
        secret, _ = issue_token(user=user)
        db.session.commit()
    return {"Authorization": f"Bearer {secret}"}


def test_a_coordinator_reads_and_changes_only_their_districts_through_the_api(console, app):
    a, b = console.district_a, console.district_b
    answers_b = console.interviews[b][0]
    held = console.push("enum-b", {**answers_b, "profile": {**answers_b["profile"], "age": 7}})
    assert held["status"] == "quarantined"
    coord_a, coord_b = _bearer(app, "coord-a"), _bearer(app, "coord-b")
    client = console.client
    devices = {d["enumerator"] for d in client.get("/api/v1/devices", headers=coord_a).get_json()["devices"]}
    assert devices == {"enum-a"}
    assert client.get("/api/v1/sync/quarantine", headers=coord_a).get_json()["items"] == []
    assert len(client.get("/api/v1/sync/quarantine", headers=coord_b).get_json()["items"]) == 1
    other_device = console.phones["enum-b"][0]
    assert client.post(f"/api/v1/devices/{other_device}/revoke", headers=coord_a).status_code == 404
    assert client.post("/api/v1/devices", json={"username": "enum-b"}, headers=coord_a).status_code == 404
    # the admin still sees and does everything
    admin = _bearer(app, "c-admin")
    everyone = {d["enumerator"] for d in client.get("/api/v1/devices", headers=admin).get_json()["devices"]}
    assert everyone == {"enum-a", "enum-b"}
    assert a != b


def test_enumerators_not_yet_assigned_are_every_coordinators(console, app):
    with app.app_context():
        accounts.create_user(db.session, "enum-new", "correct horse battery", "enumerator")
        db.session.commit()
    created = console.client.post("/api/v1/devices", json={"username": "enum-new"},
                                  headers=_bearer(app, "coord-a"))
    assert created.status_code == 201
