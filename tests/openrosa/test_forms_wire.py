"""What Collect downloads, over a real server: formList, the XForm, the manifest and its media."""

from __future__ import annotations

import hashlib
from xml.etree.ElementTree import fromstring

from server.extensions import db
from server.forms import registry as form_registry
from tests.openrosa.collect import Collect
from tests.openrosa.conftest import make_app_user

NS = {"x": "http://openrosa.org/xforms/xformsList", "m": "http://openrosa.org/xforms/xformsManifest"}


def _entries(answer) -> dict[str, dict]:
    root = fromstring(answer.body)
    return {x.findtext("x:formID", namespaces=NS): {c.tag.split("}")[1]: c.text for c in x}
            for x in root.findall("x:xform", NS)}


def _openrosa(answer):
    assert answer.headers["x-openrosa-version"] == "1.0"
    assert answer.headers["date"].endswith("GMT")
    assert "x-openrosa-accept-content-length" in answer.headers


def test_form_list_download_manifest_and_media_match_their_hashes(phone):
    listed = phone.form_list()
    assert listed.status == 200
    assert listed.headers["content-type"].startswith("text/xml")  # Collect checks both
    _openrosa(listed)
    entries = _entries(listed)
    assert set(entries) == {"awareness", "outreach"}
    for form_id, entry in entries.items():
        assert entry["version"] == "2017.1" and entry["name"]
        assert entry["downloadUrl"].startswith(phone.server_url + "/forms/")  # absolute, token kept
        xform = phone.get(entry["downloadUrl"])
        assert xform.status == 200 and xform.body.startswith(b"<?xml") or xform.body.startswith(b"<h:html")
        assert entry["hash"] == "md5:" + hashlib.md5(xform.body).hexdigest()
        assert f'id="{form_id}"'.encode() in xform.body
        manifest = phone.get(entry["manifestUrl"])
        assert manifest.status == 200 and manifest.headers["content-type"].startswith("text/xml")
        _openrosa(manifest)
        files = fromstring(manifest.body).findall("m:mediaFile", NS)
        assert sorted(f.findtext("m:filename", namespaces=NS) for f in files) == ["communes.csv",
                                                                                  "districts.csv"]
        for media in files:
            got = phone.get(media.findtext("m:downloadUrl", namespaces=NS))
            assert got.status == 200 and got.headers["content-type"].startswith("text/csv")
            assert media.findtext("m:hash", namespaces=NS) == "md5:" + hashlib.md5(got.body).hexdigest()
            assert got.body.startswith(b"name,")


def test_form_id_and_verbose_are_honoured(phone):
    only = _entries(phone.form_list("?formID=outreach"))
    assert list(only) == ["outreach"] and "descriptionText" not in only["outreach"]
    assert _entries(phone.form_list("?formID=nope")) == {}
    verbose = _entries(phone.form_list("?verbose=true"))
    assert all(e["descriptionText"] == e["name"] for e in verbose.values())


def test_only_the_forms_given_and_only_open_versions_are_listed(app, server, installed):
    token = make_app_user(app, "outreach-only", forms=["outreach"])
    phone = Collect(f"{server}/v1/key/{token}/projects/1")
    assert list(_entries(phone.form_list())) == ["outreach"]
    awareness_url = phone.server_url + "/forms/awareness/form.xml?version=2017.1"
    refused = phone.get(awareness_url)
    assert refused.status == 404 and b"OpenRosaResponse" in refused.body
    with app.app_context():
        form_registry.set_state(db.session, "outreach", "2017.1", "closing")
        db.session.commit()
    assert _entries(phone.form_list()) == {}  # closing: no new interviews…
    # …but a phone mid-update may still fetch what it had listed.
    assert phone.get(phone.server_url + "/forms/outreach/form.xml?version=2017.1").status == 200


def test_unchanged_media_costs_a_304(phone):
    entry = _entries(phone.form_list())["awareness"]
    manifest = fromstring(phone.get(entry["manifestUrl"]).body)
    url = manifest.find("m:mediaFile", NS).findtext("m:downloadUrl", namespaces=NS)
    first = phone.get(url)
    again = phone.request("GET", url, headers={"If-None-Match": first.headers["etag"]})
    assert again.status == 304 and again.body == b""


def test_bad_or_revoked_token_is_403_never_401(app, server, token):
    from server.accounts import app_users

    for url in (f"{server}/v1/key/wrong/projects/1", f"{server}/v1/key/{token}x/projects/1"):
        phone = Collect(url)
        head = phone.head_submission()
        assert head.status == 403 and "www-authenticate" not in head.headers
        for answer in (phone.form_list(), phone.post(b"<data/>")):
            assert answer.status == 403
            assert b"<OpenRosaResponse" in answer.body and "www-authenticate" not in answer.headers
    phone = Collect(f"{server}/v1/key/{token}/projects/1")
    assert phone.form_list().status == 200
    with app.app_context():
        app_users.revoke(db.session, "phone-1")
        db.session.commit()
    assert phone.form_list().status == 403
    assert phone.head_submission().status == 403
    assert Collect(f"{server}/v1/key/{token}/projects/2").form_list().status == 403


def test_downloads_are_gzipped_when_asked_and_unchanged_once_unpacked(app, phone, accounts):
    import gzip

    entry = _entries(phone.form_list())["awareness"]
    raw = phone.request("GET", entry["downloadUrl"], headers={"Accept-Encoding": "identity"})
    packed = phone.get(entry["downloadUrl"])  # Collect's OkHttp asks for gzip
    assert packed.headers["content-encoding"] == "gzip" and "content-encoding" not in raw.headers
    assert packed.body == raw.body and entry["hash"] == "md5:" + hashlib.md5(packed.body).hexdigest()
    assert phone.log[-1][3] < phone.log[-2][3] / 3  # bytes on the wire
    # The sync protocol's form downloads too (a new device's first sync is mostly these).
    client = app.test_client()
    headers = accounts.headers("analyst")
    url = "/api/v1/forms/awareness/versions/2017.1"
    plain = client.get(url, headers=headers)
    zipped = client.get(url, headers={**headers, "Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip" and zipped.headers["Vary"] == "Accept-Encoding"
    assert gzip.decompress(zipped.data) == plain.data and len(zipped.data) < len(plain.data) / 4
    again = client.get(url, headers={**headers, "Accept-Encoding": "gzip",
                                     "If-None-Match": zipped.headers["ETag"]})
    assert again.status_code == 304
