"""Devices: enrolment with a one-time code, the device list with its sync state, revocation."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import uuid

from sqlalchemy import bindparam
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import selectinload

from server.accounts.secrets import hash_secret
from server.accounts.secrets import issue_token
from server.accounts.users import normalise_code
from server.extensions import db
from server.models import ApiToken
from server.models import AppUser
from server.models import Device
from server.models import DeviceSync
from server.models import EnrolmentCode
from server.models import audit
from server.models.errors import ServerError
from server.sync import buckets
from sync.errors import DeviceRevoked
from sync.errors import EnvelopeInvalid
from sync.errors import NotFound
from sync.protocol import Enrolment
from sync.protocol import EnrolRequest
from sync.protocol import Limits
from sync.protocol import format_time
from sync.store import Store


def enrolment_token(key: str, code_hash: str, installation_id: str) -> str:
    """The token an enrolment with this code and installation id gets: the same on every retry.

    An HMAC under the server's secret key of the code (74 random bits, used once) and the client's
    installation id: as unguessable as a random token, and recomputable, so a lost answer can be given
    again without the token ever being stored in the clear.
    """
    digest = hmac.new(key.encode(), f"enrol|{code_hash}|{installation_id}".encode(), hashlib.sha256).digest()
    return "fy_" + base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def enroll(body, store: Store, limits: Limits, *, now: dt.datetime, key: str = "",
           retry_window: dt.timedelta = dt.timedelta(0)) -> Enrolment:
    """Use a one-time code: mark it used, give the device its token, return what the device keeps.

    With an ``installation_id``, a retry with the same code and id within ``retry_window`` gets the
    same answer (the first may have been lost on the way); any other id still finds the code used.
    """
    if not isinstance(body, dict):
        raise EnvelopeInvalid("The body must be a JSON object.")
    request = EnrolRequest.from_wire(body)
    code_hash = hash_secret(normalise_code(request.code))
    installation = request.installation_id if key else None
    # One statement claims the code, so two phones racing with the same code cannot both win.
    claimed = db.session.execute(
        update(EnrolmentCode)
        .where(EnrolmentCode.code_hash == code_hash, EnrolmentCode.used_at.is_(None),
               EnrolmentCode.expires_at > now)
        .values(used_at=now).returning(EnrolmentCode.device_id)
    ).scalar_one_or_none()
    if claimed is None:
        db.session.rollback()
        again = installation and _replay(code_hash, enrolment_token(key, code_hash, installation),
                                         since=now - retry_window)
        if again:
            with store.snapshot():
                epoch = store.epoch()
            return Enrolment(device_id=str(again.id), token=enrolment_token(key, code_hash, installation),
                             epoch=epoch, server_time=format_time(now), limits=limits.to_wire())
        raise NotFound("Unknown, used or expired enrolment code: ask a coordinator for a new one.")
    device = db.session.get(Device, claimed)
    if device.revoked_at is not None:
        db.session.rollback()
        raise DeviceRevoked("This device was revoked before it enrolled; ask a coordinator.")
    device.enrolled_at = now
    if request.label:
        device.label = request.label
    if installation:
        secret = enrolment_token(key, code_hash, installation)
        db.session.add(ApiToken(token_hash=hash_secret(secret), device_id=device.id))
    else:  # an older client: a random token, and a lost answer costs the code
        secret, _ = issue_token(device=device)
    buckets.publish_device_settings(db.session, device)
    audit(db.session, "device.enroll", "device", device.id, device_id=device.id,
          installation_id=installation)
    db.session.commit()
    with store.snapshot():
        epoch = store.epoch()
    return Enrolment(device_id=str(device.id), token=secret, epoch=epoch, server_time=format_time(now),
                     limits=limits.to_wire())


def _replay(code_hash: str, token: str, *, since: dt.datetime) -> Device | None:
    """The device a recent use of this code enrolled with this very token (same installation), if any."""
    row = db.session.scalar(select(EnrolmentCode).where(EnrolmentCode.code_hash == code_hash,
                                                        EnrolmentCode.used_at >= since))
    if row is None:
        return None
    device = db.session.get(Device, row.device_id)
    if device.revoked_at is not None:
        raise DeviceRevoked("This device has been revoked; ask a coordinator.")
    issued = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_secret(token),
                                                      ApiToken.device_id == device.id,
                                                      ApiToken.revoked_at.is_(None)))
    return device if issued is not None else None


# Every push asks (built once, as the sync store's look-ups are).
_PEERS = select(Device.id).where(Device.user_id == bindparam("user_id"), Device.id != bindparam("device_id"))


def peers(device: Device) -> frozenset[str]:
    """The ids of the enumerator's other devices (which may correct each other's submissions)."""
    ids = db.session.scalars(_PEERS, {"user_id": device.user_id, "device_id": device.id})
    return frozenset(str(i) for i in ids)


def get(device_id: str) -> Device:
    """Return a device or raise ``not-found``."""
    try:
        key = uuid.UUID(device_id)
    except ValueError:
        key = None
    device = db.session.get(Device, key) if key else None
    if device is None:
        raise ServerError("not-found", f"No device {device_id!r}.")
    return device


def listing() -> list[dict]:
    """Return every device with its enumerator and sync state (last seen, clock skew, last ack).

    ODK Collect app users are devices too (``app_user`` names them); their last contact is their
    last OpenRosa request or submission, and they may have no enumerator.
    """
    states = {s.device_id: s for s in db.session.scalars(select(DeviceSync))}
    app_user_names = {row.device_id: row.name
                      for row in db.session.execute(select(AppUser.device_id, AppUser.name))}
    rows = []
    for device in db.session.scalars(select(Device).options(selectinload(Device.user))
                                     .order_by(Device.created_at)):
        state = states.get(str(device.id))
        seen = [t for t in (state.last_seen_at if state else None, device.last_seen_at) if t is not None]
        rows.append({
            "device_id": str(device.id), "enumerator": device.user.username if device.user else None,
            "label": device.label, "app_user": app_user_names.get(device.id),
            "created_at": device.created_at, "enrolled_at": device.enrolled_at,
            "revoked_at": device.revoked_at,
            "last_seen_at": max(seen) if seen else None,
            "clock_skew_s": state.clock_skew_s if state else None,
            "last_ack": {"op": state.last_op, "n": state.last_n} if state and state.last_op else None,
            "epoch": state.epoch if state else None,
        })
    return rows


def revoke(device_id: str, *, now: dt.datetime, actor=None) -> Device:
    """Revoke a device; what it already sent stays stored.

    Its token keeps resolving so the device hears ``device-revoked`` (keep your outbox, call a
    coordinator) rather than a bare 401 that would look like an expired login.
    """
    device = get(device_id)
    if device.revoked_at is None:
        device.revoked_at = now
        audit(db.session, "device.revoke", "device", device.id, user_id=actor.id if actor else None,
              cli=actor is None)
    return device
