"""Issue 15: anyone could lock any named account out for an hour with failed sign-ins for its name.

Now failures count per address and per (name, address); the per-name limit only slows addresses the
owner has not signed in from. Failed sign-ins are audited.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from server.extensions import db
from server.models.audit import AuditEntry
from tests.problem_shape import assert_problem

TOKEN = "/api/v1/auth/token"


def _from(address: str) -> dict:
    return {"environ_base": {"REMOTE_ADDR": address}}


@pytest.fixture
def limits(app):
    app.config.update(SIGN_IN_LIMIT_PER_ADDRESS="50 per hour", SIGN_IN_LIMIT_PER_USER="5 per hour",
                      SIGN_IN_LIMIT_PER_USER_ADDRESS="3 per hour")
    return app


def _sign_in(client, username, password, address):
    return client.post(TOKEN, json={"username": username, "password": password}, **_from(address))


def test_a_stranger_cannot_lock_the_owner_out(limits, client, accounts):
    username, password, _ = accounts.user("coordinator")
    assert _sign_in(client, username, password, "10.0.0.1").status_code == 201  # the owner's office
    for i in range(12):  # a stranger, from many addresses, fails on purpose
        assert _sign_in(client, username, "wrong", f"192.0.2.{i}").status_code in (401, 429)
    # the per-name limit is reached: an address the owner never used is slowed, even with the password
    assert_problem(_sign_in(client, username, password, "192.0.2.200"), 429, "too-many-requests")
    # ... but the owner, from their known address, still signs in
    assert _sign_in(client, username, password, "10.0.0.1").status_code == 201


def test_failures_count_per_name_and_address(limits, client, accounts):
    username, password, _ = accounts.user("analyst")
    other, other_password, _ = accounts.user("analyst")
    for _ in range(3):
        assert _sign_in(client, username, "wrong", "198.51.100.7").status_code == 401
    assert_problem(_sign_in(client, username, password, "198.51.100.7"), 429, "too-many-requests")
    # the same address may still sign in another user: one typo-prone account does not block an office
    assert _sign_in(client, other, other_password, "198.51.100.7").status_code == 201


def test_failed_sign_ins_are_audited(limits, app, client, accounts):
    username, _, _ = accounts.user("planner")
    _sign_in(client, username, "wrong", "203.0.113.5")
    client.post(TOKEN, json={"username": username}, **_from("203.0.113.5"))  # malformed: no password
    with app.app_context():
        entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "user.login-failed")).all()
        assert [(e.target_id, e.details["address"], e.details["status"]) for e in entries] == [
            (username, "203.0.113.5", 401), (username, "203.0.113.5", 422)]
