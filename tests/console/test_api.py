"""The JSON API keeps the console's district boundaries for devices and the review queue."""

from __future__ import annotations

from server.accounts import users as accounts
from server.accounts.secrets import issue_token
from server.api.body import attachment
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


def test_progress_submissions_exports_and_audit_through_the_api(console, app):
    a = console.district_a
    commune = console.interviews[a][0]["profile"]["commune"]
    pushed = console.push("enum-a", console.interviews[a][0])
    console.push("enum-b", console.interviews[console.district_b][0])
    client, coord_a = console.client, _bearer(app, "coord-a")
    progress = client.get("/api/v1/console/progress?round=2017", headers=coord_a).get_json()
    assert progress["target"] == 5 and progress["received"] == 1
    assert [(c["key"], c["quota"], c["received"]) for c in progress["communes"]] == [(commune, 5, 1)]
    assert client.get("/api/v1/console/progress?round=1999", headers=coord_a).status_code == 422
    listed = client.get("/api/v1/console/submissions?form=awareness", headers=coord_a).get_json()
    assert [s["id"] for s in listed["submissions"]] == [pushed["sub"]]
    assert listed["submissions"][0]["enumerator"] == "enum-a"
    exported = client.get("/api/v1/console/exports/awareness.csv?labels=en", headers=coord_a)
    assert exported.status_code == 200 and exported.data.startswith("\ufeff".encode())
    assert pushed["sub"] in exported.data.decode("utf-8-sig")
    # named by the one RFC 6266 helper, so an imported form's Vietnamese id downloads too (tests/security)
    assert exported.headers["Content-Disposition"] == attachment("awareness-en.csv")
    private = client.get("/api/v1/console/exports/awareness.csv?private=true", headers=coord_a)
    assert private.status_code == 403
    assert client.get("/api/v1/console/exports/nothing.csv", headers=coord_a).status_code == 404
    assert client.get("/api/v1/console/audit", headers=coord_a).status_code == 403
    log = client.get("/api/v1/console/audit?family=exports", headers=_bearer(app, "c-admin")).get_json()
    assert [e["action"] for e in log["entries"]] == ["export.raw"] and log["entries"][0]["user"] == "coord-a"
    analyst = _bearer(app, "c-analyst")
    for path in ("/api/v1/console/progress?round=2017", "/api/v1/console/submissions",
                 "/api/v1/console/exports/awareness.csv", "/api/v1/console/audit"):
        assert client.get(path, headers=analyst).status_code == 403, path
