"""Issue 15, "Why": one bad operation jams an outbox; seven causes of 500 on malformed input.

Each test replays the failure as it was reported and checks the server now answers a problem (4xx)
or a per-operation ``rejected``, stores nothing for a request-level error, and keeps the operations
around a bad one.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func
from sqlalchemy import select

from server.extensions import db
from server.models import Submission
from tests.problem_shape import assert_problem
from tests.security.conftest import REFUSAL
from tests.security.conftest import op
from tests.security.conftest import push_text
from tests.security.conftest import raw_post

DEEP = "[" * 50 + "1" + "]" * 50
BAD_ANSWERS = {
    "lone surrogate": '"\\ud800"',
    "integer beyond 64 bits": str(10**30),
    # the first integers orjson reads as floats, each way: 2**64 (20 digits) and -(2**63) - 1 (19); parse_json
    "integer just past 64 bits": str(2**64),
    "negative integer just past 64 bits": str(-(2**63) - 1),
    "number past a double (read as infinity)": "1e400",
    "deep nesting": DEEP,
    "NUL character (PostgreSQL cannot store it)": '"a\\u0000b"',
}


@pytest.fixture(autouse=True)
def _no_propagation(app):
    # A 500 must reach the test as the client sees it, not as a Python traceback.
    app.config["PROPAGATE_EXCEPTIONS"] = False


def _stored(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Submission))


def _op_with(value_text: str) -> str:
    good = op({**REFUSAL, "note_x": 0})
    return json.dumps(good).replace('"note_x": 0', f'"note_x": {value_text}')


@pytest.mark.parametrize("name", list(BAD_ANSWERS))
def test_one_bad_operation_is_rejected_alone_and_every_retry_agrees(app, client, enrolled, name):
    device_id, headers = enrolled
    before, after = op(), op()
    batch = f"[{json.dumps(before)}, {_op_with(BAD_ANSWERS[name])}, {json.dumps(after)}]"
    first = push_text(client, device_id, headers, batch)
    assert first.status_code == 200, first.get_data(as_text=True)
    statuses = [r["status"] for r in first.get_json()["results"]]
    assert statuses == ["created", "rejected", "created"]
    rejected = first.get_json()["results"][1]
    assert rejected["code"] == "op-invalid" and rejected["errors"][0]["pointer"].startswith("/ans/note_x")
    # the device retries the same batch (it lost the answer): same outcome, nothing stored twice
    again = push_text(client, device_id, headers, batch)
    assert [r["status"] for r in again.get_json()["results"]] == ["duplicate"] * 3
    assert again.get_json()["results"][1]["original"]["status"] == "rejected"
    assert _stored(app) == 2


def test_a_huge_operation_counter_is_rejected_alone(app, client, enrolled):
    device_id, headers = enrolled
    batch = f"[{json.dumps(op())}, {json.dumps(op(n=10**30))}, {json.dumps(op())}]"
    answer = push_text(client, device_id, headers, batch)
    assert [r["status"] for r in answer.get_json()["results"]] == ["created", "rejected", "created"]


def test_a_body_too_deep_to_parse_stores_nothing(app, client, enrolled):
    device_id, headers = enrolled
    batch = f"[{json.dumps(op())}, {_op_with('[' * 100_000 + ']' * 100_000)}]"
    answer = push_text(client, device_id, headers, batch)
    assert_problem(answer, 400, "envelope-invalid")
    assert _stored(app) == 0


def test_nan_is_not_json_and_stores_nothing(app, client, enrolled):
    device_id, headers = enrolled
    answer = push_text(client, device_id, headers, f"[{json.dumps(op())}, {_op_with('NaN')}]")
    assert_problem(answer, 400, "envelope-invalid")
    assert _stored(app) == 0


def test_the_anonymous_token_endpoint_refuses_deep_json(client):
    deep = '{"username": ' + "[" * 100_000 + "]" * 100_000 + ', "password": "x"}'
    assert_problem(raw_post(client, "/api/v1/auth/token", deep), 400, "malformed-json")
    shallow_but_deep = '{"username": ' + DEEP + ', "password": "x"}'
    assert_problem(raw_post(client, "/api/v1/auth/token", shallow_but_deep), 422, "validation-failed")


def test_enrolment_refuses_deep_json_and_surrogates(client, forms_installed):
    deep = '{"protocol": 1, "code": "ABCD-EFGH", "label": ' + "[" * 100_000 + "]" * 100_000 + "}"
    assert_problem(raw_post(client, "/api/v1/devices/enroll", deep), 400, "envelope-invalid")
    label = '{"protocol": 1, "code": "ABCD-EFGH", "label": "\\udfff"}'
    answer = raw_post(client, "/api/v1/devices/enroll", label)
    assert_problem(answer, 400, "envelope-invalid")
    assert answer.get_json()["errors"][0]["pointer"] == "/label"


def test_surrogates_in_names_and_labels_are_problems(client, accounts):
    headers = accounts.headers("coordinator")
    enumerator = accounts.user("enumerator")[0]
    for body in ('{"username": "\\ud800", "password": "x"}',):
        assert_problem(raw_post(client, "/api/v1/auth/token", body), 422, "validation-failed")
    for body in ('{"username": "\\ud800", "label": "x"}',
                 '{"username": "' + enumerator + '", "label": "\\ud800"}'):
        answer = raw_post(client, "/api/v1/devices", body, headers)
        assert_problem(answer, 422, "validation-failed")


def test_huge_integers_in_query_and_body_are_problems(client, accounts):
    headers = accounts.headers("coordinator")
    enumerator = accounts.user("enumerator")[0]
    answer = client.get(f"/api/v1/users/{enumerator}/assignments?round={10**25}", headers=headers)
    assert_problem(answer, 422, "validation-failed")
    answer = client.put(f"/api/v1/users/{enumerator}/assignments", json={"round": 10**30, "communes": []},
                        headers=headers)
    assert_problem(answer, 422, "validation-failed")
    answer = raw_post(client, "/api/v1/devices", f'{{"username": "x", "label": "y", "n": {10**30}}}', headers)
    assert_problem(answer, 422, "validation-failed")


@pytest.mark.parametrize("offset", ["²", "١", "9" * 40, "-1", " 1", "0x10", ""])
def test_odd_upload_offsets_are_problems(client, enrolled, offset):
    _, headers = enrolled
    sha = "b" * 64
    client.post("/api/v1/blobs", json={"sha256": sha, "size": 10, "content_type": "image/jpeg"},
                headers=headers)
    answer = client.patch(f"/api/v1/blobs/{sha}", data=b"x", headers={
        **headers, "Upload-Offset": offset, "Content-Type": "application/offset+octet-stream"})
    assert_problem(answer, 400, "bad-request")


def test_a_cursor_that_nests_deeply_is_a_problem(client, enrolled):
    import base64

    device_id, headers = enrolled
    body = b'{"e": "x", "b": ' + b"[" * 3000 + b"]" * 3000 + b"}"
    cursor = "c1." + base64.urlsafe_b64encode(body).decode().rstrip("=")
    answer = client.post("/api/v1/sync/pull", json={"protocol": 1, "device_id": device_id, "cursor": cursor},
                         headers=headers)
    assert_problem(answer, 400, "cursor-invalid")


def test_bad_input_on_sign_in_counts_toward_the_limit(app, client):
    app.config["SIGN_IN_LIMIT_PER_ADDRESS"] = "3 per hour"
    deep = '{"username": ' + "[" * 100_000 + "]" * 100_000 + "}"
    for _ in range(3):
        assert raw_post(client, "/api/v1/auth/token", deep).status_code == 400
    answer = raw_post(client, "/api/v1/auth/token", '{"username": "\\ud800"}')
    assert_problem(answer, 429, "too-many-requests")


def test_previous_equal_to_round_is_a_problem(app, client, accounts):
    from analysis.simulation import generate
    from server.forms import registry as form_registry
    from server.sync.store import SqlStore
    from tests.server.conftest import ingest

    with app.app_context():
        form_registry.install_library(db.session)
        db.session.commit()
        store = SqlStore(db.engine)
        ingest(store, generate(5, interviews=300, rounds=(2017, 2018)).interviews)
    headers = accounts.headers("analyst")
    for path in ("yearly", "report.json"):
        answer = client.get(f"/api/v1/reports/{path}?round=2018&previous=2018", headers=headers)
        assert_problem(answer, 422, "validation-failed")
