"""Devices for coordinators and admins: create with an enrolment code, list with sync state, revoke."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint
from flask import current_app
from marshmallow import Schema
from marshmallow import fields
from marshmallow import validate

from server.accounts.users import enroll_device
from server.api.access import access
from server.api.access import current_principal
from server.api.body import json_body
from server.console.scope import check_enumerator
from server.console.scope import device_visible
from server.console.scope import scope_of
from server.console.scope import visible_enumerators
from server.extensions import db
from server.models import utcnow
from server.models.errors import ServerError
from server.sync import devices

bp = Blueprint("devices", __name__, url_prefix="/api/v1/devices")


class DeviceCreateSchema(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=80))
    label = fields.String(load_default="", validate=validate.Length(max=120))


class DeviceSchema(Schema):
    device_id = fields.String()
    enumerator = fields.String(allow_none=True)
    label = fields.String()
    app_user = fields.String(allow_none=True)
    created_at = fields.DateTime()
    enrolled_at = fields.DateTime(allow_none=True)
    revoked_at = fields.DateTime(allow_none=True)
    last_seen_at = fields.DateTime(allow_none=True)
    clock_skew_s = fields.Integer(allow_none=True)
    last_ack = fields.Dict(allow_none=True)
    epoch = fields.String(allow_none=True)


@bp.post("")
@access("admin", "coordinator")
def create():
    """Create a device for an enumerator; the one-time enrolment code is in the answer, once."""
    args = DeviceCreateSchema().load(json_body())
    check_enumerator(db.session, scope_of(db.session, current_principal().user), args["username"])
    lifetime = dt.timedelta(hours=current_app.config["ENROLMENT_CODE_HOURS"])
    device, code = enroll_device(db.session, args["username"], args["label"], lifetime,
                                 actor=current_principal().user)
    db.session.commit()
    return {"device_id": str(device.id), "enrolment_code": code,
            "expires_at": (utcnow() + lifetime).isoformat()}, 201


@bp.get("")
@access("admin", "coordinator")
def list_devices():
    """List devices with their enumerator and sync state (last seen, clock skew, last ack).

    A coordinator gets the devices of the enumerators in their districts (and of those not yet assigned).
    """
    scope = scope_of(db.session, current_principal().user)
    names = {u.username for u in visible_enumerators(db.session, scope)}
    rows = [row for row in devices.listing() if scope.is_admin or row["enumerator"] in names]
    return {"devices": DeviceSchema(many=True).dump(rows)}


@bp.post("/<device_id>/revoke")
@access("admin", "coordinator")
def revoke(device_id: str):
    """Revoke a device: its token stops working; what it sent stays stored."""
    user = current_principal().user
    if not device_visible(db.session, scope_of(db.session, user), devices.get(device_id)):
        raise ServerError("not-found", f"No device {device_id!r}.")
    device = devices.revoke(device_id, now=utcnow(), actor=user)
    db.session.commit()
    return {"device_id": str(device.id), "revoked_at": device.revoked_at.isoformat()}
