"""Limits on failed sign-ins, shared by the /login page and the bearer-token endpoint.

Two limits, both counting only failed attempts (a wrong password, a disabled user, a malformed
request), so that people who type their password right are never slowed: one per client address
(``SIGN_IN_LIMIT_PER_ADDRESS``) against a guesser trying many names, one per user name
(``SIGN_IN_LIMIT_PER_USER``) against many addresses guessing one password. Both views share one
scope, so switching between the page and the API does not double the guesses. A breach is 429
``too-many-requests`` with ``Retry-After``.
"""

from __future__ import annotations

from flask import current_app
from flask import request

from server.extensions import limiter


def _failed(response) -> bool:
    return response.status_code in (400, 401, 403, 422)


def _user_name() -> str:
    if request.is_json:
        body = request.get_json(silent=True)
        name = body.get("username") if isinstance(body, dict) else None
    else:
        name = request.form.get("username")
    return "user:" + (name.strip().lower() if isinstance(name, str) else "")


# shared limits: one count per address (and per user name) over every view they decorate
_per_address = limiter.shared_limit(lambda: current_app.config["SIGN_IN_LIMIT_PER_ADDRESS"],
                                    scope="sign-in-address", deduct_when=_failed)
_per_user = limiter.shared_limit(lambda: current_app.config["SIGN_IN_LIMIT_PER_USER"], scope="sign-in-user",
                                 key_func=_user_name, deduct_when=_failed)


def limit_sign_in(view):
    """Apply both failed-sign-in limits to a view."""
    return _per_address(_per_user(view))
