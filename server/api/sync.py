"""The sync API for devices: enrol, push, pull, and both in one round trip (docs/protocol.md)."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint
from flask import current_app

from server.api.access import DEVICE
from server.api.access import PUBLIC
from server.api.access import access
from server.api.sync_edge import admitted
from server.api.sync_edge import device_ref
from server.api.sync_edge import json_request
from server.api.sync_edge import json_response
from server.models import utcnow
from server.sync import devices
from server.sync.runtime import limits
from server.sync.runtime import store
from sync import engine
from sync.errors import DeviceMismatch
from sync.errors import EnvelopeInvalid
from sync.instances import read_instances
from sync.protocol import PullRequest
from sync.protocol import PushRequest

bp = Blueprint("sync", __name__, url_prefix="/api/v1")


@bp.post("/devices/enroll")
@access(PUBLIC)
def enroll():
    """Exchange a one-time enrolment code for the device's token."""
    with admitted():
        window = dt.timedelta(minutes=current_app.config["ENROLMENT_RETRY_MINUTES"])
        enrolment = devices.enroll(json_request(), store(), limits(), now=utcnow(),
                                   key=current_app.config["SECRET_KEY"], retry_window=window)
    return json_response(enrolment.to_wire())


@bp.post("/sync/push")
@access(DEVICE)
def push():
    """Apply a batch of operations; one result per operation (200 whenever the envelope is valid)."""
    with admitted():
        pushing = read_instances(PushRequest.from_wire(json_request()), store())
        answer = engine.push(store(), device_ref(pushing.ops), pushing, now=utcnow(), limits=limits())
    return json_response(answer.to_wire())


@bp.post("/sync/pull")
@access(DEVICE)
def pull():
    """Return the next page of the device's buckets after its cursor."""
    with admitted():
        page = engine.pull(store(), device_ref(), PullRequest.from_wire(json_request()), now=utcnow(),
                           limits=limits())
    return json_response(page.to_wire())


@bp.post("/sync")
@access(DEVICE)
def push_and_pull():
    """Push then pull in one round trip: ``{"push": {...}, "pull": {...}}``."""
    with admitted():
        body = json_request()
        if not isinstance(body, dict):
            raise EnvelopeInvalid("The body must be an object with 'push' and 'pull'.",
                                  errors=[{"pointer": "", "detail": "object"}])
        push_request = read_instances(PushRequest.from_wire(body.get("push")), store())
        pull_request = PullRequest.from_wire(body.get("pull"))
        device = device_ref(push_request.ops)
        if pull_request.device_id != device.id:
            # refused before the push is applied: a request is answered whole or not at all
            raise DeviceMismatch("The pull names another device than the token's; nothing was applied.",
                                 errors=[{"pointer": "/pull/device_id", "detail": "not this token's device"}])
        pushed, page = engine.sync(store(), device, push_request, pull_request, now=utcnow(), limits=limits())
    return json_response({"push": pushed.to_wire(), "pull": page.to_wire()})
