"""A held item or a conflict is decided once: through the sync API, only within the coordinator's
districts, and in the console even when two coordinators decide it at the same moment."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func
from sqlalchemy import select

from server.extensions import db
from server.models import AuditEntry
from server.models import Submission
from server.models import SubmissionRevision
from server.models import User
from tests.console.test_api import _bearer
from tests.console.test_api_app_users_conflicts import _conflict
from tests.meeting import MeetingAtTheLock
from tests.meeting import twice_at_once
from tests.problem_shape import assert_problem


def _held_in_district_b(console) -> str:
    """Push an interview of district B that fails validation; return its quarantine key."""
    answers = console.interviews[console.district_b][0]
    held = console.push("enum-b", {**answers, "profile": {**answers["profile"], "age": 7}})
    assert held["status"] == "quarantined"
    coord_b = _bearer(console.app, "coord-b")
    (item,) = console.client.get("/api/v1/sync/quarantine", headers=coord_b).get_json()["items"]
    return item["key"]


def test_the_sync_api_dismisses_a_held_item_once_and_only_in_the_coordinators_districts(console, app):
    key = _held_in_district_b(console)
    coord_a, coord_b = _bearer(app, "coord-a"), _bearer(app, "coord-b")
    client = console.client
    dismiss = f"/api/v1/sync/quarantine/{key}/dismiss"
    # another district's coordinator can neither dismiss it nor revalidate it
    assert_problem(client.post(dismiss, headers=coord_a), 404, "not-found")
    revalidate = "/api/v1/sync/quarantine/revalidate"
    assert client.post(revalidate, json={"keys": [key]}, headers=coord_a).get_json() == {"outcomes": {}}
    assert client.post(revalidate, json={}, headers=coord_a).get_json() == {"outcomes": {}}
    assert client.post(revalidate, json={"keys": [key]}, headers=coord_b).get_json() == {
        "outcomes": {key: "still-quarantined"}}
    assert client.post(dismiss, headers=coord_b).status_code == 204
    # a second dismissal is refused as such (retrying cannot help), and the first resolution stands
    again = assert_problem(client.post(dismiss, headers=coord_b), 409, "already-resolved")
    assert key in again["detail"]
    assert client.get("/api/v1/sync/quarantine", headers=coord_b).get_json()["items"] == []
    (kept,) = client.get("/api/v1/sync/quarantine?all=1", headers=coord_b).get_json()["items"]
    assert (kept["key"], kept["resolution"]) == (key, "dismissed")
    unknown = client.post("/api/v1/sync/quarantine/no-such-key/dismiss", headers=coord_b)
    assert_problem(unknown, 404, "not-found")


def test_the_sync_api_resolves_a_conflict_once_and_only_in_the_coordinators_districts(console, app):
    _, key = _conflict(console)  # district A's
    coord_a, coord_b = _bearer(app, "coord-a"), _bearer(app, "coord-b")
    client = console.client
    resolve = f"/api/v1/sync/conflicts/{key}/resolve"
    assert client.get("/api/v1/sync/conflicts", headers=coord_b).get_json()["conflicts"] == []
    assert_problem(client.post(resolve, headers=coord_b), 404, "not-found")
    listed = client.get("/api/v1/sync/conflicts", headers=coord_a).get_json()["conflicts"]
    assert [c["key"] for c in listed] == [key]
    assert client.post(resolve, headers=coord_a).status_code == 204
    assert_problem(client.post(resolve, headers=coord_a), 409, "already-resolved")
    assert client.get("/api/v1/sync/conflicts", headers=coord_a).get_json()["conflicts"] == []
    (resolved,) = client.get("/api/v1/sync/conflicts?all=1", headers=coord_a).get_json()["conflicts"]
    assert resolved["key"] == key and resolved["resolved_at"]
    unknown = client.post("/api/v1/sync/conflicts/no-such-key/resolve", headers=coord_a)
    assert_problem(unknown, 404, "not-found")


def _decided_twice_at_once(app, usernames: tuple[str, str], decide) -> tuple[list, list[Exception]]:
    """Two coordinators' decisions (``decide(session, store, scope, user)``) reaching the write lock together;
    each commits its own audit entry, as the views do."""
    from server.console.scope import scope_of
    from server.sync.runtime import store

    with app.app_context():
        shared = MeetingAtTheLock(store())

    def one(index: int):
        with app.app_context():
            user = db.session.scalars(select(User).where(User.username == usernames[index])).one()
            try:
                outcome = decide(db.session, shared, scope_of(db.session, user), user)
            except Exception:
                db.session.rollback()
                raise
            db.session.commit()
            return outcome

    return twice_at_once(one)


def _count(app, query) -> int:
    with app.app_context():
        return db.session.scalar(query)


def test_two_coordinators_deciding_one_conflict_at_once_decide_it_once(console, app):
    from server.console import conflicts as console_conflicts

    sub, key = _conflict(console)  # two corrections of one interview: theirs (the last) is the head

    def keep_ours(session, store, scope, user):
        return console_conflicts.resolve(session, store, scope, key, "keep_ours", actor=user,
                                         note=f"called {user.username}", now=dt.datetime.now(dt.UTC))

    heads, errors = _decided_twice_at_once(app, ("coord-a", "c-admin"), keep_ours)
    assert len(heads) == 1, (heads, errors)
    assert [getattr(e, "code", e) for e in errors] == ["conflict"]
    # ours written once on top (three pushed, one kept in the console), and it is the head
    revisions = select(func.count()).select_from(SubmissionRevision).where(
        SubmissionRevision.submission_id == sub)
    assert _count(app, revisions) == 4
    assert _count(app, select(Submission.head).where(Submission.id == sub)) == heads[0]
    assert _count(app, select(func.count()).select_from(AuditEntry)
                  .where(AuditEntry.action == "conflict.keep_ours")) == 1


def test_two_coordinators_accepting_one_held_item_at_once_store_it_once(console, app):
    from server.console import review

    key = _held_in_district_b(console)

    def accept(session, store, scope, user):
        return review.act(session, store, scope, key, "accept", actor=user, note=f"called {user.username}",
                          now=dt.datetime.now(dt.UTC))

    outcomes, errors = _decided_twice_at_once(app, ("coord-b", "c-admin"), accept)
    assert outcomes == ["accepted"], (outcomes, errors)
    assert [getattr(e, "code", e) for e in errors] == ["conflict"]
    assert "dealt with" in str(errors[0])
    with app.app_context():
        stored = db.session.scalars(select(SubmissionRevision.op_id)
                                    .where(SubmissionRevision.op_id == key)).all()
    assert stored == [key]
    assert _count(app, select(func.count()).select_from(AuditEntry)
                  .where(AuditEntry.action == "quarantine.accept")) == 1
