"""``flask --app server app-user``: create (server URL and settings QR code), list, revoke."""

from __future__ import annotations

import re

from server.accounts import app_users
from server.extensions import db
from server.models import AppUser


def test_create_prints_the_url_and_writes_the_qr_code(app, runner, installed, accounts, tmp_path):
    username, _, _ = accounts.user("enumerator", "lan")
    qr = tmp_path / "phone.png"
    result = runner.invoke(args=["app-user", "create", "Cai Khe phone 1", "--forms", "awareness,outreach",
                                 "--enumerator", username, "--server-url", "https://ferry.example.org/",
                                 "--qr", str(qr)])
    assert result.exit_code == 0, result.output
    url = re.search(r"Server URL for ODK Collect: (\S+)", result.output)[1]
    assert re.fullmatch(r"https://ferry\.example\.org/v1/key/[A-Za-z0-9_-]{64}/projects/1", url)
    png = qr.read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 500
    # What the code holds, as Collect reads it: zlib-compressed JSON in base64.
    settings = app_users.collect_settings(url)
    assert app_users.read_settings_payload(app_users.settings_payload(settings)) == {
        "general": {"server_url": url, "form_update_mode": "match_exactly", "autosend": "wifi_and_cellular"},
        "project": {"name": "Ferry"}, "admin": {}}
    token = url.split("/key/")[1].split("/")[0]
    assert app.test_client().get(f"/v1/key/{token}/projects/1/formList").status_code == 200
    with app.app_context():
        app_user = db.session.query(AppUser).one()
        assert app_user.form_ids == ["awareness", "outreach"]
        assert app_user.device.user.username == "lan" and app_user.token_hash != token


def test_qr_code_png_encodes_the_settings_text(app, installed):
    import segno

    settings = app_users.collect_settings("http://127.0.0.1:5000/v1/key/abc/projects/1")
    payload = app_users.settings_payload(settings)
    expected = segno.make(payload, error="m", micro=False)
    png = app_users.qr_png(settings)
    # The PNG is that symbol drawn at scale 6 with a 4-module border.
    width = int.from_bytes(png[16:20], "big")
    assert width == (expected.symbol_size(scale=1, border=4)[0]) * 6


def test_bad_requests_are_clean_cli_errors(runner, installed, accounts, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the QR code goes to the working folder by default
    accounts.user("analyst", "ana")
    for args, words in (
        (["app-user", "create", "p", "--forms", "awareness,census"], "No such form: census"),
        (["app-user", "create", "p", "--forms", " , "], "at least one form"),
        (["app-user", "create", "p", "--forms", "awareness", "--enumerator", "ana"], "not an enumerator"),
        (["app-user", "revoke", "nobody"], "No app user named 'nobody'"),
    ):
        result = runner.invoke(args=args)
        assert result.exit_code == 1 and words in result.output, result.output
    assert runner.invoke(args=["app-user", "create", "p", "--forms", "awareness"]).exit_code == 0
    taken = runner.invoke(args=["app-user", "create", "p", "--forms", "awareness"])
    assert taken.exit_code == 1 and "already an app user" in taken.output


def test_list_and_revoke(app, runner, installed, tmp_path):
    created = runner.invoke(args=["app-user", "create", "p1", "--forms", "outreach",
                                  "--qr", str(tmp_path / "q.png")])
    token = re.search(r"/v1/key/([^/]+)/", created.output)[1]
    client = app.test_client()
    assert client.get(f"/v1/key/{token}/projects/1/formList").status_code == 200
    listed = runner.invoke(args=["app-user", "list"]).output
    assert "p1" in listed and "active" in listed and "outreach" in listed and "never" not in listed
    assert runner.invoke(args=["app-user", "revoke", "p1"]).exit_code == 0
    assert "revoked" in runner.invoke(args=["app-user", "list"]).output
    assert client.get(f"/v1/key/{token}/projects/1/formList").status_code == 403
    assert "revoked" in runner.invoke(args=["sync", "devices"]).output
