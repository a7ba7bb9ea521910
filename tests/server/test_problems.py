"""Every error of every endpoint is application/problem+json with Ferry's shape; bad input writes nothing."""

import json
import re
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlalchemy import select

from server.extensions import db
from server.models import AuditEntry
from server.models import User
from server.problems import SERVER_PROBLEMS
from server.problems import ApiError
from server.problems import all_codes
from tests.problem_shape import assert_problem


def _rows(app, model):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_unknown_route(client):
    assert_problem(client.get("/no/such/thing"), 404, "not-found")
    assert_problem(client.get("/api/v1/nothing-here"), 404, "not-found")


def test_wrong_method_names_the_allowed_ones(client):
    response = client.delete("/healthz")
    assert_problem(response, 405, "method-not-allowed")
    assert "GET" in response.headers["Allow"]


def test_malformed_json_writes_nothing(app, client, accounts):
    headers = accounts.headers("admin")
    client.get("/api/v1/users", headers=headers)  # the token's first use this hour is audited; now it is
    users, audit = _rows(app, User), _rows(app, AuditEntry)
    response = client.post("/api/v1/users", data='{"username": "lan", "password": ',
                           content_type="application/json", headers=headers)
    assert_problem(response, 400, "malformed-json")
    assert (_rows(app, User), _rows(app, AuditEntry)) == (users, audit)


def test_wrong_content_type(client, accounts):
    response = client.post("/api/v1/users", data="username=lan", headers=accounts.headers("admin"),
                           content_type="application/x-www-form-urlencoded")
    assert_problem(response, 415, "unsupported-media-type")


def test_body_that_is_not_an_object(client, accounts):
    response = client.post("/api/v1/users", json=["lan"], headers=accounts.headers("admin"))
    body = assert_problem(response, 422, "validation-failed")
    assert body["errors"] == [{"pointer": "", "detail": "expected an object"}]


def test_wrong_types_point_at_each_field(app, client, accounts):
    headers = accounts.headers("admin")
    users = _rows(app, User)
    response = client.post("/api/v1/users", json={"username": 7, "password": "short", "role": "king",
                                                  "extra": 1}, headers=headers)
    body = assert_problem(response, 422, "validation-failed")
    pointers = {e["pointer"] for e in body["errors"]}
    assert pointers == {"/username", "/password", "/role", "/extra"}
    assert _rows(app, User) == users


def test_body_over_the_cap_writes_nothing(app, client, accounts):
    headers = accounts.headers("admin")
    users = _rows(app, User)
    payload = json.dumps({"username": "lan", "password": "x" * (11 * 1024 * 1024), "role": "analyst"})
    response = client.post("/api/v1/users", data=payload, content_type="application/json",
                           headers=headers)
    assert_problem(response, 413, "payload-too-large")
    assert _rows(app, User) == users


def test_cap_is_configurable(tmp_path, database_url, accounts):
    from tests.conftest import make_app

    small = make_app(database_url, tmp_path / "small", MAX_CONTENT_LENGTH=1024)
    response = small.test_client().post("/api/v1/auth/token", data="x" * 2048,
                                        content_type="application/json")
    assert_problem(response, 413, "payload-too-large")


def test_internal_error_leaks_nothing_and_rolls_back(app):
    from server.api.access import PUBLIC
    from server.api.access import access

    @app.get("/boom")
    @access(PUBLIC)
    def boom():
        db.session.add(User(username="half-written", password_hash="x", role="admin"))
        db.session.flush()
        raise RuntimeError("secret internals")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = app.test_client().get("/boom")
    body = assert_problem(response, 500, "internal-error")
    assert "secret internals" not in response.get_data(as_text=True)
    assert body["detail"].startswith("The server failed")
    with app.app_context():
        assert db.session.scalar(select(User).where(User.username == "half-written")) is None


def test_package_errors_map_through_one_table(app):
    from forms.errors import FormError
    from server.api.access import PUBLIC
    from server.api.access import access

    @app.get("/form-error")
    @access(PUBLIC)
    def form_error():
        raise FormError("The sheet is broken.", errors=[{"pointer": "/survey/3", "detail": "bad"}])

    body = assert_problem(app.test_client().get("/form-error"), 422, "form-error")
    assert body["errors"] == [{"pointer": "/survey/3", "detail": "bad"}]


def test_server_codes_must_be_registered():
    with pytest.raises(KeyError):
        ApiError("made-up-code")


def test_every_code_is_described_at_its_type_uri(client):
    for code, (status, title) in all_codes().items():
        body = client.get(f"/problems/{code}").get_json()
        assert (body["code"], body["status"], body["title"]) == (code, status, title)
    assert_problem(client.get("/problems/not-a-code"), 404, "not-found")


def test_every_endpoint_answers_errors_as_problems(app, client):
    """Walk the whole URL map: anonymous calls and wrong methods give problem+json."""
    checked = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        url = rule.build({arg: "x" for arg in rule.arguments}, append_unknown=False)[1]
        view = app.view_functions[rule.endpoint]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if "public" not in view.access:
                assert_problem(client.open(url, method=method), 401, "unauthenticated")
                bad = client.open(url, method=method, headers={"Authorization": "Bearer nope"})
                # Pages read the session cookie only: a bearer token there is no sign-in at all.
                assert_problem(bad, 401, "token-invalid" if view.via == "bearer" else "unauthenticated")
                checked += 1
        unused = {"GET", "POST", "PUT", "PATCH", "DELETE"} - rule.methods
        other_rules = [r for r in app.url_map.iter_rules() if r.rule == rule.rule]
        unused -= {m for r in other_rules for m in r.methods}
        for method in unused:
            assert_problem(client.open(url, method=method), 405, "method-not-allowed")
            checked += 1
    assert checked > 10


def test_the_device_clients_local_transport_answers_like_the_server():
    # One table (sync.errors.HTTP_STATUS) serves both; this checks the server's mapping reads it, for
    # every protocol error class, not only the codes listed.
    from server.problems import status_of
    from sync.client.transports import problem
    from sync.errors import SyncError

    client_only = ("transport-failed", "server-refused")  # raised on the device, never answered
    classes = [cls for cls in _all_subclasses(SyncError) if cls.code not in client_only]
    assert len(classes) >= 10
    for cls in classes:
        assert problem(cls("x")).status == status_of(cls("x")), cls.code


def _all_subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_subclasses(sub)


def test_every_code_services_raise_is_registered():
    # ServerError (what services raise) knows nothing of HTTP, so it cannot check its code when raised:
    # every literal code in the server's sources must be one the problem table can answer with.
    root = Path(__file__).resolve().parents[2] / "server"
    pattern = re.compile(r'(?:ServerError|ApiError|_offset_problem)\(\s*"([a-z-]+)"')
    raised = set()
    for path in root.rglob("*.py"):
        raised |= set(pattern.findall(path.read_text()))
    assert {"not-found", "validation-failed", "blob-too-large", "upload-offset-mismatch"} <= raised
    assert raised - set(SERVER_PROBLEMS) == set()
