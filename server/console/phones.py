"""Phones in the console: web-form devices with their one-time enrolment code and its QR link, the
sync state of each (last contact, clock skew, what waits for a coordinator), and revocation.

The QR code holds the web form's enrolment link, ``<server>/collect/#code=<code>`` (the fragment
never reaches a server log). The code exists only at creation: it is stored hashed, so the QR code
is shown once, on the page that created it.

ODK Collect app users are devices too: they are listed here with the app "collect", and revoking
one revokes the app user (``server.console.app_users`` creates and reissues them).
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass

import segno
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts import app_users
from server.accounts import users as accounts
from server.console.scope import Scope
from server.console.scope import check_enumerator
from server.console.scope import visible_enumerators
from server.models import AppUser
from server.models import QuarantinedSubmission
from server.models import User
from server.models.errors import ServerError
from server.sync import devices as device_service


@dataclass
class Phone:
    device_id: str
    enumerator: str
    label: str
    app: str
    created_at: dt.datetime
    enrolled_at: dt.datetime | None
    revoked_at: dt.datetime | None
    last_seen_at: dt.datetime | None
    clock_skew_s: int | None
    waiting: int
    stale: bool

    @property
    def status(self) -> str:
        if self.revoked_at:
            return "revoked"
        return "enrolled" if self.enrolled_at else "waiting_enrolment"


def qr_svg(text: str) -> str:
    """``text`` as an inline SVG QR code (no external load, no script), sized by the page's CSS."""
    buffer = io.BytesIO()
    # a viewBox instead of a fixed size: CSS then scales the whole code instead of cropping it
    segno.make(text, error="m").save(buffer, kind="svg", scale=6, border=4, xmldecl=False, svgns=True,
                                     title="QR", dark="#000", light="#fff", omitsize=True)
    return buffer.getvalue().decode()


def phones(session: Session, scope: Scope, *, now: dt.datetime, stale_days: float) -> list[Phone]:
    """The devices of the enumerators the scope manages, newest first, those unseen too long flagged."""
    names = {u.username for u in visible_enumerators(session, scope)}
    waiting = dict(session.execute(
        select(QuarantinedSubmission.device_id, func.count())
        .where(QuarantinedSubmission.resolved_at.is_(None)).group_by(QuarantinedSubmission.device_id)).all())
    limit = now - dt.timedelta(days=stale_days)
    rows = []
    for item in reversed(device_service.listing()):
        if item["enumerator"] not in names:
            continue
        seen = item["last_seen_at"] or item["enrolled_at"]
        rows.append(Phone(
            device_id=item["device_id"], enumerator=item["enumerator"], label=item["label"],
            app="collect" if item["app_user"] else "web",
            created_at=item["created_at"], enrolled_at=item["enrolled_at"], revoked_at=item["revoked_at"],
            last_seen_at=item["last_seen_at"], clock_skew_s=item["clock_skew_s"],
            waiting=waiting.get(item["device_id"], 0),
            stale=item["revoked_at"] is None and item["enrolled_at"] is not None
            and (seen is None or seen < limit)))
    return rows


def create(session: Session, scope: Scope, username: str, label: str, *, lifetime: dt.timedelta,
           actor: User) -> tuple[str, str]:
    """Create a web-form device for an enumerator the scope manages; return (device id, one-time code)."""
    check_enumerator(session, scope, username)
    device, code = accounts.enroll_device(session, username, label, lifetime, actor=actor)
    return str(device.id), code


def revoke(session: Session, scope: Scope, device_id: str, *, now: dt.datetime, actor: User) -> None:
    """Revoke a device of an enumerator the scope manages (others' devices are ``not-found``)."""
    device = device_service.get(device_id)
    managed = {u.username for u in visible_enumerators(session, scope)}
    if device.user is None or device.user.username not in managed:
        raise ServerError("not-found", f"No device {device_id!r}.")
    app_user = session.scalar(select(AppUser).where(AppUser.device_id == device.id))
    if app_user is not None:
        # an app user's device: revoke the app user too, so its token is refused and the list says so
        app_users.revoke(session, app_user.name, actor=actor)
        return
    device_service.revoke(device_id, now=now, actor=actor)
