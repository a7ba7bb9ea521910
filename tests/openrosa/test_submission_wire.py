"""Collect's submission sequences replayed over a real server, with instances filled by ODK's engine.

The XForm and its media are downloaded from Ferry as Collect would, filled by ODK's own engine
(``tests/odk``), and sent as Collect sends them (``tests/openrosa/collect.py``).
"""

from __future__ import annotations

import hashlib
from urllib.parse import quote
from xml.etree.ElementTree import fromstring

import pytest
from sqlalchemy import select

from forms import library
from forms.instance import answers_from_instance
from server.extensions import db
from server.forms import registry as form_registry
from server.models import Blob
from server.models import BlobChunk
from server.models import OpenRosaSubmission
from server.models import QuarantinedSubmission
from server.models import Respondent
from server.models import Submission
from server.models import SubmissionConflict
from server.models import SubmissionRevision
from tests.forms.test_library import AWARE
from tests.forms.test_library import OUTREACH
from tests.live_server import live_server
from tests.openrosa.collect import Collect
from tests.openrosa.conftest import counts
from tests.openrosa.conftest import fill
from tests.openrosa.conftest import make_app_user
from tests.openrosa.conftest import needs_engine
from tests.xlsform_builder import xlsform

pytestmark = needs_engine
NS = {"x": "http://openrosa.org/xforms/xformsList", "m": "http://openrosa.org/xforms/xformsManifest",
      "r": "http://openrosa.org/http/response"}


def served(phone: Collect, form_id: str) -> tuple[str, dict[str, str]]:
    """The XForm and media files of a form, downloaded from Ferry as Collect does."""
    listed = fromstring(phone.form_list(f"?formID={quote(form_id)}").body)
    entry = listed.find("x:xform", NS)
    xform = phone.get(entry.findtext("x:downloadUrl", namespaces=NS)).body.decode("utf-8")
    files = {}
    manifest_url = entry.findtext("x:manifestUrl", namespaces=NS)
    if manifest_url:
        for media in fromstring(phone.get(manifest_url).body).findall("m:mediaFile", NS):
            files[media.findtext("m:filename", namespaces=NS)] = phone.get(
                media.findtext("m:downloadUrl", namespaces=NS)).text
    return xform, files


def filled(phone: Collect, name: str, docs: list[dict]) -> list[bytes]:
    """Instances of a built-in form filled by ODK's engine from the XForm Ferry serves."""
    xform, files = served(phone, name)
    results = fill(xform, docs, files, library.load(name))
    for result in results:
        assert result["unapplied"] == {} and result["violations"] == [], result
    return [r["instance_xml"].encode("utf-8") for r in results]


def message(answer) -> str:
    return fromstring(answer.body).findtext("r:message", namespaces=NS)


def stored(app, instance_xml: bytes):
    """(openrosa row, submission head, head revision) of an instance."""
    form = library.load(fromstring(instance_xml).get("id"))
    instance = answers_from_instance(form, instance_xml)
    with app.app_context():
        row = db.session.scalar(select(OpenRosaSubmission).where(
            OpenRosaSubmission.instance_id == instance.instance_id))
        head = db.session.get(Submission, row.submission_id) if row else None
        revision = db.session.get(SubmissionRevision, head.head) if head else None
        db.session.expunge_all()
    return instance, row, head, revision


def test_collect_sends_both_built_in_forms(app, phone, accounts):
    aware, outreach = filled(phone, "awareness", [AWARE])[0], filled(phone, "outreach", [OUTREACH])[0]
    for xml in (aware, outreach):
        answers = phone.send(xml)
        assert [a.status for a in answers] == [201]
        assert answers[0].headers["content-type"].startswith("text/xml")
        assert fromstring(answers[0].body).find("r:message", NS).get("nature") == "submit_success"
        instance, row, head, revision = stored(app, xml)
        assert revision.answers == instance.answers  # the same answers the sync protocol stores
        assert revision.device_id == row.device_id and head.form_id == instance.form_id
        assert row.collect_device_id == phone.device_id and row.xml == xml and row.complete
    head = phone.log[-2]
    assert head[0] == "HEAD" and head[2] == 204
    _, _, aware_head, _ = stored(app, aware)
    with app.app_context():
        respondent = db.session.scalars(select(Respondent).filter_by(submission_id=aware_head.id)).one()
        assert respondent.consented is True
    # The app user is a device: it appears in the device list with its last contact.
    listed = app.test_client().get("/api/v1/devices", headers=accounts.headers("admin")).get_json()
    [device] = [d for d in listed["devices"] if d["app_user"] == "phone-1"]
    assert device["enumerator"] is None and device["last_seen_at"] is not None
    assert device["device_id"] == row.device_id
    result = app.test_cli_runner().invoke(args=["sync", "devices"])
    assert "ODK Collect phone-1" in result.output


def test_an_answer_lost_after_the_commit_is_retried_and_stored_once(app, token, installed):
    drops = {"left": 1}

    def lose_first_post_answer(wsgi):
        def middleware(environ, start_response):
            body = wsgi(environ, start_response)
            if environ["REQUEST_METHOD"] == "POST" and drops["left"]:
                drops["left"] -= 1
                list(body)  # the server finished and committed
                raise ConnectionAbortedError("answer lost on the way back")
            return body
        return middleware

    with live_server(app, wrap=lose_first_post_answer) as url:
        # the lost answer never comes: the phone gives up after its timeout (shorter than Collect's 60 s)
        phone = Collect(f"{url}/v1/key/{token}/projects/1", timeout=10)
        [xml] = filled(phone, "awareness", [AWARE])
        with pytest.raises((ConnectionError, OSError)):
            phone.send(xml)
        before = counts(app)
        answers = phone.send(xml)  # Collect marks it failed and sends it again
    assert [a.status for a in answers] == [201]
    assert before == counts(app) == {"openrosa": 1, "submissions": 1, "revisions": 1, "quarantined": 0}


def test_resend_after_a_restart_is_recognised(app, phone):
    [xml] = filled(phone, "awareness", [AWARE])
    assert phone.send(xml)[0].status == 201
    restarted = Collect(phone.server_url, device_id=phone.device_id)
    again = restarted.send(xml)
    assert [a.status for a in again] == [201]
    assert counts(app) == {"openrosa": 1, "submissions": 1, "revisions": 1, "quarantined": 0}


def test_chunked_upload_is_accepted(app, phone):
    [xml] = filled(phone, "outreach", [OUTREACH])
    assert phone.head_submission().status == 204
    answer = phone.post(xml, chunked=True)
    assert answer.status == 201, answer.text
    assert counts(app)["submissions"] == 1


def test_same_instance_id_with_other_answers_is_409_and_the_first_stays(app, phone):
    [xml] = filled(phone, "awareness", [AWARE])
    assert phone.send(xml)[0].status == 201
    changed = xml.replace(b"<age>24</age>", b"<age>25</age>")
    answer = phone.send(changed)[-1]
    assert answer.status == 409
    assert "different submission" in message(answer)
    _, row, _, revision = stored(app, xml)
    assert row.xml == xml and revision.answers["profile"]["age"] == 24
    assert counts(app)["revisions"] == 1


def test_an_edit_with_deprecated_id_is_a_correction_and_a_stale_one_a_conflict(app, phone):
    [xml] = filled(phone, "awareness", [AWARE])
    assert phone.send(xml)[0].status == 201
    original, _, head, _ = stored(app, xml)

    def edit(source: bytes, age: int, new_id: str) -> bytes:
        return (source.replace(b"<age>24</age>", f"<age>{age}</age>".encode())
                .replace(f"<instanceID>{original.instance_id}</instanceID>".encode(),
                         f"<instanceID>{new_id}</instanceID><deprecatedID>{original.instance_id}"
                         "</deprecatedID>".encode()))

    first_edit = edit(xml, 31, "uuid:00000000-0000-4000-8000-00000000e001")
    assert phone.send(first_edit)[0].status == 201
    _, row, edited_head, revision = stored(app, first_edit)
    assert edited_head.id == head.id and edited_head.revisions == 2
    assert revision.kind == "correct" and revision.answers["profile"]["age"] == 31
    assert row.deprecated_id == original.instance_id
    with app.app_context():
        assert db.session.scalars(select(Respondent).filter_by(submission_id=head.id)).one().age == 31
    # A second phone edited the same original offline: kept, flagged as a conflict, received last wins.
    stale_edit = edit(xml, 33, "uuid:00000000-0000-4000-8000-00000000e002")
    assert phone.send(stale_edit)[0].status == 201
    with app.app_context():
        [conflict] = db.session.scalars(select(SubmissionConflict)).all()
        assert conflict.kind == "concurrent-edit" and conflict.submission_id == head.id
        assert db.session.get(Submission, head.id).revisions == 3


def test_an_invalid_instance_is_held_for_review_not_dropped(app, phone):
    [xml] = filled(phone, "awareness", [AWARE])
    too_young = xml.replace(b"<age>24</age>", b"<age>5</age>")
    answer = phone.send(too_young)[0]
    assert answer.status == 201
    assert message(answer).startswith("Received and held for review")
    with app.app_context():
        [held] = db.session.scalars(select(QuarantinedSubmission)).all()
        assert held.reason == "answers-invalid" and held.issues[0]["pointer"] == "/profile/age"
        assert db.session.scalar(select(Submission)) is None
    assert counts(app)["openrosa"] == 1  # the XML as sent is kept too


def test_a_closed_version_refuses_with_a_message_and_a_closing_one_accepts(app, phone):
    aware, outreach = filled(phone, "awareness", [AWARE])[0], filled(phone, "outreach", [OUTREACH])[0]
    with app.app_context():
        form_registry.set_state(db.session, "awareness", "2017.1", "closing")
        form_registry.set_state(db.session, "outreach", "2017.1", "closing")
        form_registry.set_state(db.session, "outreach", "2017.1", "closed")
        db.session.commit()
    assert phone.send(aware)[0].status == 201
    refused = phone.send(outreach)[0]
    assert refused.status == 409 and "closed" in message(refused)
    assert counts(app) == {"openrosa": 1, "submissions": 1, "revisions": 1, "quarantined": 0}


PHOTO_SURVEY = [
    ("type", "name", "label"),
    ("text", "site", "Site"),
    ("image", "front", "Front"),
    ("image", "back", "Back"),
    ("begin_repeat", "rooms", "Rooms"),
    ("image", "room_photo", "Room"),
    ("end_repeat", "", ""),
]


@pytest.fixture
def photos(app, installed):
    with app.app_context():
        version, _ = form_registry.import_xlsform(db.session, xlsform(PHOTO_SURVEY, form_id="photos"),
                                                  "photos.xlsx")
        form_registry.publish(db.session, "photos", version.version)
        form = form_registry.load_form(version)
        db.session.commit()
    return form


def test_attachments_split_by_the_advertised_size_are_merged(app, server, photos):
    token = make_app_user(app, "photo-phone", forms=["photos"])
    phone = Collect(f"{server}/v1/key/{token}/projects/1")
    xform, _ = served(phone, "photos")
    doc = {"site": "A", "front": "front.jpg", "back": "back.jpg",
           "rooms": [{"room_photo": "room1.jpg"}, {"room_photo": "room2.jpg"}]}
    [result] = fill(xform, [doc], {}, photos)
    xml = result["instance_xml"].encode()
    four_mb = 4_000_000
    files = [(name, bytes([i]) * four_mb) for i, name in
             enumerate(["front.jpg", "back.jpg", "room1.jpg", "room2.jpg"], 1)]
    answers = phone.send(xml, files)
    # 10 MB per POST: two 4 MB photos each, the first POST flagged *isIncomplete*.
    assert [a.status for a in answers] == [201, 201]
    assert sum(1 for m, *_ in phone.log if m == "POST") == 2
    with app.app_context():
        row = db.session.scalar(select(OpenRosaSubmission))
        got = {a.filename: a.sha256 for a in row.attachments}
        assert got == {name: hashlib.sha256(data).hexdigest() for name, data in files}
        assert row.attachments_expected == 4 and row.complete
        for name, data in files:
            blob = db.session.get(Blob, got[name])
            assert blob.complete and blob.size == len(data)
            chunk = db.session.get(BlobChunk, (got[name], 0))
            assert chunk.data == data
        head = db.session.get(Submission, row.submission_id)
        assert db.session.get(SubmissionRevision, head.head).answers["rooms"] == [
            {"room_photo": "room1.jpg"}, {"room_photo": "room2.jpg"}]
    # Resending the whole thing after a restart adds nothing and doubles nothing.
    assert [a.status for a in phone.send(xml, files)] == [201, 201]
    assert counts(app) == {"openrosa": 1, "submissions": 1, "revisions": 1, "quarantined": 0}


def test_an_interrupted_split_upload_is_completed_by_the_next_send(app, server, photos):
    token = make_app_user(app, "photo-phone", forms=["photos"])
    phone = Collect(f"{server}/v1/key/{token}/projects/1")
    xform, _ = served(phone, "photos")
    [result] = fill(xform, [{"site": "B", "front": "f.jpg", "back": "b.jpg"}], {}, photos)
    xml = result["instance_xml"].encode()
    # The phone got only its first POST (with one file) through, then lost the network.
    assert phone.post(xml, [("f.jpg", b"front")], incomplete=True).status == 201
    with app.app_context():
        row = db.session.scalar(select(OpenRosaSubmission))
        assert not row.complete and [a.filename for a in row.attachments] == ["f.jpg"]
    # Later it sends the whole form again: the missing file is added, the one it had is kept.
    assert [a.status for a in phone.send(xml, [("f.jpg", b"front"), ("b.jpg", b"back"),
                                               ("unrelated.jpg", b"?")])] == [201]
    with app.app_context():
        row = db.session.scalar(select(OpenRosaSubmission))
        assert row.complete and sorted(a.filename for a in row.attachments) == ["b.jpg", "f.jpg"]


def test_twin_posts_at_once_store_one_submission(app, phone):
    from concurrent.futures import ThreadPoolExecutor

    [xml] = filled(phone, "awareness", [AWARE])
    assert phone.head_submission().status == 204
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: phone.post(xml), range(4)))
    assert [a.status for a in answers] == [201] * 4, [a.text for a in answers]
    assert counts(app) == {"openrosa": 1, "submissions": 1, "revisions": 1, "quarantined": 0}


def test_an_edit_of_an_instance_never_received_is_held_for_review(app, phone):
    [xml] = filled(phone, "outreach", [OUTREACH])
    instance_id = fromstring(xml).find("meta").findtext("instanceID")
    edit = xml.replace(f"<instanceID>{instance_id}</instanceID>".encode(),
                       b"<instanceID>uuid:00000000-0000-4000-8000-00000000e0e0</instanceID>"
                       b"<deprecatedID>uuid:00000000-0000-4000-8000-0000000000ff</deprecatedID>")
    answer = phone.send(edit)[0]
    assert answer.status == 201 and message(answer).startswith("Received and held for review")
    with app.app_context():
        [held] = db.session.scalars(select(QuarantinedSubmission)).all()
        assert held.reason == "submission-unknown"
    assert counts(app) == {"openrosa": 1, "submissions": 0, "revisions": 0, "quarantined": 1}
