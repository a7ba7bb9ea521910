"""Hostile and broken submissions: an OpenRosa error response, and nothing stored wrongly."""

from __future__ import annotations

from xml.etree.ElementTree import fromstring

import pytest

from server.extensions import db
from server.openrosa.service import ACCEPT_CONTENT_LENGTH
from tests.openrosa.collect import Collect
from tests.openrosa.collect import multipart
from tests.openrosa.conftest import counts
from tests.openrosa.conftest import make_app_user

R = {"r": "http://openrosa.org/http/response"}
NOTHING = {"openrosa": 0, "submissions": 0, "revisions": 0, "quarantined": 0}


def instance(body: str = "<consent>no</consent>", *, form_id="awareness", version="2017.1",
             instance_id="uuid:6f1c2a9e-0000-4000-8000-0000000000aa", prolog: str = "") -> bytes:
    return (f'<?xml version="1.0"?>{prolog}<data id="{form_id}" version="{version}">'
            f"<round>2019</round>{body}<meta><instanceID>{instance_id}</instanceID></meta></data>").encode()


def assert_openrosa_error(answer, status: int, words: str) -> None:
    assert answer.status == status, answer.text
    assert answer.headers["content-type"].startswith("text/xml")
    assert answer.headers["x-openrosa-version"] == "1.0"
    found = fromstring(answer.body).find("r:message", R)
    assert found.get("nature") == "error" and words in found.text, found.text


BILLION_LAUGHS = "<!DOCTYPE data [<!ENTITY l0 'lol'>" + "".join(
    f"<!ENTITY l{i} '{f'&l{i - 1};' * 10}'>" for i in range(1, 10)) + "]>"


@pytest.mark.parametrize("xml, status, words", [
    (b"<data id='awareness' version='2017.1'><consent>", 400, "not a readable form instance"),
    (b"\xff\xfe not xml at all", 400, "not a readable form instance"),
    (instance("<consent>&l9;</consent>", prolog=BILLION_LAUGHS), 400, "DTD"),
    (instance("<consent>&x;</consent>", prolog="<!DOCTYPE data [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>"),
     400, "DTD"),
    (instance(instance_id=""), 400, "instanceID"),
    (instance(form_id="census"), 403, "may not send form 'census'"),
    (instance(version="2099.9"), 404, "no version '2099.9'"),
])
def test_bad_instances_are_refused_and_nothing_is_stored(app, phone, xml, status, words):
    assert_openrosa_error(phone.post(xml), status, words)
    assert counts(app) == NOTHING


def test_a_form_the_app_user_was_not_given(app, server, installed):
    token = make_app_user(app, "outreach-only", forms=["outreach"])
    phone = Collect(f"{server}/v1/key/{token}/projects/1")
    assert_openrosa_error(phone.post(instance()), 403, "may not send form 'awareness'")
    assert counts(app) == NOTHING


def test_missing_xml_submission_file(app, phone):
    body, content_type = multipart(b"", [])
    body = body.replace(b'name="xml_submission_file"', b'name="something_else"')
    answer = phone.request("POST", phone.server_url + "/submission", body, {"Content-Type": content_type})
    assert_openrosa_error(answer, 400, "no xml_submission_file")
    not_multipart = phone.request("POST", phone.server_url + "/submission", b"<data/>",
                                  {"Content-Type": "text/xml"})
    assert_openrosa_error(not_multipart, 400, "no xml_submission_file")
    assert counts(app) == NOTHING


@pytest.mark.parametrize("chunked", [False, True])
def test_a_20_mb_upload_is_413_and_nothing_is_stored(app, phone, chunked):
    photo = b"\0" * (20 * 1024 * 1024)
    answer = phone.post(instance("<consent>no</consent>"), [("photo.jpg", photo)], chunked=chunked)
    assert_openrosa_error(answer, 413, str(ACCEPT_CONTENT_LENGTH))
    assert counts(app) == NOTHING


def test_wrong_and_revoked_tokens_store_nothing(app, server, token):
    from server.accounts import app_users

    assert_openrosa_error(Collect(f"{server}/v1/key/nope/projects/1").post(instance()), 403, "revoked")
    with app.app_context():
        app_users.revoke(db.session, "phone-1")
        db.session.commit()
    assert_openrosa_error(Collect(f"{server}/v1/key/{token}/projects/1").post(instance()), 403, "revoked")
    assert counts(app) == NOTHING


def test_the_token_is_stored_only_as_a_hash(app, token):
    from sqlalchemy import text

    with app.app_context():
        dump = " ".join(str(row) for row in db.session.execute(text("SELECT * FROM app_users")))
    assert token not in dump and "phone-1" in dump


def test_other_methods_are_405(phone):
    answer = phone.request("DELETE", phone.server_url + "/submission")
    assert answer.status == 405
