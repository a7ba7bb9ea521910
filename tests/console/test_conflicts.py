"""Conflicts in the console: both sides in words, and keep theirs / keep ours / merge, with a note."""

from __future__ import annotations

import copy
import re
import uuid

from sqlalchemy import select

from server.extensions import db
from server.models import AuditEntry
from server.models import Submission
from server.models import SubmissionConflict
from sync.protocol import PROTOCOL
from tests.web.conftest import csrf_token


def _push(console, ops: list[dict]) -> list[dict]:
    device_id, headers = console.phones["enum-a"]
    response = console.client.post("/api/v1/sync/push", json={"protocol": PROTOCOL, "device_id": device_id,
                                                               "ops": ops}, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["results"]


def _op(kind: str, sub: str, answers: dict | None = None, base: str | None = None) -> dict:
    op = {"id": str(uuid.uuid4()), "kind": kind, "sub": sub, "at": "2017-06-02T08:00:00+07:00"}
    if base:
        op["base"] = base
    if kind != "delete":
        op |= {"form": "awareness", "ver": "2017.1", "ans": answers}
    return op


def _aged(answers: dict, age: int) -> dict:
    changed = copy.deepcopy(answers)
    changed["profile"]["age"] = age
    return changed


def _concurrent(console):
    """A submission edited twice from the same base: ours says age 40, theirs (the head) 41."""
    answers = console.interviews[console.district_a][0]
    sub = str(uuid.uuid4())
    create = _op("create", sub, answers)
    ours = _op("correct", sub, _aged(answers, 40), base=create["id"])
    theirs = _op("correct", sub, _aged(answers, 41), base=create["id"])
    results = _push(console, [create, ours, theirs])
    assert [r["status"] for r in results] == ["created"] * 3, results
    with console.app.app_context():
        key = db.session.scalar(select(SubmissionConflict.key).where(SubmissionConflict.submission_id == sub))
    return sub, key, ours, theirs


def _head(app, sub: str) -> str:
    with app.app_context():
        return db.session.scalar(select(Submission.head).where(Submission.id == sub))


def _decide(client, key: str, action: str, note: str = "đã gọi điện hỏi lại", answers: str | None = None):
    token = csrf_token(client.get(f"/console/conflicts/{key}").get_data(as_text=True))
    data = {"csrf_token": token, "action": action, "note": note}
    if answers is not None:
        data["answers"] = answers
    return client.post(f"/console/conflicts/{key}", data=data)


def test_a_conflict_shows_both_sides_in_words_and_keeping_ours_writes_a_new_revision(console, app):
    sub, key, ours, theirs = _concurrent(console)
    coord = console.browser("coord-a")
    review = coord.get("/console/review?lang=en").get_data(as_text=True)
    assert f'data-conflict="{key}"' in review and "without seeing each other" in review
    page = coord.get(f"/console/conflicts/{key}?lang=en").get_data(as_text=True)
    assert "Two edits of this submission were made without seeing each other" in page
    assert re.search(r'id="side-ours"><strong>Ours.*correction number 2, from enum-a', page)
    assert re.search(r'id="side-theirs"><strong>Theirs.*correction number 3, from enum-a', page)
    differences = page.split('id="differences"')[1].split("</table>")[0]
    assert "<code>/profile/age</code></th><td>40</td><td>41</td>" in differences
    assert differences.count("<tr>") == 2  # the header and the one answer that differs
    assert _decide(coord, key, "keep_ours", note="").status_code == 422
    assert _head(app, sub) == theirs["id"]
    decided = _decide(coord, key, "keep_ours")
    assert decided.status_code == 200 and 'id="outcome"' in decided.get_data(as_text=True)
    head = _head(app, sub)
    assert head.startswith("console-")
    detail = coord.get(f"/console/submissions/{sub}").get_data(as_text=True)
    assert "Kept in the console by coord-a: đã gọi điện hỏi lại" in detail
    with app.app_context():
        from server.models import SubmissionRevision

        kept = db.session.get(SubmissionRevision, head)
        assert kept.answers["profile"]["age"] == 40 and kept.number == 4 and kept.base == theirs["id"]
        assert db.session.get(SubmissionConflict, key).resolved_at is not None
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "conflict.keep_ours")).one()
        assert entry.details["note"] == "đã gọi điện hỏi lại" and entry.target_id == sub
    assert f'data-conflict="{key}"' not in coord.get("/console/review").get_data(as_text=True)
    assert _decide(coord, key, "keep_theirs").status_code == 409  # already decided


def test_keep_theirs_closes_it_and_merge_validates_the_answers(console, app):
    sub, key, ours, theirs = _concurrent(console)
    coord = console.browser("coord-a")
    assert _decide(coord, key, "keep_theirs").status_code == 200
    assert _head(app, sub) == theirs["id"]
    sub, key, ours, theirs = _concurrent(console)
    answers = _aged(console.interviews[console.district_a][0], 40)
    bad = _decide(coord, key, "merge", answers='{"profile": {"age": 7}}')
    assert bad.status_code == 422 and 'id="action-error"' in bad.get_data(as_text=True)
    assert _head(app, sub) == theirs["id"]
    import json

    assert _decide(coord, key, "merge", answers=json.dumps(answers)).status_code == 200
    assert _head(app, sub).startswith("console-")
    with app.app_context():
        actions = list(db.session.scalars(select(AuditEntry.action)
                                          .where(AuditEntry.action.startswith("conflict.")).order_by(AuditEntry.id)))
    assert actions == ["conflict.keep_theirs", "conflict.merge"]


def test_an_edit_after_delete_is_kept_deleted_or_brought_back(console, app):
    answers = console.interviews[console.district_a][0]
    sub = str(uuid.uuid4())
    create = _op("create", sub, answers)
    delete = _op("delete", sub, base=create["id"])
    edit = _op("correct", sub, _aged(answers, 50), base=create["id"])
    _push(console, [create, delete, edit])
    with app.app_context():
        key = db.session.scalar(select(SubmissionConflict.key).where(SubmissionConflict.submission_id == sub))
    coord = console.browser("coord-a")
    page = coord.get(f"/console/conflicts/{key}?lang=en").get_data(as_text=True)
    assert "arrived after the submission was deleted" in page
    assert _decide(coord, key, "keep_theirs").status_code == 200
    with app.app_context():
        head = db.session.get(Submission, sub)
        assert not head.deleted and head.head.startswith("console-")


def test_another_districts_coordinator_cannot_see_or_decide(console, app):
    _, key, _, _ = _concurrent(console)
    other = console.browser("coord-b")
    assert other.get(f"/console/conflicts/{key}").status_code == 404
    assert f'data-conflict="{key}"' not in other.get("/console/review").get_data(as_text=True)
    token = csrf_token(other.get("/console/review").get_data(as_text=True))
    assert other.post(f"/console/conflicts/{key}", data={"csrf_token": token, "action": "keep_ours",
                                                         "note": "x"}).status_code == 404
