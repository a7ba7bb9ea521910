"""Secrets at rest: argon2id password hashes, SHA-256 of high-entropy secrets, and new bearer tokens.

No Flask here: services (accounts, devices, app users) and the HTTP layer share these.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError
from argon2.exceptions import VerificationError

from server.extensions import db
from server.models import ApiToken
from server.models import Device
from server.models import User
from server.models import utcnow

_hasher = PasswordHasher()
# Verifying against this when the user does not exist keeps the timing of both failures alike.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    """Return an argon2id hash of ``password``."""
    return _hasher.hash(password)


def check_password(user: User | None, password: str) -> bool:
    """Return whether ``password`` is ``user``'s, spending the same time when there is no user."""
    try:
        return _hasher.verify(user.password_hash if user else _DUMMY_HASH, password) and user is not None
    except (VerificationError, InvalidHashError):
        return False


def hash_secret(secret: str) -> str:
    """Return the SHA-256 of a high-entropy secret (token or enrolment code) as stored."""
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_token(*, user: User | None = None, device: Device | None = None,
                lifetime: dt.timedelta | None = None) -> tuple[str, ApiToken]:
    """Create a bearer token for a user or a device; return the secret (shown once) and its row."""
    secret = "fy_" + secrets.token_urlsafe(32)
    row = ApiToken(
        token_hash=hash_secret(secret),
        user_id=user.id if user else None,
        device_id=device.id if device else None,
        expires_at=utcnow() + lifetime if lifetime else None,
    )
    db.session.add(row)
    return secret, row
