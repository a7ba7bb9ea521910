"""Logging in, tokens and passwords stored only as hashes, logging out."""

import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from server.extensions import db
from server.models import ApiToken
from server.models import AuditEntry
from server.models import User
from tests.problem_shape import assert_problem


def test_login_gives_a_token_that_works_and_is_stored_hashed(app, client, accounts):
    username, password, _ = accounts.user("coordinator", "lan")
    response = client.post("/api/v1/auth/token", json={"username": username, "password": password})
    assert response.status_code == 201
    body = response.get_json()
    assert body["token_type"] == "Bearer" and body["user"]["role"] == "coordinator"
    token = body["token"]
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "lan"))
        assert password not in user.password_hash and user.password_hash.startswith("$argon2id$")
        stored = db.session.scalars(select(ApiToken.token_hash)).all()
        assert token not in stored and all(len(h) == 64 for h in stored)
        assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.login"))
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/places", headers=headers).status_code in (200, 404)


def test_the_product_hashes_passwords_at_argon2s_default_cost():
    # The test process hashes cheaply (tests/conftest.py); the product, in a fresh process, must not.
    code = "from server.accounts.secrets import hash_password; print(hash_password('x'))"
    out = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[2],
                         capture_output=True, text=True, check=True)
    assert out.stdout.startswith("$argon2id$v=19$m=65536,t=3,p=4$"), out.stdout


def test_wrong_password_and_unknown_user_fail_alike(client, accounts):
    username, _, _ = accounts.user("analyst")
    wrong = assert_problem(client.post("/api/v1/auth/token",
                                       json={"username": username, "password": "nope"}),
                           401, "login-failed")
    unknown = assert_problem(client.post("/api/v1/auth/token",
                                         json={"username": "ghost", "password": "nope"}),
                             401, "login-failed")
    assert wrong["detail"] == unknown["detail"]


def test_logout_revokes_the_token(client, accounts):
    headers = accounts.headers("planner")
    assert client.delete("/api/v1/auth/token", headers=headers).status_code == 204
    assert_problem(client.get("/api/v1/places", headers=headers), 401, "token-invalid")


def test_expired_token_is_refused(app, client, accounts):
    import datetime as dt

    from server.models import utcnow

    headers = accounts.headers("analyst")
    with app.app_context():
        for token in db.session.scalars(select(ApiToken)):
            token.expires_at = utcnow() - dt.timedelta(seconds=1)
        db.session.commit()
    assert_problem(client.get("/api/v1/places", headers=headers), 401, "token-invalid")


def test_malformed_authorization_header(client):
    response = client.get("/api/v1/places", headers={"Authorization": "Basic abc"})
    assert_problem(response, 401, "token-invalid")


def test_disabled_user_is_refused(app, client, accounts):
    username, _, headers = accounts.user("analyst")
    with app.app_context():
        db.session.scalar(select(User).where(User.username == username)).active = False
        db.session.commit()
    assert_problem(client.get("/api/v1/places", headers=headers), 403, "forbidden")


def test_admin_creates_a_user_who_can_log_in(client, accounts):
    admin = accounts.headers("admin")
    response = client.post("/api/v1/users", headers=admin,
                           json={"username": "minh", "password": "a long password", "role": "enumerator"})
    assert response.status_code == 201 and "password" not in response.get_json()
    again = client.post("/api/v1/users", headers=admin,
                        json={"username": "minh", "password": "a long password", "role": "analyst"})
    assert_problem(again, 409, "conflict")
    login = client.post("/api/v1/auth/token", json={"username": "minh", "password": "a long password"})
    assert login.status_code == 201
