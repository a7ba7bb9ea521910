"""Signing in and out of the pages: session cookie, CSRF, redirects after sign-in, roles, disabled users."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from server.extensions import db
from server.models import ApiToken
from server.models import User
from server.models import utcnow
from tests.problem_shape import assert_problem
from tests.web.conftest import csrf_token
from tests.web.conftest import sign_in

HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def _user(accounts, role):
    return accounts.user(role)[0]


def _cookie(response, name="ferry_session"):
    return next(h for h in response.headers.getlist("Set-Cookie") if h.startswith(name + "="))


def test_the_form_is_labelled_and_vietnamese_by_default(client):
    page = client.get("/login")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert '<html lang="vi">' in html
    assert '<label for="username">Tên đăng nhập</label>' in html and 'id="username"' in html
    assert '<label for="password">Mật khẩu</label>' in html and 'type="password"' in html
    assert csrf_token(html)
    assert "Content-Security-Policy" in page.headers


def test_english_is_asked_for_and_remembered(client):
    page = client.get("/login?lang=en")
    assert '<html lang="en">' in page.get_data(as_text=True)
    assert "ferry_lang=en" in _cookie(page, "ferry_lang")
    again = client.get("/login").get_data(as_text=True)
    assert '<html lang="en">' in again and "User name" in again


def test_sign_in_sets_a_safe_session_cookie_and_returns_to_the_page(client, accounts):
    username = _user(accounts, "planner")
    first = client.get("/reports/priorities?round=2018", headers=HTML)
    assert first.status_code == 302
    assert first.headers["Location"] == "/login?next=/reports/priorities?round%3D2018"
    response = sign_in(client, username, next_="/reports/priorities?round=2018")
    assert response.status_code == 303
    assert response.headers["Location"] == "/reports/priorities?round=2018"
    cookie = _cookie(response)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Expires=" in cookie
    assert "Secure" not in cookie
    assert client.get("/reports/").status_code == 200


def test_the_cookie_is_secure_when_configured(tmp_path, database_url):
    from tests.conftest import Accounts
    from tests.conftest import make_app

    app = make_app(database_url, tmp_path / "secure", SESSION_COOKIE_SECURE=True)
    try:
        username = Accounts(app).user("analyst")[0]
        response = sign_in(app.test_client(), username)
        assert "Secure" in _cookie(response)
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.mark.parametrize("username, password", [("known", "wrong password"),
                                                ("nobody", "correct horse battery")])
def test_wrong_password_or_unknown_user_gets_one_clear_message(client, accounts, username, password):
    accounts.user("analyst", "known")
    response = sign_in(client, username, password)
    html = response.get_data(as_text=True)
    assert response.status_code == 401
    assert "Sai tên đăng nhập hoặc mật khẩu." in html
    assert 'value="' + username + '"' in html  # the name is kept, the password is not
    assert client.get("/reports/", headers=HTML).status_code == 302
    english = sign_in(client.application.test_client(), username, password, lang="en")
    assert "Wrong user name or password." in english.get_data(as_text=True)


def test_a_disabled_user_is_refused_and_their_sessions_end(app, client, accounts):
    username = _user(accounts, "analyst")
    assert sign_in(client, username).status_code == 303
    assert client.get("/reports/").status_code == 200
    with app.app_context():
        db.session.scalar(select(User).where(User.username == username)).active = False
        db.session.commit()
    assert client.get("/reports/", headers=HTML).status_code == 302
    response = sign_in(app.test_client(), username)
    assert response.status_code == 403
    assert "Tài khoản này đã bị khoá" in response.get_data(as_text=True)


def test_an_expired_session_goes_back_to_the_form(app, client, accounts):
    assert sign_in(client, _user(accounts, "planner")).status_code == 303
    with app.app_context():
        for token in db.session.scalars(select(ApiToken)):
            token.expires_at = utcnow()
        db.session.commit()
    assert client.get("/reports/", headers=HTML).headers["Location"].startswith("/login")


@pytest.mark.parametrize("target", [
    "https://evil.example/", "//evil.example/reports/", "/\\evil.example", "\\\\evil.example",
    "/\t/evil.example", "javascript:alert(1)", "http:/evil.example", "reports/", "",
])
def test_no_open_redirect_after_sign_in(client, accounts, target):
    response = sign_in(client, _user(accounts, "analyst"), next_=target)
    assert response.status_code == 303
    assert response.headers["Location"] == "/reports/"


def test_a_local_path_with_its_query_is_kept(client, accounts):
    response = sign_in(client, _user(accounts, "analyst"), next_="/reports/change?from=2017&to=2018")
    assert response.headers["Location"] == "/reports/change?from=2017&to=2018"


def test_posts_without_a_valid_csrf_token_are_refused(app, client, accounts):
    username, password, _ = accounts.user("analyst")
    data = {"username": username, "password": password}
    assert_problem(client.post("/login", data=data), 400, "csrf-failed")
    page = client.post("/login", data={**data, "csrf_token": "forged"}, headers=HTML)
    assert page.status_code == 400 and page.mimetype == "text/html"
    assert page.headers["Ferry-Problem"] == "csrf-failed"
    assert 'id="problem-code">csrf-failed<' in page.get_data(as_text=True)
    # A token from someone else's session is no good either.
    other = app.test_client()
    token = csrf_token(other.get("/login").get_data(as_text=True))
    client.get("/login")
    assert_problem(client.post("/login", data={**data, "csrf_token": token}), 400, "csrf-failed")
    assert client.get("/reports/", headers=HTML).status_code == 302


def test_sign_out_needs_the_token_and_revokes_the_session(app, client, accounts):
    assert sign_in(client, _user(accounts, "planner")).status_code == 303
    stolen = client.get_cookie("ferry_session").value
    assert_problem(client.post("/logout"), 400, "csrf-failed")
    assert client.get("/reports/").status_code == 200  # still signed in
    token = csrf_token(client.get("/reports/").get_data(as_text=True))
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    assert "Bạn đã đăng xuất." in client.get("/login").get_data(as_text=True)
    assert client.get("/reports/", headers=HTML).status_code == 302
    with app.app_context():
        from server.models import AuditEntry

        actions = [e.action for e in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert [a for a in actions if a.startswith("user.")][-2:] == ["user.login", "user.logout"]
    # A copy of the cookie taken before signing out no longer opens anything: its token is revoked.
    replay = app.test_client()
    replay.set_cookie("ferry_session", stolen)
    assert replay.get("/reports/", headers=HTML).status_code == 302


def test_only_get_signs_out_nothing(client, accounts):
    assert sign_in(client, _user(accounts, "planner")).status_code == 303
    assert_problem(client.get("/logout"), 405, "method-not-allowed")
    assert client.get("/reports/").status_code == 200


@pytest.mark.parametrize("role", ["enumerator", "coordinator", "admin"])
def test_other_roles_get_a_403_page_with_the_problem_code(client, accounts, role):
    assert sign_in(client, _user(accounts, role)).status_code == 303
    page = client.get("/reports/priorities", headers=HTML)
    html = page.get_data(as_text=True)
    assert page.status_code == 403 and page.mimetype == "text/html"
    assert page.headers["Ferry-Problem"] == "forbidden"
    assert 'id="problem-code">forbidden<' in html and '<html lang="vi">' in html
    assert "Báo cáo dành cho cán bộ phân tích và cán bộ kế hoạch" in html
    assert_problem(client.get("/reports/priorities"), 403, "forbidden")
    assert client.get("/reports/priorities.csv").status_code == 403


@pytest.mark.parametrize("role", ["analyst", "planner"])
def test_readers_see_the_pages_even_before_any_data(client, accounts, role):
    assert sign_in(client, _user(accounts, role)).status_code == 303
    for path in ("/reports/", "/reports/districts", "/reports/priorities", "/reports/yearly"):
        page = client.get(path)
        assert page.status_code == 200, path
        assert "Chưa có dữ liệu khảo sát nào" in page.get_data(as_text=True)
    assert_problem(client.get("/reports/priorities.csv"), 404, "not-found")


def test_the_session_is_not_a_bearer_token_and_a_bearer_token_is_not_a_session(client, accounts):
    username, _, headers = accounts.user("analyst")
    assert sign_in(client, username).status_code == 303
    assert_problem(client.get("/api/v1/reports/indicators"), 401, "unauthenticated")
    fresh = client.application.test_client()
    assert_problem(fresh.get("/reports/", headers=headers), 401, "unauthenticated")
    assert fresh.get("/reports/", headers={**headers, **HTML}).status_code == 302


def test_the_api_needs_no_csrf_token(client, accounts):
    username, password, _ = accounts.user("analyst")
    response = client.post("/api/v1/auth/token", json={"username": username, "password": password})
    assert response.status_code == 201


def test_errors_outside_the_pages_stay_problem_json_for_browsers(client):
    assert_problem(client.get("/api/v1/nothing-here", headers=HTML), 404, "not-found")
    page = client.get("/reports/nothing-here", headers=HTML)
    assert page.status_code == 404 and page.headers["Ferry-Problem"] == "not-found"
    assert_problem(client.get("/reports/nothing-here"), 404, "not-found")


def test_programs_without_a_session_get_401_browsers_the_form(client):
    assert_problem(client.get("/reports/priorities.csv"), 401, "unauthenticated")
    assert_problem(client.get("/reports/", headers={"Accept": "*/*"}), 401, "unauthenticated")
    assert client.get("/reports/priorities.csv", headers=HTML).headers["Location"].startswith("/login?next=")


def test_the_root_leads_to_the_reports(client):
    assert client.get("/").headers["Location"] == "/reports/"


def test_signing_in_again_revokes_the_session_before(app, client, accounts):
    first, second = _user(accounts, "analyst"), _user(accounts, "planner")
    assert sign_in(client, first).status_code == 303
    old = client.get_cookie("ferry_session").value
    assert sign_in(client, second).status_code == 303
    replay = app.test_client()
    replay.set_cookie("ferry_session", old)
    assert replay.get("/reports/", headers=HTML).status_code == 302
    assert second in client.get("/reports/").get_data(as_text=True)
