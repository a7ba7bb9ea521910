"""Assignments API: coordinators set an enumerator's communes and quotas per round; devices pull them."""

import pytest
from sqlalchemy import func
from sqlalchemy import select

from server.extensions import db
from server.models import Assignment
from server.models import AuditEntry
from server.models import BucketChange
from server.models import User
from tests.problem_shape import assert_problem


@pytest.fixture
def enumerator(app, accounts, places):
    username, _, _ = accounts.user("enumerator")
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.username == username))
    return username, user_id


def _url(username):
    return f"/api/v1/users/{username}/assignments"


def _bucket(app, user_id):
    with app.app_context():
        rows = db.session.scalars(select(BucketChange).where(BucketChange.bucket == f"assignments:{user_id}")
                                  .order_by(BucketChange.seq)).all()
        return {r.key: (r.seq, r.data) for r in rows}


def _count(app, model):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def _coordinator(app, accounts, districts=("916",)) -> dict:
    """Headers of a new coordinator who looks after ``districts`` (916: Ninh Kiều, where 31117 is)."""
    from server.console.scope import grant_districts

    name, _, headers = accounts.user("coordinator")
    with app.app_context():
        grant_districts(db.session, name, list(districts))
        db.session.commit()
    return headers


def test_replace_then_read_and_the_bucket_follows(app, client, accounts, enumerator):
    username, user_id = enumerator
    coordinator = _coordinator(app, accounts)
    body = {"round": 2019, "communes": [{"commune": "31117", "quota": 40},
                                        {"commune": "916-an-cu", "quota": 20}]}
    response = client.put(_url(username), json=body, headers=coordinator)
    assert response.status_code == 200, response.get_json()
    expected = [
        {"round": 2019, "commune": "31117", "commune_name": "Cái Khế", "district": "916", "quota": 40},
        {"round": 2019, "commune": "916-an-cu", "commune_name": response.get_json()["assignments"][1][
            "commune_name"], "district": "916", "quota": 20},
    ]
    assert response.get_json() == {"username": username, "assignments": expected}
    assert client.get(_url(username), headers=coordinator).get_json()["assignments"] == expected
    assert client.get(_url(username) + "?round=2020", headers=coordinator).get_json()["assignments"] == []
    first = _bucket(app, user_id)
    assert {k: d for k, (_, d) in first.items()} == {"2019:31117": expected[0], "2019:916-an-cu": expected[1]}

    # Another round is separate; replacing 2019 leaves it alone.
    client.put(_url(username), json={"round": 2020, "communes": [{"commune": "31120", "quota": 10}]},
               headers=coordinator)
    keep = {"round": 2019, "communes": [{"commune": "31117", "quota": 40}]}
    replaced = client.put(_url(username), json=keep, headers=accounts.headers("admin"))
    assert [a["commune"] for a in replaced.get_json()["assignments"]] == ["31117"]
    after = _bucket(app, user_id)
    assert after["2019:31117"] == first["2019:31117"]  # unchanged: not re-sent
    assert after["2019:916-an-cu"][1] is None and after["2019:916-an-cu"][0] > first["2019:916-an-cu"][0]
    assert after["2020:31120"][1]["quota"] == 10
    every = client.get(_url(username), headers=coordinator).get_json()["assignments"]
    assert [a["round"] for a in every] == [2019, 2020]

    with app.app_context():
        entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "assignment.replace")
                                     .order_by(AuditEntry.id)).all()
        assert [e.details["round"] for e in entries] == [2019, 2020, 2019]
        assert entries[-1].details["before"] == {"31117": 40, "916-an-cu": 20}
        assert entries[-1].details["after"] == {"31117": 40}
        assert entries[0].target_id == str(user_id)


def test_a_quota_change_is_sent_again(app, client, accounts, enumerator):
    username, user_id = enumerator
    coordinator = _coordinator(app, accounts)
    client.put(_url(username), json={"round": 2019, "communes": [{"commune": "31117", "quota": 40}]},
               headers=coordinator)
    seq, _ = _bucket(app, user_id)["2019:31117"]
    client.put(_url(username), json={"round": 2019, "communes": [{"commune": "31117", "quota": 41}]},
               headers=coordinator)
    new_seq, data = _bucket(app, user_id)["2019:31117"]
    assert new_seq > seq and data["quota"] == 41
    assert _count(app, Assignment) == 1


def test_mistakes_are_422_problems_pointing_at_each_and_write_nothing(app, client, accounts, enumerator):
    username, user_id = enumerator
    coordinator = _coordinator(app, accounts)
    staff, _, _ = accounts.user("analyst")
    client.get(_url(username), headers=coordinator)  # the token's first use this hour is audited; now it is
    before = (_count(app, Assignment), _count(app, BucketChange), _count(app, AuditEntry))
    body = assert_problem(client.put(_url(username), json={"round": 2031, "communes": [
        {"commune": "31117", "quota": 5}, {"commune": "99999", "quota": 5},
        {"commune": "31117", "quota": 6}]},
        headers=coordinator), 422, "validation-failed")
    assert {e["pointer"] for e in body["errors"]} == {"/round", "/communes/1/commune", "/communes/2/commune"}
    body = assert_problem(client.put(_url(username), json={"round": "2019", "communes": [
        {"commune": "31117", "quota": 0}, {"quota": 3}]}, headers=coordinator), 422, "validation-failed")
    assert {e["pointer"] for e in body["errors"]} == {"/round", "/communes/0/quota", "/communes/1/commune"}
    body = assert_problem(client.put(_url(staff), json={"round": 2019, "communes": []}, headers=coordinator),
                          422, "validation-failed")
    assert body["errors"][0]["pointer"] == "/" and "enumerator" in body["errors"][0]["detail"]
    assert_problem(client.put(_url("nobody"), json={"round": 2019, "communes": []}, headers=coordinator),
                   404, "not-found")
    assert_problem(client.get(_url(username) + "?round=soon", headers=coordinator), 422, "validation-failed")
    assert_problem(client.put(_url(username), json=[], headers=coordinator), 422, "validation-failed")
    assert (_count(app, Assignment), _count(app, BucketChange), _count(app, AuditEntry)) == before


def test_a_coordinator_reads_and_writes_only_the_communes_of_their_districts(app, client, accounts,
                                                                          enumerator):
    username, _ = enumerator
    admin = accounts.headers("admin")
    mine, other = _coordinator(app, accounts, ("916",)), _coordinator(app, accounts, ("917",))
    with app.app_context():
        from server.models import Commune
        from server.models import District
        outside = db.session.scalar(select(Commune.key).join(District, Commune.district_id == District.id)
                                    .where(District.code == "917").order_by(Commune.key))
    both = {"round": 2019, "communes": [{"commune": "31117", "quota": 40}, {"commune": outside, "quota": 7}]}
    assert client.put(_url(username), json=both, headers=admin).status_code == 200
    # each coordinator reads only their district's commune of the enumerator's round
    assert [a["commune"] for a in client.get(_url(username), headers=mine).get_json()["assignments"]] \
        == ["31117"]
    assert [a["commune"] for a in client.get(_url(username), headers=other).get_json()["assignments"]] \
        == [outside]
    # writing a commune of another district is refused and changes nothing (the token's use is logged)
    before = (_count(app, Assignment), _count(app, AuditEntry))
    body = assert_problem(client.put(_url(username), json={"round": 2019, "communes": [
        {"commune": "31117", "quota": 3}, {"commune": outside, "quota": 1}]}, headers=mine), 403, "forbidden")
    assert [e["pointer"] for e in body["errors"]] == ["/communes/1/commune"]
    assert (_count(app, Assignment), _count(app, AuditEntry)) == before
    # replacing their part leaves the other district's commune as it was
    done = client.put(_url(username), json={"round": 2019, "communes": [{"commune": "31117", "quota": 3}]},
                      headers=mine)
    assert done.status_code == 200
    every = client.get(_url(username), headers=admin).get_json()["assignments"]
    assert {a["commune"]: a["quota"] for a in every} == {"31117": 3, outside: 7}
    # withdrawing all of theirs still leaves the other's
    client.put(_url(username), json={"round": 2019, "communes": []}, headers=mine)
    assert [a["commune"] for a in client.get(_url(username), headers=admin).get_json()["assignments"]] \
        == [outside]


def test_an_enumerator_assigned_only_elsewhere_is_not_found_for_a_coordinator(app, client, accounts,
                                                                            enumerator):
    username, _ = enumerator
    admin = accounts.headers("admin")
    assert client.put(_url(username), json={"round": 2019, "communes": [{"commune": "31117", "quota": 4}]},
                      headers=admin).status_code == 200
    stranger = _coordinator(app, accounts, ("917",))
    assert_problem(client.get(_url(username), headers=stranger), 404, "not-found")
    assert_problem(client.put(_url(username), json={"round": 2019, "communes": []}, headers=stranger),
                   404, "not-found")
    assert _count(app, Assignment) == 1


@pytest.mark.parametrize("role", ["enumerator", "analyst", "planner"])
def test_only_coordinators_and_admins_assign(client, accounts, enumerator, role):
    username, _ = enumerator
    body = {"round": 2019, "communes": [{"commune": "31117", "quota": 40}]}
    assert_problem(client.put(_url(username), json=body, headers=accounts.headers(role)), 403, "forbidden")
    assert_problem(client.get(_url(username), headers=accounts.headers(role)), 403, "forbidden")


def test_devices_and_strangers_cannot_assign(client, accounts, enumerator):
    username, _ = enumerator
    _, device = accounts.device(username)
    body = {"round": 2019, "communes": [{"commune": "31117", "quota": 40}]}
    assert_problem(client.put(_url(username), json=body, headers=device), 403, "forbidden")
    assert_problem(client.put(_url(username), json=body), 401, "unauthenticated")
