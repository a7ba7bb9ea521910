"""The sync API over HTTP: enrolment, push, pull, transport limits, load shedding, the review queue."""

import gzip
import io
import json
import uuid

import pytest

from server.extensions import db
from server.forms import registry as form_registry
from sync.client import HttpTransport
from sync.client import Outbox
from sync.client import SyncClient
from sync.protocol import PROTOCOL
from tests.live_server import live_server
from tests.meeting import MeetingAtTheLock
from tests.meeting import twice_at_once
from tests.problem_shape import assert_problem

REFUSAL = {"round": "2019", "consent": "no"}


@pytest.fixture
def enrolled(client, accounts, forms_installed):
    """An enumerator's device enrolled through the API; return (device_id, headers)."""
    username, _, _ = accounts.user("enumerator")
    created = client.post("/api/v1/devices", json={"username": username, "label": "Phone 1"},
                          headers=accounts.headers("coordinator"))
    assert created.status_code == 201, created.get_json()
    body = client.post("/api/v1/devices/enroll", json={"protocol": PROTOCOL,
                                                        "code": created.get_json()["enrolment_code"]})
    assert body.status_code == 200, body.get_json()
    enrolment = body.get_json()
    return enrolment["device_id"], {"Authorization": f"Bearer {enrolment['token']}"}


def _op(answers=REFUSAL, version=None, **extra):
    version = version or form_registry.library.load("awareness").version
    return {"id": str(uuid.uuid4()), "kind": "create", "sub": str(uuid.uuid4()), "form": "awareness",
            "ver": version, "ans": answers, "at": "2019-06-01T08:00:00+07:00", **extra}


def _push(client, device_id, headers, ops, **envelope):
    body = {"protocol": PROTOCOL, "device_id": device_id, "ops": ops, **envelope}
    return client.post("/api/v1/sync/push", json=body, headers=headers)


def test_enrolment_code_works_once(client, accounts, forms_installed):
    username, _, _ = accounts.user("enumerator")
    code = client.post("/api/v1/devices", json={"username": username},
                       headers=accounts.headers("admin")).get_json()["enrolment_code"]
    first = client.post("/api/v1/devices/enroll", json={"protocol": PROTOCOL, "code": code.lower()})
    assert first.status_code == 200
    assert set(first.get_json()) >= {"device_id", "token", "epoch", "server_time", "limits"}
    again = client.post("/api/v1/devices/enroll", json={"protocol": PROTOCOL, "code": code})
    assert_problem(again, 404, "sync-not-found")
    assert_problem(client.post("/api/v1/devices/enroll", json={"protocol": PROTOCOL, "code": "NOPE-NOPE"}),
                   404, "sync-not-found")


def test_push_stores_once_and_a_retry_gets_the_same_result(client, enrolled):
    device_id, headers = enrolled
    op = _op()
    first = _push(client, device_id, headers, [op])
    assert first.status_code == 200, first.get_json()
    assert first.get_json()["results"][0]["status"] == "created"
    again = _push(client, device_id, headers, [op]).get_json()["results"][0]
    assert again["status"] == "duplicate" and again["original"]["status"] == "created"


def test_invalid_submission_is_quarantined_and_shown_to_coordinators(client, accounts, enrolled):
    device_id, headers = enrolled
    bad = _op({"round": "2019", "consent": "maybe"})
    result = _push(client, device_id, headers, [bad, _op()]).get_json()["results"]
    assert [r["status"] for r in result] == ["quarantined", "created"]
    assert result[0]["reasons"][0]["pointer"] == "/consent"
    queue = client.get("/api/v1/sync/quarantine", headers=accounts.headers("coordinator")).get_json()
    assert [item["op_id"] for item in queue["items"]] == [bad["id"]]
    assert queue["items"][0]["payload"]["ans"] == {"round": "2019", "consent": "maybe"}
    assert_problem(client.get("/api/v1/sync/quarantine", headers=accounts.headers("analyst")), 403,
                   "forbidden")
    assert_problem(client.get("/api/v1/sync/quarantine", headers=headers), 403, "forbidden")


def _held_then_published(client, accounts, enrolled) -> dict:
    """Push an interview of a form version not yet known (held), then publish that version; return its op."""
    from tests.xlsform_builder import mini

    device_id, headers = enrolled
    op = {"id": str(uuid.uuid4()), "kind": "create", "sub": str(uuid.uuid4()), "form": "mini", "ver": "5",
          "ans": {"age": 30, "heard": "yes"}}
    assert _push(client, device_id, headers, [op]).get_json()["results"][0]["status"] == "quarantined"
    coordinator = accounts.headers("coordinator")
    client.post("/api/v1/forms", data={"file": (io.BytesIO(mini("5")), "mini.xlsx")}, headers=coordinator,
                content_type="multipart/form-data")
    client.post("/api/v1/forms/mini/versions/5/publish", headers=coordinator)
    return op


def test_quarantine_for_an_unknown_version_is_accepted_once_it_is_published(app, client, accounts, enrolled):
    op = _held_then_published(client, accounts, enrolled)
    coordinator = accounts.headers("coordinator")
    outcome = client.post("/api/v1/sync/quarantine/revalidate", json={}, headers=coordinator).get_json()
    assert outcome["outcomes"] == {op["id"]: "accepted"}
    assert client.get("/api/v1/sync/quarantine", headers=coordinator).get_json()["items"] == []


def test_two_coordinators_revalidating_one_item_at_once_accept_it_once(app, client, accounts, enrolled):
    import datetime as dt

    import sqlalchemy as sa

    from server.sync.runtime import store
    from sync import engine

    op = _held_then_published(client, accounts, enrolled)
    coordinator = accounts.headers("coordinator")
    with app.app_context():
        shared = MeetingAtTheLock(store())

    def revalidate(_):
        with app.app_context():
            return engine.revalidate_quarantined(shared, now=dt.datetime.now(dt.UTC))

    outcomes, errors = twice_at_once(revalidate)
    assert errors == []
    assert sorted(o.get(op["id"], "none") for o in outcomes) == ["accepted", "none"]
    with app.app_context():
        stored = db.session.execute(sa.text("SELECT count(*) FROM submission_revisions WHERE op_id = :op"),
                                    {"op": op["id"]}).scalar_one()
    assert stored == 1
    assert client.get("/api/v1/sync/quarantine", headers=coordinator).get_json()["items"] == []


def test_gzip_bodies_and_answers(client, enrolled):
    device_id, headers = enrolled
    body = gzip.compress(json.dumps({"protocol": PROTOCOL, "device_id": device_id, "ops": [_op()]}).encode())
    response = client.post("/api/v1/sync/push", data=body, headers={
        **headers, "Content-Type": "application/json", "Content-Encoding": "gzip", "Accept-Encoding": "gzip"})
    assert response.status_code == 200
    page = client.post("/api/v1/sync/pull", json={"protocol": PROTOCOL, "device_id": device_id},
                       headers={**headers, "Accept-Encoding": "gzip"})
    assert page.status_code == 200
    if page.headers.get("Content-Encoding") == "gzip":
        decoded = json.loads(gzip.decompress(page.data))
    else:
        decoded = page.get_json()
    assert decoded["cursor"].startswith("c1.")


def test_zip_bomb_and_oversized_bodies_get_413_with_the_limits(app, client, enrolled):
    device_id, headers = enrolled
    bomb = gzip.compress(b"[" + b" " * (64 << 20) + b"]")
    assert len(bomb) < 200_000
    response = client.post("/api/v1/sync/push", data=bomb, headers={
        **headers, "Content-Type": "application/json", "Content-Encoding": "gzip"})
    body = assert_problem(response, 413, "payload-too-large")
    assert body["max_bytes"] == app.config["SYNC_MAX_PUSH_BYTES"]
    plain = b'{"x": "' + b"a" * (app.config["SYNC_MAX_PUSH_BYTES"] + 10) + b'"}'
    response = client.post("/api/v1/sync/push", data=plain,
                           headers={**headers, "Content-Type": "application/json"})
    assert_problem(response, 413, "payload-too-large")


def test_too_many_ops_is_413_and_nothing_applied(app, client, enrolled):
    device_id, headers = enrolled
    app.config["SYNC_MAX_PUSH_OPS"] = 2
    ops = [_op() for _ in range(3)]
    assert_problem(_push(client, device_id, headers, ops), 413, "payload-too-large")
    app.config["SYNC_MAX_PUSH_OPS"] = 500
    assert [r["status"] for r in _push(client, device_id, headers, ops).get_json()["results"]] == \
        ["created"] * 3


def test_malformed_envelopes(client, enrolled):
    device_id, headers = enrolled
    assert_problem(client.post("/api/v1/sync/push", data=b"{nope", headers={
        **headers, "Content-Type": "application/json"}), 400, "envelope-invalid")
    assert_problem(client.post("/api/v1/sync/push", data=b"\x1f\x8b garbage", headers={
        **headers, "Content-Type": "application/json", "Content-Encoding": "gzip"}), 400, "envelope-invalid")
    brotli = {**headers, "Content-Type": "application/json", "Content-Encoding": "br"}
    assert_problem(client.post("/api/v1/sync/push", data=b"{}", headers=brotli), 415,
                   "unsupported-media-type")
    assert_problem(client.post("/api/v1/sync/push", json=["x"], headers=headers), 400, "envelope-invalid")
    assert_problem(client.post("/api/v1/sync", json=["x"], headers=headers), 400, "envelope-invalid")
    assert_problem(_push(client, device_id, headers, [_op()], protocol=99), 426, "protocol-unsupported")


def test_a_device_cannot_push_as_another(client, accounts, enrolled):
    _, headers = enrolled
    other_id, _ = accounts.device()
    assert_problem(_push(client, str(other_id), headers, [_op()]), 403, "device-mismatch")


def test_staff_tokens_cannot_push(client, accounts, enrolled):
    device_id, _ = enrolled
    assert_problem(_push(client, device_id, accounts.headers("coordinator"), [_op()]), 403, "forbidden")


def test_load_shedding_429_and_maintenance_503_carry_retry_after(app, client, enrolled):
    device_id, headers = enrolled
    gate = app.extensions["ferry_sync"]["gate"]
    for _ in range(app.config["SYNC_MAX_CONCURRENT"]):
        gate.acquire()
    try:
        busy = _push(client, device_id, headers, [_op()])
    finally:
        for _ in range(app.config["SYNC_MAX_CONCURRENT"]):
            gate.release()
    assert_problem(busy, 429, "too-many-requests")
    assert busy.headers["Retry-After"] == "5"
    app.config["SYNC_PAUSED"] = True
    paused = _push(client, device_id, headers, [_op()])
    assert_problem(paused, 503, "service-unavailable")
    assert int(paused.headers["Retry-After"]) > 0


def test_revoked_device_is_refused_and_the_list_shows_sync_state(client, accounts, enrolled):
    device_id, headers = enrolled
    _push(client, device_id, headers, [_op()], sent_at="2019-06-01T08:00:00+07:00")
    coordinator = accounts.headers("coordinator")
    listed = client.get("/api/v1/devices", headers=coordinator).get_json()["devices"]
    mine = next(d for d in listed if d["device_id"] == device_id)
    assert mine["last_ack"]["op"] and mine["clock_skew_s"] is not None and mine["last_seen_at"]
    assert client.post(f"/api/v1/devices/{device_id}/revoke", headers=coordinator).status_code == 200
    assert_problem(_push(client, device_id, headers, [_op()]), 403, "device-revoked")
    assert_problem(client.post("/api/v1/devices/not-a-device/revoke", headers=coordinator), 404, "not-found")


def test_the_real_client_over_real_http_with_lost_answers(app, accounts, tmp_path, forms_installed):
    """Drop the first answer after the server committed: the client retries and nothing doubles."""
    from sqlalchemy import func
    from sqlalchemy import select

    from server.models import Submission

    drops = {"left": 1}

    def lose_first_push_answer(wsgi):
        def middleware(environ, start_response):
            body = wsgi(environ, start_response)
            if environ["PATH_INFO"] == "/api/v1/sync/push" and drops["left"]:
                drops["left"] -= 1
                list(body)  # the server finished and committed
                raise ConnectionAbortedError("answer lost on the way back")
            return body
        return middleware

    username, _, _ = accounts.user("enumerator")
    with app.app_context():
        import datetime as dt

        from server.accounts.users import enroll_device

        _, code = enroll_device(db.session, username, "laptop", dt.timedelta(hours=1))
        db.session.commit()
    version = form_registry.library.load("awareness").version
    with live_server(app, wrap=lose_first_push_answer) as url:
        client = SyncClient(Outbox(tmp_path / "outbox.sqlite"), HttpTransport(url, timeout=10),
                            sleep=lambda s: None)
        client.enrol(code)
        for _ in range(5):
            client.create("awareness", version, REFUSAL)
        client.push()
        client.pull()
        status = client.outbox.status()
    assert drops["left"] == 0
    # The first answer was lost after the commit: the retry is answered "duplicate", stored once.
    assert status["pending"] == 0 and status["archived"] == {"duplicate": 5}
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Submission)) == 5


def test_sync_answers_are_json_whichever_encoder_writes_them():
    # orjson writes the usual answer; what it refuses (an integer past 64 bits) the json module writes
    from server.api.sync_edge import _json_bytes

    usual = {"results": [{"op": "a", "status": "created", "rev": 1, "note": "Tiếng Việt"}], "ack": None}
    assert json.loads(_json_bytes(usual)) == usual
    assert "Tiếng Việt".encode() in _json_bytes(usual)  # UTF-8, not \u escapes, as before
    huge = {"n": 2**70, "text": "đ"}
    assert json.loads(_json_bytes(huge)) == huge
