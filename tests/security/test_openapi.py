"""The OpenAPI description at /api/v1/openapi.json: complete, generated from the schemas, and honest.

Not yet the schemathesis run the issue asks for; a smaller check in its spirit: every described
operation, called with an empty and with a hostile body, answers a documented problem or success,
never a 500.
"""

from __future__ import annotations

import re

import pytest

from tests.problem_shape import assert_problem

PATH_PARAM = re.compile(r"\{[^}]+\}")
DEEP: list = [1]
for _ in range(40):
    DEEP = [DEEP]
HOSTILE = {"username": "\ud800", "n": 10**30, "deep": DEEP}


def _spec(client) -> dict:
    answer = client.get("/api/v1/openapi.json")
    assert answer.status_code == 200
    return answer.get_json()


def test_every_api_route_is_described_with_its_schemas(app, client):
    spec = _spec(client)
    assert spec["openapi"].startswith("3.1")
    described = {(path, method) for path, ops in spec["paths"].items() for method in ops
                 if method != "parameters"}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
            for method in rule.methods - {"OPTIONS", "HEAD"}:
                assert (path, method.lower()) in described, (path, method)
    login = spec["components"]["schemas"]["Login"]
    assert set(login["required"]) == {"username", "password"}
    assert login["properties"]["username"]["maxLength"] == 80
    token = spec["paths"]["/api/v1/auth/token"]["post"]
    assert token["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/Login")
    assert "security" not in token and "security" in spec["paths"]["/api/v1/users"]["get"]


@pytest.mark.parametrize("role", ["admin", "coordinator", "analyst"])
def test_no_described_operation_fails_on_empty_or_hostile_bodies(app, client, accounts, places, role):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    headers = accounts.headers(role)
    for path, operations in _spec(client)["paths"].items():
        url = PATH_PARAM.sub("x", path)
        for method, operation in operations.items():
            if method in ("parameters", "get", "head") or "requestBody" not in operation:
                continue
            for body in ({}, HOSTILE, []):
                answer = client.open(url, method=method.upper(), json=body, headers=headers)
                assert answer.status_code < 500, (method, url, answer.get_data(as_text=True))
                if answer.status_code >= 400:
                    assert_problem(answer, answer.status_code)
