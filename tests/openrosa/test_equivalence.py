"""One interview, two wire formats: OpenRosa and the sync protocol store the same answers and rows.

Each interview is filled by ODK's engine from the XForm Ferry serves. It goes to Ferry twice: as
Collect sends it (instance XML over OpenRosa, by an app user) and as a sync client sends it (the
interviewer's answers as JSON, plus what the phone computed: start, end, calculations, read from the
engine's own node values, not from the XML), by an enrolled device. The stored revisions must hold
identical answers, and the analysis rows (``respondents``) must be identical but for their keys.
"""

from __future__ import annotations

import copy
import uuid
from xml.etree import ElementTree

import pytest
from sqlalchemy import select

from forms import library
from server.extensions import db
from server.forms import registry as form_registry
from server.models import OpenRosaSubmission
from server.models import Respondent
from server.models import Submission
from server.models import SubmissionRevision
from sync.protocol import PROTOCOL
from tests.forms.test_library import AWARE
from tests.forms.test_library import OUTREACH
from tests.odk.paths import pointer_of
from tests.openrosa.collect import Collect
from tests.openrosa.conftest import fill
from tests.openrosa.conftest import make_app_user
from tests.openrosa.conftest import needs_engine
from tests.openrosa.test_submission_wire import served
from tests.xlsform_builder import xlsform

pytestmark = needs_engine

COMPUTED = ("start", "end", "calculate")

HOUSEHOLD = [
    ("type", "name", "label", "calculation", "relevant"),
    ("date", "visit", "Visit date", "", ""),
    ("geopoint", "where", "Where", "", ""),
    ("begin_group", "head", "Head of household", "", ""),
    ("integer", "age", "Age", "", ""),
    ("decimal", "income", "Income", "", ""),
    ("select_multiple assets", "assets", "Assets", "", ""),
    ("end_group", "", "", "", ""),
    ("begin_repeat", "kids", "Children", "", ""),
    ("text", "kid_name", "Name", "", ""),
    ("integer", "kid_age", "Age", "", ""),
    ("select_multiple assets", "kid_assets", "Own assets", "", "${kid_age} > 10"),
    ("end_repeat", "", "", "", ""),
    ("calculate", "n_kids", "", "count(${kids})", ""),
]
ASSETS = [("list_name", "name", "label"), ("assets", "radio", "Radio"), ("assets", "tv", "TV"),
          ("assets", "phone", "Phone")]
HOUSEHOLD_DOCS = [
    {"visit": "2026-06-01", "where": "10.0334 105.7876 4.0 7.5",
     "head": {"age": 41, "income": 2.5, "assets": ["radio", "phone"]},
     "kids": [{"kid_name": "Lan", "kid_age": 12, "kid_assets": ["phone"]},
              {"kid_name": "Minh", "kid_age": 4}]},
    # No children: the repeat is left out, as forms.instance reads an instance without its elements.
    {"visit": "2026-06-02", "head": {"age": 67, "income": 3}},
]


@pytest.fixture
def household(app, installed):
    with app.app_context():
        version, _ = form_registry.import_xlsform(
            db.session, xlsform(HOUSEHOLD, choices=ASSETS, form_id="household"), "household.xlsx")
        form_registry.publish(db.session, "household", version.version)
        form = form_registry.load_form(version)
        db.session.commit()
    return form


def _computed(form, result: dict, doc: dict) -> dict:
    """The interviewer's answers plus what the phone computed, as ODK's engine holds them."""
    out = copy.deepcopy(doc)
    types = {q.name: q.type for q in form.walk()}
    for path, node in result["nodes"].items():
        pointer = pointer_of(form, path)
        parts = pointer.strip("/").split("/")
        if types.get(parts[-1]) not in COMPUTED or not node.get("value") or parts[0] == "meta":
            continue
        target = out
        for part in parts[:-1]:
            target = target[int(part)] if part.isdigit() else target.setdefault(part, {})
        target[parts[-1]] = node["value"]
    # ODK stamps ``end`` when it serialises the finished form, after the nodes above were read.
    for q in form.questions:
        if q.type == "end":
            out[q.name] = ElementTree.fromstring(result["instance_xml"]).findtext(q.name)
    return out


def _enrolled(client, accounts):
    username, _, _ = accounts.user("enumerator")
    created = client.post("/api/v1/devices", json={"username": username},
                          headers=accounts.headers("coordinator"))
    enrolment = client.post("/api/v1/devices/enroll", json={"protocol": PROTOCOL,
                                                             "code": created.get_json()["enrolment_code"]})
    body = enrolment.get_json()
    return body["device_id"], {"Authorization": f"Bearer {body['token']}"}


def _stored(app, submission_id: str):
    with app.app_context():
        head = db.session.get(Submission, submission_id)
        answers = db.session.get(SubmissionRevision, head.head).answers
        row = db.session.scalars(select(Respondent).filter_by(submission_id=submission_id)).one_or_none()
        columns = None if row is None else {c.name: getattr(row, c.name) for c in Respondent.__table__.columns
                                            if c.name not in ("submission_id", "seq")}
    return answers, columns


@pytest.mark.parametrize("name", ["awareness", "outreach", "household"])
def test_the_same_interview_by_openrosa_and_by_sync_is_stored_the_same(app, client, accounts, server,
                                                                        installed, household, name):
    form = household if name == "household" else library.load(name)
    docs = {"awareness": [AWARE], "outreach": [OUTREACH], "household": HOUSEHOLD_DOCS}[name]
    token = make_app_user(app, "phone", forms=[name])
    phone = Collect(f"{server}/v1/key/{token}/projects/1")
    xform, files = served(phone, name)
    results = fill(xform, docs, files, form)
    device_id, headers = _enrolled(client, accounts)
    for doc, result in zip(docs, results, strict=True):
        assert result["violations"] == [] and result["unapplied"] == {}, result
        xml = result["instance_xml"].encode()
        assert phone.send(xml)[0].status == 201
        with app.app_context():
            by_openrosa = db.session.scalar(select(OpenRosaSubmission.submission_id).where(
                OpenRosaSubmission.xml == xml))
        sub = str(uuid.uuid4())
        op = {"id": str(uuid.uuid4()), "kind": "create", "sub": sub, "form": form.form_id,
              "ver": form.version, "ans": _computed(form, result, doc)}
        pushed = client.post("/api/v1/sync/push", headers=headers,
                             json={"protocol": PROTOCOL, "device_id": device_id, "ops": [op]}).get_json()
        assert pushed["results"][0]["status"] == "created", pushed
        answers_xml, row_xml = _stored(app, by_openrosa)
        answers_json, row_json = _stored(app, sub)
        assert answers_xml == answers_json
        assert row_xml == row_json
        if name == "awareness":
            assert row_xml is not None and row_xml["consented"] and row_xml["age"] == 24
        if name == "household" and doc.get("kids"):
            assert answers_xml["kids"][0] == {"kid_name": "Lan", "kid_age": 12, "kid_assets": ["phone"]}
            assert answers_xml["where"] == "10.0334 105.7876 4.0 7.5" and answers_xml["n_kids"] == "2"
