"""ODK Collect app users on the console's Phones page: created for an enumerator with chosen forms, the
settings QR code shown once, listed with last contact, revoked and reissued; district-scoped, audited."""

from __future__ import annotations

import re

from sqlalchemy import select

from server.extensions import db
from server.models import AuditEntry
from tests.web.conftest import csrf_token


def _create(client, name: str, enumerator: str, forms: list[str]):
    token = csrf_token(client.get("/console/phones").get_data(as_text=True))
    return client.post("/console/phones/app-users", data={"csrf_token": token, "name": name,
                                                          "enumerator": enumerator, "forms": forms})


def _server_url(page: str) -> str:
    return re.search(r'<code id="collect-url">([^<]+)</code>', page).group(1)


def _form_list(client, server_url: str) -> int:
    path = server_url.split("://", 1)[1].split("/", 1)[1]
    return client.get(f"/{path}/formList", headers={"X-OpenRosa-Version": "1.0"}).status_code


def _actions(app) -> list[str]:
    with app.app_context():
        query = select(AuditEntry.action).where(AuditEntry.action.startswith("app-user."))
        return list(db.session.scalars(query.order_by(AuditEntry.id)))


def test_a_coordinator_creates_lists_reissues_and_revokes_an_app_user(console, app):
    coord = console.browser("coord-a")
    answer = _create(coord, "Cái Khế 1", "enum-a", ["awareness"])
    assert answer.status_code == 201
    page = answer.get_data(as_text=True)
    first_url = _server_url(page)
    assert re.fullmatch(r"http://localhost/v1/key/[A-Za-z0-9_-]{40,}/projects/1", first_url)
    assert '<figure class="qr" id="collect-qr"><svg' in page
    assert _form_list(console.client, first_url) == 200
    # listed with its enumerator and forms; the QR code is not shown again
    listing = coord.get("/console/phones").get_data(as_text=True)
    assert "Cái Khế 1" in listing and 'id="collect-qr"' not in listing and first_url not in listing
    row = re.search(r'<tr data-app-user="(\d+)">(.*?)</tr>', listing, re.S)
    assert "enum-a" in row.group(2) and "awareness" in row.group(2)
    # the other district's coordinator neither sees nor touches it
    other = console.browser("coord-b")
    assert "Cái Khế 1" not in other.get("/console/phones").get_data(as_text=True)
    token_b = csrf_token(other.get("/console/phones").get_data(as_text=True))
    assert other.post(f"/console/phones/app-users/{row.group(1)}/revoke",
                      data={"csrf_token": token_b}).status_code == 404
    assert _create(other, "lạ", "enum-a", ["awareness"]).status_code == 404
    # reissue: a new token works, the old one is refused
    token = csrf_token(listing)
    reissued = coord.post(f"/console/phones/app-users/{row.group(1)}/reissue", data={"csrf_token": token})
    assert reissued.status_code == 201
    second_url = _server_url(reissued.get_data(as_text=True))
    assert second_url != first_url
    assert _form_list(console.client, first_url) == 403 and _form_list(console.client, second_url) == 200
    listing = coord.get("/console/phones").get_data(as_text=True)
    new_id = re.findall(r'<tr data-app-user="(\d+)">', listing)[0]
    assert coord.post(f"/console/phones/app-users/{new_id}/revoke",
                      data={"csrf_token": token}).status_code == 303
    assert _form_list(console.client, second_url) == 403
    assert _actions(app) == ["app-user.create", "app-user.revoke", "app-user.create", "app-user.reissue",
                             "app-user.revoke"]


def test_mistakes_are_shown_on_the_page_and_store_nothing(console, app):
    coord = console.browser("coord-a")
    no_forms = _create(coord, "Máy 2", "enum-a", [])
    assert no_forms.status_code == 422 and 'id="app-user-error"' in no_forms.get_data(as_text=True)
    assert _create(coord, "Máy 2", "enum-a", ["awareness"]).status_code == 201
    assert _create(coord, "Máy 2", "enum-a", ["outreach"]).status_code == 409
    assert _actions(app) == ["app-user.create"]


def test_an_app_users_device_is_listed_as_odk_collect_and_revoking_it_revokes_the_app_user(console, app):
    coord = console.browser("coord-a")
    url = _server_url(_create(coord, "Máy 3", "enum-a", ["awareness"]).get_data(as_text=True))
    page = coord.get("/console/phones?lang=en").get_data(as_text=True)
    row = re.search(r'<tr data-device="([^"]+)">((?:(?!</tr>).)*ODK Collect: Máy 3.*?)</tr>', page, re.S)
    assert "<td>ODK Collect</td>" in row.group(2)
    token = csrf_token(page)
    assert coord.post(f"/console/phones/{row.group(1)}/revoke", data={"csrf_token": token}).status_code == 303
    assert _form_list(console.client, url) == 403
    assert "app-user.revoke" in _actions(app)
