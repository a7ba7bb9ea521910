"""How the client reaches a server: over HTTP (urllib, gzip both ways) or in-process for tests."""

from __future__ import annotations

import datetime as dt
import http.client
import secrets
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from typing import Protocol

from sync import engine
from sync.errors import HTTP_STATUS
from sync.errors import NotFound
from sync.errors import SyncError
from sync.errors import TransportFailed
from sync.protocol import Enrolment
from sync.protocol import EnrolRequest
from sync.protocol import Limits
from sync.protocol import PullRequest
from sync.protocol import PushRequest
from sync.protocol import format_time
from sync.store import DeviceRef
from sync.store import Store
from sync.transport import decode_json
from sync.transport import deflate
from sync.transport import encode_json
from sync.transport import inflate_capped

ENROL_PATH = "/api/v1/devices/enroll"
PUSH_PATH = "/api/v1/sync/push"
PULL_PATH = "/api/v1/sync/pull"
MAX_RESPONSE_BYTES = 32 << 20


@dataclass(frozen=True)
class Response:
    """An HTTP answer: status, lower-cased headers, parsed JSON body (or None)."""

    status: int
    headers: dict = field(default_factory=dict)
    body: dict | None = None


class Transport(Protocol):
    """Sends one JSON request and returns the answer; raises ``TransportFailed`` when none arrived."""

    def send(self, path: str, body: dict, token: str | None) -> Response:
        """POST ``body`` to ``path`` with the bearer ``token``."""


class HttpTransport:
    """The real transport: urllib, gzip request bodies, ``Accept-Encoding: gzip``, a timeout."""

    def __init__(self, base_url: str, *, timeout: float = 60.0):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def send(self, path: str, body: dict, token: str | None) -> Response:
        """POST a gzip JSON body; return the parsed answer."""
        headers = {"Content-Type": "application/json", "Content-Encoding": "gzip", "Accept-Encoding": "gzip",
                   "Accept": "application/json, application/problem+json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(self.base_url + path, data=deflate(encode_json(body)),
                                         headers=headers, method="POST")
        try:
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as answer:  # noqa: S310 - our URL
                    status, answer_headers, raw = answer.status, answer.headers, answer.read()
            except urllib.error.HTTPError as error:
                status, answer_headers, raw = error.code, error.headers, error.read()
        except (urllib.error.URLError, TimeoutError, ConnectionError, http.client.HTTPException) as exc:
            raise TransportFailed(f"No answer from {self.base_url}: {exc}") from exc
        lowered = {k.lower(): v for k, v in answer_headers.items()}
        try:
            if lowered.get("content-encoding") == "gzip":
                raw = inflate_capped(raw, MAX_RESPONSE_BYTES)
            parsed = decode_json(raw) if raw else None
        except SyncError as exc:
            # A cut or garbled answer is the same as no answer: retry, the server dedupes.
            raise TransportFailed(f"Unreadable answer ({status}): {exc.detail}") from exc
        return Response(status, lowered, parsed)


def problem(exc: SyncError) -> Response:
    """Return the answer a server gives for a sync error (as ``server/problems.py`` shapes it)."""
    status = HTTP_STATUS.get(exc.code, 409)
    headers = {"content-type": "application/problem+json"}
    if status in (429, 503):
        headers["retry-after"] = str(exc.fields.get("retry_after", engine.RETRY_AFTER_S))
    return Response(status, headers, {"code": exc.code, "status": status, "title": type(exc).__doc__,
                                      "detail": exc.detail, "errors": exc.errors, **exc.fields})


class LocalTransport:
    """An in-process server over a Store, with gzip, the body cap, auth and injectable faults.

    ``faults`` is consumed one per request: ``"timeout"`` fails before the server sees anything,
    ``"drop"`` lets the server commit and then loses the answer, ``"kill"`` raises ``kill_with`` after
    the commit (a process killed mid-push), a ``Response`` is returned instead of calling the server.
    """

    def __init__(self, store: Store, *, limits: Limits = engine.DEFAULT_LIMITS,
                 clock: Callable[[], dt.datetime] | None = None, kill_with: type[BaseException] = SystemExit):
        self.store, self.limits = store, limits
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.kill_with = kill_with
        self.codes: dict[str, DeviceRef] = {}
        self.tokens: dict[str, DeviceRef] = {}
        self.faults: list = []
        self.requests: list[tuple[str, int]] = []  # (path, gzip bytes) of every request

    def add_enrolment_code(self, code: str, user_id: int | None = 7) -> str:
        """Register a one-time code for a new device; return the device id."""
        device = DeviceRef(id=secrets.token_hex(16), user_id=user_id)
        self.codes[code] = device
        return device.id

    def revoke(self, device_id: str) -> None:
        """Revoke a device: its token stops working."""
        for token, device in list(self.tokens.items()):
            if device.id == device_id:
                self.tokens[token] = DeviceRef(device.id, device.user_id, revoked=True)

    def send(self, path: str, body: dict, token: str | None) -> Response:
        """Handle one request as the server would."""
        fault = self.faults.pop(0) if self.faults else None
        if fault == "timeout":
            raise TransportFailed("timed out (injected)")
        if isinstance(fault, Response):
            return fault
        answer = self.handle_wire(path, deflate(encode_json(body)), token)
        if fault == "drop":
            raise TransportFailed("connection lost after the server committed (injected)")
        if fault == "kill":
            raise self.kill_with("killed after the server committed (injected)")
        # What the client receives went through JSON, as on a real wire.
        return Response(answer.status, answer.headers, decode_json(encode_json(answer.body)))

    def handle_wire(self, path: str, wire: bytes, token: str | None) -> Response:
        """Answer one gzip JSON request body as the server would (also behind a loopback HTTP server)."""
        self.requests.append((path, len(wire)))
        if path != ENROL_PATH and token not in self.tokens:
            return Response(401, {"www-authenticate": "Bearer"},
                            {"code": "token-invalid", "status": 401, "detail": "Unknown or revoked token."})
        try:
            return Response(200, {}, self._handle(path, wire, token))
        except SyncError as exc:
            return problem(exc)

    def _handle(self, path: str, wire: bytes, token: str | None) -> dict:
        body = decode_json(inflate_capped(wire, self.limits.max_push_bytes))
        now = self.clock()
        if path == ENROL_PATH:
            request = EnrolRequest.from_wire(body)
            device = self.codes.pop(request.code, None)
            if device is None:
                raise NotFound("Unknown or used enrolment code.")
            secret = secrets.token_urlsafe(32)
            self.tokens[secret] = device
            with self.store.snapshot():
                epoch = self.store.epoch()
            return Enrolment(device_id=device.id, token=secret, epoch=epoch, server_time=format_time(now),
                             limits=self.limits.to_wire()).to_wire()
        device = self.tokens[token]
        if path == PUSH_PATH:
            return engine.push(self.store, device, PushRequest.from_wire(body), now=now,
                               limits=self.limits).to_wire()
        if path == PULL_PATH:
            return engine.pull(self.store, device, PullRequest.from_wire(body), now=now,
                               limits=self.limits).to_wire()
        raise NotFound(f"No route {path}.")
