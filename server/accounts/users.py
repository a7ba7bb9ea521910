"""Users and devices: creating accounts, logging in, enrolling devices."""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts.secrets import check_password
from server.accounts.secrets import hash_password
from server.accounts.secrets import hash_secret
from server.accounts.secrets import issue_token
from server.models import ROLES
from server.models import Device
from server.models import EnrolmentCode
from server.models import User
from server.models import audit
from server.models import utcnow
from server.models.errors import ServerError

# No 0/O or 1/I/L: codes are read aloud over the phone and typed on cheap keyboards.
_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def create_user(session: Session, username: str, password: str, role: str, *,
                actor: User | None = None, cli: bool = False) -> User:
    """Create a user with a hashed password; refuse a taken name or an unknown role."""
    if role not in ROLES:
        raise ServerError("validation-failed", f"Unknown role {role!r}; use one of {', '.join(ROLES)}.",
                       errors=[{"pointer": "/role", "detail": "unknown role"}])
    if session.scalar(select(User).where(User.username == username)) is not None:
        raise ServerError("conflict", f"The user name {username!r} is taken.",
                       errors=[{"pointer": "/username", "detail": "taken"}])
    user = User(username=username, password_hash=hash_password(password), role=role)
    session.add(user)
    session.flush()
    audit(session, "user.create", "user", user.id, user_id=actor.id if actor else None, cli=cli,
          role=role)
    return user


def log_in(session: Session, username: str, password: str, lifetime: dt.timedelta) -> tuple[str, User]:
    """Check a user's password and return a new bearer token; one message for every failure."""
    user = session.scalar(select(User).where(User.username == username))
    if not check_password(user, password) or not user.active:
        raise ServerError("login-failed")
    secret, _ = issue_token(user=user, lifetime=lifetime)
    audit(session, "user.login", "user", user.id, user_id=user.id)
    return secret, user


def authenticate(session: Session, username: str, password: str) -> User:
    """Return the user with this name and password (the pages' sign-in).

    Raises ``login-failed`` for an unknown name or a wrong password (one message for both), and
    ``forbidden`` for a disabled account: only someone who knows its password learns it is disabled.
    """
    user = session.scalar(select(User).where(User.username == username))
    if not check_password(user, password):
        raise ServerError("login-failed")
    if not user.active:
        raise ServerError("forbidden", "This account is disabled.")
    audit(session, "user.login", "user", user.id, user_id=user.id, via="session")
    return user


def new_enrolment_code() -> str:
    """Return a fresh one-time code such as ``K7QX-3M9D-WPRT`` (about 74 bits)."""
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(15))
    return "-".join(raw[i:i + 5] for i in range(0, 15, 5))


def normalise_code(code: str) -> str:
    """Return an enrolment code as stored for hashing: upper case, dashes and spaces ignored."""
    raw = "".join(ch for ch in code.upper() if ch.isalnum())
    return "-".join(raw[i:i + 5] for i in range(0, len(raw), 5))


def enroll_device(session: Session, username: str, label: str, lifetime: dt.timedelta, *,
                  actor: User | None = None, cli: bool = False) -> tuple[Device, str]:
    """Create a device for an enumerator and a one-time enrolment code; return both.

    The code is shown once and stored only as a hash; it expires after ``lifetime``.
    """
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise ServerError("not-found", f"No user named {username!r}.")
    if user.role != "enumerator":
        raise ServerError("conflict", f"{username!r} is a {user.role}; devices belong to enumerators.")
    device = Device(user=user, label=label)
    session.add(device)
    session.flush()
    code = new_enrolment_code()
    session.add(EnrolmentCode(device_id=device.id, code_hash=hash_secret(normalise_code(code)),
                              expires_at=utcnow() + lifetime))
    audit(session, "device.create", "device", device.id, user_id=actor.id if actor else None,
          cli=cli, enumerator=username)
    return device, code
