"""API-token use reaches the audit log once per token per hour, whatever the request rate."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy import update

from server.extensions import db
from server.models import ApiToken
from server.models import AuditEntry
from server.models import User
from sync.protocol import PROTOCOL
from tests.web.conftest import sign_in


def _uses(app) -> list[AuditEntry]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == "token.use")
                                       .order_by(AuditEntry.id)))


def _token_of(app, username: str) -> ApiToken:
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.username == username))
        # the bearer token, not a browser session's token
        return db.session.scalars(select(ApiToken).where(ApiToken.user_id == user_id)
                                  .order_by(ApiToken.id)).first()


def test_a_storm_of_requests_is_one_entry_per_token_per_hour(app, client, accounts):
    name, _, headers = accounts.user("admin")
    for _ in range(5):
        assert client.get("/api/v1/users", headers=headers).status_code == 200
    client.post("/api/v1/users", json={}, headers=headers)  # a writing request (refused: 422) is a use too
    uses = _uses(app)
    assert len(uses) == 1
    token = _token_of(app, name)
    assert uses[0].target_id == str(token.id) and uses[0].actor_user_id == token.user_id
    assert uses[0].details == {"request": "GET /api/v1/users", "via": "user"}
    # an hour later, the next use is written again; by a POST this time
    with app.app_context():
        db.session.execute(update(ApiToken).where(ApiToken.id == token.id)
                           .values(use_logged_at=token.use_logged_at - dt.timedelta(minutes=61)))
        db.session.commit()
    client.post("/api/v1/users", json={}, headers=headers)
    client.get("/api/v1/users", headers=headers)
    uses = _uses(app)
    assert len(uses) == 2 and uses[1].details["request"] == "POST /api/v1/users"


def test_device_tokens_count_and_the_audit_page_filters_token_use(app, client, accounts, places):
    device_id, device = accounts.device()
    _, _, other = accounts.user("coordinator")
    for _ in range(2):
        pulled = client.post("/api/v1/sync/pull", json={"protocol": PROTOCOL, "device_id": str(device_id)},
                             headers=device)
        assert pulled.status_code == 200, pulled.get_json()
    client.get("/api/v1/devices", headers=other)
    uses = _uses(app)
    assert len(uses) == 2
    assert uses[0].details["via"] == "device" and uses[0].actor_device_id == device_id
    admin_name, password, admin = accounts.user("admin")
    # the audit page and API filter on the tokens family
    listed = client.get("/api/v1/console/audit?family=tokens", headers=admin).get_json()["entries"]
    assert [e["action"] for e in listed] == ["token.use"] * 3  # the admin's own call is a use too
    browser = app.test_client()
    assert sign_in(browser, admin_name, password).status_code == 303
    page = browser.get("/console/audit?family=tokens").get_data(as_text=True)
    assert page.count("token.use") >= 3 and "user.login" not in page.split("<tbody>")[1]


def _one_connection_app(app, tmp_path):
    """The same database served by an app whose pool holds a single connection and waits 1 s for it."""
    from tests.conftest import make_app

    return make_app(app.config["DATABASE_URL"], tmp_path / "one-connection",
                    SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 1, "max_overflow": 0, "pool_timeout": 1})


def test_a_first_use_needs_one_connection_at_a_time(app, accounts, places, tmp_path):
    # The claim used to take a second connection while the look-up held the first: a threaded
    # worker whose every thread did so deadlocked its pool (bench_load: 500s after 30 s).
    other_id, other = accounts.device()
    device_id, device = accounts.device()
    # the database's epoch is minted by its first push, on a connection of its own: not this test's
    first = app.test_client().post("/api/v1/sync/push", headers=other,
                                   json={"protocol": PROTOCOL, "device_id": str(other_id), "ops": []})
    assert first.status_code == 200, first.get_json()
    narrow = _one_connection_app(app, tmp_path)
    try:
        empty = {"protocol": PROTOCOL, "device_id": str(device_id), "ops": []}
        answer = narrow.test_client().post("/api/v1/sync/push", headers=device, json=empty)
        assert answer.status_code == 200, answer.get_json()
        assert [(u.actor_device_id, u.details["request"]) for u in _uses(app)] == [
            (other_id, "POST /api/v1/sync/push"), (device_id, "POST /api/v1/sync/push")]
    finally:
        with narrow.app_context():
            db.session.remove()
            db.engine.dispose()


def test_an_exhausted_pool_answers_busy_not_500(app, accounts, tmp_path):
    _, _, headers = accounts.user("admin")
    narrow = _one_connection_app(app, tmp_path)
    with narrow.app_context():
        engine = db.engine
    try:
        with engine.connect() as held:
            held.exec_driver_sql("SELECT 1")
            answer = narrow.test_client().get("/api/v1/users", headers=headers)
            assert answer.status_code == 503
            assert answer.mimetype == "application/problem+json"
            assert answer.get_json()["code"] == "service-unavailable" and answer.headers["Retry-After"]
        assert narrow.test_client().get("/api/v1/users", headers=headers).status_code == 200
    finally:
        with narrow.app_context():
            db.session.remove()
        engine.dispose()  # every connection this app opened, closed before the test ends
