"""Logging in and out: bearer tokens for users."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint
from flask import current_app
from flask import request
from sqlalchemy import select

from server.accounts.secrets import hash_secret
from server.accounts.users import log_in
from server.api.access import AUTHENTICATED
from server.api.access import PUBLIC
from server.api.access import access
from server.api.access import current_principal
from server.api.body import json_body
from server.api.schemas import LoginSchema
from server.api.schemas import TokenSchema
from server.api.sign_in_limits import limit_sign_in
from server.extensions import db
from server.models import ApiToken
from server.models import utcnow

bp = Blueprint("tokens", __name__, url_prefix="/api/v1/auth")


@bp.post("/token")
@access(PUBLIC)
@limit_sign_in
def create_token():
    """Exchange a user name and password for a bearer token."""
    args = LoginSchema().load(json_body())
    lifetime = dt.timedelta(hours=current_app.config["USER_TOKEN_HOURS"])
    secret, user = log_in(db.session, args["username"], args["password"], lifetime)
    db.session.commit()
    return TokenSchema().dump({"token": secret, "expires_at": utcnow() + lifetime, "user": user}), 201


@bp.delete("/token")
@access(AUTHENTICATED)
def revoke_token():
    """Revoke the token this request was made with (log out)."""
    current_principal()
    secret = request.headers["Authorization"].partition(" ")[2].strip()
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_secret(secret)))
    token.revoked_at = utcnow()
    db.session.commit()
    return "", 204
