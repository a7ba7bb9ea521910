"""Issue 15: a form's ``regex()`` constraint stalled every device's sync (9 s per answer in the write lock).

Now ``regex()`` runs on RE2 (linear time), every validation runs under a time budget, a submission
past the budget is quarantined with ``validation-timeout``, and validation happens before the write
lock is taken.
"""

from __future__ import annotations

import io
import json
import time
import uuid
from contextlib import contextmanager

import pytest

from forms.errors import ValidationBudgetExceeded
from forms.expressions import compile_expression
from forms.expressions import time_budget
from sync import submissions
from sync.protocol import PROTOCOL
from tests.security.conftest import enrol
from tests.xlsform_builder import xlsform

CATASTROPHIC = "regex(., '^(a+)+$')"  # exponential on backtracking engines
HOSTILE_ANSWER = "a" * 5000 + "!"


def test_regex_is_linear_time_and_keeps_its_meaning():
    constraint = compile_expression(CATASTROPHIC)
    started = time.monotonic()
    assert constraint.test({}, HOSTILE_ANSWER) is False
    assert time.monotonic() - started < 1.0  # Python's re needs longer than the age of the universe
    assert constraint.test({}, "aaaa") is True
    phone = compile_expression(r"regex(., '^0[0-9]{9}$')")
    assert phone.test({}, "0912345678") and not phone.test({}, "912345678")
    assert compile_expression("regex(., '(a)\\1')").test({}, "aa") is False  # not a pattern XPath allows


def test_evaluation_past_the_budget_raises():
    expression = compile_expression("regex(., 'a') and regex(., 'b')")
    with time_budget(0.0), pytest.raises(ValidationBudgetExceeded):
        expression.test({}, "ab")
    assert expression.test({}, "ab") is True  # outside a budget, as before


def _form_with_regex(client, coordinator):
    survey = [("type", "name", "label::English (en)", "required", "constraint"),
              ("text", "code", "Code", "yes", CATASTROPHIC)]
    data = xlsform(survey, form_id="codes", version="1")
    uploaded = client.post("/api/v1/forms", data={"file": (io.BytesIO(data), "codes.xlsx")},
                           headers=coordinator, content_type="multipart/form-data")
    assert uploaded.status_code == 201, uploaded.get_json()
    assert client.post("/api/v1/forms/codes/versions/1/publish", headers=coordinator).status_code == 200


def _op(code: str) -> dict:
    return {"id": str(uuid.uuid4()), "kind": "create", "sub": str(uuid.uuid4()), "form": "codes", "ver": "1",
            "ans": {"code": code}}


def _push(client, device_id, headers, ops):
    return client.post("/api/v1/sync/push", headers=headers,
                       json={"protocol": PROTOCOL, "device_id": device_id, "ops": ops}).get_json()["results"]


def test_a_catastrophic_constraint_is_answered_at_once(client, accounts, forms_installed):
    _form_with_regex(client, accounts.headers("coordinator"))
    device_id, headers = enrol(client, accounts)
    started = time.monotonic()
    results = _push(client, device_id, headers, [_op(HOSTILE_ANSWER), _op("aaa")])
    assert time.monotonic() - started < 10
    assert [r["status"] for r in results] == ["quarantined", "created"]
    assert results[0]["reasons"][0]["code"] == "constraint"


def test_a_submission_past_the_budget_is_quarantined_with_the_reason(client, accounts, forms_installed,
                                                                     monkeypatch):
    _form_with_regex(client, accounts.headers("coordinator"))
    device_id, headers = enrol(client, accounts)
    monkeypatch.setattr(submissions.validate_answers, "__defaults__", (0.0,))
    results = _push(client, device_id, headers, [_op("aaa"), {**_op("x"), "kind": "delete", "base": "nope"}])
    assert results[0]["status"] == "quarantined"
    assert results[0]["reasons"][0]["code"] == "validation-timeout"
    assert results[1]["status"] == "quarantined"  # the next op ran, and for its own reason
    listed = client.get("/api/v1/sync/quarantine", headers=accounts.headers("coordinator")).get_json()
    assert "validation-timeout" in json.dumps(listed)


def test_answers_are_validated_outside_the_write_lock(app, client, accounts, forms_installed, monkeypatch):
    # A slow validation (a regex near its budget) must never hold up other writers. SQLite's writers exclude
    # each other from a write transaction's BEGIN, so the answers are checked before it, in a read snapshot;
    # PostgreSQL's from the counter step, so they are checked inside the write transaction, before that step.
    from server.sync.runtime import store

    with app.app_context():
        sync_store = store()
    store_class = type(sync_store)
    held = {"lock": False}
    seen = []

    def counter_step(name):
        step = getattr(store_class, name)

        def taken(self, *args):
            held["lock"] = True  # until the transaction ends
            return step(self, *args)

        monkeypatch.setattr(store_class, name, taken)

    counter_step("next_seq")
    counter_step("reserve_seqs")
    transaction = store_class.transaction

    @contextmanager
    def watched_transaction(self):
        with transaction(self):
            held["lock"] = self.locks_at_begin
            try:
                yield
            finally:
                held["lock"] = False

    monkeypatch.setattr(store_class, "transaction", watched_transaction)
    original = submissions.validate_answers

    def watched(version, answers, *args):
        seen.append(not held["lock"])
        return original(version, answers, *args)

    monkeypatch.setattr(submissions, "validate_answers", watched)
    _form_with_regex(client, accounts.headers("coordinator"))
    device_id, headers = enrol(client, accounts)
    assert [r["status"] for r in _push(client, device_id, headers, [_op("aaa"), _op("b")])] == \
        ["created", "quarantined"]
    assert seen == [True, True]
    # and the watch sees the lock where it is held
    with sync_store.transaction():
        sync_store.reserve_seqs(1)
        assert held["lock"]
    assert not held["lock"]
