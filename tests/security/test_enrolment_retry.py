"""Issue 15: a lost enrolment answer burnt the one-time code; enrolment was not retry-safe.

Now a retry with the same code and the same client-made installation id, within
``ENROLMENT_RETRY_MINUTES``, gets the same answer; another installation id still finds the code used.
"""

from __future__ import annotations

import uuid

from sync.client import HttpTransport
from sync.client import Outbox
from sync.client import SyncClient
from sync.errors import TransportFailed
from sync.protocol import PROTOCOL
from tests.live_server import live_server
from tests.problem_shape import assert_problem
from tests.security.conftest import op

ENROL = "/api/v1/devices/enroll"


def _code(client, accounts) -> str:
    username = accounts.user("enumerator")[0]
    return client.post("/api/v1/devices", json={"username": username},
                       headers=accounts.headers("coordinator")).get_json()["enrolment_code"]


def _enrol(client, code, installation=None):
    body = {"protocol": PROTOCOL, "code": code}
    if installation:
        body["installation_id"] = installation
    return client.post(ENROL, json=body)


def test_a_retry_with_the_same_installation_gets_the_same_answer(client, accounts, forms_installed):
    code, installation = _code(client, accounts), str(uuid.uuid4())
    first = _enrol(client, code, installation)
    assert first.status_code == 200
    again = _enrol(client, code.lower(), installation)
    assert again.status_code == 200
    assert {k: again.get_json()[k] for k in ("device_id", "token", "epoch")} == \
        {k: first.get_json()[k] for k in ("device_id", "token", "epoch")}
    # the token works, for that device
    device_id, token = first.get_json()["device_id"], first.get_json()["token"]
    pushed = client.post("/api/v1/sync/push", headers={"Authorization": f"Bearer {token}"},
                         json={"protocol": PROTOCOL, "device_id": device_id, "ops": [op()]})
    assert pushed.get_json()["results"][0]["status"] == "created"
    # another installation with the same code is refused, as is a client that sends no id
    assert_problem(_enrol(client, code, str(uuid.uuid4())), 404, "sync-not-found")
    assert_problem(_enrol(client, code), 404, "sync-not-found")


def test_the_retry_window_closes(app, client, accounts, forms_installed):
    app.config["ENROLMENT_RETRY_MINUTES"] = 0
    code, installation = _code(client, accounts), str(uuid.uuid4())
    assert _enrol(client, code, installation).status_code == 200
    assert_problem(_enrol(client, code, installation), 404, "sync-not-found")


def test_a_revoked_device_cannot_re_enrol_by_retrying(client, accounts, forms_installed):
    code, installation = _code(client, accounts), str(uuid.uuid4())
    device_id = _enrol(client, code, installation).get_json()["device_id"]
    client.post(f"/api/v1/devices/{device_id}/revoke", headers=accounts.headers("coordinator"))
    assert_problem(_enrol(client, code, installation), 403, "device-revoked")


class _LosesFirstAnswer:
    """A network that delivers the request but loses the server's answer, once."""

    def __init__(self, inner):
        self.inner, self.lost = inner, 0

    def send(self, path, body, token):
        response = self.inner.send(path, body, token)
        if self.lost == 0:
            self.lost += 1
            raise TransportFailed("connection reset after the request was sent")
        return response


def test_the_reference_client_survives_a_lost_enrolment_answer(tmp_path, app, client, accounts,
                                                               forms_installed):
    code = _code(client, accounts)
    with live_server(app) as url:
        outbox = Outbox(tmp_path / "outbox.sqlite")
        transport = _LosesFirstAnswer(HttpTransport(url, timeout=30))
        agent = SyncClient(outbox, transport, sleep=lambda s: None)
        enrolment = agent.enrol(code)
        assert transport.lost == 1 and enrolment.token
        agent.create("awareness", op()["ver"], {"round": "2019", "consent": "no"})
        assert agent.push() == {"created": 1}
        outbox.close()
