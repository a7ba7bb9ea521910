"""Failed sign-ins are limited per client address and per user name, across the page and the API."""

from __future__ import annotations

import pytest

from server.extensions import db
from tests.conftest import Accounts
from tests.conftest import make_app
from tests.problem_shape import assert_problem
from tests.web.conftest import csrf_token
from tests.web.conftest import sign_in

TOKEN = "/api/v1/auth/token"
HTML = {"Accept": "text/html"}


def _from(address: str) -> dict:
    return {"environ_base": {"REMOTE_ADDR": address}}


@pytest.fixture
def limits(app):
    app.config.update(SIGN_IN_LIMIT_PER_ADDRESS="3 per minute", SIGN_IN_LIMIT_PER_USER="5 per hour")
    return app


def test_failed_sign_ins_from_one_address_are_limited_with_retry_after(limits, client, accounts):
    username, password, _ = accounts.user("analyst")
    for _ in range(3):
        wrong = client.post(TOKEN, json={"username": username, "password": "wrong"}, **_from("10.0.0.1"))
        assert_problem(wrong, 401, "login-failed")
    refused = client.post(TOKEN, json={"username": username, "password": password}, **_from("10.0.0.1"))
    assert_problem(refused, 429, "too-many-requests")
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    # another address is not held back, and the right password works there
    assert client.post(TOKEN, json={"username": username, "password": password},
                       **_from("10.0.0.2")).status_code == 201


def test_successful_sign_ins_do_not_count(limits, client, accounts):
    username, password, _ = accounts.user("planner")
    for _ in range(6):
        assert client.post(TOKEN, json={"username": username, "password": password},
                           **_from("10.0.0.3")).status_code == 201


def test_one_user_name_guessed_from_many_addresses_is_limited(limits, client, accounts):
    username, password, _ = accounts.user("coordinator")
    other, other_password, _ = accounts.user("analyst")
    for i in range(5):
        assert client.post(TOKEN, json={"username": username.upper(), "password": "wrong"},
                           **_from(f"10.1.0.{i}")).status_code == 401
    assert_problem(client.post(TOKEN, json={"username": username, "password": password}, **_from("10.1.0.9")),
                   429, "too-many-requests")
    # the same address signs in another user
    assert client.post(TOKEN, json={"username": other, "password": other_password},
                       **_from("10.1.0.9")).status_code == 201


def test_the_page_and_the_api_share_the_count(limits, client, accounts):
    username, password, _ = accounts.user("planner")
    client.environ_base["REMOTE_ADDR"] = "10.2.0.1"
    assert sign_in(client, username, "wrong").status_code == 401
    assert sign_in(client, username, "wrong").status_code == 401
    assert client.post(TOKEN, json={"username": username, "password": "wrong"}).status_code == 401
    form = {"csrf_token": csrf_token(client.get("/login").get_data(as_text=True)), "username": username,
            "password": password}
    page = client.post("/login", data=form, headers=HTML)  # a browser: the error as a page
    assert page.status_code == 429 and page.headers["Ferry-Problem"] == "too-many-requests"
    assert page.mimetype == "text/html" and "too-many-requests" in page.get_data(as_text=True)
    assert "Retry-After" in page.headers


def test_behind_a_proxy_clients_are_told_apart_by_x_forwarded_for(tmp_path, database_url):
    app = make_app(database_url, tmp_path / "proxied", PROXY_HOPS=1, SIGN_IN_LIMIT_PER_ADDRESS="2 per minute")
    try:
        client = app.test_client()
        username, password, _ = Accounts(app).user("analyst")

        def post(forwarded_for, secret):
            return client.post(TOKEN, json={"username": username, "password": secret},
                               environ_base={"REMOTE_ADDR": "127.0.0.1"},
                               headers={"X-Forwarded-For": forwarded_for})

        assert [post("203.0.113.7", "wrong").status_code for _ in range(2)] == [401, 401]
        assert post("203.0.113.7", password).status_code == 429
        assert post("198.51.100.4", password).status_code == 201  # another client behind the same proxy
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
