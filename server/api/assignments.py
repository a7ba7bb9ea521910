"""Enumerators' assignments per round, set by coordinators; devices receive them by pull."""

from __future__ import annotations

from flask import Blueprint
from flask import request

from server.api.access import access
from server.api.access import current_principal
from server.api.body import json_body
from server.api.schemas import AssignmentSchema
from server.api.schemas import AssignmentsPutSchema
from server.api.schemas import AssignmentsQuerySchema
from server.console import progress
from server.console.scope import scope_of
from server.extensions import db

bp = Blueprint("assignments", __name__, url_prefix="/api/v1/users")


@bp.get("/<username>/assignments")
@access("admin", "coordinator")
def list_assignments(username: str):
    """Return a user's assignments, of every round or of ``?round=<year>`` (coordinators: their districts)."""
    args = AssignmentsQuerySchema().load(request.args)
    scope = scope_of(db.session, current_principal().user)
    rows = progress.visible_assignments(db.session, scope, username, args.get("round"))
    return {"username": username, "assignments": AssignmentSchema(many=True).dump(rows)}


@bp.put("/<username>/assignments")
@access("admin", "coordinator")
def replace_assignments(username: str):
    """Replace a user's assignments for one round: ``{"round": 2019, "communes": [{commune, quota}]}``.

    A coordinator replaces only the communes of their districts, and only for enumerators they manage.
    """
    args = AssignmentsPutSchema().load(json_body())
    user = current_principal().user
    rows = progress.replace_in_scope(db.session, scope_of(db.session, user), username, args["round"],
                                     args["communes"], actor=user)
    db.session.commit()
    return {"username": username, "assignments": AssignmentSchema(many=True).dump(rows)}
