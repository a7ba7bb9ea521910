"""Staff accounts, managed by admins."""

from __future__ import annotations

from flask import Blueprint
from sqlalchemy import select

from server.accounts.users import create_user
from server.api.access import access
from server.api.access import current_principal
from server.api.body import json_body
from server.api.schemas import UserCreateSchema
from server.api.schemas import UserSchema
from server.extensions import db
from server.models import User

bp = Blueprint("users", __name__, url_prefix="/api/v1/users")


@bp.get("")
@access("admin")
def list_users():
    """List every user with their role."""
    users = db.session.scalars(select(User).order_by(User.username))
    return {"users": UserSchema(many=True).dump(users)}


@bp.post("")
@access("admin")
def add_user():
    """Create a user with a role."""
    args = UserCreateSchema().load(json_body())
    user = create_user(db.session, args["username"], args["password"], args["role"],
                       actor=current_principal().user)
    db.session.commit()
    return UserSchema().dump(user), 201
