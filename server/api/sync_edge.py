"""The HTTP edge of sync: bodies in (gzip, capped), answers out (gzip), the calling device, load shedding."""

from __future__ import annotations

import json
from collections.abc import Iterable
from contextlib import contextmanager

import orjson
from flask import Response
from flask import current_app
from flask import request

from server.api.access import current_principal
from server.extensions import db
from server.models.database import reading
from server.problems import ApiError
from server.sync import devices
from server.sync.runtime import limits
from sync.errors import EnvelopeInvalid
from sync.errors import PayloadTooLarge
from sync.protocol import CHANGING_KINDS
from sync.protocol import Operation
from sync.store import DeviceRef
from sync.transport import BODY_BOUNDS
from sync.transport import ORJSON_AS_JSON
from sync.transport import decode_json
from sync.transport import deflate
from sync.transport import inflate_capped
from sync.transport import value_problems

# Below this size gzip costs more bytes (header) and CPU than it saves.
_GZIP_FROM = 512


def device_ref(ops: Iterable[Operation] = ()) -> DeviceRef:
    """Return the calling device as the engine sees it.

    Its peers are looked up only when ``ops`` correct or delete, the only operations checked against them
    (``sync.submissions.trespass``): a push of new interviews makes no look-up (on PostgreSQL, a transaction
    of three round trips).
    """
    device = current_principal().device
    peers: frozenset[str] = frozenset()
    if any(op.kind in CHANGING_KINDS for op in ops):
        with reading():  # a look-up: the store writes on its own connection, under its own lock
            peers = devices.peers(device)
            db.session.commit()
    return DeviceRef(id=str(device.id), user_id=device.user_id, revoked=device.revoked_at is not None,
                     peers=peers)


def json_request() -> dict:
    """Read a sync body: gzip or plain, never inflated past ``max_push_bytes`` (zip bombs stop early)."""
    cap = limits().max_push_bytes
    encoding = request.headers.get("Content-Encoding", "identity").strip().lower()
    if encoding not in ("gzip", "identity"):
        raise ApiError("unsupported-media-type", f"Content-Encoding {encoding!r}: send gzip or nothing.")
    if encoding == "gzip":
        raw = inflate_capped(request.stream, cap)
    else:
        raw = request.stream.read(cap + 1)
        if len(raw) > cap:
            raise PayloadTooLarge(f"The body is over {cap} bytes; split the batch.", **limits().to_wire())
    body = decode_json(raw)
    problems = value_problems(_without_ops(body), BODY_BOUNDS)
    if problems:
        raise EnvelopeInvalid("The body holds values beyond the server's bounds; nothing was stored.",
                              errors=problems)
    return body


def _without_ops(body):
    """The body with its operations left out: each operation is bounded on its own (a bad one is rejected
    alone, never the batch), everything around them here."""
    if not isinstance(body, dict):
        return body
    outer = {k: v for k, v in body.items() if k != "ops"}
    if isinstance(body.get("push"), dict):
        outer["push"] = {k: v for k, v in body["push"].items() if k != "ops"}
    return outer


def json_response(body: dict, status: int = 200) -> Response:
    """Answer JSON, gzipped when the client accepts it and it pays."""
    data = _json_bytes(body)
    response = Response(status=status, mimetype="application/json")
    if len(data) >= _GZIP_FROM and "gzip" in request.headers.get("Accept-Encoding", ""):
        data = deflate(data)
        response.headers["Content-Encoding"] = "gzip"
    response.headers["Vary"] = "Accept-Encoding"
    response.set_data(data)
    return response


def _json_bytes(body) -> bytes:
    # orjson writes a push's answer (a result per operation) several times faster; what it refuses or would
    # write its own way (ORJSON_AS_JSON: integers past 64 bits, datetimes, subclasses), the json module writes
    try:
        return orjson.dumps(body, option=ORJSON_AS_JSON)
    except orjson.JSONEncodeError:
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


@contextmanager
def admitted():
    """Admit a sync request, or shed it with 503 (paused) or 429 (too many at once) and Retry-After."""
    config = current_app.config
    if config["SYNC_PAUSED"]:
        raise ApiError("service-unavailable", "Sync is paused for maintenance; your data is safe on the "
                       "device.", headers={"Retry-After": str(config["SYNC_RETRY_AFTER_S"] * 6)})
    gate = current_app.extensions["ferry_sync"]["gate"]
    if not gate.acquire(blocking=False):
        raise ApiError("too-many-requests", "The server is busy with other devices; retry shortly.",
                       headers={"Retry-After": str(config["SYNC_RETRY_AFTER_S"])})
    try:
        yield
    finally:
        gate.release()
