"""ODK Collect app users in the console: created for an enumerator the scope manages, with the forms
chosen; listed with their last contact; revoked; reissued.

Ferry keeps only a hash of an app user's token, so the settings QR code (which holds the token in
its server URL) can be shown once, on the answer that created it. ODK Central, which stores the
token, shows it until the app user is revoked; here a lost QR code is replaced by *reissuing*: the
old token is revoked and a new app user with the same name, enumerator and forms is made.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from server.accounts import app_users
from server.console.scope import Scope
from server.console.scope import check_enumerator
from server.console.scope import visible_enumerators
from server.models import AppUser
from server.models import User
from server.models import audit
from server.models.errors import ServerError


@dataclass
class AppUserRow:
    id: int
    name: str
    enumerator: str | None
    forms: list[str]
    created_at: dt.datetime
    revoked_at: dt.datetime | None
    last_seen_at: dt.datetime | None


@dataclass
class Issued:
    """A just-made app user and what Collect needs: the server URL and the settings (shown once)."""

    name: str
    enumerator: str | None
    forms: list[str]
    server_url: str
    settings: dict
    payload: str


def _visible(session: Session, scope: Scope) -> list[AppUser]:
    managed = {u.id for u in visible_enumerators(session, scope)}
    return [a for a in app_users.listing(session)
            if scope.is_admin or (a.device.user_id is not None and a.device.user_id in managed)]


def listing(session: Session, scope: Scope) -> list[AppUserRow]:
    """The app users the scope may see (a coordinator: those of their enumerators), newest first."""
    return [AppUserRow(a.id, a.name, a.device.user.username if a.device.user else None, a.form_ids,
                       a.created_at, a.revoked_at, a.device.last_seen_at)
            for a in reversed(_visible(session, scope))]


def find(session: Session, scope: Scope, app_user_id: int | str) -> AppUser:
    """An app user the scope may see (by id, as a number or its text), else ``not-found``."""
    for candidate in _visible(session, scope):
        if str(candidate.id) == str(app_user_id):
            return candidate
    raise ServerError("not-found", f"No app user {app_user_id} in your districts.")


def _issued(app_user: AppUser, token: str, public_url: str, project: str) -> Issued:
    url = app_users.server_url(public_url, token)
    settings = app_users.collect_settings(url, project)
    return Issued(app_user.name, app_user.device.user.username if app_user.device.user else None,
                  app_user.form_ids, url, settings, app_users.settings_payload(settings))


def create(session: Session, scope: Scope, name: str, enumerator: str, form_ids: list[str], *,
           public_url: str, project: str, actor: User) -> Issued:
    """Create an app user for an enumerator the scope manages; audited as ``app-user.create``."""
    check_enumerator(session, scope, enumerator)
    app_user, token = app_users.create(session, name, form_ids, enumerator=enumerator, actor=actor)
    return _issued(app_user, token, public_url, project)


def revoke(session: Session, scope: Scope, app_user_id: int | str, *, actor: User) -> AppUser:
    """Revoke an app user the scope may see; its token gets 403 at once. Audited (``app-user.revoke``)."""
    return app_users.revoke(session, find(session, scope, app_user_id).name, actor=actor)


def reissue(session: Session, scope: Scope, app_user_id: int | str, *, public_url: str, project: str,
            actor: User, now: dt.datetime) -> Issued:
    """Revoke an app user and make a new one with its name, enumerator and forms: a new token and QR
    code for a phone whose code was lost. The old one keeps its history under a dated name."""
    old = find(session, scope, app_user_id)
    name, forms = old.name, old.form_ids
    enumerator = old.device.user.username if old.device.user else None
    app_users.revoke(session, name, actor=actor)
    old.name = f"{name} (revoked {now:%Y-%m-%d %H:%M:%S})"[:120]
    session.flush()
    app_user, token = app_users.create(session, name, forms, enumerator=enumerator, actor=actor)
    audit(session, "app-user.reissue", "app_user", app_user.id, user_id=actor.id, replaces=old.id)
    return _issued(app_user, token, public_url, project)
