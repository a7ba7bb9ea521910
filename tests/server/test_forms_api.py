"""Form versions on the server: built-in forms, upload, publish, states, what each audience sees."""

import io

import defusedxml.ElementTree as ET
import pytest
from sqlalchemy import func
from sqlalchemy import select

from forms import library
from server.extensions import db
from server.forms import registry as form_registry
from server.models import FormVersion
from tests.problem_shape import assert_problem
from tests.xlsform_builder import mini


@pytest.fixture
def installed(app):
    with app.app_context():
        form_registry.install_library(db.session)
        db.session.commit()


def _upload(client, headers, data: bytes, filename="mini.xlsx", attachments=(), **fields):
    files = {"file": (io.BytesIO(data), filename), **fields}
    if attachments:
        files["attachments"] = [(io.BytesIO(content), name) for name, content in attachments]
    return client.post("/api/v1/forms", data=files, headers=headers, content_type="multipart/form-data")


def _versions(app):
    with app.app_context():
        return db.session.scalar(select(func.count(FormVersion.id)))


def test_built_in_forms_are_installed_open_once(app, installed):
    with app.app_context():
        form_registry.install_library(db.session)
        db.session.commit()
        rows = db.session.scalars(select(FormVersion)).all()
        assert sorted((r.form.form_id, r.state) for r in rows) == [("awareness", "open"),
                                                                    ("outreach", "open")]
        awareness = next(r for r in rows if r.form.form_id == "awareness")
        assert awareness.content_hash == library.load("awareness").content_hash
        assert {a.filename for a in awareness.attachments} == set(library.load("awareness").attachments)


def test_devices_and_enumerators_see_open_forms(client, accounts, installed):
    _, device = accounts.device()
    for headers in (device, accounts.headers("enumerator"), accounts.headers("analyst")):
        body = client.get("/api/v1/forms", headers=headers).get_json()
        assert {v["form_id"] for v in body["versions"]} == {"awareness", "outreach"}
        assert all(v["state"] == "open" for v in body["versions"])


def test_version_as_ferry_json_xform_source_and_attachment(client, accounts, installed):
    headers = accounts.headers("enumerator")
    form = library.load("awareness")
    url = f"/api/v1/forms/awareness/versions/{form.version}"
    response = client.get(url, headers=headers)
    assert response.status_code == 200
    assert response.get_json()["content_hash"] == form.content_hash
    assert response.headers["ETag"] == f'"{form.content_hash}"'
    # A device that already has this version downloads nothing.
    again = client.get(url, headers={**headers, "If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    xform = client.get(url + "/xform", headers=headers)
    assert xform.mimetype == "application/xml"
    root = ET.fromstring(xform.data)
    assert root.tag.endswith("html")
    source = client.get(url + "/source", headers=headers)
    assert source.data == library.path("awareness").read_bytes()
    assert "attachment" in source.headers["Content-Disposition"]
    for name in form.attachments:
        csv = client.get(f"{url}/attachments/{name}", headers=headers)
        assert csv.status_code == 200 and csv.data == library.attachments()[name].read_bytes()
    assert_problem(client.get(f"{url}/attachments/nothing.csv", headers=headers), 404, "not-found")


def test_upload_publish_and_immutability(app, client, accounts):
    coordinator = accounts.headers("coordinator")
    first = _upload(client, coordinator, mini("1"))
    assert first.status_code == 201, first.get_json()
    assert (first.get_json()["form_id"], first.get_json()["state"]) == ("mini", "draft")
    # The same content again changes nothing.
    assert _upload(client, coordinator, mini("1")).status_code == 200
    # A draft is replaced only on purpose: other content under its form_id and version is a conflict.
    assert_problem(_upload(client, coordinator, mini("1", title="Mini, fixed")), 409, "conflict")
    replaced = _upload(client, coordinator, mini("1", title="Mini, fixed"), replace="true")
    assert replaced.status_code == 201 and replaced.get_json()["title"] == "Mini, fixed"
    published = client.post("/api/v1/forms/mini/versions/1/publish", headers=coordinator)
    assert published.get_json()["state"] == "open" and published.get_json()["published_at"]
    # Published: other content under the same version is refused and the stored one is untouched.
    before = replaced.get_json()["content_hash"]
    refused = _upload(client, coordinator, mini("1", title="Mini, changed again"))
    assert_problem(refused, 409, "version-conflict")
    body = client.get("/api/v1/forms/mini/versions/1", headers=coordinator).get_json()
    assert body["content_hash"] == before and body["title"] == "Mini, fixed"
    # A new version string is the way to change a published form.
    assert _upload(client, coordinator, mini("2", title="Mini, changed again")).status_code == 201
    assert _versions(app) == 2


def test_state_transitions(client, accounts):
    coordinator = accounts.headers("coordinator")
    _upload(client, coordinator, mini("1"))
    url = "/api/v1/forms/mini/versions/1/state"
    assert_problem(client.put(url, json={"state": "closing"}, headers=coordinator), 409,
                   "state-invalid")
    for state in ("open", "closing", "closed"):
        response = client.put(url, json={"state": state}, headers=coordinator)
        assert response.get_json()["state"] == state
    body = assert_problem(client.put(url, json={"state": "open"}, headers=coordinator), 409,
                          "state-invalid")
    assert "closed" in body["detail"]
    assert_problem(client.put(url, json={"state": "gone"}, headers=coordinator), 422, "validation-failed")


def test_closing_versions_stay_visible_to_devices_closed_ones_do_not(client, accounts):
    coordinator = accounts.headers("coordinator")
    _upload(client, coordinator, mini("1"))
    client.post("/api/v1/forms/mini/versions/1/publish", headers=coordinator)
    _, device = accounts.device()
    url = "/api/v1/forms/mini/versions/1/state"
    client.put(url, json={"state": "closing"}, headers=coordinator)
    assert client.get("/api/v1/forms/mini/versions/1", headers=device).status_code == 200
    client.put(url, json={"state": "closed"}, headers=coordinator)
    assert_problem(client.get("/api/v1/forms/mini/versions/1", headers=device), 404, "not-found")
    analyst = accounts.headers("analyst")
    assert client.get("/api/v1/forms/mini/versions/1", headers=analyst).status_code == 200


def test_drafts_are_hidden_from_everyone_but_coordinators_and_admins(client, accounts):
    _upload(client, accounts.headers("admin"), mini("1"))
    for role in ("enumerator", "analyst", "planner"):
        headers = accounts.headers(role)
        assert client.get("/api/v1/forms", headers=headers).get_json()["versions"] == []
        assert_problem(client.get("/api/v1/forms/mini/versions/1", headers=headers), 404, "not-found")


@pytest.mark.parametrize("role", ["enumerator", "analyst", "planner"])
def test_only_coordinators_and_admins_upload_and_publish(client, accounts, role):
    headers = accounts.headers(role)
    assert_problem(_upload(client, headers, mini("1")), 403, "forbidden")
    assert_problem(client.post("/api/v1/forms/mini/versions/1/publish", headers=headers), 403, "forbidden")


def test_bad_uploads_are_clear_problems_and_write_nothing(app, client, accounts):
    coordinator = accounts.headers("coordinator")
    body = assert_problem(_upload(client, coordinator, b"PK\x03\x04 not really a zip"), 422,
                          "xlsform-unreadable")
    assert body["detail"]
    assert_problem(client.post("/api/v1/forms", data={}, headers=coordinator,
                               content_type="multipart/form-data"), 422, "validation-failed")
    assert _versions(app) == 0


def test_upload_missing_a_choices_file_is_refused(app, client, accounts):
    from tests.xlsform_builder import xlsform

    source = xlsform([("type", "name", "label"), ("select_one_from_file places.csv", "place", "Place")])
    body = assert_problem(_upload(client, accounts.headers("coordinator"), source), 422)
    assert body["code"] in ("validation-failed", "attachment-invalid")
    ok = _upload(client, accounts.headers("coordinator"), source,
                 attachments=[("places.csv", b"name,label\na,A\nb,B\n")])
    assert ok.status_code == 201, ok.get_json()
    assert ok.get_json()["attachments"][0]["filename"] == "places.csv"


def test_cli_import_publish_state_list(app, runner, tmp_path):
    path = tmp_path / "mini.xlsx"
    path.write_bytes(mini("7"))
    result = runner.invoke(args=["forms", "import", str(path)])
    assert result.exit_code == 0 and "Imported mini version 7 (draft)" in result.stdout
    assert runner.invoke(args=["forms", "publish", "mini", "7"]).exit_code == 0
    assert runner.invoke(args=["forms", "state", "mini", "7", "closing"]).exit_code == 0
    listing = runner.invoke(args=["forms", "list"]).stdout
    assert "mini" in listing and "closing" in listing
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"not a spreadsheet")
    failed = runner.invoke(args=["forms", "import", str(bad)])
    assert failed.exit_code == 1 and "Error" in failed.output
    assert runner.invoke(args=["forms", "publish", "mini", "99"]).exit_code == 1


def _zip_bomb() -> bytes:
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("xl/worksheets/sheet1.xml", "w") as part:
            for _ in range(120):
                part.write(b"\0" * (1 << 20))
    return out.getvalue()


def test_hostile_and_broken_uploads_never_500(app, client, accounts):
    from tests.xlsform_builder import xlsform

    coordinator = accounts.headers("coordinator")
    bomb = _upload(client, coordinator, _zip_bomb())
    assert_problem(bomb, 413, "xlsform-too-large")
    syntax = xlsform([("type", "name", "label", "relevant"), ("integer", "a", "A", ""),
                      ("integer", "b", "B", "${a} >>> 3")])
    body = assert_problem(_upload(client, coordinator, syntax), 422, "expression-invalid")
    assert "relevant" in body["detail"]
    unknown_type = xlsform([("type", "name", "label"), ("telepathy", "a", "A")])
    assert_problem(_upload(client, coordinator, unknown_type), 422, "xlsform-invalid")
    assert _versions(app) == 0


def test_a_large_valid_form_uploads(client, accounts):
    from tests.xlsform_builder import xlsform

    rows = [("type", "name", "label")] + [("integer", f"q{i}", f"Question {i}") for i in range(5000)]
    response = _upload(client, accounts.headers("coordinator"), xlsform(rows, form_id="big"))
    assert response.status_code == 201, response.get_json()
