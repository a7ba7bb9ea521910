"""Operations carrying ODK instance XML (the web form's): answers read by forms.instance, as OpenRosa's."""

import uuid

import pytest

from forms.instance import answers_from_instance
from server.extensions import db
from server.forms import registry as form_registry
from server.models.submissions import SubmissionRevision
from tests.server.test_sync_api import _push
from tests.server.test_sync_api import enrolled  # noqa: F401 (fixture)

VERSION = form_registry.library.load("awareness").version


def refusal_xml(sub: str, *, form_id="awareness", version=VERSION, consent="no") -> str:
    """An awareness instance as ODK Web Forms writes one: the round, then a refusal."""
    return (f'<data xmlns:jr="http://openrosa.org/javarosa" xmlns:orx="http://openrosa.org/xforms" '
            f'id="{form_id}" version="{version}"><start>2026-12-03T09:00:00.000+07:00</start>'
            f"<end>2026-12-03T09:05:00.000+07:00</end><round>2019</round><consent>{consent}</consent>"
            f"<profile/><knowledge/><risk/><exposure/>"
            f"<meta><instanceID>uuid:{sub}</instanceID></meta></data>")


def xml_op(sub=None, *, xml=None, **extra):
    sub = sub or str(uuid.uuid4())
    return {"id": str(uuid.uuid4()), "kind": "create", "sub": sub, "form": "awareness", "ver": VERSION,
            "at": "2026-12-03T09:05:00+07:00", "xml": xml if xml is not None else refusal_xml(sub), **extra}


def test_xml_operation_is_stored_with_the_answers_openrosa_would_read(app, client, enrolled):  # noqa: F811
    device_id, headers = enrolled
    op = xml_op()
    result = _push(client, device_id, headers, [op]).get_json()["results"][0]
    assert result["status"] == "created", result
    with app.app_context():
        stored = db.session.get(SubmissionRevision, op["id"])
        form = form_registry.load_form(form_registry.get_version(db.session, "awareness", VERSION))
        expected = answers_from_instance(form, op["xml"].encode()).answers
    assert stored.answers == expected
    assert stored.answers["round"] == "2019" and stored.answers["consent"] == "no"
    # A retry sends the same bytes and gets the first result back.
    again = _push(client, device_id, headers, [op]).get_json()["results"][0]
    assert again["status"] == "duplicate" and again["original"]["status"] == "created"


def test_invalid_answers_in_the_xml_are_quarantined_with_the_question(client, enrolled):  # noqa: F811
    device_id, headers = enrolled
    sub = str(uuid.uuid4())
    op = xml_op(sub, xml=refusal_xml(sub, consent="maybe"))
    result = _push(client, device_id, headers, [op]).get_json()["results"][0]
    assert result["status"] == "quarantined"
    assert any(r["pointer"] == "/consent" for r in result["reasons"]), result


@pytest.mark.parametrize("make, pointer", [
    (lambda sub: "<data", "/xml"),
    (lambda sub: '<!DOCTYPE d [<!ENTITY x "y">]><data id="awareness">&x;</data>', "/xml"),
    (lambda sub: refusal_xml(sub, form_id="outreach"), "/xml"),
    (lambda sub: refusal_xml(str(uuid.uuid4())), "/sub"),
])
def test_unreadable_or_mismatched_instances_are_rejected_and_kept(client, enrolled, make, pointer):  # noqa: F811
    device_id, headers = enrolled
    sub = str(uuid.uuid4())
    result = _push(client, device_id, headers, [xml_op(sub, xml=make(sub))]).get_json()["results"][0]
    assert result["status"] == "rejected" and result["code"] == "op-invalid", result
    assert [e["pointer"] for e in result["errors"]] == [pointer]


def test_instance_of_an_unknown_version_is_quarantined(client, enrolled):  # noqa: F811
    device_id, headers = enrolled
    sub = str(uuid.uuid4())
    op = xml_op(sub, xml=refusal_xml(sub, version="2099.1"), ver="2099.1")
    result = _push(client, device_id, headers, [op]).get_json()["results"][0]
    assert result["status"] == "quarantined" and result["reasons"][0]["code"] == "form-unknown"


def mini_xml(sub: str, *, age: int) -> str:
    """An instance of the two-question ``mini`` form, version 5 (unknown to the server when pushed)."""
    return (f'<data id="mini" version="5"><age>{age}</age><heard>yes</heard>'
            f"<meta><instanceID>uuid:{sub}</instanceID></meta></data>")


def test_an_instance_held_for_an_unknown_version_is_read_when_revalidated(app, client, accounts,
                                                                          enrolled):  # noqa: F811
    import io

    from tests.xlsform_builder import mini

    device_id, headers = enrolled
    good, bad = str(uuid.uuid4()), str(uuid.uuid4())
    ops = [xml_op(good, xml=mini_xml(good, age=30), form="mini", ver="5"),
           xml_op(bad, xml=mini_xml(bad, age=7), form="mini", ver="5")]
    results = _push(client, device_id, headers, ops).get_json()["results"]
    assert [r["reasons"][0]["code"] for r in results] == ["form-unknown", "form-unknown"]
    coordinator = accounts.headers("coordinator")
    client.post("/api/v1/forms", data={"file": (io.BytesIO(mini("5")), "mini.xlsx")}, headers=coordinator,
                content_type="multipart/form-data")
    assert client.post("/api/v1/forms/mini/versions/5/publish", headers=coordinator).status_code == 200
    outcome = client.post("/api/v1/sync/quarantine/revalidate", json={}, headers=coordinator).get_json()
    # The age the form's constraint refuses keeps its interview held; the other is read and accepted.
    assert outcome["outcomes"] == {ops[0]["id"]: "accepted", ops[1]["id"]: "still-quarantined"}
    with app.app_context():
        stored = db.session.get(SubmissionRevision, ops[0]["id"])
        form = form_registry.load_form(form_registry.get_version(db.session, "mini", "5"))
        assert stored.answers == answers_from_instance(form, ops[0]["xml"].encode()).answers
        assert stored.answers == {"age": 30, "heard": "yes"}
