"""The urllib transport against a loopback HTTP server: gzip both ways, statuses, timeouts."""

from __future__ import annotations

import http.server
import threading

import pytest

from sync.client import HttpTransport
from sync.client import LocalTransport
from sync.client import Outbox
from sync.client import SyncClient
from sync.errors import TransportFailed
from sync.memory import MemoryStore
from sync.testing.fakes import T0
from sync.testing.fakes import FakeForms
from sync.transport import deflate
from sync.transport import encode_json


@pytest.fixture
def served():
    """A loopback HTTP server in front of an in-process sync server; yields (url, local, seen headers)."""
    local = LocalTransport(MemoryStore(forms=FakeForms.standard()), clock=lambda: T0)
    seen: list[dict] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - the stdlib's name
            seen.append(dict(self.headers))
            body = self.rfile.read(int(self.headers["Content-Length"]))
            token = (self.headers.get("Authorization") or "").removeprefix("Bearer ") or None
            answer = local.handle_wire(self.path, body, token)
            payload = deflate(encode_json(answer.body))
            self.send_response(answer.status)
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", local, seen
    server.shutdown()
    server.server_close()


def test_a_client_syncs_over_http_with_gzip(served, tmp_path):
    url, local, seen = served
    local.add_enrolment_code("K7QX")
    client = SyncClient(Outbox(tmp_path / "o.sqlite"), HttpTransport(url, timeout=5), sleep=lambda s: None)
    client.enrol("K7QX")
    sub = client.create("awareness", "1", {"age": 33})
    assert client.sync() == {"created": 1}
    assert seen[-1]["Content-Encoding"] == "gzip" and seen[-1]["Accept-Encoding"] == "gzip"
    with local.store.snapshot():
        assert local.store.submission(sub) is not None


def test_problem_answers_keep_their_status(served):
    url, _, _ = served
    answer = HttpTransport(url, timeout=5).send("/api/v1/sync/push", {"protocol": 1}, "no-such-token")
    assert answer.status == 401 and answer.body["code"] == "token-invalid"


def test_no_server_is_a_transport_failure():
    with pytest.raises(TransportFailed):
        HttpTransport("http://127.0.0.1:9", timeout=2).send("/api/v1/sync/pull", {}, None)
