"""Issue 15, the lesser items: each replayed and shown fixed."""

from __future__ import annotations

import hashlib
import http.client
import uuid

from sqlalchemy import select

from server.extensions import db
from server.models.audit import AuditEntry
from sync.protocol import PROTOCOL
from tests.commit_beside import commit_beside
from tests.problem_shape import assert_problem
from tests.security.conftest import enrol
from tests.security.conftest import op
from tests.security.gunicorn_server import gunicorn


def _actions(app) -> list[str]:
    with app.app_context():
        return [e.action for e in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))]


def _upload(client, headers, data: bytes, content_type="image/jpeg") -> str:
    sha = hashlib.sha256(data).hexdigest()
    declared = {"sha256": sha, "size": len(data), "content_type": content_type}
    created = client.post("/api/v1/blobs", json=declared, headers=headers)
    assert created.status_code == 201, created.get_json()
    done = client.patch(f"/api/v1/blobs/{sha}", data=data, headers={
        **headers, "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"})
    assert done.status_code == 204
    return sha


def test_blob_types_are_checked_and_downloads_never_sniffed_and_audited(app, client, accounts, enrolled):
    _, device = enrolled
    for bad in ("text/html\r\nX: y", "image", "image/jpeg/../x", "image/jpeg; x=\u00e9"):
        answer = client.post("/api/v1/blobs", headers=device, json={
            "sha256": "c" * 64, "size": 10, "content_type": bad})
        assert_problem(answer, 422, "validation-failed")
    sha = _upload(client, device, b"<html><script>alert(1)</script></html>")
    download = client.get(f"/api/v1/blobs/{sha}", headers=accounts.headers("analyst"))
    assert download.status_code == 200
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert "blob.download" in _actions(app)


def test_every_api_answer_says_nosniff_and_the_report_page_is_locked_down(client, accounts):
    answer = client.get("/api/v1/places", headers=accounts.headers("analyst"))
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    from flask import Response

    from server.api import _secure

    page = _secure(Response("<p>report</p>", mimetype="text/html"))
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["Cache-Control"] == "no-store"


def test_quarantine_reads_and_exports_are_audited(app, client, accounts, enrolled):
    device_id, device = enrolled
    client.post("/api/v1/sync/push", headers=device,
                json={"protocol": PROTOCOL, "device_id": device_id, "ops": [op({"consent": "maybe"})]})
    assert client.get("/api/v1/sync/quarantine", headers=accounts.headers("coordinator")).status_code == 200
    client.get("/api/v1/forms/awareness/versions/2017.1/export.csv", headers=accounts.headers("analyst"))
    actions = _actions(app)
    assert "quarantine.read" in actions and "export.respondents" in actions


def test_the_combined_sync_refuses_a_mismatched_pull_before_pushing(app, client, accounts, forms_installed):
    device_id, device = enrol(client, accounts)
    create = op()
    answer = client.post("/api/v1/sync", headers=device, json={
        "push": {"protocol": PROTOCOL, "device_id": device_id, "ops": [create]},
        "pull": {"protocol": PROTOCOL, "device_id": str(uuid.uuid4())}})
    assert_problem(answer, 403, "device-mismatch")
    pushed = client.post("/api/v1/sync/push", headers=device,
                         json={"protocol": PROTOCOL, "device_id": device_id, "ops": [create]})
    assert pushed.get_json()["results"][0]["status"] == "created"  # not "duplicate": nothing was applied


def test_a_push_without_epoch_still_meets_the_restore_check(app, client, accounts, enrolled, runner):
    device_id, device = enrolled
    body = {"protocol": PROTOCOL, "device_id": device_id, "ops": [op()]}
    assert client.post("/api/v1/sync/push", headers=device, json=body).status_code == 200
    assert runner.invoke(args=["sync", "new-epoch", "--yes"]).exit_code == 0
    answer = client.post("/api/v1/sync/push", headers=device, json={**body, "ops": [op()], "epoch": None})
    assert_problem(answer, 409, "epoch-changed")


def test_a_chunked_body_over_the_cap_is_413_under_gunicorn(app, database_url, tmp_path, enrolled):
    device_id, device = enrolled
    with gunicorn(database_url, tmp_path / "g", MAX_CONTENT_LENGTH=4096) as url:
        port = int(url.rsplit(":", 1)[1])
        for path, size in (("/api/v1/auth/token", 5000), ("/api/v1/sync/push", 5000),
                           ("/api/v1/auth/token", 50)):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            body = b'{"username": "' + b"x" * size + b'", "password": "y"}'
            conn.request("POST", path, body=iter([body[:50], body[50:]]), encode_chunked=True,
                         headers={"Content-Type": "application/json", **device})
            answer = conn.getresponse()
            answer.read()
            conn.close()
            assert answer.status == (413 if size > 4096 else 401), (path, size, answer.status)


def test_a_busy_sqlite_write_lock_is_503_with_retry_after(app, client, enrolled):
    from sqlalchemy.exc import OperationalError

    from server.api import sync as sync_api

    app.config["PROPAGATE_EXCEPTIONS"] = False
    device_id, headers = enrolled

    def locked(*args, **kwargs):
        raise OperationalError("BEGIN IMMEDIATE", {}, Exception("database is locked"))

    original = sync_api.device_ref
    sync_api.device_ref = locked
    try:
        answer = client.post("/api/v1/sync/push", headers=headers,
                             json={"protocol": PROTOCOL, "device_id": device_id, "ops": [op()]})
    finally:
        sync_api.device_ref = original
    assert_problem(answer, 503, "service-unavailable")
    assert answer.headers["Retry-After"] == "2"


def test_reads_are_audited_even_when_a_phone_commits_between_the_read_and_its_audit_row(
        app, client, accounts, enrolled):
    device_id, device = enrolled
    sha = _upload(client, device, b"\xff\xd8\xff a photo")
    client.post("/api/v1/sync/push", headers=device,
                json={"protocol": PROTOCOL, "device_id": device_id, "ops": [op({"consent": "maybe"})]})
    reads = [("blobs", f"/api/v1/blobs/{sha}", "analyst", "blob.download"),
             ("quarantine", "/api/v1/sync/quarantine", "coordinator", "quarantine.read"),
             ("respondents", "/api/v1/forms/awareness/versions/2017.1/export.csv", "analyst",
              "export.respondents")]
    for table, path, role, action in reads:
        headers = accounts.headers(role)
        with commit_beside(app, table) as fired:
            answer = client.get(path, headers=headers)
        assert fired, f"nothing read {table} for {path}"
        assert answer.status_code == 200, (path, answer.get_data(as_text=True)[:300])
        assert _actions(app)[-1] == action, path
