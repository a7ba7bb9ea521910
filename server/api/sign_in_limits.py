"""Limits on failed sign-ins, shared by the /login page and the bearer-token endpoint.

Three counts of failed attempts (a wrong password, a disabled user, a malformed request), so that
people who type their password right are never slowed, and so that no stranger can lock an owner out:

- per client address (``SIGN_IN_LIMIT_PER_ADDRESS``): one guesser trying many names;
- per (user name, address) (``SIGN_IN_LIMIT_PER_USER_ADDRESS``): one guesser on one account;
- per user name (``SIGN_IN_LIMIT_PER_USER``): many addresses guessing one password. This one only
  slows *unknown* addresses: an address from which the user signed in successfully within
  ``SIGN_IN_KNOWN_ADDRESS_DAYS`` is exempt, so failures from elsewhere cannot lock the owner out.

Counts and known addresses live in the limiter's storage (``RATELIMIT_STORAGE_URI``, shared by the
workers when it is redis). Both views share one scope, so switching between the page and the API
does not double the guesses. A breach is 429 ``too-many-requests`` with ``Retry-After``. Every failed
attempt that the limits let through is audited (``user.login-failed`` with the name and address).
"""

from __future__ import annotations

import functools
import hashlib

from flask import current_app
from flask import request
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from server.extensions import db
from server.extensions import limiter
from server.models import audit


def _failed(response) -> bool:
    return response.status_code in (400, 401, 403, 422)


def _name() -> str:
    if request.is_json:
        body = request.get_json(silent=True)
        name = body.get("username") if isinstance(body, dict) else None
    else:
        name = request.form.get("username")
    return name.strip().lower()[:80] if isinstance(name, str) else ""


def _address() -> str:
    return request.remote_addr or "unknown"


def _user_key() -> str:
    return "user:" + _name()


def _user_address_key() -> str:
    return f"user-address:{_name()}|{_address()}"


def _known_key(name: str, address: str) -> str:
    digest = hashlib.sha256(f"{name}|{address}".encode()).hexdigest()[:32]
    return f"ferry/sign-in-known/{digest}"


def _known_address() -> bool:
    """Whether this address signed in successfully as this user lately (then the per-user limit is off)."""
    name = _name()
    return bool(name) and limiter.storage.get(_known_key(name, _address())) > 0


def _remember_address(name: str) -> None:
    days = int(current_app.config.get("SIGN_IN_KNOWN_ADDRESS_DAYS", 30))
    limiter.storage.incr(_known_key(name, _address()), days * 86_400)


# shared limits: one count each over every view they decorate
_per_address = limiter.shared_limit(lambda: current_app.config["SIGN_IN_LIMIT_PER_ADDRESS"],
                                    scope="sign-in-address", deduct_when=_failed)
_per_user_address = limiter.shared_limit(lambda: current_app.config["SIGN_IN_LIMIT_PER_USER_ADDRESS"],
                                         scope="sign-in-user-address", key_func=_user_address_key,
                                         deduct_when=_failed)
_per_user = limiter.shared_limit(lambda: current_app.config["SIGN_IN_LIMIT_PER_USER"], scope="sign-in-user",
                                 key_func=_user_key, deduct_when=_failed, exempt_when=_known_address)


def _audit_failure(status: int) -> None:
    db.session.rollback()
    audit(db.session, "user.login-failed", "user", _name() or "-", address=_address(), status=status,
          via="api" if request.path.startswith("/api/") else "page")
    db.session.commit()


def _status_of(exc: Exception) -> int | None:
    from server.problems import status_of  # the HTTP layer's statuses (imported late: no cycle)

    if isinstance(exc, ValidationError):
        return 422
    if isinstance(exc, HTTPException):
        return exc.code
    status = status_of(exc) if isinstance(getattr(exc, "code", None), str) else None
    return status


def _watched(view):
    """Remember the address of a successful sign-in; audit a failed one."""
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        name = _name()
        try:
            response = current_app.make_response(view(*args, **kwargs))
        except Exception as exc:
            status = _status_of(exc)
            if status is not None and 400 <= status < 500:
                _audit_failure(status)
            raise
        if _failed(response):
            _audit_failure(response.status_code)
        elif response.status_code < 400 and name:
            _remember_address(name)
        return response

    return wrapper


def limit_sign_in(view):
    """Apply the failed-sign-in limits to a view; remember good addresses, audit failures."""
    return _per_address(_per_user_address(_per_user(_watched(view))))
