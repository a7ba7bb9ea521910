"""A submission's attachments on its console page: name, type, size, a thumbnail for images, and a
download for the district's coordinator or an admin only, each read audited."""

from __future__ import annotations

import hashlib
import io
import uuid

import segno
from sqlalchemy import select

from server.console.attachments import names_in_answers
from server.extensions import db
from server.models import AuditEntry
from server.models import Device
from server.sync import blobs
from sync.protocol import PROTOCOL
from tests.commit_beside import commit_beside


def _png() -> bytes:
    out = io.BytesIO()
    segno.make("ferry").save(out, kind="png", scale=4)
    return out.getvalue()


def _store(app, data: bytes, content_type: str) -> str:
    sha = hashlib.sha256(data).hexdigest()
    with app.app_context():
        phone = Device(label="the phone that took it")
        db.session.add(phone)
        db.session.commit()
        blobs.start_upload(db.engine, sha, len(data), content_type, device_id=phone.id, max_bytes=10**7,
                           allowed_types=[content_type])
        blobs.append_chunk(db.engine, sha, 0, data, device_id=phone.id, max_chunk=10**7)
    return sha


def _push_with(console, answers: dict, hashes: list[str]) -> str:
    device_id, headers = console.phones["enum-a"]
    sub = str(uuid.uuid4())
    op = {"id": str(uuid.uuid4()), "kind": "create", "sub": sub, "form": "awareness", "ver": "2017.1",
          "ans": answers, "blobs": hashes}
    response = console.client.post("/api/v1/sync/push", json={"protocol": PROTOCOL, "device_id": device_id,
                                                               "ops": [op]}, headers=headers)
    assert response.get_json()["results"][0]["status"] == "created", response.get_json()
    return sub


def test_attachments_are_listed_shown_and_downloaded_by_the_districts_coordinator(console, app):
    png = _png()
    image = _store(app, png, "image/png")
    missing = hashlib.sha256(b"never uploaded").hexdigest()
    sub = _push_with(console, console.interviews[console.district_a][0], [image, missing])
    coord = console.browser("coord-a")
    page = coord.get(f"/console/submissions/{sub}?lang=en").get_data(as_text=True)
    table = page.split('id="attachments"')[1].split("</table>")[0]
    link = f"/console/submissions/{sub}/attachments/{image}"
    assert f'<a href="{link}" download>{image[:12]}.png</a>' in table
    assert "image/png" in table and f"{len(png)} Bytes" in table
    assert f'<img class="thumb" src="{link}/thumbnail"' in table
    assert missing[:12] in table and "not uploaded yet" in table
    downloaded = coord.get(link)
    assert downloaded.status_code == 200 and downloaded.data == png and downloaded.mimetype == "image/png"
    assert downloaded.headers["Content-Disposition"].startswith("attachment;")
    assert "sandbox" in downloaded.headers["Content-Security-Policy"]
    thumbnail = coord.get(f"{link}/thumbnail")
    assert thumbnail.status_code == 200 and thumbnail.headers["Content-Disposition"].startswith("inline;")
    assert coord.get(f"/console/submissions/{sub}/attachments/{missing}").status_code in (404, 409, 422)
    # another district's coordinator gets nothing; an admin may
    other = console.browser("coord-b")
    assert other.get(link).status_code == 404 and other.get(f"{link}/thumbnail").status_code == 404
    assert console.browser("c-admin").get(link).data == png
    with app.app_context():
        entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action.startswith("attachment."))
                                     .order_by(AuditEntry.id)).all()
    assert [e.action for e in entries] == ["attachment.download", "attachment.view", "attachment.download"]
    assert entries[0].details == {"sha256": image, "name": f"{image[:12]}.png"}
    assert entries[0].target_id == sub
    log = console.browser("c-admin").get("/console/audit?family=attachments").get_data(as_text=True)
    assert log.count("attachment.download") >= 2


def test_the_answer_that_holds_a_file_gives_it_its_name():
    sha = "ab" * 32
    found: dict[str, str] = {}
    names_in_answers({"g": {"photo": f"house-{sha}.jpg"}, "other": "x"}, sha, found)
    assert found == {sha: f"house-{sha}.jpg"}
    found = {}
    names_in_answers({"repeat": [{"signature": sha}]}, sha, found)
    assert found == {sha: "signature"}


def test_a_download_is_audited_even_when_a_phone_commits_beside_it(console, app):
    png = _png()
    image = _store(app, png, "image/png")
    sub = _push_with(console, console.interviews[console.district_a][0], [image])
    coord = console.browser("coord-a")
    link = f"/console/submissions/{sub}/attachments/{image}"
    with commit_beside(app, "blobs") as fired:
        downloaded = coord.get(link)
    assert fired and downloaded.status_code == 200 and downloaded.data == png
    with app.app_context():
        last = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert last.action == "attachment.download" and last.target_id == sub
