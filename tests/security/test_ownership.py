"""Issue 15: any device could correct or delete another enumerator's submission if it knew the ids.

Now a correction or delete is accepted only from the device that made the submission or another
device of the same enumerator; others get ``rejected`` with ``not-owner`` and nothing changes.
"""

from __future__ import annotations

from sqlalchemy import select

from server.extensions import db
from server.models import Submission
from sync.protocol import PROTOCOL
from tests.security.conftest import enrol
from tests.security.conftest import op


def _push(client, device_id, headers, ops):
    answer = client.post("/api/v1/sync/push", headers=headers,
                         json={"protocol": PROTOCOL, "device_id": device_id, "ops": ops})
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()["results"]


def _correct(create, base=None, **answers):
    return {**op({"round": "2019", "consent": "no", **answers}), "kind": "correct", "sub": create["sub"],
            "base": base or create["id"]}


def _delete(create):
    return {"id": create["id"] + "-del", "kind": "delete", "sub": create["sub"], "base": create["id"],
            "note": "mine now"}


def test_another_enumerators_device_cannot_correct_or_delete(app, client, accounts, forms_installed):
    owner_id, owner = enrol(client, accounts)
    stranger_id, stranger = enrol(client, accounts)
    create = op()
    assert _push(client, owner_id, owner, [create])[0]["status"] == "created"
    results = _push(client, stranger_id, stranger, [_correct(create), _delete(create)])
    assert [(r["status"], r["code"]) for r in results] == [("rejected", "not-owner")] * 2
    with app.app_context():
        head = db.session.scalar(select(Submission).where(Submission.id == create["sub"]))
        assert head.revisions == 1 and not head.deleted
    # the owner still can
    assert _push(client, owner_id, owner, [_correct(create)])[0]["status"] == "created"


def test_the_same_enumerators_other_phone_can(client, accounts, forms_installed):
    username = accounts.user("enumerator")[0]
    first_id, first = enrol(client, accounts, username)
    second_id, second = enrol(client, accounts, username)
    create = op()
    _push(client, first_id, first, [create])
    assert _push(client, second_id, second, [_correct(create)])[0]["status"] == "created"


def test_the_combined_sync_checks_ownership_as_the_push_does(client, accounts, forms_installed):
    # The device's peers are looked up only for a push that corrects or deletes (a push of new interviews
    # needs none): the combined endpoint looks them up from its push, too.
    username = accounts.user("enumerator")[0]
    first_id, first = enrol(client, accounts, username)
    second_id, second = enrol(client, accounts, username)
    stranger_id, stranger = enrol(client, accounts)
    create = op()
    _push(client, first_id, first, [create])

    def combined(device_id, headers, ops):
        answer = client.post("/api/v1/sync", headers=headers, json={
            "push": {"protocol": PROTOCOL, "device_id": device_id, "ops": ops},
            "pull": {"protocol": PROTOCOL, "device_id": device_id}})
        assert answer.status_code == 200, answer.get_json()
        return [(r["status"], r.get("code")) for r in answer.get_json()["push"]["results"]]

    assert combined(stranger_id, stranger, [_correct(create)]) == [("rejected", "not-owner")]
    assert combined(second_id, second, [_correct(create), op()]) == [("created", None)] * 2
