"""The Phones page's ODK Collect part: create an app user with its settings QR code, revoke, reissue.

The QR code holds the token, which the server keeps only as a hash: it is on the answer that made
the app user and nowhere else. Reissuing replaces a lost one (a new token; the old is revoked).
"""

from __future__ import annotations

from flask import current_app
from flask import redirect
from flask import request
from flask import url_for
from markupsafe import Markup

from server.api.access import page_access
from server.console import app_users as console_app_users
from server.console import phones as console_phones
from server.console.scope import CONSOLE_ROLES
from server.extensions import db
from server.models import utcnow
from server.models.errors import ServerError
from server.web.console import bp
from server.web.console import current_scope
from server.web.console.pages import phones_page


def _shown(issued: console_app_users.Issued) -> dict:
    return {"name": issued.name, "enumerator": issued.enumerator, "forms": issued.forms,
            "server_url": issued.server_url, "qr": Markup(console_phones.qr_svg(issued.payload))}


def _where() -> dict:
    """Where phones reach this server (the address the coordinator uses), and the project's name."""
    return {"public_url": request.host_url, "project": current_app.config["PROJECT_NAME"]}


@bp.post("/phones/app-users")
@page_access(*CONSOLE_ROLES)
def create_app_user():
    """Create an ODK Collect app user for an enumerator and the forms ticked; its QR code shown once."""
    scope = current_scope()
    try:
        issued = console_app_users.create(db.session, scope, request.form.get("name", ""),
                                          request.form.get("enumerator", ""), request.form.getlist("forms"),
                                          actor=scope.user, **_where())
    except ServerError as exc:
        db.session.rollback()
        if exc.code not in ("validation-failed", "conflict"):
            raise
        status = 409 if exc.code == "conflict" else 422
        return phones_page(status, app_user_error=exc.detail)
    db.session.commit()
    return phones_page(201, issued=_shown(issued))


@bp.post("/phones/app-users/<app_user_id>/revoke")
@page_access(*CONSOLE_ROLES)
def revoke_app_user(app_user_id: str):
    """Revoke an app user: its token is refused at once; what it sent stays stored."""
    scope = current_scope()
    console_app_users.revoke(db.session, scope, app_user_id, actor=scope.user)
    db.session.commit()
    return redirect(url_for("console.phones"), code=303)


@bp.post("/phones/app-users/<app_user_id>/reissue")
@page_access(*CONSOLE_ROLES)
def reissue_app_user(app_user_id: str):
    """Revoke an app user's token and make a new one (same name, enumerator, forms): a new QR code."""
    scope = current_scope()
    issued = console_app_users.reissue(db.session, scope, app_user_id, actor=scope.user, now=utcnow(),
                                       **_where())
    db.session.commit()
    return phones_page(201, issued=_shown(issued))
