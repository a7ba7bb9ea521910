"""Hypothesis fuzzing of push and pull: whatever a device sends, the server answers a problem (4xx) or one
result per operation, never a 500, and a well-formed operation next to a hostile one is still stored."""

from __future__ import annotations

import json
import uuid

from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from sync.protocol import PROTOCOL
from sync.protocol import STATUSES
from tests.security.conftest import op

ODD = ["\ud800", "a\udfffb", "=1+1", "\x00", "é" * 300]
HOSTILE_TEXT = st.one_of(st.text(max_size=40), st.sampled_from(ODD))
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), HOSTILE_TEXT)
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(HOSTILE_TEXT, inner, max_size=4)),
                      max_leaves=30)
FIELDS = st.fixed_dictionaries({}, optional={
    "kind": st.one_of(st.sampled_from(["create", "correct", "delete"]), VALUES),
    "sub": st.one_of(st.uuids().map(str), VALUES), "base": VALUES,
    "form": st.one_of(st.just("awareness"), VALUES),
    "ver": VALUES, "ans": st.one_of(st.dictionaries(HOSTILE_TEXT, VALUES, max_size=5), VALUES), "n": VALUES,
    "blobs": VALUES, "at": VALUES, "note": VALUES})
HOSTILE_OPS = st.lists(FIELDS.map(lambda f: {"id": str(uuid.uuid4()), **f}), max_size=4)
FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(hostile=HOSTILE_OPS)
def test_push_never_fails_and_keeps_the_good_operation(app, client, enrolled, hostile):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    device_id, headers = enrolled
    good = op()
    body = json.dumps({"protocol": PROTOCOL, "device_id": device_id, "ops": [*hostile, good]})
    answer = client.post("/api/v1/sync/push", data=body, content_type="application/json", headers=headers)
    assert answer.status_code < 500, answer.get_data(as_text=True)
    if answer.status_code == 200:
        results = answer.get_json()["results"]
        assert len(results) == len(hostile) + 1 and all(r["status"] in STATUSES for r in results)
        assert results[-1]["status"] == "created", results[-1]


@FUZZ
@given(body=st.dictionaries(HOSTILE_TEXT, VALUES, max_size=6),
       cursor=st.one_of(st.none(), HOSTILE_TEXT, VALUES))
def test_pull_never_fails(app, client, enrolled, body, cursor):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    device_id, headers = enrolled
    for payload in (body, {"protocol": PROTOCOL, "device_id": device_id, "cursor": cursor, **body}):
        answer = client.post("/api/v1/sync/pull", data=json.dumps(payload), content_type="application/json",
                             headers=headers)
        assert answer.status_code < 500, answer.get_data(as_text=True)


def test_form_names_past_their_bound_are_quarantined_not_a_500(app, client, enrolled):
    # Found by the fuzz test above on PostgreSQL: "é" * 300 as a form name reached the quarantine's
    # 100-character column and the push answered 500.
    app.config["PROPAGATE_EXCEPTIONS"] = False
    device_id, headers = enrolled
    long_names = [{**op(), "form": "é" * 300}, {**op(), "ver": "v" * 101},
                  {**op(kind="delete"), "form": "x" * 500}]
    good = op()
    body = json.dumps({"protocol": PROTOCOL, "device_id": device_id, "ops": [*long_names, good]})
    answer = client.post("/api/v1/sync/push", data=body, content_type="application/json", headers=headers)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    statuses = [r["status"] for r in answer.get_json()["results"]]
    assert statuses[-1] == "created" and all(s != "created" for s in statuses[:-1]), statuses
