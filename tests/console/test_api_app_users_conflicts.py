"""The console's app users and conflict decisions are in the JSON API too, within the same districts."""

from __future__ import annotations

import copy
import uuid

from sqlalchemy import select

from server.extensions import db
from server.models import AuditEntry
from server.models import Submission
from server.models import SubmissionConflict
from sync.protocol import PROTOCOL
from tests.console.test_api import _bearer
from tests.openrosa.collect import Collect


def test_a_coordinator_creates_lists_and_revokes_an_app_user_through_the_api(console, app):
    coord_a, coord_b = _bearer(app, "coord-a"), _bearer(app, "coord-b")
    client = console.client
    body = {"name": "Điện thoại Cái Khế", "enumerator": "enum-a", "forms": ["awareness"]}
    created = client.post("/api/v1/console/app-users", json=body, headers=coord_a)
    assert created.status_code == 201, created.get_json()
    issued = created.get_json()
    assert "/v1/key/" in issued["server_url"]
    assert issued["settings"]["general"]["server_url"] == issued["server_url"]
    assert issued["settings"]["admin"] == {} and issued["forms"] == ["awareness"]
    # another district's coordinator neither sees it nor makes one for enum-a
    assert client.get("/api/v1/console/app-users", headers=coord_b).get_json()["app_users"] == []
    refused = client.post("/api/v1/console/app-users", json=body | {"name": "x"}, headers=coord_b)
    assert refused.status_code in (403, 404) and refused.mimetype == "application/problem+json"
    listed = client.get("/api/v1/console/app-users", headers=coord_a).get_json()["app_users"]
    assert [(u["name"], u["enumerator"], u["forms"], u["revoked_at"]) for u in listed] == [
        ("Điện thoại Cái Khế", "enum-a", ["awareness"], None)]
    # the token in the settings works over OpenRosa, and stops working once revoked
    from tests.live_server import live_server

    with live_server(app) as url:
        phone = Collect(issued["server_url"].replace(issued["server_url"].split("/v1/")[0], url))
        assert phone.form_list().status == 200
        wrong = client.post(f"/api/v1/console/app-users/{listed[0]['id']}/revoke", headers=coord_b)
        assert wrong.status_code == 404
        revoked = client.post(f"/api/v1/console/app-users/{listed[0]['id']}/revoke", headers=coord_a)
        assert revoked.status_code == 200 and revoked.get_json()["revoked_at"]
        assert phone.form_list().status == 403
    bad = client.post("/api/v1/console/app-users", json={"name": "", "enumerator": "enum-a", "forms": []},
                      headers=coord_a)
    assert bad.status_code == 422 and bad.get_json()["code"] == "validation-failed"


def _conflict(console) -> tuple[str, str]:
    answers = console.interviews[console.district_a][0]
    sub = str(uuid.uuid4())

    def op(kind, ans, base=None):
        body = {"id": str(uuid.uuid4()), "kind": kind, "sub": sub, "at": "2017-06-02T08:00:00+07:00",
                "form": "awareness", "ver": "2017.1", "ans": ans}
        return body | ({"base": base} if base else {})

    def aged(age):
        changed = copy.deepcopy(answers)
        changed["profile"]["age"] = age
        return changed

    create = op("create", answers)
    ops = [create, op("correct", aged(40), create["id"]), op("correct", aged(41), create["id"])]
    device_id, headers = console.phones["enum-a"]
    pushed = console.client.post("/api/v1/sync/push", json={"protocol": PROTOCOL, "device_id": device_id,
                                                            "ops": ops}, headers=headers)
    assert [r["status"] for r in pushed.get_json()["results"]] == ["created"] * 3
    with console.app.app_context():
        key = db.session.scalar(select(SubmissionConflict.key).where(SubmissionConflict.submission_id == sub))
    return sub, key


def test_a_coordinator_decides_a_conflict_through_the_api_with_a_note(console, app):
    sub, key = _conflict(console)
    coord_a, coord_b = _bearer(app, "coord-a"), _bearer(app, "coord-b")
    client = console.client
    assert client.get("/api/v1/console/conflicts", headers=coord_b).get_json()["conflicts"] == []
    listed = client.get("/api/v1/console/conflicts", headers=coord_a).get_json()["conflicts"]
    assert [(c["key"], c["submission_id"]) for c in listed] == [(key, sub)]
    no_note = client.post(f"/api/v1/console/conflicts/{key}", json={"action": "keep_ours", "note": ""},
                          headers=coord_a)
    assert no_note.status_code == 422
    other = client.post(f"/api/v1/console/conflicts/{key}", json={"action": "keep_ours", "note": "gọi lại"},
                        headers=coord_b)
    assert other.status_code in (403, 404)
    decided = client.post(f"/api/v1/console/conflicts/{key}", json={"action": "keep_ours", "note": "gọi lại"},
                          headers=coord_a)
    assert decided.status_code == 200, decided.get_json()
    with app.app_context():
        head = db.session.scalar(select(Submission.head).where(Submission.id == sub))
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "conflict.keep_ours")).one()
        assert entry.details["note"] == "gọi lại"
    assert decided.get_json()["head"] == head
    assert client.get("/api/v1/console/conflicts", headers=coord_a).get_json()["conflicts"] == []
    again = client.post(f"/api/v1/console/conflicts/{key}", json={"action": "keep_theirs", "note": "lại"},
                        headers=coord_a)
    assert again.status_code == 409
