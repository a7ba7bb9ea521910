"""Who may call what: bearer tokens for users and devices, browser sessions for the pages, and a
declared rule on every view.

The JSON API reads only ``Authorization: Bearer``; the pages read only the signed session cookie.
A session holds a server-side token (an ``ApiToken`` row, so signing out revokes it), hashed with
a different prefix from bearer tokens: the secret in a cookie is never accepted as a bearer token.
"""

from __future__ import annotations

import datetime as dt
import functools
import secrets
import uuid
from collections import namedtuple
from dataclasses import dataclass

from flask import Flask
from flask import g
from flask import redirect
from flask import request
from flask import session
from flask import url_for
from sqlalchemy import bindparam
from sqlalchemy import func
from sqlalchemy import select

from server.accounts import token_use
from server.accounts.secrets import hash_secret
from server.extensions import db
from server.models import ROLES
from server.models import ApiToken
from server.models import Device
from server.models import User
from server.models import audit
from server.models import utcnow
from server.models.database import reading
from server.models.database import writing
from server.models.database import writing_request
from server.problems import ApiError
from server.problems import prefers_html
from server.sync import direct
from sync.errors import DeviceRevoked

PUBLIC = "public"
AUTHENTICATED = "authenticated"
DEVICE = "device"
#: Everything a view may declare: anyone, any signed-in caller, a device, or staff roles.
AUDIENCES = frozenset({PUBLIC, AUTHENTICATED, DEVICE, *ROLES})
#: How a view's caller proves who it is: ``bearer`` (the API) or ``session`` (the pages).
BEARER = "bearer"
SESSION = "session"
#: The key of the session's token in the signed cookie; the login view the pages redirect to.
_SESSION_TOKEN = "token"
LOGIN_ENDPOINT = "web.login"

@dataclass(frozen=True)
class CallingDevice:
    """A calling device as its token's look-up found it: what the device views read, not an ORM row."""

    id: uuid.UUID
    user_id: int | None
    revoked_at: dt.datetime | None


@dataclass(frozen=True)
class CallingUser:
    """A calling device's enumerator as the token's look-up found them, not an ORM row."""

    id: int
    username: str
    role: str
    active: bool


@dataclass(frozen=True)
class Principal:
    """The caller of a request: a user, or a device acting for its enumerator.

    A staff caller's ``user`` is the ORM row, which services take as their actor. A device's caller is
    plain values (``CallingUser``, ``CallingDevice``): what a device may call reads no more of them.
    """

    user: User | CallingUser
    device: CallingDevice | None = None

    @property
    def audiences(self) -> frozenset[str]:
        """Return the audiences this caller belongs to."""
        if self.device is not None:
            return frozenset({AUTHENTICATED, DEVICE})
        return frozenset({AUTHENTICATED, self.user.role})


# One query for the token, its device and their user, as plain columns, in autocommit (one round trip on
# PostgreSQL, not BEGIN, SELECT and COMMIT): every request with a token runs it, and devices' requests are
# most of what the server does. Loaded as ORM rows in the session's transaction it cost 701 and 868 µs of a
# worker's CPU a request, as plain columns 444 and 262 (PostgreSQL, pushes of one in-process, thread CPU time
# of the look-up, 2,000 pushes each, alternated twice; docs/operations.md).
_TOKEN_DEVICE_USER = (
    select(ApiToken.id, ApiToken.user_id, ApiToken.device_id, ApiToken.expires_at, ApiToken.revoked_at,
           ApiToken.use_logged_at, Device.user_id.label("device_user_id"),
           Device.revoked_at.label("device_revoked_at"), User.id.label("owner_id"), User.username, User.role,
           User.active)
    .select_from(ApiToken)
    .outerjoin(Device, Device.id == ApiToken.device_id)
    .outerjoin(User, User.id == func.coalesce(Device.user_id, ApiToken.user_id))
    .where(ApiToken.token_hash == bindparam("token_hash")))
# A row of the look-up, its columns as attributes
_Token = namedtuple("_Token", [column.name for column in _TOKEN_DEVICE_USER.selected_columns])


def _find_token(token_hash: str) -> _Token | None:
    # autocommit: a read of one row needs no transaction, and the request's session is left unopened for
    # the views, whose store writes on connections of its own
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        rows = direct.rows(connection, _TOKEN_DEVICE_USER, {"token_hash": token_hash})
    return _Token(*rows[0]) if rows else None


def _principal_from_request() -> Principal | None:
    header = request.headers.get("Authorization", "")
    if not header:
        return None
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise ApiError("token-invalid", "Use 'Authorization: Bearer <token>'.",
                       headers={"WWW-Authenticate": 'Bearer error="invalid_request"'})
    token = _find_token(hash_secret(secret.strip()))
    now = utcnow()
    if token is None or token.revoked_at or (token.expires_at and token.expires_at <= now):
        raise ApiError("token-invalid", headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
    if token_use.due(token, now):
        # Written once the look-up's transaction has ended (see record_token_use): claiming it here
        # would take a second connection while this one is held, and a thread pool whose every
        # thread held one and waited for another would deadlock the pool.
        g.token_use_due = token_use.Use(token.id, token.user_id, token.device_id, now)
    if token.device_id is not None:
        if token.device_revoked_at is not None or not token.active:
            raise DeviceRevoked("This device has been revoked. Keep its unsent data and ask a "
                                "coordinator to enrol it again.")
        return Principal(user=CallingUser(token.owner_id, token.username, token.role, token.active),
                         device=CallingDevice(token.device_id, token.device_user_id, token.device_revoked_at))
    if not token.active:
        raise ApiError("forbidden", "This account is disabled.")
    user = db.session.get(User, token.owner_id)
    if user is None:  # deleted since the look-up
        raise ApiError("token-invalid", headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
    return Principal(user=user)


def record_token_use() -> None:
    """Write the ``token.use`` entry the look-up found due, in a write transaction of its own.

    Called after the look-up's transaction has been committed, so the request holds one
    connection at a time.
    """
    use = g.pop("token_use_due", None)
    if use is None:
        return
    with writing():
        if token_use.record_use(db.session, use, method=request.method, path=request.path):
            db.session.commit()
        else:
            db.session.rollback()


def _session_hash(secret: str) -> str:
    # A prefix keeps session and bearer tokens apart: neither is accepted as the other.
    return hash_secret("session:" + secret)


def start_session(user: User, lifetime: dt.timedelta) -> None:
    """Sign ``user`` in to the pages: a fresh session holding a new server-side token.

    A session this browser already had (another user, say) is revoked, not left to expire.
    """
    previous = session.get(_SESSION_TOKEN)
    if isinstance(previous, str):
        token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _session_hash(previous)))
        if token is not None and token.revoked_at is None:
            token.revoked_at = utcnow()
    secret = secrets.token_urlsafe(32)
    db.session.add(ApiToken(token_hash=_session_hash(secret), user_id=user.id,
                            expires_at=utcnow() + lifetime))
    session.clear()
    session.permanent = True
    session[_SESSION_TOKEN] = secret


def end_session() -> User | None:
    """Revoke the session's token and empty the session; return whose session it was, if any."""
    secret = session.get(_SESSION_TOKEN)
    session.clear()
    if not isinstance(secret, str):
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _session_hash(secret)))
    if token is None or token.revoked_at is not None:
        return None
    token.revoked_at = utcnow()
    audit(db.session, "user.logout", "user", token.user_id, user_id=token.user_id, via="session")
    return db.session.get(User, token.user_id)


def session_principal() -> Principal | None:
    """The signed-in user of the pages; None (and the session emptied) when it is over or disabled."""
    secret = session.get(_SESSION_TOKEN)
    if not isinstance(secret, str):
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _session_hash(secret)))
    user = db.session.get(User, token.user_id) if token is not None and token.user_id else None
    if (user is None or not user.active or token.revoked_at
            or (token.expires_at and token.expires_at <= utcnow())):
        session.pop(_SESSION_TOKEN, None)
        return None
    return Principal(user=user)


def current_principal() -> Principal | None:
    """Return the caller of the current request, or None when it sent no token."""
    if "principal" not in g:
        g.principal = _principal_from_request()
    return g.principal


def _audiences(audiences: tuple[str, ...]) -> frozenset[str]:
    unknown = set(audiences) - AUDIENCES
    if not audiences or unknown:
        raise ValueError(f"access() needs audiences from {sorted(AUDIENCES)}, got {audiences}")
    return frozenset(audiences)


def page_access(*audiences: str):
    """Declare who may open a page: like :func:`access`, but the caller comes from the session cookie.

    Not signed in: a browser is sent to the sign-in page, which brings it back here afterwards;
    a client that does not ask for HTML gets ``401 unauthenticated``. Signed in with another role:
    ``403 forbidden`` (an HTML page for browsers, see ``server.web``).
    """
    allowed = _audiences(audiences)
    if DEVICE in allowed:
        raise ValueError("devices have no browser sessions")

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if PUBLIC not in allowed:
                g.principal = principal = session_principal()
                if principal is None:
                    db.session.commit()
                    if not prefers_html():
                        raise ApiError("unauthenticated", "Sign in at /login: the pages take the session "
                                       "cookie of a browser, not bearer tokens.")
                    target = request.full_path if request.query_string else request.path
                    return redirect(url_for(LOGIN_ENDPOINT, next=target))
                if not principal.audiences & allowed:
                    raise ApiError("forbidden", f"This page needs one of: {', '.join(sorted(allowed))}.")
                db.session.commit()
            return view(*args, **kwargs)

        wrapper.access = allowed
        wrapper.via = SESSION
        return wrapper

    return decorate


def access(*audiences: str):
    """Declare who may call a view: ``PUBLIC``, ``AUTHENTICATED``, ``DEVICE`` or staff roles.

    Every view must carry this declaration; a test fails for any view that does not.
    """
    allowed = _audiences(audiences)

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if PUBLIC not in allowed:
                with reading():  # a look-up: no write lock, whatever the method
                    principal = current_principal()
                if principal is None:
                    raise ApiError("unauthenticated", headers={"WWW-Authenticate": "Bearer"})
                if not principal.audiences & allowed:
                    raise ApiError("forbidden", f"This needs one of: {', '.join(sorted(allowed))}.")
                # End the lookup's transaction: the sync store and uploads write on their own
                # connections, and on SQLite an open transaction here would block or doom them.
                db.session.commit()
                record_token_use()
            return view(*args, **kwargs)

        wrapper.access = allowed
        wrapper.via = BEARER
        return wrapper

    return decorate


def init_app(app: Flask) -> None:
    """Tell the database layer which requests write; refuse to serve a view that declares no access rule."""

    @app.before_request
    def _mark_writing_request():
        g.writing_token = writing_request.set(request.method not in ("GET", "HEAD", "OPTIONS"))

    @app.teardown_request
    def _unmark_writing_request(_exc):
        token = g.pop("writing_token", None)
        if token is not None:
            writing_request.reset(token)

    @app.before_request
    def _require_declared_access():
        view = app.view_functions.get(request.endpoint) if request.endpoint else None
        if view is not None and request.endpoint != "static" and not hasattr(view, "access"):
            raise ApiError("forbidden", "This endpoint declares no access rule.")
