"""The console's operations for API clients (coordinators in their districts, admins): progress against
quotas, the submissions table, raw exports of any form, Collect app users, conflicts and their decisions,
and the audit log (admins)."""

from __future__ import annotations

import math

from flask import Blueprint
from flask import Response
from flask import current_app
from flask import request
from flask import stream_with_context
from marshmallow import Schema
from marshmallow import fields
from marshmallow import validate

from server.api.access import access
from server.api.access import current_principal
from server.api.body import attachment
from server.api.body import json_body
from server.console import app_users as console_app_users
from server.console import audit_log
from server.console import conflicts as console_conflicts
from server.console import exports
from server.console import progress as console_progress
from server.console import records
from server.console.scope import scope_of
from server.extensions import db
from server.models import utcnow
from server.models.errors import ServerError
from server.plans.progress import plan_progress
from server.sync.runtime import store

bp = Blueprint("console_api", __name__, url_prefix="/api/v1/console")
STAFF = ("admin", "coordinator")


class SubmissionsQuerySchema(Schema):
    form = fields.String(load_default="")
    version = fields.String(load_default="")
    round = fields.String(load_default="")
    district = fields.String(load_default="")
    commune = fields.String(load_default="")
    enumerator = fields.String(load_default="")
    state = fields.String(load_default="", validate=validate.OneOf(("", *records.STATES)))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10**6))
    size = fields.Integer(load_default=records.PAGE_SIZE, validate=validate.Range(min=1, max=500))


class ProgressQuerySchema(Schema):
    round = fields.Integer(required=True, validate=validate.Range(min=2000, max=2100))


class ExportQuerySchema(Schema):
    labels = fields.String(load_default="codes", validate=validate.OneOf(exports.LABELS))
    private = fields.Boolean(load_default=False)


class AuditQuerySchema(Schema):
    family = fields.String(load_default="", validate=validate.OneOf(("", *audit_log.FAMILIES)))
    action = fields.String(load_default="")
    user = fields.String(load_default="")
    since = fields.Date(load_default=None)
    until = fields.Date(load_default=None)
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10**6))


class AppUserCreateSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    enumerator = fields.String(required=True, validate=validate.Length(min=1, max=150))
    forms = fields.List(fields.String(validate=validate.Length(min=1, max=100)), required=True,
                        validate=validate.Length(min=1, max=50))


class ConflictDecisionSchema(Schema):
    action = fields.String(required=True, validate=validate.OneOf(console_conflicts.ACTIONS))
    note = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    answers = fields.Dict(load_default=None)  # the merged answers, for "merge"


def _scope():
    return scope_of(db.session, current_principal().user)


def _lines(lines) -> list[dict]:
    return [{"key": line.key, "name": line.name, "district": line.district, "quota": line.quota,
             "received": line.received} for line in lines]


@bp.get("/progress")
@access(*STAFF)
def progress():
    """Interviews received against quota in ``?round=``: per district, commune, enumerator and day."""
    year = ProgressQuerySchema().load(request.args)["round"]
    if year not in console_progress.rounds(db.session):
        raise ServerError("not-found", f"No survey round {year}.")
    targets = current_app.config.get("ROUND_TARGETS") or {}
    report = console_progress.progress(db.session, _scope(), year,
                                       target=targets.get(year) or targets.get(str(year)))
    return {"round": year, "target": report.target, "received": report.received,
            "districts": _lines(report.districts), "communes": _lines(report.communes),
            "enumerators": _lines(report.enumerators),
            "plan": [{"key": line.key, "name": line.name, "district": line.district, "take": line.take,
                      "pi": line.pi if math.isfinite(line.pi) else None, "enumerator": line.enumerator,
                      "received": line.received, "off_plan": line.off_plan}
                     for line in plan_progress(db.session, _scope(), year)],
            "days": [{"day": day.isoformat(), "received": n, "cumulative": total}
                     for day, n, total in report.days]}


@bp.get("/submissions")
@access(*STAFF)
def submissions():
    """The submissions table: filters as on the page, newest first, ``?page=`` of ``?size=`` rows."""
    args = SubmissionsQuerySchema().load(request.args)
    page = records.page_of(db.session, _scope(), args, page=args["page"], size=args["size"])
    return {"total": page.total, "page": page.page, "pages": page.pages,
            "submissions": [{"id": r.id, "form_id": r.form_id, "form_version": r.form_version,
                             "round": r.round, "district": r.district, "commune": r.commune,
                             "enumerator": r.enumerator, "state": r.state, "revisions": r.revisions,
                             "received_at": r.received_at.isoformat()} for r in page.rows]}


@bp.get("/exports/<form_id>.<fmt>")
@access(*STAFF)
def export(form_id: str, fmt: str):
    """A form's raw submissions as CSV (UTF-8 with BOM; a zip of linked tables with repeats) or XLSX."""
    args = ExportQuerySchema().load(request.args)
    body, mimetype, name = exports.export(db.session, _scope(), form_id, fmt, labels=args["labels"],
                                          include_private=args["private"], actor=current_principal().user)
    db.session.commit()
    response = Response(stream_with_context(body), mimetype=mimetype)  # read while sent
    response.headers["Content-Disposition"] = attachment(name)
    return response


@bp.get("/audit")
@access("admin")
def audit():
    """The audit log, newest first: ``?family=``, ``?action=``, ``?user=``, ``?since=``, ``?until=``."""
    args = AuditQuerySchema().load(request.args)
    found = audit_log.entries(db.session, family=args["family"], action=args["action"], username=args["user"],
                              since=args["since"], until=args["until"], page=args["page"])
    return {"total": found.total, "page": found.page, "pages": found.pages,
            "entries": [{"at": e.at.isoformat(), "user": who, "cli": e.actor_cli, "action": e.action,
                         "target_type": e.target_type, "target_id": e.target_id, "details": e.details}
                        for e, who in found.rows]}


def _issued(issued) -> dict:
    return {"name": issued.name, "enumerator": issued.enumerator, "forms": issued.forms,
            "server_url": issued.server_url, "settings": issued.settings, "settings_payload": issued.payload}


@bp.get("/app-users")
@access(*STAFF)
def list_app_users():
    """ODK Collect app users of the enumerators in scope, with their forms and last contact."""
    rows = console_app_users.listing(db.session, _scope())
    return {"app_users": [{"id": r.id, "name": r.name, "enumerator": r.enumerator, "forms": r.forms,
                           "created_at": r.created_at.isoformat(),
                           "revoked_at": r.revoked_at.isoformat() if r.revoked_at else None,
                           "last_seen_at": r.last_seen_at.isoformat() if r.last_seen_at else None}
                          for r in rows]}


@bp.post("/app-users")
@access(*STAFF)
def create_app_user():
    """Create an app user for an enumerator in scope; its token and Collect settings are in this answer.

    Ferry keeps only a hash of the token, so no later answer can repeat it."""
    args = AppUserCreateSchema().load(json_body())
    scope = _scope()
    issued = console_app_users.create(db.session, scope, args["name"], args["enumerator"], args["forms"],
                                      public_url=request.host_url, project=current_app.config["PROJECT_NAME"],
                                      actor=scope.user)
    db.session.commit()
    return _issued(issued), 201


@bp.post("/app-users/<app_user_id>/revoke")
@access(*STAFF)
def revoke_app_user(app_user_id: str):
    """Revoke an app user: its token is refused at once (403); what it sent stays stored."""
    scope = _scope()
    revoked = console_app_users.revoke(db.session, scope, app_user_id, actor=scope.user)
    db.session.commit()
    return {"id": revoked.id, "name": revoked.name,
            "revoked_at": revoked.revoked_at.isoformat() if revoked.revoked_at else None}


@bp.get("/conflicts")
@access(*STAFF)
def list_conflicts():
    """Open conflicts of submissions in scope: two revisions made without seeing each other."""
    found = console_conflicts.visible_conflicts(db.session, store(), _scope())
    return {"conflicts": [{"key": c.key, "submission_id": c.submission_id, "kind": c.kind,
                           "revisions": list(c.revisions), "created_at": c.created_at.isoformat()}
                          for c in found]}


@bp.post("/conflicts/<key>")
@access(*STAFF)
def decide_conflict(key: str):
    """Keep theirs, keep ours, or merge (``answers``), with a note; audited. Answers the head afterwards."""
    args = ConflictDecisionSchema().load(json_body())
    scope = _scope()
    head = console_conflicts.resolve(db.session, store(), scope, key, args["action"], actor=scope.user,
                                     now=utcnow(), note=args["note"], answers=args["answers"])
    db.session.commit()
    return {"key": key, "action": args["action"], "head": head}
