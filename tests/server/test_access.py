"""Every endpoint declares who may call it, and the declaration is enforced."""

import pytest

from server.api.access import AUDIENCES
from server.api.access import access
from tests.problem_shape import assert_problem


def test_every_endpoint_declares_its_audience(app):
    undeclared = [
        endpoint for endpoint, view in app.view_functions.items()
        if endpoint != "static" and not getattr(view, "access", None)
    ]
    assert undeclared == []
    for endpoint, view in app.view_functions.items():
        if endpoint != "static":
            assert view.access <= AUDIENCES, endpoint


def test_an_undeclared_endpoint_is_refused(app):
    @app.get("/undeclared")
    def undeclared():
        return "should never be served"

    assert_problem(app.test_client().get("/undeclared"), 403, "forbidden")


def test_access_needs_known_audiences():
    with pytest.raises(ValueError):
        access()
    with pytest.raises(ValueError):
        access("superuser")


@pytest.mark.parametrize("role, status", [
    ("admin", 200), ("coordinator", 403), ("enumerator", 403), ("analyst", 403), ("planner", 403),
])
def test_user_list_is_for_admins_only(client, accounts, role, status):
    response = client.get("/api/v1/users", headers=accounts.headers(role))
    if status == 200:
        assert response.status_code == 200
    else:
        assert_problem(response, status, "forbidden")


def test_devices_are_not_staff(client, accounts):
    _, headers = accounts.device()
    assert_problem(client.get("/api/v1/users", headers=headers), 403, "forbidden")


def test_revoked_device_is_refused_and_told_to_keep_its_data(app, client, accounts):
    from server.extensions import db
    from server.models import Device
    from server.models import utcnow

    device_id, headers = accounts.device()
    with app.app_context():
        db.session.get(Device, device_id).revoked_at = utcnow()
        db.session.commit()
    body = assert_problem(client.get("/api/v1/places", headers=headers), 403, "device-revoked")
    assert "unsent data" in body["detail"]


def test_pages_take_the_session_and_the_api_takes_bearer_tokens(app):
    from server.api.access import BEARER
    from server.api.access import SESSION

    for endpoint, view in app.view_functions.items():
        if endpoint == "static":
            continue
        expected = SESSION if endpoint.startswith(("web.", "console.")) else BEARER
        assert getattr(view, "via", None) == expected, endpoint


def test_page_access_needs_known_audiences_and_no_devices():
    from server.api.access import DEVICE
    from server.api.access import page_access

    with pytest.raises(ValueError):
        page_access()
    with pytest.raises(ValueError):
        page_access("superuser")
    with pytest.raises(ValueError):
        page_access(DEVICE)


def test_a_device_of_a_disabled_enumerator_is_refused_and_told_to_keep_its_data(app, client, accounts):
    from server.extensions import db
    from server.models import Device
    from server.models import User

    device_id, headers = accounts.device()
    assert client.get("/api/v1/forms", headers=headers).status_code == 200
    with app.app_context():
        db.session.get(User, db.session.get(Device, device_id).user_id).active = False
        db.session.commit()
    body = assert_problem(client.get("/api/v1/forms", headers=headers), 403, "device-revoked")
    assert "unsent data" in body["detail"]
