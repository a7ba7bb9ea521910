"""Fixtures of the security tests: an enrolled device, ops and pushes."""

from __future__ import annotations

import uuid

import pytest

from server.forms import registry as form_registry
from sync.protocol import PROTOCOL

REFUSAL = {"round": "2019", "consent": "no"}


def enrol(client, accounts, username=None):
    """Enrol a device of ``username`` (a new enumerator by default) through the API."""
    username = username or accounts.user("enumerator")[0]
    created = client.post("/api/v1/devices", json={"username": username, "label": "Phone"},
                          headers=accounts.headers("coordinator"))
    assert created.status_code == 201, created.get_json()
    answer = client.post("/api/v1/devices/enroll", json={"protocol": PROTOCOL,
                                                          "code": created.get_json()["enrolment_code"]})
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    return body["device_id"], {"Authorization": f"Bearer {body['token']}"}


@pytest.fixture
def enrolled(client, accounts, forms_installed):
    """An enumerator's device enrolled through the API; return (device_id, headers)."""
    return enrol(client, accounts)


def op(answers=None, **extra):
    """Return a create operation of the awareness form."""
    version = form_registry.library.load("awareness").version
    return {"id": str(uuid.uuid4()), "kind": "create", "sub": str(uuid.uuid4()), "form": "awareness",
            "ver": version, "ans": REFUSAL if answers is None else answers, "at": "2019-06-01T08:00:00+07:00",
            **extra}


def raw_post(client, path, text: str, headers=None):
    """POST ``text`` as a JSON body byte for byte (the test client would re-encode a dict)."""
    return client.post(path, data=text.encode("utf-8"), content_type="application/json",
                       headers=headers or {})


def push_text(client, device_id, headers, ops_text: str):
    """Push a batch whose ``ops`` list is given as raw JSON text."""
    body = f'{{"protocol": {PROTOCOL}, "device_id": "{device_id}", "ops": {ops_text}}}'
    return raw_post(client, "/api/v1/sync/push", body, headers)
