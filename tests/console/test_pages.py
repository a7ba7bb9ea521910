"""The console's pages through Flask's client: what each role sees and may do, and the actions' effects."""

from __future__ import annotations

import csv
import io
import re
import zipfile

import openpyxl
import pytest
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from tests.conftest import shared_path
from tests.console.conftest import ROLES_DENIED
from tests.web.conftest import csrf_token

PAGES = ("/console/forms", "/console/phones", "/console/assignments", "/console/progress",
         "/console/submissions", "/console/review", "/console/exports", "/console/exports/awareness.csv")
POSTS = ("/console/forms", "/console/forms/state", "/console/phones", "/console/assignments",
         "/console/review/x", "/console/phones/x/revoke", "/console/phones/app-users",
         "/console/phones/app-users/1/revoke", "/console/phones/app-users/1/reissue")


def _file(path, name=None):
    return io.BytesIO(path.read_bytes()), name or path.name


@pytest.mark.parametrize("role", ROLES_DENIED)
def test_other_roles_get_403_on_every_page_and_action(console, role):
    username = f"c-{role}" if role != "enumerator" else "enum-a"
    client = console.browser(username)
    token = csrf_token(client.get("/login").get_data(as_text=True))
    for path in (*PAGES, "/console/audit", "/console/submissions/x"):
        response = client.get(path, headers={"Accept": "text/html"})
        assert response.status_code == 403, path
        assert "Content-Security-Policy" in response.headers
    for path in POSTS:
        assert client.post(path, data={"csrf_token": token}).status_code == 403, path


def test_signed_out_browsers_are_sent_to_sign_in(console):
    response = console.app.test_client().get("/console/forms", headers={"Accept": "text/html"})
    assert response.status_code == 302 and "/login?next=/console/forms" in response.headers["Location"]


def test_posts_need_the_csrf_token(console):
    client = console.browser("coord-a")
    response = client.post("/console/phones", data={"enumerator": "enum-a"}, headers={"Accept": "text/html"})
    assert response.status_code == 400 and response.headers["Ferry-Problem"] == "csrf-failed"


def test_coordinators_see_only_their_districts(console):
    a, b = console.district_a, console.district_b
    first = console.push("enum-a", console.interviews[a][0])
    second = console.push("enum-b", console.interviews[b][0])
    assert first["status"] == second["status"] == "created"
    coord_a = console.browser("coord-a")
    listing = coord_a.get("/console/submissions").get_data(as_text=True)
    assert first["sub"][:8] in listing and second["sub"][:8] not in listing
    assert coord_a.get(f"/console/submissions/{second['sub']}").status_code == 404
    assert coord_a.get(f"/console/submissions/{first['sub']}").status_code == 200
    phones = coord_a.get("/console/phones").get_data(as_text=True)
    assert console.phones["enum-a"][0] in phones and console.phones["enum-b"][0] not in phones
    progress = coord_a.get("/console/progress?round=2017").get_data(as_text=True)
    assert f'data-key="{a}"' in progress and f'data-key="{b}"' not in progress
    # another district's device cannot be revoked, nor its enumerator's quotas changed
    token = csrf_token(coord_a.get("/console/phones").get_data(as_text=True))
    assert coord_a.post(f"/console/phones/{console.phones['enum-b'][0]}/revoke",
                        data={"csrf_token": token}).status_code == 404
    assert coord_a.post("/console/assignments", data={"csrf_token": token, "enumerator": "enum-b",
                                                      "round": "2017"}).status_code == 404
    exported = coord_a.get("/console/exports/awareness.csv").data.decode("utf-8-sig")
    ids = [row["_id"] for row in csv.DictReader(io.StringIO(exported))]
    assert ids == [first["sub"]]
    # the admin sees both
    admin = console.browser("c-admin").get("/console/submissions").get_data(as_text=True)
    assert first["sub"][:8] in admin and second["sub"][:8] in admin


def test_upload_shows_each_problem_once_with_sheet_and_row(console):
    client = console.browser("coord-a")
    token = csrf_token(client.get("/console/forms").get_data(as_text=True))
    path = shared_path("data", "xlsforms", "liberia_coverage_survey_round1.xlsx")
    # encoded in memory: the test client spools a body this large to a file it never closes
    upload = FileStorage(io.BytesIO(path.read_bytes()), path.name)
    boundary, body = encode_multipart({"csrf_token": token, "file": upload})
    response = client.post("/console/forms", data=body,
                           content_type=f"multipart/form-data; boundary={boundary}")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    rows = re.findall(r'<tr><td>choices</td><td class="num">(\d+)</td>'
                      r'<td lang="en">[^<]*Choice names must be unique',
                      html)
    # pyxform said it 60 times; each duplicated row is listed once, with its sheet and row
    assert rows[0] == "155" and len(rows) == len(set(rows)) == 30


def test_forms_without_form_id_take_their_file_name_and_never_replace_each_other(console):
    client = console.browser("coord-a")
    token = csrf_token(client.get("/console/forms").get_data(as_text=True))
    names = ("ona_mali_health_facilities_en_fr.xlsx", "pyxform_widgets_legacy.xls")
    for name in names:
        path = shared_path("data", "xlsforms", name)
        response = client.post("/console/forms", data={"csrf_token": token,
                                                       "file": (io.BytesIO(path.read_bytes()), path.name)},
                               content_type="multipart/form-data")
        assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    page = client.get("/console/forms").get_data(as_text=True)
    assert 'data-form="ona_mali_health_facilities_en_fr"' in page
    assert 'data-form="pyxform_widgets_legacy"' in page
    # the same file name with other content is a conflict, not a silent replacement
    other = shared_path("data", "xlsforms", "odk_fav_color_en_fr.xlsx")
    source = shared_path("data", "xlsforms", "pyxform_widgets_legacy.xls").read_bytes()
    assert source  # the original stays
    renamed = client.post("/console/forms", data={"csrf_token": token, "file": _file(other, "x.xlsx")},
                          content_type="multipart/form-data")
    assert renamed.status_code == 200  # fav_color has its own form_id
    nested = shared_path("data", "xlsforms", "ona_nested_repeats.xlsx")
    again = client.post("/console/forms", data={"csrf_token": token, "file": _file(nested, "n.xlsx")},
                        content_type="multipart/form-data")
    assert again.status_code == 200


def test_publish_and_move_a_version_along(console):
    client = console.browser("coord-a")
    token = csrf_token(client.get("/console/forms").get_data(as_text=True))
    path = shared_path("data", "xlsforms", "odk_fav_color_en_fr.xlsx")
    client.post("/console/forms", data={"csrf_token": token, "file": _file(path)},
                content_type="multipart/form-data")
    for state in ("open", "closing", "closed"):
        response = client.post("/console/forms/state", data={"csrf_token": token, "form_id": "fav_color",
                                                             "version": "2022062100", "state": state})
        assert response.status_code == 303
    assert "state-closed" in client.get("/console/forms").get_data(as_text=True)
    wrong = client.post("/console/forms/state", data={"csrf_token": token, "form_id": "fav_color",
                                                      "version": "2022062100", "state": "draft"},
                        headers={"Accept": "text/html"})
    assert wrong.status_code in (409, 422)


def test_a_quota_set_on_the_page_reaches_the_device_and_progress_moves(console):
    a = console.district_a
    client = console.browser("coord-a")
    commune = console.interviews[a][0]["profile"]["commune"]
    page = client.get("/console/assignments?enumerator=enum-a&round=2017").get_data(as_text=True)
    assert f'name="quota-{commune}" value="5"' in page
    saved = client.post("/console/assignments", data={"csrf_token": csrf_token(page), "enumerator": "enum-a",
                                                      "round": "2017", f"quota-{commune}": "12"})
    assert saved.status_code == 303
    pulled = console.pull("enum-a")
    quotas = [c["d"]["quota"] for bucket in pulled["buckets"].values() for c in bucket["changes"]
              if c.get("d") and c["d"].get("commune") == commune]
    assert quotas == [12]
    before = client.get("/console/progress?round=2017").get_data(as_text=True)
    assert re.search(rf'data-key="{commune}">.*?<td class="num">12</td><td class="num received">0</td>',
                     before, re.S)
    same_commune = [x for x in console.interviews[a] if x["profile"]["commune"] == commune][:2]
    for answers in same_commune:
        assert console.push("enum-a", answers)["status"] == "created"
    after = client.get("/console/progress?round=2017").get_data(as_text=True)
    received = len(same_commune)
    assert re.search(rf'data-key="{commune}">.*?<td class="num received">{received}</td>', after, re.S)
    assert "<svg" in after and "polyline" in after


def test_review_a_held_submission_and_correct_it(console):
    a = console.district_a
    answers = dict(console.interviews[a][0])
    bad = {**answers, "profile": {**answers["profile"], "age": 7}}
    held = console.push("enum-a", bad)
    assert held["status"] == "quarantined"
    client = console.browser("coord-a")
    listing = client.get("/console/review").get_data(as_text=True)
    key = re.search(r'data-key="([^"]+)"', listing).group(1)
    page = client.get(f"/console/review/{key}").get_data(as_text=True)
    # the reason, in the page's language, beside the answer it concerns (labelled by the form)
    row = re.search(r'<tr class="flagged"><th scope="row">([^<]*)<code>/profile/age</code></th>'
                    r'<td>7</td><td class="reasons">([^<]+)</td>', page)
    assert row and row.group(1).strip() and "15" in row.group(2) and "{" not in row.group(2)
    english = client.get(f"/console/review/{key}?lang=en").get_data(as_text=True)
    assert re.search(r'<td class="reasons">The survey is for people aged 15 to 80', english)
    # other coordinators do not see it
    assert console.browser("coord-b").get(f"/console/review/{key}").status_code == 404
    token = csrf_token(page)
    still_bad = client.post(f"/console/review/{key}", data={"csrf_token": token, "action": "correct",
                                                            "note": "age typed wrong", "answers": __import__(
                                                                "json").dumps(bad)})
    assert still_bad.status_code == 422
    fixed = client.post(f"/console/review/{key}", data={"csrf_token": token, "action": "correct",
                                                         "note": "age typed wrong",
                                                         "answers": __import__("json").dumps(answers)})
    assert fixed.status_code == 200 and 'id="outcome"' in fixed.get_data(as_text=True)
    detail = client.get(f"/console/submissions/{held['sub']}").get_data(as_text=True)
    assert "Corrected in the console by coord-a: age typed wrong" in detail
    audit = console.browser("c-admin").get("/console/audit?family=review").get_data(as_text=True)
    assert "quarantine.correct" in audit and "coord-a" in audit


def test_reject_needs_a_note(console):
    a = console.district_a
    bad = {**console.interviews[a][1], "consent": "maybe"}
    console.push("enum-a", bad)
    client = console.browser("coord-a")
    key = re.search(r'data-key="([^"]+)"', client.get("/console/review").get_data(as_text=True)).group(1)
    token = csrf_token(client.get(f"/console/review/{key}").get_data(as_text=True))
    url = f"/console/review/{key}"
    assert client.post(url, data={"csrf_token": token, "action": "reject"}).status_code == 422
    done = client.post(url, data={"csrf_token": token, "action": "reject", "note": "test"})
    assert "rejected: test" in done.get_data(as_text=True)


def test_exports_of_outreach_and_a_form_with_repeats(console, app):
    from server.extensions import db
    from server.forms import registry

    client = console.browser("c-admin")
    # the outreach log, which the respondent export refused ("has no scoring keys")
    response = client.get("/console/exports/outreach.xlsx?labels=vi")
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.data), read_only=True)
    assert book.sheetnames[0] == "submissions"
    # a form with repeats: nested_repeats from the shared XLSForms, published, one submission pushed
    path = shared_path("data", "xlsforms", "ona_nested_repeats.xlsx")
    with app.app_context():
        version, _ = registry.import_xlsform(db.session, path.read_bytes(), path.name)
        registry.publish(db.session, version.form.form_id, version.version)
        form = registry.load_form(version)
        db.session.commit()
    repeats = [q for q in form.walk() if q.type == "repeat"]
    assert repeats
    csv_zip = client.get(f"/console/exports/{form.form_id}.csv")
    assert csv_zip.status_code == 200 and csv_zip.mimetype == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(csv_zip.data)).namelist()
    assert any(r.name in n for r in repeats for n in names)
    data = zipfile.ZipFile(io.BytesIO(csv_zip.data)).read(names[0])
    assert data.startswith("\ufeff".encode())


def test_free_text_is_left_out_unless_an_admin_asks(console):
    coordinator = console.browser("coord-a")
    header = coordinator.get("/console/exports/outreach.csv").data.decode("utf-8-sig").splitlines()[0]
    assert "remarks" not in header and "activity_date" in header
    assert coordinator.get("/console/exports/outreach.csv?private=1",
                           headers={"Accept": "text/html"}).status_code == 403
    admin = console.browser("c-admin").get("/console/exports/outreach.csv?private=1")
    assert "remarks" in admin.data.decode("utf-8-sig").splitlines()[0]


def test_phones_create_shows_a_qr_once_and_revoke(console):
    client = console.browser("coord-a")
    token = csrf_token(client.get("/console/phones").get_data(as_text=True))
    created = client.post("/console/phones", data={"csrf_token": token, "enumerator": "enum-a",
                                                   "label": "P9"})
    html = created.get_data(as_text=True)
    assert created.status_code == 201 and "<svg" in html and "/collect/#code=" in html
    assert client.post("/console/phones", data={"csrf_token": token, "enumerator": "enum-b"},
                       headers={"Accept": "text/html"}).status_code == 404
    device = console.phones["enum-a"][0]
    assert client.post(f"/console/phones/{device}/revoke", data={"csrf_token": token}).status_code == 303
    assert "status_revoked" not in client.get("/console/phones").get_data(as_text=True)


def test_audit_is_for_admins_only(console):
    coordinator = console.browser("coord-a")
    assert coordinator.get("/console/audit", headers={"Accept": "text/html"}).status_code == 403
    page = console.browser("c-admin").get("/console/audit?family=sign_in").get_data(as_text=True)
    assert "user.login" in page and "coord-a" in page
    assert console.browser("c-analyst").get("/reports/groups").status_code == 200
    views = console.browser("c-admin").get("/console/audit?family=reports&user=c-analyst")
    assert "report.view" in views.get_data(as_text=True) and ">groups</code>" in views.get_data(as_text=True)
