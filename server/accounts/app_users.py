"""App users: ODK Collect phones that authenticate with a token in the server URL, as ODK Central's do.

Collect is given ``<public url>/v1/key/<token>/projects/1`` (typed, or scanned from the settings QR
code) and appends ``/formList``, ``/submission``… to it. The token is shown once and stored only as a
hash; a revoked or unknown token gets 403, never 401, so Collect does not ask for a password. Each app
user is a device (a ``devices`` row, bound to an enumerator or to nobody) and may use only the forms it
was given.
"""

from __future__ import annotations

import base64
import io
import json
import secrets
import zlib

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm import selectinload

from server.accounts.secrets import hash_secret
from server.models import AppUser
from server.models import AppUserForm
from server.models import Device
from server.models import Form
from server.models import User
from server.models import audit
from server.models import utcnow
from server.models.errors import ServerError

#: Ferry has one project; the number is in the URL because Collect and Central's tools expect one.
PROJECT_ID = "1"
_PREFIX = "app-user:"


def token_hash(token: str) -> str:
    """The stored form of an app user's token (kept apart from bearer tokens by a prefix)."""
    return hash_secret(_PREFIX + token)


def server_url(public_url: str, token: str) -> str:
    """The server URL Collect is configured with: formList, submission… are appended to it."""
    return f"{public_url.rstrip('/')}/v1/key/{token}/projects/{PROJECT_ID}"


def create(session: Session, name: str, form_ids: list[str], *, enumerator: str | None = None,
           actor: User | None = None) -> tuple[AppUser, str]:
    """Create an app user (and its device) for ``form_ids``; return it and its token, shown once."""
    name = name.strip()
    if not name or len(name) > 120:
        raise ServerError("validation-failed", "An app user needs a name of 1-120 characters.",
                       errors=[{"pointer": "/name", "detail": "1-120 characters"}])
    if session.scalar(select(AppUser).where(AppUser.name == name)) is not None:
        raise ServerError("conflict", f"There is already an app user named {name!r}.",
                       errors=[{"pointer": "/name", "detail": "taken"}])
    wanted = sorted({f.strip() for f in form_ids if f.strip()})
    if not wanted:
        raise ServerError("validation-failed", "Give the app user at least one form.",
                       errors=[{"pointer": "/forms", "detail": "required"}])
    known = set(session.scalars(select(Form.form_id).where(Form.form_id.in_(wanted))))
    unknown = [f for f in wanted if f not in known]
    if unknown:
        raise ServerError("validation-failed", "No such form: " + ", ".join(unknown) + ".",
                       errors=[{"pointer": "/forms", "detail": f"unknown form {f}"} for f in unknown])
    user = None
    if enumerator is not None:
        user = session.scalar(select(User).where(User.username == enumerator))
        if user is None or user.role != "enumerator":
            raise ServerError("validation-failed", f"{enumerator!r} is not an enumerator's user name.",
                           errors=[{"pointer": "/enumerator", "detail": "not an enumerator"}])
    now = utcnow()
    device = Device(user_id=user.id if user else None, label=f"ODK Collect: {name}", enrolled_at=now)
    session.add(device)
    session.flush()
    token = secrets.token_urlsafe(48)
    app_user = AppUser(name=name, device_id=device.id, token_hash=token_hash(token), created_at=now,
                       forms=[AppUserForm(form_id=f) for f in wanted])
    session.add(app_user)
    session.flush()
    audit(session, "app-user.create", "app_user", app_user.id, user_id=actor.id if actor else None,
          cli=actor is None, forms=wanted, device=str(device.id))
    return app_user, token


def listing(session: Session) -> list[AppUser]:
    """Every app user, oldest first, with its forms and device."""
    return list(session.scalars(select(AppUser).options(selectinload(AppUser.forms),
                                                        selectinload(AppUser.device))
                                .order_by(AppUser.id)))


def revoke(session: Session, name: str, *, actor: User | None = None) -> AppUser:
    """Revoke an app user: its token stops working at once (403); what it sent stays stored."""
    app_user = session.scalar(select(AppUser).where(AppUser.name == name))
    if app_user is None:
        raise ServerError("not-found", f"No app user named {name!r}.")
    if app_user.revoked_at is None:
        now = utcnow()
        app_user.revoked_at = now
        if app_user.device.revoked_at is None:
            app_user.device.revoked_at = now
        audit(session, "app-user.revoke", "app_user", app_user.id, user_id=actor.id if actor else None,
              cli=actor is None)
    return app_user


def authenticate(session: Session, token: str) -> AppUser | None:
    """The active app user whose token this is, or None (unknown or revoked)."""
    if not token or len(token) > 200:
        return None
    app_user = session.scalar(select(AppUser).where(AppUser.token_hash == token_hash(token))
                              .options(selectinload(AppUser.forms), selectinload(AppUser.device)))
    if app_user is None or app_user.revoked_at is not None or app_user.device.revoked_at is not None:
        return None
    return app_user


def collect_settings(url: str, project_name: str = "Ferry") -> dict:
    """The settings Collect imports from a QR code (ODK Central's keys; ``admin`` must be present)."""
    return {
        "general": {"server_url": url, "form_update_mode": "match_exactly", "autosend": "wifi_and_cellular"},
        "project": {"name": project_name},
        "admin": {},
    }


def settings_payload(settings: dict) -> str:
    """The QR code's text: zlib-compressed JSON in base64, as Collect reads it."""
    data = json.dumps(settings, separators=(",", ":")).encode("utf-8")
    return base64.b64encode(zlib.compress(data)).decode("ascii")


def read_settings_payload(text: str) -> dict:
    """The settings a QR code's text holds (the inverse of ``settings_payload``)."""
    return json.loads(zlib.decompress(base64.b64decode(text)))


def qr_png(settings: dict, *, scale: int = 6) -> bytes:
    """A PNG of the settings QR code (segno; error correction M, as Central's)."""
    import segno

    code = segno.make(settings_payload(settings), error="m", micro=False)
    out = io.BytesIO()
    code.save(out, kind="png", scale=scale, border=4)
    return out.getvalue()
